//! A console on a real core and store, in-process, for the web crate's tests, benchmark and
//! example: the console's test estate (`gatehouse_testkit::estate::console`), its residents,
//! and one user per role.
#![allow(dead_code)]

use gatehouse_core::config::Config;
use gatehouse_testkit::estate::console;
use gatehouse_web::{App, PasswordCost, Role, WebOptions};
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// The console's test estate.
pub use console::config;

/// Every test user's password.
pub const PASSWORD: &str = "test-password-1";

/// A running gateway with the test estate, and the console's app state over it.
pub struct Estate {
    pub app: App,
    pub gateway: gatehouse_runtime::Gateway,
    /// The store the gateway runs on (to make its writes fail; the gateway gives readers).
    pub store: gatehouse_store::Store,
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
    let (gateway, store) = start_gateway(&config, dir.path(), &token);
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
        store,
        token,
        dir,
    }
}

/// A store with the residents in `dir`, and the core running on it; the store is returned for
/// tests that make its writes fail (the gateway hands out only a reader).
pub fn start_gateway(
    config: &Config,
    dir: &Path,
    token: &CancellationToken,
) -> (gatehouse_runtime::Gateway, gatehouse_store::Store) {
    let store = gatehouse_store::Store::open(dir, &config.site.id).expect("store opens");
    store
        .put_estate(&console::residents())
        .expect("residents stored");
    let (gateway, _task) =
        gatehouse_runtime::start(config, store.clone(), token.clone()).expect("core starts");
    (gateway, store)
}
