//! Segments (docs/segments.md): named predicates over the profile columns, evaluated at each
//! flush over the profiles it writes. This module keeps who is in which segment and turns a
//! flush's evaluation into entries and exits (and alerts); the predicates are SQL, evaluated by
//! DataFusion in `portrait-sql` behind [`SegmentPredicates`], so that the engine builds
//! without it.
//!
//! Membership is a bit per segment. Each user's bits as of their last flush are kept in their
//! shard ([`Memberships`]) and stored in their state blob by segment name, so a restart, and a
//! configuration that adds, removes or reorders segments, compare against what was really
//! written.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use foldhash::fast::RandomState;
use portrait_connectors::clickhouse::ProfileRow;
use portrait_core::alerts::{Alert, AlertKind, AlertSnapshot};
use portrait_core::time::EventTime;
use portrait_core::{Profile, StoredUser};

use crate::deadlines::Slot;
use crate::shard::{Changed, Shard};

/// Why segments could not be evaluated.
pub type PredicateError = Box<dyn std::error::Error + Send + Sync>;

/// The most segments a configuration may name: a user's membership is one `u64`.
pub const MAX_SEGMENTS: usize = u64::BITS as usize;

/// Decides who is in which segment.
pub trait SegmentPredicates: Send + Sync {
    /// For each of `profiles`, in order, bit `i` set when the profile satisfies the predicate
    /// of segment `i` of [`SegmentRules::names`].
    fn evaluate(&self, profiles: &[ProfileRow<'_>]) -> Result<Vec<u64>, PredicateError>;
}

/// The segments a run evaluates.
#[derive(Clone)]
pub struct SegmentRules {
    /// By bit; at most [`MAX_SEGMENTS`].
    pub names: Arc<[String]>,
    /// The segments whose entry raises an alert, a bit each.
    pub alerting: u64,
    pub predicates: Arc<dyn SegmentPredicates>,
}

impl fmt::Debug for SegmentRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegmentRules")
            .field("names", &self.names)
            .field("alerting", &format_args!("{:#x}", self.alerting))
            .finish_non_exhaustive()
    }
}

/// One user entering or leaving one segment at a flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    /// The user's place among the flush's changed users.
    pub user: usize,
    /// The segment's bit.
    pub segment: u32,
    pub entered: bool,
}

impl SegmentRules {
    /// Evaluates the profiles of a flush at `updated_at_ms` (the rows it writes, before any
    /// pseudonymisation), appends each member's segments to their state blob, and records each
    /// changed membership in the user's shard. Returns who entered and who left, and pushes an
    /// alert for each user who entered alerting segments.
    pub(crate) fn flush(
        &self,
        changed: &mut [(i32, Changed)],
        updated_at_ms: i64,
        shards: &mut BTreeMap<i32, Shard>,
        alerts: &mut Vec<Alert>,
    ) -> Result<Vec<Transition>, PredicateError> {
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<ProfileRow<'_>> = changed
            .iter()
            .map(|(_, user)| ProfileRow::new(&user.profile, updated_at_ms, user.version))
            .collect();
        let members = self.predicates.evaluate(&rows)?;
        drop(rows);
        if members.len() != changed.len() {
            return Err(format!(
                "the segments' predicates answered for {} profiles, not {}",
                members.len(),
                changed.len()
            )
            .into());
        }
        let mut transitions = Vec::new();
        for (index, ((partition, user), now)) in changed.iter_mut().zip(members).enumerate() {
            StoredUser::append_segments(self.named(now), &mut user.state);
            let was = user.segments;
            if now == was {
                continue;
            }
            shards
                .get_mut(partition)
                .expect("a changed user's shard is held until the flush is written")
                .set_segments(&user.profile.user_id, now);
            for segment in bits(now ^ was) {
                transitions.push(Transition {
                    user: index,
                    segment,
                    entered: now & 1 << segment != 0,
                });
            }
            let alerting = now & !was & self.alerting;
            if alerting != 0 {
                let entered = self.named(alerting).map(str::to_owned).collect();
                let at = EventTime::from_millis(updated_at_ms);
                alerts.push(entered_alert(&user.profile, at, entered));
            }
        }
        Ok(transitions)
    }

    /// The segment of `bit`.
    pub(crate) fn name(&self, bit: u32) -> &str {
        &self.names[bit as usize]
    }

    /// The names of the segments of `members`, in bit order.
    fn named(&self, members: u64) -> impl ExactSizeIterator<Item = &str> {
        let names: Vec<&str> = bits(members).map(|bit| self.name(bit)).collect();
        names.into_iter()
    }
}

