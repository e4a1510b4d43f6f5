//! How a game server finds and opens its SDK socket: the environment variables a launcher sets
//! and the query parameters of the WebSocket URL.
//!
//! Sources: GO `common/consts.go` (env names, query keys), `server/internal/gamelift_manager.go`
//! (`Connect`: query built with `url.Values.Encode`, so keys are sorted and values
//! query-escaped); CPP `internal/network/GameLiftWebSocketClientManager.h` (same keys) and
//! `internal/GameLiftServerState.h` (same env names).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::ProtocolError;

/// Environment variables read by `InitSDK()` (GO `common/consts.go`; CPP
/// `GameLiftServerState.h`). In both official SDKs a set variable **overrides** the value passed
/// in code.
pub mod env {
    /// `GAMELIFT_SDK_WEBSOCKET_URL`: the base WebSocket URL (`ws://…` or `wss://…`).
    pub const WEBSOCKET_URL: &str = "GAMELIFT_SDK_WEBSOCKET_URL";
    /// `GAMELIFT_SDK_AUTH_TOKEN`: sent as the `Authorization` query parameter.
    pub const AUTH_TOKEN: &str = "GAMELIFT_SDK_AUTH_TOKEN";
    /// `GAMELIFT_SDK_PROCESS_ID`: sent as `pID`; unique per process execution.
    pub const PROCESS_ID: &str = "GAMELIFT_SDK_PROCESS_ID";
    /// `GAMELIFT_SDK_HOST_ID`: the compute name, sent as `ComputeId`.
    pub const HOST_ID: &str = "GAMELIFT_SDK_HOST_ID";
    /// `GAMELIFT_SDK_FLEET_ID`: sent as `FleetId`.
    pub const FLEET_ID: &str = "GAMELIFT_SDK_FLEET_ID";
    /// `GAMELIFT_COMPUTE_TYPE`: `CONTAINER` for container fleets (not used by this crate).
    pub const COMPUTE_TYPE: &str = "GAMELIFT_COMPUTE_TYPE";
    /// `GAMELIFT_SDK_TOOL_NAME`: sent as `SdkToolName` in `ActivateServerProcess`.
    pub const SDK_TOOL_NAME: &str = "GAMELIFT_SDK_TOOL_NAME";
    /// `GAMELIFT_SDK_TOOL_VERSION`: sent as `SdkToolVersion` in `ActivateServerProcess`.
    pub const SDK_TOOL_VERSION: &str = "GAMELIFT_SDK_TOOL_VERSION";
    /// `GAMELIFT_REGION`: SigV4 alternative to the auth token (not used by this crate).
    pub const AWS_REGION: &str = "GAMELIFT_REGION";
    /// `GAMELIFT_ACCESS_KEY`: SigV4 alternative (not used by this crate).
    pub const ACCESS_KEY: &str = "GAMELIFT_ACCESS_KEY";
    /// `GAMELIFT_SECRET_KEY`: SigV4 alternative (not used by this crate).
    pub const SECRET_KEY: &str = "GAMELIFT_SECRET_KEY";
    /// `GAMELIFT_SESSION_TOKEN`: SigV4 alternative (not used by this crate).
    pub const SESSION_TOKEN: &str = "GAMELIFT_SESSION_TOKEN";
    /// `HEALTHCHECK_INTERVAL` (GO duration string, default `60s`).
    pub const HEALTHCHECK_INTERVAL: &str = "HEALTHCHECK_INTERVAL";
    /// `HEALTHCHECK_MAX_JITTER` (GO duration string, default `10s`).
    pub const HEALTHCHECK_MAX_JITTER: &str = "HEALTHCHECK_MAX_JITTER";
    /// `HEALTHCHECK_TIMEOUT` (GO duration string, default interval − 10 s).
    pub const HEALTHCHECK_TIMEOUT: &str = "HEALTHCHECK_TIMEOUT";
    /// `SERVICE_CALL_TIMEOUT` (GO duration string, default `20s`).
    pub const SERVICE_CALL_TIMEOUT: &str = "SERVICE_CALL_TIMEOUT";
    /// Value of `GAMELIFT_SDK_PROCESS_ID` that asks the SDK to generate a UUID (GO
    /// `AgentlessContainerProcessId`).
    pub const GENERATE_PROCESS_ID: &str = "ManagedResource";
}

