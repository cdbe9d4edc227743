//! The timer sweep: users whose profile changes with time alone, found by deadline.
//!
//! A [`DeadlineIndex`] holds `N` users whose deadlines are spread evenly over one day (every
//! user's next change is at most a day away, `docs/state.md`). Each iteration moves the
//! watermark forward by 1% of a day, so 1% of the users are due:
//!
//! - `sweep/pop_due/N`: only popping the due users (`Shard::sweep`'s part), timed alone;
//! - `sweep/pop_and_reschedule/N`: popping them and filing each under its next deadline a day
//!   later, as the flush after the sweep does (`Shard::drain`'s part);
//! - `sweep/shard/N`: the whole of what a passing deadline costs a flush, on a [`Shard`] of `N`
//!   users with one page view each: `Shard::sweep` marks the due users changed, and
//!   `Shard::drain` evaluates each, computes and files its next deadline and encodes its state
//!   blob. No alert timelines. Building the shard is not timed (at 10 M users it takes
//!   seconds and about 3 GB).
//!
//! Throughput is per *due* user, so the issue 8 criterion "10 M users of which 1% are due cost
//! no more than twice 100 k users of which 1% are due" reads as the ratio of the two
//! per-user times: a sweep must cost O(due users), whatever the users not due.

mod common;

use std::borrow::Cow;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use portrait_core::event::{decode, DecodeLimits};
use portrait_core::time::{EventTime, MILLIS_PER_DAY};
use portrait_core::SignalConfig;
use portrait_pipelines::deadlines::{DeadlineIndex, Slot, PREFETCH_AHEAD};
use portrait_pipelines::shard::Shard;

/// The engine's allocator (src/main.rs): the drain allocates and frees each user's blob and
/// row, and at 10 M users glibc's malloc spends much of the sweep managing a heap of gigabytes.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [u32; 3] = [100_000, 1_000_000, 10_000_000];
/// The watermark's step per sweep: 1% of the day the deadlines are spread over.
const STEP_MS: i64 = MILLIS_PER_DAY / 100;

/// A day's worth of deadlines for `users` users, and the watermark before the first of them.
struct Rolling {
    index: DeadlineIndex,
    users: u32,
    watermark: i64,
    due: Vec<Slot>,
}

impl Rolling {
    fn new(users: u32) -> Self {
        let mut index = DeadlineIndex::default();
        for slot in 0..users {
            index.reschedule(slot, Some(first_deadline(slot, users)));
        }
        Rolling {
            index,
            users,
            watermark: -1,
            due: Vec::new(),
        }
    }

    /// Moves the watermark by [`STEP_MS`] and pops the due slots into `self.due`.
    fn pop_due(&mut self) {
        self.watermark += STEP_MS;
        self.due.clear();
        self.due.extend(self.index.pop_due(self.watermark));
    }

    /// Files each popped slot under its deadline one day later. A slot's deadlines are its
    /// first one plus whole days, so the one just passed is computed, not looked up: the
    /// bench measures the index, not a table of its own beside it (a caller's lookup of the
    /// user is the caller's cost, and at 10 M users it would cost more than the index).
    /// `Shard::drain` asks for each user's deadline before evaluating the user, which takes
    /// long enough to load it; with no such work between two reschedules here, the deadline
    /// is asked for [`PREFETCH_AHEAD`] slots ahead instead.
    fn reschedule(&mut self) {
        for (at, &slot) in self.due.iter().enumerate() {
            if let Some(&ahead) = self.due.get(at + PREFETCH_AHEAD) {
                self.index.prefetch(ahead);
            }
            let first = first_deadline(slot, self.users);
            let passed =
                first + (self.watermark - first).div_euclid(MILLIS_PER_DAY) * MILLIS_PER_DAY;
            self.index.reschedule(slot, Some(passed + MILLIS_PER_DAY));
        }
    }
}

/// `slot`'s deadline in the first day: spread evenly over the day, in an order unrelated to
/// the slot numbers, as users' last events are.
fn first_deadline(slot: Slot, users: u32) -> i64 {
    let position = u64::from(slot).wrapping_mul(0x9E37_79B9_7F4A_7C15) % u64::from(users);
    position as i64 * MILLIS_PER_DAY / i64::from(users)
}

