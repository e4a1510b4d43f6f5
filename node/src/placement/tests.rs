//! Placement unit tests: every rule of the module docs, plus a property test against a
//! straightforward reference of those rules. States are built through `fsm::apply`, as the
//! log builds them.

use proptest::prelude::*;

use super::*;
use crate::fsm::fleet::FleetSpec;
use crate::fsm::hosting::{ProcessRecord, RuntimeConfiguration, ServerProcess};
use crate::fsm::{Command, FleetStatus, Output, apply};

const F: &str = "fleet-1";

#[track_caller]
fn ok(s: &mut State, cmd: Command) {
    if let Err(e) = apply(s, &cmd) {
        panic!("{} refused: {e:?}", cmd.name());
    }
}

fn fleet_with(s: &mut State, id: &str, strategy: PlacementStrategy, max_activations: Option<i32>) {
    ok(
        s,
        Command::CreateFleet {
            fleet_id: id.into(),
            arn: format!("arn:gamefleet:local::fleet/{id}"),
            spec: FleetSpec {
                name: "game".into(),
                placement_strategy: strategy,
                runtime_configuration: max_activations.map(|n| RuntimeConfiguration {
                    server_processes: vec![ServerProcess {
                        launch_path: "/g".into(),
                        parameters: None,
                        concurrent_executions: 10,
                    }],
                    max_concurrent_game_session_activations: Some(n),
                    game_session_activation_timeout_seconds: None,
                }),
                ..Default::default()
            },
            idempotency_token: None,
            at_ms: 0,
        },
    );
    set_status(s, id, FleetStatus::Active);
}

fn set_status(s: &mut State, id: &str, status: FleetStatus) {
    ok(
        s,
        Command::SetFleetStatus {
            fleet_id: id.into(),
            status,
            at_ms: 0,
        },
    );
}

/// A state with fleet-1 ACTIVE using `strategy`.
fn state(strategy: PlacementStrategy) -> State {
    let mut s = State::default();
    fleet_with(&mut s, F, strategy, None);
    s
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Ready,
    Launching,
    Unhealthy,
    Terminating,
}

fn launch_in(s: &mut State, fleet: &str, pid: &str, node: u64, location: Option<&str>, kind: Kind) {
    ok(
        s,
        Command::ProcessLaunched {
            process: ProcessRecord {
                process_id: pid.into(),
                fleet_id: fleet.into(),
                node_id: node,
                pid: 1,
                port: 30_000,
                launch_path: "/g".into(),
                status: ProcessStatus::Launching,
                healthy: true,
                location: location.map(Into::into),
                ..Default::default()
            },
        },
    );
    if kind == Kind::Launching {
        return;
    }
    ok(
        s,
        Command::ProcessReady {
            process_id: pid.into(),
            at_ms: 0,
            port: None,
        },
    );
    match kind {
        Kind::Unhealthy => ok(
            s,
            Command::ProcessHealthChanged {
                process_id: pid.into(),
                healthy: false,
                at_ms: 0,
            },
        ),
        Kind::Terminating => ok(
            s,
            Command::ProcessTerminating {
                process_id: pid.into(),
                at_ms: 0,
            },
        ),
        _ => {}
    }
}

fn launch(s: &mut State, pid: &str, node: u64, location: Option<&str>, kind: Kind) {
    launch_in(s, F, pid, node, location, kind);
}

fn ready(s: &mut State, pid: &str, node: u64) {
    launch(s, pid, node, None, Kind::Ready);
}

/// Puts a game session on `pid` (ACTIVATING, or ACTIVE when `activate`).
fn occupy(s: &mut State, pid: &str, activate: bool) {
    let fleet = s.hosting.processes[pid].fleet_id.clone();
    let id = format!("arn:gamefleet:local::gamesession/{fleet}/on-{pid}");
    ok(
        s,
        Command::CreateGameSession {
            game_session_id: id.clone(),
            process_id: pid.into(),
            request: request_for(&fleet, None),
            at_ms: 0,
        },
    );
    if activate {
        ok(
            s,
            Command::ActivateGameSession {
                process_id: pid.into(),
                game_session_id: id,
                at_ms: 0,
            },
        );
    }
}

