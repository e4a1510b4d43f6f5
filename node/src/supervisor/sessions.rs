//! The game sessions of this node's processes, seen from the node (GAMELIFT.md §4.4, §4.5).
//!
//! - [`sync`] runs on every applied change (and every reconcile tick): a session the leader
//!   placed on one of our processes gets its `CreateGameSession` push (once per session; a
//!   process that is not connected at the moment gets it when it is); a TERMINATING session
//!   (TerminateGameSession with TRIGGER_ON_PROCESS_TERMINATE) makes its process end gracefully
//!   (`TerminateProcess` push, kill after the grace); a process the state marks TERMINATING
//!   while we still run it as live (FORCE_TERMINATE, activation timeout) is killed now, and so
//!   is a ready process the state no longer lists (the leader declared this node lost).
//! - [`handle`] answers a process's game session requests (ActivateGameSession,
//!   UpdatePlayerSessionCreationPolicy, AcceptPlayerSession, RemovePlayerSession,
//!   DescribePlayerSessions) by proposing the transition or reading the applied state. A
//!   process may act only on its own game session; the state machine checks that again.
//!
//! Invariant: nothing here decides a replicated outcome on its own clock (decision 5); it only
//! delivers what the state says and turns SDK requests into commands.

use std::collections::BTreeSet;

use gamefleet_sdk::protocol::{
    self as sdkp, CreateGameSessionMessage, DescribePlayerSessionsResult, Response, ResponseBody,
    ToSdk, ToService,
};

use super::process::Control;
use super::{Cluster, Inner, ProposeError, wall_ms};
use crate::api::page_after;
use crate::fsm::session::{
    GameSessionStatus, GameSessionUpdate, PlayerSession, PlayerSessionCreationPolicy,
    PlayerSessionStatus,
};
use crate::fsm::{Command, FsmError, ProcessStatus};
use crate::sdk_endpoint::handler::{BAD_REQUEST, NOT_FOUND, UNAVAILABLE};

/// 409: the request conflicts with the session's status.
const CONFLICT: i32 = 409;
/// A ready process the applied state has not listed for this long is ended.
const UNLISTED_AFTER: std::time::Duration = std::time::Duration::from_secs(2);
/// Most player sessions one DescribePlayerSessions reply carries.
const MAX_PLAYER_PAGE: usize = 1024;

/// What [`sync`] remembers between runs.
#[derive(Debug, Default)]
pub(crate) struct Delivered {
    /// Game sessions whose CreateGameSession push went out.
    pushed: BTreeSet<String>,
    /// Game sessions whose process was asked to end.
    ending: BTreeSet<String>,
    /// Processes killed because the state marked them TERMINATING.
    killed: BTreeSet<String>,
    /// Ready processes the applied state does not list, since when.
    unlisted: std::collections::BTreeMap<String, std::time::Instant>,
}

enum Work {
    Push(String, CreateGameSessionMessage),
    Retire(String, String),
    Kill(String),
}

