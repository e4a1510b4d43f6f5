//! [`Client`]: the typed, retrying handle on a gamefleet cluster, its options
//! and read [`Consistency`].
//!
//! Every method builds one request and hands it to the retry loop in `retry`
//! (`Pool::call`); none of them loops on its own, except to follow
//! `next_token` pages (each page is its own retried call) and, in
//! `wait_for_game_session_active`, to poll. Fleet and cluster methods are
//! here; game and player session methods in `sessions`, alias methods in
//! `aliases`.

mod aliases;
mod sessions;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use gamefleet_proto::v1 as pb;
use pb::admin_client::AdminClient;
use pb::game_lift_client::GameLiftClient;

use crate::endpoint;
use crate::error::{ClientError, ErrorKind};
use crate::retry::{Pool, RetryPolicy};
use crate::types::{
    ClusterStatus, CreateFleetInput, Fleet, FleetCapacity, FleetEvent, FleetUtilization, Page,
    RuntimeConfiguration, ServerProcessStatus, UpdateFleetInput,
};

/// Most fleet ids one DescribeFleetAttributes, DescribeFleetCapacity or
/// DescribeFleetUtilization request may name.
const MAX_IDS_PER_DESCRIBE: usize = 100;
/// Page size asked for when listing.
const PAGE_LIMIT: i32 = 100;

/// How fresh a read must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Consistency {
    /// The answer reflects every write acknowledged before the read started
    /// (served through the leader). The default.
    #[default]
    Linearizable,
    /// Served from the answering node's local replica; may be stale, but
    /// works without a leader.
    Stale,
}

impl Consistency {
    fn to_proto(self) -> pb::ReadConsistency {
        match self {
            Consistency::Linearizable => pb::ReadConsistency::Linearizable,
            Consistency::Stale => pb::ReadConsistency::Stale,
        }
    }
}

/// Options of [`Client::with_options`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Node addresses, `host:port` or `http://host:port`; at least one.
    pub endpoints: Vec<String>,
    /// Limit of one attempt on one node (default 5 s).
    pub attempt_timeout: Duration,
    /// Limit of a whole call, retries included (default 15 s).
    pub total_timeout: Duration,
    /// Consistency of reads (default linearizable).
    pub consistency: Consistency,
    /// Send requests to the leader when it is one of `endpoints` (default true). Every node
    /// names the leader in its answers; with this on, the client's next requests go straight
    /// to it, which saves the hop a follower would make to forward a write. Off, the client
    /// keeps to the node that answered last.
    pub follow_leader: bool,
    /// Client-side batching (default false): concurrent calls on this handle (and its clones)
    /// that go to the same node travel together in one `Batch` RPC, each with its own result,
    /// retries and errors. It saves the nodes most of the per-request cost of small writes
    /// under load; a lone call still leaves at once. Covers fleet attribute updates and
    /// describes, game session create/describe/update/terminate, and player session
    /// reservations and describes; other calls are sent alone.
    pub batch: bool,
}

impl Default for ClientOptions {
    /// No endpoints (fill them in), 5 s per attempt, 15 s in total,
    /// linearizable reads, requests sent to the leader, no batching.
    fn default() -> ClientOptions {
        ClientOptions {
            endpoints: Vec::new(),
            attempt_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            consistency: Consistency::Linearizable,
            follow_leader: true,
            batch: false,
        }
    }
}

/// A handle on a gamefleet cluster. Cheap to clone; clones share connections.
///
/// Connections are made lazily, on first use, one per node. A call that
/// fails because a node is down, has no leader or times out is retried on the
/// next node until the total timeout; any other error is returned at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    consistency: Consistency,
}

struct Inner {
    /// Normalized `host:port` addresses, in the order given.
    endpoints: Vec<String>,
    pool: Pool,
    policy: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.inner.endpoints)
            .field("policy", &self.inner.policy)
            .field("consistency", &self.consistency)
            .finish()
    }
}

