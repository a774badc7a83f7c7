//! The sample estate shipped in `config/`: built into the binary so `gatehouse demo` needs no
//! files.

/// The sample estate's configuration.
pub const CONFIG: &str = include_str!("../config/estate.toml");
