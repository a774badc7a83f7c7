//! The sample estate's layout — an old quarter of three areas, 28 walk-up buildings, 12 gates
//! of which 3 are guarded checkpoints and only one stays open at night — and its
//! configuration file.

use rand::Rng;
use rand::seq::IndexedRandom;
use std::fmt::Write;

/// The three areas (片区) of the quarter, with the building numbers in each.
const AREAS: [(&str, &str, std::ops::RangeInclusive<u32>); 3] = [
    ("area-a", "东片区", 1..=10),
    ("area-b", "西片区", 11..=19),
    ("area-c", "南片区", 20..=28),
];

/// The twelve perimeter gates: id, name, area index, kind, verify mode. The first is the one
/// that stays open at night; the first three are the guarded checkpoints.
const GATES: [(&str, &str, usize, &str, &str); 12] = [
    ("gate-north", "北门", 0, "pedestrian", "card+phone"),
    ("gate-east", "东门", 1, "pedestrian", "card+phone"),
    ("gate-south", "南门", 2, "pedestrian", "guard"),
    ("gate-north-2", "北二门", 0, "pedestrian", "card"),
    ("gate-northeast", "东北门", 0, "vehicle", "card"),
    ("gate-lane", "西巷口", 0, "pedestrian", "card"),
    ("gate-east-2", "东二门", 1, "vehicle", "card"),
    ("gate-market", "菜场门", 1, "pedestrian", "card"),
    ("gate-school", "学校门", 1, "pedestrian", "card"),
    ("gate-south-2", "南二门", 2, "vehicle", "card"),
    ("gate-southwest", "西南门", 2, "pedestrian", "card"),
    ("gate-river", "河边门", 2, "pedestrian", "card"),
];

/// The estate office's number, shown on locked vehicle gates (fake, like every sample number).
const OFFICE_PHONE: &str = "13900009999";

/// The first Modbus TCP port of the simulated controllers.
pub const FIRST_PORT: u16 = 15020;

/// A building: its number, area, storeys and flats per landing, and its unit entrances.
#[derive(Clone, Debug)]
pub struct Building {
    pub number: u32,
    pub area: usize,
    pub floors: u32,
    pub flats_per_floor: u32,
    pub units: u32,
}

impl Building {
    pub fn zone(&self) -> String {
        format!("bldg-{}", self.number)
    }
    pub fn unit_zone(&self, unit: u32) -> String {
        format!("bldg-{}-{unit}", self.number)
    }
    /// Household ids of one unit entrance: `18-2-501` = building 18, unit 2, flat 501.
    pub fn households(&self, unit: u32) -> impl Iterator<Item = String> + '_ {
        (1..=self.floors).flat_map(move |floor| {
            (1..=self.flats_per_floor)
                .map(move |flat| format!("{}-{unit}-{}", self.number, floor * 100 + flat))
        })
    }
}

