//! Portrait's Arrow side: the rows of a flush as Arrow record batches, the embedded mode's
//! Parquet tables, DataFusion SQL over them (`portrait sql`), the segments' predicates
//! evaluated over a flush's profiles, and the churn model's histories and fits in a data
//! directory.
//!
//! Apart from the core and the engine so that their tests build without DataFusion.

pub mod churn_model;
mod columns;
mod output;
mod query;
mod segments;
mod tables;

pub use columns::profiles_schema;
pub use output::{write, Format};
pub use query::{query, rows, session, QueryError};
pub use segments::{Position, SegmentDef, SegmentError, SegmentErrors, Segments};
pub use tables::{ParquetTables, TablesError};
