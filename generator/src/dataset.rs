//! One generated data set: every user's typed events (for the truth) and the messages a
//! producer sends (for the pipeline), in arrival order.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::arrival::Delivery;
use crate::behaviour::Persona;
use crate::config::GeneratorConfig;
use crate::encode::encode;
use crate::event::Event;
use crate::expected_alerts::ExpectedAlert;
use crate::malformed::MalformedKind;
use crate::reference;
use crate::simulate::simulate;
use crate::time::{Calendar, TsFormat};
use crate::truth::Truth;

/// The random stream of the malformed messages. User `i` draws from stream `i`, a `u32`, so
/// this one can never collide with a user's.
const MALFORMED_STREAM: u64 = 1 << 32;

/// One Kafka message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The message key: the `user_id` (for malformed messages too, so they land on the
    /// user's partition).
    pub key: String,
    /// The JSON payload, one line (no newline byte), so it can be written as NDJSON.
    pub payload: Vec<u8>,
    /// The event type (`page_view`, ...) of a valid event, for routing to per-type topics;
    /// `None` for malformed messages.
    pub event_type: Option<&'static str>,
    /// How the message is invalid; `None` for valid events.
    pub malformed: Option<MalformedKind>,
}

/// A generated data set. See [`generate`].
pub struct Dataset {
    users: Vec<UserLog>,
    messages: Vec<Message>,
    max_event_ms: i64,
}

/// One user's id and valid events, sorted by event time; event `i` has event id `{id}-{i}`.
struct UserLog {
    id: String,
    events: Vec<Event>,
}

/// A message before encoding: just enough to sort by arrival and to find its event.
struct Pending {
    arrival_ms: i64,
    user: u32,
    seq: u32,
    body: Body,
}

enum Body {
    Valid(TsFormat),
    /// The `ordinal`-th malformed message, placed at the arrival of event (`user`, `seq`).
    Malformed {
        ordinal: u32,
        kind: MalformedKind,
    },
}

impl Pending {
    /// Arrival time, ties broken by user, event, and valid before malformed: a total order,
    /// so the message order never depends on the sort algorithm.
    fn order_key(&self) -> (i64, u32, u32, u32) {
        let copy = match self.body {
            Body::Valid(_) => 0,
            Body::Malformed { ordinal, .. } => ordinal + 1,
        };
        (self.arrival_ms, self.user, self.seq, copy)
    }
}

/// Generates the data set of `config`: the same configuration gives byte-identical messages
/// on every run and platform.
///
/// # Panics
///
/// If `config` is invalid; see [`GeneratorConfig::validate`].
pub fn generate(config: &GeneratorConfig) -> Dataset {
    if let Err(error) = config.validate() {
        panic!("invalid generator configuration: {error}");
    }
    let calendar = Calendar {
        start_ms: config.start_ms,
        days: config.days,
    };
    let width = id_width(config.users);
    let mut users = Vec::with_capacity(config.users as usize);
    let mut pending = Vec::new();
    for index in 0..config.users {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(u64::from(index));
        let id = format!("u{index:0width$}");
        let persona = Persona::draw(&mut rng, config.days);
        let events = simulate(&persona, calendar, &id, &mut rng);
        for (seq, event) in events.iter().enumerate() {
            let delivery = Delivery::draw(&mut rng);
            pending.push(Pending {
                arrival_ms: event.ts + delivery.delay_ms,
                user: index,
                seq: seq as u32,
                body: Body::Valid(delivery.format),
            });
        }
        users.push(UserLog { id, events });
    }
    let max_event_ms = users
        .iter()
        .filter_map(|u| u.events.last())
        .map(|e| e.ts)
        .max()
        .expect("every user has at least one event");
    add_malformed(&mut pending, config);
    pending.sort_unstable_by_key(Pending::order_key);
    let messages = pending.iter().map(|p| message(p, &users)).collect();
    Dataset {
        users,
        messages,
        max_event_ms,
    }
}

/// Digits in user ids: at least 6, and enough for the largest index, so that sorting ids sorts
/// users by index.
fn id_width(users: u32) -> usize {
    users.saturating_sub(1).to_string().len().max(6)
}

