//! The console's TLS certificate: the configured PEM files, or a self-signed certificate made
//! with rcgen on first run and kept in the data directory (`web-cert.pem`, `web-key.pem`) so
//! that browsers that accepted it once keep accepting it.

use crate::WebError;
use axum_server::tls_rustls::RustlsConfig;
use gatehouse_core::config::Config;
use std::path::{Path, PathBuf};

pub const CERT_FILE: &str = "web-cert.pem";
pub const KEY_FILE: &str = "web-key.pem";

/// Installs ring as rustls's crypto provider, once per process (a second install is a no-op).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Where the console's certificate and key come from.
pub fn paths(config: &Config, data_dir: &Path) -> Result<(PathBuf, PathBuf), WebError> {
    files(
        config.web.cert.as_deref(),
        config.web.key.as_deref(),
        data_dir,
    )
}

/// The configured certificate and key, or (neither configured) the self-signed pair kept in
/// `data_dir`, made on first use. The district office's console uses it too.
pub fn files(
    cert: Option<&str>,
    key: Option<&str>,
    data_dir: &Path,
) -> Result<(PathBuf, PathBuf), WebError> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok((PathBuf::from(cert), PathBuf::from(key))),
        (None, None) => {
            let cert = data_dir.join(CERT_FILE);
            let key = data_dir.join(KEY_FILE);
            if !cert.exists() || !key.exists() {
                make_self_signed(&cert, &key)?;
            }
            Ok((cert, key))
        }
        _ => Err(WebError::Certificate(
            "web.cert and web.key must be given together: set both, or neither for a self-signed certificate".into(),
        )),
    }
}

fn make_self_signed(cert: &Path, key: &Path) -> Result<(), WebError> {
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| WebError::Certificate(e.to_string()))?;
    let io = |p: &Path, e: std::io::Error| {
        WebError::Certificate(format!("cannot write {}: {e}", p.display()))
    };
    crate::users::write_private(key, made.signing_key.serialize_pem().as_bytes())
        .map_err(|e| io(key, e))?;
    std::fs::write(cert, made.cert.pem()).map_err(|e| io(cert, e))?;
    tracing::info!(cert = %cert.display(), "Made a self-signed certificate for the console.");
    Ok(())
}

/// Loads the certificate and key for the server.
pub async fn load(cert: &Path, key: &Path) -> Result<RustlsConfig, WebError> {
    RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        WebError::Certificate(format!(
            "cannot load {} and {}: {e}; check that they are PEM files of a certificate and its private key",
            cert.display(),
            key.display()
        ))
    })
}
