//! An MQTT door's input payload (`gatehouse/{site}/doors/{door}/input`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gatehouse_bus::doors::parse_input("door-1-1", data);
});
