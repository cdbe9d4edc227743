//! The embedded mode's tables: one Parquet file per table under a data directory, holding the
//! rows the ClickHouse sink would have written (`columns.rs`).
//!
//! A run writes each table to a hidden partial file, one row group per flush, and renames the
//! files into place only once the run has finished: a run that fails or is killed leaves the
//! previous run's tables as they were, never a file without its footer. Runs do not resume one
//! another (the state blobs are not kept): a run profiles its inputs from the start, and
//! replacing an earlier run's tables must be asked for.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::properties::WriterProperties;
use portrait_connectors::clickhouse::SinkBatch;
use portrait_pipelines::Tables;

use crate::columns;

/// The tables of a data directory, by name: what `portrait sql` reads.
pub const PROFILES: &str = "user_profiles";
pub const ALERTS: &str = "profile_alerts";
pub const DEAD_LETTERS: &str = "dead_letters";
pub const SEGMENTS: &str = "segment_membership";

/// Every table of a data directory.
pub const ALL: [&str; 4] = [PROFILES, ALERTS, DEAD_LETTERS, SEGMENTS];

/// The file of table `name` in `dir`.
pub fn table_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.parquet"))
}

#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    #[error(
        "{} already holds the tables of an earlier run; pass --replace to profile the input \
         from the start in their place, or choose another data directory",
        .0.display()
    )]
    Exists(PathBuf),
    #[error("cannot write {}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the {table} table")]
    Parquet {
        table: &'static str,
        source: ParquetError,
    },
    #[error("cannot build the rows of the {table} table")]
    Arrow {
        table: &'static str,
        source: ArrowError,
    },
}

/// The tables of one run, being written.
pub struct ParquetTables {
    profiles: TableWriter,
    alerts: TableWriter,
    dead_letters: TableWriter,
    segments: TableWriter,
}

impl ParquetTables {
    /// Starts the tables of a run in `dir`, created if missing. Refuses a directory that holds
    /// tables already, unless `replace`.
    pub fn create(dir: &Path, replace: bool) -> Result<Self, TablesError> {
        let io = |source| TablesError::Io {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let existing = ALL.iter().any(|name| table_file(dir, name).exists());
        if existing && !replace {
            return Err(TablesError::Exists(dir.to_owned()));
        }
        let schema = |table, batch: Result<RecordBatch, ArrowError>| {
            batch
                .map(|batch| batch.schema())
                .map_err(|source| TablesError::Arrow { table, source })
        };
        Ok(Self {
            profiles: TableWriter::create(
                dir,
                PROFILES,
                schema(PROFILES, columns::profiles(&[]))?,
            )?,
            alerts: TableWriter::create(dir, ALERTS, schema(ALERTS, columns::alerts(&[]))?)?,
            dead_letters: TableWriter::create(
                dir,
                DEAD_LETTERS,
                schema(DEAD_LETTERS, columns::dead_letters(&[]))?,
            )?,
            segments: TableWriter::create(
                dir,
                SEGMENTS,
                schema(SEGMENTS, columns::segments(&[]))?,
            )?,
        })
    }

    /// Completes every file and puts it in place of the previous run's.
    pub fn finish(self) -> Result<(), TablesError> {
        self.profiles.finish()?;
        self.alerts.finish()?;
        self.dead_letters.finish()?;
        self.segments.finish()
    }

    fn write_batch(&mut self, batch: &SinkBatch<'_>) -> Result<(), TablesError> {
        self.profiles.write(columns::profiles(batch.profiles))?;
        self.alerts.write(columns::alerts(batch.alerts))?;
        self.dead_letters
            .write(columns::dead_letters(batch.dead_letters))?;
        self.segments.write(columns::segments(batch.segments))
    }
}

impl Tables for ParquetTables {
    fn write(
        &mut self,
        batch: &SinkBatch<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.write_batch(batch)?)
    }
}

/// One table's partial file.
pub(crate) struct TableWriter {
    table: &'static str,
    partial: PathBuf,
    done: PathBuf,
    writer: ArrowWriter<File>,
}

impl TableWriter {
    pub(crate) fn create(
        dir: &Path,
        table: &'static str,
        schema: SchemaRef,
    ) -> Result<Self, TablesError> {
        let partial = dir.join(format!(".{table}.parquet.partial"));
        let file = File::create(&partial).map_err(|source| TablesError::Io {
            path: partial.clone(),
            source,
        })?;
        // Snappy: fast to write and read, and what every Parquet reader understands.
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(file, schema, Some(properties))
            .map_err(|source| TablesError::Parquet { table, source })?;
        Ok(Self {
            table,
            partial,
            done: table_file(dir, table),
            writer,
        })
    }

    /// Appends a flush's rows, built by `columns`; a flush without rows for the table adds
    /// nothing.
    pub(crate) fn write(
        &mut self,
        rows: Result<RecordBatch, ArrowError>,
    ) -> Result<(), TablesError> {
        let table = self.table;
        let rows = rows.map_err(|source| TablesError::Arrow { table, source })?;
        if rows.num_rows() == 0 {
            return Ok(());
        }
        self.writer
            .write(&rows)
            .and_then(|()| self.writer.flush())
            .map_err(|source| TablesError::Parquet { table, source })
    }

    /// Completes the file and puts it in place of the table's previous file.
    pub(crate) fn finish(self) -> Result<(), TablesError> {
        let table = self.table;
        self.writer
            .close()
            .map_err(|source| TablesError::Parquet { table, source })?;
        std::fs::rename(&self.partial, &self.done).map_err(|source| TablesError::Io {
            path: self.done.clone(),
            source,
        })
    }
}
