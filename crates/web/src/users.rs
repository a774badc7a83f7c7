//! The people who sign in to the console: guards, office staff, admins and auditors, with
//! argon2 password hashes, kept in a small JSON file (`web-users.json`, mode 0600) in the data
//! directory. The file is tiny and written rarely, so it is rewritten whole, atomically.

use crate::WebError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a console user may do. Routes name the roles they admit (see [`crate::routes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The checkpoint screen: checks, manual entries, visitors.
    Guard,
    /// The office console: doors, lockdowns, passes, events, reports.
    Office,
    /// Everything the office does, plus console users.
    Admin,
    /// Reads the office console (doors, events, reports) and changes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Guard, Role::Office, Role::Admin, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guard => "guard",
            Role::Office => "office",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }
}

/// How hard password hashing works. Tests use [`PasswordCost::Light`] so that they stay fast;
/// a real gateway keeps the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PasswordCost {
    /// Argon2id with the argon2 crate's recommended parameters (19 MiB, 2 passes).
    #[default]
    Standard,
    /// Argon2id with the smallest parameters: for tests only.
    Light,
}

impl PasswordCost {
    fn hasher(self) -> Argon2<'static> {
        let params = match self {
            PasswordCost::Standard => Params::default(),
            PasswordCost::Light => {
                Params::new(8, 1, 1, None).expect("minimal argon2 parameters are valid")
            }
        };
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// One console user as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// PHC string (`$argon2id$v=19$…`); the parameters travel with it.
    pub hash: String,
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Default, Serialize, Deserialize)]
struct UsersFile {
    users: Vec<User>,
}

/// The user table, loaded at start and written through on every change.
pub struct Users {
    path: PathBuf,
    cost: PasswordCost,
    table: Mutex<Vec<User>>,
    /// A hash checked when the user name is unknown, so that a wrong name takes as long as a
    /// wrong password and names cannot be probed by timing.
    decoy: String,
}

/// The file name in the data directory.
pub const FILE: &str = "web-users.json";

/// The first admin's name.
pub const FIRST_ADMIN: &str = "admin";

impl Users {
    /// Opens the user table in `data_dir`. On first run (no file) creates the user `admin` with
    /// the password from `GATEHOUSE_ADMIN_PASSWORD` when set, else a random one, which is
    /// returned so that the daemon can print it once.
    pub fn open(data_dir: &Path, cost: PasswordCost) -> Result<(Users, Option<String>), WebError> {
        let path = data_dir.join(FILE);
        let decoy = hash_with(cost, "decoy password that no user has")?;
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| WebError::Users(path.clone(), e.to_string()))?;
            let file: UsersFile = serde_json::from_str(&text)
                .map_err(|e| WebError::Users(path.clone(), e.to_string()))?;
            let users = Users {
                path,
                cost,
                table: Mutex::new(file.users),
                decoy,
            };
            return Ok((users, None));
        }
        let (password, generated) = match std::env::var("GATEHOUSE_ADMIN_PASSWORD") {
            Ok(p) if !p.is_empty() => (p, false),
            _ => (random_password(), true),
        };
        let admin = User {
            name: FIRST_ADMIN.into(),
            role: Role::Admin,
            hash: hash_with(cost, &password)?,
            disabled: false,
        };
        let users = Users {
            path,
            cost,
            table: Mutex::new(vec![admin]),
            decoy,
        };
        users.save()?;
        Ok((users, generated.then_some(password)))
    }

    /// Checks a name and password; the user's role when they match and the user is enabled.
    pub fn verify(&self, name: &str, password: &str) -> Option<Role> {
        let found = self
            .table
            .lock()
            .expect("user table poisoned")
            .iter()
            .find(|u| u.name == name)
            .cloned();
        let hash = found
            .as_ref()
            .map(|u| u.hash.as_str())
            .unwrap_or(&self.decoy);
        let ok = PasswordHash::new(hash)
            .map(|parsed| {
                self.cost
                    .hasher()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        match found {
            Some(u) if ok && !u.disabled => Some(u.role),
            _ => None,
        }
    }

    /// Adds a user, or replaces the password and role of an existing one. The last enabled
    /// admin cannot be demoted: the console would have no one left to manage its users.
    pub fn put(&self, name: &str, role: Role, password: &str) -> Result<(), WebError> {
        let hash = hash_with(self.cost, password)?;
        {
            let mut table = self.table.lock().expect("user table poisoned");
            if role != Role::Admin && last_admin(&table, name) {
                return Err(WebError::LastAdmin(name.to_string()));
            }
            match table.iter_mut().find(|u| u.name == name) {
                Some(u) => {
                    u.role = role;
                    u.hash = hash;
                    u.disabled = false;
                }
                None => table.push(User {
                    name: name.to_string(),
                    role,
                    hash,
                    disabled: false,
                }),
            }
        }
        self.save()
    }

    /// Removes a user; never the last enabled admin.
    pub fn remove(&self, name: &str) -> Result<(), WebError> {
        {
            let mut table = self.table.lock().expect("user table poisoned");
            if last_admin(&table, name) {
                return Err(WebError::LastAdmin(name.to_string()));
            }
            let before = table.len();
            table.retain(|u| u.name != name);
            if table.len() == before {
                return Err(WebError::NoSuchUser(name.to_string()));
            }
        }
        self.save()
    }

    /// Names and roles, without hashes.
    pub fn list(&self) -> Vec<(String, Role, bool)> {
        self.table
            .lock()
            .expect("user table poisoned")
            .iter()
            .map(|u| (u.name.clone(), u.role, u.disabled))
            .collect()
    }

    fn save(&self) -> Result<(), WebError> {
        let file = UsersFile {
            users: self.table.lock().expect("user table poisoned").clone(),
        };
        let text = serde_json::to_string_pretty(&file)
            .map_err(|e| WebError::Users(self.path.clone(), e.to_string()))?;
        write_private(&self.path, text.as_bytes())
            .map_err(|e| WebError::Users(self.path.clone(), e.to_string()))
    }
}

/// Whether `name` is the only enabled admin of `table`.
fn last_admin(table: &[User], name: &str) -> bool {
    let admin = |u: &&User| u.role == Role::Admin && !u.disabled;
    table.iter().filter(admin).all(|u| u.name == name)
        && table.iter().filter(admin).any(|u| u.name == name)
}

/// Writes `bytes` to `path` readable by the owner only, replacing it atomically.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn hash_with(cost: PasswordCost, password: &str) -> Result<String, WebError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| WebError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| WebError::Random(e.to_string()))?;
    cost.hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| WebError::Random(e.to_string()))
}

/// 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I), easy to read out.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// 32 random bytes, base64url: session ids, CSRF tokens, visitor tickets.
pub(crate) fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_run_creates_admin_and_later_runs_keep_it() {
        let dir = tempfile::tempdir().unwrap();
        let (users, made) = Users::open(dir.path(), PasswordCost::Light).unwrap();
        // With GATEHOUSE_ADMIN_PASSWORD set (as for the browser tests) that is the password and
        // none is made; without it a password is made and returned once.
        let password = match std::env::var("GATEHOUSE_ADMIN_PASSWORD") {
            Ok(chosen) if !chosen.is_empty() => {
                assert!(made.is_none(), "a chosen password is not printed");
                chosen
            }
            _ => made.expect("a first run makes a password"),
        };
        assert_eq!(users.verify(FIRST_ADMIN, &password), Some(Role::Admin));
        assert_eq!(users.verify(FIRST_ADMIN, "wrong"), None);
        assert_eq!(users.verify("nobody", &password), None);
        users.put("wang", Role::Guard, "guard-pass").unwrap();
        let (again, none) = Users::open(dir.path(), PasswordCost::Light).unwrap();
        assert!(
            none.is_none(),
            "the password is printed only on the first run"
        );
        assert_eq!(again.verify("wang", "guard-pass"), Some(Role::Guard));
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.mode() & 0o777, 0o600);
    }

    #[test]
    fn the_last_admin_can_be_neither_demoted_nor_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (users, _) = Users::open(dir.path(), PasswordCost::Light).unwrap();
        for role in [Role::Guard, Role::Office, Role::Auditor] {
            assert!(matches!(
                users.put(FIRST_ADMIN, role, "new-password"),
                Err(WebError::LastAdmin(_))
            ));
        }
        assert!(matches!(
            users.remove(FIRST_ADMIN),
            Err(WebError::LastAdmin(_))
        ));
        assert_eq!(
            users.list()[0],
            (FIRST_ADMIN.to_string(), Role::Admin, false),
            "nothing changed"
        );
        // With a second admin, the first may step down, and then the second is the last.
        users.put("li", Role::Admin, "second-admin").unwrap();
        users.put(FIRST_ADMIN, Role::Guard, "now-a-guard").unwrap();
        assert!(matches!(
            users.put("li", Role::Office, "x-password"),
            Err(WebError::LastAdmin(_))
        ));
        users.put(FIRST_ADMIN, Role::Admin, "admin-again").unwrap();
        users.remove("li").unwrap();
        assert!(matches!(
            users.remove("nobody"),
            Err(WebError::NoSuchUser(_))
        ));
    }
}
