//! The outbound side of Raft: openraft's network traits over the `RaftPeer`
//! gRPC service. openraft types travel as JSON inside protobuf `bytes`.
//!
//! Every request carries a `PeerHeader` with the cluster id and the target's
//! node id, so a node reached at a stale address refuses it instead of acting
//! on another node's behalf.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gamefleet_proto::v1 as pb;
use openraft::error::{
    Fatal, InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, ReplicationClosed,
    StreamingError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::{Snapshot, Vote};
use pb::raft_peer_client::RaftPeerClient;
use tonic::transport::{Channel, Endpoint};

use super::{NodeId, NodeInfo, TypeConfig};
use crate::cluster::identity::Identity;

/// Largest gRPC message a node accepts or sends between peers.
pub const MAX_MESSAGE: usize = 64 << 20;
/// Snapshot stream chunk size.
const CHUNK: usize = 1 << 20;
/// Deadline for sending a whole snapshot.
const SNAPSHOT_DEADLINE: Duration = Duration::from_secs(120);

/// Builds a lazily-connecting channel to a peer's gRPC address.
pub fn channel(addr: &str) -> Result<Channel, tonic::transport::Error> {
    Ok(Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_millis(500))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(1))
        .keep_alive_timeout(Duration::from_secs(1))
        .keep_alive_while_idle(true)
        .connect_lazy())
}

/// Peer clients by address, shared by everything on this node that talks to peers.
#[derive(Clone, Default)]
pub struct Peers {
    channels: Arc<Mutex<HashMap<String, Channel>>>,
}

impl Peers {
    /// The cached channel to `addr` (created lazily, multiplexed by all callers).
    pub fn channel(&self, addr: &str) -> Result<Channel, tonic::Status> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(addr) {
            Some(c) => Ok(c.clone()),
            None => {
                let c = channel(addr).map_err(|e| {
                    tonic::Status::unavailable(format!("bad peer address {addr}: {e}"))
                })?;
                map.insert(addr.to_string(), c.clone());
                Ok(c)
            }
        }
    }

    /// A `RaftPeer` client for `addr`.
    pub fn client(&self, addr: &str) -> Result<RaftPeerClient<Channel>, tonic::Status> {
        let ch = self.channel(addr)?;
        Ok(RaftPeerClient::new(ch)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE))
    }

    /// Drops the cached channel for `addr` (after repeated failures).
    pub fn forget(&self, addr: &str) {
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(addr);
    }
}

/// The peer header for a request to `target`.
pub fn header(ident: &Identity, target: NodeId) -> pb::PeerHeader {
    pb::PeerHeader {
        cluster_id: ident.cluster_id().unwrap_or_default(),
        target_node_id: target,
        from_node_id: ident.node_id,
    }
}

/// openraft's network factory.
#[derive(Clone)]
pub struct Network {
    pub ident: Arc<Identity>,
    pub peers: Peers,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerConnection;

    async fn new_client(&mut self, target: NodeId, node: &NodeInfo) -> PeerConnection {
        PeerConnection {
            target,
            addr: node.addr.clone(),
            ident: self.ident.clone(),
            peers: self.peers.clone(),
        }
    }
}

/// A connection to one peer.
pub struct PeerConnection {
    target: NodeId,
    addr: String,
    ident: Arc<Identity>,
    peers: Peers,
}

/// A boxed unary `RaftPeer` call.
type UnaryCall = fn(
    RaftPeerClient<Channel>,
    tonic::Request<pb::RaftRequest>,
) -> std::pin::Pin<
    Box<dyn Future<Output = Result<tonic::Response<pb::RaftReply>, tonic::Status>> + Send>,
>;

type RpcErr<E = openraft::error::Infallible> = RPCError<NodeId, NodeInfo, RaftError<NodeId, E>>;

fn status_to_rpc<E: std::error::Error>(s: &tonic::Status) -> RPCError<NodeId, NodeInfo, E> {
    match s.code() {
        // Refused connections, a peer that is down, or a node at this address
        // that is not the one we want: back off before retrying.
        tonic::Code::Unavailable | tonic::Code::FailedPrecondition => {
            RPCError::Unreachable(Unreachable::new(s))
        }
        _ => RPCError::Network(NetworkError::new(s)),
    }
}

