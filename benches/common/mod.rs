//! What the benchmarks share: one generated data set, decoded and replayed into per-user
//! states the way the pipeline would, and criterion settings that keep `cargo bench` short.
#![allow(dead_code)] // Each bench binary uses its own subset.

use std::collections::HashMap;
use std::time::Duration;

use criterion::Criterion;
use portrait_core::event::{decode, DecodeLimits, Event};
use portrait_core::time::EventTime;
use portrait_core::{ProfileState, SignalConfig};
use portrait_generator::{generate, Dataset, GeneratorConfig, Message};
use portrait_pipelines::shard::Shard;

/// Users of the shared data set: 2 000 users over 120 days is about 520 000 events, generated
/// in about a second by a release build and small enough that one pass over all of them is a
/// criterion iteration of well under a second.
pub const USERS: u32 = 2_000;
pub const DAYS: u32 = 120;
/// The pipeline's default lateness: the watermark is the latest event time minus this.
pub const LATENESS_MS: i64 = 300_000;

/// Events between two flushes in [`replay_shard`]: with the data set's 2 000 users, about one
/// evaluation per 10 events, the ratio of a 20 000-user run flushing every second at 200 000
/// events per second.
pub const FLUSH_EVERY: usize = 20_000;

/// Short runs: these are figures to compare across changes, not confidence intervals to
/// publish. With ten samples over a few seconds per benchmark, `cargo bench` takes minutes.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

/// The shared data set: seeded, so every run measures the same bytes. No malformed messages:
/// the benchmarks measure the path of valid events.
pub fn dataset() -> Dataset {
    generate(&GeneratorConfig {
        users: USERS,
        days: DAYS,
        ..GeneratorConfig::default()
    })
}

/// Every message of `dataset` decoded, in arrival order.
pub fn decoded(dataset: &Dataset) -> Vec<Event<'_>> {
    dataset
        .messages()
        .iter()
        .map(|m| decode(&m.payload, &DecodeLimits::default()).expect("generated events are valid"))
        .collect()
}

/// Users' states after the whole data set, as the pipeline holds them at its end.
pub struct Replayed {
    /// `(user_id, state)`, sorted by user id.
    pub users: Vec<(String, ProfileState)>,
    /// The final watermark: the latest event time minus [`LATENESS_MS`]. Every state is pruned
    /// at it, so each keeps the day log a long-running pipeline keeps (the last 35 days).
    pub watermark: EventTime,
}

/// Applies every event to its user's state in arrival order, pruning every [`FLUSH_EVERY`]
/// events as the engine's flushes do (so the day logs' capacity is what a running pipeline's
/// is), and at the end at the final watermark.
pub fn replay(events: &[Event<'_>], config: &SignalConfig) -> Replayed {
    let mut states: HashMap<&str, ProfileState> = HashMap::new();
    let mut latest = i64::MIN;
    for (n, event) in events.iter().enumerate() {
        latest = latest.max(event.ts.millis());
        match states.get_mut(event.user_id.as_ref()) {
            Some(state) => state.apply(event, config),
            None => {
                states.insert(event.user_id.as_ref(), ProfileState::new(event, config));
            }
        }
        if (n + 1) % FLUSH_EVERY == 0 || n + 1 == events.len() {
            let watermark = EventTime::from_millis(latest - LATENESS_MS);
            for state in states.values_mut() {
                state.prune(watermark, config);
            }
        }
    }
    let watermark = EventTime::from_millis(latest - LATENESS_MS);
    let mut users: Vec<(String, ProfileState)> = states
        .into_iter()
        .map(|(id, state)| (id.to_owned(), state))
        .collect();
    users.sort_by(|a, b| a.0.cmp(&b.0));
    Replayed { users, watermark }
}

/// The engine's work on `messages` without Kafka and ClickHouse: decode each and apply it to
/// `shard`, and every [`FLUSH_EVERY`] messages (and at the end) what a flush computes before
/// it writes: the sweep, then prune, evaluate, next deadline and state blob of each changed
/// user.
/// The one input topic the benchmarks' shards read.
pub fn topics() -> std::sync::Arc<[String]> {
    std::sync::Arc::from(["events".to_owned()])
}

pub fn replay_shard(shard: &mut Shard, messages: &[Message], config: &SignalConfig) {
    let limits = DecodeLimits::default();
    let mut latest = i64::MIN;
    for (n, message) in messages.iter().enumerate() {
        let event = decode(&message.payload, &limits).expect("generated events are valid");
        latest = latest.max(event.ts.millis());
        shard
            .apply(0, n as i64, &event, config)
            .expect("nothing restored to decode");
        if (n + 1) % FLUSH_EVERY == 0 || n + 1 == messages.len() {
            let watermark = EventTime::from_millis(latest - LATENESS_MS);
            shard.sweep(watermark).expect("nothing restored to decode");
            shard.drain(
                watermark,
                LATENESS_MS,
                config,
                &Default::default(),
                |changed| {
                    std::hint::black_box(changed);
                },
            );
        }
    }
}
