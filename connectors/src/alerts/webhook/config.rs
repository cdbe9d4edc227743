//! The `[alerts.webhook]` settings: where to POST alerts, how patiently, and the signing secret.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where and how to POST alerts. Every field but `url` has a default, so a config file names
/// only what differs (the binary's config layer also reads `PORTRAIT_ALERTS_WEBHOOK_<FIELD>`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://` or `https://` URL each alert is POSTed to, e.g. a Slack incoming webhook.
    /// Empty (the default) means no webhook; whoever enables the sink validates it first.
    pub url: String,
    /// How long one POST may take, from connecting to the end of the answer, before it counts
    /// as failed and is retried. Default 5000.
    pub timeout_ms: u64,
    /// POSTs awaited at once: alerts are delivered concurrently, so one slow answer does not
    /// hold up the rest. 1 delivers them one by one, in order. Default 8.
    pub max_in_flight: usize,
    /// The pause after a POST's first failure; it doubles after each further failure of the
    /// same POST, up to `backoff_max_ms`. Default 200.
    pub backoff_initial_ms: u64,
    /// The longest pause between two attempts of one POST. Default 5000.
    pub backoff_max_ms: u64,
    /// The key of the `X-Portrait-Signature` HMAC (see the module documentation); `None`
    /// sends unsigned requests. A secret: read from the environment only
    /// (`PORTRAIT_ALERTS_WEBHOOK_SECRET`, which the binary's config layer refuses to take from
    /// a file, as it does `clickhouse.password`), never serialized, never in `Debug` output.
    ///
    /// Deserialized like `ClickHouseConfig::password` (`skip_serializing`, not `skip`): the
    /// config layer merges the environment into one table and deserializes that, so a field
    /// that could not be deserialized could not be set from the environment either.
    #[serde(skip_serializing)]
    pub secret: Option<String>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            timeout_ms: 5_000,
            max_in_flight: 8,
            backoff_initial_ms: 200,
            backoff_max_ms: 5_000,
            secret: None,
        }
    }
}

/// Hand-written so that a logged config never shows the secret.
impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_in_flight", &self.max_in_flight)
            .field("backoff_initial_ms", &self.backoff_initial_ms)
            .field("backoff_max_ms", &self.backoff_max_ms)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A `[alerts.webhook]` setting the sink cannot run with. The messages name the field; the
/// caller says which section it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookConfigError {
    #[error("url is empty; give the http:// or https:// address to POST alerts to")]
    NoUrl,
    #[error("url {url:?} is not a URL: {problem}")]
    BadUrl { url: String, problem: String },
    #[error("url {url:?} must start with http:// or https://")]
    BadScheme { url: String },
    #[error("timeout_ms must be greater than 0")]
    ZeroTimeout,
    #[error("max_in_flight must be at least 1")]
    NoInFlight,
    #[error(
        "backoff_initial_ms must be greater than 0, or a failing webhook is retried in a busy loop"
    )]
    ZeroBackoff,
    #[error("backoff_initial_ms ({initial}) must not exceed backoff_max_ms ({max})")]
    BackoffOrder { initial: u64, max: u64 },
    #[error(
        "secret is set but empty; unset PORTRAIT_ALERTS_WEBHOOK_SECRET to send unsigned \
         requests, or give it a value"
    )]
    EmptySecret,
}

