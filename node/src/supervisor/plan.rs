//! The reconcile plan: what this node should run, compared with what it runs.
//!
//! [`desired`] reads the replicated state: every fleet that lists this node in
//! `assigned_nodes`, is not DELETING (or TERMINATED) and has a runtime configuration. Its
//! server-process entries are grouped by [`ProcessKey`] (launch path + parameters; identical
//! entries add up). [`plan`] compares that with the local processes and returns the launches
//! and retirements that close the gap:
//!
//! - a key with fewer counted processes than wanted → launch the difference;
//! - a process of a fleet this node no longer hosts → retire it (graceful terminate);
//! - a process whose key is no longer in its fleet's configuration, or one more than its key
//!   wants → retire it, but only while it hosts no game session (a game in progress finishes
//!   first, then the process ends and is not replaced); not-yet-ready ones go first.
//!
//! Processes that are ending or being terminated are not counted, so their replacements start
//! at once. Pure: no IO, deterministic order.

use std::collections::BTreeMap;

use crate::fsm::State;
use crate::fsm::hosting::{PortRange, RuntimeConfiguration};

/// Which server-process entry a process runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcessKey {
    /// `LaunchPath`.
    pub launch_path: String,
    /// `Parameters`.
    pub parameters: Option<String>,
}

/// What this node should run for one fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredFleet {
    /// Processes wanted per key.
    pub wanted: BTreeMap<ProcessKey, u32>,
    /// The fleet's port range.
    pub ports: PortRange,
}

/// Where a local process is in its life, as far as planning cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Spawned, not ready yet.
    Launching,
    /// Called ProcessReady.
    Ready,
    /// Ending, asked to end or being killed: not counted, not retired again.
    Leaving,
}

/// A local process as planning sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    /// Its process id.
    pub process_id: String,
    /// Its fleet.
    pub fleet_id: String,
    /// Its entry.
    pub key: ProcessKey,
    /// Its stage.
    pub stage: Stage,
    /// Whether it hosts a game session.
    pub in_game: bool,
    /// Launch order (higher = newer).
    pub seq: u64,
}

/// Why a process is retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retire {
    /// Its fleet is deleted, unassigned from this node or has no runtime configuration.
    FleetNotHosted,
    /// Its entry is no longer in the runtime configuration.
    ConfigChanged,
    /// Its entry wants fewer processes.
    Excess,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start `count` processes of `key` for `fleet_id`.
    Launch {
        fleet_id: String,
        key: ProcessKey,
        count: u32,
    },
    /// Ask a process to end.
    Retire { process_id: String, why: Retire },
}

fn wanted(rc: &RuntimeConfiguration) -> BTreeMap<ProcessKey, u32> {
    let mut out = BTreeMap::new();
    for sp in &rc.server_processes {
        let key = ProcessKey {
            launch_path: sp.launch_path.clone(),
            parameters: sp.parameters.clone(),
        };
        *out.entry(key).or_insert(0) += u32::try_from(sp.concurrent_executions).unwrap_or(0);
    }
    out
}

/// The fleets this node should host and what it should run for each.
pub fn desired(state: &State, node_id: u64) -> BTreeMap<String, DesiredFleet> {
    state
        .fleets
        .values()
        .filter(|f| f.assigned_nodes.contains(&node_id) && !f.is_deleting())
        .filter_map(|f| {
            let rc = f.spec.runtime_configuration.as_ref()?;
            Some((
                f.id.clone(),
                DesiredFleet {
                    wanted: wanted(rc),
                    ports: f.spec.ports(),
                },
            ))
        })
        .collect()
}

