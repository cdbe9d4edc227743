//! Where `portrait verify` reads the rows back: ClickHouse, or the embedded mode's Parquet
//! tables, by the same table and view names.

use std::path::PathBuf;

use clickhouse::{RowOwned, RowRead};
use portrait_connectors::clickhouse::ClickHouseConfig;

use crate::config::{Config, Mode};

pub(super) enum Store {
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

    /// Every row of `table` as `T`, read by column name, in the order `order_by` gives.
    pub async fn rows<T>(&self, table: &str, order_by: &str) -> anyhow::Result<Vec<T>>
    where
        T: RowOwned + RowRead,
    {
        let rows = match self {
            Store::ClickHouse(config) => {
                let query = format!("SELECT ?fields FROM {table} ORDER BY {order_by}");
                config.client().query(&query).fetch_all::<T>().await?
            }
            Store::Parquet(dir) => {
                let query = format!("SELECT * FROM {table} ORDER BY {order_by}");
                portrait_sql::rows(dir, &query).await?
            }
        };
        Ok(rows)
    }

    /// `table` where it is read, for messages.
    pub fn name(&self, table: &str) -> String {
        match self {
            Store::ClickHouse(config) => format!("{}.{table}", config.database),
            Store::Parquet(dir) => format!("{table} in {}", dir.display()),
        }
    }

    /// What reading `table` means, as the context of an error.
    pub fn reading(&self, table: &str) -> String {
        match self {
            Store::ClickHouse(config) => format!(
                "reading {table} from database {} at {}",
                config.database, config.url
            ),
            Store::Parquet(dir) => format!("reading {table} from the tables in {}", dir.display()),
        }
    }
}
