//! How each event reaches the broker: after what delay, and with which form of `ts`.
//!
//! Messages are ordered by arrival time (event time + delay), so the stream is out of order by
//! event time the way real client traffic is: most events within seconds, some within
//! minutes, and a few late by up to two days (a phone that was offline). The delay never
//! exceeds [`MAX_ARRIVAL_DELAY_MS`]: the pipeline may rely on that bound.

use rand::Rng;

use crate::time::TsFormat;

/// The largest delay between an event's time and its arrival: 48 hours.
pub const MAX_ARRIVAL_DELAY_MS: i64 = 48 * 3_600_000;

/// Most delays are at most 5 seconds.
const PROMPT_MS: i64 = 5_000;
/// Delays beyond this are late: more than the pipeline's default 5 minute lateness.
const LATE_MS: i64 = 300_000;

/// When and how one event arrives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Delivery {
    pub delay_ms: i64,
    pub format: TsFormat,
}

impl Delivery {
    /// 90% within 5 s, 8% within 5 min, 2% late (5 min to 48 h); `ts` half as epoch
    /// milliseconds, half as RFC 3339 (two thirds of those in UTC, one third at +08:00).
    pub fn draw(rng: &mut impl Rng) -> Delivery {
        let delay_ms = match rng.gen_range(0..100) {
            0..=89 => rng.gen_range(0..=PROMPT_MS),
            90..=97 => rng.gen_range(PROMPT_MS + 1..=LATE_MS),
            _ => rng.gen_range(LATE_MS + 1..=MAX_ARRIVAL_DELAY_MS),
        };
        let format = match rng.gen_range(0..6) {
            0..=2 => TsFormat::EpochMillis,
            3..=4 => TsFormat::Utc,
            _ => TsFormat::China,
        };
        Delivery { delay_ms, format }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn delays_are_bounded_and_mostly_prompt() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let delays: Vec<i64> = (0..100_000)
            .map(|_| Delivery::draw(&mut rng).delay_ms)
            .collect();
        assert!(delays
            .iter()
            .all(|d| (0..=MAX_ARRIVAL_DELAY_MS).contains(d)));
        let share = |f: fn(i64) -> bool| delays.iter().filter(|&&d| f(d)).count() as f64 / 1e5;
        assert!((share(|d| d <= PROMPT_MS) - 0.90).abs() < 0.01);
        assert!((share(|d| d > LATE_MS) - 0.02).abs() < 0.005);
    }
}
