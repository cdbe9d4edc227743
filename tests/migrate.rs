//! `migrate` against the real ClickHouse started by `scripts/services up`, found through
//! `PORTRAIT_CLICKHOUSE_URL`. Each test works in a database of its own, created by the
//! migration under test and dropped at the end, so tests run in any order and in parallel.

mod common;

use common::on_fresh_database;
use portrait_connectors::clickhouse::{
    migrate, migrate_with, ClickHouseConfig, MigrateError, Migration, EMBEDDED,
};

fn names(migrations: &[Migration<'_>]) -> Vec<String> {
    migrations.iter().map(|m| m.name.to_owned()).collect()
}

async fn recorded_migrations(config: &ClickHouseConfig) -> Vec<String> {
    config
        .client()
        .query("SELECT name FROM schema_migrations ORDER BY name")
        .fetch_all::<String>()
        .await
        .expect("read schema_migrations")
}

#[tokio::test]
async fn migrating_twice_applies_each_file_once() {
    on_fresh_database("twice", |config| async move {
        let first = migrate(&config).await.expect("first migrate");
        assert_eq!(first.database, config.database);
        assert_eq!(first.applied, names(EMBEDDED));
        assert!(first.already_applied.is_empty());

        let second = migrate(&config).await.expect("second migrate");
        assert!(second.applied.is_empty(), "{second}");
        assert_eq!(second.already_applied, names(EMBEDDED));
        assert_eq!(recorded_migrations(&config).await, names(EMBEDDED));
    })
    .await;
}

/// The column contracts, written out by hand from docs/signals.md and DESIGN.md's storage
/// section rather than read from the SQL files they check.
const USER_PROFILE_COLUMNS: &[(&str, &str)] = &[
    ("user_id", "String"),
    ("first_seen_at", "DateTime('UTC')"),
    ("first_contact_at", "Nullable(DateTime('UTC'))"),
    ("last_active_at", "Nullable(DateTime('UTC'))"),
    ("page_views", "UInt64"),
    ("searches", "UInt64"),
    ("messages_sent", "UInt64"),
    ("messages_received", "UInt64"),
    ("orders", "UInt64"),
    ("promo_orders", "UInt64"),
    ("revenue", "Float64"),
    ("discount_total", "Float64"),
    ("active_days_30d", "UInt32"),
    ("activated", "UInt8"),
    ("activated_at", "Nullable(DateTime('UTC'))"),
    ("days_inactive", "UInt32"),
    ("events_7d", "UInt32"),
    ("events_prev_28d", "UInt32"),
    ("frequency_drop", "Float64"),
    ("hard_churned", "UInt8"),
    ("marketing_averse", "UInt8"),
    ("reactivated_at", "Nullable(DateTime('UTC'))"),
    ("lifecycle_stage", "String"),
    ("churn_risk", "Float64"),
    ("promo_order_share", "Float64"),
    ("discount_share", "Float64"),
    ("promo_engagement", "UInt64"),
    ("promo_tier", "String"),
    ("rfm_recency_days", "Nullable(UInt32)"),
    ("rfm_r", "Nullable(UInt8)"),
    ("rfm_f", "Nullable(UInt8)"),
    ("rfm_m", "Nullable(UInt8)"),
    ("rfm_segment", "Nullable(String)"),
    ("top_categories", "Array(String)"),
    ("purchasing_power", "Nullable(String)"),
];

/// The churn model's columns (migrations 0012 and 0013), last in the table and in the view.
const CHURN_MODEL_COLUMNS: &[(&str, &str)] = &[
    ("repeat_order_days", "Nullable(UInt32)"),
    ("order_span_days", "Nullable(UInt32)"),
    ("customer_age_days", "Nullable(UInt32)"),
    ("p_alive", "Nullable(Float64)"),
    ("expected_orders_90d", "Nullable(Float64)"),
];

/// The churn model's fitted parameters (migration 0014).
const FITTED_CHURN_MODEL_COLUMNS: &[(&str, &str)] = &[
    ("fitted_at", "DateTime('UTC')"),
    ("r", "Float64"),
    ("alpha", "Float64"),
    ("a", "Float64"),
    ("b", "Float64"),
    ("users", "UInt64"),
    ("log_likelihood", "Float64"),
    ("iterations", "UInt64"),
];

/// When and in which version a profile row was written.
const WRITTEN_COLUMNS: &[(&str, &str)] =
    &[("updated_at", "DateTime('UTC')"), ("version", "UInt64")];

const PROFILE_STATE_COLUMNS: &[(&str, &str)] = &[
    ("partition", "UInt32"),
    ("user_id", "String"),
    ("state", "String"),
    ("version", "UInt64"),
    ("updated_at", "DateTime('UTC')"),
    ("next_change_ms", "Int64"),
    ("alert_due_ms", "Int64"),
    ("deadlines_fingerprint", "UInt64"),
];

const EVENT_COLUMNS: &[(&str, &str)] = &[
    ("event_id", "String"),
    ("user_id", "String"),
    ("type", "String"),
    ("ts", "DateTime('UTC')"),
    ("day", "Date"),
    ("category", "String"),
    ("page", "String"),
    ("amount", "Float64"),
    ("topic", "String"),
    ("partition", "UInt32"),
    ("offset", "UInt64"),
];

const DEAD_LETTER_COLUMNS: &[(&str, &str)] = &[
    ("received_at", "DateTime('UTC')"),
    ("topic", "String"),
    ("partition", "UInt32"),
    ("offset", "Int64"),
    ("key", "String"),
    ("reason", "String"),
    ("detail", "String"),
    ("payload", "String"),
];

const PROFILE_ALERT_COLUMNS: &[(&str, &str)] = &[
    ("alert_id", "String"),
    ("user_id", "String"),
    ("kind", "String"),
    ("transition_at", "DateTime('UTC')"),
    ("transition_at_ms", "Int64"),
    ("stage_before", "Nullable(String)"),
    ("stage_after", "String"),
    ("reason", "String"),
    ("days_inactive", "UInt32"),
    ("events_7d", "UInt32"),
    ("events_prev_28d", "UInt32"),
    ("frequency_drop", "Float64"),
    ("churn_risk", "Float64"),
    ("hard_churned", "UInt8"),
    ("messages_sent", "UInt64"),
    ("last_active_at", "Nullable(DateTime('UTC'))"),
    ("emitted_at", "DateTime('UTC')"),
];

const SEGMENT_MEMBERSHIP_COLUMNS: &[(&str, &str)] = &[
    ("user_id", "String"),
    ("segment", "String"),
    ("change", "String"),
    ("at", "DateTime('UTC')"),
    ("version", "UInt64"),
];

const SEGMENT_MEMBERS_COLUMNS: &[(&str, &str)] = &[
    ("user_id", "String"),
    ("segment", "String"),
    ("entered_at", "DateTime('UTC')"),
    ("version", "UInt64"),
];

/// Columns as `(name, type)`, in table order.
type Columns = &'static [(&'static str, &'static str)];

/// `(name, type)` of each column, in table order. 18.16's system.columns has no `position`
/// column to sort by; it lists a table's columns in definition order.
async fn columns(config: &ClickHouseConfig, table: &str) -> Vec<(String, String)> {
    config
        .client()
        .query("SELECT name, type FROM system.columns WHERE database = ? AND table = ?")
        .bind(config.database.as_str())
        .bind(table)
        .fetch_all::<(String, String)>()
        .await
        .unwrap_or_else(|err| panic!("columns of {table}: {err}"))
}

#[tokio::test]
async fn tables_have_the_contract_columns() {
    on_fresh_database("columns", |config| async move {
        migrate(&config).await.expect("migrate");
        // The tables end with the pseudonyms of migrations 0007-0009 and 0011
        // (docs/security.md, "Pseudonymisation"), and user_profiles with the churn model's
        // columns added after them; the contract views do not show the pseudonyms.
        const USER_KEY: &[(&str, &str)] = &[("user_key", "String")];
        const EVENT_KEYS: &[(&str, &str)] = &[("user_key", "String"), ("event_key", "String")];
        let tables: [(&str, &[Columns]); 10] = [
            (
                "user_profiles",
                &[
                    USER_PROFILE_COLUMNS,
                    WRITTEN_COLUMNS,
                    USER_KEY,
                    CHURN_MODEL_COLUMNS,
                ],
            ),
            (
                "user_profiles_current",
                &[USER_PROFILE_COLUMNS, WRITTEN_COLUMNS, CHURN_MODEL_COLUMNS],
            ),
            ("profile_state", &[PROFILE_STATE_COLUMNS]),
            ("events", &[EVENT_COLUMNS, EVENT_KEYS]),
            ("dead_letters", &[DEAD_LETTER_COLUMNS]),
            ("profile_alerts", &[PROFILE_ALERT_COLUMNS, USER_KEY]),
            ("profile_alerts_unique", &[PROFILE_ALERT_COLUMNS]),
            (
                "segment_membership",
                &[SEGMENT_MEMBERSHIP_COLUMNS, USER_KEY],
            ),
            ("segment_members", &[SEGMENT_MEMBERS_COLUMNS]),
            ("churn_model", &[FITTED_CHURN_MODEL_COLUMNS]),
        ];
        for (table, parts) in tables {
            let expected: Vec<(String, String)> = parts
                .iter()
                .copied()
                .flatten()
                .map(|(name, ty)| (name.to_string(), ty.to_string()))
                .collect();
            assert_eq!(
                columns(&config, table).await,
                expected,
                "columns of {table}"
            );
        }
    })
    .await;
}

/// FAULTS.md pitfall 3: ReplacingMergeTree removes old versions only when parts merge, so the
/// view must give one row per user, the highest version, both before and after a merge.
#[tokio::test]
async fn current_view_shows_only_the_latest_version() {
    on_fresh_database("current", |config| async move {
        migrate(&config).await.expect("migrate");
        let client = config.client();
        let run = |sql: &'static str| {
            let client = client.clone();
            async move {
                client
                    .query(sql)
                    .execute()
                    .await
                    .unwrap_or_else(|err| panic!("{sql}: {err}"))
            }
        };
        // Merges off, so the three versions stay in three parts while the view is read.
        run("SYSTEM STOP MERGES user_profiles").await;
        // Version 2 is inserted first: the view must pick by version, not by arrival.
        run(
            "INSERT INTO user_profiles (user_id, first_seen_at, lifecycle_stage, updated_at, \
             version) VALUES ('u1', '2024-01-01 00:00:00', 'churned', '2024-03-01 00:00:00', 2)",
        )
        .await;
        run(
            "INSERT INTO user_profiles (user_id, first_seen_at, lifecycle_stage, updated_at, \
             version) VALUES ('u1', '2024-01-01 00:00:00', 'active', '2024-02-01 00:00:00', 1)",
        )
        .await;
        run(
            "INSERT INTO user_profiles (user_id, first_seen_at, lifecycle_stage, updated_at, \
             version) VALUES ('u2', '2024-01-05 00:00:00', 'new', '2024-01-05 00:00:00', 1)",
        )
        .await;

        let stored = || async {
            client
                .query("SELECT count() FROM user_profiles")
                .fetch_one::<u64>()
                .await
                .expect("count user_profiles")
        };
        let current = || async {
            client
                .query(
                    "SELECT user_id, lifecycle_stage, version FROM user_profiles_current \
                     ORDER BY user_id",
                )
                .fetch_all::<(String, String, u64)>()
                .await
                .expect("read user_profiles_current")
        };
        let expected = vec![
            ("u1".to_owned(), "churned".to_owned(), 2),
            ("u2".to_owned(), "new".to_owned(), 1),
        ];

        assert_eq!(
            stored().await,
            3,
            "merges were stopped: every version still stored"
        );
        assert_eq!(current().await, expected, "before the merge");

        run("SYSTEM START MERGES user_profiles").await;
        run("OPTIMIZE TABLE user_profiles FINAL").await;
        assert_eq!(stored().await, 2, "the merge dropped the old version");
        assert_eq!(current().await, expected, "after the merge");
    })
    .await;
}

