//! Vendor profiles: TOML files mapping a controller's registers to door points
//! (`docs/interfaces.md#modbus-controllers`). Adding a vendor is adding a file; this module loads and checks them.
//!
//! The three shipped profiles are built into the binary; a profiles directory can override
//! them or add more. Every error names the file, the key, what is wrong and what to do.

mod expr;

pub use expr::AddressExpr;

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// The profiles shipped with gatehouse: (name, file text).
pub const BUILTIN: [(&str, &str); 3] = [
    (
        "relay-io",
        include_str!("../../../../config/profiles/relay-io.toml"),
    ),
    (
        "timed-relay",
        include_str!("../../../../config/profiles/timed-relay.toml"),
    ),
    (
        "reader-controller",
        include_str!("../../../../config/profiles/reader-controller.toml"),
    ),
];

/// A profile that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file is not valid TOML or has a key the format does not know.
    #[error("{file}: {message}. Fix the file against docs/profiles.md.")]
    Syntax { file: String, message: String },
    /// The file parses but a value cannot work.
    #[error("{file}: `{key}`: {problem}. {fix}")]
    Invalid {
        file: String,
        key: String,
        problem: String,
        fix: String,
    },
    /// The profiles directory or a file in it cannot be read.
    #[error("{path}: cannot read it: {error}. Check the path and its permissions.")]
    Read { path: String, error: String },
    /// A controller names a profile that is neither built in nor in the profiles directory.
    #[error(
        "controller '{controller}': no profile '{profile}' (known: {known}). Use one of them or add {profile}.toml to the profiles directory."
    )]
    Unknown {
        controller: String,
        profile: String,
        known: String,
    },
}

/// A Modbus data table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    Coil,
    Discrete,
    Input,
    Holding,
}

impl Table {
    /// Whether the table holds single bits (coils, discrete inputs) rather than 16-bit words.
    pub fn is_bits(self) -> bool {
        matches!(self, Table::Coil | Table::Discrete)
    }

    /// Whether the gateway can write it.
    pub fn is_writable(self) -> bool {
        matches!(self, Table::Coil | Table::Holding)
    }

    /// Parses the names used in configuration (`coil`, `discrete`, `input`, `holding`).
    pub fn parse(text: &str) -> Option<Table> {
        match text {
            "coil" | "coils" => Some(Table::Coil),
            "discrete" | "discrete_input" => Some(Table::Discrete),
            "input" | "input_register" => Some(Table::Input),
            "holding" | "holding_register" => Some(Table::Holding),
            _ => None,
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Table::Coil => "coil",
            Table::Discrete => "discrete",
            Table::Input => "input",
            Table::Holding => "holding",
        })
    }
}

/// One point of the map: where a signal lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    pub table: Table,
    pub address: AddressExpr,
    /// For register tables: which bit of the word; none = the whole word is the value.
    pub bit: Option<u8>,
    /// The signal is active when the bit is 0 (some vendors wire inputs active-low).
    pub active_low: bool,
}

impl Point {
    /// The protocol address for channel `ch` (checked at load time for every channel).
    pub fn address(&self, ch: u16) -> u16 {
        self.address.at(ch).unwrap_or(u16::MAX)
    }

    /// Whether the point is active given the raw value read at its address.
    pub fn is_active(&self, raw: u16) -> bool {
        let on = match self.bit {
            Some(bit) => raw & (1 << bit) != 0,
            None => raw != 0,
        };
        on != self.active_low
    }
}

/// How the gateway releases a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlock {
    /// Write the lock point 1, then 0 after the door's `pulse_ms`: the gateway times it.
    Pulse,
    /// Write `ceil(pulse_ms / unit_ms)` (1..=max) to the unlock point: the device times it.
    Timed { unit_ms: u32, max: u16 },
}

/// Who releases the lock when the exit button is pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitRelease {
    /// The button is only an input: the gateway pulses the lock itself, at once, without
    /// waiting for the core or the log (egress is never blocked by software).
    Gateway,
    /// The button is wired to the lock; the controller releases by itself.
    Hardware,
}

/// The read buffer of controllers with readers attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    pub counter: Point,
    pub slots_table: Table,
    pub slots_address: u16,
    pub slot_count: u16,
    pub slot_size: u16,
    /// Word offsets inside a slot.
    pub reader: u16,
    pub card_high: u16,
    pub card_low: u16,
    pub pin_length: Option<u16>,
    pub pin_high: Option<u16>,
    pub pin_low: Option<u16>,
}

impl Reads {
    /// The address of slot `i`.
    pub fn slot_address(&self, i: u16) -> u16 {
        self.slots_address + self.slot_size * i
    }
}

