//! Game sessions and player sessions on real nodes with real game servers (the sdk crate's
//! example servers `chat`, a TCP chat room that validates players with AcceptPlayerSession, and
//! `minimal`):
//! - a session created through a follower becomes ACTIVE; a real TCP game client connects to
//!   the returned IP:port with its player session id and is accepted; an unknown id is refused
//!   by the game server; leaving completes the player session;
//! - 50 concurrent reservations through 3 different nodes for 8 free slots: exactly 8 succeed,
//!   the rest get GameSessionFull; DENY_ALL refuses new reservations; no free process →
//!   FleetCapacityExceeded at once; TRIGGER_ON_PROCESS_TERMINATE ends the game server and the
//!   session;
//! - CreateGameSession retried with the same idempotency token returns the same session, also
//!   across a leader change; other parameters with the token → IdempotentParameterMismatch;
//! - reservation timeout (RESERVED → TIMEDOUT frees the slot), activation timeout
//!   (TERMINATED, GAME_SESSION_ACTIVATION_TIMEOUT, process recycled), process crash (ERROR,
//!   PROCESS_CRASHED, players COMPLETED), node loss (ERROR, NODE_LOST, NODE_PROCESSES_LOST) and
//!   FORCE_TERMINATE, each with its status transitions.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gamefleet_chaos::{Cluster, ClusterBuilder};
use gamefleet_client::{
    Client, CreateGameSessionInput, DescribePlayerSessionsInput, ErrorKind, FleetOrAlias,
    GameSession, GameSessionStatus, GameSessionStatusReason, PlayerSessionCreationPolicy,
    PlayerSessionSelector, PlayerSessionStatus, TerminationMode, UpdateGameSessionInput,
};
use gamefleet_tests::game_servers::{active_fleet, alive, fleet_of};
use gamefleet_tests::{reserve_concurrently, start, within};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn session_input(fleet_id: &str, max_players: i32) -> CreateGameSessionInput {
    CreateGameSessionInput::new(FleetOrAlias::fleet(fleet_id), max_players)
}

/// Waits until game session `id` is in `status` (with `reason`, if given).
async fn session_becomes(
    cluster: &Cluster,
    client: &Client,
    id: &str,
    status: GameSessionStatus,
    reason: Option<GameSessionStatusReason>,
    limit: Duration,
) -> anyhow::Result<GameSession> {
    cluster
        .wait_until(
            limit,
            &format!("{id} {status:?} {reason:?}"),
            cluster.running(),
            || async {
                let s = client.describe_game_session(id).await?;
                if s.status == status && (reason.is_none() || s.status_reason == reason) {
                    Ok(Some(s))
                } else {
                    anyhow::bail!("status {:?} reason {:?}", s.status, s.status_reason)
                }
            },
        )
        .await
}

async fn player_statuses(
    client: &Client,
    game_session_id: &str,
) -> anyhow::Result<Vec<PlayerSessionStatus>> {
    let ps = client
        .describe_player_sessions(&DescribePlayerSessionsInput::new(
            PlayerSessionSelector::GameSession(game_session_id.to_owned()),
        ))
        .await?;
    Ok(ps.into_iter().map(|p| p.status).collect())
}

/// Connects to a chat game server and presents `player_session_id`; returns its first line.
async fn join(
    session: &GameSession,
    player_session_id: &str,
) -> anyhow::Result<(String, TcpStream)> {
    let addr = format!("{}:{}", session.ip_address, session.port);
    let mut s = TcpStream::connect(&addr).await?;
    s.write_all(format!("{player_session_id}\n").as_bytes())
        .await?;
    let mut line = String::new();
    let mut reader = BufReader::new(&mut s);
    tokio::time::timeout(Duration::from_secs(10), reader.read_line(&mut line)).await??;
    Ok((line.trim().to_owned(), s))
}

