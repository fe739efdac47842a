//! Bundles the guest SDK into the binary, so `twiml-edge new` makes a project that builds on a
//! machine without this checkout: the sources of `guest-sdk` and of the `twiml-edge-twiml` crate
//! it uses, `wit/` (dependencies included), and for each crate a standalone `Cargo.toml` in which
//! every `workspace = true` is replaced by the workspace's value.
//!
//! Writes `$OUT_DIR/sdk_files.rs`: `SDK_FILES`, each file's path in the unpacked SDK and its
//! bytes (`include_bytes!` of the source file, or the generated manifest inline).

use std::{
    env,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

/// The bundled crates: their folder in the repository, and where they are unpacked.
const CRATES: &[(&str, &str)] = &[("guest-sdk", "guest-sdk"), ("runtime/twiml", "twiml")];

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let root = root.canonicalize().expect("the workspace root");
    let workspace = fs::read_to_string(root.join("Cargo.toml")).expect("the workspace manifest");
    let mut out = String::from(
        "/// The bundled SDK: each file's path under the SDK folder, and its bytes.\n",
    );
    out.push_str("pub(crate) const SDK_FILES: &[(&str, &[u8])] = &[\n");
    for (from, to) in CRATES {
        let dir = root.join(from);
        println!(
            "cargo:rerun-if-changed={}",
            dir.join("Cargo.toml").display()
        );
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let standalone = standalone_manifest(&manifest, &workspace);
        writeln!(
            out,
            "    ({:?}, {:?}.as_bytes()),",
            format!("{to}/Cargo.toml"),
            standalone
        )
        .unwrap();
        for file in files(&dir.join("src")) {
            let relative = file.strip_prefix(&dir).unwrap();
            writeln!(
                out,
                "    ({:?}, include_bytes!({:?})),",
                format!("{to}/{}", relative.display()),
                file.display()
            )
            .unwrap();
        }
    }
    for file in files(&root.join("wit")) {
        let relative = file.strip_prefix(&root).unwrap();
        writeln!(
            out,
            "    ({:?}, include_bytes!({:?})),",
            relative.display().to_string(),
            file.display()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let path = PathBuf::from(env::var("OUT_DIR").unwrap()).join("sdk_files.rs");
    fs::write(path, out).unwrap();
}

/// Every file under `dir`, sorted, with a rerun for each folder.
fn files(dir: &Path) -> Vec<PathBuf> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut found = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// `manifest` with `workspace = true` replaced by the workspace's values, `[lints]` dropped and
/// the workspace's own crates named by their unpacked folder.
fn standalone_manifest(manifest: &str, workspace: &str) -> String {
    let mut out = String::new();
    let mut skipping_lints = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            skipping_lints = line.trim() == "[lints]";
        }
        if skipping_lints {
            continue;
        }
        if let Some(key) = line.strip_suffix(".workspace = true") {
            let value = table_value(workspace, "[workspace.package]", key)
                .unwrap_or_else(|| panic!("[workspace.package] has no {key}"));
            writeln!(out, "{key} = {value}").unwrap();
        } else if let Some((name, spec)) = line.split_once(" = ")
            && spec.contains("workspace = true")
        {
            let extra = spec
                .trim_start_matches('{')
                .trim_end_matches('}')
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty() && *part != "workspace = true")
                .collect::<Vec<_>>();
            let base = table_value(workspace, "[workspace.dependencies]", name)
                .unwrap_or_else(|| panic!("[workspace.dependencies] has no {name}"));
            let base = match CRATES
                .iter()
                .find(|(from, _)| base.contains(&format!("\"{from}\"")))
            {
                Some((_, to)) => format!("{{ path = \"../{to}\" }}"),
                None => base,
            };
            let base = if base.starts_with('"') {
                format!("{{ version = {base} }}")
            } else {
                base
            };
            let mut spec = base.trim_end_matches('}').trim_end().to_owned();
            for part in extra {
                write!(spec, ", {part}").unwrap();
            }
            writeln!(out, "{name} = {spec} }}").unwrap();
        } else {
            writeln!(out, "{line}").unwrap();
        }
    }
    out
}

/// The value of `key` in `table` of a TOML document, as written on its line.
fn table_value(document: &str, table: &str, key: &str) -> Option<String> {
    let start = document.find(table)? + table.len();
    let body = &document[start..];
    let body = body.find("\n[").map_or(body, |end| &body[..end]);
    body.lines().find_map(|line| {
        let (name, value) = line.split_once(" = ")?;
        (name.trim() == key).then(|| value.trim().to_owned())
    })
}
