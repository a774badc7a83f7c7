//! Doors driven over MQTT (`controller = "mqtt"`): the gateway sends `doors/{door}/set`
//! (QoS 1, never retained, with an expiry so a late delivery is ignored) once the deciding
//! event is durable, and reads `doors/{door}/input` (contact, exit button, fire, tamper).

use crate::Context;
use gatehouse_core::io::{Contact, DoorAction, DoorSignal, Input};
use gatehouse_runtime::{ActuationError, DoorCommand};
use jiff::{SignedDuration, Timestamp};
use rumqttc::QoS;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// A set command not carried out by then must be ignored by the controller: a door must not
/// open long after the person walked away.
pub const SET_VALID_FOR: SignedDuration = SignedDuration::from_secs(10);

/// The door ids with `controller = "mqtt"`.
pub fn mqtt_doors(config: &gatehouse_core::config::Config) -> Vec<String> {
    config
        .doors
        .iter()
        .filter(|d| d.controller.as_deref() == Some("mqtt"))
        .map(|d| d.id.clone())
        .collect()
}

/// The `doors/{door}/set` payload.
pub fn set_payload(command: &DoorCommand, now: Timestamp) -> serde_json::Value {
    let (action, pulse_ms) = match command.action {
        DoorAction::Unlock { pulse_ms } => ("unlock", Some(pulse_ms)),
        DoorAction::HoldOpen => ("hold_open", None),
        DoorAction::Lock => ("lock", None),
    };
    let mut payload = json!({
        "id": format!("cmd-{}", uuid::Uuid::new_v4()),
        "action": action,
        "expires_at": (now + SET_VALID_FOR).to_string(),
    });
    if let Some(ms) = pulse_ms {
        payload["pulse_ms"] = json!(ms);
    }
    if let Some(event) = &command.event {
        payload["event"] = json!(event);
    }
    payload
}

/// Carries the core's actuations of MQTT doors to their controllers.
pub(crate) async fn run(ctx: Arc<Context>, shutdown: CancellationToken) {
    let doors = mqtt_doors(&ctx.config);
    if doors.is_empty() {
        return;
    }
    let mut commands = ctx.gateway.register_doors(&doors);
    loop {
        let command = tokio::select! {
            () = shutdown.cancelled() => break,
            c = commands.recv() => match c { Some(c) => c, None => break },
        };
        if command.expired(tokio::time::Instant::now()) {
            command.outcome.report(Err(ActuationError::Expired));
            continue;
        }
        let payload = set_payload(&command, Timestamp::now()).to_string();
        debug!(door = %command.door, "Sending door command.");
        // Handed to the broker is as far as this adapter can see; the controller itself
        // ignores the command past its `expires_at`.
        let sent = ctx
            .client
            .publish(
                ctx.topics.door_set(&command.door),
                QoS::AtLeastOnce,
                false,
                payload,
            )
            .await;
        match sent {
            Ok(()) => command.outcome.report(Ok(())),
            Err(e) => {
                warn!(door = %command.door, error = %e, "Could not send the door command.");
                command
                    .outcome
                    .report(Err(ActuationError::Failed(e.to_string())));
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    #[serde(default)]
    contact: Option<Contact>,
    #[serde(default)]
    rex: Option<bool>,
    #[serde(default)]
    fire: Option<bool>,
    #[serde(default)]
    tamper: Option<bool>,
}

/// Parses a `doors/{door}/input` payload.
pub fn parse_input(door: &str, payload: &[u8]) -> Result<DoorSignal, String> {
    if payload.len() > crate::readers::MAX_PAYLOAD {
        return Err("payload larger than 4 KiB".into());
    }
    let value: serde_json::Value =
        serde_json::from_slice(payload).map_err(|_| "payload is not a JSON object".to_string())?;
    let serde_json::Value::Object(mut map) = value else {
        return Err("payload is not a JSON object".into());
    };
    // Unknown fields are ignored (spec); only ours are checked.
    map.retain(|k, _| matches!(k.as_str(), "contact" | "rex" | "fire" | "tamper"));
    let wire: Wire = serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| format!("bad door input ({e}): contact is \"open\" or \"closed\", rex, fire and tamper are true or false"))?;
    Ok(DoorSignal {
        door: door.to_string(),
        contact: wire.contact,
        rex: wire.rex.unwrap_or(false),
        tamper: wire.tamper,
        lock_released: None,
        fire: wire.fire,
    })
}

/// Handles one admitted door input message, without waiting: the signal goes to the core's
/// urgent lane (dropped and counted only if that lane is full), a refused one into the
/// source's `rejected_input` summary. Only doors driven over MQTT take inputs from it: a
/// Modbus door's exit button must not be pressable by anyone who can publish.
///
/// `stored`: the broker handed out its retained copy on subscribe (the subscription reads
/// the flag [`crate::topics::RetainFlag::StoredOnly`]). Its states (contact, fire, tamper) are
/// the controller's last word and count; an exit-button press in it is history, and would be
/// recorded as an exit (and a release of the door) at every reconnect, so it is dropped.
pub(crate) fn input(ctx: &Context, door: &str, topic: &str, payload: &[u8], stored: bool) {
    let mqtt_door = ctx
        .config
        .doors
        .iter()
        .any(|d| d.id == door && d.controller.as_deref() == Some("mqtt"));
    let signal = if mqtt_door {
        parse_input(door, payload)
    } else {
        Err(format!(
            "door '{door}' is not driven over MQTT (controller = \"mqtt\"); its inputs come from its controller"
        ))
    };
    match signal {
        Ok(mut signal) => {
            if stored && signal.rex {
                debug!(door = %door, "Exit-button press in a stored retained input; not a press now.");
                signal.rex = false;
                if signal.contact.is_none() && signal.fire.is_none() && signal.tamper.is_none() {
                    return;
                }
            }
            if let Err(e) = ctx.gateway.signal(Input::DoorSignal(signal)) {
                warn!(door = %door, error = %e, "Door input not taken.");
            }
        }
        Err(error) => {
            debug!(door = %door, error = %error, "Door input refused.");
            ctx.gateway.refuse(topic, &error, Some(payload));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_commands_carry_an_expiry_and_the_pulse() {
        let now: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
        let cmd = DoorCommand::new(
            "g",
            DoorAction::Unlock { pulse_ms: 3000 },
            Some("s:1".into()),
        );
        let p = set_payload(&cmd, now);
        assert_eq!(p["action"], "unlock");
        assert_eq!(p["pulse_ms"], 3000);
        assert_eq!(p["expires_at"], "2026-11-22T00:00:10Z");
        assert!(p["id"].as_str().unwrap().starts_with("cmd-"));
        let hold = set_payload(&DoorCommand::new("g", DoorAction::HoldOpen, None), now);
        assert_eq!(hold["action"], "hold_open");
        assert!(hold.get("pulse_ms").is_none());
    }

    #[test]
    fn door_inputs() {
        let s = parse_input("g", br#"{"contact":"open","rex":true,"other":5}"#).unwrap();
        assert_eq!(
            (s.contact, s.rex, s.fire),
            (Some(Contact::Open), true, None)
        );
        let s = parse_input("g", br#"{"fire":true}"#).unwrap();
        assert_eq!((s.contact, s.fire), (None, Some(true)));
        assert!(
            parse_input("g", br#"{"contact":"ajar"}"#)
                .unwrap_err()
                .contains("open")
        );
        assert!(parse_input("g", b"nope").is_err());
    }
}
