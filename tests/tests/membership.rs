//! Membership: with `--voters 3` a 4th node joins as a learner and stays one; removing a voter
//! promotes the learner; a node started with `--no-bootstrap` joins through `JoinCluster` and
//! later restarts without `--join`.

use std::time::Duration;

use gamefleet_chaos::{Cluster, ClusterBuilder};
use gamefleet_client::{ClusterStatus, Consistency, ErrorKind, NodeStatus};
use gamefleet_tests::{eventually, fleet, start, within};

fn entry<'a>(st: &'a ClusterStatus, name: &str) -> Option<&'a NodeStatus> {
    st.nodes.iter().find(|n| n.name == name)
}

/// The leader's view of the membership.
async fn leader_view(cluster: &Cluster) -> anyhow::Result<ClusterStatus> {
    let leader = cluster.wait_leader(Duration::from_secs(15)).await?;
    cluster.status(leader).await
}

/// Checks that node `i` replicates: a fleet created elsewhere is readable through it, locally
/// (eventually) and linearizably.
async fn assert_replicates_to(cluster: &Cluster, i: usize, name: &str) -> anyhow::Result<()> {
    let f = cluster.client()?.create_fleet(fleet(name)).await?;
    let stale = cluster.client_for(i)?.with_consistency(Consistency::Stale);
    let what = format!("{} to apply the new fleet", cluster.name(i));
    eventually(Duration::from_secs(15), &what, || {
        let stale = stale.clone();
        let id = f.fleet_id.clone();
        async move {
            match stale.describe_fleet(&id).await {
                Ok(_) => Ok(Some(())),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
    })
    .await?;
    let got = cluster.client_for(i)?.describe_fleet(&f.fleet_id).await?;
    anyhow::ensure!(got.name == name, "{got:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fourth_node_joins_as_learner_and_stays_learner() {
    let mut cluster = start(ClusterBuilder::new(3).voters(3)).await;
    within(Duration::from_secs(150), async {
        let learner = cluster.add_node().await?;
        cluster.wait_ready(Duration::from_secs(60)).await?;
        let name = cluster.name(learner).to_owned();

        for round in 0..2 {
            let st = leader_view(&cluster).await?;
            let me =
                entry(&st, &name).ok_or_else(|| anyhow::anyhow!("{name} not listed: {st:?}"))?;
            anyhow::ensure!(
                !me.voter && me.role == "LEARNER",
                "round {round}: {name} should be a learner: {st:?}"
            );
            anyhow::ensure!(st.nodes.len() == 4, "{st:?}");
            anyhow::ensure!(st.nodes.iter().filter(|n| n.voter).count() == 3, "{st:?}");
            // The node's own view agrees.
            let own = cluster.status(learner).await?;
            let me = entry(&own, &name).ok_or_else(|| anyhow::anyhow!("{own:?}"))?;
            anyhow::ensure!(!me.voter && me.role == "LEARNER", "own view: {own:?}");
            tokio::time::sleep(Duration::from_secs(3)).await;
        }

        assert_replicates_to(&cluster, learner, "learner-reads").await?;
        // Writes through the learner are forwarded to the leader.
        let f = cluster
            .client_for(learner)?
            .create_fleet(fleet("written-via-learner"))
            .await?;
        cluster.client_for(0)?.describe_fleet(&f.fleet_id).await?;
        cluster.wait_converged(Duration::from_secs(30), 0).await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_voter_promotes_the_learner() {
    let mut cluster = start(ClusterBuilder::new(3).voters(3)).await;
    within(Duration::from_secs(150), async {
        let learner = cluster.add_node().await?;
        cluster.wait_ready(Duration::from_secs(60)).await?;
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        let victim = (0..3).find(|&i| i != leader).expect("a follower");
        let victim_name = cluster.name(victim).to_owned();
        let learner_name = cluster.name(learner).to_owned();
        let victim_id = entry(&cluster.status(leader).await?, &victim_name)
            .map(|n| n.node_id)
            .ok_or_else(|| anyhow::anyhow!("{victim_name} not listed"))?;

        let removed = cluster.client()?.remove_node(&victim_name).await?;
        anyhow::ensure!(
            removed == victim_id,
            "remove_node returned {removed}, expected {victim_id}"
        );
        cluster.mark_removed(victim);

        let what = format!("{learner_name} promoted and {victim_name} gone");
        let st = eventually(Duration::from_secs(30), &what, || async {
            let st = leader_view(&cluster).await?;
            let promoted = entry(&st, &learner_name).is_some_and(|n| n.voter);
            let gone = entry(&st, &victim_name).is_none();
            Ok((promoted && gone).then_some(st))
        })
        .await?;
        anyhow::ensure!(st.nodes.len() == 3, "{st:?}");
        anyhow::ensure!(st.nodes.iter().filter(|n| n.voter).count() == 3, "{st:?}");
        cluster.wait_ready(Duration::from_secs(30)).await?;

        // The new voter counts for the quorum: with the promoted node and one other voter the
        // cluster still commits once the third remaining voter is gone.
        let others: Vec<usize> = cluster
            .running()
            .into_iter()
            .filter(|&i| i != learner && i != victim)
            .collect();
        let current = cluster.wait_leader(Duration::from_secs(10)).await?;
        let follower = *others.iter().find(|&&i| i != current).unwrap_or(&others[0]);
        cluster.kill(follower)?;
        assert_replicates_to(&cluster, learner, "after-promotion").await?;

        // The removed node's process is no longer needed; it may have exited by itself.
        if cluster.is_running(victim) {
            cluster.kill(victim)?;
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_bootstrap_node_joins_through_join_cluster() {
    let mut cluster = start(ClusterBuilder::new(3).voters(3)).await;
    within(Duration::from_secs(150), async {
        let cluster_id = cluster.status(0).await?.cluster_id;
        let newcomer = cluster.add_node_no_bootstrap()?;
        let name = cluster.name(newcomer).to_owned();

        // Retried by the client until the new process listens.
        let members = cluster.client_for(0)?;
        let (joined_id, node_id) = members.join_node(&cluster.address(newcomer)).await?;
        anyhow::ensure!(
            joined_id == cluster_id,
            "joined cluster {joined_id}, expected {cluster_id}"
        );

        let what = format!("{name} listed as a learner with id {node_id}");
        eventually(Duration::from_secs(30), &what, || async {
            let st = leader_view(&cluster).await?;
            Ok(entry(&st, &name)
                .is_some_and(|n| n.node_id == node_id && !n.voter && n.role == "LEARNER")
                .then_some(()))
        })
        .await?;
        cluster.wait_ready(Duration::from_secs(30)).await?;
        assert_replicates_to(&cluster, newcomer, "seen-by-newcomer").await?;

        // After its first start a node rejoins from its data dir alone.
        cluster.kill(newcomer)?;
        cluster.restart(newcomer).await?;
        cluster.wait_ready(Duration::from_secs(60)).await?;
        assert_replicates_to(&cluster, newcomer, "seen-after-restart").await?;
        let st = cluster.status(newcomer).await?;
        anyhow::ensure!(st.cluster_id == cluster_id, "{st:?}");
        Ok(())
    })
    .await;
}