/// A vendor profile, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// How many doors one controller can drive (channels 0..channels).
    pub channels: u16,
    pub unlock: Unlock,
    pub exit_release: ExitRelease,
    /// Released (1) / locked (0); required for `pulse`, optional for `timed` (it holds open).
    pub lock: Option<Point>,
    /// `timed`: the register the release time is written to.
    pub unlock_point: Option<Point>,
    /// `timed`: 1 = hold released, 0 = normal.
    pub hold_open: Option<Point>,
    pub contact: Option<Point>,
    pub exit: Option<Point>,
    pub tamper: Option<Point>,
    /// The lock's own report that it is released.
    pub lock_released: Option<Point>,
    /// A controller-wide fire-alarm input.
    pub fire: Option<Point>,
    pub reads: Option<Reads>,
}

/// The known profiles by name.
#[derive(Clone, Debug, Default)]
pub struct Profiles {
    by_name: BTreeMap<String, Arc<Profile>>,
}

impl Profiles {
    /// The three shipped profiles.
    pub fn builtin() -> Profiles {
        let mut profiles = Profiles::default();
        for (name, text) in BUILTIN {
            let profile = Profile::parse(text, &format!("built-in profile {name}"))
                .expect("shipped profiles are checked by the tests");
            profiles
                .by_name
                .insert(profile.name.clone(), Arc::new(profile));
        }
        profiles
    }

