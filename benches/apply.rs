//! The per-event hot path after decoding, and the core of the pipeline in process.
//!
//! - `apply/<type>`: `ProfileState::apply` of already decoded events of one type to their
//!   users' states, in arrival order. The states are those at the end of the data set, pruned
//!   as a running pipeline prunes them, and the events those of its last 30 days, so each
//!   lands on a day the state still holds: the steady state of a long run.
//! - `core/shard_apply`: the same events of every type through `Shard::apply`, which adds the
//!   user lookup by id and the dirty list.
//! - `core/decode_apply`: payload bytes through `decode` and `Shard::apply`: the per-event work
//!   of the engine, without Kafka and the flush. Issue 8's target is 3 M events/s on one core.
//! - `core/replay`: the whole data set from an empty shard, with a flush's CPU work (sweep,
//!   prune, evaluate, next deadline, encode) every `common::FLUSH_EVERY` events: the engine in
//!   process.

mod common;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use portrait_core::event::{decode, DecodeLimits, Event, EventType};
use portrait_core::time::{EventTime, MILLIS_PER_DAY};
use portrait_core::{ProfileState, SignalConfig};
use portrait_pipelines::shard::Shard;

fn apply_by_type(c: &mut Criterion) {
    let config = SignalConfig::default();
    let dataset = common::dataset();
    let events = common::decoded(&dataset);
    let common::Replayed { users, watermark } = common::replay(&events, &config);

    let slot: HashMap<&str, usize> = users
        .iter()
        .enumerate()
        .map(|(slot, (id, _))| (id.as_str(), slot))
        .collect();
    let mut states: Vec<ProfileState> = users.iter().map(|(_, state)| state.clone()).collect();
    let recent = recent(&events, watermark);

    let mut group = c.benchmark_group("apply");
    for &event_type in EventType::ALL {
        let batch: Vec<(usize, &Event<'_>)> = recent
            .iter()
            .filter(|event| event.event_type() == event_type)
            .map(|&event| (slot[event.user_id.as_ref()], event))
            .collect();
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.bench_function(event_type.as_str(), |b| {
            b.iter(|| {
                for &(slot, event) in &batch {
                    states[slot].apply(black_box(event), &config);
                }
            });
        });
    }
    group.finish();
}

fn core(c: &mut Criterion) {
    let config = SignalConfig::default();
    let limits = DecodeLimits::default();
    let dataset = common::dataset();
    let messages = dataset.messages();
    let events = common::decoded(&dataset);
    let common::Replayed { watermark, .. } = common::replay(&events, &config);

    // A shard holding every user, as after a long run.
    let mut shard = Shard::new(common::topics());
    common::replay_shard(&mut shard, messages, &config);
    let recent = recent(&events, watermark);
    let recent_payloads: Vec<&[u8]> = messages
        .iter()
        .zip(&events)
        .filter(|(_, event)| is_recent(event, watermark))
        .map(|(message, _)| message.payload.as_slice())
        .collect();

    // Offsets keep growing past the replayed ones: a repeated offset is a replay, which the shard
    // skips, and that is not the path measured here.
    let mut offset = messages.len() as i64;
    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Elements(recent.len() as u64));
    group.bench_function("shard_apply", |b| {
        b.iter(|| {
            for &event in &recent {
                offset += 1;
                shard
                    .apply(0, offset, black_box(event), &config)
                    .expect("nothing restored to decode");
            }
        });
    });
    group.bench_function("decode_apply", |b| {
        b.iter(|| {
            for &payload in &recent_payloads {
                let event = decode(black_box(payload), &limits).expect("valid");
                offset += 1;
                shard
                    .apply(0, offset, &event, &config)
                    .expect("nothing restored to decode");
            }
        });
    });

    group.throughput(Throughput::Elements(messages.len() as u64));
    group.bench_function("replay", |b| {
        b.iter_batched_ref(
            || Shard::new(common::topics()),
            |shard| common::replay_shard(shard, messages, &config),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

/// The events of the last 30 days before `watermark`: days every pruned state still holds.
fn recent<'e, 'a>(events: &'e [Event<'a>], watermark: EventTime) -> Vec<&'e Event<'a>> {
    events
        .iter()
        .filter(|event| is_recent(event, watermark))
        .collect()
}

fn is_recent(event: &Event<'_>, watermark: EventTime) -> bool {
    event.ts.millis() > watermark.millis() - 30 * MILLIS_PER_DAY
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = apply_by_type, core
}
criterion_main!(benches);
