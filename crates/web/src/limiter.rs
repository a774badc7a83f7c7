//! Throttles for the doors a stranger can knock on: sign-in and visitor self-registration.
//! Time is an argument so the rules are tested without waiting.
//!
//! Sign-in is limited three ways, none of which lets a stranger keep the real admin out:
//! - per address: [`ATTEMPTS_PER_ADDRESS`] attempts per [`WINDOW`], whatever the names;
//! - per account and address: after [`MAX_FAILURES`] consecutive failures for one name from
//!   one address, that name is locked **from that address** for [`LOCKOUT`]; the same name
//!   from another address is not;
//! - per account: once a name has had [`ACCOUNT_FAILURES`] failures in a [`WINDOW`] from all
//!   addresses together (a spread-out guess), every address that has failed for it in that
//!   window is refused for the rest of the window; an address with no failure for the name
//!   (the admin's own desk) still signs in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive failed sign-ins for one name from one address after which that pair is locked.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked name stays locked from the address that failed.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Sign-in attempts one address may make per [`WINDOW`].
pub const ATTEMPTS_PER_ADDRESS: u32 = 30;
/// Failures for one name from all addresses per [`WINDOW`] before failing addresses are refused.
pub const ACCOUNT_FAILURES: u32 = 20;
/// Self-registrations one address may make per [`WINDOW`]: a family at the gate, not a script.
pub const REGISTRATIONS_PER_ADDRESS: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Entries each table keeps at most. When a table is full, entries whose window and lockout
/// have passed are dropped; if none has, the entry whose window began first is dropped.
pub const MAX_ENTRIES: usize = 10_000;

/// A fixed-window counter per key, bounded by [`MAX_ENTRIES`].
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
        self.add(key, now) <= limit
    }

    /// Counts one; the count in the current window.
    fn add(&mut self, key: &K, now: Instant) -> u32 {
        if !self.counts.contains_key(key) && self.counts.len() >= MAX_ENTRIES {
            self.counts
                .retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
            if self.counts.len() >= MAX_ENTRIES
                && let Some(oldest) = self
                    .counts
                    .iter()
                    .min_by_key(|(_, (start, _))| *start)
                    .map(|(k, _)| k.clone())
            {
                self.counts.remove(&oldest);
            }
        }
        let slot = self.counts.entry(key.clone()).or_insert((now, 0));
        if now.duration_since(slot.0) >= WINDOW {
            *slot = (now, 0);
        }
        slot.1 = slot.1.saturating_add(1);
        slot.1
    }

    /// The count in the current window, without counting.
    fn count(&self, key: &K, now: Instant) -> u32 {
        match self.counts.get(key) {
            Some((start, n)) if now.duration_since(*start) < WINDOW => *n,
            _ => 0,
        }
    }

    /// When the key's current window ends.
    fn ends(&self, key: &K, now: Instant) -> Duration {
        self.counts.get(key).map_or(Duration::ZERO, |(start, _)| {
            WINDOW.saturating_sub(now.duration_since(*start))
        })
    }

    fn forget(&mut self, key: &K) {
        self.counts.remove(key);
    }
}

/// Why a sign-in was not even tried.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too many attempts from this address; retry after the given time.
    Address(Duration),
    /// This name failed too often from this address; retry after the given time.
    Locked(Duration),
    /// This name failed too often from many addresses, this one among them; retry after the
    /// given time.
    Account(Duration),
}

#[derive(Default)]
pub struct Limiter {
    inner: Mutex<State>,
}

type Pair = (String, IpAddr);

/// A name as a table key: user names are at most 32 characters, so a longer one is cut (a
/// megabyte-long name must not become a megabyte-long key).
fn name(user: &str) -> String {
    user.chars().take(64).collect()
}

#[derive(Default)]
struct State {
    addresses: Window<IpAddr>,
    registrations: Window<IpAddr>,
    /// (name, address) → consecutive failures in the window.
    failures: Window<Pair>,
    /// (name, address) → locked until; bounded like the windows.
    locked: HashMap<Pair, Instant>,
    /// name → failures from all addresses in the window.
    accounts: Window<String>,
}

