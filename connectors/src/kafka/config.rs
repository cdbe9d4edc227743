//! The `[kafka]` section of Portrait's configuration, and the librdkafka settings built from it.
//!
//! Settings that Portrait's guarantees depend on (manual commits, the explicit offset reset
//! policy, the Java-compatible partitioner) are set here, in code, and cannot be overridden from
//! [`KafkaConfig::properties`]: [`KafkaConfig::validate`] says so instead of silently weakening a
//! guarantee.

use std::collections::BTreeMap;
use std::fmt;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

/// Where the input topics are and how to consume them. Every field has a default, so a config
/// file names only what differs (the binary's config layer also reads `PORTRAIT_KAFKA_<FIELD>`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, `host:port` separated by commas, e.g. `127.0.0.1:9092`. Default
    /// empty: no Kafka, which with no ClickHouse URL either is the embedded mode (files in,
    /// Parquet out).
    pub brokers: String,
    /// Input topics. They must be co-partitioned (same partition count, keyed by `user_id`);
    /// the pipeline checks that at start-up. Default `["events"]`.
    pub topics: Vec<String>,
    /// Consumer group id: where committed offsets live, so a restarted process resumes there.
    /// Default `portrait`.
    pub group: String,
    /// Where a partition starts when the group has no committed offset for it, or when the
    /// committed offset is out of range. Default `earliest`: never skip input silently.
    pub auto_offset_reset: OffsetReset,
    /// Passed to librdkafka as is, for everything Portrait has no opinion on: TLS and SASL
    /// (`security.protocol`, `sasl.mechanism`, ...), timeouts, fetch sizes. See librdkafka's
    /// CONFIGURATION.md. Keys that Portrait sets itself are rejected by [`Self::validate`].
    /// Secrets among them ([`is_secret_property`]) are never serialized, so a dumped
    /// configuration (`check-config --show`) cannot leak them.
    #[serde(serialize_with = "serialize_without_secrets")]
    pub properties: BTreeMap<String, String>,
}

/// Whether the librdkafka property `key` holds a secret: a password (`sasl.password`,
/// `ssl.key.password`, `ssl.keystore.password`), a client secret
/// (`sasl.oauthbearer.client.secret`) or a private key (`ssl.key.pem`). Such values are
/// redacted from `Debug` and left out when the configuration is serialized.
pub fn is_secret_property(key: &str) -> bool {
    key.contains("password") || key.contains("secret") || key == "ssl.key.pem"
}

fn serialize_without_secrets<S: serde::Serializer>(
    properties: &BTreeMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(
        properties
            .iter()
            .filter(|(key, _)| !is_secret_property(key)),
    )
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: String::new(),
            topics: vec!["events".to_owned()],
            group: "portrait".to_owned(),
            auto_offset_reset: OffsetReset::Earliest,
            properties: BTreeMap::new(),
        }
    }
}

/// Hand-written so that a logged config never shows a password or secret from `properties`.
impl fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let properties: BTreeMap<&str, &str> = self
            .properties
            .iter()
            .map(|(key, value)| {
                let shown = if is_secret_property(key) {
                    "<redacted>"
                } else {
                    value
                };
                (key.as_str(), shown)
            })
            .collect();
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("topics", &self.topics)
            .field("group", &self.group)
            .field("auto_offset_reset", &self.auto_offset_reset)
            .field("properties", &properties)
            .finish()
    }
}

/// librdkafka's `auto.offset.reset`, as a closed set so a typo fails at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsetReset {
    /// Start at the oldest retained message: reprocess rather than skip.
    Earliest,
    /// Start at the end: skip everything already in the topic.
    Latest,
    /// Stop with an error and let the operator decide (the source reports it).
    Error,
}

impl OffsetReset {
    /// The value librdkafka expects.
    pub fn as_str(self) -> &'static str {
        match self {
            OffsetReset::Earliest => "earliest",
            OffsetReset::Latest => "latest",
            OffsetReset::Error => "error",
        }
    }
}

/// Properties Portrait sets itself, with the reason a user may not override them.
const MANAGED: &[(&str, &str)] = &[
    ("bootstrap.servers", "set kafka.brokers instead"),
    ("metadata.broker.list", "set kafka.brokers instead"),
    ("group.id", "set kafka.group instead"),
    ("auto.offset.reset", "set kafka.auto_offset_reset instead"),
    (
        "enable.auto.commit",
        "offsets are committed only after every sink acknowledged (docs/offsets.md)",
    ),
    (
        "enable.auto.offset.store",
        "offsets are committed only after every sink acknowledged (docs/offsets.md)",
    ),
    (
        "partition.assignment.strategy",
        "the range assignor keeps partition p of every co-partitioned topic in one process",
    ),
    (
        "partitioner",
        "keyed messages must land in the same partition as Java clients put them \
         (murmur2), or input topics written by different producers stop being co-partitioned",
    ),
];

