//! A pass in someone else's hands: the records of its lent stretch are the borrower's, so the
//! household is judged on the other nights, and says so.
//!
//! The shared site (one building, two gates) with a unit door, two households, two weeks
//! (Monday 2 to Monday 16 November 2026):
//!
//! - 1-1-101: L comes home through the unit door every evening from the 2nd to the 4th and
//!   from the 14th on; from the 5th to the 13th L's card comes through the south gate by day
//!   and leaves again without ever going to the unit door (a borrower). L was home all along
//!   (without the card): the household is occupied, judged on the five nights L's card speaks
//!   for. Reading the borrower's visits as L's would make it occasional (5 of 14 nights).
//! - 1-1-102: M comes home every evening of the week before the window, and M's card is then
//!   in a borrower's hands for the whole window: nothing in the records speaks for the
//!   household, so it is `unknown`, not vacant.

mod common;

use gatehouse_occupancy::report::{AnomalyKind, Status};

/// The shared site with building 1's unit door.
const UNIT_DOOR: &str = r#"
[[doors]]
id = "unit-1"
name = "1号楼单元门"
kind = "pedestrian"
outside = "area-a"
inside = "bldg-1"
"#;

const ESTATE: &str = r#"{
  "households": [
    {"id": "1-1-101", "zone": "bldg-1"}, {"id": "1-1-102", "zone": "bldg-1"}
  ],
  "people": [
    {"id": "R-L", "name": "林涛", "phone": "13812340001", "household": "1-1-101", "role": "owner"},
    {"id": "R-M", "name": "马丽", "phone": "13812340002", "household": "1-1-102", "role": "owner"}
  ],
  "passes": [
    {"id": "P-L", "card": "1A1A1A1A", "holder": "R-L"},
    {"id": "P-M", "card": "2B2B2B2B", "holder": "R-M"}
  ]
}"#;

/// An evening at home: out at 08:00, back at 19:00 through the gate and the unit door.
fn home_day(out: &mut String, date: &str, card: &str) {
    out.push_str(&format!("{date} 08:00:00,{card},gate-north,out,grant\n"));
    out.push_str(&format!("{date} 19:00:00,{card},gate-north,in,grant\n"));
    out.push_str(&format!("{date} 19:03:00,{card},unit-1,in,grant\n"));
}

/// A borrower's visit: in through the south gate by day, out again, never to the unit door.
fn borrowed_day(out: &mut String, date: &str, card: &str) {
    out.push_str(&format!("{date} 10:00:00,{card},gate-south,in,grant\n"));
    out.push_str(&format!("{date} 11:30:00,{card},gate-south,out,grant\n"));
}

fn swipes_csv() -> String {
    let mut s = String::from("at,card,door,direction,result\n");
    for d in 26..=31 {
        home_day(&mut s, &format!("2026-10-{d}"), "2B2B2B2B");
    }
    for d in 2..=16 {
        let date = format!("2026-11-{d:02}");
        if (5..=13).contains(&d) {
            borrowed_day(&mut s, &date, "1A1A1A1A");
        } else {
            home_day(&mut s, &date, "1A1A1A1A");
        }
        if d <= 15 {
            borrowed_day(&mut s, &date, "2B2B2B2B");
        }
    }
    s
}

fn report() -> gatehouse_occupancy::Report {
    let config = format!("{}{UNIT_DOOR}", common::SITE);
    common::report(&config, ESTATE, &swipes_csv(), "2026-11-02", "2026-11-16")
}

#[test]
fn a_household_is_judged_without_the_nights_its_pass_was_lent() {
    let report = report();
    let lent: Vec<&str> = report
        .anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::LentPass)
        .map(|a| a.pass.as_str())
        .collect();
    assert!(lent.contains(&"P-L"), "{:#?}", report.anomalies);
    let l = report
        .households
        .iter()
        .find(|h| h.household == "1-1-101")
        .unwrap();
    assert_eq!(l.status, Status::Occupied, "{l:#?}");
    assert_eq!((l.nights, l.nights_present), (5, 5), "{l:#?}");
    assert!(
        l.evidence.contains(
            "pass P-L carried by someone else from 2026-11-05 to 2026-11-13 (gate entries that did not go on to the unit door): 9 nights judged without it"
        ),
        "{}",
        l.evidence
    );
    assert!(l.evidence_zh.contains("由他人使用"), "{}", l.evidence_zh);
}

#[test]
fn a_household_whose_only_pass_was_lent_all_along_is_unknown() {
    let report = report();
    let m = report
        .households
        .iter()
        .find(|h| h.household == "1-1-102")
        .unwrap();
    assert_eq!(m.status, Status::Unknown, "{m:#?}");
    assert!(
        m.evidence
            .starts_with("its passes were in someone else's hands on 14 of the 14 nights"),
        "{}",
        m.evidence
    );
}
