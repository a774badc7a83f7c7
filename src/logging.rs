//! Tracing to stderr, as text or JSON; `RUST_LOG` overrides the default (`info`, with the
//! embedded broker's per-connection chatter at `warn`).

use tracing_subscriber::EnvFilter;

pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,rmqtt=warn,rmqtt_net=warn,rmqtt_codec=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
