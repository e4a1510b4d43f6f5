//! Property tests: `apply` agrees with a deliberately simple model, and two
//! replicas fed the same log reach the same state and hash.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// The model: just what a reader can observe of each fleet.
#[derive(Debug, Clone, PartialEq)]
struct ModelFleet {
    name: String,
    deleting: bool,
}

#[derive(Debug, Default)]
struct Model {
    fleets: BTreeMap<String, ModelFleet>,
    tokens: BTreeMap<String, (String, String)>, // token -> (fleet id, name)
}

impl Model {
    /// Returns Ok(Some(name)) for a fleet result, Ok(None) for Done, Err(kind) otherwise.
    fn apply(&mut self, cmd: &Command) -> Result<Option<String>, &'static str> {
        match cmd {
            Command::CreateFleet {
                fleet_id,
                spec,
                idempotency_token,
                ..
            } => {
                if spec.name.is_empty() || spec.name.chars().count() > 1024 {
                    return Err("invalid");
                }
                if let Some(t) = idempotency_token
                    && let Some((id, name)) = self.tokens.get(t)
                {
                    if *name != spec.name {
                        return Err("mismatch");
                    }
                    return match self.fleets.get(id) {
                        Some(f) => Ok(Some(f.name.clone())),
                        None => Err("not_found"),
                    };
                }
                if self.fleets.contains_key(fleet_id) {
                    return Err("invalid");
                }
                self.fleets.insert(
                    fleet_id.clone(),
                    ModelFleet {
                        name: spec.name.clone(),
                        deleting: false,
                    },
                );
                if let Some(t) = idempotency_token {
                    self.tokens
                        .insert(t.clone(), (fleet_id.clone(), spec.name.clone()));
                }
                Ok(Some(spec.name.clone()))
            }
            Command::UpdateFleetAttributes { fleet_id, update } => {
                if update.name.as_ref().is_some_and(|n| n.is_empty()) {
                    return Err("invalid");
                }
                let f = self.fleets.get_mut(fleet_id).ok_or("not_found")?;
                if f.deleting {
                    return Err("status");
                }
                if let Some(n) = &update.name {
                    f.name = n.clone();
                }
                Ok(Some(f.name.clone()))
            }
            Command::DeleteFleet { fleet_id, .. } => {
                let f = self.fleets.get_mut(fleet_id).ok_or("not_found")?;
                f.deleting = true;
                Ok(Some(f.name.clone()))
            }
            Command::FinalizeFleetDeletion { fleet_id, .. } => {
                let f = self.fleets.get(fleet_id).ok_or("not_found")?;
                if !f.deleting {
                    return Err("status");
                }
                self.fleets.remove(fleet_id);
                Ok(None)
            }
            other => unreachable!("the model covers fleet commands only, not {}", other.name()),
        }
    }
}

fn kind(e: &FsmError) -> &'static str {
    match e {
        FsmError::InvalidArgument { .. } => "invalid",
        FsmError::NotFound { .. } => "not_found",
        FsmError::InvalidStatus { .. } => "status",
        FsmError::IdempotentParameterMismatch { .. } => "mismatch",
        FsmError::LimitExceeded { .. } => "limit",
        FsmError::FleetCapacityExceeded { .. } => "capacity",
        FsmError::GameSessionFull { .. } => "full",
        FsmError::TerminalRoutingStrategy { .. } => "terminal",
        FsmError::UnsupportedVersion { .. } => "version",
    }
}

fn arb_cmd() -> impl Strategy<Value = Command> {
    let id = (0u8..6).prop_map(|i| format!("fleet-{i}"));
    let name = prop_oneof![Just(String::new()), "[a-z]{1,8}"];
    let token = proptest::option::of((0u8..4).prop_map(|i| format!("tok-{i}")));
    let at = 0i64..1_000;
    prop_oneof![
        (id.clone(), name.clone(), token, at.clone()).prop_map(
            |(fleet_id, name, idempotency_token, at_ms)| {
                Command::CreateFleet {
                    arn: format!("arn:gamefleet:local::fleet/{fleet_id}"),
                    fleet_id,
                    spec: FleetSpec {
                        name,
                        ..Default::default()
                    },
                    idempotency_token,
                    at_ms,
                }
            }
        ),
        (id.clone(), proptest::option::of(name)).prop_map(|(fleet_id, name)| {
            Command::UpdateFleetAttributes {
                fleet_id,
                update: FleetUpdate {
                    name,
                    ..Default::default()
                },
            }
        }),
        (id.clone(), at.clone())
            .prop_map(|(fleet_id, at_ms)| Command::DeleteFleet { fleet_id, at_ms }),
        (id, at).prop_map(|(fleet_id, at_ms)| Command::FinalizeFleetDeletion { fleet_id, at_ms }),
    ]
}

