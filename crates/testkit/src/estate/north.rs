//! The north estate of the MQTT tests: two gates into the site, one by card with its readers
//! driven over MQTT (`r-north-in`, `r-north-out`), one by card and phone (`r-east-in`); a
//! building; the office issuer `office-1`. Residents: Wang (active card), Li (suspended card),
//! Zhao (expired card).

use super::card_pass;
use ed25519_dalek::SigningKey;
use gatehouse_core::config::Config;
use gatehouse_core::estate::{EstateData, Pass, PassStatus, Person};
use gatehouse_core::io::{AccessPoint, AccessRequest, Credential, Input};

/// The estate's site id.
pub const SITE: &str = "north-estate";
/// The secret of the office issuer `office-1`.
pub const OFFICE_SECRET: [u8; 32] = [7; 32];

/// The office issuer's signing key; the estate knows its public half.
pub fn office_key() -> SigningKey {
    SigningKey::from_bytes(&OFFICE_SECRET)
}

/// The estate's configuration; `broker` is the body of its `[broker]` section.
pub fn config(broker: &str) -> Config {
    let public = gatehouse_core::command::public_key_text(&office_key());
    toml::from_str(&format!(
        r#"
        [site]
        id = "{SITE}"
        name = "North Estate"
        [broker]
        {broker}
        [policy]
        apb = "off"
        [[zones]]
        id = "bldg-18"
        name = "Building 18"
        parent = "site"
        kind = "building"
        number = "18"
        [[doors]]
        id = "gate-north"
        name = "North gate"
        kind = "pedestrian"
        outside = "outside"
        inside = "site"
        controller = "mqtt"
        readers = [{{ id = "r-north-in", direction = "in" }}, {{ id = "r-north-out", direction = "out" }}]
        [[doors]]
        id = "gate-east"
        name = "East gate"
        kind = "pedestrian"
        outside = "outside"
        inside = "site"
        verify = "card+phone"
        readers = [{{ id = "r-east-in", direction = "in" }}]
        [[issuers]]
        id = "office-1"
        public_key = "{public}"
        "#
    ))
    .expect("the north estate parses")
}

/// Residents of 18-2-501: Wang (`P-1`, card `04A1B2C3`, active), Li (`P-2`, `0BADCAFE`,
/// suspended), Zhao (`P-3`, `0EE0EE0E`, expired in 2020).
pub fn residents() -> EstateData {
    let person = |id: &str, name: &str, phone: &str| {
        Person::new(id, name, phone, Some("18-2-501"), Default::default())
    };
    EstateData {
        households: vec![super::household("18-2-501", "bldg-18")],
        people: vec![
            person("R-1", "王伟", "13800005678"),
            person("R-2", "李娜", "13900001234"),
            person("R-3", "赵磊", "13700004321"),
        ],
        passes: vec![
            card_pass("P-1", "04A1B2C3", "R-1", PassStatus::Active),
            card_pass("P-2", "0BADCAFE", "R-2", PassStatus::Suspended),
            Pass {
                valid_until: Some("2020-01-01T00:00:00Z".parse().expect("a test timestamp")),
                ..card_pass("P-3", "0EE0EE0E", "R-3", PassStatus::Active)
            },
        ],
    }
}

/// A card presented at the north gate's entry reader, as the core takes it.
pub fn swipe_at_north_gate(card: &str) -> Input {
    Input::Access(AccessRequest {
        point: AccessPoint::Reader("r-north-in".into()),
        credential: Credential::Card(card.parse().expect("a test card number")),
        pin: None,
        requested_at: None,
        actor: None,
        source: "test".into(),
    })
}
