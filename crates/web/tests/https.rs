//! The console over real HTTPS: the self-signed certificate made on first run, port 0, the
//! pages served, and a taken port reported with the flag and key that choose another.

mod support;

use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// One HTTP/1.1 GET over TLS, trusting only the console's own certificate.
async fn get(addr: std::net::SocketAddr, cert_pem: &[u8], path: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut &cert_pem[..]) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector
        .connect(name, tcp)
        .await
        .expect("the certificate verifies for localhost");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_pages_over_tls_on_port_zero_and_names_the_flag_when_the_port_is_taken() {
    gatehouse_web::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let config = support::config();
    let token = CancellationToken::new();
    let (gateway, _store) = support::start_gateway(&config, dir.path(), &token);
    let options = gatehouse_web::WebOptions {
        password_cost: gatehouse_web::PasswordCost::Light,
        ..Default::default()
    };
    let served = gatehouse_web::serve_with(
        &config,
        dir.path(),
        "127.0.0.1:0",
        gateway.clone(),
        token.clone(),
        options.clone(),
    )
    .await
    .expect("the console starts");
    assert_ne!(served.addr.port(), 0, "the real port is reported");
    let cert = std::fs::read(dir.path().join(gatehouse_web::tls::CERT_FILE))
        .expect("a self-signed certificate was made");

    let login = get(served.addr, &cert, "/login").await;
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    assert!(
        login.contains("登录"),
        "the sign-in page is Chinese by default"
    );
    assert!(
        login
            .to_ascii_lowercase()
            .contains("content-security-policy"),
        "pages carry a CSP"
    );
    let office = get(served.addr, &cert, "/office").await;
    assert!(
        office.starts_with("HTTP/1.1 303"),
        "strangers are sent to sign in: {office}"
    );

    let taken = served.addr.to_string();
    let again =
        gatehouse_web::serve_with(&config, dir.path(), &taken, gateway, token.clone(), options)
            .await;
    let message = match again {
        Ok(_) => panic!("a taken port must be an error"),
        Err(e) => e.to_string(),
    };
    assert!(
        message.contains("--web-listen") && message.contains("web.listen"),
        "{message}"
    );

    token.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(10), served.task)
        .await
        .expect("the console stops on shutdown")
        .unwrap();
}
