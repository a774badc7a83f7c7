//! A console on a real core and store, in-process, for the web crate's tests: the test estate
//! (`estate.toml`), its residents, and one user per role.
#![allow(dead_code)]

use gatehouse_core::config::Config;
use gatehouse_core::estate::{EstateData, Household, Pass, PassStatus, Person, Role as PersonRole};
use gatehouse_web::{App, PasswordCost, Role, WebOptions};
use std::path::Path;
use tokio_util::sync::CancellationToken;

pub const CONFIG: &str = include_str!("estate.toml");
/// Every test user's password.
pub const PASSWORD: &str = "test-password-1";

pub fn config() -> Config {
    toml::from_str(CONFIG).expect("the web test estate parses")
}

/// 王卫平 of 18-2-501 holds P-000123 (phone ends 5678); 李秀英 holds the revoked P-000124.
pub fn residents() -> EstateData {
    let person = |id: &str, name: &str, phone: &str| {
        Person::new(id, name, phone, Some("18-2-501"), PersonRole::Owner)
    };
    let pass = |id: &str, card: &str, holder: &str, status: PassStatus| Pass {
        status,
        ..Pass::card(id, card.parse().unwrap(), holder)
    };
    EstateData {
        households: vec![Household {
            id: "18-2-501".into(),
            zone: "bldg-18".into(),
            tenure: Default::default(),
        }],
        people: vec![
            person("R-1", "王卫平", "13812345678"),
            person("R-2", "李秀英", "13998765432"),
        ],
        passes: vec![
            pass("P-000123", "04A1B2C3", "R-1", PassStatus::Active),
            pass("P-000124", "04A1B2C4", "R-2", PassStatus::Revoked),
        ],
    }
}

/// A running gateway with the test estate, and the console's app state over it.
pub struct Estate {
    pub app: App,
    pub gateway: gatehouse_runtime::Gateway,
    pub token: CancellationToken,
    pub dir: tempfile::TempDir,
}

impl Drop for Estate {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

/// Opens a store in a fresh directory with the residents, starts the core, and makes users
/// `guard`, `office`, `auditor` besides `admin` (all with [`PASSWORD`]).
pub async fn estate() -> Estate {
    estate_with(WebOptions::default()).await
}

/// [`estate`] with the daemon's hooks of `options` (the password cost is always light).
pub async fn estate_with(options: WebOptions) -> Estate {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config();
    let token = CancellationToken::new();
    let gateway = start_gateway(&config, dir.path(), &token);
    let (users, _) =
        gatehouse_web::users::Users::open(dir.path(), PasswordCost::Light).expect("users");
    for (name, role) in [
        ("admin", Role::Admin),
        ("guard", Role::Guard),
        ("office", Role::Office),
        ("auditor", Role::Auditor),
    ] {
        users.put(name, role, PASSWORD).expect("user");
    }
    let options = WebOptions {
        password_cost: PasswordCost::Light,
        ..options
    };
    let app = App::new(&config, gateway.clone(), users, options, token.clone());
    Estate {
        app,
        gateway,
        token,
        dir,
    }
}

/// A store with the residents in `dir`, and the core running on it.
pub fn start_gateway(
    config: &Config,
    dir: &Path,
    token: &CancellationToken,
) -> gatehouse_runtime::Gateway {
    let store = gatehouse_store::Store::open(dir, &config.site.id).expect("store opens");
    store.put_estate(&residents()).expect("residents stored");
    let (gateway, _task) =
        gatehouse_runtime::start(config, store, token.clone()).expect("core starts");
    gateway
}
