//! The `GameLift` client service: fleet operations. Each handler validates its
//! input (bad input changes nothing), makes ids and timestamps, and either
//! proposes a command or reads the local replica behind the read barrier.

use std::sync::Arc;

use gamefleet_proto::v1 as pb;
use pb::game_lift_server::GameLift;
use tonic::{Request, Response, Status};

use super::convert::{
    capacity, event, fleet_attributes, instance_counts, page_limit, placement_strategy, port_range,
    process, protection_policy, rclp, runtime_configuration, runtime_configuration_pb, tags,
};
use super::error::ApiError;
use super::sessions;
use super::{now_ms, read_barrier};
use crate::fsm::fleet::{FleetSpec, FleetUpdate};
use crate::fsm::hosting::ProcessStatus;
use crate::fsm::{Command, Fleet, FsmError, Output, fleet_id_of, validate};
use crate::server::Node;

/// Largest page DescribeFleetAttributes and ListFleets return.
const MAX_PAGE: usize = 100;

/// The client service.
pub struct GameLiftService {
    pub node: Arc<Node>,
}

fn fleet_of(out: Output) -> Result<crate::fsm::Fleet, ApiError> {
    match out {
        Output::Fleet(f) => Ok(*f),
        _ => Err(ApiError::Internal("expected a fleet result".into())),
    }
}

fn check_fleet_ref(field: &str, id_or_arn: &str) -> Result<(), ApiError> {
    validate::length(field, id_or_arn, 1, 512)?;
    validate::fleet_id(field, fleet_id_of(id_or_arn))?;
    Ok(())
}

/// Reads one fleet (by id or ARN) from the local replica behind the read barrier.
async fn read_fleet(node: &Node, id: &str, consistency: i32) -> Result<Fleet, ApiError> {
    check_fleet_ref("fleet_id", id)?;
    read_barrier(node, consistency).await?;
    let st = node.read_state();
    st.state
        .fleet(id)
        .cloned()
        .ok_or_else(|| FsmError::not_found("fleet", id).into())
}

fn check_fleet_list(ids: &[String]) -> Result<(), ApiError> {
    if ids.len() > MAX_PAGE {
        return Err(ApiError::invalid(
            "fleet_ids",
            format!("at most {MAX_PAGE} entries allowed"),
        ));
    }
    for id in ids {
        check_fleet_ref("fleet_ids", id)?;
    }
    Ok(())
}

fn check_next_token(t: Option<&str>) -> Result<Option<&str>, ApiError> {
    match t {
        None | Some("") => Ok(None),
        Some(t) => {
            validate::fleet_id("next_token", t)
                .map_err(|_| ApiError::invalid("next_token", "is not a token this API returned"))?;
            Ok(Some(t))
        }
    }
}

#[tonic::async_trait]
impl GameLift for GameLiftService {
    async fn create_fleet(
        &self,
        req: Request<pb::CreateFleetRequest>,
    ) -> Result<Response<pb::CreateFleetResponse>, Status> {
        let r = req.into_inner();
        let spec = FleetSpec {
            name: r.name,
            description: r.description,
            protection_policy: protection_policy(
                "new_game_session_protection_policy",
                r.new_game_session_protection_policy,
            )?,
            resource_creation_limit_policy: r.resource_creation_limit_policy.as_ref().map(rclp),
            metric_groups: r.metric_groups,
            tags: tags(&r.tags),
            runtime_configuration: r.runtime_configuration.as_ref().map(runtime_configuration),
            port_range: r.port_range.as_ref().map(port_range).transpose()?,
            locations: r.locations,
            instances: r.instances.as_ref().map(capacity).unwrap_or_default(),
            placement_strategy: placement_strategy("placement_strategy", r.placement_strategy)?,
        };
        spec.validate().map_err(ApiError::from)?;
        if let Some(t) = &r.idempotency_token {
            validate::id_token("idempotency_token", t, 48).map_err(ApiError::from)?;
        }
        let fleet_id = format!("fleet-{}", uuid::Uuid::new_v4());
        let cmd = Command::CreateFleet {
            arn: format!("arn:gamefleet:{}::fleet/{fleet_id}", self.node.region()),
            fleet_id,
            spec,
            idempotency_token: r.idempotency_token,
            at_ms: now_ms(),
        };
        let fleet = fleet_of(self.node.proposer.propose(cmd).await?)?;
        Ok(Response::new(pb::CreateFleetResponse {
            fleet_attributes: Some(fleet_attributes(&fleet)),
        }))
    }

