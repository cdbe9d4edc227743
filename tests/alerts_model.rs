//! The alert timeline of `portrait-core` against the generator's reference model, in process
//! and without services: every generated message decoded and recorded in arrival order, every
//! user's timeline advanced at each simulated flush to where the pipeline would decide
//! (`alerts.lateness_ms` behind the latest event time seen), and the alerts compared with
//! `Dataset::expected_alerts` (kind, user, time, stages).

use std::collections::HashMap;

use portrait_core::alerts::{AlertRules, StageTimeline};
use portrait_core::event::{decode, DecodeLimits};
use portrait_core::time::EventTime;
use portrait_core::{ProfileState, SignalConfig};
use portrait_generator::{
    alert_differences, generate, ExpectedAlert, GeneratorConfig, MAX_ARRIVAL_DELAY_MS,
};

const LATENESS_MS: i64 = 300_000;

#[test]
fn timelines_raise_exactly_the_reference_alerts_whatever_the_flush_cadence() {
    let dataset = generate(&GeneratorConfig {
        seed: 3,
        users: 1_500,
        days: 120,
        ..GeneratorConfig::default()
    });
    let expected = dataset.expected_alerts(LATENESS_MS);
    for messages_per_flush in [997, 20_011] {
        let actual = replay(&dataset, messages_per_flush);
        let differences = alert_differences(&actual, &expected);
        assert!(
            differences.is_empty(),
            "{messages_per_flush} messages per flush: {} difference(s), e.g.\n  {}",
            differences.len(),
            differences[..differences.len().min(20)].join("\n  ")
        );
    }
}

/// The alerts a pipeline flushing every `messages_per_flush` messages would send.
fn replay(dataset: &portrait_generator::Dataset, messages_per_flush: usize) -> Vec<ExpectedAlert> {
    let (config, rules, limits) = (
        SignalConfig::default(),
        AlertRules::default(),
        DecodeLimits::default(),
    );
    // Each user's profile state beside the timeline: the timeline reads it while it has no
    // events pending.
    let mut users: HashMap<String, (ProfileState, StageTimeline)> = HashMap::new();
    let mut alerts = Vec::new();
    let mut flush = |users: &mut HashMap<String, (ProfileState, StageTimeline)>, to: i64| {
        for (user, (state, timeline)) in users.iter_mut() {
            let to = EventTime::from_millis(to);
            timeline.advance(state, user, to, &config, &rules, |alert| {
                alerts.push(ExpectedAlert {
                    user_id: alert.user_id,
                    kind: alert.kind.as_str().to_owned(),
                    at_ms: alert.at.millis(),
                    stage_before: alert.stage_before.map(|s| s.as_str().to_owned()),
                    stage_after: alert.stage_after.as_str().to_owned(),
                });
            });
        }
    };
    let mut latest = i64::MIN;
    for (index, message) in dataset.messages().iter().enumerate() {
        if let Ok(event) = decode(&message.payload, &limits) {
            latest = latest.max(event.ts.millis());
            let on_time = match users.get_mut(event.user_id.as_ref()) {
                Some((state, timeline)) => {
                    let on_time = timeline.record(Some(state), &event);
                    state.apply(&event, &config);
                    on_time
                }
                None => {
                    let mut timeline = StageTimeline::default();
                    let on_time = timeline.record(None, &event);
                    let state = ProfileState::new(&event, &config);
                    users.insert(event.user_id.to_string(), (state, timeline));
                    on_time
                }
            };
            assert!(
                on_time,
                "no event arrives more than the generator's bound late"
            );
        }
        if index % messages_per_flush == messages_per_flush - 1 {
            flush(&mut users, latest - (MAX_ARRIVAL_DELAY_MS + 1));
        }
    }
    // The end of a bounded input: decided up to the watermark.
    flush(&mut users, latest - LATENESS_MS);
    alerts.sort();
    alerts
}
