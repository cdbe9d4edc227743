//! Property tests of the state's contract: order independence, prune independence, the blob
//! round trip, bounded size and exact deadlines. Each signal's own tests live beside it.

use proptest::prelude::*;

use super::*;
use crate::churn_model::BgNbdParams;
use crate::event::{AccountAction, Direction, PromotionAction};
use crate::profile::Profile;
use crate::testing::{
    account, arbitrary, at, chat, order, order_with, promotion, search, state_of, view, view_of,
    DAY, HOUR,
};
use crate::time::Day;

fn config() -> SignalConfig {
    SignalConfig::default()
}

/// The pipeline's default lateness (`pipeline.lateness_ms`).
const LATENESS_MS: i64 = 300_000;

/// `W` = max ts − lateness: where replay mode evaluates the final profiles.
fn final_watermark(events: &[Event<'_>]) -> EventTime {
    let max = events.iter().map(|e| e.ts).max().expect("events");
    EventTime::from_millis(max.millis() - LATENESS_MS)
}

/// The final watermark and later ones, so that every window empties out step by step.
fn watermarks(last: EventTime) -> impl Iterator<Item = EventTime> {
    [0, 3 * DAY + 7 * HOUR, 20 * DAY, 45 * DAY, 400 * DAY]
        .into_iter()
        .map(move |later| EventTime::from_millis(last.millis() + later))
}

fn profiles(state: &ProfileState, last: EventTime) -> Vec<Profile> {
    watermarks(last)
        .map(|w| state.evaluate("u", w, &config(), &BgNbdParams::default()))
        .collect()
}

fn encoded(state: &ProfileState) -> Vec<u8> {
    let mut blob = Vec::new();
    state.encode(&mut blob);
    blob
}

/// The latest watermark that may be pruned at while `pending` have still to arrive: `W` may
/// not pass any pending event's day + `RETENTION_DAYS` (the exactness condition).
fn prune_limit(pending: &[Event<'_>]) -> Option<EventTime> {
    let earliest_day = pending.iter().map(|e| e.ts.day()).min()?;
    Some(EventTime::from_millis(
        earliest_day.plus(days::RETENTION_DAYS).start().millis() - 1,
    ))
}

fn with_shuffle<T: Clone + std::fmt::Debug>(
    items: impl Strategy<Value = Vec<T>>,
) -> impl Strategy<Value = (Vec<T>, Vec<T>)> {
    items.prop_flat_map(|items| (Just(items.clone()), Just(items).prop_shuffle()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_arrival_order_gives_the_same_profiles(
        (events, shuffled) in with_shuffle(arbitrary::events(150, 1..80))
    ) {
        let last = final_watermark(&events);
        prop_assert_eq!(
            profiles(&state_of(&events), last),
            profiles(&state_of(&shuffled), last)
        );
    }

    #[test]
    fn pruning_between_batches_changes_nothing(
        events in arbitrary::events(150, 1..80),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(events.len())).collect();
        cuts.push(events.len());
        cuts.sort_unstable();

        let config = config();
        let mut batched = ProfileState::new(&events[0], &config);
        let mut applied = 1;
        for &cut in &cuts {
            for event in &events[applied..cut.max(applied)] {
                batched.apply(event, &config);
            }
            applied = applied.max(cut);
            let seen = final_watermark(&events[..applied]);
            let w = prune_limit(&events[applied..]).map_or(seen, |limit| seen.min(limit));
            batched.prune(w, &config);
        }
        let mut whole = state_of(&events);
        let last = final_watermark(&events);
        prop_assert_eq!(profiles(&batched, last), profiles(&whole, last));
        // Pruned to the same watermark, the two are the same bytes.
        batched.prune(last, &config);
        whole.prune(last, &config);
        prop_assert_eq!(encoded(&batched), encoded(&whole));
    }

    #[test]
    fn the_blob_restores_the_same_state(
        events in arbitrary::events(150, 1..80),
        prune_back in proptest::option::of(0..100 * DAY),
    ) {
        let mut state = state_of(&events);
        let last = final_watermark(&events);
        if let Some(back) = prune_back {
            state.prune(EventTime::from_millis(last.millis() - back), &config());
        }
        let blob = encoded(&state);
        let restored = ProfileState::decode(&blob);
        prop_assert_eq!(restored.as_ref(), Ok(&state));
        let restored = restored.unwrap();
        prop_assert_eq!(profiles(&restored, last), profiles(&state, last));
        prop_assert_eq!(encoded(&restored), blob);
    }

    #[test]
    fn a_damaged_blob_is_rejected_or_restored_but_never_panics(
        events in arbitrary::events(60, 1..30),
        damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut blob = encoded(&state_of(&events));
        for (at, byte) in damage {
            let at = at.index(blob.len());
            blob[at] = byte;
        }
        let _ = ProfileState::decode(&blob);
        let _ = ProfileState::decode(&blob[..cut.index(blob.len())]);
    }

    #[test]
    fn next_change_is_the_first_watermark_with_another_profile(
        events in arbitrary::events(150, 1..40),
        offset in -2 * DAY..200 * DAY,
        prune in any::<bool>(),
        fractions in proptest::collection::vec(0.0..1.0f64, 3),
    ) {
        let config = config();
        let mut state = state_of(&events);
        let first = events.iter().map(|e| e.ts).min().unwrap();
        let w = EventTime::from_millis(first.millis() + offset);
        if prune {
            state.prune(w, &config);
        }
        let next = state.next_change(w, &config);
        prop_assert!(next.is_some_and(|next| next > w), "{next:?} after {w}");
        let next = next.unwrap();
        let profile = |ms: i64| state.evaluate("u", EventTime::from_millis(ms), &config, &BgNbdParams::default());
        let now = profile(w.millis());
        let span = next.millis() - w.millis();
        for ms in [w.millis() + 1, next.millis() - 1]
            .into_iter()
            .chain(fractions.iter().map(|f| w.millis() + (f * span as f64) as i64))
        {
            prop_assert_eq!(&profile(ms), &now, "at {}", EventTime::from_millis(ms));
        }
        prop_assert_ne!(&profile(next.millis()), &now, "at {}", next);
    }
}

#[test]
fn decode_names_what_is_wrong() {
    let state = state_of(&[view(at(100, 1)), view_of(at(101, 2), "books")]);
    let blob = encoded(&state);
    assert_eq!(ProfileState::decode(&[]), Err(StateDecodeError::Empty));
    assert_eq!(
        ProfileState::decode(&[9]),
        Err(StateDecodeError::UnsupportedVersion {
            found: 9,
            supported: 2
        })
    );
    assert!(matches!(
        ProfileState::decode(&blob[..blob.len() - 1]),
        Err(StateDecodeError::Truncated { .. })
    ));
    let mut longer = blob.clone();
    longer.push(0);
    assert_eq!(
        ProfileState::decode(&longer),
        Err(StateDecodeError::TrailingBytes { count: 1 })
    );
}

#[test]
fn a_too_late_event_counts_everywhere_but_in_comebacks() {
    let config = config();
    // Day 140 comes 40 days after day 100: a comeback.
    let mut state = state_of(&[view(at(100, 1)), view(at(140, 1))]);
    // W on day 150 folds the days up to 150 − 35 = 115, day 100 among them.
    state.prune(at(150, 0), &config);
    // A view on day 112 arrives now, later than the exactness condition allows. By the
    // definition it splits the gap into 12 and 28 days, so there is no comeback any more; the
    // folded summary cannot take it in, and day 140 stays a comeback.
    state.apply(&view(at(112, 1)), &config);
    let p = state.evaluate("u", at(150, 0), &config, &BgNbdParams::default());
    assert_eq!(p.reactivated_at, Some(at(140, 1).millis() / 1000));
    // Every other column counts it.
    assert_eq!(p.page_views, 3);
    assert_eq!(p.first_seen_at, at(100, 1).millis() / 1000);
    assert_eq!(p.last_active_at, Some(at(140, 1).millis() / 1000));
    assert_eq!(
        (p.active_days_30d, p.events_7d, p.events_prev_28d),
        (1, 0, 1)
    );
}

/// A user who never stops: a million events over ten years, pruned daily as the pipeline
/// would. The state stays the same size whatever the history.
#[test]
fn a_decade_of_heavy_use_fits_in_a_fixed_size() {
    const EVENTS: i64 = 1_000_000;
    const SPAN: i64 = 3_650 * DAY;
    const CATEGORIES: [&str; 40] = [
        "c00", "c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11", "c12",
        "c13", "c14", "c15", "c16", "c17", "c18", "c19", "c20", "c21", "c22", "c23", "c24", "c25",
        "c26", "c27", "c28", "c29", "c30", "c31", "c32", "c33", "c34", "c35", "c36", "c37", "c38",
        "c39",
    ];
    let config = config();
    let start = at(15_000, 0).millis();
    // xorshift64: a fixed, dependency-free sequence.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut state: Option<ProfileState> = None;
    let mut max_ts = start;
    let mut pruned_day = Day::new(i32::MIN);
    let mut largest = 0;
    for i in 0..EVENTS {
        // In time order, give or take up to 48 hours of disorder.
        let jitter = (next() % (2 * DAY as u64)) as i64;
        let ts = EventTime::from_millis(start + i * (SPAN / EVENTS) + jitter);
        let category = CATEGORIES[(next() % 40) as usize];
        let event = match next() % 100 {
            0..=49 => view_of(ts, category),
            50..=64 => search(ts, "big sale", Some(category)),
            65..=79 => chat(ts, Direction::User, Some("unsubscribe me")),
            80..=84 => chat(ts, Direction::Staff, None),
            85..=92 => order_with(ts, 12_345, 100, Some("c"), None, &[(category, 4_000, 2)]),
            93..=95 => promotion(ts, PromotionAction::Claimed),
            96..=97 => account(ts, AccountAction::Login),
            _ => account(ts, AccountAction::Cancel),
        };
        match &mut state {
            None => state = Some(ProfileState::new(&event, &config)),
            Some(state) => state.apply(&event, &config),
        }
        let state = state.as_mut().unwrap();
        max_ts = max_ts.max(ts.millis());
        let w = EventTime::from_millis(max_ts - LATENESS_MS);
        if w.day() > pruned_day {
            state.prune(w, &config);
            pruned_day = w.day();
            largest = largest.max(size_of::<ProfileState>() + state.heap_bytes());
        }
    }
    let state = state.unwrap();
    let memory = size_of::<ProfileState>() + state.heap_bytes();
    let blob = encoded(&state).len();
    eprintln!(
        "after {EVENTS} events over 10 years: size_of {} B + heap {} B = {memory} B \
         (largest after a prune {largest} B); encoded {blob} B",
        size_of::<ProfileState>(),
        state.heap_bytes(),
    );
    assert!(largest < 2048, "{largest} bytes in memory");
    assert!(blob < 2048, "{blob} bytes encoded");
    let p = state.evaluate(
        "u",
        EventTime::from_millis(max_ts),
        &config,
        &BgNbdParams::default(),
    );
    assert_eq!(p.top_categories.len(), 5);
    assert!(p.activated && p.marketing_averse);
}

#[test]
fn a_late_order_on_a_folded_day_counts_unless_it_may_repeat_a_counted_day() {
    let config = config();
    let model = BgNbdParams::default();
    let mut state = state_of(&[order(at(10, 9), 1_000), order(at(20, 9), 1_000)]);
    // Folds every day up to 100 − 35 = 65.
    state.prune(at(100, 0), &config);
    let repeat_days = |state: &ProfileState| {
        state
            .evaluate("u", at(100, 0), &config, &model)
            .repeat_order_days
    };
    assert_eq!(repeat_days(&state), Some(1));
    // Between the first and the last order day: it may repeat one, so it is left out.
    state.apply(&order(at(15, 9), 1_000), &config);
    assert_eq!(repeat_days(&state), Some(1));
    // Before the first order day and after the last, it cannot.
    state.apply(&order(at(5, 9), 1_000), &config);
    state.apply(&order(at(30, 9), 1_000), &config);
    assert_eq!(repeat_days(&state), Some(3));
    let p = state.evaluate("u", at(100, 0), &config, &model);
    assert_eq!(
        (p.order_span_days, p.customer_age_days),
        (Some(25), Some(95))
    );
}