/// Delivers what the applied state says about our processes' game sessions (module docs).
pub(crate) fn sync<C: Cluster>(inner: &Inner<C>) {
    let node_id = inner.settings.node_id;
    let mut work = Vec::new();
    let mut live = BTreeSet::new();
    let mut terminating = BTreeSet::new();
    inner.cluster.read(|s| {
        for p in s.hosting.node_processes(node_id) {
            if p.status == ProcessStatus::Terminating {
                terminating.insert(p.process_id.clone());
            }
            let Some(gs) = p.game_session_id.as_ref().and_then(|id| s.sessions.get(id)) else {
                continue;
            };
            live.insert(gs.id.clone());
            match gs.status {
                GameSessionStatus::Activating => work.push(Work::Push(
                    p.process_id.clone(),
                    CreateGameSessionMessage {
                        request_id: None,
                        maximum_player_session_count: u32::try_from(
                            gs.maximum_player_session_count,
                        )
                        .unwrap_or(0),
                        port: gs.port,
                        ip_address: gs.ip_address.clone(),
                        game_session_id: gs.id.clone(),
                        game_session_name: gs.name.clone().unwrap_or_default(),
                        game_session_data: gs.game_session_data.clone().unwrap_or_default(),
                        matchmaker_data: String::new(),
                        dns_name: gs.dns_name.clone(),
                        game_properties: gs
                            .game_properties
                            .iter()
                            .map(|p| (p.key.clone(), p.value.clone()))
                            .collect(),
                    },
                )),
                GameSessionStatus::Terminating => {
                    work.push(Work::Retire(p.process_id.clone(), gs.id.clone()));
                }
                _ => {}
            }
        }
    });
    for id in &terminating {
        work.push(Work::Kill(id.clone()));
    }
    let mut t = inner.lock();
    let d = &mut t.delivered;
    d.pushed.retain(|id| live.contains(id));
    d.ending.retain(|id| live.contains(id));
    d.killed.retain(|id| terminating.contains(id));
    let mut controls = Vec::new();
    for w in work {
        match w {
            Work::Push(process_id, msg) => {
                if d.pushed.contains(&msg.game_session_id) {
                    continue;
                }
                let id = msg.game_session_id.clone();
                match inner
                    .registry
                    .push(&process_id, &ToSdk::CreateGameSession(msg))
                {
                    Ok(()) => {
                        tracing::debug!(process_id, game_session_id = %id, "CreateGameSession pushed");
                        d.pushed.insert(id);
                    }
                    Err(e) => tracing::debug!("CreateGameSession push deferred: {e}"),
                }
            }
            Work::Retire(process_id, game_session_id) => {
                if d.ending.insert(game_session_id) {
                    controls.push((process_id, Control::Retire));
                }
            }
            Work::Kill(process_id) => {
                if d.killed.insert(process_id.clone()) {
                    controls.push((process_id, Control::Kill));
                }
            }
        }
    }
    // A ready process the state no longer lists (the leader declared this node lost while it
    // was cut off) can never get a game session again: end it so a fresh one replaces it.
    // NB: read under the table lock, so a process cannot become ready in between.
    let listed: BTreeSet<String> = inner.cluster.read(|s| {
        s.hosting
            .node_processes(node_id)
            .map(|p| p.process_id.clone())
            .collect()
    });
    // NB: on a follower the local state may not have applied a process's ProcessLaunched yet
    // when its ProcessReady proposal returns, so a process counts as unlisted only after it has
    // been missing for UNLISTED_AFTER.
    let now = std::time::Instant::now();
    let mut missing = std::mem::take(&mut t.delivered.unlisted);
    missing.retain(|id, _| t.procs.contains_key(id) && !listed.contains(id));
    for (id, slot) in &t.procs {
        if slot.stage != super::plan::Stage::Ready || listed.contains(id) {
            continue;
        }
        let since = *missing.entry(id.clone()).or_insert(now);
        if now.saturating_duration_since(since) >= UNLISTED_AFTER {
            controls.push((id.clone(), Control::Kill));
        }
    }
    t.delivered.unlisted = missing;
    for (process_id, c) in controls {
        // Only processes this node runs (a ghost is ended by the reconcile pass), and a
        // TERMINATING one only if it is not already ending on its own (ProcessEnding, retire).
        if let Some(slot) = t.procs.get(&process_id)
            && !(matches!(c, Control::Kill) && slot.stage == super::plan::Stage::Leaving)
        {
            let _ = slot.control.send(c);
        }
    }
}

fn failure(request: &ToService, e: &ProposeError) -> Response {
    match e {
        ProposeError::Refused(f) => {
            let status = match f {
                FsmError::InvalidArgument { .. } => BAD_REQUEST,
                FsmError::NotFound { .. } => NOT_FOUND,
                FsmError::InvalidStatus { .. }
                | FsmError::GameSessionFull { .. }
                | FsmError::LimitExceeded { .. } => CONFLICT,
                _ => 500,
            };
            request.error_response(status, f.to_string())
        }
        ProposeError::Unavailable(m) => request.error_response(
            UNAVAILABLE,
            format!("the node could not record the request in time ({m}); retry"),
        ),
    }
}

async fn propose<C: Cluster>(inner: &Inner<C>, request: &ToService, cmd: Command) -> Response {
    match inner.cluster.propose_once(cmd).await {
        Ok(()) => request.ok_response(),
        Err(e) => failure(request, &e),
    }
}

fn sdk_player(p: &PlayerSession) -> sdkp::PlayerSession {
    sdkp::PlayerSession {
        player_id: p.player_id.clone(),
        player_session_id: p.id.clone(),
        game_session_id: p.game_session_id.clone(),
        fleet_id: p.fleet_id.clone(),
        player_data: p.player_data.clone().unwrap_or_default(),
        ip_address: p.ip_address.clone(),
        port: p.port,
        creation_time: p.creation_time_ms,
        termination_time: p.termination_time_ms.unwrap_or(0),
        dns_name: p.dns_name.clone(),
        status: Some(match p.status {
            PlayerSessionStatus::Reserved => sdkp::PlayerSessionStatus::Reserved,
            PlayerSessionStatus::Active => sdkp::PlayerSessionStatus::Active,
            PlayerSessionStatus::Completed => sdkp::PlayerSessionStatus::Completed,
            PlayerSessionStatus::Timedout => sdkp::PlayerSessionStatus::Timedout,
        }),
    }
}

fn parse_status(s: &str) -> Option<PlayerSessionStatus> {
    match s {
        "RESERVED" => Some(PlayerSessionStatus::Reserved),
        "ACTIVE" => Some(PlayerSessionStatus::Active),
        "COMPLETED" => Some(PlayerSessionStatus::Completed),
        "TIMEDOUT" => Some(PlayerSessionStatus::Timedout),
        _ => None,
    }
}

