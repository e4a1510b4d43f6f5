//! No orphans: every game server this node spawns is written down before anything else
//! happens, and at the next start every one still alive is killed.
//!
//! Layout under `<data_dir>/processes/`:
//! - `<process-id>.json`: the [`Record`] of a live process (pid, process group, the kernel's
//!   start time of the pid), written to a temp file, fsync'd, renamed and the directory
//!   fsync'd before the launch is proposed; removed once the process is reaped.
//! - `<process-id>/`: the process's working directory with its `stdout.log` and `stderr.log`;
//!   kept after it ends for inspection, and pruned to the newest [`KEEP_WORKDIRS`] at start.
//!
//! At start, [`kill_orphans`] SIGKILLs the process group of every recorded process whose pid
//! is alive with the recorded start time (a recycled pid has another start time and is left
//! alone). If the leader is gone, the group's remaining members are found in `/proc` by their
//! process group and killed. As a backstop for the instant between spawn and record, any
//! process whose working directory lies under `processes/` is killed too (game servers start
//! there). Linux-only (`/proc`).

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// Ended processes' working directories kept at start.
pub const KEEP_WORKDIRS: usize = 200;

/// A spawned process as recorded on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// `process-<uuid>`.
    pub process_id: String,
    /// Its fleet.
    pub fleet_id: String,
    /// The pid of the process (also its process group id).
    pub pid: u32,
    /// The process group.
    pub pgid: u32,
    /// `/proc/<pid>/stat` field 22 (start time in clock ticks after boot), if it was read.
    pub start_time: Option<u64>,
    /// What was launched.
    pub launch_path: String,
}

/// The records directory under a data dir.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("processes")
}

fn record_path(dir: &Path, process_id: &str) -> PathBuf {
    dir.join(format!("{process_id}.json"))
}

/// Writes a record durably (temp file, fsync, rename, fsync of the directory).
pub fn write(dir: &Path, rec: &Record) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = record_path(dir, &rec.process_id);
    let tmp = dir.join(format!(".{}.tmp", rec.process_id));
    let bytes = serde_json::to_vec(rec).map_err(std::io::Error::other)?;
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Removes a record (missing is fine).
pub fn remove(dir: &Path, process_id: &str) {
    let _ = std::fs::remove_file(record_path(dir, process_id));
}

/// Parses a record file's contents.
pub fn parse(text: &[u8]) -> Result<Record, String> {
    serde_json::from_slice(text).map_err(|e| e.to_string())
}

/// What `/proc/<pid>/stat` says about a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// State letter (`R`, `S`, `Z`, …).
    pub state: char,
    /// Process group.
    pub pgrp: u32,
    /// Start time in clock ticks after boot.
    pub start_time: u64,
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) may hold spaces and parentheses, so
/// fields are counted after its last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); field n is fields[n - 3].
    Some(Stat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// Reads `/proc/<pid>/stat`; None if the process is gone.
pub fn stat(pid: u32) -> Option<Stat> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|t| parse_stat(&t))
}

/// Whether `pid` is alive (a zombie counts as dead) with `start_time` (if given).
pub fn alive(pid: u32, start_time: Option<u64>) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z' && start_time.is_none_or(|t| t == s.start_time))
}

fn all_pids() -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

fn to_pid(n: u32) -> Option<Pid> {
    i32::try_from(n).ok().filter(|n| *n > 1).map(Pid::from_raw)
}

/// SIGKILLs a process group (best effort).
pub fn kill_group(pgid: u32) {
    if let Some(p) = to_pid(pgid) {
        let _ = killpg(p, Signal::SIGKILL);
    }
}

/// Sends `signal` to a process group (best effort).
pub fn signal_group(pgid: u32, signal: Signal) {
    if let Some(p) = to_pid(pgid) {
        let _ = killpg(p, signal);
    }
}

/// What [`kill_orphans`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cleanup {
    /// Records read.
    pub records: usize,
    /// Process ids (from records) whose group was killed.
    pub killed: Vec<String>,
    /// Pids killed because their working directory is under `processes/`.
    pub stray_pids: Vec<u32>,
    /// Record files that could not be parsed (removed).
    pub unreadable: Vec<PathBuf>,
}

/// Kills every recorded process still alive and any process working under `dir`, then removes
/// the records. See the module docs.
pub fn kill_orphans(dir: &Path) -> Cleanup {
    let mut out = Cleanup::default();
    let me = std::process::id();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for entry in rd.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if !name.ends_with(".json") || !path.is_file() {
                continue;
            }
            out.records += 1;
            let rec = match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| parse(&b))
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(path = %path.display(), "unreadable process record: {e}");
                    out.unreadable.push(path.clone());
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
            };
            if rec.pid != me && kill_recorded(&rec) {
                out.killed.push(rec.process_id.clone());
            }
            let _ = std::fs::remove_file(&path);
        }
    }
    // Backstop: anything still working under `dir`.
    let canon = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for pid in all_pids() {
        if pid == me {
            continue;
        }
        let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd")) else {
            continue;
        };
        if cwd.starts_with(&canon) && alive(pid, None) {
            if let Some(s) = stat(pid)
                && s.pgrp == pid
            {
                kill_group(pid);
            } else if let Some(p) = to_pid(pid) {
                let _ = kill(p, Signal::SIGKILL);
            }
            out.stray_pids.push(pid);
        }
    }
    out
}

