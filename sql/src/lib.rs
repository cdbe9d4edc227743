//! Portrait's Arrow side: the rows of a flush as Arrow record batches, the embedded mode's
//! Parquet tables, and DataFusion SQL over them (`portrait sql`).
//!
//! Apart from the core and the engine so that their tests build without DataFusion.

mod columns;
mod output;
mod query;
mod tables;

pub use output::{write, Format};
pub use query::{query, rows, session, QueryError};
pub use tables::{ParquetTables, TablesError};