/// Query parameter keys of the connect URL (GO `common/consts.go`; CPP
/// `GameLiftWebSocketClientManager.h`). Exact and case-sensitive.
pub mod query {
    /// `pID`: the process id.
    pub const PROCESS_ID: &str = "pID";
    /// `sdkVersion`: e.g. `5.6.0`.
    pub const SDK_VERSION: &str = "sdkVersion";
    /// `sdkLanguage`: `Go`, `Cpp`, … (this crate: `Rust`).
    pub const SDK_LANGUAGE: &str = "sdkLanguage";
    /// `ComputeId`: the host id / compute name.
    pub const COMPUTE_ID: &str = "ComputeId";
    /// `FleetId`.
    pub const FLEET_ID: &str = "FleetId";
    /// `IdempotencyToken`: fresh on every connect (GO: a UUID; CPP: 32 alphanumerics).
    pub const IDEMPOTENCY_TOKEN: &str = "IdempotencyToken";
    /// `Authorization`: the auth token (or `SigV4` in SigV4 mode).
    pub const AUTHORIZATION: &str = "Authorization";
}

/// The query parameters of an SDK connect URL. Built by the SDK, parsed by the node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectQuery {
    /// `pID` (required).
    pub process_id: String,
    /// `sdkVersion` (required).
    pub sdk_version: String,
    /// `sdkLanguage` (required).
    pub sdk_language: String,
    /// `ComputeId` (required).
    pub compute_id: String,
    /// `FleetId` (required).
    pub fleet_id: String,
    /// `IdempotencyToken`: both official SDKs send one; parsing accepts its absence.
    pub idempotency_token: Option<String>,
    /// `Authorization`: the auth token; absent only in SigV4 mode, which sends `SigV4` here.
    pub authorization: Option<String>,
    /// Any other parameters (for example SigV4's `X-Amz-*`), by key.
    pub extra: BTreeMap<String, String>,
}

impl ConnectQuery {
    /// Encodes the parameters the way GO's `url.Values.Encode` does: keys sorted bytewise,
    /// values query-escaped (space as `+`).
    pub fn to_query_string(&self) -> String {
        let mut pairs: BTreeMap<&str, &str> = BTreeMap::new();
        pairs.insert(query::PROCESS_ID, &self.process_id);
        pairs.insert(query::SDK_VERSION, &self.sdk_version);
        pairs.insert(query::SDK_LANGUAGE, &self.sdk_language);
        pairs.insert(query::COMPUTE_ID, &self.compute_id);
        pairs.insert(query::FLEET_ID, &self.fleet_id);
        if let Some(token) = &self.idempotency_token {
            pairs.insert(query::IDEMPOTENCY_TOKEN, token);
        }
        if let Some(auth) = &self.authorization {
            pairs.insert(query::AUTHORIZATION, auth);
        }
        for (k, v) in &self.extra {
            pairs.entry(k).or_insert(v);
        }
        let mut out = String::new();
        for (k, v) in pairs {
            if !out.is_empty() {
                out.push('&');
            }
            query_escape_into(&mut out, k);
            out.push('=');
            query_escape_into(&mut out, v);
        }
        out
    }

    /// The full connect URL: `base` without any query or fragment, with `/` as the path when it
    /// has none (CPP appends a missing `/` too; without it the request line has no path), then
    /// `?` and the query.
    pub fn to_url(&self, base: &str) -> String {
        let base = base.split(['?', '#']).next().unwrap_or(base);
        let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
        let slash = if after_scheme.contains('/') { "" } else { "/" };
        format!("{base}{slash}?{}", self.to_query_string())
    }

