//! Pseudonymisation (docs/security.md, "Pseudonymisation"): the id analysts see is
//! `hex(HMAC-SHA256(key, user_id))`, computed here because ClickHouse 18.16 has no HMAC in
//! SQL, and written beside the real id in the `user_key` column of `user_profiles`, `events`
//! and `profile_alerts`. The analytics database's materialized views copy it in place of the
//! real id (`schemas/clickhouse/analytics/pseudonymised.sql`).
//!
//! Without a key the column stays `''`, and the analytics views copy no such row: nothing
//! holding a real id can reach the analysts' database.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Serialize, Serializer};
use sha2::Sha256;

/// Computes user keys. Keyed once: every [`Self::pseudonym`] starts from a clone of the HMAC
/// state that has already absorbed the key, so one costs two SHA-256 blocks for an id of up to
/// 55 bytes, with no allocation.
#[derive(Clone)]
pub struct Pseudonymiser {
    keyed: Hmac<Sha256>,
}

/// Hand-written: the HMAC state is derived from the secret key.
impl fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymiser(<redacted>)")
    }
}

impl Pseudonymiser {
    /// A pseudonymiser for `key` (`PORTRAIT_CLICKHOUSE_PSEUDONYMISATION_KEY`); HMAC takes a key
    /// of any length.
    pub fn new(key: &str) -> Self {
        Self {
            keyed: Hmac::<Sha256>::new_from_slice(key.as_bytes())
                .expect("HMAC accepts keys of any length"),
        }
    }

    /// The pseudonym of `id` (a user id, or an event id, which producers often build from
    /// the user id): lower-case hex of its HMAC-SHA256.
    pub fn pseudonym(&self, id: &str) -> Pseudonym {
        let mut mac = self.keyed.clone();
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(digest) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0xf)];
        }
        Pseudonym(Some(hex))
    }

    /// [`Self::pseudonym`] through an optional pseudonymiser: [`Pseudonym::NONE`] without one.
    pub fn pseudonym_of(pseudonymiser: Option<&Self>, id: &str) -> Pseudonym {
        pseudonymiser.map_or(Pseudonym::NONE, |p| p.pseudonym(id))
    }
}

/// A `user_key` or `event_key` column's value: 64 hex digits, or empty without pseudonymisation. A fixed
/// array, so a row carries it without allocating; written as a ClickHouse `String`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pseudonym(Option<[u8; 64]>);

impl Pseudonym {
    /// No pseudonymisation: the column's default, `''`.
    pub const NONE: Self = Self(None);

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Some(hex) => std::str::from_utf8(hex).expect("hex digits are ASCII"),
            None => "",
        }
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Pseudonym {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn user_key_is_the_hex_of_hmac_sha256() {
        let key = Pseudonymiser::new("Jefe").pseudonym("what do ya want for nothing?");
        assert_eq!(
            key.as_str(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn without_a_pseudonymiser_the_key_is_empty() {
        assert_eq!(Pseudonymiser::pseudonym_of(None, "u1").as_str(), "");
        let p = Pseudonymiser::new("k");
        assert_eq!(
            Pseudonymiser::pseudonym_of(Some(&p), "u1"),
            p.pseudonym("u1")
        );
        assert_ne!(p.pseudonym("u1"), p.pseudonym("u2"));
    }

    #[test]
    fn debug_shows_no_key() {
        assert_eq!(
            format!("{:?}", Pseudonymiser::new("hunter2")),
            "Pseudonymiser(<redacted>)"
        );
    }
}
