//! An external Mosquitto with TLS and client certificates, all made in the test with openssl:
//! the gateway connects with its certificate; a client without one, or with one from another
//! CA, is refused, and a gateway in that position reports the TLS failure with what to check.

use gatehouse_testkit::certs::{ca, leaf, tls_client};
use gatehouse_testkit::estate::north::*;
use gatehouse_testkit::mqtt::*;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, TlsConfiguration, Transport};
use std::sync::Arc;
use std::time::Duration;

/// Whether a client with this TLS configuration gets a ConnAck.
async fn connects(port: u16, id: &str, tls: Arc<rustls::ClientConfig>) -> bool {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls)));
    let (_client, mut eventloop) = AsyncClient::new(options, 10);
    let attempt = async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    };
    // A refused TLS client may also see the connection just hang up or stall.
    tokio::time::timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_connects_with_client_certificates_and_others_are_refused() {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    ca(d, "ca");
    ca(d, "rogue-ca");
    leaf(
        d,
        "server",
        "ca",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    leaf(d, "gateway", "ca", "extendedKeyUsage=clientAuth\n");
    leaf(d, "viewer", "ca", "extendedKeyUsage=clientAuth\n");
    leaf(d, "intruder", "rogue-ca", "extendedKeyUsage=clientAuth\n");
    let p = |f: &str| d.join(f).display().to_string();
    let mosquitto = Mosquitto::start_with(|_| {
        format!(
            "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
            p("ca.crt"),
            p("server.crt"),
            p("server.key")
        )
    });

    let dir = tempfile::tempdir().unwrap();
    let broker = format!(
        "mode = \"external\"\nurl = \"mqtts://127.0.0.1:{}\"\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"",
        mosquitto.port,
        p("ca.crt"),
        p("gateway.crt"),
        p("gateway.key")
    );
    let gate = Gate::start(&config(&broker), dir.path()).await;

    // The gateway got in: its retained status is there for a viewer with a valid certificate.
    let mut options = MqttOptions::new("viewer", "127.0.0.1", mosquitto.port);
    options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        tls_client(d, Some("viewer")),
    )));
    let mut viewer = Probe::connect_with(options, &[format!("gatehouse/{SITE}/status")]).await;
    let status = viewer
        .next_json(
            &format!("gatehouse/{SITE}/status"),
            Duration::from_secs(10),
            |v| v["state"] == "online",
        )
        .await;
    assert!(status.is_some(), "gateway did not connect over TLS");

    assert!(
        !connects(mosquitto.port, "no-cert", tls_client(d, None)).await,
        "a client without a certificate got in"
    );
    assert!(
        !connects(mosquitto.port, "intruder", tls_client(d, Some("intruder"))).await,
        "a certificate of another CA got in"
    );
    assert!(
        connects(mosquitto.port, "viewer-2", tls_client(d, Some("viewer"))).await,
        "control: a valid certificate gets in"
    );

    // A gateway without a certificate, or with one of another CA, says why it is not
    // connected: the TLS failure, with what to check (the same text is logged as an error).
    for (name, cert) in [("no-cert", None), ("rogue", Some("intruder"))] {
        let files = cert
            .map(|c| {
                format!(
                    "\ncert = \"{}\"\nkey = \"{}\"",
                    p(&format!("{c}.crt")),
                    p(&format!("{c}.key"))
                )
            })
            .unwrap_or_default();
        let broker = format!(
            "mode = \"external\"\nurl = \"mqtts://127.0.0.1:{}\"\nca = \"{}\"\nclient_id = \"gatehouse-{name}\"{files}",
            mosquitto.port,
            p("ca.crt"),
        );
        let dir = tempfile::tempdir().unwrap();
        let refused = Gate::start(&config(&broker), dir.path()).await;
        let mut status = refused.gateway.broker_status();
        let tls_failure = tokio::time::timeout(
            Duration::from_secs(20),
            status.wait_for(|s| {
                s.as_ref()
                    .and_then(|s| s.problem.as_deref())
                    .is_some_and(|p| p.contains("TLS") && p.contains("broker.cert"))
            }),
        )
        .await
        .is_ok_and(|seen| seen.is_ok());
        assert!(
            tls_failure,
            "{name}: no TLS failure reported: {:?}",
            *status.borrow()
        );
        assert!(!status.borrow().as_ref().unwrap().connected);
        refused.stop().await;
    }
    gate.stop().await;
}

#[test]
fn missing_tls_files_are_named() {
    let broker =
        "mode = \"external\"\nurl = \"mqtts://127.0.0.1:8883\"\nca = \"/nonexistent/ca.crt\"";
    let err = gatehouse_bus::client::Endpoint::from_config(&config(broker).broker)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("/nonexistent/ca.crt"), "{err}");
}