    async fn describe_fleet_attributes(
        &self,
        req: Request<pb::DescribeFleetAttributesRequest>,
    ) -> Result<Response<pb::DescribeFleetAttributesResponse>, Status> {
        let r = req.into_inner();
        if r.fleet_ids.len() > MAX_PAGE {
            return Err(ApiError::invalid(
                "fleet_ids",
                format!("at most {MAX_PAGE} entries allowed"),
            )
            .into());
        }
        for id in &r.fleet_ids {
            check_fleet_ref("fleet_ids", id)?;
        }
        let limit = page_limit(r.limit, MAX_PAGE)?;
        let after = check_next_token(r.next_token.as_deref())?;
        read_barrier(&self.node, r.consistency).await?;
        let st = self.node.read_state();
        let mut out = pb::DescribeFleetAttributesResponse::default();
        if r.fleet_ids.is_empty() {
            let (page, more) = st.state.fleet_page(after, limit);
            out.fleet_attributes = page.iter().map(|f| fleet_attributes(f)).collect();
            if more {
                out.next_token = page.last().map(|f| f.id.clone());
            }
        } else {
            for id in &r.fleet_ids {
                let f = st
                    .state
                    .fleet(id)
                    .ok_or_else(|| ApiError::from(crate::fsm::FsmError::not_found("fleet", id)))?;
                out.fleet_attributes.push(fleet_attributes(f));
            }
        }
        Ok(Response::new(out))
    }

    async fn list_fleets(
        &self,
        req: Request<pb::ListFleetsRequest>,
    ) -> Result<Response<pb::ListFleetsResponse>, Status> {
        let r = req.into_inner();
        let limit = page_limit(r.limit, MAX_PAGE)?;
        let after = check_next_token(r.next_token.as_deref())?;
        read_barrier(&self.node, r.consistency).await?;
        let st = self.node.read_state();
        let (page, more) = st.state.fleet_page(after, limit);
        let fleet_ids: Vec<String> = page.iter().map(|f| f.id.clone()).collect();
        let next_token = if more {
            fleet_ids.last().cloned()
        } else {
            None
        };
        Ok(Response::new(pb::ListFleetsResponse {
            fleet_ids,
            next_token,
        }))
    }

    async fn update_fleet_attributes(
        &self,
        req: Request<pb::UpdateFleetAttributesRequest>,
    ) -> Result<Response<pb::UpdateFleetAttributesResponse>, Status> {
        let r = req.into_inner();
        check_fleet_ref("fleet_id", &r.fleet_id)?;
        let update = FleetUpdate {
            name: r.name,
            description: r.description,
            protection_policy: r
                .new_game_session_protection_policy
                .map(|p| protection_policy("new_game_session_protection_policy", p))
                .transpose()?,
            resource_creation_limit_policy: r.resource_creation_limit_policy.as_ref().map(rclp),
            metric_groups: r.metric_groups.map(|g| g.values),
            placement_strategy: r
                .placement_strategy
                .map(|p| placement_strategy("placement_strategy", p))
                .transpose()?,
        };
        update.validate().map_err(ApiError::from)?;
        if update.is_empty() {
            return Err(ApiError::invalid("update", "at least one attribute must be set").into());
        }
        let cmd = Command::UpdateFleetAttributes {
            fleet_id: fleet_id_of(&r.fleet_id).to_string(),
            update,
        };
        let fleet = fleet_of(self.node.proposer.propose(cmd).await?)?;
        Ok(Response::new(pb::UpdateFleetAttributesResponse {
            fleet_id: fleet.id,
            fleet_arn: fleet.arn,
        }))
    }