impl Client {
    /// A client with default options for the given node addresses
    /// (`host:port` or `http://host:port`). Fails with `InvalidRequest` for an
    /// empty list or a malformed address. Connects to nothing yet, and may be
    /// called outside a Tokio runtime.
    pub fn new<I, S>(endpoints: I) -> Result<Client, ClientError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Client::with_options(ClientOptions {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            ..ClientOptions::default()
        })
    }

    /// A client with the given options; see [`Client::new`].
    pub fn with_options(opts: ClientOptions) -> Result<Client, ClientError> {
        if opts.attempt_timeout.is_zero() || opts.total_timeout.is_zero() {
            return Err(ClientError::invalid_request(
                "attempt_timeout and total_timeout must be greater than zero",
            ));
        }
        let mut endpoints: Vec<String> = Vec::with_capacity(opts.endpoints.len());
        for raw in &opts.endpoints {
            let addr = endpoint::normalize(raw)?;
            if !endpoints.contains(&addr) {
                endpoints.push(addr);
            }
        }
        let pool = Pool::new(&endpoints, opts.attempt_timeout)?
            .follow_leader(opts.follow_leader)
            .batching(opts.batch);
        Ok(Client {
            inner: Arc::new(Inner {
                endpoints,
                pool,
                policy: RetryPolicy {
                    attempt_timeout: opts.attempt_timeout,
                    total_timeout: opts.total_timeout,
                },
            }),
            consistency: opts.consistency,
        })
    }

    /// The node addresses, normalized to `host:port` (duplicates dropped).
    pub fn endpoints(&self) -> &[String] {
        &self.inner.endpoints
    }

    /// The consistency this client's reads use.
    pub fn consistency(&self) -> Consistency {
        self.consistency
    }

    /// A clone of this client (sharing its connections) whose reads use `c`.
    pub fn with_consistency(&self, c: Consistency) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            consistency: c,
        }
    }

    fn read_consistency(&self) -> i32 {
        self.consistency.to_proto() as i32
    }

    /// Creates a fleet (status `NEW`). Without an idempotency token in
    /// `input`, a UUID v4 is generated; the same token is sent on every
    /// retry, so a retried create returns the original fleet.
    pub async fn create_fleet(&self, input: CreateFleetInput) -> Result<Fleet, ClientError> {
        let token = input
            .idempotency_token
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let req = input.into_request(token);
        let resp = self
            .inner
            .pool
            .call(self.inner.policy, "CreateFleet", req, |ch, r| async move {
                GameLiftClient::new(ch).create_fleet(r).await
            })
            .await?;
        resp.fleet_attributes
            .map(Fleet::from)
            .ok_or_else(|| missing("CreateFleet", "fleet_attributes"))
    }

    /// Describes one fleet by id or ARN; `NotFound` when there is none.
    pub async fn describe_fleet(&self, fleet_id: &str) -> Result<Fleet, ClientError> {
        let fleets = self
            .describe_page(vec![fleet_id.to_string()], None)
            .await?
            .0;
        fleets.into_iter().next().ok_or_else(|| {
            ClientError::new(
                ErrorKind::NotFound,
                tonic::Code::NotFound,
                format!("fleet {fleet_id} not found"),
            )
        })
    }

    /// Describes the given fleets (ids or ARNs), or every fleet when
    /// `fleet_ids` is empty (following `next_token` pages).
    pub async fn describe_fleets(&self, fleet_ids: &[String]) -> Result<Vec<Fleet>, ClientError> {
        let mut fleets = Vec::new();
        if fleet_ids.is_empty() {
            let mut token = None;
            loop {
                let (page, next) = self.describe_page(Vec::new(), token.take()).await?;
                fleets.extend(page);
                match next {
                    Some(next) => token = Some(next),
                    None => break,
                }
            }
        } else {
            for chunk in fleet_ids.chunks(MAX_IDS_PER_DESCRIBE) {
                fleets.extend(self.describe_page(chunk.to_vec(), None).await?.0);
            }
        }
        Ok(fleets)
    }

    async fn describe_page(
        &self,
        fleet_ids: Vec<String>,
        next_token: Option<String>,
    ) -> Result<(Vec<Fleet>, Option<String>), ClientError> {
        let limit = fleet_ids.is_empty().then_some(PAGE_LIMIT);
        let req = pb::DescribeFleetAttributesRequest {
            fleet_ids,
            limit,
            next_token,
            consistency: self.read_consistency(),
        };
        let resp = self
            .inner
            .pool
            .call_batchable(
                self.inner.policy,
                "DescribeFleetAttributes",
                req,
                |ch, r| async move { GameLiftClient::new(ch).describe_fleet_attributes(r).await },
            )
            .await?;
        let fleets = resp.fleet_attributes.into_iter().map(Fleet::from).collect();
        Ok((fleets, next_page(resp.next_token)))
    }

    /// Lists every fleet id (following `next_token` pages).
    pub async fn list_fleets(&self) -> Result<Vec<String>, ClientError> {
        let mut ids = Vec::new();
        let mut next_token = None;
        loop {
            let req = pb::ListFleetsRequest {
                limit: Some(PAGE_LIMIT),
                next_token: next_token.take(),
                consistency: self.read_consistency(),
            };
            let resp = self
                .inner
                .pool
                .call(self.inner.policy, "ListFleets", req, |ch, r| async move {
                    GameLiftClient::new(ch).list_fleets(r).await
                })
                .await?;
            ids.extend(resp.fleet_ids);
            match next_page(resp.next_token) {
                Some(next) => next_token = Some(next),
                None => return Ok(ids),
            }
        }
    }

    /// Updates a fleet's attributes; fields left `None` are unchanged.
    pub async fn update_fleet(&self, input: UpdateFleetInput) -> Result<(), ClientError> {
        let req = pb::UpdateFleetAttributesRequest::from(input);
        self.inner
            .pool
            .call_batchable(
                self.inner.policy,
                "UpdateFleetAttributes",
                req,
                |ch, r| async move { GameLiftClient::new(ch).update_fleet_attributes(r).await },
            )
            .await?;
        Ok(())
    }

    /// Starts deleting a fleet (status `DELETING`, then the record goes).
    pub async fn delete_fleet(&self, fleet_id: &str) -> Result<(), ClientError> {
        let req = pb::DeleteFleetRequest {
            fleet_id: fleet_id.to_string(),
        };
        self.inner
            .pool
            .call(self.inner.policy, "DeleteFleet", req, |ch, r| async move {
                GameLiftClient::new(ch).delete_fleet(r).await
            })
            .await?;
        Ok(())
    }

    /// A fleet's runtime configuration; `None` for a data-only fleet (one
    /// created without server processes).
    pub async fn describe_runtime_configuration(
        &self,
        fleet_id: &str,
    ) -> Result<Option<RuntimeConfiguration>, ClientError> {
        let req = pb::DescribeRuntimeConfigurationRequest {
            fleet_id: fleet_id.to_string(),
            consistency: self.read_consistency(),
        };
        let resp = self
            .inner
            .pool
            .call(
                self.inner.policy,
                "DescribeRuntimeConfiguration",
                req,
                |ch, r| async move {
                    GameLiftClient::new(ch)
                        .describe_runtime_configuration(r)
                        .await
                },
            )
            .await?;
        Ok(resp.runtime_configuration.map(RuntimeConfiguration::from))
    }

    /// Replaces a fleet's runtime configuration (running processes are
    /// replaced as they end); returns the configuration now in force.
    pub async fn update_runtime_configuration(
        &self,
        fleet_id: &str,
        runtime_configuration: RuntimeConfiguration,
    ) -> Result<RuntimeConfiguration, ClientError> {
        let req = pb::UpdateRuntimeConfigurationRequest {
            fleet_id: fleet_id.to_string(),
            runtime_configuration: Some(runtime_configuration.into()),
        };
        let resp = self
            .inner
            .pool
            .call(
                self.inner.policy,
                "UpdateRuntimeConfiguration",
                req,
                |ch, r| async move {
                    GameLiftClient::new(ch)
                        .update_runtime_configuration(r)
                        .await
                },
            )
            .await?;
        resp.runtime_configuration
            .map(RuntimeConfiguration::from)
            .ok_or_else(|| missing("UpdateRuntimeConfiguration", "runtime_configuration"))
    }

    /// Instance counts of the given fleets (ids or ARNs), in the order
    /// asked. The server wants at least one id; more than 100 are split into
    /// several requests.
    pub async fn describe_fleet_capacity(
        &self,
        fleet_ids: &[String],
    ) -> Result<Vec<FleetCapacity>, ClientError> {
        let mut out = Vec::new();
        for chunk in id_chunks(fleet_ids) {
            let req = pb::DescribeFleetCapacityRequest {
                fleet_ids: chunk.to_vec(),
                consistency: self.read_consistency(),
            };
            let resp = self
                .inner
                .pool
                .call(
                    self.inner.policy,
                    "DescribeFleetCapacity",
                    req,
                    |ch, r| async move { GameLiftClient::new(ch).describe_fleet_capacity(r).await },
                )
                .await?;
            out.extend(resp.fleet_capacity.into_iter().map(FleetCapacity::from));
        }
        Ok(out)
    }

    /// Changes a fleet's desired, minimum and maximum instances (hosting
    /// nodes). Only the counts given are sent; the others keep their value.
    /// The result must satisfy `0 <= minimum <= desired <= maximum`.
    pub async fn update_fleet_capacity(
        &self,
        fleet_id: &str,
        desired: Option<i32>,
        min: Option<i32>,
        max: Option<i32>,
    ) -> Result<(), ClientError> {
        let req = pb::UpdateFleetCapacityRequest {
            fleet_id: fleet_id.to_string(),
            desired_instances: desired,
            min_size: min,
            max_size: max,
        };
        self.inner
            .pool
            .call(
                self.inner.policy,
                "UpdateFleetCapacity",
                req,
                |ch, r| async move { GameLiftClient::new(ch).update_fleet_capacity(r).await },
            )
            .await?;
        Ok(())
    }

    /// A fleet's events, oldest first (following `next_token` pages), at or
    /// after `start` and before `end` (Unix epoch milliseconds) when given.
    pub async fn describe_fleet_events(
        &self,
        fleet_id: &str,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Vec<FleetEvent>, ClientError> {
        let mut events = Vec::new();
        let mut next_token = None;
        loop {
            let req = pb::DescribeFleetEventsRequest {
                fleet_id: fleet_id.to_string(),
                start_time_millis: start,
                end_time_millis: end,
                limit: Some(PAGE_LIMIT),
                next_token: next_token.take(),
                consistency: self.read_consistency(),
            };
            let resp = self
                .inner
                .pool
                .call(
                    self.inner.policy,
                    "DescribeFleetEvents",
                    req,
                    |ch, r| async move { GameLiftClient::new(ch).describe_fleet_events(r).await },
                )
                .await?;
            events.extend(resp.events.into_iter().map(FleetEvent::from));
            match next_page(resp.next_token) {
                Some(next) => next_token = Some(next),
                None => return Ok(events),
            }
        }
    }

    /// Active processes, game sessions and players of the given fleets (ids
    /// or ARNs; more than 100 are split into several requests), or of every
    /// fleet when `fleet_ids` is empty (the server answers for at most 100).
    pub async fn describe_fleet_utilization(
        &self,
        fleet_ids: &[String],
    ) -> Result<Vec<FleetUtilization>, ClientError> {
        let mut out = Vec::new();
        for chunk in id_chunks(fleet_ids) {
            let req = pb::DescribeFleetUtilizationRequest {
                fleet_ids: chunk.to_vec(),
                consistency: self.read_consistency(),
            };
            let resp =
                self.inner
                    .pool
                    .call(
                        self.inner.policy,
                        "DescribeFleetUtilization",
                        req,
                        |ch, r| async move {
                            GameLiftClient::new(ch).describe_fleet_utilization(r).await
                        },
                    )
                    .await?;
            out.extend(
                resp.fleet_utilization
                    .into_iter()
                    .map(FleetUtilization::from),
            );
        }
        Ok(out)
    }

    /// Every server process of a fleet: node, process id, pid, port, status
    /// and health.
    pub async fn describe_fleet_processes(
        &self,
        fleet_id: &str,
    ) -> Result<Vec<ServerProcessStatus>, ClientError> {
        let req = pb::DescribeFleetProcessesRequest {
            fleet_id: fleet_id.to_string(),
            consistency: self.read_consistency(),
        };
        let resp = self
            .inner
            .pool
            .call(
                self.inner.policy,
                "DescribeFleetProcesses",
                req,
                |ch, r| async move { GameLiftClient::new(ch).describe_fleet_processes(r).await },
            )
            .await?;
        Ok(resp
            .processes
            .into_iter()
            .map(ServerProcessStatus::from)
            .collect())
    }

    /// The cluster as seen from whichever node answers.
    pub async fn cluster_status(&self) -> Result<ClusterStatus, ClientError> {
        let resp = self
            .inner
            .pool
            .call(
                self.inner.policy,
                "ClusterStatus",
                pb::ClusterStatusRequest {},
                |ch, r| async move { AdminClient::new(ch).cluster_status(r).await },
            )
            .await?;
        Ok(ClusterStatus::from(resp))
    }

    /// Removes a node, named by its name or decimal id; returns its id.
    pub async fn remove_node(&self, node: &str) -> Result<u64, ClientError> {
        let req = pb::RemoveNodeRequest {
            node: node.to_string(),
        };
        let resp = self
            .inner
            .pool
            .call(self.inner.policy, "RemoveNode", req, |ch, r| async move {
                AdminClient::new(ch).remove_node(r).await
            })
            .await?;
        Ok(resp.node_id)
    }

    /// Asks the node at `new_node_addr` (running, not yet in a cluster) to
    /// join this client's cluster through [`Client::endpoints`]. Returns the
    /// cluster id and the new node's id. Retries only on that one node.
    pub async fn join_node(&self, new_node_addr: &str) -> Result<(String, u64), ClientError> {
        let addr = endpoint::normalize(new_node_addr)?;
        let pool = Pool::new(&[addr], self.inner.policy.attempt_timeout)?;
        let req = pb::JoinClusterRequest {
            member_addresses: self.inner.endpoints.clone(),
        };
        let resp = pool
            .call(self.inner.policy, "JoinCluster", req, |ch, r| async move {
                AdminClient::new(ch).join_cluster(r).await
            })
            .await?;
        Ok((resp.cluster_id, resp.node_id))
    }
}

/// `ids` in request-sized chunks; an empty list is one empty chunk, so the
/// request still goes out and the server decides what "no ids" means.
fn id_chunks(ids: &[String]) -> Vec<&[String]> {
    if ids.is_empty() {
        vec![ids]
    } else {
        ids.chunks(MAX_IDS_PER_DESCRIBE).collect()
    }
}

/// A `next_token` worth following (absent and empty both end the listing).
fn next_page(token: Option<String>) -> Option<String> {
    token.filter(|t| !t.is_empty())
}

/// Every item of a paged listing from `first` on (`None`: the first page):
/// calls `page` with `first`, then with each `next_token` it returns, until a
/// page has none.
async fn all_pages<T, F, Fut>(first: Option<String>, mut page: F) -> Result<Vec<T>, ClientError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, ClientError>>,
{
    let mut items = Vec::new();
    let mut token = first;
    loop {
        let p = page(token.take()).await?;
        items.extend(p.items);
        match p.next_token {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
}

fn missing(op: &str, field: &str) -> ClientError {
    ClientError::internal(format!("{op}: the response has no {field}"))
}

#[cfg(test)]
mod tests;
