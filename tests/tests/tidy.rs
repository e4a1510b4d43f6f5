//! Workspace tidy checks (STYLE.md, rust-analyzer's tidy): every Rust file of every crate opens
//! with a `//!` doc saying what it owns, and no line has trailing whitespace.

use std::path::{Path, PathBuf};

const CRATES: [&str; 6] = ["proto", "node", "sdk", "client", "chaos", "tests"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What is wrong with one file, if anything.
fn problems(file: &Path, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if !text.starts_with("//!") {
        out.push(format!(
            "{} must start with a `//!` doc saying what it owns",
            file.display()
        ));
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() != line {
            out.push(format!("{}:{}: trailing whitespace", file.display(), i + 1));
        }
    }
    out
}

#[test]
fn every_rust_file_has_a_module_doc_and_no_trailing_whitespace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for c in CRATES {
        rust_files(&root.join(c), &mut files);
    }
    assert!(
        files.len() > 80,
        "found only {} Rust files under {}",
        files.len(),
        root.display()
    );
    let found: Vec<String> = files
        .iter()
        .flat_map(|f| problems(f, &std::fs::read_to_string(f).unwrap_or_default()))
        .collect();
    assert!(found.is_empty(), "tidy problems:\n{}", found.join("\n"));
}

#[test]
fn the_checker_catches_what_it_should() {
    let p = Path::new("x.rs");
    assert!(problems(p, "//! Owns x.\nfn main() {}\n").is_empty());
    assert_eq!(
        problems(p, "fn main() {}\n").len(),
        1,
        "a missing module doc is reported"
    );
    assert_eq!(
        problems(p, "//! x\nfn main() {} \n").len(),
        1,
        "trailing whitespace is reported"
    );
}
