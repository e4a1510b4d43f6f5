//! Unit tests of every game session, player session and alias rule (GAMELIFT.md §1.3-1.4),
//! driven through [`apply`] as the log would drive them. Every refusal is also checked to
//! leave the state (and its hash) unchanged.

use super::alias::{self, AliasSpec, AliasUpdate, RoutingStrategy};
use super::fleet::{ProtectionPolicy, ResourceCreationLimitPolicy};
use super::session::{
    ACTIVATION_TIMEOUT_EVENT, GameProperty, GameSessionRequest, GameSessionUpdate,
    MAX_ENDED_GAME_SESSIONS, NODE_LOST_EVENT, NewPlayerSession, PlayerSessionCreationPolicy,
    RETENTION_MS, StatusReason, TerminationMode,
};
use super::*;

const F1: &str = "fleet-1";
const F2: &str = "fleet-2";

fn fleet_arn(fleet: &str) -> String {
    format!("arn:gamefleet:local::fleet/{fleet}")
}

/// A game session ARN of `fleet`.
fn gsid(fleet: &str, name: &str) -> String {
    format!("arn:gamefleet:local::gamesession/{fleet}/{name}")
}

#[track_caller]
fn ok(s: &mut State, cmd: Command) -> Output {
    match apply(s, &cmd) {
        Ok(out) => out,
        Err(e) => panic!("{} refused: {e:?}", cmd.name()),
    }
}

/// Applies `cmd`, expects a refusal, and checks the state did not change.
#[track_caller]
fn refused(s: &mut State, cmd: Command) -> FsmError {
    let (before, hash) = (s.clone(), s.hash());
    let Err(e) = apply(s, &cmd) else {
        panic!("{} was accepted, expected a refusal", cmd.name());
    };
    assert_eq!(*s, before, "refused {} changed the state", cmd.name());
    assert_eq!(s.hash(), hash);
    e
}

#[track_caller]
fn field_of(e: FsmError) -> String {
    match e {
        FsmError::InvalidArgument { field, .. } => field,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[track_caller]
fn session_out(out: Output) -> GameSession {
    match out {
        Output::GameSession(g) => *g,
        other => panic!("expected a game session, got {other:?}"),
    }
}

#[track_caller]
fn players_out(out: Output) -> Vec<PlayerSession> {
    match out {
        Output::PlayerSessions(p) => p,
        other => panic!("expected player sessions, got {other:?}"),
    }
}

fn add_fleet(s: &mut State, id: &str, spec: FleetSpec, status: FleetStatus) {
    ok(
        s,
        Command::CreateFleet {
            fleet_id: id.into(),
            arn: fleet_arn(id),
            spec: FleetSpec {
                name: "game".into(),
                ..spec
            },
            idempotency_token: None,
            at_ms: 0,
        },
    );
    if status != FleetStatus::New {
        ok(
            s,
            Command::SetFleetStatus {
                fleet_id: id.into(),
                status,
                at_ms: 0,
            },
        );
    }
}

fn record(pid: &str, fleet: &str, node: u64, location: Option<&str>) -> ProcessRecord {
    ProcessRecord {
        process_id: pid.into(),
        fleet_id: fleet.into(),
        node_id: node,
        pid: 100,
        port: 30_000,
        launch_path: "/g".into(),
        status: ProcessStatus::Launching,
        healthy: true,
        launched_at_ms: 0,
        ip_address: format!("10.0.0.{node}"),
        dns_name: format!("node{node}.example"),
        compute_name: format!("node-{node}"),
        location: location.map(Into::into),
        ..Default::default()
    }
}

/// Launches a process that is not ready yet (LAUNCHING).
fn launch_only(s: &mut State, pid: &str, fleet: &str, node: u64, location: Option<&str>) {
    ok(
        s,
        Command::ProcessLaunched {
            process: record(pid, fleet, node, location),
        },
    );
}

/// Launches a process and makes it ACTIVE (ProcessReady on port 7777).
fn launch(s: &mut State, pid: &str, fleet: &str, node: u64, location: Option<&str>) {
    launch_only(s, pid, fleet, node, location);
    ok(
        s,
        Command::ProcessReady {
            process_id: pid.into(),
            at_ms: 0,
            port: Some(7777),
        },
    );
}

/// fleet-1 ACTIVE with p1, p2 (node 1, loc-a) and p3 (node 2, loc-b); fleet-2 ACTIVE with p9
/// (node 3).
fn world() -> State {
    let mut s = State::default();
    add_fleet(&mut s, F1, FleetSpec::default(), FleetStatus::Active);
    add_fleet(&mut s, F2, FleetSpec::default(), FleetStatus::Active);
    launch(&mut s, "p1", F1, 1, Some("loc-a"));
    launch(&mut s, "p2", F1, 1, Some("loc-a"));
    launch(&mut s, "p3", F1, 2, Some("loc-b"));
    launch(&mut s, "p9", F2, 3, None);
    s
}

fn req(fleet: &str, max: i32) -> GameSessionRequest {
    GameSessionRequest {
        fleet_id: fleet.into(),
        maximum_player_session_count: max,
        ..Default::default()
    }
}

fn create(gs: &str, pid: &str, request: &GameSessionRequest, at_ms: i64) -> Command {
    Command::CreateGameSession {
        game_session_id: gs.into(),
        process_id: pid.into(),
        request: request.clone(),
        at_ms,
    }
}

fn activate(pid: &str, gs: &str) -> Command {
    Command::ActivateGameSession {
        process_id: pid.into(),
        game_session_id: gs.into(),
        at_ms: 0,
    }
}

fn new_player(psess: &str, player: &str) -> NewPlayerSession {
    NewPlayerSession {
        player_session_id: psess.into(),
        player_id: player.into(),
        player_data: None,
    }
}

fn add_players(gs: &str, players: Vec<NewPlayerSession>, at_ms: i64) -> Command {
    Command::CreatePlayerSessions {
        game_session_id: gs.into(),
        players,
        at_ms,
    }
}

/// `n` players `psess-{tag}-{i}` / `player-{tag}-{i}`.
fn batch(tag: &str, n: usize) -> Vec<NewPlayerSession> {
    (0..n)
        .map(|i| new_player(&format!("psess-{tag}-{i}"), &format!("player-{tag}-{i}")))
        .collect()
}

fn accept(pid: &str, gs: &str, psess: &str) -> Command {
    Command::AcceptPlayerSession {
        process_id: pid.into(),
        game_session_id: gs.into(),
        player_session_id: psess.into(),
        at_ms: 0,
    }
}

fn remove(pid: &str, gs: &str, psess: &str, at_ms: i64) -> Command {
    Command::RemovePlayerSession {
        process_id: pid.into(),
        game_session_id: gs.into(),
        player_session_id: psess.into(),
        at_ms,
    }
}

fn terminate(gs: &str, mode: TerminationMode, at_ms: i64) -> Command {
    Command::TerminateGameSession {
        game_session_id: gs.into(),
        mode,
        at_ms,
    }
}

fn update(gs: &str, process_id: Option<&str>, update: GameSessionUpdate) -> Command {
    Command::UpdateGameSession {
        game_session_id: gs.into(),
        process_id: process_id.map(Into::into),
        update,
        at_ms: 0,
    }
}

/// Creates game session `name` of fleet-1 on `pid` and activates it; returns its id.
fn active_session(s: &mut State, name: &str, pid: &str, max: i32) -> String {
    let id = gsid(F1, name);
    ok(s, create(&id, pid, &req(F1, max), 0));
    ok(s, activate(pid, &id));
    id
}

fn gs<'a>(s: &'a State, id: &str) -> &'a GameSession {
    &s.sessions.game_sessions[id]
}

fn ps<'a>(s: &'a State, id: &str) -> &'a PlayerSession {
    &s.sessions.player_sessions[id]
}

fn process<'a>(s: &'a State, pid: &str) -> &'a ProcessRecord {
    &s.hosting.processes[pid]
}

fn event_codes(s: &State, fleet: &str) -> Vec<String> {
    s.hosting
        .events
        .get(fleet)
        .map(|log| log.iter().map(|e| e.event_code.clone()).collect())
        .unwrap_or_default()
}

