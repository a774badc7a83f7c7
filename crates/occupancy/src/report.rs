//! The occupancy report of `docs/interfaces.md#files-and-commands` ("Occupancy report"). Fields beyond the spec's are
//! additions the spec allows; each says why it exists.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Occupied,
    Occasional,
    Vacant,
    /// No passes to judge by.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Occupied => "occupied",
            Status::Occasional => "occasional",
            Status::Vacant => "vacant",
            Status::Unknown => "unknown",
        }
    }
    /// Chinese for printed tables.
    pub fn words_zh(self) -> &'static str {
        match self {
            Status::Occupied => "常住",
            Status::Occasional => "偶住",
            Status::Vacant => "空置",
            Status::Unknown => "未知",
        }
    }
    /// The fill colour of the building grid.
    pub fn colour(self) -> &'static str {
        match self {
            Status::Occupied => "#2e7d32",
            Status::Occasional => "#f9a825",
            Status::Vacant => "#9e9e9e",
            Status::Unknown => "#ffffff",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    OverOccupied,
    FewerThanRegistered,
    GhostMember,
    MovedOutStillActive,
    ManyVisitors,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::OverOccupied => "over_occupied",
            Flag::FewerThanRegistered => "fewer_than_registered",
            Flag::GhostMember => "ghost_member",
            Flag::MovedOutStillActive => "moved_out_still_active",
            Flag::ManyVisitors => "many_visitors",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    ImpossibleTravel,
    LentPass,
    ClonedCard,
    MovedOutStillActive,
    Tailgating,
}

impl AnomalyKind {
    pub const ALL: [AnomalyKind; 5] = [
        AnomalyKind::ImpossibleTravel,
        AnomalyKind::LentPass,
        AnomalyKind::ClonedCard,
        AnomalyKind::MovedOutStillActive,
        AnomalyKind::Tailgating,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::ImpossibleTravel => "impossible_travel",
            AnomalyKind::LentPass => "lent_pass",
            AnomalyKind::ClonedCard => "cloned_card",
            AnomalyKind::MovedOutStillActive => "moved_out_still_active",
            AnomalyKind::Tailgating => "tailgating",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowDates {
    pub from: String,
    pub to: String,
}

/// Addition: what the data covers, so that a reader knows how far to trust the verdicts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// The first and last access record read (local time).
    pub first_record: Option<String>,
    pub last_record: Option<String>,
    /// Nights of the window the data covers (records from before midnight to after 06:00).
    pub nights: u32,
    /// Whether that is enough to judge households (at least 3 nights); when not, every
    /// household is `unknown`.
    pub enough: bool,
    /// Per door: reads each way and what they say about the door.
    pub doors: Vec<DoorCoverage>,
}

/// Addition: one door's reads in the kept span, and the share of exits it seems to miss.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DoorCoverage {
    pub door: String,
    pub entries: u64,
    pub exits: u64,
    /// `both`, `in_only`, `out_only` or `none`: the directions the door's records show.
    pub directions: String,
    /// For a gate recording both ways: 1 − exits / entries (people leave as often as they
    /// come, so the shortfall is exits not recorded). Absent when it cannot be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_exits: Option<f64>,
}

impl DoorCoverage {
    pub fn of(door: &str, entries: u64, exits: u64, gate: bool) -> DoorCoverage {
        let directions = match (entries > 0, exits > 0) {
            (true, true) => "both",
            (true, false) => "in_only",
            (false, true) => "out_only",
            (false, false) => "none",
        };
        DoorCoverage {
            door: door.to_string(),
            entries,
            exits,
            directions: directions.to_string(),
            missing_exits: (gate && entries >= 20 && exits > 0)
                .then(|| ((1.0 - exits as f64 / entries as f64).max(0.0) * 100.0).round() / 100.0),
        }
    }
    pub fn both_ways(&self) -> bool {
        self.directions == "both"
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdVerdict {
    pub household: String,
    pub building: Option<String>,
    pub registered: u32,
    pub status: Status,
    pub estimated_residents: u32,
    pub nights_present: u32,
    pub confidence: f64,
    pub flags: Vec<Flag>,
    pub evidence: String,
    /// Addition: how many nights the window judged, so `nights_present` can be read alone.
    pub nights: u32,
    /// Addition: visitor entries hosted by the household in the window.
    #[serde(default)]
    pub visitor_entries: u32,
    /// Addition: the building's name (18号楼), for the office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_name: Option<String>,
    /// Addition: a plausible range of residents `[low, high]` (wide for shared cards).
    #[serde(default)]
    pub residents_range: [u32; 2],
    /// Addition: nights present by recorded arrivals and departures alone, and nights
    /// present if every gap in the records were a stay: the bounds of `nights_present`.
    #[serde(default)]
    pub nights_seen: u32,
    #[serde(default)]
    pub nights_possible: u32,
    /// Addition: the evidence in Chinese.
    #[serde(default)]
    pub evidence_zh: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneCount {
    pub zone: String,
    pub inside_now: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InsideNow {
    pub person: String,
    pub household: Option<String>,
    pub zone: String,
    pub since: String,
    /// Addition: the pass read at the entry.
    pub pass: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub pass: String,
    /// The card number the pass carries, as the office finds it on the card.
    #[serde(default)]
    pub card: Option<String>,
    pub at: String,
    pub detail: String,
    /// Addition: the holder's household, so the office knows whom to visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    /// Addition: how sure the finding is, 0 to 1.
    #[serde(default)]
    pub confidence: f64,
    /// Addition: the reads behind it, as lines a person can check (local times).
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Addition: `detail` in Chinese.
    #[serde(default)]
    pub detail_zh: String,
}

/// Addition: estimated people inside each zone at 03:00 each night and 15:00 each day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadCount {
    pub at: String,
    pub zone: String,
    pub count: u32,
}

/// Addition: entries and exits through each door per day, for the flow charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DailyFlow {
    pub door: String,
    pub date: String,
    pub entries: u32,
    pub exits: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub site: String,
    /// Addition: the site's name.
    #[serde(default)]
    pub site_name: String,
    pub window: WindowDates,
    /// Addition: what the data covers.
    #[serde(default)]
    pub coverage: Coverage,
    pub households: Vec<HouseholdVerdict>,
    pub zones: Vec<ZoneCount>,
    pub inside_now: Vec<InsideNow>,
    pub anomalies: Vec<Anomaly>,
    /// Addition: the instant `inside_now` describes (the last event read).
    #[serde(default)]
    pub as_of: Option<String>,
    /// Addition: which presence method made the report (`ours` unless a baseline was asked for).
    #[serde(default)]
    pub method: String,
    /// Addition: events read, and those that could not be used (unknown pass or door).
    #[serde(default)]
    pub events_read: u64,
    #[serde(default)]
    pub events_unusable: u64,
    #[serde(default)]
    pub head_counts: Vec<HeadCount>,
    #[serde(default)]
    pub flows: Vec<DailyFlow>,
}
