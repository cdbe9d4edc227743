//! The wire form of a valid event: the contract's JSON envelope, one compact line of UTF-8.

use serde::Serialize;

use crate::event::{Event, EventKind};
use crate::time::{TsFormat, WireTs};

#[derive(Serialize)]
struct Envelope<'a> {
    event_id: &'a str,
    #[serde(rename = "type")]
    event_type: &'static str,
    user_id: &'a str,
    ts: WireTs,
    props: &'a EventKind,
}

/// `event_id` of the user's `seq`-th event (0-based, in event-time order): `u000042-17`.
fn event_id(user_id: &str, seq: u32) -> String {
    format!("{user_id}-{seq}")
}

/// The JSON payload of one event. It never contains a newline, so payloads can be written one
/// per line as NDJSON.
pub(crate) fn encode(user_id: &str, seq: u32, event: &Event, format: TsFormat) -> Vec<u8> {
    let envelope = Envelope {
        event_id: &event_id(user_id, seq),
        event_type: event.kind.type_name(),
        user_id,
        ts: WireTs {
            ms: event.ts,
            format,
        },
        props: &event.kind,
    };
    let mut payload = serde_json::to_vec(&envelope).expect("an event always serializes");
    // The writer grows its buffer by doubling; millions of payloads are kept, so give back
    // the slack (this usually shrinks in place).
    payload.shrink_to_fit();
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Direction, Search};
    use crate::time::DEFAULT_START_MS;

    #[test]
    fn envelope_carries_every_required_field_in_contract_form() {
        let event = Event {
            ts: DEFAULT_START_MS + 1_234,
            kind: EventKind::Search(Search {
                query: "手机 优惠",
                category: None,
            }),
        };
        let payload = encode("u000007", 3, &event, TsFormat::China);
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            r#"{"event_id":"u000007-3","type":"search","user_id":"u000007","ts":"2026-01-01T08:00:01.234+08:00","props":{"query":"手机 优惠"}}"#
        );
    }

    #[test]
    fn epoch_millis_form_is_an_integer() {
        let event = Event {
            ts: DEFAULT_START_MS,
            kind: EventKind::Chat(crate::event::Chat {
                direction: Direction::User,
                text: Some("line\nbreak"),
                staff_id: None,
            }),
        };
        let payload = encode("u1", 0, &event, TsFormat::EpochMillis);
        assert!(!payload.contains(&b'\n'));
        let value: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(value["ts"], serde_json::json!(DEFAULT_START_MS));
        assert_eq!(value["props"]["text"], "line\nbreak");
    }
}