fn request_for(fleet: &str, location: Option<&str>) -> GameSessionRequest {
    GameSessionRequest {
        fleet_id: fleet.into(),
        maximum_player_session_count: 4,
        location: location.map(Into::into),
        ..Default::default()
    }
}

fn req(location: Option<&str>) -> GameSessionRequest {
    request_for(F, location)
}

#[track_caller]
fn placed(s: &State, location: Option<&str>, claims: &Claims) -> String {
    match place(s, &req(location), claims) {
        Ok(p) => p,
        Err(e) => panic!("no placement: {e:?}"),
    }
}

/// The FleetCapacityExceeded message, or a panic.
#[track_caller]
fn capacity(r: Result<String, FsmError>) -> String {
    match r {
        Err(FsmError::FleetCapacityExceeded { message }) => {
            assert!(message.contains(F), "{message}");
            message
        }
        other => panic!("expected FleetCapacityExceeded, got {other:?}"),
    }
}

fn claims(entries: &[(&str, u64)]) -> Claims {
    entries.iter().map(|(p, n)| (p.to_string(), *n)).collect()
}

#[test]
fn the_fleet_must_exist_and_be_active() {
    let s = State::default();
    assert!(matches!(
        place(&s, &req(None), &Claims::new()),
        Err(FsmError::NotFound { .. })
    ));
    for status in [
        FleetStatus::New,
        FleetStatus::Activating,
        FleetStatus::Error,
        FleetStatus::Deleting,
    ] {
        let mut s = state(PlacementStrategy::Pack);
        ready(&mut s, "p1", 1);
        set_status(&mut s, F, status);
        match place(&s, &req(None), &Claims::new()) {
            Err(FsmError::InvalidStatus { kind, message }) => {
                assert_eq!(kind, "fleet");
                assert!(message.contains("ACTIVE"), "{message}");
            }
            other => panic!("{status:?}: {other:?}"),
        }
    }
}

#[test]
fn no_ready_process_is_capacity_exceeded_with_the_reason() {
    let mut s = state(PlacementStrategy::Pack);
    let msg = capacity(place(&s, &req(None), &Claims::new()));
    assert!(msg.contains("no server process is ready"), "{msg}");
    launch(&mut s, "p1", 1, None, Kind::Launching);
    launch(&mut s, "p2", 1, None, Kind::Unhealthy);
    launch(&mut s, "p3", 2, None, Kind::Terminating);
    // A ready process of another fleet does not count.
    fleet_with(&mut s, "fleet-2", PlacementStrategy::Pack, None);
    launch_in(&mut s, "fleet-2", "p0", 1, None, Kind::Ready);
    let msg = capacity(place(&s, &req(None), &Claims::new()));
    assert!(msg.contains("no server process is ready"), "{msg}");
}

#[test]
fn processes_that_cannot_host_are_skipped() {
    let mut s = state(PlacementStrategy::Pack);
    fleet_with(&mut s, "fleet-2", PlacementStrategy::Pack, None);
    launch_in(&mut s, "fleet-2", "p0", 1, None, Kind::Ready);
    launch(&mut s, "p1", 1, None, Kind::Launching);
    launch(&mut s, "p2", 1, None, Kind::Unhealthy);
    launch(&mut s, "p3", 1, None, Kind::Terminating);
    ready(&mut s, "p4", 1);
    occupy(&mut s, "p4", true);
    ready(&mut s, "p5", 1);
    assert_eq!(placed(&s, None, &Claims::new()), "p5");
    occupy(&mut s, "p5", false);
    let msg = capacity(place(&s, &req(None), &Claims::new()));
    assert!(
        msg.contains("all 2 ready server processes host a game session"),
        "{msg}"
    );
}

#[test]
fn claimed_processes_are_skipped() {
    let mut s = state(PlacementStrategy::Pack);
    ready(&mut s, "p1", 1);
    ready(&mut s, "p2", 1);
    assert_eq!(placed(&s, None, &Claims::new()), "p1");
    assert_eq!(placed(&s, None, &claims(&[("p1", 1)])), "p2");
    let msg = capacity(place(&s, &req(None), &claims(&[("p1", 1), ("p2", 1)])));
    assert!(msg.contains("all 2 ready server processes"), "{msg}");
    // A claim on a process that no longer exists changes nothing.
    assert_eq!(placed(&s, None, &claims(&[("p-gone", 1)])), "p1");
}