fn prop(key: &str, value: &str) -> GameProperty {
    GameProperty {
        key: key.into(),
        value: value.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// CreateGameSession
// ---------------------------------------------------------------------------------------------

#[test]
fn create_needs_an_existing_active_fleet() {
    for status in [
        FleetStatus::New,
        FleetStatus::Activating,
        FleetStatus::Error,
        FleetStatus::Deleting,
    ] {
        let mut s = State::default();
        add_fleet(&mut s, F1, FleetSpec::default(), FleetStatus::Active);
        launch(&mut s, "p1", F1, 1, None);
        ok(
            &mut s,
            Command::SetFleetStatus {
                fleet_id: F1.into(),
                status,
                at_ms: 0,
            },
        );
        let e = refused(&mut s, create(&gsid(F1, "a"), "p1", &req(F1, 4), 0));
        assert!(
            matches!(&e, FsmError::InvalidStatus { kind, .. } if kind == "fleet"),
            "{status:?}: {e:?}"
        );
    }
    let mut s = world();
    let e = refused(
        &mut s,
        create(&gsid("fleet-7", "a"), "p1", &req("fleet-7", 4), 0),
    );
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
}

#[test]
fn create_makes_an_activating_session_on_the_process() {
    let mut s = State::default();
    add_fleet(
        &mut s,
        F1,
        FleetSpec {
            protection_policy: ProtectionPolicy::FullProtection,
            ..Default::default()
        },
        FleetStatus::Active,
    );
    launch(&mut s, "p1", F1, 4, Some("loc-a"));
    let id = gsid(F1, "a");
    let request = GameSessionRequest {
        name: Some("duel".into()),
        game_properties: vec![prop("mode", "ctf")],
        creator_id: Some("alice".into()),
        game_session_data: Some("{}".into()),
        ..req(F1, 8)
    };
    let g = session_out(ok(&mut s, create(&id, "p1", &request, 42)));
    assert_eq!(g.status, GameSessionStatus::Activating);
    assert_eq!(g.status_reason, None);
    assert_eq!(g.fleet_id, F1);
    assert_eq!(g.fleet_arn, fleet_arn(F1));
    assert_eq!(
        (g.creation_time_ms, g.termination_time_ms),
        (42, None::<i64>)
    );
    assert_eq!(
        (
            g.current_player_session_count,
            g.maximum_player_session_count
        ),
        (0, 8)
    );
    assert_eq!(g.name.as_deref(), Some("duel"));
    assert_eq!(g.game_properties, vec![prop("mode", "ctf")]);
    assert_eq!(g.creator_id.as_deref(), Some("alice"));
    assert_eq!(g.game_session_data.as_deref(), Some("{}"));
    assert_eq!(g.ip_address, "10.0.0.4");
    assert_eq!(g.dns_name, "node4.example");
    assert_eq!(
        g.port, 7777,
        "the port the process reported in ProcessReady"
    );
    assert_eq!(g.location.as_deref(), Some("loc-a"));
    assert_eq!(g.compute_name, "node-4");
    assert_eq!((g.process_id.as_str(), g.node_id), ("p1", 4));
    assert_eq!(
        g.protection_policy,
        ProtectionPolicy::FullProtection,
        "the fleet's NewGameSessionProtectionPolicy"
    );
    assert_eq!(
        g.player_session_creation_policy,
        PlayerSessionCreationPolicy::AcceptAll
    );
    assert_eq!(g.request, request);
    assert_eq!(*gs(&s, &id), g);
    assert_eq!(process(&s, "p1").game_session_id.as_deref(), Some(&*id));
    assert!(s.sessions.live.contains(&id));
    assert!(s.sessions.ended.is_empty());
}

#[test]
fn create_without_a_reported_port_uses_the_process_port() {
    let mut s = world();
    launch_only(&mut s, "p5", F1, 1, None);
    ok(
        &mut s,
        Command::ProcessReady {
            process_id: "p5".into(),
            at_ms: 0,
            port: None,
        },
    );
    let g = session_out(ok(&mut s, create(&gsid(F1, "a"), "p5", &req(F1, 1), 0)));
    assert_eq!(g.port, 30_000);
}

#[test]
fn create_needs_an_active_healthy_free_process_of_the_fleet() {
    let mut s = world();
    launch_only(&mut s, "p-launching", F1, 1, None);
    launch(&mut s, "p-sick", F1, 1, None);
    ok(
        &mut s,
        Command::ProcessHealthChanged {
            process_id: "p-sick".into(),
            healthy: false,
            at_ms: 0,
        },
    );
    launch(&mut s, "p-ending", F1, 1, None);
    ok(
        &mut s,
        Command::ProcessTerminating {
            process_id: "p-ending".into(),
            at_ms: 0,
        },
    );
    ok(&mut s, create(&gsid(F1, "busy"), "p1", &req(F1, 2), 0));
    for pid in ["p-gone", "p-launching", "p-sick", "p-ending", "p1", "p9"] {
        let e = refused(&mut s, create(&gsid(F1, "a"), pid, &req(F1, 2), 0));
        match e {
            FsmError::FleetCapacityExceeded { message } => {
                assert!(message.contains(pid), "{pid}: {message}");
                assert!(message.contains(F1), "{pid}: {message}");
            }
            other => panic!("{pid}: expected FleetCapacityExceeded, got {other:?}"),
        }
    }
    // A healthy process again may host.
    ok(
        &mut s,
        Command::ProcessHealthChanged {
            process_id: "p-sick".into(),
            healthy: true,
            at_ms: 0,
        },
    );
    ok(&mut s, create(&gsid(F1, "a"), "p-sick", &req(F1, 2), 0));
}

#[test]
fn create_checks_the_location() {
    let mut s = world();
    let at_b = GameSessionRequest {
        location: Some("loc-b".into()),
        ..req(F1, 2)
    };
    let e = refused(&mut s, create(&gsid(F1, "a"), "p1", &at_b, 0));
    match e {
        FsmError::FleetCapacityExceeded { message } => assert!(message.contains("loc-b")),
        other => panic!("{other:?}"),
    }
    // p9 has no location at all.
    let f2_at_b = GameSessionRequest {
        location: Some("loc-b".into()),
        ..req(F2, 2)
    };
    refused(&mut s, create(&gsid(F2, "a"), "p9", &f2_at_b, 0));
    let g = session_out(ok(&mut s, create(&gsid(F1, "a"), "p3", &at_b, 0)));
    assert_eq!(g.location.as_deref(), Some("loc-b"));
    // No location asked: any process will do.
    ok(&mut s, create(&gsid(F1, "b"), "p1", &req(F1, 2), 0));
}

#[test]
fn game_session_id_must_be_an_arn_of_the_fleet() {
    let mut s = world();
    for bad in [String::new(), "x".repeat(513), gsid(F2, "a"), "gs-1".into()] {
        let e = refused(&mut s, create(&bad, "p1", &req(F1, 2), 0));
        assert_eq!(field_of(e), "game_session_id", "{bad:?}");
    }
}

#[test]
fn a_retry_with_the_same_id_and_request_returns_the_original() {
    let mut s = world();
    let id = gsid(F1, "tok-1");
    let request = GameSessionRequest {
        idempotency_token: Some("tok-1".into()),
        creator_id: Some("alice".into()),
        ..req(F1, 4)
    };
    let first = session_out(ok(&mut s, create(&id, "p1", &request, 0)));
    // The retry names another process (the leader placed again) and comes within the
    // creator's one-per-second window: neither matters, nothing changes.
    let hash = s.hash();
    let again = session_out(ok(&mut s, create(&id, "p2", &request, 10)));
    assert_eq!(again, first);
    assert_eq!(s.hash(), hash, "a retry changes nothing");
    assert_eq!(process(&s, "p2").game_session_id, None);
    // Any other parameter: a mismatch.
    for other in [
        GameSessionRequest {
            maximum_player_session_count: 5,
            ..request.clone()
        },
        GameSessionRequest {
            name: Some("n".into()),
            ..request.clone()
        },
        GameSessionRequest {
            creator_id: None,
            ..request.clone()
        },
    ] {
        let e = refused(&mut s, create(&id, "p2", &other, 10));
        assert_eq!(
            e,
            FsmError::IdempotentParameterMismatch {
                token: "tok-1".into()
            }
        );
    }
    // Without a token, the id itself is named.
    let id2 = gsid(F1, "x");
    ok(&mut s, create(&id2, "p2", &req(F1, 1), 0));
    let e = refused(&mut s, create(&id2, "p3", &req(F1, 2), 0));
    assert_eq!(
        e,
        FsmError::IdempotentParameterMismatch { token: id2.clone() }
    );
    // An ended session is still returned to a retry.
    ok(&mut s, terminate(&id, TerminationMode::ForceTerminate, 50));
    let ended = session_out(ok(&mut s, create(&id, "p3", &request, 60)));
    assert_eq!(ended.status, GameSessionStatus::Terminated);
    assert_eq!(process(&s, "p3").game_session_id, None);
}

// ---------------------------------------------------------------------------------------------
// ResourceCreationLimitPolicy
// ---------------------------------------------------------------------------------------------

/// A fleet with `policy` and `n` ready processes `q0..`.
fn limit_world(policy: Option<ResourceCreationLimitPolicy>, n: usize) -> State {
    let mut s = State::default();
    add_fleet(
        &mut s,
        F1,
        FleetSpec {
            resource_creation_limit_policy: policy,
            ..Default::default()
        },
        FleetStatus::Active,
    );
    add_fleet(&mut s, F2, FleetSpec::default(), FleetStatus::Active);
    for i in 0..n {
        launch(&mut s, &format!("q{i}"), F1, 1, None);
    }
    launch(&mut s, "r0", F2, 2, None);
    s
}

struct Creator {
    next: usize,
}

impl Creator {
    /// Applies a create by `creator` at `at_ms` on the next free process.
    fn try_create(&mut self, s: &mut State, creator: Option<&str>, at_ms: i64) -> CmdResult {
        let i = self.next;
        let request = GameSessionRequest {
            creator_id: creator.map(Into::into),
            ..req(F1, 1)
        };
        let before = s.clone();
        let r = apply(
            s,
            &create(
                &gsid(F1, &format!("g{i}")),
                &format!("q{i}"),
                &request,
                at_ms,
            ),
        );
        match &r {
            Ok(_) => self.next += 1,
            Err(_) => assert_eq!(*s, before, "a refused create changed the state"),
        }
        r
    }
}

#[track_caller]
fn limited(r: CmdResult) {
    assert!(
        matches!(r, Err(FsmError::LimitExceeded { .. })),
        "expected LimitExceeded, got {r:?}"
    );
}

#[test]
fn without_a_policy_a_creator_gets_one_session_per_second() {
    let mut s = limit_world(None, 10);
    let mut c = Creator { next: 0 };
    c.try_create(&mut s, Some("alice"), 0).unwrap();
    limited(c.try_create(&mut s, Some("alice"), 999));
    // Another creator, or no creator, is not limited by alice's sessions.
    c.try_create(&mut s, Some("bob"), 999).unwrap();
    c.try_create(&mut s, None, 999).unwrap();
    c.try_create(&mut s, Some("alice"), 1000).unwrap();
    limited(c.try_create(&mut s, Some("alice"), 1500));
    // The limit is per fleet.
    let other = GameSessionRequest {
        creator_id: Some("alice".into()),
        ..req(F2, 1)
    };
    ok(&mut s, create(&gsid(F2, "a"), "r0", &other, 1500));
    match c.try_create(&mut s, Some("alice"), 1500) {
        Err(FsmError::LimitExceeded { message }) => {
            assert!(message.contains("alice"), "{message}");
            assert!(message.contains("1 game sessions per 1 s"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_a_creator_there_is_no_limit() {
    let mut s = limit_world(
        Some(ResourceCreationLimitPolicy {
            new_game_sessions_per_creator: 0,
            policy_period_in_minutes: 1,
        }),
        6,
    );
    let mut c = Creator { next: 0 };
    for _ in 0..6 {
        c.try_create(&mut s, None, 5).unwrap();
    }
    assert!(s.sessions.creators.is_empty());
}

#[test]
fn a_policy_allows_n_sessions_per_creator_per_period() {
    let mut s = limit_world(
        Some(ResourceCreationLimitPolicy {
            new_game_sessions_per_creator: 2,
            policy_period_in_minutes: 1,
        }),
        10,
    );
    let mut c = Creator { next: 0 };
    c.try_create(&mut s, Some("alice"), 0).unwrap();
    c.try_create(&mut s, Some("alice"), 10).unwrap();
    limited(c.try_create(&mut s, Some("alice"), 20));
    limited(c.try_create(&mut s, Some("alice"), 59_999));
    c.try_create(&mut s, Some("bob"), 20).unwrap();
    // The window slides: at 60 000 the session of 0 has left it, the one of 10 has not.
    c.try_create(&mut s, Some("alice"), 60_000).unwrap();
    limited(c.try_create(&mut s, Some("alice"), 60_005));
    c.try_create(&mut s, Some("alice"), 60_010).unwrap();
    match c.try_create(&mut s, Some("alice"), 60_011) {
        Err(FsmError::LimitExceeded { message }) => {
            assert!(message.contains("2 game sessions per 60 s"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_policy_of_zero_sessions_refuses_every_creator() {
    let mut s = limit_world(
        Some(ResourceCreationLimitPolicy {
            new_game_sessions_per_creator: 0,
            policy_period_in_minutes: 5,
        }),
        2,
    );
    let mut c = Creator { next: 0 };
    limited(c.try_create(&mut s, Some("alice"), 0));
    limited(c.try_create(&mut s, Some("bob"), 1_000_000));
    c.try_create(&mut s, None, 0).unwrap();
}

#[test]
fn a_policy_set_later_applies_to_the_next_create() {
    let mut s = limit_world(None, 6);
    let mut c = Creator { next: 0 };
    c.try_create(&mut s, Some("alice"), 0).unwrap();
    limited(c.try_create(&mut s, Some("alice"), 500));
    ok(
        &mut s,
        Command::UpdateFleetAttributes {
            fleet_id: F1.into(),
            update: FleetUpdate {
                resource_creation_limit_policy: Some(ResourceCreationLimitPolicy {
                    new_game_sessions_per_creator: 2,
                    policy_period_in_minutes: 1,
                }),
                ..Default::default()
            },
        },
    );
    // Two per minute now: a second session within the second is allowed, a third is not.
    c.try_create(&mut s, Some("alice"), 500).unwrap();
    limited(c.try_create(&mut s, Some("alice"), 600));
    limited(c.try_create(&mut s, Some("alice"), 59_000));
}

// ---------------------------------------------------------------------------------------------
// Field rules
// ---------------------------------------------------------------------------------------------

type Edit = Box<dyn Fn(&mut GameSessionRequest)>;

#[test]
fn every_create_field_rule_names_its_field() {
    let props =
        |n: usize| -> Vec<GameProperty> { (0..n).map(|i| prop(&format!("k{i}"), "v")).collect() };
    let bad: Vec<(Edit, &str)> = vec![
        (
            Box::new(|r| r.maximum_player_session_count = -1),
            "maximum_player_session_count",
        ),
        (
            Box::new(|r| r.maximum_player_session_count = 201),
            "maximum_player_session_count",
        ),
        (
            Box::new(move |r| r.game_properties = props(17)),
            "game_properties",
        ),
        (
            Box::new(|r| r.game_properties = vec![prop(&"k".repeat(33), "v")]),
            "game_properties.key",
        ),
        (
            Box::new(|r| r.game_properties = vec![prop("", "v")]),
            "game_properties.key",
        ),
        (
            Box::new(|r| r.game_properties = vec![prop("k", "1"), prop("k", "2")]),
            "game_properties.key",
        ),
        (
            Box::new(|r| r.game_properties = vec![prop("k", &"v".repeat(97))]),
            "game_properties.value",
        ),
        (Box::new(|r| r.name = Some(String::new())), "name"),
        (Box::new(|r| r.name = Some("n".repeat(1025))), "name"),
        (
            Box::new(|r| r.game_session_data = Some(String::new())),
            "game_session_data",
        ),
        (
            Box::new(|r| r.game_session_data = Some("d".repeat(262_145))),
            "game_session_data",
        ),
        (
            Box::new(|r| r.creator_id = Some(String::new())),
            "creator_id",
        ),
        (
            Box::new(|r| r.creator_id = Some("c".repeat(1025))),
            "creator_id",
        ),
        (
            Box::new(|r| r.idempotency_token = Some("bad_token".into())),
            "idempotency_token",
        ),
        (
            Box::new(|r| r.idempotency_token = Some("t".repeat(49))),
            "idempotency_token",
        ),
        (
            Box::new(|r| r.idempotency_token = Some(String::new())),
            "idempotency_token",
        ),
        (Box::new(|r| r.location = Some(String::new())), "location"),
        (Box::new(|r| r.location = Some("l".repeat(65))), "location"),
        (Box::new(|r| r.fleet_id = "alias-1".into()), "fleet_id"),
    ];
    for (edit, field) in &bad {
        let mut s = world();
        let mut r = req(F1, 4);
        edit(&mut r);
        let e = refused(&mut s, create(&gsid(F1, "a"), "p1", &r, 0));
        assert_eq!(field_of(e), *field);
    }
    // The boundaries themselves are accepted (lengths count characters).
    let good: Vec<Edit> = vec![
        Box::new(|r| r.maximum_player_session_count = 0),
        Box::new(|r| r.maximum_player_session_count = 200),
        Box::new(move |r| r.game_properties = props(16)),
        Box::new(|r| r.game_properties = vec![prop(&"é".repeat(32), &"é".repeat(96))]),
        Box::new(|r| r.game_properties = vec![prop("k", "")]),
        Box::new(|r| r.name = Some("é".repeat(1024))),
        Box::new(|r| r.game_session_data = Some("d".repeat(262_144))),
        Box::new(|r| r.creator_id = Some("c".repeat(1024))),
        Box::new(|r| r.idempotency_token = Some("Tok-9".repeat(9) + "abc")),
        Box::new(|r| r.location = Some("loc-a".into())),
    ];
    for edit in &good {
        let mut s = world();
        let mut r = req(F1, 4);
        edit(&mut r);
        assert!(r.validate().is_ok(), "{r:?}");
        ok(&mut s, create(&gsid(F1, "a"), "p1", &r, 0));
    }
}

#[test]
fn every_update_field_rule_names_its_field() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    let cases: Vec<(GameSessionUpdate, &str)> = vec![
        (
            GameSessionUpdate {
                maximum_player_session_count: Some(201),
                ..Default::default()
            },
            "maximum_player_session_count",
        ),
        (
            GameSessionUpdate {
                maximum_player_session_count: Some(-1),
                ..Default::default()
            },
            "maximum_player_session_count",
        ),
        (
            GameSessionUpdate {
                name: Some(String::new()),
                ..Default::default()
            },
            "name",
        ),
        (
            GameSessionUpdate {
                game_properties: (0..17).map(|i| prop(&format!("k{i}"), "v")).collect(),
                ..Default::default()
            },
            "game_properties",
        ),
        (
            GameSessionUpdate {
                game_properties: vec![prop(&"k".repeat(33), "v")],
                ..Default::default()
            },
            "game_properties.key",
        ),
        (
            GameSessionUpdate {
                game_properties: vec![prop("k", &"v".repeat(97))],
                ..Default::default()
            },
            "game_properties.value",
        ),
    ];
    for (u, field) in cases {
        assert_eq!(field_of(refused(&mut s, update(&id, None, u))), field);
    }
}

// ---------------------------------------------------------------------------------------------
// ActivateGameSession
// ---------------------------------------------------------------------------------------------

#[test]
fn only_the_hosting_process_activates_and_only_from_activating() {
    let mut s = world();
    let id = gsid(F1, "a");
    ok(&mut s, create(&id, "p1", &req(F1, 4), 0));
    let e = refused(&mut s, activate("p2", &id));
    assert!(
        matches!(&e, FsmError::NotFound { kind, .. } if kind == "game session"),
        "{e:?}"
    );
    let e = refused(&mut s, activate("p1", &gsid(F1, "none")));
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    let g = session_out(ok(&mut s, activate("p1", &id)));
    assert_eq!(g.status, GameSessionStatus::Active);
    assert_eq!(gs(&s, &id).status, GameSessionStatus::Active);
    // Activating an ACTIVE session again (a retried SDK call) is harmless.
    let hash = s.hash();
    let g = session_out(ok(&mut s, activate("p1", &id)));
    assert_eq!(g.status, GameSessionStatus::Active);
    assert_eq!(s.hash(), hash);
    // TERMINATING and ended sessions cannot be activated.
    ok(
        &mut s,
        terminate(&id, TerminationMode::TriggerOnProcessTerminate, 5),
    );
    let e = refused(&mut s, activate("p1", &id));
    assert!(matches!(e, FsmError::InvalidStatus { .. }), "{e:?}");
    ok(&mut s, terminate(&id, TerminationMode::ForceTerminate, 6));
    let e = refused(&mut s, activate("p1", &id));
    assert!(matches!(e, FsmError::InvalidStatus { .. }), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// CreatePlayerSessions
// ---------------------------------------------------------------------------------------------

#[test]
fn every_player_field_rule_names_its_field() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 200);
    ok(
        &mut s,
        add_players(&id, vec![new_player("psess-x", "x")], 0),
    );
    let with_data = |d: &str| NewPlayerSession {
        player_data: Some(d.into()),
        ..new_player("psess-d", "d")
    };
    let cases: Vec<(Vec<NewPlayerSession>, &str)> = vec![
        (vec![], "player_ids"),
        (batch("big", 26), "player_ids"),
        (
            vec![new_player("psess-1", "same"), new_player("psess-2", "same")],
            "player_ids",
        ),
        (vec![new_player("psess-1", "")], "player_id"),
        (vec![new_player("psess-1", &"p".repeat(1025))], "player_id"),
        (vec![with_data("")], "player_data"),
        (vec![with_data(&"d".repeat(2049))], "player_data"),
        (vec![new_player("", "a")], "player_session_id"),
        // The id of an existing player session (after a new first id: not a retry).
        (
            vec![new_player("psess-1", "a"), new_player("psess-x", "y")],
            "player_session_id",
        ),
        // The same new id twice in one batch.
        (
            vec![new_player("psess-1", "a"), new_player("psess-1", "b")],
            "player_session_id",
        ),
    ];
    for (players, field) in cases {
        let n = players.len();
        let e = refused(&mut s, add_players(&id, players, 0));
        assert_eq!(field_of(e), field, "batch of {n}");
    }
    assert_eq!(gs(&s, &id).current_player_session_count, 1);
    // The boundaries are accepted.
    ok(&mut s, add_players(&id, batch("b25", 25), 0));
    ok(
        &mut s,
        add_players(&id, vec![with_data(&"é".repeat(2048))], 0),
    );
    ok(
        &mut s,
        add_players(&id, vec![new_player("psess-long", &"p".repeat(1024))], 0),
    );
    assert_eq!(gs(&s, &id).current_player_session_count, 28);
}

#[test]
fn a_retried_reservation_returns_the_original_player_sessions() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 3);
    let first = players_out(ok(&mut s, add_players(&id, batch("a", 2), 5)));
    // The same ids and players again (a retry): the originals, nothing changes, even
    // though only one slot is free.
    let hash = s.hash();
    let again = players_out(ok(&mut s, add_players(&id, batch("a", 2), 9)));
    assert_eq!(again, first);
    assert_eq!(s.hash(), hash);
    // The same first id with other parameters: a mismatch.
    let mut other = batch("a", 2);
    other[1].player_id = "someone-else".into();
    let e = refused(&mut s, add_players(&id, other, 9));
    assert!(
        matches!(e, FsmError::IdempotentParameterMismatch { .. }),
        "{e:?}"
    );
    let mut other = batch("a", 1);
    other[0].player_data = Some("changed".into());
    let e = refused(&mut s, add_players(&id, other, 9));
    assert!(
        matches!(e, FsmError::IdempotentParameterMismatch { .. }),
        "{e:?}"
    );
    assert_eq!(gs(&s, &id).current_player_session_count, 2);
}

#[test]
fn players_join_only_active_sessions_that_accept_them() {
    let mut s = world();
    let id = gsid(F1, "a");
    let e = refused(&mut s, add_players(&id, batch("a", 1), 0));
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    ok(&mut s, create(&id, "p1", &req(F1, 4), 0));
    let e = refused(&mut s, add_players(&id, batch("a", 1), 0));
    assert!(
        matches!(&e, FsmError::InvalidStatus { kind, .. } if kind == "game session"),
        "ACTIVATING: {e:?}"
    );
    ok(&mut s, activate("p1", &id));
    let deny = GameSessionUpdate {
        player_session_creation_policy: Some(PlayerSessionCreationPolicy::DenyAll),
        ..Default::default()
    };
    ok(&mut s, update(&id, None, deny));
    match refused(&mut s, add_players(&id, batch("a", 1), 0)) {
        FsmError::InvalidStatus { message, .. } => assert!(message.contains("DENY_ALL")),
        other => panic!("DENY_ALL: {other:?}"),
    }
    let allow = GameSessionUpdate {
        player_session_creation_policy: Some(PlayerSessionCreationPolicy::AcceptAll),
        ..Default::default()
    };
    ok(&mut s, update(&id, None, allow));
    let created = players_out(ok(&mut s, add_players(&id, batch("a", 2), 7)));
    assert_eq!(created.len(), 2);
    for p in &created {
        assert_eq!(p.status, PlayerSessionStatus::Reserved);
        assert_eq!(p.game_session_id, id);
        assert_eq!(p.fleet_id, F1);
        assert_eq!((p.creation_time_ms, p.termination_time_ms), (7, None));
        assert_eq!((p.ip_address.as_str(), p.port), ("10.0.0.1", 7777));
        assert_eq!(*ps(&s, &p.id), *p);
        assert!(s.sessions.reserved.contains(&(7, p.id.clone())));
        assert!(
            s.sessions
                .by_game_session
                .contains(&(id.clone(), p.id.clone()))
        );
        assert!(
            s.sessions
                .by_player
                .contains(&(p.player_id.clone(), p.id.clone()))
        );
    }
    ok(
        &mut s,
        terminate(&id, TerminationMode::TriggerOnProcessTerminate, 8),
    );
    let e = refused(&mut s, add_players(&id, batch("b", 1), 9));
    assert!(
        matches!(e, FsmError::InvalidStatus { .. }),
        "TERMINATING: {e:?}"
    );
    ok(&mut s, terminate(&id, TerminationMode::ForceTerminate, 9));
    let e = refused(&mut s, add_players(&id, batch("b", 1), 9));
    assert!(
        matches!(e, FsmError::InvalidStatus { .. }),
        "TERMINATED: {e:?}"
    );
}

#[test]
fn a_session_never_holds_more_players_than_its_maximum() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 2);
    // All or none: three players for two slots creates none.
    match refused(&mut s, add_players(&id, batch("a", 3), 0)) {
        FsmError::GameSessionFull { message } => assert!(message.contains("2 of 2"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(s.sessions.player_sessions.is_empty());
    ok(&mut s, add_players(&id, batch("a", 2), 0));
    assert_eq!(gs(&s, &id).current_player_session_count, 2);
    assert_eq!(gs(&s, &id).available_slots(), 0);
    let e = refused(&mut s, add_players(&id, batch("b", 1), 0));
    assert!(matches!(e, FsmError::GameSessionFull { .. }), "{e:?}");
    // A session for no players takes none.
    let zero = active_session(&mut s, "zero", "p2", 0);
    let e = refused(&mut s, add_players(&zero, batch("z", 1), 0));
    assert!(matches!(e, FsmError::GameSessionFull { .. }), "{e:?}");
    // 200 players fill the largest session exactly.
    let big = active_session(&mut s, "big", "p3", 200);
    for i in 0..8 {
        ok(&mut s, add_players(&big, batch(&format!("big{i}"), 25), 0));
    }
    assert_eq!(gs(&s, &big).current_player_session_count, 200);
    let e = refused(&mut s, add_players(&big, batch("more", 1), 0));
    assert!(matches!(e, FsmError::GameSessionFull { .. }), "{e:?}");
}

#[test]
fn only_the_hosting_process_accepts_and_only_reserved_players() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    let other = active_session(&mut s, "b", "p2", 4);
    ok(&mut s, add_players(&id, batch("a", 2), 3));
    ok(&mut s, add_players(&other, batch("b", 1), 3));
    // Another process, a player of another session, an unknown player: NotFound.
    for cmd in [
        accept("p2", &id, "psess-a-0"),
        accept("p1", &id, "psess-b-0"),
        accept("p1", &id, "psess-none"),
        accept("p1", &gsid(F1, "none"), "psess-a-0"),
    ] {
        let e = refused(&mut s, cmd);
        assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    }
    let out = players_out(ok(&mut s, accept("p1", &id, "psess-a-0")));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].status, PlayerSessionStatus::Active);
    assert_eq!(ps(&s, "psess-a-0").status, PlayerSessionStatus::Active);
    assert!(!s.sessions.reserved.contains(&(3, "psess-a-0".to_string())));
    assert!(s.sessions.reserved.contains(&(3, "psess-a-1".to_string())));
    assert_eq!(
        gs(&s, &id).current_player_session_count,
        2,
        "an accepted player still holds its slot"
    );
    // ACTIVE → ACTIVE is refused; so are ended player sessions.
    let e = refused(&mut s, accept("p1", &id, "psess-a-0"));
    assert!(matches!(e, FsmError::InvalidStatus { .. }), "{e:?}");
    ok(&mut s, remove("p1", &id, "psess-a-1", 4));
    let e = refused(&mut s, accept("p1", &id, "psess-a-1"));
    assert!(matches!(e, FsmError::InvalidStatus { .. }), "{e:?}");
    ok(
        &mut s,
        Command::TimeOutPlayerSessions {
            player_session_ids: vec!["psess-b-0".into()],
            at_ms: 5,
        },
    );
    let e = refused(&mut s, accept("p2", &other, "psess-b-0"));
    assert!(matches!(e, FsmError::InvalidStatus { .. }), "{e:?}");
    // A reservation in a TERMINATING session cannot be accepted any more.
    ok(&mut s, add_players(&other, batch("c", 1), 6));
    ok(
        &mut s,
        terminate(&other, TerminationMode::TriggerOnProcessTerminate, 7),
    );
    let e = refused(&mut s, accept("p2", &other, "psess-c-0"));
    assert!(matches!(e, FsmError::InvalidStatus { .. }), "{e:?}");
}

#[test]
fn removing_a_player_completes_it_and_frees_its_slot() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 2);
    ok(&mut s, add_players(&id, batch("a", 2), 3));
    ok(&mut s, accept("p1", &id, "psess-a-0"));
    let e = refused(&mut s, remove("p2", &id, "psess-a-0", 9));
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    for (psess, at) in [("psess-a-0", 10), ("psess-a-1", 11)] {
        let out = players_out(ok(&mut s, remove("p1", &id, psess, at)));
        assert_eq!(out[0].status, PlayerSessionStatus::Completed);
        assert_eq!(ps(&s, psess).status, PlayerSessionStatus::Completed);
        assert_eq!(ps(&s, psess).termination_time_ms, Some(at));
    }
    assert_eq!(gs(&s, &id).current_player_session_count, 0);
    assert!(s.sessions.reserved.is_empty());
    // The records stay readable by game session and by player.
    assert_eq!(s.sessions.players_of(&id).count(), 2);
    assert_eq!(s.sessions.of_player("player-a-1").count(), 1);
    let e = refused(&mut s, remove("p1", &id, "psess-a-0", 12));
    assert!(matches!(e, FsmError::InvalidStatus { .. }), "{e:?}");
    // The freed slots take new players.
    ok(&mut s, add_players(&id, batch("b", 2), 13));
    assert_eq!(gs(&s, &id).current_player_session_count, 2);
}

#[test]
fn reservation_timeouts_free_only_reserved_slots() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    ok(&mut s, add_players(&id, batch("a", 4), 1));
    ok(&mut s, accept("p1", &id, "psess-a-1"));
    ok(&mut s, remove("p1", &id, "psess-a-2", 2));
    let out = ok(
        &mut s,
        Command::TimeOutPlayerSessions {
            player_session_ids: ["psess-a-0", "psess-a-1", "psess-a-2", "psess-none"]
                .map(String::from)
                .to_vec(),
            at_ms: 61_000,
        },
    );
    assert_eq!(out, Output::Done);
    let status = |p: &str| ps(&s, p).status;
    assert_eq!(status("psess-a-0"), PlayerSessionStatus::Timedout);
    assert_eq!(ps(&s, "psess-a-0").termination_time_ms, Some(61_000));
    assert_eq!(
        status("psess-a-1"),
        PlayerSessionStatus::Active,
        "ACTIVE is skipped"
    );
    assert_eq!(
        status("psess-a-2"),
        PlayerSessionStatus::Completed,
        "COMPLETED is kept"
    );
    assert_eq!(ps(&s, "psess-a-2").termination_time_ms, Some(2));
    assert_eq!(
        status("psess-a-3"),
        PlayerSessionStatus::Reserved,
        "not named"
    );
    assert_eq!(gs(&s, &id).current_player_session_count, 2);
    assert_eq!(
        s.sessions
            .reserved
            .iter()
            .map(|(_, p)| p.as_str())
            .collect::<Vec<_>>(),
        ["psess-a-3"]
    );
    // Timing out again changes nothing.
    let hash = s.hash();
    ok(
        &mut s,
        Command::TimeOutPlayerSessions {
            player_session_ids: vec!["psess-a-0".into(), "psess-a-1".into()],
            at_ms: 62_000,
        },
    );
    assert_eq!(s.hash(), hash);
}

// ---------------------------------------------------------------------------------------------
// UpdateGameSession
// ---------------------------------------------------------------------------------------------

#[test]
fn update_changes_what_it_names() {
    let mut s = world();
    let id = gsid(F1, "a");
    let request = GameSessionRequest {
        game_properties: vec![prop("a", "1"), prop("b", "2")],
        ..req(F1, 4)
    };
    ok(&mut s, create(&id, "p1", &request, 0));
    ok(&mut s, activate("p1", &id));
    ok(&mut s, add_players(&id, batch("a", 3), 0));
    let u = GameSessionUpdate {
        maximum_player_session_count: Some(3),
        name: Some("renamed".into()),
        player_session_creation_policy: Some(PlayerSessionCreationPolicy::DenyAll),
        protection_policy: Some(ProtectionPolicy::FullProtection),
        game_properties: vec![
            prop("b", ""),
            prop("c", "3"),
            prop("a", "9"),
            prop("zz", ""),
        ],
    };
    let g = session_out(ok(&mut s, update(&id, None, u)));
    assert_eq!(g.maximum_player_session_count, 3);
    assert_eq!(g.name.as_deref(), Some("renamed"));
    assert_eq!(
        g.player_session_creation_policy,
        PlayerSessionCreationPolicy::DenyAll
    );
    assert_eq!(g.protection_policy, ProtectionPolicy::FullProtection);
    let mut props = g.game_properties.clone();
    props.sort();
    assert_eq!(
        props,
        vec![prop("a", "9"), prop("c", "3")],
        "merged; empty removes"
    );
    assert_eq!(*gs(&s, &id), g);
    // An empty update changes nothing.
    let hash = s.hash();
    ok(&mut s, update(&id, None, GameSessionUpdate::default()));
    assert_eq!(s.hash(), hash);
}

#[test]
fn update_keeps_the_maximum_at_or_above_the_player_count() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 5);
    ok(&mut s, add_players(&id, batch("a", 3), 0));
    let to = |n| GameSessionUpdate {
        maximum_player_session_count: Some(n),
        ..Default::default()
    };
    let e = refused(&mut s, update(&id, None, to(2)));
    assert_eq!(field_of(e), "maximum_player_session_count");
    ok(&mut s, update(&id, None, to(3)));
    let e = refused(&mut s, add_players(&id, batch("b", 1), 0));
    assert!(matches!(e, FsmError::GameSessionFull { .. }), "{e:?}");
    ok(&mut s, remove("p1", &id, "psess-a-0", 1));
    ok(&mut s, update(&id, None, to(2)));
    ok(&mut s, update(&id, None, to(200)));
}

#[test]
fn update_keeps_at_most_16_properties_after_the_merge() {
    let mut s = world();
    let id = gsid(F1, "a");
    let request = GameSessionRequest {
        game_properties: (0..10).map(|i| prop(&format!("k{i}"), "v")).collect(),
        ..req(F1, 4)
    };
    ok(&mut s, create(&id, "p1", &request, 0));
    let add = |range: std::ops::Range<i32>| GameSessionUpdate {
        game_properties: range.map(|i| prop(&format!("n{i}"), "v")).collect(),
        ..Default::default()
    };
    // 10 + 7 = 17: refused, even with changes to other fields in the same update.
    let mut too_many = add(0..7);
    too_many.name = Some("x".into());
    match refused(&mut s, update(&id, None, too_many)) {
        FsmError::InvalidArgument { field, rule } => {
            assert_eq!(field, "game_properties");
            assert!(rule.contains("17"), "{rule}");
        }
        other => panic!("{other:?}"),
    }
    // Removing one in the same update makes room.
    let mut swap = add(0..7);
    swap.game_properties.push(prop("k0", ""));
    let g = session_out(ok(&mut s, update(&id, None, swap)));
    assert_eq!(g.game_properties.len(), 16);
    // Changing existing keys does not count twice.
    let g = session_out(ok(&mut s, update(&id, None, add(0..7))));
    assert_eq!(g.game_properties.len(), 16);
}

#[test]
fn a_process_updates_only_its_own_live_session() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    let rename = |n: &str| GameSessionUpdate {
        name: Some(n.into()),
        ..Default::default()
    };
    let e = refused(&mut s, update(&id, Some("p2"), rename("x")));
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    let e = refused(&mut s, update(&id, Some("p-none"), rename("x")));
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    let g = session_out(ok(&mut s, update(&id, Some("p1"), rename("mine"))));
    assert_eq!(g.name.as_deref(), Some("mine"));
    let e = refused(&mut s, update(&gsid(F1, "none"), None, rename("x")));
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    // TERMINATING is still live; ended is not.
    ok(
        &mut s,
        terminate(&id, TerminationMode::TriggerOnProcessTerminate, 1),
    );
    ok(&mut s, update(&id, None, rename("closing")));
    ok(&mut s, terminate(&id, TerminationMode::ForceTerminate, 2));
    for by in [None, Some("p1")] {
        let e = refused(&mut s, update(&id, by, rename("x")));
        assert!(matches!(e, FsmError::InvalidStatus { .. }), "{e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Ending game sessions
// ---------------------------------------------------------------------------------------------

/// Checks an ended session: status, reason, time, players completed, indexes, process freed.
#[track_caller]
fn assert_ended(
    s: &State,
    id: &str,
    status: GameSessionStatus,
    reason: Option<StatusReason>,
    at_ms: i64,
) {
    let g = gs(s, id);
    assert_eq!((g.status, g.status_reason), (status, reason));
    assert_eq!(g.termination_time_ms, Some(at_ms));
    assert_eq!(g.current_player_session_count, 0);
    for p in s.sessions.players_of(id) {
        assert!(
            !p.status.holds_slot(),
            "{} is {:?} in an ended session",
            p.id,
            p.status
        );
    }
    assert!(!s.sessions.live.contains(id));
    assert!(s.sessions.ended.contains(&(at_ms, id.to_string())));
    assert!(
        s.hosting
            .processes
            .values()
            .all(|p| p.game_session_id.as_deref() != Some(id)),
        "a process still names {id}"
    );
}

#[test]
fn trigger_terminate_waits_for_the_process_then_process_ending_ends_it() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    ok(&mut s, add_players(&id, batch("a", 2), 0));
    ok(&mut s, accept("p1", &id, "psess-a-0"));
    let g = session_out(ok(
        &mut s,
        terminate(&id, TerminationMode::TriggerOnProcessTerminate, 10),
    ));
    assert_eq!(g.status, GameSessionStatus::Terminating);
    assert_eq!(
        g.status_reason,
        Some(StatusReason::TriggeredOnProcessTerminate)
    );
    assert_eq!(g.termination_time_ms, None);
    assert_eq!(
        g.current_player_session_count, 2,
        "players stay until it ends"
    );
    assert!(s.sessions.live.contains(&id));
    assert_eq!(process(&s, "p1").game_session_id.as_deref(), Some(&*id));
    assert_eq!(process(&s, "p1").status, ProcessStatus::Active);
    // Asking again is a harmless retry.
    let hash = s.hash();
    ok(
        &mut s,
        terminate(&id, TerminationMode::TriggerOnProcessTerminate, 11),
    );
    assert_eq!(s.hash(), hash);
    // The server calls ProcessEnding: the TERMINATING session is TERMINATED, reason kept.
    ok(
        &mut s,
        Command::ProcessTerminating {
            process_id: "p1".into(),
            at_ms: 20,
        },
    );
    assert_ended(
        &s,
        &id,
        GameSessionStatus::Terminated,
        Some(StatusReason::TriggeredOnProcessTerminate),
        20,
    );
    assert_eq!(ps(&s, "psess-a-0").status, PlayerSessionStatus::Completed);
    assert_eq!(ps(&s, "psess-a-1").status, PlayerSessionStatus::Completed);
    assert_eq!(process(&s, "p1").status, ProcessStatus::Terminating);
    // Then the process exits; the ended session is left as it is.
    let before = s.sessions.clone();
    ok(
        &mut s,
        Command::ProcessEnded {
            process_id: "p1".into(),
            event_code: None,
            message: "exit 0".into(),
            at_ms: 30,
        },
    );
    assert_eq!(s.sessions, before);
    assert!(!s.hosting.processes.contains_key("p1"));
}

#[test]
fn a_terminating_session_whose_process_exits_is_terminated_with_its_reason() {
    for code in [None, Some("SERVER_PROCESS_CRASHED")] {
        let mut s = world();
        let id = active_session(&mut s, "a", "p1", 4);
        ok(&mut s, add_players(&id, batch("a", 1), 0));
        ok(
            &mut s,
            terminate(&id, TerminationMode::TriggerOnProcessTerminate, 10),
        );
        ok(
            &mut s,
            Command::ProcessEnded {
                process_id: "p1".into(),
                event_code: code.map(Into::into),
                message: "gone".into(),
                at_ms: 20,
            },
        );
        // Even a crash after TerminateGameSession ends it TERMINATED, not ERROR.
        assert_ended(
            &s,
            &id,
            GameSessionStatus::Terminated,
            Some(StatusReason::TriggeredOnProcessTerminate),
            20,
        );
        assert!(!s.hosting.processes.contains_key("p1"));
    }
}

#[test]
fn force_terminate_ends_at_once_and_recycles_the_process() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    ok(&mut s, add_players(&id, batch("a", 3), 0));
    ok(&mut s, accept("p1", &id, "psess-a-0"));
    let g = session_out(ok(
        &mut s,
        terminate(&id, TerminationMode::ForceTerminate, 10),
    ));
    assert_eq!(g.status, GameSessionStatus::Terminated);
    assert_ended(
        &s,
        &id,
        GameSessionStatus::Terminated,
        Some(StatusReason::ForceTerminated),
        10,
    );
    for i in 0..3 {
        let p = ps(&s, &format!("psess-a-{i}"));
        assert_eq!(p.status, PlayerSessionStatus::Completed);
        assert_eq!(p.termination_time_ms, Some(10));
    }
    assert!(s.sessions.reserved.is_empty());
    assert_eq!(process(&s, "p1").status, ProcessStatus::Terminating);
    assert_eq!(process(&s, "p1").game_session_id, None);
    // Once ended, neither mode applies; unknown sessions are NotFound.
    for mode in [
        TerminationMode::ForceTerminate,
        TerminationMode::TriggerOnProcessTerminate,
    ] {
        let e = refused(&mut s, terminate(&id, mode, 11));
        assert!(matches!(e, FsmError::InvalidStatus { .. }), "{e:?}");
        let e = refused(&mut s, terminate(&gsid(F1, "none"), mode, 11));
        assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    }
}

#[test]
fn force_terminate_overrides_a_pending_trigger_and_ends_activating_sessions() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    ok(
        &mut s,
        terminate(&id, TerminationMode::TriggerOnProcessTerminate, 10),
    );
    ok(&mut s, terminate(&id, TerminationMode::ForceTerminate, 11));
    assert_ended(
        &s,
        &id,
        GameSessionStatus::Terminated,
        Some(StatusReason::ForceTerminated),
        11,
    );
    let id2 = gsid(F1, "b");
    ok(&mut s, create(&id2, "p2", &req(F1, 4), 0));
    ok(&mut s, terminate(&id2, TerminationMode::ForceTerminate, 12));
    assert_ended(
        &s,
        &id2,
        GameSessionStatus::Terminated,
        Some(StatusReason::ForceTerminated),
        12,
    );
    // TRIGGER on an ACTIVATING session: TERMINATING.
    let id3 = gsid(F1, "c");
    ok(&mut s, create(&id3, "p3", &req(F1, 4), 0));
    let g = session_out(ok(
        &mut s,
        terminate(&id3, TerminationMode::TriggerOnProcessTerminate, 13),
    ));
    assert_eq!(g.status, GameSessionStatus::Terminating);
}

#[test]
fn activation_timeout_ends_an_activating_session() {
    let mut s = world();
    let id = gsid(F1, "a");
    ok(&mut s, create(&id, "p1", &req(F1, 4), 0));
    let out = ok(
        &mut s,
        Command::GameSessionActivationTimedOut {
            game_session_id: id.clone(),
            at_ms: 600_000,
        },
    );
    assert_eq!(out, Output::Done);
    assert_ended(
        &s,
        &id,
        GameSessionStatus::Terminated,
        Some(StatusReason::ActivationTimeout),
        600_000,
    );
    assert_eq!(process(&s, "p1").status, ProcessStatus::Terminating);
    let events = &s.hosting.events[F1];
    let last = events.back().unwrap();
    assert_eq!(last.event_code, ACTIVATION_TIMEOUT_EVENT);
    assert_eq!(last.event_time_ms, 600_000);
    assert!(last.message.contains(&id) && last.message.contains("p1"));
    // Again: nothing happens (no second event).
    let hash = s.hash();
    ok(
        &mut s,
        Command::GameSessionActivationTimedOut {
            game_session_id: id.clone(),
            at_ms: 600_001,
        },
    );
    assert_eq!(s.hash(), hash);
}

#[test]
fn activation_timeout_is_a_no_op_once_active_or_unknown() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    let trig = gsid(F1, "b");
    ok(&mut s, create(&trig, "p2", &req(F1, 4), 0));
    ok(
        &mut s,
        terminate(&trig, TerminationMode::TriggerOnProcessTerminate, 1),
    );
    for target in [id.clone(), trig.clone(), gsid(F1, "none")] {
        let hash = s.hash();
        let out = ok(
            &mut s,
            Command::GameSessionActivationTimedOut {
                game_session_id: target.clone(),
                at_ms: 600_000,
            },
        );
        assert_eq!(out, Output::Done);
        assert_eq!(s.hash(), hash, "{target}");
    }
    assert_eq!(gs(&s, &id).status, GameSessionStatus::Active);
    assert!(!event_codes(&s, F1).contains(&ACTIVATION_TIMEOUT_EVENT.to_string()));
}

