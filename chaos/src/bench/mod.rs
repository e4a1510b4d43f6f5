//! Benchmarks that drive a local [`Cluster`](crate::cluster::Cluster) of real `gamefleetd`
//! processes and print markdown tables for docs/benchmarks.md.
//!
//! - [`writes`]: replicated write throughput and latency (`update_fleet`) per client count.
//! - [`failover`]: time from a SIGKILL of the leader to the first acknowledged write after it.
//! - [`processes`]: hosting on one node: time to N ready game servers, memory per process,
//!   kill -9 → ready replacement.
//! - [`sessions`]: game session placement (latency to placed and to ACTIVE, throughput until a
//!   warm pool is used up) and player session reservations, with safety checks afterwards.
//!
//! Numbers are only meaningful with a release `gamefleetd` (`cargo build --release -p
//! gamefleet-node`); a debug binary is reported in the table header.

pub mod cpu;
pub mod failover;
pub mod processes;
pub mod sessions;
pub mod writes;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use gamefleet_client::{Client, ClientOptions, Consistency};

use crate::cluster::{ClusterBuilder, find_gamefleetd};

/// Cluster options shared by every benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// The gamefleetd binary (default: $GAMEFLEETD_BIN, else next to this executable).
    #[arg(long, value_name = "PATH")]
    pub gamefleetd: Option<PathBuf>,
    /// Directory under which the cluster's temporary data dir is created (default: system temp).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Extra argument for every node, repeatable (e.g. `--node-arg=--heartbeat-ms=50`).
    #[arg(long = "node-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub node_args: Vec<String>,
    /// Keep the cluster directory (data and logs) after the run.
    #[arg(long)]
    pub keep: bool,
}

impl ClusterArgs {
    /// The binary to run.
    pub fn binary(&self) -> anyhow::Result<PathBuf> {
        match &self.gamefleetd {
            Some(p) if p.is_file() => Ok(p.clone()),
            Some(p) => bail!("--gamefleetd {} is not a file", p.display()),
            None => find_gamefleetd(),
        }
    }

    /// A builder for `nodes` nodes with these options.
    pub fn builder(&self, nodes: usize) -> anyhow::Result<ClusterBuilder> {
        let mut b = ClusterBuilder::new(nodes)
            .binary(self.binary()?)
            .args(self.node_args.iter().cloned())
            .start_timeout(Duration::from_secs(120));
        if nodes >= 5 {
            b = b.voters(5);
        }
        if let Some(dir) = &self.dir {
            b = b.base_dir(dir);
        }
        Ok(b)
    }
}

/// Parses `10s`, `500ms`, `2m`, `1.5s` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (num, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(pos) => text.split_at(pos),
        None => (text, "s"),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected e.g. 10s, 500ms, 2m"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("invalid duration unit in {text:?}: use ms, s or m")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("invalid duration {text:?}: {e}"))
}

/// A one-line description of the binary for table headers.
pub fn describe_binary(path: &Path) -> String {
    let profile = if path.components().any(|c| c.as_os_str() == "release") {
        "release"
    } else if path.components().any(|c| c.as_os_str() == "debug") {
        "DEBUG build: numbers not representative"
    } else {
        "unknown profile"
    };
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("`{}` ({profile}), {cpus} CPUs", path.display())
}

/// Prints `text` to stdout and, with `out`, writes it to that file.
pub fn emit(text: &str, out: Option<&Path>) -> anyhow::Result<()> {
    println!("{text}");
    if let Some(path) = out {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Milliseconds with two decimals, from microseconds.
pub fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

/// The nearest-rank `q` quantile of sorted values.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<Duration> = (1..=5).map(Duration::from_secs).collect();
        assert_eq!(quantile(&v, 0.5), Duration::from_secs(3));
        assert_eq!(quantile(&v, 0.99), Duration::from_secs(5));
        assert_eq!(quantile(&v, 0.0), Duration::from_secs(1));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }
}

/// How a benchmark client picks the node it sends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Routing {
    /// Each client knows one node (round-robin); followers forward writes to the leader.
    Pinned,
    /// Each client knows every node and follows the leader hint in the nodes' answers.
    Leader,
}

impl Routing {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Routing::Pinned => "pinned",
            Routing::Leader => "leader",
        }
    }
}

/// How a benchmark's concurrent clients reach the cluster.
#[derive(Debug, Clone, Copy)]
pub struct ClientSetup {
    /// Which node each client sends to.
    pub routing: Routing,
    /// Client handles (connections per node) the clients share; 0: one per client.
    pub conns: usize,
    /// Client-side batching (`ClientOptions::batch`).
    pub batch: bool,
}

/// One client per task, `tasks` of them, over at most `conns` connections per node (as etcd's
/// benchmark tool's `--clients` and `--conns`): task `k` uses client handle `k mod conns`, and
/// tasks that share a handle share its HTTP/2 connections (the client library multiplexes
/// concurrent calls on one handle, as a backend that clones one `Client` into its request
/// handlers does). `conns` of 0, or at least `tasks`, gives every task its own connection.
pub fn routed_clients(
    endpoints: &[String],
    tasks: usize,
    setup: ClientSetup,
    consistency: Consistency,
) -> anyhow::Result<Vec<Client>> {
    let ClientSetup {
        routing,
        conns,
        batch,
    } = setup;
    let conns = if conns == 0 { tasks } else { conns.min(tasks) }.max(1);
    let handles = (0..conns)
        .map(|k| routed_client(endpoints, k, routing, consistency, batch))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((0..tasks).map(|k| handles[k % conns].clone()).collect())
}

/// Client `task`'s client under `routing`: `Pinned` knows node `task mod n` only; `Leader` knows
/// every node (starting with `task mod n`) and follows the leader hint. With `batch`, the client
/// batches concurrent calls (`ClientOptions::batch`).
pub fn routed_client(
    endpoints: &[String],
    task: usize,
    routing: Routing,
    consistency: Consistency,
    batch: bool,
) -> anyhow::Result<Client> {
    let n = endpoints.len().max(1);
    let mine = match routing {
        Routing::Pinned => endpoints.iter().skip(task % n).take(1).cloned().collect(),
        Routing::Leader => {
            let mut all = endpoints.to_vec();
            all.rotate_left(task % n);
            all
        }
    };
    Ok(Client::with_options(ClientOptions {
        endpoints: mine,
        attempt_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(10),
        consistency,
        follow_leader: routing == Routing::Leader,
        batch,
    })?)
}
