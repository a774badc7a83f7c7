//! A console on the web crate's test estate, for the browser tests and the benchmark when the
//! full daemon is not wanted: takes the same flags as `gatehouse demo` and prints the same
//! `console: https://…/` line. `cargo run -p gatehouse-web --example console -- demo
//! --data-dir /tmp/x --web-listen 127.0.0.1:0` (GATEHOUSE_ADMIN_PASSWORD sets admin's password).

#[path = "../tests/support/mod.rs"]
mod support;

use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut data_dir = None;
    let mut listen = "127.0.0.1:8443".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "demo" => {}
            "--data-dir" => data_dir = args.next(),
            "--web-listen" => listen = args.next().unwrap_or(listen),
            "--mqtt-listen" => {
                args.next();
            }
            other => anyhow::bail!(
                "unknown argument '{other}': use --data-dir DIR --web-listen HOST:PORT"
            ),
        }
    }
    let data_dir = std::path::PathBuf::from(
        data_dir.ok_or_else(|| anyhow::anyhow!("--data-dir DIR is required"))?,
    );
    std::fs::create_dir_all(&data_dir)?;
    let config = support::config();
    let token = CancellationToken::new();
    let (gateway, _store) = support::start_gateway(&config, &data_dir, &token);
    let served = gatehouse_web::serve(&config, &data_dir, &listen, gateway, token.clone()).await?;
    if let Some(password) = &served.initial_password {
        println!("admin password (shown once): {password}");
    }
    println!("console: https://{}/", served.addr);
    tokio::signal::ctrl_c().await?;
    token.cancel();
    let _ = served.task.await;
    Ok(())
}
