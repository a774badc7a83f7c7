//! `gatehouse import swipes` and `report occupancy` as an office uses them: the same file
//! imported twice, files imported newest first, a dry run, and a store holding only fifteen
//! minutes of records.

use gatehouse_occupancy::Report;
use gatehouse_occupancy::report::Status;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gatehouse(args: &[&str], paths: &[&Path]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().expect("the binary runs")
}

fn ok(out: Output, what: &str) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A simulated estate of 40 households over 10 nights: (directory, estate.toml).
fn simulate(dir: &Path) -> PathBuf {
    let sim = dir.join("sim");
    ok(
        gatehouse(
            &[
                "simulate",
                "--households",
                "40",
                "--days",
                "10",
                "--seed",
                "5",
                "--out",
            ],
            &[&sim],
        ),
        "simulate",
    );
    sim
}

/// The swipe file split at its middle row: (older half, newer half), each with the header.
fn halves(sim: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let all = std::fs::read_to_string(sim.join("swipes.csv")).unwrap();
    let mut lines = all.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let (a, b) = rows.split_at(rows.len() / 2);
    let write = |name: &str, rows: &[&str]| {
        let path = dir.join(name);
        std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        path
    };
    (write("older.csv", a), write("newer.csv", b))
}

fn store(sim: &Path, data: &Path) {
    ok(
        gatehouse(
            &["import", "residents"],
            &[
                &sim.join("residents.csv"),
                Path::new("--config"),
                &sim.join("estate.toml"),
                Path::new("--data-dir"),
                data,
            ],
        ),
        "import residents",
    );
}

fn import(sim: &Path, data: &Path, file: &Path, extra: &[&str]) -> String {
    let mut args = vec!["import", "swipes", "--skip-bad"];
    args.extend_from_slice(extra);
    ok(
        gatehouse(
            &args,
            &[
                file,
                Path::new("--config"),
                &sim.join("estate.toml"),
                Path::new("--data-dir"),
                data,
            ],
        ),
        "import swipes",
    )
}

/// The report with its default window, less what differs between stores by design
/// (events read: each import adds an admin record; the instant of the run).
fn report(sim: &Path, data: &Path) -> Report {
    let text = ok(
        gatehouse(
            &["report", "occupancy", "--format", "json"],
            &[
                Path::new("--config"),
                &sim.join("estate.toml"),
                Path::new("--data-dir"),
                data,
            ],
        ),
        "report occupancy",
    );
    let mut r: Report = serde_json::from_str(&text).unwrap();
    r.events_read = 0;
    r
}

#[test]
fn the_same_file_twice_and_files_in_reverse_order_make_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path());
    let (older, newer) = halves(&sim, dir.path());

    let first = dir.path().join("in-order");
    store(&sim, &first);
    let said = import(&sim, &first, &older, &[]);
    assert!(said.contains("0 were already in the log"), "{said}");
    import(&sim, &first, &newer, &[]);
    let again = import(&sim, &first, &older, &[]);
    assert!(
        again.starts_with("Imported 0 swipe records"),
        "a second import of the same file added records: {again}"
    );
    let dry = import(&sim, &first, &newer, &["--dry-run"]);
    assert!(
        dry.starts_with("Dry run: 0 of") && dry.contains("Nothing was written"),
        "{dry}"
    );

    let second = dir.path().join("newest-first");
    store(&sim, &second);
    import(&sim, &second, &newer, &[]);
    import(&sim, &second, &older, &[]);

    let (a, b) = (report(&sim, &first), report(&sim, &second));
    assert!(
        a.households.iter().any(|h| h.status == Status::Occupied),
        "the simulated estate has occupied households"
    );
    assert_eq!(a.window, b.window);
    assert_eq!(a.households, b.households);
    assert_eq!(a.anomalies, b.anomalies);
    assert_eq!(a.coverage, b.coverage);
    assert_eq!(a.head_counts, b.head_counts);
}

#[test]
fn fifteen_minutes_of_records_leave_every_household_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulate(dir.path());
    let all = std::fs::read_to_string(sim.join("swipes.csv")).unwrap();
    let mut lines = all.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    // Rows of one morning from 07:00 to 07:15 local time (the simulator writes +08:00).
    let morning: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|r| r.starts_with("2026-09-03T07:0") || r.starts_with("2026-09-03T07:14"))
        .collect();
    assert!(morning.len() >= 3, "too few rows in the quarter hour");
    let file = dir.path().join("quarter.csv");
    std::fs::write(&file, format!("{header}\n{}\n", morning.join("\n"))).unwrap();
    let data = dir.path().join("data");
    store(&sim, &data);
    import(&sim, &data, &file, &[]);
    let r = report(&sim, &data);
    assert!(
        !r.coverage.enough && r.coverage.nights == 0,
        "{:?}",
        r.coverage
    );
    let statuses: Vec<Status> = r.households.iter().map(|h| h.status).collect();
    assert!(
        statuses.iter().all(|&s| s == Status::Unknown),
        "{statuses:?}"
    );
    assert!(
        r.households
            .iter()
            .any(|h| h.evidence.contains("cover only 0 nights")),
        "{:?}",
        r.households.first()
    );
}
