//! `portrait sql`: DataFusion SQL over a data directory's Parquet tables.
//!
//! The tables are named as in ClickHouse, with the views analysts read there:
//! `user_profiles_current` (each user's latest profile version), `profile_alerts_unique`
//! (every alert once: an embedded run writes each alert once, so it is `profile_alerts`
//! itself), `dead_letters`, `segment_membership` and `segment_members` (each user's current
//! segments), so that a dashboard query written for both dialects runs on either; and
//! `churn_model`, the churn model's fits, once `portrait churn-model fit` stored one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use serde::de::DeserializeOwned;

use crate::churn_model::CHURN_MODEL;
use crate::columns;
use crate::tables::{table_file, ALERTS, ALL, PROFILES, SEGMENTS};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(
        "{} holds no {table} table: run `portrait run` with this data directory first",
        .dir.display()
    )]
    NoTable { dir: PathBuf, table: &'static str },
    #[error("cannot open the {table} table")]
    Open {
        table: &'static str,
        source: DataFusionError,
    },
    #[error(transparent)]
    Query(#[from] DataFusionError),
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    #[error("cannot read the result as rows")]
    Rows(#[from] serde_arrow::Error),
}

/// A SQL session over the tables of `dir`.
pub async fn session(dir: &Path) -> Result<SessionContext, QueryError> {
    let context = SessionContext::new();
    for table in ALL {
        let file = table_file(dir, table);
        if !file.exists() {
            return Err(QueryError::NoTable {
                dir: dir.to_owned(),
                table,
            });
        }
        register(&context, table, &file).await?;
    }
    // Not a run's table: there once a fit was stored (`churn_model.rs`).
    let fits = table_file(dir, CHURN_MODEL);
    if fits.exists() {
        register(&context, CHURN_MODEL, &fits).await?;
    }
    let columns: Vec<String> = columns::profiles(&[])?
        .schema()
        .fields()
        .iter()
        .map(|field| format!("\"{}\"", field.name()))
        .collect();
    let columns = columns.join(", ");
    context
        .sql(&format!(
            "CREATE VIEW user_profiles_current AS SELECT {columns} FROM (SELECT *, \
             row_number() OVER (PARTITION BY user_id ORDER BY version DESC) AS newest \
             FROM {PROFILES}) WHERE newest = 1"
        ))
        .await?;
    context
        .sql(&format!(
            "CREATE VIEW profile_alerts_unique AS SELECT * FROM {ALERTS}"
        ))
        .await?;
    // ClickHouse's view takes argMax over version (schemas/clickhouse/0011); DataFusion has
    // no argMax, and the latest row per (user, segment) is the same thing.
    context
        .sql(&format!(
            "CREATE VIEW segment_members AS SELECT user_id, segment, \"at\" AS entered_at, \
             version FROM (SELECT *, row_number() OVER (PARTITION BY user_id, segment ORDER BY \
             version DESC) AS newest FROM {SEGMENTS}) WHERE newest = 1 AND change = 'entered'"
        ))
        .await?;
    Ok(context)
}

async fn register(
    context: &SessionContext,
    table: &'static str,
    file: &Path,
) -> Result<(), QueryError> {
    context
        .register_parquet(
            table,
            file.to_string_lossy().as_ref(),
            ParquetReadOptions::default(),
        )
        .await
        .map_err(|source| QueryError::Open { table, source })
}

/// Runs `sql` over the tables of `dir`.
pub async fn query(dir: &Path, sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
    let context = session(dir).await?;
    Ok(context.sql(sql).await?.collect().await?)
}

/// Runs `sql` over the tables of `dir` and reads the result as rows of `T`, by column name:
/// `DateTime` columns as epoch seconds, `UInt8` flags as numbers, as a ClickHouse client reads
/// the same query.
pub async fn rows<T: DeserializeOwned>(dir: &Path, sql: &str) -> Result<Vec<T>, QueryError> {
    let mut rows = Vec::new();
    for batch in query(dir, sql).await? {
        let batch = times_as_seconds(&batch)?;
        rows.extend(serde_arrow::from_record_batch::<Vec<T>>(&batch)?);
    }
    Ok(rows)
}

/// `batch` with its second-precision timestamps as `Int64` epoch seconds, the number a
/// `DateTime` column is read as.
pub(crate) fn times_as_seconds(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let columns = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => cast(column, &DataType::Int64),
            _ => Ok(column.clone()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let schema = batch.schema();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(&columns)
        .map(|(field, column)| {
            Field::new(
                field.name(),
                column.data_type().clone(),
                field.is_nullable(),
            )
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

#[cfg(test)]
mod tests {
    use portrait_connectors::clickhouse::{SegmentChange, SegmentRow, SinkBatch};
    use portrait_pipelines::Tables;
    use serde::Deserialize;

    use super::*;
    use crate::ParquetTables;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Member {
        user_id: String,
        segment: String,
        entered_at: i64,
        version: u64,
    }

    /// The same changes as the ClickHouse sink's test of its `segment_members` view, and the
    /// same answer: the view reads each (user, segment)'s latest change by version.
    #[tokio::test]
    async fn segment_members_are_the_pairs_whose_latest_change_is_an_entry() {
        let dir = std::env::temp_dir().join(format!("portrait-sql-members-{}", std::process::id()));
        let noon = 1_714_564_800_000;
        let change = |user_id, segment, change, hours: i64, version| {
            SegmentRow::new(user_id, segment, change, noon + hours * 3_600_000, version)
        };
        let first = [
            change("u-1", "vip_at_risk", SegmentChange::Entered, 0, 3),
            change("u-1", "promo_only", SegmentChange::Entered, 0, 3),
            change("u-2", "promo_only", SegmentChange::Entered, 0, 1),
        ];
        let second = [change("u-1", "vip_at_risk", SegmentChange::Left, 30, 5)];
        let mut tables = ParquetTables::create(&dir, true).unwrap();
        for segments in [&first[..], &second[..]] {
            let batch = SinkBatch {
                segments,
                ..SinkBatch::default()
            };
            Tables::write(&mut tables, &batch).unwrap();
        }
        tables.finish().unwrap();

        let members: Vec<Member> = rows(
            &dir,
            "SELECT * FROM segment_members ORDER BY user_id, segment",
        )
        .await
        .unwrap();
        let member = |user_id: &str, segment: &str, version| Member {
            user_id: user_id.to_owned(),
            segment: segment.to_owned(),
            entered_at: noon / 1000,
            version,
        };
        assert_eq!(
            members,
            [
                member("u-1", "promo_only", 3),
                member("u-2", "promo_only", 1)
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
