//! Rules of the code's layout that grep can check, held by a test so that they stay true.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every write and delete verb of kube's `Api` (create, patch, replace, delete) takes one of
/// these parameter types: a module that names none of them cannot write to the cluster.
const WRITE_PARAMETERS: [&str; 3] = ["PostParams", "PatchParams", "DeleteParams"];

#[test]
fn only_modules_in_cluster_write_to_the_kubernetes_api() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut outside = Vec::new();
    for file in &files {
        if file.starts_with(src.join("cluster")) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if WRITE_PARAMETERS.iter().any(|p| line.contains(p)) {
                outside.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(files.len() > 50, "read the sources: {} files", files.len());
    assert!(
        outside.is_empty(),
        "writes to the cluster outside src/cluster/:\n{}",
        outside.join("\n")
    );
}

/// Verbs turn flags into typed requests: past `commands/`, nothing knows how a flag was spelt
/// on the command line, so the decisions are tested without clap.
#[test]
fn clap_types_stop_at_commands() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let edge = [
        src.join("commands"),
        src.join("cli.rs"),
        src.join("main.rs"),
    ];
    let mut outside = Vec::new();
    for file in &files {
        if edge.iter().any(|e| file.starts_with(e)) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if line.contains("crate::cli") || line.contains("clap::") {
                outside.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "clap's types outside src/commands/:\n{}",
        outside.join("\n")
    );
}
