//! Tests of [`Client`] against an in-process fake node (tonic `GameLift` and
//! `Admin` servers on 127.0.0.1:0): retries and their limits, idempotency
//! tokens across retries, endpoint failover, paging, read consistency, and
//! the requests the fleet hosting calls send. The fake's game session,
//! player session and alias RPCs, and their tests, are in `sessions`; client-side batching
//! against a fake `Batch` service is in `batch`.

mod batch;
mod sessions;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gamefleet_proto::v1 as pb;
use pb::admin_server::{Admin, AdminServer};
use pb::game_lift_server::{GameLift, GameLiftServer};
use tonic::metadata::MetadataValue;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use super::*;
use crate::error::EXCEPTION_METADATA_KEY;
use crate::types::{InstanceCounts, ServerProcess};

/// Number of fleets the fake lists when asked for all of them.
const LISTED: usize = 250;
/// Number of events in every fleet's log; event `i` happened at `i` seconds.
const EVENTS: i64 = 250;
/// Fleets DescribeFleetUtilization reports when asked for all of them.
const UTILIZED: usize = 3;

/// A fake node: scripted failures, and a record of what it was sent.
#[derive(Default)]
struct Fake {
    /// CreateFleet answers UNAVAILABLE this many more times.
    create_failures: AtomicUsize,
    /// DeleteFleet sleeps this long before answering.
    delete_delay: Mutex<Duration>,
    create_tokens: Mutex<Vec<String>>,
    describe_calls: AtomicUsize,
    delete_calls: AtomicUsize,
    consistencies: Mutex<Vec<i32>>,
    updates: Mutex<Vec<pb::UpdateFleetAttributesRequest>>,
    join_members: Mutex<Vec<Vec<String>>>,
    /// (operation, consistency) of every hosting read.
    hosting_reads: Mutex<Vec<(&'static str, i32)>>,
    runtime_updates: Mutex<Vec<pb::UpdateRuntimeConfigurationRequest>>,
    capacity_requests: Mutex<Vec<Vec<String>>>,
    capacity_updates: Mutex<Vec<pb::UpdateFleetCapacityRequest>>,
    event_requests: Mutex<Vec<pb::DescribeFleetEventsRequest>>,
    utilization_requests: Mutex<Vec<Vec<String>>>,
    /// The game session, player session and alias side of the fake.
    sessions: sessions::FakeSessions,
}

impl Fake {
    fn hosting_read(&self, op: &'static str, consistency: i32) {
        self.hosting_reads.lock().unwrap().push((op, consistency));
    }
}

fn exception(status: Status, name: &'static str) -> Status {
    let mut status = status;
    status
        .metadata_mut()
        .insert(EXCEPTION_METADATA_KEY, MetadataValue::from_static(name));
    status
}

fn fake_fleet(id: &str) -> pb::FleetAttributes {
    pb::FleetAttributes {
        fleet_id: id.to_string(),
        fleet_arn: format!("arn:aws:gamelift:local::fleet/{id}"),
        name: "arena".into(),
        status: pb::FleetStatus::New as i32,
        creation_time_millis: 1,
        ..Default::default()
    }
}

fn not_found(what: &str) -> Status {
    exception(
        Status::not_found(format!("{what} not found")),
        "NotFoundException",
    )
}

fn invalid(message: &str) -> Status {
    exception(
        Status::invalid_argument(message.to_string()),
        "InvalidRequestException",
    )
}

fn fake_runtime_configuration() -> pb::RuntimeConfiguration {
    pb::RuntimeConfiguration {
        server_processes: vec![pb::ServerProcess {
            launch_path: "/srv/game".into(),
            parameters: Some("-port {port}".into()),
            concurrent_executions: 2,
        }],
        max_concurrent_game_session_activations: None,
        game_session_activation_timeout_seconds: Some(120),
    }
}

/// Event `i` of the fake's log: id `event-<i, 12 digits>`, at `i` seconds.
fn fake_event(fleet_id: &str, i: i64) -> pb::Event {
    pb::Event {
        event_id: format!("event-{i:012}"),
        resource_id: fleet_id.to_string(),
        event_code: "GENERIC_EVENT".into(),
        message: format!("event {i}"),
        event_time_millis: i * 1000,
    }
}

fn fake_utilization(id: &str) -> pb::FleetUtilization {
    pb::FleetUtilization {
        fleet_id: id.to_string(),
        fleet_arn: format!("arn:aws:gamelift:local::fleet/{id}"),
        active_server_process_count: 2,
        ..Default::default()
    }
}

/// Pages over `LISTED` items: `next_token` is the offset of the next page.
fn page(limit: Option<i32>, token: Option<String>) -> (std::ops::Range<usize>, Option<String>) {
    let start: usize = token.map_or(0, |t| t.parse().unwrap());
    let end = (start + limit.unwrap_or(10) as usize).min(LISTED);
    let next = (end < LISTED).then(|| end.to_string());
    (start..end, next)
}

#[tonic::async_trait]
impl GameLift for Fake {
    async fn create_fleet(
        &self,
        request: Request<pb::CreateFleetRequest>,
    ) -> Result<Response<pb::CreateFleetResponse>, Status> {
        let req = request.into_inner();
        let token = req.idempotency_token.clone().unwrap_or_default();
        self.create_tokens.lock().unwrap().push(token.clone());
        let left = self.create_failures.load(Ordering::SeqCst);
        if left > 0 {
            self.create_failures.store(left - 1, Ordering::SeqCst);
            return Err(Status::unavailable("no leader"));
        }
        let mut fleet = fake_fleet(&format!("fleet-{token}"));
        fleet.name = req.name;
        Ok(Response::new(pb::CreateFleetResponse {
            fleet_attributes: Some(fleet),
        }))
    }

