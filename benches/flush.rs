//! The CPU work of a flush, per changed user.
//!
//! - `flush/evaluate`, `flush/next_change`, `flush/encode_state`: what `Shard::drain` computes
//!   for each changed user (the profile row, the deadline, the `profile_state` blob).
//! - `flush/insert`: `ClickHouseSink::write` of one profile row and one state row per user:
//!   the `clickhouse` crate's RowBinary serialization and its HTTP framing, sent over loopback
//!   to a stand-in server that reads the request and answers 200 (the crate's serializer is
//!   not public, so the whole client side of the insert is what can be measured). ClickHouse's
//!   own work is left out on purpose: it runs in another process, on another budget.

mod common;

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use portrait_connectors::clickhouse::{
    ClickHouseConfig, ClickHouseSink, ProfileRow, SinkBatch, StateRow, StoredDeadlines,
};
use portrait_core::state::deadlines_fingerprint;
use portrait_core::time::EventTime;
use portrait_core::{Profile, SignalConfig};

fn flush(c: &mut Criterion) {
    let config = SignalConfig::default();
    let dataset = common::dataset();
    let events = common::decoded(&dataset);
    let common::Replayed { users, watermark } = common::replay(&events, &config);

    let mut group = c.benchmark_group("flush");
    group.throughput(Throughput::Elements(users.len() as u64));
    group.bench_function("evaluate", |b| {
        b.iter(|| {
            for (id, state) in &users {
                black_box(state.evaluate(id, watermark, &config, &Default::default()));
            }
        });
    });
    group.bench_function("next_change", |b| {
        b.iter(|| {
            for (_, state) in &users {
                black_box(state.next_change(watermark, &config));
            }
        });
    });
    let mut blob = Vec::new();
    group.bench_function("encode_state", |b| {
        b.iter(|| {
            for (_, state) in &users {
                blob.clear();
                state.encode(&mut blob);
                black_box(&blob);
            }
        });
    });

    let profiles: Vec<Profile> = users
        .iter()
        .map(|(id, state)| state.evaluate(id, watermark, &config, &Default::default()))
        .collect();
    let updated_at = watermark.millis();
    let profile_rows: Vec<ProfileRow<'_>> = profiles
        .iter()
        .map(|profile| ProfileRow::new(profile, updated_at, 1))
        .collect();
    let state_rows: Vec<StateRow> = users
        .iter()
        .map(|(id, state)| {
            let mut blob = Vec::new();
            state.encode(&mut blob);
            let deadlines = StoredDeadlines {
                next_change_ms: state.next_change(watermark, &config).map(EventTime::millis),
                alert_due_ms: None,
                fingerprint: deadlines_fingerprint(&config),
            };
            StateRow::new(0, id, blob, 1, updated_at, deadlines)
        })
        .collect();
    let batch = SinkBatch {
        profiles: &profile_rows,
        states: &state_rows,
        alerts: &[],
        dead_letters: &[],
        segments: &[],
    };
    let sink = ClickHouseSink::new(&ClickHouseConfig {
        url: format!("http://{}", stand_in_server()),
        ..ClickHouseConfig::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    group.bench_function("insert", |b| {
        b.iter(|| {
            runtime
                .block_on(sink.write(&batch))
                .expect("the stand-in accepts")
        });
    });
    group.finish();
}

/// Starts a stand-in for ClickHouse's HTTP interface on a loopback port, on its own thread:
/// it reads each request whole (headers, then a chunked or sized body) and answers 200 with
/// an empty body. Returns its address.
fn stand_in_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    address
}

/// Answers every request of one keep-alive connection until the client closes it.
fn serve(stream: TcpStream) {
    let mut writer = stream.try_clone().expect("a second handle");
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    while read_request(&mut reader).is_some() {
        let answered = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        if answered.is_err() {
            return;
        }
    }
}

/// Reads one HTTP/1.1 request; `None` when the connection closed (or spoke nonsense).
fn read_request(reader: &mut impl BufRead) -> Option<()> {
    let mut line = String::new();
    let mut chunked = false;
    let mut length = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let header = line.trim_end().to_ascii_lowercase();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        if header.starts_with("transfer-encoding:") && header.contains("chunked") {
            chunked = true;
        }
    }
    if !chunked {
        return skip(reader, length);
    }
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let size = u64::from_str_radix(line.trim_end().split(';').next()?, 16).ok()?;
        // The chunk and its CRLF; the last (empty) chunk is followed by an empty trailer line.
        skip(reader, size + 2)?;
        if size == 0 {
            return Some(());
        }
    }
}

fn skip(reader: &mut impl Read, bytes: u64) -> Option<()> {
    let copied = std::io::copy(&mut reader.take(bytes), &mut std::io::sink()).ok()?;
    (copied == bytes).then_some(())
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = flush
}
criterion_main!(benches);
