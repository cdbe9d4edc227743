//! The run loop: poll → decode → apply, and every so often sweep → flush → commit.
//!
//! One event's path fits on a screen: [`Engine::process`] decodes the payload borrowed from
//! the Kafka batch, finds the user's shard by source partition and applies the event to the
//! user's state in place. Everything else (evaluating profiles, encoding rows and state blobs,
//! dead letters) happens at flush, once per changed user rather than once per event.
//!
//! Offsets are committed only after every sink acknowledged the flush that covers them, so a
//! crash at any point replays input rather than losing it (`docs/offsets.md`).

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use portrait_connectors::clickhouse::{ClickHouseConfig, ClickHouseSink};
use portrait_connectors::kafka::{
    check_copartitioned, Admin, DeadLetterProducer, EndOffsets, KafkaConfig, NextOffsets, Record,
    Revoked, Source, SourceError,
};
use portrait_core::time::EventTime;
use portrait_core::SignalConfig;

use crate::alerts::{AlertSinks, AlertsConfig};
use crate::archive::EventArchive;
use crate::churn_model::{ChurnModel, ChurnModelConfig};
use crate::config::PipelineConfig;
use crate::metrics;
use crate::profiler::{Keys, Message, Processed, Profiler};
use crate::restore::{Restore, Restored};
use crate::retry::{retry, retry_unless};
use crate::segments::SegmentRules;
use crate::{PipelineError, RunSummary};

/// What to run and how long.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub kafka: KafkaConfig,
    pub clickhouse: ClickHouseConfig,
    pub pipeline: PipelineConfig,
    pub signals: SignalConfig,
    pub alerts: AlertsConfig,
    /// Segments to evaluate at each flush, if any.
    pub segments: Option<SegmentRules>,
    pub churn_model: ChurnModelConfig,
    /// Consume up to the end offsets seen at start, flush, commit and return (replay mode:
    /// the watermark moves with event time only, and the churn model's parameters are those
    /// stored at start). Otherwise run until `shutdown` resolves (live mode: an idle input
    /// lets the watermark follow the wall clock, and newer fits are taken up).
    pub until_end: bool,
}

