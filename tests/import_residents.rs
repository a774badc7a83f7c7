//! `gatehouse import residents`, run as the office would: the sample files, bad rows, broken
//! files, a store another process holds; files as estate offices make them (a title above the
//! header, their own column names, split building / unit / room columns, full-width digits,
//! CSV saved by Chinese Excel in GBK); a configuration shaped like the contract's example
//! (zones with id, name and parent only).

mod support;

use gatehouse_core::estate::{EstateData, Role};
use gatehouse_core::event::Kind;
use gatehouse_store::Store;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::cli::{shipped, text};

/// Runs `gatehouse import residents FILE` on the sample estate with `data` as data directory.
fn import(file: &Path, data: &Path) -> Output {
    import_with(file, &shipped("estate.toml"), data)
}

/// Runs `gatehouse import residents FILE` on the estate of `config`.
fn import_with(file: &Path, config: &Path, data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["import", "residents"])
        .arg(file)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("the binary runs")
}

fn estate(data: &Path) -> EstateData {
    estate_of(data, "north-estate")
}

fn estate_of(data: &Path, site: &str) -> EstateData {
    Store::open(data, site).unwrap().load_estate().unwrap()
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
        listed[1].contains("row 20: household is not building-unit-room"),
        "{err}"
    );
    assert!(
        listed[2].contains(&format!("row 30: pass {card_of_row_2} is also on row 2")),
        "{err}"
    );
    assert!(err.contains("3 bad rows; nothing was imported"), "{err}");

    let errors_file = dir.path().join("residents.csv.errors.csv");
    assert!(
        std::fs::read(&errors_file)
            .unwrap()
            .starts_with(b"\xef\xbb\xbfrow,household,name,reason"),
        "a UTF-8 BOM, so that Excel shows Chinese names"
    );
    let listed: Vec<csv::StringRecord> = csv::Reader::from_path(&errors_file)
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

/// A cell of the office sheet: text, or a number / date as Excel keeps them.
enum Cell {
    T(&'static str),
    N(f64),
    D(u16, u8, u8),
}
use Cell::{D, N, T};

const TITLE: &str = "新门口社区住户登记表";
const NOTE: &str = "填表单位：东片区居委会　　日期：2026年11月20日";
const HEADER: [&str; 10] = [
    "序号",
    "楼号",
    "单元",
    "房号",
    "姓名",
    "手机",
    "身份",
    "门禁卡号",
    "有效期",
    "备注",
];

/// The "typical office sheet": numbered rows, split building / unit / room written three
/// ways, phones as numbers, with spaces or in full-width digits, the office's role words, and
/// two people of one name in one flat (father and son).
fn office_rows() -> Vec<[Cell; 10]> {
    vec![
        [
            N(1.0),
            T("1号楼"),
            T("1单元"),
            T("101室"),
            T("曾兰"),
            N(13800009318.0),
            T("租户"),
            T("8EB8F02A"),
            D(2027, 6, 30),
            T(""),
        ],
        [
            N(2.0),
            T("１"),
            T("１"),
            T("１０１"),
            T("吴刚"),
            T("１８６００００５５９６"),
            T("租客"),
            T("Ｆ８Ｄ４８７３５"),
            T("2028/06/30"),
            T("合租"),
        ],
        [
            N(3.0),
            N(1.0),
            N(1.0),
            N(102.0),
            T("杨勇超"),
            T("138 0000 8524"),
            T("业主"),
            T("44351ED2"),
            T(""),
            T(""),
        ],
        [
            N(4.0),
            N(1.0),
            N(1.0),
            N(102.0),
            T("杨建宏"),
            T("139-0000-1399"),
            T("家属"),
            T("23959DF4"),
            T(""),
            T("父"),
        ],
        [
            N(5.0),
            N(1.0),
            N(1.0),
            N(102.0),
            T("杨建宏"),
            T("13900001400"),
            T("resident"),
            T(""),
            T(""),
            T("子，同名"),
        ],
        [
            N(6.0),
            T("1栋"),
            T("2"),
            T("101"),
            T("何静桂"),
            T("18600004780"),
            T("住户"),
            T(""),
            T(""),
            T(""),
        ],
    ]
}

fn cell_text(c: &Cell) -> String {
    match c {
        T(t) => t.to_string(),
        N(n) => format!("{n}"),
        D(y, m, d) => format!("{y}-{m:02}-{d:02}"),
    }
}

/// The sheet as Excel saves it: the title merged across the top, a blank row, a note row.
fn office_xlsx(path: &Path) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .merge_range(0, 0, 0, 9, TITLE, &Format::new())
        .unwrap();
    sheet.write_string(2, 0, NOTE).unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(3, c as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (r, row) in office_rows().iter().enumerate() {
        let r = 4 + r as u32;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                T("") => {}
                T(t) => {
                    sheet.write_string(r, c, *t).unwrap();
                }
                N(n) => {
                    sheet.write_number(r, c, *n).unwrap();
                }
                D(y, m, d) => {
                    let at = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                    sheet.write_datetime_with_format(r, c, &at, &date).unwrap();
                }
            }
        }
    }
    // A stray cell right of the header, as sheets have them.
    sheet.write_string(12, 14, "").unwrap();
    book.save(path).unwrap();
}

