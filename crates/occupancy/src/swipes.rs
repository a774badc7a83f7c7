//! Swipe records from other systems (`docs/interfaces.md#files-and-commands`, "Swipe records import"): CSV with
//! columns `at`, `card`, `door`, `direction`, `result`, turned into access events with
//! method `import`. Every bad row is listed with its row number and reason; whether the good
//! rows are used anyway is the caller's choice (`--skip-bad`).

use gatehouse_core::event::{Decision, Direction, Event, Kind, Method, Reason};
use jiff::tz::TimeZone;

use crate::OccupancyError;
use crate::site::Site;

/// A row that cannot be imported. `row` counts the header as row 1, as a spreadsheet does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    pub row: usize,
    pub reason: String,
}

/// The events of the good rows, and every bad row.
#[derive(Debug, Default)]
pub struct Parsed {
    pub events: Vec<Event>,
    pub bad: Vec<BadRow>,
}

/// Header names accepted for each column, English and Chinese.
const COLUMNS: [(&str, &[&str]); 5] = [
    ("at", &["at", "time", "时间"]),
    ("card", &["card", "卡号"]),
    ("door", &["door", "门"]),
    ("direction", &["direction", "方向"]),
    ("result", &["result", "结果"]),
];

/// Reads swipe records from `input`, checking doors and cards against the estate.
pub fn parse(input: impl std::io::Read, site: &Site) -> Result<Parsed, OccupancyError> {
    let (reader, index) = open(input)?;
    let mut out = Parsed::default();
    read_rows(reader, index, site, |row, result| match result {
        Ok(e) => out.events.push(e),
        Err(reason) => out.bad.push(BadRow { row, reason }),
    });
    Ok(out)
}

/// Like [`parse`], but hands each row to `f` as it is read, so that files of millions of
/// records are never held in memory.
pub fn for_each(
    input: impl std::io::Read,
    site: &Site,
    f: impl FnMut(usize, Result<Event, String>),
) -> Result<(), OccupancyError> {
    let (reader, index) = open(input)?;
    read_rows(reader, index, site, f);
    Ok(())
}

type Columns = [Option<usize>; 5];

fn read_rows<R: std::io::Read>(
    mut reader: csv::Reader<R>,
    index: Columns,
    site: &Site,
    mut f: impl FnMut(usize, Result<Event, String>),
) {
    let mut record = csv::StringRecord::new();
    let mut row = 1;
    loop {
        row += 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let field = |i: usize| index[i].and_then(|c| record.get(c)).unwrap_or("");
                f(
                    row,
                    event(field(0), field(1), field(2), field(3), field(4), site),
                );
            }
            Err(e) => f(row, Err(format!("unreadable CSV: {e}"))),
        }
    }
}

/// Reads the header and finds the columns.
fn open<R: std::io::Read>(input: R) -> Result<(csv::Reader<R>, Columns), OccupancyError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| OccupancyError::Input(format!("the swipe file has no readable header row ({e}); the first row must name the columns at, card, door, direction, result")))?
        .clone();
    let mut index = [None; 5];
    for (i, (_, names)) in COLUMNS.iter().enumerate() {
        index[i] = header.iter().position(|h| {
            names
                .iter()
                .any(|n| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(n))
        });
    }
    for (i, (name, _)) in COLUMNS.iter().enumerate().take(3) {
        if index[i].is_none() {
            return Err(OccupancyError::Input(format!(
                "the swipe file has no '{name}' column; the header must name at, card, door (direction and result may be left out)"
            )));
        }
    }
    Ok((reader, index))
}

