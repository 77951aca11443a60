//! Architecture invariants that can be checked by reading the tree (see ARCHITECTURE.md).

use std::{
    fs,
    path::{Path, PathBuf},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() && !matches!(name, "target" | "dist" | "node_modules") {
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["shared", "proxy", "frontend", "crates"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 20, "found the workspace's sources");
    files
}

/// The `[dependencies]` table of a crate's manifest, as names.
fn dependencies(krate: &str) -> Vec<String> {
    let text = fs::read_to_string(root().join(krate).join("Cargo.toml")).expect("manifest");
    let mut in_deps = false;
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if in_deps && !line.is_empty() && !line.starts_with('#') {
            names.push(
                line.split(['=', '.', ' '])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    names
}

#[test]
fn every_rust_file_says_what_it_owns() {
    for file in sources() {
        let text = fs::read_to_string(&file).expect("readable");
        assert!(
            text.starts_with("//!"),
            "{} does not start with a //! line",
            file.display()
        );
    }
}

#[test]
fn no_unfinished_code_on_user_paths() {
    // This file names the markers itself.
    for file in sources().into_iter().filter(|f| !f.ends_with("tidy.rs")) {
        let text = fs::read_to_string(&file).expect("readable");
        for marker in ["todo!(", "unimplemented!(", "dbg!("] {
            assert!(
                !text.contains(marker),
                "{} contains {marker}",
                file.display()
            );
        }
    }
}

#[test]
fn shared_depends_on_serde_and_little_else() {
    for dep in dependencies("shared") {
        assert!(
            ["serde", "serde_json", "thiserror"].contains(&dep.as_str()),
            "runboard-shared must stay I/O-free and wasm-friendly; it depends on {dep}"
        );
    }
}

#[test]
fn the_widget_and_the_server_do_not_depend_on_each_other() {
    let frontend = dependencies("frontend");
    assert!(
        !frontend
            .iter()
            .any(|d| d == "runboard-proxy" || d == "runboard-sim")
    );
    assert!(
        !dependencies("proxy")
            .iter()
            .any(|d| d == "runboard-frontend")
    );
}

#[test]
fn only_the_server_side_knows_the_key_header() {
    let mut files = Vec::new();
    rust_files(&root().join("frontend"), &mut files);
    rust_files(&root().join("shared"), &mut files);
    for file in files {
        let text = fs::read_to_string(&file)
            .expect("readable")
            .to_ascii_lowercase();
        assert!(
            !text.contains("x-api-key"),
            "{} mentions x-api-key",
            file.display()
        );
    }
}
