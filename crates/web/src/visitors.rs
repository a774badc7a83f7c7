//! Visitor self-registrations waiting for a guard. They hold a phone number, so they live in
//! memory only and are forgotten a few hours after they are decided or go stale; what is kept
//! for good is the pass the guard issues (an `admin` event in the log).
//!
//! The visitor holds a ticket (a random token) and sees only the state of their own request
//! and, once approved, their QR pass: nothing about anybody else.

use crate::users::random_token;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a request or its answer is kept.
const KEEP: Duration = Duration::from_secs(4 * 3600);
/// More open requests than this is a flood, not a queue at a gate.
pub const MAX_PENDING: usize = 200;

#[derive(Clone, Debug)]
pub struct Request {
    /// Short id the guard's screen uses.
    pub id: String,
    /// Secret handle the visitor's page polls with.
    pub ticket: String,
    pub name: String,
    /// Normalised phone; shown masked to the guard, never sent back to the visitor.
    pub phone: String,
    pub host_household: String,
    pub reason: String,
    pub at: Instant,
    pub at_text: String,
    pub state: State,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum State {
    Pending,
    Approved {
        pass: String,
        valid_until: String,
        qr_svg: String,
    },
    Refused {
        reason: String,
    },
}

#[derive(Default)]
pub struct Visitors {
    table: Mutex<HashMap<String, Request>>,
    /// Bumped on every change so guard screens refresh their pending count.
    version: watch::Sender<u64>,
    next_id: std::sync::atomic::AtomicU64,
}

/// Why a request was not taken.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

impl Visitors {
    /// Files a request; returns its ticket.
    pub fn file(
        &self,
        name: String,
        phone: String,
        host_household: String,
        reason: String,
        at_text: String,
        now: Instant,
    ) -> Result<String, Full> {
        let mut table = self.table.lock().expect("visitor table poisoned");
        table.retain(|_, r| now.duration_since(r.at) < KEEP);
        if table
            .values()
            .filter(|r| matches!(r.state, State::Pending))
            .count()
            >= MAX_PENDING
        {
            return Err(Full);
        }
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let id = format!("SR-{n}");
        let ticket = random_token();
        table.insert(
            id.clone(),
            Request {
                id,
                ticket: ticket.clone(),
                name,
                phone,
                host_household,
                reason,
                at: now,
                at_text,
                state: State::Pending,
            },
        );
        drop(table);
        self.version.send_modify(|v| *v += 1);
        Ok(ticket)
    }

    /// The requests still waiting, oldest first.
    pub fn pending(&self) -> Vec<Request> {
        let table = self.table.lock().expect("visitor table poisoned");
        let mut list: Vec<Request> = table
            .values()
            .filter(|r| matches!(r.state, State::Pending))
            .cloned()
            .collect();
        list.sort_by_key(|r| r.at);
        list
    }

    pub fn pending_count(&self) -> usize {
        self.table
            .lock()
            .expect("visitor table poisoned")
            .values()
            .filter(|r| matches!(r.state, State::Pending))
            .count()
    }

    /// A waiting request by id.
    pub fn get_pending(&self, id: &str) -> Option<Request> {
        self.table
            .lock()
            .expect("visitor table poisoned")
            .get(id)
            .filter(|r| matches!(r.state, State::Pending))
            .cloned()
    }

    /// Decides a waiting request. False when it is gone or already decided.
    pub fn decide(&self, id: &str, state: State) -> bool {
        let mut table = self.table.lock().expect("visitor table poisoned");
        let Some(r) = table
            .get_mut(id)
            .filter(|r| matches!(r.state, State::Pending))
        else {
            return false;
        };
        r.state = state;
        drop(table);
        self.version.send_modify(|v| *v += 1);
        true
    }

    /// The state of the request holding `ticket`.
    pub fn by_ticket(&self, ticket: &str) -> Option<State> {
        let table = self.table.lock().expect("visitor table poisoned");
        table
            .values()
            .find(|r| r.ticket == ticket)
            .map(|r| r.state.clone())
    }

    pub fn changes(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(v: &Visitors, now: Instant) -> Result<String, Full> {
        v.file(
            "张三".into(),
            "13912345678".into(),
            "18-2-501".into(),
            "探亲".into(),
            String::new(),
            now,
        )
    }

    #[test]
    fn a_request_is_decided_once_and_seen_by_its_ticket_only() {
        let v = Visitors::default();
        let now = Instant::now();
        let ticket = file(&v, now).unwrap();
        let id = v.pending()[0].id.clone();
        assert!(matches!(v.by_ticket(&ticket), Some(State::Pending)));
        assert!(v.by_ticket("guess").is_none());
        assert!(v.decide(
            &id,
            State::Refused {
                reason: "host not home".into()
            }
        ));
        assert!(
            !v.decide(&id, State::Pending),
            "a decided request stays decided"
        );
        assert!(matches!(v.by_ticket(&ticket), Some(State::Refused { .. })));
        assert_eq!(v.pending_count(), 0);
    }

    #[test]
    fn floods_are_refused_and_old_requests_forgotten() {
        let v = Visitors::default();
        let now = Instant::now();
        for _ in 0..MAX_PENDING {
            file(&v, now).unwrap();
        }
        assert_eq!(file(&v, now), Err(Full));
        assert!(file(&v, now + KEEP).is_ok(), "stale requests make room");
        assert_eq!(v.pending_count(), 1);
    }
}
