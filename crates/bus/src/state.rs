//! Retained state: the gateway's status (with its last will), every door's state, the
//! lockdown table and the occupancy summary. After every ConnAck the gateway resubscribes and republishes all of it —
//! a clean session has no subscriptions, and the embedded broker forgets retained messages
//! when it restarts. Between connections, changes from `gateway.live()` are published as
//! they happen.

use crate::Context;
use crate::client::drive::Role;
use crate::client::{Client, Will};
use crate::topics::RetainFlag;
use gatehouse_core::doors::DoorState;
use gatehouse_core::lockdown::Lockdown;
use gatehouse_runtime::Live;
use rumqttc::QoS;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// What the broker publishes for us when the connection dies.
pub fn last_will(topics: &crate::topics::Topics) -> Will {
    Will {
        topic: topics.status(),
        payload: offline(),
        qos: QoS::AtLeastOnce,
        retain: true,
    }
}

fn offline() -> String {
    json!({"state": "offline"}).to_string()
}

/// `{"zones":{"bldg-38":{"mode":…,"since":…,"by":…,"reason":…}}}`.
pub fn lockdown_payload(lockdowns: &[Lockdown]) -> String {
    let zones: serde_json::Map<String, serde_json::Value> = lockdowns
        .iter()
        .map(|l| {
            (
                l.zone.clone(),
                json!({"mode": l.mode.as_str(), "since": l.since, "by": l.by, "reason": l.reason}),
            )
        })
        .collect();
    json!({ "zones": zones }).to_string()
}

/// Keeps retained state on the broker: all of it after each connection, changes in between.
pub(crate) async fn run(
    ctx: Arc<Context>,
    mut connected: watch::Receiver<u64>,
    started_at: jiff::Timestamp,
    shutdown: CancellationToken,
) {
    let mut live = ctx.gateway.live();
    let mut occupancy = ctx.gateway.occupancy_summary();
    // What the broker has from us, so that only changes are published between connections.
    let mut doors: BTreeMap<String, DoorState> = BTreeMap::new();
    let mut lockdowns: Option<Vec<Lockdown>> = None;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            changed = connected.changed() => {
                if changed.is_err() { break; }
                connected.borrow_and_update();
                doors.clear();
                lockdowns = None;
                resubscribe(&ctx).await;
                let status = json!({"state": "online", "name": ctx.config.site.name, "version": env!("CARGO_PKG_VERSION"), "started_at": started_at.to_string()});
                publish_retained(&ctx, ctx.topics.status(), status.to_string()).await;
                let now = live.borrow_and_update().clone();
                publish_changes(&ctx, &now, started_at, &mut doors, &mut lockdowns).await;
                let summary = occupancy.borrow_and_update().clone();
                if let Some(summary) = summary {
                    publish_occupancy(&ctx.client, &ctx.topics, &summary).await;
                }
                if ctx.config.broker.home_assistant && ctx.role == Role::Estate {
                    crate::home_assistant::announce(&ctx).await;
                }
            }
            changed = live.changed() => {
                if changed.is_err() { break; }
                // Nothing reached the broker yet: the ConnAck branch will publish everything.
                if *connected.borrow() == 0 { continue; }
                let now = live.borrow_and_update().clone();
                publish_changes(&ctx, &now, started_at, &mut doors, &mut lockdowns).await;
            }
            changed = occupancy.changed() => {
                if changed.is_err() { break; }
                if *connected.borrow() == 0 { continue; }
                let summary = occupancy.borrow_and_update().clone();
                if let Some(summary) = summary {
                    publish_occupancy(&ctx.client, &ctx.topics, &summary).await;
                }
            }
        }
    }
    // A clean stop says so itself; the last will covers the unclean ones.
    if *connected.borrow() > 0 {
        let _ = ctx
            .client
            .try_publish(ctx.topics.status(), QoS::AtLeastOnce, true, offline());
        let _ = ctx.client.try_disconnect();
    }
}

