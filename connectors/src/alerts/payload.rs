//! The JSON an alert travels as, outside ClickHouse: the webhook's request body and the value
//! of the Kafka alert topic's messages are the same bytes, so one consumer's parser reads both.
//!
//! ```json
//! {
//!   "text": "Portrait: u000042 is now dormant (was at_risk): no activity for 30 days (last active 2025-12-02)",
//!   "alert_id": "d424017bf689b2a99ff9844d5d956d45",
//!   "user_id": "u000042",
//!   "kind": "dormant",
//!   "at": "2026-01-01T00:00:00.000Z",
//!   "at_ms": 1767225600000,
//!   "stage_before": "at_risk",
//!   "stage_after": "dormant",
//!   "reason": "no activity for 30 days (last active 2025-12-02)",
//!   "snapshot": {
//!     "days_inactive": 30, "events_7d": 0, "events_prev_28d": 0, "frequency_drop": 1.0,
//!     "churn_risk": 0.8, "hard_churned": false, "messages_sent": 3,
//!     "last_active_at": 1764633600
//!   }
//! }
//! ```
//!
//! A `segment_entered` alert (docs/segments.md) has one more field, `segments`, the segments
//! entered, and its text says which:
//!
//! ```json
//! { "text": "Portrait: u000042 entered segment vip_at_risk", "kind": "segment_entered",
//!   "segments": ["vip_at_risk"], "reason": "entered segment vip_at_risk", ... }
//! ```
//!
//! - `text` is for people: a chat webhook (Slack's incoming webhooks, Mattermost, Rocket.Chat)
//!   shows it as the message and needs no adapter. `&`, `<` and `>` are escaped as Slack asks
//!   (`&amp;`, `&lt;`, `&gt;`): the user id comes from the input, and unescaped, a user called
//!   `<!channel>` would notify a whole channel.
//! - Everything else is for programs. `alert_id` deduplicates (a replay or a retried delivery
//!   repeats it); `at` is the transition time in RFC 3339 UTC and `at_ms` the same instant in
//!   epoch milliseconds; `stage_before` is `null` when the transition is the user's first event;
//!   `snapshot.last_active_at` is epoch seconds, like the profile's column, or `null`.
//!
//! [`AlertPayload`] both writes and reads this shape, so a test (or a Rust consumer) parses a
//! body back with [`AlertPayload::from_json`] instead of picking at a `serde_json::Value`.

use portrait_core::alerts::{Alert, AlertKind, AlertSnapshot};
use serde::{Deserialize, Serialize};

/// One alert as JSON. Owned strings rather than borrows: alerts are few (a handful per flush),
/// and one type serves both directions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertPayload {
    /// Plain text for a chat channel, Slack-escaped; see the module documentation.
    pub text: String,
    /// [`Alert::id`]: 32 lowercase hex digits, the same on every delivery of this alert.
    pub alert_id: String,
    pub user_id: String,
    /// The [`AlertKind`] wire name: `at_risk`, `dormant`, `churned`, `reactivated`, `activated`,
    /// `segment_entered`.
    pub kind: String,
    /// The transition time, RFC 3339 in UTC with milliseconds.
    pub at: String,
    /// The transition time in epoch milliseconds.
    pub at_ms: i64,
    /// The lifecycle stage just before `at`; `None` (`null`) at the user's first event.
    pub stage_before: Option<String>,
    pub stage_after: String,
    pub reason: String,
    pub snapshot: SnapshotPayload,
    /// For `segment_entered`, the segments entered; absent for every other kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
}

/// [`AlertSnapshot`] as JSON: the signals behind the alert, as of its transition time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotPayload {
    pub days_inactive: u32,
    pub events_7d: u32,
    pub events_prev_28d: u32,
    pub frequency_drop: f64,
    pub churn_risk: f64,
    pub hard_churned: bool,
    pub messages_sent: u64,
    /// Epoch seconds, or `None` (`null`) for a user never active.
    pub last_active_at: Option<i64>,
}

impl From<&AlertSnapshot> for SnapshotPayload {
    fn from(s: &AlertSnapshot) -> Self {
        Self {
            days_inactive: s.days_inactive,
            events_7d: s.events_7d,
            events_prev_28d: s.events_prev_28d,
            frequency_drop: s.frequency_drop,
            churn_risk: s.churn_risk,
            hard_churned: s.hard_churned,
            messages_sent: s.messages_sent,
            last_active_at: s.last_active_at,
        }
    }
}

impl AlertPayload {
    pub fn new(alert: &Alert) -> Self {
        Self {
            text: escape_for_chat(&text(alert)),
            alert_id: alert.id(),
            user_id: alert.user_id.clone(),
            kind: alert.kind.as_str().to_owned(),
            at: alert.at.to_string(),
            at_ms: alert.at.millis(),
            stage_before: alert.stage_before.map(|stage| stage.as_str().to_owned()),
            stage_after: alert.stage_after.as_str().to_owned(),
            reason: alert.reason.clone(),
            snapshot: SnapshotPayload::from(&alert.snapshot),
            segments: alert.segments.clone(),
        }
    }

    /// The JSON bytes of `alert`: exactly what the webhook POSTs and the Kafka topic carries.
    pub fn encode(alert: &Alert) -> Vec<u8> {
        Self::new(alert).to_json()
    }

    pub fn to_json(&self) -> Vec<u8> {
        // Strings, integers, booleans and options of them: nothing here can fail to serialize
        // (a non-finite float would be written as `null`, not refused).
        serde_json::to_vec(self).expect("an alert payload always serializes")
    }

