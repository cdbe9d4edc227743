//! Rebuilding the shards of newly assigned partitions from `profile_state` (docs/pipeline.md,
//! "Restoring a partition").
//!
//! Each partition is read by a task of its own, and its rows are taken back into a new shard
//! on a blocking thread as the response arrives, chunk by chunk: ClickHouse answers each read
//! on one of its threads and the rebuild is CPU work, so the reads, and each read with its
//! rebuild, overlap on the machine's cores instead of taking turns.

use std::collections::HashSet;
use std::panic;
use std::sync::{mpsc, Arc};

use portrait_connectors::clickhouse::{ClickHouseSink, RowError, SinkError, StateChunk, StateRows};
use portrait_core::time::EventTime;
use portrait_core::SignalConfig;
use tokio::task::{JoinHandle, JoinSet};

use crate::profiler::new_shard;
use crate::retry::retry;
use crate::shard::Shard;
use crate::PipelineError;

/// What every partition's restore needs, shared by their tasks.
pub(crate) struct Restore {
    pub sink: ClickHouseSink,
    pub topics: Arc<[String]>,
    pub signals: SignalConfig,
    pub alerts: bool,
    /// The segments evaluated, by bit.
    pub segments: Arc<[String]>,
    /// The forgotten users' ids: their stored states are not taken back (docs/security.md,
    /// "Forgetting a user").
    pub forgotten: HashSet<Box<[u8]>>,
}

/// One partition taken back.
pub(crate) struct Restored {
    pub shard: Shard,
    /// The latest watermark a restored profile was evaluated at.
    pub evaluated_at: Option<EventTime>,
    /// Forgotten users whose states were found stored (written in the race described at
    /// `Engine::learn_tombstones`): left out, and to be deleted once more.
    pub strays: Vec<String>,
}

impl Restore {
    /// Restores every partition of `partitions`, all at once; the outcomes in the order of
    /// `partitions`. A ClickHouse outage is waited out: a failed read is retried on its own,
    /// from the start, its half-built shard thrown away.
    pub async fn partitions(
        self,
        partitions: &[i32],
    ) -> Vec<(i32, Result<Restored, PipelineError>)> {
        let this = Arc::new(self);
        let mut reads = JoinSet::new();
        for (order, &partition) in partitions.iter().enumerate() {
            let this = Arc::clone(&this);
            reads.spawn(async move {
                let rebuilt = retry("reading stored states", || this.read(partition)).await;
                let rebuilt = rebuilt
                    .await
                    .unwrap_or_else(|failed| panic::resume_unwind(failed.into_panic()));
                (order, partition, rebuilt)
            });
        }
        let mut done = Vec::with_capacity(partitions.len());
        while let Some(read) = reads.join_next().await {
            done.push(read.unwrap_or_else(|failed| panic::resume_unwind(failed.into_panic())));
        }
        done.sort_unstable_by_key(|&(order, ..)| order);
        done.into_iter()
            .map(|(_, partition, rebuilt)| (partition, rebuilt))
            .collect()
    }

    /// Reads `partition`'s rows and hands them, as they arrive, to a rebuild on a blocking
    /// thread; once the whole response is in, the rebuild to wait for. On a failed read the
    /// rebuild ends with the rows it had, and is dropped.
    async fn read(
        self: &Arc<Self>,
        partition: i32,
    ) -> Result<JoinHandle<Result<Restored, PipelineError>>, SinkError> {
        let number = u32::try_from(partition).expect("Kafka partitions are not negative");
        let rows = self.sink.count_states(number).await?;
        let users = usize::try_from(rows).unwrap_or(usize::MAX);
        let (batches, received) = mpsc::channel();
        let this = Arc::clone(self);
        let rebuild =
            tokio::task::spawn_blocking(move || this.rebuild(partition, users, &received));
        // A send fails only once the rebuild has stopped at an error, which it reports.
        let mut batch = Batch::default();
        self.sink
            .read_states(number, |chunk| {
                if let Some(full) = batch.add(chunk) {
                    drop(batches.send(full));
                }
            })
            .await?;
        drop(batches.send(batch.chunks));
        Ok(rebuild)
    }

    /// A new shard with the users of the rows in `batches`, until the sender is dropped, sized
    /// for `users` users.
    fn rebuild(
        &self,
        partition: i32,
        users: usize,
        batches: &mpsc::Receiver<Vec<StateChunk>>,
    ) -> Result<Restored, PipelineError> {
        let shard = new_shard(
            Arc::clone(&self.topics),
            self.alerts,
            Arc::clone(&self.segments),
        );
        let mut restoring = shard.restoring(users, &self.signals);
        let mut rows = StateRows::default();
        let mut strays = Vec::new();
        for chunk in batches.iter().flatten() {
            rows.push(&chunk, |row| {
                if !self.forgotten.is_empty() && self.forgotten.contains(row.user_id.as_bytes()) {
                    strays.push(row.user_id.to_owned());
                    return Ok(());
                }
                restoring.add(row)
            })
            .map_err(|error| match error {
                RowError::Rows(source) => PipelineError::StateRows { partition, source },
                RowError::Row(source) => PipelineError::Restore { partition, source },
            })?;
        }
        rows.finish()
            .map_err(|source| PipelineError::StateRows { partition, source })?;
        let (shard, evaluated_at) = restoring.finish();
        Ok(Restored {
            shard,
            evaluated_at,
            strays,
        })
    }
}

/// How many bytes of the response are handed to a rebuild at a time. The response comes in
/// chunks of a few kilobytes, and a rebuild woken for each one spent more time being woken
/// than on the rows.
const BATCH_BYTES: usize = 1 << 20;

/// Chunks of the response gathered for one hand-over.
#[derive(Default)]
struct Batch {
    chunks: Vec<StateChunk>,
    bytes: usize,
}

impl Batch {
    /// Adds `chunk`; returns the chunks gathered once they reach [`BATCH_BYTES`].
    fn add(&mut self, chunk: StateChunk) -> Option<Vec<StateChunk>> {
        self.bytes += chunk.len();
        self.chunks.push(chunk);
        (self.bytes >= BATCH_BYTES).then(|| {
            self.bytes = 0;
            std::mem::take(&mut self.chunks)
        })
    }
}
