//! A small hand-made estate whose verdicts a person can check by reading the swipes below.
//!
//! One building, two gates, five households, one week (Monday 2 to Monday 9 November 2026,
//! seven nights, each judged at 03:00):
//!
//! - 1-1-101: A commutes and sleeps at home every night (Tuesday's morning exit was not
//!   recorded); B is registered but never swipes; K moved out and drops by twice by day.
//! - 1-1-102: E is registered with a pass that is never used: vacant.
//! - 1-1-201: C comes for the weekend only (Friday and Saturday nights): occasional.
//! - 1-1-202: F is registered without a pass: nothing to judge by, unknown.
//! - 1-1-301: G is registered alone, but two people come home on G's card every evening,
//!   and twice the card is read at both gates 40 seconds apart: over-occupied; a card the
//!   household shares, not a cloned one (both reads go home), so no anomaly.

mod common;

use gatehouse_occupancy::report::{AnomalyKind, Flag, Status};

const ESTATE: &str = r#"{
  "households": [
    {"id": "1-1-101", "zone": "bldg-1"}, {"id": "1-1-102", "zone": "bldg-1"},
    {"id": "1-1-201", "zone": "bldg-1"}, {"id": "1-1-202", "zone": "bldg-1"},
    {"id": "1-1-301", "zone": "bldg-1", "tenure": "tenant"}
  ],
  "people": [
    {"id": "R-A", "name": "王卫平", "phone": "13812345678", "household": "1-1-101", "role": "owner"},
    {"id": "R-B", "name": "王芳", "phone": "13812345679", "household": "1-1-101", "role": "family"},
    {"id": "R-K", "name": "王强", "phone": "13812345670", "household": "1-1-101", "role": "family"},
    {"id": "R-E", "name": "李娜", "phone": "13912345678", "household": "1-1-102", "role": "owner"},
    {"id": "R-C", "name": "张敏", "phone": "13712345678", "household": "1-1-201", "role": "owner"},
    {"id": "R-F", "name": "刘静", "phone": "13612345678", "household": "1-1-202", "role": "owner"},
    {"id": "R-G", "name": "陈磊", "phone": "13512345678", "household": "1-1-301", "role": "tenant"}
  ],
  "passes": [
    {"id": "P-A", "card": "0A0A0A0A", "holder": "R-A"},
    {"id": "P-B", "card": "0B0B0B0B", "holder": "R-B"},
    {"id": "P-K", "card": "0C0C0C0C", "holder": "R-K"},
    {"id": "P-E", "card": "0E0E0E0E", "holder": "R-E"},
    {"id": "P-C", "card": "0D0D0D0D", "holder": "R-C"},
    {"id": "P-G", "card": "0F0F0F0F", "holder": "R-G"}
  ]
}"#;

/// Times are local (Asia/Shanghai). Card 0A = A, 0C = K, 0D = C, 0F = G (two people).
const SWIPES: &str = "at,card,door,direction,result
2026-11-02 18:30:00,0F0F0F0F,gate-south,in,
2026-11-02 19:00:00,0A0A0A0A,gate-south,in,grant
2026-11-02 19:00:00,0F0F0F0F,gate-south,in,
2026-11-03 07:30:00,0F0F0F0F,gate-south,out,
2026-11-03 08:00:00,0A0A0A0A,gate-south,out,grant
2026-11-03 08:00:00,0F0F0F0F,gate-south,out,
2026-11-03 10:00:00,0C0C0C0C,gate-south,in,grant
2026-11-03 12:00:00,0C0C0C0C,gate-south,out,grant
2026-11-03 18:30:00,0F0F0F0F,gate-south,in,
2026-11-03 19:00:00,0A0A0A0A,gate-south,in,grant
2026-11-03 19:00:00,0F0F0F0F,gate-south,in,
2026-11-04 07:30:00,0F0F0F0F,gate-south,out,
2026-11-04 08:00:00,0F0F0F0F,gate-south,out,
2026-11-04 18:30:00,0F0F0F0F,gate-south,in,
2026-11-04 19:00:00,0F0F0F0F,gate-south,in,
2026-11-04 19:30:00,0A0A0A0A,gate-north,in,grant
2026-11-05 07:30:00,0F0F0F0F,gate-south,out,
2026-11-05 08:00:00,0A0A0A0A,gate-south,out,grant
2026-11-05 08:00:00,0F0F0F0F,gate-south,out,
2026-11-05 14:00:00,0C0C0C0C,gate-north,in,grant
2026-11-05 15:30:00,0C0C0C0C,gate-north,out,grant
2026-11-05 18:30:00,0F0F0F0F,gate-south,in,
2026-11-05 19:00:00,0A0A0A0A,gate-south,in,grant
2026-11-05 19:00:00,0F0F0F0F,gate-north,in,
2026-11-05 19:00:40,0F0F0F0F,gate-south,in,
2026-11-06 07:30:00,0F0F0F0F,gate-south,out,
2026-11-06 08:00:00,0A0A0A0A,gate-south,out,grant
2026-11-06 08:00:00,0F0F0F0F,gate-south,out,
2026-11-06 18:30:00,0F0F0F0F,gate-south,in,
2026-11-06 19:00:00,0A0A0A0A,gate-south,in,grant
2026-11-06 19:00:00,0F0F0F0F,gate-north,in,
2026-11-06 19:00:40,0F0F0F0F,gate-south,in,
2026-11-06 20:00:00,0D0D0D0D,gate-north,in,grant
2026-11-07 07:30:00,0F0F0F0F,gate-south,out,
2026-11-07 08:00:00,0F0F0F0F,gate-south,out,
2026-11-07 10:00:00,0A0A0A0A,gate-south,out,grant
2026-11-07 16:00:00,0A0A0A0A,gate-south,in,grant
2026-11-07 18:30:00,0F0F0F0F,gate-south,in,
2026-11-07 19:00:00,0F0F0F0F,gate-south,in,
2026-11-08 07:30:00,0F0F0F0F,gate-south,out,
2026-11-08 08:00:00,0F0F0F0F,gate-south,out,
2026-11-08 15:00:00,0D0D0D0D,gate-north,out,grant
2026-11-08 18:30:00,0F0F0F0F,gate-south,in,
2026-11-08 19:00:00,0F0F0F0F,gate-south,in,
2026-11-09 07:30:00,0F0F0F0F,gate-south,out,
2026-11-09 08:00:00,0A0A0A0A,gate-south,out,grant
2026-11-09 08:00:00,0F0F0F0F,gate-south,out,
";

