//! The core pipeline end to end, against the real broker and ClickHouse: generated events
//! (late, out of order, 1% malformed) → Kafka → `portrait run --until-end` → ClickHouse, and
//! every column of every profile compared with the generator's ground truth.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;

use common::pipeline::{portrait, produce, succeed};
use portrait_connectors::clickhouse::migrate;
use portrait_generator::{generate, GeneratorConfig};
use serde::Deserialize;

const PARTITIONS: u32 = 4;
const LATENESS_MS: i64 = 300_000;

#[derive(Debug, clickhouse::Row, Deserialize)]
struct DeadLetterRow {
    partition: u32,
    offset: i64,
    reason: String,
    payload: Vec<u8>,
}

#[tokio::test(flavor = "multi_thread")]
async fn profiles_equal_the_ground_truth_and_bad_input_becomes_dead_letters() {
    common::on_fresh_database("e2e", |clickhouse| async move {
        let dataset = generate(&GeneratorConfig {
            seed: 7,
            users: 5_000,
            days: 120,
            malformed_rate: 0.01,
            ..GeneratorConfig::default()
        });
        let malformed: Vec<_> = dataset
            .messages()
            .iter()
            .filter(|m| m.malformed.is_some())
            .collect();
        let valid = dataset.messages().len() - malformed.len();
        assert!(valid >= 200_000, "only {valid} valid events");
        assert!(!malformed.is_empty());

        let kafka = produce("e2e", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        let run = portrait(&["run", "--until-end"], &kafka, &clickhouse);
        succeed("portrait run --until-end", run).await;

        // Every column of every profile against the reference model, by `portrait verify`.
        let truth = std::env::temp_dir().join(format!("{}.ndjson", common::fresh("e2e_truth")));
        dataset
            .truth(LATENESS_MS)
            .write_ndjson(BufWriter::new(File::create(&truth).unwrap()))
            .unwrap();
        let verify = portrait(
            &["verify", "--truth", truth.to_str().unwrap()],
            &kafka,
            &clickhouse,
        );
        let verify = succeed("portrait verify", verify).await;
        std::fs::remove_file(&truth).unwrap();
        assert!(
            String::from_utf8_lossy(&verify.stdout).contains("(5000 profiles) and"),
            "{}",
            String::from_utf8_lossy(&verify.stdout)
        );

        let letters = clickhouse
            .client()
            .query("SELECT partition, offset, reason, payload FROM dead_letters")
            .fetch_all::<DeadLetterRow>()
            .await
            .unwrap();
        let mut expected_reasons = BTreeMap::new();
        for message in &malformed {
            let kind = message.malformed.unwrap();
            *expected_reasons
                .entry(common::expected_rejection(kind).0)
                .or_insert(0) += 1;
        }
        let mut reasons = BTreeMap::new();
        for letter in &letters {
            *reasons.entry(letter.reason.as_str()).or_insert(0) += 1;
        }
        assert_eq!(reasons, expected_reasons, "dead letters by reason");

        let mut coordinates: Vec<_> = letters.iter().map(|l| (l.partition, l.offset)).collect();
        coordinates.sort_unstable();
        coordinates.dedup();
        assert_eq!(coordinates.len(), malformed.len(), "each bad message once");

        let mut payloads: Vec<&[u8]> = letters.iter().map(|l| l.payload.as_slice()).collect();
        let mut expected_payloads: Vec<&[u8]> =
            malformed.iter().map(|m| m.payload.as_slice()).collect();
        payloads.sort_unstable();
        expected_payloads.sort_unstable();
        assert!(
            payloads == expected_payloads,
            "dead letters keep the original bytes"
        );

        common::pipeline::assert_archived(&dataset, &clickhouse).await;
    })
    .await;
}
