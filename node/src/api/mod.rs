//! The tonic services every node serves on one port: `GameLift` (client API,
//! `gamelift.rs`), `Batch` (several GameLift calls in one RPC, `batch.rs`), `Admin`
//! (operators, `admin.rs`) and `RaftPeer` (other nodes, `peer.rs`), plus what they share: the read barrier that makes reads
//! linearizable on any node, the peer-header check, and the leader hint every response
//! carries (`leader_hint.rs`).
//!
//! Boundary: protobuf types stop here (`convert.rs`); below this module only
//! domain types exist.

pub mod admin;
pub mod batch;
pub mod convert;
pub mod error;
pub mod gamelift;
pub mod leader_hint;
pub mod peer;
pub mod sessions;

use std::time::Duration;

use gamefleet_proto::v1 as pb;
use openraft::error::{CheckIsLeaderError, RaftError};

use crate::raft::network::header;
use crate::server::Node;
use error::ApiError;

/// How long a linearizable read may wait for the leader's confirmation.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// One page of `items` (already filtered, in id order): those whose id sorts after `after`, at
/// most `limit`, and the next token (the page's last id) when more follow.
pub fn page_after<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    id: impl Fn(&T) -> &str,
    after: Option<&str>,
    limit: usize,
) -> (Vec<&'a T>, Option<String>) {
    let mut rest = items.filter(|t| after.is_none_or(|a| id(t) > a));
    let page: Vec<&T> = rest.by_ref().take(limit).collect();
    let next = match (rest.next(), page.last()) {
        (Some(_), Some(last)) => Some(id(last).to_string()),
        _ => None,
    };
    (page, next)
}

/// Wall-clock now in Unix ms (taken before proposing; never inside `apply`).
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Makes the local replica safe for a read at `consistency`: for a
/// linearizable read, the leader confirms its leadership with a quorum and this
/// node waits until it has applied everything the leader had committed.
pub async fn read_barrier(node: &Node, consistency: i32) -> Result<(), ApiError> {
    if consistency == pb::ReadConsistency::Stale as i32 {
        return Ok(());
    }
    if consistency != pb::ReadConsistency::Linearizable as i32 {
        return Err(ApiError::invalid(
            "consistency",
            "must be LINEARIZABLE or STALE",
        ));
    }
    let deadline = tokio::time::Instant::now() + READ_TIMEOUT;
    loop {
        let m = node.raft.metrics().borrow().clone();
        let leader = m.current_leader;
        let res = if leader == Some(node.ident.node_id) {
            match tokio::time::timeout_at(deadline, node.raft.ensure_linearizable()).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(_)))) => {
                    Err(ApiError::unavailable("leadership changed during the read"))
                }
                Ok(Err(e)) => Err(ApiError::unavailable(format!(
                    "cannot confirm leadership: {e}"
                ))),
                Err(_) => {
                    return Err(ApiError::unavailable(
                        "the read could not be confirmed in time",
                    ));
                }
            }
        } else if let Some(id) = leader {
            match m.membership_config.membership().get_node(&id) {
                Some(n) => read_index_from(node, id, &n.addr, deadline).await,
                None => Err(ApiError::unavailable("the leader is not in the membership")),
            }
        } else {
            Err(ApiError::unavailable("no leader is known"))
        };
        match res {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() + Duration::from_millis(50) >= deadline => {
                return Err(e);
            }
            Err(ApiError::Unavailable(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => return Err(e),
        }
    }
}

async fn read_index_from(
    node: &Node,
    leader: u64,
    addr: &str,
    deadline: tokio::time::Instant,
) -> Result<(), ApiError> {
    let mut client = node
        .peers
        .client(addr)
        .map_err(|s| ApiError::unavailable(s.message()))?;
    let mut req = tonic::Request::new(pb::ReadIndexRequest {
        header: Some(header(&node.ident, leader)),
    });
    req.set_timeout(deadline.saturating_duration_since(tokio::time::Instant::now()));
    let idx = client
        .read_index(req)
        .await
        .map_err(|s| ApiError::unavailable(format!("read index from the leader: {}", s.message())))?
        .into_inner()
        .read_index;
    let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
    node.raft
        .wait(Some(wait))
        .applied_index_at_least(Some(idx), "linearizable read")
        .await
        .map_err(|e| ApiError::unavailable(format!("waiting to apply index {idx}: {e}")))?;
    Ok(())
}

/// Refuses a peer request meant for another cluster or another node.
pub fn check_header(node: &Node, h: Option<&pb::PeerHeader>) -> Result<(), ApiError> {
    let h = h.ok_or_else(|| ApiError::WrongCluster("peer request without a header".into()))?;
    if h.target_node_id != node.ident.node_id {
        return Err(ApiError::WrongCluster(format!(
            "request for node {} reached node {} ({})",
            h.target_node_id, node.ident.node_id, node.ident.name
        )));
    }
    match node.ident.cluster_id() {
        Some(mine) if mine == h.cluster_id => Ok(()),
        Some(mine) => Err(ApiError::WrongCluster(format!(
            "request for cluster {:?} reached a node of cluster {mine:?}",
            h.cluster_id
        ))),
        None => Err(ApiError::WrongCluster(
            "this node has not joined a cluster yet".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::page_after;

    #[test]
    fn pages_follow_the_token_and_end_without_one() {
        let ids = ["a", "b", "c", "d", "e"];
        let page = |after, limit| page_after(ids.iter(), |s| s, after, limit);
        assert_eq!(page(None, 2), (vec![&"a", &"b"], Some("b".to_string())));
        assert_eq!(
            page(Some("b"), 2),
            (vec![&"c", &"d"], Some("d".to_string()))
        );
        assert_eq!(page(Some("d"), 2), (vec![&"e"], None));
        assert_eq!(
            page(Some("c"), 2),
            (vec![&"d", &"e"], None),
            "no token when nothing follows"
        );
        assert_eq!(page(Some("e"), 2), (vec![], None));
        assert_eq!(page(None, 5), (ids.iter().collect(), None));
    }
}
