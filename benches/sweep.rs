//! The timer sweep: users whose profile changes with time alone, found by deadline.
//!
//! A [`DeadlineIndex`] holds `N` users whose deadlines are spread evenly over one day (every
//! user's next change is at most a day away, `docs/state.md`). Each iteration moves the
//! watermark forward by 1% of a day, so 1% of the users are due:
//!
//! - `sweep/pop_due/N`: only popping the due users (`Shard::sweep`'s part), timed alone;
//! - `sweep/pop_and_reschedule/N`: popping them and filing each under its next deadline a day
//!   later, as the flush after the sweep does (`Shard::drain`'s part).
//!
//! Throughput is per *due* user, so the issue 8 criterion "10 M users of which 1% are due cost
//! no more than twice 100 k users of which 1% are due" reads as the ratio of the two
//! per-user times: a sweep must cost O(due users), whatever the users not due.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use portrait_core::time::MILLIS_PER_DAY;
use portrait_pipelines::deadlines::{DeadlineIndex, Slot};

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
    fn reschedule(&mut self) {
        for &slot in &self.due {
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

fn sweep(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweep");
    for users in SIZES {
        let mut rolling = Rolling::new(users);
        group.throughput(Throughput::Elements(u64::from(users / 100)));
        group.bench_function(BenchmarkId::new("pop_due", users), |b| {
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
            b.iter(|| {
                rolling.pop_due();
                rolling.reschedule();
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = sweep
}
criterion_main!(benches);
