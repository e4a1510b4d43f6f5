//! Faults for `gamefleet-chaos run`: the kinds a run may inject, a seeded schedule of them
//! ([`schedule`], pure: the same seed, duration and kinds always give the same schedule), and
//! their injection into a real [`Cluster`] ([`inject`]) and removal ([`heal`]).
//!
//! | kind (`--faults`) | faults |
//! |---|---|
//! | `kill` | SIGKILL of a random node, of the leader, or of a majority; restarted when healed |
//! | `pause` | SIGSTOP of a random node or of the leader; SIGCONT when healed |
//! | `partition` | isolate a node, isolate the leader, majority/minority split, one-way cut (iptables in the nodes' network namespaces) |
//! | `slow` | 50-200 ms delay with jitter on a node's link (tc netem) |
//! | `lossy` | 10-30 % packet loss on a node's link (tc netem) |
//! | `game-server` | kill -9 of random game server processes |
//! | `crash-all` | SIGKILL of every node at once, then a restart of all |
//!
//! Network kinds need a [`NetLab`] (root); the runner refuses them otherwise.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::cluster::Cluster;
use crate::net::NetLab;

/// A kind of fault a run may inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    Kill,
    Pause,
    Partition,
    Slow,
    Lossy,
    GameServer,
    CrashAll,
}

impl FaultKind {
    /// Every kind, in `--faults` order.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Kill,
        FaultKind::Pause,
        FaultKind::Partition,
        FaultKind::Slow,
        FaultKind::Lossy,
        FaultKind::GameServer,
        FaultKind::CrashAll,
    ];

    /// The `--faults` name.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Partition => "partition",
            FaultKind::Slow => "slow",
            FaultKind::Lossy => "lossy",
            FaultKind::GameServer => "game-server",
            FaultKind::CrashAll => "crash-all",
        }
    }

    /// Whether the kind cuts or degrades the network (needs a [`NetLab`]).
    pub fn needs_network(self) -> bool {
        matches!(
            self,
            FaultKind::Partition | FaultKind::Slow | FaultKind::Lossy
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                let all: Vec<&str> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown fault kind {s:?}; known: {}", all.join(","))
            })
    }
}

/// One concrete fault. Node indexes are the cluster's; `Leader` targets are resolved when the
/// fault is injected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fault", rename_all = "kebab-case")]
pub enum Fault {
    KillNode {
        node: usize,
    },
    KillLeader,
    KillMajority {
        nodes: Vec<usize>,
    },
    PauseNode {
        node: usize,
    },
    PauseLeader,
    IsolateNode {
        node: usize,
    },
    IsolateLeader,
    Split {
        minority: Vec<usize>,
    },
    CutOneWay {
        from: usize,
        to: usize,
    },
    Slow {
        node: usize,
        delay_ms: u32,
        jitter_ms: u32,
    },
    Lossy {
        node: usize,
        percent: u32,
    },
    KillGameServers {
        count: usize,
    },
    CrashAll,
}

impl Fault {
    /// The kind this fault belongs to.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::KillNode { .. } | Fault::KillLeader | Fault::KillMajority { .. } => {
                FaultKind::Kill
            }
            Fault::PauseNode { .. } | Fault::PauseLeader => FaultKind::Pause,
            Fault::IsolateNode { .. }
            | Fault::IsolateLeader
            | Fault::Split { .. }
            | Fault::CutOneWay { .. } => FaultKind::Partition,
            Fault::Slow { .. } => FaultKind::Slow,
            Fault::Lossy { .. } => FaultKind::Lossy,
            Fault::KillGameServers { .. } => FaultKind::GameServer,
            Fault::CrashAll => FaultKind::CrashAll,
        }
    }
}

/// A fault at a time of the run, held for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    /// When to inject it, from the start of the run.
    #[serde(rename = "at_ms")]
    pub at: u64,
    /// How long it lasts before it is healed.
    #[serde(rename = "hold_ms")]
    pub hold: u64,
    pub fault: Fault,
}

/// Shapes of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleShape {
    /// Quiet time between a heal and the next fault.
    pub gap: Duration,
    /// Shortest and longest time a fault is held.
    pub hold_min: Duration,
    pub hold_max: Duration,
}

impl Default for ScheduleShape {
    fn default() -> Self {
        ScheduleShape {
            gap: Duration::from_secs(4),
            hold_min: Duration::from_secs(2),
            hold_max: Duration::from_secs(8),
        }
    }
}

