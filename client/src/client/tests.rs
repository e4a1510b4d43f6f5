//! Tests of [`Client`] against an in-process fake node (tonic `GameLift` and
//! `Admin` servers on 127.0.0.1:0): retries and their limits, idempotency
//! tokens across retries, endpoint failover, paging and read consistency.

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

/// Number of fleets the fake lists when asked for all of them.
const LISTED: usize = 250;

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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        Server::builder()
            .add_service(GameLiftServer::from_arc(Arc::clone(&fake)))
            .add_service(AdminServer::from_arc(fake))
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
    let updates = fake.updates.lock().unwrap().clone();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].name.as_deref(), Some("renamed"));
    assert_eq!(updates[0].description, None);
    assert_eq!(updates[0].metric_groups, Some(pb::StringList::default()));
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
