//! Home Assistant MQTT discovery: each door as a `lock` entity and its contact as a
//! `binary_sensor` of class `door`, retained under `homeassistant/…/config`, announced after
//! every connection and whenever `homeassistant/status` says `online`.
//!
//! The lock entity shows state only: its command topic is not subscribed, because doors are
//! opened by signed office commands, never by an unsigned message.

use crate::Context;
use gatehouse_core::config::Config;
use serde_json::json;

/// `(topic, payload)` of every discovery document of `config`.
pub fn documents(
    config: &Config,
    topics: &crate::topics::Topics,
) -> Vec<(String, serde_json::Value)> {
    let site = &config.site.id;
    let device = json!({
        "identifiers": [format!("gatehouse_{site}")],
        "name": format!("gatehouse {}", config.site.name),
        "manufacturer": "gatehouse",
        "sw_version": env!("CARGO_PKG_VERSION"),
    });
    let availability = json!({
        "topic": topics.status(),
        "value_template": "{{ value_json.state }}",
        "payload_available": "online",
        "payload_not_available": "offline",
    });
    let mut docs = Vec::new();
    for door in &config.doors {
        let object = format!("{site}_{}", door.id)
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
        let state = topics.door_state(&door.id);
        docs.push((
            format!("homeassistant/lock/{object}/config"),
            json!({
                "name": door.name,
                "unique_id": format!("gatehouse_{object}_lock"),
                "object_id": format!("gatehouse_{object}"),
                "state_topic": state,
                "value_template": "{{ value_json.lock }}",
                "state_locked": "locked",
                "state_unlocked": "unlocked",
                "command_topic": format!("gatehouse/{site}/ha/doors/{}/command", door.id),
                "optimistic": false,
                "availability": [availability],
                "device": device,
            }),
        ));
        docs.push((
            format!("homeassistant/binary_sensor/{object}_contact/config"),
            json!({
                "name": format!("{} contact", door.name),
                "unique_id": format!("gatehouse_{object}_contact"),
                "device_class": "door",
                "state_topic": state,
                "value_template": "{{ value_json.contact }}",
                "payload_on": "open",
                "payload_off": "closed",
                "availability": [availability],
                "device": device,
            }),
        ));
    }
    docs
}

/// Publishes every discovery document, retained.
pub(crate) async fn announce(ctx: &Context) {
    if !ctx.config.broker.home_assistant {
        return;
    }
    for (topic, doc) in documents(&ctx.config, &ctx.topics) {
        crate::state::publish_retained(ctx, topic, doc.to_string()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_and_a_contact_per_door() {
        let config: Config = toml::from_str(
            r#"
            [site]
            id = "north-estate"
            name = "North"
            [[doors]]
            id = "gate-north"
            name = "North gate"
            kind = "pedestrian"
            outside = "outside"
            inside = "site"
            "#,
        )
        .unwrap();
        let docs = documents(&config, &crate::topics::Topics::new("north-estate"));
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[0].0,
            "homeassistant/lock/north_estate_gate_north/config"
        );
        assert_eq!(
            docs[0].1["state_topic"],
            "gatehouse/north-estate/doors/gate-north/state"
        );
        assert_eq!(docs[1].1["device_class"], "door");
        assert_eq!(docs[1].1["payload_on"], "open");
    }
}
