//! Signed-in sessions and their cookies. A session lives in memory (a restart signs everyone
//! out, which is acceptable for a guard's tablet); its id travels in a `Secure; HttpOnly;
//! SameSite=Strict` cookie, and its CSRF token in a cookie the page's script can read and must
//! echo in the `X-CSRF-Token` header of every state-changing request (double submit).

use crate::users::{Role, random_token};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gh_session";
/// The CSRF cookie's name (readable by scripts on our own origin only).
pub const CSRF_COOKIE: &str = "gh_csrf";
/// The header that must carry the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A session ends after this long without a request: a guard's shift with breaks.
const IDLE: Duration = Duration::from_secs(12 * 3600);

/// Who is calling, as handlers see it.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: String,
    pub role: Role,
    pub csrf: String,
}

impl Caller {
    /// `guard:wang`: the actor recorded in events.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.role.as_str(), self.user)
    }
}

struct Entry {
    caller: Caller,
    last_seen: Instant,
}

#[derive(Default)]
pub struct Sessions {
    table: Mutex<HashMap<String, Entry>>,
}

impl Sessions {
    /// Starts a session; returns its id.
    pub fn start(&self, user: &str, role: Role, now: Instant) -> (String, Caller) {
        let id = random_token();
        let caller = Caller {
            user: user.to_string(),
            role,
            csrf: random_token(),
        };
        let mut table = self.table.lock().expect("session table poisoned");
        table.retain(|_, e| now.duration_since(e.last_seen) < IDLE);
        table.insert(
            id.clone(),
            Entry {
                caller: caller.clone(),
                last_seen: now,
            },
        );
        (id, caller)
    }

    /// The caller of a live session, refreshing its idle timer.
    pub fn get(&self, id: &str, now: Instant) -> Option<Caller> {
        let mut table = self.table.lock().expect("session table poisoned");
        let entry = table.get_mut(id)?;
        if now.duration_since(entry.last_seen) >= IDLE {
            table.remove(id);
            return None;
        }
        entry.last_seen = now;
        Some(entry.caller.clone())
    }

    pub fn end(&self, id: &str) {
        self.table
            .lock()
            .expect("session table poisoned")
            .remove(id);
    }
}

/// `Set-Cookie` values for a new session.
pub fn cookies_for(id: &str, caller: &Caller) -> [String; 2] {
    [
        format!(
            "{SESSION_COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
            IDLE.as_secs()
        ),
        format!(
            "{CSRF_COOKIE}={}; Path=/; Secure; SameSite=Strict; Max-Age={}",
            caller.csrf,
            IDLE.as_secs()
        ),
    ]
}

/// `Set-Cookie` values that clear both cookies.
pub fn cleared_cookies() -> [String; 2] {
    [
        format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
        format!("{CSRF_COOKIE}=; Path=/; Secure; SameSite=Strict; Max-Age=0"),
    ]
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .map(str::trim)
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_when_idle() {
        let sessions = Sessions::default();
        let t0 = Instant::now();
        let (id, caller) = sessions.start("wang", Role::Guard, t0);
        assert_eq!(caller.actor(), "guard:wang");
        assert!(sessions.get(&id, t0 + Duration::from_secs(3600)).is_some());
        assert!(
            sessions
                .get(&id, t0 + Duration::from_secs(3600) + IDLE)
                .is_none()
        );
        assert!(sessions.get("forged", t0).is_none());
    }

    #[test]
    fn finds_cookies_by_exact_name() {
        let h = "gh_csrf=abc; gh_session=xyz; other=1";
        assert_eq!(cookie(h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(h, CSRF_COOKIE), Some("abc"));
        assert_eq!(cookie("gh_session_old=1", SESSION_COOKIE), None);
    }
}
