//! Swipe records from another system (CSV), checked against the sample estate.
#![no_main]
use libfuzzer_sys::fuzz_target;

thread_local! {
    static SITE: gatehouse_occupancy::site::Site = {
        let config = gatehouse::config::parse(gatehouse::sample::CONFIG, "sample")
            .expect("the sample estate is valid");
        gatehouse_occupancy::site::Site::new(&config, &Default::default())
            .expect("the sample estate's zone is known")
    };
}

fuzz_target!(|data: &[u8]| {
    SITE.with(|site| {
        let _ = gatehouse_occupancy::swipes::parse(data, site);
    });
});
