//! Throttles for the doors a stranger can knock on: sign-in (per address and per user name,
//! with a lockout after repeated failures) and visitor self-registration (per address). Time is
//! an argument so the rules are tested without waiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive failed sign-ins after which a user name is locked.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked user name stays locked.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Sign-in attempts one address may make per [`WINDOW`].
pub const ATTEMPTS_PER_ADDRESS: u32 = 30;
/// Self-registrations one address may make per [`WINDOW`]: a family at the gate, not a script.
pub const REGISTRATIONS_PER_ADDRESS: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(10 * 60);

/// A fixed-window counter per key.
struct Window<K> {
    counts: HashMap<K, (Instant, u32)>,
}

impl<K> Default for Window<K> {
    fn default() -> Self {
        Window {
            counts: HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone> Window<K> {
    /// Counts one attempt; false when the key is over `limit` in the current window.
    fn hit(&mut self, key: &K, limit: u32, now: Instant) -> bool {
        if self.counts.len() > 10_000 {
            self.counts
                .retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let slot = self.counts.entry(key.clone()).or_insert((now, 0));
        if now.duration_since(slot.0) >= WINDOW {
            *slot = (now, 0);
        }
        slot.1 += 1;
        slot.1 <= limit
    }
}

/// Why a sign-in was not even tried.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too many attempts from this address; retry after the given time.
    Address(Duration),
    /// This user name is locked after repeated failures; retry after the given time.
    Locked(Duration),
}

#[derive(Default)]
pub struct Limiter {
    inner: Mutex<State>,
}

#[derive(Default)]
struct State {
    addresses: Window<IpAddr>,
    registrations: Window<IpAddr>,
    /// user name → (consecutive failures, locked until).
    failures: HashMap<String, (u32, Option<Instant>)>,
}

impl Limiter {
    /// Call before checking a password.
    pub fn before_sign_in(&self, addr: IpAddr, user: &str, now: Instant) -> Result<(), Refusal> {
        let mut s = self.inner.lock().expect("limiter poisoned");
        if let Some((_, Some(until))) = s.failures.get(user)
            && *until > now
        {
            return Err(Refusal::Locked(*until - now));
        }
        if !s.addresses.hit(&addr, ATTEMPTS_PER_ADDRESS, now) {
            return Err(Refusal::Address(WINDOW));
        }
        Ok(())
    }

    /// Call after checking a password.
    pub fn after_sign_in(&self, user: &str, ok: bool, now: Instant) {
        let mut s = self.inner.lock().expect("limiter poisoned");
        if ok {
            s.failures.remove(user);
            return;
        }
        let entry = s.failures.entry(user.to_string()).or_insert((0, None));
        if entry.1.is_some_and(|until| until <= now) {
            *entry = (0, None);
        }
        entry.0 += 1;
        if entry.0 >= MAX_FAILURES {
            entry.1 = Some(now + LOCKOUT);
        }
    }

    /// Counts one self-registration; false when the address has made too many.
    pub fn registration(&self, addr: IpAddr, now: Instant) -> bool {
        self.inner
            .lock()
            .expect("limiter poisoned")
            .registrations
            .hit(&addr, REGISTRATIONS_PER_ADDRESS, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn a_user_is_locked_after_repeated_failures_and_freed_later() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(l.before_sign_in(ADDR, "wang", t0), Ok(()));
            l.after_sign_in("wang", false, t0);
        }
        assert!(matches!(
            l.before_sign_in(ADDR, "wang", t0),
            Err(Refusal::Locked(_))
        ));
        // Another user from the same desk is not locked.
        assert_eq!(l.before_sign_in(ADDR, "li", t0), Ok(()));
        assert_eq!(l.before_sign_in(ADDR, "wang", t0 + LOCKOUT), Ok(()));
        // After the lockout one more failure does not lock again at once.
        l.after_sign_in("wang", false, t0 + LOCKOUT);
        assert_eq!(l.before_sign_in(ADDR, "wang", t0 + LOCKOUT), Ok(()));
    }

    #[test]
    fn an_address_is_throttled_per_window() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..ATTEMPTS_PER_ADDRESS {
            assert_eq!(l.before_sign_in(ADDR, &format!("u{i}"), t0), Ok(()));
        }
        assert!(matches!(
            l.before_sign_in(ADDR, "x", t0),
            Err(Refusal::Address(_))
        ));
        assert_eq!(l.before_sign_in(ADDR, "x", t0 + WINDOW), Ok(()));
    }

    #[test]
    fn self_registration_is_throttled() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..REGISTRATIONS_PER_ADDRESS {
            assert!(l.registration(ADDR, t0));
        }
        assert!(!l.registration(ADDR, t0));
        assert!(l.registration(ADDR, t0 + WINDOW));
    }
}
