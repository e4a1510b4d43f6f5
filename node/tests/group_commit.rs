//! Group commit: concurrent writes to one node share log entries, and every
//! caller gets its own result back; the calls of one `Batch` RPC share one entry. Runs a real single-node `server::run` on a
//! free loopback port with a temp data dir.

use std::time::Duration;

use gamefleet_node::config::{NodeConfig, RunArgs};
use gamefleet_proto::v1 as pb;
use pb::admin_client::AdminClient;
use pb::game_lift_client::GameLiftClient;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn last_log_index(addr: &str) -> u64 {
    let mut admin = AdminClient::connect(addr.to_string()).await.unwrap();
    let s = admin
        .cluster_status(pb::ClusterStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    s.nodes[0].last_log_index
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_entries_and_get_their_own_results() {
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let cfg = NodeConfig::load(&RunArgs {
        name: Some("solo".into()),
        data_dir: Some(dir.path().to_path_buf()),
        listen: Some(listen.clone()),
        voters: Some(1),
        sled_cache_mb: Some(8),
        ..Default::default()
    })
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let node = tokio::spawn(gamefleet_node::server::run(cfg, async {
        let _ = stopped.await;
    }));
    let addr = format!("http://{listen}");
    let mut client = None;
    for _ in 0..100 {
        if let Ok(c) = GameLiftClient::connect(addr.clone()).await {
            client = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = client.expect("node did not start");

    const N: usize = 400;
    let mut fleets = Vec::new();
    for i in 0..5 {
        let r = client
            .clone()
            .create_fleet(pb::CreateFleetRequest {
                name: format!("f{i}"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        fleets.push(r.fleet_attributes.unwrap().fleet_id);
    }
    let before = last_log_index(&addr).await;
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let mut c = client.clone();
            let fleet_id = fleets[i % fleets.len()].clone();
            tokio::spawn(async move {
                // Every fourth request is invalid and must fail on its own, without
                // affecting the valid commands packed into the same entry.
                let name = if i % 4 == 3 {
                    Some(String::new())
                } else {
                    Some(format!("n{i}"))
                };
                let r = c
                    .update_fleet_attributes(pb::UpdateFleetAttributesRequest {
                        fleet_id: fleet_id.clone(),
                        name,
                        ..Default::default()
                    })
                    .await;
                (i, fleet_id, r)
            })
        })
        .collect();
    for t in tasks {
        let (i, fleet_id, r) = t.await.unwrap();
        if i % 4 == 3 {
            let e = r.expect_err("an empty name must be refused");
            assert_eq!(e.code(), tonic::Code::InvalidArgument);
        } else {
            assert_eq!(
                r.expect("valid update failed").into_inner().fleet_id,
                fleet_id
            );
        }
    }
    let used = last_log_index(&addr).await - before;
    assert!(used > 0, "the updates wrote no log entries");
    assert!(
        (used as usize) < N / 2,
        "{N} concurrent writes used {used} log entries; group commit should pack them"
    );
    // The state holds exactly what the valid commands wrote: the last name per fleet is one of
    // the names sent for that fleet.
    let d = client
        .clone()
        .describe_fleet_attributes(pb::DescribeFleetAttributesRequest {
            fleet_ids: fleets.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    for (k, f) in d.fleet_attributes.iter().enumerate() {
        let i: usize = f
            .name
            .trim_start_matches('n')
            .parse()
            .expect("a name from the updates");
        assert_eq!(
            i % fleets.len(),
            k,
            "fleet {} got another fleet's update",
            f.fleet_id
        );
    }

    // A Batch RPC's calls share one entry: the proposer waits until every call of the batch
    // has submitted before it cuts the entry (without that, the first call would go alone).
    const BATCHES: u64 = 6;
    let mut batch = pb::batch_client::BatchClient::connect(addr.clone())
        .await
        .unwrap();
    let before = last_log_index(&addr).await;
    for b in 0..BATCHES {
        let calls = (0..200)
            .map(|k| pb::BatchCall {
                call: Some(pb::batch_call::Call::UpdateFleetAttributes(
                    pb::UpdateFleetAttributesRequest {
                        fleet_id: fleets[k % fleets.len()].clone(),
                        description: Some(format!("batch {b} call {k}")),
                        ..Default::default()
                    },
                )),
            })
            .collect();
        let results = batch
            .execute(pb::BatchRequest { calls })
            .await
            .unwrap()
            .into_inner()
            .results;
        assert_eq!(results.len(), 200);
        assert!(results.iter().all(|r| matches!(
            r.result,
            Some(pb::batch_result::Result::UpdateFleetAttributes(_))
        )));
    }
    let used = last_log_index(&addr).await - before;
    // One entry per batch, and room for one entry of the node's own loops.
    assert!(
        (BATCHES..=BATCHES + 1).contains(&used),
        "{BATCHES} batches of 200 calls used {used} log entries"
    );

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), node)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