    async fn describe_fleet_attributes(
        &self,
        request: Request<pb::DescribeFleetAttributesRequest>,
    ) -> Result<Response<pb::DescribeFleetAttributesResponse>, Status> {
        self.describe_calls.fetch_add(1, Ordering::SeqCst);
        let req = request.into_inner();
        self.consistencies.lock().unwrap().push(req.consistency);
        if req.fleet_ids.iter().any(|id| id == "fleet-missing") {
            return Err(exception(
                Status::not_found("fleet fleet-missing not found"),
                "NotFoundException",
            ));
        }
        if !req.fleet_ids.is_empty() {
            return Ok(Response::new(pb::DescribeFleetAttributesResponse {
                fleet_attributes: req.fleet_ids.iter().map(|id| fake_fleet(id)).collect(),
                next_token: None,
            }));
        }
        let (range, next_token) = page(req.limit, req.next_token);
        Ok(Response::new(pb::DescribeFleetAttributesResponse {
            fleet_attributes: range.map(|i| fake_fleet(&format!("fleet-{i}"))).collect(),
            next_token,
        }))
    }

    async fn list_fleets(
        &self,
        request: Request<pb::ListFleetsRequest>,
    ) -> Result<Response<pb::ListFleetsResponse>, Status> {
        let req = request.into_inner();
        self.consistencies.lock().unwrap().push(req.consistency);
        let (range, next_token) = page(req.limit, req.next_token);
        Ok(Response::new(pb::ListFleetsResponse {
            fleet_ids: range.map(|i| format!("fleet-{i}")).collect(),
            next_token,
        }))
    }

    async fn update_fleet_attributes(
        &self,
        request: Request<pb::UpdateFleetAttributesRequest>,
    ) -> Result<Response<pb::UpdateFleetAttributesResponse>, Status> {
        let req = request.into_inner();
        self.updates.lock().unwrap().push(req.clone());
        Ok(Response::new(pb::UpdateFleetAttributesResponse {
            fleet_arn: format!("arn:aws:gamelift:local::fleet/{}", req.fleet_id),
            fleet_id: req.fleet_id,
        }))
    }

    async fn delete_fleet(
        &self,
        _request: Request<pb::DeleteFleetRequest>,
    ) -> Result<Response<pb::DeleteFleetResponse>, Status> {
        self.delete_calls.fetch_add(1, Ordering::SeqCst);
        let delay = *self.delete_delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        Ok(Response::new(pb::DeleteFleetResponse {}))
    }

    async fn describe_runtime_configuration(
        &self,
        request: Request<pb::DescribeRuntimeConfigurationRequest>,
    ) -> Result<Response<pb::DescribeRuntimeConfigurationResponse>, Status> {
        let req = request.into_inner();
        self.hosting_read("DescribeRuntimeConfiguration", req.consistency);
        let runtime_configuration = match req.fleet_id.as_str() {
            "fleet-missing" => return Err(not_found("fleet fleet-missing")),
            // A data-only fleet has none.
            "fleet-data" => None,
            _ => Some(fake_runtime_configuration()),
        };
        Ok(Response::new(pb::DescribeRuntimeConfigurationResponse {
            runtime_configuration,
        }))
    }

    async fn update_runtime_configuration(
        &self,
        request: Request<pb::UpdateRuntimeConfigurationRequest>,
    ) -> Result<Response<pb::UpdateRuntimeConfigurationResponse>, Status> {
        let req = request.into_inner();
        self.runtime_updates.lock().unwrap().push(req.clone());
        let Some(rc) = req.runtime_configuration else {
            return Err(invalid("runtime_configuration: is required"));
        };
        if rc.server_processes.is_empty() {
            return Err(invalid(
                "runtime_configuration.server_processes: at least 1 entry is required",
            ));
        }
        Ok(Response::new(pb::UpdateRuntimeConfigurationResponse {
            runtime_configuration: Some(rc),
        }))
    }

