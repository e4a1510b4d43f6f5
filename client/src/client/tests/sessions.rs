//! The fake node's game session, player session and alias RPCs
//! ([`FakeSessions`], served through the parent's `Fake`), and the tests of
//! the client's session and alias methods against it: idempotency tokens
//! across retries, paging, read consistency, waiting for ACTIVE, and the
//! mapping of the session exceptions to error kinds.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gamefleet_proto::v1 as pb;
use tonic::Status;

use super::{Fake, client, exception, not_found, serve};
use crate::client::{Client, Consistency};
use crate::error::ErrorKind;
use crate::types::{
    CreateAliasInput, CreateGameSessionInput, DescribeGameSessionsInput,
    DescribePlayerSessionsInput, FleetOrAlias, GameProperty, GameSessionSelector,
    GameSessionStatus, PlayerSessionCreationPolicy, PlayerSessionSelector, PlayerSessionStatus,
    ProtectionPolicy, RoutingStrategy, RoutingStrategyType, SearchGameSessionsInput,
    TerminationMode, UpdateAliasInput, UpdateGameSessionInput,
};

/// Game sessions of every fleet (and alias) in DescribeGameSessions(Details).
const SESSIONS: usize = 230;
/// Game sessions SearchGameSessions finds.
const SEARCHABLE: usize = 45;
/// Player sessions of every game session or player.
const PLAYERS: usize = 130;
/// Aliases ListAliases lists (without a name filter).
const ALIASES: usize = 120;

/// What the next describe of one game session (by id) sees.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    /// NotFound (a replica that has not seen the session yet).
    Missing,
    /// The session, in this status for this reason.
    Is(pb::GameSessionStatus, pb::GameSessionStatusReason),
}

/// The session side of the fake node: scripted answers, and a record of
/// every request.
#[derive(Default)]
pub(super) struct FakeSessions {
    /// CreateGameSession answers UNAVAILABLE this many more times.
    pub(super) create_failures: AtomicUsize,
    /// Every CreateGameSession request, retries included.
    pub(super) creates: Mutex<Vec<pb::CreateGameSessionRequest>>,
    /// Describes of one game session (by id) walk these steps; the last
    /// one repeats. Empty: the session is ACTIVE.
    pub(super) script: Mutex<VecDeque<Step>>,
    /// Every DescribeGameSessions request.
    pub(super) describes: Mutex<Vec<pb::DescribeGameSessionsRequest>>,
    /// Every DescribeGameSessionDetails request.
    pub(super) detail_requests: Mutex<Vec<pb::DescribeGameSessionDetailsRequest>>,
    /// Every SearchGameSessions request.
    pub(super) searches: Mutex<Vec<pb::SearchGameSessionsRequest>>,
    /// Every UpdateGameSession request.
    pub(super) updates: Mutex<Vec<pb::UpdateGameSessionRequest>>,
    /// Every TerminateGameSession request.
    pub(super) terminations: Mutex<Vec<pb::TerminateGameSessionRequest>>,
    /// Every CreatePlayerSession request.
    pub(super) player_creates: Mutex<Vec<pb::CreatePlayerSessionRequest>>,
    /// Every CreatePlayerSessions request.
    pub(super) batch_creates: Mutex<Vec<pb::CreatePlayerSessionsRequest>>,
    /// Every DescribePlayerSessions request.
    pub(super) player_describes: Mutex<Vec<pb::DescribePlayerSessionsRequest>>,
    /// Every CreateAlias, UpdateAlias and DeleteAlias request.
    pub(super) alias_creates: Mutex<Vec<pb::CreateAliasRequest>>,
    pub(super) alias_updates: Mutex<Vec<pb::UpdateAliasRequest>>,
    pub(super) alias_deletes: Mutex<Vec<String>>,
    /// Every ListAliases request.
    pub(super) alias_lists: Mutex<Vec<pb::ListAliasesRequest>>,
    /// (operation, consistency) of every read.
    pub(super) reads: Mutex<Vec<(&'static str, i32)>>,
}

/// `total` items paged like the node: at most `limit` (default 10, at most
/// `max`) from the offset in the token; the next token is the next offset.
fn offset_page(
    total: usize,
    limit: Option<i32>,
    token: Option<String>,
    max: usize,
) -> (std::ops::Range<usize>, Option<String>) {
    let start: usize = token.map_or(0, |t| t.parse().unwrap());
    let size = usize::try_from(limit.unwrap_or(10)).unwrap().min(max);
    let end = (start + size).min(total);
    let next = (end < total).then(|| end.to_string());
    (start..end, next)
}

fn fake_session(id: &str, fleet_id: &str, status: pb::GameSessionStatus) -> pb::GameSession {
    pb::GameSession {
        game_session_id: id.to_string(),
        fleet_id: fleet_id.to_string(),
        fleet_arn: format!("arn:aws:gamelift:local::fleet/{fleet_id}"),
        creation_time_millis: 1_000,
        maximum_player_session_count: 10,
        status: status as i32,
        ip_address: "10.0.0.1".into(),
        port: 30001,
        process_id: "proc-1".into(),
        node_id: 1,
        ..Default::default()
    }
}

fn fake_player_session(i: usize, game_session_id: &str, player_id: &str) -> pb::PlayerSession {
    pb::PlayerSession {
        player_session_id: format!("psess-{i}"),
        player_id: player_id.to_string(),
        game_session_id: game_session_id.to_string(),
        fleet_id: "fleet-1".into(),
        status: pb::PlayerSessionStatus::Reserved as i32,
        ip_address: "10.0.0.1".into(),
        port: 30001,
        ..Default::default()
    }
}

fn fake_alias(id: &str, name: &str, routing: pb::RoutingStrategy) -> pb::Alias {
    pb::Alias {
        alias_id: id.to_string(),
        name: name.to_string(),
        alias_arn: format!("arn:aws:gamelift:local::alias/{id}"),
        routing_strategy: Some(routing),
        creation_time_millis: 1_000,
        last_updated_time_millis: 2_000,
        ..Default::default()
    }
}

fn terminal_routing() -> Status {
    exception(
        Status::failed_precondition("closed for maintenance"),
        "TerminalRoutingStrategyException",
    )
}

impl FakeSessions {
    fn read(&self, op: &'static str, consistency: i32) {
        self.reads.lock().unwrap().push((op, consistency));
    }