#[test]
fn a_crash_ends_the_session_in_error() {
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    ok(&mut s, add_players(&id, batch("a", 2), 0));
    ok(&mut s, accept("p1", &id, "psess-a-1"));
    ok(
        &mut s,
        Command::ProcessEnded {
            process_id: "p1".into(),
            event_code: Some("SERVER_PROCESS_CRASHED".into()),
            message: "signal 11".into(),
            at_ms: 50,
        },
    );
    assert_ended(
        &s,
        &id,
        GameSessionStatus::Error,
        Some(StatusReason::ProcessCrashed),
        50,
    );
    assert_eq!(ps(&s, "psess-a-0").status, PlayerSessionStatus::Completed);
    assert_eq!(ps(&s, "psess-a-1").status, PlayerSessionStatus::Completed);
    assert!(!s.hosting.processes.contains_key("p1"));
    assert_eq!(
        event_codes(&s, F1).last().map(String::as_str),
        Some("SERVER_PROCESS_CRASHED")
    );
}

#[test]
fn a_clean_exit_or_process_ending_terminates_the_session() {
    // ProcessEnded without an event code (the process exited after all).
    let mut s = world();
    let id = active_session(&mut s, "a", "p1", 4);
    ok(&mut s, add_players(&id, batch("a", 1), 0));
    ok(
        &mut s,
        Command::ProcessEnded {
            process_id: "p1".into(),
            event_code: None,
            message: String::new(),
            at_ms: 50,
        },
    );
    assert_ended(&s, &id, GameSessionStatus::Terminated, None, 50);
    // ProcessEnding (ProcessTerminating) of an ACTIVE or ACTIVATING session.
    let id = active_session(&mut s, "b", "p2", 4);
    ok(&mut s, add_players(&id, batch("b", 1), 0));
    ok(
        &mut s,
        Command::ProcessTerminating {
            process_id: "p2".into(),
            at_ms: 60,
        },
    );
    assert_ended(&s, &id, GameSessionStatus::Terminated, None, 60);
    assert_eq!(ps(&s, "psess-b-0").status, PlayerSessionStatus::Completed);
    assert_eq!(process(&s, "p2").status, ProcessStatus::Terminating);
    let id = gsid(F1, "c");
    ok(&mut s, create(&id, "p3", &req(F1, 4), 0));
    ok(
        &mut s,
        Command::ProcessTerminating {
            process_id: "p3".into(),
            at_ms: 70,
        },
    );
    assert_ended(&s, &id, GameSessionStatus::Terminated, None, 70);
    // Unknown processes are NotFound.
    let e = refused(
        &mut s,
        Command::ProcessTerminating {
            process_id: "p-none".into(),
            at_ms: 0,
        },
    );
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
}

