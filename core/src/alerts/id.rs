//! `alert_id`: a stable hash of what identifies an alert.

use sha2::{Digest, Sha256};

use super::AlertKind;
use crate::time::EventTime;

/// Bumped if the hashed fields ever change, so old and new ids cannot collide.
const DOMAIN: &[u8] = b"portrait.alert.v1";

/// Hex of the first 16 bytes of SHA-256 over the domain, user, kind and transition time in
/// epoch milliseconds, each followed by a NUL, then the segments entered, if any, likewise.
/// The user id is the only part that may hold a NUL (segment names are `[a-z0-9_]`, the kind
/// and the digits have none), so the input splits one way only: ids of stage alerts, which
/// name no segment, are unchanged since segments came.
pub(super) fn alert_id(
    user_id: &str,
    kind: AlertKind,
    at: EventTime,
    segments: &[String],
) -> String {
    let mut hash = Sha256::new();
    let at = at.millis().to_string();
    let fixed = [
        DOMAIN,
        user_id.as_bytes(),
        kind.as_str().as_bytes(),
        at.as_bytes(),
    ];
    for part in fixed
        .into_iter()
        .chain(segments.iter().map(String::as_bytes))
    {
        hash.update(part);
        hash.update([0]);
    }
    hash.finalize()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_stable_and_tells_alerts_apart() {
        let at = EventTime::from_millis(1_767_225_600_000);
        let stage = |user, kind, at| alert_id(user, kind, at, &[]);
        let id = stage("u000042", AlertKind::Dormant, at);
        assert_eq!(id.len(), 32);
        // Pinned (computed independently with Python's hashlib): a change here breaks every
        // consumer's deduplication across versions.
        assert_eq!(id, "d424017bf689b2a99ff9844d5d956d45");
        assert_ne!(id, stage("u000042", AlertKind::Churned, at));
        assert_ne!(id, stage("u000043", AlertKind::Dormant, at));
        let later = EventTime::from_millis(at.millis() + 1);
        assert_ne!(id, stage("u000042", AlertKind::Dormant, later));
    }

    #[test]
    fn segment_alerts_of_one_instant_differ_by_their_segments() {
        let at = EventTime::from_millis(1_767_225_600_000);
        let entered = |segments: &[&str]| {
            let segments: Vec<String> = segments.iter().map(|&s| s.to_owned()).collect();
            alert_id("u000042", AlertKind::SegmentEntered, at, &segments)
        };
        assert_ne!(entered(&["vip_at_risk"]), entered(&["promo_only"]));
        assert_ne!(
            entered(&["vip_at_risk"]),
            entered(&["vip_at_risk", "promo_only"])
        );
        assert_ne!(entered(&["vip_at_risk"]), entered(&[]));
    }
}
