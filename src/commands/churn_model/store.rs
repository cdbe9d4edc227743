//! How `portrait churn-model fit` reads the order histories and stores the fit, in ClickHouse
//! or in the embedded mode's data directory.

use anyhow::Context;
use portrait_connectors::clickhouse::{ChurnModelRow, ClickHouseSink};
use portrait_core::churn_model::Rfm;

pub(super) use crate::commands::store::Store;

impl Store {
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
}