#[test]
fn claimed_processes_count_as_busy() {
    // node 1: p1, p2; node 2: p3, p4; nothing hosted.
    let build = |strategy| {
        let mut s = state(strategy);
        for (p, n) in [("p1", 1), ("p2", 1), ("p3", 2), ("p4", 2)] {
            ready(&mut s, p, n);
        }
        s
    };
    let spread = build(PlacementStrategy::Spread);
    assert_eq!(placed(&spread, None, &Claims::new()), "p1", "tie: node 1");
    assert_eq!(
        placed(&spread, None, &claims(&[("p1", 1)])),
        "p3",
        "node 1 is busier now"
    );
    let pack = build(PlacementStrategy::Pack);
    assert_eq!(placed(&pack, None, &Claims::new()), "p1", "tie: node 1");
    assert_eq!(
        placed(&pack, None, &claims(&[("p3", 2)])),
        "p4",
        "node 2 is busier now"
    );
}

#[test]
fn the_location_filters_processes() {
    let mut s = state(PlacementStrategy::Pack);
    launch(&mut s, "p1", 1, Some("loc-a"), Kind::Ready);
    launch(&mut s, "p2", 2, Some("loc-b"), Kind::Ready);
    launch(&mut s, "p3", 3, None, Kind::Ready);
    assert_eq!(placed(&s, Some("loc-b"), &Claims::new()), "p2");
    assert_eq!(placed(&s, Some("loc-a"), &Claims::new()), "p1");
    assert_eq!(placed(&s, None, &Claims::new()), "p1");
    let msg = capacity(place(&s, &req(Some("loc-z")), &Claims::new()));
    assert!(
        msg.contains("no ready server process at location loc-z"),
        "{msg}"
    );
    // The only process at loc-a is busy; others elsewhere are free.
    occupy(&mut s, "p1", true);
    let msg = capacity(place(&s, &req(Some("loc-a")), &Claims::new()));
    assert!(
        msg.contains("all 1 ready server processes host a game session"),
        "{msg}"
    );
}

/// node 1: 1 of 2 busy; node 2: 2 of 3 busy; node 3: 3 of 3 busy (full); node 4: 0 of 1.
fn loaded(strategy: PlacementStrategy) -> State {
    let mut s = state(strategy);
    for (p, n, busy) in [
        ("a1", 1, true),
        ("a2", 1, false),
        ("b1", 2, true),
        ("b2", 2, true),
        ("b3", 2, false),
        ("c1", 3, true),
        ("c2", 3, true),
        ("c3", 3, true),
        ("d1", 4, false),
    ] {
        ready(&mut s, p, n);
        if busy {
            occupy(&mut s, p, true);
        }
    }
    s
}

#[test]
fn pack_fills_the_busiest_node_that_has_a_free_process() {
    let s = loaded(PlacementStrategy::Pack);
    assert_eq!(placed(&s, None, &Claims::new()), "b3", "node 3 is full");
}

#[test]
fn spread_uses_the_least_busy_node() {
    let mut s = loaded(PlacementStrategy::Spread);
    assert_eq!(placed(&s, None, &Claims::new()), "d1");
    occupy(&mut s, "d1", true);
    assert_eq!(placed(&s, None, &Claims::new()), "a2");
}

#[test]
fn the_strategy_is_read_from_the_fleet() {
    let mut s = loaded(PlacementStrategy::Pack);
    ok(
        &mut s,
        Command::UpdateFleetAttributes {
            fleet_id: F.into(),
            update: crate::fsm::FleetUpdate {
                placement_strategy: Some(PlacementStrategy::Spread),
                ..Default::default()
            },
        },
    );
    assert_eq!(placed(&s, None, &Claims::new()), "d1");
}

