//! Tests of the checker: clean histories pass, planted bugs are reported with their kind,
//! unknown outcomes are handled both ways, the search is bounded, and random histories made
//! from a sequential reference execution never raise an anomaly.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::history::{Event, EventType, Op};

// ---- Building histories ----

const FLEET: &str = "fleet-1";

/// A game session id made from a token, as gamefleet makes them.
fn gs(token: &str) -> String {
    format!("arn:gamefleet:local::gamesession/{FLEET}/{token}")
}

/// Events with explicit times; `build` sorts them by time.
#[derive(Default, Clone)]
struct Hist {
    events: Vec<Event>,
}

impl Hist {
    fn push(&mut self, client: u64, op: Op, args: &Value, r#type: EventType, value: Value, t: u64) {
        self.events.push(Event {
            client,
            op,
            args: args.clone(),
            r#type,
            value,
            time_ns: t,
        });
    }

    /// An operation invoked at `inv` that completed at `ret` with `r#type` and `value`.
    fn call(
        &mut self,
        client: u64,
        op: Op,
        args: Value,
        (inv, ret): (u64, u64),
        r#type: EventType,
        value: Value,
    ) -> &mut Self {
        self.push(client, op, &args, EventType::Invoke, Value::Null, inv);
        self.push(client, op, &args, r#type, value, ret);
        self
    }

    fn ok(
        &mut self,
        client: u64,
        (op, args): (Op, Value),
        at: (u64, u64),
        value: Value,
    ) -> &mut Self {
        self.call(client, op, args, at, EventType::Ok, value)
    }

    fn fail(
        &mut self,
        client: u64,
        (op, args): (Op, Value),
        at: (u64, u64),
        error: &str,
    ) -> &mut Self {
        self.call(
            client,
            op,
            args,
            at,
            EventType::Fail,
            json!({"error": error}),
        )
    }

    fn info(&mut self, client: u64, (op, args): (Op, Value), at: (u64, u64)) -> &mut Self {
        self.call(
            client,
            op,
            args,
            at,
            EventType::Info,
            json!({"error": "Timeout"}),
        )
    }

    fn build(&self) -> Vec<Event> {
        let mut v = self.events.clone();
        v.sort_by_key(|e| e.time_ns);
        v
    }
}

fn create_args(token: &str, max: i64) -> Value {
    json!({"fleet_id": FLEET, "idempotency_token": token, "max_players": max})
}

fn created(token: &str, process: &str) -> Value {
    json!({"game_session_id": gs(token), "process_id": process, "node_id": 1})
}

fn reserve_args(token: &str, player: &str) -> Value {
    json!({"game_session_id": gs(token), "player_id": player})
}

fn psess(id: &str) -> Value {
    json!({"player_session_id": id})
}

fn player_args(token: &str, psess: &str) -> Value {
    json!({"game_session_id": gs(token), "player_session_id": psess})
}

fn describe_args(token: &str) -> Value {
    json!({"game_session_id": gs(token)})
}

fn create(token: &str, max: i64) -> (Op, Value) {
    (Op::CreateGameSession, create_args(token, max))
}

fn reserve(token: &str, player: &str) -> (Op, Value) {
    (Op::ReservePlayer, reserve_args(token, player))
}

fn accept(token: &str, psess: &str) -> (Op, Value) {
    (Op::AcceptPlayer, player_args(token, psess))
}

fn remove(token: &str, psess: &str) -> (Op, Value) {
    (Op::RemovePlayer, player_args(token, psess))
}

fn describe(token: &str) -> (Op, Value) {
    (Op::DescribeGameSession, describe_args(token))
}

fn describe_ps(psess: &str) -> (Op, Value) {
    (
        Op::DescribePlayerSession,
        json!({"player_session_id": psess}),
    )
}

fn update_max(token: &str, max: i64) -> (Op, Value) {
    (
        Op::UpdateGameSession,
        json!({"game_session_id": gs(token), "maximum_player_session_count": max}),
    )
}

fn terminate(token: &str, mode: &str) -> (Op, Value) {
    (
        Op::TerminateGameSession,
        json!({"game_session_id": gs(token), "mode": mode}),
    )
}

fn described(status: &str, current: i64, max: i64, process: &str) -> Value {
    json!({
        "status": status,
        "current_player_session_count": current,
        "maximum_player_session_count": max,
        "player_session_creation_policy": "ACCEPT_ALL",
        "process_id": process,
    })
}

fn final_gs(token: &str, status: &str, process: &str, max: i64, current: i64) -> FinalGameSession {
    FinalGameSession {
        game_session_id: gs(token),
        status: status.into(),
        process_id: process.into(),
        node_id: 1,
        maximum_player_session_count: max,
        current_player_session_count: current,
        idempotency_token: idempotency_token_of(&gs(token)),
    }
}

fn final_ps(id: &str, token: &str, status: &str) -> FinalPlayerSession {
    FinalPlayerSession {
        player_session_id: id.into(),
        game_session_id: gs(token),
        player_id: format!("player-{id}"),
        status: status.into(),
    }
}

/// Kinds reported, in order, deduplicated.
fn kinds(r: &Report) -> Vec<AnomalyKind> {
    let mut k: Vec<AnomalyKind> = r.anomalies.iter().map(|a| a.kind).collect();
    k.dedup();
    k
}

#[track_caller]
fn assert_pass(r: &Report) {
    assert_eq!(r.verdict(), Verdict::Pass, "expected a pass:\n{r}");
}

#[track_caller]
fn assert_reports(r: &Report, kind: AnomalyKind) {
    assert!(
        r.of_kind(kind).next().is_some(),
        "expected a {kind} anomaly:\n{r}"
    );
    assert_eq!(r.verdict(), Verdict::Fail, "{r}");
}

/// A created, activated session "a" on process p1 with max `max` and `n` reservations
/// (psess-1..n) made one after another from t=100, each seen by a describe.
fn booked(max: i64, n: usize) -> (Hist, FinalState) {
    let mut h = Hist::default();
    h.ok(1, create("a", max), (10, 20), created("a", "p1"));
    h.ok(
        1,
        describe("a"),
        (30, 40),
        described("ACTIVE", 0, max, "p1"),
    );
    let mut players = Vec::new();
    for i in 1..=n {
        let t = 100 * u64::try_from(i).unwrap();
        let id = format!("psess-{i}");
        h.ok(2, reserve("a", &format!("u{i}")), (t, t + 10), psess(&id));
        players.push(final_ps(&id, "a", "RESERVED"));
    }
    let n = i64::try_from(n).unwrap();
    let fin = FinalState {
        game_sessions: vec![final_gs("a", "ACTIVE", "p1", max, n)],
        player_sessions: players,
    };
    (h, fin)
}

// ---- Clean histories ----

/// Two sessions, concurrent clients, every kind of operation, a full session refusing a
/// reservation: nothing to report.
#[test]
fn clean_concurrent_history_passes() {
    let mut h = Hist::default();
    // Both sessions are created concurrently, on different processes.
    h.ok(1, create("a", 2), (10, 50), created("a", "p1"));
    h.ok(2, create("b", 4), (15, 45), created("b", "p2"));
    // A describe concurrent with activation sees ACTIVATING, a later one ACTIVE.
    h.ok(
        3,
        describe("a"),
        (55, 60),
        described("ACTIVATING", 0, 2, "p1"),
    );
    h.ok(3, describe("a"), (70, 80), described("ACTIVE", 0, 2, "p1"));
    // Three concurrent reservations on a (max 2): two win, one is refused as full.
    h.ok(4, reserve("a", "u1"), (100, 140), psess("psess-a1"));
    h.ok(5, reserve("a", "u2"), (105, 150), psess("psess-a2"));
    h.fail(6, reserve("a", "u3"), (110, 160), "GameSessionFull");
    // A describe overlapping them may see any count up to 2.
    h.ok(
        3,
        describe("a"),
        (120, 130),
        described("ACTIVE", 1, 2, "p1"),
    );
    // Accept one, describe both kinds.
    h.ok(4, accept("a", "psess-a1"), (200, 210), json!({}));
    h.ok(
        5,
        describe_ps("psess-a1"),
        (220, 230),
        json!({"status": "ACTIVE"}),
    );
    h.ok(
        3,
        describe("a"),
        (240, 250),
        described("ACTIVE", 2, 2, "p1"),
    );
    // The other leaves; the slot is reused; then the maximum is raised.
    h.ok(5, remove("a", "psess-a2"), (300, 310), json!({}));
    h.ok(6, reserve("a", "u3"), (305, 330), psess("psess-a3"));
    h.ok(1, update_max("a", 3), (400, 410), json!({}));
    h.ok(
        3,
        describe("a"),
        (420, 430),
        described("ACTIVE", 2, 3, "p1"),
    );
    // Session b: one reservation, then terminated, then a refused reservation.
    h.ok(2, reserve("b", "v1"), (100, 120), psess("psess-b1"));
    h.ok(
        2,
        terminate("b", "TRIGGER_ON_PROCESS_TERMINATE"),
        (200, 220),
        json!({}),
    );
    h.fail(
        7,
        reserve("b", "v2"),
        (230, 240),
        "InvalidGameSessionStatus",
    );
    h.ok(
        7,
        describe("b"),
        (250, 260),
        described("TERMINATED", 0, 4, "p2"),
    );
    // Unrelated refusals say nothing.
    h.fail(8, create("c", 2), (10, 20), "FleetCapacityExceeded");
    let fin = FinalState {
        game_sessions: vec![
            final_gs("a", "ACTIVE", "p1", 3, 2),
            final_gs("b", "TERMINATED", "p2", 4, 0),
        ],
        player_sessions: vec![
            final_ps("psess-a1", "a", "ACTIVE"),
            final_ps("psess-a2", "a", "COMPLETED"),
            final_ps("psess-a3", "a", "RESERVED"),
            final_ps("psess-b1", "b", "COMPLETED"),
        ],
    };
    let r = check(&h.build(), &fin);
    assert_pass(&r);
    assert_eq!(r.checked.game_sessions, 2, "{r}");
    assert_eq!(r.checked.linearizable, 2, "{r}");
    assert_eq!(r.checked.fail, 3, "{r}");
}

/// Operations whose only valid order differs from both their invoke and completion orders.
/// Max 1; psess-1 holds the slot. A reservation starts first but can only succeed after a
/// removal that starts later, and a short describe pins the removal before it.
#[test]
fn overlapping_operations_linearizable_in_a_non_obvious_order_pass() {
    let mut h = Hist::default();
    h.ok(1, create("a", 1), (10, 20), created("a", "p1"));
    h.ok(1, reserve("a", "u1"), (30, 40), psess("psess-1"));
    // Reservation of u2: [50, 200]. Removal of psess-1: [70, 190]. Describe: [60, 80] sees 0
    // used, so the removal (invoked at 70) precedes it, and the reservation follows it.
    h.ok(2, reserve("a", "u2"), (50, 200), psess("psess-2"));
    h.ok(3, remove("a", "psess-1"), (70, 190), json!({}));
    h.ok(4, describe("a"), (60, 80), described("ACTIVE", 0, 1, "p1"));
    // A refused reservation inside the window must come after psess-2 took the slot.
    h.fail(5, reserve("a", "u3"), (85, 95), "GameSessionFull");
    let fin = FinalState {
        game_sessions: vec![final_gs("a", "ACTIVE", "p1", 1, 1)],
        player_sessions: vec![
            final_ps("psess-1", "a", "COMPLETED"),
            final_ps("psess-2", "a", "RESERVED"),
        ],
    };
    assert_pass(&check(&h.build(), &fin));

    // The same describe placed after the reservation completed is a stale read.
    let mut h2 = h.clone();
    h2.ok(
        6,
        describe("a"),
        (210, 220),
        described("ACTIVE", 0, 1, "p1"),
    );
    assert_reports(&check(&h2.build(), &fin), AnomalyKind::NotLinearizable);
}

/// An idempotent retry returns the same session: one token, one session, no anomaly.
#[test]
fn idempotent_retry_passes() {
    let mut h = Hist::default();
    h.info(1, create("a", 4), (10, 20));
    h.ok(1, create("a", 4), (30, 40), created("a", "p1"));
    h.ok(2, create("a", 4), (35, 45), created("a", "p1"));
    let fin = FinalState {
        game_sessions: vec![final_gs("a", "ACTIVATING", "p1", 4, 0)],
        player_sessions: vec![],
    };
    assert_pass(&check(&h.build(), &fin));
}

/// A process that hosted a session which ended, then another, is not a double placement.
#[test]
fn sequential_sessions_on_one_process_pass() {
    let mut h = Hist::default();
    h.ok(1, create("a", 2), (10, 20), created("a", "p1"));
    h.ok(1, terminate("a", "FORCE_TERMINATE"), (30, 40), json!({}));
    h.ok(1, create("b", 2), (50, 60), created("b", "p1"));
    h.ok(
        2,
        describe("a"),
        (70, 80),
        described("TERMINATED", 0, 2, "p1"),
    );
    let fin = FinalState {
        game_sessions: vec![
            final_gs("a", "TERMINATED", "p1", 2, 0),
            final_gs("b", "ACTIVE", "p1", 2, 0),
        ],
        player_sessions: vec![],
    };
    assert_pass(&check(&h.build(), &fin));
}

// ---- Planted bugs ----

/// (a) An acknowledged reservation whose player session is missing from the final state.
#[test]
fn lost_reservation_is_reported() {
    let (h, mut fin) = booked(8, 3);
    fin.player_sessions
        .retain(|p| p.player_session_id != "psess-2");
    fin.game_sessions[0].current_player_session_count = 2;
    let r = check(&h.build(), &fin);
    assert_reports(&r, AnomalyKind::LostWrite);
    let lost = r.of_kind(AnomalyKind::LostWrite).next().unwrap();
    assert!(lost.message.contains("psess-2"), "{r}");
    assert!(!lost.ops.is_empty(), "{r}");
}

/// (a) An acknowledged create whose game session is missing from the final state.
#[test]
fn lost_create_is_reported() {
    let (h, mut fin) = booked(8, 0);
    fin.game_sessions.clear();
    let r = check(&h.build(), &fin);
    assert_reports(&r, AnomalyKind::LostWrite);
    assert!(r.anomalies[0].message.contains(&gs("a")), "{r}");
}

/// (a) An accepted player (the game server said WELCOME) still RESERVED at the end.
#[test]
fn lost_accept_is_reported() {
    let (mut h, fin) = booked(8, 1);
    h.ok(3, accept("a", "psess-1"), (500, 510), json!({}));
    let r = check(&h.build(), &fin);
    assert_reports(&r, AnomalyKind::LostWrite);
}

/// (b) Nine acknowledged reservations on a session of eight, and nine RESERVED at the end.
#[test]
fn overbooked_session_is_reported() {
    let (h, fin) = booked(8, 9);
    let r = check(&h.build(), &fin);
    assert_reports(&r, AnomalyKind::Overbooking);
    let messages: Vec<&str> = r
        .of_kind(AnomalyKind::Overbooking)
        .map(|a| a.message.as_str())
        .collect();
    assert!(messages.iter().any(|m| m.contains("final state")), "{r}");
    assert!(messages.iter().any(|m| m.contains("9 reservations")), "{r}");
    // The ninth acknowledged reservation also has no place in any order.
    assert!(kinds(&r).contains(&AnomalyKind::NotLinearizable), "{r}");
}

/// (b) A describe showing more players than the maximum.
#[test]
fn describe_over_maximum_is_reported() {
    let (mut h, fin) = booked(2, 2);
    h.ok(
        3,
        describe("a"),
        (500, 510),
        described("ACTIVE", 3, 2, "p1"),
    );
    assert_reports(&check(&h.build(), &fin), AnomalyKind::Overbooking);
}

/// (c) Two live game sessions on one process at the end.
#[test]
fn double_placement_is_reported() {
    let mut h = Hist::default();
    h.ok(1, create("a", 2), (10, 20), created("a", "p1"));
    h.ok(2, create("b", 2), (30, 40), created("b", "p1"));
    let fin = FinalState {
        game_sessions: vec![
            final_gs("a", "ACTIVE", "p1", 2, 0),
            final_gs("b", "ACTIVE", "p1", 2, 0),
        ],
        player_sessions: vec![],
    };
    let r = check(&h.build(), &fin);
    assert_reports(&r, AnomalyKind::DoublePlacement);
    assert_eq!(r.of_kind(AnomalyKind::DoublePlacement).count(), 1, "{r}");
}

/// (c) Both sessions ended by the end, but the history shows them live together.
#[test]
fn double_placement_seen_only_in_the_history_is_reported() {
    let mut h = Hist::default();
    h.ok(1, create("a", 2), (10, 20), created("a", "p1"));
    h.ok(2, create("b", 2), (30, 40), created("b", "p1"));
    h.ok(3, describe("a"), (50, 60), described("ACTIVE", 0, 2, "p1"));
    let fin = FinalState {
        game_sessions: vec![
            final_gs("a", "ERROR", "p1", 2, 0),
            final_gs("b", "ERROR", "p1", 2, 0),
        ],
        player_sessions: vec![],
    };
    assert_reports(&check(&h.build(), &fin), AnomalyKind::DoublePlacement);
}

/// (c) One game session reported on two processes.
#[test]
fn game_session_on_two_processes_is_reported() {
    let mut h = Hist::default();
    h.ok(1, create("a", 2), (10, 20), created("a", "p1"));
    h.ok(3, describe("a"), (50, 60), described("ACTIVE", 0, 2, "p9"));
    let fin = FinalState {
        game_sessions: vec![final_gs("a", "ACTIVE", "p1", 2, 0)],
        player_sessions: vec![],
    };
    assert_reports(&check(&h.build(), &fin), AnomalyKind::DoublePlacement);
}

/// (d) A describe that starts after an acknowledged reservation shows the old count.
#[test]
fn stale_read_is_reported() {
    let (mut h, fin) = booked(8, 1);
    // The reservation completed at 110; this describe starts at 200 and sees 0 used.
    h.ok(
        3,
        describe("a"),
        (200, 210),
        described("ACTIVE", 0, 8, "p1"),
    );
    let r = check(&h.build(), &fin);
    assert_eq!(kinds(&r), vec![AnomalyKind::NotLinearizable], "{r}");
    let a = &r.anomalies[0];
    assert!(a.message.contains("stale"), "{r}");
    assert!(a.message.contains("slots_used: 1"), "{r}");
    // Its events are the stale describe's invoke and completion.
    let h = h.build();
    let describe_at = h.iter().position(|e| e.time_ns == 200).unwrap();
    assert!(a.ops.contains(&describe_at), "{r}");
}

/// (d) A player session described RESERVED after it was accepted.
#[test]
fn stale_player_session_read_is_reported() {
    let (mut h, mut fin) = booked(8, 1);
    h.ok(3, accept("a", "psess-1"), (500, 510), json!({}));
    h.ok(
        4,
        describe_ps("psess-1"),
        (520, 530),
        json!({"status": "RESERVED"}),
    );
    fin.player_sessions[0].status = "ACTIVE".into();
    assert_eq!(
        kinds(&check(&h.build(), &fin)),
        vec![AnomalyKind::NotLinearizable]
    );
}

/// (d) A NotFound for a session whose creation was acknowledged before.
#[test]
fn not_found_after_create_is_reported() {
    let (mut h, fin) = booked(8, 0);
    h.fail(3, describe("a"), (500, 510), "NotFoundException");
    assert_reports(&check(&h.build(), &fin), AnomalyKind::NotLinearizable);
}

/// (e) One idempotency token, two game sessions.
#[test]
fn one_token_two_sessions_is_reported() {
    let mut h = Hist::default();
    let other = format!("{}-again", gs("a"));
    h.ok(1, create("a", 2), (10, 20), created("a", "p1"));
    h.ok(
        2,
        create("a", 2),
        (30, 40),
        json!({"game_session_id": other, "process_id": "p2", "node_id": 2}),
    );
    let mut second = final_gs("a", "ACTIVE", "p2", 2, 0);
    second.game_session_id = other.clone();
    second.idempotency_token = Some("a".into());
    let fin = FinalState {
        game_sessions: vec![final_gs("a", "ACTIVE", "p1", 2, 0), second],
        player_sessions: vec![],
    };
    let r = check(&h.build(), &fin);
    assert_reports(&r, AnomalyKind::Idempotency);
    assert!(
        r.anomalies
            .iter()
            .any(|a| a.message.contains("2 in the final state")),
        "{r}"
    );
}

// ---- Unknown outcomes ----

/// An info reservation may have happened or not; either final state passes, and so do
/// describes consistent with either, but not one that contradicts both.
#[test]
fn info_reservation_is_judged_both_ways() {
    let (mut h, fin) = booked(2, 1);
    // The unknown one: [200, 300] then a timeout.
    h.info(3, reserve("a", "u-info"), (200, 300));
    // A concurrent describe sees it taken.
    h.ok(
        4,
        describe("a"),
        (250, 260),
        described("ACTIVE", 2, 2, "p1"),
    );
    // It happened: an extra RESERVED player session with an id nobody was told.
    let mut happened = fin.clone();
    happened
        .player_sessions
        .push(final_ps("psess-x", "a", "RESERVED"));
    happened.game_sessions[0].current_player_session_count = 2;
    assert_pass(&check(&h.build(), &happened));
    // Without the concurrent describe, it may also not have happened.
    let mut h2 = h.clone();
    h2.events.retain(|e| e.client != 4);
    assert_pass(&check(&h2.build(), &fin));
    assert_pass(&check(&h2.build(), &happened));
    // A later describe may see it too (it took effect after the timeout).
    h2.ok(
        4,
        describe("a"),
        (400, 410),
        described("ACTIVE", 2, 2, "p1"),
    );
    assert_pass(&check(&h2.build(), &happened));
    // But once seen taken, it cannot vanish: the final state without it is not linearizable.
    assert_reports(&check(&h2.build(), &fin), AnomalyKind::NotLinearizable);
    // An info reservation's effect must not exceed the maximum either.
    h2.ok(5, reserve("a", "u9"), (500, 510), psess("psess-9"));
    let mut full = happened.clone();
    full.player_sessions
        .push(final_ps("psess-9", "a", "RESERVED"));
    full.game_sessions[0].current_player_session_count = 3;
    full.game_sessions[0].maximum_player_session_count = 2;
    let r = check(&h2.build(), &full);
    assert_reports(&r, AnomalyKind::Overbooking);
}

/// An invoke never completed (the runner died) counts as unknown, like info.
#[test]
fn pending_invoke_is_unknown() {
    let (mut h, mut fin) = booked(4, 1);
    h.push(
        9,
        Op::ReservePlayer,
        &reserve_args("a", "u-lost"),
        EventType::Invoke,
        Value::Null,
        900,
    );
    assert_pass(&check(&h.build(), &fin));
    fin.player_sessions
        .push(final_ps("psess-y", "a", "RESERVED"));
    fin.game_sessions[0].current_player_session_count = 2;
    let r = check(&h.build(), &fin);
    assert_pass(&r);
    assert_eq!(r.checked.info, 1, "{r}");
}

/// An info create is tied to its session by its token; the session it made may be used.
#[test]
fn info_create_is_tied_to_its_session_by_token() {
    let mut h = Hist::default();
    h.info(1, create("a", 2), (10, 20));
    h.ok(2, reserve("a", "u1"), (30, 40), psess("psess-1"));
    let fin = FinalState {
        game_sessions: vec![final_gs("a", "ACTIVE", "p1", 2, 1)],
        player_sessions: vec![final_ps("psess-1", "a", "RESERVED")],
    };
    let r = check(&h.build(), &fin);
    assert_pass(&r);
    assert_eq!(r.checked.linearizable, 1, "{r}");
    // A reservation acknowledged before the create was even sent cannot be explained.
    let mut h2 = Hist::default();
    h2.ok(2, reserve("a", "u1"), (1, 5), psess("psess-1"));
    h2.info(1, create("a", 2), (10, 20));
    assert_reports(&check(&h2.build(), &fin), AnomalyKind::NotLinearizable);
}

// ---- Bounds and robustness ----

/// The search stops at its step limit and says so instead of running on.
#[test]
fn step_cap_reports_undecided() {
    // 20 concurrent acknowledged reservations and a concurrent describe claiming 25 used: no
    // order fits, and refuting it means trying every subset of the reservations.
    let mut h = Hist::default();
    h.ok(1, create("a", 100), (10, 20), created("a", "p1"));
    h.ok(
        1,
        describe("a"),
        (30, 40),
        described("ACTIVE", 0, 100, "p1"),
    );
    let mut players = Vec::new();
    for i in 0..20u64 {
        let id = format!("psess-{i}");
        h.ok(
            10 + i,
            reserve("a", &format!("u{i}")),
            (100 + i, 1000 + i),
            psess(&id),
        );
        players.push(final_ps(&id, "a", "RESERVED"));
    }
    h.ok(
        2,
        describe("a"),
        (500, 2000),
        described("ACTIVE", 25, 100, "p1"),
    );
    let fin = FinalState {
        game_sessions: vec![final_gs("a", "ACTIVE", "p1", 100, 20)],
        player_sessions: players,
    };
    let started = std::time::Instant::now();
    let r = check_with(&h.build(), &fin, Limits { max_steps: 2_000 });
    assert_eq!(r.verdict(), Verdict::Undecided, "{r}");
    assert_eq!(kinds(&r), vec![AnomalyKind::Undecided], "{r}");
    assert_eq!(r.checked.undecided, 1, "{r}");
    assert!(r.checked.search_steps <= 2_000, "{r}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{r}"
    );
    assert!(r.to_string().contains("UNDECIDED"), "{r}");
}

/// Completions without invokes and crossed pairs are reported, not trusted.
#[test]
fn malformed_history_is_reported() {
    let (h, fin) = booked(4, 0);
    let mut events = h.build();
    events.push(Event {
        client: 77,
        op: Op::ReservePlayer,
        args: reserve_args("a", "u"),
        r#type: EventType::Ok,
        value: psess("psess-z"),
        time_ns: 5_000,
    });
    let r = check(&events, &fin);
    assert_reports(&r, AnomalyKind::MalformedHistory);
}

/// The report names its verdict, counts and each anomaly with its events.
#[test]
fn report_display_names_kinds_and_events() {
    let (h, fin) = booked(8, 9);
    let r = check(&h.build(), &fin);
    let text = r.to_string();
    assert!(text.starts_with("checker: FAIL"), "{text}");
    assert!(text.contains("[overbooking]"), "{text}");
    assert!(text.contains("(events #"), "{text}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["anomalies"][0]["kind"], "overbooking");
    let (h, fin) = booked(8, 2);
    assert!(
        check(&h.build(), &fin)
            .to_string()
            .starts_with("checker: PASS")
    );
}

#[test]
fn idempotency_token_of_reads_the_id_suffix() {
    assert_eq!(idempotency_token_of(&gs("tok-1")), Some("tok-1".into()));
    assert_eq!(
        idempotency_token_of("arn:gamefleet:local::gamesession/fleet-1/gsess-0b6e"),
        None
    );
    assert_eq!(idempotency_token_of(""), None);
    assert_eq!(idempotency_token_of("bare"), Some("bare".into()));
}

// ---- Property tests ----

/// One step of a random workload against two game sessions (0 and 1). `pick` chooses among the
/// player sessions the client already knows.
#[derive(Debug, Clone)]
enum Cmd {
    Create(usize),
    Reserve(usize),
    Accept(usize, usize),
    Remove(usize, usize),
    Update(usize, Option<i64>, Option<bool>),
    Terminate(usize, bool),
    Describe(usize),
    DescribePlayer(usize, usize),
    /// Not a client operation: the game server activates the session.
    Activate(usize),
    /// Not a client operation: the session's process crashes.
    Crash(usize),
}

fn cmd() -> BoxedStrategy<Cmd> {
    let s = 0..2usize;
    prop_oneof![
        2 => s.clone().prop_map(Cmd::Create),
        8 => s.clone().prop_map(Cmd::Reserve),
        3 => (s.clone(), 0..8usize).prop_map(|(s, p)| Cmd::Accept(s, p)),
        2 => (s.clone(), 0..8usize).prop_map(|(s, p)| Cmd::Remove(s, p)),
        1 => (s.clone(), proptest::option::of(0..5i64), proptest::option::of(any::<bool>()))
            .prop_map(|(s, m, d)| Cmd::Update(s, m, d)),
        1 => (s.clone(), any::<bool>()).prop_map(|(s, f)| Cmd::Terminate(s, f)),
        6 => s.clone().prop_map(Cmd::Describe),
        2 => (s.clone(), 0..8usize).prop_map(|(s, p)| Cmd::DescribePlayer(s, p)),
        3 => s.clone().prop_map(Cmd::Activate),
        1 => s.prop_map(Cmd::Crash),
    ]
    .boxed()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SimStatus {
    Activating,
    Active,
    Terminating,
    Terminated,
    Error,
}

impl SimStatus {
    fn name(self) -> &'static str {
        match self {
            SimStatus::Activating => "ACTIVATING",
            SimStatus::Active => "ACTIVE",
            SimStatus::Terminating => "TERMINATING",
            SimStatus::Terminated => "TERMINATED",
            SimStatus::Error => "ERROR",
        }
    }

    fn live(self) -> bool {
        matches!(
            self,
            SimStatus::Activating | SimStatus::Active | SimStatus::Terminating
        )
    }
}

/// A game session in the reference execution (gamefleet's rules, written out directly).
#[derive(Debug, Clone)]
struct SimGs {
    status: SimStatus,
    max: i64,
    deny: bool,
    /// (player session id, RESERVED / ACTIVE / COMPLETED).
    players: Vec<(String, &'static str)>,
}

impl SimGs {
    fn used(&self) -> i64 {
        i64::try_from(
            self.players
                .iter()
                .filter(|(_, s)| *s == "RESERVED" || *s == "ACTIVE")
                .count(),
        )
        .unwrap()
    }

    fn end(&mut self, status: SimStatus) {
        if self.status.live() {
            for p in &mut self.players {
                if p.1 == "RESERVED" || p.1 == "ACTIVE" {
                    p.1 = "COMPLETED";
                }
            }
            self.status = status;
        }
    }
}

type Answer = Result<Value, &'static str>;

fn token(s: usize) -> String {
    format!("tok-{s}")
}

/// Runs `cmd` at its moment on the reference state. `None` for the cluster's own steps.
fn run(
    cmd: &Cmd,
    sims: &mut [Option<SimGs>; 2],
    known: &[Vec<String>; 2],
    next_id: &mut usize,
) -> Option<(Op, Value, Answer)> {
    let pick = |s: usize, p: usize| known[s].get(p % known[s].len().max(1)).cloned();
    let (op, args, answer) = match cmd {
        Cmd::Activate(s) | Cmd::Crash(s) => {
            if let Some(g) = &mut sims[*s] {
                match cmd {
                    Cmd::Activate(_) if g.status == SimStatus::Activating => {
                        g.status = SimStatus::Active;
                    }
                    Cmd::Crash(_) if g.status == SimStatus::Terminating => {
                        g.end(SimStatus::Terminated);
                    }
                    Cmd::Crash(_) => g.end(SimStatus::Error),
                    _ => {}
                }
            }
            return None;
        }
        Cmd::Create(s) => {
            if sims[*s].is_none() {
                sims[*s] = Some(SimGs {
                    status: SimStatus::Activating,
                    max: 2 + i64::try_from(*s).unwrap(),
                    deny: false,
                    players: Vec::new(),
                });
            }
            (
                Op::CreateGameSession,
                create_args(&token(*s), 2 + i64::try_from(*s).unwrap()),
                Ok(
                    json!({"game_session_id": gs(&token(*s)), "process_id": format!("proc-{s}"), "node_id": 1}),
                ),
            )
        }
        Cmd::Reserve(s) => {
            let args = reserve_args(&token(*s), &format!("u{next_id}"));
            let answer = match &mut sims[*s] {
                None => Err("NotFound"),
                Some(g) if g.status != SimStatus::Active || g.deny => {
                    Err("InvalidGameSessionStatus")
                }
                Some(g) if g.used() >= g.max => Err("GameSessionFull"),
                Some(g) => {
                    *next_id += 1;
                    let id = format!("psess-{s}-{next_id}");
                    g.players.push((id.clone(), "RESERVED"));
                    Ok(psess(&id))
                }
            };
            (Op::ReservePlayer, args, answer)
        }
        Cmd::Accept(s, p) | Cmd::Remove(s, p) => {
            let id = pick(*s, *p)?;
            let accept = matches!(cmd, Cmd::Accept(..));
            let args = player_args(&token(*s), &id);
            let answer = match &mut sims[*s] {
                None => Err("NotFound"),
                Some(g) => {
                    let active = g.status == SimStatus::Active;
                    match g.players.iter_mut().find(|(i, _)| *i == id) {
                        Some(ps) if accept && active && ps.1 == "RESERVED" => {
                            ps.1 = "ACTIVE";
                            Ok(json!({}))
                        }
                        Some(ps) if !accept && (ps.1 == "RESERVED" || ps.1 == "ACTIVE") => {
                            ps.1 = "COMPLETED";
                            Ok(json!({}))
                        }
                        _ => Err("InvalidPlayerSessionStatus"),
                    }
                }
            };
            let op = if accept {
                Op::AcceptPlayer
            } else {
                Op::RemovePlayer
            };
            (op, args, answer)
        }
        Cmd::Update(s, max, deny) => {
            let mut args = json!({"game_session_id": gs(&token(*s))});
            if let Some(m) = max {
                args["maximum_player_session_count"] = json!(m);
            }
            if let Some(d) = deny {
                args["player_session_creation_policy"] =
                    json!(if *d { "DENY_ALL" } else { "ACCEPT_ALL" });
            }
            let answer = match &mut sims[*s] {
                None => Err("NotFound"),
                Some(g) if !g.status.live() => Err("InvalidGameSessionStatus"),
                Some(g) if max.is_some_and(|m| m < g.used()) => Err("InvalidRequest"),
                Some(g) => {
                    if let Some(m) = max {
                        g.max = *m;
                    }
                    if let Some(d) = deny {
                        g.deny = *d;
                    }
                    Ok(json!({}))
                }
            };
            (Op::UpdateGameSession, args, answer)
        }
        Cmd::Terminate(s, force) => {
            let mode = if *force {
                "FORCE_TERMINATE"
            } else {
                "TRIGGER_ON_PROCESS_TERMINATE"
            };
            let args = json!({"game_session_id": gs(&token(*s)), "mode": mode});
            let answer = match &mut sims[*s] {
                None => Err("NotFound"),
                Some(g) if !g.status.live() => Err("InvalidGameSessionStatus"),
                Some(g) => {
                    if *force {
                        g.end(SimStatus::Terminated);
                    } else {
                        g.status = SimStatus::Terminating;
                    }
                    Ok(json!({}))
                }
            };
            (Op::TerminateGameSession, args, answer)
        }
        Cmd::Describe(s) => {
            let answer = match &sims[*s] {
                None => Err("NotFound"),
                Some(g) => Ok(json!({
                    "status": g.status.name(),
                    "current_player_session_count": g.used(),
                    "maximum_player_session_count": g.max,
                    "player_session_creation_policy": if g.deny { "DENY_ALL" } else { "ACCEPT_ALL" },
                    "process_id": format!("proc-{s}"),
                })),
            };
            (Op::DescribeGameSession, describe_args(&token(*s)), answer)
        }
        Cmd::DescribePlayer(s, p) => {
            let id = pick(*s, *p)?;
            let status = sims[*s]
                .as_ref()
                .and_then(|g| g.players.iter().find(|(i, _)| *i == id))
                .map(|(_, st)| *st);
            let answer = status.map_or(Err("NotFound"), |st| Ok(json!({"status": st})));
            (
                Op::DescribePlayerSession,
                json!({"player_session_id": id}),
                answer,
            )
        }
    };
    Some((op, args, answer))
}

/// How a recorded operation's outcome is reported: as it was, or unknown (having taken effect
/// or not), or never completed.
fn history_of(script: &[(Cmd, u8, u64, u64)]) -> (Vec<Event>, FinalState) {
    let mut sims: [Option<SimGs>; 2] = [None, None];
    let mut known: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    // (completion time, session, id): ids the clients learn once the reservation returns.
    let mut learning: Vec<(u64, usize, String)> = Vec::new();
    let mut next_id = 0usize;
    let mut h = Hist::default();
    for (i, (cmd, roll, before, after)) in script.iter().enumerate() {
        // Every operation takes effect at `t`, inside [t - before, t + after].
        let t = 1_000 + 40 * u64::try_from(i).unwrap();
        let inv = t - before;
        let ret = t + after;
        for (s, ids) in known.iter_mut().enumerate() {
            for (_, _, id) in learning.iter().filter(|(at, ls, _)| *at < inv && *ls == s) {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        let unknown = *roll < 20;
        let took_effect = *roll < 10 || *roll == 20 || *roll == 21;
        let pending = (20..24).contains(roll);
        let client = u64::try_from(i).unwrap() + 1;
        if (unknown || pending) && !took_effect {
            // Sent, but it never reached the cluster: nothing runs.
            let Some((op, args, _)) = run(cmd, &mut sims.clone(), &known, &mut next_id.clone())
            else {
                continue;
            };
            h.push(client, op, &args, EventType::Invoke, Value::Null, inv);
            if unknown {
                h.push(
                    client,
                    op,
                    &args,
                    EventType::Info,
                    json!({"error": "Timeout"}),
                    ret,
                );
            }
            continue;
        }
        let Some((op, args, answer)) = run(cmd, &mut sims, &known, &mut next_id) else {
            continue;
        };
        h.push(client, op, &args, EventType::Invoke, Value::Null, inv);
        if pending {
            continue;
        }
        match (unknown, answer) {
            (true, _) => {
                h.push(
                    client,
                    op,
                    &args,
                    EventType::Info,
                    json!({"error": "Timeout"}),
                    ret,
                );
            }
            (false, Ok(value)) => {
                if op == Op::ReservePlayer
                    && let (Some(id), Some(s)) = (
                        value["player_session_id"].as_str(),
                        (0..2).find(|s| args["game_session_id"] == json!(gs(&token(*s)))),
                    )
                {
                    learning.push((ret, s, id.to_string()));
                }
                h.push(client, op, &args, EventType::Ok, value, ret);
            }
            (false, Err(error)) => {
                h.push(
                    client,
                    op,
                    &args,
                    EventType::Fail,
                    json!({"error": error}),
                    ret,
                );
            }
        }
    }
    let mut fin = FinalState::default();
    for (s, g) in sims.iter().enumerate() {
        let Some(g) = g else { continue };
        fin.game_sessions.push(FinalGameSession {
            game_session_id: gs(&token(s)),
            status: g.status.name().into(),
            process_id: format!("proc-{s}"),
            node_id: 1,
            maximum_player_session_count: g.max,
            current_player_session_count: g.used(),
            idempotency_token: Some(token(s)),
        });
        for (id, st) in &g.players {
            fin.player_sessions.push(final_ps(id, &token(s), st));
        }
    }
    (h.build(), fin)
}

fn script() -> impl Strategy<Value = Vec<(Cmd, u8, u64, u64)>> {
    let step = (cmd(), 0..100u8, 1..90u64, 1..90u64);
    (
        proptest::collection::vec(step.clone(), 2),
        proptest::collection::vec(step, 5..40),
    )
        .prop_map(|(mut head, tail)| {
            // Both sessions are asked for first, so most runs exercise them.
            head[0].0 = Cmd::Create(0);
            head[1].0 = Cmd::Create(1);
            head.extend(tail);
            head
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Histories from a sequential reference execution, stretched into overlapping
    /// intervals, some outcomes hidden (info, or never completed), are always accepted.
    #[test]
    fn histories_of_a_sequential_execution_never_report_an_anomaly(s in script()) {
        let (events, fin) = history_of(&s);
        let r = check(&events, &fin);
        let per_op: BTreeMap<usize, String> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (i, serde_json::to_string(e).unwrap()))
            .collect();
        prop_assert!(r.anomalies.is_empty(), "{r}\nhistory:\n{per_op:#?}\nfinal: {fin:#?}");
    }

    /// Arbitrary events and final states never make the checker panic.
    #[test]
    fn garbage_never_panics(
        events in proptest::collection::vec(any_event(), 0..40),
        fin in any_final(),
    ) {
        let r = check(&events, &fin);
        let _ = r.to_string();
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let ids = prop_oneof![
        Just(json!(gs("a"))),
        Just(json!(gs("b"))),
        Just(json!("psess-1")),
        Just(json!("psess-2")),
        Just(json!(null)),
        Just(json!(-1)),
        Just(json!(i64::MAX)),
        Just(json!(u64::MAX)),
        Just(json!("ACTIVE")),
        Just(json!("TERMINATED")),
        Just(json!("RESERVED")),
        Just(json!("DENY_ALL")),
        Just(json!("GameSessionFull")),
        Just(json!("NotFound")),
        Just(json!("FORCE_TERMINATE")),
        Just(json!(2)),
        Just(json!([1, 2])),
    ];
    let keys = prop_oneof![
        Just("game_session_id"),
        Just("player_session_id"),
        Just("idempotency_token"),
        Just("max_players"),
        Just("status"),
        Just("current_player_session_count"),
        Just("maximum_player_session_count"),
        Just("player_session_creation_policy"),
        Just("process_id"),
        Just("error"),
        Just("mode"),
        Just("consistency"),
    ];
    prop_oneof![
        1 => ids.clone(),
        4 => proptest::collection::vec((keys, ids), 0..6).prop_map(|kv| {
            Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        }),
    ]
}

fn any_event() -> impl Strategy<Value = Event> {
    (
        0..4u64,
        proptest::sample::select(Op::ALL.to_vec()),
        any_json(),
        proptest::sample::select(vec![
            EventType::Invoke,
            EventType::Ok,
            EventType::Fail,
            EventType::Info,
        ]),
        any_json(),
        prop_oneof![0..50u64, Just(u64::MAX)],
    )
        .prop_map(|(client, op, args, r#type, value, time_ns)| Event {
            client,
            op,
            args,
            r#type,
            value,
            time_ns,
        })
}

fn any_final() -> impl Strategy<Value = FinalState> {
    let status = proptest::sample::select(vec!["ACTIVE", "TERMINATED", "ERROR", "bogus", ""]);
    let ps_status =
        proptest::sample::select(vec!["RESERVED", "ACTIVE", "COMPLETED", "TIMEDOUT", "?"]);
    let g = (
        proptest::sample::select(vec!["a", "b"]),
        status,
        proptest::sample::select(vec!["p1", "p2", ""]),
        -1..4i64,
        -1..4i64,
    )
        .prop_map(|(t, st, p, max, cur)| final_gs(t, st, p, max, cur));
    let p = (
        proptest::sample::select(vec!["psess-1", "psess-2", "psess-3"]),
        proptest::sample::select(vec!["a", "b"]),
        ps_status,
    )
        .prop_map(|(id, t, st)| final_ps(id, t, st));
    (
        proptest::collection::vec(g, 0..3),
        proptest::collection::vec(p, 0..4),
    )
        .prop_map(|(game_sessions, player_sessions)| FinalState {
            game_sessions,
            player_sessions,
        })
}