    /// Answers like the node: the session is `gs-<token>`, ACTIVATING on
    /// the fleet asked for (or `fleet-of-<alias>`).
    pub(super) fn create_game_session(
        &self,
        req: pb::CreateGameSessionRequest,
    ) -> Result<pb::CreateGameSessionResponse, Status> {
        self.creates.lock().unwrap().push(req.clone());
        let left = self.create_failures.load(Ordering::SeqCst);
        if left > 0 {
            self.create_failures.store(left - 1, Ordering::SeqCst);
            return Err(Status::unavailable("no leader"));
        }
        if req.fleet_id.as_deref() == Some("fleet-full") {
            return Err(exception(
                Status::resource_exhausted("no free server process in fleet fleet-full"),
                "FleetCapacityExceededException",
            ));
        }
        if req.alias_id.as_deref() == Some("alias-terminal") {
            return Err(terminal_routing());
        }
        if req.idempotency_token.as_deref() == Some("reused") {
            return Err(exception(
                Status::already_exists("idempotency_token: reused with other parameters"),
                "IdempotentParameterMismatchException",
            ));
        }
        if req.creator_id.as_deref() == Some("greedy") {
            return Err(exception(
                Status::resource_exhausted("creator greedy: too many new game sessions"),
                "LimitExceededException",
            ));
        }
        let token = req.idempotency_token.clone().unwrap_or_default();
        let fleet = req
            .fleet_id
            .clone()
            .unwrap_or_else(|| format!("fleet-of-{}", req.alias_id.as_deref().unwrap_or_default()));
        let session = pb::GameSession {
            name: req.name.unwrap_or_default(),
            maximum_player_session_count: req.maximum_player_session_count,
            game_properties: req.game_properties,
            creator_id: req.creator_id.unwrap_or_default(),
            game_session_data: req.game_session_data.unwrap_or_default(),
            location: req.location.unwrap_or_default(),
            ..fake_session(
                &format!("gs-{token}"),
                &fleet,
                pb::GameSessionStatus::Activating,
            )
        };
        Ok(pb::CreateGameSessionResponse {
            game_session: Some(session),
        })
    }

    /// One session by id walks the script; a fleet's or alias's sessions
    /// are `gs-0` .. `gs-229`, 100 per page at most.
    pub(super) fn describe_game_sessions(
        &self,
        req: pb::DescribeGameSessionsRequest,
    ) -> Result<pb::DescribeGameSessionsResponse, Status> {
        self.read("DescribeGameSessions", req.consistency);
        self.describes.lock().unwrap().push(req.clone());
        if let Some(id) = req.game_session_id {
            let step = {
                let mut script = self.script.lock().unwrap();
                if script.len() > 1 {
                    script.pop_front()
                } else {
                    script.front().copied()
                }
            };
            let session = match step {
                Some(Step::Missing) => return Err(not_found(&format!("game session {id}"))),
                Some(Step::Is(status, reason)) => pb::GameSession {
                    status_reason: reason as i32,
                    ..fake_session(&id, "fleet-1", status)
                },
                None => fake_session(&id, "fleet-1", pb::GameSessionStatus::Active),
            };
            return Ok(pb::DescribeGameSessionsResponse {
                game_sessions: vec![session],
                next_token: None,
            });
        }
        let fleet = req.fleet_id.or(req.alias_id).unwrap_or_default();
        let (range, next_token) = offset_page(SESSIONS, req.limit, req.next_token, 100);
        Ok(pb::DescribeGameSessionsResponse {
            game_sessions: range
                .map(|i| fake_session(&format!("gs-{i}"), &fleet, pb::GameSessionStatus::Active))
                .collect(),
            next_token,
        })
    }

    /// Like DescribeGameSessions; even sessions are fully protected.
    pub(super) fn describe_game_session_details(
        &self,
        req: pb::DescribeGameSessionDetailsRequest,
    ) -> Result<pb::DescribeGameSessionDetailsResponse, Status> {
        self.read("DescribeGameSessionDetails", req.consistency);
        self.detail_requests.lock().unwrap().push(req.clone());
        let detail = |i: usize, id: &str| pb::GameSessionDetail {
            game_session: Some(fake_session(id, "fleet-1", pb::GameSessionStatus::Active)),
            protection_policy: if i.is_multiple_of(2) {
                pb::ProtectionPolicy::FullProtection
            } else {
                pb::ProtectionPolicy::NoProtection
            } as i32,
        };
        if let Some(id) = req.game_session_id {
            return Ok(pb::DescribeGameSessionDetailsResponse {
                game_session_details: vec![detail(0, &id)],
                next_token: None,
            });
        }
        let (range, next_token) = offset_page(SESSIONS, req.limit, req.next_token, 100);
        Ok(pb::DescribeGameSessionDetailsResponse {
            game_session_details: range.map(|i| detail(i, &format!("gs-{i}"))).collect(),
            next_token,
        })
    }

    /// `SEARCHABLE` matches, at most 20 per page.
    pub(super) fn search_game_sessions(
        &self,
        req: pb::SearchGameSessionsRequest,
    ) -> Result<pb::SearchGameSessionsResponse, Status> {
        self.read("SearchGameSessions", req.consistency);
        self.searches.lock().unwrap().push(req.clone());
        if req.alias_id.as_deref() == Some("alias-terminal") {
            return Err(terminal_routing());
        }
        let limit = Some(req.limit.unwrap_or(20));
        let (range, next_token) = offset_page(SEARCHABLE, limit, req.next_token, 20);
        Ok(pb::SearchGameSessionsResponse {
            game_sessions: range
                .map(|i| fake_session(&format!("gs-{i}"), "fleet-1", pb::GameSessionStatus::Active))
                .collect(),
            next_token,
        })
    }

