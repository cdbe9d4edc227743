//! The users of one source partition: their states, which of them changed, and when each one's
//! profile next changes on its own.
//!
//! Every input topic is co-partitioned by `user_id`, so partition `p` of every topic holds the
//! same users, and a shard is the unit a process is assigned, flushes and restores.
//! Users live in a slot table (`Vec`) with a name index beside it, so the dirty list and the
//! deadline index refer to users by a `u32` slot instead of repeating their ids. The index holds
//! slots only, hashed by the id in the slot table: each id is stored once.
//!
//! A restored user stays encoded, as `profile_state` held them, until first needed (an event,
//! a deadline or an alert due, ...): a restore then costs a read and an index insert per user,
//! not a decode (docs/pipeline.md, "Restoring a partition").

use std::hash::BuildHasher;
use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use portrait_connectors::clickhouse::{StoredDeadlines, StoredStateRef};
use portrait_core::alerts::{Alert, AlertRules, StageTimeline};
use portrait_core::churn_model::BgNbdParams;
use portrait_core::event::Event;
use portrait_core::state::deadlines_fingerprint;
use portrait_core::time::EventTime;
use portrait_core::{Profile, ProfileState, SignalConfig, StateDecodeError, StoredUser};
use thin_vec::ThinVec;

use crate::deadlines::{DeadlineIndex, Slot};
use crate::dirty::DirtyList;
use crate::prefetch::prefetch_all;
use crate::segments::Memberships;

/// How many changed users ahead of its visit a drain asks for a user's slot: the evaluation of
/// the users in between hides the miss.
const READ_AHEAD: usize = 4;

/// One user's state and bookkeeping.
#[derive(Debug)]
struct User {
    id: UserId,
    state: UserState,
    /// Version of the last row written; the next row gets `version + 1`.
    version: u64,
    /// By input topic index: the offset of the last event applied to `state`. Empty while the
    /// state is encoded: the blob holds them.
    applied: AppliedOffsets,
}

/// A user's profile state: decoded, or still the `profile_state` blob a restore read (with
/// the applied offsets and the alert timeline in it), for a user not needed since. Most of a
/// restored partition's users are not needed for a while (their next deadline is up to a day
/// of event time away), so a restore leaves them encoded and [`load`] decodes each on
/// first use. The same size as a `ProfileState` (the blob's pointer goes where the state's
/// niche allows).
#[derive(Debug)]
enum UserState {
    Decoded(ProfileState),
    Encoded(Box<[u8]>),
}

impl UserState {
    /// The decoded state; the user must have been loaded ([`load`]).
    fn as_decoded(&self) -> &ProfileState {
        match self {
            UserState::Decoded(state) => state,
            UserState::Encoded(_) => panic!("a user is loaded before their state is used"),
        }
    }

    /// [`UserState::as_decoded`], to change.
    fn as_decoded_mut(&mut self) -> &mut ProfileState {
        match self {
            UserState::Decoded(state) => state,
            UserState::Encoded(_) => panic!("a user is loaded before their state is used"),
        }
    }
}

impl User {
    fn applied(&self, topic: usize) -> Option<i64> {
        self.applied.get(topic)
    }

    fn set_applied(&mut self, topic: usize, offset: i64) {
        self.applied.set(topic, offset);
    }
}

/// A user id: inline when it is short, as most are (counters, 64-bit numbers in decimal), so
/// that it needs no allocation of its own; boxed otherwise. 24 bytes either way: a `Box<str>`
/// alone is 16, but an 8-byte id behind it takes a 32-byte malloc chunk besides.
enum UserId {
    /// The id is the first `len` bytes of `bytes`.
    Inline {
        len: u8,
        bytes: [u8; INLINE_ID_BYTES],
    },
    Boxed(Box<str>),
}

/// The longest id held inline: what 24 bytes hold beside the length and the enum's tag.
const INLINE_ID_BYTES: usize = 22;

impl UserId {
    /// The id's bytes, for comparing without checking that they are UTF-8 again.
    fn as_bytes(&self) -> &[u8] {
        match self {
            UserId::Inline { len, bytes } => &bytes[..usize::from(*len)],
            UserId::Boxed(id) => id.as_bytes(),
        }
    }
}

impl UserId {
    /// `id` held inline, if it is short enough.
    fn inline(id: &str) -> Option<Self> {
        let len = u8::try_from(id.len())
            .ok()
            .filter(|&len| usize::from(len) <= INLINE_ID_BYTES)?;
        let mut bytes = [0; INLINE_ID_BYTES];
        bytes[..id.len()].copy_from_slice(id.as_bytes());
        Some(UserId::Inline { len, bytes })
    }
}

/// An event's id: copied, and allocated only when too long to be inline.
impl From<&str> for UserId {
    fn from(id: &str) -> Self {
        UserId::inline(id).unwrap_or_else(|| UserId::Boxed(id.into()))
    }
}

/// A restored row's id: moved when too long to be inline, never copied into a new allocation.
impl From<String> for UserId {
    fn from(id: String) -> Self {
        UserId::inline(&id).unwrap_or_else(|| UserId::Boxed(id.into_boxed_str()))
    }
}

impl std::ops::Deref for UserId {
    type Target = str;

    fn deref(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("an id is copied from a str")
    }
}

impl std::fmt::Debug for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// Per input topic index, the offset of the last event applied, if any. The first topic's is
/// inline (most pipelines read one topic, and every user has an offset there); the others are
/// in a `ThinVec` (one pointer, where a boxed slice takes two), allocated for a user's first
/// event of a second topic. [`NOT_APPLIED`] stands for none, so that each takes 8 bytes
/// rather than an `Option`'s 16.
#[derive(Debug, Clone)]
struct AppliedOffsets {
    first: i64,
    rest: ThinVec<i64>,
}

/// An offset below every offset Kafka assigns (they start at 0).
const NOT_APPLIED: i64 = i64::MIN;

impl Default for AppliedOffsets {
    fn default() -> Self {
        AppliedOffsets {
            first: NOT_APPLIED,
            rest: ThinVec::new(),
        }
    }
}

impl AppliedOffsets {
    fn get(&self, topic: usize) -> Option<i64> {
        let offset = match topic {
            0 => self.first,
            _ => self.rest.get(topic - 1).copied().unwrap_or(NOT_APPLIED),
        };
        (offset != NOT_APPLIED).then_some(offset)
    }

