//! Tracing to stderr, as text or JSON; `RUST_LOG` overrides the default (`info`, with the
//! embedded broker's per-connection chatter at `warn`). Every line passes through
//! [`gatehouse_core::phone::mask_phones`] on its way out: a user name, a topic or an error
//! that quotes input can carry a phone number, and no log line may.

use std::io::Write;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,rmqtt=warn,rmqtt_net=warn,rmqtt_codec=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Masked(std::io::stderr));
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// A writer that masks phone numbers in what it is given. The formatter hands over each
/// event's line in one write, so a number is never split between two writes.
#[derive(Clone, Copy)]
pub struct Masked<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Masked<M> {
    type Writer = MaskedWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedWriter(self.0.make_writer())
    }
}

pub struct MaskedWriter<W>(W);

impl<W: Write> Write for MaskedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0
            .write_all(gatehouse_core::phone::mask_phones(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_never_carry_a_phone_number() {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(Masked(move || sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(user = "13912345678", "Console sign-in refused.");
            tracing::warn!(
                topic = "gatehouse/s/readers/139-0000-1213/swipe",
                "Bad swipe."
            );
            tracing::warn!("guard note: called +86 139 8765 4321");
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        for leak in ["13912345678", "139-0000-1213", "139 8765 4321"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert_eq!(text.matches("****").count(), 3, "{text}");
    }
}
