//! Node addresses: normalizing what users type (`host:port` or
//! `http://host:port`), and the lazily connected tonic channel and batching queue of each
//! node.
//!
//! NB: a tonic `Channel` spawns its worker task when it is built, which needs
//! a Tokio runtime. The channel is therefore built on first use (inside an
//! async call), so a [`crate::Client`] can be made outside any runtime.

use std::sync::OnceLock;
use std::time::Duration;

use tonic::transport::{Channel, Endpoint, Uri};

use crate::batch::Batcher;
use crate::error::ClientError;

/// How long a TCP connect to one node may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// HTTP/2 keep-alive ping interval and ping timeout. A dead or frozen node's
/// connection fails within about two seconds, even while idle.
const KEEP_ALIVE: Duration = Duration::from_secs(1);

/// Normalizes a node address to `host:port`.
///
/// Accepts `host:port` and `http://host:port` (an optional trailing `/`, and
/// surrounding whitespace, are dropped). Rejects empty input, other schemes
/// (there is no TLS), paths, and a missing or zero port.
pub(crate) fn normalize(raw: &str) -> Result<String, ClientError> {
    let bad = |why: &str| ClientError::invalid_request(format!("endpoint {raw:?}: {why}"));
    let s = raw.trim();
    if s.is_empty() {
        return Err(bad("must not be empty"));
    }
    let rest = match s.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some(_) => return Err(bad("only host:port or http://host:port is supported")),
        None => s,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Err(bad("missing host"));
    }
    if rest.contains(['/', '?', '#', '@']) || rest.contains(char::is_whitespace) {
        return Err(bad("expected host:port"));
    }
    let uri: Uri = format!("http://{rest}")
        .parse()
        .map_err(|e| bad(&format!("not a valid address ({e})")))?;
    match (uri.host(), uri.port_u16()) {
        (Some(h), Some(p)) if !h.is_empty() && p != 0 => Ok(rest.to_string()),
        (_, None) => Err(bad("missing port (expected host:port)")),
        (_, Some(0)) => Err(bad("port must be 1-65535")),
        _ => Err(bad("missing host")),
    }
}

/// One node the client talks to: its address, its lazily built channel and batching queue.
pub(crate) struct Target {
    /// The normalized `host:port`.
    pub(crate) addr: String,
    endpoint: Endpoint,
    channel: OnceLock<Channel>,
    batcher: OnceLock<Batcher>,
}

impl Target {
    /// A target for a normalized address; no connection is made.
    pub(crate) fn new(addr: String, attempt_timeout: Duration) -> Result<Target, ClientError> {
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| ClientError::invalid_request(format!("endpoint {addr:?}: {e}")))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(KEEP_ALIVE)
            .keep_alive_timeout(KEEP_ALIVE)
            .keep_alive_while_idle(true)
            .timeout(attempt_timeout);
        Ok(Target {
            addr,
            endpoint,
            channel: OnceLock::new(),
            batcher: OnceLock::new(),
        })
    }

    /// The node's channel, built (but not connected) on first use. Must be
    /// called inside a Tokio runtime.
    pub(crate) fn channel(&self) -> Channel {
        self.channel
            .get_or_init(|| self.endpoint.connect_lazy())
            .clone()
    }

    /// The node's batching queue (see `batch`), started on first use over the node's
    /// channel. Must be called inside a Tokio runtime.
    pub(crate) fn batcher(&self) -> Batcher {
        self.batcher
            .get_or_init(|| Batcher::start(self.channel()))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_host_port_and_http_urls() {
        let ok = [
            ("127.0.0.1:7400", "127.0.0.1:7400"),
            ("http://127.0.0.1:7400", "127.0.0.1:7400"),
            ("HTTP://node-1.example:7401/", "node-1.example:7401"),
            ("  localhost:1  ", "localhost:1"),
            ("[::1]:7400", "[::1]:7400"),
            ("http://[::1]:7400", "[::1]:7400"),
        ];
        for (raw, want) in ok {
            assert_eq!(normalize(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn rejects_bad_addresses_with_invalid_request() {
        let bad = [
            "",
            "   ",
            "127.0.0.1",
            "http://127.0.0.1",
            "https://127.0.0.1:7400",
            "grpc://127.0.0.1:7400",
            "http://",
            "127.0.0.1:7400/path",
            "127.0.0.1:0",
            "127.0.0.1:99999",
            "user@host:1",
            "a b:1",
            ":7400",
        ];
        for raw in bad {
            let err = normalize(raw).expect_err(raw);
            assert_eq!(err.kind, crate::ErrorKind::InvalidRequest, "{raw}");
            assert_eq!(err.code, tonic::Code::InvalidArgument, "{raw}");
            assert!(err.message.contains("endpoint"), "{raw}: {err}");
        }
    }

    #[test]
    fn target_is_built_without_a_runtime() {
        // Building a target must not connect or spawn anything.
        let t = Target::new("127.0.0.1:1".into(), Duration::from_secs(1)).unwrap();
        assert_eq!(t.addr, "127.0.0.1:1");
        assert!(t.channel.get().is_none());
    }
}
