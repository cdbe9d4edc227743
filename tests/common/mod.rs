//! What the integration tests share: the local services' endpoints (from the environment that
//! `scripts/services up` writes to `.services/env`) and names no other test or run uses, so
//! tests run in any order and in parallel.
#![allow(dead_code)] // Each test binary uses its own subset.

pub mod alerts;
pub mod churn_model;
pub mod embedded;
pub mod memory;
pub mod pipeline;
pub mod services;
pub mod webhook;

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use portrait_connectors::clickhouse::ClickHouseConfig;
use portrait_connectors::kafka::KafkaConfig;
use portrait_generator::MalformedKind;

/// The lifecycle stages, the promotion tiers and the alert kinds in the order docs/signals.md
/// and docs/alerts.md list them, which the dashboards and the report sort and draw by.
pub const STAGES: [&str; 6] = [
    "new",
    "active",
    "reactivated",
    "at_risk",
    "dormant",
    "churned",
];
pub const TIERS: [&str; 6] = ["promo_only", "high", "medium", "low", "none", "unknown"];
pub const ALERT_KINDS: [&str; 5] = ["activated", "at_risk", "dormant", "churned", "reactivated"];

fn endpoint(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} is not set: run scripts/services up and source .services/env")
    })
}

/// A name no other test or earlier run uses: `prefix`, the process id and the clock.
pub fn fresh(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// The local broker, with the given topics and consumer group.
pub fn kafka_config(topics: &[&str], group: &str) -> KafkaConfig {
    broker_config("PORTRAIT_KAFKA_BROKERS", topics, group)
}

/// The local durable broker (tansu with `sqlite://` storage), with the given topics and
/// consumer group: for tests where a consumer resumes mid-stream or the broker restarts, which
/// the fast `memory://` broker gets wrong (docs/offsets.md, "Known broker quirks").
pub fn durable_kafka_config(topics: &[&str], group: &str) -> KafkaConfig {
    broker_config("PORTRAIT_KAFKA_DURABLE_BROKERS", topics, group)
}

fn broker_config(variable: &str, topics: &[&str], group: &str) -> KafkaConfig {
    KafkaConfig {
        brokers: endpoint(variable),
        topics: topics.iter().map(|t| t.to_string()).collect(),
        group: group.to_owned(),
        ..KafkaConfig::default()
    }
}

/// The local ClickHouse, with a database name no other test uses (not created yet).
pub fn fresh_clickhouse_config(test: &str) -> ClickHouseConfig {
    ClickHouseConfig {
        url: endpoint("PORTRAIT_CLICKHOUSE_URL"),
        database: fresh(&format!("portrait_test_{test}")),
        ..ClickHouseConfig::default()
    }
}

/// The CRM database a test on `config`'s fresh database may set up: dropped with it.
pub fn crm_database(config: &ClickHouseConfig) -> String {
    format!("{}_crm", config.database)
}

/// The analytics database a test on `config`'s fresh database may set up: dropped with it.
pub fn analytics_database(config: &ClickHouseConfig) -> String {
    format!("{}_analytics", config.database)
}

/// Runs `body` on a fresh database and drops the database afterwards, with its CRM database
/// (`<database>_crm`) should `body` have set one up, even when `body` panics (the panic is
/// re-raised once the databases are gone).
pub async fn on_fresh_database<F, Fut>(test: &str, body: F)
where
    F: FnOnce(ClickHouseConfig) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let config = fresh_clickhouse_config(test);
    let outcome = tokio::spawn(body(config.clone())).await;
    let server = ClickHouseConfig {
        database: "default".to_owned(),
        ..config.clone()
    };
    for database in [
        config.database.clone(),
        crm_database(&config),
        analytics_database(&config),
    ] {
        server
            .client()
            .query(&format!("DROP DATABASE IF EXISTS `{database}`"))
            .execute()
            .await
            .expect("drop the test database");
    }
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// The decoder's `(reason, field)` for each way the generator breaks the contract. The
/// generator names kinds by what it broke, the decoder by what a producer must fix, so several
/// kinds share a reason; the field tells them apart.
pub fn expected_rejection(kind: MalformedKind) -> (&'static str, Option<&'static str>) {
    match kind {
        MalformedKind::InvalidJson => ("invalid_json", None),
        MalformedKind::MissingEventId => ("missing_field", Some("event_id")),
        MalformedKind::MissingType => ("missing_field", Some("type")),
        MalformedKind::MissingUserId => ("missing_field", Some("user_id")),
        MalformedKind::MissingTs => ("missing_field", Some("ts")),
        MalformedKind::UnknownType => ("unknown_type", Some("type")),
        MalformedKind::UnparseableTs => ("bad_timestamp", Some("ts")),
        MalformedKind::TsWrongType => ("wrong_type", Some("ts")),
        MalformedKind::EmptyUserId => ("empty_user_id", Some("user_id")),
        MalformedKind::UserIdTooLong => ("user_id_too_long", Some("user_id")),
        MalformedKind::PayloadTooLarge => ("payload_too_large", None),
        MalformedKind::AmountWrongType => ("wrong_type", Some("props.amount")),
        MalformedKind::IsPromoWrongType => ("wrong_type", Some("props.is_promo")),
        MalformedKind::InvalidDirection => ("invalid_enum_value", Some("props.direction")),
        MalformedKind::InvalidAccountAction => ("invalid_enum_value", Some("props.action")),
        MalformedKind::NegativeAmount => ("invalid_value", Some("props.amount")),
    }
}
