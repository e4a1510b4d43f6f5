//! The leader hint: every response a node sends (answers and errors alike) carries the
//! `x-gamefleet-leader` header, the advertised address of the node it knows as the leader.
//!
//! Any node serves every request (a follower forwards writes to the leader), but the hop costs
//! a second RPC and smaller write batches. A client that knows every node's address uses the
//! hint to send its next requests straight to the leader; a client that knows only one node
//! ignores it. The hint is advice, never authority: a stale hint only costs a forward.

use std::sync::{Arc, RwLock};

use http::HeaderValue;

use crate::raft::{Raft, RaftMetrics};

/// The response header (gRPC metadata key) naming the leader's address.
pub const LEADER_METADATA_KEY: &str = "x-gamefleet-leader";

/// The current leader's address as a ready header value; cheap to clone.
#[derive(Clone, Default)]
pub struct LeaderHint {
    current: Arc<RwLock<Option<HeaderValue>>>,
}

/// The address of the leader `m` knows, if it knows one that is a member.
fn leader_addr(m: &RaftMetrics) -> Option<&str> {
    let id = m.current_leader?;
    m.membership_config
        .membership()
        .get_node(&id)
        .map(|n| n.addr.as_str())
}

impl LeaderHint {
    /// A hint that follows `raft`'s metrics until the Raft instance shuts down.
    pub fn follow(raft: &Raft) -> LeaderHint {
        let hint = LeaderHint::default();
        let mut rx = raft.metrics();
        let me = hint.clone();
        tokio::spawn(async move {
            loop {
                let value = leader_addr(&rx.borrow_and_update())
                    .and_then(|a| HeaderValue::from_str(a).ok());
                me.set(value);
                if rx.changed().await.is_err() {
                    return;
                }
            }
        });
        hint
    }

    fn set(&self, value: Option<HeaderValue>) {
        let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
        if *cur != value {
            *cur = value;
        }
    }

    /// The header value to send now, if a leader is known.
    pub fn get(&self) -> Option<HeaderValue> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Adds the hint to a response (the server's response layer calls this).
    pub fn stamp<B>(&self, mut resp: http::Response<B>) -> http::Response<B> {
        if let Some(v) = self.get() {
            resp.headers_mut().insert(LEADER_METADATA_KEY, v);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_the_known_leader_and_nothing_otherwise() {
        let hint = LeaderHint::default();
        let r = hint.stamp(http::Response::new(()));
        assert!(r.headers().get(LEADER_METADATA_KEY).is_none());

        hint.set(Some(HeaderValue::from_static("10.0.0.7:7400")));
        let r = hint.stamp(http::Response::new(()));
        assert_eq!(r.headers()[LEADER_METADATA_KEY], "10.0.0.7:7400");

        hint.set(None);
        let r = hint.stamp(http::Response::new(()));
        assert!(r.headers().get(LEADER_METADATA_KEY).is_none());
    }
}