    async fn delete_fleet(
        &self,
        req: Request<pb::DeleteFleetRequest>,
    ) -> Result<Response<pb::DeleteFleetResponse>, Status> {
        let r = req.into_inner();
        check_fleet_ref("fleet_id", &r.fleet_id)?;
        let cmd = Command::DeleteFleet {
            fleet_id: fleet_id_of(&r.fleet_id).to_string(),
            at_ms: now_ms(),
        };
        self.node.proposer.propose(cmd).await?;
        Ok(Response::new(pb::DeleteFleetResponse {}))
    }

    async fn describe_runtime_configuration(
        &self,
        req: Request<pb::DescribeRuntimeConfigurationRequest>,
    ) -> Result<Response<pb::DescribeRuntimeConfigurationResponse>, Status> {
        let r = req.into_inner();
        let f = read_fleet(&self.node, &r.fleet_id, r.consistency).await?;
        Ok(Response::new(pb::DescribeRuntimeConfigurationResponse {
            runtime_configuration: f
                .spec
                .runtime_configuration
                .as_ref()
                .map(runtime_configuration_pb),
        }))
    }

    async fn update_runtime_configuration(
        &self,
        req: Request<pb::UpdateRuntimeConfigurationRequest>,
    ) -> Result<Response<pb::UpdateRuntimeConfigurationResponse>, Status> {
        let r = req.into_inner();
        check_fleet_ref("fleet_id", &r.fleet_id)?;
        let rc = r
            .runtime_configuration
            .as_ref()
            .map(runtime_configuration)
            .ok_or_else(|| ApiError::invalid("runtime_configuration", "is required"))?;
        rc.validate().map_err(ApiError::from)?;
        let cmd = Command::UpdateRuntimeConfiguration {
            fleet_id: fleet_id_of(&r.fleet_id).to_string(),
            runtime_configuration: rc,
            at_ms: now_ms(),
        };
        let fleet = fleet_of(self.node.proposer.propose(cmd).await?)?;
        Ok(Response::new(pb::UpdateRuntimeConfigurationResponse {
            runtime_configuration: fleet
                .spec
                .runtime_configuration
                .as_ref()
                .map(runtime_configuration_pb),
        }))
    }

    async fn describe_fleet_capacity(
        &self,
        req: Request<pb::DescribeFleetCapacityRequest>,
    ) -> Result<Response<pb::DescribeFleetCapacityResponse>, Status> {
        let r = req.into_inner();
        if r.fleet_ids.is_empty() {
            return Err(ApiError::invalid("fleet_ids", "at least one fleet id is required").into());
        }
        check_fleet_list(&r.fleet_ids)?;
        read_barrier(&self.node, r.consistency).await?;
        let st = self.node.read_state();
        let mut out = Vec::new();
        for id in &r.fleet_ids {
            let f = st
                .state
                .fleet(id)
                .ok_or_else(|| ApiError::from(FsmError::not_found("fleet", id)))?;
            out.push(pb::FleetCapacity {
                fleet_id: f.id.clone(),
                fleet_arn: f.arn.clone(),
                instance_counts: Some(instance_counts(f.spec.instances, f.assigned_nodes.len())),
            });
        }
        Ok(Response::new(pb::DescribeFleetCapacityResponse {
            fleet_capacity: out,
        }))
    }

    async fn update_fleet_capacity(
        &self,
        req: Request<pb::UpdateFleetCapacityRequest>,
    ) -> Result<Response<pb::UpdateFleetCapacityResponse>, Status> {
        let r = req.into_inner();
        let f = read_fleet(
            &self.node,
            &r.fleet_id,
            pb::ReadConsistency::Linearizable as i32,
        )
        .await?;
        let mut c = f.spec.instances;
        if let Some(v) = r.desired_instances {
            c.desired = v;
        }
        if let Some(v) = r.min_size {
            c.min = v;
        }
        if let Some(v) = r.max_size {
            c.max = v;
        }
        c.validate().map_err(ApiError::from)?;
        let cmd = Command::UpdateFleetCapacity {
            fleet_id: f.id.clone(),
            instances: c,
        };
        let fleet = fleet_of(self.node.proposer.propose(cmd).await?)?;
        Ok(Response::new(pb::UpdateFleetCapacityResponse {
            fleet_id: fleet.id,
            fleet_arn: fleet.arn,
        }))
    }