    fn set(&mut self, topic: usize, offset: i64) {
        match topic {
            0 => self.first = offset,
            _ => {
                if self.rest.len() < topic {
                    // Exactly: growing by `resize` alone would reserve room for 4 at least.
                    self.rest.reserve_exact(topic - self.rest.len());
                    self.rest.resize(topic, NOT_APPLIED);
                }
                self.rest[topic - 1] = offset;
            }
        }
    }

    /// By topic index, as [`by_topic`] takes them.
    fn to_vec(&self) -> Vec<Option<i64>> {
        (0..=self.rest.len()).map(|topic| self.get(topic)).collect()
    }

    /// Stored offsets, by topic name, at the index of each topic still read.
    fn from_stored(topics: &[String], stored: &[(&str, i64)]) -> Self {
        let mut applied = AppliedOffsets::default();
        for &(topic, offset) in stored {
            if let Some(index) = topic_index(topics, topic.as_bytes()) {
                applied.set(index, offset);
            }
        }
        applied
    }
}

/// A stored user that cannot be read back: restoring without them would silently rebuild
/// their profile from the newer events alone, so the engine stops instead.
#[derive(Debug, thiserror::Error)]
#[error("the stored state of user {user_id:?} cannot be read")]
pub struct RestoreError {
    pub user_id: String,
    #[source]
    pub source: StateDecodeError,
}

/// A user's profile and state as of one flush.
#[derive(Debug)]
pub struct Changed {
    pub profile: Profile,
    pub state: Vec<u8>,
    pub version: u64,
    /// The deadlines the user is filed under, to be stored beside the state.
    pub deadlines: StoredDeadlines,
    /// The segments the user was in as of their previous flush, a bit each.
    pub segments: u64,
}

/// The users of one partition.
#[derive(Debug)]
pub struct Shard {
    /// The input topics' names, by topic index: a stored user names the topics of its applied
    /// offsets.
    topics: Arc<[String]>,
    /// Slots by user id. Hashed with foldhash rather than the standard SipHash: every event
    /// looks its user up, and foldhash is several times faster on short keys. Its seed is
    /// random per process (and per map), so ids crafted to collide still cannot be
    /// precomputed.
    index: HashTable<Slot>,
    /// Hashes the ids for `index`.
    hasher: RandomState,
    users: Vec<User>,
    dirty: DirtyList,
    deadlines: DeadlineIndex,
    /// Latest event time seen on this partition of each input topic, by topic index. The
    /// shard's own watermark follows the slowest topic, so pruning never drops detail that a
    /// lagging topic's events still need, and alerts are decided only once every topic is
    /// past the instant.
    latest_by_topic: Vec<Option<i64>>,
    /// The users' stage timelines, when any alert sink is on.
    alerts: Option<ShardAlerts>,
    /// Who was in which segment at their last flush.
    segments: Memberships,
    /// How many users are still encoded as restored. While none are (a shard never restored,
    /// or once each restored user was needed), nothing looks at a user's state to find out:
    /// in a large shard that is a cache miss per user the sweep visits, where the sweep
    /// otherwise reads only the user's bit in the dirty list.
    encoded: usize,
}

/// A shard being rebuilt from `profile_state` ([`Shard::restoring`]): each user with their
/// version, filed under their next deadline and alert due time, and the partition's progress
/// per topic, the greatest any row recorded.
///
/// A row whose deadlines were computed as this process would compute them (its fingerprint is
/// [`deadlines_fingerprint`] of the configuration) is taken as it is: the user stays encoded
/// until first needed (`load`), and only the progress is read from the blob. Any
/// other row (written before deadlines were stored, or under other settings) is decoded, and
/// its deadlines computed as of the row's `updated_at`.
pub struct Restoring<'c> {
    shard: Shard,
    config: &'c SignalConfig,
    fingerprint: u64,
    /// The latest watermark a restored profile was evaluated at.
    evaluated_at: Option<EventTime>,
}

impl Restoring<'_> {
    /// Takes the user of one row back.
    pub fn add(&mut self, row: StoredStateRef<'_>) -> Result<(), RestoreError> {
        let shard = &mut self.shard;
        let evaluated_at = EventTime::from_millis(i64::from(row.updated_at) * 1000);
        self.evaluated_at = self.evaluated_at.max(Some(evaluated_at));
        let unreadable = |source| RestoreError {
            user_id: row.user_id.to_owned(),
            source,
        };
        let (topics, latest_by_topic) = (&shard.topics, &mut shard.latest_by_topic);
        StoredUser::read_partition_latest(row.state, |topic, latest| {
            if let Some(index) = topic_index(topics, topic) {
                let seen = &mut latest_by_topic[index];
                *seen = (*seen).max(Some(latest));
            }
        })
        .map_err(unreadable)?;
        let mut members = 0;
        let (state, applied, timeline, next, due) = if row.deadlines.fingerprint == self.fingerprint
        {
            let (next, due) = (row.deadlines.next_change_ms, row.deadlines.alert_due_ms);
            let state = UserState::Encoded(row.state.into());
            shard.encoded += 1;
            (state, AppliedOffsets::default(), None, next, due)
        } else {
            let config = self.config;
            let DecodedUser {
                state,
                applied,
                timeline,
                segments,
            } = decode_user(&shard.topics, &shard.segments, row.state).map_err(unreadable)?;
            members = segments;
            let next = state
                .next_change(evaluated_at, config)
                .map(EventTime::millis);
            let due = timeline
                .as_ref()
                .and_then(|timeline| timeline.next_due(&state, config))
                .map(EventTime::millis);
            (UserState::Decoded(state), applied, timeline, next, due)
        };
        let slot = shard.insert(UserId::from(row.user_id), state, row.version, applied);
        shard.deadlines.reschedule(slot, next);
        shard.segments.set(slot, members);
        if let Some(alerts) = &mut shard.alerts {
            alerts.restore(slot, timeline.unwrap_or_default(), due);
        }
        Ok(())
    }

    /// The rebuilt shard, and the latest watermark a restored profile was evaluated at, which
    /// the engine's must not fall behind.
    pub fn finish(self) -> (Shard, Option<EventTime>) {
        (self.shard, self.evaluated_at)
    }
}

/// Every user's [`StageTimeline`], by slot, and when each next has something to decide.
#[derive(Debug, Default)]
struct ShardAlerts {
    timelines: Vec<StageTimeline>,
    /// Users by the decision point at which their timeline next has something to do.
    deadlines: DeadlineIndex,
    /// Events that came after their user's alerts were decided past their time.
    late_events: u64,
}