    /// The shipped profiles, overridden and extended by every `*.toml` in `dir` when given.
    pub fn load(dir: Option<&Path>) -> Result<Profiles, ProfileError> {
        let mut profiles = Profiles::builtin();
        let Some(dir) = dir else { return Ok(profiles) };
        let read_err = |e: std::io::Error| ProfileError::Read {
            path: dir.display().to_string(),
            error: e.to_string(),
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(read_err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| ProfileError::Read {
                path: file.clone(),
                error: e.to_string(),
            })?;
            let profile = Profile::parse(&text, &file)?;
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if profile.name != stem {
                return Err(invalid(
                    &file,
                    "name",
                    format!(
                        "the profile is called '{}' but the file is {stem}.toml",
                        profile.name
                    ),
                    "Name the file after the profile (controllers refer to it by file name).",
                ));
            }
            profiles
                .by_name
                .insert(profile.name.clone(), Arc::new(profile));
        }
        Ok(profiles)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Profile>> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Adds or replaces a profile (tests, tools).
    pub fn insert(&mut self, profile: Profile) {
        self.by_name.insert(profile.name.clone(), Arc::new(profile));
    }

    /// Checks that every controller of `config` names a known profile and that its doors'
    /// channels and readers fit the profile.
    pub fn check(&self, config: &gatehouse_core::config::Config) -> Result<(), ProfileError> {
        for ctl in &config.controllers {
            let Some(profile) = self.get(&ctl.profile) else {
                return Err(ProfileError::Unknown {
                    controller: ctl.id.clone(),
                    profile: ctl.profile.clone(),
                    known: self.names().collect::<Vec<_>>().join(", "),
                });
            };
            for door in config
                .doors
                .iter()
                .filter(|d| d.controller.as_deref() == Some(ctl.id.as_str()))
            {
                if door.channel >= profile.channels {
                    return Err(invalid(
                        "configuration",
                        &format!("doors.{}.channel", door.id),
                        format!(
                            "channel {} does not exist on controller '{}' (profile {} has channels 0..{})",
                            door.channel, ctl.id, profile.name, profile.channels
                        ),
                        "Use a channel the controller has, or bind the door to another controller.",
                    ));
                }
            }
            if !ctl.readers.is_empty() && profile.reads.is_none() {
                return Err(invalid(
                    "configuration",
                    &format!("controllers.{}.readers", ctl.id),
                    format!(
                        "profile {} has no read buffer, so the controller has no readers",
                        profile.name
                    ),
                    "Remove the readers list or use a profile with [reads].",
                ));
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default)]
    description: String,
    channels: u16,
    unlock: RawUnlock,
    #[serde(default)]
    exit: Option<RawExit>,
    points: BTreeMap<String, RawPoint>,
    #[serde(default)]
    reads: Option<RawReads>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnlock {
    mode: String,
    #[serde(default)]
    unit_ms: Option<u32>,
    #[serde(default)]
    max: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExit {
    releases: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    table: String,
    address: String,
    #[serde(default)]
    bit: Option<u8>,
    #[serde(default)]
    active_low: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReads {
    counter: RawPoint,
    slots: RawSlots,
    layout: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlots {
    table: String,
    address: String,
    count: u16,
    size: u16,
}

const POINT_NAMES: [&str; 8] = [
    "lock",
    "unlock",
    "hold_open",
    "contact",
    "exit",
    "tamper",
    "lock_released",
    "fire",
];
const LAYOUT_NAMES: [&str; 6] = [
    "reader",
    "card_high",
    "card_low",
    "pin_length",
    "pin_high",
    "pin_low",
];

fn invalid(file: &str, key: &str, problem: impl Into<String>, fix: &str) -> ProfileError {
    ProfileError::Invalid {
        file: file.into(),
        key: key.into(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

impl Profile {
    /// Parses and checks profile text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Profile, ProfileError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            file: file.into(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        if raw.channels == 0 || raw.channels > 256 {
            return Err(invalid(
                file,
                "channels",
                format!("{} channels", raw.channels),
                "Give the number of doors one controller drives, 1 to 256.",
            ));
        }
        for key in raw.points.keys() {
            if !POINT_NAMES.contains(&key.as_str()) {
                return Err(invalid(
                    file,
                    &format!("points.{key}"),
                    "unknown point",
                    &format!("Use one of: {}.", POINT_NAMES.join(", ")),
                ));
            }
        }
        let point = |name: &str| -> Result<Option<Point>, ProfileError> {
            raw.points
                .get(name)
                .map(|p| check_point(p, &format!("points.{name}"), file, raw.channels))
                .transpose()
        };
        let unlock = match raw.unlock.mode.as_str() {
            "pulse" => Unlock::Pulse,
            "timed" => {
                let unit_ms = raw.unlock.unit_ms.filter(|u| *u > 0).ok_or_else(|| {
                    invalid(
                        file,
                        "unlock.unit_ms",
                        "missing or 0",
                        "Give the device's time unit in milliseconds (100 for N x 100 ms).",
                    )
                })?;
                let max = raw.unlock.max.filter(|m| *m > 0).ok_or_else(|| {
                    invalid(
                        file,
                        "unlock.max",
                        "missing or 0",
                        "Give the largest value the device accepts (600 for 60 s).",
                    )
                })?;
                Unlock::Timed { unit_ms, max }
            }
            other => {
                return Err(invalid(
                    file,
                    "unlock.mode",
                    format!("unknown mode '{other}'"),
                    "Use \"pulse\" (the gateway times it) or \"timed\" (the device times it).",
                ));
            }
        };
        let exit_release = match raw.exit.as_ref().map(|e| e.releases.as_str()) {
            None | Some("gateway") => ExitRelease::Gateway,
            Some("hardware") => ExitRelease::Hardware,
            Some(other) => {
                return Err(invalid(
                    file,
                    "exit.releases",
                    format!("unknown value '{other}'"),
                    "Use \"gateway\" or \"hardware\".",
                ));
            }
        };
        let profile = Profile {
            name: raw.name.clone(),
            description: raw.description.clone(),
            channels: raw.channels,
            unlock,
            exit_release,
            lock: point("lock")?,
            unlock_point: point("unlock")?,
            hold_open: point("hold_open")?,
            contact: point("contact")?,
            exit: point("exit")?,
            tamper: point("tamper")?,
            lock_released: point("lock_released")?,
            fire: point("fire")?,
            reads: raw
                .reads
                .as_ref()
                .map(|r| check_reads(r, file))
                .transpose()?,
        };
        for (name, p) in [
            ("lock", profile.lock),
            ("unlock", profile.unlock_point),
            ("hold_open", profile.hold_open),
        ] {
            if let Some(p) = p
                && !p.table.is_writable()
            {
                return Err(invalid(
                    file,
                    &format!("points.{name}.table"),
                    format!("{} cannot be written", p.table),
                    "Use \"coil\" or \"holding\" for points the gateway writes.",
                ));
            }
        }
        match profile.unlock {
            Unlock::Pulse if profile.lock.is_none() => {
                return Err(invalid(
                    file,
                    "points.lock",
                    "missing; unlock mode \"pulse\" writes it",
                    "Add points.lock (the relay that releases the lock).",
                ));
            }
            Unlock::Timed { .. } if profile.unlock_point.is_none() => {
                return Err(invalid(
                    file,
                    "points.unlock",
                    "missing; unlock mode \"timed\" writes it",
                    "Add points.unlock (the register the release time goes to).",
                ));
            }
            _ => {}
        }
        if profile.exit_release == ExitRelease::Gateway
            && profile.exit.is_some()
            && profile.lock.is_none()
        {
            return Err(invalid(
                file,
                "exit.releases",
                "\"gateway\" needs points.lock to pulse",
                "Add points.lock or set releases = \"hardware\".",
            ));
        }
        if profile.name.is_empty() {
            return Err(invalid(
                file,
                "name",
                "empty",
                "Name the profile like its file (relay-io for relay-io.toml).",
            ));
        }
        Ok(profile)
    }

    /// How the lock is held released: the hold-open point, else the lock relay itself.
    pub fn hold_point(&self) -> Option<Point> {
        self.hold_open.or(self.lock)
    }
}

fn check_point(
    raw: &RawPoint,
    key: &str,
    file: &str,
    channels: u16,
) -> Result<Point, ProfileError> {
    let table = Table::parse(&raw.table).ok_or_else(|| {
        invalid(
            file,
            &format!("{key}.table"),
            format!("unknown table '{}'", raw.table),
            "Use coil, discrete, input or holding.",
        )
    })?;
    let address = AddressExpr::parse(&raw.address).map_err(|e| {
        invalid(
            file,
            &format!("{key}.address"),
            e,
            "Write a sum like \"ch\", \"4 + ch\" or \"0x0100 + ch\".",
        )
    })?;
    if address.at(channels.saturating_sub(1)).is_none() {
        return Err(invalid(
            file,
            &format!("{key}.address"),
            format!(
                "'{}' passes 65535 for channel {}",
                raw.address,
                channels - 1
            ),
            "Lower the base address or the channel count.",
        ));
    }
    if let Some(bit) = raw.bit {
        if table.is_bits() {
            return Err(invalid(
                file,
                &format!("{key}.bit"),
                format!("{table} points are single bits"),
                "Remove `bit`, or use an input or holding register.",
            ));
        }
        if bit > 15 {
            return Err(invalid(
                file,
                &format!("{key}.bit"),
                format!("bit {bit} of a 16-bit word"),
                "Use a bit from 0 to 15.",
            ));
        }
    }
    Ok(Point {
        table,
        address,
        bit: raw.bit,
        active_low: raw.active_low,
    })
}

fn check_reads(raw: &RawReads, file: &str) -> Result<Reads, ProfileError> {
    let counter = check_point(&raw.counter, "reads.counter", file, 1)?;
    if counter.table.is_bits() || counter.address.per_channel() {
        return Err(invalid(
            file,
            "reads.counter",
            "the counter must be one register, not per channel",
            "Use an input or holding register at a fixed address.",
        ));
    }
    let slots_table = Table::parse(&raw.slots.table)
        .filter(|t| !t.is_bits())
        .ok_or_else(|| {
            invalid(
                file,
                "reads.slots.table",
                format!("'{}' is not a register table", raw.slots.table),
                "Use input or holding.",
            )
        })?;
    let base = AddressExpr::parse(&raw.slots.address)
        .ok()
        .filter(|e| !e.per_channel())
        .and_then(|e| e.at(0))
        .ok_or_else(|| {
            invalid(
                file,
                "reads.slots.address",
                format!("'{}' is not a fixed address", raw.slots.address),
                "Write the first slot's address, like \"0x0110\".",
            )
        })?;
    if raw.slots.count == 0 || raw.slots.count > 256 {
        return Err(invalid(
            file,
            "reads.slots.count",
            format!("{} slots", raw.slots.count),
            "Give the number of slots in the ring, 1 to 256.",
        ));
    }
    if usize::from(raw.slots.size) < raw.layout.len() {
        return Err(invalid(
            file,
            "reads.slots.size",
            format!(
                "{} words per slot but the layout names {}",
                raw.slots.size,
                raw.layout.len()
            ),
            "Make size at least the layout's length.",
        ));
    }
    if u32::from(base) + u32::from(raw.slots.size) * u32::from(raw.slots.count) > 0x1_0000 {
        return Err(invalid(
            file,
            "reads.slots",
            "the slots pass address 65535",
            "Lower the address or the count.",
        ));
    }
    let mut at = BTreeMap::new();
    for (i, name) in raw.layout.iter().enumerate() {
        if name == "-" {
            continue;
        }
        if !LAYOUT_NAMES.contains(&name.as_str()) {
            return Err(invalid(
                file,
                "reads.layout",
                format!("unknown word '{name}'"),
                &format!("Use {} or \"-\".", LAYOUT_NAMES.join(", ")),
            ));
        }
        if at.insert(name.as_str(), i as u16).is_some() {
            return Err(invalid(
                file,
                "reads.layout",
                format!("'{name}' appears twice"),
                "Name each word once.",
            ));
        }
    }
    let need = |name: &str| {
        at.get(name).copied().ok_or_else(|| {
            invalid(
                file,
                "reads.layout",
                format!("'{name}' is missing"),
                "The layout needs reader, card_high and card_low.",
            )
        })
    };
    Ok(Reads {
        counter,
        slots_table,
        slots_address: base,
        slot_count: raw.slots.count,
        slot_size: raw.slots.size,
        reader: need("reader")?,
        card_high: need("card_high")?,
        card_low: need("card_low")?,
        pin_length: at.get("pin_length").copied(),
        pin_high: at.get("pin_high").copied(),
        pin_low: at.get("pin_low").copied(),
    })
}

#[cfg(test)]
mod tests;