/// Fleet commands plus every hosting command, for replica agreement.
fn arb_any_cmd() -> impl Strategy<Value = Command> {
    use crate::fsm::hosting::{Capacity, ProcessRecord, RuntimeConfiguration, ServerProcess};
    let id = (0u8..4).prop_map(|i| format!("fleet-{i}"));
    let pid = (0u8..6).prop_map(|i| format!("process-{i}"));
    let at = 0i64..1_000;
    let rc = (1i32..4).prop_map(|n| RuntimeConfiguration {
        server_processes: vec![ServerProcess {
            launch_path: "/g".into(),
            parameters: None,
            concurrent_executions: n,
        }],
        max_concurrent_game_session_activations: None,
        game_session_activation_timeout_seconds: None,
    });
    let status = prop_oneof![
        Just(FleetStatus::Activating),
        Just(FleetStatus::Active),
        Just(FleetStatus::Error),
        Just(FleetStatus::Terminated)
    ];
    prop_oneof![
        4 => arb_cmd(),
        1 => (id.clone(), rc, at.clone()).prop_map(|(fleet_id, runtime_configuration, at_ms)| {
            Command::UpdateRuntimeConfiguration { fleet_id, runtime_configuration, at_ms }
        }),
        1 => (id.clone(), 0i32..3).prop_map(|(fleet_id, d)| Command::UpdateFleetCapacity {
            fleet_id,
            instances: Capacity { desired: d, min: 0, max: 2 },
        }),
        1 => (id.clone(), proptest::collection::btree_set(1u64..4, 0..3), at.clone())
            .prop_map(|(fleet_id, nodes, at_ms)| Command::AssignFleetNodes { fleet_id, nodes, at_ms }),
        1 => (id.clone(), status, at.clone()).prop_map(|(fleet_id, status, at_ms)| Command::SetFleetStatus { fleet_id, status, at_ms }),
        2 => (pid.clone(), id.clone(), 1u64..4).prop_map(|(process_id, fleet_id, node_id)| Command::ProcessLaunched {
            process: ProcessRecord {
                process_id,
                fleet_id,
                node_id,
                pid: 1,
                port: 30000,
                launch_path: "/g".into(),
                status: ProcessStatus::Launching,
                healthy: true,
                launched_at_ms: 0,
                ready_at_ms: None,
                ..Default::default()
            },
        }),
        1 => (pid.clone(), at.clone()).prop_map(|(process_id, at_ms)| Command::ProcessReady { process_id, at_ms, port: None }),
        1 => (pid.clone(), any::<bool>(), at.clone()).prop_map(|(process_id, healthy, at_ms)| Command::ProcessHealthChanged { process_id, healthy, at_ms }),
        1 => (pid.clone(), at.clone()).prop_map(|(process_id, at_ms)| Command::ProcessTerminating { process_id, at_ms }),
        1 => (pid, proptest::option::of(Just("SERVER_PROCESS_CRASHED".to_string())), at.clone())
            .prop_map(|(process_id, event_code, at_ms)| Command::ProcessEnded { process_id, event_code, message: "m".into(), at_ms }),
        1 => (id, at.clone()).prop_map(|(fleet_id, at_ms)| Command::RecordFleetEvent { fleet_id, event_code: "GENERIC_EVENT".into(), message: "m".into(), at_ms }),
        1 => (1u64..4, at).prop_map(|(node_id, at_ms)| Command::NodeProcessesReset { node_id, at_ms }),
    ]
}

