//! The daemon: [`Node`] (what every service and loop shares) and [`run`],
//! which opens the data dir, starts Raft and the gRPC server, forms or joins
//! the cluster, and shuts everything down when `shutdown` resolves.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use gamefleet_proto::v1 as pb;
use openraft::{ServerState, SnapshotPolicy};
use tokio_util::sync::CancellationToken;

use crate::api::admin::AdminService;
use crate::api::batch::BatchService;
use crate::api::gamelift::GameLiftService;
use crate::api::peer::PeerService;
use crate::cluster::{self, identity::Identity};
use crate::config::NodeConfig;
use crate::raft::Raft;
use crate::raft::log_store::LogStore;
use crate::raft::network::{MAX_MESSAGE, Network, Peers};
use crate::raft::proposer::{Context, Proposer, ProposerConfig};
use crate::raft::sm_store::{SharedState, SmData, SmStore};

/// Everything a node's services and loops share.
pub struct Node {
    pub config: NodeConfig,
    pub ident: Arc<Identity>,
    pub raft: Raft,
    pub state: SharedState,
    pub proposer: Proposer,
    pub peers: Peers,
    /// Changes on every apply (see `SmStore::subscribe`).
    pub applied: tokio::sync::watch::Receiver<u64>,
    /// When this process started; the base of `last_append_ms`.
    pub started: std::time::Instant,
    /// Ms after `started` when an AppendEntries (a leader's heartbeat or entries) last arrived.
    pub last_append_ms: std::sync::atomic::AtomicU64,
}

impl Node {
    /// Read access to the applied state (never hold it across an `.await`).
    pub fn read_state(&self) -> std::sync::RwLockReadGuard<'_, SmData> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The region part of ARNs this cluster issues.
    pub fn region(&self) -> &str {
        self.config
            .labels
            .get("region")
            .map(String::as_str)
            .unwrap_or("local")
    }

