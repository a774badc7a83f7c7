//! Retained messages of the embedded broker: rmqtt's in-memory retain tree, with a bound.
//!
//! rmqtt 0.24 ships the tree but leaves storage to a plugin; this is that storage, no more.
//! Policy: at most `max_retained` topics. An update or a clearing of a kept topic is always
//! taken; a retained publish on a new topic past the bound is not kept and is logged as a
//! warning (the publish itself is still delivered to current subscribers). A message expires
//! only when its publisher set an MQTT 5 message expiry: rmqtt's listener default of 5
//! minutes is for queued messages, not for the gateway's `status` and door states.

use async_trait::async_trait;
use rmqtt::Result;
use rmqtt::retain::{DefaultRetainStorage, RetainStorage};
use rmqtt::types::{Retain, TopicFilter, TopicName};
use std::time::Duration;
use tracing::warn;

pub struct Retained {
    tree: DefaultRetainStorage,
    limit: usize,
}

impl Retained {
    pub fn new(limit: usize) -> Retained {
        Retained {
            tree: DefaultRetainStorage::new(),
            limit,
        }
    }
}

#[async_trait]
impl RetainStorage for Retained {
    fn enable(&self) -> bool {
        true
    }

    async fn set(
        &self,
        topic: &TopicName,
        retain: Retain,
        _listener_expiry: Option<Duration>,
    ) -> Result<()> {
        let keeping = !retain.publish.payload.is_empty();
        if keeping
            && self.tree.count().await >= self.limit as isize
            && self.tree.get_message(topic).await?.is_empty()
        {
            warn!(topic = %topic, limit = self.limit, "Retained message not kept: the embedded broker holds broker.max_retained topics already; raise it.");
            return Ok(());
        }
        let expiry = retain
            .publish
            .properties
            .as_ref()
            .and_then(|p| p.message_expiry_interval)
            .map(|s| Duration::from_secs(u64::from(s.get())));
        self.tree.set_with_timeout(topic, retain, expiry).await
    }

    async fn get(&self, filter: &TopicFilter) -> Result<Vec<(TopicName, Retain)>> {
        self.tree.get_message(filter).await
    }

    async fn count(&self) -> isize {
        self.tree.count().await
    }

    async fn max(&self) -> isize {
        self.tree.max().await
    }
}