    async fn describe_fleet_events(
        &self,
        req: Request<pb::DescribeFleetEventsRequest>,
    ) -> Result<Response<pb::DescribeFleetEventsResponse>, Status> {
        let r = req.into_inner();
        let limit = page_limit(r.limit, MAX_PAGE)?;
        let after = match r.next_token.as_deref() {
            None | Some("") => None,
            Some(t) if t.starts_with("event-") && t.len() <= 64 => Some(t.to_string()),
            Some(_) => {
                return Err(
                    ApiError::invalid("next_token", "is not a token this API returned").into(),
                );
            }
        };
        let f = read_fleet(&self.node, &r.fleet_id, r.consistency).await?;
        let st = self.node.read_state();
        let matching = st
            .state
            .hosting
            .events
            .get(&f.id)
            .into_iter()
            .flatten()
            .filter(|e| r.start_time_millis.is_none_or(|t| e.event_time_ms >= t))
            .filter(|e| r.end_time_millis.is_none_or(|t| e.event_time_ms < t))
            .filter(|e| after.as_ref().is_none_or(|a| e.event_id > *a));
        let mut events: Vec<pb::Event> = matching.take(limit + 1).map(event).collect();
        let next_token = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|e| e.event_id.clone())
        } else {
            None
        };
        Ok(Response::new(pb::DescribeFleetEventsResponse {
            events,
            next_token,
        }))
    }

    async fn describe_fleet_utilization(
        &self,
        req: Request<pb::DescribeFleetUtilizationRequest>,
    ) -> Result<Response<pb::DescribeFleetUtilizationResponse>, Status> {
        let r = req.into_inner();
        check_fleet_list(&r.fleet_ids)?;
        read_barrier(&self.node, r.consistency).await?;
        let st = self.node.read_state();
        let fleets: Vec<&Fleet> = if r.fleet_ids.is_empty() {
            st.state.fleets.values().take(MAX_PAGE).collect()
        } else {
            let mut v = Vec::new();
            for id in &r.fleet_ids {
                v.push(
                    st.state
                        .fleet(id)
                        .ok_or_else(|| ApiError::from(FsmError::not_found("fleet", id)))?,
                );
            }
            v
        };
        let fleet_utilization = fleets
            .into_iter()
            .map(|f| {
                let active = st
                    .state
                    .hosting
                    .fleet_processes(&f.id)
                    .filter(|p| p.status == ProcessStatus::Active)
                    .count();
                // Live game sessions (ACTIVATING, ACTIVE, TERMINATING) sit on the fleet's
                // processes, so the process table finds them without a scan of all sessions.
                let (mut sessions, mut players, mut max) = (0i64, 0i64, 0i64);
                for gs in st
                    .state
                    .hosting
                    .fleet_processes(&f.id)
                    .filter_map(|p| p.game_session_id.as_ref())
                    .filter_map(|id| st.state.sessions.get(id))
                {
                    if gs.status == crate::fsm::GameSessionStatus::Active {
                        sessions += 1;
                    }
                    players += i64::from(gs.current_player_session_count);
                    max += i64::from(gs.maximum_player_session_count);
                }
                let clamp = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
                pb::FleetUtilization {
                    fleet_id: f.id.clone(),
                    fleet_arn: f.arn.clone(),
                    active_server_process_count: clamp(active as i64),
                    active_game_session_count: clamp(sessions),
                    current_player_session_count: clamp(players),
                    maximum_player_session_count: clamp(max),
                }
            })
            .collect();
        Ok(Response::new(pb::DescribeFleetUtilizationResponse {
            fleet_utilization,
        }))
    }

    async fn describe_fleet_processes(
        &self,
        req: Request<pb::DescribeFleetProcessesRequest>,
    ) -> Result<Response<pb::DescribeFleetProcessesResponse>, Status> {
        let r = req.into_inner();
        let f = read_fleet(&self.node, &r.fleet_id, r.consistency).await?;
        let names: std::collections::BTreeMap<u64, String> = {
            let m = self.node.raft.metrics().borrow().clone();
            m.membership_config
                .membership()
                .nodes()
                .map(|(id, n)| (*id, n.name.clone()))
                .collect()
        };
        let st = self.node.read_state();
        let processes = st
            .state
            .hosting
            .fleet_processes(&f.id)
            .map(|p| process(p, names.get(&p.node_id).cloned().unwrap_or_default()))
            .collect();
        Ok(Response::new(pb::DescribeFleetProcessesResponse {
            processes,
        }))
    }

    async fn create_game_session(
        &self,
        req: Request<pb::CreateGameSessionRequest>,
    ) -> Result<Response<pb::CreateGameSessionResponse>, Status> {
        sessions::create_game_session(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn describe_game_sessions(
        &self,
        req: Request<pb::DescribeGameSessionsRequest>,
    ) -> Result<Response<pb::DescribeGameSessionsResponse>, Status> {
        sessions::describe_game_sessions(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn describe_game_session_details(
        &self,
        req: Request<pb::DescribeGameSessionDetailsRequest>,
    ) -> Result<Response<pb::DescribeGameSessionDetailsResponse>, Status> {
        sessions::describe_game_session_details(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn search_game_sessions(
        &self,
        req: Request<pb::SearchGameSessionsRequest>,
    ) -> Result<Response<pb::SearchGameSessionsResponse>, Status> {
        sessions::search_game_sessions(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn update_game_session(
        &self,
        req: Request<pb::UpdateGameSessionRequest>,
    ) -> Result<Response<pb::UpdateGameSessionResponse>, Status> {
        sessions::update_game_session(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn terminate_game_session(
        &self,
        req: Request<pb::TerminateGameSessionRequest>,
    ) -> Result<Response<pb::TerminateGameSessionResponse>, Status> {
        sessions::terminate_game_session(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn create_player_session(
        &self,
        req: Request<pb::CreatePlayerSessionRequest>,
    ) -> Result<Response<pb::CreatePlayerSessionResponse>, Status> {
        sessions::create_player_session(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn create_player_sessions(
        &self,
        req: Request<pb::CreatePlayerSessionsRequest>,
    ) -> Result<Response<pb::CreatePlayerSessionsResponse>, Status> {
        sessions::create_player_sessions(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn describe_player_sessions(
        &self,
        req: Request<pb::DescribePlayerSessionsRequest>,
    ) -> Result<Response<pb::DescribePlayerSessionsResponse>, Status> {
        sessions::describe_player_sessions(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn create_alias(
        &self,
        req: Request<pb::CreateAliasRequest>,
    ) -> Result<Response<pb::CreateAliasResponse>, Status> {
        sessions::create_alias(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn describe_alias(
        &self,
        req: Request<pb::DescribeAliasRequest>,
    ) -> Result<Response<pb::DescribeAliasResponse>, Status> {
        sessions::describe_alias(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn list_aliases(
        &self,
        req: Request<pb::ListAliasesRequest>,
    ) -> Result<Response<pb::ListAliasesResponse>, Status> {
        sessions::list_aliases(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn update_alias(
        &self,
        req: Request<pb::UpdateAliasRequest>,
    ) -> Result<Response<pb::UpdateAliasResponse>, Status> {
        sessions::update_alias(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn delete_alias(
        &self,
        req: Request<pb::DeleteAliasRequest>,
    ) -> Result<Response<pb::DeleteAliasResponse>, Status> {
        sessions::delete_alias(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn resolve_alias(
        &self,
        req: Request<pb::ResolveAliasRequest>,
    ) -> Result<Response<pb::ResolveAliasResponse>, Status> {
        sessions::resolve_alias(&self.node, req.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }
}