#[test]
fn a_lost_node_ends_its_sessions_in_error() {
    let mut s = world();
    launch(&mut s, "p4", F1, 2, None);
    launch(&mut s, "p8", F2, 5, None);
    let a = active_session(&mut s, "a", "p1", 4);
    ok(&mut s, add_players(&a, batch("a", 2), 0));
    let b = gsid(F1, "b");
    ok(&mut s, create(&b, "p2", &req(F1, 4), 0));
    let c = active_session(&mut s, "c", "p3", 4);
    ok(&mut s, add_players(&c, batch("c", 1), 0));
    ok(
        &mut s,
        Command::NodeProcessesReset {
            node_id: 1,
            at_ms: 90,
        },
    );
    for id in [&a, &b] {
        assert_ended(
            &s,
            id,
            GameSessionStatus::Error,
            Some(StatusReason::NodeLost),
            90,
        );
    }
    assert_eq!(ps(&s, "psess-a-0").status, PlayerSessionStatus::Completed);
    assert!(!s.hosting.processes.contains_key("p1"));
    assert!(!s.hosting.processes.contains_key("p2"));
    // Node 2 is untouched.
    assert_eq!(gs(&s, &c).status, GameSessionStatus::Active);
    assert_eq!(ps(&s, "psess-c-0").status, PlayerSessionStatus::Reserved);
    assert!(s.hosting.processes.contains_key("p3"));
    let last = s.hosting.events[F1].back().unwrap();
    assert_eq!(last.event_code, NODE_LOST_EVENT);
    assert!(
        last.message
            .contains("2 server processes and 2 game sessions"),
        "{}",
        last.message
    );
    // A node that lost processes but no sessions records no event.
    let events = s.hosting.events.clone();
    ok(
        &mut s,
        Command::NodeProcessesReset {
            node_id: 5,
            at_ms: 91,
        },
    );
    assert!(!s.hosting.processes.contains_key("p8"));
    assert_eq!(s.hosting.events, events);
}