impl Limiter {
    /// Call before checking a password.
    pub fn before_sign_in(&self, addr: IpAddr, user: &str, now: Instant) -> Result<(), Refusal> {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let pair = (name(user), addr);
        if let Some(&until) = s.locked.get(&pair) {
            if until > now {
                return Err(Refusal::Locked(until - now));
            }
            s.locked.remove(&pair);
        }
        let account = name(user);
        if s.accounts.count(&account, now) >= ACCOUNT_FAILURES && s.failures.count(&pair, now) > 0 {
            return Err(Refusal::Account(s.accounts.ends(&account, now)));
        }
        if !s.addresses.hit(&addr, ATTEMPTS_PER_ADDRESS, now) {
            return Err(Refusal::Address(s.addresses.ends(&addr, now)));
        }
        Ok(())
    }

    /// Call after checking a password.
    pub fn after_sign_in(&self, addr: IpAddr, user: &str, ok: bool, now: Instant) {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let pair = (name(user), addr);
        if ok {
            s.failures.forget(&pair);
            return;
        }
        s.accounts.add(&name(user), now);
        if s.failures.add(&pair, now) >= MAX_FAILURES {
            s.failures.forget(&pair);
            if s.locked.len() >= MAX_ENTRIES {
                s.locked.retain(|_, until| *until > now);
                if s.locked.len() >= MAX_ENTRIES
                    && let Some(first) = s
                        .locked
                        .iter()
                        .min_by_key(|(_, until)| **until)
                        .map(|(k, _)| k.clone())
                {
                    s.locked.remove(&first);
                }
            }
            s.locked.insert(pair, now + LOCKOUT);
        }
    }

    /// Counts one self-registration; false when the address has made too many.
    pub fn registration(&self, addr: IpAddr, now: Instant) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .registrations
            .hit(&addr, REGISTRATIONS_PER_ADDRESS, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 1, 20));

    fn fail(l: &Limiter, addr: IpAddr, user: &str, now: Instant) -> Result<(), Refusal> {
        l.before_sign_in(addr, user, now)?;
        l.after_sign_in(addr, user, false, now);
        Ok(())
    }

    #[test]
    fn a_name_is_locked_from_the_failing_address_only_and_freed_later() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(fail(&l, ADDR, "admin", t0), Ok(()));
        }
        assert!(matches!(
            l.before_sign_in(ADDR, "admin", t0),
            Err(Refusal::Locked(_))
        ));
        // The real admin at another desk is not locked out, nor another user at this one.
        assert_eq!(l.before_sign_in(OTHER, "admin", t0), Ok(()));
        assert_eq!(l.before_sign_in(ADDR, "li", t0), Ok(()));
        assert_eq!(l.before_sign_in(ADDR, "admin", t0 + LOCKOUT), Ok(()));
        // After the lockout one more failure does not lock again at once.
        l.after_sign_in(ADDR, "admin", false, t0 + LOCKOUT);
        assert_eq!(l.before_sign_in(ADDR, "admin", t0 + LOCKOUT), Ok(()));
    }

    #[test]
    fn guesses_spread_over_many_addresses_are_stopped_but_a_clean_address_signs_in() {
        let l = Limiter::default();
        let t0 = Instant::now();
        let addr = |i: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        for i in 0..ACCOUNT_FAILURES {
            assert_eq!(fail(&l, addr(i), "admin", t0), Ok(()));
        }
        assert!(matches!(
            l.before_sign_in(addr(0), "admin", t0),
            Err(Refusal::Account(_))
        ));
        assert_eq!(l.before_sign_in(OTHER, "admin", t0), Ok(()));
        l.after_sign_in(OTHER, "admin", true, t0);
        assert_eq!(l.before_sign_in(addr(0), "admin", t0 + WINDOW), Ok(()));
    }

    #[test]
    fn the_tables_stay_bounded() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_ENTRIES as u32 + 50) {
            let a = IpAddr::V4(std::net::Ipv4Addr::from(i));
            let _ = fail(&l, a, &format!("u{i}"), t0);
        }
        let s = l.inner.lock().unwrap();
        assert!(s.addresses.counts.len() <= MAX_ENTRIES);
        assert!(s.failures.counts.len() <= MAX_ENTRIES);
        assert!(s.accounts.counts.len() <= MAX_ENTRIES);
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
