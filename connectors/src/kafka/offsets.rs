//! Offsets as Portrait uses them: what to commit ([`NextOffsets`]) and where the input ended
//! when a bounded run started ([`EndOffsets`]). Plain data with no I/O; the why is in
//! `docs/offsets.md`.

use std::collections::BTreeMap;

use rdkafka::{Offset, TopicPartitionList};

use super::config::OffsetReset;

/// For each partition, the offset of the next message to process: the offset of the last
/// processed message plus one. That is what Kafka stores as a committed offset, and where a
/// consumer of the group resumes.
///
/// Built by the caller from the messages whose effects every sink has acknowledged, and
/// handed to [`Source::commit`](super::Source::commit); the consumer's own position is never
/// committed, because it runs ahead of what was processed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextOffsets {
    /// Topic, then partition: nested so that looking up a topic needs no allocation.
    by_topic: BTreeMap<String, BTreeMap<i32, i64>>,
}

impl NextOffsets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the message at `offset` and every message before it in the partition are
    /// done. Never moves a partition backwards, so records may be marked in any order.
    pub fn processed(&mut self, topic: &str, partition: i32, offset: i64) {
        let partitions = match self.by_topic.get_mut(topic) {
            Some(partitions) => partitions,
            None => self.by_topic.entry(topic.to_owned()).or_default(),
        };
        let next = partitions.entry(partition).or_insert(offset + 1);
        *next = (*next).max(offset + 1);
    }

    /// The next offset to process in one partition, if any message of it was processed.
    pub fn get(&self, topic: &str, partition: i32) -> Option<i64> {
        self.by_topic.get(topic)?.get(&partition).copied()
    }

    /// Every `(topic, partition, next offset)`, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i32, i64)> {
        self.by_topic.iter().flat_map(|(topic, partitions)| {
            partitions
                .iter()
                .map(move |(&partition, &next)| (topic.as_str(), partition, next))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.by_topic.is_empty()
    }

    /// Takes, per partition, the later of the two next offsets.
    pub fn merge(&mut self, other: &NextOffsets) {
        for (topic, partition, next) in other.iter() {
            self.processed(topic, partition, next - 1);
        }
    }

    /// Forgets one partition: it was revoked, and its progress is no longer ours to commit.
    pub fn forget(&mut self, topic: &str, partition: i32) {
        if let Some(partitions) = self.by_topic.get_mut(topic) {
            partitions.remove(&partition);
            if partitions.is_empty() {
                self.by_topic.remove(topic);
            }
        }
    }

    /// The list librdkafka commits.
    pub(crate) fn to_list(&self) -> TopicPartitionList {
        let mut list = TopicPartitionList::new();
        for (topic, partition, next) in self.iter() {
            list.add_partition_offset(topic, partition, Offset::Offset(next))
                .expect("a non-negative offset is a valid list entry");
        }
        list
    }
}

/// Where one partition stood when a bounded run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionEnd {
    /// Where the group resumes: its committed offset, or where `auto.offset.reset` sends it
    /// when there is none or it is out of range.
    pub start: i64,
    /// The offset after the last message (the high watermark): the offset the next produced
    /// message will get. A bounded run is done with the partition once it has processed
    /// everything before it.
    pub end: i64,
}

impl PartitionEnd {
    /// Computes where a consumer of the group starts, as librdkafka decides it: the committed
    /// offset if it lies within `[low, high]`, otherwise the reset policy's choice.
    pub fn new(committed: Option<i64>, low: i64, high: i64, reset: OffsetReset) -> Self {
        let start = match committed {
            Some(offset) if (low..=high).contains(&offset) => offset,
            // `error` stops the consumer instead; counting from the oldest message keeps the
            // run from claiming it is done.
            _ => match reset {
                OffsetReset::Earliest | OffsetReset::Error => low,
                OffsetReset::Latest => high,
            },
        };
        Self { start, end: high }
    }
}

/// The end of the input as seen when a bounded run (`run --until-end`) started: for every
/// partition of the input topics, where the group resumes and the high watermark.
///
/// Covers all partitions, not only those assigned to this process: with several processes in
/// the group, a process knows the others' progress from the group's committed offsets
/// ([`Source::group_committed`](super::Source::group_committed)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndOffsets {
    partitions: BTreeMap<(String, i32), PartitionEnd>,
}

