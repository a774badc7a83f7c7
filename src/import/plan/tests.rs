//! The residents import's rules, row by row.

use super::*;

const CONFIG: &str = r#"
[site]
id = "t"
name = "T"
[[zones]]
id = "area-a"
name = "A"
parent = "site"
[[zones]]
id = "bldg-18"
name = "18"
parent = "area-a"
kind = "building"
number = "18"
[[zones]]
id = "bldg-18-2"
name = "18-2"
parent = "bldg-18"
kind = "unit"
number = "2"
"#;

fn config() -> Config {
    toml::from_str(CONFIG).unwrap()
}

/// A row numbered as in a spreadsheet (`n` counts the header as row 1).
fn row(
    n: usize,
    household: &str,
    name: &str,
    phone: &str,
    role: &str,
    pass: &str,
    valid_until: &str,
) -> Row {
    Row {
        number: n,
        household: household.into(),
        name: name.into(),
        phone: phone.into(),
        role: role.into(),
        pass: pass.into(),
        valid_until: valid_until.into(),
    }
}

fn good_rows() -> Vec<Row> {
    vec![
        row(
            2,
            "18-2-501",
            "王卫平",
            "139 0000 1234",
            "业主",
            "04a1b2c3",
            "",
        ),
        row(3, "18-2-501", "李娜", "13900001235", "family", "", ""),
        row(
            4,
            "18-2-502",
            "张强",
            "+86 13800001236",
            "tenant",
            "1A2B3C4D",
            "2027-03-31",
        ),
    ]
}

/// The stored data after applying a plan's changes (the store upserts by id).
fn apply(existing: &EstateData, plan: &Plan) -> EstateData {
    fn upsert<T: Clone>(old: &[T], new: &[T], id: impl Fn(&T) -> &str) -> Vec<T> {
        let mut out: Vec<T> = old.to_vec();
        for n in new {
            match out.iter_mut().find(|o| id(o) == id(n)) {
                Some(o) => *o = n.clone(),
                None => out.push(n.clone()),
            }
        }
        out
    }
    EstateData {
        households: upsert(&existing.households, &plan.changes.households, |h| &h.id),
        people: upsert(&existing.people, &plan.changes.people, |p| &p.id),
        passes: upsert(&existing.passes, &plan.changes.passes, |p| &p.id),
    }
}

#[test]
fn a_first_import_adds_people_passes_and_households_in_file_order() {
    let plan = plan(&config(), &EstateData::default(), &good_rows()).unwrap();
    let ids: Vec<_> = plan
        .changes
        .people
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("R-000001", "王卫平"),
            ("R-000002", "李娜"),
            ("R-000003", "张强")
        ]
    );
    assert_eq!(plan.changes.people[0].phone, "13900001234");
    assert_eq!(plan.changes.people[0].role, Role::Owner);
    let passes: Vec<_> = plan
        .changes
        .passes
        .iter()
        .map(|p| (p.id.as_str(), p.card.as_deref(), p.holder.as_str()))
        .collect();
    assert_eq!(
        passes,
        [
            ("P-000001", Some("04A1B2C3"), "R-000001"),
            ("P-000002", Some("1A2B3C4D"), "R-000003")
        ]
    );
    let until = plan.changes.passes[1].valid_until.unwrap();
    assert_eq!(
        until.to_string(),
        "2027-03-31T15:59:59Z",
        "the end of the day in the site's zone, Asia/Shanghai"
    );
    let households: Vec<_> = plan
        .changes
        .households
        .iter()
        .map(|h| (h.id.as_str(), h.zone.as_str(), h.tenure))
        .collect();
    assert_eq!(
        households,
        [
            ("18-2-501", "bldg-18-2", Tenure::Owner),
            ("18-2-502", "bldg-18-2", Tenure::Tenant)
        ]
    );
    assert_eq!(plan.counts.people_added, 3);
    assert_eq!(plan.counts.passes_added, 2);
}

#[test]
fn importing_the_same_rows_again_changes_nothing() {
    let first = plan(&config(), &EstateData::default(), &good_rows()).unwrap();
    let stored = apply(&EstateData::default(), &first);
    let again = plan(&config(), &stored, &good_rows()).unwrap();
    assert!(!again.changes_anything(), "{:?}", again.changes);
    assert_eq!(again.counts.people_unchanged, 3);
}

