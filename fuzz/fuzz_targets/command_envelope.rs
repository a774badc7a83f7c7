//! A signed office command as it arrives on `commands`: the envelope, then the core's
//! verification and body parsing, against the sample estate.
#![no_main]
use gatehouse_core::io::Input;
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;

thread_local! {
    static CORE: RefCell<gatehouse_core::Core> = RefCell::new({
        let config = gatehouse::config::parse(gatehouse::sample::CONFIG, "sample")
            .expect("the sample estate is valid");
        gatehouse_core::Core::new(&config, Default::default(), Default::default())
            .expect("the sample estate builds a core")
    });
}

fuzz_target!(|data: &[u8]| {
    let command = gatehouse_bus::commands::envelope(data, data.first() == Some(&b'R'));
    let now: jiff::Timestamp = "2026-11-23T07:00:00Z".parse().expect("a fixed instant");
    CORE.with(|core| {
        let _ = core.borrow_mut().handle(Input::Command(command), now);
    });
});
