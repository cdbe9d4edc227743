//! The events applied since the archive was last written, waiting for the `events` table.
//!
//! An event borrows from its Kafka batch, which is gone long before the archive is written, so
//! what the archive keeps of it is copied. To keep that cheap on the hot path, every string of
//! every event goes into one growing text buffer and an event holds ranges into it: appending
//! an event copies a few dozen bytes and allocates nothing once the buffers have grown, and
//! [`EventArchive::rows`] lends the rows out of the buffers without copying again.

use std::collections::HashMap;
use std::ops::Range;

use portrait_connectors::clickhouse::{EventRow, Pseudonym, Pseudonymiser};
use portrait_core::event::{Event, EventKind};

/// Events waiting to be archived, with their source coordinates.
#[derive(Debug, Default)]
pub struct EventArchive {
    text: String,
    events: Vec<Archived>,
}

/// One event: its strings as ranges of [`EventArchive::text`].
#[derive(Debug)]
struct Archived {
    event_id: Range<usize>,
    user_id: Range<usize>,
    event_type: &'static str,
    ts_ms: i64,
    category: Range<usize>,
    page: Range<usize>,
    amount_cents: i64,
    topic: usize,
    partition: i32,
    offset: i64,
}

impl EventArchive {
    /// Keeps `event`, read at `offset` of `partition` of input topic number `topic`.
    pub fn push(&mut self, topic: usize, partition: i32, offset: i64, event: &Event<'_>) {
        let (category, page, amount_cents) = match &event.kind {
            EventKind::PageView(view) => (view.category.as_deref(), Some(&*view.page), 0),
            EventKind::Search(search) => (search.category.as_deref(), None, 0),
            EventKind::Order(order) => (None, None, order.amount_cents),
            EventKind::ChatMessage(_) | EventKind::Promotion(_) | EventKind::Account(_) => {
                (None, None, 0)
            }
        };
        let archived = Archived {
            event_id: self.keep(&event.event_id),
            user_id: self.keep(&event.user_id),
            event_type: event.event_type().as_str(),
            ts_ms: event.ts.millis(),
            category: self.keep(category.unwrap_or_default()),
            page: self.keep(page.unwrap_or_default()),
            amount_cents,
            topic,
            partition,
            offset,
        };
        self.events.push(archived);
    }

    fn keep(&mut self, text: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(text);
        start..self.text.len()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The rows of every event kept, `topics` naming the input topics by number, with their
    /// pseudonyms when there is a `pseudonymiser`. Computed here, at write time, not as events
    /// arrive: the hot path stays free of hashing. A user's key is computed once per call
    /// (a user's events cluster in a chunk); an event id's is one HMAC per event.
    ///
    /// Lent one at a time, for the insert to serialize as they come, rather than collected.
    pub fn rows<'a>(
        &'a self,
        topics: &'a [String],
        pseudonymiser: Option<&'a Pseudonymiser>,
    ) -> impl ExactSizeIterator<Item = EventRow<'a>> + 'a {
        let text = |range: &Range<usize>| &self.text[range.clone()];
        let mut user_keys: HashMap<&str, Pseudonym> = HashMap::new();
        self.events.iter().map(move |event| EventRow {
            user_key: match pseudonymiser {
                Some(p) => *user_keys
                    .entry(text(&event.user_id))
                    .or_insert_with_key(|user_id| p.pseudonym(user_id)),
                None => Pseudonym::NONE,
            },
            event_key: Pseudonymiser::pseudonym_of(pseudonymiser, text(&event.event_id)),
            event_id: text(&event.event_id),
            user_id: text(&event.user_id),
            category: text(&event.category),
            page: text(&event.page),
            // Cents are exact in an f64 far beyond the amounts the decoder accepts
            // (docs/security.md), and one division rounds once, as SQL's `/ 100` would.
            amount: event.amount_cents as f64 / 100.0,
            topic: &topics[event.topic],
            partition: u32::try_from(event.partition).expect("Kafka partitions are not negative"),
            offset: u64::try_from(event.offset).expect("Kafka offsets are not negative"),
            ..EventRow::at(event.event_type, event.ts_ms)
        })
    }

