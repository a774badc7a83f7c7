//! Every kind of configuration error, each checked to name the line that is wrong.
//! A case is the base file with one edit; the line to blame carries the comment `# HERE`.

use super::parse;

const BASE: &str = r#"
[site]
id = "test-estate"
name = "测试"
timezone = "Asia/Shanghai"

[[zones]]
id = "area-a"
name = "A"
parent = "site"
kind = "area"

[[zones]]
id = "bldg-1"
name = "1号楼"
parent = "area-a"
kind = "building"
number = "1"

[[zones]]
id = "bldg-1-1"
name = "1号楼1单元"
parent = "bldg-1"
kind = "unit"
number = "1"

[[controllers]]
id = "ctl-1"
profile = "reader-controller"
transport = "tcp"
address = "127.0.0.1:15020"
readers = [ { index = 0, id = "r-gate-in" } ]

[[doors]]
id = "gate-1"
name = "北门"
kind = "pedestrian"
outside = "outside"
inside = "area-a"
controller = "ctl-1"
channel = 0
schedule = "day-only"
readers = [ { id = "r-gate-in", direction = "in" }, { id = "r-gate-out", direction = "out" } ]

[[doors]]
id = "door-1-1"
name = "1号楼1单元门"
kind = "unit"
outside = "area-a"
inside = "bldg-1-1"
controller = "ctl-1"
channel = 1

[[schedules]]
id = "day-only"
windows = [ "mon-sun 06:00-22:00" ]
holidays = [ "2027-02-16" ]

[[access_groups]]
id = "staff"
doors = [ "*" ]
schedule = "day-only"

[[fire_inputs]]
id = "fire-a"
controller = "ctl-1"
table = "input"
address = 16
bit = 0
zone = "area-a"

[[issuers]]
id = "office-1"
public_key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
"#;

/// The base text with `from` replaced by `to` (which must occur exactly once).
fn edit(from: &str, to: &str) -> String {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "'{from}' must occur once in the base config"
    );
    BASE.replacen(from, to, 1)
}

/// The 1-based line holding `# HERE`.
fn marked_line(text: &str) -> usize {
    text.lines()
        .position(|l| l.contains("# HERE"))
        .expect("a # HERE marker")
        + 1
}

/// Parses `text`, expects failure, and checks that one error line names the marked line and
/// contains every `phrase`.
fn assert_error_at(text: &str, phrases: &[&str]) {
    let err = parse(text, "t.toml")
        .expect_err("the config should be refused")
        .0;
    let prefix = format!("t.toml:{}: ", marked_line(text));
    let hit = err
        .lines()
        .find(|l| l.starts_with(&prefix) && phrases.iter().all(|p| l.contains(p)));
    assert!(
        hit.is_some(),
        "expected an error at {prefix} containing {phrases:?}; got:\n{err}"
    );
}

#[test]
fn the_base_config_is_valid() {
    let cfg = parse(BASE, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.doors.len(), 2);
}

#[test]
fn syntax_and_unknown_keys_name_the_line() {
    assert_error_at(
        &edit("channel = 1\n", "channel = 1\ncolour = \"red\" # HERE\n"),
        &["colour", "fix this line"],
    );
    assert_error_at(
        &edit(
            "kind = \"unit\"\noutside",
            "kind = \"unitt\" # HERE\noutside",
        ),
        &["unitt"],
    );
    assert_error_at(&edit("name = \"北门\"", "name = \"北门 # HERE"), &[]);
}

#[test]
fn site_id_and_timezone() {
    assert_error_at(
        &edit("id = \"test-estate\"", "id = \"Test_Estate\" # HERE"),
        &["site id", "a-z"],
    );
    assert_error_at(
        &edit(
            "timezone = \"Asia/Shanghai\"",
            "timezone = \"Asia/Beijing\" # HERE",
        ),
        &["Asia/Beijing", "IANA"],
    );
}

