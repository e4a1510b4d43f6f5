//! Property tests: `apply` agrees with a deliberately simple model, and two
//! replicas fed the same log reach the same state and hash.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

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

/// Fleet, hosting, session, player and alias commands, for replica agreement.
fn arb_any_cmd() -> impl Strategy<Value = Command> {
    prop_oneof![
        1 => arb_hosting_cmd(),
        1 => arb_session_cmd(),
    ]
}

/// Fleet commands plus every hosting command.
fn arb_hosting_cmd() -> impl Strategy<Value = Command> {
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
            let result = apply(&mut state, cmd);
            if result.is_err() {
                prop_assert_eq!(&state, &before, "refused {} changed the state", cmd.name());
            }
            // Invariant: every process belongs to a fleet that exists.
            for p in state.hosting.processes.values() {
                prop_assert!(state.fleets.contains_key(&p.fleet_id), "orphan process {}", p.process_id);
            }
            check_step(&before, &state, cmd, &result, true)?;
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
        check_replicas(&cmds, split)?;
    }

    /// The same on logs that reach deep session states (full sessions, accepted players,
    /// purges), made by steering commands at what the state holds.
    #[test]
    fn replicas_agree_on_session_logs(ops in proptest::collection::vec(arb_op(), 0..120), split in 0usize..120) {
        let (cmds, _) = steer_log(&ops);
        check_replicas(&cmds, split)?;
    }

    /// After every command: the session invariants hold, a refused command changed
    /// nothing (state and hash), and every status change is a legal transition.
    #[test]
    fn session_invariants_hold_after_every_command(ops in proptest::collection::vec(arb_op(), 0..150)) {
        let mut state = State::default();
        for cmd in setup_log() {
            let before = state.clone();
            let result = apply(&mut state, &cmd);
            prop_assert!(result.is_ok(), "setup: {result:?}");
            check_step(&before, &state, &cmd, &result, true)?;
        }
        for (i, op) in ops.iter().enumerate() {
            let (cmd, steered) = steer(&state, op);
            let before = state.clone();
            let result = apply(&mut state, &cmd);
            check_step(&before, &state, &cmd, &result, i % 8 == 0)?;
            // The leader's placement and apply agree: a process `place` picked for a valid
            // request is accepted (unless the id is taken or the creator is over its limit).
            if let (Steer::Place(..), Command::CreateGameSession { game_session_id, request, .. }) = (&op.steer, &cmd)
                && steered
                && !before.sessions.game_sessions.contains_key(game_session_id)
                && request.validate().is_ok()
            {
                prop_assert!(
                    matches!(result, Ok(_) | Err(FsmError::LimitExceeded { .. })),
                    "placement picked a process apply refused: {cmd:?} -> {result:?}"
                );
            }
        }
    }

    /// The same invariants on undirected commands (small id spaces, many collisions).
    #[test]
    fn session_invariants_hold_for_raw_commands(cmds in proptest::collection::vec(arb_session_cmd(), 0..150)) {
        let mut state = State::default();
        for cmd in setup_log() {
            apply(&mut state, &cmd).unwrap();
        }
        for cmd in &cmds {
            let before = state.clone();
            let result = apply(&mut state, cmd);
            check_step(&before, &state, cmd, &result, true)?;
        }
    }
}

