//! The output side of the freshness benchmark: when each probe's profile row first shows in
//! ClickHouse.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;

use super::load::{probe_id, probe_number, PROBE_PREFIX};

/// When to stop watching: once probes `0..probes` were all seen, or at `deadline`.
#[derive(Clone, Copy, Debug)]
pub struct Until {
    pub probes: u32,
    pub deadline: Instant,
}

/// Asks ClickHouse every `interval` for the probes not seen yet and notes when each first
/// appears: the moment the answer that holds it arrived, which is at most one interval and
/// one query late. Publishes how many were seen on `seen` (the warm-up waits for the first)
/// and returns every sighting, by probe number, once `until` says so.
pub async fn watch_probes(
    client: clickhouse::Client,
    interval: Duration,
    seen: watch::Sender<usize>,
    mut until: watch::Receiver<Option<Until>>,
) -> anyhow::Result<BTreeMap<u32, Instant>> {
    let mut sightings = BTreeMap::new();
    // Every probe below this one was seen; ids sort by number, so the query asks for this
    // one and those after it, which the table's order by user_id finds without a scan.
    let mut lowest_unseen = 0;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let ids = client
            .query(
                "SELECT DISTINCT user_id FROM user_profiles WHERE user_id >= ? AND user_id LIKE ?",
            )
            .bind(probe_id(lowest_unseen))
            .bind(format!("{PROBE_PREFIX}%"))
            .fetch_all::<String>()
            .await
            .context("asking ClickHouse for the probes' profiles")?;
        let answered = Instant::now();
        for n in ids.iter().filter_map(|id| probe_number(id)) {
            sightings.entry(n).or_insert(answered);
        }
        while sightings.contains_key(&lowest_unseen) {
            lowest_unseen += 1;
        }
        seen.send_replace(sightings.len());
        let stop = *until.borrow_and_update();
        if let Some(until) = stop {
            if lowest_unseen >= until.probes || answered >= until.deadline {
                return Ok(sightings);
            }
        }
    }
}
