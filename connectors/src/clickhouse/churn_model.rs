//! The churn model's tables (docs/churn-model.md, "Parameters"): the buyers' order
//! histories `portrait churn-model fit` reads from `user_profiles`, and `churn_model`, the
//! fits it appends and the pipeline reads the latest of.
//!
//! The row types serve the embedded mode's Parquet tables too (`portrait-sql`), as the other
//! rows of `rows.rs` do, so that both stores read histories and pick the latest fit alike.

use clickhouse::Row;
use portrait_core::churn_model::{BgNbdParams, BgNbdParamsError, Rfm, RfmError};
use serde::{Deserialize, Serialize};

use super::sink::CHURN_MODEL;
use super::{ClickHouseSink, SinkError};

/// Every buyer's latest order history, ordered by user so that the same profiles always give
/// the fit the same customers in the same order, and so the same parameters to the last bit
/// (its sums are floating point). `assumeNotNull` because RowBinary sends a `Nullable` column
/// with a null flag, which the row type does not have; the inner `WHERE` leaves no null. It is
/// inner because ClickHouse resolves a `WHERE`'s names to the `SELECT`'s aliases first, and
/// the aliases, named after the columns for the row type, are never null.
const ORDER_HISTORIES: &str = "SELECT user_id, \
     assumeNotNull(repeat_order_days) AS repeat_order_days, \
     assumeNotNull(order_span_days) AS order_span_days, \
     assumeNotNull(customer_age_days) AS customer_age_days \
     FROM (SELECT user_id, repeat_order_days, order_span_days, customer_age_days \
     FROM user_profiles FINAL WHERE repeat_order_days IS NOT NULL) ORDER BY user_id";

/// The latest fit, by [`ChurnModelRow::latest`]'s order. Read with `fetch_all` rather than
/// `fetch_one`, which would leave the response unread and the connection out of the pool.
const LATEST_FIT: &str = "SELECT ?fields FROM churn_model \
     ORDER BY fitted_at DESC, log_likelihood DESC LIMIT 1";

/// A buyer's order history as `user_profiles` holds it: the churn model's three columns, in
/// whole days, of the buyer's latest profile.
#[derive(Debug, Clone, PartialEq, Eq, Row, Deserialize)]
pub struct OrderHistoryRow {
    pub user_id: String,
    pub repeat_order_days: u32,
    pub order_span_days: u32,
    pub customer_age_days: u32,
}

/// A stored order history the churn model refuses (which a profile written by the pipeline
/// never holds): the user, and what is wrong with it in weeks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the order history of user {user_id:?} is not one the churn model accepts")]
pub struct InvalidOrderHistory {
    pub user_id: String,
    #[source]
    pub source: RfmError,
}

impl OrderHistoryRow {
    /// The history in the model's weeks.
    pub fn rfm(&self) -> Result<Rfm, InvalidOrderHistory> {
        Rfm::from_days(
            self.repeat_order_days,
            self.order_span_days,
            self.customer_age_days,
        )
        .map_err(|source| InvalidOrderHistory {
            user_id: self.user_id.clone(),
            source,
        })
    }
}

/// Why the order histories could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OrderHistoriesError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Invalid(#[from] InvalidOrderHistory),
}

/// One fit of the churn model, as a row of `churn_model`: never updated, a newer fit is a
/// new row.
#[derive(Debug, Clone, Copy, PartialEq, Row, Serialize, Deserialize)]
pub struct ChurnModelRow {
    /// When the fit was made, in epoch seconds by the fitting machine's clock.
    pub fitted_at: u32,
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// The customers fitted.
    pub users: u64,
    /// The total log-likelihood of their histories at the parameters.
    pub log_likelihood: f64,
    /// Nelder–Mead iterations the fit took.
    pub iterations: u64,
}

impl ChurnModelRow {
    /// The row of a fit of `params` made at `fitted_at`.
    pub fn new(
        fitted_at: u32,
        params: BgNbdParams,
        users: u64,
        log_likelihood: f64,
        iterations: u64,
    ) -> Self {
        Self {
            fitted_at,
            r: params.r(),
            alpha: params.alpha(),
            a: params.a(),
            b: params.b(),
            users,
            log_likelihood,
            iterations,
        }
    }

