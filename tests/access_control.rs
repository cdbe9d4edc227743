//! Access control on ClickHouse 18.16 (docs/security.md, "Access control"), with real logins
//! as the users `scripts/services` installs: the CRM reads its view and nothing else, and
//! analysts read the dashboards' tables but cannot change anything; with pseudonymisation,
//! analysts read the pseudonymised database and not the main one.
//!
//! The server is a private one started by `scripts/services`, with the users.d it writes for
//! every install: those users are allowed the databases `portrait` and `portrait_crm` by name,
//! and a private server is what lets this test own those names.

mod common;

use clickhouse::error::Error;
use common::services::PrivateService;
use portrait_connectors::clickhouse::{migrate, ClickHouseConfig, CrmFeed};

/// The databases users.d allows analysts and the CRM (the defaults of a deployment).
const DATABASE: &str = "portrait";
const CRM_DATABASE: &str = "portrait_crm";
const ANALYTICS_DATABASE: &str = "portrait_analytics";

/// ClickHouse's DATABASE_ACCESS_DENIED and READONLY error codes.
const ACCESS_DENIED: &str = "Code: 291";
const READONLY: &str = "Code: 164";

/// The login of `portrait_{party}`, working in `database`.
fn login(server: &PrivateService, party: &str, database: &str) -> ClickHouseConfig {
    ClickHouseConfig {
        url: server.url(),
        database: database.to_owned(),
        crm_database: CRM_DATABASE.to_owned(),
        user: format!("portrait_{party}"),
        password: Some(server.clickhouse_password(party)),
        ..ClickHouseConfig::default()
    }
}

/// Runs `sql` as `config`'s user and insists that the server refuses it with `code` and a
/// message containing `says`; returns the server's message.
async fn refused(config: &ClickHouseConfig, sql: &str, code: &str, says: &str) -> String {
    match config
        .client()
        .query(&sql.replace('?', "??"))
        .execute()
        .await
    {
        Ok(()) => panic!("{} was allowed to run: {sql}", config.user),
        Err(Error::BadResponse(message)) => {
            assert!(
                message.contains(code) && message.contains(says),
                "{} running {sql}: expected {code} and {says:?}, got: {message}",
                config.user
            );
            message
        }
        Err(other) => panic!(
            "{} running {sql}: not the server's refusal: {other}",
            config.user
        ),
    }
}

async fn count(config: &ClickHouseConfig, sql: &str) -> u64 {
    config
        .client()
        .query(sql)
        .fetch_one::<u64>()
        .await
        .unwrap_or_else(|e| panic!("{} running {sql}: {e}", config.user))
}

/// A profile row with only the columns the test looks at; the others take their defaults.
fn profile(user_id: &str, version: u64, stage: &str) -> String {
    format!(
        "('{user_id}', toDateTime('2026-03-01 10:00:00', 'UTC'), '{stage}', \
         toDateTime('2026-03-0{version} 00:00:00', 'UTC'), {version})"
    )
}

async fn insert_profiles(writer: &ClickHouseConfig, rows: &[String]) {
    let sql = format!(
        "INSERT INTO user_profiles (user_id, first_seen_at, lifecycle_stage, updated_at, version) \
         VALUES {}",
        rows.join(", ")
    );
    writer.client().query(&sql).execute().await.unwrap();
}

/// The writer's data: profiles (one written before the CRM database existed, one user with
/// two versions), and a row in each other table the CRM must not see.
async fn write_data(writer: &ClickHouseConfig) {
    let plain = ClickHouseConfig {
        crm_database: String::new(),
        ..writer.clone()
    };
    let report = migrate(&plain).await.unwrap();
    assert_eq!(report.crm_feed, None);
    insert_profiles(writer, &[profile("u0", 1, "new")]).await;

    let report = migrate(writer).await.unwrap();
    assert_eq!(
        report.crm_feed,
        Some(CrmFeed {
            database: CRM_DATABASE.to_owned(),
            created: true
        })
    );
    insert_profiles(writer, &[profile("u1", 1, "new"), profile("u2", 1, "new")]).await;
    insert_profiles(writer, &[profile("u1", 2, "active")]).await;

    for sql in [
        "INSERT INTO profile_state (partition, user_id, state, version, updated_at) \
         VALUES (0, 'u1', 'opaque', 2, now())",
        "INSERT INTO events (event_id, user_id, type, ts, day) \
         VALUES ('e1', 'u1', 'page_view', now(), today())",
        "INSERT INTO dead_letters (received_at, topic, partition, offset, key, reason) \
         VALUES (now(), 'events', 0, 7, 'u9', 'invalid_json')",
    ] {
        writer.client().query(sql).execute().await.unwrap();
    }

    let again = migrate(writer).await.unwrap();
    assert_eq!(
        again.crm_feed,
        Some(CrmFeed {
            database: CRM_DATABASE.to_owned(),
            created: false
        }),
        "a second migrate leaves the CRM database as it is"
    );
}