/// DescribePlayerSessions from a game server: player sessions of its own fleet.
fn describe_players<C: Cluster>(
    inner: &Inner<C>,
    fleet_id: &str,
    request: &ToService,
    m: &sdkp::DescribePlayerSessionsRequest,
) -> Response {
    let given = [
        m.game_session_id.is_some(),
        m.player_id.is_some(),
        m.player_session_id.is_some(),
    ]
    .into_iter()
    .filter(|b| *b)
    .count();
    if given != 1 {
        return request.error_response(
            BAD_REQUEST,
            "exactly one of GameSessionId, PlayerId and PlayerSessionId is required",
        );
    }
    let status = match m.player_session_status_filter.as_deref() {
        None => None,
        Some(s) => match parse_status(s) {
            Some(st) => Some(st),
            None => {
                return request.error_response(
                    BAD_REQUEST,
                    format!("PlayerSessionStatusFilter {s:?} is not RESERVED, ACTIVE, COMPLETED or TIMEDOUT"),
                );
            }
        },
    };
    let limit = m
        .limit
        .map_or(MAX_PLAYER_PAGE, |l| {
            usize::try_from(l).unwrap_or(MAX_PLAYER_PAGE)
        })
        .clamp(1, MAX_PLAYER_PAGE);
    let after = m.next_token.clone();
    let found: Result<(Vec<sdkp::PlayerSession>, Option<String>), String> =
        inner.cluster.read(|s| {
            let ss = &s.sessions;
            let mine = |p: &&PlayerSession| p.fleet_id == fleet_id;
            let all: Vec<&PlayerSession> = if let Some(id) = &m.player_session_id {
                ss.player_sessions
                    .get(id)
                    .filter(mine)
                    .into_iter()
                    .collect()
            } else if let Some(g) = &m.game_session_id {
                if ss.get(g).is_none_or(|g| g.fleet_id != fleet_id) {
                    return Err(format!("no such game session in fleet {fleet_id}: {g}"));
                }
                ss.players_of(g)
                    .filter(|p| status.is_none_or(|st| p.status == st))
                    .collect()
            } else if let Some(p) = &m.player_id {
                ss.of_player(p).filter(mine).collect()
            } else {
                Vec::new()
            };
            let (page, next) =
                page_after(all.into_iter(), |p| p.id.as_str(), after.as_deref(), limit);
            Ok((page.into_iter().map(sdk_player).collect::<Vec<_>>(), next))
        });
    match found {
        Err(e) => request.error_response(NOT_FOUND, e),
        Ok((page, next_token)) => {
            if page.is_empty()
                && let Some(id) = &m.player_session_id
            {
                return request.error_response(NOT_FOUND, format!("no such player session: {id}"));
            }
            request
                .ok_response()
                .with_body(ResponseBody::DescribePlayerSessions(
                    DescribePlayerSessionsResult {
                        next_token,
                        player_sessions: page,
                    },
                ))
        }
    }
}

/// Answers a game session request of process `process_id` of fleet `fleet_id`.
pub(crate) async fn handle<C: Cluster>(
    inner: &Inner<C>,
    process_id: &str,
    fleet_id: &str,
    request: &ToService,
) -> Response {
    let pid = process_id.to_string();
    match request {
        ToService::ActivateGameSession(m) => {
            let cmd = Command::ActivateGameSession {
                process_id: pid,
                game_session_id: m.game_session_id.clone(),
                at_ms: wall_ms(),
            };
            propose(inner, request, cmd).await
        }
        ToService::UpdatePlayerSessionCreationPolicy(m) => {
            let policy = match m.player_session_policy {
                sdkp::PlayerSessionCreationPolicy::AcceptAll => {
                    PlayerSessionCreationPolicy::AcceptAll
                }
                sdkp::PlayerSessionCreationPolicy::DenyAll => PlayerSessionCreationPolicy::DenyAll,
                _ => {
                    return request.error_response(
                        BAD_REQUEST,
                        "PlayerSessionPolicy must be ACCEPT_ALL or DENY_ALL",
                    );
                }
            };
            let cmd = Command::UpdateGameSession {
                game_session_id: m.game_session_id.clone(),
                process_id: Some(pid),
                update: GameSessionUpdate {
                    player_session_creation_policy: Some(policy),
                    ..Default::default()
                },
                at_ms: wall_ms(),
            };
            propose(inner, request, cmd).await
        }
        ToService::AcceptPlayerSession(m) => {
            let cmd = Command::AcceptPlayerSession {
                process_id: pid,
                game_session_id: m.game_session_id.clone(),
                player_session_id: m.player_session_id.clone(),
                at_ms: wall_ms(),
            };
            propose(inner, request, cmd).await
        }
        ToService::RemovePlayerSession(m) => {
            let cmd = Command::RemovePlayerSession {
                process_id: pid,
                game_session_id: m.game_session_id.clone(),
                player_session_id: m.player_session_id.clone(),
                at_ms: wall_ms(),
            };
            propose(inner, request, cmd).await
        }
        ToService::DescribePlayerSessions(m) => describe_players(inner, fleet_id, request, m),
        ToService::StartMatchBackfill(_) | ToService::StopMatchBackfill(_) => request
            .error_response(
                BAD_REQUEST,
                "match backfill is not available: gamefleet has no FlexMatch matchmaker",
            ),
        _ => request.error_response(BAD_REQUEST, "not a game session action"),
    }
}
