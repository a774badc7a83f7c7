//! Topic names under `gatehouse/{site}/` (`spec/mqtt.md`), and routing of incoming ones.

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
}

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

    /// The filters the gateway subscribes to.
    pub fn subscriptions(&self, home_assistant: bool) -> Vec<String> {
        let mut filters = vec![
            format!("{}readers/+/swipe", self.prefix),
            format!("{}doors/+/input", self.prefix),
            self.commands(),
        ];
        if home_assistant {
            filters.push(HA_STATUS.to_string());
        }
        filters
    }

    /// What an incoming topic is for; `None` for anything else.
    pub fn route(&self, topic: &str) -> Option<Route> {
        if topic == HA_STATUS {
            return Some(Route::HomeAssistantStatus);
        }
        let rest = topic.strip_prefix(&self.prefix)?;
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            ["commands"] => Some(Route::Command),
            ["readers", reader, "swipe"] if !reader.is_empty() => {
                Some(Route::Swipe(reader.to_string()))
            }
            ["doors", door, "input"] if !door.is_empty() => {
                Some(Route::DoorInput(door.to_string()))
            }
            _ => None,
        }
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
        assert_eq!(t.route("gatehouse/north-estate/readers//swipe"), None);
        assert_eq!(t.route(HA_STATUS), Some(Route::HomeAssistantStatus));
        assert_eq!(
            t.reader_swipe("r-1"),
            "gatehouse/north-estate/readers/r-1/swipe"
        );
    }
}