/// The sheet saved by Chinese Excel as "CSV (逗号分隔)": GBK, CRLF, no BOM.
fn office_gbk_csv(path: &Path) {
    let mut lines = vec![
        format!("{TITLE},,,,,,,,,"),
        ",,,,,,,,,".to_string(),
        format!("{NOTE},,,,,,,,,"),
        HEADER.join(","),
    ];
    for row in office_rows() {
        lines.push(row.iter().map(cell_text).collect::<Vec<_>>().join(","));
    }
    let csv = lines.join("\r\n") + "\r\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&csv);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_typical_office_sheet_imports_from_xlsx_and_from_gbk_csv_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (xlsx, csv) = (
        dir.path().join("登记表.xlsx"),
        dir.path().join("登记表.csv"),
    );
    office_xlsx(&xlsx);
    office_gbk_csv(&csv);
    let config = shipped("estate.toml");
    let (from_xlsx, from_csv) = (dir.path().join("x"), dir.path().join("c"));
    for (file, data) in [(&xlsx, &from_xlsx), (&csv, &from_csv)] {
        let out = import_with(file, &config, data);
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            text(&out.stderr)
        );
    }
    let e = estate(&from_xlsx);
    assert_eq!(e, estate(&from_csv), "XLSX and GBK CSV alike");

    let mut people: Vec<(&str, &str, &str, Role)> = e
        .people
        .iter()
        .map(|p| {
            (
                p.household.as_deref().unwrap(),
                p.name.as_str(),
                p.phone.as_str(),
                p.role,
            )
        })
        .collect();
    people.sort_by_key(|p| (p.0, p.1, p.2));
    assert_eq!(
        people,
        [
            ("1-1-101", "吴刚", "18600005596", Role::Tenant),
            ("1-1-101", "曾兰", "13800009318", Role::Tenant),
            ("1-1-102", "杨勇超", "13800008524", Role::Owner),
            ("1-1-102", "杨建宏", "13900001399", Role::Family),
            ("1-1-102", "杨建宏", "13900001400", Role::Resident),
            ("1-2-101", "何静桂", "18600004780", Role::Resident),
        ]
    );
    let mut zones: Vec<(&str, &str)> = e
        .households
        .iter()
        .map(|h| (h.id.as_str(), h.zone.as_str()))
        .collect();
    zones.sort();
    assert_eq!(
        zones,
        [
            ("1-1-101", "bldg-1-1"),
            ("1-1-102", "bldg-1-1"),
            ("1-2-101", "bldg-1-2")
        ]
    );
    let mut cards: Vec<&str> = e.passes.iter().filter_map(|p| p.card.as_deref()).collect();
    cards.sort();
    assert_eq!(cards, ["23959DF4", "44351ED2", "8EB8F02A", "F8D48735"]);

    // The other format into the same store: nothing changes.
    let out = import_with(&csv, &config, &from_xlsx);
    assert!(
        text(&out.stdout).starts_with("Nothing to change in"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A configuration as the contract shows one: zones with id, name and parent only, no unit
/// zones (but under building 21), no kind or number.
fn spec_estate() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec-estate.toml")
}

/// Residents of `buildings`, units 1–3, floors 1–6, two flats a floor, two people a flat.
fn spec_residents(path: &Path, buildings: &[u32]) -> usize {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(["户号", "姓名", "手机号", "身份"]).unwrap();
    let mut n = 0;
    for b in buildings {
        for u in 1..=3 {
            for floor in 1..=6 {
                for flat in 1..=2 {
                    for member in 0..2 {
                        n += 1;
                        let household = format!("{b}-{u}-{}", floor * 100 + flat);
                        let name = if member == 0 { "王伟" } else { "李娜" };
                        let phone = format!("139{:08}", n);
                        let role = if member == 0 { "业主" } else { "家属" };
                        w.write_record([household.as_str(), name, &phone, role])
                            .unwrap();
                    }
                }
            }
        }
    }
    w.flush().unwrap();
    n
}

#[test]
fn a_spec_shaped_configuration_imports_its_residents() {
    let dir = tempfile::tempdir().unwrap();
    let config = spec_estate();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("check-config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let file = dir.path().join("residents.csv");
    let rows = spec_residents(&file, &[18, 19]);
    let data = dir.path().join("data");
    let out = import_with(&file, &config, &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let e = estate_of(&data, "spec-estate");
    assert_eq!(e.people.len(), rows);
    assert_eq!(e.households.len(), rows / 2);
    let zone_of_building = |id: &str| {
        if id.starts_with("18-") {
            "bldg-18"
        } else {
            "b19"
        }
    };
    assert!(
        e.households
            .iter()
            .all(|h| h.zone == zone_of_building(&h.id)),
        "every household in its building's zone (18号楼 by name, 19 by name)"
    );
    let out = import_with(&file, &config, &data);
    assert!(
        text(&out.stdout).starts_with("Nothing to change in"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(estate_of(&data, "spec-estate"), e);
}

#[test]
fn rows_with_one_problem_are_one_line_with_their_count_and_all_rows_in_the_errors_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = spec_estate();
    let file = dir.path().join("residents.csv");
    // Building 20 is not in the configuration: 72 rows with one problem.
    let rows = spec_residents(&file, &[18, 20]);
    let data = dir.path().join("data");
    let out = import_with(&file, &config, &data);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one problem line and the summary: {err}");
    assert!(
        lines[0].contains("72 rows (74, 75, 76,")
            && lines[0].contains("and 62 more): building 20 is not in the configuration"),
        "{err}"
    );
    assert!(
        lines[1].contains("72 bad rows; nothing was imported"),
        "{err}"
    );
    let listed = csv::Reader::from_path(dir.path().join("residents.csv.errors.csv"))
        .unwrap()
        .records()
        .count();
    assert_eq!(listed, rows / 2, "every bad row is in the errors file");
    assert_eq!(estate_of(&data, "spec-estate"), EstateData::default());
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
    type Edit = Box<dyn Fn(&str) -> String>;
    let cases: [(&str, Edit, &str); 2] = [
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

/// A workbook the fuzzer found (`scripts/fuzz`, harness `residents_xlsx`) on which the
/// spreadsheet library panics: refused with a message, never a crash.
#[test]
fn the_fuzzers_panicking_workbook_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("found.xlsx");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz/residents-xlsx-calamine-panic.xlsx"),
        &file,
    )
    .unwrap();
    let out = import(&file, &dir.path().join("data"));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("found.xlsx"),
        "the message names the file: {err}"
    );
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
