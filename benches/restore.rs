//! Restore: `profile_state` blobs back into states (`ProfileState::decode`), users per second.
//!
//! The blobs are those of the data set's users at its end, as the last flush wrote them.
//! Issue 8's target is 1 M users per second; reading the rows from ClickHouse is not included.

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use portrait_core::{ProfileState, SignalConfig};

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

    let mut group = c.benchmark_group("restore");
    group.throughput(Throughput::Elements(blobs.len() as u64));
    group.bench_function("decode_state", |b| {
        b.iter(|| {
            for blob in &blobs {
                black_box(ProfileState::decode(black_box(blob)).expect("a valid blob"));
            }
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = restore
}
criterion_main!(benches);
