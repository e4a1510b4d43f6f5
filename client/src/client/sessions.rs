//! [`Client`] methods for game sessions and player sessions: create,
//! describe (all pages or one), search, update, terminate, wait until
//! ACTIVE, and reserve player slots.
//!
//! Same rules as the fleet methods: one retried `Pool::call` per request,
//! reads carry the client's consistency, and a create sends one idempotency
//! token on every attempt. Nothing the server checks (counts, lengths, the
//! filter grammar, 1-25 player ids) is checked here.

use std::collections::BTreeMap;
use std::time::Duration;

use gamefleet_proto::v1 as pb;
use pb::game_lift_client::GameLiftClient;

use super::{Client, Consistency, PAGE_LIMIT, all_pages, missing, next_page};
use crate::error::{ClientError, ErrorKind};
use crate::types::{
    CreateGameSessionInput, DescribeGameSessionsInput, DescribePlayerSessionsInput, GameSession,
    GameSessionDetail, GameSessionSelector, GameSessionStatus, Page, PlayerSession,
    SearchGameSessionsInput, TerminationMode, UpdateGameSessionInput,
};

/// How often [`Client::wait_for_game_session_active`] asks for the status.
const WAIT_POLL: Duration = Duration::from_millis(25);

impl Client {
    /// Places a new game session on a ready process of an ACTIVE fleet (or
    /// of the fleet an alias routes to); it starts ACTIVATING. Without an
    /// idempotency token in `input`, a UUID v4 is generated; the same token
    /// is sent on every retry, so a retried create returns the original
    /// session. No free process: `FleetCapacityExceeded`, at once.
    pub async fn create_game_session(
        &self,
        input: CreateGameSessionInput,
    ) -> Result<GameSession, ClientError> {
        let token = input
            .idempotency_token
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let req = input.into_request(token);
        let resp = self
            .inner
            .pool
            .call_batchable(
                self.inner.policy,
                "CreateGameSession",
                req,
                |ch, r| async move { GameLiftClient::new(ch).create_game_session(r).await },
            )
            .await?;
        resp.game_session
            .map(GameSession::from)
            .ok_or_else(|| missing("CreateGameSession", "game_session"))
    }

    /// Describes one game session by id (ARN); `NotFound` when there is none.
    pub async fn describe_game_session(
        &self,
        game_session_id: &str,
    ) -> Result<GameSession, ClientError> {
        let input = DescribeGameSessionsInput::new(GameSessionSelector::GameSession(
            game_session_id.to_string(),
        ));
        let page = self.describe_game_sessions_page(&input, None, None).await?;
        page.items.into_iter().next().ok_or_else(|| {
            ClientError::new(
                ErrorKind::NotFound,
                tonic::Code::NotFound,
                format!("game session {game_session_id} not found"),
            )
        })
    }

    /// Every game session `input` selects (following `next_token` pages).
    pub async fn describe_game_sessions(
        &self,
        input: &DescribeGameSessionsInput,
    ) -> Result<Vec<GameSession>, ClientError> {
        all_pages(None, move |token| {
            self.describe_game_sessions_page(input, Some(PAGE_LIMIT), token)
        })
        .await
    }

    /// One page of the game sessions `input` selects: at most `limit`
    /// (1-100; `None`: the server's default), from `next_token` on.
    pub async fn describe_game_sessions_page(
        &self,
        input: &DescribeGameSessionsInput,
        limit: Option<i32>,
        next_token: Option<String>,
    ) -> Result<Page<GameSession>, ClientError> {
        let req = input.to_request(limit, next_token, self.read_consistency());
        let resp = self
            .inner
            .pool
            .call_batchable(
                self.inner.policy,
                "DescribeGameSessions",
                req,
                |ch, r| async move { GameLiftClient::new(ch).describe_game_sessions(r).await },
            )
            .await?;
        Ok(Page {
            items: resp.game_sessions.into_iter().map(Into::into).collect(),
            next_token: next_page(resp.next_token),
        })
    }