    async fn describe_fleet_capacity(
        &self,
        request: Request<pb::DescribeFleetCapacityRequest>,
    ) -> Result<Response<pb::DescribeFleetCapacityResponse>, Status> {
        let req = request.into_inner();
        self.hosting_read("DescribeFleetCapacity", req.consistency);
        self.capacity_requests
            .lock()
            .unwrap()
            .push(req.fleet_ids.clone());
        if req.fleet_ids.is_empty() {
            return Err(invalid("fleet_ids: at least one fleet id is required"));
        }
        if req.fleet_ids.len() > MAX_IDS_PER_DESCRIBE {
            return Err(invalid("fleet_ids: at most 100 entries allowed"));
        }
        let fleet_capacity = req
            .fleet_ids
            .iter()
            .enumerate()
            .map(|(i, id)| pb::FleetCapacity {
                fleet_id: id.clone(),
                fleet_arn: format!("arn:aws:gamelift:local::fleet/{id}"),
                instance_counts: Some(pb::InstanceCounts {
                    desired: 2,
                    minimum: 1,
                    maximum: 4,
                    active: i32::try_from(i % 3).unwrap(),
                }),
            })
            .collect();
        Ok(Response::new(pb::DescribeFleetCapacityResponse {
            fleet_capacity,
        }))
    }

    async fn update_fleet_capacity(
        &self,
        request: Request<pb::UpdateFleetCapacityRequest>,
    ) -> Result<Response<pb::UpdateFleetCapacityResponse>, Status> {
        let req = request.into_inner();
        self.capacity_updates.lock().unwrap().push(req.clone());
        Ok(Response::new(pb::UpdateFleetCapacityResponse {
            fleet_arn: format!("arn:aws:gamelift:local::fleet/{}", req.fleet_id),
            fleet_id: req.fleet_id,
        }))
    }

    /// Pages like the node: at most `limit` events after the token (the
    /// last event id of the previous page), `start` inclusive, `end` exclusive.
    async fn describe_fleet_events(
        &self,
        request: Request<pb::DescribeFleetEventsRequest>,
    ) -> Result<Response<pb::DescribeFleetEventsResponse>, Status> {
        let req = request.into_inner();
        self.hosting_read("DescribeFleetEvents", req.consistency);
        self.event_requests.lock().unwrap().push(req.clone());
        if req.fleet_id == "fleet-missing" {
            return Err(not_found("fleet fleet-missing"));
        }
        let limit = usize::try_from(req.limit.unwrap_or(10)).unwrap();
        let after = req.next_token.clone().unwrap_or_default();
        let mut events: Vec<pb::Event> = (0..EVENTS)
            .map(|i| fake_event(&req.fleet_id, i))
            .filter(|e| {
                req.start_time_millis
                    .is_none_or(|t| e.event_time_millis >= t)
            })
            .filter(|e| req.end_time_millis.is_none_or(|t| e.event_time_millis < t))
            .filter(|e| e.event_id > after)
            .take(limit + 1)
            .collect();
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
        request: Request<pb::DescribeFleetUtilizationRequest>,
    ) -> Result<Response<pb::DescribeFleetUtilizationResponse>, Status> {
        let req = request.into_inner();
        self.hosting_read("DescribeFleetUtilization", req.consistency);
        self.utilization_requests
            .lock()
            .unwrap()
            .push(req.fleet_ids.clone());
        if req.fleet_ids.len() > MAX_IDS_PER_DESCRIBE {
            return Err(invalid("fleet_ids: at most 100 entries allowed"));
        }
        let fleet_utilization = if req.fleet_ids.is_empty() {
            (0..UTILIZED)
                .map(|i| fake_utilization(&format!("fleet-{i}")))
                .collect()
        } else {
            req.fleet_ids
                .iter()
                .map(|id| fake_utilization(id))
                .collect()
        };
        Ok(Response::new(pb::DescribeFleetUtilizationResponse {
            fleet_utilization,
        }))
    }

    async fn describe_fleet_processes(
        &self,
        request: Request<pb::DescribeFleetProcessesRequest>,
    ) -> Result<Response<pb::DescribeFleetProcessesResponse>, Status> {
        let req = request.into_inner();
        self.hosting_read("DescribeFleetProcesses", req.consistency);
        let process = |n: u64, ready: i64| pb::ServerProcessStatus {
            process_id: format!("proc-{n}"),
            fleet_id: req.fleet_id.clone(),
            node_id: n,
            node_name: format!("n{n}"),
            pid: 1000 + u32::try_from(n).unwrap(),
            port: 30000 + u32::try_from(n).unwrap(),
            status: if ready == 0 { "LAUNCHING" } else { "ACTIVE" }.into(),
            health: "HEALTHY".into(),
            launch_time_millis: 5_000,
            ready_time_millis: ready,
            launch_path: "/srv/game".into(),
        };
        Ok(Response::new(pb::DescribeFleetProcessesResponse {
            processes: vec![process(1, 6_000), process(2, 0)],
        }))
    }

    async fn create_game_session(
        &self,
        request: Request<pb::CreateGameSessionRequest>,
    ) -> Result<Response<pb::CreateGameSessionResponse>, Status> {
        self.sessions
            .create_game_session(request.into_inner())
            .map(Response::new)
    }