/// Kills one recorded process's group; true if anything was alive.
fn kill_recorded(rec: &Record) -> bool {
    match stat(rec.pid) {
        Some(s) if s.state != 'Z' && rec.start_time.is_none_or(|t| t == s.start_time) => {
            kill_group(rec.pgid);
            true
        }
        Some(s) if s.state != 'Z' => {
            // NB: the pid was recycled by an unrelated process; only group members that
            // started after our leader can be ours.
            kill_members(rec)
        }
        _ => kill_members(rec),
    }
}

/// Kills processes in the recorded group that started no earlier than the recorded leader.
fn kill_members(rec: &Record) -> bool {
    let mut any = false;
    for pid in all_pids() {
        if pid == std::process::id() {
            continue;
        }
        if let Some(s) = stat(pid)
            && s.pgrp == rec.pgid
            && s.state != 'Z'
            && rec.start_time.is_some_and(|t| s.start_time >= t)
            && let Some(p) = to_pid(pid)
        {
            let _ = kill(p, Signal::SIGKILL);
            any = true;
        }
    }
    any
}

/// Removes the oldest working directories of ended processes, keeping `keep` and every one in
/// `live`.
pub fn prune_workdirs(dir: &Path, keep: usize, live: &BTreeSet<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = rd
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter(|e| !live.contains(&*e.file_name().to_string_lossy()))
        .map(|e| {
            let t = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (t, e.path())
        })
        .collect();
    if dirs.len() <= keep {
        return;
    }
    dirs.sort();
    let n = dirs.len() - keep;
    for (_, path) in dirs.into_iter().take(n) {
        let _ = std::fs::remove_dir_all(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing_survives_odd_command_names() {
        let line = "4242 (my (game) server) S 1 4242 4242 0 -1 4194560 99 0 0 0 1 2 0 0 20 0 3 0 123456 100000 50 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let s = parse_stat(line).unwrap();
        assert_eq!(
            s,
            Stat {
                state: 'S',
                pgrp: 4242,
                start_time: 123456
            }
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1"), None);
        let me = stat(std::process::id()).unwrap();
        assert!(alive(std::process::id(), Some(me.start_time)));
        assert!(!alive(std::process::id(), Some(me.start_time + 1)));
    }

    #[test]
    fn records_round_trip_and_bad_ones_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Record {
            process_id: "process-1".into(),
            fleet_id: "fleet-1".into(),
            pid: 4_000_000,
            pgid: 4_000_000,
            start_time: Some(1),
            launch_path: "/bin/true".into(),
        };
        write(dir.path(), &rec).unwrap();
        let text = std::fs::read(dir.path().join("process-1.json")).unwrap();
        assert_eq!(parse(&text).unwrap(), rec);
        assert!(parse(b"{\"pid\": 1}").is_err());
        std::fs::write(dir.path().join("process-2.json"), b"not json").unwrap();
        let c = kill_orphans(dir.path());
        assert_eq!(c.records, 2);
        assert!(c.killed.is_empty());
        assert_eq!(c.unreadable.len(), 1);
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    #[test]
    fn orphans_are_killed_but_recycled_pids_are_not() {
        use std::os::unix::process::CommandExt as _;
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("process-a");
        std::fs::create_dir_all(&work).unwrap();
        // Recorded orphan, in its own group.
        let mut orphan = std::process::Command::new("sleep")
            .arg("600")
            .process_group(0)
            .spawn()
            .unwrap();
        // Unrelated process whose pid a stale record names with another start time.
        let mut bystander = std::process::Command::new("sleep")
            .arg("600")
            .current_dir(std::env::temp_dir())
            .process_group(0)
            .spawn()
            .unwrap();
        // Stray: never recorded, but working under the records dir.
        let mut stray = std::process::Command::new("sleep")
            .arg("600")
            .current_dir(&work)
            .process_group(0)
            .spawn()
            .unwrap();
        let st = stat(orphan.id()).unwrap().start_time;
        let bst = stat(bystander.id()).unwrap().start_time;
        for (id, pid, start) in [
            ("process-a", orphan.id(), st),
            ("process-b", bystander.id(), bst + 1000),
        ] {
            write(
                dir.path(),
                &Record {
                    process_id: id.into(),
                    fleet_id: "fleet-1".into(),
                    pid,
                    pgid: pid,
                    start_time: Some(start),
                    launch_path: "sleep".into(),
                },
            )
            .unwrap();
        }
        let c = kill_orphans(dir.path());
        assert_eq!(c.killed, vec!["process-a".to_string()]);
        assert_eq!(c.stray_pids, vec![stray.id()]);
        assert!(orphan.wait().unwrap().code().is_none());
        assert!(stray.wait().unwrap().code().is_none());
        assert!(
            bystander.try_wait().unwrap().is_none(),
            "a recycled pid was killed"
        );
        let _ = bystander.kill();
        let _ = bystander.wait();
    }

    #[test]
    fn pruning_keeps_the_newest_and_the_live() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            std::fs::create_dir(dir.path().join(format!("process-{i}"))).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        let live = BTreeSet::from(["process-0".to_string()]);
        prune_workdirs(dir.path(), 2, &live);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, vec!["process-0", "process-3", "process-4"]);
    }
}
