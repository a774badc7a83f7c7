//! The web console's estate (`console.toml`): a guarded gate, a building with a card+phone
//! door, a second area behind a guarded gate. Residents: 王卫平 of 18-2-501 holds P-000123
//! (phone ends 5678); 李秀英 holds the revoked P-000124.

use super::card_pass;
use gatehouse_core::config::Config;
use gatehouse_core::estate::{EstateData, PassStatus, Person, Role};

/// The estate's configuration file.
pub const CONFIG: &str = include_str!("console.toml");

/// [`CONFIG`], parsed.
pub fn config() -> Config {
    toml::from_str(CONFIG).expect("the console's test estate parses")
}

/// 王卫平 of 18-2-501 holds P-000123 (card `04A1B2C3`, phone ends 5678); 李秀英 holds the
/// revoked P-000124 (`04A1B2C4`).
pub fn residents() -> EstateData {
    let person = |id: &str, name: &str, phone: &str| {
        Person::new(id, name, phone, Some("18-2-501"), Role::Owner)
    };
    EstateData {
        households: vec![super::household("18-2-501", "bldg-18")],
        people: vec![
            person("R-1", "王卫平", "13812345678"),
            person("R-2", "李秀英", "13998765432"),
        ],
        passes: vec![
            card_pass("P-000123", "04A1B2C3", "R-1", PassStatus::Active),
            card_pass("P-000124", "04A1B2C4", "R-2", PassStatus::Revoked),
        ],
    }
}