/// 2026-01-01T00:00:00Z: the day the synthetic users of [`Fleet`] are seen on.
const DAY_0: i64 = 1_767_225_600_000;
/// How far the watermark of a [`Fleet`] may go before its shard is built afresh: five days
/// after the users' day. Until a week after it, a one-event user's only deadlines are the
/// daily ticks of `days_inactive`, a day after their event and every day after that; at the
/// week's midnight every user's 7-day window empties at once.
const FLEET_SPAN_MS: i64 = 6 * MILLIS_PER_DAY;

/// A [`Shard`] of `users` users with one page view each, seen at times spread over one day as
/// [`first_deadline`] spreads deadlines, and drained once: each user is filed under their next
/// change, a day after their event.
struct Fleet {
    shard: Shard,
    config: SignalConfig,
    watermark: i64,
}

impl Fleet {
    fn new(users: u32) -> Self {
        let config = SignalConfig::default();
        let json =
            r#"{"event_id":"e","type":"page_view","user_id":"u","ts":0,"props":{"page":"/"}}"#;
        let mut event = decode(json.as_bytes(), &DecodeLimits::default()).expect("a page view");
        let mut shard = Shard::new(common::topics());
        for slot in 0..users {
            event.user_id = Cow::Owned(format!("u{slot:08}"));
            event.ts = EventTime::from_millis(DAY_0 + first_deadline(slot, users));
            shard
                .apply(0, i64::from(slot), &event, &config)
                .expect("nothing restored to decode");
        }
        let watermark = DAY_0 + MILLIS_PER_DAY - 1;
        shard.drain(
            EventTime::from_millis(watermark),
            common::LATENESS_MS,
            &config,
            &Default::default(),
            drop,
        );
        Fleet {
            shard,
            config,
            watermark,
        }
    }

    /// Moves the watermark by [`STEP_MS`], then marks the due users changed and drains them as
    /// a flush does: each is evaluated, given its next deadline and encoded. Returns how many
    /// users were due.
    fn flush(&mut self) -> usize {
        self.watermark += STEP_MS;
        let watermark = EventTime::from_millis(self.watermark);
        let due = self
            .shard
            .sweep(watermark)
            .expect("nothing restored to decode");
        self.shard.drain(
            watermark,
            common::LATENESS_MS,
            &self.config,
            &Default::default(),
            |changed| {
                black_box(changed);
            },
        );
        due
    }

    /// Whether the next [`Fleet::flush`] would reach past the span of uniform deadlines.
    fn spent(&self) -> bool {
        self.watermark + STEP_MS > DAY_0 + FLEET_SPAN_MS
    }
}

fn sweep(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweep");
    for users in SIZES {
        // Built on first use, so that a filter skipping a benchmark skips building its input.
        let mut rolling = None;
        let mut fleet = None;
        group.throughput(Throughput::Elements(u64::from(users / 100)));
        group.bench_function(BenchmarkId::new("pop_due", users), |b| {
            let rolling = rolling.get_or_insert_with(|| Rolling::new(users));
            b.iter_custom(|iterations| {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    rolling.pop_due();
                    timed += started.elapsed();
                    black_box(rolling.due.len());
                    rolling.reschedule();
                }
                timed
            });
        });
        group.bench_function(BenchmarkId::new("pop_and_reschedule", users), |b| {
            let rolling = rolling.get_or_insert_with(|| Rolling::new(users));
            b.iter(|| {
                rolling.pop_due();
                rolling.reschedule();
            });
        });
        drop(rolling);
        group.bench_function(BenchmarkId::new("shard", users), |b| {
            b.iter_custom(|iterations| {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    if fleet.as_ref().is_none_or(Fleet::spent) {
                        fleet = None; // Dropped before its successor is built.
                        fleet = Some(Fleet::new(users));
                    }
                    let fleet = fleet.as_mut().expect("built");
                    let started = Instant::now();
                    let due = fleet.flush();
                    timed += started.elapsed();
                    // The throughput assumes 1% due; the ticks need not fall exactly on the
                    // steps' boundaries, so a step may take a few users more or fewer.
                    let expected = users as usize / 100;
                    assert!(due.abs_diff(expected) <= expected / 100 + 5, "{due} due");
                }
                timed
            });
        });
        drop(fleet);
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = sweep
}
criterion_main!(benches);