#[test]
fn door_zones_must_exist() {
    assert_error_at(
        &edit("inside = \"area-a\"", "inside = \"bldg-99\" # HERE"),
        &[
            "door 'gate-1' names inside zone 'bldg-99', which is not defined; add [[zones]] id = \"bldg-99\" or fix the door.",
        ],
    );
    assert_error_at(
        &edit("outside = \"area-a\"", "outside = \"yard\" # HERE"),
        &["outside zone 'yard'"],
    );
}

#[test]
fn door_controller_and_schedule_must_exist() {
    assert_error_at(
        &edit(
            "controller = \"ctl-1\"\nchannel = 1",
            "controller = \"ctl-9\" # HERE\nchannel = 1",
        ),
        &["controller 'ctl-9'", "mqtt"],
    );
    assert_error_at(
        &edit(
            "schedule = \"day-only\"\nreaders",
            "schedule = \"nights\" # HERE\nreaders",
        ),
        &["schedule 'nights'"],
    );
    assert_error_at(
        &edit("channel = 1", "channel = 0 # HERE"),
        &["channel 0", "gate-1"],
    );
}

#[test]
fn controller_mqtt_is_allowed() {
    let text = edit(
        "controller = \"ctl-1\"\nchannel = 1",
        "controller = \"mqtt\"",
    );
    parse(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn zone_parents_exist_and_form_a_tree() {
    assert_error_at(
        &edit(
            "parent = \"area-a\"\nkind = \"building\"",
            "parent = \"area-z\" # HERE\nkind = \"building\"",
        ),
        &["parent 'area-z'"],
    );
    assert_error_at(
        &edit("parent = \"site\"", "parent = \"bldg-1-1\" # HERE"),
        &["loop", "area-a → bldg-1-1 → bldg-1 → area-a"],
    );
    assert_error_at(
        &edit("id = \"area-a\"", "id = \"site\" # HERE"),
        &["reserved"],
    );
}

#[test]
fn zone_numbers() {
    assert_error_at(
        &edit(
            "number = \"1\"\n\n[[zones]]",
            "number = \"A1\" # HERE\n\n[[zones]]",
        ),
        &["digits only"],
    );
    let twin = "[[zones]]\nid = \"bldg-1b\"\nname = \"x\"\nparent = \"area-a\"\nkind = \"building\"\nnumber = \"01\" # HERE\n\n[[controllers]]";
    assert_error_at(&edit("[[controllers]]", twin), &["like zone 'bldg-1'"]);
    let orphan = "[[zones]]\nid = \"u-x\"\nname = \"x\"\nparent = \"area-a\" # HERE\nkind = \"unit\"\nnumber = \"2\"\n\n[[controllers]]";
    assert_error_at(&edit("[[controllers]]", orphan), &["not a building zone"]);
    // Kind and number are optional: the import reads 1号楼's number from its name.
    let bare = BASE
        .replace(
            "kind = \"building\"\nnumber = \"1\"\n",
            "kind = \"building\"\n",
        )
        .replace("kind = \"unit\"\nnumber = \"1\"\n", "")
        .replace("kind = \"area\"\n", "");
    assert!(!bare.contains("number ="), "{bare}");
    parse(&bare, "t.toml").unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn ids_are_unique() {
    assert_error_at(
        &edit("id = \"door-1-1\"", "id = \"gate-1\" # HERE"),
        &["door id 'gate-1' is defined twice (first on line"],
    );
    assert_error_at(
        &edit("id = \"bldg-1-1\"", "id = \"bldg-1\" # HERE"),
        &["zone id 'bldg-1' is defined twice"],
    );
    let issuer = "[[issuers]]\nid = \"office-1\" # HERE\npublic_key = \"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n";
    assert_error_at(
        &format!("{BASE}\n{issuer}"),
        &["issuer id 'office-1' is defined twice"],
    );
}

#[test]
fn reader_ids_are_unique_across_doors_and_controllers() {
    assert_error_at(
        &edit(
            "channel = 1\n",
            "channel = 1\nreaders = [ { id = \"r-gate-out\", direction = \"in\" } ] # HERE\n",
        ),
        &["reader 'r-gate-out' is on door"],
    );
    let second = "[[controllers]]\nid = \"ctl-2\"\nprofile = \"relay-io\"\ntransport = \"tcp\"\naddress = \"127.0.0.1:15021\"\nreaders = [\n  { index = 0, id = \"r-gate-in\" }, # HERE\n]\n\n[[doors]]";
    assert_error_at(
        &BASE.replacen("[[doors]]", second, 1),
        &["reader 'r-gate-in' is listed on controller 'ctl-2' and on controller 'ctl-1'"],
    );
    assert_error_at(
        &edit(
            "{ index = 0, id = \"r-gate-in\" } ]",
            "{ index = 0, id = \"r-ghost\" } ] # HERE",
        ),
        &["reader 'r-ghost'", "on no door"],
    );
}

#[test]
fn schedule_windows_and_holidays() {
    assert_error_at(
        &edit("[ \"mon-sun 06:00-22:00\" ]", "[ \"mon-sun 6-22\" ] # HERE"),
        &["schedule 'day-only'", "HH:MM"],
    );
    assert_error_at(
        &edit("[ \"2027-02-16\" ]", "[ \"2027-02-30\" ] # HERE"),
        &["holiday '2027-02-30'", "YYYY-MM-DD"],
    );
}

#[test]
fn access_groups_and_fire_inputs_refer_to_real_things() {
    assert_error_at(
        &edit("doors = [ \"*\" ]", "doors = [ \"gate-9\" ] # HERE"),
        &["access group 'staff' names door 'gate-9'"],
    );
    assert_error_at(
        &edit(
            "schedule = \"day-only\"\n\n[[fire",
            "schedule = \"never\" # HERE\n\n[[fire",
        ),
        &["access group 'staff' names schedule 'never'"],
    );
    assert_error_at(
        &edit(
            "controller = \"ctl-1\"\ntable",
            "controller = \"ctl-7\" # HERE\ntable",
        ),
        &["fire input 'fire-a' names controller 'ctl-7'"],
    );
    assert_error_at(
        &edit("zone = \"area-a\"", "zone = \"area-q\" # HERE"),
        &["fire input 'fire-a' names zone 'area-q'"],
    );
    assert_error_at(
        &edit("table = \"input\"", "table = \"register\" # HERE"),
        &["table 'register'"],
    );
}

#[test]
fn issuer_keys_are_32_bytes_of_base64() {
    assert_error_at(
        &edit(
            "public_key = \"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"",
            "public_key = \"AAAA\" # HERE",
        ),
        &["issuer 'office-1'", "32-byte"],
    );
    assert_error_at(
        &edit(
            "public_key = \"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"",
            "public_key = \"not base64!\" # HERE",
        ),
        &["32-byte"],
    );
}

#[test]
fn controller_transports_need_their_fields() {
    assert_error_at(
        &edit(
            "transport = \"tcp\"\naddress = \"127.0.0.1:15020\"",
            "transport = \"tcp\" # HERE",
        ),
        &["no address"],
    );
    assert_error_at(
        &edit(
            "transport = \"tcp\"\naddress = \"127.0.0.1:15020\"",
            "transport = \"rtu\" # HERE",
        ),
        &["no serial device"],
    );
    assert_error_at(
        &edit(
            "address = \"127.0.0.1:15020\"",
            "address = \"127.0.0.1:http\" # HERE",
        ),
        &["host:port"],
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let text = edit("inside = \"area-a\"", "inside = \"bldg-99\"")
        .replace("\"2027-02-16\"", "\"someday\"");
    let err = parse(&text, "t.toml").unwrap_err().0;
    assert!(err.contains("bldg-99") && err.contains("someday"), "{err}");
    assert!(
        err.lines().last().unwrap().contains("2 problems found"),
        "{err}"
    );
}
