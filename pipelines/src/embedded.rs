//! The embedded run: events from NDJSON files or stdin, through the same profiler as the Kafka
//! engine (decoder, dead-letter rules, shards, watermark, sweep, alerts), and every flush's
//! rows into [`Tables`] (the Parquet tables of `portrait-sql`): no broker, no database.
//!
//! Each input is a topic of one partition: its name is the input's, its offsets are line
//! numbers. Inputs are read one after the other, so the watermark follows the latest event of
//! all of them, as with Kafka topics read side by side. A run is bounded, as a Kafka run with
//! `--until-end` is: the watermark moves with event time only, and the end of the input is
//! flushed with every alert decided.
//!
//! A flush happens when `pipeline.flush_max_dirty` users changed (to bound memory) and at the
//! end; never on a timer, which only serves readers of a live table. The churn model's
//! parameters are the latest fit's when the run starts, for the whole run. The same input and
//! the same fit therefore always write the same rows, versions included.

use std::io::BufRead;
use std::sync::Arc;

use portrait_connectors::clickhouse::{ChurnModelRow, SinkBatch};
use portrait_core::time::EventTime;
use portrait_core::SignalConfig;

use crate::alerts::AlertsConfig;
use crate::churn_model::{ChurnModel, UnusableFit};
use crate::config::PipelineConfig;
use crate::profiler::{Keys, Message, Processed, Profiler, ProfilerError};
use crate::segments::SegmentRules;
use crate::RunSummary;

/// The one partition of an embedded run.
const PARTITION: i32 = 0;

/// What to run.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    pub pipeline: PipelineConfig,
    pub signals: SignalConfig,
    pub alerts: AlertsConfig,
    /// Segments to evaluate at each flush, if any.
    pub segments: Option<SegmentRules>,
    /// The latest churn model fit stored in the data directory, if any: its parameters
    /// compute `p_alive` and `expected_orders_90d`, the published defaults without one.
    pub churn_model: Option<ChurnModelRow>,
}

/// A stream of NDJSON events and the name its dead letters cite as their topic.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn BufRead>,
}

/// Where an embedded run writes each flush: the profiles, the alerts (when
/// `alerts.clickhouse`, the table sink, is on) and the dead letters. The state blobs are
/// there too; a store that does not resume runs may ignore them.
pub trait Tables {
    fn write(
        &mut self,
        batch: &SinkBatch<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
}

/// Why an embedded run stopped.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("cannot read the events of {input}")]
    Read {
        input: String,
        source: std::io::Error,
    },
    #[error("cannot write the tables")]
    Write(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Profiler(#[from] ProfilerError),
    #[error(transparent)]
    ChurnModel(#[from] UnusableFit),
}

/// Profiles every event of `inputs`, in order, and writes the rows to `tables`.
pub fn run_embedded(
    options: &EmbeddedOptions,
    inputs: Vec<Input>,
    tables: &mut impl Tables,
) -> Result<RunSummary, EmbeddedError> {
    let topics: Arc<[String]> = inputs.iter().map(|input| input.name.clone()).collect();
    let mut profiler = Profiler::new(
        &options.pipeline,
        &options.signals,
        &options.alerts,
        options.segments.clone(),
        topics.clone(),
        Keys::None,
    );
    // Bounded: the fit the run starts with is the one it keeps.
    ChurnModel::start(None, options.churn_model, &mut profiler)?;
    let shard = profiler.new_shard();
    profiler.shards.insert(PARTITION, shard);
    let mut line = Vec::new();
    for (topic_index, mut input) in inputs.into_iter().enumerate() {
        let read_error = |source| EmbeddedError::Read {
            input: topics[topic_index].clone(),
            source,
        };
        for offset in 0.. {
            line.clear();
            if input
                .reader
                .read_until(b'\n', &mut line)
                .map_err(read_error)?
                == 0
            {
                break;
            }
            if line.trim_ascii().is_empty() {
                continue;
            }
            let message = Message {
                topic: &topics[topic_index],
                topic_index,
                partition: PARTITION,
                offset,
                key: None,
                payload: line.trim_ascii_end(),
            };
            if let Processed::Rejected(rejection) = profiler.process(&message)? {
                profiler.dead_letter(&message, rejection);
            }
            if profiler.dirty() >= options.pipeline.flush_max_dirty {
                flush(&mut profiler, options, tables, false)?;
            }
        }
    }
    flush(&mut profiler, options, tables, true)?;
    profiler.summary.users = profiler.users();
    Ok(profiler.summary)
}

/// Writes what changed up to the latest event seen; at the `end_of_input`, with every alert
/// decided.
fn flush(
    profiler: &mut Profiler,
    options: &EmbeddedOptions,
    tables: &mut impl Tables,
    end_of_input: bool,
) -> Result<(), EmbeddedError> {
    profiler.advance_watermark(false);
    let mut collected = profiler.collect(end_of_input)?;
    if collected.is_empty() && profiler.dead_letters.is_empty() {
        return Ok(());
    }
    let updated_at = profiler.watermark.map_or(0, EventTime::millis);
    let rows = collected.rows(
        &profiler.dead_letters,
        updated_at,
        options.alerts.clickhouse,
        None,
    );
    tables.write(&rows.batch()).map_err(EmbeddedError::Write)?;
    let profiles = rows.profiles.len();
    profiler.dead_letters.clear();
    profiler.flushed(profiles, &collected.alerts);
    Ok(())
}