#[test]
fn ties_go_to_the_lower_node_id_then_the_lowest_process_id() {
    for strategy in [PlacementStrategy::Pack, PlacementStrategy::Spread] {
        let mut s = state(strategy);
        // Node ids compare as numbers (9 < 10); "a0" on node 10 is the lowest id overall.
        ready(&mut s, "a0", 10);
        ready(&mut s, "z5", 9);
        ready(&mut s, "z1", 9);
        ready(&mut s, "z3", 9);
        assert_eq!(placed(&s, None, &Claims::new()), "z1", "{strategy:?}");
        // Equal load again after one session on each node.
        occupy(&mut s, "z1", true);
        occupy(&mut s, "a0", true);
        ready(&mut s, "a1", 10);
        assert_eq!(placed(&s, None, &Claims::new()), "z3", "{strategy:?}");
    }
}

#[test]
fn a_node_takes_at_most_max_activations_at_once() {
    let build = || {
        let mut s = State::default();
        fleet_with(&mut s, F, PlacementStrategy::Pack, Some(1));
        ready(&mut s, "p1", 1);
        ready(&mut s, "p2", 1);
        ready(&mut s, "p3", 2);
        occupy(&mut s, "p1", false);
        s
    };
    let mut s = build();
    // PACK would pick node 1 (busier), but it already activates one session.
    assert_eq!(placed(&s, None, &Claims::new()), "p3");
    // A claim counts as activating: node 2 is at its limit too.
    let msg = capacity(place(&s, &req(None), &claims(&[("p3", 2)])));
    assert!(
        msg.contains("already activates 1 game sessions")
            && msg.contains("max_concurrent_game_session_activations"),
        "{msg}"
    );
    // Once the session is ACTIVE, node 1 may take another.
    ok(
        &mut s,
        Command::ActivateGameSession {
            process_id: "p1".into(),
            game_session_id: format!("arn:gamefleet:local::gamesession/{F}/on-p1"),
            at_ms: 0,
        },
    );
    assert_eq!(placed(&s, None, &Claims::new()), "p2");
    assert_eq!(placed(&s, None, &claims(&[("p3", 2)])), "p2");
    // A higher limit lets node 1 take a second activation.
    let mut s = State::default();
    fleet_with(&mut s, F, PlacementStrategy::Pack, Some(2));
    ready(&mut s, "p1", 1);
    ready(&mut s, "p2", 1);
    ready(&mut s, "p3", 2);
    occupy(&mut s, "p1", false);
    assert_eq!(placed(&s, None, &Claims::new()), "p2");
    // Without a runtime configuration there is no limit.
    let mut s = state(PlacementStrategy::Pack);
    for p in ["p1", "p2", "p3"] {
        ready(&mut s, p, 1);
    }
    occupy(&mut s, "p1", false);
    occupy(&mut s, "p2", false);
    assert_eq!(placed(&s, None, &Claims::new()), "p3");
}

#[test]
fn placement_is_deterministic() {
    let build = |order: &[(&str, u64)]| {
        let mut s = state(PlacementStrategy::Spread);
        for (p, n) in order {
            ready(&mut s, p, *n);
        }
        occupy(&mut s, "p2", true);
        s
    };
    let order = [("p1", 1), ("p2", 1), ("p3", 2), ("p4", 2), ("p5", 3)];
    let mut reversed = order;
    reversed.reverse();
    let a = build(&order);
    let b = build(&reversed);
    let c: State = serde_json::from_slice(&serde_json::to_vec(&a).unwrap()).unwrap();
    let cl = claims(&[("p3", 2)]);
    let first = placed(&a, None, &cl);
    assert_eq!(first, "p5");
    for _ in 0..20 {
        assert_eq!(placed(&a, None, &cl), first);
        assert_eq!(placed(&b, None, &cl), first);
        assert_eq!(placed(&c, None, &cl), first);
    }
}

// ---------------------------------------------------------------------------------------------
// Property test against a reference of the rules
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct ProcSpec {
    node: u64,
    location: Option<&'static str>,
    kind: Kind,
    /// None: free; Some(false): ACTIVATING session; Some(true): ACTIVE session.
    session: Option<bool>,
    claimed: bool,
}

fn arb_proc() -> impl Strategy<Value = ProcSpec> {
    (
        1u64..5,
        prop_oneof![Just(None), Just(Some("loc-a")), Just(Some("loc-b"))],
        prop_oneof![
            6 => Just(Kind::Ready),
            1 => Just(Kind::Launching),
            1 => Just(Kind::Unhealthy),
            1 => Just(Kind::Terminating)
        ],
        prop_oneof![2 => Just(None), 1 => Just(Some(false)), 1 => Just(Some(true))],
        proptest::bool::weighted(0.15),
    )
        .prop_map(|(node, location, kind, session, claimed)| ProcSpec {
            node,
            location,
            kind,
            session,
            claimed,
        })
}

