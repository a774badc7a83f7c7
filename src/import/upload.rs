//! A residents file uploaded through the console, kept on disk only while it is imported: in
//! `data_dir/uploads/` (mode 0700), under a random name that keeps the upload's extension,
//! with mode 0600, and deleted when the [`Upload`] is dropped, whatever the import's outcome.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub struct Upload {
    path: PathBuf,
}

impl Upload {
    /// Writes `bytes` into `dir` under a fresh name ending like `name` (`.csv`, `.xlsx`).
    pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<Upload, String> {
        let fail = |e: std::io::Error| {
            format!(
                "Cannot store the upload in {} for the import ({e}); check the data directory is writable.",
                dir.display()
            )
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
        let ext = Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let path = dir.join(format!("import-{:016x}.{ext}", rand::random::<u64>()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(fail)?;
        let upload = Upload { path };
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(fail)?;
        Ok(upload)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %self.path.display(), error = %e, "Could not delete an imported upload; delete it by hand.");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn an_upload_is_private_while_imported_and_gone_after() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("uploads");
        let upload = Upload::write(&dir, "../../residents.XLSX", b"13900001213").unwrap();
        let path = upload.path().to_path_buf();
        assert_eq!(
            path.parent(),
            Some(dir.as_path()),
            "no path from the name is used"
        );
        assert_eq!(path.extension().unwrap(), "xlsx");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        drop(upload);
        assert!(!path.exists(), "the upload is deleted after the import");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }
}
