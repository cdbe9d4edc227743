//! Secrets stay out of the output (docs/security.md, "Secrets"): the pipeline runs with every
//! kind of secret in its environment and debug logging on, succeeding and failing, and
//! `check-config` explains its configuration; no secret's value appears in any of their
//! stdout or stderr.
//!
//! The ClickHouse password is the real one of `portrait_writer`, the user `scripts/services`
//! installs, so the run really logs in with it. The Kafka secret is `sasl.password`: librdkafka
//! takes it on the plaintext connection the local broker speaks, and ignores it there.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::pipeline::{portrait, produce, run_until_end, succeed};
use common::webhook;
use portrait_connectors::clickhouse::ClickHouseConfig;
use portrait_generator::{generate, GeneratorConfig};

const WEBHOOK_SECRET: &str = "webhook-secret-6f1d9c27";
const SASL_PASSWORD: &str = "sasl-password-41b7e2d0";
const PSEUDONYMISATION_KEY: &str = "pseudonymisation-key-5e8a0c31";
const WRONG_PASSWORD: &str = "wrong-password-93ac5d18";

/// The writer's password, from the environment `scripts/services` writes.
fn writer_password() -> String {
    std::env::var("PORTRAIT_CLICKHOUSE_WRITER_PASSWORD").expect(
        "PORTRAIT_CLICKHOUSE_WRITER_PASSWORD is not set: run scripts/services up and source \
         .services/env",
    )
}

/// Every secret in the environment of `command`, with ClickHouse's `password`, and debug logs.
fn with_secrets(mut command: Command, password: &str) -> Command {
    command
        .env("PORTRAIT_CLICKHOUSE_USER", "portrait_writer")
        .env("PORTRAIT_CLICKHOUSE_PASSWORD", password)
        .env("PORTRAIT_ALERTS_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("PORTRAIT_KAFKA_PROPERTIES_SASL_PASSWORD", SASL_PASSWORD)
        .env("PORTRAIT_LOG", "debug");
    command
}

/// Panics if any of `secrets` occurs in `output`, naming the stream and line but not the
/// secret (the writer's password is a real one).
fn assert_no_secret(what: &str, output: &Output, secrets: &[&str]) {
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for (number, line) in text.lines().enumerate() {
            for (index, secret) in secrets.iter().enumerate() {
                assert!(
                    !line.contains(secret),
                    "{what}: secret #{index} on {stream} line {}: {}",
                    number + 1,
                    line.replace(secret, "<SECRET>")
                );
            }
        }
    }
}

async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("start portrait")
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_appear_in_no_log_line_and_no_error() {
    common::on_fresh_database("secrets", |clickhouse| async move {
        // With pseudonymisation, whose key `portrait()` passes in the environment.
        let clickhouse = ClickHouseConfig {
            analytics_database: common::analytics_database(&clickhouse),
            pseudonymisation_key: Some(PSEUDONYMISATION_KEY.to_owned()),
            ..clickhouse
        };
        let password = writer_password();
        let secrets = [
            password.as_str(),
            WEBHOOK_SECRET,
            SASL_PASSWORD,
            WRONG_PASSWORD,
            PSEUDONYMISATION_KEY,
        ];
        let dataset = generate(&GeneratorConfig {
            seed: 11,
            users: 300,
            days: 60,
            ..GeneratorConfig::default()
        });
        let kafka = produce("secrets", &dataset, 2).await;
        let mut hook = webhook::start(WEBHOOK_SECRET, Duration::ZERO).await;

        // migrate and run as the writer, with its password: they succeed.
        let migrate = with_secrets(portrait(&["migrate"], &kafka, &clickhouse), &password);
        let migrated = succeed("portrait migrate", migrate).await;
        assert_no_secret("portrait migrate", &migrated, &secrets);

        let mut run = with_secrets(run_until_end(&kafka, &clickhouse), &password);
        run.env("PORTRAIT_ALERTS_WEBHOOK_URL", &hook.url);
        let ran = succeed("portrait run --until-end", run).await;
        assert_no_secret("portrait run --until-end", &ran, &secrets);
        let log = String::from_utf8_lossy(&ran.stderr);
        assert!(log.contains("DEBUG"), "debug logging was not on:\n{log}");
        let profiles = clickhouse
            .client()
            .query("SELECT uniqExact(user_id) FROM user_profiles")
            .fetch_one::<u64>()
            .await
            .unwrap();
        assert_eq!(profiles, 300, "profiles the writer wrote");
        // The webhook secret was in use: every alert arrived signed with it.
        let mut delivered = 0;
        while let Ok(delivery) = hook.deliveries.try_recv() {
            assert!(delivery.signed, "alert {} is not signed", delivery.alert_id);
            delivered += 1;
        }
        assert!(delivered > 0, "no alert reached the webhook");

        // A wrong ClickHouse password: the run fails, saying why, and shows neither password.
        let failing = with_secrets(run_until_end(&kafka, &clickhouse), WRONG_PASSWORD);
        let failed = output(failing).await;
        assert!(
            !failed.status.success(),
            "the run with a wrong password succeeded"
        );
        let error = String::from_utf8_lossy(&failed.stderr);
        assert!(
            error.contains("Wrong password for user portrait_writer"),
            "the error does not say why:\n{error}"
        );
        assert_no_secret("portrait run with a wrong password", &failed, &secrets);

        // check-config --show prints the configuration in effect, without the secrets, and
        // says where each came from.
        let check = with_secrets(
            portrait(&["check-config", "--show"], &kafka, &clickhouse),
            &password,
        );
        let checked = succeed("portrait check-config --show", check).await;
        assert_no_secret("portrait check-config --show", &checked, &secrets);
        let shown = String::from_utf8_lossy(&checked.stdout);
        for note in [
            "clickhouse.password from PORTRAIT_CLICKHOUSE_PASSWORD",
            "alerts.webhook.secret from PORTRAIT_ALERTS_WEBHOOK_SECRET",
            "kafka.properties.sasl.password from PORTRAIT_KAFKA_PROPERTIES_SASL_PASSWORD",
            "clickhouse.pseudonymisation_key from PORTRAIT_CLICKHOUSE_PSEUDONYMISATION_KEY",
        ] {
            assert!(shown.contains(note), "no note {note:?} in:\n{shown}");
        }

        // A secret in the file is refused, by name, without repeating its value.
        let file = std::env::temp_dir().join(format!("{}.toml", common::fresh("secrets")));
        std::fs::write(
            &file,
            format!("[kafka.properties]\n\"sasl.password\" = \"{SASL_PASSWORD}\"\n"),
        )
        .unwrap();
        let mut check = with_secrets(
            portrait(&["check-config", "--show"], &kafka, &clickhouse),
            &password,
        );
        check.arg("--config").arg(&file);
        let refused = output(check).await;
        std::fs::remove_file(&file).unwrap();
        assert!(
            !refused.status.success(),
            "a secret in the file was accepted"
        );
        let error = String::from_utf8_lossy(&refused.stderr);
        assert!(
            error.contains("PORTRAIT_KAFKA_PROPERTIES_SASL_PASSWORD"),
            "the error does not name the variable:\n{error}"
        );
        assert_no_secret(
            "portrait check-config with a secret in the file",
            &refused,
            &secrets,
        );
    })
    .await;
}
