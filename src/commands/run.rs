//! `portrait run`: the pipeline, from Kafka to ClickHouse, or in the embedded mode from NDJSON
//! files to Parquet tables.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use metrics_exporter_prometheus::PrometheusBuilder;
use portrait_pipelines::{EmbeddedOptions, Input, RunOptions, RunSummary, SegmentRules};
use portrait_sql::{ParquetTables, Segments};

use crate::config::{Config, Mode};

#[derive(clap::Args)]
pub struct Args {
    /// Consume up to the end offsets seen at start, flush, commit and exit 0. Implies replay
    /// mode: the watermark follows event time only, so the same input always gives the same
    /// profiles. The embedded mode always runs this way.
    #[arg(long)]
    until_end: bool,
    /// Embedded mode: an NDJSON file of events, one per line; `-` for standard input, which is
    /// also the default. Repeatable: files are read in the order given.
    #[arg(long = "input", value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// Embedded mode: replace the tables an earlier run left in `embedded.data_dir`.
    #[arg(long)]
    replace: bool,
}

pub fn run(path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = Config::load(path)?.config;
    match config.mode() {
        Mode::Embedded => run_embedded(config, &args),
        Mode::Services if !args.inputs.is_empty() || args.replace => bail!(
            "--input and --replace are for the embedded mode, which runs when neither \
             kafka.brokers nor clickhouse.url is configured; with them, events come from \
             kafka.topics"
        ),
        Mode::Services => run_services(config, &args),
    }
}

/// Profiles NDJSON events from files or stdin into the Parquet tables of `embedded.data_dir`.
fn run_embedded(config: Config, args: &Args) -> anyhow::Result<()> {
    let data_dir = &config.embedded.data_dir;
    let inputs = open_inputs(&args.inputs)?;
    let churn_model = portrait_sql::churn_model::latest_fit(data_dir)
        .context("reading the latest churn model fit")?;
    let options = EmbeddedOptions {
        segments: segment_rules(&config)?,
        churn_model,
        pipeline: config.pipeline,
        signals: config.signals,
        alerts: config.alerts,
    };
    tracing::info!(data_dir = %data_dir.display(), "starting the embedded pipeline");
    let mut tables = ParquetTables::create(data_dir, args.replace)?;
    let summary = portrait_pipelines::run_embedded(&options, inputs, &mut tables)?;
    tables.finish()?;
    print_summary(&summary);
    println!("tables written to {}", data_dir.display());
    Ok(())
}

/// The configured segments, compiled for the flushes to evaluate; none without any.
fn segment_rules(config: &Config) -> anyhow::Result<Option<SegmentRules>> {
    if config.segments.is_empty() {
        return Ok(None);
    }
    let segments = Segments::compile(&config.segment_defs()).context("[segments]")?;
    Ok(Some(segments.into()))
}

/// The named files, or standard input when none is named.
fn open_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    let stdin = [PathBuf::from("-")];
    let paths = if paths.is_empty() { &stdin[..] } else { paths };
    paths
        .iter()
        .map(|path| {
            if path.as_os_str() == "-" {
                return Ok(Input {
                    name: "stdin".to_owned(),
                    reader: Box::new(io::stdin().lock()),
                });
            }
            let file = File::open(path)
                .with_context(|| format!("cannot open the input {}", path.display()))?;
            Ok(Input {
                name: path.display().to_string(),
                reader: Box::new(BufReader::with_capacity(1 << 20, file)),
            })
        })
        .collect()
}

/// Runs the pipeline from Kafka to ClickHouse.
fn run_services(config: Config, args: &Args) -> anyhow::Result<()> {
    let listen = config.metrics.listen.clone();
    let options = RunOptions {
        segments: segment_rules(&config)?,
        kafka: config.kafka,
        clickhouse: config.clickhouse,
        pipeline: config.pipeline,
        signals: config.signals,
        alerts: config.alerts,
        churn_model: config.churn_model,
        until_end: args.until_end,
    };
    tracing::info!(
        topics = ?options.kafka.topics,
        group = %options.kafka.group,
        database = %options.clickhouse.database,
        until_end = options.until_end,
        "starting the pipeline"
    );
    let runtime = super::runtime()?;
    if !listen.is_empty() {
        serve_metrics(&runtime, &listen);
    }
    let summary = runtime.block_on(run_until_stopped(options))?;
    print_summary(&summary);
    Ok(())
}