/// A door as the configuration file will show it.
struct Door {
    id: String,
    name: String,
    kind: &'static str,
    outside: String,
    inside: String,
    verify: &'static str,
    schedule: Option<&'static str>,
    /// Reader ids with their direction.
    readers: Vec<(String, &'static str)>,
    contact_phone: bool,
}

/// A controller with up to four doors on channels 0–3.
struct Controller {
    id: String,
    profile: &'static str,
    doors: Vec<Door>,
}

/// The whole layout.
pub struct Layout {
    pub buildings: Vec<Building>,
    controllers: Vec<Controller>,
}

/// Draws the buildings with `rng`.
pub fn layout(rng: &mut impl Rng) -> Layout {
    let mut buildings = Vec::new();
    for (area, (_, _, numbers)) in AREAS.iter().enumerate() {
        for number in numbers.clone() {
            buildings.push(Building {
                number,
                area,
                floors: *[5, 6, 6, 7, 7].choose(rng).expect("non-empty"),
                flats_per_floor: *[2, 3, 3, 4, 4].choose(rng).expect("non-empty"),
                units: *[2, 3, 4, 4, 4, 5, 5, 6].choose(rng).expect("non-empty"),
            });
        }
    }
    let controllers = controllers(&buildings);
    Layout {
        buildings,
        controllers,
    }
}

fn gate_doors(area: usize) -> Vec<Door> {
    GATES
        .iter()
        .filter(|g| g.2 == area)
        .map(|&(id, name, _, kind, verify)| Door {
            id: id.to_string(),
            name: name.to_string(),
            kind,
            outside: "outside".into(),
            inside: AREAS[area].0.into(),
            verify,
            // Only the north gate stays open from 22:00 to 06:00.
            schedule: (id != GATES[0].0).then_some("day-only"),
            readers: vec![(format!("r-{id}-in"), "in"), (format!("r-{id}-out"), "out")],
            contact_phone: kind == "vehicle",
        })
        .collect()
}

/// One controller of gates per area, then the unit doors of the area four to a controller,
/// the profiles taking turns so that every profile is in use and each area's first unit
/// controller is a `timed-relay` (it carries the area's fire input).
fn controllers(buildings: &[Building]) -> Vec<Controller> {
    const GATE_PROFILES: [&str; 3] = ["reader-controller", "relay-io", "timed-relay"];
    const UNIT_PROFILES: [&str; 3] = ["timed-relay", "relay-io", "reader-controller"];
    let letter = |area: usize| (b'a' + area as u8) as char;
    let mut out = Vec::new();
    for (area, (area_id, _, _)) in AREAS.iter().enumerate() {
        out.push(Controller {
            id: format!("ctl-gates-{}", letter(area)),
            profile: GATE_PROFILES[area],
            doors: gate_doors(area),
        });
        let unit_doors: Vec<Door> = buildings
            .iter()
            .filter(|b| b.area == area)
            .flat_map(|b| {
                (1..=b.units).map(move |u| Door {
                    id: format!("door-{}-{u}", b.number),
                    name: format!("{}号楼{u}单元门", b.number),
                    kind: "unit",
                    outside: area_id.to_string(),
                    inside: b.unit_zone(u),
                    verify: "card",
                    schedule: None,
                    readers: vec![(format!("r-{}-{u}-in", b.number), "in")],
                    contact_phone: false,
                })
            })
            .collect();
        let mut doors = unit_doors.into_iter().peekable();
        let mut n = 0;
        while doors.peek().is_some() {
            out.push(Controller {
                id: format!("ctl-{}-{:02}", letter(area), n + 1),
                profile: UNIT_PROFILES[n % UNIT_PROFILES.len()],
                doors: doors.by_ref().take(4).collect(),
            });
            n += 1;
        }
    }
    out
}

/// The configuration file of the layout; `office_public_key` is the base64 of the demo
/// office's Ed25519 public key.
pub fn config_toml(layout: &Layout, seed: u64, office_public_key: &str) -> String {
    let mut s = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = write!(
        s,
        r#"# The sample estate: an old quarter of 3 areas, {buildings} buildings and 12 gates.
# Generated by `gatehouse sample generate --seed {seed} --out config/`; edit the generator, not
# this file. Every key is described in docs/configuration.md.

[site]
id = "north-estate"
name = "新门口社区"
timezone = "Asia/Shanghai"
data_dir = "./data"

[broker]
mode = "embedded"
listen = "127.0.0.1:18830"

[web]
listen = "127.0.0.1:8443"

[policy]
phone_digits = 4
max_phone_failures = 5
max_swipe_age_s = 10
apb = "soft"
apb_timeout_h = 24
exit_quota = 1
exit_quota_period_h = 48

# Every gate but the north gate closes from 22:00 to 06:00.
[[schedules]]
id = "day-only"
windows = ["mon-sun 06:00-22:00"]

[[schedules]]
id = "office-hours"
windows = ["mon-fri 08:30-17:30"]
holidays = ["2027-01-01", "2027-02-16", "2027-02-17", "2027-02-18", "2027-04-05", "2027-05-01"]

[[access_groups]]
id = "staff-all"
doors = ["*"]

[[access_groups]]
id = "contractors"
doors = ["gate-east", "gate-south"]
schedule = "office-hours"
"#,
        buildings = layout.buildings.len(),
    );
    for (area_id, area_name, _) in AREAS {
        let _ = write!(
            s,
            "\n[[zones]]\nid = \"{area_id}\"\nname = \"{area_name}\"\nparent = \"site\"\nkind = \"area\"\n"
        );
    }
    for b in &layout.buildings {
        let _ = write!(
            s,
            "\n[[zones]]\nid = \"{}\"\nname = \"{}号楼\"\nparent = \"{}\"\nkind = \"building\"\nnumber = \"{}\"\n",
            b.zone(),
            b.number,
            AREAS[b.area].0,
            b.number
        );
        for u in 1..=b.units {
            let _ = write!(
                s,
                "\n[[zones]]\nid = \"{}\"\nname = \"{}号楼{u}单元\"\nparent = \"{}\"\nkind = \"unit\"\nnumber = \"{u}\"\n",
                b.unit_zone(u),
                b.number,
                b.zone()
            );
        }
    }
    for (i, c) in layout.controllers.iter().enumerate() {
        let _ = write!(
            s,
            "\n[[controllers]]\nid = \"{}\"\nprofile = \"{}\"\ntransport = \"tcp\"\naddress = \"127.0.0.1:{}\"\nunit = 1\n",
            c.id,
            c.profile,
            FIRST_PORT as usize + i
        );
        if c.profile == "reader-controller" {
            let readers: Vec<String> = c
                .doors
                .iter()
                .flat_map(|d| &d.readers)
                .enumerate()
                .map(|(index, (id, _))| format!("  {{ index = {index}, id = \"{id}\" }},\n"))
                .collect();
            let _ = write!(s, "readers = [\n{}]\n", readers.concat());
        }
    }
    for c in &layout.controllers {
        for (channel, d) in c.doors.iter().enumerate() {
            let _ = write!(
                s,
                "\n[[doors]]\nid = \"{}\"\nname = \"{}\"\nkind = \"{}\"\noutside = \"{}\"\ninside = \"{}\"\ncontroller = \"{}\"\nchannel = {channel}\npulse_ms = 3000\nheld_open_after_s = 30\nverify = \"{}\"\n",
                d.id, d.name, d.kind, d.outside, d.inside, c.id, d.verify
            );
            if let Some(schedule) = d.schedule {
                let _ = writeln!(s, "schedule = \"{schedule}\"");
            }
            if d.contact_phone {
                let _ = writeln!(s, "contact_phone = \"{OFFICE_PHONE}\"");
            }
            let readers: Vec<String> = d
                .readers
                .iter()
                .map(|(id, dir)| format!("{{ id = \"{id}\", direction = \"{dir}\" }}"))
                .collect();
            let _ = writeln!(s, "readers = [{}]", readers.join(", "));
        }
    }
    // One fire-alarm input per area, on the area's first timed-relay controller (input
    // register 0x0010, bit 0, as the timed-relay profile defines it).
    for (area_id, _, _) in AREAS {
        let letter = &area_id[area_id.len() - 1..];
        let ctl = layout
            .controllers
            .iter()
            .find(|c| c.profile == "timed-relay" && c.id.starts_with(&format!("ctl-{letter}-")))
            .expect("every area has a timed-relay unit controller");
        let _ = write!(
            s,
            "\n[[fire_inputs]]\nid = \"fire-{letter}\"\ncontroller = \"{}\"\ntable = \"input\"\naddress = 0x10\nbit = 0\nzone = \"{area_id}\"\n",
            ctl.id
        );
    }
    let _ = write!(
        s,
        "\n# The demo office's key: its secret half is config/demo-office.key, for the demo only.\n[[issuers]]\nid = \"office-1\"\npublic_key = \"{office_public_key}\"\n"
    );
    s
}