/// A `[kafka]` setting Portrait cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "kafka.brokers is empty; give host:port pairs separated by commas (or leave \
         clickhouse.url empty too, for the embedded mode)"
    )]
    NoBrokers,
    #[error("kafka.topics needs at least one non-empty topic name")]
    NoTopics,
    #[error("kafka.group is empty; the consumer group is what lets a restarted process resume")]
    NoGroup,
    #[error("kafka.properties.\"{key}\" is set by Portrait and cannot be overridden: {reason}")]
    Managed { key: String, reason: &'static str },
}

impl KafkaConfig {
    /// Every mistake in this section, so one run of `check-config` can report them all.
    pub fn validate(&self) -> Vec<ConfigError> {
        let mut mistakes = Vec::new();
        if self.brokers.trim().is_empty() {
            mistakes.push(ConfigError::NoBrokers);
        }
        if self.topics.is_empty() || self.topics.iter().any(|t| t.trim().is_empty()) {
            mistakes.push(ConfigError::NoTopics);
        }
        if self.group.trim().is_empty() {
            mistakes.push(ConfigError::NoGroup);
        }
        for key in self.properties.keys() {
            if let Some((_, reason)) = MANAGED.iter().find(|(managed, _)| managed == key) {
                mistakes.push(ConfigError::Managed {
                    key: key.clone(),
                    reason,
                });
            }
        }
        mistakes
    }

    /// Settings shared by every client: the brokers, the passthrough properties, and a log
    /// level that lets warnings reach the client context (which is how offset resets are
    /// noticed, see `source.rs`). rdkafka would otherwise derive the level from the `log`
    /// crate, which Portrait does not use.
    pub(crate) fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
            .set("bootstrap.servers", &self.brokers)
            .set_log_level(RDKafkaLogLevel::Warning);
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_read_from_an_empty_section_and_name_no_brokers() {
        let config: KafkaConfig = toml::from_str("").unwrap();
        assert_eq!(config, KafkaConfig::default());
        assert_eq!(config.validate(), [ConfigError::NoBrokers]);
        assert_eq!(config.auto_offset_reset.as_str(), "earliest");
    }

    #[test]
    fn reads_every_field_from_toml() {
        let config: KafkaConfig = toml::from_str(
            r#"
            brokers = "k1:9092,k2:9092"
            topics = ["pages", "chats"]
            group = "profiles"
            auto_offset_reset = "error"
            properties = { "security.protocol" = "sasl_ssl" }
            "#,
        )
        .unwrap();
        assert_eq!(config.topics, ["pages", "chats"]);
        assert_eq!(config.auto_offset_reset, OffsetReset::Error);
        assert_eq!(config.properties["security.protocol"], "sasl_ssl");
    }

    #[test]
    fn rejects_unknown_fields_and_reset_policies() {
        assert!(toml::from_str::<KafkaConfig>("broker = \"x\"").is_err());
        assert!(toml::from_str::<KafkaConfig>("auto_offset_reset = \"smallest\"").is_err());
    }

    #[test]
    fn managed_properties_are_rejected_with_the_reason() {
        let mut config = KafkaConfig {
            brokers: "k:9092".into(),
            ..KafkaConfig::default()
        };
        config
            .properties
            .insert("enable.auto.commit".into(), "true".into());
        config
            .properties
            .insert("fetch.min.bytes".into(), "1000".into());
        let mistakes = config.validate();
        assert_eq!(mistakes.len(), 1);
        let message = mistakes[0].to_string();
        assert!(message.contains("enable.auto.commit"), "{message}");
        assert!(
            message.contains("after every sink acknowledged"),
            "{message}"
        );
    }

    #[test]
    fn empty_fields_are_each_reported() {
        let config = KafkaConfig {
            brokers: " ".into(),
            topics: vec![],
            group: String::new(),
            ..KafkaConfig::default()
        };
        assert_eq!(
            config.validate(),
            [
                ConfigError::NoBrokers,
                ConfigError::NoTopics,
                ConfigError::NoGroup
            ]
        );
    }

    #[test]
    fn serializing_leaves_secrets_out() {
        let mut config = KafkaConfig::default();
        for (key, value) in [
            ("sasl.password", "hunter2"),
            ("ssl.key.pem", "-----BEGIN PRIVATE KEY-----"),
            ("sasl.username", "portrait"),
        ] {
            config.properties.insert(key.into(), value.into());
        }
        let shown = toml::to_string(&config).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        assert!(
            shown.contains("\"sasl.username\" = \"portrait\""),
            "{shown}"
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut config = KafkaConfig::default();
        config
            .properties
            .insert("sasl.password".into(), "hunter2".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