#[test]
fn rows_for_known_people_update_them_and_keep_their_ids() {
    let stored = apply(
        &EstateData::default(),
        &plan(&config(), &EstateData::default(), &good_rows()).unwrap(),
    );
    let mut rows = good_rows();
    rows[0].phone = "13900009876".into();
    rows[2].pass = "99AA".into();
    rows.push(row(5, "18-2-502", "新人", "13900004444", "", "", ""));
    let p = plan(&config(), &stored, &rows).unwrap();
    assert_eq!(p.counts.people_updated, 1);
    assert_eq!(p.changes.people[0].id, "R-000001");
    assert_eq!(p.changes.people[0].phone, "13900009876");
    assert_eq!(
        p.changes.people[1].id, "R-000004",
        "new people get the next free id"
    );
    assert_eq!(p.changes.passes.len(), 1);
    assert_eq!(
        (
            p.changes.passes[0].id.as_str(),
            p.changes.passes[0].card.as_deref()
        ),
        ("P-000002", Some("000099AA"))
    );
}

#[test]
fn every_bad_row_is_listed_with_its_reason() {
    let mut rows = good_rows();
    rows.push(row(5, "18-2", "赵", "13900000001", "", "", ""));
    rows.push(row(6, "19-1-101", "钱", "13900000002", "", "", ""));
    rows.push(row(7, "18-3-101", "孙", "13900000003", "", "", ""));
    rows.push(row(8, "18-2-601", "李", "99999", "", "", ""));
    rows.push(row(9, "18-2-601", "周", "13900000004", "boss", "", ""));
    rows.push(row(10, "18-2-601", "吴", "13900000005", "", "XYZ", ""));
    rows.push(row(
        11,
        "18-2-601",
        "郑",
        "13900000006",
        "",
        "",
        "31.3.2027",
    ));
    rows.push(row(12, "18-2-501", "王卫平", "13900001234", "", "", ""));
    rows.push(row(13, "18-2-601", "冯", "13900000008", "", "04A1B2C3", ""));
    rows.push(row(14, "", "", "", "", "", ""));
    let errors = plan(&config(), &EstateData::default(), &rows).unwrap_err();
    let expect = [
        (5, "not building-unit-room"),
        (6, "building 19 is not in the configuration"),
        (7, "building 18 has no unit 3"),
        (8, "not a mainland mobile number"),
        (9, "role 'boss'"),
        (10, "not a card number"),
        (11, "not a date"),
        (12, "also on row 2 with the same phone"),
        (13, "pass 04A1B2C3 is also on row 2"),
        (14, "name is empty"),
    ];
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
    for (e, (row, phrase)) in errors.iter().zip(expect) {
        assert_eq!(e.row, row, "{e:?}");
        assert!(e.reason().contains(phrase), "row {row}: {}", e.reason());
    }
    assert!(
        !errors[3].reason().contains("99999"),
        "the phone is never repeated"
    );
    assert!(
        errors[4].reason().contains("resident") && errors[4].reason().contains("住户"),
        "the role error names every role the file may use: {}",
        errors[4].reason()
    );
}

#[test]
fn a_card_of_someone_else_in_the_store_is_refused_unless_they_get_another() {
    let stored = apply(
        &EstateData::default(),
        &plan(&config(), &EstateData::default(), &good_rows()).unwrap(),
    );
    let newcomer = row(5, "18-2-503", "陈", "13900000009", "", "04A1B2C3", "");
    let errors = plan(&config(), &stored, std::slice::from_ref(&newcomer)).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .reason()
            .contains("already the card of pass P-000001"),
        "{}",
        errors[0].reason()
    );

    // The card moves when its old holder gets a new one in the same file.
    let mut old_holder = good_rows().remove(0);
    old_holder.pass = "0BADCAFE".into();
    let p = plan(&config(), &stored, &[old_holder, newcomer]).unwrap();
    assert_eq!(p.counts.passes_added, 1);
    assert_eq!(p.counts.passes_updated, 1);
}

#[test]
fn a_declared_vacant_household_stays_declared() {
    let mut stored = apply(
        &EstateData::default(),
        &plan(&config(), &EstateData::default(), &good_rows()).unwrap(),
    );
    stored.households[0].tenure = Tenure::DeclaredVacant;
    let p = plan(&config(), &stored, &good_rows()).unwrap();
    assert!(!p.changes_anything(), "{:?}", p.changes.households);
}

