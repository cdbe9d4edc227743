//! The pipeline's work between its input and its outputs, with no I/O: messages decoded and
//! applied to the users of their partition's shard, the watermark, and what a flush writes
//! (the changed profiles with their state blobs, the alerts that came due, who entered or left
//! a segment, the dead letters).
//!
//! Two loops drive it: the Kafka engine (`engine.rs`), which adds restores, commits,
//! rebalances and the event archive, and the embedded run (`embedded.rs`), which reads files.
//! Both therefore compute exactly the same profiles and alerts from the same events.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use portrait_connectors::clickhouse::{
    AlertRow, DeadLetterRow, ProfileRow, Pseudonymiser, SegmentChange, SegmentRow, SinkBatch,
    StateRow,
};
use portrait_connectors::dead_letter::DeadLetter;
use portrait_core::alerts::{Alert, AlertRules};
use portrait_core::churn_model::BgNbdParams;
use portrait_core::event::{decode, DecodeLimits, Event};
use portrait_core::time::EventTime;
use portrait_core::SignalConfig;

use crate::alerts::AlertsConfig;
use crate::config::PipelineConfig;
use crate::segments::{PredicateError, SegmentRules, Transition};
use crate::shard::{Changed, RestoreError, Shard};
use crate::RunSummary;

/// One input message: a Kafka record, or a line of a file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Message<'a> {
    pub topic: &'a str,
    /// The topic's position in the profiler's topics.
    pub topic_index: usize,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

/// What became of a message.
pub(crate) enum Processed<'a> {
    /// Applied to its user's state.
    Applied(Event<'a>),
    /// Already held by its user's restored state: a replay after a restart.
    Replayed,
    /// Not usable; the caller sets it aside with [`Profiler::dead_letter`], unless it belongs
    /// to a user who must leave no trace.
    Rejected(Rejection<'a>),
}

/// Why a message was not applied.
pub(crate) struct Rejection<'a> {
    /// The user the message names, when it decoded.
    pub user_id: Option<Cow<'a, str>>,
    /// The stable code dashboards group by.
    pub reason: &'static str,
    pub detail: String,
}

/// Why the profiler stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProfilerError {
    #[error("cannot restore partition {partition} from profile_state")]
    Unreadable {
        partition: i32,
        source: RestoreError,
    },
    #[error("cannot evaluate the segments")]
    Segments(#[source] PredicateError),
}

/// Where messages come from, which decides what a message must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys {
    /// Kafka: the key must be the `user_id`, since it decides the partition and so which
    /// process holds the user's state.
    MustBeUserId,
    /// Files: there is no key, and every user is in the one partition.
    None,
}

/// The rows of one flush, in the form both sinks take: ClickHouse's rows, which the Parquet
/// tables of the embedded mode are built from too, so that both hold the same values.
pub(crate) struct FlushRows<'a> {
    pub profiles: Vec<ProfileRow<'a>>,
    pub states: Vec<StateRow>,
    pub alerts: Vec<AlertRow<'a>>,
    /// The segments users entered and left (docs/segments.md).
    pub segments: Vec<SegmentRow<'a>>,
    pub dead_letters: Vec<DeadLetterRow<'a>>,
    /// The alerts decided, for the alert sinks other than the table.
    pub decided: &'a [Alert],
}

impl FlushRows<'_> {
    pub fn batch(&self) -> SinkBatch<'_> {
        SinkBatch {
            profiles: &self.profiles,
            states: &self.states,
            alerts: &self.alerts,
            segments: &self.segments,
            dead_letters: &self.dead_letters,
        }
    }
}

/// What a flush found to write.
#[derive(Default)]
pub(crate) struct Collected {
    /// Users whose profile changed, by source partition.
    pub changed: Vec<(i32, Changed)>,
    pub alerts: Vec<Alert>,
    /// Who entered or left which segment, among `changed`.
    pub transitions: Vec<Transition>,
    /// The segments of `transitions`, by bit.
    pub segment_names: Arc<[String]>,
}