/// A seeded schedule of faults of `kinds` on `nodes` nodes over `duration`: one fault at a time,
/// kinds taken in turn (so every enabled kind occurs when the run is long enough), targets and
/// hold times drawn from the seed. The last fault is healed before `duration` ends.
pub fn schedule(
    seed: u64,
    nodes: usize,
    duration: Duration,
    kinds: &[FaultKind],
    shape: ScheduleShape,
) -> Vec<Planned> {
    let mut out = Vec::new();
    if kinds.is_empty() || nodes == 0 {
        return out;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let (end, gap) = (ms(duration), ms(shape.gap));
    let (hold_min, hold_max) = (
        ms(shape.hold_min),
        ms(shape.hold_max).max(ms(shape.hold_min)),
    );
    let mut t = gap;
    let mut turn = 0usize;
    loop {
        let hold = rng.random_range(hold_min..=hold_max);
        if t.saturating_add(hold) >= end {
            break;
        }
        let kind = kinds[turn % kinds.len()];
        turn += 1;
        out.push(Planned {
            at: t,
            hold,
            fault: draw(&mut rng, kind, nodes),
        });
        t = t.saturating_add(hold).saturating_add(gap);
    }
    out
}

fn draw(rng: &mut StdRng, kind: FaultKind, nodes: usize) -> Fault {
    let node = rng.random_range(0..nodes);
    let majority = nodes / 2 + 1;
    let pick = |rng: &mut StdRng, k: usize| {
        let mut all: Vec<usize> = (0..nodes).collect();
        for i in 0..all.len() {
            let j = rng.random_range(i..all.len());
            all.swap(i, j);
        }
        let mut some: Vec<usize> = all.into_iter().take(k).collect();
        some.sort_unstable();
        some
    };
    match kind {
        FaultKind::Kill => match rng.random_range(0..4) {
            0 | 1 => Fault::KillNode { node },
            2 => Fault::KillLeader,
            _ => Fault::KillMajority {
                nodes: pick(rng, majority),
            },
        },
        FaultKind::Pause => {
            if rng.random_bool(0.5) {
                Fault::PauseNode { node }
            } else {
                Fault::PauseLeader
            }
        }
        FaultKind::Partition => match rng.random_range(0..4) {
            0 => Fault::IsolateNode { node },
            1 => Fault::IsolateLeader,
            2 => Fault::Split {
                minority: pick(rng, nodes - majority),
            },
            _ => Fault::CutOneWay {
                from: node,
                to: (node + 1 + rng.random_range(0..nodes.max(2) - 1)) % nodes,
            },
        },
        FaultKind::Slow => Fault::Slow {
            node,
            delay_ms: rng.random_range(50..=200),
            jitter_ms: rng.random_range(0..=50),
        },
        FaultKind::Lossy => Fault::Lossy {
            node,
            percent: rng.random_range(10..=30),
        },
        FaultKind::GameServer => Fault::KillGameServers {
            count: rng.random_range(1..=3),
        },
        FaultKind::CrashAll => Fault::CrashAll,
    }
}

/// What an injected fault did, so [`heal`] can undo exactly that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Injected {
    /// Nodes killed (restarted by the heal).
    pub killed: Vec<usize>,
    /// Nodes paused (resumed by the heal).
    pub paused: Vec<usize>,
    /// Whether network rules were added (removed by the heal).
    pub network: bool,
    /// Game server pids killed.
    pub game_servers: Vec<u32>,
    /// Human-readable description (with resolved leader targets).
    pub description: String,
}

/// Injects `fault` into `cluster` (network faults through `lab`); `game_server_pids` lists the
/// hosted game servers to choose from for `KillGameServers`.
pub async fn inject(
    cluster: &Cluster,
    lab: Option<&NetLab>,
    fault: &Fault,
    game_server_pids: &[u32],
) -> anyhow::Result<Injected> {
    let mut done = Injected {
        killed: Vec::new(),
        paused: Vec::new(),
        network: false,
        game_servers: Vec::new(),
        description: String::new(),
    };
    let leader = || async {
        cluster
            .wait_leader(Duration::from_secs(10))
            .await
            .context("finding the leader to target")
    };
    let net = || lab.context("network faults need a network lab (root)");
    match fault {
        Fault::KillNode { node } => kill(cluster, &mut done, &[*node])?,
        Fault::KillLeader => {
            let l = leader().await?;
            kill(cluster, &mut done, &[l])?;
        }
        Fault::KillMajority { nodes } => kill(cluster, &mut done, nodes)?,
        Fault::PauseNode { node } => pause(cluster, &mut done, *node)?,
        Fault::PauseLeader => {
            let l = leader().await?;
            pause(cluster, &mut done, l)?;
        }
        Fault::IsolateNode { node } => {
            net()?.isolate(*node)?;
            done.network = true;
            done.description = format!("isolate {}", cluster.name(*node));
        }
        Fault::IsolateLeader => {
            let l = leader().await?;
            net()?.isolate(l)?;
            done.network = true;
            done.description = format!("isolate the leader {}", cluster.name(l));
        }
        Fault::Split { minority } => {
            let majority: Vec<usize> = (0..cluster.len())
                .filter(|i| !minority.contains(i))
                .collect();
            net()?.partition(&[minority.clone(), majority.clone()])?;
            done.network = true;
            done.description = format!("split {minority:?} | {majority:?}");
        }
        Fault::CutOneWay { from, to } => {
            net()?.cut_one_way(*from, *to)?;
            done.network = true;
            done.description = format!(
                "cut {} → {} (one way)",
                cluster.name(*from),
                cluster.name(*to)
            );
        }
        Fault::Slow {
            node,
            delay_ms,
            jitter_ms,
        } => {
            net()?.slow(*node, *delay_ms, *jitter_ms)?;
            done.network = true;
            done.description = format!(
                "slow link of {} ({delay_ms}±{jitter_ms} ms)",
                cluster.name(*node)
            );
        }
        Fault::Lossy { node, percent } => {
            net()?.lossy(*node, f64::from(*percent))?;
            done.network = true;
            done.description = format!("lossy link of {} ({percent} %)", cluster.name(*node));
        }
        Fault::KillGameServers { count } => {
            for pid in game_server_pids.iter().take(*count) {
                let raw = i32::try_from(*pid).context("pid out of range")?;
                if nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(raw),
                    nix::sys::signal::Signal::SIGKILL,
                )
                .is_ok()
                {
                    done.game_servers.push(*pid);
                }
            }
            done.description = format!("kill -9 of game servers {:?}", done.game_servers);
        }
        Fault::CrashAll => {
            done.killed = cluster.kill_all()?;
            done.description = "SIGKILL of every node".into();
        }
    }
    Ok(done)
}

