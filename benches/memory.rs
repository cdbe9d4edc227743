//! Memory per user: what a shard holds, counted by a global allocator that sees every byte.
//!
//! Not a criterion benchmark (it measures bytes, not time), but run by `cargo bench` with the
//! others. It prints:
//!
//! 1. the state alone, as the state-size metric counts it (`size_of::<ProfileState>()` plus
//!    `heap_bytes`), and encoded as the `profile_state` blob, over the data set's users;
//! 2. a whole shard after replaying the data set (2 000 users with 120 days of history, the
//!    flushes included): slot table, id index, ids, deadline index and states;
//! 3. a shard of [`SYNTHETIC_USERS`] users with one event each: the per-user cost that does
//!    not depend on history (tables, index, ids), at a scale where the tables' growth shows;
//!    then the same with alerts on, as the pipeline runs by default, where every user also
//!    has a stage timeline. Each is reported twice: as the first flush leaves it, and
//!    (`_indexed`) after the first sweep and the next alert decision, once the deadline
//!    indexes hold an entry per user as a running shard's do.
//!
//! Bytes are counted twice: as requested from the allocator, and as glibc's malloc spends them
//! (16-byte aligned chunks with an 8-byte header, 32 bytes at least), which is what the
//! resident set pays for small allocations. Capacity a `Vec` or table reserved but never
//! touched is counted, though the kernel has not backed it yet.
//!
//! Issue 8's target is 256 bytes per user beyond the user id, with 10 M users.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::mem::size_of;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use portrait_core::alerts::AlertRules;
use portrait_core::event::{Event, EventKind};
use portrait_core::{ProfileState, SignalConfig};
use portrait_pipelines::shard::Shard;

/// Users of the synthetic shards (part 3) unless `PORTRAIT_MEMORY_USERS` says otherwise. A
/// million shows the tables' growth at a fraction of the memory 10 M takes (about 8 GB for the
/// two shards; run `PORTRAIT_MEMORY_USERS=10000000 cargo bench --bench memory` for issue 8's
/// figure).
const SYNTHETIC_USERS: usize = 1_000_000;

/// Live bytes, as requested and as glibc's malloc spends them.
static REQUESTED: AtomicUsize = AtomicUsize::new(0);
static CHUNKED: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting.
struct Counting;

/// The bytes glibc's malloc takes for a request of `size` on 64-bit Linux: the request plus an
/// 8-byte header, rounded up to 16, at least 32.
fn chunk(size: usize) -> usize {
    ((size + 8 + 15) & !15).max(32)
}

