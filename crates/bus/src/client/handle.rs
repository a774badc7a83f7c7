//! The gateway's MQTT connection as the rest of the bus sees it, the same whichever MQTT
//! version it speaks: incoming [`Message`]s, and a [`Client`] handle to publish and subscribe
//! with. [`super::drive`] chooses the version (MQTT 5 where the broker has it, 3.1.1 where it
//! does not) and swaps the handle's link when it changes.

use crate::topics::RetainFlag;
use bytes::Bytes;
use rumqttc::QoS;
use std::sync::{Arc, RwLock};

/// One message the gateway received.
#[derive(Clone, Debug)]
pub struct Message {
    pub topic: String,
    pub payload: Bytes,
    /// On a subscription with [`RetainFlag::AsPublished`] over MQTT 5: the publisher set the
    /// retain flag, whether the message was stored or is live. Otherwise (and always with
    /// 3.1.1): the broker delivered a stored retained message on subscribe; a live publish
    /// with the flag arrives without it.
    pub retain: bool,
}

/// The MQTT version of the current link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    V5,
    V311,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::V5 => "5",
            Protocol::V311 => "3.1.1",
        }
    }
}

/// The client half of the current connection.
#[derive(Clone)]
pub(crate) enum Link {
    V311(rumqttc::AsyncClient),
    V5(rumqttc::v5::AsyncClient),
}

/// A request could not be queued for the event loop (it is gone, or its queue is full).
#[derive(Debug, thiserror::Error)]
#[error("the MQTT request was not queued: {0}")]
pub struct ClientError(String);

/// Publishes and subscribes on the gateway's main connection, whichever version it speaks.
/// Cheap to clone; every clone follows the link [`super::drive`] installs.
#[derive(Clone)]
pub struct Client {
    link: Arc<RwLock<Link>>,
}

fn qos5(qos: QoS) -> rumqttc::v5::mqttbytes::QoS {
    match qos {
        QoS::AtMostOnce => rumqttc::v5::mqttbytes::QoS::AtMostOnce,
        QoS::AtLeastOnce => rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
        QoS::ExactlyOnce => rumqttc::v5::mqttbytes::QoS::ExactlyOnce,
    }
}

fn err(e: impl std::fmt::Display) -> ClientError {
    ClientError(e.to_string())
}

impl Client {
    pub(crate) fn new(link: Link) -> Client {
        Client {
            link: Arc::new(RwLock::new(link)),
        }
    }

    pub(crate) fn set(&self, link: Link) {
        *self.link.write().unwrap_or_else(|e| e.into_inner()) = link;
    }

    fn link(&self) -> Link {
        self.link.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The version the current link speaks.
    pub fn protocol(&self) -> Protocol {
        match self.link() {
            Link::V311(_) => Protocol::V311,
            Link::V5(_) => Protocol::V5,
        }
    }

    pub async fn publish(
        &self,
        topic: impl Into<String>,
        qos: QoS,
        retain: bool,
        payload: impl Into<Vec<u8>>,
    ) -> Result<(), ClientError> {
        match self.link() {
            Link::V311(c) => c.publish(topic, qos, retain, payload).await.map_err(err),
            Link::V5(c) => c
                .publish(topic, qos5(qos), retain, Bytes::from(payload.into()))
                .await
                .map_err(err),
        }
    }

    pub fn try_publish(
        &self,
        topic: impl Into<String>,
        qos: QoS,
        retain: bool,
        payload: impl Into<Vec<u8>>,
    ) -> Result<(), ClientError> {
        match self.link() {
            Link::V311(c) => c.try_publish(topic, qos, retain, payload).map_err(err),
            Link::V5(c) => c
                .try_publish(topic, qos5(qos), retain, Bytes::from(payload.into()))
                .map_err(err),
        }
    }

    /// Removes the broker's retained message on `topic` (an empty retained publish), without
    /// waiting for room in the client's queue.
    pub fn try_clear_retained(&self, topic: impl Into<String>) -> Result<(), ClientError> {
        self.try_publish(topic, QoS::AtLeastOnce, true, Vec::new())
    }

    /// Subscribes; with MQTT 5 with retain-as-published where `flag` asks for it, so that a
    /// message its publisher retained is recognised as such even when it arrives live.
    pub async fn subscribe(
        &self,
        filter: impl Into<String>,
        qos: QoS,
        flag: RetainFlag,
    ) -> Result<(), ClientError> {
        match self.link() {
            Link::V311(c) => c.subscribe(filter, qos).await.map_err(err),
            Link::V5(c) => {
                let mut f = rumqttc::v5::mqttbytes::v5::Filter::new(filter, qos5(qos));
                f.preserve_retain = flag == RetainFlag::AsPublished;
                c.subscribe_many([f]).await.map_err(err)
            }
        }
    }

    pub fn try_disconnect(&self) -> Result<(), ClientError> {
        match self.link() {
            Link::V311(c) => c.try_disconnect().map_err(err),
            Link::V5(c) => c.try_disconnect().map_err(err),
        }
    }
}

/// The last will, in either version.
#[derive(Clone, Debug)]
pub struct Will {
    pub topic: String,
    pub payload: String,
    pub qos: QoS,
    pub retain: bool,
}

impl Will {
    pub(crate) fn v311(&self) -> rumqttc::LastWill {
        rumqttc::LastWill::new(
            self.topic.clone(),
            self.payload.clone(),
            self.qos,
            self.retain,
        )
    }

    pub(crate) fn v5(&self) -> rumqttc::v5::mqttbytes::v5::LastWill {
        rumqttc::v5::mqttbytes::v5::LastWill::new(
            self.topic.clone(),
            self.payload.clone(),
            qos5(self.qos),
            self.retain,
            None,
        )
    }
}