impl Shard {
    /// An empty shard for events of `topics` (by topic index, as `apply` is given them).
    pub fn new(topics: Arc<[String]>) -> Self {
        Shard {
            topics,
            index: HashTable::new(),
            hasher: RandomState::default(),
            users: Vec::new(),
            dirty: DirtyList::default(),
            deadlines: DeadlineIndex::default(),
            latest_by_topic: Vec::new(),
            alerts: None,
            segments: Memberships::default(),
            encoded: 0,
        }
    }

    /// Also follows every user's stage for alerts.
    pub fn with_alerts(mut self) -> Self {
        self.alerts = Some(ShardAlerts::default());
        self
    }

    /// Also keeps who is in which of the segments `names` (by bit) as of their last flush, and
    /// reads it back from restored users.
    pub(crate) fn with_segments(mut self, names: Arc<[String]>) -> Self {
        self.segments = Memberships::new(names);
        self
    }

    /// Records that `user_id`, flushed just now, is in the segments `members`, for the next
    /// flush to compare with. Does nothing for a user not held.
    pub(crate) fn set_segments(&mut self, user_id: &str, members: u64) {
        if let Some(slot) = self.find(user_id) {
            self.segments.set(slot, members);
        }
    }

    /// Applies the event at `offset` of input topic `topic` to its user's state and marks the
    /// user changed. Returns `false`, changing nothing but the topic's progress, for an event
    /// the user's state already contains: one replayed after a restart, at or before the
    /// user's applied offset for the topic.
    ///
    /// Fails only for a restored user whose stored state cannot be read, found as the event
    /// makes the shard decode it.
    pub fn apply(
        &mut self,
        topic: usize,
        offset: i64,
        event: &Event<'_>,
        config: &SignalConfig,
    ) -> Result<bool, RestoreError> {
        let ts = event.ts.millis();
        if self.latest_by_topic.len() <= topic {
            self.latest_by_topic.resize(topic + 1, None);
        }
        let latest = &mut self.latest_by_topic[topic];
        *latest = Some(latest.map_or(ts, |l| l.max(ts)));

        let slot = match self.find(&event.user_id) {
            Some(slot) => {
                // The user's changed bit, read below: in a large shard a miss, which the
                // state's update hides.
                self.dirty.prefetch(slot);
                let user = &mut self.users[slot as usize];
                load(
                    user,
                    slot,
                    &self.topics,
                    self.alerts.as_mut(),
                    &mut self.segments,
                    &mut self.encoded,
                )?;
                if user.applied(topic).is_some_and(|applied| offset <= applied) {
                    return Ok(false);
                }
                let state = user.state.as_decoded_mut();
                // The timeline first, given the state before the event: an event that must
                // wait for its decision makes the timeline copy what the stage reads of it.
                if let Some(alerts) = &mut self.alerts {
                    alerts.record(slot, Some(state), event);
                }
                state.apply(event, config);
                slot
            }
            None => {
                let slot = self.insert(
                    UserId::from(event.user_id.as_ref()),
                    UserState::Decoded(ProfileState::new(event, config)),
                    0,
                    AppliedOffsets::default(),
                );
                if let Some(alerts) = &mut self.alerts {
                    alerts.record(slot, None, event);
                }
                slot
            }
        };
        self.users[slot as usize].set_applied(topic, offset);
        self.dirty.mark(slot);
        Ok(true)
    }

    /// The slot of `user_id`, if the shard holds them.
    fn find(&self, user_id: &str) -> Option<Slot> {
        let hash = self.hasher.hash_one(user_id);
        self.index
            .find(hash, |&slot| {
                self.users[slot as usize].id.as_bytes() == user_id.as_bytes()
            })
            .copied()
    }

    /// Adds a user in the next slot.
    fn insert(
        &mut self,
        user_id: UserId,
        state: UserState,
        version: u64,
        applied: AppliedOffsets,
    ) -> Slot {
        let slot = Slot::try_from(self.users.len()).expect("fewer than 2^32 users per partition");
        let hash = self.hasher.hash_one(&*user_id);
        self.users.push(User {
            id: user_id,
            state,
            version,
            applied,
        });
        let (users, hasher) = (&self.users, &self.hasher);
        self.index.insert_unique(hash, slot, |&slot| {
            hasher.hash_one(&*users[slot as usize].id)
        });
        slot
    }