impl Collected {
    /// The rows of this flush, written at the watermark `updated_at_ms`. `dead_letters` come
    /// from the profiler; alert rows are built only when `alert_rows` (the table sink is on).
    /// Takes the state blobs out of the changed users: call it once.
    pub fn rows<'a>(
        &'a mut self,
        dead_letters: &'a [DeadLetter],
        updated_at_ms: i64,
        alert_rows: bool,
        pseudonymiser: Option<&Pseudonymiser>,
    ) -> FlushRows<'a> {
        let states = self
            .changed
            .iter_mut()
            .map(|(partition, user)| {
                StateRow::new(
                    *partition,
                    &user.profile.user_id,
                    std::mem::take(&mut user.state),
                    user.version,
                    updated_at_ms,
                    user.deadlines,
                )
            })
            .collect();
        let Collected {
            changed,
            alerts,
            transitions,
            segment_names,
        } = self;
        let profiles = changed
            .iter()
            .map(|(_, user)| {
                ProfileRow::new(&user.profile, updated_at_ms, user.version)
                    .pseudonymised(pseudonymiser)
            })
            .collect();
        let alert_rows = if alert_rows {
            let emitted_at = wall_clock_ms();
            alerts
                .iter()
                .map(|alert| AlertRow::new(alert, emitted_at).pseudonymised(pseudonymiser))
                .collect()
        } else {
            Vec::new()
        };
        let segments = transitions
            .iter()
            .map(|transition| {
                let (_, user) = &changed[transition.user];
                let change = if transition.entered {
                    SegmentChange::Entered
                } else {
                    SegmentChange::Left
                };
                let segment = &segment_names[transition.segment as usize];
                SegmentRow::new(
                    &user.profile.user_id,
                    segment,
                    change,
                    updated_at_ms,
                    user.version,
                )
                .pseudonymised(pseudonymiser)
            })
            .collect();
        FlushRows {
            profiles,
            states,
            alerts: alert_rows,
            segments,
            dead_letters: dead_letters.iter().map(DeadLetterRow::from).collect(),
            decided: alerts,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.alerts.is_empty()
    }
}

/// The users of every partition held, the event-time progress, and the messages set aside.
#[derive(Debug)]
pub(crate) struct Profiler {
    pub signals: SignalConfig,
    /// The churn model's parameters the flushes compute `p_alive` and `expected_orders_90d`
    /// with: the defaults until [`Profiler::set_churn_model`].
    churn_model: BgNbdParams,
    limits: DecodeLimits,
    keys: Keys,
    lateness_ms: i64,
    alerts_lateness_ms: i64,
    alerts_enabled: bool,
    alert_rules: AlertRules,
    segments: Option<SegmentRules>,
    /// Input topic names, by topic index.
    pub topics: Arc<[String]>,
    /// One shard per source partition.
    pub shards: BTreeMap<i32, Shard>,
    /// Event-time progress; `None` until the first event.
    pub watermark: Option<EventTime>,
    /// In live mode, while the input is idle: the wall clock minus the alerts' lateness, so
    /// inactivity alerts fire even on a partition that receives nothing.
    alert_floor: Option<EventTime>,
    /// Bad messages waiting for the next flush.
    pub dead_letters: Vec<DeadLetter>,
    pub summary: RunSummary,
}

impl Profiler {
    pub fn new(
        pipeline: &PipelineConfig,
        signals: &SignalConfig,
        alerts: &AlertsConfig,
        segments: Option<SegmentRules>,
        topics: Arc<[String]>,
        keys: Keys,
    ) -> Self {
        Self {
            signals: signals.clone(),
            churn_model: BgNbdParams::default(),
            limits: pipeline.limits,
            keys,
            lateness_ms: pipeline.lateness_ms,
            alerts_lateness_ms: alerts.lateness_ms,
            alerts_enabled: alerts.enabled(),
            alert_rules: alerts.rules(),
            segments,
            topics,
            shards: BTreeMap::new(),
            watermark: None,
            alert_floor: None,
            dead_letters: Vec::new(),
            summary: RunSummary::default(),
        }
    }

