//! Decoding: generated Kafka payloads in, typed events out (`portrait_core::event::decode`).
//!
//! Reported as events per second, over all events in arrival order (`decode/all`) and over the
//! events of each type, whose payloads differ in size and shape (an order carries items).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use portrait_core::event::{decode, DecodeLimits, EventType};
use std::hint::black_box;

fn decode_payloads(c: &mut Criterion) {
    let dataset = common::dataset();
    let messages = dataset.messages();
    let limits = DecodeLimits::default();
    let mut group = c.benchmark_group("decode");

    let all: Vec<&[u8]> = messages.iter().map(|m| m.payload.as_slice()).collect();
    let mut sets = vec![("all", all)];
    for &event_type in EventType::ALL {
        let payloads = messages
            .iter()
            .filter(|m| m.event_type == Some(event_type.as_str()))
            .map(|m| m.payload.as_slice())
            .collect();
        sets.push((event_type.as_str(), payloads));
    }
    for (name, payloads) in &sets {
        let bytes: usize = payloads.iter().map(|p| p.len()).sum();
        eprintln!(
            "decode/{name}: {} payloads, {} bytes on average",
            payloads.len(),
            bytes / payloads.len().max(1)
        );
        group.throughput(Throughput::Elements(payloads.len() as u64));
        group.bench_function(*name, |b| {
            // Each event is dropped right after decoding, as the engine drops it once applied:
            // the frees of an order's items are part of the cost.
            b.iter(|| {
                for payload in payloads {
                    let _event = black_box(decode(black_box(payload), &limits));
                }
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = decode_payloads
}
criterion_main!(benches);