#[tokio::test]
async fn failing_statement_is_named_and_its_file_left_unrecorded() {
    on_fresh_database("broken", |config| async move {
        // The `?` checks that SQL text reaches the server verbatim: the client would otherwise
        // take it for a bind placeholder.
        let good = Migration {
            name: "0001_good.sql",
            sql: "CREATE VIEW IF NOT EXISTS answer AS SELECT 'why?' AS question;",
        };
        let broken = Migration {
            name: "0002_broken.sql",
            sql: "CREATE TABLE IF NOT EXISTS fine (x UInt8) ENGINE = Log;\n\
                  -- the mistake:\n\
                  CREATE TABLE IF NOT EXISTS bad (x NoSuchType) ENGINE = Log;\n",
        };
        let err = migrate_with(&config, &[good, broken]).await.unwrap_err();
        match &err {
            MigrateError::Statement {
                name,
                number,
                line,
                statement,
                message,
            } => {
                assert_eq!(name, "0002_broken.sql");
                assert_eq!(*number, 2);
                assert_eq!(*line, 3);
                assert_eq!(
                    statement,
                    "CREATE TABLE IF NOT EXISTS bad (x NoSuchType) ENGINE = Log"
                );
                assert!(message.contains("NoSuchType"), "server message: {message}");
            }
            other => panic!("expected a statement error, got {other:?}"),
        }
        let text = err.to_string();
        for part in ["0002_broken.sql", "statement 2", "line 3", "x NoSuchType"] {
            assert!(text.contains(part), "{part:?} missing from: {text}");
        }

        assert_eq!(recorded_migrations(&config).await, ["0001_good.sql"]);
        let question = config
            .client()
            .query("SELECT question FROM answer")
            .fetch_one::<String>()
            .await
            .expect("read the view");
        assert_eq!(question, "why?");

        // The fixed file runs from the top: its first statement is re-runnable.
        let fixed = Migration {
            name: "0002_broken.sql",
            sql: "CREATE TABLE IF NOT EXISTS fine (x UInt8) ENGINE = Log;\n\
                  CREATE TABLE IF NOT EXISTS bad (x UInt8) ENGINE = Log;\n",
        };
        let report = migrate_with(&config, &[good, fixed]).await.expect("fixed");
        assert_eq!(report.applied, ["0002_broken.sql"]);
        assert_eq!(report.already_applied, ["0001_good.sql"]);
    })
    .await;
}

#[tokio::test]
async fn editing_an_applied_migration_is_refused() {
    on_fresh_database("edited", |config| async move {
        let original = Migration {
            name: "0001_table.sql",
            sql: "CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = Log;",
        };
        migrate_with(&config, &[original]).await.expect("original");

        let edited = Migration {
            sql: "CREATE TABLE IF NOT EXISTS t (x UInt16) ENGINE = Log;",
            ..original
        };
        let err = migrate_with(&config, &[edited]).await.unwrap_err();
        assert!(
            matches!(&err, MigrateError::Changed { name, .. } if name == "0001_table.sql"),
            "{err}"
        );
    })
    .await;
}
