//! Lockdown per zone: `closed`, `residents_only`, `quarantine`, `limited_exit`. A lockdown on
//! a zone covers every zone below it. Persisted; survives restarts; lifted explicitly.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockdownMode {
    Closed,
    ResidentsOnly,
    Quarantine,
    LimitedExit,
}

/// One zone's lockdown, as persisted and published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockdown {
    pub zone: String,
    pub mode: LockdownMode,
    pub since: String,
    pub by: String,
    pub reason: String,
}

#[derive(Default)]
pub struct Lockdowns {
    pub zones: Vec<Lockdown>,
}

impl Lockdowns {
    pub fn new(zones: Vec<Lockdown>) -> Lockdowns {
        Lockdowns { zones }
    }
}
