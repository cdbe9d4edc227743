//! Outages of the servers the pipeline depends on, mid-run: ClickHouse killed and kept down
//! for 30 s, the broker restarted. Each test breaks a private server of its own (`scripts/services` in a
//! temporary directory, on free ports), so no other test feels it. The pipeline must wait
//! with bounded memory, carry on by itself once the server is back, and end with every
//! profile and alert exactly as the generator's reference model says (DESIGN.md, "Backpressure,
//! not loss"; docs/guarantees.md).

mod common;

use std::time::{Duration, Instant};

use common::memory::ResidentMemory;
use common::pipeline::{produce, produce_on, run_until_end, succeed, verify, Running};
use common::services::PrivateService;
use portrait_connectors::clickhouse::{migrate, ClickHouseConfig};
use portrait_connectors::kafka::KafkaConfig;
use portrait_generator::{generate, GeneratorConfig};

const PARTITIONS: u32 = 4;
const LATENESS_MS: i64 = 300_000;
const CLICKHOUSE_OUTAGE: Duration = Duration::from_secs(30);
const BROKER_OUTAGE: Duration = Duration::from_secs(10);
/// How often the run's memory is read while a server is down.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// How long a run may take to finish once its server is back; beyond that it hangs.
const FINISH_WITHIN: Duration = Duration::from_secs(120);
/// What the engine logs (pipelines/src/retry.rs) when a ClickHouse operation fails, and once
/// one that failed went through: a flush's writes ("writing to ClickHouse"), the event archive
/// ("writing events to ClickHouse") or the tombstone read that starts each flush ("reading the
/// tombstones of forgotten users from ClickHouse"), whichever the outage hits first.
const WRITE_FAILED: &str = "ClickHouse failed";
const WRITE_RECOVERED: &str = "ClickHouse: succeeded after retrying";

/// How a test takes its server away.
#[derive(Clone, Copy)]
enum Stop {
    /// SIGTERM, as an operator's restart would. The broker goes within a second or two.
    Graceful,
    /// SIGKILL, as a crash would: gone at once. ClickHouse asked to stop gracefully goes on
    /// serving a busy client's open connection for 15 s or more, long enough for the run to
    /// finish its work unhindered, so the outage would be a race. A crash is also the harder
    /// case: a write in flight may land without its answer, and its retry writes it again.
    Crash,
}

/// What a run through an outage showed.
struct Outage {
    /// From asking the server to stop until its process was gone.
    stopping: Duration,
    /// From then until it answered again.
    down: Duration,
    /// The run's memory while the server was gone.
    memory: ResidentMemory,
    /// From the server's return to the run's end.
    finished_in: Duration,
    /// From the run's start to its end.
    took: Duration,
    /// What the run printed: its summary, and its log.
    summary: String,
    log: String,
}

/// `portrait run --until-end` over `kafka` into `clickhouse`, with `server` stopped under it
/// (as `stop` says) once it consumes, kept stopped for `length` once its process is gone while
/// the run's memory is read, and started again (same directory and ports, so its data
/// survive). The outage proper counts from when the process is gone. Insists that the run
/// waits through it, and then finishes by itself. `what` names the server, for the messages.
async fn run_through_outage(
    server: &PrivateService,
    stop: Stop,
    length: Duration,
    what: &str,
    kafka: &KafkaConfig,
    clickhouse: &ClickHouseConfig,
) -> Outage {
    let started = Instant::now();
    let mut run = Running::consuming(run_until_end(kafka, clickhouse)).await;
    let stopping = Instant::now();
    match stop {
        Stop::Graceful => server.down().await,
        Stop::Crash => server.kill().await,
    }
    let stopping = stopping.elapsed();
    let gone = Instant::now();
    run.assert_still_going(&format!("before {what} was gone: make the input larger"))
        .await;
    let mut memory = ResidentMemory::of(run.pid());
    let mut every = tokio::time::interval(SAMPLE_EVERY);
    while gone.elapsed() < length {
        every.tick().await;
        run.assert_still_going(&format!("while {what} was down"))
            .await;
        memory.sample();
    }
    server.up().await;
    let down = gone.elapsed();
    let back = Instant::now();
    let (summary, log) = run.finished(FINISH_WITHIN).await;
    Outage {
        stopping,
        down,
        memory,
        finished_in: back.elapsed(),
        took: started.elapsed(),
        summary,
        log,
    }
}