/// A configuration shaped like the contract's example: zones with id, name and parent only.
const SPEC_SHAPED: &str = include_str!("../../../tests/fixtures/spec-estate.toml");

#[test]
fn a_configuration_with_only_ids_names_and_parents_finds_buildings_and_units() {
    let config: Config = toml::from_str(SPEC_SHAPED).unwrap();
    let rows = vec![
        row(2, "18-2-501", "王卫平", "13900001234", "", "", ""),
        row(3, "18栋2单元502室", "李娜", "13900001235", "", "", ""),
        row(4, "19-1-101", "张强", "13900001236", "", "", ""),
        row(5, "21-1-101", "赵敏", "13900001237", "", "", ""),
    ];
    let p = plan(&config, &EstateData::default(), &rows).unwrap();
    let households: Vec<_> = p
        .changes
        .households
        .iter()
        .map(|h| (h.id.as_str(), h.zone.as_str()))
        .collect();
    assert_eq!(
        households,
        [
            ("18-2-501", "bldg-18"),
            ("18-2-502", "bldg-18"),
            ("19-1-101", "b19"),
            ("21-1-101", "bldg-21-1"),
        ],
        "by name 18号楼, by name 19, and by id bldg-21 with its unit zone"
    );
    // A building with unit zones refuses a unit it does not have.
    let errors = plan(
        &config,
        &EstateData::default(),
        &[row(2, "21-2-101", "钱", "13900000002", "", "", "")],
    )
    .unwrap_err();
    assert!(
        errors[0].reason().contains("building 21 has no unit 2"),
        "{errors:?}"
    );
}

#[test]
fn rows_with_the_same_problem_are_counted_together() {
    let config: Config = toml::from_str(SPEC_SHAPED).unwrap();
    let mut rows: Vec<Row> = (0..300)
        .map(|i| {
            let household = format!("7-1-{}", 101 + i);
            row(i + 2, &household, "王", "13900001234", "", "", "")
        })
        .collect();
    rows.push(row(302, "18-2", "李", "13900001235", "boss", "", ""));
    rows.push(row(303, "18/2", "张", "13900001236", "", "", ""));
    let errors = plan(&config, &EstateData::default(), &rows).unwrap_err();
    assert_eq!(errors.len(), 302, "every bad row is still listed");
    let problems = group(&errors);
    let summary: Vec<(usize, usize)> = problems.iter().map(|p| (p.rows[0], p.rows.len())).collect();
    assert_eq!(summary, [(2, 300), (302, 2), (302, 1)], "{problems:#?}");
    assert!(
        problems[0]
            .reason
            .starts_with("building 7 is not in the configuration")
    );
    assert!(problems[1].reason.contains("not building-unit-room"));
    assert!(problems[2].reason.contains("role 'boss'"));
}

#[test]
fn two_people_of_one_name_in_one_flat_are_two_people_and_reimport_changes_nothing() {
    let rows = vec![
        row(
            2,
            "18-2-501",
            "王伟",
            "13900000001",
            "owner",
            "0A0A0A0A",
            "",
        ),
        row(3, "18-2-501", "王伟", "13900000002", "family", "", ""),
    ];
    let first = plan(&config(), &EstateData::default(), &rows).unwrap();
    assert_eq!(first.counts.people_added, 2);
    let stored = apply(&EstateData::default(), &first);
    let again = plan(&config(), &stored, &rows).unwrap();
    assert!(!again.changes_anything(), "{:?}", again.changes);
    assert_eq!(again.counts.rows_unchanged, 2);

    // The son's phone changes: he is updated, his father is not.
    let mut changed = rows.clone();
    changed[1].phone = "13900000003".into();
    let p = plan(&config(), &stored, &changed).unwrap();
    assert_eq!(
        (
            p.counts.rows_new,
            p.counts.rows_updated,
            p.counts.rows_unchanged
        ),
        (0, 1, 1)
    );
    assert_eq!(p.changes.people.len(), 1);
    assert_eq!(
        (
            p.changes.people[0].id.as_str(),
            p.changes.people[0].phone.as_str()
        ),
        ("R-000002", "13900000003")
    );
}
