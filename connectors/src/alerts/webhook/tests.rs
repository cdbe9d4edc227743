//! The webhook sink against a real HTTP server on 127.0.0.1 (`test_server.rs`).
//!
//! The tests run on tokio's current-thread runtime: the sink, the HTTP client and the server
//! then all run on the test's thread, where a thread-local `metrics` recorder sees the
//! failure counter. Waits are on the sink's return or on the server's reports, never on the
//! clock; each test has an overall deadline so that a bug fails it rather than hangs it.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use hyper::StatusCode;
use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use portrait_core::alerts::Alert;
use portrait_core::time::EventTime;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use super::test_server::{self, hang, status};
use super::*;
use crate::alerts::payload::tests::dormant;

/// Generous: the slowest test waits for one timeout and a few short backoffs.
const DEADLINE: Duration = Duration::from_secs(30);

async fn within_deadline<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {DEADLINE:?}"))
}

/// `count` alerts of different users (so different ids), a minute apart.
fn alerts(count: usize) -> Vec<Alert> {
    (0..count)
        .map(|i| Alert {
            user_id: format!("u{i:06}"),
            at: EventTime::from_millis(1_767_225_600_000 + 60_000 * i as i64),
            ..dormant()
        })
        .collect()
}

/// Small pauses, so retries take milliseconds.
fn config(url: &str) -> WebhookConfig {
    WebhookConfig {
        url: url.to_owned(),
        timeout_ms: 5_000,
        max_in_flight: 4,
        backoff_initial_ms: 1,
        backoff_max_ms: 8,
        secret: None,
    }
}

fn ids(alerts: &[Alert]) -> BTreeSet<String> {
    alerts.iter().map(Alert::id).collect()
}

/// Counts `portrait_alert_webhook_failures_total` by `reason`, and wakes a waiter on each
/// increment.
#[derive(Default)]
struct FailureCounter {
    by_reason: Mutex<BTreeMap<String, Arc<Count>>>,
    counted: Arc<Notify>,
}

struct Count {
    value: AtomicU64,
    counted: Arc<Notify>,
}

impl CounterFn for Count {
    fn increment(&self, value: u64) {
        self.value.fetch_add(value, Ordering::SeqCst);
        // `notify_one` keeps a permit when nobody waits yet: no increment goes unnoticed.
        self.counted.notify_one();
    }

    fn absolute(&self, value: u64) {
        self.value.fetch_max(value, Ordering::SeqCst);
        self.counted.notify_one();
    }
}

impl FailureCounter {
    fn get(&self, reason: &str) -> u64 {
        self.by_reason
            .lock()
            .unwrap()
            .get(reason)
            .map_or(0, |count| count.value.load(Ordering::SeqCst))
    }

    fn all(&self) -> BTreeMap<String, u64> {
        self.by_reason
            .lock()
            .unwrap()
            .iter()
            .map(|(reason, count)| (reason.clone(), count.value.load(Ordering::SeqCst)))
            .collect()
    }
}