    pub(super) fn update_game_session(
        &self,
        req: pb::UpdateGameSessionRequest,
    ) -> Result<pb::UpdateGameSessionResponse, Status> {
        self.updates.lock().unwrap().push(req.clone());
        let mut s = fake_session(
            &req.game_session_id,
            "fleet-1",
            pb::GameSessionStatus::Active,
        );
        if let Some(max) = req.maximum_player_session_count {
            s.maximum_player_session_count = max;
        }
        if let Some(name) = req.name {
            s.name = name;
        }
        if let Some(policy) = req.player_session_creation_policy {
            s.player_session_creation_policy = policy;
        }
        s.game_properties = req.game_properties;
        Ok(pb::UpdateGameSessionResponse {
            game_session: Some(s),
        })
    }

    /// FORCE_TERMINATE ends the session at once; the other mode leaves it
    /// TERMINATING.
    pub(super) fn terminate_game_session(
        &self,
        req: pb::TerminateGameSessionRequest,
    ) -> Result<pb::TerminateGameSessionResponse, Status> {
        self.terminations.lock().unwrap().push(req.clone());
        let (status, reason) = if req.termination_mode == pb::TerminationMode::ForceTerminate as i32
        {
            (
                pb::GameSessionStatus::Terminated,
                pb::GameSessionStatusReason::ForceTerminated,
            )
        } else {
            (
                pb::GameSessionStatus::Terminating,
                pb::GameSessionStatusReason::TriggeredOnProcessTerminate,
            )
        };
        Ok(pb::TerminateGameSessionResponse {
            game_session: Some(pb::GameSession {
                status_reason: reason as i32,
                ..fake_session(&req.game_session_id, "fleet-1", status)
            }),
        })
    }

    /// `gs-full` has no free slot; `gs-ended` is TERMINATED.
    fn check_joinable(game_session_id: &str) -> Result<(), Status> {
        match game_session_id {
            "gs-full" => Err(exception(
                Status::resource_exhausted("game session gs-full is full"),
                "GameSessionFullException",
            )),
            "gs-ended" => Err(exception(
                Status::failed_precondition("game session gs-ended is TERMINATED"),
                "InvalidGameSessionStatusException",
            )),
            _ => Ok(()),
        }
    }

    pub(super) fn create_player_session(
        &self,
        req: pb::CreatePlayerSessionRequest,
    ) -> Result<pb::CreatePlayerSessionResponse, Status> {
        self.player_creates.lock().unwrap().push(req.clone());
        Self::check_joinable(&req.game_session_id)?;
        Ok(pb::CreatePlayerSessionResponse {
            player_session: Some(pb::PlayerSession {
                player_data: req.player_data.unwrap_or_default(),
                ..fake_player_session(0, &req.game_session_id, &req.player_id)
            }),
        })
    }

    pub(super) fn create_player_sessions(
        &self,
        req: pb::CreatePlayerSessionsRequest,
    ) -> Result<pb::CreatePlayerSessionsResponse, Status> {
        self.batch_creates.lock().unwrap().push(req.clone());
        Self::check_joinable(&req.game_session_id)?;
        let player_sessions = req
            .player_ids
            .iter()
            .enumerate()
            .map(|(i, p)| pb::PlayerSession {
                player_data: req.player_data_map.get(p).cloned().unwrap_or_default(),
                ..fake_player_session(i, &req.game_session_id, p)
            })
            .collect();
        Ok(pb::CreatePlayerSessionsResponse { player_sessions })
    }

    /// One player session by id; else `PLAYERS` of them, paged.
    pub(super) fn describe_player_sessions(
        &self,
        req: pb::DescribePlayerSessionsRequest,
    ) -> Result<pb::DescribePlayerSessionsResponse, Status> {
        self.read("DescribePlayerSessions", req.consistency);
        self.player_describes.lock().unwrap().push(req.clone());
        if let Some(id) = req.player_session_id {
            return Ok(pb::DescribePlayerSessionsResponse {
                player_sessions: vec![pb::PlayerSession {
                    player_session_id: id,
                    ..fake_player_session(0, "gs-1", "player-0")
                }],
                next_token: None,
            });
        }
        let game_session = req.game_session_id.unwrap_or_else(|| "gs-1".into());
        let (range, next_token) = offset_page(PLAYERS, req.limit, req.next_token, 1024);
        Ok(pb::DescribePlayerSessionsResponse {
            player_sessions: range
                .map(|i| {
                    let player = req
                        .player_id
                        .clone()
                        .unwrap_or_else(|| format!("player-{i}"));
                    fake_player_session(i, &game_session, &player)
                })
                .collect(),
            next_token,
        })
    }

    pub(super) fn create_alias(
        &self,
        req: pb::CreateAliasRequest,
    ) -> Result<pb::CreateAliasResponse, Status> {
        self.alias_creates.lock().unwrap().push(req.clone());
        let mut alias = fake_alias(
            &format!("alias-{}", req.name),
            &req.name,
            req.routing_strategy.unwrap_or_default(),
        );
        alias.description = req.description.unwrap_or_default();
        Ok(pb::CreateAliasResponse { alias: Some(alias) })
    }

    pub(super) fn describe_alias(
        &self,
        req: pb::DescribeAliasRequest,
    ) -> Result<pb::DescribeAliasResponse, Status> {
        self.read("DescribeAlias", req.consistency);
        if req.alias_id == "alias-missing" {
            return Err(not_found("alias alias-missing"));
        }
        Ok(pb::DescribeAliasResponse {
            alias: Some(fake_alias(
                &req.alias_id,
                "live",
                pb::RoutingStrategy {
                    r#type: pb::RoutingStrategyType::Simple as i32,
                    fleet_id: Some("fleet-1".into()),
                    message: None,
                },
            )),
        })
    }