    /// Parses a query string (without the leading `?`). Fails on bad percent-encoding, on
    /// non-UTF-8 values and when a required key is missing or empty. A repeated key keeps its
    /// first value.
    pub fn parse(query_string: &str) -> Result<Self, ProtocolError> {
        let mut all: BTreeMap<String, String> = BTreeMap::new();
        for pair in query_string.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = query_unescape(k)?;
            let v = query_unescape(v)?;
            all.entry(k).or_insert(v);
        }
        let mut required = |key: &'static str| -> Result<String, ProtocolError> {
            match all.remove(key) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(ProtocolError::MissingQueryParameter(key)),
            }
        };
        let process_id = required(query::PROCESS_ID)?;
        let sdk_version = required(query::SDK_VERSION)?;
        let sdk_language = required(query::SDK_LANGUAGE)?;
        let compute_id = required(query::COMPUTE_ID)?;
        let fleet_id = required(query::FLEET_ID)?;
        let idempotency_token = all
            .remove(query::IDEMPOTENCY_TOKEN)
            .filter(|s| !s.is_empty());
        let authorization = all.remove(query::AUTHORIZATION).filter(|s| !s.is_empty());
        Ok(Self {
            process_id,
            sdk_version,
            sdk_language,
            compute_id,
            fleet_id,
            idempotency_token,
            authorization,
            extra: all,
        })
    }
}

/// GO `url.QueryEscape`: unreserved bytes as-is, space as `+`, everything else `%XX`.
fn query_escape_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

fn query_unescape(s: &str) -> Result<String, ProtocolError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ProtocolError::InvalidQuery(format!("bad escape in `{s}`")))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ProtocolError::InvalidQuery(format!("`{s}` is not UTF-8 once unescaped")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ConnectQuery {
        ConnectQuery {
            process_id: "proc 1".into(),
            sdk_version: "5.6.0".into(),
            sdk_language: "Rust".into(),
            compute_id: "node-a".into(),
            fleet_id: "fleet-123".into(),
            idempotency_token: Some("tok".into()),
            authorization: Some("a/b+c=".into()),
            extra: BTreeMap::new(),
        }
    }

    #[test]
    fn query_is_sorted_and_escaped_like_go() {
        assert_eq!(
            sample().to_query_string(),
            "Authorization=a%2Fb%2Bc%3D&ComputeId=node-a&FleetId=fleet-123&IdempotencyToken=tok\
             &pID=proc+1&sdkLanguage=Rust&sdkVersion=5.6.0"
        );
    }

    #[test]
    fn query_round_trips() {
        let q = sample();
        assert_eq!(ConnectQuery::parse(&q.to_query_string()).unwrap(), q);
    }

    #[test]
    fn url_gets_a_path() {
        assert!(
            sample()
                .to_url("ws://h:1")
                .starts_with("ws://h:1/?Authorization=")
        );
        assert!(
            sample()
                .to_url("wss://h/")
                .starts_with("wss://h/?Authorization=")
        );
    }

    #[test]
    fn url_replaces_existing_query() {
        assert!(
            sample()
                .to_url("ws://h:1/path?x=1")
                .starts_with("ws://h:1/path?Authorization=")
        );
    }

    #[test]
    fn parse_reports_missing_and_bad_parameters() {
        let err = ConnectQuery::parse("pID=1&sdkVersion=5&sdkLanguage=Go&ComputeId=c").unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::MissingQueryParameter("FleetId")
        ));
        let err = ConnectQuery::parse("pID=%zz").unwrap_err();
        assert!(matches!(err, ProtocolError::InvalidQuery(_)));
        let err = ConnectQuery::parse("pID=%ff").unwrap_err();
        assert!(matches!(err, ProtocolError::InvalidQuery(_)));
    }

    #[test]
    fn parse_keeps_sigv4_extras() {
        let q = ConnectQuery::parse(
            "pID=p&sdkVersion=5&sdkLanguage=Go&ComputeId=c&FleetId=f&Authorization=SigV4&X-Amz-Date=20240101T000000Z",
        )
        .unwrap();
        assert_eq!(q.authorization.as_deref(), Some("SigV4"));
        assert_eq!(q.extra["X-Amz-Date"], "20240101T000000Z");
        assert_eq!(q.idempotency_token, None);
    }
}