/// Runs the pipeline until the input ends (`until_end`) or `shutdown` resolves; either way the
/// last changes are flushed and their offsets committed before it returns.
pub async fn run(
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<RunSummary, PipelineError> {
    let mut engine = Engine::start(&options).await?;
    let source = Source::new(&options.kafka)?;
    let ends = options.until_end.then_some(source.end_offsets().await?);
    tokio::pin!(shutdown);
    let mut end_of_input = false;
    let mut idle = false;
    loop {
        if let Some(ends) = &ends {
            if engine.reached(ends, &source, idle).await? {
                end_of_input = true;
                break;
            }
        }
        let wait = engine.until_next_flush();
        let received = tokio::select! {
            batch = source.next_batch(options.pipeline.batch_size, wait) => {
                let batch = batch?;
                let partitions = batch.iter().map(|record| record.partition);
                engine.restore(partitions, "took the partition on").await?;
                for record in batch.iter() {
                    engine.process(record)?;
                }
                engine.archive_if_full().await;
                batch.len()
            }
            () = &mut shutdown => {
                tracing::info!("shutting down: flushing and committing what was processed");
                break;
            }
        };
        if let Some(revoked) = source.take_revoked() {
            engine.hand_over(&source, revoked).await?;
        }
        idle = received == 0;
        engine
            .profiler
            .advance_watermark(idle && !options.until_end);
        if engine.churn_model.refresh_due() {
            engine.refresh_churn_model().await;
        }
        if engine.flush_due() {
            engine.flush(&source, false).await?;
        }
    }
    if let Some(ends) = ends.as_ref().filter(|_| end_of_input) {
        // Partitions this run had nothing to read from still end at the final watermark: the
        // last run that wrote them may have stopped (or been killed) at an earlier one, and
        // with several processes in the group, others wrote them.
        let partitions = ends.iter().map(|(_, partition, _)| partition);
        engine
            .restore(partitions, "restored the partition for the final watermark")
            .await?;
        engine.profiler.advance_watermark(false);
    }
    engine.flush(&source, end_of_input).await?;
    engine.profiler.summary.users = engine.profiler.users();
    source.close().await;
    Ok(engine.profiler.summary)
}

/// The running pipeline's state between two calls of its loop.
struct Engine {
    pipeline: PipelineConfig,
    /// The users, the watermark and the dead letters; everything here is its I/O.
    profiler: Profiler,
    /// Which fit of the churn model the profiler's parameters come from.
    churn_model: ChurnModel,
    /// `flush_interval_ms`, or `replay_flush_interval_ms` in a bounded run.
    flush_interval_ms: u64,
    sink: ClickHouseSink,
    dead_letter_producer: DeadLetterProducer,
    alerts: AlertsConfig,
    alert_sinks: AlertSinks,
    /// Next offset per partition of every record processed so far (applied or dead-lettered).
    processed: NextOffsets,
    /// What the last successful commit covered; a flush with nothing new skips the commit.
    committed: NextOffsets,
    /// Applied events waiting for the `events` table; `None` when `pipeline.archive_events`
    /// is off.
    archive: Option<EventArchive>,
    /// The forgotten users' ids (docs/security.md, "Forgetting a user"), as bytes so that a
    /// message key is looked up without decoding. Their messages are dropped unread.
    forgotten: HashSet<Box<[u8]>>,
    /// The latest `forgotten_at` read from `forgotten_users`: each flush asks only for the
    /// tombstones from then on.
    tombstones_since: Option<u32>,
    last_flush: Instant,
}

impl Engine {
    /// Checks the input topics and ClickHouse.
    async fn start(options: &RunOptions) -> Result<Self, PipelineError> {
        let admin = Admin::new(&options.kafka)?;
        let counts = admin.partition_counts(&options.kafka.topics).await?;
        let partitions = check_copartitioned(&counts)?;
        let alert_sinks = AlertSinks::new(&options.alerts, &options.kafka)?;
        let topics: Vec<&str> = std::iter::once(options.pipeline.dead_letter_topic.as_str())
            .chain(alert_sinks.topic())
            .collect();
        admin.create_topics(&topics, partitions).await?;

        let sink = ClickHouseSink::new(&options.clickhouse);
        sink.check_ready()
            .await
            .map_err(|source| PipelineError::ClickHouseNotReady {
                url: options.clickhouse.url.clone(),
                database: options.clickhouse.database.clone(),
                source,
            })?;

        let topics: Arc<[String]> = options.kafka.topics.iter().cloned().collect();
        let mut profiler = Profiler::new(
            &options.pipeline,
            &options.signals,
            &options.alerts,
            options.segments.clone(),
            topics,
            Keys::MustBeUserId,
        );
        let latest_fit = retry("reading the latest churn model fit from ClickHouse", || {
            sink.read_churn_model()
        })
        .await;
        let refresh = (!options.until_end)
            .then(|| Duration::from_millis(options.churn_model.refresh_interval_ms));
        let churn_model = ChurnModel::start(refresh, latest_fit, &mut profiler)?;
        let mut engine = Self {
            pipeline: options.pipeline.clone(),
            profiler,
            churn_model,
            flush_interval_ms: if options.until_end {
                options.pipeline.replay_flush_interval_ms
            } else {
                options.pipeline.flush_interval_ms
            },
            sink,
            dead_letter_producer: DeadLetterProducer::new(&options.kafka)?,
            alerts: options.alerts.clone(),
            alert_sinks,
            processed: NextOffsets::new(),
            committed: NextOffsets::new(),
            archive: options.pipeline.archive_events.then(EventArchive::default),
            forgotten: HashSet::new(),
            tombstones_since: None,
            last_flush: Instant::now(),
        };
        engine.learn_tombstones().await;
        Ok(engine)
    }

    /// Reads the latest churn model fit again and puts it in force if it is new: from the
    /// next flush on, the profiles written have `p_alive` and `expected_orders_90d` by it.
    async fn refresh_churn_model(&mut self) {
        let latest = retry("reading the latest churn model fit from ClickHouse", || {
            self.sink.read_churn_model()
        })
        .await;
        self.churn_model.refresh(latest, &mut self.profiler);
    }

    /// Whether `key` (a message key or a user id) is a forgotten user's. A hash lookup only
    /// once someone was forgotten.
    fn is_forgotten(&self, key: &[u8]) -> bool {
        !self.forgotten.is_empty() && self.forgotten.contains(key)
    }

    /// Reads the tombstones written since the last read (all of them, the first time) and
    /// drops every newly forgotten user this process holds: state, alert timeline, archived
    /// events, dead letters. Runs at start and before every flush writes anything, so no flush
    /// writes a user whose tombstone was visible when it began. The rows this process wrote
    /// of such a user before it learned of the tombstone may have landed after `forget`'s
    /// deletes; they are deleted again here, now that every earlier write is acknowledged
    /// (docs/security.md, "What is guaranteed").
    async fn learn_tombstones(&mut self) {
        let since = self
            .tombstones_since
            .map(|at| at.saturating_sub(TOMBSTONE_MARGIN_S));
        let tombstones = retry(
            "reading the tombstones of forgotten users from ClickHouse",
            || self.sink.read_tombstones(since),
        )
        .await;
        let mut held = Vec::new();
        for tombstone in tombstones {
            self.tombstones_since = self.tombstones_since.max(Some(tombstone.forgotten_at));
            let id = tombstone.user_id;
            if !self.forgotten.insert(id.as_bytes().into()) {
                continue;
            }
            let mut found = false;
            for shard in self.profiler.shards.values_mut() {
                found |= shard.forget(&id);
            }
            if let Some(archive) = &mut self.archive {
                found |= archive.forget_user(&id);
            }
            let letters = &mut self.profiler.dead_letters;
            let held_letters = letters.len();
            letters.retain(|letter| letter.key.as_deref() != Some(id.as_bytes()));
            found |= letters.len() < held_letters;
            if found {
                held.push(id);
            }
        }
        if !held.is_empty() {
            tracing::info!(users = held.len(), "dropped forgotten users held in memory");
            self.profiler.summary.forgotten_users += held.len();
            self.purge(&held).await;
        }
    }

    /// Deletes every row of `user_ids`, forgotten users this process held or found stored.
    async fn purge(&self, user_ids: &[String]) {
        let ids: Vec<&str> = user_ids.iter().map(String::as_str).collect();
        retry("deleting the rows of forgotten users", || {
            self.sink.purge(&ids)
        })
        .await;
    }

    /// Makes the shard of every partition in `partitions` not seen before, restoring its
    /// users from `profile_state` first (one range read per partition), so that no event of a
    /// partition is applied before the state the last flush stored for it; logs `why` for
    /// each. A ClickHouse outage is waited out; a stored state that cannot be read stops the
    /// pipeline.
    ///
    /// The partitions are read at once, each rebuilt on a blocking thread as its rows arrive
    /// (`restore.rs`; docs/pipeline.md, "Restoring a partition"). Their outcomes are taken in
    /// partition order, so that the first partition with an unreadable state is the one
    /// reported, whichever thread finished first. The stored states of forgotten users
    /// (written in the race described at `learn_tombstones`) are not restored, and deleted
    /// once more.
    async fn restore(
        &mut self,
        partitions: impl Iterator<Item = i32>,
        why: &str,
    ) -> Result<(), PipelineError> {
        let mut new: Vec<i32> = partitions
            .filter(|partition| !self.profiler.shards.contains_key(partition))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        new.sort_unstable();
        new.dedup();
        let started = Instant::now();
        let restore = Restore {
            sink: self.sink.clone(),
            topics: Arc::clone(&self.profiler.topics),
            signals: self.profiler.signals.clone(),
            alerts: self.alerts.enabled(),
            segments: self.profiler.segment_names(),
            forgotten: self.forgotten.clone(),
        };
        for (partition, restored) in restore.partitions(&new).await {
            let Restored {
                shard,
                evaluated_at,
                strays,
            } = restored?;
            if !strays.is_empty() {
                tracing::warn!(
                    partition,
                    users = strays.len(),
                    "found forgotten users' states; deleting them"
                );
                self.purge(&strays).await;
            }
            // The watermark never goes back, not even across a restart.
            let profiler = &mut self.profiler;
            profiler.watermark = profiler.watermark.max(evaluated_at);
            let users = shard.users();
            profiler.summary.restored += users;
            tracing::info!(partition, stored_users = users, "{why}");
            profiler.shards.insert(partition, shard);
        }
        self.profiler.summary.restore_time += started.elapsed();
        Ok(())
    }

    /// Whether a bounded run is complete: every partition processed up to the end seen at
    /// start, by this process or, asked when the input is `idle`, by the group's other
    /// members, as their committed offsets show.
    async fn reached(
        &self,
        ends: &EndOffsets,
        source: &Source,
        idle: bool,
    ) -> Result<bool, PipelineError> {
        if ends.remaining(&self.processed) == 0 {
            return Ok(true);
        }
        if !idle {
            return Ok(false);
        }
        let mut done = source.group_committed().await?;
        done.merge(&self.processed);
        Ok(ends.remaining(&done) == 0)
    }

    /// Gives revoked partitions back to the group. Unless they are already lost, everything
    /// processed is flushed and committed first, so their next owner starts where this
    /// process stopped. The group waits meanwhile, so the flush is bounded by
    /// `pipeline.revoke_flush_timeout_ms`; past it, the work is dropped instead and the next
    /// owner replays it, which the applied offsets make harmless.
    async fn hand_over(&mut self, source: &Source, revoked: Revoked) -> Result<(), PipelineError> {
        if revoked.lost {
            tracing::warn!(
                partitions = ?revoked.partitions,
                "the group gave the partitions to others already; dropping their unflushed work"
            );
            self.give_up(&revoked.partitions);
        } else {
            let limit = Duration::from_millis(self.pipeline.revoke_flush_timeout_ms);
            match tokio::time::timeout(limit, self.flush(source, false)).await {
                Ok(flushed) => {
                    flushed?;
                    self.give_up(&revoked.partitions);
                }
                Err(_elapsed) => {
                    tracing::warn!(
                        ?limit,
                        "could not flush before giving the partitions up; dropping their \
                         unflushed work for the next owner to replay"
                    );
                    // A flush cut short may have taken changed users out of any shard.
                    self.give_up_everything();
                }
            }
        }
        source.release_revoked()?;
        Ok(())
    }

    /// Drops everything held for `partitions`: their users' state, dead letters and progress.
    /// After a flush that is only state the next owner restores; otherwise it is uncommitted
    /// work the next owner replays from the committed offset, skipping what the stored states
    /// already hold, so nothing is lost or counted twice. Writing or committing any of it
    /// from here once the partitions are gone could overwrite the new owner's newer states.
    fn give_up(&mut self, partitions: &[(String, i32)]) {
        for (topic, partition) in partitions {
            if self.profiler.shards.remove(partition).is_some() {
                tracing::info!(partition, "gave the partition up");
            }
            self.processed.forget(topic, *partition);
            self.committed.forget(topic, *partition);
            self.profiler
                .dead_letters
                .retain(|letter| letter.partition != *partition);
            if let Some(archive) = &mut self.archive {
                archive.forget(*partition);
            }
        }
    }

    /// [`Self::give_up`] for every partition held.
    fn give_up_everything(&mut self) {
        let held: Vec<(String, i32)> = self
            .processed
            .iter()
            .map(|(topic, partition, _)| (topic.to_owned(), partition))
            .collect();
        self.give_up(&held);
        self.profiler.shards.clear();
        self.profiler.dead_letters.clear();
        if let Some(archive) = &mut self.archive {
            archive.clear();
        }
    }

    /// One message: decoded and applied to its user's state, or set aside as a dead letter.
    /// Fails only when applying it decodes a restored user whose stored state cannot be read.
    fn process(&mut self, record: Record<'_>) -> Result<(), PipelineError> {
        self.processed
            .processed(record.topic, record.partition, record.offset);
        if record.key.is_some_and(|key| self.is_forgotten(key)) {
            self.profiler.summary.forgotten += 1;
            return Ok(());
        }
        let message = Message {
            topic: record.topic,
            topic_index: record.topic_index,
            partition: record.partition,
            offset: record.offset,
            key: record.key,
            payload: record.payload.unwrap_or_default(),
        };
        let processed = self.profiler.process(&message)?;
        match processed {
            Processed::Applied(event) => {
                // Archived before the state that holds it is stored (see `flush`).
                if let Some(archive) = &mut self.archive {
                    archive.push(
                        message.topic_index,
                        message.partition,
                        message.offset,
                        &event,
                    );
                }
            }
            Processed::Replayed => {}
            // Keyed by someone else, but a forgotten user's all the same: not kept, not even as
            // a dead letter.
            Processed::Rejected(rejection)
                if rejection
                    .user_id
                    .as_ref()
                    .is_some_and(|user_id| self.is_forgotten(user_id.as_bytes())) =>
            {
                self.profiler.summary.forgotten += 1;
            }
            Processed::Rejected(rejection) => self.profiler.dead_letter(&message, rejection),
        }
        Ok(())
    }

    /// Writes the event archive once it holds [`ARCHIVE_CHUNK`] events, so that its memory
    /// stays bounded however long the flush interval.
    async fn archive_if_full(&mut self) {
        if self
            .archive
            .as_ref()
            .is_some_and(|archive| archive.len() >= ARCHIVE_CHUNK)
        {
            self.write_archive().await;
        }
    }

    /// Writes the archived events to `events`, retrying for as long as ClickHouse fails.
    async fn write_archive(&mut self) {
        let Some(archive) = self.archive.as_ref().filter(|archive| !archive.is_empty()) else {
            return;
        };
        retry("writing events to ClickHouse", || {
            let rows = archive.rows(&self.profiler.topics, self.sink.pseudonymiser());
            self.sink.write_events(rows)
        })
        .await;
        self.profiler.summary.archived += archive.len() as u64;
        if let Some(archive) = &mut self.archive {
            archive.clear();
        }
    }

    fn until_next_flush(&self) -> Duration {
        Duration::from_millis(self.flush_interval_ms).saturating_sub(self.last_flush.elapsed())
    }

    fn flush_due(&self) -> bool {
        self.profiler.dirty() >= self.pipeline.flush_max_dirty || self.until_next_flush().is_zero()
    }

    /// Sweeps due deadlines, decides the alerts that are due, writes every changed profile,
    /// state, alert and dead letter, and only then commits the offsets processed so far. Sink
    /// failures are retried with backoff for as long as they last: consumption waits
    /// meanwhile, so memory stays bounded. Fails only when a restored user due for a deadline
    /// or an alert has a stored state that cannot be read.
    async fn flush(&mut self, source: &Source, end_of_input: bool) -> Result<(), PipelineError> {
        self.last_flush = Instant::now();
        let started = Instant::now();
        self.learn_tombstones().await;
        let mut collected = self.profiler.collect(end_of_input)?;
        if collected.is_empty()
            && self.profiler.dead_letters.is_empty()
            && self.processed == self.committed
        {
            return Ok(());
        }
        // The events the states to be stored hold are archived first: a restart skips the
        // events a restored state already has, so they must be in the archive by then.
        self.write_archive().await;

        let updated_at = self.profiler.watermark.map_or(0, EventTime::millis);
        let rows = collected.rows(
            &self.profiler.dead_letters,
            updated_at,
            self.alerts.clickhouse,
            self.sink.pseudonymiser(),
        );
        // Alerts reach every sink before the states that count them as sent are stored
        // (docs/guarantees.md): a crash in between sends them again, never loses them.
        self.alert_sinks.deliver(rows.decided).await;
        let batch = rows.batch();
        retry("writing to ClickHouse", || self.sink.write(&batch)).await;
        let profiles = rows.profiles.len();
        if !self.profiler.dead_letters.is_empty() {
            let topic = &self.pipeline.dead_letter_topic;
            retry("producing dead letters", || {
                self.dead_letter_producer
                    .send(topic, &self.profiler.dead_letters)
            })
            .await;
            self.profiler.dead_letters.clear();
        }
        if let Err(error) = retry_unless(
            "committing offsets",
            || source.commit(&self.processed),
            SourceError::is_membership_lost,
        )
        .await
        {
            // Everything is written, so dropping it all only costs the next owners a replay.
            tracing::warn!(%error, "the group moved on without this process; giving its partitions up");
            self.give_up_everything();
        }
        self.committed.clone_from(&self.processed);

        self.profiler.flushed(profiles, &collected.alerts);
        let profiler = &self.profiler;
        metrics::publish(
            &profiler.summary,
            profiler.users(),
            profiler.watermark,
            started.elapsed(),
        );
        tracing::debug!(
            profiles,
            alerts = collected.alerts.len(),
            watermark = ?profiler.watermark,
            "flushed and committed"
        );
        Ok(())
    }
}

/// How far back each flush reads `forgotten_users` from the latest tombstone it saw, in
/// seconds. A tombstone's `forgotten_at` is the server's clock when its insert began, so one
/// whose insert became visible after a later one was read could otherwise be missed. Rereading
/// a minute of tombstones costs a few rows.
const TOMBSTONE_MARGIN_S: u32 = 60;

/// Events the archive holds before it is written whatever the flush interval: about 40 MB at
/// the peak (120 bytes of ranges and coordinates per event, plus its text), and a few inserts a
/// second into `events` at full speed, few enough for its merges.
const ARCHIVE_CHUNK: usize = 250_000;