// ---------------------------------------------------------------------------------------------
// Retention of ended sessions
// ---------------------------------------------------------------------------------------------

#[test]
fn ended_sessions_are_purged_after_the_retention() {
    let mut s = world();
    launch(&mut s, "p4", F1, 2, None);
    let old = active_session(&mut s, "old", "p1", 4);
    ok(
        &mut s,
        add_players(&old, vec![new_player("psess-old", "alice")], 0),
    );
    ok(
        &mut s,
        terminate(&old, TerminationMode::ForceTerminate, 1000),
    );
    let live = active_session(&mut s, "live", "p2", 4);
    ok(
        &mut s,
        add_players(&live, vec![new_player("psess-live", "alice")], 0),
    );
    // Exactly at the retention the ended session is still kept.
    ok(
        &mut s,
        create(&gsid(F1, "b"), "p3", &req(F1, 1), 1000 + RETENTION_MS),
    );
    assert!(s.sessions.game_sessions.contains_key(&old));
    // A refused create purges nothing (a refused command changes nothing).
    refused(
        &mut s,
        create(
            &gsid("fleet-7", "x"),
            "p4",
            &req("fleet-7", 1),
            1001 + RETENTION_MS,
        ),
    );
    refused(
        &mut s,
        create(&gsid(F1, "x"), "p-none", &req(F1, 1), 1001 + RETENTION_MS),
    );
    assert!(s.sessions.game_sessions.contains_key(&old));
    // One millisecond later a successful create purges it with its player sessions.
    ok(
        &mut s,
        create(&gsid(F1, "c"), "p4", &req(F1, 1), 1001 + RETENTION_MS),
    );
    assert!(!s.sessions.game_sessions.contains_key(&old));
    assert!(!s.sessions.player_sessions.contains_key("psess-old"));
    assert!(!s.sessions.ended.iter().any(|(_, id)| *id == old));
    assert!(!s.sessions.by_game_session.iter().any(|(g, _)| *g == old));
    assert!(
        !s.sessions
            .by_player
            .contains(&("alice".into(), "psess-old".into()))
    );
    assert_eq!(
        s.sessions
            .of_player("alice")
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        ["psess-live"]
    );
    // Live sessions are never purged, however old.
    assert_eq!(gs(&s, &live).status, GameSessionStatus::Active);
    assert!(s.sessions.player_sessions.contains_key("psess-live"));
    // The id is free again: a new session may take it.
    launch(&mut s, "p5", F1, 2, None);
    let g = session_out(ok(
        &mut s,
        create(&old, "p5", &req(F1, 2), 2000 + RETENTION_MS),
    ));
    assert_eq!(g.status, GameSessionStatus::Activating);
}

