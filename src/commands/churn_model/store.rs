//! Where `portrait churn-model fit` reads the order histories and stores the fit: ClickHouse,
//! or the embedded mode's data directory, by the configured mode, as `portrait verify` reads.

use std::path::PathBuf;

use anyhow::Context;
use portrait_connectors::clickhouse::{ChurnModelRow, ClickHouseConfig, ClickHouseSink};
use portrait_core::churn_model::Rfm;

use crate::config::{Config, Mode};

pub(super) enum Store {
    ClickHouse(ClickHouseConfig),
    Parquet(PathBuf),
}

impl Store {
    /// Where the configured mode writes profiles.
    pub fn of(config: &Config) -> Self {
        match config.mode() {
            Mode::Services => Store::ClickHouse(config.clickhouse.clone()),
            Mode::Embedded => Store::Parquet(config.embedded.data_dir.clone()),
        }
    }

    /// Every buyer's order history in the latest profiles, in weeks, in user order.
    pub async fn order_histories(&self) -> anyhow::Result<Vec<Rfm>> {
        let histories = match self {
            Store::ClickHouse(config) => {
                let sink = ClickHouseSink::new(config);
                // A database `migrate` has not brought up to date is named as such, not as
                // a missing column.
                sink.check_ready().await?;
                sink.read_order_histories().await?
            }
            Store::Parquet(dir) => portrait_sql::churn_model::order_histories(dir).await?,
        };
        Ok(histories)
    }

    /// Adds `fit` to the stored fits.
    pub async fn save(&self, fit: &ChurnModelRow) -> anyhow::Result<()> {
        match self {
            Store::ClickHouse(config) => {
                ClickHouseSink::new(config)
                    .write_churn_model(fit)
                    .await
                    .with_context(|| format!("storing the fit at {}", config.url))?
            }
            Store::Parquet(dir) => portrait_sql::churn_model::append_fit(dir, fit)
                .with_context(|| format!("storing the fit in {}", dir.display()))?,
        }
        Ok(())
    }

    /// `table` where it is read or written, for messages.
    pub fn name(&self, table: &str) -> String {
        match self {
            Store::ClickHouse(config) => format!("{}.{table}", config.database),
            Store::Parquet(dir) => format!("{table} in {}", dir.display()),
        }
    }

    /// Where the order histories come from, as the context of an error.
    pub fn reading(&self) -> String {
        match self {
            Store::ClickHouse(config) => format!(
                "reading the order histories from database {} at {}",
                config.database, config.url
            ),
            Store::Parquet(dir) => format!(
                "reading the order histories from the tables in {}",
                dir.display()
            ),
        }
    }
}
