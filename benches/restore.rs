//! Restore: `profile_state` blobs back into a running shard, users per second.
//!
//! - `restore/decode_state`: `ProfileState::decode` of one user's blob, alone.
//! - `restore/shard`: the whole of `Shard::restore` (alerts on, as by default) for one
//!   partition's rows: read the partition's progress from each user's blob, index the user
//!   with the blob left encoded, file the stored next deadline and alert due time, then the
//!   first sweep at the restored watermark, which is where the deadline index files what a
//!   restore gave it (`pipelines/src/deadlines.rs`). The rows are those the flushes of a
//!   replay of the data set left in `profile_state` (each user's latest), copied under
//!   [`COPIES`] sets of ids so that the shard outgrows the caches as a real partition does.
//! - `restore/shard_decoding`: the same rows as written before `profile_state` stored the
//!   deadlines (fingerprint 0), so that each blob is decoded (state, applied offsets, alert
//!   timeline) and both deadlines computed: what `restore/shard` measured before.
//!
//! Issue 8's target is 1 M users per second; reading the rows from ClickHouse is not included.

mod common;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use portrait_connectors::clickhouse::StoredState;
use portrait_core::alerts::AlertRules;
use portrait_core::event::{decode, DecodeLimits};
use portrait_core::time::EventTime;
use portrait_core::{ProfileState, SignalConfig};
use portrait_pipelines::shard::Shard;

/// Copies of the data set's 2 000 users in `restore/shard`: 100 000 users.
const COPIES: usize = 50;

fn restore(c: &mut Criterion) {
    let config = SignalConfig::default();
    let dataset = common::dataset();
    let events = common::decoded(&dataset);
    let common::Replayed { users, .. } = common::replay(&events, &config);
    let blobs: Vec<Vec<u8>> = users
        .iter()
        .map(|(_, state)| {
            let mut blob = Vec::new();
            state.encode(&mut blob);
            blob
        })
        .collect();
    let rows = stored_rows(&dataset, &config);

    let mut group = c.benchmark_group("restore");
    group.throughput(Throughput::Elements(blobs.len() as u64));
    group.bench_function("decode_state", |b| {
        b.iter(|| {
            for blob in &blobs {
                black_box(ProfileState::decode(black_box(blob)).expect("a valid blob"));
            }
        });
    });
    group.throughput(Throughput::Elements(rows.len() as u64));
    // As written before `profile_state` stored deadlines: every user is decoded.
    let without_deadlines: Vec<StoredState> = rows
        .iter()
        .map(|row| StoredState {
            deadlines_fingerprint: 0,
            ..row.clone()
        })
        .collect();
    for (name, rows) in [("shard", &rows), ("shard_decoding", &without_deadlines)] {
        group.bench_function(name, |b| {
            b.iter_with_large_drop(|| {
                let (mut shard, watermark) = Shard::new(common::topics())
                    .with_alerts()
                    .restore(rows.iter().map(StoredState::as_ref), &config)
                    .expect("valid rows");
                shard
                    .sweep(watermark.expect("rows were restored"))
                    .expect("valid rows");
                shard
            });
        });
    }
    group.finish();
}

/// What `profile_state` holds after a replay of the data set through one shard with alerts,
/// flushing as [`common::replay_shard`] does: each user's latest row, copied under
/// [`COPIES`] sets of ids (`<id>` then `<id>~1`, `<id>~2`, ...).
fn stored_rows(dataset: &portrait_generator::Dataset, config: &SignalConfig) -> Vec<StoredState> {
    let limits = DecodeLimits::default();
    let rules = AlertRules::default();
    let messages = dataset.messages();
    let mut shard = Shard::new(common::topics()).with_alerts();
    let mut latest_rows: HashMap<String, StoredState> = HashMap::new();
    let mut latest = i64::MIN;
    for (n, message) in messages.iter().enumerate() {
        let event = decode(&message.payload, &limits).expect("generated events are valid");
        latest = latest.max(event.ts.millis());
        shard
            .apply(0, n as i64, &event, config)
            .expect("nothing restored to decode");
        if (n + 1) % common::FLUSH_EVERY == 0 || n + 1 == messages.len() {
            let watermark = EventTime::from_millis(latest - common::LATENESS_MS);
            let updated_at = u32::try_from(watermark.millis() / 1000).expect("a 2020s time");
            shard.sweep(watermark).expect("nothing restored to decode");
            shard
                .decide_alerts(Some(watermark), config, &rules, |_| {})
                .expect("nothing restored to decode");
            shard.drain(
                watermark,
                common::LATENESS_MS,
                config,
                &Default::default(),
                |changed| {
                    let user_id = changed.profile.user_id.clone();
                    let row = StoredState {
                        user_id: user_id.clone(),
                        state: changed.state,
                        version: changed.version,
                        updated_at,
                        next_change_ms: changed.deadlines.next_change_ms,
                        alert_due_ms: changed.deadlines.alert_due_ms,
                        deadlines_fingerprint: changed.deadlines.fingerprint,
                    };
                    latest_rows.insert(user_id, row);
                },
            );
        }
    }
    let mut rows: Vec<StoredState> = latest_rows.into_values().collect();
    rows.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    let originals = rows.clone();
    for copy in 1..COPIES {
        rows.extend(originals.iter().map(|row| StoredState {
            user_id: format!("{}~{copy}", row.user_id),
            ..row.clone()
        }));
    }
    rows
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = restore
}
criterion_main!(benches);