/// Parses `at`: RFC 3339, or `YYYY-MM-DD HH:MM:SS` in the site's zone.
pub fn parse_at(at: &str, tz: &TimeZone) -> Option<jiff::Timestamp> {
    if let Ok(ts) = at.parse::<jiff::Timestamp>() {
        return Some(ts);
    }
    let civil: jiff::civil::DateTime = at.parse().ok()?;
    civil.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

fn event(
    at: &str,
    card: &str,
    door: &str,
    direction: &str,
    result: &str,
    site: &Site,
) -> Result<Event, String> {
    let ts = parse_at(at, &site.tz)
        .ok_or_else(|| format!("time '{at}' is neither RFC 3339 nor YYYY-MM-DD HH:MM:SS"))?;
    let door_idx = site
        .door(door)
        .ok_or_else(|| format!("door '{door}' is not in the configuration"))?;
    let pass = site.pass_by_card(card).ok_or_else(|| {
        if card.is_empty() {
            "no card number".to_string()
        } else {
            format!("card '{card}' is held by no pass")
        }
    })?;
    let direction = match direction.to_ascii_lowercase().as_str() {
        "in" | "进" => Some(Direction::In),
        "out" | "出" => Some(Direction::Out),
        "" => None,
        other => return Err(format!("direction '{other}' is not in, out or empty")),
    };
    let decision = match result.to_ascii_lowercase().as_str() {
        "" | "grant" => Decision::Grant,
        "deny" => Decision::Deny,
        other => return Err(format!("result '{other}' is not grant, deny or empty")),
    };
    let info = &site.passes[pass as usize];
    let mut e = Event::new(Kind::Access, gatehouse_core::time::rfc3339(ts, &site.tz));
    e.door = Some(site.doors[door_idx as usize].id.clone());
    e.direction = direction;
    e.pass = Some(info.id.clone());
    e.person = info.holder.map(|h| site.people[h as usize].id.clone());
    e.household = info
        .household
        .or(info.visitor_host)
        .map(|h| site.households[h as usize].id.clone());
    e.method = Some(Method::Import);
    e.decision = Some(decision);
    if decision == Decision::Grant {
        e.reason = Some(Reason::Granted);
    } else {
        // The other system did not say why; no reason code is invented for it.
        e.detail = Some("refused by the source system; its reason was not recorded".into());
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{SimConfig, Simulation};

    fn site() -> (Site, String) {
        let sim = Simulation::new(SimConfig::new(4, 2, 1, 0.0));
        let card = sim.estate.passes[0].card.clone().unwrap();
        (
            Site::new(&sim.config, &sim.estate).unwrap(),
            card.to_string(),
        )
    }

    #[test]
    fn good_rows_become_import_events_and_bad_rows_are_listed() {
        let (site, card) = site();
        let csv = format!(
            "at,card,door,direction,result\n\
             2026-09-01T08:00:00+08:00,{card},gate-north,in,grant\n\
             2026-09-01 18:30:00,{},gate-south,out,\n\
             yesterday,{card},gate-north,in,grant\n\
             2026-09-01 19:00:00,{card},gate-nowhere,in,grant\n\
             2026-09-01 19:00:00,DEADBEEF99,gate-north,in,grant\n\
             2026-09-01 19:05:00,{card},gate-north,sideways,grant\n",
            card.to_lowercase()
        );
        let parsed = parse(csv.as_bytes(), &site).unwrap();
        assert_eq!(parsed.events.len(), 2);
        let e = &parsed.events[1];
        assert_eq!(e.at, "2026-09-01T18:30:00.000+08:00");
        assert_eq!(e.method, Some(Method::Import));
        assert_eq!(e.direction, Some(Direction::Out));
        assert_eq!(e.decision, Some(Decision::Grant));
        let rows: Vec<usize> = parsed.bad.iter().map(|b| b.row).collect();
        assert_eq!(rows, vec![4, 5, 6, 7]);
        assert!(parsed.bad[0].reason.contains("yesterday"));
        assert!(parsed.bad[1].reason.contains("gate-nowhere"));
        assert!(parsed.bad[2].reason.contains("DEADBEEF99"));
        assert!(parsed.bad[3].reason.contains("sideways"));
    }

    #[test]
    fn a_file_without_a_door_column_is_refused_with_the_fix() {
        let (site, _) = site();
        let err = parse("at,card\n".as_bytes(), &site)
            .unwrap_err()
            .to_string();
        assert!(err.contains("'door'"), "{err}");
    }
}

/// Why an import was refused: the file had bad rows and `--skip-bad` was not given.
#[derive(Debug, thiserror::Error)]
#[error("{} bad rows in the swipe file; nothing was imported. Fix the rows listed, or import the good rows only with --skip-bad", .0.len())]
pub struct Refused(pub Vec<BadRow>);

/// What an import appends: every event when all rows are good; with `skip_bad`, the good
/// rows' events; otherwise nothing, and the bad rows in the refusal.
pub fn to_import(parsed: Parsed, skip_bad: bool) -> Result<Vec<gatehouse_core::Event>, Refused> {
    if parsed.bad.is_empty() || skip_bad {
        Ok(parsed.events)
    } else {
        Err(Refused(parsed.bad))
    }
}

#[cfg(test)]
mod import_tests {
    use super::*;

    fn parsed() -> Parsed {
        Parsed {
            events: vec![Event::new(Kind::Access, "2026-09-01T08:00:00.000+08:00")],
            bad: vec![BadRow {
                row: 3,
                reason: "door 'x' is not in the configuration".into(),
            }],
        }
    }

    #[test]
    fn bad_rows_stop_the_import_unless_skipped() {
        let refused = to_import(parsed(), false).unwrap_err();
        assert_eq!(refused.0[0].row, 3);
        assert!(refused.to_string().contains("--skip-bad"));
        assert_eq!(to_import(parsed(), true).unwrap().len(), 1);
        let clean = Parsed {
            bad: Vec::new(),
            ..parsed()
        };
        assert_eq!(to_import(clean, false).unwrap().len(), 1);
    }
}