    /// With a name: the one alias of that name; else `ALIASES`, paged.
    pub(super) fn list_aliases(
        &self,
        req: pb::ListAliasesRequest,
    ) -> Result<pb::ListAliasesResponse, Status> {
        self.read("ListAliases", req.consistency);
        self.alias_lists.lock().unwrap().push(req.clone());
        let simple = pb::RoutingStrategy {
            r#type: pb::RoutingStrategyType::Simple as i32,
            fleet_id: Some("fleet-1".into()),
            message: None,
        };
        if let Some(name) = req.name {
            return Ok(pb::ListAliasesResponse {
                aliases: vec![fake_alias("alias-0", &name, simple)],
                next_token: None,
            });
        }
        let (range, next_token) = offset_page(ALIASES, req.limit, req.next_token, 100);
        Ok(pb::ListAliasesResponse {
            aliases: range
                .map(|i| fake_alias(&format!("alias-{i}"), &format!("a{i}"), simple.clone()))
                .collect(),
            next_token,
        })
    }

    pub(super) fn update_alias(
        &self,
        req: pb::UpdateAliasRequest,
    ) -> Result<pb::UpdateAliasResponse, Status> {
        self.alias_updates.lock().unwrap().push(req.clone());
        let routing = req.routing_strategy.unwrap_or_default();
        let name = req.name.unwrap_or_else(|| "live".into());
        Ok(pb::UpdateAliasResponse {
            alias: Some(fake_alias(&req.alias_id, &name, routing)),
        })
    }

    pub(super) fn delete_alias(
        &self,
        req: pb::DeleteAliasRequest,
    ) -> Result<pb::DeleteAliasResponse, Status> {
        self.alias_deletes.lock().unwrap().push(req.alias_id);
        Ok(pb::DeleteAliasResponse {})
    }

    /// `alias-terminal` routes nowhere; every other alias routes to fleet-1.
    pub(super) fn resolve_alias(
        &self,
        req: pb::ResolveAliasRequest,
    ) -> Result<pb::ResolveAliasResponse, Status> {
        self.read("ResolveAlias", req.consistency);
        if req.alias_id == "alias-terminal" {
            return Err(terminal_routing());
        }
        Ok(pb::ResolveAliasResponse {
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn:aws:gamelift:local::fleet/fleet-1".into(),
        })
    }
}

/// A fake node and a client of it alone (2 s per attempt, 10 s in total).
async fn setup() -> (Arc<Fake>, Client) {
    let fake = Arc::new(Fake::default());
    let c = client(
        vec![serve(Arc::clone(&fake)).await],
        Duration::from_secs(2),
        Duration::from_secs(10),
    );
    (fake, c)
}

fn tokens(fake: &Fake) -> Vec<String> {
    fake.sessions
        .creates
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.idempotency_token.clone().unwrap_or_default())
        .collect()
}

/// Scripts the describes of one game session.
fn script(fake: &Fake, steps: &[Step]) {
    *fake.sessions.script.lock().unwrap() = steps.iter().copied().collect();
}

fn single_describes(fake: &Fake) -> usize {
    fake.sessions
        .describes
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.game_session_id.is_some())
        .count()
}

const ACTIVATING: Step = Step::Is(
    pb::GameSessionStatus::Activating,
    pb::GameSessionStatusReason::Unspecified,
);
const ACTIVE: Step = Step::Is(
    pb::GameSessionStatus::Active,
    pb::GameSessionStatusReason::Unspecified,
);

#[tokio::test]
async fn create_game_session_is_retried_with_the_same_token() {
    let (fake, c) = setup().await;
    fake.sessions.create_failures.store(2, Ordering::SeqCst);

    let session = c
        .create_game_session(CreateGameSessionInput::new(
            FleetOrAlias::fleet("fleet-1"),
            8,
        ))
        .await
        .unwrap();

    let sent = tokens(&fake);
    assert_eq!(sent.len(), 3, "2 failures then a success: {sent:?}");
    assert!(sent.iter().all(|t| *t == sent[0]), "{sent:?}");
    let token = uuid::Uuid::parse_str(&sent[0]).expect("a generated uuid");
    assert_eq!(token.get_version_num(), 4);
    assert_eq!(session.game_session_id, format!("gs-{}", sent[0]));
    assert_eq!(session.status, GameSessionStatus::Activating);

    // A second call is a second create: a fresh token.
    c.create_game_session(CreateGameSessionInput::new(
        FleetOrAlias::fleet("fleet-1"),
        8,
    ))
    .await
    .unwrap();
    let sent = tokens(&fake);
    assert_eq!(sent.len(), 4);
    assert_ne!(sent[3], sent[0]);
}

#[tokio::test]
async fn a_given_game_session_token_is_sent_as_is() {
    let (fake, c) = setup().await;
    fake.sessions.create_failures.store(1, Ordering::SeqCst);
    let input = CreateGameSessionInput {
        idempotency_token: Some("my-session-1".into()),
        ..CreateGameSessionInput::new(FleetOrAlias::fleet("fleet-1"), 4)
    };
    let session = c.create_game_session(input).await.unwrap();
    assert_eq!(
        tokens(&fake),
        vec!["my-session-1".to_string(), "my-session-1".to_string()]
    );
    assert_eq!(session.game_session_id, "gs-my-session-1");
}