    async fn describe_game_sessions(
        &self,
        request: Request<pb::DescribeGameSessionsRequest>,
    ) -> Result<Response<pb::DescribeGameSessionsResponse>, Status> {
        self.sessions
            .describe_game_sessions(request.into_inner())
            .map(Response::new)
    }

    async fn describe_game_session_details(
        &self,
        request: Request<pb::DescribeGameSessionDetailsRequest>,
    ) -> Result<Response<pb::DescribeGameSessionDetailsResponse>, Status> {
        self.sessions
            .describe_game_session_details(request.into_inner())
            .map(Response::new)
    }

    async fn search_game_sessions(
        &self,
        request: Request<pb::SearchGameSessionsRequest>,
    ) -> Result<Response<pb::SearchGameSessionsResponse>, Status> {
        self.sessions
            .search_game_sessions(request.into_inner())
            .map(Response::new)
    }

    async fn update_game_session(
        &self,
        request: Request<pb::UpdateGameSessionRequest>,
    ) -> Result<Response<pb::UpdateGameSessionResponse>, Status> {
        self.sessions
            .update_game_session(request.into_inner())
            .map(Response::new)
    }

    async fn terminate_game_session(
        &self,
        request: Request<pb::TerminateGameSessionRequest>,
    ) -> Result<Response<pb::TerminateGameSessionResponse>, Status> {
        self.sessions
            .terminate_game_session(request.into_inner())
            .map(Response::new)
    }

    async fn create_player_session(
        &self,
        request: Request<pb::CreatePlayerSessionRequest>,
    ) -> Result<Response<pb::CreatePlayerSessionResponse>, Status> {
        self.sessions
            .create_player_session(request.into_inner())
            .map(Response::new)
    }

    async fn create_player_sessions(
        &self,
        request: Request<pb::CreatePlayerSessionsRequest>,
    ) -> Result<Response<pb::CreatePlayerSessionsResponse>, Status> {
        self.sessions
            .create_player_sessions(request.into_inner())
            .map(Response::new)
    }

    async fn describe_player_sessions(
        &self,
        request: Request<pb::DescribePlayerSessionsRequest>,
    ) -> Result<Response<pb::DescribePlayerSessionsResponse>, Status> {
        self.sessions
            .describe_player_sessions(request.into_inner())
            .map(Response::new)
    }

    async fn create_alias(
        &self,
        request: Request<pb::CreateAliasRequest>,
    ) -> Result<Response<pb::CreateAliasResponse>, Status> {
        self.sessions
            .create_alias(request.into_inner())
            .map(Response::new)
    }

    async fn describe_alias(
        &self,
        request: Request<pb::DescribeAliasRequest>,
    ) -> Result<Response<pb::DescribeAliasResponse>, Status> {
        self.sessions
            .describe_alias(request.into_inner())
            .map(Response::new)
    }

    async fn list_aliases(
        &self,
        request: Request<pb::ListAliasesRequest>,
    ) -> Result<Response<pb::ListAliasesResponse>, Status> {
        self.sessions
            .list_aliases(request.into_inner())
            .map(Response::new)
    }

    async fn update_alias(
        &self,
        request: Request<pb::UpdateAliasRequest>,
    ) -> Result<Response<pb::UpdateAliasResponse>, Status> {
        self.sessions
            .update_alias(request.into_inner())
            .map(Response::new)
    }

    async fn delete_alias(
        &self,
        request: Request<pb::DeleteAliasRequest>,
    ) -> Result<Response<pb::DeleteAliasResponse>, Status> {
        self.sessions
            .delete_alias(request.into_inner())
            .map(Response::new)
    }

    async fn resolve_alias(
        &self,
        request: Request<pb::ResolveAliasRequest>,
    ) -> Result<Response<pb::ResolveAliasResponse>, Status> {
        self.sessions
            .resolve_alias(request.into_inner())
            .map(Response::new)
    }
}

#[tonic::async_trait]
impl Admin for Fake {
    async fn cluster_status(
        &self,
        _request: Request<pb::ClusterStatusRequest>,
    ) -> Result<Response<pb::ClusterStatusResponse>, Status> {
        Ok(Response::new(pb::ClusterStatusResponse {
            cluster_id: "c-1".into(),
            leader_id: 1,
            leader_name: "n1".into(),
            term: 3,
            nodes: vec![pb::NodeStatus {
                node_id: 1,
                name: "n1".into(),
                role: "LEADER".into(),
                ..Default::default()
            }],
            answered_by: 1,
        }))
    }

    async fn join_cluster(
        &self,
        request: Request<pb::JoinClusterRequest>,
    ) -> Result<Response<pb::JoinClusterResponse>, Status> {
        let members = request.into_inner().member_addresses;
        self.join_members.lock().unwrap().push(members);
        Ok(Response::new(pb::JoinClusterResponse {
            cluster_id: "c-1".into(),
            node_id: 4,
        }))
    }

