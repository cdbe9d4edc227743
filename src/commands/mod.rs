//! One module per subcommand of the `portrait` binary.

pub mod bench_freshness;
pub mod check_config;
pub mod forget;
pub mod generate;
pub mod migrate;
pub mod report;
pub mod run;
pub mod verify;

/// A current-thread runtime for the commands that talk to Kafka or ClickHouse.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
