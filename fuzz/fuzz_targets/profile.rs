//! A device profile (TOML): register maps and address expressions.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = gatehouse_devices::profile::Profile::parse(text, "fuzz.toml");
    }
});
