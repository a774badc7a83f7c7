//! Topic names under `gatehouse/{site}/` (`docs/interfaces.md#mqtt`), and routing of incoming ones.

/// How the retain flag of a message the gateway receives on a subscription reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetainFlag {
    /// The publisher set it (MQTT 5 retain-as-published): a live publish with the flag shows
    /// it too. Swipes and commands are never retained, so any flag refuses them.
    AsPublished,
    /// Set only on the stored copy the broker hands out on subscribe (the MQTT default, and
    /// all that 3.1.1 can say).
    StoredOnly,
}

/// The topics of one site.
pub struct Topics {
    /// `gatehouse/{site}/`.
    prefix: String,
}

/// What an incoming topic is for.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Swipe(String),
    DoorInput(String),
    Command,
    HomeAssistantStatus,
    /// A reader or door topic whose id breaks [`valid_id`]: refused without copying the id;
    /// the string is the topic filter it matched (`gatehouse/{site}/readers/+/swipe`).
    InvalidId(String),
}

/// Reader and door ids in topics: 1 to 64 characters of `A-Z a-z 0-9 _ -`.
pub const MAX_ID: usize = 64;

/// Whether `id` is a usable reader or door id in a topic (see [`MAX_ID`]).
pub fn valid_id(id: &str) -> bool {
    (1..=MAX_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What an invalid id in a topic is told.
pub const INVALID_ID: &str =
    "the reader or door id in the topic must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -";

/// Home Assistant announces its (re)start here.
pub const HA_STATUS: &str = "homeassistant/status";

impl Topics {
    pub fn new(site: &str) -> Topics {
        Topics {
            prefix: format!("gatehouse/{site}/"),
        }
    }

    pub fn status(&self) -> String {
        format!("{}status", self.prefix)
    }
    pub fn reader_result(&self, reader: &str) -> String {
        format!("{}readers/{reader}/result", self.prefix)
    }
    pub fn reader_swipe(&self, reader: &str) -> String {
        format!("{}readers/{reader}/swipe", self.prefix)
    }
    pub fn door_set(&self, door: &str) -> String {
        format!("{}doors/{door}/set", self.prefix)
    }
    pub fn door_input(&self, door: &str) -> String {
        format!("{}doors/{door}/input", self.prefix)
    }
    pub fn door_state(&self, door: &str) -> String {
        format!("{}doors/{door}/state", self.prefix)
    }
    pub fn event(&self, kind: &str) -> String {
        format!("{}events/{kind}", self.prefix)
    }
    pub fn lockdown(&self) -> String {
        format!("{}lockdown", self.prefix)
    }
    pub fn commands(&self) -> String {
        format!("{}commands", self.prefix)
    }
    pub fn command_result(&self) -> String {
        format!("{}commands/result", self.prefix)
    }
    pub fn occupancy(&self) -> String {
        format!("{}occupancy", self.prefix)
    }
    /// The uplink's report of how far the estate's log goes (district broker only).
    pub fn head(&self) -> String {
        format!("{}head", self.prefix)
    }

    /// The filters the gateway subscribes to, each with how the retain flag of what arrives
    /// on it is to be read.
    pub fn subscriptions(&self, home_assistant: bool) -> Vec<(String, RetainFlag)> {
        let mut filters = vec![
            (
                format!("{}readers/+/swipe", self.prefix),
                RetainFlag::AsPublished,
            ),
            // A controller may keep its inputs retained (they are mostly states); only the
            // copy handed out on subscribe must be known as such (see `doors::input`).
            (
                format!("{}doors/+/input", self.prefix),
                RetainFlag::StoredOnly,
            ),
            (self.commands(), RetainFlag::AsPublished),
        ];
        if home_assistant {
            filters.push((HA_STATUS.to_string(), RetainFlag::AsPublished));
        }
        filters
    }

    /// What an incoming topic is for; `None` for anything else.
    pub fn route(&self, topic: &str) -> Option<Route> {
        if topic == HA_STATUS {
            return Some(Route::HomeAssistantStatus);
        }
        let rest = topic.strip_prefix(&self.prefix)?;
        if rest == "commands" {
            return Some(Route::Command);
        }
        if let Some(reader) = rest
            .strip_prefix("readers/")
            .and_then(|r| r.strip_suffix("/swipe"))
        {
            return Some(if valid_id(reader) {
                Route::Swipe(reader.to_string())
            } else {
                Route::InvalidId(format!("{}readers/+/swipe", self.prefix))
            });
        }
        if let Some(door) = rest
            .strip_prefix("doors/")
            .and_then(|r| r.strip_suffix("/input"))
        {
            return Some(if valid_id(door) {
                Route::DoorInput(door.to_string())
            } else {
                Route::InvalidId(format!("{}doors/+/input", self.prefix))
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_only_our_sites_topics() {
        let t = Topics::new("north-estate");
        assert_eq!(
            t.route("gatehouse/north-estate/readers/r-1/swipe"),
            Some(Route::Swipe("r-1".into()))
        );
        assert_eq!(
            t.route("gatehouse/north-estate/doors/gate-n/input"),
            Some(Route::DoorInput("gate-n".into()))
        );
        assert_eq!(
            t.route("gatehouse/north-estate/commands"),
            Some(Route::Command)
        );
        assert_eq!(t.route("gatehouse/north-estate/commands/result"), None);
        assert_eq!(t.route("gatehouse/south-estate/commands"), None);
        let bad_reader = Some(Route::InvalidId(
            "gatehouse/north-estate/readers/+/swipe".into(),
        ));
        assert_eq!(t.route("gatehouse/north-estate/readers//swipe"), bad_reader);
        let long = format!(
            "gatehouse/north-estate/readers/{}/swipe",
            "r".repeat(40_000)
        );
        assert_eq!(t.route(&long), bad_reader);
        assert_eq!(
            t.route("gatehouse/north-estate/readers/r 1/swipe"),
            bad_reader
        );
        assert_eq!(
            t.route(&format!(
                "gatehouse/north-estate/readers/{}/swipe",
                "r".repeat(64)
            )),
            Some(Route::Swipe("r".repeat(64)))
        );
        assert_eq!(
            t.route("gatehouse/north-estate/doors/门/input"),
            Some(Route::InvalidId(
                "gatehouse/north-estate/doors/+/input".into()
            ))
        );
        assert_eq!(t.route(HA_STATUS), Some(Route::HomeAssistantStatus));
        assert_eq!(
            t.reader_swipe("r-1"),
            "gatehouse/north-estate/readers/r-1/swipe"
        );
    }
}
