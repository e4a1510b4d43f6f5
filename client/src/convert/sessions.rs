//! Conversions between the wire types of game sessions and player sessions
//! and their domain types (`types::sessions`), and the requests of the
//! session operations built from their inputs.
//!
//! Same rules as the parent module: empty strings and `0` times are `None`,
//! `UNSPECIFIED` or unknown enum values become `Unknown` (statuses), `None`
//! (status reason) or the GameLift default (policies), and a missing nested
//! message reads as an empty one. Nothing here fails.

use gamefleet_proto::v1 as pb;

use super::{non_empty, non_zero_time};
use crate::types::{
    CreateGameSessionInput, DescribeGameSessionsInput, DescribePlayerSessionsInput, FleetOrAlias,
    GameProperty, GameSession, GameSessionDetail, GameSessionSelector, GameSessionStatus,
    GameSessionStatusReason, PlayerSession, PlayerSessionCreationPolicy, PlayerSessionSelector,
    PlayerSessionStatus, ProtectionPolicy, SearchGameSessionsInput, TerminationMode,
    UpdateGameSessionInput,
};

impl From<pb::GameSessionStatus> for GameSessionStatus {
    fn from(s: pb::GameSessionStatus) -> GameSessionStatus {
        match s {
            pb::GameSessionStatus::Unspecified => GameSessionStatus::Unknown,
            pb::GameSessionStatus::Active => GameSessionStatus::Active,
            pb::GameSessionStatus::Activating => GameSessionStatus::Activating,
            pb::GameSessionStatus::Terminated => GameSessionStatus::Terminated,
            pb::GameSessionStatus::Terminating => GameSessionStatus::Terminating,
            pb::GameSessionStatus::Error => GameSessionStatus::Error,
        }
    }
}

impl From<GameSessionStatus> for pb::GameSessionStatus {
    fn from(s: GameSessionStatus) -> pb::GameSessionStatus {
        match s {
            GameSessionStatus::Unknown => pb::GameSessionStatus::Unspecified,
            GameSessionStatus::Active => pb::GameSessionStatus::Active,
            GameSessionStatus::Activating => pb::GameSessionStatus::Activating,
            GameSessionStatus::Terminated => pb::GameSessionStatus::Terminated,
            GameSessionStatus::Terminating => pb::GameSessionStatus::Terminating,
            GameSessionStatus::Error => pb::GameSessionStatus::Error,
        }
    }
}

impl GameSessionStatus {
    /// From a raw proto enum value; unknown values become `Unknown`.
    pub(crate) fn from_proto_i32(v: i32) -> GameSessionStatus {
        pb::GameSessionStatus::try_from(v).map_or(GameSessionStatus::Unknown, Into::into)
    }

    /// The raw proto enum value.
    pub(crate) fn to_proto_i32(self) -> i32 {
        pb::GameSessionStatus::from(self) as i32
    }
}

impl GameSessionStatusReason {
    /// From a raw proto enum value: `None` for UNSPECIFIED (no reason),
    /// `Unknown` for a value this client does not know.
    pub(crate) fn from_proto_i32(v: i32) -> Option<GameSessionStatusReason> {
        use pb::GameSessionStatusReason as P;
        let reason = match P::try_from(v) {
            Ok(P::Unspecified) => return None,
            Ok(P::Interrupted) => GameSessionStatusReason::Interrupted,
            Ok(P::TriggeredOnProcessTerminate) => {
                GameSessionStatusReason::TriggeredOnProcessTerminate
            }
            Ok(P::ForceTerminated) => GameSessionStatusReason::ForceTerminated,
            Ok(P::ActivationTimeout) => GameSessionStatusReason::ActivationTimeout,
            Ok(P::ProcessCrashed) => GameSessionStatusReason::ProcessCrashed,
            Ok(P::NodeLost) => GameSessionStatusReason::NodeLost,
            Err(_) => GameSessionStatusReason::Unknown,
        };
        Some(reason)
    }

    /// The raw proto enum value of an optional reason (`None` and `Unknown`
    /// are UNSPECIFIED).
    pub(crate) fn to_proto_i32(reason: Option<GameSessionStatusReason>) -> i32 {
        use pb::GameSessionStatusReason as P;
        let p = match reason {
            None | Some(GameSessionStatusReason::Unknown) => P::Unspecified,
            Some(GameSessionStatusReason::Interrupted) => P::Interrupted,
            Some(GameSessionStatusReason::TriggeredOnProcessTerminate) => {
                P::TriggeredOnProcessTerminate
            }
            Some(GameSessionStatusReason::ForceTerminated) => P::ForceTerminated,
            Some(GameSessionStatusReason::ActivationTimeout) => P::ActivationTimeout,
            Some(GameSessionStatusReason::ProcessCrashed) => P::ProcessCrashed,
            Some(GameSessionStatusReason::NodeLost) => P::NodeLost,
        };
        p as i32
    }
}