#[tokio::test]
async fn create_game_session_sends_every_field_and_returns_the_session() {
    let (fake, c) = setup().await;
    let input = CreateGameSessionInput {
        name: Some("arena".into()),
        game_properties: vec![GameProperty::new("mode", "ranked")],
        creator_id: Some("player-1".into()),
        idempotency_token: Some("t-1".into()),
        game_session_data: Some("seed=4".into()),
        location: Some("custom-eu".into()),
        ..CreateGameSessionInput::new(FleetOrAlias::alias("alias-1"), 16)
    };
    let s = c.create_game_session(input).await.unwrap();
    let sent = fake.sessions.creates.lock().unwrap().clone();
    assert_eq!(
        sent,
        vec![pb::CreateGameSessionRequest {
            fleet_id: None,
            alias_id: Some("alias-1".into()),
            maximum_player_session_count: 16,
            name: Some("arena".into()),
            game_properties: vec![pb::GameProperty {
                key: "mode".into(),
                value: "ranked".into()
            }],
            creator_id: Some("player-1".into()),
            game_session_id: None,
            idempotency_token: Some("t-1".into()),
            game_session_data: Some("seed=4".into()),
            location: Some("custom-eu".into()),
        }]
    );
    assert_eq!(s.fleet_id, "fleet-of-alias-1");
    assert_eq!(s.name.as_deref(), Some("arena"));
    assert_eq!(s.maximum_player_session_count, 16);
    assert_eq!(s.game_properties, vec![GameProperty::new("mode", "ranked")]);
    assert_eq!((s.ip_address.as_str(), s.port), ("10.0.0.1", 30001));
    assert_eq!(s.location.as_deref(), Some("custom-eu"));
    assert_eq!(s.creator_id.as_deref(), Some("player-1"));
    assert_eq!(s.game_session_data.as_deref(), Some("seed=4"));
}

