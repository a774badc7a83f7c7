//! The occupancy report of `spec/files.md` ("Occupancy report"). Fields beyond the spec's are
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
    pub at: String,
    pub detail: String,
    /// Addition: the holder's household, so the office knows whom to visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
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
    pub window: WindowDates,
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