impl From<PlayerSessionCreationPolicy> for pb::PlayerSessionCreationPolicy {
    fn from(p: PlayerSessionCreationPolicy) -> pb::PlayerSessionCreationPolicy {
        match p {
            PlayerSessionCreationPolicy::AcceptAll => pb::PlayerSessionCreationPolicy::AcceptAll,
            PlayerSessionCreationPolicy::DenyAll => pb::PlayerSessionCreationPolicy::DenyAll,
        }
    }
}

impl PlayerSessionCreationPolicy {
    /// From a raw proto enum value; UNSPECIFIED and unknown values are
    /// `AcceptAll` (GameLift's default).
    pub(crate) fn from_proto_i32(v: i32) -> PlayerSessionCreationPolicy {
        match pb::PlayerSessionCreationPolicy::try_from(v) {
            Ok(pb::PlayerSessionCreationPolicy::DenyAll) => PlayerSessionCreationPolicy::DenyAll,
            _ => PlayerSessionCreationPolicy::AcceptAll,
        }
    }
}

impl From<pb::PlayerSessionStatus> for PlayerSessionStatus {
    fn from(s: pb::PlayerSessionStatus) -> PlayerSessionStatus {
        match s {
            pb::PlayerSessionStatus::Unspecified => PlayerSessionStatus::Unknown,
            pb::PlayerSessionStatus::Reserved => PlayerSessionStatus::Reserved,
            pb::PlayerSessionStatus::Active => PlayerSessionStatus::Active,
            pb::PlayerSessionStatus::Completed => PlayerSessionStatus::Completed,
            pb::PlayerSessionStatus::Timedout => PlayerSessionStatus::Timedout,
        }
    }
}

impl From<PlayerSessionStatus> for pb::PlayerSessionStatus {
    fn from(s: PlayerSessionStatus) -> pb::PlayerSessionStatus {
        match s {
            PlayerSessionStatus::Unknown => pb::PlayerSessionStatus::Unspecified,
            PlayerSessionStatus::Reserved => pb::PlayerSessionStatus::Reserved,
            PlayerSessionStatus::Active => pb::PlayerSessionStatus::Active,
            PlayerSessionStatus::Completed => pb::PlayerSessionStatus::Completed,
            PlayerSessionStatus::Timedout => pb::PlayerSessionStatus::Timedout,
        }
    }
}

impl PlayerSessionStatus {
    /// From a raw proto enum value; unknown values become `Unknown`.
    pub(crate) fn from_proto_i32(v: i32) -> PlayerSessionStatus {
        pb::PlayerSessionStatus::try_from(v).map_or(PlayerSessionStatus::Unknown, Into::into)
    }

    /// The raw proto enum value.
    pub(crate) fn to_proto_i32(self) -> i32 {
        pb::PlayerSessionStatus::from(self) as i32
    }
}

impl From<TerminationMode> for pb::TerminationMode {
    fn from(m: TerminationMode) -> pb::TerminationMode {
        match m {
            TerminationMode::TriggerOnProcessTerminate => {
                pb::TerminationMode::TriggerOnProcessTerminate
            }
            TerminationMode::ForceTerminate => pb::TerminationMode::ForceTerminate,
        }
    }
}

impl From<pb::GameProperty> for GameProperty {
    fn from(p: pb::GameProperty) -> GameProperty {
        GameProperty {
            key: p.key,
            value: p.value,
        }
    }
}

impl From<GameProperty> for pb::GameProperty {
    fn from(p: GameProperty) -> pb::GameProperty {
        pb::GameProperty {
            key: p.key,
            value: p.value,
        }
    }
}

impl From<pb::GameSession> for GameSession {
    fn from(g: pb::GameSession) -> GameSession {
        GameSession {
            game_session_id: g.game_session_id,
            name: non_empty(g.name),
            fleet_id: g.fleet_id,
            fleet_arn: g.fleet_arn,
            creation_time: g.creation_time_millis,
            termination_time: non_zero_time(g.termination_time_millis),
            current_player_session_count: g.current_player_session_count,
            maximum_player_session_count: g.maximum_player_session_count,
            status: GameSessionStatus::from_proto_i32(g.status),
            status_reason: GameSessionStatusReason::from_proto_i32(g.status_reason),
            game_properties: g.game_properties.into_iter().map(Into::into).collect(),
            ip_address: g.ip_address,
            dns_name: non_empty(g.dns_name),
            port: g.port,
            player_session_creation_policy: PlayerSessionCreationPolicy::from_proto_i32(
                g.player_session_creation_policy,
            ),
            creator_id: non_empty(g.creator_id),
            game_session_data: non_empty(g.game_session_data),
            matchmaker_data: non_empty(g.matchmaker_data),
            location: non_empty(g.location),
            compute_name: non_empty(g.compute_name),
            process_id: g.process_id,
            node_id: g.node_id,
        }
    }
}