/// The actions that bring `local` to `desired` (see the module docs).
pub fn plan(desired: &BTreeMap<String, DesiredFleet>, local: &[Local]) -> Vec<Action> {
    let mut actions = Vec::new();
    // (fleet, key) -> counted processes, oldest first.
    let mut counted: BTreeMap<(&str, &ProcessKey), Vec<&Local>> = BTreeMap::new();
    for p in local.iter().filter(|p| p.stage != Stage::Leaving) {
        let Some(fleet) = desired.get(&p.fleet_id) else {
            actions.push(Action::Retire {
                process_id: p.process_id.clone(),
                why: Retire::FleetNotHosted,
            });
            continue;
        };
        if !fleet.wanted.contains_key(&p.key) {
            if !p.in_game {
                actions.push(Action::Retire {
                    process_id: p.process_id.clone(),
                    why: Retire::ConfigChanged,
                });
            }
            continue;
        }
        counted
            .entry((p.fleet_id.as_str(), &p.key))
            .or_default()
            .push(p);
    }
    for (fleet_id, fleet) in desired {
        for (key, &want) in &fleet.wanted {
            let have = counted
                .get_mut(&(fleet_id.as_str(), key))
                .map(std::mem::take)
                .unwrap_or_default();
            let n = u32::try_from(have.len()).unwrap_or(u32::MAX);
            if n < want {
                actions.push(Action::Launch {
                    fleet_id: fleet_id.clone(),
                    key: key.clone(),
                    count: want - n,
                });
            } else if n > want {
                let mut idle: Vec<&Local> = have.into_iter().filter(|p| !p.in_game).collect();
                // Not-ready first, then the newest.
                idle.sort_by_key(|p| (p.stage == Stage::Ready, std::cmp::Reverse(p.seq)));
                let excess = usize::try_from(n - want).unwrap_or(usize::MAX);
                for p in idle.into_iter().take(excess) {
                    actions.push(Action::Retire {
                        process_id: p.process_id.clone(),
                        why: Retire::Excess,
                    });
                }
            }
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::hosting::ServerProcess;
    use crate::fsm::{Fleet, FleetSpec, FleetStatus};

    fn key(p: &str) -> ProcessKey {
        ProcessKey {
            launch_path: p.into(),
            parameters: None,
        }
    }

    fn local(id: &str, fleet: &str, k: &str, stage: Stage, in_game: bool, seq: u64) -> Local {
        Local {
            process_id: id.into(),
            fleet_id: fleet.into(),
            key: key(k),
            stage,
            in_game,
            seq,
        }
    }

    fn fleet(wanted: &[(&str, u32)]) -> DesiredFleet {
        DesiredFleet {
            wanted: wanted.iter().map(|(k, n)| (key(k), *n)).collect(),
            ports: PortRange {
                from_port: 1,
                to_port: 2,
            },
        }
    }

    #[test]
    fn launches_the_missing_and_ignores_leaving() {
        let d = BTreeMap::from([("f1".to_string(), fleet(&[("/a", 3), ("/b", 1)]))]);
        let l = vec![
            local("p1", "f1", "/a", Stage::Ready, false, 1),
            local("p2", "f1", "/a", Stage::Leaving, false, 2),
        ];
        assert_eq!(
            plan(&d, &l),
            vec![
                Action::Launch {
                    fleet_id: "f1".into(),
                    key: key("/a"),
                    count: 2
                },
                Action::Launch {
                    fleet_id: "f1".into(),
                    key: key("/b"),
                    count: 1
                },
            ]
        );
    }

    #[test]
    fn retires_unhosted_changed_and_excess_but_not_games_in_progress() {
        let d = BTreeMap::from([("f1".to_string(), fleet(&[("/a", 1)]))]);
        let l = vec![
            local("p1", "f1", "/a", Stage::Ready, false, 1),
            local("p2", "f1", "/a", Stage::Launching, false, 2),
            local("p3", "f1", "/a", Stage::Ready, false, 3),
            local("p4", "f1", "/old", Stage::Ready, false, 4),
            local("p5", "f1", "/old", Stage::Ready, true, 5),
            local("p6", "f2", "/a", Stage::Ready, true, 6),
        ];
        let retired: Vec<(String, Retire)> = plan(&d, &l)
            .into_iter()
            .map(|a| match a {
                Action::Retire { process_id, why } => (process_id, why),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            retired,
            vec![
                ("p4".into(), Retire::ConfigChanged),
                ("p6".into(), Retire::FleetNotHosted),
                ("p2".into(), Retire::Excess),
                ("p3".into(), Retire::Excess),
            ]
        );
    }

    #[test]
    fn desired_reads_assigned_live_fleets_with_a_configuration() {
        let rc = RuntimeConfiguration {
            server_processes: vec![
                ServerProcess {
                    launch_path: "/a".into(),
                    parameters: None,
                    concurrent_executions: 2,
                },
                ServerProcess {
                    launch_path: "/a".into(),
                    parameters: None,
                    concurrent_executions: 1,
                },
            ],
            max_concurrent_game_session_activations: None,
            game_session_activation_timeout_seconds: None,
        };
        let mk = |id: &str,
                  nodes: &[u64],
                  status: FleetStatus,
                  rc: Option<RuntimeConfiguration>| Fleet {
            id: id.into(),
            arn: format!("arn:{id}"),
            spec: FleetSpec {
                name: id.into(),
                runtime_configuration: rc,
                ..Default::default()
            },
            status,
            creation_time_ms: 0,
            termination_time_ms: None,
            assigned_nodes: nodes.iter().copied().collect(),
            launch_failed: false,
        };
        let mut st = State::default();
        for f in [
            mk("f1", &[1, 2], FleetStatus::Active, Some(rc.clone())),
            mk("f2", &[2], FleetStatus::Active, Some(rc.clone())),
            mk("f3", &[1], FleetStatus::Deleting, Some(rc.clone())),
            mk("f4", &[1], FleetStatus::Active, None),
        ] {
            st.fleets.insert(f.id.clone(), f);
        }
        let d = desired(&st, 1);
        assert_eq!(d.keys().collect::<Vec<_>>(), vec!["f1"]);
        assert_eq!(d["f1"].wanted[&key("/a")], 3);
    }
}
