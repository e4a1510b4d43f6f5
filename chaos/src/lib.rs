//! gamefleet-chaos: launches real `gamefleetd` clusters, injects faults into them and drives
//! the benchmarks.
//!
//! - [`cluster`]: a [`Cluster`] of real processes on 127.0.0.1 with SIGKILL / SIGTERM /
//!   SIGSTOP fault injection; used by the end-to-end tests in `tests/` and by the benchmarks.
//! - [`exec`]: runs `gamefleetd` with arbitrary arguments to completion, with a time limit, and
//!   captures its exit status and output (for command-line and error-contract tests).
//! - [`bench`](mod@bench): the `gamefleet-chaos bench ...` subcommands.
//!
//! Boundary: this crate talks to nodes only through `gamefleet-client` and OS signals; it never
//! links the node's code, so it tests the binary that ships.

pub mod bench;
pub mod cluster;
pub mod exec;

pub use cluster::{Cluster, ClusterBuilder, find_gamefleetd, gamefleetd_path};
pub use exec::{Outcome, run_command, run_gamefleetd};

#[cfg(test)]
mod tidy {
    //! Tidy checks on this crate's sources: every file opens with a `//!` doc, and no line has
    //! trailing whitespace.

    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_file_starts_with_a_module_doc_and_has_no_trailing_whitespace() {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() >= 6, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                text.starts_with("//!"),
                "{} must start with a `//!` doc saying what it owns",
                file.display()
            );
            for (i, line) in text.lines().enumerate() {
                assert_eq!(
                    line.trim_end(),
                    line,
                    "{}:{}: trailing whitespace",
                    file.display(),
                    i + 1
                );
            }
        }
    }
}
