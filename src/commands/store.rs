//! Where the commands that read a run's output find it: ClickHouse, or the embedded mode's
//! data directory, by the configured mode. Each command adds what it reads and writes in an
//! `impl Store` of its own (`verify/store.rs`, `churn_model/store.rs`).

use std::path::PathBuf;

use portrait_connectors::clickhouse::ClickHouseConfig;

use crate::config::{Config, Mode};

pub(crate) enum Store {
    ClickHouse(ClickHouseConfig),
    Parquet(PathBuf),
}

impl Store {
    /// Where the configured mode writes.
    pub fn of(config: &Config) -> Self {
        match config.mode() {
            Mode::Services => Store::ClickHouse(config.clickhouse.clone()),
            Mode::Embedded => Store::Parquet(config.embedded.data_dir.clone()),
        }
    }

    /// `table` where it is read or written, for messages.
    pub fn name(&self, table: &str) -> String {
        match self {
            Store::ClickHouse(config) => format!("{}.{table}", config.database),
            Store::Parquet(dir) => format!("{table} in {}", dir.display()),
        }
    }

    /// What reading `what` from here means, as the context of an error.
    pub fn reading(&self, what: &str) -> String {
        match self {
            Store::ClickHouse(config) => format!(
                "reading {what} from database {} at {}",
                config.database, config.url
            ),
            Store::Parquet(dir) => format!("reading {what} from the tables in {}", dir.display()),
        }
    }
}