#[test]
fn at_most_max_ended_sessions_are_kept() {
    let mut s = State::default();
    add_fleet(&mut s, F1, FleetSpec::default(), FleetStatus::Active);
    let name = |i: usize| gsid(F1, &format!("g{i:06}"));
    for i in 0..=MAX_ENDED_GAME_SESSIONS + 1 {
        let pid = format!("q{i}");
        let at = i64::try_from(i).unwrap();
        launch(&mut s, &pid, F1, 1, None);
        ok(&mut s, create(&name(i), &pid, &req(F1, 1), at));
        if i == 0 {
            ok(&mut s, activate(&pid, &name(0)));
            ok(
                &mut s,
                add_players(&name(0), vec![new_player("psess-0", "a")], 0),
            );
        }
        if i <= MAX_ENDED_GAME_SESSIONS {
            ok(
                &mut s,
                Command::ProcessEnded {
                    process_id: pid,
                    event_code: None,
                    message: String::new(),
                    at_ms: at,
                },
            );
        }
        if i == MAX_ENDED_GAME_SESSIONS {
            assert_eq!(s.sessions.ended.len(), MAX_ENDED_GAME_SESSIONS + 1);
            assert!(s.sessions.game_sessions.contains_key(&name(0)));
        }
    }
    // The last create purged the oldest ended session, down to the cap.
    assert_eq!(s.sessions.ended.len(), MAX_ENDED_GAME_SESSIONS);
    assert!(!s.sessions.game_sessions.contains_key(&name(0)));
    assert!(!s.sessions.player_sessions.contains_key("psess-0"));
    assert!(s.sessions.by_game_session.is_empty());
    assert!(s.sessions.by_player.is_empty());
    assert!(s.sessions.game_sessions.contains_key(&name(1)));
    assert_eq!(
        s.sessions.game_sessions.len(),
        MAX_ENDED_GAME_SESSIONS + 1,
        "the cap plus the live one"
    );
}

