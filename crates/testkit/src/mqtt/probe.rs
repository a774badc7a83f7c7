//! A test's own MQTT client: subscribes, and hands over what arrives.

use super::gateway_login;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A test's own MQTT client: subscribes to its filters and hands over what arrives.
/// `GATEHOUSE_TEST_TRACE` in the environment prints each message and connection error.
pub struct Probe {
    /// The client, to publish with.
    pub client: AsyncClient,
    /// Every message that arrived, in order.
    pub messages: mpsc::UnboundedReceiver<Publish>,
    task: JoinHandle<()>,
}

impl Probe {
    /// Connects to the broker on loopback `port` as `id` (with the gateway's login on an
    /// embedded broker the test started) and returns once it is subscribed to `filters`.
    pub async fn connect(port: u16, id: &str, filters: &[String]) -> Probe {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        if let Some((user, password)) = gateway_login(port) {
            options.set_credentials(user, password);
        }
        Probe::connect_with(options, filters).await
    }

    /// Keeps its session across broker restarts (clean session off), so QoS 1 messages
    /// published while it was away are queued for it.
    pub async fn persistent(port: u16, id: &str, filters: &[String]) -> Probe {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_clean_session(false);
        Probe::connect_with(options, filters).await
    }

    /// Connects with `options` (a 5 s keep-alive is set) and returns once it is subscribed
    /// to `filters` at QoS 1 (connected, without filters), or panics after 10 s.
    pub async fn connect_with(mut options: MqttOptions, filters: &[String]) -> Probe {
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
        eventloop.network_options.set_tcp_nodelay(true);
        let (tx, messages) = mpsc::unbounded_channel();
        let (ready_tx, mut ready) = mpsc::unbounded_channel();
        let filters = filters.to_vec();
        let sub = client.clone();
        let trace = std::env::var_os("GATEHOUSE_TEST_TRACE").is_some();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        for f in &filters {
                            let _ = sub.try_subscribe(f.clone(), QoS::AtLeastOnce);
                        }
                        if filters.is_empty() {
                            let _ = ready_tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if trace {
                            eprintln!(
                                "probe got {} retain={} {}",
                                p.topic,
                                p.retain,
                                String::from_utf8_lossy(&p.payload)
                            );
                        }
                        let _ = tx.send(p);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if trace {
                            eprintln!("probe error: {e:?}");
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await
                    }
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), ready.recv())
            .await
            .expect("probe connects and subscribes");
        Probe {
            client,
            messages,
            task,
        }
    }

    /// The next message on `topic`, waiting up to `within`; messages on other topics are
    /// dropped.
    pub async fn next_on(&mut self, topic: &str, within: Duration) -> Option<Publish> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let p = tokio::time::timeout_at(deadline, self.messages.recv())
                .await
                .ok()??;
            if p.topic == topic {
                return Some(p);
            }
        }
    }

    /// The next message on `topic` whose JSON satisfies `pred`, waiting up to `within`;
    /// messages passed over are dropped.
    pub async fn next_json(
        &mut self,
        topic: &str,
        within: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let p = self.next_on(topic, remaining).await?;
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&p.payload)
                && pred(&v)
            {
                return Some(v);
            }
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.task.abort();
    }
}
