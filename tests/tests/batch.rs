//! The `Batch` service and client-side batching on real nodes:
//! - one `Batch.Execute` sent to a follower runs every call as if it came alone: the valid
//!   update applies, an unknown fleet is NotFound, a bad field is InvalidArgument naming it, a
//!   call naming no operation is refused alone, a read sees the update; refused calls change
//!   nothing; an empty or oversized batch is refused as a whole;
//! - 50 concurrent reservations for 8 free slots through three batching clients (one per node,
//!   each shared by the tasks, so their calls travel in batches): exactly 8 succeed, the rest
//!   get GameSessionFull, and the session holds exactly 8 player sessions.

use std::time::Duration;

use gamefleet_chaos::ClusterBuilder;
use gamefleet_client::proto::v1 as pb;
use gamefleet_client::{
    Client, ClientOptions, Consistency, CreateGameSessionInput, DescribePlayerSessionsInput,
    FleetOrAlias, PlayerSessionSelector,
};
use gamefleet_tests::game_servers::{active_fleet, fleet_of};
use gamefleet_tests::{fleet, reserve_concurrently, start, within};
use pb::batch_call::Call;
use pb::batch_client::BatchClient;
use pb::batch_result::Result as Outcome;

fn update(fleet_id: &str, name: Option<&str>, description: &str) -> Call {
    Call::UpdateFleetAttributes(pb::UpdateFleetAttributesRequest {
        fleet_id: fleet_id.to_owned(),
        name: name.map(str::to_owned),
        description: Some(description.to_owned()),
        ..Default::default()
    })
}

fn error_of(r: &pb::BatchResult) -> Option<&pb::BatchError> {
    match &r.result {
        Some(Outcome::Error(e)) => Some(e),
        _ => None,
    }
}

#[tokio::test]
async fn a_batch_runs_every_call_as_if_it_came_alone() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(90), async {
        let client = cluster.client()?;
        let fleet_id = client.create_fleet(fleet("batched")).await?.fleet_id;
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        let follower = (0..3).find(|i| *i != leader).unwrap_or(0);
        let addr = cluster.endpoint(follower);
        let mut batch = BatchClient::connect(addr).await?;

        let calls = vec![
            Some(update(&fleet_id, None, "applied")),
            Some(update("fleet-00000000-0000-0000-0000-000000000000", None, "x")),
            Some(update(&fleet_id, Some(&"n".repeat(1025)), "refused")),
            None,
            Some(Call::DescribeFleetAttributes(
                pb::DescribeFleetAttributesRequest {
                    fleet_ids: vec![fleet_id.clone()],
                    ..Default::default()
                },
            )),
        ];
        let n = calls.len();
        let results = batch
            .execute(pb::BatchRequest {
                calls: calls
                    .into_iter()
                    .map(|call| pb::BatchCall { call })
                    .collect(),
            })
            .await?
            .into_inner()
            .results;
        assert_eq!(results.len(), n, "{results:?}");
        assert!(
            matches!(&results[0].result, Some(Outcome::UpdateFleetAttributes(r)) if r.fleet_id == fleet_id),
            "{:?}",
            results[0]
        );
        let e = error_of(&results[1]).expect("unknown fleet");
        assert_eq!(e.code, tonic::Code::NotFound as i32, "{e:?}");
        assert_eq!(e.exception, "NotFoundException");
        let e = error_of(&results[2]).expect("name too long");
        assert_eq!(e.code, tonic::Code::InvalidArgument as i32, "{e:?}");
        assert!(e.message.starts_with("name:"), "{e:?}");
        assert_eq!(e.exception, "InvalidRequestException");
        let e = error_of(&results[3]).expect("no operation");
        assert_eq!(e.code, tonic::Code::InvalidArgument as i32, "{e:?}");
        assert!(e.message.starts_with("calls:"), "{e:?}");
        assert!(
            matches!(&results[4].result, Some(Outcome::DescribeFleetAttributes(r)) if r.fleet_attributes.len() == 1),
            "{:?}",
            results[4]
        );

        // The valid update applied; the refused one changed nothing.
        let f = client.describe_fleet(&fleet_id).await?;
        assert_eq!(f.description.as_deref(), Some("applied"));
        assert_eq!(f.name, "batched");

        // Empty and oversized batches are refused as a whole, naming the field.
        for size in [0usize, 257] {
            let calls = (0..size)
                .map(|k| pb::BatchCall {
                    call: Some(update(&fleet_id, None, &format!("too many {k}"))),
                })
                .collect();
            let err = batch
                .execute(pb::BatchRequest { calls })
                .await
                .expect_err("refused");
            assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
            assert!(err.message().starts_with("calls:"), "{err:?}");
        }
        let f = client.describe_fleet(&fleet_id).await?;
        assert_eq!(f.description.as_deref(), Some("applied"));
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn batched_reservations_through_three_nodes_never_overbook() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(150), async {
        let client = cluster.client()?;
        let fleet_id = active_fleet(
            &cluster,
            &client,
            fleet_of("batched-rooms", "minimal", "", 1, 3, None),
            3,
        )
        .await?;
        let room = client
            .create_game_session(CreateGameSessionInput::new(
                FleetOrAlias::fleet(&fleet_id),
                8,
            ))
            .await?;
        let room = client
            .wait_for_game_session_active(&room.game_session_id, Duration::from_secs(10))
            .await?;

        // One batching client per node, each pinned to its node and shared by its tasks.
        let batching: Vec<Client> = cluster
            .endpoints()
            .into_iter()
            .map(|e| {
                Client::with_options(ClientOptions {
                    endpoints: vec![e],
                    attempt_timeout: Duration::from_secs(5),
                    total_timeout: Duration::from_secs(20),
                    consistency: Consistency::Linearizable,
                    follow_leader: false,
                    batch: true,
                })
            })
            .collect::<Result<_, _>>()?;
        let (ok, full, other) = reserve_concurrently(&batching, &room.game_session_id, 50).await?;
        assert_eq!((ok, full), (8, 42), "other errors: {other:?}");
        let players = client
            .describe_player_sessions(&DescribePlayerSessionsInput::new(
                PlayerSessionSelector::GameSession(room.game_session_id.clone()),
            ))
            .await?;
        assert_eq!(players.len(), 8, "{players:?}");
        let gs = client.describe_game_session(&room.game_session_id).await?;
        assert_eq!(gs.current_player_session_count, 8);
        Ok(())
    })
    .await;
}
