//! CPU accounting for the benchmarks: CPU time of the cluster's `gamefleetd` processes, of game
//! servers, of the load generator itself and of the whole machine, from `/proc`, between two
//! samples. On a shared 2-core machine, CPU time per operation is a steadier measure of
//! efficiency than operations per second.

use std::time::{Duration, Instant};

use crate::cluster::Cluster;

/// Linux reports process CPU time in clock ticks of `sysconf(_SC_CLK_TCK)`, 100 on every
/// mainstream architecture.
const TICKS_PER_SEC: f64 = 100.0;

/// utime + stime of `pid`, in ticks.
pub fn proc_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // NB: the command name may contain spaces; fields are counted after its closing paren.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// (busy, total) ticks of the whole machine since boot, from `/proc/stat`.
pub fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    // idle + iowait.
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// The pids of the cluster's `gamefleetd` processes (found by their data dir in `/proc`).
pub fn node_pids(cluster: &Cluster) -> Vec<u32> {
    let dirs: Vec<String> = cluster
        .members()
        .map(|i| cluster.data_dir(i).to_string_lossy().into_owned())
        .collect();
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains("gamefleetd") && dirs.iter().any(|d| cmd.contains(d.as_str())) {
            pids.push(pid);
        }
    }
    pids
}

/// Who to charge CPU time to.
pub struct CpuProbe {
    /// The cluster's gamefleetd processes.
    pub nodes: Vec<u32>,
    /// Game servers (or none).
    pub servers: Vec<u32>,
}

/// CPU ticks at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSample {
    at: Option<Instant>,
    nodes: u64,
    servers: u64,
    bench: u64,
    busy: u64,
    total: u64,
}

impl CpuProbe {
    /// The ticks now.
    pub fn sample(&self) -> CpuSample {
        let sum = |pids: &[u32]| pids.iter().filter_map(|&p| proc_ticks(p)).sum::<u64>();
        let (busy, total) = machine_ticks();
        CpuSample {
            at: Some(Instant::now()),
            nodes: sum(&self.nodes),
            servers: sum(&self.servers),
            bench: proc_ticks(std::process::id()).unwrap_or(0),
            busy,
            total,
        }
    }
}

/// CPU use over one phase.
#[derive(Debug, Clone)]
pub struct CpuUse {
    /// The phase.
    pub phase: &'static str,
    /// Wall time.
    pub wall: Duration,
    /// Share of all CPUs busy (any process), 0-1.
    pub machine_busy: f64,
    /// CPU seconds of the gamefleetd processes.
    pub nodes_s: f64,
    /// CPU seconds of the game servers.
    pub servers_s: f64,
    /// CPU seconds of this load generator.
    pub bench_s: f64,
    /// CPU seconds of every other process on the machine (other work sharing it, kernel
    /// threads).
    pub other_s: f64,
}

/// CPU use between two samples.
pub fn cpu_use(phase: &'static str, a: CpuSample, b: CpuSample) -> CpuUse {
    let secs = |x: u64, y: u64| y.saturating_sub(x) as f64 / TICKS_PER_SEC;
    let wall = match (a.at, b.at) {
        (Some(x), Some(y)) => y.saturating_duration_since(x),
        _ => Duration::ZERO,
    };
    let total = b.total.saturating_sub(a.total);
    let (nodes_s, servers_s, bench_s) = (
        secs(a.nodes, b.nodes),
        secs(a.servers, b.servers),
        secs(a.bench, b.bench),
    );
    CpuUse {
        phase,
        wall,
        machine_busy: if total == 0 {
            0.0
        } else {
            b.busy.saturating_sub(a.busy) as f64 / total as f64
        },
        nodes_s,
        servers_s,
        bench_s,
        other_s: (secs(a.busy, b.busy) - nodes_s - servers_s - bench_s).max(0.0),
    }
}
