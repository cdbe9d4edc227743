//! `portrait bench-freshness`: how soon a live event's profile is visible in ClickHouse at a
//! steady input rate (issue 8; `scripts/bench --freshness` runs it on fresh topics and
//! databases, docs/performance.md has the figures).
//!
//! It starts `portrait run` in live mode with this process's configuration, produces
//! generated events to the first input topic at `--rate` events a second, each timed with the
//! wall clock when it is produced, and every `--probe-interval-ms` a probe: one page view of a
//! brand-new user, `probe-000123`. A second task asks ClickHouse every `--poll-interval-ms`
//! for the probes' profile rows. A probe's freshness is from when it was handed to the
//! producer until the answer that first holds its row arrived. After a warm-up (the group
//! joined and the first probe is visible), it measures for `--seconds`: the freshness of the
//! probes produced meanwhile, the rate achieved, and the CPU the pipeline used.
//!
//! - `load.rs`: the steady-rate producer and the probes;
//! - `watch.rs`: the ClickHouse poll that sees the probes arrive;
//! - `process.rs`: the pipeline as a child process, and CPU time from `/proc`.

mod load;
mod process;
mod watch;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use portrait_connectors::kafka::{Admin, Producer};
use portrait_generator::{generate, GeneratorConfig, DEFAULT_START_MS};

use crate::config::Config;
use load::{Events, Load, Probe};
use process::{peak_rss, Cpu, Pipeline};
use watch::{watch_probes, Until};

#[derive(clap::Args)]
pub struct Args {
    /// Events produced per second, probes not counted.
    #[arg(long, default_value_t = 50_000)]
    rate: u32,
    /// Length of the measurement, in seconds, after the warm-up.
    #[arg(long, default_value_t = 60)]
    seconds: u32,
    /// Seconds of input before the measurement starts (it also waits for the first probe's
    /// row, so the group has joined and the first flushes are done).
    #[arg(long, default_value_t = 10)]
    warmup: u32,
    /// A probe every this many milliseconds.
    #[arg(long, default_value_t = 100)]
    probe_interval_ms: u64,
    /// Ask ClickHouse for new probe rows every this many milliseconds: the resolution of the
    /// measured freshness.
    #[arg(long, default_value_t = 50)]
    poll_interval_ms: u64,
    /// Users of the generated data set the events come from (their events are produced in
    /// arrival order, and again from the start once used up).
    #[arg(long, default_value_t = 20_000)]
    users: u32,
    /// Days the generated data set spans (about 2 events per user and day).
    #[arg(long, default_value_t = 120)]
    days: u32,
    /// Random seed of the generated data set.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Partitions of the input topic, if it has to be created.
    #[arg(long, default_value_t = 4)]
    partitions: u32,
    /// Also report the CPU this process used during the measurement (the broker, ClickHouse),
    /// as `NAME=PID`. Repeatable.
    #[arg(long = "cpu-of", value_name = "NAME=PID", value_parser = parse_named_pid)]
    cpu_of: Vec<(String, u32)>,
}

fn parse_named_pid(s: &str) -> Result<(String, u32), String> {
    let (name, pid) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=PID, got {s:?}"))?;
    let pid = pid
        .parse()
        .map_err(|_| format!("not a process id: {pid:?}"))?;
    Ok((name.to_owned(), pid))
}

/// How long the tail may take: acknowledgements after the last send, the last probes'
/// rows after the measurement, the pipeline's last flush after SIGTERM.
const TAIL: Duration = Duration::from_secs(30);

pub fn run(config_path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    if args.rate == 0 || args.seconds == 0 || args.probe_interval_ms == 0 {
        bail!("--rate, --seconds and --probe-interval-ms must be positive");
    }
    let config = crate::commands::services_config(config_path, "bench-freshness")?;
    let generator = GeneratorConfig {
        seed: args.seed,
        users: args.users,
        days: args.days,
        start_ms: DEFAULT_START_MS,
        malformed_rate: 0.0,
    };
    generator.validate()?;
    let events = Events::new(generate(&generator).messages())?;
    eprintln!(
        "bench-freshness: {} generated events of {} users to produce at {} a second",
        events.count(),
        args.users,
        args.rate
    );
    super::runtime()?.block_on(measure(config_path, &config, &args, events))
}