    /// Takes back the users of this partition as the last flush stored them, before any of
    /// the partition's events is applied, one row at a time as they are read: see
    /// [`Restoring`]. The shard is sized for `users` users first: growing by doubling would
    /// copy every user and rehash every id a few times. An estimate will do: room to spare
    /// costs address space, not memory, until it is used.
    pub fn restoring(mut self, users: usize, config: &SignalConfig) -> Restoring<'_> {
        debug_assert!(self.users.is_empty(), "restored before any event");
        self.users.reserve_exact(users);
        let (slots, hasher) = (&self.users, &self.hasher);
        self.index
            .reserve(users, |&slot| hasher.hash_one(&*slots[slot as usize].id));
        if let Some(alerts) = &mut self.alerts {
            alerts.timelines.reserve_exact(users);
        }
        self.latest_by_topic = vec![None; self.topics.len()];
        Restoring {
            shard: self,
            config,
            fingerprint: deadlines_fingerprint(config),
            evaluated_at: None,
        }
    }

    /// [`Shard::restoring`] with every row of `stored` at once.
    pub fn restore<'r>(
        self,
        stored: impl ExactSizeIterator<Item = StoredStateRef<'r>>,
        config: &SignalConfig,
    ) -> Result<(Shard, Option<EventTime>), RestoreError> {
        let mut restoring = self.restoring(stored.len(), config);
        for row in stored {
            restoring.add(row)?;
        }
        Ok(restoring.finish())
    }

    /// The latest event time seen on this partition, over all topics.
    pub fn latest_event_ms(&self) -> Option<i64> {
        self.latest_by_topic.iter().flatten().copied().max()
    }

    /// The latest event time every topic seen on this partition has reached: an event
    /// arriving later on any of them is at most its own topic's lateness behind this.
    pub fn slowest_topic_ms(&self) -> Option<i64> {
        self.latest_by_topic.iter().flatten().copied().min()
    }

    /// Decides the alerts of every user whose timeline has something due at or before
    /// `decision` (an event to place, a change time alone makes) or who received events since
    /// the last drain, hands them to `out`, and reschedules those users; with no `decision`
    /// yet, only reschedules. Call it before [`Shard::drain`], which forgets who received
    /// events. A no-op without alerts. Fails only for a restored user due here whose stored
    /// state cannot be read.
    pub fn decide_alerts(
        &mut self,
        decision: Option<EventTime>,
        config: &SignalConfig,
        rules: &AlertRules,
        mut out: impl FnMut(Alert),
    ) -> Result<(), RestoreError> {
        let Some(alerts) = &mut self.alerts else {
            return Ok(());
        };
        let due: Vec<Slot> = decision
            .map(|decision| alerts.deadlines.pop_due(decision.millis()).collect())
            .unwrap_or_default();
        let mut alerted = Vec::new();
        for slot in due {
            load(
                &mut self.users[slot as usize],
                slot,
                &self.topics,
                Some(&mut *alerts),
                &mut self.segments,
                &mut self.encoded,
            )?;
            let mut any = false;
            alerts.decide(
                slot,
                &self.users[slot as usize],
                decision,
                config,
                rules,
                &mut |alert| {
                    any = true;
                    out(alert);
                },
            );
            if any && !self.dirty.contains(slot) {
                alerted.push(slot);
            }
        }
        for &slot in self.dirty.slots() {
            alerts.decide(
                slot,
                &self.users[slot as usize],
                decision,
                config,
                rules,
                &mut out,
            );
        }
        // A user alerted for time alone is stored again, so that the stored timeline counts
        // the alert as sent: otherwise the next start would send it once more.
        for slot in alerted {
            self.dirty.mark(slot);
        }
        Ok(())
    }

    /// Events so far that came after their user's alerts were decided past their time.
    pub fn late_for_alerts(&self) -> u64 {
        self.alerts.as_ref().map_or(0, |alerts| alerts.late_events)
    }

    /// Marks changed (and decodes, if still as restored) every user whose deadline is at or
    /// before `watermark`; returns how many users that visited. Fails only for a restored user
    /// due here whose stored state cannot be read.
    pub fn sweep(&mut self, watermark: EventTime) -> Result<usize, RestoreError> {
        let mut visited = 0;
        let mut due = self.deadlines.pop_due(watermark.millis());
        while let Some(slot) = due.next() {
            visited += 1;
            // Due users are anywhere in the table: in a large shard, each one's bit is a cache
            // miss, asked for ahead of its visit.
            if let Some(ahead) = due.ahead(crate::deadlines::PREFETCH_AHEAD) {
                self.dirty.prefetch(ahead);
            }
            if !self.dirty.contains(slot) {
                load(
                    &mut self.users[slot as usize],
                    slot,
                    &self.topics,
                    self.alerts.as_mut(),
                    &mut self.segments,
                    &mut self.encoded,
                )?;
            }
            self.dirty.mark(slot);
        }
        Ok(visited)
    }

    /// Users changed since the last drain.
    pub fn dirty_len(&self) -> usize {
        self.dirty.len()
    }

    /// Evaluates every changed user at `watermark`, hands the result to `out`, and schedules
    /// each user's next deadline. Detail older than the shard's own watermark (`lateness`
    /// behind its slowest topic) is pruned first. With alerts, call [`Shard::decide_alerts`]
    /// first: the alert due time stored with each user is the one it filed.
    pub fn drain(
        &mut self,
        watermark: EventTime,
        lateness_ms: i64,
        config: &SignalConfig,
        churn_model: &BgNbdParams,
        mut out: impl FnMut(Changed),
    ) {
        let prune_at = self
            .latest_by_topic
            .iter()
            .flatten()
            .copied()
            .min()
            .map(|latest| EventTime::from_millis(latest - lateness_ms));
        let progress = by_topic(&self.topics, &self.latest_by_topic);
        let fingerprint = deadlines_fingerprint(config);
        let dirty = self.dirty.take();
        for (at, &slot) in dirty.iter().enumerate() {
            // Each user is anywhere in the table: ask for the slot of the one a few places
            // ahead (docs/performance.md, the sweep), and for this one's deadline, loaded while
            // the user is evaluated, for the reschedule below.
            if let Some(&ahead) = dirty.get(at + READ_AHEAD) {
                prefetch_all(&self.users[ahead as usize]);
            }
            self.deadlines.prefetch(slot);
            let user = &mut self.users[slot as usize];
            let timeline = self.alerts.as_ref().map(|a| &a.timelines[slot as usize]);
            let profile_state = user.state.as_decoded_mut();
            if let Some(prune_at) = ShardAlerts::prune_limit(timeline, prune_at) {
                profile_state.prune(prune_at.min(watermark), config);
            }
            user.version += 1;
            let next = profile_state
                .next_change(watermark, config)
                .map(EventTime::millis);
            self.deadlines.reschedule(slot, next);
            // Up to date for every changed user, as `decide_alerts` rescheduled each.
            let alert_due_ms = self
                .alerts
                .as_ref()
                .and_then(|a| a.deadlines.deadline(slot));
            let mut state = Vec::new();
            let applied = by_topic(&self.topics, &user.applied.to_vec());
            StoredUser::encode(profile_state, &applied, &progress, timeline, &mut state);
            out(Changed {
                profile: profile_state.evaluate(&user.id, watermark, config, churn_model),
                state,
                version: user.version,
                deadlines: StoredDeadlines {
                    next_change_ms: next,
                    alert_due_ms,
                    fingerprint,
                },
                segments: self.segments.get(slot),
            });
        }
        // Kept, emptied, for its capacity.
        self.dirty.reuse(dirty);
    }

    /// Number of users held.
    pub fn users(&self) -> usize {
        self.users.len()
    }

    /// Drops `user_id` (forgotten: docs/security.md) with everything held for them: state,
    /// pending change, deadlines and alert timeline. Returns whether the shard held them.
    /// The last slot moves into the freed one, so the table stays dense; the shard then goes on
    /// as if the user had never been there. Rare (once per forgotten user held), so the dirty
    /// list is fixed up by a scan.
    pub fn forget(&mut self, user_id: &str) -> bool {
        let users = &self.users;
        let Ok(entry) = self
            .index
            .find_entry(self.hasher.hash_one(user_id), |&slot| {
                *users[slot as usize].id == *user_id
            })
        else {
            return false;
        };
        let (slot, _) = entry.remove();
        self.deadlines.reschedule(slot, None);
        if matches!(self.users[slot as usize].state, UserState::Encoded(_)) {
            self.encoded -= 1;
        }
        let last = Slot::try_from(self.users.len() - 1).expect("slots are u32");
        self.dirty.move_slot(last, slot);
        if slot != last {
            let moved = &self.users[last as usize];
            self.deadlines.move_slot(last, slot);
            *self
                .index
                .find_mut(self.hasher.hash_one(&*moved.id), |&s| s == last)
                .expect("every user is indexed") = slot;
        }
        self.users.swap_remove(slot as usize);
        if let Some(alerts) = &mut self.alerts {
            alerts.forget(slot, last);
        }
        self.segments.forget(slot, last);
        true
    }
}