impl EndOffsets {
    pub(crate) fn insert(&mut self, topic: &str, partition: i32, end: PartitionEnd) {
        self.partitions.insert((topic.to_owned(), partition), end);
    }

    /// Messages still to process before every partition reaches its end, given what was
    /// processed since the start. Zero means the bounded run is complete.
    pub fn remaining(&self, processed: &NextOffsets) -> u64 {
        self.partitions
            .iter()
            .map(|((topic, partition), range)| {
                let next = processed
                    .get(topic, *partition)
                    .map_or(range.start, |next| next.max(range.start));
                u64::try_from(range.end - next).unwrap_or(0)
            })
            .sum()
    }

    /// Every partition with its start and end, sorted by topic and partition.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i32, PartitionEnd)> {
        self.partitions
            .iter()
            .map(|((topic, partition), end)| (topic.as_str(), *partition, *end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_offset_is_last_processed_plus_one_and_never_goes_back() {
        let mut next = NextOffsets::new();
        next.processed("events", 0, 41);
        next.processed("events", 0, 7);
        next.processed("events", 1, 0);
        assert_eq!(next.get("events", 0), Some(42));
        assert_eq!(next.get("events", 1), Some(1));
        assert_eq!(next.get("events", 2), None);
        assert_eq!(next.get("chats", 0), None);
        assert_eq!(
            next.iter().collect::<Vec<_>>(),
            [("events", 0, 42), ("events", 1, 1)]
        );
    }

    #[test]
    fn commit_list_holds_exactly_the_next_offsets() {
        let mut next = NextOffsets::new();
        next.processed("pages", 3, 9);
        next.processed("chats", 3, 0);
        let list = next.to_list();
        let mut entries: Vec<_> = list
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition(), e.offset()))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            entries,
            [
                ("chats".to_owned(), 3, Offset::Offset(1)),
                ("pages".to_owned(), 3, Offset::Offset(10))
            ]
        );
    }

    #[test]
    fn merge_keeps_the_later_offset_of_each_partition() {
        let mut mine = NextOffsets::new();
        mine.processed("events", 0, 41);
        mine.processed("events", 1, 9);
        let mut group = NextOffsets::new();
        group.processed("events", 1, 19);
        group.processed("events", 2, 4);
        group.processed("events", 0, 3);
        mine.merge(&group);
        assert_eq!(
            mine.iter().collect::<Vec<_>>(),
            [("events", 0, 42), ("events", 1, 20), ("events", 2, 5)]
        );
    }

    #[test]
    fn start_is_the_committed_offset_when_in_range_else_the_reset_policy() {
        let start = |committed, reset| PartitionEnd::new(committed, 10, 50, reset).start;
        assert_eq!(start(Some(30), OffsetReset::Latest), 30);
        assert_eq!(start(Some(50), OffsetReset::Earliest), 50);
        assert_eq!(start(None, OffsetReset::Earliest), 10);
        assert_eq!(start(None, OffsetReset::Latest), 50);
        // Below the log start (retention deleted it) or beyond the end (topic re-created).
        assert_eq!(start(Some(3), OffsetReset::Earliest), 10);
        assert_eq!(start(Some(80), OffsetReset::Earliest), 10);
        assert_eq!(start(Some(80), OffsetReset::Latest), 50);
    }

    #[test]
    fn remaining_counts_from_the_start_or_what_was_processed() {
        let mut ends = EndOffsets::default();
        ends.insert("events", 0, PartitionEnd { start: 0, end: 10 });
        ends.insert("events", 1, PartitionEnd { start: 5, end: 5 });
        ends.insert("events", 2, PartitionEnd { start: 2, end: 4 });
        let mut processed = NextOffsets::new();
        assert_eq!(ends.remaining(&processed), 10 + 2);
        processed.processed("events", 0, 6);
        assert_eq!(ends.remaining(&processed), 3 + 2);
        processed.processed("events", 0, 9);
        processed.processed("events", 2, 3);
        // Messages produced after the start do not count.
        processed.processed("events", 1, 7);
        assert_eq!(ends.remaining(&processed), 0);
    }
}
