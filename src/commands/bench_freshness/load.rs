//! The input side of the freshness benchmark: generated events re-timed to the wall clock,
//! produced at a steady rate, with a probe every so often whose hand-over time is recorded.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use portrait_connectors::kafka::{ProduceError, Producer};
use portrait_generator::Message;
use tokio::task::JoinSet;

/// Prefix of every probe's `user_id`; a probe `n` is user `probe-{n:06}`, so the ids sort in
/// the order they were produced (up to a million probes, 27 hours at 10 a second).
pub const PROBE_PREFIX: &str = "probe-";

/// A probe's user id.
pub fn probe_id(n: u32) -> String {
    format!("{PROBE_PREFIX}{n:06}")
}

/// The probe number of a probe's user id; `None` for any other id.
pub fn probe_number(user_id: &str) -> Option<u32> {
    user_id.strip_prefix(PROBE_PREFIX)?.parse().ok()
}

/// One generated event with its `ts` cut out, so that producing it live costs a copy and a
/// number, not a JSON round trip: the payload is `{"ts":<now>,` followed by `rest`.
struct Template {
    key: String,
    /// The serialized envelope without `ts`, from just after its opening `{`.
    rest: Vec<u8>,
}

impl Template {
    fn new(message: &Message) -> anyhow::Result<Self> {
        let mut envelope: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&message.payload)
                .with_context(|| format!("re-reading a generated event of {}", message.key))?;
        envelope.remove("ts");
        let mut rest = serde_json::to_vec(&envelope).expect("a JSON map always serializes");
        rest.remove(0); // the `{`, written with `ts`
        Ok(Self {
            key: message.key.clone(),
            rest,
        })
    }

    /// The event as happening at `ts_ms`.
    fn at(&self, ts_ms: i64) -> (String, Vec<u8>) {
        let mut payload = Vec::with_capacity(self.rest.len() + 24);
        write!(payload, "{{\"ts\":{ts_ms},").expect("writing to a Vec cannot fail");
        payload.extend_from_slice(&self.rest);
        (self.key.clone(), payload)
    }
}

/// Generated events, handed out in arrival order and again from the start once used up, each
/// re-timed to the moment it is produced (a user's later laps are more of the same person).
pub struct Events {
    templates: Vec<Template>,
    next: usize,
}

impl Events {
    /// Every valid message of a generated data set.
    pub fn new(messages: &[Message]) -> anyhow::Result<Self> {
        let templates = messages
            .iter()
            .filter(|m| m.malformed.is_none())
            .map(Template::new)
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(
            !templates.is_empty(),
            "the generated data set has no events"
        );
        Ok(Self { templates, next: 0 })
    }

    pub fn count(&self) -> usize {
        self.templates.len()
    }

    /// The next `n` events, timed `ts_ms`.
    fn take(&mut self, n: u64, ts_ms: i64) -> Vec<(String, Vec<u8>)> {
        (0..n)
            .map(|_| {
                let event = self.templates[self.next].at(ts_ms);
                self.next = (self.next + 1) % self.templates.len();
                event
            })
            .collect()
    }
}

/// A page view of probe `n`'s brand-new user at `ts_ms`: its profile row does not exist until
/// the pipeline writes this event's flush, so the row's first appearance times the event.
fn probe(n: u32, ts_ms: i64) -> (String, Vec<u8>) {
    let user_id = probe_id(n);
    let payload = serde_json::json!({
        "event_id": format!("{user_id}-0"),
        "type": "page_view",
        "user_id": user_id,
        "ts": ts_ms,
        "props": { "page": "/freshness-probe" },
    });
    let payload = serde_json::to_vec(&payload).expect("a JSON value always serializes");
    (user_id, payload)
}

/// When probe `n` was handed to the producer, and when the broker acknowledged it.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    pub produced: Instant,
    pub acked: Option<Instant>,
}

