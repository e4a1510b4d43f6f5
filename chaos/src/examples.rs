//! The sdk crate's example game servers (`minimal`, `chat`) for tests and benchmarks that host
//! them: found in the running profile's `examples/` directory, built once if missing.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The path of an sdk example server (`minimal` or `chat`), building both if they are missing
/// from this profile's `examples/` directory.
pub fn sdk_example(name: &str) -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = DIR
        .get_or_init(|| {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            // target/<profile>/<binary> or target/<profile>/deps/<test> → target/<profile>
            let dir = exe
                .parent()
                .ok_or("cannot find the executable's directory")?;
            let profile = if dir.ends_with("deps") {
                dir.parent()
                    .ok_or("cannot find the target profile directory")?
            } else {
                dir
            };
            let examples = profile.join("examples");
            if !["minimal", "chat"]
                .iter()
                .all(|n| examples.join(n).is_file())
            {
                let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
                let mut cmd = std::process::Command::new(cargo);
                cmd.args([
                    "build",
                    "-p",
                    "gamefleet-sdk",
                    "--example",
                    "minimal",
                    "--example",
                    "chat",
                ]);
                if profile.ends_with("release") {
                    cmd.arg("--release");
                }
                let status = cmd.status().map_err(|e| format!("running cargo: {e}"))?;
                if !status.success() {
                    return Err(format!("building the sdk examples failed: {status}"));
                }
            }
            Ok(examples)
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"));
    dir.join(name)
}
