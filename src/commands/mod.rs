//! One module per subcommand of the `portrait` binary.

pub mod bench_freshness;
pub mod check_config;
pub mod churn_model;
pub mod forget;
pub mod generate;
pub mod migrate;
pub mod report;
pub mod run;
pub mod sql;
mod store;
pub mod verify;

use std::path::Path;

use anyhow::bail;

use crate::config::{Config, Mode};

/// The configuration of a command that works on Kafka or ClickHouse: refused, with what to
/// set, when neither is configured (the embedded mode).
fn services_config(path: Option<&Path>, command: &str) -> anyhow::Result<Config> {
    let config = Config::load(path)?.config;
    if config.mode() == Mode::Embedded {
        bail!(
            "`portrait {command}` works on Kafka and ClickHouse, and neither is configured: set \
             kafka.brokers and clickhouse.url (PORTRAIT_KAFKA_BROKERS, PORTRAIT_CLICKHOUSE_URL); \
             `scripts/services up` starts local ones and writes their settings to .services/env"
        );
    }
    Ok(config)
}

/// A current-thread runtime for the commands that talk to Kafka or ClickHouse.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