/// Appends `malformed_rate` × (valid messages) malformed ones, cycling through every kind,
/// each keyed and timed like a randomly chosen valid message.
fn add_malformed(pending: &mut Vec<Pending>, config: &GeneratorConfig) {
    let valid = pending.len();
    let count = (valid as f64 * config.malformed_rate).round() as u64;
    if valid == 0 || count == 0 {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_stream(MALFORMED_STREAM);
    for ordinal in 0..count {
        // Sampled as u64, not usize, so 32- and 64-bit platforms draw the same.
        let anchor = &pending[rng.gen_range(0..valid as u64) as usize];
        let kind = MalformedKind::ALL[(ordinal % MalformedKind::ALL.len() as u64) as usize];
        let malformed = Pending {
            arrival_ms: anchor.arrival_ms,
            user: anchor.user,
            seq: anchor.seq,
            body: Body::Malformed {
                ordinal: ordinal as u32,
                kind,
            },
        };
        pending.push(malformed);
    }
}

fn message(pending: &Pending, users: &[UserLog]) -> Message {
    let user = &users[pending.user as usize];
    let event = &user.events[pending.seq as usize];
    match pending.body {
        Body::Valid(format) => Message {
            key: user.id.clone(),
            payload: encode(&user.id, pending.seq, event, format),
            event_type: Some(event.kind.type_name()),
            malformed: None,
        },
        Body::Malformed { ordinal, kind } => {
            let id = format!("{}-x{ordinal}", user.id);
            Message {
                key: user.id.clone(),
                payload: kind.payload(&user.id, &id, event.ts),
                event_type: None,
                malformed: Some(kind),
            }
        }
    }
}

impl Dataset {
    /// Every message, valid and malformed, in arrival order: out of order by event time, by
    /// at most [`MAX_ARRIVAL_DELAY_MS`](crate::MAX_ARRIVAL_DELAY_MS).
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The largest event time of any valid event, epoch milliseconds.
    pub fn max_event_ms(&self) -> i64 {
        self.max_event_ms
    }

    /// The expected profiles at `W = max_event_ms − lateness_ms`, from the reference model
    /// over the valid events (malformed messages never count).
    pub fn truth(&self, lateness_ms: i64) -> Truth {
        let watermark_ms = self.max_event_ms - lateness_ms;
        let profiles = self
            .users
            .iter()
            .filter(|u| !u.events.is_empty())
            .map(|u| reference::profile(&u.id, &u.events, watermark_ms))
            .collect();
        Truth {
            watermark_ms,
            profiles,
        }
    }

    /// The alerts the pipeline must send by the end of a replay: every alert at or before the
    /// truth's watermark `max_event_ms − lateness_ms`, from the reference model over the valid
    /// events, sorted by (user_id, at_ms, kind).
    pub fn expected_alerts(&self, lateness_ms: i64) -> Vec<ExpectedAlert> {
        let bound = self.max_event_ms - lateness_ms;
        let mut alerts: Vec<ExpectedAlert> = self
            .users
            .iter()
            .flat_map(|u| reference::expected_alerts(&u.id, &u.events, bound))
            .collect();
        alerts.sort();
        alerts
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashSet};

    use serde_json::Value;

    use super::*;
    use crate::arrival::MAX_ARRIVAL_DELAY_MS;
    use crate::expected_alerts::ALERT_KINDS;

    fn small(malformed_rate: f64) -> GeneratorConfig {
        GeneratorConfig {
            users: 60,
            days: 40,
            malformed_rate,
            ..GeneratorConfig::default()
        }
    }

    /// The event time of a valid payload, read back from either form.
    fn ts_of(value: &Value) -> i64 {
        value["ts"].as_i64().unwrap_or_else(|| {
            let text = value["ts"].as_str().unwrap();
            // Parse only what the generator writes: YYYY-MM-DDTHH:MM:SS.mmm(Z|+08:00).
            let days_since_2026 = |month: i64, day: i64| {
                let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
                cumulative[month as usize - 1] + day - 1
            };
            let n = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
            assert_eq!(n(0..4), 2026);
            let local = crate::time::DEFAULT_START_MS
                + days_since_2026(n(5..7), n(8..10)) * crate::time::DAY_MS
                + n(11..13) * 3_600_000
                + n(14..16) * 60_000
                + n(17..19) * 1000
                + n(20..23);
            match &text[23..] {
                "Z" => local,
                "+08:00" => local - 8 * 3_600_000,
                other => panic!("unexpected zone {other}"),
            }
        })
    }

    #[test]
    fn every_valid_payload_matches_its_event_and_arrives_within_the_bound() {
        let dataset = generate(&small(0.0));
        let mut ids = HashSet::new();
        let mut forms = BTreeMap::new();
        let mut reordered = 0;
        let mut latest_ts = i64::MIN;
        for message in dataset.messages() {
            let value: Value = serde_json::from_slice(&message.payload).unwrap();
            let (user, seq) = value["event_id"]
                .as_str()
                .unwrap()
                .rsplit_once('-')
                .unwrap();
            assert_eq!(user, message.key);
            assert_eq!(value["user_id"], message.key.as_str());
            assert_eq!(value["type"].as_str(), message.event_type);
            assert!(ids.insert(value["event_id"].as_str().unwrap().to_owned()));
            let index: usize = message.key[1..].parse().unwrap();
            let event = &dataset.users[index].events[seq.parse::<usize>().unwrap()];
            assert_eq!(ts_of(&value), event.ts);
            let form = value["ts"].as_str().map_or("millis", |t| &t[23..]);
            *forms.entry(form.to_owned()).or_insert(0) += 1;
            if event.ts < latest_ts {
                reordered += 1;
                assert!(latest_ts - event.ts <= MAX_ARRIVAL_DELAY_MS);
            }
            latest_ts = latest_ts.max(event.ts);
        }
        let total = dataset.messages().len();
        assert_eq!(
            ids.len(),
            dataset.users.iter().map(|u| u.events.len()).sum::<usize>()
        );
        assert!(
            reordered > total / 100,
            "{reordered} of {total} out of order"
        );
        assert_eq!(forms.keys().collect::<Vec<_>>(), ["+08:00", "Z", "millis"]);
        assert!(forms["millis"] > total * 2 / 5 && forms["millis"] < total * 3 / 5);
    }

    #[test]
    fn malformed_messages_cycle_through_every_kind_on_real_keys() {
        let clean = generate(&small(0.0));
        let dirty = generate(&small(0.02));
        let valid = clean.messages().len();
        let bad: Vec<&Message> = dirty
            .messages()
            .iter()
            .filter(|m| m.malformed.is_some())
            .collect();
        assert_eq!(bad.len(), (valid as f64 * 0.02).round() as usize);
        let kinds: BTreeSet<&str> = bad.iter().map(|m| m.malformed.unwrap().as_str()).collect();
        assert_eq!(kinds.len(), MalformedKind::ALL.len());
        let keys: HashSet<&str> = clean.messages().iter().map(|m| m.key.as_str()).collect();
        assert!(bad
            .iter()
            .all(|m| keys.contains(m.key.as_str()) && m.event_type.is_none()));
        // The valid messages and the truth are untouched.
        let dirty_valid: Vec<&Message> = dirty
            .messages()
            .iter()
            .filter(|m| m.malformed.is_none())
            .collect();
        assert!(dirty_valid.iter().copied().eq(clean.messages().iter()));
        assert_eq!(dirty.truth(300_000), clean.truth(300_000));
    }

    #[test]
    fn truth_has_one_profile_per_user_sorted_at_the_watermark() {
        let dataset = generate(&small(0.0));
        let truth = dataset.truth(300_000);
        assert_eq!(truth.watermark_ms, dataset.max_event_ms() - 300_000);
        assert_eq!(truth.profiles.len(), 60);
        assert!(truth
            .profiles
            .windows(2)
            .all(|w| w[0].user_id < w[1].user_id));
        assert_eq!(truth.profiles[0].user_id, "u000000");
    }

    #[test]
    fn expected_alerts_reach_every_kind_within_the_bound_and_are_deterministic() {
        let config = GeneratorConfig {
            users: 200,
            days: 90,
            ..GeneratorConfig::default()
        };
        let dataset = generate(&config);
        let alerts = dataset.expected_alerts(300_000);
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for alert in &alerts {
            *kinds.entry(alert.kind.as_str()).or_insert(0) += 1;
        }
        println!("{} alerts: {kinds:?}", alerts.len());
        assert_eq!(kinds.keys().copied().collect::<Vec<_>>(), ALERT_KINDS);
        assert!(alerts.windows(2).all(|w| w[0] < w[1]));
        let bound = dataset.max_event_ms() - 300_000;
        assert!(alerts.iter().all(|a| a.at_ms <= bound));
        assert_eq!(generate(&config).expected_alerts(300_000), alerts);
    }

    #[test]
    fn expected_alerts_match_a_literal_replay_of_the_profile() {
        let config = GeneratorConfig {
            users: 40,
            days: 90,
            ..GeneratorConfig::default()
        };
        let dataset = generate(&config);
        let bound = dataset.max_event_ms() - 300_000;
        let mut kinds = BTreeSet::new();
        for user in &dataset.users {
            let fast = reference::expected_alerts(&user.id, &user.events, bound);
            let literal = reference::literal_alerts(&user.id, &user.events, bound);
            assert_eq!(fast, literal, "{}", user.id);
            kinds.extend(fast.into_iter().map(|a| a.kind));
        }
        assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ALERT_KINDS);
    }

    #[test]
    fn ids_widen_past_a_million_users() {
        assert_eq!(id_width(1), 6);
        assert_eq!(id_width(1_000_000), 6); // u999999
        assert_eq!(id_width(1_000_001), 7); // u1000000
    }
}