    /// Like [`Client::describe_game_sessions`], with each session's
    /// protection policy (following `next_token` pages).
    pub async fn describe_game_session_details(
        &self,
        input: &DescribeGameSessionsInput,
    ) -> Result<Vec<GameSessionDetail>, ClientError> {
        all_pages(None, move |token| async move {
            let req = input.to_details_request(Some(PAGE_LIMIT), token, self.read_consistency());
            let resp = self
                .inner
                .pool
                .call(
                    self.inner.policy,
                    "DescribeGameSessionDetails",
                    req,
                    |ch, r| async move {
                        GameLiftClient::new(ch)
                            .describe_game_session_details(r)
                            .await
                    },
                )
                .await?;
            Ok(Page {
                items: resp
                    .game_session_details
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                next_token: next_page(resp.next_token),
            })
        })
        .await
    }

    /// One page of the ACTIVE game sessions of `input`'s fleet that match
    /// its filter, in its sort order, from `input.next_token` on (the server
    /// gives at most 20 per page).
    pub async fn search_game_sessions(
        &self,
        input: &SearchGameSessionsInput,
    ) -> Result<Page<GameSession>, ClientError> {
        let req = input.to_request(self.read_consistency());
        let resp = self
            .inner
            .pool
            .call(
                self.inner.policy,
                "SearchGameSessions",
                req,
                |ch, r| async move { GameLiftClient::new(ch).search_game_sessions(r).await },
            )
            .await?;
        Ok(Page {
            items: resp.game_sessions.into_iter().map(Into::into).collect(),
            next_token: next_page(resp.next_token),
        })
    }

    /// Every match of [`Client::search_game_sessions`], from
    /// `input.next_token` on, following `next_token` pages (of `input.limit`
    /// each).
    pub async fn search_all_game_sessions(
        &self,
        input: &SearchGameSessionsInput,
    ) -> Result<Vec<GameSession>, ClientError> {
        all_pages(input.next_token.clone(), move |token| async move {
            let page = SearchGameSessionsInput {
                next_token: token,
                ..input.clone()
            };
            self.search_game_sessions(&page).await
        })
        .await
    }

    /// Changes a live game session; `None` fields are left unchanged.
    /// Returns the session as updated.
    pub async fn update_game_session(
        &self,
        input: UpdateGameSessionInput,
    ) -> Result<GameSession, ClientError> {
        let req = pb::UpdateGameSessionRequest::from(input);
        let resp = self
            .inner
            .pool
            .call_batchable(
                self.inner.policy,
                "UpdateGameSession",
                req,
                |ch, r| async move { GameLiftClient::new(ch).update_game_session(r).await },
            )
            .await?;
        resp.game_session
            .map(GameSession::from)
            .ok_or_else(|| missing("UpdateGameSession", "game_session"))
    }

    /// Ends a game session: `TriggerOnProcessTerminate` asks its game server
    /// to end (TERMINATING, then TERMINATED); `ForceTerminate` ends it now
    /// and kills its process. Returns the session as it is now.
    pub async fn terminate_game_session(
        &self,
        game_session_id: &str,
        mode: TerminationMode,
    ) -> Result<GameSession, ClientError> {
        let req = pb::TerminateGameSessionRequest {
            game_session_id: game_session_id.to_string(),
            termination_mode: pb::TerminationMode::from(mode) as i32,
        };
        let resp = self
            .inner
            .pool
            .call_batchable(
                self.inner.policy,
                "TerminateGameSession",
                req,
                |ch, r| async move { GameLiftClient::new(ch).terminate_game_session(r).await },
            )
            .await?;
        resp.game_session
            .map(GameSession::from)
            .ok_or_else(|| missing("TerminateGameSession", "game_session"))
    }