impl From<GameSession> for pb::GameSession {
    fn from(g: GameSession) -> pb::GameSession {
        pb::GameSession {
            game_session_id: g.game_session_id,
            name: g.name.unwrap_or_default(),
            fleet_id: g.fleet_id,
            fleet_arn: g.fleet_arn,
            creation_time_millis: g.creation_time,
            termination_time_millis: g.termination_time.unwrap_or(0),
            current_player_session_count: g.current_player_session_count,
            maximum_player_session_count: g.maximum_player_session_count,
            status: g.status.to_proto_i32(),
            status_reason: GameSessionStatusReason::to_proto_i32(g.status_reason),
            game_properties: g.game_properties.into_iter().map(Into::into).collect(),
            ip_address: g.ip_address,
            dns_name: g.dns_name.unwrap_or_default(),
            port: g.port,
            player_session_creation_policy: pb::PlayerSessionCreationPolicy::from(
                g.player_session_creation_policy,
            ) as i32,
            creator_id: g.creator_id.unwrap_or_default(),
            game_session_data: g.game_session_data.unwrap_or_default(),
            matchmaker_data: g.matchmaker_data.unwrap_or_default(),
            location: g.location.unwrap_or_default(),
            compute_name: g.compute_name.unwrap_or_default(),
            process_id: g.process_id,
            node_id: g.node_id,
        }
    }
}

impl From<pb::GameSessionDetail> for GameSessionDetail {
    fn from(d: pb::GameSessionDetail) -> GameSessionDetail {
        GameSessionDetail {
            game_session: d.game_session.unwrap_or_default().into(),
            protection_policy: ProtectionPolicy::from_proto_i32(d.protection_policy),
        }
    }
}

impl From<GameSessionDetail> for pb::GameSessionDetail {
    fn from(d: GameSessionDetail) -> pb::GameSessionDetail {
        pb::GameSessionDetail {
            game_session: Some(d.game_session.into()),
            protection_policy: pb::ProtectionPolicy::from(d.protection_policy) as i32,
        }
    }
}

impl From<pb::PlayerSession> for PlayerSession {
    fn from(p: pb::PlayerSession) -> PlayerSession {
        PlayerSession {
            player_session_id: p.player_session_id,
            player_id: p.player_id,
            game_session_id: p.game_session_id,
            fleet_id: p.fleet_id,
            fleet_arn: p.fleet_arn,
            creation_time: p.creation_time_millis,
            termination_time: non_zero_time(p.termination_time_millis),
            status: PlayerSessionStatus::from_proto_i32(p.status),
            ip_address: p.ip_address,
            dns_name: non_empty(p.dns_name),
            port: p.port,
            player_data: non_empty(p.player_data),
        }
    }
}

impl From<PlayerSession> for pb::PlayerSession {
    fn from(p: PlayerSession) -> pb::PlayerSession {
        pb::PlayerSession {
            player_session_id: p.player_session_id,
            player_id: p.player_id,
            game_session_id: p.game_session_id,
            fleet_id: p.fleet_id,
            fleet_arn: p.fleet_arn,
            creation_time_millis: p.creation_time,
            termination_time_millis: p.termination_time.unwrap_or(0),
            status: p.status.to_proto_i32(),
            ip_address: p.ip_address,
            dns_name: p.dns_name.unwrap_or_default(),
            port: p.port,
            player_data: p.player_data.unwrap_or_default(),
        }
    }
}

impl FleetOrAlias {
    /// `(fleet_id, alias_id)`, exactly one of them set.
    fn into_ids(self) -> (Option<String>, Option<String>) {
        match self {
            FleetOrAlias::Fleet(id) => (Some(id), None),
            FleetOrAlias::Alias(id) => (None, Some(id)),
        }
    }
}

impl GameSessionSelector {
    /// `(fleet_id, alias_id, game_session_id)`, exactly one of them set.
    fn to_ids(&self) -> (Option<String>, Option<String>, Option<String>) {
        match self {
            GameSessionSelector::Fleet(id) => (Some(id.clone()), None, None),
            GameSessionSelector::Alias(id) => (None, Some(id.clone()), None),
            GameSessionSelector::GameSession(id) => (None, None, Some(id.clone())),
        }
    }
}