/// How many lines of `log` contain `text`.
fn count(log: &str, text: &str) -> usize {
    log.lines().filter(|line| line.contains(text)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_killed_for_30_s_mid_run() {
    let server = PrivateService::clickhouse("outage").await;
    let clickhouse = ClickHouseConfig {
        url: server.url(),
        database: common::fresh("portrait_test_outage"),
        ..ClickHouseConfig::default()
    };
    // About 1.8 million events, some 20 s of work for a debug build: the run is still reading
    // when ClickHouse goes, and has input left to hold back while it is down.
    let dataset = generate(&GeneratorConfig {
        seed: 13,
        users: 7_000,
        days: 120,
        ..GeneratorConfig::default()
    });
    let kafka = produce("outage", &dataset, PARTITIONS).await;
    migrate(&clickhouse).await.unwrap();
    let outage = run_through_outage(
        &server,
        Stop::Crash,
        CLICKHOUSE_OUTAGE,
        "ClickHouse",
        &kafka,
        &clickhouse,
    )
    .await;

    let log = &outage.log;
    let (failures, recoveries) = (count(log, WRITE_FAILED), count(log, WRITE_RECOVERED));
    assert!(
        failures > 0,
        "no write failed: the outage went unnoticed\n{log}"
    );
    assert!(
        recoveries > 0,
        "no failed write went through in the end\n{log}"
    );
    let (early_peak, late_peak) = outage
        .memory
        .assert_flat(CLICKHOUSE_OUTAGE / 3, "while ClickHouse was down");
    let verified = verify(&dataset, LATENESS_MS, &kafka, &clickhouse).await;
    eprintln!(
        "{} events; ClickHouse stopped in {:.1?}, then down for {:.1?}; {failures} failed \
         write attempts, {recoveries} write(s) through after retrying; resident \
         {early_peak} KiB early in the outage, {late_peak} KiB late ({} samples); the run \
         finished {:.1?} after ClickHouse was back, {:.1?} after it started\n{}{verified}",
        dataset.messages().len(),
        outage.stopping,
        outage.down,
        outage.memory.samples(),
        outage.finished_in,
        outage.took,
        outage.summary,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_restarted_mid_run() {
    let broker = PrivateService::durable_kafka("restart").await;
    common::on_fresh_database("restart", move |clickhouse| async move {
        // About 126 000 events: `sqlite://` storage takes them in some 3 s.
        let dataset = generate(&GeneratorConfig {
            seed: 17,
            users: 1_000,
            days: 60,
            ..GeneratorConfig::default()
        });
        let producing = Instant::now();
        let kafka = produce_on(&broker.address(), "restart", &dataset, PARTITIONS).await;
        let produced = producing.elapsed();
        migrate(&clickhouse).await.unwrap();
        let outage = run_through_outage(
            &broker,
            Stop::Graceful,
            BROKER_OUTAGE,
            "the broker",
            &kafka,
            &clickhouse,
        )
        .await;

        // The offsets were committed through the restart: another run of the group finds
        // nothing left to read, and the stored alert timelines count every alert as sent.
        let again = succeed("a second run", run_until_end(&kafka, &clickhouse)).await;
        let again = String::from_utf8_lossy(&again.stdout);
        assert!(
            again.contains("processed 0 events") && again.contains("skipped 0 replayed"),
            "the second run read input again: offsets were not committed\n{again}"
        );
        assert!(
            again.contains("\n0 alerts\n"),
            "the second run sent alerts again\n{again}"
        );
        let verified = verify(&dataset, LATENESS_MS, &kafka, &clickhouse).await;
        let (early_peak, late_peak) = outage.memory.peaks(BROKER_OUTAGE / 3);
        eprintln!(
            "{} events, produced in {produced:.1?}; the broker stopped in {:.1?}, then down for \
             {:.1?}; {} consumer errors, {} rebalances, {} operations retried until they went \
             through; resident {early_peak} KiB early in the outage, {late_peak} KiB late; the \
             run finished {:.1?} after the broker was back, {:.1?} after it started\n{}\
             second run: {again}{verified}",
            dataset.messages().len(),
            outage.stopping,
            outage.down,
            count(&outage.log, "consumer error"),
            count(&outage.log, "taking partitions back"),
            count(&outage.log, "succeeded after retrying"),
            outage.finished_in,
            outage.took,
            outage.summary,
        );
    })
    .await;
}
