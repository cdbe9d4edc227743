//! Deciding alerts: every user's `StageTimeline` fed the data set, as the engine feeds it.
//!
//! - `alerts/decide`: the whole data set from empty timelines, in arrival order: each event
//!   recorded into its user's timeline and then applied to the user's profile state (which
//!   the timeline reads while it has no events pending), and every `common::FLUSH_EVERY`
//!   events (and at the end) what `Shard::decide_alerts` does at a flush: every user who
//!   received events or whose timeline is due is advanced to the decision point (the latest
//!   event time minus the alerts' default lateness, 5 minutes) and asks for its next due
//!   time. Per event.
//! - `alerts/states`: the profile states of `alerts/decide` alone, from empty: `decide` minus
//!   `states` is the timelines' share.
//! - `alerts/shard_replay`: `common::replay_shard`'s engine in process (decode, apply, and at
//!   each flush the sweep, prune, evaluate, next deadline and blob of each changed user) on a
//!   shard with alerts, which also decides the alerts at each flush and keeps them in the
//!   blobs: what the alerts cost in the whole, and the run to profile for their share.

mod common;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use portrait_core::alerts::{AlertRules, StageTimeline};
use portrait_core::event::{decode, DecodeLimits, Event};
use portrait_core::time::EventTime;
use portrait_core::{ProfileState, SignalConfig};
use portrait_generator::Message;
use portrait_pipelines::shard::Shard;

fn alerts(c: &mut Criterion) {
    let (config, rules) = (SignalConfig::default(), AlertRules::default());
    let dataset = common::dataset();
    let events = common::decoded(&dataset);
    // Users by first appearance, and each event's user: the lookup is the shard's business,
    // not the timeline's.
    let mut slots: HashMap<&str, usize> = HashMap::new();
    let mut ids: Vec<&str> = Vec::new();
    let by_user: Vec<(usize, &Event<'_>)> = events
        .iter()
        .map(|event| {
            let id = event.user_id.as_ref();
            let slot = *slots.entry(id).or_insert_with(|| {
                ids.push(id);
                ids.len() - 1
            });
            (slot, event)
        })
        .collect();

    let mut group = c.benchmark_group("alerts");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("decide", |b| {
        b.iter(|| {
            let alerts = decide_all(&by_user, &ids, &config, &rules);
            black_box(alerts)
        });
    });
    group.bench_function("states", |b| {
        b.iter(|| black_box(states_of(&by_user, ids.len(), &config)));
    });
    group.bench_function("shard_replay", |b| {
        b.iter(|| {
            let mut shard = Shard::new(common::topics()).with_alerts();
            black_box(replay_shard(
                &mut shard,
                dataset.messages(),
                &config,
                &rules,
            ))
        });
    });
    group.finish();
}

/// `common::replay_shard` with the alerts decided at each flush, before the drain, as the
/// engine orders them. Returns the alerts raised.
fn replay_shard(
    shard: &mut Shard,
    messages: &[Message],
    config: &SignalConfig,
    rules: &AlertRules,
) -> usize {
    let limits = DecodeLimits::default();
    let mut latest = i64::MIN;
    let mut alerts = 0;
    for (n, message) in messages.iter().enumerate() {
        let event = decode(&message.payload, &limits).expect("generated events are valid");
        latest = latest.max(event.ts.millis());
        shard
            .apply(0, n as i64, &event, config)
            .expect("nothing restored to decode");
        if (n + 1) % common::FLUSH_EVERY == 0 || n + 1 == messages.len() {
            let watermark = EventTime::from_millis(latest - common::LATENESS_MS);
            shard.sweep(watermark).expect("nothing restored to decode");
            shard
                .decide_alerts(Some(watermark), config, rules, |alert| {
                    black_box(alert);
                    alerts += 1;
                })
                .expect("nothing restored to decode");
            shard.drain(
                watermark,
                common::LATENESS_MS,
                config,
                &Default::default(),
                |changed| {
                    black_box(changed);
                },
            );
        }
    }
    alerts
}

/// The profile states `decide_all` keeps beside the timelines, alone: what `alerts/decide`
/// spends on them, to tell the timelines' share.
fn states_of(
    events: &[(usize, &Event<'_>)],
    users: usize,
    config: &SignalConfig,
) -> Vec<Option<ProfileState>> {
    let mut states: Vec<Option<ProfileState>> = vec![None; users];
    for &(slot, event) in events {
        apply(&mut states[slot], event, config);
    }
    states
}

/// `event` into the user's state, which it starts if there is none.
fn apply(state: &mut Option<ProfileState>, event: &Event<'_>, config: &SignalConfig) {
    match state {
        Some(state) => state.apply(event, config),
        None => *state = Some(ProfileState::new(event, config)),
    }
}

/// Replays `events` into fresh timelines, deciding at every flush; returns the alerts raised.
fn decide_all(
    events: &[(usize, &Event<'_>)],
    ids: &[&str],
    config: &SignalConfig,
    rules: &AlertRules,
) -> usize {
    let mut timelines = vec![StageTimeline::default(); ids.len()];
    let mut states: Vec<Option<ProfileState>> = vec![None; ids.len()];
    let mut next_due: Vec<Option<EventTime>> = vec![None; ids.len()];
    let mut dirty = vec![false; ids.len()];
    let mut latest = i64::MIN;
    let mut alerts = 0;
    for (n, &(slot, event)) in events.iter().enumerate() {
        latest = latest.max(event.ts.millis());
        timelines[slot].record(states[slot].as_ref(), event);
        apply(&mut states[slot], event, config);
        dirty[slot] = true;
        if (n + 1) % common::FLUSH_EVERY == 0 || n + 1 == events.len() {
            let decision = EventTime::from_millis(latest - common::LATENESS_MS);
            for (slot, timeline) in timelines.iter_mut().enumerate() {
                let due = next_due[slot].is_some_and(|due| due <= decision);
                if !(due || std::mem::take(&mut dirty[slot])) {
                    continue;
                }
                let state = states[slot].as_ref().expect("a user has events");
                timeline.advance(state, ids[slot], decision, config, rules, |alert| {
                    black_box(alert);
                    alerts += 1;
                });
                next_due[slot] = timeline.next_due(state, config);
            }
        }
    }
    alerts
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = alerts
}
criterion_main!(benches);
