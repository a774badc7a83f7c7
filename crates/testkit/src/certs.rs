//! Test certificates made with the `openssl` CLI (installed by `scripts/install-test-deps`):
//! CAs and the certificates they sign, as PEM files in a directory of the test's own.

use std::path::Path;
use std::process::Command;

/// Extensions of a server certificate for `127.0.0.1` and `localhost`.
pub const SERVER: &str = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";

/// Extensions of a client certificate.
pub const CLIENT: &str = "extendedKeyUsage=clientAuth\n";

/// The arguments of `openssl req` for a new P-256 key without a passphrase.
const NEW_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// Runs `openssl` with `args` in `dir`; panics with its error output when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is not installed: run scripts/install-test-deps");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (P-256, valid two days) with the subject `CN={name}`: `{name}.crt` and `{name}.key`
/// in `dir`.
pub fn ca(dir: &Path, name: &str) {
    let (key, crt, subj) = (
        format!("{name}.key"),
        format!("{name}.crt"),
        format!("/CN={name}"),
    );
    let args = [
        ["req", "-x509"].as_slice(),
        &NEW_KEY,
        &["-keyout", &key, "-out", &crt, "-days", "2", "-subj", &subj],
        &[
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    ]
    .concat();
    openssl(dir, &args);
}

/// A key and a certificate with the subject `CN={name}` signed by the CA `ca` (made by
/// [`ca`] in the same `dir`), with the extensions `ext` (e.g. [`SERVER`], [`CLIENT`]):
/// `{name}.crt` and `{name}.key`.
pub fn leaf(dir: &Path, name: &str, ca: &str, ext: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
    let (key, csr, crt, subj) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
        format!("/CN={name}"),
    );
    let request = [
        ["req"].as_slice(),
        &NEW_KEY,
        &["-keyout", &key, "-out", &csr, "-subj", &subj],
    ]
    .concat();
    openssl(dir, &request);
    let (ca_crt, ca_key, extfile) = (
        format!("{ca}.crt"),
        format!("{ca}.key"),
        format!("{name}.ext"),
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "2",
            "-extfile",
            &extfile,
        ],
    );
}

/// A rustls client configuration (ring) trusting `dir`'s `ca.crt`, presenting `{name}.crt`
/// with `{name}.key` when `cert` is `Some(name)`, for rumqttc's `TlsConfiguration::Rustls`.
#[cfg(feature = "mqtt")]
pub fn tls_client(dir: &Path, cert: Option<&str>) -> std::sync::Arc<rustls::ClientConfig> {
    let pem = std::fs::read(dir.join("ca.crt")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    std::sync::Arc::new(match cert {
        None => builder.with_no_client_auth(),
        Some(name) => {
            let chain = std::fs::read(dir.join(format!("{name}.crt"))).unwrap();
            let key = std::fs::read(dir.join(format!("{name}.key"))).unwrap();
            builder
                .with_client_auth_cert(
                    rustls_pemfile::certs(&mut chain.as_slice())
                        .map(Result::unwrap)
                        .collect(),
                    rustls_pemfile::private_key(&mut key.as_slice())
                        .unwrap()
                        .unwrap(),
                )
                .unwrap()
        }
    })
}