/// With pseudonymisation the analysts' user is allowed the analytics database only
/// (`PORTRAIT_CLICKHOUSE_ANALYST_DATABASE`), where the ids are the keyed hashes the pipeline
/// wrote in `user_key` (tests/pseudonymisation.rs checks the hashes themselves).
#[tokio::test(flavor = "multi_thread")]
async fn with_pseudonymisation_analysts_read_the_hashes_and_not_the_real_ids() {
    let server =
        PrivateService::clickhouse_for_analysts_of("access_pseudo", ANALYTICS_DATABASE).await;
    let writer = ClickHouseConfig {
        analytics_database: ANALYTICS_DATABASE.to_owned(),
        ..login(&server, "writer", DATABASE)
    };
    migrate(&writer).await.unwrap();
    writer
        .client()
        .query(
            "INSERT INTO user_profiles (user_id, first_seen_at, lifecycle_stage, updated_at, \
             version, user_key) VALUES ('u1', now(), 'new', now(), 1, 'k1')",
        )
        .execute()
        .await
        .unwrap();

    let analyst = login(&server, "analyst", ANALYTICS_DATABASE);
    let ids: Vec<String> = analyst
        .client()
        .query("SELECT user_id FROM user_profiles_current")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(ids, ["k1"], "the analysts' view shows the pseudonym");
    let denied = format!("Access denied to database {DATABASE} for user portrait_analyst");
    for table in [
        "user_profiles",
        "user_profiles_current",
        "events",
        "profile_alerts",
    ] {
        let sql = format!("SELECT count() FROM {DATABASE}.{table}");
        refused(&analyst, &sql, ACCESS_DENIED, &denied).await;
    }
    refused(
        &analyst,
        "INSERT INTO user_profiles (user_id) VALUES ('x')",
        READONLY,
        "readonly",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_crm_reads_its_view_and_nothing_else_and_analysts_cannot_write() {
    let server = PrivateService::clickhouse("access_control").await;
    let writer = login(&server, "writer", DATABASE);
    write_data(&writer).await;

    // The CRM: its view, with every user once at the latest version (u0 came by the backfill,
    // u1 and u2 by the feed), in the format docs/crm.md's sync asks for.
    let crm = login(&server, "crm", CRM_DATABASE);
    let profiles = crm
        .client()
        .query(
            "SELECT user_id, version, lifecycle_stage FROM user_profiles_current ORDER BY user_id",
        )
        .fetch_all::<(String, u64, String)>()
        .await
        .unwrap();
    assert_eq!(
        profiles,
        [
            ("u0".to_owned(), 1, "new".to_owned()),
            ("u1".to_owned(), 2, "active".to_owned()),
            ("u2".to_owned(), 1, "new".to_owned()),
        ]
    );
    let json = crm
        .client()
        .with_option("output_format_json_quote_64bit_integers", "0")
        .query("SELECT user_id, version FROM user_profiles_current WHERE user_id = 'u1'")
        .fetch_bytes("JSONEachRow")
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(&json[..], b"{\"user_id\":\"u1\",\"version\":2}\n");

    // ... and nothing of the main database, directly, through a subquery, or as a session
    // database.
    let denied = "Access denied to database portrait for user portrait_crm";
    for table in [
        "user_profiles_current",
        "user_profiles",
        "profile_state",
        "events",
        "dead_letters",
        "profile_alerts",
        "profile_alerts_unique",
        "schema_migrations",
    ] {
        refused(
            &crm,
            &format!("SELECT * FROM portrait.{table}"),
            ACCESS_DENIED,
            denied,
        )
        .await;
    }
    refused(
        &crm,
        "SELECT count() FROM user_profiles_current WHERE user_id IN (SELECT user_id FROM portrait.events)",
        ACCESS_DENIED,
        denied,
    )
    .await;
    let in_main = login(&server, "crm", DATABASE);
    refused(&in_main, "SELECT 1", ACCESS_DENIED, denied).await;

    // Read only, even in its own database; no table functions (which could reach other
    // servers or the main database), no way to lift the restriction.
    refused(
        &crm,
        "INSERT INTO user_profiles (user_id, version) VALUES ('x', 9)",
        READONLY,
        "readonly mode",
    )
    .await;
    refused(
        &crm,
        "DROP TABLE user_profiles_current",
        READONLY,
        "readonly mode",
    )
    .await;
    let url = server.address();
    refused(
        &crm,
        &format!("SELECT * FROM remote('{url}', portrait.events)"),
        READONLY,
        "Table functions are forbidden in readonly mode",
    )
    .await;
    let message = match crm
        .client()
        .with_option("readonly", "0")
        .query("SELECT 1")
        .execute()
        .await
    {
        Err(Error::BadResponse(message)) => message,
        other => panic!("setting readonly = 0 was not refused: {other:?}"),
    };
    assert!(message.contains(READONLY), "{message}");

    // On 18.16 every user may read the system database, but its tables list only what the
    // user may read: the main database's tables, columns and parts are not there for the CRM
    // (docs/security.md says so). The writer sees them.
    for table in ["tables", "columns", "parts"] {
        let sql = format!("SELECT count() FROM system.{table} WHERE database = 'portrait'");
        assert_eq!(count(&crm, &sql).await, 0, "the CRM's system.{table}");
        assert!(
            count(&writer, &sql).await > 0,
            "the writer's system.{table}"
        );
    }

    // Analysts: every dashboard query runs, on the tables they read.
    let analyst = login(&server, "analyst", DATABASE);
    let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards/queries");
    let mut ran = 0;
    for entry in std::fs::read_dir(&queries).unwrap() {
        let path = entry.unwrap().path();
        let sql = std::fs::read_to_string(&path).unwrap();
        analyst
            .client()
            .query(&sql.replace('?', "??"))
            .fetch_bytes("TSV")
            .unwrap()
            .collect()
            .await
            .unwrap_or_else(|e| panic!("the analyst running {}: {e}", path.display()));
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} dashboard queries found");
    for (table, rows) in [
        ("user_profiles_current", 3),
        ("user_profiles", 4),
        ("events", 1),
        ("profile_alerts_unique", 0),
    ] {
        let sql = format!("SELECT count() FROM {table}");
        assert_eq!(count(&analyst, &sql).await, rows, "the analyst's {table}");
    }

    // ... and cannot write, create, drop or alter anything.
    for sql in [
        "INSERT INTO events (event_id, user_id, type, ts, day) \
         VALUES ('e2', 'u1', 'page_view', now(), today())",
        "INSERT INTO user_profiles (user_id, version) VALUES ('u1', 99)",
        "CREATE TABLE portrait.scratch (x UInt8) ENGINE = Memory",
        "CREATE VIEW portrait.scratch AS SELECT 1",
        "CREATE DATABASE scratch",
        "DROP TABLE events",
        "TRUNCATE TABLE events",
        "ALTER TABLE events DELETE WHERE 1",
        "ALTER TABLE user_profiles ADD COLUMN scratch UInt8",
        "RENAME TABLE events TO events_old",
        "OPTIMIZE TABLE user_profiles FINAL",
    ] {
        refused(&analyst, sql, READONLY, "readonly mode").await;
    }
    refused(
        &analyst,
        "SELECT * FROM portrait_crm.user_profiles_current",
        ACCESS_DENIED,
        "Access denied to database portrait_crm for user portrait_analyst",
    )
    .await;

    // Nothing the refused statements named changed.
    assert_eq!(count(&writer, "SELECT count() FROM events").await, 1);
    assert_eq!(count(&writer, "SELECT count() FROM user_profiles").await, 4);
    assert_eq!(
        count(
            &writer,
            "SELECT count() FROM system.tables WHERE database = 'portrait' AND name LIKE 'scratch%'"
        )
        .await,
        0
    );
}

/// `schemas/clickhouse/roles.sql` is for current ClickHouse, which the local 18.16 cannot
/// run. Every statement must at least parse there: `EXPLAIN AST` of each in chdb (ClickHouse
/// 26). chdb cannot run them: an embedded ClickHouse has no writeable access storage.
#[test]
fn roles_sql_parses_on_current_clickhouse() {
    let python = std::env::var("PORTRAIT_CHDB_PYTHON")
        .expect("PORTRAIT_CHDB_PYTHON is not set: run scripts/tools up and source .tools/env");
    let roles =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/clickhouse/roles.sql");
    // Comments are whole lines in roles.sql, and no `;` is inside a statement's text.
    let script = r#"
import sys
from chdb.session import Session
text = open(sys.argv[1]).read()
code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("--"))
statements = [s.strip() for s in code.split(";") if s.strip()]
session = Session()
for statement in statements:
    session.query("EXPLAIN AST " + statement, "TSV")
print(len(statements))
"#;
    let output = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&roles)
        .output()
        .expect("run chdb's python");
    assert!(
        output.status.success(),
        "a statement of roles.sql does not parse on current ClickHouse:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "16");
}