/// Produces to one topic at a steady rate. Every [`Load::tick`] queues the events due since the
/// start (`rate` × elapsed time) that are not queued yet, so the average rate holds however
/// late a tick comes; each tick's events go out as one send whose delivery reports are
/// awaited on a task of their own, so a slow acknowledgement never holds the next tick up.
pub struct Load {
    producer: Arc<Producer>,
    topic: Arc<str>,
    events: Events,
    rate: f64,
    started: Instant,
    /// Events queued so far (probes not counted).
    pub queued: u64,
    /// Acknowledged so far (probes not counted).
    pub acked: u64,
    sends: JoinSet<Result<u64, ProduceError>>,
    probe_sends: JoinSet<Result<(u32, Instant), ProduceError>>,
    pub probes: Vec<Probe>,
}

impl Load {
    pub fn new(producer: Producer, topic: &str, events: Events, rate: f64) -> Self {
        Self {
            producer: Arc::new(producer),
            topic: topic.into(),
            events,
            rate,
            started: Instant::now(),
            queued: 0,
            acked: 0,
            sends: JoinSet::new(),
            probe_sends: JoinSet::new(),
            probes: Vec::new(),
        }
    }

    /// Queues the events due by now; fails if an earlier send failed.
    pub fn tick(&mut self) -> anyhow::Result<()> {
        self.settle_finished()?;
        let due = (self.started.elapsed().as_secs_f64() * self.rate) as u64;
        if due > self.queued {
            let batch = self.events.take(due - self.queued, wall_clock_ms());
            self.queued = due;
            let (producer, topic) = (self.producer.clone(), self.topic.clone());
            self.sends
                .spawn(async move { producer.send_all(&topic, batch, |_| {}).await });
        }
        Ok(())
    }

    /// Queues the next probe now; returns its number.
    pub fn probe(&mut self) -> u32 {
        let n = u32::try_from(self.probes.len()).expect("fewer than 4 billion probes");
        let produced = Instant::now();
        let message = probe(n, wall_clock_ms());
        self.probes.push(Probe {
            produced,
            acked: None,
        });
        let (producer, topic) = (self.producer.clone(), self.topic.clone());
        self.probe_sends.spawn(async move {
            let sent = producer.send_all(&topic, [message], |_| {}).await;
            sent.map(|_| (n, Instant::now()))
        });
        n
    }

    /// Takes the results of the sends that completed, failing on the first failed one.
    fn settle_finished(&mut self) -> anyhow::Result<()> {
        while let Some(sent) = self.sends.try_join_next() {
            self.acked += sent.expect("a send task never panics")?;
        }
        while let Some(sent) = self.probe_sends.try_join_next() {
            let (n, acked) = sent.expect("a send task never panics")?;
            self.probes[n as usize].acked = Some(acked);
        }
        Ok(())
    }

    /// Waits for every delivery report still outstanding, up to `within`.
    pub async fn finish(&mut self, within: Duration) -> anyhow::Result<()> {
        let all = async {
            while let Some(sent) = self.sends.join_next().await {
                self.acked += sent.expect("a send task never panics")?;
            }
            while let Some(sent) = self.probe_sends.join_next().await {
                let (n, acked) = sent.expect("a send task never panics")?;
                self.probes[n as usize].acked = Some(acked);
            }
            anyhow::Ok(())
        };
        tokio::time::timeout(within, all)
            .await
            .with_context(|| format!("the broker acknowledged not every event within {within:?}"))?
    }
}

fn wall_clock_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_epoch.as_millis()).expect("the clock is before the year 292 million")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retimed_event_is_the_generated_one_at_the_new_time() {
        let generated = br#"{"event_id":"u1-0","type":"search","user_id":"u1","ts":"2026-01-01T08:00:01.234+08:00","props":{"query":"phone"}}"#;
        let message = Message {
            key: "u1".to_owned(),
            payload: generated.to_vec(),
            event_type: Some("search"),
            malformed: None,
        };
        let (key, payload) = Template::new(&message).unwrap().at(1_800_000_000_123);
        assert_eq!(key, "u1");
        let mut expected: serde_json::Value = serde_json::from_slice(generated).unwrap();
        expected["ts"] = serde_json::json!(1_800_000_000_123_i64);
        let actual: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(actual, expected);
    }

    #[test]
    fn probe_ids_sort_in_probe_order_and_read_back() {
        assert!(probe_id(9) < probe_id(10));
        assert_eq!(probe_number(&probe_id(123)), Some(123));
        assert_eq!(probe_number("u000123"), None);
    }
}
