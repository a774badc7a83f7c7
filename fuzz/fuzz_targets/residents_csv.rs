//! A residents file as CSV, read into rows.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gatehouse::import::table::read_bytes(data, "csv", "fuzz.csv");
});