    /// Records that a leader's AppendEntries just arrived.
    pub fn heard_from_leader(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_append_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Called after this node refused a vote. If it refused because the
    /// candidate's log is behind its own, and it has itself heard nothing from a
    /// leader for longer than the leader lease, the leader is gone and this node
    /// is a better candidate: it campaigns at once.
    ///
    /// NB: openraft 0.9 has no pre-vote, and the refusal restarts this node's
    /// own election timer, so without this the cluster waits one or two more
    /// timeouts (failover tails of 1-2 s, see docs/benchmarks.md). Starting an
    /// election is always safe in Raft; this only skips a wait.
    pub fn campaign_if_better_candidate(
        &self,
        candidate_log: Option<crate::raft::LogId>,
        resp: &openraft::raft::VoteResponse<crate::raft::NodeId>,
    ) {
        if resp.vote_granted || resp.last_log_id <= candidate_log {
            return;
        }
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self
            .last_append_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        if now.saturating_sub(last) <= self.config.raft.election_timeout_max_ms {
            return;
        }
        let raft = self.raft.clone();
        tracing::info!(
            "refused a candidate with a shorter log and the leader is silent: campaigning"
        );
        tokio::spawn(async move {
            let _ = raft.trigger().elect().await;
        });
    }

    /// This node's own view of itself; with `with_hash`, the state hash too (computed off the
    /// async workers, on a copy, so applies never wait for it).
    pub async fn local_status(&self, with_hash: bool) -> pb::NodeStatus {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let voter = membership.voter_ids().any(|id| id == self.ident.node_id);
        let role = match m.state {
            ServerState::Leader => "LEADER",
            ServerState::Candidate => "CANDIDATE",
            ServerState::Follower if voter => "FOLLOWER",
            ServerState::Follower | ServerState::Learner => "LEARNER",
            ServerState::Shutdown => "SHUTDOWN",
        };
        let (applied, copy) = {
            let st = self.read_state();
            (
                st.last_applied.map(|l| l.index).unwrap_or(0),
                with_hash.then(|| st.state.clone()),
            )
        };
        let hash = match copy {
            Some(state) => tokio::task::spawn_blocking(move || state.hash())
                .await
                .unwrap_or_default(),
            None => String::new(),
        };
        pb::NodeStatus {
            node_id: self.ident.node_id,
            name: self.ident.name.clone(),
            address: self.config.advertise.clone(),
            role: role.into(),
            voter,
            term: m.current_term,
            last_log_index: m.last_log_index.unwrap_or(0),
            last_applied_index: applied,
            snapshot_index: m.snapshot.map(|l| l.index).unwrap_or(0),
            purged_index: m.purged.map(|l| l.index).unwrap_or(0),
            health: "ok".into(),
            labels: self.config.labels.clone().into_iter().collect(),
            state_hash: hash,
            cluster_id: self.ident.cluster_id().unwrap_or_default(),
            leader_id: m.current_leader.unwrap_or(0),
        }
    }
}

fn raft_config(cfg: &NodeConfig) -> anyhow::Result<openraft::Config> {
    let r = &cfg.raft;
    let c = openraft::Config {
        cluster_name: "gamefleet".into(),
        heartbeat_interval: r.heartbeat_ms,
        election_timeout_min: r.election_timeout_min_ms,
        election_timeout_max: r.election_timeout_max_ms,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(r.snapshot_logs),
        max_in_snapshot_log_to_keep: r.keep_logs,
        purge_batch_size: 256,
        install_snapshot_timeout: 30_000,
        ..Default::default()
    };
    Ok(c.validate()?)
}

/// Runs a node until `shutdown` resolves (or a fatal error).
pub async fn run(config: NodeConfig, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let db = sled::Config::new()
        .path(config.data_dir.join("db"))
        .cache_capacity(config.sled_cache_mb << 20)
        .open()
        .with_context(|| {
            format!(
                "opening data dir {} (is another gamefleetd using it?)",
                config.data_dir.display()
            )
        })?;
    let ident = Arc::new(Identity::load_or_create(&db, &config.name)?);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    tracing::info!(node_id = ident.node_id, name = %ident.name, listen = %config.listen, "starting");

    let log_store = LogStore::open(&db).context("opening the raft log")?;
    let sm = SmStore::open(&db).context("opening the state machine")?;
    let state = sm.shared();
    let applied = sm.subscribe();
    let peers = Peers::default();
    let network = Network {
        ident: ident.clone(),
        peers: peers.clone(),
    };
    let raft = Raft::new(
        ident.node_id,
        Arc::new(raft_config(&config)?),
        network,
        log_store,
        sm,
    )
    .await
    .context("starting raft")?;
    let r = &config.raft;
    let proposer = Proposer::start(Context {
        raft: raft.clone(),
        ident: ident.clone(),
        peers: peers.clone(),
        state: state.clone(),
        claims: Default::default(),
        config: ProposerConfig {
            propose_timeout: Duration::from_millis(config.propose_timeout_ms),
            quorum_lost_after: Duration::from_millis(r.election_timeout_max_ms * 2),
        },
    });
    let node = Arc::new(Node {
        config,
        ident,
        raft: raft.clone(),
        state,
        proposer,
        peers,
        applied,
        // Starting counts as having just heard from a leader: a restarted node
        // never campaigns on the fast path before a whole lease has passed.
        started: std::time::Instant::now(),
        last_append_ms: std::sync::atomic::AtomicU64::new(0),
    });

    let stop = CancellationToken::new();
    let server = {
        use pb::admin_server::AdminServer;
        use pb::batch_server::BatchServer;
        use pb::game_lift_server::GameLiftServer;
        use pb::raft_peer_server::RaftPeerServer;
        let stop = stop.clone();
        // Every response names the leader, so clients that know all nodes skip the forward.
        let hint = crate::api::leader_hint::LeaderHint::follow(&raft);
        let router = tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .layer(tower::util::MapResponseLayer::new(move |r| hint.stamp(r)))
            .add_service(GameLiftServer::new(GameLiftService { node: node.clone() }))
            .add_service(BatchServer::new(BatchService {
                gamelift: GameLiftService { node: node.clone() },
            }))
            .add_service(AdminServer::new(AdminService { node: node.clone() }))
            .add_service(
                RaftPeerServer::new(PeerService { node: node.clone() })
                    .max_decoding_message_size(MAX_MESSAGE)
                    .max_encoding_message_size(MAX_MESSAGE),
            );
        // NB: with a listener we bound ourselves, the builder's tcp_nodelay does not
        // apply; without TCP_NODELAY, small gRPC replies wait ~40 ms (Nagle + delayed ACK).
        let incoming = tonic::transport::server::TcpIncoming::from(listener)
            .with_nodelay(Some(true))
            .with_keepalive(Some(Duration::from_secs(10)));
        tokio::spawn(async move {
            router
                .serve_with_incoming_shutdown(incoming, stop.cancelled())
                .await
        })
    };

    let formed = form_cluster(&node).await;
    if let Err(e) = formed {
        stop.cancel();
        let _ = raft.shutdown().await;
        return Err(e);
    }
    let loops = tokio::spawn(crate::leader::run(node.clone(), stop.clone()));
    let hosting = match crate::supervisor::start(node.clone(), stop.clone()).await {
        Ok(h) => h,
        Err(e) => {
            stop.cancel();
            let _ = loops.await;
            let _ = raft.shutdown().await;
            return Err(e);
        }
    };
    tracing::info!(
        node_id = node.ident.node_id,
        cluster_id = %node.ident.cluster_id().unwrap_or_default(),
        "gamefleetd ready"
    );

    tokio::select! {
        () = shutdown => tracing::info!("shutting down"),
        res = server => {
            let _ = raft.shutdown().await;
            return match res {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(anyhow::anyhow!("gRPC server failed: {e}")),
                Err(e) => Err(anyhow::anyhow!("gRPC server task failed: {e}")),
            };
        }
    }
    stop.cancel();
    let _ = loops.await;
    hosting.join().await;
    raft.shutdown().await.context("stopping raft")?;
    db.flush().context("flushing the data dir")?;
    Ok(())
}

async fn form_cluster(node: &Arc<Node>) -> anyhow::Result<()> {
    cluster::recover_cluster_id(node).await?;
    let join = node.config.join.clone();
    match node.ident.cluster_id() {
        Some(_) if !join.is_empty() => cluster::check_same_cluster(node, &join).await,
        Some(_) => Ok(()),
        None if !join.is_empty() => {
            cluster::join(node, &join, Duration::from_secs(10))
                .await
                .map_err(|e| anyhow::anyhow!("joining: {e}"))?;
            Ok(())
        }
        None if node.config.bootstrap => cluster::bootstrap(node).await.map(|_| ()),
        None => {
            tracing::info!(
                "not bootstrapping: waiting for `gamefleet node join {}`",
                node.config.advertise
            );
            Ok(())
        }
    }
}
