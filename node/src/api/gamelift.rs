//! The `GameLift` client service: fleet operations. Each handler validates its
//! input (bad input changes nothing), makes ids and timestamps, and either
//! proposes a command or reads the local replica behind the read barrier.

use std::sync::Arc;

use gamefleet_proto::v1 as pb;
use pb::game_lift_server::GameLift;
use tonic::{Request, Response, Status};

use super::convert::{fleet_attributes, page_limit, protection_policy, rclp, tags};
use super::error::ApiError;
use super::{now_ms, read_barrier};
use crate::fsm::fleet::{FleetSpec, FleetUpdate};
use crate::fsm::{Command, Output, fleet_id_of, validate};
use crate::server::Node;

/// Largest page DescribeFleetAttributes and ListFleets return.
const MAX_PAGE: usize = 100;

/// The client service.
pub struct GameLiftService {
    pub node: Arc<Node>,
}

fn fleet_of(out: Output) -> Result<crate::fsm::Fleet, ApiError> {
    match out {
        Output::Fleet(f) => Ok(f),
        Output::Done => Err(ApiError::Internal("expected a fleet result".into())),
    }
}

fn check_fleet_ref(field: &str, id_or_arn: &str) -> Result<(), ApiError> {
    validate::length(field, id_or_arn, 1, 512)?;
    validate::fleet_id(field, fleet_id_of(id_or_arn))?;
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
}
