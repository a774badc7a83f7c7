//! The estate configuration file (TOML), through every validation rule.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = gatehouse::config::parse(text, "fuzz.toml");
    }
});
