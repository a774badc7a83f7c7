//! `gatehouse import residents`, run as the office would: the sample files, bad rows, broken
//! files, a store another process holds.

use gatehouse_core::estate::EstateData;
use gatehouse_core::event::Kind;
use gatehouse_store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `gatehouse import residents FILE` on the sample estate with `data` as data directory.
fn import(file: &Path, data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["import", "residents"])
        .arg(file)
        .arg("--config")
        .arg(shipped("estate.toml"))
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("the binary runs")
}

fn estate(data: &Path) -> EstateData {
    Store::open(data, "north-estate")
        .unwrap()
        .load_estate()
        .unwrap()
}

/// The sample CSV's data rows (header excluded).
fn sample_rows() -> Vec<csv::StringRecord> {
    csv::Reader::from_path(shipped("residents.csv"))
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_sample_csv_imports_and_is_recorded_without_phones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = import(&shipped("residents.csv"), &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("Imported "),
        "{}",
        text(&out.stdout)
    );

    let rows = sample_rows();
    let e = estate(&data);
    assert_eq!(e.people.len(), rows.len());
    assert_eq!(
        e.passes.len(),
        rows.iter().filter(|r| !r[4].is_empty()).count()
    );
    let households: std::collections::HashSet<_> = rows.iter().map(|r| r[0].to_string()).collect();
    assert_eq!(e.households.len(), households.len());
    assert!(
        e.people.iter().any(|p| p.id == "R-000001") && e.passes.iter().any(|p| p.id == "P-000001")
    );

    let store = Store::open(&data, "north-estate").unwrap();
    let events = store.events(1, 100).unwrap();
    let admin = events
        .iter()
        .find(|ev| ev.kind == Kind::Admin)
        .expect("an admin event");
    assert_eq!(admin.action.as_deref(), Some("import_residents"));
    assert_eq!(admin.object.as_deref(), Some("residents.csv"));
    let json = serde_json::to_string(admin).unwrap();
    for p in e.people.iter().take(50) {
        assert!(
            !json.contains(&p.phone),
            "the event must not carry phones: {json}"
        );
    }
}

#[test]
fn the_sample_xlsx_with_chinese_headers_gives_the_same_estate_and_reimport_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (from_xlsx, from_csv) = (dir.path().join("x"), dir.path().join("c"));
    let out = import(&shipped("residents.xlsx"), &from_xlsx);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = import(&shipped("residents.csv"), &from_csv);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first = estate(&from_xlsx);
    assert_eq!(
        first,
        estate(&from_csv),
        "the XLSX and the CSV hold the same residents"
    );

    // Again, in either format: nothing changes.
    for file in ["residents.xlsx", "residents.csv"] {
        let out = import(&shipped(file), &from_xlsx);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with("Nothing to change in"),
            "{}",
            text(&out.stdout)
        );
        assert_eq!(
            estate(&from_xlsx),
            first,
            "re-importing {file} changed the store"
        );
    }
}

#[test]
fn three_bad_rows_import_nothing_and_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("residents.csv");
    let rows = sample_rows();
    let mut w = csv::Writer::from_path(&file).unwrap();
    w.write_record(["household", "name", "phone", "role", "pass", "valid_until"])
        .unwrap();
    let card_of_row_2 = rows[0][4].to_string();
    assert!(!card_of_row_2.is_empty());
    for (i, r) in rows.iter().enumerate() {
        let number = i + 2;
        let mut cells: Vec<String> = r.iter().map(str::to_string).collect();
        match number {
            10 => cells[2] = "1390000123".into(),
            20 => cells[0] = "18-2".into(),
            30 => cells[4] = card_of_row_2.clone(),
            _ => {}
        }
        w.write_record(&cells).unwrap();
    }
    w.flush().unwrap();

    let out = import(&file, &data);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let listed: Vec<&str> = err.lines().filter(|l| l.contains(": row ")).collect();
    assert_eq!(listed.len(), 3, "{err}");
    assert!(
        listed[0].contains("row 10: phone is not a mainland mobile number"),
        "{err}"
    );
    assert!(
        listed[1].contains("row 20: household '18-2' is not building-unit-room"),
        "{err}"
    );
    assert!(
        listed[2].contains(&format!("row 30: pass {card_of_row_2} is also on row 2")),
        "{err}"
    );
    assert!(err.contains("3 bad rows; nothing was imported"), "{err}");

    let listed: Vec<csv::StringRecord> =
        csv::Reader::from_path(dir.path().join("residents.csv.errors.csv"))
            .unwrap()
            .records()
            .map(Result::unwrap)
            .collect();
    let numbers: Vec<&str> = listed.iter().map(|r| &r[0]).collect();
    assert_eq!(numbers, ["10", "20", "30"]);
    assert_eq!(
        estate(&data),
        EstateData::default(),
        "nothing may be written"
    );
}

