//! What every handler shares: the gateway, users and sessions, throttles, pending visitor
//! requests, the estate's layout from the configuration, and the hooks the daemon passes in.

use crate::limiter::Limiter;
use crate::routes::{Access, Verb};
use crate::sessions::Sessions;
use crate::users::{PasswordCost, Users};
use crate::visitors::Visitors;
use futures::future::BoxFuture;
use gatehouse_core::config::Config;
use gatehouse_runtime::Gateway;
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Options the daemon (or a test) chooses; `Default` is right for a real gateway.
#[derive(Clone, Default)]
pub struct WebOptions {
    /// Password hashing cost; tests use `Light`.
    pub password_cost: PasswordCost,
    /// Imports a residents file (the root crate's import; the web crate only carries the file
    /// to it and shows the row errors). Without it the import route answers 501.
    pub import_residents: Option<ImportResidents>,
    /// Renders the per-building household table (楼组表) as HTML. Without it the console shows
    /// the table it builds from the estate data it has (members, masked phones).
    pub building_table: Option<BuildingTable>,
    /// Live head counts and the inside-now list (the daemon's occupancy task). Without it
    /// the occupancy routes answer 501.
    pub occupancy: Option<OccupancyNow>,
}

/// What the console asks the live occupancy for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OccupancyQuery {
    /// Head counts per zone (no personal data).
    HeadCounts,
    /// Who is inside now, in `zone` and the zones within it (all when none).
    Inside { zone: Option<String> },
}

/// A query → the answer as JSON (the daemon's tracker serialises its own types).
pub type OccupancyNow = Arc<
    dyn Fn(OccupancyQuery) -> BoxFuture<'static, Result<serde_json::Value, String>> + Send + Sync,
>;

/// `(file name, file bytes, actor)` → what the import did. The hook checks every row, hands
/// all or nothing to the core (`Admin::ImportEstate`), and lists every bad row.
pub type ImportResidents = Arc<
    dyn Fn(String, Vec<u8>, String) -> BoxFuture<'static, Result<ImportReport, String>>
        + Send
        + Sync,
>;

/// `(building zone id)` → an HTML fragment of the household table with observed occupancy.
pub type BuildingTable =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    /// Whether anything was written (all or nothing).
    pub ok: bool,
    pub households: usize,
    pub people: usize,
    pub passes: usize,
    /// Data rows read from the file.
    pub rows: usize,
    /// People new to the estate, changed, and left as they were (rows that matched).
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows refused (each one in `errors`); with any, nothing is written.
    pub refused: usize,
    /// Every bad row, with its row number as the file counts them (header = row 1).
    pub errors: Vec<RowError>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RowError {
    pub row: usize,
    pub reason: String,
}

/// A zone as the console shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneInfo {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
}

/// A door as the console shows it.
#[derive(Clone, Debug, Serialize)]
pub struct DoorInfo {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub outside: String,
    pub inside: String,
    pub verify: String,
}

/// The estate's layout, from the configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// The site's zone: "valid until" days end and stamps are written in it.
    #[serde(skip)]
    pub tz: jiff::tz::TimeZone,
    /// How many phone digits a guard asks for.
    #[serde(skip)]
    pub phone_digits: u8,
    pub zones: Vec<ZoneInfo>,
    pub doors: Vec<DoorInfo>,
}

impl Site {
    pub fn from_config(config: &Config) -> Site {
        let mut zones = vec![ZoneInfo {
            id: "site".into(),
            name: config.site.name.clone(),
            parent: None,
        }];
        zones.extend(config.zones.iter().map(|z| ZoneInfo {
            id: z.id.clone(),
            name: z.name.clone(),
            parent: Some(z.parent.clone()),
        }));
        let doors = config
            .doors
            .iter()
            .map(|d| DoorInfo {
                id: d.id.clone(),
                name: d.name.clone(),
                kind: wire_name(&d.kind),
                outside: d.outside.clone(),
                inside: d.inside.clone(),
                verify: wire_name(&d.verify),
            })
            .collect();
        Site {
            id: config.site.id.clone(),
            name: config.site.name.clone(),
            // The web starts only on a validated configuration, whose zone is known.
            tz: config.site.time_zone().unwrap_or(jiff::tz::TimeZone::UTC),
            phone_digits: config.policy.phone_digits,
            zones,
            doors,
        }
    }

    pub fn door(&self, id: &str) -> Option<&DoorInfo> {
        self.doors.iter().find(|d| d.id == id)
    }

    pub fn zone(&self, id: &str) -> Option<&ZoneInfo> {
        self.zones.iter().find(|z| z.id == id)
    }
}

/// The serde name of a config enum (`pedestrian`, `card+phone`).
pub fn wire_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub struct Inner {
    pub gateway: Gateway,
    pub users: Users,
    pub sessions: Sessions,
    pub limiter: Limiter,
    pub visitors: Visitors,
    pub site: Site,
    pub options: WebOptions,
    /// Leading phone digits the guard's screens show (`web.phone_head_digits`, never reaching
    /// the last `policy.phone_digits`, which the guard asks for).
    pub phone_head: usize,
    /// path → (verb, who may, is a page): the route table, for the access check.
    pub access: HashMap<&'static str, Vec<(Verb, Access, bool)>>,
    /// Ends live streams when the daemon stops.
    pub shutdown: CancellationToken,
}

/// The state every handler gets; cheap to clone.
#[derive(Clone)]
pub struct App(pub Arc<Inner>);

impl Deref for App {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl App {
    pub fn new(
        config: &Config,
        gateway: Gateway,
        users: Users,
        options: WebOptions,
        shutdown: CancellationToken,
    ) -> App {
        let mut access: HashMap<&'static str, Vec<(Verb, Access, bool)>> = HashMap::new();
        for r in crate::routes::table() {
            access
                .entry(r.path)
                .or_default()
                .push((r.verb, r.access, r.page));
        }
        App(Arc::new(Inner {
            gateway,
            users,
            sessions: Sessions::default(),
            limiter: Limiter::default(),
            visitors: Visitors::default(),
            site: Site::from_config(config),
            options,
            phone_head: usize::from(config.web.phone_head_digits)
                .min(11usize.saturating_sub(usize::from(config.policy.phone_digits))),
            access,
            shutdown,
        }))
    }
}
