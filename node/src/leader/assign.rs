//! Pure placement of fleets on nodes: which nodes host each fleet.
//!
//! A fleet with a runtime configuration is hosted by `instances.desired`
//! nodes whose `location` label is one of the fleet's locations (any node when
//! it names none). Nodes that already host it keep it while they stay
//! eligible (no needless moves); missing hosts are the eligible nodes with the
//! fewest fleets; a deleting fleet is hosted nowhere (its processes end).

use std::collections::{BTreeMap, BTreeSet};

use crate::fsm::Fleet;

/// A node as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    pub location: Option<String>,
    /// Reachable recently (see `leader::liveness`).
    pub alive: bool,
}

/// The nodes each fleet should have, for fleets whose assignment must change.
pub fn plan(
    fleets: &BTreeMap<String, Fleet>,
    nodes: &BTreeMap<u64, NodeView>,
) -> Vec<(String, BTreeSet<u64>)> {
    // Load: fleets per node, counting current assignments, updated as we plan.
    let mut load: BTreeMap<u64, usize> = nodes.keys().map(|id| (*id, 0)).collect();
    for f in fleets.values() {
        for n in &f.assigned_nodes {
            if let Some(l) = load.get_mut(n) {
                *l += 1;
            }
        }
    }
    let mut changes = Vec::new();
    for f in fleets.values() {
        let want = wanted(f, nodes, &mut load);
        if want != f.assigned_nodes {
            changes.push((f.id.clone(), want));
        }
    }
    changes
}

fn eligible(f: &Fleet, n: &NodeView) -> bool {
    n.alive
        && (f.spec.locations.is_empty()
            || n.location
                .as_ref()
                .is_some_and(|l| f.spec.locations.iter().any(|x| x == l)))
}

fn wanted(
    f: &Fleet,
    nodes: &BTreeMap<u64, NodeView>,
    load: &mut BTreeMap<u64, usize>,
) -> BTreeSet<u64> {
    if f.is_deleting() || f.spec.runtime_configuration.is_none() {
        return BTreeSet::new();
    }
    let desired = usize::try_from(f.spec.instances.desired).unwrap_or(0);
    let mut keep: BTreeSet<u64> = f
        .assigned_nodes
        .iter()
        .copied()
        .filter(|id| nodes.get(id).is_some_and(|n| eligible(f, n)))
        .collect();
    // Too many (desired lowered): drop the most loaded first.
    while keep.len() > desired {
        let Some(&drop) = keep
            .iter()
            .max_by_key(|id| (load.get(id).copied().unwrap_or(0), **id))
        else {
            break;
        };
        keep.remove(&drop);
        if let Some(l) = load.get_mut(&drop) {
            *l = l.saturating_sub(1);
        }
    }
    // Too few: add the least loaded eligible nodes (ties by id, so the plan is deterministic).
    while keep.len() < desired {
        let next = nodes
            .iter()
            .filter(|(id, n)| !keep.contains(id) && eligible(f, n))
            .min_by_key(|(id, _)| (load.get(id).copied().unwrap_or(0), **id))
            .map(|(id, _)| *id);
        let Some(id) = next else { break };
        keep.insert(id);
        if !f.assigned_nodes.contains(&id) {
            *load.entry(id).or_default() += 1;
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::fleet::{FleetSpec, FleetStatus};
    use crate::fsm::hosting::{Capacity, RuntimeConfiguration, ServerProcess};

    fn fleet(id: &str, desired: i32, locations: &[&str], assigned: &[u64]) -> Fleet {
        Fleet {
            id: id.into(),
            arn: String::new(),
            spec: FleetSpec {
                name: id.into(),
                runtime_configuration: Some(RuntimeConfiguration {
                    server_processes: vec![ServerProcess {
                        launch_path: "/bin/true".into(),
                        parameters: None,
                        concurrent_executions: 1,
                    }],
                    max_concurrent_game_session_activations: None,
                    game_session_activation_timeout_seconds: None,
                }),
                locations: locations.iter().map(|s| s.to_string()).collect(),
                instances: Capacity {
                    desired,
                    min: 0,
                    max: desired.max(1),
                },
                ..Default::default()
            },
            status: FleetStatus::New,
            creation_time_ms: 0,
            termination_time_ms: None,
            assigned_nodes: assigned.iter().copied().collect(),
            launch_failed: false,
        }
    }

    fn nodes(spec: &[(u64, Option<&str>, bool)]) -> BTreeMap<u64, NodeView> {
        spec.iter()
            .map(|(id, loc, alive)| {
                (
                    *id,
                    NodeView {
                        location: loc.map(str::to_string),
                        alive: *alive,
                    },
                )
            })
            .collect()
    }

    fn plan_of(fleets: Vec<Fleet>, n: &BTreeMap<u64, NodeView>) -> BTreeMap<String, Vec<u64>> {
        let map = fleets.into_iter().map(|f| (f.id.clone(), f)).collect();
        plan(&map, n)
            .into_iter()
            .map(|(id, s)| (id, s.into_iter().collect()))
            .collect()
    }

    #[test]
    fn spreads_new_fleets_over_the_least_loaded_matching_nodes() {
        let n = nodes(&[
            (1, Some("eu"), true),
            (2, Some("eu"), true),
            (3, Some("us"), true),
        ]);
        let p = plan_of(
            vec![
                fleet("fleet-a", 2, &["eu"], &[]),
                fleet("fleet-b", 1, &[], &[]),
            ],
            &n,
        );
        assert_eq!(p["fleet-a"], vec![1, 2]);
        assert_eq!(
            p["fleet-b"],
            vec![3],
            "node 3 is the only one with no fleet yet"
        );
    }

    #[test]
    fn keeps_stable_hosts_and_replaces_lost_ones() {
        let n = nodes(&[
            (1, None, true),
            (2, None, false),
            (3, None, true),
            (4, None, true),
        ]);
        let p = plan_of(vec![fleet("fleet-a", 2, &[], &[2, 4])], &n);
        assert_eq!(
            p["fleet-a"],
            vec![1, 4],
            "4 stays, lost node 2 is replaced by the least loaded"
        );
        let unchanged = plan_of(vec![fleet("fleet-a", 2, &[], &[1, 4])], &n);
        assert!(unchanged.is_empty(), "a valid assignment is left alone");
    }

    #[test]
    fn deleting_or_data_only_fleets_are_hosted_nowhere_and_capacity_is_capped_by_nodes() {
        let n = nodes(&[(1, None, true)]);
        let mut deleting = fleet("fleet-d", 1, &[], &[1]);
        deleting.status = FleetStatus::Deleting;
        let mut data_only = fleet("fleet-x", 1, &[], &[]);
        data_only.spec.runtime_configuration = None;
        let p = plan_of(
            vec![deleting, data_only, fleet("fleet-big", 5, &[], &[])],
            &n,
        );
        assert_eq!(p["fleet-d"], Vec::<u64>::new());
        assert!(!p.contains_key("fleet-x"));
        assert_eq!(p["fleet-big"], vec![1]);
        let none = plan_of(vec![fleet("fleet-eu", 1, &["eu"], &[])], &n);
        assert!(none.is_empty(), "no node in location eu: nothing to assign");
    }
}