#[tokio::test]
async fn session_exceptions_map_to_their_kinds_and_are_not_retried() {
    let fake = Arc::new(Fake::default());
    let live = serve(Arc::clone(&fake)).await;
    // Two endpoints: a retry would be visible as a second request.
    let c = client(
        vec![live.clone(), live],
        Duration::from_secs(2),
        Duration::from_secs(10),
    );

    let err = c
        .create_game_session(CreateGameSessionInput::new(
            FleetOrAlias::fleet("fleet-full"),
            4,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::FleetCapacityExceeded, "{err}");
    assert_eq!(err.code, tonic::Code::ResourceExhausted);

    let err = c
        .create_game_session(CreateGameSessionInput::new(
            FleetOrAlias::alias("alias-terminal"),
            4,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TerminalRoutingStrategy, "{err}");
    assert_eq!(err.code, tonic::Code::FailedPrecondition);
    assert_eq!(
        err.to_string(),
        "TerminalRoutingStrategy: closed for maintenance"
    );

    let err = c
        .create_game_session(CreateGameSessionInput {
            idempotency_token: Some("reused".into()),
            ..CreateGameSessionInput::new(FleetOrAlias::fleet("fleet-1"), 4)
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::IdempotentParameterMismatch, "{err}");

    let err = c
        .create_game_session(CreateGameSessionInput {
            creator_id: Some("greedy".into()),
            ..CreateGameSessionInput::new(FleetOrAlias::fleet("fleet-1"), 4)
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::LimitExceeded, "{err}");
    assert_eq!(fake.sessions.creates.lock().unwrap().len(), 4);

    let err = c
        .create_player_session("gs-full", "p1", None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::GameSessionFull, "{err}");
    assert_eq!(err.code, tonic::Code::ResourceExhausted);
    let err = c
        .create_player_sessions("gs-ended", &["p1".into()], &BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidGameSessionStatus, "{err}");
    assert_eq!(fake.sessions.player_creates.lock().unwrap().len(), 1);
    assert_eq!(fake.sessions.batch_creates.lock().unwrap().len(), 1);

    let err = c.resolve_alias("alias-terminal").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::TerminalRoutingStrategy, "{err}");
    let err = c
        .search_game_sessions(&SearchGameSessionsInput::new(FleetOrAlias::alias(
            "alias-terminal",
        )))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TerminalRoutingStrategy, "{err}");
    assert_eq!(fake.sessions.searches.lock().unwrap().len(), 1);

    let err = c.describe_alias("alias-missing").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn describe_game_sessions_follows_every_page() {
    let (fake, c) = setup().await;
    let input = DescribeGameSessionsInput {
        location: Some("custom-eu".into()),
        status_filter: Some(GameSessionStatus::Active),
        ..DescribeGameSessionsInput::new(FleetOrAlias::fleet("fleet-1"))
    };
    let sessions = c.describe_game_sessions(&input).await.unwrap();
    let ids: Vec<String> = sessions.iter().map(|s| s.game_session_id.clone()).collect();
    let want: Vec<String> = (0..SESSIONS).map(|i| format!("gs-{i}")).collect();
    assert_eq!(ids, want);

    let sent = fake.sessions.describes.lock().unwrap().clone();
    let tokens: Vec<Option<&str>> = sent.iter().map(|r| r.next_token.as_deref()).collect();
    assert_eq!(tokens, vec![None, Some("100"), Some("200")]);
    for r in &sent {
        assert_eq!(r.fleet_id.as_deref(), Some("fleet-1"));
        assert_eq!(
            (r.alias_id.as_deref(), r.game_session_id.as_deref()),
            (None, None)
        );
        assert_eq!(r.location.as_deref(), Some("custom-eu"));
        assert_eq!(r.status_filter, Some(pb::GameSessionStatus::Active as i32));
        assert_eq!(r.limit, Some(100));
    }
}

#[tokio::test]
async fn one_page_of_game_sessions_passes_limit_and_token() {
    let (fake, c) = setup().await;
    let input = DescribeGameSessionsInput::new(FleetOrAlias::alias("alias-1"));
    let page = c
        .describe_game_sessions_page(&input, Some(7), Some("20".into()))
        .await
        .unwrap();
    let ids: Vec<&str> = page
        .items
        .iter()
        .map(|s| s.game_session_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "gs-20", "gs-21", "gs-22", "gs-23", "gs-24", "gs-25", "gs-26"
        ]
    );
    assert_eq!(page.next_token.as_deref(), Some("27"));
    let last = c
        .describe_game_sessions_page(&input, Some(7), Some("228".into()))
        .await
        .unwrap();
    assert_eq!(last.items.len(), 2);
    assert_eq!(last.next_token, None);
    let sent = fake.sessions.describes.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "one request per page asked for");
    assert_eq!(sent[0].alias_id.as_deref(), Some("alias-1"));
    assert_eq!(sent[0].limit, Some(7));
}

#[tokio::test]
async fn game_session_details_follow_every_page() {
    let (fake, c) = setup().await;
    let input = DescribeGameSessionsInput::new(GameSessionSelector::Alias("alias-1".into()));
    let details = c.describe_game_session_details(&input).await.unwrap();
    assert_eq!(details.len(), SESSIONS);
    assert_eq!(details[229].game_session.game_session_id, "gs-229");
    assert_eq!(
        details[0].protection_policy,
        ProtectionPolicy::FullProtection
    );
    assert_eq!(details[1].protection_policy, ProtectionPolicy::NoProtection);
    let sent = fake.sessions.detail_requests.lock().unwrap().clone();
    let tokens: Vec<Option<&str>> = sent.iter().map(|r| r.next_token.as_deref()).collect();
    assert_eq!(tokens, vec![None, Some("100"), Some("200")]);
    assert!(
        sent.iter()
            .all(|r| r.alias_id.as_deref() == Some("alias-1"))
    );
}

#[tokio::test]
async fn search_returns_one_page_and_search_all_follows_every_page() {
    let (fake, c) = setup().await;
    let input = SearchGameSessionsInput {
        filter_expression: Some("hasAvailablePlayerSessions=true".into()),
        sort_expression: Some("creationTimeMillis ASC".into()),
        location: Some("custom-eu".into()),
        ..SearchGameSessionsInput::new(FleetOrAlias::fleet("fleet-1"))
    };
    let page = c.search_game_sessions(&input).await.unwrap();
    assert_eq!(page.items.len(), 20);
    assert_eq!(page.items[0].game_session_id, "gs-0");
    assert_eq!(page.next_token.as_deref(), Some("20"));
    assert_eq!(
        fake.sessions.searches.lock().unwrap().len(),
        1,
        "one page only"
    );

    let all = c.search_all_game_sessions(&input).await.unwrap();
    let ids: Vec<String> = all.iter().map(|s| s.game_session_id.clone()).collect();
    let want: Vec<String> = (0..SEARCHABLE).map(|i| format!("gs-{i}")).collect();
    assert_eq!(ids, want);
    let sent = fake.sessions.searches.lock().unwrap().clone();
    let tokens: Vec<Option<&str>> = sent[1..].iter().map(|r| r.next_token.as_deref()).collect();
    assert_eq!(tokens, vec![None, Some("20"), Some("40")]);
    for r in &sent {
        assert_eq!(r.fleet_id.as_deref(), Some("fleet-1"));
        assert_eq!(
            r.filter_expression.as_deref(),
            Some("hasAvailablePlayerSessions=true")
        );
        assert_eq!(r.sort_expression.as_deref(), Some("creationTimeMillis ASC"));
        assert_eq!(r.location.as_deref(), Some("custom-eu"));
        assert_eq!(r.limit, None);
    }

    // From a given token on, with a page size: the rest only.
    let rest = c
        .search_all_game_sessions(&SearchGameSessionsInput {
            next_token: Some("30".into()),
            limit: Some(10),
            ..input
        })
        .await
        .unwrap();
    assert_eq!(rest.len(), SEARCHABLE - 30);
    assert_eq!(rest[0].game_session_id, "gs-30");
    let sent = fake.sessions.searches.lock().unwrap().clone();
    let tail: Vec<(Option<&str>, Option<i32>)> = sent[4..]
        .iter()
        .map(|r| (r.next_token.as_deref(), r.limit))
        .collect();
    assert_eq!(tail, vec![(Some("30"), Some(10)), (Some("40"), Some(10))]);
}

#[tokio::test]
async fn player_sessions_follow_every_page() {
    let (fake, c) = setup().await;
    let input = DescribePlayerSessionsInput {
        status_filter: Some(PlayerSessionStatus::Reserved),
        ..DescribePlayerSessionsInput::new(PlayerSessionSelector::GameSession("gs-7".into()))
    };
    let all = c.describe_player_sessions(&input).await.unwrap();
    let ids: Vec<String> = all.iter().map(|p| p.player_session_id.clone()).collect();
    let want: Vec<String> = (0..PLAYERS).map(|i| format!("psess-{i}")).collect();
    assert_eq!(ids, want);
    assert!(all.iter().all(|p| p.game_session_id == "gs-7"));
    assert_eq!(all[0].status, PlayerSessionStatus::Reserved);

    let sent = fake.sessions.player_describes.lock().unwrap().clone();
    let tokens: Vec<Option<&str>> = sent.iter().map(|r| r.next_token.as_deref()).collect();
    assert_eq!(tokens, vec![None, Some("100")]);
    for r in &sent {
        assert_eq!(r.game_session_id.as_deref(), Some("gs-7"));
        assert_eq!(
            (r.player_id.as_deref(), r.player_session_id.as_deref()),
            (None, None)
        );
        assert_eq!(
            r.player_session_status_filter,
            Some(pb::PlayerSessionStatus::Reserved as i32)
        );
        assert_eq!(r.limit, Some(100));
    }

    let page = c
        .describe_player_sessions_page(
            &DescribePlayerSessionsInput::new(PlayerSessionSelector::Player("player-3".into())),
            Some(25),
            Some("120".into()),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 10);
    assert_eq!(page.next_token, None);
    assert!(page.items.iter().all(|p| p.player_id == "player-3"));
    let last = fake
        .sessions
        .player_describes
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(last.player_id.as_deref(), Some("player-3"));
    assert_eq!(
        (last.limit, last.player_session_status_filter),
        (Some(25), None)
    );
}

#[tokio::test]
async fn session_and_alias_reads_carry_the_consistency() {
    let (fake, lin) = setup().await;
    let one_session =
        DescribeGameSessionsInput::new(GameSessionSelector::GameSession("gs-1".into()));
    let last_search_page = SearchGameSessionsInput {
        next_token: Some("40".into()),
        ..SearchGameSessionsInput::new(FleetOrAlias::fleet("fleet-1"))
    };
    let one_player =
        DescribePlayerSessionsInput::new(PlayerSessionSelector::PlayerSession("psess-1".into()));
    for c in [lin.with_consistency(Consistency::Stale), lin.clone()] {
        c.describe_game_session("gs-1").await.unwrap();
        c.describe_game_session_details(&one_session).await.unwrap();
        c.search_game_sessions(&last_search_page).await.unwrap();
        c.describe_player_sessions(&one_player).await.unwrap();
        c.describe_alias("alias-1").await.unwrap();
        c.list_aliases(None, Some("live")).await.unwrap();
        c.resolve_alias("alias-1").await.unwrap();
        c.wait_for_game_session_active("gs-1", Duration::from_secs(5))
            .await
            .unwrap();
    }
    let ops = [
        "DescribeGameSessions",
        "DescribeGameSessionDetails",
        "SearchGameSessions",
        "DescribePlayerSessions",
        "DescribeAlias",
        "ListAliases",
        "ResolveAlias",
        // The wait's one poll.
        "DescribeGameSessions",
    ];
    let stale = pb::ReadConsistency::Stale as i32;
    let linearizable = pb::ReadConsistency::Linearizable as i32;
    let want: Vec<(&str, i32)> = ops
        .iter()
        .map(|op| (*op, stale))
        .chain(ops.iter().map(|op| (*op, linearizable)))
        .collect();
    assert_eq!(*fake.sessions.reads.lock().unwrap(), want);
}

#[tokio::test]
async fn wait_returns_once_the_session_is_active() {
    let (fake, c) = setup().await;
    script(&fake, &[ACTIVATING, ACTIVATING, ACTIVATING, ACTIVE]);
    let started = Instant::now();
    let s = c
        .wait_for_game_session_active("gs-1", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(s.status, GameSessionStatus::Active);
    assert_eq!(s.game_session_id, "gs-1");
    assert_eq!(single_describes(&fake), 4);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn wait_fails_fast_once_the_session_ends() {
    let (fake, c) = setup().await;
    script(
        &fake,
        &[
            ACTIVATING,
            Step::Is(
                pb::GameSessionStatus::Terminated,
                pb::GameSessionStatusReason::ActivationTimeout,
            ),
        ],
    );
    let started = Instant::now();
    let err = c
        .wait_for_game_session_active("gs-1", Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidGameSessionStatus, "{err}");
    assert_eq!(err.code, tonic::Code::FailedPrecondition);
    assert_eq!(
        err.message,
        "game session gs-1 is TERMINATED (ACTIVATION_TIMEOUT) and will not become ACTIVE"
    );
    assert_eq!(single_describes(&fake), 2);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // ERROR ends the wait as well, at the first poll.
    let (fake, c) = setup().await;
    script(
        &fake,
        &[Step::Is(
            pb::GameSessionStatus::Error,
            pb::GameSessionStatusReason::ProcessCrashed,
        )],
    );
    let err = c
        .wait_for_game_session_active("gs-2", Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidGameSessionStatus, "{err}");
    assert!(err.message.contains("ERROR (PROCESS_CRASHED)"), "{err}");
    assert_eq!(single_describes(&fake), 1);
}

#[tokio::test]
async fn wait_times_out_with_the_last_status() {
    let (fake, c) = setup().await;
    script(&fake, &[ACTIVATING]);
    let started = Instant::now();
    let err = c
        .wait_for_game_session_active("gs-1", Duration::from_millis(200))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert_eq!(err.code, tonic::Code::DeadlineExceeded);
    assert!(err.message.contains("last status: ACTIVATING"), "{err}");
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert!(single_describes(&fake) >= 3, "polled repeatedly");
}

#[tokio::test]
async fn wait_polls_again_only_when_a_stale_replica_lacks_the_session() {
    let (fake, c) = setup().await;
    script(&fake, &[Step::Missing, Step::Missing, ACTIVE]);
    let s = c
        .with_consistency(Consistency::Stale)
        .wait_for_game_session_active("gs-1", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(s.status, GameSessionStatus::Active);
    assert_eq!(single_describes(&fake), 3);

    // A linearizable read that does not find the session is the answer.
    let (fake, c) = setup().await;
    script(&fake, &[Step::Missing, ACTIVE]);
    let err = c
        .wait_for_game_session_active("gs-1", Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    assert_eq!(single_describes(&fake), 1);
}

#[tokio::test]
async fn player_reservations_send_ids_and_data() {
    let (fake, c) = setup().await;
    let p = c
        .create_player_session("gs-1", "p1", Some("team=red".into()))
        .await
        .unwrap();
    assert_eq!(
        (p.game_session_id.as_str(), p.player_id.as_str()),
        ("gs-1", "p1")
    );
    assert_eq!(p.player_data.as_deref(), Some("team=red"));
    assert_eq!(p.status, PlayerSessionStatus::Reserved);
    let sent = fake.sessions.player_creates.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let token = sent[0].idempotency_token.clone().expect("a token is sent");
    assert!(uuid::Uuid::parse_str(&token).is_ok(), "{token}");
    assert_eq!(
        sent[0],
        pb::CreatePlayerSessionRequest {
            game_session_id: "gs-1".into(),
            player_id: "p1".into(),
            player_data: Some("team=red".into()),
            idempotency_token: Some(token),
        }
    );

    let ids: Vec<String> = ["p1", "p2", "p3"].map(String::from).to_vec();
    let data = BTreeMap::from([
        ("p1".to_string(), "a".to_string()),
        ("p3".to_string(), "c".to_string()),
    ]);
    let sessions = c.create_player_sessions("gs-1", &ids, &data).await.unwrap();
    let got: Vec<(&str, Option<&str>)> = sessions
        .iter()
        .map(|s| (s.player_id.as_str(), s.player_data.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![("p1", Some("a")), ("p2", None), ("p3", Some("c"))]
    );
    let sent = fake.sessions.batch_creates.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].game_session_id, "gs-1");
    assert_eq!(sent[0].player_ids, ids);
    assert!(sent[0].idempotency_token.is_some());
    assert_eq!(
        sent[0].player_data_map,
        data.into_iter()
            .collect::<std::collections::HashMap<_, _>>()
    );
}

#[tokio::test]
async fn update_and_terminate_send_what_is_set() {
    let (fake, c) = setup().await;
    let s = c
        .update_game_session(UpdateGameSessionInput {
            game_session_id: "gs-1".into(),
            name: Some("renamed".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(s.name.as_deref(), Some("renamed"));
    let s = c
        .update_game_session(UpdateGameSessionInput {
            game_session_id: "gs-1".into(),
            maximum_player_session_count: Some(4),
            player_session_creation_policy: Some(PlayerSessionCreationPolicy::DenyAll),
            protection_policy: Some(ProtectionPolicy::FullProtection),
            game_properties: vec![GameProperty::new("mode", "casual")],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(s.maximum_player_session_count, 4);
    assert_eq!(
        s.player_session_creation_policy,
        PlayerSessionCreationPolicy::DenyAll
    );
    let sent = fake.sessions.updates.lock().unwrap().clone();
    assert_eq!(
        sent[0],
        pb::UpdateGameSessionRequest {
            game_session_id: "gs-1".into(),
            name: Some("renamed".into()),
            ..Default::default()
        }
    );
    assert_eq!(sent[1].name, None);
    assert_eq!(sent[1].maximum_player_session_count, Some(4));
    assert_eq!(
        sent[1].protection_policy,
        Some(pb::ProtectionPolicy::FullProtection as i32)
    );
    assert_eq!(sent[1].game_properties.len(), 1);

    let s = c
        .terminate_game_session("gs-1", TerminationMode::TriggerOnProcessTerminate)
        .await
        .unwrap();
    assert_eq!(s.status, GameSessionStatus::Terminating);
    let s = c
        .terminate_game_session("gs-2", TerminationMode::ForceTerminate)
        .await
        .unwrap();
    assert_eq!(s.status, GameSessionStatus::Terminated);
    let modes: Vec<(String, i32)> = fake
        .sessions
        .terminations
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.game_session_id.clone(), r.termination_mode))
        .collect();
    assert_eq!(
        modes,
        vec![
            (
                "gs-1".to_string(),
                pb::TerminationMode::TriggerOnProcessTerminate as i32
            ),
            (
                "gs-2".to_string(),
                pb::TerminationMode::ForceTerminate as i32
            ),
        ]
    );
}

#[tokio::test]
async fn aliases_are_created_listed_updated_resolved_and_deleted() {
    let (fake, c) = setup().await;
    let a = c
        .create_alias(CreateAliasInput {
            description: Some("production".into()),
            ..CreateAliasInput::new("live", RoutingStrategy::simple("fleet-1"))
        })
        .await
        .unwrap();
    assert_eq!(a.alias_id, "alias-live");
    assert_eq!(a.routing_strategy, RoutingStrategy::simple("fleet-1"));
    assert_eq!(a.description.as_deref(), Some("production"));
    let sent = fake.sessions.alias_creates.lock().unwrap().clone();
    assert_eq!(sent[0].name, "live");
    assert_eq!(
        sent[0].routing_strategy.as_ref().map(|r| r.r#type),
        Some(pb::RoutingStrategyType::Simple as i32)
    );

    let d = c.describe_alias("alias-live").await.unwrap();
    assert_eq!(d.alias_id, "alias-live");

    let all = c.list_aliases(None, None).await.unwrap();
    assert_eq!(all.len(), ALIASES);
    assert_eq!(all[119].alias_id, "alias-119");
    let named = c
        .list_aliases(Some(RoutingStrategyType::Terminal), Some("live"))
        .await
        .unwrap();
    assert_eq!(named.len(), 1);
    let lists = fake.sessions.alias_lists.lock().unwrap().clone();
    let tokens: Vec<Option<&str>> = lists.iter().map(|r| r.next_token.as_deref()).collect();
    assert_eq!(tokens, vec![None, Some("100"), None]);
    assert_eq!(
        (lists[0].routing_strategy_type, lists[0].name.as_deref()),
        (None, None)
    );
    assert_eq!(
        lists[2].routing_strategy_type,
        Some(pb::RoutingStrategyType::Terminal as i32)
    );
    assert_eq!(lists[2].name.as_deref(), Some("live"));

    let u = c
        .update_alias(UpdateAliasInput {
            alias_id: "alias-live".into(),
            routing_strategy: Some(RoutingStrategy::terminal("closed")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(u.routing_strategy, RoutingStrategy::terminal("closed"));
    let sent = fake.sessions.alias_updates.lock().unwrap().clone();
    assert_eq!(
        (sent[0].name.as_deref(), sent[0].description.as_deref()),
        (None, None)
    );

    let r = c.resolve_alias("alias-live").await.unwrap();
    assert_eq!(r.fleet_id, "fleet-1");
    c.delete_alias("alias-live").await.unwrap();
    assert_eq!(
        *fake.sessions.alias_deletes.lock().unwrap(),
        vec!["alias-live"]
    );
}
