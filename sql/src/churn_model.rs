//! The embedded mode's side of the churn model (docs/churn-model.md, "Parameters"): the
//! buyers' order histories from a data directory's `user_profiles`, and
//! `churn_model.parquet`, the fits `portrait churn-model fit` stores there.
//!
//! `churn_model.parquet` is not one of a run's tables (`tables.rs`): a run reads the latest
//! fit from it at start and never writes it, so `portrait run --replace` keeps it, as a
//! ClickHouse database keeps `churn_model` across replays. A fit rewrites the file with its
//! row added (the table holds one small row per fit), through a partial file renamed into
//! place, so the file is always either the old fits or all of them.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, RecordBatch, TimestampSecondArray, UInt64Array,
};
use datafusion::arrow::error::ArrowError;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::errors::ParquetError;
use portrait_connectors::clickhouse::{ChurnModelRow, InvalidOrderHistory, OrderHistoryRow};
use portrait_core::churn_model::Rfm;

use crate::query::{rows, times_as_seconds, QueryError};
use crate::tables::{table_file, TableWriter, TablesError};

/// The fits' table in a data directory.
pub const CHURN_MODEL: &str = "churn_model";

/// Every buyer's order history in the profiles' latest versions, in user order: the same
/// order as the ClickHouse read, so that the same profiles give the same fit in either mode.
const ORDER_HISTORIES: &str = "SELECT user_id, repeat_order_days, order_span_days, \
     customer_age_days FROM user_profiles_current WHERE repeat_order_days IS NOT NULL \
     ORDER BY user_id";

#[derive(Debug, thiserror::Error)]
pub enum ChurnModelError {
    #[error(transparent)]
    Histories(QueryError),
    #[error(transparent)]
    InvalidHistory(#[from] InvalidOrderHistory),
    #[error("cannot read the churn model's fits from {}", .path.display())]
    Read { path: PathBuf, source: ParquetError },
    #[error("cannot open {}", .path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} does not hold churn_model's rows", .path.display())]
    Rows {
        path: PathBuf,
        source: serde_arrow::Error,
    },
    #[error("cannot read the churn model's fits from {}", .path.display())]
    Arrow { path: PathBuf, source: ArrowError },
    #[error(transparent)]
    Write(#[from] TablesError),
}

/// Every buyer's order history from the tables of `dir`, in weeks; empty when no profile has
/// an order yet.
pub async fn order_histories(dir: &Path) -> Result<Vec<Rfm>, ChurnModelError> {
    let histories: Vec<OrderHistoryRow> = rows(dir, ORDER_HISTORIES)
        .await
        .map_err(ChurnModelError::Histories)?;
    Ok(histories
        .iter()
        .map(OrderHistoryRow::rfm)
        .collect::<Result<_, _>>()?)
}

/// The latest fit stored in `dir` ([`ChurnModelRow::latest`]); `None` before the first.
pub fn latest_fit(dir: &Path) -> Result<Option<ChurnModelRow>, ChurnModelError> {
    Ok(ChurnModelRow::latest(fits(dir)?))
}

/// Stores `fit` in `dir` with the fits before it.
pub fn append_fit(dir: &Path, fit: &ChurnModelRow) -> Result<(), ChurnModelError> {
    let mut all = fits(dir)?;
    all.push(*fit);
    let batch = batch(&all).map_err(|source| TablesError::Arrow {
        table: CHURN_MODEL,
        source,
    })?;
    let mut table = TableWriter::create(dir, CHURN_MODEL, batch.schema())?;
    table.write(Ok(batch))?;
    table.finish()?;
    Ok(())
}

/// Every fit stored in `dir`, in the order they were stored; none without the file.
fn fits(dir: &Path) -> Result<Vec<ChurnModelRow>, ChurnModelError> {
    let path = table_file(dir, CHURN_MODEL);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ChurnModelError::Open { path, source }),
    };
    let read_error = |source| ChurnModelError::Read {
        path: path.clone(),
        source,
    };
    let batches = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|builder| builder.build())
        .map_err(read_error)?;
    let mut fits = Vec::new();
    for batch in batches {
        let batch = batch
            .and_then(|batch| times_as_seconds(&batch))
            .map_err(|source| ChurnModelError::Arrow {
                path: path.clone(),
                source,
            })?;
        let rows: Vec<ChurnModelRow> =
            serde_arrow::from_record_batch(&batch).map_err(|source| ChurnModelError::Rows {
                path: path.clone(),
                source,
            })?;
        fits.extend(rows);
    }
    Ok(fits)
}

/// `fits` with the columns and types of ClickHouse's `churn_model`.
fn batch(fits: &[ChurnModelRow]) -> Result<RecordBatch, ArrowError> {
    let f64s = |value: fn(&ChurnModelRow) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(fits.iter().map(value)))
    };
    let u64s = |value: fn(&ChurnModelRow) -> u64| -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(fits.iter().map(value)))
    };
    let fitted_at =
        TimestampSecondArray::from_iter_values(fits.iter().map(|fit| i64::from(fit.fitted_at)))
            .with_timezone("UTC");
    RecordBatch::try_from_iter_with_nullable([
        ("fitted_at", Arc::new(fitted_at) as ArrayRef, false),
        ("r", f64s(|fit| fit.r), false),
        ("alpha", f64s(|fit| fit.alpha), false),
        ("a", f64s(|fit| fit.a), false),
        ("b", f64s(|fit| fit.b), false),
        ("users", u64s(|fit| fit.users), false),
        ("log_likelihood", f64s(|fit| fit.log_likelihood), false),
        ("iterations", u64s(|fit| fit.iterations), false),
    ])
}

#[cfg(test)]
mod tests {
    use portrait_core::churn_model::BgNbdParams;

    use super::*;

    #[test]
    fn fits_are_appended_and_the_latest_is_read_back() {
        let dir = std::env::temp_dir().join(format!("portrait-sql-fits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(latest_fit(&dir).unwrap(), None, "no file, no fit");

        let fit = |fitted_at, r| {
            let params = BgNbdParams::new(r, 4.414, 0.793, 2.426).unwrap();
            ChurnModelRow::new(fitted_at, params, 2_357, -9_582.43, 134)
        };
        append_fit(&dir, &fit(1_790_000_000, 0.243)).unwrap();
        assert_eq!(latest_fit(&dir).unwrap(), Some(fit(1_790_000_000, 0.243)));
        append_fit(&dir, &fit(1_790_003_600, 0.25)).unwrap();
        assert_eq!(latest_fit(&dir).unwrap(), Some(fit(1_790_003_600, 0.25)));
        assert_eq!(
            fits(&dir).unwrap(),
            [fit(1_790_000_000, 0.243), fit(1_790_003_600, 0.25)]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