fn count(layout: Layout, sign: isize) {
    let apply = |counter: &AtomicUsize, bytes: usize| {
        if sign > 0 {
            counter.fetch_add(bytes, Relaxed);
        } else {
            counter.fetch_sub(bytes, Relaxed);
        }
    };
    apply(&REQUESTED, layout.size());
    apply(&CHUNKED, chunk(layout.size()));
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count(layout, 1);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            count(layout, 1);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        count(layout, -1);
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            count(layout, -1);
            let grown = Layout::from_size_align(new_size, layout.align()).expect("a valid layout");
            count(grown, 1);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Live bytes now: `(requested, chunked)`.
fn live() -> (usize, usize) {
    (REQUESTED.load(Relaxed), CHUNKED.load(Relaxed))
}

/// The process's resident set, in bytes (Linux; 0 elsewhere).
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|pages| pages.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Prints the bytes per user allocated since `before`, and the growth of the resident set
/// since `resident_before` (pages actually touched; noisier, as freed memory may stay
/// resident).
fn report(what: &str, users: usize, before: (usize, usize), resident_before: usize) {
    let (requested, chunked) = live();
    println!(
        "memory/{what}: {users} users, {} B per user requested, {} B with malloc's chunks, \
         {} B resident",
        (requested - before.0) / users,
        (chunked - before.1) / users,
        resident().saturating_sub(resident_before) / users
    );
}

fn main() {
    // `cargo bench -- FILTER` passes the filter to every bench binary: run only if it matches.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| "memory".contains(f.as_str())) {
        return;
    }
    let config = SignalConfig::default();
    let dataset = common::dataset();
    let messages = dataset.messages();

    // 1. The state alone.
    let events = common::decoded(&dataset);
    let common::Replayed { users, .. } = common::replay(&events, &config);
    let heap: usize = users.iter().map(|(_, state)| state.heap_bytes()).sum();
    let mut blob = Vec::new();
    let encoded: usize = users
        .iter()
        .map(|(_, state)| {
            blob.clear();
            state.encode(&mut blob);
            blob.len()
        })
        .sum();
    let n = users.len();
    println!(
        "memory/state: {n} users, {} B per user by the state-size metric ({} struct + {} heap), \
         {} B encoded",
        size_of::<ProfileState>() + heap / n,
        size_of::<ProfileState>(),
        heap / n,
        encoded / n
    );
    let mut parts: Vec<(&str, usize)> = Vec::new();
    for (_, state) in &users {
        for (at, (part, bytes)) in state.heap_bytes_by_part().into_iter().enumerate() {
            match parts.get_mut(at) {
                Some((_, sum)) => *sum += bytes,
                None => parts.push((part, bytes)),
            }
        }
    }
    let parts: Vec<String> = parts
        .iter()
        .map(|(part, bytes)| format!("{part} {} B", bytes / n))
        .collect();
    println!("memory/state_heap: per user, {}", parts.join(", "));

    // 2. A shard after the data set.
    let (before, resident_before) = (live(), resident());
    let mut shard = Shard::new(common::topics());
    common::replay_shard(&mut shard, messages, &config);
    report("shard_with_history", shard.users(), before, resident_before);
    drop(shard);

    // 3. Many users with one event each.
    let first = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::PageView(_)))
        .expect("a page view");
    let synthetic_users = std::env::var("PORTRAIT_MEMORY_USERS")
        .ok()
        .and_then(|users| users.parse().ok())
        .unwrap_or(SYNTHETIC_USERS);
    let ids: Vec<String> = (0..synthetic_users).map(|i| format!("u{i:06}")).collect();
    let shard = Shard::new(common::topics());
    // Kept while the next is filled: freed, its pages would stay resident for the next to
    // reuse, and that one's resident growth would be understated.
    let _kept = one_event_each(shard, "shard_one_event_each", &ids, first, &config);
    let shard = Shard::new(common::topics()).with_alerts();
    one_event_each(
        shard,
        "shard_one_event_each_with_alerts",
        &ids,
        first,
        &config,
    );
}

/// Applies `first` once as each of `ids` to `shard`, flushes, and reports what the shard
/// holds; then again once the deadline indexes have filed every user. Returns the shard.
fn one_event_each(
    mut shard: Shard,
    what: &str,
    ids: &[String],
    first: &Event<'_>,
    config: &SignalConfig,
) -> Shard {
    let (before, resident_before) = (live(), resident());
    let mut event = first.clone();
    for (offset, id) in (0..).zip(ids) {
        event.user_id = Cow::Borrowed(id);
        shard
            .apply(0, offset, &event, config)
            .expect("nothing restored to decode");
    }
    let watermark = first.ts;
    shard
        .decide_alerts(Some(watermark), config, &AlertRules::default(), drop)
        .expect("nothing restored to decode");
    shard.drain(
        watermark,
        common::LATENESS_MS,
        config,
        &Default::default(),
        drop,
    );
    report(what, shard.users(), before, resident_before);
    // The first sweep and the next decision file every user in the deadline indexes' ring
    // or overflow (until then they keep only each slot's deadline), as in a running shard.
    shard.sweep(watermark).expect("nothing restored to decode");
    shard
        .decide_alerts(Some(watermark), config, &AlertRules::default(), drop)
        .expect("nothing restored to decode");
    report(
        &format!("{what}_indexed"),
        shard.users(),
        before,
        resident_before,
    );
    shard
}