async fn resubscribe(ctx: &Context) {
    let filters = match ctx.role {
        Role::Estate => ctx.topics.subscriptions(ctx.config.broker.home_assistant),
        Role::Uplink => vec![(ctx.topics.commands(), RetainFlag::AsPublished)],
    };
    for (filter, flag) in filters {
        if let Err(e) = ctx
            .client
            .subscribe(filter.clone(), QoS::AtLeastOnce, flag)
            .await
        {
            warn!(filter = %filter, error = %e, "Could not subscribe.");
        }
    }
}

async fn publish_changes(
    ctx: &Context,
    live: &Live,
    started_at: jiff::Timestamp,
    doors: &mut BTreeMap<String, DoorState>,
    lockdowns: &mut Option<Vec<Lockdown>>,
) {
    for (id, state) in &live.doors {
        if doors.get(id) == Some(state) {
            continue;
        }
        match serde_json::to_string(&with_since(state, started_at)) {
            Ok(payload) => publish_retained(ctx, ctx.topics.door_state(id), payload).await,
            Err(e) => warn!(door = %id, error = %e, "Door state did not serialise."),
        }
        doors.insert(id.clone(), state.clone());
    }
    if lockdowns.as_deref() != Some(live.lockdowns.as_slice()) {
        publish_retained(
            ctx,
            ctx.topics.lockdown(),
            lockdown_payload(&live.lockdowns),
        )
        .await;
        *lockdowns = Some(live.lockdowns.clone());
    }
}

/// `since` is always an RFC 3339 time: a door that has not changed since the gateway
/// started has been in its state at least since then.
fn with_since(state: &DoorState, started_at: jiff::Timestamp) -> DoorState {
    let mut state = state.clone();
    if state.since.is_empty() {
        state.since = started_at.to_string();
    }
    state
}

pub(crate) async fn publish_retained(ctx: &Context, topic: String, payload: String) {
    debug!(topic = %topic, "Publishing retained state.");
    if let Err(e) = ctx
        .client
        .publish(topic.clone(), QoS::AtLeastOnce, true, payload)
        .await
    {
        warn!(topic = %topic, error = %e, "Could not publish retained state.");
    }
}

/// Publishes an occupancy summary (`docs/interfaces.md#mqtt`, retained):
/// `{"at":…,"inside":{…},"households":{…}}`, without names or ids of people. The daemon's
/// occupancy task makes it and hands it over through `Gateway::set_occupancy_summary`;
/// [`run`] publishes each new one, and the latest again after every ConnAck.
pub async fn publish_occupancy(
    client: &Client,
    topics: &crate::topics::Topics,
    summary: &serde_json::Value,
) {
    if let Err(e) = client
        .publish(
            topics.occupancy(),
            QoS::AtLeastOnce,
            true,
            summary.to_string(),
        )
        .await
    {
        warn!(error = %e, "Could not publish the occupancy summary.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::doors::{DoorContact, DoorLock};
    use gatehouse_core::lockdown::LockdownMode;
    use gatehouse_core::modes::DoorMode;

    #[test]
    fn a_door_never_changed_is_in_its_state_since_the_start() {
        let started: jiff::Timestamp = "2026-12-04T00:00:00Z".parse().unwrap();
        let fresh = DoorState {
            door: "g".into(),
            lock: DoorLock::Locked,
            contact: DoorContact::Closed,
            mode: DoorMode::Normal,
            online: true,
            since: String::new(),
        };
        assert_eq!(with_since(&fresh, started).since, "2026-12-04T00:00:00Z");
        let changed = DoorState {
            since: "2026-12-04T01:00:00+08:00".into(),
            ..fresh.clone()
        };
        assert_eq!(with_since(&changed, started).since, changed.since);
    }

    #[test]
    fn lockdown_payload_is_keyed_by_zone() {
        assert_eq!(lockdown_payload(&[]), r#"{"zones":{}}"#);
        let l = Lockdown {
            zone: "bldg-38".into(),
            mode: LockdownMode::Quarantine,
            since: "2026-11-22T22:00:00.000+08:00".into(),
            by: "office-1".into(),
            reason: "closed-loop management".into(),
        };
        let v: serde_json::Value = serde_json::from_str(&lockdown_payload(&[l])).unwrap();
        assert_eq!(v["zones"]["bldg-38"]["mode"], "quarantine");
        assert_eq!(v["zones"]["bldg-38"]["by"], "office-1");
    }
}
