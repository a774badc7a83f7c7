//! What `gatehouse demo` sets up before the gateway starts: the sample estate's residents in
//! the store, imported once on the first run of a data directory through the same import a
//! user runs (`gatehouse import residents`).

use gatehouse_core::config::Config;
use std::path::Path;

/// The sample residents (seeded generator output, committed in `config/`).
pub const RESIDENTS_CSV: &str = include_str!("../config/residents.csv");

/// Makes sure the demo's store holds the sample residents.
pub fn prepare(config: &Config, data_dir: &Path) -> Result<(), String> {
    let store = gatehouse_store::Store::open(data_dir, &config.site.id).map_err(|e| e.to_string())?;
    let known = store.load_estate().map_err(|e| e.to_string())?;
    if !known.people.is_empty() {
        return Ok(());
    }
    let file = data_dir.join("sample-residents.csv");
    std::fs::write(&file, RESIDENTS_CSV)
        .map_err(|e| format!("Cannot write {}: {e}. Check that the data directory is writable.", file.display()))?;
    let imported = crate::import::residents::import(&file, config, &store, "demo", &mut |_, _| {})
        .map_err(|e| format!("Importing the sample residents failed: {e}"))?;
    tracing::info!(counts = %imported.counts, "Sample residents imported.");
    Ok(())
}
