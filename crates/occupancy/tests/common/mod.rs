//! What the hand-made estates of these tests share: a site with one building and two gates
//! (the north one asks for phone digits), and a report of a swipe file over a window.

use gatehouse_core::config::Config;
use gatehouse_core::estate::EstateData;
use gatehouse_occupancy::site::Site;
use gatehouse_occupancy::{Method, Occupancy, Report, Window, swipes};

/// The site, its area, building 1 and the two gates (TOML); a test appends its own doors.
pub const SITE: &str = r#"
[site]
id = "golden"
name = "金色小区"
timezone = "Asia/Shanghai"

[[zones]]
id = "area-a"
name = "小区"
parent = "site"
kind = "area"

[[zones]]
id = "bldg-1"
name = "1号楼"
parent = "area-a"
kind = "building"
number = "1"

[[doors]]
id = "gate-north"
name = "北门"
kind = "pedestrian"
outside = "outside"
inside = "area-a"
verify = "card+phone"

[[doors]]
id = "gate-south"
name = "南门"
kind = "pedestrian"
outside = "outside"
inside = "area-a"
"#;

/// Our report on `swipes` (CSV) over the nights from `from` to `to` (dates).
pub fn report(config: &str, estate: &str, swipes: &str, from: &str, to: &str) -> Report {
    let config: Config = toml::from_str(config).unwrap();
    let estate: EstateData = serde_json::from_str(estate).unwrap();
    let site = Site::new(&config, &estate).unwrap();
    let parsed = swipes::parse(swipes.as_bytes(), &site).unwrap();
    assert!(parsed.bad.is_empty(), "{:?}", parsed.bad);
    let window = Window {
        from: from.parse().unwrap(),
        to: to.parse().unwrap(),
    };
    let mut occ = Occupancy::new(&config, &estate, window, Method::Ours).unwrap();
    for e in &parsed.events {
        occ.observe(e);
    }
    occ.finish()
}