fn decode_err<E: std::error::Error>(e: &serde_json::Error) -> RPCError<NodeId, NodeInfo, E> {
    RPCError::Network(NetworkError::new(e))
}

impl PeerConnection {
    fn client(&self) -> Result<RaftPeerClient<Channel>, tonic::Status> {
        self.peers.client(&self.addr)
    }

    async fn unary<Req, Resp, E>(
        &self,
        call: UnaryCall,
        req: &Req,
        ttl: Duration,
    ) -> Result<Resp, RPCError<NodeId, NodeInfo, RaftError<NodeId, E>>>
    where
        Req: serde::Serialize,
        Resp: serde::de::DeserializeOwned,
        E: std::error::Error + serde::de::DeserializeOwned,
    {
        let payload = serde_json::to_vec(req).map_err(|e| decode_err(&e))?;
        let mut request = tonic::Request::new(pb::RaftRequest {
            header: Some(header(&self.ident, self.target)),
            payload,
        });
        request.set_timeout(ttl);
        let client = self.client().map_err(|s| status_to_rpc(&s))?;
        let reply = call(client, request).await.map_err(|s| status_to_rpc(&s))?;
        let result: Result<Resp, RaftError<NodeId, E>> =
            serde_json::from_slice(&reply.into_inner().payload).map_err(|e| decode_err(&e))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for PeerConnection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcErr> {
        self.unary(
            |mut c, r| Box::pin(async move { c.append_entries(r).await }),
            &rpc,
            option.soft_ttl(),
        )
        .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RpcErr> {
        self.unary(
            |mut c, r| Box::pin(async move { c.vote(r).await }),
            &rpc,
            option.soft_ttl(),
        )
        .await
    }

    async fn install_snapshot(
        &mut self,
        _rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcErr<InstallSnapshotError>> {
        // Snapshots always go through `full_snapshot` (one stream), never chunk by chunk.
        Err(RPCError::Unreachable(Unreachable::new(
            &std::io::Error::other(
                "chunked snapshot transfer is not used; gamefleet streams whole snapshots",
            ),
        )))
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote<NodeId>,
        snapshot: Snapshot<TypeConfig>,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<NodeId>, StreamingError<TypeConfig, Fatal<NodeId>>> {
        let net = |e: &dyn std::fmt::Display| {
            StreamingError::Network(NetworkError::new(&std::io::Error::other(e.to_string())))
        };
        let meta = serde_json::to_vec(&(vote, &snapshot.meta)).map_err(|e| net(&e))?;
        let data = snapshot.snapshot.into_inner();
        let hdr = header(&self.ident, self.target);
        let mut chunks = vec![pb::SnapshotChunk {
            header: Some(hdr),
            meta,
            data: Vec::new(),
        }];
        chunks.extend(data.chunks(CHUNK).map(|c| pb::SnapshotChunk {
            header: None,
            meta: Vec::new(),
            data: c.to_vec(),
        }));
        let mut client = self
            .client()
            .map_err(|s| StreamingError::Unreachable(Unreachable::new(&s)))?;
        let mut request = tonic::Request::new(tokio_stream::iter(chunks));
        request.set_timeout(SNAPSHOT_DEADLINE);
        let send = client.install_snapshot(request);
        let reply = tokio::select! {
            r = send => r.map_err(|s| match s.code() {
                tonic::Code::Unavailable => StreamingError::Unreachable(Unreachable::new(&s)),
                _ => net(&s),
            })?,
            closed = cancel => return Err(StreamingError::Closed(closed)),
        };
        let result: Result<SnapshotResponse<NodeId>, Fatal<NodeId>> =
            serde_json::from_slice(&reply.into_inner().payload).map_err(|e| net(&e))?;
        result.map_err(|e| StreamingError::RemoteError(RemoteError::new(self.target, e)))
    }

    fn backoff(&self) -> openraft::network::Backoff {
        openraft::network::Backoff::new(std::iter::repeat(Duration::from_millis(200)))
    }
}