impl CreateGameSessionInput {
    /// The request for this input, carrying the given idempotency token.
    pub(crate) fn into_request(self, idempotency_token: String) -> pb::CreateGameSessionRequest {
        let (fleet_id, alias_id) = self.target.into_ids();
        pb::CreateGameSessionRequest {
            fleet_id,
            alias_id,
            maximum_player_session_count: self.maximum_player_session_count,
            name: self.name,
            game_properties: self.game_properties.into_iter().map(Into::into).collect(),
            creator_id: self.creator_id,
            game_session_id: self.game_session_id,
            idempotency_token: Some(idempotency_token),
            game_session_data: self.game_session_data,
            location: self.location,
        }
    }
}

impl DescribeGameSessionsInput {
    /// One DescribeGameSessions page request.
    pub(crate) fn to_request(
        &self,
        limit: Option<i32>,
        next_token: Option<String>,
        consistency: i32,
    ) -> pb::DescribeGameSessionsRequest {
        let (fleet_id, alias_id, game_session_id) = self.selector.to_ids();
        pb::DescribeGameSessionsRequest {
            fleet_id,
            alias_id,
            game_session_id,
            location: self.location.clone(),
            status_filter: self.status_filter.map(GameSessionStatus::to_proto_i32),
            limit,
            next_token,
            consistency,
        }
    }

    /// One DescribeGameSessionDetails page request (the same fields).
    pub(crate) fn to_details_request(
        &self,
        limit: Option<i32>,
        next_token: Option<String>,
        consistency: i32,
    ) -> pb::DescribeGameSessionDetailsRequest {
        let r = self.to_request(limit, next_token, consistency);
        pb::DescribeGameSessionDetailsRequest {
            fleet_id: r.fleet_id,
            alias_id: r.alias_id,
            game_session_id: r.game_session_id,
            location: r.location,
            status_filter: r.status_filter,
            limit: r.limit,
            next_token: r.next_token,
            consistency: r.consistency,
        }
    }
}

impl SearchGameSessionsInput {
    /// The SearchGameSessions request for this input (its own page token).
    pub(crate) fn to_request(&self, consistency: i32) -> pb::SearchGameSessionsRequest {
        let (fleet_id, alias_id) = self.target.clone().into_ids();
        pb::SearchGameSessionsRequest {
            fleet_id,
            alias_id,
            location: self.location.clone(),
            filter_expression: self.filter_expression.clone(),
            sort_expression: self.sort_expression.clone(),
            limit: self.limit,
            next_token: self.next_token.clone(),
            consistency,
        }
    }
}

impl From<UpdateGameSessionInput> for pb::UpdateGameSessionRequest {
    fn from(u: UpdateGameSessionInput) -> pb::UpdateGameSessionRequest {
        pb::UpdateGameSessionRequest {
            game_session_id: u.game_session_id,
            maximum_player_session_count: u.maximum_player_session_count,
            name: u.name,
            player_session_creation_policy: u
                .player_session_creation_policy
                .map(|p| pb::PlayerSessionCreationPolicy::from(p) as i32),
            protection_policy: u
                .protection_policy
                .map(|p| pb::ProtectionPolicy::from(p) as i32),
            game_properties: u.game_properties.into_iter().map(Into::into).collect(),
        }
    }
}