    /// Computes the churn model's columns with `params` from the next flush on. A user's row
    /// shows them once it changes, within a day of event time at the latest, as every buyer's
    /// `customer_age_days` steps at each midnight (docs/churn-model.md, "Parameters").
    pub fn set_churn_model(&mut self, params: BgNbdParams) {
        self.churn_model = params;
    }

    /// An empty shard for a partition, following its users' stages when alerts are on, and
    /// their segments when there are any.
    pub fn new_shard(&self) -> Shard {
        new_shard(
            self.topics.clone(),
            self.alerts_enabled,
            self.segment_names(),
        )
    }

    /// The segments evaluated, by bit; none without segments.
    pub fn segment_names(&self) -> Arc<[String]> {
        self.segments
            .as_ref()
            .map_or_else(|| Arc::from([]), |segments| segments.names.clone())
    }

    /// Decodes `message` and applies it to its user's state in its partition's shard, which
    /// must exist. Fails only for a restored user whose stored state cannot be read.
    pub fn process<'a>(&mut self, message: &Message<'a>) -> Result<Processed<'a>, ProfilerError> {
        let event = match decode(message.payload, &self.limits) {
            Ok(event) => event,
            Err(error) => {
                return Ok(Processed::Rejected(Rejection {
                    user_id: None,
                    reason: error.reason(),
                    detail: error.to_string(),
                }))
            }
        };
        if self.keys == Keys::MustBeUserId && message.key != Some(event.user_id.as_bytes()) {
            let detail = format!(
                "the message key must be the user_id {:?} (it decides the partition, and so \
                 which process holds the user's state)",
                event.user_id
            );
            return Ok(Processed::Rejected(Rejection {
                user_id: Some(event.user_id),
                reason: "key_mismatch",
                detail,
            }));
        }
        let shard = self
            .shards
            .get_mut(&message.partition)
            .expect("a shard is made for every partition before its messages");
        let applied = shard
            .apply(message.topic_index, message.offset, &event, &self.signals)
            .map_err(|source| ProfilerError::Unreadable {
                partition: message.partition,
                source,
            })?;
        if !applied {
            self.summary.replayed += 1;
            return Ok(Processed::Replayed);
        }
        self.summary.events += 1;
        self.summary.events_by_type[event.event_type() as usize] += 1;
        Ok(Processed::Applied(event))
    }

    /// Sets `message` aside for the dead-letter sinks.
    pub fn dead_letter(&mut self, message: &Message<'_>, rejection: Rejection<'_>) {
        *self
            .summary
            .dead_letters
            .entry(rejection.reason)
            .or_default() += 1;
        self.dead_letters.push(DeadLetter {
            topic: message.topic.to_owned(),
            partition: message.partition,
            offset: message.offset,
            key: message.key.map(<[u8]>::to_vec),
            payload: message.payload.to_vec(),
            reason: rejection.reason,
            detail: rejection.detail,
            received_at_ms: wall_clock_ms(),
        });
    }

    /// Users held, over every shard.
    pub fn users(&self) -> usize {
        self.shards.values().map(Shard::users).sum()
    }

    /// Users changed since the last flush, over every shard.
    pub fn dirty(&self) -> usize {
        self.shards.values().map(Shard::dirty_len).sum()
    }

    /// Moves the watermark to the latest event time seen minus the lateness; when `idle` (live
    /// mode with nothing received), also to the wall clock minus the lateness, so inactivity is
    /// noticed while no events arrive. It never moves back.
    pub fn advance_watermark(&mut self, idle: bool) {
        let latest = self
            .shards
            .values()
            .filter_map(Shard::latest_event_ms)
            .max();
        let mut candidate = latest.map(|ms| ms - self.lateness_ms);
        if idle {
            let now = wall_clock_ms();
            candidate = candidate.max(Some(now - self.lateness_ms));
            self.alert_floor = Some(EventTime::from_millis(now - self.alerts_lateness_ms));
        } else {
            self.alert_floor = None;
        }
        if let Some(ms) = candidate {
            let next = EventTime::from_millis(ms);
            self.watermark = Some(self.watermark.map_or(next, |w| w.max(next)));
        }
    }

    /// Up to where a shard's alerts can be decided: `alerts.lateness_ms` behind its slowest
    /// topic (or the idle wall clock), never past the watermark; at the end of a bounded
    /// input, the watermark itself, as no event can come any more. `None` while nothing can.
    fn alert_decision(
        &self,
        shard: &Shard,
        watermark: EventTime,
        end_of_input: bool,
    ) -> Option<EventTime> {
        if end_of_input {
            return Some(watermark);
        }
        let by_events = shard
            .slowest_topic_ms()
            .map(|ms| EventTime::from_millis(ms - self.alerts_lateness_ms));
        by_events
            .max(self.alert_floor)
            .map(|decision| decision.min(watermark))
    }

    /// Sweeps due deadlines, decides the alerts that are due, takes every changed profile out
    /// of the shards and evaluates their segments: what the flush at the current watermark
    /// writes. Fails for a restored user due here whose stored state cannot be read, and for
    /// segments that cannot be evaluated.
    pub fn collect(&mut self, end_of_input: bool) -> Result<Collected, ProfilerError> {
        let mut collected = Collected::default();
        let Some(watermark) = self.watermark else {
            return Ok(collected);
        };
        let decisions: Vec<Option<EventTime>> = self
            .shards
            .values()
            .map(|shard| self.alert_decision(shard, watermark, end_of_input))
            .collect();
        for ((&partition, shard), decision) in self.shards.iter_mut().zip(decisions) {
            let unreadable = |source| ProfilerError::Unreadable { partition, source };
            self.summary.swept += shard.sweep(watermark).map_err(unreadable)?;
            shard
                .decide_alerts(decision, &self.signals, &self.alert_rules, |alert| {
                    collected.alerts.push(alert);
                })
                .map_err(unreadable)?;
            let (signals, churn_model) = (&self.signals, &self.churn_model);
            shard.drain(watermark, self.lateness_ms, signals, churn_model, |user| {
                collected.changed.push((partition, user));
            });
        }
        if let Some(segments) = &self.segments {
            collected.transitions = segments
                .flush(
                    &mut collected.changed,
                    watermark.millis(),
                    &mut self.shards,
                    &mut collected.alerts,
                )
                .map_err(ProfilerError::Segments)?;
            collected.segment_names = segments.names.clone();
        }
        Ok(collected)
    }

    /// Counts a flush that wrote `profiles` rows and `alerts`.
    pub fn flushed(&mut self, profiles: usize, alerts: &[Alert]) {
        self.summary.flushes += 1;
        self.summary.profiles_written += profiles as u64;
        for alert in alerts {
            *self.summary.alerts.entry(alert.kind.as_str()).or_default() += 1;
        }
        self.summary.late_for_alerts = self.shards.values().map(Shard::late_for_alerts).sum();
    }
}

/// An empty shard of `topics`, following its users' stages when `alerts`, and keeping who is in
/// which of `segments`.
pub(crate) fn new_shard(topics: Arc<[String]>, alerts: bool, segments: Arc<[String]>) -> Shard {
    let shard = Shard::new(topics).with_segments(segments);
    if alerts {
        shard.with_alerts()
    } else {
        shard
    }
}

pub(crate) fn wall_clock_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_epoch.as_millis()).expect("the clock is before the year 292 million")
}
