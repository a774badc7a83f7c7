//! Where the store lives: `site.data_dir` relative to the configuration file, and commands
//! that only read never create a store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name)
}

/// Runs gatehouse in `cwd` with `args`, without `GATEHOUSE_CONFIG` from the environment.
fn gatehouse(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .current_dir(cwd)
        .env_remove("GATEHOUSE_CONFIG")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every entry below `dir`, as paths relative to it.
fn contents(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path.clone());
            }
            out.push(path.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    out.sort();
    out
}

#[test]
fn read_only_commands_in_an_empty_folder_create_nothing_and_name_the_path() {
    let empty = tempfile::tempdir().unwrap();
    let config = shipped("estate.toml");
    let config = config.to_str().unwrap();
    let commands: [&[&str]; 5] = [
        &["log", "verify", "--config", config],
        &["log", "tail", "--config", config],
        &["log", "export", "--format", "jsonl", "--config", config],
        &[
            "report",
            "occupancy",
            "--format",
            "json",
            "--config",
            config,
        ],
        &[
            "log",
            "verify",
            "--config",
            config,
            "--data-dir",
            "elsewhere/data",
        ],
    ];
    // The shipped configuration says data_dir = "./data": next to it, which has no store.
    let expected = [
        shipped("data").join("gatehouse.redb"),
        shipped("data").join("gatehouse.redb"),
        shipped("data").join("gatehouse.redb"),
        shipped("data").join("gatehouse.redb"),
        PathBuf::from("elsewhere/data/gatehouse.redb"),
    ];
    assert!(
        !shipped("data").exists(),
        "config/data must not exist for this test"
    );
    for (args, path) in commands.iter().zip(expected) {
        let out = gatehouse(empty.path(), args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&format!("no store at {}", path.display())),
            "{args:?}: {err}"
        );
        assert_eq!(contents(empty.path()), Vec::<PathBuf>::new(), "{args:?}");
        assert!(!shipped("data").exists(), "{args:?} created config/data");
    }
}

#[test]
fn data_dir_is_relative_to_the_configuration_file() {
    let root = tempfile::tempdir().unwrap();
    let (site, elsewhere) = (root.path().join("site"), root.path().join("elsewhere"));
    std::fs::create_dir_all(&site).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(shipped("estate.toml"), site.join("estate.toml")).unwrap();
    let config = site.join("estate.toml");
    let config = config.to_str().unwrap();
    let residents = shipped("residents.csv");

    let out = gatehouse(
        &elsewhere,
        &[
            "import",
            "residents",
            residents.to_str().unwrap(),
            "--config",
            config,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(site.join("data").join("gatehouse.redb").is_file());
    assert_eq!(contents(&elsewhere), Vec::<PathBuf>::new());

    // A read-only command run from another folder finds the same store.
    let out = gatehouse(&elsewhere, &["log", "verify", "--config", config]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("Log intact: 1 records"),
        "{}",
        text(&out.stdout)
    );
}
