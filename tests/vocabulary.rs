//! The estate's words mean the same at every edge: a card written in a residents file in any
//! accepted form is the card its reader sends (over MQTT or from a Modbus controller's
//! buffer), and "valid until" a day is the end of that day in the site's zone.

use gatehouse_core::estate::EstateData;
use gatehouse_core::io::Credential;
use gatehouse_core::{CardNumber, time};
use gatehouse_store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name)
}

/// Imports `csv` into a fresh store of the sample estate and returns what was stored.
fn import(csv: &str) -> EstateData {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("residents.csv");
    std::fs::write(&file, csv).unwrap();
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["import", "residents"])
        .arg(&file)
        .arg("--config")
        .arg(shipped("estate.toml"))
        .arg("--data-dir")
        .arg(&data)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Store::open(&data, "north-estate")
        .unwrap()
        .load_estate()
        .unwrap()
}

/// The card a reader sends, parsed as the MQTT reader adapter parses it.
fn from_reader(hex: &str) -> CardNumber {
    let payload = format!(r#"{{"id":"t","card":"{hex}"}}"#);
    match gatehouse_bus::readers::parse(payload.as_bytes())
        .unwrap()
        .credential
    {
        Credential::Card(card) => card,
        other => panic!("not a card: {other:?}"),
    }
}

#[test]
fn a_card_written_in_each_accepted_form_in_the_residents_file_matches_its_reader() {
    // Each row: how the office wrote the card, what its reader sends over MQTT, and the
    // 32-bit number a Modbus controller's buffer holds.
    let cards: [(&str, &str, u32); 7] = [
        ("A1B2C3", "00A1B2C3", 0x00A1_B2C3), // six digits: the spreadsheet dropped the zeros
        ("04a1b2c4", "04A1B2C4", 0x04A1_B2C4),
        ("0x04A1B2C5", "04a1b2c5", 0x04A1_B2C5),
        ("0077705926", "04A1B2C6", 0x04A1_B2C6), // ten decimal digits, as printed on the card
        ("161,45767", "00A1B2C7", 0x00A1_B2C7),  // Wiegand 26 facility,card
        ("1185,45768", "04A1B2C8", 0x04A1_B2C8), // Wiegand 34 facility,card
        ("04 A1 B2 C9", "04A1B2C9", 0x04A1_B2C9),
    ];
    let mut csv = String::from("household,name,phone,role,pass,valid_until\n");
    for (i, (written, _, _)) in cards.iter().enumerate() {
        csv.push_str(&format!(
            "1-1-101,住户{i},1380000{i:04},owner,\"{written}\",\n"
        ));
    }
    let estate = import(&csv);
    for (written, sent, read) in cards {
        let from_mqtt = from_reader(sent);
        assert_eq!(from_mqtt, CardNumber::from_u32(read), "{sent}");
        let holders: Vec<_> = estate
            .passes
            .iter()
            .filter(|p| p.card.as_ref() == Some(&from_mqtt))
            .collect();
        assert_eq!(
            holders.len(),
            1,
            "the card written '{written}' is the card its reader sends ({sent})"
        );
    }
}

#[test]
fn valid_until_a_day_in_the_residents_file_is_the_end_of_that_day_in_the_site_zone() {
    let estate = import(
        "household,name,phone,role,pass,valid_until\n\
         1-1-101,曾兰,13800009318,tenant,8EB8F02A,2027-03-31\n",
    );
    let until = estate.passes[0].valid_until.expect("a validity");
    assert_eq!(
        until.to_string(),
        "2027-03-31T15:59:59Z",
        "23:59:59 in Shanghai"
    );
    // The console reads the same text through the same rule (crates/web tests check that the
    // console stores what this function gives).
    let shanghai = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    assert_eq!(time::valid_until("2027-03-31", &shanghai), Ok(Some(until)));
}