    /// Reads a payload back, as a consumer of the webhook or the topic would.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// E.g. `Portrait: u000042 is now dormant (was at_risk): no activity for 30 days (last active
/// 2026-03-02)`, or `Portrait: u000042 is activated: sent 3 messages to staff`. Not escaped.
fn text(alert: &Alert) -> String {
    let user = &alert.user_id;
    let reason = &alert.reason;
    match (alert.kind, alert.stage_before) {
        (AlertKind::Activated, _) => format!("Portrait: {user} is activated: {reason}"),
        (AlertKind::SegmentEntered, _) => format!("Portrait: {user} {reason}"),
        (kind, Some(before)) => format!("Portrait: {user} is now {kind} (was {before}): {reason}"),
        (kind, None) => format!("Portrait: {user} is now {kind}: {reason}"),
    }
}

/// Slack's message formatting reads `&`, `<` and `>` as control characters (links, mentions);
/// these three escapes make them literal, and other chat servers show them as the characters.
fn escape_for_chat(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
pub(crate) mod tests {
    use portrait_core::signals::LifecycleStage;
    use portrait_core::time::EventTime;
    use serde_json::json;

    use super::*;

    /// 2026-01-01T00:00:00Z: core pins this alert's id (computed independently with Python).
    pub(crate) const NEW_YEAR_MS: i64 = 1_767_225_600_000;

    /// The dormant alert whose id core's own tests pin.
    pub(crate) fn dormant() -> Alert {
        Alert {
            user_id: "u000042".to_owned(),
            kind: AlertKind::Dormant,
            at: EventTime::from_millis(NEW_YEAR_MS),
            stage_before: Some(LifecycleStage::AtRisk),
            stage_after: LifecycleStage::Dormant,
            reason: "no activity for 30 days (last active 2025-12-02)".to_owned(),
            snapshot: AlertSnapshot {
                days_inactive: 30,
                events_7d: 0,
                events_prev_28d: 0,
                frequency_drop: 1.0,
                churn_risk: 0.8,
                hard_churned: false,
                messages_sent: 3,
                last_active_at: Some(1_764_633_600),
            },
            segments: Vec::new(),
        }
    }

    #[test]
    fn a_stage_alert_is_written_with_every_field() {
        let bytes = AlertPayload::encode(&dormant());
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            value,
            json!({
                "text": "Portrait: u000042 is now dormant (was at_risk): no activity for 30 days \
                         (last active 2025-12-02)",
                "alert_id": "d424017bf689b2a99ff9844d5d956d45",
                "user_id": "u000042",
                "kind": "dormant",
                "at": "2026-01-01T00:00:00.000Z",
                "at_ms": 1_767_225_600_000_i64,
                "stage_before": "at_risk",
                "stage_after": "dormant",
                "reason": "no activity for 30 days (last active 2025-12-02)",
                "snapshot": {
                    "days_inactive": 30,
                    "events_7d": 0,
                    "events_prev_28d": 0,
                    "frequency_drop": 1.0,
                    "churn_risk": 0.8,
                    "hard_churned": false,
                    "messages_sent": 3,
                    "last_active_at": 1_764_633_600,
                },
            })
        );
    }

    #[test]
    fn activation_at_the_first_event_has_null_stage_before_and_last_active() {
        let alert = Alert {
            kind: AlertKind::Activated,
            stage_before: None,
            stage_after: LifecycleStage::New,
            reason: "sent 3 messages to staff".to_owned(),
            snapshot: AlertSnapshot {
                last_active_at: None,
                ..dormant().snapshot
            },
            ..dormant()
        };
        let payload = AlertPayload::new(&alert);
        assert_eq!(
            payload.text,
            "Portrait: u000042 is activated: sent 3 messages to staff"
        );
        let value: serde_json::Value = serde_json::from_slice(&payload.to_json()).unwrap();
        assert_eq!(value["stage_before"], json!(null));
        assert_eq!(value["snapshot"]["last_active_at"], json!(null));
        assert_eq!(value["kind"], json!("activated"));
    }

    #[test]
    fn a_segment_alert_names_its_segments() {
        let alert = Alert {
            kind: AlertKind::SegmentEntered,
            stage_before: Some(LifecycleStage::AtRisk),
            stage_after: LifecycleStage::AtRisk,
            reason: "entered segment vip_at_risk".to_owned(),
            segments: vec!["vip_at_risk".to_owned()],
            ..dormant()
        };
        let payload = AlertPayload::new(&alert);
        assert_eq!(
            payload.text,
            "Portrait: u000042 entered segment vip_at_risk"
        );
        let value: serde_json::Value = serde_json::from_slice(&payload.to_json()).unwrap();
        assert_eq!(value["kind"], json!("segment_entered"));
        assert_eq!(value["segments"], json!(["vip_at_risk"]));
        assert_eq!(
            AlertPayload::from_json(&payload.to_json()).unwrap(),
            payload
        );
    }

    #[test]
    fn a_stage_alert_without_a_previous_stage_says_so_briefly() {
        let alert = Alert {
            stage_before: None,
            ..dormant()
        };
        assert_eq!(
            AlertPayload::new(&alert).text,
            "Portrait: u000042 is now dormant: no activity for 30 days (last active 2025-12-02)"
        );
    }

    #[test]
    fn chat_control_characters_in_the_user_id_are_escaped_in_text_only() {
        let alert = Alert {
            user_id: "<!channel> & co".to_owned(),
            ..dormant()
        };
        let payload = AlertPayload::new(&alert);
        assert!(
            payload
                .text
                .starts_with("Portrait: &lt;!channel&gt; &amp; co is now dormant"),
            "{}",
            payload.text
        );
        assert_eq!(payload.user_id, "<!channel> & co");
    }

    #[test]
    fn payloads_read_back_to_what_was_written() {
        let payload = AlertPayload::new(&dormant());
        assert_eq!(
            AlertPayload::from_json(&payload.to_json()).unwrap(),
            payload
        );
    }
}