fn kill(cluster: &Cluster, done: &mut Injected, nodes: &[usize]) -> anyhow::Result<()> {
    for &n in nodes {
        if cluster.is_running(n) {
            cluster.kill(n)?;
            done.killed.push(n);
        }
    }
    let names: Vec<&str> = done.killed.iter().map(|n| cluster.name(*n)).collect();
    done.description = format!("SIGKILL of {}", names.join(", "));
    Ok(())
}

fn pause(cluster: &Cluster, done: &mut Injected, node: usize) -> anyhow::Result<()> {
    if !cluster.is_running(node) {
        bail!("{} is not running", cluster.name(node));
    }
    cluster.pause(node)?;
    done.paused.push(node);
    done.description = format!("SIGSTOP of {}", cluster.name(node));
    Ok(())
}

/// Undoes `injected`: network rules removed, paused nodes resumed, killed nodes restarted.
pub async fn heal(
    cluster: &Cluster,
    lab: Option<&NetLab>,
    injected: &Injected,
) -> anyhow::Result<()> {
    if injected.network
        && let Some(lab) = lab
    {
        lab.heal()?;
    }
    for &n in &injected.paused {
        cluster.resume(n)?;
    }
    for &n in &injected.killed {
        cluster.restart(n).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_print() {
        for k in FaultKind::ALL {
            assert_eq!(k.as_str().parse::<FaultKind>(), Ok(k));
        }
        let e = "nuke".parse::<FaultKind>().unwrap_err();
        assert!(e.contains("kill,pause,partition"), "{e}");
    }

    #[test]
    fn schedules_are_seeded_sequential_and_cover_every_kind() {
        let kinds = FaultKind::ALL.to_vec();
        let a = schedule(
            7,
            5,
            Duration::from_secs(600),
            &kinds,
            ScheduleShape::default(),
        );
        let b = schedule(
            7,
            5,
            Duration::from_secs(600),
            &kinds,
            ScheduleShape::default(),
        );
        let c = schedule(
            8,
            5,
            Duration::from_secs(600),
            &kinds,
            ScheduleShape::default(),
        );
        assert_eq!(a, b, "same seed, same schedule");
        assert_ne!(a, c, "another seed, another schedule");
        for k in &kinds {
            assert!(a.iter().any(|p| p.fault.kind() == *k), "{k} missing");
        }
        for w in a.windows(2) {
            assert!(w[0].at + w[0].hold < w[1].at, "faults overlap: {w:?}");
        }
        let last = a.last().expect("faults");
        assert!(last.at + last.hold < 600_000);
        for p in &a {
            match &p.fault {
                Fault::KillMajority { nodes } => assert_eq!(nodes.len(), 3),
                Fault::Split { minority } => assert_eq!(minority.len(), 2),
                Fault::CutOneWay { from, to } => assert_ne!(from, to),
                Fault::KillNode { node } | Fault::PauseNode { node } => assert!(*node < 5),
                _ => {}
            }
        }
    }

    #[test]
    fn short_runs_and_empty_kinds() {
        assert!(
            schedule(
                1,
                3,
                Duration::from_secs(3),
                &FaultKind::ALL,
                ScheduleShape::default()
            )
            .is_empty()
        );
        assert!(
            schedule(
                1,
                3,
                Duration::from_secs(600),
                &[],
                ScheduleShape::default()
            )
            .is_empty()
        );
        let only = schedule(
            1,
            3,
            Duration::from_secs(120),
            &[FaultKind::Pause],
            ScheduleShape::default(),
        );
        assert!(!only.is_empty());
        assert!(only.iter().all(|p| p.fault.kind() == FaultKind::Pause));
    }
}