impl WebhookConfig {
    /// Every mistake in this section, so one run of `check-config` can report them all.
    pub fn validate(&self) -> Vec<WebhookConfigError> {
        let mut mistakes = Vec::new();
        let url = self.url.trim();
        if url.is_empty() {
            mistakes.push(WebhookConfigError::NoUrl);
        } else {
            match reqwest::Url::parse(url) {
                Err(err) => mistakes.push(WebhookConfigError::BadUrl {
                    url: self.url.clone(),
                    problem: err.to_string(),
                }),
                Ok(parsed) if !matches!(parsed.scheme(), "http" | "https") => {
                    mistakes.push(WebhookConfigError::BadScheme {
                        url: self.url.clone(),
                    })
                }
                Ok(_) => {}
            }
        }
        if self.timeout_ms == 0 {
            mistakes.push(WebhookConfigError::ZeroTimeout);
        }
        if self.max_in_flight == 0 {
            mistakes.push(WebhookConfigError::NoInFlight);
        }
        if self.backoff_initial_ms == 0 {
            mistakes.push(WebhookConfigError::ZeroBackoff);
        }
        if self.backoff_initial_ms > self.backoff_max_ms {
            mistakes.push(WebhookConfigError::BackoffOrder {
                initial: self.backoff_initial_ms,
                max: self.backoff_max_ms,
            });
        }
        if self.secret.as_deref().is_some_and(str::is_empty) {
            mistakes.push(WebhookConfigError::EmptySecret);
        }
        mistakes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> WebhookConfig {
        WebhookConfig {
            url: url.to_owned(),
            ..WebhookConfig::default()
        }
    }

    #[test]
    fn missing_fields_take_the_documented_defaults() {
        let config: WebhookConfig = toml::from_str(r#"url = "https://hooks.example/T1""#).unwrap();
        assert_eq!(config.timeout_ms, 5_000);
        assert_eq!(config.max_in_flight, 8);
        assert_eq!(config.backoff_initial_ms, 200);
        assert_eq!(config.backoff_max_ms, 5_000);
        assert_eq!(config.secret, None);
        assert!(config.validate().is_empty());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = toml::from_str::<WebhookConfig>("timeout = 5").unwrap_err();
        assert!(err.to_string().contains("unknown field `timeout`"), "{err}");
    }

    /// The binary's config layer merges `PORTRAIT_ALERTS_WEBHOOK_SECRET` into the table it
    /// deserializes: the secret must be readable, and must never be written back.
    #[test]
    fn the_secret_is_read_but_never_serialized_nor_shown() {
        let config: WebhookConfig =
            toml::from_str("url = \"https://h.example/\"\nsecret = \"hunter2\"").unwrap();
        assert_eq!(config.secret.as_deref(), Some("hunter2"));
        let written = toml::to_string(&config).unwrap();
        assert!(
            !written.contains("hunter2") && !written.contains("secret"),
            "{written}"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn urls_must_be_http_or_https() {
        assert!(with_url("http://127.0.0.1:8080/hook").validate().is_empty());
        assert_eq!(with_url("  ").validate(), [WebhookConfigError::NoUrl]);
        assert_eq!(
            with_url("ftp://files.example/").validate(),
            [WebhookConfigError::BadScheme {
                url: "ftp://files.example/".to_owned()
            }]
        );
        let mistakes = with_url("hooks.slack.com/services/T1").validate();
        assert!(
            matches!(&mistakes[..], [WebhookConfigError::BadUrl { url, .. }] if url == "hooks.slack.com/services/T1"),
            "{mistakes:?}"
        );
        assert!(
            mistakes[0].to_string().contains("is not a URL"),
            "{}",
            mistakes[0]
        );
    }

    #[test]
    fn every_numeric_mistake_is_reported_at_once() {
        let config = WebhookConfig {
            timeout_ms: 0,
            max_in_flight: 0,
            backoff_initial_ms: 0,
            ..with_url("https://h.example/")
        };
        assert_eq!(
            config.validate(),
            [
                WebhookConfigError::ZeroTimeout,
                WebhookConfigError::NoInFlight,
                WebhookConfigError::ZeroBackoff,
            ]
        );
        let config = WebhookConfig {
            backoff_initial_ms: 6_000,
            ..with_url("https://h.example/")
        };
        let mistakes = config.validate();
        assert_eq!(
            mistakes,
            [WebhookConfigError::BackoffOrder {
                initial: 6_000,
                max: 5_000
            }]
        );
        assert_eq!(
            mistakes[0].to_string(),
            "backoff_initial_ms (6000) must not exceed backoff_max_ms (5000)"
        );
    }

    #[test]
    fn an_empty_secret_is_a_mistake_not_an_empty_key() {
        let config = WebhookConfig {
            secret: Some(String::new()),
            ..with_url("https://h.example/")
        };
        assert_eq!(config.validate(), [WebhookConfigError::EmptySecret]);
    }
}