fn report() -> gatehouse_occupancy::Report {
    common::report(common::SITE, ESTATE, SWIPES, "2026-11-02", "2026-11-09")
}

#[test]
fn verdicts_match_what_the_swipes_say() {
    let r = report();
    let h = |id: &str| {
        r.households
            .iter()
            .find(|h| h.household == id)
            .unwrap()
            .clone()
    };

    let a = h("1-1-101");
    assert_eq!(
        (
            a.status,
            a.nights_present,
            a.nights,
            a.registered,
            a.estimated_residents
        ),
        (Status::Occupied, 7, 7, 3, 1)
    );
    assert_eq!(
        a.flags,
        vec![
            Flag::FewerThanRegistered,
            Flag::GhostMember,
            Flag::MovedOutStillActive
        ]
    );
    assert_eq!(
        a.evidence,
        "1 of 3 passes at home on 7 of 7 nights (6 by recorded entries and exits alone, at most 7); member 2 (R-B) never seen; pass P-K seen by day only"
    );

    let e = h("1-1-102");
    assert_eq!(
        (e.status, e.nights_present, e.estimated_residents),
        (Status::Vacant, 0, 0)
    );
    assert!(e.flags.is_empty(), "{:?}", e.flags);

    let c = h("1-1-201");
    assert_eq!(
        (c.status, c.nights_present, c.estimated_residents),
        (Status::Occasional, 2, 1)
    );

    let f = h("1-1-202");
    assert_eq!(f.status, Status::Unknown);
    assert_eq!(
        f.evidence,
        "no passes to judge by; member 1 (R-F) has no pass"
    );

    let g = h("1-1-301");
    assert_eq!(
        (
            g.status,
            g.nights_present,
            g.registered,
            g.estimated_residents
        ),
        (Status::Occupied, 7, 1, 2)
    );
    assert_eq!(g.flags, vec![Flag::OverOccupied]);
    assert!(
        g.evidence.contains("pass P-G used by about 2 people"),
        "{}",
        g.evidence
    );
}

#[test]
fn anomalies_name_the_passes_and_say_why() {
    let r = report();
    let kinds = |pass: &str| -> Vec<AnomalyKind> {
        r.anomalies
            .iter()
            .filter(|a| a.pass == pass)
            .map(|a| a.kind)
            .collect()
    };
    let g = kinds("P-G");
    assert!(g.is_empty(), "a shared card is not cloned: {g:?}");
    assert_eq!(kinds("P-K"), vec![AnomalyKind::MovedOutStillActive]);
    assert!(
        kinds("P-A").is_empty() && kinds("P-C").is_empty(),
        "{:?}",
        r.anomalies
    );
}

#[test]
fn inside_now_is_who_entered_and_has_not_left() {
    let r = report();
    // The last read is Monday 08:00; A and G's two users have left, C left on Sunday.
    assert_eq!(r.as_of.as_deref(), Some("2026-11-09T08:00:00.000+08:00"));
    assert!(r.inside_now.is_empty(), "{:?}", r.inside_now);
    // At 03:00 on Tuesday the estate held A and G's pass (counted once per pass).
    let tuesday = r
        .head_counts
        .iter()
        .find(|h| h.at == "2026-11-03T03:00:00.000+08:00" && h.zone == "area-a")
        .unwrap();
    assert_eq!(tuesday.count, 2);
}
