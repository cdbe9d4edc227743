//! Portrait's configuration: one TOML file, every key overridable from the environment.
//!
//! Layers, later ones winning: built-in defaults, the TOML file (`--config`, optional), then
//! environment variables named after the key's path (`[kafka] brokers` →
//! `PORTRAIT_KAFKA_BROKERS`). The set of keys and their types comes from the serialized
//! defaults, so a new setting is overridable the moment it exists, with no second list to keep
//! in step. Secrets are read from the environment only: a secret in the file is a mistake.
//!
//! The configuration is parsed and validated once, here; nothing downstream reads raw strings
//! or environment variables.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use portrait_connectors::clickhouse::ClickHouseConfig;
use portrait_connectors::kafka::{is_secret_property, KafkaConfig};
use portrait_core::SignalConfig;
use portrait_pipelines::{AlertsConfig, ChurnModelConfig, PipelineConfig};
use portrait_sql::{SegmentDef, Segments};
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

/// Prefix of every environment variable that overrides a setting.
const ENV_PREFIX: &str = "PORTRAIT_";

/// Settings that may only come from the environment, by path. The Kafka ones are the
/// librdkafka properties that hold secrets ([`is_secret_property`]): `[kafka.properties]
/// "sasl.password"` comes from `PORTRAIT_KAFKA_PROPERTIES_SASL_PASSWORD`. A secret-looking
/// property not listed here is refused in the file too (see [`reject_secrets`]).
const SECRETS: &[&[&str]] = &[
    &["clickhouse", "password"],
    &["clickhouse", "pseudonymisation_key"],
    &["alerts", "webhook", "secret"],
    &["kafka", "properties", "sasl.password"],
    &["kafka", "properties", "ssl.key.password"],
    &["kafka", "properties", "ssl.keystore.password"],
    &["kafka", "properties", "ssl.key.pem"],
    &["kafka", "properties", "sasl.oauthbearer.client.secret"],
];

/// The whole configuration, one section per component.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub kafka: KafkaConfig,
    pub clickhouse: ClickHouseConfig,
    pub pipeline: PipelineConfig,
    pub signals: SignalConfig,
    pub alerts: AlertsConfig,
    pub churn_model: ChurnModelConfig,
    pub metrics: MetricsConfig,
    pub embedded: EmbeddedConfig,
    /// `[segments.NAME]`: named predicates over the profile columns (docs/segments.md). Set
    /// in the file only: a map's keys have no defaults to name environment variables after.
    pub segments: BTreeMap<String, SegmentConfig>,
}

/// One segment: `[segments.vip_at_risk] where = "..."`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentConfig {
    /// A boolean SQL expression over the columns of `user_profiles`.
    #[serde(rename = "where")]
    pub predicate: String,
    /// Whether entering the segment fires a `segment_entered` alert. Default false.
    #[serde(default)]
    pub alert: bool,
}

/// Where `portrait run` reads events and writes profiles, chosen by what is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No Kafka brokers and no ClickHouse URL: NDJSON files or stdin in, Parquet tables under
    /// `embedded.data_dir` out, no services.
    Embedded,
    /// Kafka topics in, ClickHouse tables out.
    Services,
}

/// The embedded mode's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedConfig {
    /// The directory of the Parquet tables `portrait run` writes and `portrait sql` reads.
    /// Default `portrait-data`, relative to the working directory.
    pub data_dir: PathBuf,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("portrait-data"),
        }
    }
}

/// Where `portrait run` serves Prometheus metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// `host:port` of the `/metrics` listener; empty for none. Default `127.0.0.1:9464`.
    pub listen: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".to_owned(),
        }
    }
}

/// One thing wrong with a configuration, phrased so that the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistake {
    /// Where the value came from: `portrait.toml`, `PORTRAIT_KAFKA_BROKERS`, ...
    pub source: String,
    pub message: String,
}

impl fmt::Display for Mistake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

/// Every mistake found while loading, so that one run of `check-config` reports them all.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", list(.0))]
pub struct ConfigError(pub Vec<Mistake>);