async fn measure(
    config_path: Option<&Path>,
    config: &Config,
    args: &Args,
    events: Events,
) -> anyhow::Result<()> {
    let topic = &config.kafka.topics[0];
    Admin::new(&config.kafka)?
        .create_topics(&[topic.as_str()], args.partitions)
        .await
        .context("creating the input topic")?;
    let mut pipeline = Pipeline::start(config_path)?;
    let mut load = Load::new(
        Producer::new(&config.kafka)?,
        topic,
        events,
        f64::from(args.rate),
    );

    let (seen_tx, seen) = tokio::sync::watch::channel(0);
    let (until_tx, until) = tokio::sync::watch::channel(None);
    let watcher = tokio::spawn(watch_probes(
        config.clickhouse.client(),
        Duration::from_millis(args.poll_interval_ms.max(1)),
        seen_tx,
        until,
    ));

    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let probe_every = Duration::from_millis(args.probe_interval_ms);
    let started = Instant::now();
    let warmed_up = started + Duration::from_secs(args.warmup.into());
    let length = Duration::from_secs(args.seconds.into());
    let mut next_probe = started;
    let mut start: Option<Reading> = None;
    while !watcher.is_finished() {
        ticks.tick().await;
        load.tick()?;
        let now = Instant::now();
        if now >= next_probe {
            load.probe();
            next_probe += probe_every;
        }
        pipeline.check_running()?;
        if let Some(start) = &start {
            if now >= start.at + length {
                break;
            }
        } else if now >= warmed_up && *seen.borrow() > 0 {
            start = Some(Reading::take(&load, &pipeline, &args.cpu_of)?);
        } else if now >= warmed_up + 2 * TAIL {
            bail!("no probe's profile showed in ClickHouse within a minute after the warm-up");
        }
    }
    let Some(start) = start else {
        // The watcher stops early only on an error.
        return Err(watcher.await?.expect_err("the watcher stopped early"));
    };
    let end = Reading::take(&load, &pipeline, &args.cpu_of)?;
    let peak_rss = peak_rss(pipeline.pid())?;

    until_tx.send_replace(Some(Until {
        probes: end.probes,
        deadline: Instant::now() + TAIL,
    }));
    load.finish(TAIL).await?;
    let sightings = watcher.await??;
    let summary = pipeline.stop(TAIL).await?;

    let measured = start.probes..end.probes;
    let freshness: Vec<Duration> = measured
        .clone()
        .filter_map(|n| {
            Some(
                sightings
                    .get(&n)?
                    .duration_since(load.probes[n as usize].produced),
            )
        })
        .collect();
    let acks: Vec<Duration> = load.probes[measured.start as usize..measured.end as usize]
        .iter()
        .filter_map(|Probe { produced, acked }| Some(acked.as_ref()?.duration_since(*produced)))
        .collect();
    report(config, args, &start, &end, freshness, acks, peak_rss);
    print!("{summary}");
    Ok(())
}

/// How often the producer queues the events due: 500 at a time at 50 000 a second.
const TICK: Duration = Duration::from_millis(10);

/// Counters at the start and at the end of the measurement.
struct Reading {
    at: Instant,
    /// Events queued so far.
    queued: u64,
    /// Probes queued so far: the next probe's number.
    probes: u32,
    pipeline: Cpu,
    this: Cpu,
    /// Of `--cpu-of`, in its order.
    others: Vec<Cpu>,
}

impl Reading {
    fn take(load: &Load, pipeline: &Pipeline, others: &[(String, u32)]) -> anyhow::Result<Self> {
        Ok(Self {
            at: Instant::now(),
            queued: load.queued,
            probes: u32::try_from(load.probes.len()).expect("fewer than 4 billion probes"),
            pipeline: Cpu::of(Some(pipeline.pid()))?,
            this: Cpu::of(None)?,
            others: others
                .iter()
                .map(|(_, pid)| Cpu::of(Some(*pid)))
                .collect::<anyhow::Result<_>>()?,
        })
    }
}

fn report(
    config: &Config,
    args: &Args,
    start: &Reading,
    end: &Reading,
    mut freshness: Vec<Duration>,
    mut acks: Vec<Duration>,
    peak_rss: u64,
) {
    let wall = end.at.duration_since(start.at).as_secs_f64();
    let events = end.queued - start.queued;
    let probes = end.probes - start.probes;
    let pipeline = end.pipeline.since(start.pipeline);
    let pipeline_cpu = pipeline.total().as_secs_f64();
    freshness.sort_unstable();
    acks.sort_unstable();
    println!(
        "\n== freshness at {} events/s; flush every {} ms or at {} changed users (target: p99 < 2 s)",
        args.rate, config.pipeline.flush_interval_ms, config.pipeline.flush_max_dirty
    );
    println!(
        "measured             {wall:8.2} s    {events:>10} events, {:.0} per second achieved",
        events as f64 / wall
    );
    println!(
        "probes               {probes:8}      {} seen, {} not seen within {TAIL:?} after the end",
        freshness.len(),
        probes as usize - freshness.len()
    );
    println!(
        "freshness            p50 {}  p99 {}  max {}  min {}",
        seconds(percentile(&freshness, 50)),
        seconds(percentile(&freshness, 99)),
        seconds(freshness.last().copied()),
        seconds(freshness.first().copied()),
    );
    println!(
        "  until the broker acknowledged the probe: p50 {}  p99 {}  max {}",
        seconds(percentile(&acks, 50)),
        seconds(percentile(&acks, 99)),
        seconds(acks.last().copied()),
    );
    println!(
        "pipeline CPU         {pipeline_cpu:8.2} s    {:>10.0} events per CPU-second; {:.2} cores \
         busy (user {:.2} s, sys {:.2} s); peak RSS {:.0} MiB",
        events as f64 / pipeline_cpu,
        pipeline_cpu / wall,
        pipeline.user.as_secs_f64(),
        pipeline.system.as_secs_f64(),
        peak_rss as f64 / (1024.0 * 1024.0)
    );
    let named = std::iter::once(("load generator", end.this.since(start.this))).chain(
        args.cpu_of
            .iter()
            .zip(end.others.iter().zip(&start.others))
            .map(|((name, _), (end, start))| (name.as_str(), end.since(*start))),
    );
    for (name, cpu) in named {
        let cpu = cpu.total().as_secs_f64();
        println!(
            "{:<20} {cpu:8.2} s    {:.2} cores busy",
            format!("{name} CPU"),
            cpu / wall
        );
    }
}

/// The nearest-rank `p`-th percentile of sorted durations.
fn percentile(sorted: &[Duration], p: usize) -> Option<Duration> {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn seconds(duration: Option<Duration>) -> String {
    duration.map_or("-".to_owned(), |d| format!("{:.3} s", d.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<Duration> = (1..=200).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 50), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&sorted, 99), Some(Duration::from_millis(198)));
        assert_eq!(percentile(&sorted[..1], 99), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&[], 50), None);
    }
}
