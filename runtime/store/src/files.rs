//! Files the store writes: atomically, durably and readable by their owner only; and a folder of
//! checksummed entries for the sandbox's compiled code.

use std::{
    fmt::Display,
    fs::{self, File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

use crate::Result;

/// Writes `dir/name` so that readers see either nothing or the whole file, even after power loss;
/// the file is readable by its owner only, and its temporary name is unique.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".tmp-{}", random_hex()?));
    let target = dir.join(name);
    let written = (|| {
        let mut file = private_options().create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_context(e, format_args!("failed to write {target:?}")).into());
    }
    sync_dir(dir)
}

/// Files under one folder that come back only as they were written: each holds the SHA-256 of
/// its content, then the content, and is written under a unique temporary name, synced, then
/// renamed into place. What fails its checksum, or was left by an interrupted write, is never
/// returned. The compiled-code cache of the sandbox lives in one.
#[derive(Debug)]
pub struct FileCache {
    dir: PathBuf,
}

impl FileCache {
    /// The cache in `dir`, created readable by its owner only when missing.
    pub fn open(dir: &Path) -> io::Result<Self> {
        create_private_dir(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// The bytes saved under `key`, when they are whole.
    pub fn load(&self, key: &str) -> Option<Vec<u8>> {
        let path = self.path(key)?;
        let file = match fs::read(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(?path, error = %e, "cannot read a cache entry");
                return None;
            }
        };
        let verified = file
            .split_at_checked(32)
            .filter(|(sum, content)| Sha256::digest(content).as_slice() == *sum)
            .map(|(_, content)| content.to_vec());
        if verified.is_none() {
            tracing::warn!(?path, "a cache entry fails its checksum: ignoring it");
        }
        verified
    }

    /// Saves `bytes` under `key`.
    pub fn save(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        let name = self
            .path(key)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("bad cache key {key:?}"),
                )
            })?;
        let mut file = Vec::with_capacity(32 + bytes.len());
        file.extend_from_slice(&Sha256::digest(bytes));
        file.extend_from_slice(bytes);
        write_atomic(&self.dir, &name, &file).map_err(|e| io::Error::other(e.to_string()))
    }

    /// Removes every entry whose key `keep` refuses, and leftovers of interrupted writes;
    /// returns how many files went.
    pub fn retain(&self, keep: &dyn Fn(&str) -> bool) -> usize {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let kept = name
                .to_str()
                .and_then(|n| n.strip_suffix(CACHE_EXTENSION))
                .is_some_and(keep);
            if !kept && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// Where `key` is kept; `None` for a key that is no plain file name.
    fn path(&self, key: &str) -> Option<PathBuf> {
        let plain = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plain.then(|| self.dir.join(format!("{key}{CACHE_EXTENSION}")))
    }
}

/// The ending of a [`FileCache`] entry's file name.
const CACHE_EXTENSION: &str = ".entry";

/// Options that create a file readable and writable by its owner only.
pub(crate) fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates `path` readable by its owner only when it does not exist, and makes it so when it
/// does (it is one of the store's own files).
pub(crate) fn private_file(path: &Path) -> io::Result<()> {
    private_options().create(true).truncate(false).open(path)?;
    #[cfg(unix)]
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(())
}

/// Creates `dir` and its missing parents, each one made here readable by its owner only.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the single folder `dir` readable by its owner only; `AlreadyExists` when it is there.
pub(crate) fn create_dir_private(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Warns when others may read the data folder: it was not made here, so it is not changed.
pub(crate) fn warn_if_shared(dir: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = fs::metadata(dir) {
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %dir.display(),
                mode = format_args!("{:o}", mode & 0o777),
                "the data folder holds every account's auth token and others may read it: chmod 700 it"
            );
        }
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_context(e, format_args!("failed to sync directory {dir:?}")).into())
}

/// Adds what was being done to an i/o error, keeping its kind.
pub(crate) fn io_context(e: io::Error, what: impl Display) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// 32 lowercase hex digits from the OS's random source: the random part of every sid and token.
pub(crate) fn random_hex() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| io::Error::other(format!("failed to read the os random source: {e}")))?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_cache_returns_only_what_it_was_given_whole() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::open(&dir.path().join("compiled")).unwrap();
        cache.save("abc-1", b"compiled code").unwrap();
        cache.save("def-1", b"other").unwrap();
        assert_eq!(cache.load("abc-1").unwrap(), b"compiled code");
        assert_eq!(cache.load("missing"), None);
        assert_eq!(cache.load("../escape"), None);
        assert!(cache.save("../escape", b"x").is_err());
        // A damaged entry is not returned.
        let path = dir.path().join("compiled/abc-1.entry");
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.load("abc-1"), None);
        // Leftovers and refused keys go; kept ones stay.
        fs::write(dir.path().join("compiled/.tmp-123"), b"torn").unwrap();
        assert_eq!(cache.retain(&|key| key == "def-1"), 2);
        assert_eq!(cache.load("def-1").unwrap(), b"other");
        assert_eq!(
            fs::read_dir(dir.path().join("compiled")).unwrap().count(),
            1
        );
    }
}