/// The alert of a user who entered `segments` at the flush at `at`. The stage does not change,
/// so it is both the stage before and after.
fn entered_alert(profile: &Profile, at: EventTime, segments: Vec<String>) -> Alert {
    let reason = match segments.as_slice() {
        [one] => format!("entered segment {one}"),
        many => format!("entered segments {}", many.join(", ")),
    };
    Alert {
        user_id: profile.user_id.clone(),
        kind: AlertKind::SegmentEntered,
        at,
        stage_before: Some(profile.lifecycle_stage),
        stage_after: profile.lifecycle_stage,
        reason,
        snapshot: AlertSnapshot {
            days_inactive: profile.days_inactive,
            events_7d: profile.events_7d,
            events_prev_28d: profile.events_prev_28d,
            frequency_drop: profile.frequency_drop,
            churn_risk: profile.churn_risk,
            hard_churned: profile.hard_churned,
            messages_sent: profile.messages_sent,
            last_active_at: profile.last_active_at,
        },
        segments,
    }
}

/// The positions of the bits set in `mask`, lowest first.
fn bits(mut mask: u64) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        let bit = mask.trailing_zeros();
        (mask != 0).then(|| {
            mask &= mask - 1;
            bit
        })
    })
}

/// Who is in which segment as of their last flush, by slot, for the users in some segment
/// only: most users are in none, and a shard without segments keeps nothing.
#[derive(Debug, Default)]
pub(crate) struct Memberships {
    /// The configured segments, by bit: how stored names are read back.
    names: Arc<[String]>,
    by_slot: HashMap<Slot, u64, RandomState>,
}

impl Memberships {
    pub fn new(names: Arc<[String]>) -> Self {
        Memberships {
            names,
            by_slot: HashMap::default(),
        }
    }

    pub fn get(&self, slot: Slot) -> u64 {
        self.by_slot.get(&slot).copied().unwrap_or(0)
    }

    pub fn set(&mut self, slot: Slot, members: u64) {
        if members == 0 {
            self.by_slot.remove(&slot);
        } else {
            self.by_slot.insert(slot, members);
        }
    }

    /// The membership of the segment names stored in a blob. A name no longer configured is
    /// dropped: that segment is gone, and the user's next flush stores them without it.
    pub fn read(&self, stored: &[&str]) -> u64 {
        stored
            .iter()
            .filter_map(|name| self.names.iter().position(|known| known == name))
            .fold(0, |members, bit| members | 1 << bit)
    }

