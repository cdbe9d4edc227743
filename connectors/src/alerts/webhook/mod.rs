//! The webhook alert sink: each alert POSTed as JSON to one URL, retried until it is accepted.
//!
//! One request per alert, because chat webhooks (Slack's incoming webhooks among them) take one
//! message per POST; the body is the [`AlertPayload`] JSON, whose `text` such a webhook shows
//! as it is. Up to [`WebhookConfig::max_in_flight`] POSTs are awaited at once, so alerts may
//! arrive out of order (set it to 1 for order).
//!
//! **Delivery never gives up.** A POST that is answered with anything but a 2xx status, that
//! takes longer than [`WebhookConfig::timeout_ms`], or that cannot connect, is sent again after
//! a pause that doubles from `backoff_initial_ms` up to `backoff_max_ms`, for as long as it
//! takes. [`WebhookSink::deliver`] returns only when every alert was accepted, and the pipeline
//! commits its Kafka offsets only after that: while the webhook is down consumption waits
//! (DESIGN.md, guarantees 3 and 4, "at-least-once" and "backpressure, not loss"). Each failure
//! is logged (`warn`, with the status, the start of the answer, the attempt number and the
//! `alert_id`) and counted in `portrait_alert_webhook_failures_total{reason}`, `reason` being
//! `status`, `timeout`, `connection` or `request`. A webhook that will never accept (a deleted
//! Slack hook answers 404 for ever) therefore stops the pipeline visibly, rather than losing
//! alerts quietly: fix the URL or switch the webhook off.
//!
//! Redirects are not followed: an HTTP client that follows a 301 or 302 turns the POST into a
//! GET without the body, which a receiver would answer 200 to, and the alert would be lost while
//! counting as delivered. A redirect is a non-2xx answer like any other: logged and retried.
//! Error messages are logged without the URL, since a chat webhook's URL is itself a credential.
//!
//! # Headers and signature
//!
//! Every request carries `Content-Type: application/json` and `X-Portrait-Alert-Id: <alert_id>`
//! (the same id as in the body: retries and replays repeat it, so a receiver deduplicates on it).
//!
//! With a secret configured (`PORTRAIT_ALERTS_WEBHOOK_SECRET`) it also carries
//!
//! ```text
//! X-Portrait-Signature: sha256=<64 lowercase hex digits>
//! ```
//!
//! the HMAC-SHA256 of the exact body bytes, keyed with the secret's UTF-8 bytes (the scheme
//! GitHub uses for its webhooks). A receiver verifies it by computing the same HMAC over the raw
//! body it received, *before* parsing it as JSON (re-serializing can change the bytes), and
//! comparing the two header values in constant time; a mismatch means the request did not come
//! from Portrait, or was changed on the way. In Python:
//!
//! ```text
//! expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
//! if not hmac.compare_digest(expected, request.headers["X-Portrait-Signature"]): reject()
//! ```
//!
//! The signature covers the body only: a captured request stays valid, so a receiver that must
//! not act twice deduplicates on `alert_id` (which it needs for retries anyway).

mod config;
#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;

use std::fmt;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use hmac::{Hmac, Mac};
use portrait_core::alerts::Alert;
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use sha2::Sha256;

pub use config::{WebhookConfig, WebhookConfigError};

use super::payload::AlertPayload;

const ALERT_ID_HEADER: &str = "x-portrait-alert-id";
const SIGNATURE_HEADER: &str = "x-portrait-signature";
/// The counter of failed POSTs, labelled by `reason`.
const FAILURES: &str = "portrait_alert_webhook_failures_total";
/// How much of a failed answer's body is read and logged: enough for an error message (Slack
/// answers `no_service`, `invalid_payload`, ...), not a whole HTML error page.
const BODY_PREFIX: usize = 200;

/// POSTs alerts to a webhook. Cheap to share by reference; one connection pool for all POSTs.
pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
    max_in_flight: usize,
    backoff: Backoff,
    /// The HMAC keyed with the secret, cloned for each body: the secret itself is not kept.
    signer: Option<Hmac<Sha256>>,
}

/// Hand-written: shows whether requests are signed, never the key.
impl fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSink")
            .field("url", &self.url)
            .field("max_in_flight", &self.max_in_flight)
            .field("backoff", &self.backoff)
            .field("signed", &self.signer.is_some())
            .finish()
    }
}