/// Replica A applies everything one command per batch; replica B applies the same commands
/// packed into two batches (as group commit may pack them) and through a snapshot round-trip
/// in the middle. Both must give the same results and reach the same state and hash.
fn check_replicas(cmds: &[Command], split: usize) -> Result<(), TestCaseError> {
    let mut a = State::default();
    let mut results_a = Vec::new();
    for c in cmds {
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
    Ok(())
}

/// A refused CreateFleet changes nothing, not even by expiring old idempotency tokens (a
/// regression: `create_fleet` used to expire them before its checks and forget `tok-0`).
#[test]
fn refused_create_fleet_keeps_idempotency_tokens() {
    let mut s = State::default();
    let create = |id: &str, token: Option<&str>, at_ms| Command::CreateFleet {
        fleet_id: id.into(),
        arn: String::new(),
        spec: FleetSpec {
            name: "n".into(),
            ..Default::default()
        },
        idempotency_token: token.map(Into::into),
        at_ms,
    };
    apply(&mut s, &create("fleet-1", None, 0)).unwrap();
    apply(&mut s, &create("fleet-2", Some("tok-0"), 0)).unwrap();
    let before = s.clone();
    // fleet-1 exists: refused.
    assert!(apply(&mut s, &create("fleet-1", None, IDEMPOTENCY_TTL_MS + 1)).is_err());
    assert_eq!(s, before, "a refused CreateFleet changed the state");
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

// ---------------------------------------------------------------------------------------------
// Game sessions, player sessions, aliases
//
// The fleet model above does not extend to sessions cheaply (it would have to re-implement
// placement checks, slots, creator windows and retention); for sessions the checks are the
// invariants and legal transitions of `check_step`, after every command.
// ---------------------------------------------------------------------------------------------

use super::alias::{AliasSpec, AliasUpdate, RoutingStrategy};
use super::fleet::ResourceCreationLimitPolicy;
use super::session::{
    GameProperty, GameSessionRequest, GameSessionUpdate, NewPlayerSession,
    PlayerSessionCreationPolicy, RETENTION_MS, TerminationMode,
};

/// Fleets fleet-0..SESSION_FLEETS; process-i belongs to fleet-(i % SESSION_FLEETS).
const SESSION_FLEETS: u8 = 3;
const PROCESSES: u8 = 9;

fn fleet_name(f: u8) -> String {
    format!("fleet-{f}")
}

fn gs_id(f: u8, n: u8) -> String {
    format!("arn:gamefleet:local::gamesession/fleet-{f}/gs-{n}")
}

/// The `k`-th process of fleet `f`.
fn process_of(f: u8, k: u8) -> String {
    format!("process-{}", f + SESSION_FLEETS * k)
}

fn arb_at() -> impl Strategy<Value = i64> {
    // Mostly close together (creator windows, collisions), sometimes past the retention.
    prop_oneof![9 => 0i64..3_000, 1 => RETENTION_MS..RETENTION_MS + 3_000]
}

fn arb_request() -> BoxedStrategy<GameSessionRequest> {
    (
        0..SESSION_FLEETS,
        prop_oneof![4 => 0i32..5, 1 => Just(200), 1 => Just(201), 1 => Just(-1)],
        proptest::option::of(prop_oneof![Just("c0".to_string()), Just("c1".to_string())]),
        prop_oneof![
            3 => Just(None),
            1 => Just(Some("loc-a".to_string())),
            1 => Just(Some("loc-b".to_string()))
        ],
        prop_oneof![
            3 => Just(vec![]),
            1 => Just(vec![GameProperty { key: "mode".into(), value: "ctf".into() }])
        ],
    )
        .prop_map(
            |(f, max, creator_id, location, game_properties)| GameSessionRequest {
                fleet_id: fleet_name(f),
                maximum_player_session_count: max,
                creator_id,
                location,
                game_properties,
                ..Default::default()
            },
        )
        .boxed()
}

fn arb_players() -> BoxedStrategy<Vec<NewPlayerSession>> {
    proptest::collection::vec((0u8..40, 0u8..16, proptest::bool::weighted(0.1)), 0..5)
        .prop_map(|v| {
            v.into_iter()
                .map(|(ps, player, data)| NewPlayerSession {
                    player_session_id: format!("psess-{ps}"),
                    player_id: format!("player-{player}"),
                    player_data: data.then(|| "d".to_string()),
                })
                .collect()
        })
        .boxed()
}

/// Every session, player, alias and process command over small id spaces, plus the fleet
/// and process commands that make sessions possible (ACTIVE fleets, ready processes).
fn arb_session_cmd() -> BoxedStrategy<Command> {
    let f = 0..SESSION_FLEETS;
    let k = 0..PROCESSES / SESSION_FLEETS;
    let n = 0u8..3;
    let psess = (0u8..40).prop_map(|i| format!("psess-{i}"));
    let mode = prop_oneof![
        Just(TerminationMode::TriggerOnProcessTerminate),
        Just(TerminationMode::ForceTerminate)
    ];
    let fleet_setup = prop_oneof![
        3 => (f.clone(), proptest::option::of(1i32..3), 0i64..3_000).prop_map(|(f, per, at_ms)| {
            Command::CreateFleet {
                fleet_id: fleet_name(f),
                arn: format!("arn:gamefleet:local::fleet/{}", fleet_name(f)),
                spec: FleetSpec {
                    name: "g".into(),
                    resource_creation_limit_policy: per.map(|n| ResourceCreationLimitPolicy {
                        new_game_sessions_per_creator: n,
                        policy_period_in_minutes: 1,
                    }),
                    ..Default::default()
                },
                idempotency_token: None,
                at_ms,
            }
        }),
        5 => (f.clone(), prop_oneof![8 => Just(FleetStatus::Active), 1 => Just(FleetStatus::Error)], arb_at())
            .prop_map(|(f, status, at_ms)| Command::SetFleetStatus { fleet_id: fleet_name(f), status, at_ms }),
        // Rare: a deleting fleet hosts nothing new until it is finalized and created again.
        1 => (f.clone(), arb_at(), any::<bool>()).prop_map(|(f, at_ms, finalize)| if finalize {
            Command::FinalizeFleetDeletion { fleet_id: fleet_name(f), at_ms }
        } else {
            Command::DeleteFleet { fleet_id: fleet_name(f), at_ms }
        }),
    ];
    let processes = prop_oneof![
        4 => (f.clone(), k.clone(), 1u64..4, proptest::option::of(prop_oneof![Just("loc-a"), Just("loc-b")]), proptest::bool::weighted(0.9))
            .prop_map(|(f, k, node_id, location, healthy)| Command::ProcessLaunched {
                process: ProcessRecord {
                    process_id: process_of(f, k),
                    fleet_id: fleet_name(f),
                    node_id,
                    pid: 1,
                    port: 30000,
                    launch_path: "/g".into(),
                    status: ProcessStatus::Launching,
                    healthy,
                    location: location.map(String::from),
                    ip_address: "10.0.0.1".into(),
                    ..Default::default()
                },
            }),
        4 => (f.clone(), k.clone(), arb_at()).prop_map(|(f, k, at_ms)| Command::ProcessReady { process_id: process_of(f, k), at_ms, port: Some(7777) }),
        1 => (f.clone(), k.clone(), any::<bool>(), arb_at()).prop_map(|(f, k, healthy, at_ms)| Command::ProcessHealthChanged { process_id: process_of(f, k), healthy, at_ms }),
        1 => (f.clone(), k.clone(), arb_at()).prop_map(|(f, k, at_ms)| Command::ProcessTerminating { process_id: process_of(f, k), at_ms }),
        2 => (f.clone(), k.clone(), proptest::option::of(Just("SERVER_PROCESS_CRASHED".to_string())), arb_at())
            .prop_map(|(f, k, event_code, at_ms)| Command::ProcessEnded { process_id: process_of(f, k), event_code, message: "m".into(), at_ms }),
        1 => (1u64..12, arb_at()).prop_map(|(node_id, at_ms)| Command::NodeProcessesReset { node_id: node_id.min(4), at_ms }),
    ];
    let sessions = prop_oneof![
        6 => (f.clone(), n.clone(), k.clone(), arb_request(), proptest::bool::weighted(0.9), arb_at())
            .prop_map(|(f, n, k, mut request, same_fleet, at_ms)| {
                if same_fleet {
                    request.fleet_id = fleet_name(f);
                }
                Command::CreateGameSession { game_session_id: gs_id(f, n), process_id: process_of(f, k), request, at_ms }
            }),
        3 => (f.clone(), n.clone(), k.clone(), arb_at()).prop_map(|(f, n, k, at_ms)| Command::ActivateGameSession {
            process_id: process_of(f, k), game_session_id: gs_id(f, n), at_ms,
        }),
        2 => (f.clone(), n.clone(), proptest::option::of(k.clone()), proptest::option::of(0i32..5),
              proptest::option::of(prop_oneof![Just(PlayerSessionCreationPolicy::AcceptAll), Just(PlayerSessionCreationPolicy::DenyAll)]),
              prop_oneof![Just(vec![]), Just(vec![GameProperty { key: "mode".into(), value: String::new() }]), Just(vec![GameProperty { key: "x".into(), value: "y".into() }])],
              arb_at())
            .prop_map(|(f, n, k, max, policy, game_properties, at_ms)| Command::UpdateGameSession {
                game_session_id: gs_id(f, n),
                process_id: k.map(|k| process_of(f, k)),
                update: GameSessionUpdate {
                    maximum_player_session_count: max,
                    player_session_creation_policy: policy,
                    game_properties,
                    ..Default::default()
                },
                at_ms,
            }),
        2 => (f.clone(), n.clone(), mode, arb_at()).prop_map(|(f, n, mode, at_ms)| Command::TerminateGameSession { game_session_id: gs_id(f, n), mode, at_ms }),
        1 => (f.clone(), n.clone(), arb_at()).prop_map(|(f, n, at_ms)| Command::GameSessionActivationTimedOut { game_session_id: gs_id(f, n), at_ms }),
    ];
    let players = prop_oneof![
        4 => (f.clone(), n.clone(), arb_players(), arb_at()).prop_map(|(f, n, players, at_ms)| Command::CreatePlayerSessions {
            game_session_id: gs_id(f, n), players, at_ms,
        }),
        3 => (f.clone(), n.clone(), k.clone(), psess.clone(), arb_at()).prop_map(|(f, n, k, player_session_id, at_ms)| Command::AcceptPlayerSession {
            process_id: process_of(f, k), game_session_id: gs_id(f, n), player_session_id, at_ms,
        }),
        2 => (f.clone(), n.clone(), k.clone(), psess.clone(), arb_at()).prop_map(|(f, n, k, player_session_id, at_ms)| Command::RemovePlayerSession {
            process_id: process_of(f, k), game_session_id: gs_id(f, n), player_session_id, at_ms,
        }),
        1 => (proptest::collection::vec(psess, 0..4), arb_at()).prop_map(|(player_session_ids, at_ms)| Command::TimeOutPlayerSessions { player_session_ids, at_ms }),
    ];
    let routing = prop_oneof![
        (0u8..4).prop_map(|f| RoutingStrategy::Simple {
            fleet_id: fleet_name(f)
        }),
        Just(RoutingStrategy::Terminal {
            message: "closed".into()
        }),
    ];
    let alias = (0u8..3).prop_map(|i| format!("alias-{i}"));
    let aliases = prop_oneof![
        (alias.clone(), routing.clone(), arb_at()).prop_map(
            |(alias_id, routing_strategy, at_ms)| Command::CreateAlias {
                arn: format!("arn:gamefleet:local::alias/{alias_id}"),
                alias_id,
                spec: AliasSpec {
                    name: "a".into(),
                    description: None,
                    routing_strategy,
                    tags: vec![]
                },
                at_ms,
            }
        ),
        (alias.clone(), proptest::option::of(routing), arb_at()).prop_map(
            |(alias_id, routing_strategy, at_ms)| Command::UpdateAlias {
                alias_id,
                update: AliasUpdate {
                    routing_strategy,
                    ..Default::default()
                },
                at_ms,
            }
        ),
        alias.prop_map(|alias_id| Command::DeleteAlias { alias_id }),
    ];
    prop_oneof![
        5 => fleet_setup,
        12 => processes,
        14 => sessions,
        10 => players,
        2 => aliases,
    ]
    .boxed()
}

/// How a steered op picks its target in the current state.
#[derive(Debug, Clone)]
enum Steer {
    /// The fallback command as generated.
    Raw,
    /// Activate an ACTIVATING session, by its process.
    Activate,
    /// Reserve players in an ACTIVE session.
    Players(Vec<NewPlayerSession>),
    /// Accept a RESERVED player, by its session's process.
    Accept,
    /// Remove a RESERVED or ACTIVE player, by its session's process.
    Remove,
    /// Time out some RESERVED players.
    TimeOut,
    /// Update a live session (by its process when the flag is set).
    Update(GameSessionUpdate, bool),
    /// Launch the first process id not in use.
    Launch,
    /// ProcessReady of a LAUNCHING process.
    Ready,
    /// Place a session with `placement::place`, as the leader does (fleet n-th session id).
    Place(GameSessionRequest, u8),
    /// Terminate a live session.
    Terminate(TerminationMode),
    /// A process hosting a session ends (with an event code: crashed).
    ProcessEnded(Option<String>),
    /// A process hosting a session calls ProcessEnding.
    ProcessEnding,
}

#[derive(Debug, Clone)]
struct Op {
    steer: Steer,
    pick: usize,
    at_ms: i64,
    /// Applied when the state holds no target.
    fallback: Command,
}

fn arb_op() -> impl Strategy<Value = Op> {
    let mode = prop_oneof![
        Just(TerminationMode::TriggerOnProcessTerminate),
        Just(TerminationMode::ForceTerminate)
    ];
    let steer = prop_oneof![
        6 => Just(Steer::Raw),
        3 => Just(Steer::Activate),
        4 => arb_players().prop_map(Steer::Players),
        3 => Just(Steer::Accept),
        2 => Just(Steer::Remove),
        1 => Just(Steer::TimeOut),
        2 => (proptest::option::of(0i32..6),
              proptest::option::of(prop_oneof![Just(PlayerSessionCreationPolicy::AcceptAll), Just(PlayerSessionCreationPolicy::DenyAll)]),
              prop_oneof![Just(vec![]), Just(vec![GameProperty { key: "mode".into(), value: String::new() }]), Just(vec![GameProperty { key: "x".into(), value: "y".into() }])],
              any::<bool>())
            .prop_map(|(max, policy, game_properties, by_process)| Steer::Update(GameSessionUpdate {
                maximum_player_session_count: max,
                player_session_creation_policy: policy,
                game_properties,
                ..Default::default()
            }, by_process)),
        2 => Just(Steer::Launch),
        2 => Just(Steer::Ready),
        6 => (arb_request(), 0u8..6).prop_map(|(r, n)| Steer::Place(r, n)),
        2 => mode.prop_map(Steer::Terminate),
        1 => proptest::option::of(Just("SERVER_PROCESS_CRASHED".to_string())).prop_map(Steer::ProcessEnded),
        1 => Just(Steer::ProcessEnding),
    ];
    (steer, 0usize..64, arb_at(), arb_session_cmd()).prop_map(|(steer, pick, at_ms, fallback)| Op {
        steer,
        pick,
        at_ms,
        fallback,
    })
}

fn nth<T: Clone>(items: &[T], pick: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[pick % items.len()].clone())
}

/// Turns an op into a command against the current state (a pure function of both).
fn steer(state: &State, op: &Op) -> (Command, bool) {
    let ss = &state.sessions;
    let sessions_in = |status: GameSessionStatus| -> Vec<(String, String)> {
        ss.game_sessions
            .values()
            .filter(|g| g.status == status)
            .map(|g| (g.id.clone(), g.process_id.clone()))
            .collect()
    };
    let players_where = |f: &dyn Fn(PlayerSessionStatus) -> bool| -> Vec<(String, String, String)> {
        ss.player_sessions
            .values()
            .filter(|p| f(p.status))
            .filter_map(|p| {
                ss.game_sessions
                    .get(&p.game_session_id)
                    .map(|g| (p.id.clone(), g.id.clone(), g.process_id.clone()))
            })
            .collect()
    };
    let hosting: Vec<String> = state
        .hosting
        .processes
        .values()
        .filter(|p| p.game_session_id.is_some())
        .map(|p| p.process_id.clone())
        .collect();
    let at_ms = op.at_ms;
    let cmd = match &op.steer {
        Steer::Raw => None,
        Steer::Update(update, by_process) => {
            let live: Vec<String> = ss.live.iter().cloned().collect();
            nth(&live, op.pick).map(|game_session_id| Command::UpdateGameSession {
                process_id: by_process
                    .then(|| ss.game_sessions[&game_session_id].process_id.clone()),
                game_session_id,
                update: update.clone(),
                at_ms,
            })
        }
        Steer::Launch => (0..PROCESSES)
            .map(|i| (i, format!("process-{i}")))
            .find(|(_, id)| !state.hosting.processes.contains_key(id))
            .map(|(i, process_id)| Command::ProcessLaunched {
                process: ProcessRecord {
                    process_id,
                    fleet_id: fleet_name(i % SESSION_FLEETS),
                    node_id: 1 + (op.pick % 3) as u64,
                    pid: 1,
                    port: 30000,
                    launch_path: "/g".into(),
                    status: ProcessStatus::Launching,
                    healthy: true,
                    location: Some(
                        if op.pick.is_multiple_of(2) {
                            "loc-a"
                        } else {
                            "loc-b"
                        }
                        .to_string(),
                    ),
                    ip_address: "10.0.0.1".into(),
                    ..Default::default()
                },
            }),
        Steer::Ready => {
            let launching: Vec<String> = state
                .hosting
                .processes
                .values()
                .filter(|p| p.status == ProcessStatus::Launching)
                .map(|p| p.process_id.clone())
                .collect();
            nth(&launching, op.pick).map(|process_id| Command::ProcessReady {
                process_id,
                at_ms,
                port: Some(7777),
            })
        }
        Steer::Activate => nth(&sessions_in(GameSessionStatus::Activating), op.pick).map(
            |(game_session_id, process_id)| Command::ActivateGameSession {
                process_id,
                game_session_id,
                at_ms,
            },
        ),
        Steer::Players(players) => {
            nth(&sessions_in(GameSessionStatus::Active), op.pick).map(|(game_session_id, _)| {
                Command::CreatePlayerSessions {
                    game_session_id,
                    players: players.clone(),
                    at_ms,
                }
            })
        }
        Steer::Accept => nth(
            &players_where(&|s| s == PlayerSessionStatus::Reserved),
            op.pick,
        )
        .map(|(player_session_id, game_session_id, process_id)| {
            Command::AcceptPlayerSession {
                process_id,
                game_session_id,
                player_session_id,
                at_ms,
            }
        }),
        Steer::Remove => nth(&players_where(&|s| s.holds_slot()), op.pick).map(
            |(player_session_id, game_session_id, process_id)| Command::RemovePlayerSession {
                process_id,
                game_session_id,
                player_session_id,
                at_ms,
            },
        ),
        Steer::TimeOut => {
            let reserved: Vec<String> = ss.reserved.iter().map(|(_, id)| id.clone()).collect();
            (!reserved.is_empty()).then(|| Command::TimeOutPlayerSessions {
                player_session_ids: reserved
                    .iter()
                    .take(1 + op.pick % reserved.len())
                    .cloned()
                    .collect(),
                at_ms,
            })
        }
        Steer::Place(request, n) => {
            let f = (0..SESSION_FLEETS)
                .find(|f| fleet_name(*f) == request.fleet_id)
                .unwrap_or(0);
            crate::placement::place(state, request, &crate::placement::Claims::new())
                .ok()
                .map(|process_id| Command::CreateGameSession {
                    game_session_id: gs_id(f, *n),
                    process_id,
                    request: request.clone(),
                    at_ms,
                })
        }
        Steer::Terminate(mode) => {
            let live: Vec<String> = ss.live.iter().cloned().collect();
            nth(&live, op.pick).map(|game_session_id| Command::TerminateGameSession {
                game_session_id,
                mode: *mode,
                at_ms,
            })
        }
        Steer::ProcessEnded(event_code) => {
            nth(&hosting, op.pick).map(|process_id| Command::ProcessEnded {
                process_id,
                event_code: event_code.clone(),
                message: "m".into(),
                at_ms,
            })
        }
        Steer::ProcessEnding => nth(&hosting, op.pick)
            .map(|process_id| Command::ProcessTerminating { process_id, at_ms }),
    };
    match cmd {
        Some(c) => (c, true),
        None => (op.fallback.clone(), false),
    }
}

/// Three ACTIVE fleets (fleet-1 with a creator limit of 2 per minute, fleet-2 SPREAD with one
/// activation at a time per node) and their nine processes, ready on three nodes.
fn setup_log() -> Vec<Command> {
    use crate::fsm::fleet::PlacementStrategy;
    use crate::fsm::hosting::{RuntimeConfiguration, ServerProcess};
    let mut log = Vec::new();
    for f in 0..SESSION_FLEETS {
        let spec = FleetSpec {
            name: "g".into(),
            resource_creation_limit_policy: (f == 1).then_some(ResourceCreationLimitPolicy {
                new_game_sessions_per_creator: 2,
                policy_period_in_minutes: 1,
            }),
            placement_strategy: if f == 2 {
                PlacementStrategy::Spread
            } else {
                PlacementStrategy::Pack
            },
            runtime_configuration: (f == 2).then(|| RuntimeConfiguration {
                server_processes: vec![ServerProcess {
                    launch_path: "/g".into(),
                    parameters: None,
                    concurrent_executions: 3,
                }],
                max_concurrent_game_session_activations: Some(1),
                game_session_activation_timeout_seconds: None,
            }),
            ..Default::default()
        };
        log.push(Command::CreateFleet {
            fleet_id: fleet_name(f),
            arn: format!("arn:gamefleet:local::fleet/{}", fleet_name(f)),
            spec,
            idempotency_token: None,
            at_ms: 0,
        });
        log.push(Command::SetFleetStatus {
            fleet_id: fleet_name(f),
            status: FleetStatus::Active,
            at_ms: 0,
        });
    }
    for i in 0..PROCESSES {
        let process_id = format!("process-{i}");
        log.push(Command::ProcessLaunched {
            process: ProcessRecord {
                process_id: process_id.clone(),
                fleet_id: fleet_name(i % SESSION_FLEETS),
                node_id: 1 + u64::from(i / SESSION_FLEETS),
                pid: 1,
                port: 30000,
                launch_path: "/g".into(),
                status: ProcessStatus::Launching,
                healthy: true,
                location: Some(if i % 2 == 0 { "loc-a" } else { "loc-b" }.to_string()),
                ip_address: "10.0.0.1".into(),
                ..Default::default()
            },
        });
        log.push(Command::ProcessReady {
            process_id,
            at_ms: 0,
            port: Some(7777),
        });
    }
    log
}

/// The command log a sequence of ops makes, with each command's result.
fn steer_log(ops: &[Op]) -> (Vec<Command>, Vec<CmdResult>) {
    let mut state = State::default();
    let mut cmds = setup_log();
    let mut results: Vec<CmdResult> = cmds.iter().map(|c| apply(&mut state, c)).collect();
    for op in ops {
        let (cmd, _) = steer(&state, op);
        results.push(apply(&mut state, &cmd));
        cmds.push(cmd);
    }
    (cmds, results)
}

/// The session invariants of one state (see `fsm::session`'s module docs).
fn check_invariants(s: &State) -> Result<(), TestCaseError> {
    let ss = &s.sessions;
    let mut hosts = BTreeSet::new();
    let mut holding: BTreeMap<&str, usize> = BTreeMap::new();
    for p in ss
        .player_sessions
        .values()
        .filter(|p| p.status.holds_slot())
    {
        *holding.entry(p.game_session_id.as_str()).or_default() += 1;
    }
    for (id, g) in &ss.game_sessions {
        prop_assert_eq!(id, &g.id);
        if g.status.is_live() {
            // (a) a live session sits on its process, which names it; one per process.
            let p = s.hosting.processes.get(&g.process_id);
            prop_assert!(p.is_some(), "live {} has no process {}", id, g.process_id);
            let p = p.unwrap();
            prop_assert_eq!(
                p.game_session_id.as_deref(),
                Some(id.as_str()),
                "process {} does not name {}",
                g.process_id,
                id
            );
            prop_assert_eq!(&p.fleet_id, &g.fleet_id);
            prop_assert!(
                hosts.insert(g.process_id.clone()),
                "two live sessions on {}",
                g.process_id
            );
            prop_assert_eq!(
                g.termination_time_ms,
                None,
                "live {} has a termination time",
                id
            );
        } else {
            prop_assert!(
                g.termination_time_ms.is_some(),
                "ended {} has no termination time",
                id
            );
        }
        // (b) the count is exactly the slots held, within the maximum.
        let held = holding.get(id.as_str()).copied().unwrap_or(0);
        prop_assert_eq!(
            usize::try_from(g.current_player_session_count).ok(),
            Some(held),
            "count of {}",
            id
        );
        prop_assert!(
            (0..=super::session::MAX_PLAYERS).contains(&g.maximum_player_session_count),
            "maximum of {} is {}",
            id,
            g.maximum_player_session_count
        );
        prop_assert!(
            g.current_player_session_count <= g.maximum_player_session_count,
            "{} over its maximum",
            id
        );
        // (c) ended sessions hold no slots.
        if !g.status.is_live() {
            prop_assert_eq!(held, 0, "ended {} holds player slots", id);
        }
    }
    for p in s.hosting.processes.values() {
        if let Some(id) = &p.game_session_id {
            let g = ss.game_sessions.get(id);
            prop_assert!(
                g.is_some_and(|g| g.status.is_live() && g.process_id == p.process_id),
                "process {} names {} which is not its live session",
                p.process_id,
                id
            );
        }
    }
    for (id, p) in &ss.player_sessions {
        prop_assert_eq!(id, &p.id);
        let g = ss.game_sessions.get(&p.game_session_id);
        prop_assert!(
            g.is_some(),
            "player session {} of a missing game session",
            id
        );
        prop_assert_eq!(&g.unwrap().fleet_id, &p.fleet_id);
        prop_assert_eq!(
            p.termination_time_ms.is_none(),
            p.status.holds_slot(),
            "termination time of {}",
            id
        );
    }
    // (d) the indexes agree with the maps.
    let live: BTreeSet<String> = ss
        .game_sessions
        .values()
        .filter(|g| g.status.is_live())
        .map(|g| g.id.clone())
        .collect();
    prop_assert_eq!(&ss.live, &live);
    let ended: BTreeSet<(i64, String)> = ss
        .game_sessions
        .values()
        .filter(|g| !g.status.is_live())
        .map(|g| (g.termination_time_ms.unwrap_or_default(), g.id.clone()))
        .collect();
    prop_assert_eq!(&ss.ended, &ended);
    let reserved: BTreeSet<(i64, String)> = ss
        .player_sessions
        .values()
        .filter(|p| p.status == PlayerSessionStatus::Reserved)
        .map(|p| (p.creation_time_ms, p.id.clone()))
        .collect();
    prop_assert_eq!(&ss.reserved, &reserved);
    let by_game: BTreeSet<(String, String)> = ss
        .player_sessions
        .values()
        .map(|p| (p.game_session_id.clone(), p.id.clone()))
        .collect();
    prop_assert_eq!(&ss.by_game_session, &by_game);
    let by_player: BTreeSet<(String, String)> = ss
        .player_sessions
        .values()
        .map(|p| (p.player_id.clone(), p.id.clone()))
        .collect();
    prop_assert_eq!(&ss.by_player, &by_player);
    // Aliases route to fleets by id.
    for a in s.aliases.values() {
        if let RoutingStrategy::Simple { fleet_id } = &a.spec.routing_strategy {
            prop_assert!(!fleet_id.contains(':'), "alias {} routes to an ARN", a.id);
        }
    }
    Ok(())
}

fn legal_game_transition(from: GameSessionStatus, to: GameSessionStatus) -> bool {
    use GameSessionStatus::*;
    from == to
        || matches!(
            (from, to),
            (Activating, Active | Terminating | Terminated | Error)
                | (Active, Terminating | Terminated | Error)
                | (Terminating, Terminated)
        )
}

fn legal_player_transition(from: PlayerSessionStatus, to: PlayerSessionStatus) -> bool {
    use PlayerSessionStatus::*;
    from == to
        || matches!(
            (from, to),
            (Reserved, Active | Completed | Timedout) | (Active, Completed)
        )
}

/// Everything checked after one applied command: (e) a refusal changed nothing, the
/// invariants hold, and every change is a legal transition made by the right command.
/// `check_hash` also compares hashes (implied by equal states, but slow in debug builds).
fn check_step(
    before: &State,
    after: &State,
    cmd: &Command,
    result: &CmdResult,
    check_hash: bool,
) -> Result<(), TestCaseError> {
    if result.is_err() {
        prop_assert_eq!(after, before, "refused {} changed the state", cmd.name());
        if check_hash {
            prop_assert_eq!(
                after.hash(),
                before.hash(),
                "refused {} changed the state hash",
                cmd.name()
            );
        }
        return Ok(());
    }
    check_invariants(after)?;
    let created_gs = matches!(cmd, Command::CreateGameSession { .. });
    for (id, a) in &after.sessions.game_sessions {
        match before.sessions.game_sessions.get(id) {
            Some(b) if b.creation_time_ms == a.creation_time_ms && b.request == a.request => {
                prop_assert!(
                    legal_game_transition(b.status, a.status),
                    "{}: game session {} went {:?} -> {:?}",
                    cmd.name(),
                    id,
                    b.status,
                    a.status
                );
                if !b.status.is_live() {
                    prop_assert_eq!(a, b, "{} changed ended game session {}", cmd.name(), id);
                }
            }
            // New, or an expired ended session replaced by a new one with its id.
            other => {
                prop_assert!(created_gs, "{} made game session {}", cmd.name(), id);
                prop_assert!(
                    other.is_none_or(|b| !b.status.is_live()),
                    "{} replaced live {}",
                    cmd.name(),
                    id
                );
                prop_assert_eq!(a.status, GameSessionStatus::Activating);
                prop_assert_eq!(a.current_player_session_count, 0);
            }
        }
    }
    for (id, b) in &before.sessions.game_sessions {
        if !after.sessions.game_sessions.contains_key(id) {
            prop_assert!(
                created_gs && !b.status.is_live(),
                "{} dropped game session {} ({:?})",
                cmd.name(),
                id,
                b.status
            );
        }
    }
    let created_ps = matches!(cmd, Command::CreatePlayerSessions { .. });
    for (id, a) in &after.sessions.player_sessions {
        match before.sessions.player_sessions.get(id) {
            Some(b)
                if b.game_session_id == a.game_session_id
                    && b.creation_time_ms == a.creation_time_ms =>
            {
                prop_assert!(
                    legal_player_transition(b.status, a.status),
                    "{}: player session {} went {:?} -> {:?}",
                    cmd.name(),
                    id,
                    b.status,
                    a.status
                );
                if !b.status.holds_slot() {
                    prop_assert_eq!(a, b, "{} changed ended player session {}", cmd.name(), id);
                }
            }
            _ => {
                prop_assert!(created_ps, "{} made player session {}", cmd.name(), id);
                prop_assert_eq!(a.status, PlayerSessionStatus::Reserved);
            }
        }
    }
    for (id, b) in &before.sessions.player_sessions {
        if !after.sessions.player_sessions.contains_key(id) {
            prop_assert!(
                created_gs && !b.status.holds_slot(),
                "{} dropped player session {}",
                cmd.name(),
                id
            );
        }
    }
    if let (Command::CreatePlayerSessions { players, .. }, Ok(Output::PlayerSessions(out))) =
        (cmd, result)
    {
        prop_assert_eq!(out.len(), players.len(), "all or none");
    }
    Ok(())
}

/// The generators reach what the invariants are about: sessions that activate, fill up,
/// accept, remove and time out players, end every way, and get purged.
#[test]
fn session_generators_reach_deep_states() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(arb_op(), 150);
    let mut ok: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut errors: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut ended_statuses, mut purged) = (BTreeSet::new(), 0usize);
    for _ in 0..40 {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let mut state = State::default();
        for cmd in setup_log() {
            apply(&mut state, &cmd).unwrap();
        }
        for op in &ops {
            let (cmd, _) = steer(&state, op);
            let before = state.sessions.game_sessions.len();
            match apply(&mut state, &cmd) {
                Ok(_) => *ok.entry(cmd.name()).or_default() += 1,
                Err(e) => *errors.entry(kind(&e)).or_default() += 1,
            }
            if state.sessions.game_sessions.len() < before {
                purged += 1;
            }
        }
        ended_statuses.extend(
            state
                .sessions
                .game_sessions
                .values()
                .filter(|g| !g.status.is_live())
                .map(|g| (g.status, g.status_reason.map(|r| format!("{r:?}")))),
        );
    }
    for name in [
        "CreateGameSession",
        "ActivateGameSession",
        "CreatePlayerSessions",
        "AcceptPlayerSession",
        "RemovePlayerSession",
        "TerminateGameSession",
        "UpdateGameSession",
        "ProcessEnded",
        "ProcessTerminating",
        "CreateAlias",
    ] {
        assert!(
            ok.get(name).copied().unwrap_or(0) >= 10,
            "only {:?} successful {name} in {ok:?}",
            ok.get(name)
        );
    }
    for k in [
        "full",
        "capacity",
        "status",
        "invalid",
        "not_found",
        "mismatch",
        "limit",
    ] {
        assert!(errors.get(k).copied().unwrap_or(0) >= 3, "{k}: {errors:?}");
    }
    assert!(purged > 0, "no purge happened");
    assert!(ended_statuses.len() >= 5, "{ended_statuses:?}");
}
