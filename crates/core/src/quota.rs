//! Exit quotas in `limited_exit` lockdowns: each household may leave the locked zone
//! `exit_quota` times per `exit_quota_period`. Every granted exit of a household is noted;
//! only exits across the locked zone's boundary since the lockdown began count against it.
//! Rebuilt from the log at start-up.

use crate::event::{Direction, Event};
use crate::lockdown::crosses;
use crate::model::Model;
use foldhash::HashMap;
use jiff::{SignedDuration, Timestamp};

/// The granted exits of each household within one quota period.
#[derive(Default)]
pub struct Quotas {
    /// household → its granted exits (when, which door), oldest first. Bounded by the exits
    /// of one period (pruned on every tick).
    exits: HashMap<String, Vec<(Timestamp, String)>>,
}

/// The length of a quota period.
pub(crate) fn period(model: &Model) -> SignedDuration {
    crate::time::hours(model.policy.exit_quota_period_h)
}

impl Quotas {
    /// Notes a granted exit of `household` through `door` at `at`.
    pub fn record(&mut self, household: &str, door: &str, at: Timestamp) {
        let list = self.exits.entry(household.to_string()).or_default();
        let pos = list.partition_point(|(t, _)| *t <= at);
        list.insert(pos, (at, door.to_string()));
    }

    /// How many exits out of `zone` the household made at or after `since`.
    pub fn used(&self, model: &Model, household: &str, zone: &str, since: Timestamp) -> u32 {
        let Some(list) = self.exits.get(household) else {
            return 0;
        };
        list.iter()
            .filter(|(at, door)| {
                *at >= since
                    && model
                        .doors
                        .get(door)
                        .is_some_and(|d| crosses(model, d, zone))
            })
            .count() as u32
    }

    /// Applies a past event: a granted exit of a household.
    pub fn replay(&mut self, event: &Event, model: &Model) {
        if event.direction != Some(Direction::Out) {
            return;
        }
        let (Some(household), Some(door)) = (event.household.as_deref(), event.door.as_deref())
        else {
            return;
        };
        if let Some((_, _, at)) = crate::presence::passage(event, model) {
            self.record(household, door, at);
        }
    }

    /// Forgets exits older than one period.
    pub fn prune(&mut self, now: Timestamp, period: SignedDuration) {
        self.exits.retain(|_, list| {
            list.retain(|(at, _)| now.duration_since(*at) < period);
            !list.is_empty()
        });
    }
}
