//! A daemon's estate of one court behind one gate (`gate`, its reader `r-in` driven over
//! MQTT), on the embedded broker and with the console, both listening on free ports: the
//! estate of the tests that run the whole daemon in process.

/// The estate's configuration file for site `site` named `name`; `extra` is appended (more
/// sections, zones or issuers).
pub fn config(site: &str, name: &str, extra: &str) -> String {
    format!(
        r#"
[site]
id = "{site}"
name = "{name}"
[broker]
mode = "embedded"
listen = "127.0.0.1:0"
[web]
listen = "127.0.0.1:0"
[[zones]]
id = "court"
name = "Court"
parent = "site"
[[doors]]
id = "gate"
name = "Gate"
kind = "pedestrian"
outside = "outside"
inside = "court"
controller = "mqtt"
readers = [{{ id = "r-in", direction = "in" }}]
{extra}
"#
    )
}