    /// [`crate::shard::Shard::forget`]'s part: drops `slot`'s membership and moves `last`'s
    /// into it.
    pub fn forget(&mut self, slot: Slot, last: Slot) {
        self.by_slot.remove(&slot);
        if let Some(members) = self.by_slot.remove(&last) {
            if slot != last {
                self.by_slot.insert(slot, members);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use portrait_connectors::clickhouse::StoredState;
    use portrait_core::event::{decode, DecodeLimits};
    use portrait_core::SignalConfig;

    use super::*;

    /// 2026-01-01T00:00:00Z.
    const DAY_0: i64 = 1_767_225_600_000;

    fn names(names: &[&str]) -> Arc<[String]> {
        names.iter().map(|&name| name.to_owned()).collect()
    }

    /// The segments named `views_N`, in the order given.
    fn by_views(segment_names: &[&str]) -> SegmentRules {
        SegmentRules {
            names: names(segment_names),
            alerting: 0b1,
            predicates: Arc::new(Thresholds(
                segment_names
                    .iter()
                    .map(|name| name["views_".len()..].parse().unwrap())
                    .collect(),
            )),
        }
    }

    /// Segment `views_N` holds the users with at least N page views: N by bit.
    struct Thresholds(Vec<u64>);

    impl SegmentPredicates for Thresholds {
        fn evaluate(&self, profiles: &[ProfileRow<'_>]) -> Result<Vec<u64>, PredicateError> {
            Ok(profiles
                .iter()
                .map(|profile| {
                    let bits = self.0.iter().enumerate();
                    bits.filter(|(_, &at_least)| profile.page_views >= at_least)
                        .fold(0, |members, (bit, _)| members | 1 << bit)
                })
                .collect())
        }
    }

    /// A flush of the one shard at `at`: the changes as (user, segment, entered), the alerts'
    /// users and reasons, and the rows `profile_state` gets.
    #[allow(clippy::type_complexity)]
    fn flush(
        segments: &SegmentRules,
        shards: &mut BTreeMap<i32, Shard>,
        at: i64,
    ) -> (
        Vec<(String, String, bool)>,
        Vec<(String, String)>,
        Vec<StoredState>,
    ) {
        let config = SignalConfig::default();
        let mut changed = Vec::new();
        let watermark = EventTime::from_millis(at);
        shards
            .get_mut(&0)
            .unwrap()
            .drain(watermark, 0, &config, &Default::default(), |user| {
                changed.push((0, user));
            });
        let mut alerts = Vec::new();
        let transitions = segments
            .flush(&mut changed, at, shards, &mut alerts)
            .unwrap();
        let mut named: Vec<(String, String, bool)> = transitions
            .iter()
            .map(|t| {
                let user = changed[t.user].1.profile.user_id.clone();
                (user, segments.name(t.segment).to_owned(), t.entered)
            })
            .collect();
        named.sort();
        let alerted = alerts.into_iter().map(|a| (a.user_id, a.reason)).collect();
        let stored = changed
            .into_iter()
            .map(|(_, user)| StoredState {
                user_id: user.profile.user_id,
                state: user.state,
                version: user.version,
                updated_at: u32::try_from(at / 1000).unwrap(),
                next_change_ms: user.deadlines.next_change_ms,
                alert_due_ms: user.deadlines.alert_due_ms,
                deadlines_fingerprint: user.deadlines.fingerprint,
            })
            .collect();
        (named, alerted, stored)
    }

    fn view(shards: &mut BTreeMap<i32, Shard>, user: &str, ts: i64) {
        let json = format!(
            r#"{{"event_id":"{user}-{ts}","type":"page_view","user_id":"{user}","ts":{ts},"props":{{"page":"/"}}}}"#
        );
        let event = decode(json.as_bytes(), &DecodeLimits::default()).unwrap();
        let shard = shards.get_mut(&0).unwrap();
        assert!(shard
            .apply(0, ts, &event, &SignalConfig::default())
            .unwrap());
    }

    fn change(user: &str, segment: &str, entered: bool) -> (String, String, bool) {
        (user.to_owned(), segment.to_owned(), entered)
    }

    #[test]
    fn users_enter_once_and_a_restart_remembers_them_by_segment_name() {
        let topics: Arc<[String]> = Arc::from(["events".to_owned()]);
        let segments = by_views(&["views_1", "views_3"]);
        let shard = Shard::new(topics.clone()).with_segments(segments.names.clone());
        let mut shards = BTreeMap::from([(0, shard)]);
        view(&mut shards, "ann", DAY_0);
        view(&mut shards, "bob", DAY_0 + 1);
        let (changes, alerts, mut stored) = flush(&segments, &mut shards, DAY_0 + 10);
        assert_eq!(
            changes,
            [
                change("ann", "views_1", true),
                change("bob", "views_1", true)
            ]
        );
        assert_eq!(alerts.len(), 2, "views_1 alerts: {alerts:?}");
        assert_eq!(alerts[0].1, "entered segment views_1");

        view(&mut shards, "ann", DAY_0 + 20);
        view(&mut shards, "ann", DAY_0 + 21);
        let (changes, alerts, rows) = flush(&segments, &mut shards, DAY_0 + 30);
        assert_eq!(changes, [change("ann", "views_3", true)], "and no re-entry");
        assert!(alerts.is_empty(), "views_3 does not alert: {alerts:?}");
        stored.retain(|row| row.user_id != "ann");
        stored.extend(rows);

        // Restarted with the segments reordered and one added: the stored names, not bit
        // positions, say who was in which.
        let segments = by_views(&["views_2", "views_3", "views_1"]);
        let shard = Shard::new(topics)
            .with_segments(segments.names.clone())
            .restore(
                stored.iter().map(StoredState::as_ref),
                &SignalConfig::default(),
            )
            .unwrap()
            .0;
        let mut shards = BTreeMap::from([(0, shard)]);
        view(&mut shards, "ann", DAY_0 + 40);
        view(&mut shards, "bob", DAY_0 + 41);
        let (changes, ..) = flush(&segments, &mut shards, DAY_0 + 50);
        assert_eq!(
            changes,
            [
                change("ann", "views_2", true),
                change("bob", "views_2", true)
            ]
        );
    }

    #[test]
    fn bits_are_listed_lowest_first() {
        assert_eq!(bits(0).count(), 0);
        assert_eq!(bits(0b1010_0001).collect::<Vec<_>>(), [0, 5, 7]);
        assert_eq!(bits(1 << 63).collect::<Vec<_>>(), [63]);
    }

    #[test]
    fn stored_names_are_read_by_name_and_unknown_ones_dropped() {
        let mut memberships = Memberships::new(names(&["promo_only", "vip_at_risk"]));
        assert_eq!(memberships.read(&["vip_at_risk", "retired_segment"]), 0b10);
        assert_eq!(memberships.read(&["retired_segment"]), 0);
        memberships.set(3, 0b10);
        memberships.set(4, 0);
        assert_eq!(
            memberships.by_slot.len(),
            1,
            "users in no segment take no room"
        );
    }

    #[test]
    fn a_forgotten_slot_takes_the_last_ones_membership() {
        let mut memberships = Memberships::new(names(&["a", "b"]));
        memberships.set(0, 0b01);
        memberships.set(2, 0b10);
        memberships.forget(0, 2);
        assert_eq!((memberships.get(0), memberships.get(2)), (0b10, 0));
        memberships.forget(0, 0);
        assert_eq!(memberships.get(0), 0);
    }
}
