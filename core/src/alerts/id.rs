//! `alert_id`: a stable hash of what identifies an alert.

use sha2::{Digest, Sha256};

use super::AlertKind;
use crate::time::EventTime;

/// Bumped if the hashed fields ever change, so old and new ids cannot collide.
const DOMAIN: &[u8] = b"portrait.alert.v1";

/// Hex of the first 16 bytes of SHA-256 over the domain, user, kind and transition time in
/// epoch milliseconds, each followed by a NUL. Read from the end, the input splits one way
/// only (neither the kind nor the digits contain a NUL), whatever bytes the user id holds.
pub(super) fn alert_id(user_id: &str, kind: AlertKind, at: EventTime) -> String {
    let mut hash = Sha256::new();
    for part in [
        DOMAIN,
        user_id.as_bytes(),
        kind.as_str().as_bytes(),
        at.millis().to_string().as_bytes(),
    ] {
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
        let id = alert_id("u000042", AlertKind::Dormant, at);
        assert_eq!(id.len(), 32);
        // Pinned (computed independently with Python's hashlib): a change here breaks every
        // consumer's deduplication across versions.
        assert_eq!(id, "d424017bf689b2a99ff9844d5d956d45");
        assert_ne!(id, alert_id("u000042", AlertKind::Churned, at));
        assert_ne!(id, alert_id("u000043", AlertKind::Dormant, at));
        assert_ne!(
            id,
            alert_id(
                "u000042",
                AlertKind::Dormant,
                EventTime::from_millis(at.millis() + 1)
            )
        );
    }
}