impl WebhookSink {
    /// A sink for `config`, which should have passed [`WebhookConfig::validate`]: an invalid
    /// URL fails every POST, which is then retried (and logged) like an outage. Connects
    /// lazily: the first POST reaches the server, not this call.
    pub fn new(config: &WebhookConfig) -> Self {
        let max_in_flight = config.max_in_flight.max(1);
        let client = reqwest::Client::builder()
            // From connecting to the last byte of the answer.
            .timeout(Duration::from_millis(config.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portrait/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(max_in_flight)
            .build()
            // Only custom certificates, a custom resolver or an unusable TLS backend make this
            // fail; none is configured, and rustls with its built-in roots always initializes.
            .expect("an HTTP client without custom TLS settings always builds");
        let signer = config.secret.as_ref().map(|secret| {
            Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes keys of any length")
        });
        Self {
            client,
            url: config.url.trim().to_owned(),
            max_in_flight,
            backoff: Backoff::new(config.backoff_initial_ms, config.backoff_max_ms),
            signer,
        }
    }

    /// POSTs every alert, up to `max_in_flight` at once, and returns once each one was
    /// accepted with a 2xx answer, however many attempts that takes (see the module
    /// documentation). Safe to call again with the same alerts: they carry the same ids.
    pub async fn deliver(&self, alerts: &[Alert]) {
        stream::iter(alerts)
            .map(|alert| self.deliver_one(alert))
            .buffer_unordered(self.max_in_flight)
            .for_each(|()| async {})
            .await;
    }

    async fn deliver_one(&self, alert: &Alert) {
        let alert_id = alert.id();
        // Encoded and signed once: every attempt sends the same bytes.
        let body = AlertPayload::encode(alert);
        let signature = self.signer.clone().map(|mac| signature(mac, &body));
        let mut pause = self.backoff.initial;
        let mut attempt: u32 = 1;
        loop {
            match self.post(&alert_id, &body, signature.as_deref()).await {
                Ok(()) => {
                    if attempt > 1 {
                        tracing::info!(%alert_id, attempt, "alert webhook accepted the alert");
                    }
                    return;
                }
                Err(failure) => {
                    metrics::counter!(FAILURES, "reason" => failure.reason()).increment(1);
                    tracing::warn!(
                        %alert_id,
                        attempt,
                        status = failure.status(),
                        body = failure.body(),
                        retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
                        "alert webhook POST failed: {failure}"
                    );
                    tokio::time::sleep(pause).await;
                    pause = self.backoff.after(pause);
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }

    /// One attempt: `Ok` on a 2xx answer.
    async fn post(
        &self,
        alert_id: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<(), Failure> {
        let mut request = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(ALERT_ID_HEADER, alert_id)
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let response = request
            .send()
            .await
            .map_err(|err| Failure::Transport(err.without_url()))?;
        let status = response.status();
        // Read (a bounded part of) the answer either way: a connection whose answer was read
        // to the end goes back to the pool for the next POST.
        let body = body_prefix(response).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(Failure::Status { status, body })
        }
    }
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body`, `mac` being keyed with the secret.
fn signature(mut mac: Hmac<Sha256>, body: &[u8]) -> String {
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut text = String::with_capacity("sha256=".len() + 2 * digest.len());
    text.push_str("sha256=");
    for byte in digest {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    text
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The first [`BODY_PREFIX`] bytes of an answer, as text; whatever arrived if reading fails.
async fn body_prefix(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < BODY_PREFIX {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(BODY_PREFIX);
    String::from_utf8_lossy(&bytes).trim().to_owned()
}

/// Why one POST failed.
enum Failure {
    /// The webhook answered, but not with a 2xx status.
    Status { status: StatusCode, body: String },
    /// No answer: a timeout, a refused or broken connection, ... (URL stripped).
    Transport(reqwest::Error),
}

impl Failure {
    /// The metric label: a closed set, so dashboards can tell an outage from a slow webhook.
    fn reason(&self) -> &'static str {
        match self {
            Failure::Status { .. } => "status",
            Failure::Transport(err) if err.is_timeout() => "timeout",
            Failure::Transport(err) if err.is_connect() => "connection",
            Failure::Transport(_) => "request",
        }
    }

    fn status(&self) -> Option<u16> {
        match self {
            Failure::Status { status, .. } => Some(status.as_u16()),
            Failure::Transport(_) => None,
        }
    }

    fn body(&self) -> Option<&str> {
        match self {
            Failure::Status { body, .. } => Some(body),
            Failure::Transport(_) => None,
        }
    }
}

/// The status, or the transport error with its causes (reqwest's own message is only "error
/// sending request"; the cause says "connection refused" or "operation timed out").
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status { status, .. } => write!(f, "answered {status}"),
            Failure::Transport(err) => {
                write!(f, "{err}")?;
                let mut source = std::error::Error::source(err);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
        }
    }
}

/// The pauses between the attempts of one POST: `initial`, doubling, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    /// Clamped so that an unvalidated config still backs off: at least 1 ms, and `max` no
    /// shorter than `initial`.
    fn new(initial_ms: u64, max_ms: u64) -> Self {
        let initial = Duration::from_millis(initial_ms.max(1));
        Self {
            initial,
            max: Duration::from_millis(max_ms).max(initial),
        }
    }

    /// The pause after `pause`.
    fn after(&self, pause: Duration) -> Duration {
        pause.saturating_mul(2).min(self.max)
    }
}