    /// Forgets the events of `partition`, which this process no longer holds: their next
    /// owner archives them again as it replays them.
    pub fn forget(&mut self, partition: i32) {
        // Their text stays in the buffer until the next `clear`; it is not worth compacting.
        self.events.retain(|event| event.partition != partition);
        if self.events.is_empty() {
            self.text.clear();
        }
    }

    /// Drops the events of `user_id`, a forgotten user (docs/security.md); returns whether
    /// there were any. Their text stays in the buffer until the next `clear`, as in `forget`.
    pub fn forget_user(&mut self, user_id: &str) -> bool {
        let before = self.events.len();
        let text = &self.text;
        self.events
            .retain(|event| &text[event.user_id.clone()] != user_id);
        self.events.len() < before
    }

    /// Forgets everything, keeping the buffers' capacity for the next events.
    pub fn clear(&mut self) {
        self.text.clear();
        self.events.clear();
    }
}

#[cfg(test)]
mod tests {
    use portrait_core::event::{decode, DecodeLimits};

    use super::*;

    fn event(json: &str) -> Event<'_> {
        decode(json.as_bytes(), &DecodeLimits::default()).expect("a valid event")
    }

    #[test]
    fn rows_keep_the_archived_fields_and_their_source() {
        let topics = ["clicks".to_owned(), "orders".to_owned()];
        let mut archive = EventArchive::default();
        archive.push(
            0,
            3,
            41,
            &event(
                r#"{"event_id":"e1","user_id":"u1","type":"page_view","ts":"2024-05-01T23:59:59Z","props":{"page":"/p/1","category":"shoes"}}"#,
            ),
        );
        archive.push(
            1,
            3,
            7,
            &event(
                r#"{"event_id":"e2","user_id":"u1","type":"order","ts":"2024-05-02T00:00:00Z","props":{"order_id":"o1","amount":129.9}}"#,
            ),
        );
        let rows: Vec<EventRow> = archive.rows(&topics, None).collect();
        assert_eq!(
            rows,
            vec![
                EventRow {
                    event_id: "e1",
                    user_id: "u1",
                    category: "shoes",
                    page: "/p/1",
                    topic: "clicks",
                    partition: 3,
                    offset: 41,
                    ..EventRow::at("page_view", 1_714_607_999_000)
                },
                EventRow {
                    event_id: "e2",
                    user_id: "u1",
                    amount: 129.9,
                    topic: "orders",
                    partition: 3,
                    offset: 7,
                    ..EventRow::at("order", 1_714_608_000_000)
                },
            ]
        );
    }

    #[test]
    fn forgetting_a_partition_keeps_the_others() {
        let topics = ["events".to_owned()];
        let mut archive = EventArchive::default();
        for (partition, id) in [(0, "a"), (1, "b"), (0, "c")] {
            let json = format!(
                r#"{{"event_id":"{id}","user_id":"u","type":"search","ts":"2024-05-01T00:00:00Z","props":{{"query":"q"}}}}"#
            );
            archive.push(0, partition, 0, &event(&json));
        }
        archive.forget(0);
        let ids: Vec<&str> = archive.rows(&topics, None).map(|r| r.event_id).collect();
        assert_eq!(ids, ["b"]);
        archive.forget(1);
        assert!(archive.is_empty());
    }

    #[test]
    fn forgetting_a_user_keeps_the_other_users_events() {
        let topics = ["events".to_owned()];
        let mut archive = EventArchive::default();
        for (user, id) in [("u1", "a"), ("u2", "b"), ("u1", "c"), ("u10", "d")] {
            let json = format!(
                r#"{{"event_id":"{id}","user_id":"{user}","type":"search","ts":"2024-05-01T00:00:00Z","props":{{"query":"q"}}}}"#
            );
            archive.push(0, 0, 0, &event(&json));
        }
        assert!(archive.forget_user("u1"));
        let ids: Vec<&str> = archive.rows(&topics, None).map(|r| r.event_id).collect();
        assert_eq!(ids, ["b", "d"]);
        assert!(!archive.forget_user("u1"), "nothing left of u1");
    }
}