/// The index of input topic `name` in `topics`; `None` for a topic no longer read, whose stored
/// values say nothing about the topics read now.
fn topic_index(topics: &[String], name: &[u8]) -> Option<usize> {
    topics.iter().position(|topic| topic.as_bytes() == name)
}

/// A stored user's parts as a shard keeps them.
struct DecodedUser {
    state: ProfileState,
    /// By topic index.
    applied: AppliedOffsets,
    /// If one was stored.
    timeline: Option<StageTimeline>,
    /// The configured segments the user was in.
    segments: u64,
}

fn decode_user(
    topics: &[String],
    memberships: &Memberships,
    blob: &[u8],
) -> Result<DecodedUser, StateDecodeError> {
    let stored = StoredUser::decode(blob)?;
    Ok(DecodedUser {
        applied: AppliedOffsets::from_stored(topics, &stored.applied),
        segments: memberships.read(&stored.segments),
        state: stored.state,
        timeline: stored.timeline,
    })
}

/// Decodes the user in `slot` if they are still as restored: their state, applied offsets,
/// alert timeline and segments. On the shard's parts, as callers hold other parts borrowed. Inline,
/// so that where no user is encoded (every event of a shard never restored) it costs a
/// comparison, not a call.
#[inline]
fn load(
    user: &mut User,
    slot: Slot,
    topics: &[String],
    alerts: Option<&mut ShardAlerts>,
    segments: &mut Memberships,
    encoded: &mut usize,
) -> Result<(), RestoreError> {
    if *encoded == 0 {
        return Ok(());
    }
    decode_if_encoded(user, slot, topics, alerts, segments, encoded)
}

/// [`load`]'s work once some user is encoded.
#[inline(never)]
fn decode_if_encoded(
    user: &mut User,
    slot: Slot,
    topics: &[String],
    alerts: Option<&mut ShardAlerts>,
    segments: &mut Memberships,
    encoded: &mut usize,
) -> Result<(), RestoreError> {
    let UserState::Encoded(blob) = &user.state else {
        return Ok(());
    };
    let decoded = decode_user(topics, segments, blob).map_err(|source| RestoreError {
        user_id: user.id.to_string(),
        source,
    })?;
    user.state = UserState::Decoded(decoded.state);
    *encoded -= 1;
    user.applied = decoded.applied;
    if let Some(alerts) = alerts {
        alerts.timelines[slot as usize] = decoded.timeline.unwrap_or_default();
    }
    segments.set(slot, decoded.segments);
    Ok(())
}

/// Values by topic index, paired with the topics' names (the stored form).
fn by_topic<'a>(topics: &'a [String], values: &[Option<i64>]) -> Vec<(&'a str, Option<i64>)> {
    let values = values.iter().copied().chain(std::iter::repeat(None));
    topics.iter().map(String::as_str).zip(values).collect()
}

impl ShardAlerts {
    /// A restored user's `timeline`, due at `due`; an encoded user's is a placeholder until
    /// [`load`] decodes theirs.
    fn restore(&mut self, slot: Slot, timeline: StageTimeline, due: Option<i64>) {
        debug_assert_eq!(
            slot as usize,
            self.timelines.len(),
            "restored in slot order"
        );
        self.deadlines.reschedule(slot, due);
        self.timelines.push(timeline);
    }

    /// [`Shard::forget`]'s part: drops `slot`'s timeline and moves `last`'s into it.
    fn forget(&mut self, slot: Slot, last: Slot) {
        self.deadlines.reschedule(slot, None);
        if slot != last {
            self.deadlines.move_slot(last, slot);
        }
        self.timelines.swap_remove(slot as usize);
    }

    /// Records `event` into `slot`'s timeline; `state` is the user's before the event (`None`
    /// for a new user).
    fn record(&mut self, slot: Slot, state: Option<&ProfileState>, event: &Event<'_>) {
        let slot = slot as usize;
        if slot == self.timelines.len() {
            self.timelines.push(StageTimeline::default());
        }
        if !self.timelines[slot].record(state, event) {
            self.late_events += 1;
        }
    }

    fn decide(
        &mut self,
        slot: Slot,
        user: &User,
        decision: Option<EventTime>,
        config: &SignalConfig,
        rules: &AlertRules,
        out: &mut impl FnMut(Alert),
    ) {
        let timeline = &mut self.timelines[slot as usize];
        let state = user.state.as_decoded();
        if let Some(decision) = decision {
            timeline.advance(state, &user.id, decision, config, rules, &mut *out);
        }
        let next = timeline.next_due(state, config).map(EventTime::millis);
        self.deadlines.reschedule(slot, next);
    }

