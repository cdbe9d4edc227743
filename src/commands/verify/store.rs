//! How `portrait verify` reads the rows back: from ClickHouse or the embedded mode's Parquet
//! tables, by the same table and view names.

use clickhouse::{RowOwned, RowRead};

pub(super) use crate::commands::store::Store;

impl Store {
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
}