    async fn add_node(
        &self,
        _request: Request<pb::AddNodeRequest>,
    ) -> Result<Response<pb::AddNodeResponse>, Status> {
        Err(Status::unimplemented("not in the fake"))
    }

    async fn remove_node(
        &self,
        request: Request<pb::RemoveNodeRequest>,
    ) -> Result<Response<pb::RemoveNodeResponse>, Status> {
        match request.into_inner().node.as_str() {
            "n2" | "2" => Ok(Response::new(pb::RemoveNodeResponse { node_id: 2 })),
            other => Err(exception(
                Status::not_found(format!("node {other} not found")),
                "NotFoundException",
            )),
        }
    }
}

/// Serves `fake` on a fresh 127.0.0.1 port; returns `host:port`.
async fn serve(fake: Arc<Fake>) -> String {
    serve_with(fake, None).await
}

/// Serves `fake`, and `batch` as its `Batch` service when given, on a fresh 127.0.0.1 port;
/// returns `host:port`.
async fn serve_with(fake: Arc<Fake>, batch: Option<Arc<batch::FakeBatch>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        Server::builder()
            .add_service(GameLiftServer::from_arc(Arc::clone(&fake)))
            .add_service(AdminServer::from_arc(fake))
            .add_optional_service(batch.map(pb::batch_server::BatchServer::from_arc))
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    addr.to_string()
}

/// An address nothing listens on (connections are refused).
fn dead_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

/// An address that accepts TCP connections and drops them at once, so every
/// call fails on a broken connection rather than a refused one.
async fn dropping_addr() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    addr.to_string()
}

fn client(endpoints: Vec<String>, attempt: Duration, total: Duration) -> Client {
    Client::with_options(ClientOptions {
        endpoints,
        attempt_timeout: attempt,
        total_timeout: total,
        consistency: Consistency::Linearizable,
        follow_leader: true,
        batch: false,
    })
    .unwrap()
}

fn arena() -> CreateFleetInput {
    CreateFleetInput {
        name: "arena".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn create_is_retried_with_the_same_idempotency_token() {
    let fake = Arc::new(Fake::default());
    fake.create_failures.store(3, Ordering::SeqCst);
    let c = client(
        vec![serve(Arc::clone(&fake)).await],
        Duration::from_secs(2),
        Duration::from_secs(10),
    );

    let fleet = c.create_fleet(arena()).await.unwrap();

    let tokens = fake.create_tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 4, "3 failures then a success: {tokens:?}");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
    let token = uuid::Uuid::parse_str(&tokens[0]).expect("a generated uuid");
    assert_eq!(token.get_version_num(), 4);
    assert_eq!(fleet.fleet_id, format!("fleet-{}", tokens[0]));
    assert_eq!(fleet.name, "arena");

    // A second call is a second create: a fresh token.
    c.create_fleet(arena()).await.unwrap();
    let tokens = fake.create_tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 5);
    assert_ne!(tokens[4], tokens[0]);
}

#[tokio::test]
async fn a_given_idempotency_token_is_sent_as_is() {
    let fake = Arc::new(Fake::default());
    fake.create_failures.store(1, Ordering::SeqCst);
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();
    let input = CreateFleetInput {
        idempotency_token: Some("my-token-1".into()),
        ..arena()
    };
    c.create_fleet(input).await.unwrap();
    assert_eq!(
        *fake.create_tokens.lock().unwrap(),
        vec!["my-token-1".to_string(), "my-token-1".to_string()]
    );
}