    /// Where the drain may prune a user's state to, given the shard's pruning point: a
    /// timeline reads the state from its cursor on, so never past the cursor, and not at all
    /// before its first decision. Without alerts, the shard's point.
    fn prune_limit(
        timeline: Option<&StageTimeline>,
        prune_at: Option<EventTime>,
    ) -> Option<EventTime> {
        match timeline {
            Some(timeline) => prune_at
                .zip(timeline.cursor())
                .map(|(at, cursor)| at.min(cursor)),
            None => prune_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use portrait_connectors::clickhouse::StoredState;
    use portrait_core::event::{decode, DecodeLimits};
    use portrait_core::time::MILLIS_PER_DAY;

    use super::*;

    const HOUR: i64 = 3_600_000;
    /// 2026-01-01T00:00:00Z, a day boundary.
    const DAY_0: i64 = 1_767_225_600_000;
    const LATENESS: i64 = 300_000;

    fn topics() -> Arc<[String]> {
        Arc::from(["events".to_owned()])
    }

    fn page_view(shard: &mut Shard, user: &str, ts: i64) {
        let json = format!(
            r#"{{"event_id":"{user}-{ts}","type":"page_view","user_id":"{user}","ts":{ts},"props":{{"page":"/"}}}}"#
        );
        let event = decode(json.as_bytes(), &DecodeLimits::default()).unwrap();
        shard
            .apply(0, ts, &event, &SignalConfig::default())
            .unwrap();
    }

    fn drain(shard: &mut Shard, watermark: i64) -> Vec<Profile> {
        let mut profiles = Vec::new();
        shard.drain(
            EventTime::from_millis(watermark),
            LATENESS,
            &SignalConfig::default(),
            &BgNbdParams::default(),
            |changed| profiles.push(changed.profile),
        );
        profiles.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        profiles
    }

    #[test]
    fn sweep_visits_only_users_whose_deadline_passed() {
        let mut shard = Shard::new(topics());
        // Ten users last seen in the morning of day 0, ten in the evening.
        for i in 0..10 {
            page_view(&mut shard, &format!("morning{i}"), DAY_0 + 10 * HOUR + i);
            page_view(&mut shard, &format!("evening{i}"), DAY_0 + 18 * HOUR + i);
        }
        assert_eq!(drain(&mut shard, DAY_0 + 20 * HOUR).len(), 20);

        // Noon of day 1: the morning users have been inactive for a full day, the evening
        // users not yet; nothing else about them changes at midnight.
        let noon = DAY_0 + MILLIS_PER_DAY + 12 * HOUR;
        assert_eq!(shard.sweep(EventTime::from_millis(noon)).unwrap(), 10);
        let swept = drain(&mut shard, noon);
        assert!(swept.iter().all(|p| p.user_id.starts_with("morning")));
        assert!(swept.iter().all(|p| p.days_inactive == 1));

        // Nothing is due twice.
        assert_eq!(shard.sweep(EventTime::from_millis(noon)).unwrap(), 0);
    }

    #[test]
    fn a_silent_user_reaches_at_risk_dormant_and_churned_through_the_sweep_alone() {
        let mut shard = Shard::new(topics());
        let last_seen = DAY_0 + 9 * HOUR;
        page_view(&mut shard, "quiet", last_seen);
        drain(&mut shard, last_seen);

        for (days, stage) in [(14, "at_risk"), (30, "dormant"), (60, "churned")] {
            let watermark = last_seen + days * MILLIS_PER_DAY;
            assert_eq!(shard.sweep(EventTime::from_millis(watermark)).unwrap(), 1);
            let profile = drain(&mut shard, watermark)
                .pop()
                .expect("the user was due");
            assert_eq!(profile.days_inactive, days as u32);
            assert_eq!(profile.lifecycle_stage.as_str(), stage);
        }
    }

    #[test]
    fn a_silent_users_alerts_come_from_the_alert_deadlines_alone() {
        let (config, rules) = (SignalConfig::default(), AlertRules::default());
        let mut shard = Shard::new(topics()).with_alerts();
        let last_seen = DAY_0 + 9 * HOUR;
        page_view(&mut shard, "quiet", last_seen);
        let mut alerts = Vec::new();
        shard
            .decide_alerts(
                Some(EventTime::from_millis(last_seen)),
                &config,
                &rules,
                |a| alerts.push(a),
            )
            .unwrap();
        drain(&mut shard, last_seen);
        assert!(
            alerts.is_empty(),
            "a first event moves into `new`: no alert"
        );

        // Not a single event more: each later decision finds the user through the index, and
        // a decision that alerted stores the user again, with the alert counted as sent.
        for (days, alerted) in [(13, 0), (20, 1), (45, 1), (90, 1)] {
            let decision = EventTime::from_millis(last_seen + days * MILLIS_PER_DAY);
            shard
                .decide_alerts(Some(decision), &config, &rules, |a| alerts.push(a))
                .unwrap();
            assert_eq!(shard.dirty_len(), alerted, "after {days} days");
            drain(&mut shard, last_seen + days * MILLIS_PER_DAY);
        }
        let seen: Vec<(&str, i64)> = alerts
            .iter()
            .map(|a| {
                (
                    a.kind.as_str(),
                    (a.at.millis() - last_seen) / MILLIS_PER_DAY,
                )
            })
            .collect();
        assert_eq!(seen, [("at_risk", 14), ("dormant", 30), ("churned", 60)]);
    }

    #[test]
    fn a_state_is_never_pruned_past_its_alert_cursor() {
        let (config, rules) = (SignalConfig::default(), AlertRules::default());
        // Two views a day for four weeks, one more two days later: the drop in frequency
        // makes the user at_risk at a midnight a few days on, which only the retained days
        // show.
        let mut views: Vec<i64> = (0..28)
            .flat_map(|day| [10, 11].map(|hour| DAY_0 + day * MILLIS_PER_DAY + hour * HOUR))
            .collect();
        views.push(DAY_0 + 29 * MILLIS_PER_DAY + 10 * HOUR);
        let decided = EventTime::from_millis(DAY_0 + 29 * MILLIS_PER_DAY + 12 * HOUR);
        let far = DAY_0 + 80 * MILLIS_PER_DAY;
        let mut outcomes = Vec::new();
        for other_user_far_ahead in [false, true] {
            let mut shard = Shard::new(topics()).with_alerts();
            for &ts in &views {
                page_view(&mut shard, "u", ts);
            }
            if other_user_far_ahead {
                // The partition moves 50 days past the alert cursor of "u", as it does when
                // `alerts.lateness_ms` is far above `pipeline.lateness_ms`: the drain would
                // prune every day of "u" but for its cursor.
                page_view(&mut shard, "v", far);
            }
            let mut alerts = Vec::new();
            // The second decision finds no event since the first: the timeline drops its
            // copy of the history, and reads the state from then on.
            for _ in 0..2 {
                shard
                    .decide_alerts(Some(decided), &config, &rules, |a| alerts.push(a))
                    .unwrap();
            }
            let watermark = if other_user_far_ahead {
                far
            } else {
                decided.millis()
            };
            drain(&mut shard, watermark);
            let later = EventTime::from_millis(DAY_0 + 100 * MILLIS_PER_DAY);
            shard
                .decide_alerts(Some(later), &config, &rules, |a| alerts.push(a))
                .unwrap();
            alerts.retain(|a| a.user_id == "u");
            outcomes.push(alerts);
        }
        let first = &outcomes[0][0];
        assert_eq!(first.kind.as_str(), "at_risk");
        assert!(first.snapshot.days_inactive < 14, "by frequency: {first:?}");
        assert_eq!(outcomes[0], outcomes[1]);
    }

    #[test]
    fn a_forgotten_user_leaves_the_shard_as_if_they_had_never_been_there() {
        let (config, rules) = (SignalConfig::default(), AlertRules::default());
        let mut with = Shard::new(topics()).with_alerts();
        let mut without = Shard::new(topics()).with_alerts();
        // "gone" takes slot 0 and "last" the last slot, which moves into slot 0.
        page_view(&mut with, "gone", DAY_0 + HOUR);
        for shard in [&mut with, &mut without] {
            page_view(shard, "middle", DAY_0 + 2 * HOUR);
            page_view(shard, "last", DAY_0 + 3 * HOUR);
        }
        drain(&mut with, DAY_0 + 4 * HOUR);
        drain(&mut without, DAY_0 + 4 * HOUR);
        // Forgotten while both "gone" and the user that moves have changes pending.
        page_view(&mut with, "gone", DAY_0 + 5 * HOUR);
        for shard in [&mut with, &mut without] {
            page_view(shard, "last", DAY_0 + 6 * HOUR);
        }
        assert!(with.forget("gone"));
        assert!(!with.forget("gone"), "forgotten once");
        assert_eq!((with.users(), with.dirty_len()), (2, 1));

        // From here on, the two shards must do the same: events, sweeps, profiles, alerts
        // (within one decision, in slot order, which the move changed).
        let mut outcomes = Vec::new();
        for shard in [&mut with, &mut without] {
            page_view(shard, "middle", DAY_0 + 7 * HOUR);
            let mut seen = Vec::new();
            for days in [0, 1, 15, 31, 61] {
                let at = DAY_0 + 8 * HOUR + days * MILLIS_PER_DAY;
                let swept = shard.sweep(EventTime::from_millis(at)).unwrap();
                let mut alerts = Vec::new();
                shard
                    .decide_alerts(Some(EventTime::from_millis(at)), &config, &rules, |a| {
                        alerts.push((a.user_id.clone(), a.kind.as_str(), a.at.millis()));
                    })
                    .unwrap();
                alerts.sort();
                seen.push((swept, alerts, drain(shard, at)));
            }
            outcomes.push(seen);
        }
        let alerts: usize = outcomes[0].iter().map(|(_, alerts, _)| alerts.len()).sum();
        assert_eq!(alerts, 6, "at_risk, dormant and churned of both users");
        assert_eq!(outcomes[0], outcomes[1]);
    }

    /// `shard` with the users of `rows` restored.
    fn restore(
        shard: Shard,
        rows: &[StoredState],
    ) -> Result<(Shard, Option<EventTime>), RestoreError> {
        shard.restore(
            rows.iter().map(StoredState::as_ref),
            &SignalConfig::default(),
        )
    }

    /// The row `profile_state` gets for `changed`, written at watermark `at`.
    fn stored_row(changed: Changed, at: i64) -> StoredState {
        StoredState {
            user_id: changed.profile.user_id.clone(),
            state: changed.state,
            version: changed.version,
            updated_at: u32::try_from(at / 1000).unwrap(),
            next_change_ms: changed.deadlines.next_change_ms,
            alert_due_ms: changed.deadlines.alert_due_ms,
            deadlines_fingerprint: changed.deadlines.fingerprint,
        }
    }

    #[test]
    fn a_restored_shard_skips_what_it_held_and_carries_on_like_an_uninterrupted_one() {
        let (config, rules) = (SignalConfig::default(), AlertRules::default());
        // Five users seen once at first and never again, whom only their deadlines and alert
        // due times bring back, and four seen throughout.
        let events: Vec<(String, i64)> = (0..40)
            .map(|i| match i {
                0..5 => format!("quiet{i}"),
                _ => format!("u{}", i % 4),
            })
            .zip((0..).map(|i| DAY_0 + i * 7 * HOUR))
            .collect();
        let view = |shard: &mut Shard, offset: usize| {
            let (user, ts) = &events[offset];
            let json = format!(
                r#"{{"event_id":"e{offset}","type":"page_view","user_id":"{user}","ts":{ts},"props":{{"page":"/"}}}}"#
            );
            let event = decode(json.as_bytes(), &DecodeLimits::default()).unwrap();
            shard.apply(0, offset as i64, &event, &config).unwrap()
        };
        // A flush's sweep, alerts and drain: what it visits, alerts and writes.
        type Flushed = (usize, Vec<(String, &'static str, i64)>, Vec<Profile>);
        let flush = |shard: &mut Shard, at: i64, stored: &mut Vec<StoredState>| -> Flushed {
            let swept = shard.sweep(EventTime::from_millis(at)).unwrap();
            let mut alerts = Vec::new();
            shard
                .decide_alerts(Some(EventTime::from_millis(at)), &config, &rules, |a| {
                    alerts.push((a.user_id.clone(), a.kind.as_str(), a.at.millis()));
                })
                .unwrap();
            let mut profiles = Vec::new();
            let model = BgNbdParams::default();
            shard.drain(
                EventTime::from_millis(at),
                LATENESS,
                &config,
                &model,
                |changed| {
                    profiles.push(changed.profile.clone());
                    stored.push(stored_row(changed, at));
                },
            );
            profiles.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            (swept, alerts, profiles)
        };
        let split = events[24].1;
        let first_part = || {
            let mut shard = Shard::new(topics()).with_alerts();
            for offset in 0..25 {
                assert!(view(&mut shard, offset));
            }
            let mut stored = Vec::new();
            flush(&mut shard, split, &mut stored);
            (shard, stored)
        };
        let carry_on = |shard: &mut Shard| -> Vec<Flushed> {
            for offset in 25..40 {
                assert!(view(shard, offset));
            }
            [0, 1, 15, 31, 61]
                .map(|days| flush(shard, events[39].1 + days * MILLIS_PER_DAY, &mut Vec::new()))
                .into()
        };
        let (mut whole, stored) = first_part();
        let expected = carry_on(&mut whole);
        let alerted: Vec<&str> = expected
            .iter()
            .flat_map(|(_, alerts, _)| alerts.iter().map(|(user, ..)| user.as_str()))
            .collect();
        assert!(
            alerted.contains(&"quiet0"),
            "the quiet users' alerts: {alerted:?}"
        );

        // Restored with the deadlines stored beside the states (the users left encoded), and
        // from rows written before they were (each user decoded and its deadlines computed).
        for deadlines_stored in [true, false] {
            let rows: Vec<StoredState> = stored
                .iter()
                .map(|row| StoredState {
                    deadlines_fingerprint: row.deadlines_fingerprint * u64::from(deadlines_stored),
                    ..row.clone()
                })
                .collect();
            let (mut resumed, restored_at) =
                restore(Shard::new(topics()).with_alerts(), &rows).unwrap();
            assert_eq!(restored_at, Some(EventTime::from_millis(split)));
            // The restarted process resumes from an older committed offset: 20 to 24 are
            // replays.
            for offset in 20..25 {
                assert!(!view(&mut resumed, offset), "offset {offset} is a replay");
            }
            assert_eq!(carry_on(&mut resumed), expected, "{deadlines_stored}");
        }
    }

    #[test]
    fn a_stored_state_that_cannot_be_read_fails_its_first_use_naming_the_user() {
        let config = SignalConfig::default();
        let mut first = Shard::new(topics());
        page_view(&mut first, "broken", DAY_0 + HOUR);
        let mut stored = Vec::new();
        first.drain(
            EventTime::from_millis(DAY_0 + HOUR),
            LATENESS,
            &config,
            &BgNbdParams::default(),
            |changed| stored.push(stored_row(changed, DAY_0 + HOUR)),
        );
        // The profile state's own version byte, after the stored user's and the state's length.
        stored[0].state[2] = 99;
        let unreadable = |error: RestoreError| {
            assert_eq!(error.user_id, "broken");
            assert!(matches!(
                error.source,
                StateDecodeError::UnsupportedVersion { found: 99, .. }
            ));
        };

        // Left encoded, it is found out by its next event, or by its next deadline.
        let (mut resumed, _) = restore(Shard::new(topics()), &stored).unwrap();
        let json = r#"{"event_id":"e","type":"page_view","user_id":"broken","ts":1767236400000,"props":{"page":"/"}}"#;
        let event = decode(json.as_bytes(), &DecodeLimits::default()).unwrap();
        unreadable(resumed.apply(0, 1, &event, &config).unwrap_err());
        let (mut resumed, _) = restore(Shard::new(topics()), &stored).unwrap();
        let tomorrow = EventTime::from_millis(DAY_0 + MILLIS_PER_DAY + 2 * HOUR);
        unreadable(resumed.sweep(tomorrow).unwrap_err());
        // Without stored deadlines it is decoded, and found out, by the restore.
        stored[0].deadlines_fingerprint = 0;
        unreadable(restore(Shard::new(topics()), &stored).unwrap_err());
    }

    #[test]
    fn a_user_forgotten_while_encoded_leaves_the_others_as_they_were() {
        let config = SignalConfig::default();
        let mut first = Shard::new(topics());
        let mut stored = Vec::new();
        for (user, hour) in [("gone", 1), ("middle", 2), ("last", 3)] {
            page_view(&mut first, user, DAY_0 + hour * HOUR);
        }
        first.drain(
            EventTime::from_millis(DAY_0 + 4 * HOUR),
            LATENESS,
            &config,
            &BgNbdParams::default(),
            |changed| stored.push(stored_row(changed, DAY_0 + 4 * HOUR)),
        );
        let (mut resumed, _) = restore(Shard::new(topics()), &stored).unwrap();
        assert_eq!(resumed.encoded, 3);
        // "gone" is in slot 0, and "last" moves into it.
        assert!(resumed.forget("gone"));
        assert_eq!((resumed.users(), resumed.encoded), (2, 2));

        let tomorrow = DAY_0 + MILLIS_PER_DAY + 4 * HOUR;
        assert_eq!(resumed.sweep(EventTime::from_millis(tomorrow)).unwrap(), 2);
        assert_eq!(resumed.encoded, 0);
        let swept: Vec<(String, u32)> = drain(&mut resumed, tomorrow)
            .into_iter()
            .map(|p| (p.user_id, p.days_inactive))
            .collect();
        assert_eq!(swept, [("last".to_owned(), 1), ("middle".to_owned(), 1)]);
    }

    #[test]
    fn an_encoded_user_takes_no_more_room_than_a_decoded_one() {
        assert_eq!(size_of::<UserState>(), size_of::<ProfileState>());
    }

    #[test]
    fn a_users_slot_takes_192_bytes() {
        // The state, the id, the version and the applied offsets: the changed flag is a bit
        // in the dirty list (docs/performance.md, "State size").
        assert_eq!(size_of::<User>(), 192);
    }

    #[test]
    fn an_id_of_up_to_22_bytes_is_inline_and_a_longer_one_boxed() {
        assert_eq!(size_of::<UserId>(), 24);
        for (id, inline) in [
            ("", true),
            ("u1", true),
            (&*"ü".repeat(11), true),
            (&*"a".repeat(22), true),
            (&*"a".repeat(23), false),
            (&*"€".repeat(8), false),
        ] {
            let user_id = UserId::from(id);
            assert_eq!(matches!(user_id, UserId::Inline { .. }), inline, "{id:?}");
            assert_eq!((&*user_id, user_id.as_bytes()), (id, id.as_bytes()));
        }
    }

    #[test]
    fn users_are_found_by_their_ids_inline_or_boxed() {
        let ids = [
            "u1".to_owned(),
            "ü".repeat(11),
            "a".repeat(22),
            "a".repeat(23),
            "a-longer-id-0123456789-0123456789".to_owned(),
        ];
        let mut shard = Shard::new(topics());
        for round in 0..2 {
            for id in &ids {
                page_view(&mut shard, id, DAY_0 + round * HOUR);
            }
        }
        let profiles = drain(&mut shard, DAY_0 + 2 * HOUR);
        let mut expected: Vec<(&str, u64)> = ids.iter().map(|id| (id.as_str(), 2)).collect();
        expected.sort();
        let found: Vec<(&str, u64)> = profiles
            .iter()
            .map(|p| (p.user_id.as_str(), p.page_views))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn offsets_of_later_topics_take_exactly_their_room() {
        let mut applied = AppliedOffsets::default();
        applied.set(0, 7);
        assert_eq!(applied.rest.capacity(), 0, "one topic allocates nothing");
        applied.set(2, 9);
        assert_eq!(applied.to_vec(), [Some(7), None, Some(9)]);
        applied.set(1, 8);
        assert_eq!(applied.to_vec(), [Some(7), Some(8), Some(9)]);
        assert_eq!(applied.rest.capacity(), 2);
    }
}
