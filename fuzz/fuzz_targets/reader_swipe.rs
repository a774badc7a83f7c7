//! A reader's swipe payload (`gatehouse/{site}/readers/{reader}/swipe`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gatehouse_bus::readers::parse(data);
});