#[tokio::test]
async fn not_found_is_returned_at_once() {
    let fake = Arc::new(Fake::default());
    let live = serve(Arc::clone(&fake)).await;
    // Two endpoints: a retry would be visible as a second call.
    let c = client(
        vec![live.clone(), live],
        Duration::from_secs(2),
        Duration::from_secs(10),
    );
    let err = c.describe_fleet("fleet-missing").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.code, tonic::Code::NotFound);
    assert_eq!(err.to_string(), "NotFound: fleet fleet-missing not found");
    assert_eq!(fake.describe_calls.load(Ordering::SeqCst), 1);

    let err = c.remove_node("n9").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_over_to_the_next() {
    let fake = Arc::new(Fake::default());
    let c = client(
        vec![dead_addr(), serve(Arc::clone(&fake)).await],
        Duration::from_secs(2),
        Duration::from_secs(10),
    );
    let started = Instant::now();
    let fleet = c.create_fleet(arena()).await.unwrap();
    assert_eq!(fleet.name, "arena");
    assert_eq!(fake.create_tokens.lock().unwrap().len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // The node that answered is tried first from now on.
    let status = c.cluster_status().await.unwrap();
    assert_eq!(status.leader_id, Some(1));
    assert_eq!(c.remove_node("n2").await.unwrap(), 2);
}

#[tokio::test]
async fn a_broken_connection_fails_over_to_the_next() {
    let fake = Arc::new(Fake::default());
    let c = client(
        vec![dropping_addr().await, serve(Arc::clone(&fake)).await],
        Duration::from_secs(2),
        Duration::from_secs(10),
    );
    let fleet = c.create_fleet(arena()).await.unwrap();
    assert_eq!(fleet.name, "arena");
    assert_eq!(fake.create_tokens.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn gives_up_as_unavailable_after_the_total_timeout() {
    let fake = Arc::new(Fake::default());
    fake.create_failures.store(usize::MAX, Ordering::SeqCst);
    let c = client(
        vec![serve(Arc::clone(&fake)).await, dead_addr()],
        Duration::from_secs(1),
        Duration::from_millis(600),
    );
    let started = Instant::now();
    let err = c.create_fleet(arena()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert_eq!(err.code, tonic::Code::Unavailable);
    assert!(err.message.contains("gave up after"), "{err}");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    // Well under the 15 s default: the 600 ms total was honoured.
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let tokens = fake.create_tokens.lock().unwrap().clone();
    assert!(tokens.len() >= 2, "retried: {tokens:?}");
    assert!(tokens.iter().all(|t| *t == tokens[0]));
}

#[tokio::test]
async fn every_endpoint_down_is_unavailable() {
    let c = client(
        vec![dead_addr(), dead_addr()],
        Duration::from_secs(1),
        Duration::from_millis(300),
    );
    let err = c.list_fleets().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
}

#[tokio::test]
async fn slow_attempts_time_out_and_are_retried() {
    let fake = Arc::new(Fake::default());
    *fake.delete_delay.lock().unwrap() = Duration::from_secs(5);
    let c = client(
        vec![serve(Arc::clone(&fake)).await],
        Duration::from_millis(150),
        Duration::from_millis(700),
    );
    let started = Instant::now();
    let err = c.delete_fleet("fleet-1").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert_eq!(err.code, tonic::Code::DeadlineExceeded);
    // Well under the node's 5 s delay: attempts were cut off.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(fake.delete_calls.load(Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn reads_send_the_chosen_consistency() {
    let fake = Arc::new(Fake::default());
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();
    assert_eq!(c.consistency(), Consistency::Linearizable);
    c.describe_fleet("fleet-1").await.unwrap();
    let stale = c.with_consistency(Consistency::Stale);
    assert_eq!(stale.endpoints(), c.endpoints());
    stale.describe_fleet("fleet-1").await.unwrap();
    stale.list_fleets().await.unwrap();
    // The original handle is unchanged.
    c.list_fleets().await.unwrap();

    let seen = fake.consistencies.lock().unwrap().clone();
    let lin = pb::ReadConsistency::Linearizable as i32;
    let stl = pb::ReadConsistency::Stale as i32;
    let (first, rest) = seen.split_first().unwrap();
    assert_eq!(*first, lin);
    assert_eq!(rest[0], stl);
    // Every page of the stale listing is stale, every page of the other is not.
    let pages = LISTED.div_ceil(100);
    assert!(rest[1..=pages].iter().all(|c| *c == stl), "{seen:?}");
    assert!(rest[pages + 1..].iter().all(|c| *c == lin), "{seen:?}");
    assert_eq!(rest.len(), 1 + 2 * pages);
}

#[tokio::test]
async fn listings_follow_every_page() {
    let fake = Arc::new(Fake::default());
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();
    let ids = c.list_fleets().await.unwrap();
    let want: Vec<String> = (0..LISTED).map(|i| format!("fleet-{i}")).collect();
    assert_eq!(ids, want);

    let fleets = c.describe_fleets(&[]).await.unwrap();
    let got: Vec<String> = fleets.into_iter().map(|f| f.fleet_id).collect();
    assert_eq!(got, want);

    // More ids than one request may carry are split into several requests.
    let calls_before = fake.describe_calls.load(Ordering::SeqCst);
    let fleets = c.describe_fleets(&want).await.unwrap();
    assert_eq!(fleets.len(), LISTED);
    assert_eq!(
        fake.describe_calls.load(Ordering::SeqCst) - calls_before,
        LISTED.div_ceil(MAX_IDS_PER_DESCRIBE)
    );
}

#[tokio::test]
async fn update_sends_only_what_changes() {
    let fake = Arc::new(Fake::default());
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();
    c.update_fleet(UpdateFleetInput {
        fleet_id: "fleet-1".into(),
        name: Some("renamed".into()),
        metric_groups: Some(vec![]),
        ..Default::default()
    })
    .await
    .unwrap();
    c.update_fleet(UpdateFleetInput {
        fleet_id: "fleet-1".into(),
        placement_strategy: Some(crate::types::PlacementStrategy::Spread),
        ..Default::default()
    })
    .await
    .unwrap();
    let updates = fake.updates.lock().unwrap().clone();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].name.as_deref(), Some("renamed"));
    assert_eq!(updates[0].description, None);
    assert_eq!(updates[0].metric_groups, Some(pb::StringList::default()));
    assert_eq!(updates[0].placement_strategy, None);
    assert_eq!(
        updates[1].placement_strategy,
        Some(pb::GameSessionPlacementStrategy::Spread as i32)
    );
    assert_eq!(updates[1].name, None);
}

#[tokio::test]
async fn join_node_sends_the_client_endpoints_to_the_new_node() {
    let member = Arc::new(Fake::default());
    let newcomer = Arc::new(Fake::default());
    let member_addr = serve(Arc::clone(&member)).await;
    let newcomer_addr = serve(Arc::clone(&newcomer)).await;
    let c = Client::new([format!("http://{member_addr}"), dead_addr()]).unwrap();

    let (cluster, id) = c
        .join_node(&format!("http://{newcomer_addr}/"))
        .await
        .unwrap();
    assert_eq!((cluster.as_str(), id), ("c-1", 4));
    let sent = newcomer.join_members.lock().unwrap().clone();
    assert_eq!(sent, vec![c.endpoints().to_vec()]);
    assert_eq!(sent[0][0], member_addr, "normalized to host:port");
    assert!(member.join_members.lock().unwrap().is_empty());

    let err = c.join_node("not an address").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
}

#[test]
fn new_validates_and_normalizes_endpoints_without_a_runtime() {
    let err = Client::new(Vec::<String>::new()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(err.to_string(), "InvalidRequest: no endpoints given");

    let err = Client::new(["127.0.0.1:7400", "https://x:1"]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);

    let c = Client::new(["http://127.0.0.1:7400", "127.0.0.1:7401", "127.0.0.1:7400"]).unwrap();
    assert_eq!(c.endpoints(), ["127.0.0.1:7400", "127.0.0.1:7401"]);

    let err = Client::with_options(ClientOptions {
        endpoints: vec!["127.0.0.1:1".into()],
        total_timeout: Duration::ZERO,
        ..ClientOptions::default()
    })
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);

    let d = ClientOptions::default();
    assert_eq!(d.attempt_timeout, Duration::from_secs(5));
    assert_eq!(d.total_timeout, Duration::from_secs(15));
    assert_eq!(d.consistency, Consistency::Linearizable);
    assert_eq!(Consistency::default(), Consistency::Linearizable);
}

#[tokio::test]
async fn runtime_configuration_is_described_and_replaced() {
    let fake = Arc::new(Fake::default());
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();

    let rc = c.describe_runtime_configuration("fleet-1").await.unwrap();
    assert_eq!(rc, Some(fake_runtime_configuration().into()));
    // A data-only fleet has none; that is not an error.
    assert_eq!(
        c.describe_runtime_configuration("fleet-data")
            .await
            .unwrap(),
        None
    );
    let err = c
        .describe_runtime_configuration("fleet-missing")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    let new = RuntimeConfiguration {
        server_processes: vec![
            ServerProcess::new("/srv/a", 3),
            ServerProcess {
                launch_path: "/srv/b".into(),
                parameters: Some("-x".into()),
                concurrent_executions: 1,
            },
        ],
        max_concurrent_game_session_activations: Some(5),
        game_session_activation_timeout_seconds: None,
    };
    let back = c
        .update_runtime_configuration("fleet-1", new.clone())
        .await
        .unwrap();
    assert_eq!(back, new);
    let sent = fake.runtime_updates.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].fleet_id, "fleet-1");
    assert_eq!(sent[0].runtime_configuration, Some(new.into()));

    // The node's verdict on a bad configuration comes back as is, unretried.
    let err = c
        .update_runtime_configuration("fleet-1", RuntimeConfiguration::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.contains("server_processes"), "{err}");
    assert_eq!(fake.runtime_updates.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn capacity_update_sends_only_what_is_set() {
    let fake = Arc::new(Fake::default());
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();
    c.update_fleet_capacity("fleet-1", Some(3), None, None)
        .await
        .unwrap();
    c.update_fleet_capacity("fleet-2", None, Some(0), Some(5))
        .await
        .unwrap();
    let sent = fake.capacity_updates.lock().unwrap().clone();
    assert_eq!(
        sent,
        vec![
            pb::UpdateFleetCapacityRequest {
                fleet_id: "fleet-1".into(),
                desired_instances: Some(3),
                min_size: None,
                max_size: None,
            },
            pb::UpdateFleetCapacityRequest {
                fleet_id: "fleet-2".into(),
                desired_instances: None,
                min_size: Some(0),
                max_size: Some(5),
            },
        ]
    );
}

#[tokio::test]
async fn capacity_is_described_in_order_in_chunks_of_100() {
    let fake = Arc::new(Fake::default());
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();
    let ids: Vec<String> = (0..150).map(|i| format!("fleet-{i}")).collect();
    let caps = c.describe_fleet_capacity(&ids).await.unwrap();
    let got: Vec<&str> = caps.iter().map(|c| c.fleet_id.as_str()).collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        caps[1].instance_counts,
        InstanceCounts {
            desired: 2,
            minimum: 1,
            maximum: 4,
            active: 1
        }
    );
    let sent = fake.capacity_requests.lock().unwrap().clone();
    assert_eq!(sent.iter().map(Vec::len).collect::<Vec<_>>(), vec![100, 50]);

    // No ids: the request still goes out and the node's rule applies.
    let err = c.describe_fleet_capacity(&[]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(fake.capacity_requests.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn events_follow_next_token_pages() {
    let fake = Arc::new(Fake::default());
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();

    // Events 10 s ..< 240 s: 230 events, three pages of at most 100.
    let events = c
        .describe_fleet_events("fleet-1", Some(10_000), Some(240_000))
        .await
        .unwrap();
    let want: Vec<FleetEvent> = (10..240).map(|i| fake_event("fleet-1", i).into()).collect();
    assert_eq!(events, want);

    let sent = fake.event_requests.lock().unwrap().clone();
    assert_eq!(sent.len(), 3, "{sent:?}");
    let tokens: Vec<Option<&str>> = sent.iter().map(|r| r.next_token.as_deref()).collect();
    assert_eq!(
        tokens,
        vec![None, Some("event-000000000109"), Some("event-000000000209")]
    );
    for r in &sent {
        assert_eq!(r.fleet_id, "fleet-1");
        assert_eq!(r.start_time_millis, Some(10_000));
        assert_eq!(r.end_time_millis, Some(240_000));
        assert_eq!(r.limit, Some(PAGE_LIMIT));
    }

    // No bounds: nothing is sent for them, and every event comes back.
    let all = c
        .describe_fleet_events("fleet-1", None, None)
        .await
        .unwrap();
    assert_eq!(all.len(), usize::try_from(EVENTS).unwrap());
    let sent = fake.event_requests.lock().unwrap().clone();
    assert!(
        sent[3..]
            .iter()
            .all(|r| r.start_time_millis.is_none() && r.end_time_millis.is_none())
    );

    let err = c
        .describe_fleet_events("fleet-missing", None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn utilization_of_all_or_some_fleets() {
    let fake = Arc::new(Fake::default());
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();
    let all = c.describe_fleet_utilization(&[]).await.unwrap();
    assert_eq!(all.len(), UTILIZED);
    assert_eq!(all[0].fleet_id, "fleet-0");
    assert_eq!(all[0].active_server_process_count, 2);

    let ids: Vec<String> = (0..101).map(|i| format!("fleet-{i}")).collect();
    let some = c.describe_fleet_utilization(&ids).await.unwrap();
    assert_eq!(some.len(), 101);
    assert_eq!(some[100].fleet_id, "fleet-100");
    let sent = fake.utilization_requests.lock().unwrap().clone();
    assert_eq!(
        sent.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![0, 100, 1]
    );
}

#[tokio::test]
async fn processes_come_back_as_domain_types() {
    let fake = Arc::new(Fake::default());
    let c = Client::new([serve(Arc::clone(&fake)).await]).unwrap();
    let procs = c.describe_fleet_processes("fleet-1").await.unwrap();
    assert_eq!(procs.len(), 2);
    assert_eq!(procs[0].process_id, "proc-1");
    assert_eq!(procs[0].fleet_id, "fleet-1");
    assert_eq!((procs[0].node_id, procs[0].node_name.as_str()), (1, "n1"));
    assert_eq!((procs[0].pid, procs[0].port), (1001, 30001));
    assert_eq!(procs[0].ready_time, Some(6_000));
    assert_eq!(procs[1].status, "LAUNCHING");
    assert_eq!(procs[1].ready_time, None);
}

#[tokio::test]
async fn hosting_reads_send_the_chosen_consistency() {
    let fake = Arc::new(Fake::default());
    let lin = Client::new([serve(Arc::clone(&fake)).await]).unwrap();
    let ids = vec!["fleet-1".to_string()];
    for c in [lin.with_consistency(Consistency::Stale), lin.clone()] {
        c.describe_runtime_configuration("fleet-1").await.unwrap();
        c.describe_fleet_capacity(&ids).await.unwrap();
        c.describe_fleet_events("fleet-1", Some(245_000), None)
            .await
            .unwrap();
        c.describe_fleet_utilization(&ids).await.unwrap();
        c.describe_fleet_processes("fleet-1").await.unwrap();
    }
    let seen = fake.hosting_reads.lock().unwrap().clone();
    let ops = [
        "DescribeRuntimeConfiguration",
        "DescribeFleetCapacity",
        "DescribeFleetEvents",
        "DescribeFleetUtilization",
        "DescribeFleetProcesses",
    ];
    let stale = pb::ReadConsistency::Stale as i32;
    let linearizable = pb::ReadConsistency::Linearizable as i32;
    let want: Vec<(&str, i32)> = ops
        .iter()
        .map(|op| (*op, stale))
        .chain(ops.iter().map(|op| (*op, linearizable)))
        .collect();
    assert_eq!(seen, want);
}