fn list(mistakes: &[Mistake]) -> String {
    mistakes
        .iter()
        .map(|m| format!("  - {m}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A loaded configuration and the notes worth showing the user about it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    /// Where each overridden setting came from, e.g. `kafka.brokers from PORTRAIT_KAFKA_BROKERS`.
    pub overrides: Vec<String>,
    /// `PORTRAIT_*` variables that name no setting (likely typos).
    pub unknown_env: Vec<String>,
}

impl Config {
    /// Loads defaults, then `path` if given, then the process environment.
    pub fn load(path: Option<&Path>) -> Result<Loaded, ConfigError> {
        let file = match path {
            Some(path) => Some(read_file(path)?),
            None => None,
        };
        Self::from_layers(file, std::env::vars())
    }

    /// Builds a configuration from an already-read file and a set of environment variables.
    /// Separate from [`Config::load`] so tests need neither files nor the process environment.
    pub fn from_layers(
        file: Option<(PathBuf, String)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Loaded, ConfigError> {
        let mut mistakes = Vec::new();
        let defaults = match Value::try_from(Config::default()) {
            Ok(Value::Table(table)) => table,
            other => unreachable!("defaults serialize to a table, got {other:?}"),
        };
        let mut merged = defaults.clone();

        if let Some((path, text)) = &file {
            let source = path.display().to_string();
            match text.parse::<Table>() {
                Ok(table) => {
                    reject_secrets(&table, &source, &mut mistakes);
                    merge(&mut merged, table);
                }
                Err(e) => mistakes.push(Mistake {
                    source,
                    message: e.to_string().trim_end().to_string(),
                }),
            }
        }

        let (overrides, unknown_env) = apply_env(&defaults, &mut merged, env, &mut mistakes);

        let config = match Value::Table(merged).try_into::<Config>() {
            Ok(config) => Some(config),
            Err(e) => {
                mistakes.push(Mistake {
                    source: file
                        .as_ref()
                        .map_or("configuration".into(), |(p, _)| p.display().to_string()),
                    message: e.message().trim_end().to_string(),
                });
                None
            }
        };
        if let Some(config) = &config {
            mistakes.extend(config.validate());
        }
        match config {
            Some(config) if mistakes.is_empty() => Ok(Loaded {
                config,
                overrides,
                unknown_env,
            }),
            _ => Err(ConfigError(mistakes)),
        }
    }

    /// The mode the configured services choose; checked by [`Config::load`], so a loaded
    /// configuration names both services or neither.
    pub fn mode(&self) -> Mode {
        if self.kafka.brokers.trim().is_empty() && self.clickhouse.url.trim().is_empty() {
            Mode::Embedded
        } else {
            Mode::Services
        }
    }

    /// The segments in name order, which is their bit order in a membership mask. Names,
    /// not positions, identify a segment wherever membership is stored: adding a segment
    /// moves the bits of the ones after it.
    pub fn segment_defs(&self) -> Vec<SegmentDef> {
        self.segments
            .iter()
            .map(|(name, segment)| SegmentDef {
                name: name.clone(),
                predicate: segment.predicate.clone(),
                alert: segment.alert,
            })
            .collect()
    }

    /// Checks the values themselves, once they have the right types.
    fn validate(&self) -> Vec<Mistake> {
        let mut mistakes = match self.mode() {
            Mode::Embedded => self.validate_embedded(),
            Mode::Services => self.validate_services(),
        };
        mistakes.extend(self.pipeline.validate().into_iter().map(|e| Mistake {
            source: "[pipeline]".into(),
            message: e.to_string(),
        }));
        mistakes.extend(self.signals.validate().into_iter().map(|e| Mistake {
            source: "[signals]".into(),
            message: e.to_string(),
        }));
        mistakes.extend(self.alerts.validate().into_iter().map(|e| Mistake {
            source: "[alerts]".into(),
            message: e.to_string(),
        }));
        mistakes.extend(self.churn_model.validate().into_iter().map(|e| Mistake {
            source: "[churn_model]".into(),
            message: e.to_string(),
        }));
        if !self.segments.is_empty() {
            if let Err(errors) = Segments::compile(&self.segment_defs()) {
                mistakes.extend(errors.0.into_iter().map(|e| Mistake {
                    source: "[segments]".into(),
                    message: e.to_string(),
                }));
            }
        }
        let listen = &self.metrics.listen;
        if !listen.is_empty() && listen.parse::<std::net::SocketAddr>().is_err() {
            mistakes.push(Mistake {
                source: "[metrics]".into(),
                message: format!(
                    "metrics.listen {listen:?} is not host:port with a numeric host (e.g. \
                     127.0.0.1:9464); leave it empty to serve no metrics"
                ),
            });
        }
        mistakes
    }

    /// The embedded mode reads files and writes Parquet: the alert sinks that need a service
    /// have nothing to deliver to.
    fn validate_embedded(&self) -> Vec<Mistake> {
        let mut mistakes = Vec::new();
        if self.embedded.data_dir.as_os_str().is_empty() {
            mistakes.push(Mistake {
                source: "[embedded]".into(),
                message: "embedded.data_dir is empty; name the directory of the Parquet tables"
                    .into(),
            });
        }
        if !self.alerts.kafka_topic.is_empty() || !self.alerts.webhook.url.is_empty() {
            mistakes.push(Mistake {
                source: "[alerts]".into(),
                message: "alerts.kafka_topic and alerts.webhook need the Kafka and ClickHouse \
                          mode; the embedded mode (no kafka.brokers, no clickhouse.url) writes \
                          alerts to its profile_alerts table only"
                    .into(),
            });
        }
        mistakes
    }

    /// Kafka in, ClickHouse out: both must be named.
    fn validate_services(&self) -> Vec<Mistake> {
        let mut mistakes: Vec<Mistake> = self
            .kafka
            .validate()
            .into_iter()
            .map(|e| Mistake {
                source: "[kafka]".into(),
                message: e.to_string(),
            })
            .collect();
        let url = &self.clickhouse.url;
        if url.trim().is_empty() {
            mistakes.push(Mistake {
                source: "[clickhouse]".into(),
                message: format!(
                    "kafka.brokers is set but clickhouse.url is not: profiles from Kafka go to \
                     ClickHouse; set {} too, or neither for the embedded mode (files in, \
                     Parquet out)",
                    env_name(&["clickhouse", "url"])
                ),
            });
        } else if !(url.starts_with("http://") || url.starts_with("https://")) {
            mistakes.push(Mistake {
                source: "[clickhouse]".into(),
                message: format!(
                    "clickhouse.url {url:?} must start with http:// or https:// (the HTTP \
                     interface, e.g. http://127.0.0.1:8123)"
                ),
            });
        }
        if self.clickhouse.database.trim().is_empty() {
            mistakes.push(Mistake {
                source: "[clickhouse]".into(),
                message: "clickhouse.database is empty".into(),
            });
        }
        if self.clickhouse.crm_database == self.clickhouse.database {
            mistakes.push(Mistake {
                source: "[clickhouse]".into(),
                message: "clickhouse.crm_database must differ from clickhouse.database: the CRM \
                          database is the one the CRM may read, and nothing else is in it"
                    .into(),
            });
        }
        let clickhouse = &self.clickhouse;
        let analytics = &clickhouse.analytics_database;
        if !analytics.is_empty()
            && (*analytics == clickhouse.database || *analytics == clickhouse.crm_database)
        {
            mistakes.push(Mistake {
                source: "[clickhouse]".into(),
                message: "clickhouse.analytics_database must differ from clickhouse.database and \
                          clickhouse.crm_database: it is the one analysts may read, and it holds \
                          no real user id"
                    .into(),
            });
        }
        match (
            analytics.is_empty(),
            clickhouse.pseudonymisation_key.as_deref(),
        ) {
            (false, None) => mistakes.push(Mistake {
                source: "[clickhouse]".into(),
                message: format!(
                    "clickhouse.analytics_database {analytics:?} needs a pseudonymisation key: \
                     set {} (docs/security.md, \"Pseudonymisation\")",
                    env_name(&["clickhouse", "pseudonymisation_key"])
                ),
            }),
            (true, Some(_)) => mistakes.push(Mistake {
                source: "[clickhouse]".into(),
                message: format!(
                    "{} is set but clickhouse.analytics_database is empty: the pseudonyms would \
                     reach no analyst; set both, or neither",
                    env_name(&["clickhouse", "pseudonymisation_key"])
                ),
            }),
            (false, Some("")) => mistakes.push(Mistake {
                source: "[clickhouse]".into(),
                message: format!(
                    "{} is empty; use a long random key (e.g. `openssl rand -hex 32`)",
                    env_name(&["clickhouse", "pseudonymisation_key"])
                ),
            }),
            _ => {}
        }
        mistakes
    }
}

fn read_file(path: &Path) -> Result<(PathBuf, String), ConfigError> {
    std::fs::read_to_string(path)
        .map(|text| (path.to_path_buf(), text))
        .map_err(|e| {
            ConfigError(vec![Mistake {
                source: path.display().to_string(),
                message: format!("cannot read the configuration file: {e}"),
            }])
        })
}

fn reject_secrets(file: &Table, source: &str, mistakes: &mut Vec<Mistake>) {
    let properties = file
        .get("kafka")
        .and_then(Value::as_table)
        .and_then(|kafka| kafka.get("properties"))
        .and_then(Value::as_table);
    for key in properties.into_iter().flat_map(Table::keys) {
        let listed = SECRETS.contains(&["kafka", "properties", key.as_str()].as_slice());
        if is_secret_property(key) && !listed {
            mistakes.push(Mistake {
                source: source.to_string(),
                message: format!(
                    "kafka.properties.\"{key}\" looks like a secret, and secrets are read from \
                     the environment only; Portrait reads these properties from it: {}",
                    SECRETS
                        .iter()
                        .filter(|path| path[0] == "kafka")
                        .map(|path| env_name(path))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    for path in SECRETS {
        let (key, sections) = path.split_last().expect("a secret has a name");
        let present = sections
            .iter()
            .try_fold(file, |table, section| table.get(*section)?.as_table())
            .is_some_and(|t| t.contains_key(*key));
        if present {
            mistakes.push(Mistake {
                source: source.to_string(),
                message: format!(
                    "{} is a secret and is read from the environment only: remove it from the \
                     file and set {}",
                    path.join("."),
                    env_name(path)
                ),
            });
        }
    }
}

/// Overlays `overlay` on `base`, key by key inside sections.
fn merge(base: &mut Table, overlay: Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(base_section)), Value::Table(section)) => {
                merge(base_section, section)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `PORTRAIT_` and the key's path, upper case, dots as underscores: `["signals", "rfm",
/// "r_days"]` → `PORTRAIT_SIGNALS_RFM_R_DAYS`, `["kafka", "properties", "sasl.password"]` →
/// `PORTRAIT_KAFKA_PROPERTIES_SASL_PASSWORD`.
fn env_name(path: &[&str]) -> String {
    format!("{ENV_PREFIX}{}", path.join("_"))
        .replace('.', "_")
        .to_ascii_uppercase()
}

/// Every leaf setting below `table`, as (path, default value), depth first.
fn leaves<'a>(table: &'a Table, prefix: &[&'a str], out: &mut Vec<(Vec<&'a str>, &'a Value)>) {
    for (key, value) in table {
        let mut path = prefix.to_vec();
        path.push(key.as_str());
        match value {
            Value::Table(inner) => leaves(inner, &path, out),
            leaf => out.push((path, leaf)),
        }
    }
}

/// Sets `path` in `table` to `value`, creating the tables on the way.
fn set_path(table: &mut Table, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("a setting has a name");
    let mut table = table;
    for parent in parents {
        let entry = table
            .entry(parent.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        table = match entry {
            Value::Table(inner) => inner,
            _ => unreachable!("the defaults make {parent} a table"),
        };
    }
    table.insert(last.to_string(), value);
}

/// Applies `PORTRAIT_<PATH>` variables for every setting the defaults know, parsed to the type
/// of the default value. Returns the overrides applied and the unknown variables.
fn apply_env(
    defaults: &Table,
    merged: &mut Table,
    env: impl IntoIterator<Item = (String, String)>,
    mistakes: &mut Vec<Mistake>,
) -> (Vec<String>, Vec<String>) {
    let mut known = Vec::new();
    leaves(defaults, &[], &mut known);
    // Secrets have no default worth serializing (an absent password is `None`), so they are
    // added by hand, as strings.
    let text = Value::String(String::new());
    for secret in SECRETS {
        if !known.iter().any(|(path, _)| path == secret) {
            known.push((secret.to_vec(), &text));
        }
    }

    let mut overrides = Vec::new();
    let mut unknown = Vec::new();
    let mut env: Vec<_> = env.into_iter().collect();
    env.sort();
    for (name, raw) in env {
        if !name.starts_with(ENV_PREFIX) {
            continue;
        }
        let Some((path, default)) = known.iter().find(|(path, _)| env_name(path) == name) else {
            unknown.push(name);
            continue;
        };
        match parse_like(default, &raw) {
            Ok(value) => {
                set_path(merged, path, value);
                overrides.push(format!("{} from {name}", path.join(".")));
            }
            Err(expected) => mistakes.push(Mistake {
                source: name,
                message: format!("expected {expected}, got {raw:?}"),
            }),
        }
    }
    (overrides, unknown)
}

/// Parses an environment value into the TOML type of the setting's default.
fn parse_like(default: &Value, raw: &str) -> Result<Value, &'static str> {
    match default {
        Value::String(_) => Ok(Value::String(raw.to_string())),
        Value::Integer(_) => raw
            .trim()
            .parse()
            .map(Value::Integer)
            .map_err(|_| "an integer"),
        Value::Float(_) => raw.trim().parse().map(Value::Float).map_err(|_| "a number"),
        Value::Boolean(_) => match raw.trim() {
            "true" | "1" | "yes" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" => Ok(Value::Boolean(false)),
            _ => Err("true or false"),
        },
        // Comma-separated, each item parsed like the default's items (strings if it has none).
        Value::Array(items) => {
            let like = items
                .first()
                .cloned()
                .unwrap_or(Value::String(String::new()));
            raw.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| parse_like(&like, item))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
                .map_err(|_| "a comma-separated list")
        }
        Value::Datetime(_) | Value::Table(_) => Err("a value that can be set in the file only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Both services named: the Kafka mode, whose settings are checked.
    const SERVICES: [(&str, &str); 2] = [
        ("PORTRAIT_KAFKA_BROKERS", "127.0.0.1:9092"),
        ("PORTRAIT_CLICKHOUSE_URL", "http://127.0.0.1:8123"),
    ];

    fn file(text: &str) -> Option<(PathBuf, String)> {
        Some((PathBuf::from("portrait.toml"), text.to_string()))
    }

    #[test]
    fn environment_overrides_file_and_splits_lists() {
        let loaded = Config::from_layers(
            file(
                "[kafka]\nbrokers = \"file:9092\"\ntopics = [\"a\"]\n\
                 [clickhouse]\nurl = \"http://c:8123\"\n",
            ),
            env(&[
                ("PORTRAIT_KAFKA_BROKERS", "env:9092"),
                ("PORTRAIT_KAFKA_TOPICS", "pv, search ,chat"),
            ]),
        )
        .unwrap();
        assert_eq!(loaded.config.kafka.brokers, "env:9092");
        assert_eq!(loaded.config.kafka.topics, ["pv", "search", "chat"]);
        assert_eq!(
            loaded.overrides,
            [
                "kafka.brokers from PORTRAIT_KAFKA_BROKERS",
                "kafka.topics from PORTRAIT_KAFKA_TOPICS"
            ]
        );
    }

    #[test]
    fn the_example_file_states_every_default() {
        // Parsed on its own, not merged over the defaults, so a setting missing from the
        // example fails this test too.
        let example: Table = include_str!("../portrait.example.toml").parse().unwrap();
        assert_eq!(
            Value::Table(example),
            Value::try_from(Config::default()).unwrap()
        );
    }

    #[test]
    fn defaults_are_the_embedded_mode_and_both_services_the_kafka_mode() {
        let loaded = Config::from_layers(None, env(&[])).unwrap();
        assert_eq!(loaded.config.mode(), Mode::Embedded);
        let loaded = Config::from_layers(None, env(&SERVICES)).unwrap();
        assert_eq!(loaded.config.mode(), Mode::Services);
    }

    #[test]
    fn one_service_without_the_other_is_refused_with_what_to_set() {
        let err = Config::from_layers(None, env(&[("PORTRAIT_KAFKA_BROKERS", "k:9092")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PORTRAIT_CLICKHOUSE_URL too"), "{err}");
        let err = Config::from_layers(None, env(&[("PORTRAIT_CLICKHOUSE_URL", "http://c:8123")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("kafka.brokers is empty"), "{err}");
    }

    #[test]
    fn the_embedded_mode_refuses_alert_sinks_it_cannot_reach() {
        let err = Config::from_layers(None, env(&[("PORTRAIT_ALERTS_KAFKA_TOPIC", "alerts")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("writes alerts to its profile_alerts table only"),
            "{err}"
        );
    }

    #[test]
    fn nested_settings_have_variables_too() {
        let loaded = Config::from_layers(
            None,
            env(&[
                ("PORTRAIT_SIGNALS_TOP_CATEGORIES_COUNT", "3"),
                ("PORTRAIT_SIGNALS_RFM_ORDERS", "20, 8,4,2"),
            ]),
        )
        .unwrap();
        assert_eq!(loaded.config.signals.top_categories.count, 3);
        assert_eq!(loaded.config.signals.rfm.orders, [20, 8, 4, 2]);
        assert_eq!(
            loaded.overrides,
            [
                "signals.rfm.orders from PORTRAIT_SIGNALS_RFM_ORDERS",
                "signals.top_categories.count from PORTRAIT_SIGNALS_TOP_CATEGORIES_COUNT"
            ]
        );
    }

    #[test]
    fn file_values_replace_defaults_key_by_key() {
        let loaded =
            Config::from_layers(file("[clickhouse]\ndatabase = \"crm\"\n"), env(&[])).unwrap();
        assert_eq!(loaded.config.clickhouse.database, "crm");
        assert_eq!(
            loaded.config.clickhouse.url,
            ClickHouseConfig::default().url
        );
    }

    #[test]
    fn password_comes_from_the_environment_only() {
        let err = Config::from_layers(file("[clickhouse]\npassword = \"hunter2\"\n"), env(&[]))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("PORTRAIT_CLICKHOUSE_PASSWORD"), "{text}");
        assert!(!text.contains("hunter2"), "the secret leaked: {text}");

        let loaded =
            Config::from_layers(None, env(&[("PORTRAIT_CLICKHOUSE_PASSWORD", "hunter2")])).unwrap();
        assert_eq!(
            loaded.config.clickhouse.password.as_deref(),
            Some("hunter2")
        );
    }

    #[test]
    fn pseudonymisation_key_comes_from_the_environment_only_and_needs_its_database() {
        let err = Config::from_layers(
            file("[clickhouse]\nanalytics_database = \"a\"\npseudonymisation_key = \"k3y\"\n"),
            env(&SERVICES),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("PORTRAIT_CLICKHOUSE_PSEUDONYMISATION_KEY"),
            "{text}"
        );
        assert!(!text.contains("k3y"), "the secret leaked: {text}");

        let key = env(&[
            SERVICES[0],
            SERVICES[1],
            ("PORTRAIT_CLICKHOUSE_PSEUDONYMISATION_KEY", "k3y"),
        ]);
        let err = Config::from_layers(None, key.clone()).unwrap_err();
        assert!(
            err.to_string().contains("analytics_database is empty"),
            "{err}"
        );
        let err = Config::from_layers(
            file("[clickhouse]\nanalytics_database = \"a\"\n"),
            env(&SERVICES),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("needs a pseudonymisation key"),
            "{err}"
        );

        let loaded =
            Config::from_layers(file("[clickhouse]\nanalytics_database = \"a\"\n"), key).unwrap();
        assert_eq!(
            loaded.config.clickhouse.pseudonymisation_key.as_deref(),
            Some("k3y")
        );
        let shown = toml::to_string_pretty(&loaded.config).unwrap();
        assert!(!shown.contains("k3y"), "{shown}");
    }

    #[test]
    fn kafka_secrets_come_from_the_environment_only() {
        let err = Config::from_layers(
            file("[kafka.properties]\n\"sasl.password\" = \"hunter2\"\n\"x.secret\" = \"s3\"\n"),
            env(&[]),
        )
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(err.0.len(), 2, "{text}");
        assert!(
            text.contains("PORTRAIT_KAFKA_PROPERTIES_SASL_PASSWORD"),
            "{text}"
        );
        assert!(text.contains("kafka.properties.\"x.secret\""), "{text}");
        assert!(!text.contains("hunter2") && !text.contains("s3"), "{text}");

        let loaded = Config::from_layers(
            file("[kafka.properties]\n\"sasl.username\" = \"portrait\"\n"),
            env(&[("PORTRAIT_KAFKA_PROPERTIES_SASL_PASSWORD", "hunter2")]),
        )
        .unwrap();
        let properties = &loaded.config.kafka.properties;
        assert_eq!(properties["sasl.password"], "hunter2");
        assert_eq!(properties["sasl.username"], "portrait");
        let shown = toml::to_string_pretty(&loaded.config).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let err = Config::from_layers(
            file("[kafka]\nbrokers = \"\"\n[clickhouse]\nurl = \"localhost:8123\"\n"),
            env(&[("PORTRAIT_CLICKHOUSE_VALIDATION", "maybe")]),
        )
        .unwrap_err();
        let sources: Vec<_> = err.0.iter().map(|m| m.source.as_str()).collect();
        assert_eq!(
            sources,
            ["PORTRAIT_CLICKHOUSE_VALIDATION", "[kafka]", "[clickhouse]"]
        );
    }

    #[test]
    fn segments_are_read_in_name_order_with_alert_off_by_default() {
        let loaded = Config::from_layers(
            file(
                "[segments.vip_at_risk]\n\
                 where = \"rfm_segment = 'champions' AND lifecycle_stage = 'at_risk'\"\n\
                 alert = true\n\
                 [segments.promo_only]\n\
                 where = \"orders >= 2 AND promo_orders = orders\"\n",
            ),
            env(&[]),
        )
        .unwrap();
        assert_eq!(
            loaded.config.segment_defs(),
            [
                SegmentDef {
                    name: "promo_only".into(),
                    predicate: "orders >= 2 AND promo_orders = orders".into(),
                    alert: false,
                },
                SegmentDef {
                    name: "vip_at_risk".into(),
                    predicate: "rfm_segment = 'champions' AND lifecycle_stage = 'at_risk'".into(),
                    alert: true,
                },
            ]
        );
    }

    #[test]
    fn every_bad_segment_is_reported_with_its_position() {
        let err = Config::from_layers(
            file(
                "[segments.Bad-Name]\nwhere = \"orders > 1\"\n\
                 [segments.typo]\nwhere = \"orders > 1 AND revenu > 500\"\n",
            ),
            env(&[]),
        )
        .unwrap_err();
        let sources: Vec<_> = err.0.iter().map(|m| m.source.as_str()).collect();
        assert_eq!(sources, ["[segments]", "[segments]"], "{err}");
        let text = err.to_string();
        assert!(text.contains("segment name \"Bad-Name\""), "{text}");
        assert!(
            text.contains(
                "segment typo: no column \"revenu\" in user_profiles, at line 1, column 16:"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_segment_needs_its_predicate() {
        let err =
            Config::from_layers(file("[segments.vip]\nalert = true\n"), env(&[])).unwrap_err();
        assert!(err.to_string().contains("missing field `where`"), "{err}");
    }

    #[test]
    fn unknown_keys_and_variables_are_named() {
        let err = Config::from_layers(file("[kafka]\nbroker = \"x\"\n"), env(&[])).unwrap_err();
        assert!(err.to_string().contains("broker"), "{err}");

        let loaded = Config::from_layers(None, env(&[("PORTRAIT_KAFKA_BROKER", "x")])).unwrap();
        assert_eq!(loaded.unknown_env, ["PORTRAIT_KAFKA_BROKER"]);
    }
}