proptest! {
    #[test]
    fn refused_hosting_commands_change_nothing(cmds in proptest::collection::vec(arb_any_cmd(), 0..80)) {
        let mut state = State::default();
        for cmd in &cmds {
            let before = state.clone();
            if apply(&mut state, cmd).is_err() {
                prop_assert_eq!(&state, &before, "refused {} changed the state", cmd.name());
            }
            // Invariant: every process belongs to a fleet that exists.
            for p in state.hosting.processes.values() {
                prop_assert!(state.fleets.contains_key(&p.fleet_id), "orphan process {}", p.process_id);
            }
        }
    }

    #[test]
    fn apply_agrees_with_model(cmds in proptest::collection::vec(arb_cmd(), 0..60)) {
        let mut state = State::default();
        let mut model = Model::default();
        for cmd in &cmds {
            let before = state.clone();
            let got = apply(&mut state, cmd);
            let want = model.apply(cmd);
            match (&got, &want) {
                (Ok(Output::Fleet(f)), Ok(Some(name))) => prop_assert_eq!(&f.spec.name, name),
                (Ok(Output::Done), Ok(None)) => {}
                (Err(e), Err(k)) => {
                    prop_assert_eq!(kind(e), *k);
                    prop_assert_eq!(&state, &before, "a refused command changed the state");
                }
                _ => prop_assert!(false, "{cmd:?}: fsm {got:?}, model {want:?}"),
            }
            let observed: BTreeMap<String, ModelFleet> = state.fleets.iter()
                .map(|(id, f)| (id.clone(), ModelFleet { name: f.spec.name.clone(), deleting: f.is_deleting() }))
                .collect();
            prop_assert_eq!(&observed, &model.fleets);
        }
    }

    #[test]
    fn replicas_fed_the_same_log_agree(cmds in proptest::collection::vec(arb_any_cmd(), 0..80), split in 0usize..80) {
        // Replica A applies everything one command per batch; replica B applies the
        // same commands packed into two batches (as group commit may pack them) and
        // through a snapshot round-trip in the middle.
        let mut a = State::default();
        let mut results_a = Vec::new();
        for c in &cmds {
            results_a.extend(apply_batch(&mut a, &Batch::new(vec![c.clone()])));
        }
        let split = split.min(cmds.len());
        let mut b = State::default();
        let mut results_b = apply_batch(&mut b, &Batch::new(cmds[..split].to_vec()));
        let bytes = serde_json::to_vec(&b).unwrap();
        let mut b: State = serde_json::from_slice(&bytes).unwrap();
        results_b.extend(apply_batch(&mut b, &Batch::new(cmds[split..].to_vec())));
        prop_assert_eq!(results_a, results_b);
        prop_assert_eq!(a.hash(), b.hash());
        prop_assert_eq!(a, b);
    }
}

#[test]
fn newer_format_is_refused_without_change() {
    let mut s = State::default();
    let batch = Batch {
        version: FORMAT_VERSION + 1,
        commands: vec![Command::DeleteFleet {
            fleet_id: "fleet-1".into(),
            at_ms: 0,
        }],
    };
    let out = apply_batch(&mut s, &batch);
    assert!(matches!(out[0], Err(FsmError::UnsupportedVersion { .. })));
    assert_eq!(s, State::default());
}

#[test]
fn idempotency_tokens_expire_after_ttl() {
    let mut s = State::default();
    let create = |id: &str, at_ms| Command::CreateFleet {
        fleet_id: id.into(),
        arn: String::new(),
        spec: FleetSpec {
            name: "n".into(),
            ..Default::default()
        },
        idempotency_token: Some("t".into()),
        at_ms,
    };
    let first = apply(&mut s, &create("fleet-a", 0)).unwrap();
    let again = apply(&mut s, &create("fleet-b", 10)).unwrap();
    assert_eq!(first, again, "a retried create returns the original fleet");
    assert_eq!(s.fleets.len(), 1);
    apply(&mut s, &create("fleet-c", IDEMPOTENCY_TTL_MS + 1)).unwrap();
    assert_eq!(s.fleets.len(), 2, "an expired token creates a new fleet");
}

#[test]
fn hash_changes_with_state() {
    let mut s = State::default();
    let h0 = s.hash();
    apply(
        &mut s,
        &Command::CreateFleet {
            fleet_id: "fleet-1".into(),
            arn: String::new(),
            spec: FleetSpec {
                name: "n".into(),
                ..Default::default()
            },
            idempotency_token: None,
            at_ms: 1,
        },
    )
    .unwrap();
    assert_ne!(h0, s.hash());
}
