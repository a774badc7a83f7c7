//! A residents file as XLSX, read into rows.
//!
//! The spreadsheet library panics on some damaged files; the reader contains that panic
//! (`catch_unwind`) and answers `TableError::Broken`, as the binary does. libFuzzer's panic
//! hook aborts on every panic, caught or not, so this harness lets through only the panics
//! raised inside the spreadsheet library: any other panic, and any that escapes the reader,
//! is still a crash.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static CONTAINED: std::sync::Once = std::sync::Once::new();
    CONTAINED.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !gatehouse::import::table::in_sheet_reader() {
                abort(info);
            }
        }));
    });
    let _ = gatehouse::import::table::read_bytes(data, "xlsx", "fuzz.xlsx");
});
