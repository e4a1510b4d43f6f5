//! Durability: SIGKILL of all three nodes at once while writers run, then a restart. Every
//! create and update the client was told succeeded must be present with the acknowledged
//! value. A write whose outcome the client never learned (error or in flight at the kill) may
//! or may not have happened, so its value is allowed as well.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use gamefleet_chaos::ClusterBuilder;
use gamefleet_client::{Client, ClientOptions, Consistency};
use gamefleet_tests::{fleet, set_description, start, within};

/// What one writer knows at the end.
#[derive(Debug, Default)]
struct WriterLog {
    fleet_id: String,
    initial: String,
    /// The value of the last acknowledged update.
    last_acked: Option<String>,
    /// Values of updates with an unknown outcome.
    unknown: BTreeSet<String>,
    /// Acknowledged creates: (fleet id, name).
    created: Vec<(String, String)>,
}

async fn writer(
    client: Client,
    round: usize,
    w: usize,
    mut log: WriterLog,
    stop: Arc<AtomicBool>,
    acks: Arc<AtomicU64>,
) -> WriterLog {
    let mut seq = 0u64;
    while !stop.load(Ordering::SeqCst) {
        seq += 1;
        if seq.is_multiple_of(4) {
            let name = format!("dur-r{round}-w{w}-c{seq}");
            if let Ok(f) = client.create_fleet(fleet(&name)).await {
                log.created.push((f.fleet_id, name));
                acks.fetch_add(1, Ordering::SeqCst);
            }
        } else {
            let value = format!("round {round} writer {w} update {seq}");
            match client
                .update_fleet(set_description(&log.fleet_id, &value))
                .await
            {
                Ok(()) => {
                    log.last_acked = Some(value);
                    acks.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => {
                    log.unknown.insert(value);
                }
            }
        }
    }
    log
}

/// Checks every writer's acknowledged state through linearizable reads.
async fn verify(client: &Client, logs: &[WriterLog]) -> anyhow::Result<()> {
    for log in logs {
        eprintln!(
            "writer on {}: last acked {:?}, {} unknown outcomes, {} acked creates",
            log.fleet_id,
            log.last_acked,
            log.unknown.len(),
            log.created.len()
        );
        let got = client.describe_fleet(&log.fleet_id).await?;
        let got = got.description.unwrap_or_default();
        let ok = match &log.last_acked {
            Some(acked) => got == *acked || log.unknown.contains(&got),
            None => got == log.initial || log.unknown.contains(&got),
        };
        anyhow::ensure!(
            ok,
            "fleet {} has description {got:?}; last acknowledged {:?}, unknown outcomes {:?}",
            log.fleet_id,
            log.last_acked,
            log.unknown
        );
        for (id, name) in &log.created {
            let f = client.describe_fleet(id).await.map_err(|e| {
                anyhow::anyhow!("acknowledged create {name} ({id}) lost after restart: {e}")
            })?;
            anyhow::ensure!(
                &f.name == name,
                "fleet {id} is named {:?}, not {name:?}",
                f.name
            );
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_of_every_node() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(220), async {
        let admin = cluster.client()?;
        let opts = ClientOptions {
            attempt_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(4),
            ..cluster.client_options(&[0, 1, 2])
        };
        let mut logs = Vec::new();
        for w in 0..4 {
            let f = admin.create_fleet(fleet(&format!("dur-w{w}"))).await?;
            logs.push(WriterLog {
                fleet_id: f.fleet_id,
                initial: f.description.unwrap_or_default(),
                ..Default::default()
            });
        }

        // Two rounds: the second one recovers from data dirs that were themselves recovered.
        for round in 0..2 {
            let stop = Arc::new(AtomicBool::new(false));
            let acks = Arc::new(AtomicU64::new(0));
            let mut tasks = Vec::new();
            for (w, log) in logs.drain(..).enumerate() {
                // Spread the writers over the nodes: each starts on another endpoint.
                let mut endpoints = opts.endpoints.clone();
                let n = endpoints.len();
                endpoints.rotate_left(w % n);
                let client = Client::with_options(ClientOptions {
                    endpoints,
                    ..opts.clone()
                })?;
                tasks.push(tokio::spawn(writer(
                    client,
                    round,
                    w,
                    log,
                    stop.clone(),
                    acks.clone(),
                )));
            }

            // Let writes flow, then kill everything at once, mid-stream.
            tokio::time::sleep(Duration::from_millis(2500)).await;
            let before_kill = acks.load(Ordering::SeqCst);
            cluster.kill_all()?;
            stop.store(true, Ordering::SeqCst);
            anyhow::ensure!(
                before_kill >= 20,
                "round {round}: only {before_kill} writes acknowledged in 2.5 s before the kill"
            );
            for t in tasks {
                logs.push(
                    tokio::time::timeout(Duration::from_secs(30), t)
                        .await
                        .map_err(|_| anyhow::anyhow!("a writer did not stop within 30 s"))??,
                );
            }

            for i in 0..3 {
                cluster.spawn(i)?;
            }
            for i in 0..3 {
                cluster.wait_answering(i, Duration::from_secs(30)).await?;
            }
            cluster.wait_ready(Duration::from_secs(60)).await?;
            let reader = cluster
                .client()?
                .with_consistency(Consistency::Linearizable);
            verify(&reader, &logs)
                .await
                .map_err(|e| e.context(format!("after round {round}")))?;
            cluster.wait_converged(Duration::from_secs(60), 0).await?;
        }
        Ok(())
    })
    .await;
}
