//! The churn model's side of the tests: every buyer's churn model columns, read back from
//! ClickHouse or from the embedded mode's Parquet tables with the same query.

use std::path::Path;

use clickhouse::Row;
use portrait_connectors::clickhouse::ClickHouseConfig;
use portrait_core::churn_model::Rfm;
use serde::Deserialize;

/// Every profile of a user with an order, by user id.
const BUYERS: &str = "SELECT user_id, repeat_order_days, order_span_days, customer_age_days, \
     p_alive, expected_orders_90d FROM user_profiles_current WHERE orders > 0 ORDER BY user_id";

/// A buyer's churn model columns as the pipeline wrote them.
#[derive(Debug, Row, Deserialize)]
pub struct Buyer {
    pub user_id: String,
    pub repeat_order_days: Option<u32>,
    pub order_span_days: Option<u32>,
    pub customer_age_days: Option<u32>,
    pub p_alive: Option<f64>,
    pub expected_orders_90d: Option<f64>,
}

impl Buyer {
    /// (x, t_x, T) in weeks: the columns are whole days.
    pub fn history(&self) -> Rfm {
        let days = |column: Option<u32>| {
            column.unwrap_or_else(|| panic!("{} has no order history", self.user_id))
        };
        Rfm::from_days(
            days(self.repeat_order_days),
            days(self.order_span_days),
            days(self.customer_age_days),
        )
        .unwrap()
    }
}

/// Every buyer in ClickHouse's `user_profiles_current`.
pub async fn buyers(clickhouse: &ClickHouseConfig) -> Vec<Buyer> {
    clickhouse.client().query(BUYERS).fetch_all().await.unwrap()
}

/// Every buyer in the Parquet tables of `data_dir`.
pub async fn parquet_buyers(data_dir: &Path) -> Vec<Buyer> {
    portrait_sql::rows(data_dir, BUYERS).await.unwrap()
}