#[test]
fn broken_empty_and_unknown_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cases = [
        (
            "broken.xlsx",
            &b"this is not a workbook"[..],
            "not a readable spreadsheet file",
        ),
        ("empty.csv", &b""[..], "the file is empty"),
        (
            "columns.csv",
            "户号,姓名,手机号,住址\n18-2-501,王,13900001234,北京\n".as_bytes(),
            "unknown column header '住址'",
        ),
        (
            "missing.csv",
            &b"household,name\n18-2-501,W\n"[..],
            "required column 'phone/手机号' is missing",
        ),
        (
            "residents.txt",
            &b"household,name,phone\n"[..],
            "unknown file type",
        ),
    ];
    for (name, content, phrase) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, content).unwrap();
        let out = import(&file, &data);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(
            text(&out.stderr).contains(phrase),
            "{name}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_store_held_by_another_process_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _held = Store::open(&data, "north-estate").unwrap();
    let out = import(&shipped("residents.csv"), &data);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("in use by another gatehouse process"), "{err}");
}

/// The sample workbook with `edit` applied to its first worksheet's XML.
fn damaged_workbook(edit: impl Fn(&str) -> String) -> Vec<u8> {
    use std::io::{Read, Write};
    let bytes = std::fs::read(shipped("residents.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            content = edit(&String::from_utf8(content).unwrap()).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn damaged_workbooks_are_refused_with_a_message_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cases: [(&str, Box<dyn Fn(&str) -> String>, &str); 2] = [
        // A shared-string index past the table: the spreadsheet library indexes out of
        // bounds on it.
        (
            "strings.xlsx",
            Box::new(|xml: &str| {
                let at = xml.find("t=\"s\"").expect("the sample has shared strings");
                let v = at + xml[at..].find("<v>").unwrap() + 3;
                let end = v + xml[v..].find("</v>").unwrap();
                format!("{}9999999{}", &xml[..v], &xml[end..])
            }),
            "not a readable spreadsheet file",
        ),
        // A cell reference far down the sheet: refused before any grid is made for it.
        (
            "far.xlsx",
            Box::new(|xml: &str| xml.replacen("r=\"A2\"", "r=\"A1048000\"", 1)),
            "past the 100000 rows",
        ),
    ];
    for (name, edit, phrase) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, damaged_workbook(edit)).unwrap();
        let out = import(&file, &data);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(phrase), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn a_reader_that_closes_the_pipe_ends_the_command_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // More than a pipe holds, so that the command is still writing when the reader leaves.
    let store = Store::open(&data, "north-estate").unwrap();
    let events = (0..5_000)
        .map(|i| {
            let mut e = gatehouse_core::Event::new(Kind::Admin, "2026-11-22T08:03:12.418+08:00");
            e.action = Some("view".into());
            e.object = Some(format!("report {i}"));
            e
        })
        .collect();
    store.append_many(events).unwrap();
    drop(store);
    let estate = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend([
            "--config".into(),
            shipped("estate.toml").display().to_string(),
        ]);
        all.extend(["--data-dir".into(), data.display().to_string()]);
        all
    };
    for args in [
        estate(&["log", "export", "--format", "csv"]),
        estate(&["log", "export", "--format", "jsonl"]),
        estate(&["log", "tail", "-n", "5000"]),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Like `| head -c 10`: read a little, then close the pipe.
        let mut first = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