/// Runs the pipeline; on SIGTERM or SIGINT it finishes the batch, flushes and commits, within
/// `pipeline.shutdown_timeout_ms`. A second signal, or the time running out, stops it without
/// committing: nothing is lost, the next start replays what was not committed.
async fn run_until_stopped(options: RunOptions) -> anyhow::Result<RunSummary> {
    let limit = Duration::from_millis(options.pipeline.shutdown_timeout_ms);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let pipeline = portrait_pipelines::run(options, async {
        // A dropped sender is no request to stop.
        if stopped.await.is_err() {
            std::future::pending::<()>().await;
        }
    });
    tokio::pin!(pipeline);
    tokio::select! {
        result = &mut pipeline => return result.context("the pipeline stopped"),
        () = shutdown_requested() => {}
    }
    tracing::info!(
        ?limit,
        "stop requested: finishing the batch, flushing and committing"
    );
    let _ = stop.send(());
    tokio::select! {
        result = &mut pipeline => result.context("the pipeline stopped"),
        () = tokio::time::sleep(limit) => anyhow::bail!(
            "the last flush did not finish within pipeline.shutdown_timeout_ms ({limit:?}); \
             stopped without committing it, so the next start replays that input"
        ),
        () = shutdown_requested() => anyhow::bail!(
            "stopped by a second signal before the last flush finished; the next start \
             replays the input it had not committed"
        ),
    }
}

/// Serves Prometheus metrics at `http://{listen}/metrics`. A listener that cannot start is
/// worth a warning, not a stopped pipeline: the profiles matter more than their gauges.
fn serve_metrics(runtime: &tokio::runtime::Runtime, listen: &str) {
    let _entered = runtime.enter();
    let address: std::net::SocketAddr = listen
        .parse()
        .expect("Config::load validated metrics.listen");
    match PrometheusBuilder::new()
        .with_http_listener(address)
        .install()
    {
        Ok(()) => tracing::info!("serving metrics at http://{listen}/metrics"),
        Err(error) => tracing::warn!("not serving metrics at {listen}: {error}"),
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_requested() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

fn print_summary(summary: &RunSummary) {
    let dead: u64 = summary.dead_letters.values().sum();
    println!(
        "processed {} events of {} users; wrote {} profile rows in {} flushes; swept {} users; \
         {dead} dead letters",
        summary.events, summary.users, summary.profiles_written, summary.flushes, summary.swept
    );
    for (reason, count) in &summary.dead_letters {
        println!("  dead letters ({reason}): {count}");
    }
    if summary.archived > 0 {
        println!("archived {} events in the events table", summary.archived);
    }
    if summary.restored > 0 || summary.replayed > 0 {
        println!(
            "restored {} users from profile_state in {:.3} s; skipped {} replayed events they \
             already held",
            summary.restored,
            summary.restore_time.as_secs_f64(),
            summary.replayed
        );
    }
    if summary.forgotten > 0 || summary.forgotten_users > 0 {
        println!(
            "dropped {} messages of forgotten users; dropped {} forgotten users held in memory",
            summary.forgotten, summary.forgotten_users
        );
    }
    let alerts: u64 = summary.alerts.values().sum();
    println!("{alerts} alerts");
    for (kind, count) in &summary.alerts {
        println!("  alerts ({kind}): {count}");
    }
    if summary.late_for_alerts > 0 {
        println!(
            "  {} events came later than alerts.lateness_ms: their changes were raised when \
             noticed, not at their own time",
            summary.late_for_alerts
        );
    }
}