fn pid_of(client_ps: &[gamefleet_client::ServerProcessStatus], process_id: &str) -> Option<u32> {
    client_ps
        .iter()
        .find(|p| p.process_id == process_id)
        .map(|p| p.pid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_host_real_players_without_double_booking() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(180), async {
        let client = cluster.client()?;
        let fleet_id = active_fleet(
            &cluster,
            &client,
            fleet_of("chat-rooms", "chat", "", 1, 3, None),
            3,
        )
        .await?;
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        let follower = (0..3).find(|i| *i != leader).unwrap_or(0);
        let via_follower = cluster.client_for(follower)?;

        // Created through a follower; ACTIVE once the game server activates it.
        let mut input = session_input(&fleet_id, 8);
        input.name = Some("room-1".into());
        let created = via_follower.create_game_session(input).await?;
        assert_eq!(created.status, GameSessionStatus::Activating);
        assert!(
            created.port > 0 && !created.ip_address.is_empty(),
            "{created:?}"
        );
        let s = via_follower
            .wait_for_game_session_active(&created.game_session_id, Duration::from_secs(10))
            .await?;
        assert_eq!(s.port, created.port);

        // A real game client with its player session id is accepted; an unknown id is not.
        let p = via_follower
            .create_player_session(&s.game_session_id, "player-1", Some("data".into()))
            .await?;
        assert_eq!(p.status, PlayerSessionStatus::Reserved);
        assert_eq!(
            (p.ip_address.as_str(), p.port),
            (s.ip_address.as_str(), s.port)
        );
        let (hello, conn) = join(&s, &p.player_session_id).await?;
        assert_eq!(hello, format!("WELCOME {}", p.player_session_id));
        let (refused, _) = join(&s, "psess-00000000-0000-0000-0000-000000000000").await?;
        assert!(
            refused.starts_with("ERROR"),
            "an unknown id must be refused: {refused}"
        );
        assert_eq!(
            player_statuses(&client, &s.game_session_id).await?,
            vec![PlayerSessionStatus::Active]
        );
        let gs = client.describe_game_session(&s.game_session_id).await?;
        assert_eq!(gs.current_player_session_count, 1);

        // 50 concurrent reservations through 3 nodes for a fresh session with 8 slots.
        let room = via_follower
            .create_game_session(session_input(&fleet_id, 8))
            .await?;
        let room = client
            .wait_for_game_session_active(&room.game_session_id, Duration::from_secs(10))
            .await?;
        let clients: Vec<Client> = (0..3)
            .map(|i| cluster.client_for(i))
            .collect::<Result<_, _>>()?;
        let (ok, full, other) = reserve_concurrently(&clients, &room.game_session_id, 50).await?;
        assert_eq!((ok, full), (8, 42), "other errors: {other:?}");
        let statuses = player_statuses(&client, &room.game_session_id).await?;
        assert_eq!(statuses.len(), 8, "{statuses:?}");
        assert_eq!(
            client
                .describe_game_session(&room.game_session_id)
                .await?
                .current_player_session_count,
            8
        );

        // DENY_ALL refuses new reservations (the session has room again after an update).
        let updated = client
            .update_game_session(UpdateGameSessionInput {
                game_session_id: room.game_session_id.clone(),
                maximum_player_session_count: Some(10),
                player_session_creation_policy: Some(PlayerSessionCreationPolicy::DenyAll),
                ..Default::default()
            })
            .await?;
        assert_eq!(
            updated.player_session_creation_policy,
            PlayerSessionCreationPolicy::DenyAll
        );
        let denied = client
            .create_player_session(&room.game_session_id, "late", None)
            .await
            .unwrap_err();
        assert_eq!(denied.kind, ErrorKind::InvalidGameSessionStatus, "{denied}");
        assert!(denied.message.contains("DENY_ALL"), "{denied}");

        // The third process takes a third session; a fourth finds no capacity, at once.
        let third = client
            .create_game_session(session_input(&fleet_id, 2))
            .await?;
        let nodes: std::collections::BTreeSet<u64> = [created.node_id, room.node_id, third.node_id]
            .into_iter()
            .collect();
        assert_eq!(nodes.len(), 3, "SPREAD puts one session on each node");
        let t0 = Instant::now();
        let none = client
            .create_game_session(session_input(&fleet_id, 2))
            .await
            .unwrap_err();
        assert_eq!(none.kind, ErrorKind::FleetCapacityExceeded, "{none}");
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "no hang: {:?}",
            t0.elapsed()
        );

        // TRIGGER_ON_PROCESS_TERMINATE: TERMINATING, the chat server ends, TERMINATED.
        let t = client
            .terminate_game_session(
                &s.game_session_id,
                TerminationMode::TriggerOnProcessTerminate,
            )
            .await?;
        assert_eq!(t.status, GameSessionStatus::Terminating);
        let ended = session_becomes(
            &cluster,
            &client,
            &s.game_session_id,
            GameSessionStatus::Terminated,
            Some(GameSessionStatusReason::TriggeredOnProcessTerminate),
            Duration::from_secs(20),
        )
        .await?;
        assert!(ended.termination_time.is_some());
        assert_eq!(
            player_statuses(&client, &s.game_session_id).await?,
            vec![PlayerSessionStatus::Completed]
        );
        drop(conn);
        // Its process is replaced and takes new sessions again.
        cluster
            .wait_until(
                Duration::from_secs(30),
                "capacity back",
                cluster.running(),
                || async {
                    match client
                        .create_game_session(session_input(&fleet_id, 2))
                        .await
                    {
                        Ok(g) => Ok(Some(g)),
                        Err(e) if e.kind == ErrorKind::FleetCapacityExceeded => {
                            anyhow::bail!("{e}")
                        }
                        Err(e) => Err(e.into()),
                    }
                },
            )
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_create_returns_the_same_session_across_a_leader_change() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(150), async {
        let client = cluster.client()?;
        let fleet_id = active_fleet(
            &cluster,
            &client,
            fleet_of("idem", "minimal", "", 2, 3, None),
            6,
        )
        .await?;
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        let mut input = session_input(&fleet_id, 4);
        input.idempotency_token = Some("match-42".into());
        input.game_properties = vec![gamefleet_client::GameProperty::new("mode", "duel")];
        let first = cluster
            .client_for(leader)?
            .create_game_session(input.clone())
            .await?;
        assert!(
            first.game_session_id.ends_with("/match-42"),
            "{}",
            first.game_session_id
        );
        let again = cluster
            .client_for((leader + 1) % 3)?
            .create_game_session(input.clone())
            .await?;
        assert_eq!(again.game_session_id, first.game_session_id);
        assert_eq!(again.process_id, first.process_id);

        // The leader dies; the retry through another node returns the same session.
        cluster.kill(leader)?;
        let survivor = (leader + 1) % 3;
        let c = cluster.client_for(survivor)?;
        let retried = cluster
            .wait_until(
                Duration::from_secs(20),
                "a retry after failover",
                [survivor],
                || async { Ok(Some(c.create_game_session(input.clone()).await?)) },
            )
            .await?;
        assert_eq!(retried.game_session_id, first.game_session_id);
        assert_eq!(retried.process_id, first.process_id);
        assert_eq!(retried.creation_time, first.creation_time);
        let sessions = c
            .describe_game_sessions(&gamefleet_client::DescribeGameSessionsInput::new(
                FleetOrAlias::fleet(&fleet_id),
            ))
            .await?;
        assert_eq!(sessions.len(), 1, "one token, one session: {sessions:?}");

        let mut other = input.clone();
        other.maximum_player_session_count = 5;
        let err = c.create_game_session(other).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::IdempotentParameterMismatch, "{err}");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservation_and_activation_timeouts() {
    let cluster = start(ClusterBuilder::new(1).args(["--player-session-timeout-s", "2"])).await;
    within(Duration::from_secs(120), async {
        let client = cluster.client()?;
        let fleet_id = active_fleet(
            &cluster,
            &client,
            fleet_of("timeouts", "minimal", "", 1, 1, None),
            1,
        )
        .await?;
        let s = client
            .create_game_session(session_input(&fleet_id, 2))
            .await?;
        let s = client
            .wait_for_game_session_active(&s.game_session_id, Duration::from_secs(10))
            .await?;
        let p = client
            .create_player_session(&s.game_session_id, "ghost", None)
            .await?;
        assert_eq!(
            client
                .describe_game_session(&s.game_session_id)
                .await?
                .current_player_session_count,
            1
        );
        // Never accepted: TIMEDOUT after the (shortened) 2 s, and the slot is free again.
        cluster
            .wait_until(
                Duration::from_secs(10),
                "the reservation to time out",
                [0],
                || async {
                    let ps = client
                        .describe_player_sessions(&DescribePlayerSessionsInput::new(
                            PlayerSessionSelector::PlayerSession(p.player_session_id.clone()),
                        ))
                        .await?;
                    match ps.first() {
                        Some(x) if x.status == PlayerSessionStatus::Timedout => Ok(Some(())),
                        other => anyhow::bail!("{other:?}"),
                    }
                },
            )
            .await?;
        let after = client.describe_game_session(&s.game_session_id).await?;
        assert_eq!(after.current_player_session_count, 0);
        client
            .create_player_session(&s.game_session_id, "a", None)
            .await?;
        client
            .create_player_session(&s.game_session_id, "b", None)
            .await?;

        // A game server that never activates: TERMINATED with ACTIVATION_TIMEOUT after 2 s,
        // an event, and the process is recycled.
        let lazy = active_fleet(
            &cluster,
            &client,
            fleet_of("lazy", "minimal", " --no-activate", 1, 1, Some(2)),
            1,
        )
        .await?;
        let g = client.create_game_session(session_input(&lazy, 2)).await?;
        let ended = session_becomes(
            &cluster,
            &client,
            &g.game_session_id,
            GameSessionStatus::Terminated,
            Some(GameSessionStatusReason::ActivationTimeout),
            Duration::from_secs(15),
        )
        .await?;
        let waited = ended.termination_time.unwrap_or(0) - ended.creation_time;
        assert!((2000..8000).contains(&waited), "ended after {waited} ms");
        let events = client.describe_fleet_events(&lazy, None, None).await?;
        assert!(
            events
                .iter()
                .any(|e| e.event_code == "GAME_SESSION_ACTIVATION_TIMEOUT"),
            "{events:?}"
        );
        cluster
            .wait_until(
                Duration::from_secs(20),
                "the process recycled",
                [0],
                || async {
                    let ps = client.describe_fleet_processes(&lazy).await?;
                    let fresh = ps
                        .iter()
                        .any(|p| p.process_id != g.process_id && p.status == "ACTIVE");
                    let old_gone = ps.iter().all(|p| p.process_id != g.process_id);
                    if fresh && old_gone {
                        Ok(Some(()))
                    } else {
                        anyhow::bail!("{ps:?}")
                    }
                },
            )
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_node_a_crash_and_a_force_terminate_end_their_sessions() {
    let cluster = start(ClusterBuilder::new(3).args(["--node-lost-after-ms", "2000"])).await;
    within(Duration::from_secs(180), async {
        let client = cluster.client()?;
        let fleet_id = active_fleet(
            &cluster,
            &client,
            fleet_of("doomed", "minimal", "", 2, 3, None),
            6,
        )
        .await?;
        // SPREAD: one session on each node.
        let mut sessions = Vec::new();
        for _ in 0..3 {
            let s = client
                .create_game_session(session_input(&fleet_id, 4))
                .await?;
            let s = client
                .wait_for_game_session_active(&s.game_session_id, Duration::from_secs(10))
                .await?;
            client
                .create_player_session(&s.game_session_id, "p1", None)
                .await?;
            sessions.push(s);
        }
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        let status = cluster.status(leader).await?;
        let index = |s: &GameSession| cluster.index_of_id(&status, s.node_id);
        let mut by_node: Vec<(usize, GameSession)> = sessions
            .iter()
            .map(|s| (index(s).unwrap_or(usize::MAX), s.clone()))
            .collect();
        by_node.sort_by_key(|(i, _)| *i);
        let nodes: Vec<usize> = by_node.iter().map(|(i, _)| *i).collect();
        assert_eq!(nodes, vec![0, 1, 2], "SPREAD puts one session on each node");

        // Node loss: SIGKILL of a follower hosting a live session → ERROR, NODE_LOST.
        let victim = (leader + 1) % 3;
        let lost = by_node[victim].1.clone();
        let client = cluster.client_for(leader)?;
        let t0 = Instant::now();
        cluster.kill(victim)?;
        session_becomes(
            &cluster,
            &client,
            &lost.game_session_id,
            GameSessionStatus::Error,
            Some(GameSessionStatusReason::NodeLost),
            Duration::from_secs(20),
        )
        .await?;
        let detected = t0.elapsed();
        assert!(
            detected < Duration::from_secs(10),
            "node loss seen after {detected:?}"
        );
        assert_eq!(
            player_statuses(&client, &lost.game_session_id).await?,
            vec![PlayerSessionStatus::Completed]
        );
        let events = client.describe_fleet_events(&fleet_id, None, None).await?;
        assert!(
            events.iter().any(|e| e.event_code == "NODE_PROCESSES_LOST"),
            "{events:?}"
        );

        // kill -9 of a game server: ERROR, PROCESS_CRASHED; its players complete.
        let crashed = by_node[leader].1.clone();
        let ps = client.describe_fleet_processes(&fleet_id).await?;
        let pid = pid_of(&ps, &crashed.process_id).expect("the hosting process is listed");
        kill(Pid::from_raw(i32::try_from(pid)?), Signal::SIGKILL)?;
        session_becomes(
            &cluster,
            &client,
            &crashed.game_session_id,
            GameSessionStatus::Error,
            Some(GameSessionStatusReason::ProcessCrashed),
            Duration::from_secs(15),
        )
        .await?;
        assert_eq!(
            player_statuses(&client, &crashed.game_session_id).await?,
            vec![PlayerSessionStatus::Completed]
        );
        let events = client.describe_fleet_events(&fleet_id, None, None).await?;
        assert!(
            events
                .iter()
                .any(|e| e.event_code == "SERVER_PROCESS_CRASHED"),
            "{events:?}"
        );

        // FORCE_TERMINATE: TERMINATED at once, players complete, the process is killed.
        let forced = by_node[(leader + 2) % 3].1.clone();
        let fpid = pid_of(&ps, &forced.process_id).expect("listed");
        let t = client
            .terminate_game_session(&forced.game_session_id, TerminationMode::ForceTerminate)
            .await?;
        assert_eq!(t.status, GameSessionStatus::Terminated);
        assert_eq!(
            t.status_reason,
            Some(GameSessionStatusReason::ForceTerminated)
        );
        assert_eq!(
            player_statuses(&client, &forced.game_session_id).await?,
            vec![PlayerSessionStatus::Completed]
        );
        let up: Vec<usize> = cluster.running();
        cluster
            .wait_until(
                Duration::from_secs(10),
                "the forced process killed",
                up,
                || async {
                    if alive(fpid) {
                        anyhow::bail!("{fpid} alive")
                    } else {
                        Ok(Some(()))
                    }
                },
            )
            .await?;
        let all: BTreeMap<String, GameSessionStatus> = client
            .describe_game_sessions(&gamefleet_client::DescribeGameSessionsInput::new(
                FleetOrAlias::fleet(&fleet_id),
            ))
            .await?
            .into_iter()
            .map(|g| (g.game_session_id, g.status))
            .collect();
        assert_eq!(all.len(), 3, "{all:?}");
        Ok(())
    })
    .await;
}
