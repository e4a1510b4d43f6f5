//! A node that is down while more than a snapshot's worth of entries is written catches up by
//! snapshot: the leader has purged the entries it lacks, so after its restart its snapshot and
//! purged indexes are beyond the last index it had before the kill, and its state hash equals
//! the others'.

use std::time::Duration;

use gamefleet_chaos::ClusterBuilder;
use gamefleet_client::{Client, Consistency};
use gamefleet_tests::{fleet, set_description, start, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_node_catches_up_by_snapshot() {
    let builder = ClusterBuilder::new(3).args(["--snapshot-logs", "200", "--keep-logs", "20"]);
    let cluster = start(builder).await;
    within(Duration::from_secs(200), async {
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        let victim = (leader + 1) % 3;
        let survivors: Vec<usize> = (0..3).filter(|&i| i != victim).collect();
        let client = cluster.client()?;
        let f = client.create_fleet(fleet("snapshot")).await?;
        for k in 0..10 {
            client
                .update_fleet(set_description(&f.fleet_id, &format!("warm {k}")))
                .await?;
        }
        cluster.wait_converged(Duration::from_secs(20), 0).await?;

        // The victim's own view of its log just before it dies.
        let own = cluster.status(victim).await?;
        let me = own
            .nodes
            .iter()
            .find(|n| n.name == cluster.name(victim))
            .expect("a node lists itself");
        let before = me.last_log_index.max(me.last_applied_index);
        cluster.kill(victim)?;

        // ~600 sequential updates (one log entry each), and more if the leader has not yet
        // purged past the victim's last index.
        let writer = Client::with_options(cluster.client_options(&survivors))?;
        let mut k = 0u32;
        let last = loop {
            let last = format!("while down {k}");
            writer
                .update_fleet(set_description(&f.fleet_id, &last))
                .await?;
            k += 1;
            if k >= 600 && k.is_multiple_of(50) {
                let st = cluster.status(leader).await?;
                let l = st
                    .nodes
                    .iter()
                    .find(|n| n.name == cluster.name(leader))
                    .expect("the leader lists itself");
                if l.purged_index > before && l.snapshot_index > before {
                    break last;
                }
                anyhow::ensure!(
                    k < 3000,
                    "after {k} writes the leader has still not purged past index {before}: {l:?}"
                );
            }
        };

        cluster.restart(victim).await?;
        let target = {
            let st = cluster.status(leader).await?;
            st.nodes
                .iter()
                .map(|n| n.last_applied_index)
                .max()
                .unwrap_or(0)
        };
        let st = cluster.wait_converged(Duration::from_secs(90), target).await?;
        let me = st
            .nodes
            .iter()
            .find(|n| n.name == cluster.name(victim))
            .expect("the restarted node is listed");
        eprintln!(
            "victim {}: last index {before} before the kill; after restart: applied {}, \
             snapshot {}, purged {}, log {} ({k} writes while down)",
            cluster.name(victim),
            me.last_applied_index,
            me.snapshot_index,
            me.purged_index,
            me.last_log_index
        );
        assert!(
            me.snapshot_index > before,
            "the restarted node's snapshot index {} is not beyond its pre-kill index {before}: {st:?}",
            me.snapshot_index
        );
        assert!(
            me.purged_index > before,
            "the restarted node's purged index {} is not beyond its pre-kill index {before}: {st:?}",
            me.purged_index
        );
        assert!(
            st.nodes.iter().all(|n| n.state_hash == me.state_hash),
            "state hashes differ: {st:?}"
        );

        let stale = cluster.client_for(victim)?.with_consistency(Consistency::Stale);
        let got = stale.describe_fleet(&f.fleet_id).await?;
        assert_eq!(got.description.as_deref(), Some(last.as_str()));
        Ok(())
    })
    .await;
}
