//! The room the store has: free space on the data directory's file system (what a non-root
//! user may still write, as `df` shows it) and the size of the store file. Read on demand for
//! the metrics listener; two system calls, no lock on the database.

use crate::errors::StoreError;
use crate::tables;
use std::path::Path;

/// Free space where the store lives, and the store file's size, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    /// Bytes an unprivileged process may still write on the data directory's file system.
    pub free_bytes: u64,
    /// Size of `gatehouse.redb` (redb grows the file ahead of its contents).
    pub file_bytes: u64,
}

/// Measures the file system holding `dir` and the store file in it.
pub fn measure(dir: &Path) -> Result<Space, StoreError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source: std::io::Error| StoreError::Io {
            path,
            action,
            source,
        }
    };
    let fs = rustix::fs::statvfs(dir)
        .map_err(std::io::Error::from)
        .map_err(io("measured for free space", dir))?;
    let file = dir.join(tables::FILE_NAME);
    let file_bytes = std::fs::metadata(&file)
        .map_err(io("measured", &file))?
        .len();
    Ok(Space {
        free_bytes: fs.f_bavail.saturating_mul(fs.f_frsize),
        file_bytes,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_fresh_store_has_a_file_and_room() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path(), "s").unwrap();
        let space = store.space().unwrap();
        assert!(space.file_bytes > 0, "{space:?}");
        assert!(space.free_bytes > 0, "{space:?}");
    }
}
