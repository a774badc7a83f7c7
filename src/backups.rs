//! Scheduled backups made by the running gateway (`[backup]` in the configuration): the store
//! is held by one process, so the gateway copies it itself (`Store::backup`, one read
//! transaction copied into a fresh file; appends go on meanwhile) and keeps the newest `keep`.

use gatehouse_core::config::Backup;
use gatehouse_store::Store;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Starts the schedule: the first backup one period after start, then every period.
pub fn spawn(
    plan: &Backup,
    store: Store,
    data_dir: &Path,
    token: CancellationToken,
) -> JoinHandle<()> {
    let dir = data_dir.join(&plan.dir);
    let period = Duration::from_secs(u64::from(plan.every_h.max(1)) * 3600);
    let keep = plan.keep.max(1) as usize;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let (store, dir) = (store.clone(), dir.clone());
            match tokio::task::spawn_blocking(move || once(&store, &dir, keep)).await {
                Ok(Ok(file)) => info!(file = %file.display(), "Backup written."),
                Ok(Err(e)) => {
                    warn!(error = %e, "Scheduled backup failed; will try at the next period.")
                }
                Err(e) => warn!(error = %e, "Scheduled backup task failed."),
            }
        }
    })
}

/// Writes one backup into `dir` and removes all but the newest `keep`.
pub fn once(store: &Store, dir: &Path, keep: usize) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let file = dir.join(format!("gatehouse-{stamp}.redb"));
    let copied = store.backup(&file).map_err(|e| e.to_string())?;
    if !copied.lost_records.is_empty() || !copied.lost_rows.is_empty() {
        warn!(file = %file.display(), lost = ?copied.lost_records, rows = ?copied.lost_rows, "Backup made, but parts of the store could not be read.");
    }
    let mut old: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("gatehouse-") && n.ends_with(".redb"))
        })
        .collect();
    // The stamp sorts by time; the newest `keep` stay.
    old.sort();
    let remove = old.len().saturating_sub(keep);
    for path in old.into_iter().take(remove) {
        if let Err(e) = std::fs::remove_file(&path) {
            warn!(file = %path.display(), error = %e, "Could not remove an old backup.");
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_are_kept_to_the_newest_keep() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data"), "north-estate").unwrap();
        let backups = dir.path().join("backups");
        std::fs::create_dir_all(&backups).unwrap();
        // Older backups, as earlier periods left them.
        for old in [
            "gatehouse-20200101T000000Z.redb",
            "gatehouse-20200102T000000Z.redb",
        ] {
            std::fs::write(backups.join(old), b"old").unwrap();
        }
        let file = once(&store, &backups, 2).unwrap();
        let mut left: Vec<_> = std::fs::read_dir(&backups)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left.len(), 2, "{left:?}");
        assert_eq!(left[0], "gatehouse-20200102T000000Z.redb");
        assert_eq!(backups.join(&left[1]), file);
        let report = gatehouse_store::verify_file(&file, &dir.path().join("data")).unwrap();
        assert_eq!(report.first_bad, None);
    }
}
