//! 32-byte secrets kept as files in the data directory (mode 0600), outside the database: the
//! log's seal key, the gateway's visitor-token key. Made on first use from the OS's randomness.

use crate::errors::StoreError;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The file that holds secret `name`: `dir/{name}.key`.
pub fn path(dir: &Path, name: &str) -> Result<PathBuf, StoreError> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(StoreError::BadSecret {
            path: dir.join(name),
            problem: "a secret's name may hold only letters, digits, '-' and '_'".into(),
        });
    }
    Ok(dir.join(format!("{name}.key")))
}

/// Reads secret `name`, creating it if it does not exist yet.
pub fn get_or_create(dir: &Path, name: &str) -> Result<[u8; 32], StoreError> {
    let path = path(dir, name)?;
    match create(&path) {
        Ok(key) => return Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(StoreError::Io {
                path,
                action: "created",
                source,
            });
        }
    }
    read(dir, name)
}

/// Reads secret `name`, which must exist (a copy of a data directory, a salvage).
pub fn read(dir: &Path, name: &str) -> Result<[u8; 32], StoreError> {
    let path = path(dir, name)?;
    let mut bytes = Vec::with_capacity(33);
    std::fs::File::open(&path)
        .and_then(|f| f.take(33).read_to_end(&mut bytes))
        .map_err(|source| StoreError::Io {
            path: path.clone(),
            action: "read",
            source,
        })?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| StoreError::BadSecret {
            path,
            problem: format!("it holds {} bytes, not 32", b.len()),
        })
}

/// Writes a new random secret; `AlreadyExists` if there is one (two processes racing to make
/// it both end up reading the winner's).
fn create(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut tag = [0u8; 8];
    getrandom::fill(&mut tag).map_err(|e| std::io::Error::other(e.to_string()))?;
    // Write under a temporary name and link it into place, so nobody ever reads half a key.
    let tmp = path.with_extension(format!("key.{}.tmp", u64::from_le_bytes(tag)));
    let mut file = options.open(&tmp)?;
    file.write_all(&key)?;
    file.sync_all()?;
    drop(file);
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(key)
}
