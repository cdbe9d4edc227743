//! `portrait`: behavioral user profiles from Kafka events, kept in ClickHouse.
//!
//! This binary is the edge of the system: it parses the command line and the configuration,
//! sets up logging and the async runtime, and hands over to one command module.

mod commands;
mod config;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's malloc: the pipeline allocates and frees many small, short-lived
/// blocks (librdkafka's per-message buffers, flush rows), where glibc spent about 5% of a
/// replay's CPU (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process, as `MIMALLOC_ALLOW_THP=0` would, however
/// the process is started. mimalloc asks for huge pages on its segments, and the kernel then
/// zeroes 2 MiB at a first touch, and again after each purge of a segment: restoring 500 000
/// users spent up to half its samples in `clear_page_erms`, and 0.4 s more system CPU than
/// without, for no gain in the replay (docs/performance.md). Best effort: a kernel that
/// refuses leaves the default.
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::debug!(%error, "transparent huge pages stay as the system sets them");
    }
}

#[derive(Parser)]
#[command(name = "portrait", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML). Every key can also be set by an environment variable named
    /// after its path, e.g. [kafka] brokers -> PORTRAIT_KAFKA_BROKERS.
    #[arg(long, global = true, env = "PORTRAIT_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate seeded synthetic events to NDJSON or Kafka, optionally with the expected profiles.
    Generate(commands::generate::Args),
    /// Run the pipeline: consume events from Kafka and write profiles to ClickHouse, or with
    /// neither configured (the embedded mode), read NDJSON files and write Parquet tables.
    Run(commands::run::Args),
    /// Query the embedded mode's Parquet tables with SQL (DataFusion).
    Sql(commands::sql::Args),
    /// Apply the ClickHouse migrations in schemas/clickhouse that have not been applied yet.
    Migrate,
    /// Validate the configuration and explain each mistake.
    CheckConfig(commands::check_config::Args),
    /// Forget users: delete every row of theirs from ClickHouse and keep them from coming back
    /// (docs/security.md, "Forgetting a user").
    Forget(commands::forget::Args),
    /// The BG/NBD churn model behind p_alive and expected_orders_90d: `fit` its parameters to
    /// the profiles' order histories (docs/churn-model.md).
    ChurnModel(commands::churn_model::Args),
    /// Compare the profiles in ClickHouse with the expected ones from `generate --truth`.
    Verify(commands::verify::Args),
    /// Write the operators' daily report for one date: a self-contained HTML page with charts
    /// and the users most at risk of churning, read from ClickHouse.
    Report(commands::report::Args),
    /// Benchmark: run the pipeline live, produce generated events at a steady rate with probes,
    /// and measure how soon each probe's profile is visible in ClickHouse (p50/p99 freshness).
    /// It writes to the configured input topic and database: give it fresh ones
    /// (`scripts/bench --freshness` does). Hidden: a developer's tool, not an operator's.
    #[command(hide = true)]
    BenchFreshness(commands::bench_freshness::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PORTRAIT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    disable_transparent_huge_pages();

    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => commands::generate::run(cli.config.as_deref(), args),
        Command::Run(args) => commands::run::run(cli.config.as_deref(), args),
        Command::Sql(args) => commands::sql::run(cli.config.as_deref(), args),
        Command::Migrate => commands::migrate::run(cli.config.as_deref()),
        Command::CheckConfig(args) => commands::check_config::run(cli.config.as_deref(), args),
        Command::Forget(args) => commands::forget::run(cli.config.as_deref(), args),
        Command::ChurnModel(args) => commands::churn_model::run(cli.config.as_deref(), args),
        Command::Verify(args) => commands::verify::run(cli.config.as_deref(), args),
        Command::Report(args) => commands::report::run(cli.config.as_deref(), args),
        Command::BenchFreshness(args) => {
            commands::bench_freshness::run(cli.config.as_deref(), args)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
