//! Runs a `gamefleetd` (or any) command to completion with a time limit and captures its exit
//! status, stdout and stderr: for tests of the command line and error contract.
//!
//! Invariant: the child never outlives the call. A run that exceeds its limit is SIGKILLed and
//! reaped, and reported with `timed_out` set rather than as an error.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::cluster::gamefleetd_path;

/// What a finished (or killed) run left behind.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The exit status; `None` when the run was killed for exceeding its limit.
    pub status: Option<ExitStatus>,
    /// Everything the process wrote to stdout.
    pub stdout: String,
    /// Everything the process wrote to stderr.
    pub stderr: String,
    /// Wall time from spawn to exit (or to the kill).
    pub elapsed: Duration,
    /// Whether the limit was exceeded and the process SIGKILLed.
    pub timed_out: bool,
}

impl Outcome {
    /// The exit code, when the process exited by itself (not by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    /// Whether the process exited by itself with a non-zero code.
    pub fn failed_cleanly(&self) -> bool {
        !self.timed_out && self.code().is_some_and(|c| c != 0)
    }

    /// A multi-line description for assertion messages.
    pub fn describe(&self) -> String {
        let how = if self.timed_out {
            format!("still running after {:?} (killed)", self.elapsed)
        } else {
            format!("exited with {:?} after {:?}", self.status, self.elapsed)
        };
        format!(
            "{how}\n---- stderr ----\n{}\n---- stdout (tail) ----\n{}",
            self.stderr.trim_end(),
            tail(&self.stdout, 20)
        )
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

async fn read_all(mut r: impl AsyncRead + Unpin) -> String {
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf).await;
    String::from_utf8_lossy(&buf).into_owned()
}

/// Runs `program args...` (stdin closed, `GAMEFLEET_*` variables removed from its environment)
/// until it exits or `limit` passes.
pub async fn run_command<I, S>(program: &Path, args: I, limit: Duration) -> anyhow::Result<Outcome>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GAMEFLEET_") {
            cmd.env_remove(key);
        }
    }
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let stdout = tokio::spawn(read_all(child.stdout.take().context("no stdout pipe")?));
    let stderr = tokio::spawn(read_all(child.stderr.take().context("no stderr pipe")?));
    let (status, timed_out) = match tokio::time::timeout(limit, child.wait()).await {
        Ok(status) => (Some(status?), false),
        Err(_) => {
            // NB: kill() also reaps, so no zombie is left behind.
            child.kill().await?;
            (None, true)
        }
    };
    let elapsed = start.elapsed();
    // The pipes close when the process exits; a grandchild holding them would block, so bound it.
    let grace = Duration::from_secs(5);
    let stdout = tokio::time::timeout(grace, stdout)
        .await
        .map(|r| r.unwrap_or_default())
        .unwrap_or_else(|_| "(stdout still open)".to_owned());
    let stderr = tokio::time::timeout(grace, stderr)
        .await
        .map(|r| r.unwrap_or_default())
        .unwrap_or_else(|_| "(stderr still open)".to_owned());
    Ok(Outcome {
        status,
        stdout,
        stderr,
        elapsed,
        timed_out,
    })
}

/// Runs the `gamefleetd` binary (see [`gamefleetd_path`]) with `args` until it exits or
/// `limit` passes.
pub async fn run_gamefleetd<I, S>(args: I, limit: Duration) -> anyhow::Result<Outcome>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_command(&gamefleetd_path(), args, limit).await
}
