//! The runtime's estate: one building (`bldg-1`) behind one gate (`gate`, no readers and no
//! controller: requests name the door), with one resident or with a crowd of them.

use gatehouse_core::CardNumber;
use gatehouse_core::config::{ApbMode, Config};
use gatehouse_core::estate::{EstateData, Pass, Person, Role};

/// The estate's site id.
pub const SITE: &str = "test-estate";

/// The configuration, with the default policy (soft anti-passback).
pub fn config() -> Config {
    toml::from_str(
        r#"
        [site]
        id = "test-estate"
        name = "Test"
        [[zones]]
        id = "bldg-1"
        name = "1"
        parent = "site"
        [[doors]]
        id = "gate"
        name = "Gate"
        kind = "pedestrian"
        outside = "outside"
        inside = "bldg-1"
        "#,
    )
    .expect("the one-gate estate parses")
}

/// [`config`] with anti-passback set to `apb`.
pub fn config_with(apb: ApbMode) -> Config {
    let mut config = config();
    config.policy.apb = apb;
    config
}

/// One resident of 1-1-101: 王卫平 (`R-000001`, phone 13900001234) with the card pass
/// `P-000001`, card `04A1B2C3`.
pub fn estate() -> EstateData {
    EstateData {
        households: vec![super::household("1-1-101", "bldg-1")],
        people: vec![Person::new(
            "R-000001",
            "王卫平",
            "13900001234",
            Some("1-1-101"),
            Role::Owner,
        )],
        passes: vec![Pass::card(
            "P-000001",
            "04A1B2C3".parse().expect("a test card number"),
            "R-000001",
        )],
    }
}

/// `people` owners of 1-1-101: resident `i` is `R-{i:06}`, named `住户{i}`, phone
/// `139{i:08}`, with the pass `P-{i:06}` for card [`crowd_card`]`(i)`.
pub fn crowd(people: u32) -> EstateData {
    let mut data = EstateData {
        households: vec![super::household("1-1-101", "bldg-1")],
        ..EstateData::default()
    };
    for i in 0..people {
        let person = format!("R-{i:06}");
        data.people.push(Person::new(
            &person,
            &format!("住户{i}"),
            &format!("139{i:08}"),
            Some("1-1-101"),
            Role::Owner,
        ));
        data.passes
            .push(Pass::card(&format!("P-{i:06}"), crowd_card(i), &person));
    }
    data
}

/// The card of resident `i` of the [`crowd`].
pub fn crowd_card(i: u32) -> CardNumber {
    CardNumber::from_u32(0x1000_0000 + i)
}
