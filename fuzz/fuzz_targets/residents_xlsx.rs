//! A residents file as XLSX, read into rows.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gatehouse::import::table::read_bytes(data, "xlsx", "fuzz.xlsx");
});
