//! Pseudonymisation end to end (docs/security.md, "Pseudonymisation"), against the real broker
//! and ClickHouse: with a key set, a run over generated events fills the analysts' database
//! with the HMAC-SHA256 of every user id (computed here, independently) and no real id
//! anywhere; the CRM's view keeps the real ids; every dashboard query runs unchanged there and
//! gives the main database's numbers; and `portrait forget` removes the analysts' rows too.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use common::pipeline::{portrait, produce, run_until_end, succeed};
use hmac::{Hmac, Mac};
use portrait_connectors::clickhouse::{migrate, ClickHouseConfig};
use portrait_generator::{generate, GeneratorConfig};
use sha2::Sha256;

const PARTITIONS: u32 = 2;

/// hex(HMAC-SHA256(key, id)), the pseudonym analysts must see for `id`.
fn hmac_hex(key: &str, id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(id.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

async fn strings(config: &ClickHouseConfig, sql: &str) -> BTreeSet<String> {
    config
        .client()
        .query(sql)
        .fetch_all::<String>()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .collect()
}

/// `sql`'s `data`, as a client reads it (`JSONCompact`, without the timing statistics).
async fn data(config: &ClickHouseConfig, sql: &str) -> serde_json::Value {
    let bytes = config
        .client()
        .query(&sql.replace('?', "??"))
        .with_option("output_format_json_quote_64bit_integers", "0")
        .fetch_bytes("JSONCompact")
        .unwrap()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{} in {}: {e}", sql, config.database));
    let mut answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    answer["data"].take()
}

#[tokio::test(flavor = "multi_thread")]
async fn analysts_see_only_keyed_hashes_and_the_crm_the_real_ids() {
    common::on_fresh_database("pseudonym", |clickhouse| async move {
        let key = common::fresh("pseudonymisation-key");
        let clickhouse = ClickHouseConfig {
            crm_database: common::crm_database(&clickhouse),
            analytics_database: common::analytics_database(&clickhouse),
            pseudonymisation_key: Some(key.clone()),
            ..clickhouse
        };
        let analytics = ClickHouseConfig {
            database: clickhouse.analytics_database.clone(),
            ..clickhouse.clone()
        };
        let crm = ClickHouseConfig {
            database: clickhouse.crm_database.clone(),
            ..clickhouse.clone()
        };
        let dataset = generate(&GeneratorConfig {
            seed: 31,
            users: 400,
            days: 120,
            malformed_rate: 0.0,
            ..GeneratorConfig::default()
        });
        let ids: BTreeSet<String> = dataset.messages().iter().map(|m| m.key.clone()).collect();
        let pseudonyms: BTreeMap<String, String> = ids
            .iter()
            .map(|id| (hmac_hex(&key, id), id.clone()))
            .collect();
        assert_eq!(pseudonyms.len(), ids.len());

        let kafka = produce("pseudonym", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        succeed(
            "portrait run --until-end",
            run_until_end(&kafka, &clickhouse),
        )
        .await;

        // Exactly the pseudonyms of the generated users, in every copy.
        let expected: BTreeSet<String> = pseudonyms.keys().cloned().collect();
        for table in ["user_profiles", "user_profiles_current", "events"] {
            assert_eq!(
                strings(&analytics, &format!("SELECT DISTINCT user_id FROM {table}")).await,
                expected,
                "{table}"
            );
        }
        let alerted = strings(&clickhouse, "SELECT DISTINCT user_id FROM profile_alerts").await;
        assert!(!alerted.is_empty());
        let alerted: BTreeSet<String> = alerted.iter().map(|id| hmac_hex(&key, id)).collect();
        for table in ["profile_alerts", "profile_alerts_unique"] {
            assert_eq!(
                strings(&analytics, &format!("SELECT DISTINCT user_id FROM {table}")).await,
                alerted,
                "{table}"
            );
        }
        let event_ids = strings(&clickhouse, "SELECT DISTINCT event_id FROM events").await;
        let event_ids: BTreeSet<String> = event_ids.iter().map(|id| hmac_hex(&key, id)).collect();
        assert_eq!(
            strings(&analytics, "SELECT DISTINCT event_id FROM events").await,
            event_ids
        );

        // No real id in any string of any table or view of the analysts' database. Generated
        // ids all have one length, so every window of that length is looked up.
        let id_len = ids.first().unwrap().len();
        assert!(ids.iter().all(|id| id.len() == id_len));
        let real: HashSet<&[u8]> = ids.iter().map(|id| id.as_bytes()).collect();
        let columns = common_columns(&analytics).await;
        assert_eq!(columns.len(), 34, "{columns:?}");
        for (table, column) in &columns {
            let values = strings(
                &analytics,
                &format!("SELECT DISTINCT ifNull(toString(`{column}`), '') FROM `{table}`"),
            )
            .await;
            for value in &values {
                assert!(
                    !value.as_bytes().windows(id_len).any(|w| real.contains(w)),
                    "{table}.{column} holds a real user id: {value}"
                );
            }
        }

        // The CRM still reads the real ids.
        assert_eq!(
            strings(&crm, "SELECT DISTINCT user_id FROM user_profiles_current").await,
            ids
        );

        // Every dashboard query runs unchanged and gives the same numbers.
        let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards/queries");
        let mut files: Vec<_> = std::fs::read_dir(&queries)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 14);
        for file in files {
            let sql = std::fs::read_to_string(&file).unwrap();
            let main = data(&clickhouse, &sql).await;
            assert!(!main.as_array().unwrap().is_empty(), "{}", file.display());
            assert_eq!(data(&analytics, &sql).await, main, "{}", file.display());
        }

        // Forgetting a user reaches the analysts' copies, by pseudonym.
        let gone = ids.iter().nth(7).unwrap();
        let gone_key = hmac_hex(&key, gone);
        let forget = portrait(&["forget", "--user", gone], &kafka, &clickhouse);
        succeed("portrait forget", forget).await;
        for table in ["user_profiles", "events", "profile_alerts"] {
            let left: u64 = analytics
                .client()
                .query(&format!("SELECT count() FROM {table} WHERE user_id = ?"))
                .bind(&gone_key)
                .fetch_one()
                .await
                .unwrap();
            assert_eq!(left, 0, "{table}");
        }
        let others = strings(&analytics, "SELECT DISTINCT user_id FROM user_profiles").await;
        assert_eq!(others.len(), ids.len() - 1);
        assert!(!others.contains(&gone_key));
    })
    .await;
}

/// Every string-holding column of every table and view of `config`'s database (materialized
/// views aside: they only route inserts to their tables, which are listed).
async fn common_columns(config: &ClickHouseConfig) -> Vec<(String, String)> {
    config
        .client()
        .query(
            "SELECT table, name FROM system.columns \
             WHERE database = ? AND type LIKE '%String%' AND table NOT LIKE '%_feed' \
             ORDER BY table, name",
        )
        .bind(config.database.as_str())
        .fetch_all::<(String, String)>()
        .await
        .unwrap()
}
