//! The gatehouse binary run as a person would, and the shipped sample files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `gatehouse args…` to the end.
pub fn gatehouse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A file of the shipped sample in `config/` (`estate.toml`, `residents.csv`, …).
pub fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name)
}