/// The module docs' rules, written as a sort over candidate nodes.
fn reference(
    procs: &[(String, ProcSpec)],
    strategy: PlacementStrategy,
    max_activations: Option<i32>,
    location: Option<&str>,
) -> Option<String> {
    let max = max_activations.map_or(usize::MAX, |n| usize::try_from(n).unwrap());
    let mut nodes: BTreeMap<u64, (usize, usize, Vec<&str>)> = BTreeMap::new();
    for (id, p) in procs {
        // A session only exists on a process that was ready and healthy when placed and
        // did not call ProcessEnding since.
        let hosting = p.kind != Kind::Launching && p.kind != Kind::Terminating;
        let session = p.session.filter(|_| hosting);
        let e = nodes.entry(p.node).or_default();
        if p.claimed || session.is_some() {
            e.0 += 1;
        }
        if p.claimed || session == Some(false) {
            e.1 += 1;
        }
        if p.kind == Kind::Ready
            && session.is_none()
            && !p.claimed
            && location.is_none_or(|l| p.location == Some(l))
        {
            e.2.push(id);
        }
    }
    let mut eligible: Vec<(u64, usize, &str)> = nodes
        .iter()
        .filter(|(_, (_, activating, free))| !free.is_empty() && *activating < max)
        .map(|(n, (busy, _, free))| (*n, *busy, *free.iter().min().unwrap()))
        .collect();
    eligible.sort_by_key(|(n, busy, _)| match strategy {
        PlacementStrategy::Pack => (usize::MAX - busy, *n),
        PlacementStrategy::Spread => (*busy, *n),
    });
    eligible.first().map(|(_, _, p)| p.to_string())
}

proptest! {
    #[test]
    fn place_follows_the_rules(
        procs in proptest::collection::vec(arb_proc(), 0..10),
        pack in any::<bool>(),
        max_activations in proptest::option::of(1i32..3),
        location in prop_oneof![Just(None), Just(Some("loc-a")), Just(Some("loc-b"))],
    ) {
        let strategy = if pack { PlacementStrategy::Pack } else { PlacementStrategy::Spread };
        let mut s = State::default();
        fleet_with(&mut s, F, strategy, max_activations);
        let named: Vec<(String, ProcSpec)> =
            procs.into_iter().enumerate().map(|(i, p)| (format!("p{i:02}"), p)).collect();
        let mut cl = Claims::new();
        for (id, p) in &named {
            // Sessions go on while the process is ready and healthy; then its health or
            // status changes.
            launch(&mut s, id, p.node, p.location, if p.kind == Kind::Launching { Kind::Launching } else { Kind::Ready });
            if p.kind != Kind::Launching && let Some(active) = p.session {
                occupy(&mut s, id, active);
            }
            match p.kind {
                Kind::Unhealthy => ok(&mut s, Command::ProcessHealthChanged { process_id: id.clone(), healthy: false, at_ms: 0 }),
                Kind::Terminating => ok(&mut s, Command::ProcessTerminating { process_id: id.clone(), at_ms: 0 }),
                _ => {}
            }
            if p.claimed {
                cl.insert(id.clone(), p.node);
            }
        }
        let request = req(location);
        let got = place(&s, &request, &cl);
        let want = reference(&named, strategy, max_activations, location);
        match (&got, &want) {
            (Ok(p), Some(w)) => prop_assert_eq!(p, w),
            (Err(FsmError::FleetCapacityExceeded { .. }), None) => {}
            _ => prop_assert!(false, "place {got:?}, reference {want:?}"),
        }
        // Whatever place picks, apply accepts.
        if let Ok(p) = got {
            let out = apply(&mut s, &Command::CreateGameSession {
                game_session_id: format!("arn:gamefleet:local::gamesession/{F}/new"),
                process_id: p.clone(),
                request,
                at_ms: 0,
            });
            prop_assert!(matches!(out, Ok(Output::GameSession(_))), "apply refused {p}: {out:?}");
        }
    }
}