    /// The fitted parameters; an error only for a row not written by a fit (by hand, say).
    pub fn params(&self) -> Result<BgNbdParams, BgNbdParamsError> {
        BgNbdParams::new(self.r, self.alpha, self.a, self.b)
    }

    /// The latest of `fits`: the last fitted, and of fits made in the same second, the most
    /// likely. The same order as ClickHouse's `ORDER BY fitted_at DESC, log_likelihood DESC`.
    pub fn latest(fits: impl IntoIterator<Item = Self>) -> Option<Self> {
        fits.into_iter().max_by(|x, y| {
            x.fitted_at
                .cmp(&y.fitted_at)
                .then(x.log_likelihood.total_cmp(&y.log_likelihood))
        })
    }
}

impl ClickHouseSink {
    /// Every buyer's order history from the latest version of each profile, in weeks, in user
    /// order. An empty `Vec` when no profile has an order yet.
    pub async fn read_order_histories(&self) -> Result<Vec<Rfm>, OrderHistoriesError> {
        let error = |source| SinkError::Query {
            what: "read the buyers' order histories from user_profiles",
            source,
        };
        let mut rows = self
            .client
            .query(ORDER_HISTORIES)
            .fetch::<OrderHistoryRow>()
            .map_err(error)?;
        let mut histories = Vec::new();
        while let Some(row) = rows.next().await.map_err(error)? {
            histories.push(row.rfm()?);
        }
        Ok(histories)
    }

    /// Appends a fit to `churn_model`.
    pub async fn write_churn_model(&self, fit: &ChurnModelRow) -> Result<(), SinkError> {
        self.insert::<ChurnModelRow, _>(CHURN_MODEL, [fit]).await
    }

    /// The latest fit in `churn_model` ([`ChurnModelRow::latest`]), `None` before the first.
    pub async fn read_churn_model(&self) -> Result<Option<ChurnModelRow>, SinkError> {
        let fits: Vec<ChurnModelRow> =
            self.client
                .query(LATEST_FIT)
                .fetch_all()
                .await
                .map_err(|source| SinkError::Query {
                    what: "read the latest fit from churn_model",
                    source,
                })?;
        Ok(fits.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(fitted_at: u32, log_likelihood: f64) -> ChurnModelRow {
        ChurnModelRow::new(fitted_at, BgNbdParams::default(), 10, log_likelihood, 100)
    }

    #[test]
    fn the_latest_fit_is_the_last_made_then_the_most_likely() {
        assert_eq!(ChurnModelRow::latest([]), None);
        let fits = [
            fit(100, -50.0),
            fit(300, -90.0),
            fit(300, -80.0),
            fit(200, -10.0),
        ];
        assert_eq!(ChurnModelRow::latest(fits), Some(fit(300, -80.0)));
    }

    #[test]
    fn a_row_holds_the_parameters_it_was_made_of() {
        let params = BgNbdParams::new(0.5, 4.0, 0.8, 2.5).unwrap();
        let row = ChurnModelRow::new(1, params, 2, -3.0, 4);
        assert_eq!(row.params(), Ok(params));
        let by_hand = ChurnModelRow { alpha: 0.0, ..row };
        assert_eq!(by_hand.params().unwrap_err().name, "alpha");
    }

    #[test]
    fn an_impossible_history_names_its_user() {
        let row = OrderHistoryRow {
            user_id: "u-7".to_owned(),
            repeat_order_days: 1,
            order_span_days: 9,
            customer_age_days: 2,
        };
        let error = row.rfm().unwrap_err();
        assert_eq!(error.user_id, "u-7");
        assert!(matches!(error.source, RfmError::LastPurchase { .. }));
        assert_eq!(
            error.to_string(),
            "the order history of user \"u-7\" is not one the churn model accepts"
        );
    }
}