#[test]
fn the_id_of_an_expired_session_makes_a_new_session() {
    let mut s = world();
    let old = active_session(&mut s, "old", "p1", 4);
    ok(
        &mut s,
        add_players(&old, vec![new_player("psess-old", "alice")], 0),
    );
    ok(
        &mut s,
        terminate(&old, TerminationMode::ForceTerminate, 1000),
    );
    let other = req(F1, 2);
    // Within the retention the id still names the ended session.
    let e = refused(&mut s, create(&old, "p2", &other, 1000 + RETENTION_MS));
    assert!(
        matches!(e, FsmError::IdempotentParameterMismatch { .. }),
        "{e:?}"
    );
    // After it, the same id is a new session, and the old one's players are gone.
    let g = session_out(ok(&mut s, create(&old, "p2", &other, 1001 + RETENTION_MS)));
    assert_eq!(g.status, GameSessionStatus::Activating);
    assert_eq!(g.request, other);
    assert!(!s.sessions.player_sessions.contains_key("psess-old"));
    assert!(s.sessions.ended.is_empty());
    assert_eq!(s.sessions.live.len(), 1);
    assert_eq!(s.sessions.players_of(&old).count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Aliases
// ---------------------------------------------------------------------------------------------

fn alias_spec(routing: RoutingStrategy) -> AliasSpec {
    AliasSpec {
        name: "main".into(),
        description: None,
        routing_strategy: routing,
        tags: vec![],
    }
}

fn create_alias(id: &str, routing: RoutingStrategy) -> Command {
    Command::CreateAlias {
        alias_id: id.into(),
        arn: format!("arn:gamefleet:local::alias/{id}"),
        spec: alias_spec(routing),
        at_ms: 5,
    }
}

fn simple(fleet: &str) -> RoutingStrategy {
    RoutingStrategy::Simple {
        fleet_id: fleet.into(),
    }
}

#[test]
fn aliases_route_to_fleets_or_refuse_with_their_message() {
    let mut s = world();
    // SIMPLE names a fleet id (GameLift: "the fleet ID, not the fleet ARN").
    let e = refused(&mut s, create_alias("alias-1", simple(&fleet_arn(F1))));
    assert_eq!(field_of(e), "routing_strategy.fleet_id");
    let out = ok(&mut s, create_alias("alias-1", simple(F1)));
    let Output::Alias(a) = out else {
        panic!("{out:?}")
    };
    assert_eq!(a.spec.routing_strategy, simple(F1));
    assert_eq!((a.creation_time_ms, a.last_updated_time_ms), (5, 5));
    assert_eq!(s.aliases["alias-1"], *a);
    assert_eq!(alias::resolve(&s, "alias-1"), Ok(F1));
    assert_eq!(
        alias::resolve(&s, "arn:gamefleet:local::alias/alias-1"),
        Ok(F1)
    );
    // TERMINAL: resolving fails with the alias's message.
    let terminal = RoutingStrategy::Terminal {
        message: "season over".into(),
    };
    ok(&mut s, create_alias("alias-2", terminal));
    match alias::resolve(&s, "alias-2") {
        Err(FsmError::TerminalRoutingStrategy { message }) => {
            assert!(message.contains("season over") && message.contains("alias-2"));
        }
        other => panic!("{other:?}"),
    }
    let e = alias::resolve(&s, "alias-none").unwrap_err();
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    // Refusals: missing fleet, bad fields, taken id.
    let e = refused(&mut s, create_alias("alias-3", simple("fleet-7")));
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    let e = refused(
        &mut s,
        create_alias(
            "alias-3",
            RoutingStrategy::Terminal {
                message: String::new(),
            },
        ),
    );
    assert_eq!(field_of(e), "routing_strategy.message");
    let e = refused(&mut s, create_alias("alias-3", simple("nope")));
    assert_eq!(field_of(e), "routing_strategy.fleet_id");
    let mut unnamed = create_alias("alias-3", simple(F1));
    if let Command::CreateAlias { spec, .. } = &mut unnamed {
        spec.name = String::new();
    }
    assert_eq!(field_of(refused(&mut s, unnamed)), "name");
    let e = refused(&mut s, create_alias("alias-1", simple(F2)));
    assert_eq!(field_of(e), "alias_id");
    assert_eq!(alias::resolve(&s, "alias-1"), Ok(F1));
}

#[test]
fn aliases_are_updated_and_deleted() {
    let mut s = world();
    ok(&mut s, create_alias("alias-1", simple(F1)));
    let upd = |routing: Option<RoutingStrategy>, name: Option<&str>| Command::UpdateAlias {
        alias_id: "alias-1".into(),
        update: AliasUpdate {
            name: name.map(Into::into),
            description: None,
            routing_strategy: routing,
        },
        at_ms: 9,
    };
    let out = ok(&mut s, upd(Some(simple(F2)), Some("renamed")));
    let Output::Alias(a) = out else {
        panic!("{out:?}")
    };
    assert_eq!(a.spec.name, "renamed");
    assert_eq!((a.creation_time_ms, a.last_updated_time_ms), (5, 9));
    assert_eq!(alias::resolve(&s, "alias-1"), Ok(F2));
    let e = refused(&mut s, upd(Some(simple("fleet-7")), None));
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    assert_eq!(field_of(refused(&mut s, upd(None, Some("")))), "name");
    ok(
        &mut s,
        upd(
            Some(RoutingStrategy::Terminal {
                message: "closed".into(),
            }),
            None,
        ),
    );
    assert!(matches!(
        alias::resolve(&s, "alias-1"),
        Err(FsmError::TerminalRoutingStrategy { .. })
    ));
    let e = refused(
        &mut s,
        Command::UpdateAlias {
            alias_id: "alias-none".into(),
            update: AliasUpdate::default(),
            at_ms: 9,
        },
    );
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
    // Delete (by ARN), then it is gone.
    let out = ok(
        &mut s,
        Command::DeleteAlias {
            alias_id: "arn:gamefleet:local::alias/alias-1".into(),
        },
    );
    assert_eq!(out, Output::Done);
    assert!(s.aliases.is_empty());
    assert!(matches!(
        alias::resolve(&s, "alias-1"),
        Err(FsmError::NotFound { .. })
    ));
    let e = refused(
        &mut s,
        Command::DeleteAlias {
            alias_id: "alias-1".into(),
        },
    );
    assert!(matches!(e, FsmError::NotFound { .. }), "{e:?}");
}
