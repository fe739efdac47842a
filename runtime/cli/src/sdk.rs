//! The guest SDK this binary carries (see `build.rs`), unpacked once per version into the
//! user's cache, so a project made by `twiml-edge new` builds wherever the binary runs.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use sha2::{Digest as _, Sha256};

include!(concat!(env!("OUT_DIR"), "/sdk_files.rs"));

/// Overrides where the SDK is unpacked (default: `$XDG_CACHE_HOME/twiml-edge`, else
/// `~/.cache/twiml-edge`).
const CACHE_ENV: &str = "TWIML_EDGE_CACHE";

/// The `guest-sdk` folder of the bundled SDK, unpacked first if needed.
pub(crate) fn guest_sdk() -> anyhow::Result<PathBuf> {
    let dir = cache_dir()?.join(folder_name());
    if !dir.is_dir() {
        unpack(&dir)?;
    }
    Ok(dir.join("guest-sdk"))
}

/// `sdk-VERSION-HASH`: a folder per version and content, so an SDK once unpacked never changes
/// under a project that names it.
fn folder_name() -> String {
    let mut hash = Sha256::new();
    for (path, bytes) in SDK_FILES {
        hash.update(path.as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    }
    let digest = hex::encode(hash.finalize());
    format!("sdk-{}-{}", env!("CARGO_PKG_VERSION"), &digest[..12])
}

fn cache_dir() -> anyhow::Result<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = from_env(CACHE_ENV) {
        return Ok(dir);
    }
    if let Some(dir) = from_env("XDG_CACHE_HOME") {
        return Ok(dir.join("twiml-edge"));
    }
    from_env("HOME")
        .map(|home| home.join(".cache/twiml-edge"))
        .ok_or_else(|| anyhow!("no cache folder for the SDK: set {CACHE_ENV} or HOME"))
}

/// Writes every file into a fresh folder beside `dir` and renames it into place, so a reader
/// never sees half an SDK; another process that got there first wins.
fn unpack(dir: &Path) -> anyhow::Result<()> {
    let parent = dir.parent().expect("the SDK folder is inside the cache");
    std::fs::create_dir_all(parent).with_context(|| format!("failed to create {parent:?}"))?;
    let staging = tempfile::Builder::new()
        .prefix(".sdk-")
        .tempdir_in(parent)
        .with_context(|| format!("failed to create a folder in {parent:?}"))?;
    for (path, bytes) in SDK_FILES {
        let to = staging.path().join(path);
        if let Some(folder) = to.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("failed to create {folder:?}"))?;
        }
        std::fs::write(&to, bytes).with_context(|| format!("failed to write {to:?}"))?;
    }
    let staged = staging.keep();
    if let Err(err) = std::fs::rename(&staged, dir) {
        let _ = std::fs::remove_dir_all(&staged);
        if !dir.is_dir() {
            return Err(err).with_context(|| format!("failed to unpack the SDK into {dir:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_holds_the_sdk_its_crate_and_the_world() {
        let names: Vec<&str> = SDK_FILES.iter().map(|(p, _)| *p).collect();
        for needed in [
            "guest-sdk/Cargo.toml",
            "guest-sdk/src/lib.rs",
            "twiml/Cargo.toml",
            "twiml/src/lib.rs",
            "wit/twiml-edge.wit",
            "wit/deps/http/http.wit",
        ] {
            assert!(
                names.contains(&needed),
                "{needed} is not bundled: {names:?}"
            );
        }
        let manifest = |path| {
            let (_, bytes) = SDK_FILES.iter().find(|(p, _)| *p == path).unwrap();
            std::str::from_utf8(bytes).unwrap()
        };
        let sdk = manifest("guest-sdk/Cargo.toml");
        assert!(!sdk.contains("workspace"), "{sdk}");
        assert!(
            sdk.contains("twiml-edge-twiml = { path = \"../twiml\" }"),
            "{sdk}"
        );
        assert!(sdk.contains("optional = true"), "{sdk}");
        assert!(!manifest("twiml/Cargo.toml").contains("workspace"));
    }

    #[test]
    fn it_unpacks_once_into_a_versioned_folder() {
        let cache = tempfile::tempdir().unwrap();
        let dir = cache.path().join(folder_name());
        unpack(&dir).unwrap();
        assert!(dir.join("guest-sdk/src/lib.rs").is_file());
        assert!(dir.join("wit/twiml-edge.wit").is_file());
        // A second unpack finds it there and leaves no staging folder behind.
        unpack(&dir).unwrap();
        let entries: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
        assert_eq!(entries.len(), 1);
        assert!(folder_name().starts_with(&format!("sdk-{}-", env!("CARGO_PKG_VERSION"))));
    }
}