    /// Polls the game session (every 25 ms, with this client's consistency)
    /// until it is ACTIVE, and returns it.
    ///
    /// Fails with `InvalidGameSessionStatus` as soon as the session is
    /// TERMINATING, TERMINATED or ERROR (it will never become ACTIVE; the
    /// message gives the status and reason), and with `Timeout` when
    /// `timeout` runs out first (the message gives the last status seen).
    /// With stale reads a session the answering replica does not know yet is
    /// polled again; with linearizable reads `NotFound` is returned at once.
    pub async fn wait_for_game_session_active(
        &self,
        game_session_id: &str,
        timeout: Duration,
    ) -> Result<GameSession, ClientError> {
        let mut last: Option<GameSessionStatus> = None;
        let poll = async {
            loop {
                match self.describe_game_session(game_session_id).await {
                    Ok(s) if s.status == GameSessionStatus::Active => return Ok(s),
                    Ok(s) if s.status.is_final() => {
                        let reason = s
                            .status_reason
                            .map_or(String::new(), |r| format!(" ({})", r.as_str()));
                        return Err(ClientError::new(
                            ErrorKind::InvalidGameSessionStatus,
                            tonic::Code::FailedPrecondition,
                            format!(
                                "game session {game_session_id} is {}{reason} and will not become ACTIVE",
                                s.status.as_str()
                            ),
                        ));
                    }
                    Ok(s) => last = Some(s.status),
                    Err(e)
                        if e.kind == ErrorKind::NotFound
                            && self.consistency == Consistency::Stale => {}
                    Err(e) => return Err(e),
                }
                tokio::time::sleep(WAIT_POLL).await;
            }
        };
        match tokio::time::timeout(timeout, poll).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::new(
                ErrorKind::Timeout,
                tonic::Code::DeadlineExceeded,
                format!(
                    "game session {game_session_id} is not ACTIVE after {timeout:?} (last status: {})",
                    last.map_or("none seen", GameSessionStatus::as_str)
                ),
            )),
        }
    }

    /// Reserves a player slot in an ACTIVE game session (RESERVED until the
    /// game server accepts the player). No free slot: `GameSessionFull`;
    /// session not ACTIVE or refusing players: `InvalidGameSessionStatus`.
    ///
    /// A fresh idempotency token goes with the request and is kept across
    /// retries, so an attempt that timed out after the server applied it
    /// returns the original reservation instead of taking a second slot.
    pub async fn create_player_session(
        &self,
        game_session_id: &str,
        player_id: &str,
        player_data: Option<String>,
    ) -> Result<PlayerSession, ClientError> {
        let req = pb::CreatePlayerSessionRequest {
            game_session_id: game_session_id.to_string(),
            player_id: player_id.to_string(),
            player_data,
            idempotency_token: Some(uuid::Uuid::new_v4().to_string()),
        };
        let resp = self
            .inner
            .pool
            .call_batchable(
                self.inner.policy,
                "CreatePlayerSession",
                req,
                |ch, r| async move { GameLiftClient::new(ch).create_player_session(r).await },
            )
            .await?;
        resp.player_session
            .map(PlayerSession::from)
            .ok_or_else(|| missing("CreatePlayerSession", "player_session"))
    }

    /// Reserves a slot for each of `player_ids` (1-25) at once, all or none;
    /// `player_data` maps player ids to their data (entries for other ids
    /// are ignored by the server). Retried safely, as
    /// [`Client::create_player_session`] is.
    pub async fn create_player_sessions(
        &self,
        game_session_id: &str,
        player_ids: &[String],
        player_data: &BTreeMap<String, String>,
    ) -> Result<Vec<PlayerSession>, ClientError> {
        let req = pb::CreatePlayerSessionsRequest {
            game_session_id: game_session_id.to_string(),
            player_ids: player_ids.to_vec(),
            player_data_map: player_data
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            idempotency_token: Some(uuid::Uuid::new_v4().to_string()),
        };
        let resp = self
            .inner
            .pool
            .call_batchable(
                self.inner.policy,
                "CreatePlayerSessions",
                req,
                |ch, r| async move { GameLiftClient::new(ch).create_player_sessions(r).await },
            )
            .await?;
        Ok(resp.player_sessions.into_iter().map(Into::into).collect())
    }

    /// Every player session `input` selects (following `next_token` pages).
    pub async fn describe_player_sessions(
        &self,
        input: &DescribePlayerSessionsInput,
    ) -> Result<Vec<PlayerSession>, ClientError> {
        all_pages(None, move |token| {
            self.describe_player_sessions_page(input, Some(PAGE_LIMIT), token)
        })
        .await
    }

    /// One page of the player sessions `input` selects: at most `limit`
    /// (1-1024; `None`: the server's default), from `next_token` on.
    pub async fn describe_player_sessions_page(
        &self,
        input: &DescribePlayerSessionsInput,
        limit: Option<i32>,
        next_token: Option<String>,
    ) -> Result<Page<PlayerSession>, ClientError> {
        let req = input.to_request(limit, next_token, self.read_consistency());
        let resp = self
            .inner
            .pool
            .call_batchable(
                self.inner.policy,
                "DescribePlayerSessions",
                req,
                |ch, r| async move { GameLiftClient::new(ch).describe_player_sessions(r).await },
            )
            .await?;
        Ok(Page {
            items: resp.player_sessions.into_iter().map(Into::into).collect(),
            next_token: next_page(resp.next_token),
        })
    }
}
