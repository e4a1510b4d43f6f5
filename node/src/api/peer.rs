//! The `RaftPeer` service: the inbound side of Raft (append, vote, snapshot
//! stream), forwarded writes, read-index and local status. Every request's
//! peer header is checked before anything else.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use gamefleet_proto::v1 as pb;
use openraft::Snapshot;
use pb::raft_peer_server::RaftPeer;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::{Request, Response, Status, Streaming};

use super::check_header;
use super::error::ApiError;
use crate::raft::proposer::ForwardBatch;
use crate::raft::{NodeId, SnapshotMeta};
use crate::server::Node;

/// Largest snapshot a node accepts.
const MAX_SNAPSHOT: usize = 1 << 30;

/// The peer service.
pub struct PeerService {
    pub node: Arc<Node>,
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, Status> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(what, format!("cannot decode: {e}")).into())
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, Status> {
    serde_json::to_vec(v).map_err(|e| ApiError::Internal(e.to_string()).into())
}

#[tonic::async_trait]
impl RaftPeer for PeerService {
    async fn append_entries(
        &self,
        req: Request<pb::RaftRequest>,
    ) -> Result<Response<pb::RaftReply>, Status> {
        let r = req.into_inner();
        check_header(&self.node, r.header.as_ref())?;
        let rpc = decode("payload", &r.payload)?;
        self.node.heard_from_leader();
        let res = self.node.raft.append_entries(rpc).await;
        Ok(Response::new(pb::RaftReply {
            payload: encode(&res)?,
        }))
    }

    async fn vote(&self, req: Request<pb::RaftRequest>) -> Result<Response<pb::RaftReply>, Status> {
        let r = req.into_inner();
        check_header(&self.node, r.header.as_ref())?;
        let rpc: openraft::raft::VoteRequest<NodeId> = decode("payload", &r.payload)?;
        let candidate_log = rpc.last_log_id;
        let res = self.node.raft.vote(rpc).await;
        if let Ok(resp) = &res {
            self.node.campaign_if_better_candidate(candidate_log, resp);
        }
        Ok(Response::new(pb::RaftReply {
            payload: encode(&res)?,
        }))
    }

    async fn install_snapshot(
        &self,
        req: Request<Streaming<pb::SnapshotChunk>>,
    ) -> Result<Response<pb::RaftReply>, Status> {
        let mut stream = req.into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty snapshot stream"))?;
        check_header(&self.node, first.header.as_ref())?;
        let (vote, meta): (openraft::Vote<NodeId>, SnapshotMeta) = decode("meta", &first.meta)?;
        let mut data = first.data;
        while let Some(chunk) = stream.message().await? {
            if data.len() + chunk.data.len() > MAX_SNAPSHOT {
                return Err(ApiError::invalid(
                    "data",
                    format!("snapshot larger than {MAX_SNAPSHOT} bytes"),
                )
                .into());
            }
            data.extend_from_slice(&chunk.data);
        }
        let snapshot = Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        };
        let res = self.node.raft.install_full_snapshot(vote, snapshot).await;
        Ok(Response::new(pb::RaftReply {
            payload: encode(&res)?,
        }))
    }

    async fn forward(
        &self,
        req: Request<pb::ForwardRequest>,
    ) -> Result<Response<pb::ForwardReply>, Status> {
        let r = req.into_inner();
        check_header(&self.node, r.header.as_ref())?;
        let batch: ForwardBatch = decode("commands", &r.commands)?;
        let res = self.node.proposer.propose_forwarded(batch.proposals).await;
        Ok(Response::new(pb::ForwardReply {
            results: encode(&res)?,
        }))
    }

    async fn read_index(
        &self,
        req: Request<pb::ReadIndexRequest>,
    ) -> Result<Response<pb::ReadIndexReply>, Status> {
        let r = req.into_inner();
        check_header(&self.node, r.header.as_ref())?;
        let res =
            tokio::time::timeout(Duration::from_secs(5), self.node.raft.get_read_log_id()).await;
        match res {
            Ok(Ok((read_log_id, _))) => Ok(Response::new(pb::ReadIndexReply {
                read_index: read_log_id.map(|l| l.index).unwrap_or(0),
            })),
            Ok(Err(e)) => {
                Err(ApiError::unavailable(format!("not able to serve a read index: {e}")).into())
            }
            Err(_) => {
                Err(ApiError::unavailable("leadership could not be confirmed in time").into())
            }
        }
    }

    async fn local_status(
        &self,
        req: Request<pb::LocalStatusRequest>,
    ) -> Result<Response<pb::NodeStatus>, Status> {
        let r = req.into_inner();
        check_header(&self.node, r.header.as_ref())?;
        Ok(Response::new(
            self.node.local_status(!r.without_state_hash).await,
        ))
    }
}