impl Recorder for FailureCounter {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        if key.name() != FAILURES {
            return Counter::noop();
        }
        let labels: Vec<(&str, &str)> = key.labels().map(|l| (l.key(), l.value())).collect();
        let [("reason", reason)] = labels[..] else {
            panic!("{FAILURES} has exactly one label, reason: {labels:?}");
        };
        let count = self
            .by_reason
            .lock()
            .unwrap()
            .entry(reason.to_owned())
            .or_insert_with(|| {
                Arc::new(Count {
                    value: AtomicU64::new(0),
                    counted: self.counted.clone(),
                })
            })
            .clone();
        Counter::from_arc(count)
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[tokio::test]
async fn every_alert_is_posted_once_as_its_json_payload() {
    let mut server = test_server::start(|_| status(StatusCode::OK)).await;
    let sink = WebhookSink::new(&config(&server.url));
    let alerts = alerts(20);

    within_deadline("delivery", sink.deliver(&alerts)).await;

    let received = server.drain();
    assert_eq!(received.len(), alerts.len(), "one POST per alert");
    let by_id: BTreeMap<String, _> = received
        .iter()
        .map(|r| (r.alert_id.clone().expect("X-Portrait-Alert-Id"), r))
        .collect();
    assert_eq!(by_id.keys().cloned().collect::<BTreeSet<_>>(), ids(&alerts));
    for alert in &alerts {
        let request = by_id[&alert.id()];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hook");
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        assert_eq!(request.signature, None, "no secret, no signature");
        let payload = AlertPayload::from_json(&request.body).expect("a JSON payload");
        assert_eq!(payload.alert_id, alert.id(), "header and body agree");
        assert_eq!(payload.user_id, alert.user_id);
        assert_eq!(payload.at_ms, alert.at.millis());
        assert_eq!(payload.kind, "dormant");
    }
    // Nothing else arrives afterwards: no duplicate was in flight.
    assert!(server.drain().is_empty());
}

/// The server never answers, so the first round of POSTs is all there is until the first one
/// times out: exactly `max_in_flight` of them, sent together. (The pause before a retry is a
/// minute, so no retry is sent before the test looks.)
#[tokio::test]
async fn posts_are_concurrent_up_to_max_in_flight() {
    let failures = FailureCounter::default();
    let _recorder = metrics::set_default_local_recorder(&failures);
    let mut server = test_server::start(|_| hang()).await;
    let sink = WebhookSink::new(&WebhookConfig {
        max_in_flight: 3,
        timeout_ms: 1_000,
        backoff_initial_ms: 60_000,
        backoff_max_ms: 60_000,
        ..config(&server.url)
    });
    let alerts = alerts(9);

    let delivery = sink.deliver(&alerts);
    tokio::pin!(delivery);
    within_deadline("the first timeout", async {
        tokio::select! {
            () = &mut delivery => panic!("delivered to a server that never answers"),
            () = failures.counted.notified() => {}
        }
    })
    .await;

    let first_round: Vec<Option<String>> = server.drain().into_iter().map(|r| r.alert_id).collect();
    assert_eq!(first_round.len(), 3, "{first_round:?}");
    assert_eq!(server.most_concurrent.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn with_a_secret_the_signature_is_the_hmac_of_the_exact_body() {
    let mut server = test_server::start(|_| status(StatusCode::NO_CONTENT)).await;
    let secret = "s3cret: not in any log";
    let sink = WebhookSink::new(&WebhookConfig {
        secret: Some(secret.to_owned()),
        ..config(&server.url)
    });
    let alerts = alerts(3);

    within_deadline("delivery", sink.deliver(&alerts)).await;

    let received = server.drain();
    assert_eq!(received.len(), 3);
    for request in received {
        // What a receiver does: HMAC over the raw bytes, then compare the header.
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&request.body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(request.signature, Some(format!("sha256={expected}")));
    }
    assert!(!format!("{sink:?}").contains("s3cret"));
}

/// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
#[test]
fn the_signature_is_lowercase_hex_hmac_sha256() {
    let mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
    assert_eq!(
        signature(mac, b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

/// An outage: the first seven POSTs are answered 500. Every alert still gets through, exactly
/// once accepted, each retry resending the same bytes, and each failure is counted.
#[tokio::test]
async fn a_webhook_that_fails_its_first_requests_gets_every_alert_eventually() {
    const OUTAGE: usize = 7;
    let failures = FailureCounter::default();
    let _recorder = metrics::set_default_local_recorder(&failures);
    let mut server = test_server::start(|n| {
        status(if n < OUTAGE {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        })
    })
    .await;
    let sink = WebhookSink::new(&WebhookConfig {
        max_in_flight: 2,
        ..config(&server.url)
    });
    let alerts = alerts(4);

    within_deadline("delivery through the outage", sink.deliver(&alerts)).await;

    let received = server.drain();
    assert_eq!(received.len(), alerts.len() + OUTAGE);
    let accepted: Vec<String> = received
        .iter()
        .filter(|r| r.number >= OUTAGE)
        .map(|r| r.alert_id.clone().unwrap())
        .collect();
    assert_eq!(
        accepted.len(),
        alerts.len(),
        "accepted once each: {accepted:?}"
    );
    assert_eq!(accepted.into_iter().collect::<BTreeSet<_>>(), ids(&alerts));
    let mut bodies: BTreeMap<String, BTreeSet<Vec<u8>>> = BTreeMap::new();
    for request in &received {
        bodies
            .entry(request.alert_id.clone().unwrap())
            .or_default()
            .insert(request.body.clone());
    }
    assert!(
        bodies.values().all(|versions| versions.len() == 1),
        "a retry resends the same body"
    );
    assert_eq!(failures.all(), BTreeMap::from([("status".to_owned(), 7)]));
}

/// The first POST gets no answer at all: it times out and is sent again.
#[tokio::test]
async fn a_post_that_hangs_past_the_timeout_is_retried() {
    let failures = FailureCounter::default();
    let _recorder = metrics::set_default_local_recorder(&failures);
    let mut server = test_server::start(|n| {
        if n == 0 {
            hang()
        } else {
            status(StatusCode::OK)
        }
    })
    .await;
    let sink = WebhookSink::new(&WebhookConfig {
        timeout_ms: 200,
        ..config(&server.url)
    });
    let alerts = alerts(1);

    within_deadline("delivery after a timeout", sink.deliver(&alerts)).await;

    let received = server.drain();
    let attempts: Vec<(usize, Option<String>)> = received
        .iter()
        .map(|r| (r.number, r.alert_id.clone()))
        .collect();
    assert_eq!(
        attempts,
        [(0, Some(alerts[0].id())), (1, Some(alerts[0].id()))]
    );
    assert_eq!(received[0].body, received[1].body);
    assert_eq!(failures.all(), BTreeMap::from([("timeout".to_owned(), 1)]));
}

/// Nothing listens at first, so the POST cannot connect; once the failure is counted, a server
/// comes up on that port, and the retries reach it.
#[tokio::test]
async fn a_refused_connection_is_retried_until_the_webhook_is_up() {
    let failures = FailureCounter::default();
    let _recorder = metrics::set_default_local_recorder(&failures);
    let address = {
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        probe.local_addr().unwrap()
    };
    let sink = WebhookSink::new(&config(&format!("http://{address}/hook")));
    let alerts = alerts(2);

    let delivery = sink.deliver(&alerts);
    tokio::pin!(delivery);
    within_deadline("the first refused connection", async {
        tokio::select! {
            () = &mut delivery => panic!("delivered while nothing listened"),
            () = failures.counted.notified() => {}
        }
    })
    .await;
    assert!(failures.get("connection") >= 1, "{:?}", failures.all());

    let listener = TcpListener::bind(address).await.expect("rebind the port");
    let mut server = test_server::serve(listener, |_| status(StatusCode::OK));
    within_deadline("delivery once the webhook is up", delivery).await;

    let accepted: BTreeSet<String> = server
        .drain()
        .into_iter()
        .map(|r| r.alert_id.unwrap())
        .collect();
    assert_eq!(accepted, ids(&alerts));
    assert_eq!(failures.all().keys().collect::<Vec<_>>(), ["connection"]);
}

/// A redirect is not followed (it would turn the POST into a body-less GET): it is a failure
/// like any non-2xx answer, and the POST is retried at the same URL.
#[tokio::test]
async fn a_redirect_is_retried_not_followed() {
    let failures = FailureCounter::default();
    let _recorder = metrics::set_default_local_recorder(&failures);
    let mut server = test_server::start(|n| {
        status(if n == 0 {
            StatusCode::FOUND
        } else {
            StatusCode::OK
        })
    })
    .await;
    let sink = WebhookSink::new(&config(&server.url));

    within_deadline("delivery", sink.deliver(&alerts(1))).await;

    let received = server.drain();
    assert_eq!(
        received
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>(),
        ["POST", "POST"]
    );
    assert_eq!(failures.get("status"), 1);
}

#[tokio::test]
async fn no_alerts_means_no_request() {
    let mut server = test_server::start(|_| status(StatusCode::OK)).await;
    WebhookSink::new(&config(&server.url)).deliver(&[]).await;
    assert!(server.drain().is_empty());
}

#[test]
fn pauses_double_from_the_initial_one_up_to_the_cap() {
    let backoff = Backoff::new(200, 5_000);
    let pauses: Vec<u128> =
        std::iter::successors(Some(backoff.initial), |&p| Some(backoff.after(p)))
            .take(7)
            .map(|p| p.as_millis())
            .collect();
    assert_eq!(pauses, [200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
}

#[test]
fn an_unvalidated_backoff_still_pauses() {
    assert_eq!(
        Backoff::new(0, 0),
        Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(1)
        }
    );
}