impl DescribePlayerSessionsInput {
    /// One DescribePlayerSessions page request.
    pub(crate) fn to_request(
        &self,
        limit: Option<i32>,
        next_token: Option<String>,
        consistency: i32,
    ) -> pb::DescribePlayerSessionsRequest {
        let (game_session_id, player_id, player_session_id) = match &self.selector {
            PlayerSessionSelector::GameSession(id) => (Some(id.clone()), None, None),
            PlayerSessionSelector::Player(id) => (None, Some(id.clone()), None),
            PlayerSessionSelector::PlayerSession(id) => (None, None, Some(id.clone())),
        };
        pb::DescribePlayerSessionsRequest {
            game_session_id,
            player_id,
            player_session_id,
            player_session_status_filter: self.status_filter.map(PlayerSessionStatus::to_proto_i32),
            limit,
            next_token,
            consistency,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::types::PlacementStrategy;

    fn sample_proto_session() -> pb::GameSession {
        pb::GameSession {
            game_session_id: "arn:gamefleet:gamelift:custom-eu::gamesession/fleet-1/gs-1".into(),
            name: "arena #1".into(),
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn:gamefleet:gamelift:local::fleet/fleet-1".into(),
            creation_time_millis: 1_700_000_000_123,
            termination_time_millis: 1_700_000_900_000,
            current_player_session_count: 3,
            maximum_player_session_count: 10,
            status: pb::GameSessionStatus::Terminated as i32,
            status_reason: pb::GameSessionStatusReason::ForceTerminated as i32,
            game_properties: vec![
                pb::GameProperty {
                    key: "mode".into(),
                    value: "ranked".into(),
                },
                pb::GameProperty {
                    key: "map".into(),
                    value: "dust".into(),
                },
            ],
            ip_address: "10.0.0.7".into(),
            dns_name: "n2.example".into(),
            port: 30007,
            player_session_creation_policy: pb::PlayerSessionCreationPolicy::DenyAll as i32,
            creator_id: "player-9".into(),
            game_session_data: "{\"seed\":4}".into(),
            matchmaker_data: "{\"matchId\":\"m\"}".into(),
            location: "custom-eu".into(),
            compute_name: "n2".into(),
            process_id: "proc-7".into(),
            node_id: 2,
        }
    }

    fn sample_proto_player_session() -> pb::PlayerSession {
        pb::PlayerSession {
            player_session_id: "psess-1".into(),
            player_id: "player-1".into(),
            game_session_id: "gs-arn".into(),
            fleet_id: "fleet-1".into(),
            fleet_arn: "fleet-arn".into(),
            creation_time_millis: 1_700_000_000_000,
            termination_time_millis: 1_700_000_060_000,
            status: pb::PlayerSessionStatus::Timedout as i32,
            ip_address: "10.0.0.7".into(),
            dns_name: "n2.example".into(),
            port: 30007,
            player_data: "team=red".into(),
        }
    }

    #[test]
    fn game_session_from_proto_maps_every_field() {
        let g = GameSession::from(sample_proto_session());
        assert_eq!(
            g.game_session_id,
            "arn:gamefleet:gamelift:custom-eu::gamesession/fleet-1/gs-1"
        );
        assert_eq!(g.name.as_deref(), Some("arena #1"));
        assert_eq!(g.fleet_id, "fleet-1");
        assert_eq!(g.fleet_arn, "arn:gamefleet:gamelift:local::fleet/fleet-1");
        assert_eq!(g.creation_time, 1_700_000_000_123);
        assert_eq!(g.termination_time, Some(1_700_000_900_000));
        assert_eq!(
            (
                g.current_player_session_count,
                g.maximum_player_session_count
            ),
            (3, 10)
        );
        assert_eq!(g.status, GameSessionStatus::Terminated);
        assert_eq!(
            g.status_reason,
            Some(GameSessionStatusReason::ForceTerminated)
        );
        assert_eq!(
            g.game_properties,
            vec![
                GameProperty::new("mode", "ranked"),
                GameProperty::new("map", "dust")
            ]
        );
        assert_eq!((g.ip_address.as_str(), g.port), ("10.0.0.7", 30007));
        assert_eq!(g.dns_name.as_deref(), Some("n2.example"));
        assert_eq!(
            g.player_session_creation_policy,
            PlayerSessionCreationPolicy::DenyAll
        );
        assert_eq!(g.creator_id.as_deref(), Some("player-9"));
        assert_eq!(g.game_session_data.as_deref(), Some("{\"seed\":4}"));
        assert_eq!(g.matchmaker_data.as_deref(), Some("{\"matchId\":\"m\"}"));
        assert_eq!(g.location.as_deref(), Some("custom-eu"));
        assert_eq!(g.compute_name.as_deref(), Some("n2"));
        assert_eq!((g.process_id.as_str(), g.node_id), ("proc-7", 2));
    }

    #[test]
    fn game_session_round_trips_through_proto_and_json() {
        let p = sample_proto_session();
        let g = GameSession::from(p.clone());
        assert_eq!(pb::GameSession::from(g.clone()), p);
        let back: GameSession = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(back, g);
        // A live session: no termination time and no reason, both ways.
        let live = pb::GameSession {
            status: pb::GameSessionStatus::Active as i32,
            status_reason: 0,
            termination_time_millis: 0,
            ..sample_proto_session()
        };
        let g = GameSession::from(live.clone());
        assert_eq!(g.termination_time, None);
        assert_eq!(g.status_reason, None);
        assert_eq!(pb::GameSession::from(g), live);
    }

    #[test]
    fn game_session_json_uses_gamelift_names() {
        let v = serde_json::to_value(GameSession::from(sample_proto_session())).unwrap();
        assert_eq!(
            v,
            json!({
                "GameSessionId": "arn:gamefleet:gamelift:custom-eu::gamesession/fleet-1/gs-1",
                "Name": "arena #1",
                "FleetId": "fleet-1",
                "FleetArn": "arn:gamefleet:gamelift:local::fleet/fleet-1",
                "CreationTime": 1_700_000_000_123i64,
                "TerminationTime": 1_700_000_900_000i64,
                "CurrentPlayerSessionCount": 3,
                "MaximumPlayerSessionCount": 10,
                "Status": "TERMINATED",
                "StatusReason": "FORCE_TERMINATED",
                "GameProperties": [
                    {"Key": "mode", "Value": "ranked"},
                    {"Key": "map", "Value": "dust"}
                ],
                "IpAddress": "10.0.0.7",
                "DnsName": "n2.example",
                "Port": 30007,
                "PlayerSessionCreationPolicy": "DENY_ALL",
                "CreatorId": "player-9",
                "GameSessionData": "{\"seed\":4}",
                "MatchmakerData": "{\"matchId\":\"m\"}",
                "Location": "custom-eu",
                "ComputeName": "n2",
                "ProcessId": "proc-7",
                "NodeId": 2
            })
        );
    }

    #[test]
    fn absent_and_unknown_session_values_do_not_fail() {
        let g = GameSession::from(pb::GameSession {
            game_session_id: "gs".into(),
            status: 999,
            status_reason: 999,
            player_session_creation_policy: 999,
            ..Default::default()
        });
        assert_eq!(g.status, GameSessionStatus::Unknown);
        assert_eq!(g.status_reason, Some(GameSessionStatusReason::Unknown));
        assert_eq!(
            g.player_session_creation_policy,
            PlayerSessionCreationPolicy::AcceptAll
        );
        assert_eq!(g.name, None);
        assert_eq!(g.dns_name, None);
        assert_eq!(g.creator_id, None);
        assert_eq!(g.game_session_data, None);
        assert_eq!(g.matchmaker_data, None);
        assert_eq!(g.location, None);
        assert_eq!(g.compute_name, None);
        let v = serde_json::to_value(&g).unwrap();
        assert_eq!(v["Status"], "UNKNOWN");
        assert_eq!(v["Name"], serde_json::Value::Null);

        let p = PlayerSession::from(pb::PlayerSession {
            status: 999,
            ..Default::default()
        });
        assert_eq!(p.status, PlayerSessionStatus::Unknown);
        assert_eq!(p.player_data, None);
        assert_eq!(p.termination_time, None);

        // A detail without its session reads as an empty session.
        let d = GameSessionDetail::from(pb::GameSessionDetail {
            game_session: None,
            protection_policy: pb::ProtectionPolicy::FullProtection as i32,
        });
        assert_eq!(d.game_session.game_session_id, "");
        assert_eq!(d.protection_policy, ProtectionPolicy::FullProtection);
    }

    #[test]
    fn game_session_detail_round_trips() {
        let p = pb::GameSessionDetail {
            game_session: Some(sample_proto_session()),
            protection_policy: pb::ProtectionPolicy::FullProtection as i32,
        };
        let d = GameSessionDetail::from(p.clone());
        assert_eq!(d.game_session, GameSession::from(sample_proto_session()));
        assert_eq!(d.protection_policy, ProtectionPolicy::FullProtection);
        assert_eq!(pb::GameSessionDetail::from(d.clone()), p);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["ProtectionPolicy"], "FullProtection");
        assert_eq!(v["GameSession"]["Port"], 30007);
    }

    #[test]
    fn player_session_round_trips_with_gamelift_names() {
        let p = sample_proto_player_session();
        let s = PlayerSession::from(p.clone());
        assert_eq!(s.player_session_id, "psess-1");
        assert_eq!(s.player_id, "player-1");
        assert_eq!(s.game_session_id, "gs-arn");
        assert_eq!(
            (s.fleet_id.as_str(), s.fleet_arn.as_str()),
            ("fleet-1", "fleet-arn")
        );
        assert_eq!(s.creation_time, 1_700_000_000_000);
        assert_eq!(s.termination_time, Some(1_700_000_060_000));
        assert_eq!(s.status, PlayerSessionStatus::Timedout);
        assert_eq!((s.ip_address.as_str(), s.port), ("10.0.0.7", 30007));
        assert_eq!(s.dns_name.as_deref(), Some("n2.example"));
        assert_eq!(s.player_data.as_deref(), Some("team=red"));
        assert_eq!(pb::PlayerSession::from(s.clone()), p);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "PlayerSessionId": "psess-1",
                "PlayerId": "player-1",
                "GameSessionId": "gs-arn",
                "FleetId": "fleet-1",
                "FleetArn": "fleet-arn",
                "CreationTime": 1_700_000_000_000i64,
                "TerminationTime": 1_700_000_060_000i64,
                "Status": "TIMEDOUT",
                "IpAddress": "10.0.0.7",
                "DnsName": "n2.example",
                "Port": 30007,
                "PlayerData": "team=red"
            })
        );
    }

    /// `name(value)` prefixed with `prefix` is the proto enum's own name, for
    /// every value; so the domain and wire spell every value alike.
    fn check_proto_names<T: Copy>(
        all: &[T],
        prefix: &str,
        as_str: fn(T) -> &'static str,
        wire_name: impl Fn(T) -> &'static str,
    ) {
        for v in all.iter().copied() {
            assert_eq!(format!("{prefix}{}", as_str(v)), wire_name(v));
        }
    }

    #[test]
    fn every_enum_value_round_trips_and_matches_the_proto_name() {
        for s in GameSessionStatus::ALL {
            assert_eq!(GameSessionStatus::from_proto_i32(s.to_proto_i32()), s);
        }
        check_proto_names(
            &GameSessionStatus::ALL,
            "GAME_SESSION_STATUS_",
            GameSessionStatus::as_str,
            |v| pb::GameSessionStatus::from(v).as_str_name(),
        );
        for r in GameSessionStatusReason::ALL {
            let raw = GameSessionStatusReason::to_proto_i32(Some(r));
            assert_ne!(raw, 0, "{r:?}");
            assert_eq!(GameSessionStatusReason::from_proto_i32(raw), Some(r));
            let name = pb::GameSessionStatusReason::try_from(raw)
                .unwrap()
                .as_str_name();
            assert_eq!(format!("GAME_SESSION_STATUS_REASON_{}", r.as_str()), name);
        }
        assert_eq!(GameSessionStatusReason::from_proto_i32(0), None);
        assert_eq!(GameSessionStatusReason::to_proto_i32(None), 0);
        for p in PlayerSessionCreationPolicy::ALL {
            let raw = pb::PlayerSessionCreationPolicy::from(p) as i32;
            assert_eq!(PlayerSessionCreationPolicy::from_proto_i32(raw), p);
        }
        check_proto_names(
            &PlayerSessionCreationPolicy::ALL,
            "PLAYER_SESSION_CREATION_POLICY_",
            PlayerSessionCreationPolicy::as_str,
            |v| pb::PlayerSessionCreationPolicy::from(v).as_str_name(),
        );
        for s in PlayerSessionStatus::ALL {
            assert_eq!(PlayerSessionStatus::from_proto_i32(s.to_proto_i32()), s);
        }
        check_proto_names(
            &PlayerSessionStatus::ALL,
            "PLAYER_SESSION_STATUS_",
            PlayerSessionStatus::as_str,
            |v| pb::PlayerSessionStatus::from(v).as_str_name(),
        );
        check_proto_names(
            &TerminationMode::ALL,
            "TERMINATION_MODE_",
            TerminationMode::as_str,
            |v| pb::TerminationMode::from(v).as_str_name(),
        );
        for p in PlacementStrategy::ALL {
            let raw = pb::GameSessionPlacementStrategy::from(p) as i32;
            assert_eq!(PlacementStrategy::from_proto_i32(raw), p);
        }
        check_proto_names(
            &PlacementStrategy::ALL,
            "GAME_SESSION_PLACEMENT_STRATEGY_",
            PlacementStrategy::as_str,
            |v| pb::GameSessionPlacementStrategy::from(v).as_str_name(),
        );
    }

    #[test]
    fn create_input_to_request() {
        let input = CreateGameSessionInput {
            name: Some("arena".into()),
            game_properties: vec![GameProperty::new("mode", "ranked")],
            creator_id: Some("player-1".into()),
            game_session_id: Some("custom-1".into()),
            idempotency_token: Some("ignored-here".into()),
            game_session_data: Some("data".into()),
            location: Some("custom-eu".into()),
            ..CreateGameSessionInput::new(FleetOrAlias::fleet("fleet-1"), 12)
        };
        assert_eq!(
            input.into_request("tok-1".into()),
            pb::CreateGameSessionRequest {
                fleet_id: Some("fleet-1".into()),
                alias_id: None,
                maximum_player_session_count: 12,
                name: Some("arena".into()),
                game_properties: vec![pb::GameProperty {
                    key: "mode".into(),
                    value: "ranked".into()
                }],
                creator_id: Some("player-1".into()),
                game_session_id: Some("custom-1".into()),
                idempotency_token: Some("tok-1".into()),
                game_session_data: Some("data".into()),
                location: Some("custom-eu".into()),
            }
        );
        let r =
            CreateGameSessionInput::new(FleetOrAlias::alias("alias-1"), 0).into_request("t".into());
        assert_eq!((r.fleet_id, r.alias_id.as_deref()), (None, Some("alias-1")));
        assert_eq!(r.name, None);
        assert_eq!(r.location, None);
        assert!(r.game_properties.is_empty());
    }

    #[test]
    fn describe_inputs_to_requests() {
        let input = DescribeGameSessionsInput {
            selector: GameSessionSelector::Fleet("fleet-1".into()),
            location: Some("custom-eu".into()),
            status_filter: Some(GameSessionStatus::Activating),
        };
        let r = input.to_request(Some(100), Some("tok".into()), 1);
        assert_eq!(
            r,
            pb::DescribeGameSessionsRequest {
                fleet_id: Some("fleet-1".into()),
                alias_id: None,
                game_session_id: None,
                location: Some("custom-eu".into()),
                status_filter: Some(pb::GameSessionStatus::Activating as i32),
                limit: Some(100),
                next_token: Some("tok".into()),
                consistency: 1,
            }
        );
        let d = input.to_details_request(Some(100), Some("tok".into()), 1);
        assert_eq!(
            (
                d.fleet_id,
                d.location,
                d.status_filter,
                d.limit,
                d.next_token,
                d.consistency
            ),
            (
                r.fleet_id,
                r.location,
                r.status_filter,
                r.limit,
                r.next_token,
                r.consistency
            )
        );
        let r = DescribeGameSessionsInput::new(GameSessionSelector::GameSession("gs".into()))
            .to_request(None, None, 0);
        assert_eq!(
            (r.fleet_id, r.alias_id, r.game_session_id.as_deref()),
            (None, None, Some("gs"))
        );
        assert_eq!(r.status_filter, None);
        let r = DescribeGameSessionsInput::new(FleetOrAlias::alias("alias-1"))
            .to_request(None, None, 0);
        assert_eq!(r.alias_id.as_deref(), Some("alias-1"));

        for (selector, want) in [
            (
                PlayerSessionSelector::GameSession("gs".into()),
                (Some("gs"), None, None),
            ),
            (
                PlayerSessionSelector::Player("p".into()),
                (None, Some("p"), None),
            ),
            (
                PlayerSessionSelector::PlayerSession("ps".into()),
                (None, None, Some("ps")),
            ),
        ] {
            let r = DescribePlayerSessionsInput {
                selector,
                status_filter: Some(PlayerSessionStatus::Reserved),
            }
            .to_request(Some(7), None, 1);
            assert_eq!(
                (
                    r.game_session_id.as_deref(),
                    r.player_id.as_deref(),
                    r.player_session_id.as_deref()
                ),
                want
            );
            assert_eq!(
                r.player_session_status_filter,
                Some(pb::PlayerSessionStatus::Reserved as i32)
            );
            assert_eq!((r.limit, r.consistency), (Some(7), 1));
        }
    }

    #[test]
    fn search_and_update_inputs_to_requests() {
        let search = SearchGameSessionsInput {
            location: Some("custom-us".into()),
            filter_expression: Some("hasAvailablePlayerSessions=true".into()),
            sort_expression: Some("creationTimeMillis ASC".into()),
            limit: Some(5),
            next_token: Some("n".into()),
            ..SearchGameSessionsInput::new(FleetOrAlias::alias("alias-1"))
        };
        assert_eq!(
            search.to_request(1),
            pb::SearchGameSessionsRequest {
                fleet_id: None,
                alias_id: Some("alias-1".into()),
                location: Some("custom-us".into()),
                filter_expression: Some("hasAvailablePlayerSessions=true".into()),
                sort_expression: Some("creationTimeMillis ASC".into()),
                limit: Some(5),
                next_token: Some("n".into()),
                consistency: 1,
            }
        );

        let r = pb::UpdateGameSessionRequest::from(UpdateGameSessionInput {
            game_session_id: "gs".into(),
            ..Default::default()
        });
        assert_eq!(
            r,
            pb::UpdateGameSessionRequest {
                game_session_id: "gs".into(),
                ..Default::default()
            }
        );
        let r = pb::UpdateGameSessionRequest::from(UpdateGameSessionInput {
            game_session_id: "gs".into(),
            maximum_player_session_count: Some(4),
            name: Some("n".into()),
            player_session_creation_policy: Some(PlayerSessionCreationPolicy::DenyAll),
            protection_policy: Some(ProtectionPolicy::FullProtection),
            game_properties: vec![GameProperty::new("k", "")],
        });
        assert_eq!(r.maximum_player_session_count, Some(4));
        assert_eq!(r.name.as_deref(), Some("n"));
        assert_eq!(
            r.player_session_creation_policy,
            Some(pb::PlayerSessionCreationPolicy::DenyAll as i32)
        );
        assert_eq!(
            r.protection_policy,
            Some(pb::ProtectionPolicy::FullProtection as i32)
        );
        assert_eq!(
            r.game_properties,
            vec![pb::GameProperty {
                key: "k".into(),
                value: String::new()
            }]
        );
    }
}
