//! `portrait generate`: seeded synthetic events to NDJSON or Kafka, and their ground truth.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use portrait_connectors::kafka::{Admin, Producer};
use portrait_generator::{
    generate, write_alerts_ndjson, Dataset, GeneratorConfig, Message, ALERT_KINDS, DEFAULT_START_MS,
};

use crate::config::Config;

#[derive(clap::Args)]
pub struct Args {
    /// Number of users.
    #[arg(long, default_value_t = 1000)]
    users: u32,
    /// Number of days the events span.
    #[arg(long, default_value_t = 120)]
    days: u32,
    /// Random seed: the same seed and sizes give byte-identical output.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First day of the period, as epoch milliseconds (default 2026-01-01T00:00:00Z).
    #[arg(long, default_value_t = DEFAULT_START_MS)]
    start_ms: i64,
    /// Extra malformed messages, as a fraction of the valid ones (e.g. 0.01), cycling through
    /// every kind of bad input. They never change the expected profiles.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Write the messages as NDJSON (one payload a line) to this file, `-` for standard
    /// output, instead of producing them to Kafka.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Kafka topic to produce to, as `TOPIC` (every event) or `TYPE,TYPE=TOPIC` (events of
    /// those types). Repeatable; events no route names go to the plain `TOPIC`. Default: the
    /// first of the configured input topics (`kafka.topics`, PORTRAIT_KAFKA_TOPICS).
    #[arg(long = "topic", value_name = "[TYPES=]TOPIC")]
    topics: Vec<Route>,
    /// Partitions of each topic, if it has to be created.
    #[arg(long, default_value_t = 4)]
    partitions: u32,
    /// Also write the exact expected profile of every user (the reference model's output at
    /// the final watermark) to this NDJSON file.
    #[arg(long, value_name = "FILE")]
    truth: Option<PathBuf>,
    /// Also write every alert the pipeline must send by the end of a replay (the reference
    /// model's stage transitions and activations up to the final watermark, after the
    /// cooldown) to this NDJSON file, one alert a line.
    #[arg(long, value_name = "FILE")]
    expected_alerts: Option<PathBuf>,
    /// Lateness used for the final watermark of the truth and of the expected alerts, in
    /// milliseconds.
    #[arg(long, default_value_t = 300_000)]
    lateness_ms: i64,
}

/// Where events of some types (or all, when `types` is empty) are produced.
#[derive(Clone, Debug)]
struct Route {
    types: Vec<String>,
    topic: String,
}

impl FromStr for Route {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (types, topic) = match s.split_once('=') {
            Some((types, topic)) => (
                types.split(',').map(|t| t.trim().to_owned()).collect(),
                topic,
            ),
            None => (Vec::new(), s),
        };
        if topic.trim().is_empty() {
            return Err(format!("no topic name in {s:?}"));
        }
        Ok(Route {
            types,
            topic: topic.trim().to_owned(),
        })
    }
}

pub fn run(config_path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let generator = GeneratorConfig {
        seed: args.seed,
        users: args.users,
        days: args.days,
        start_ms: args.start_ms,
        malformed_rate: args.malformed_rate,
    };
    generator.validate()?;
    let dataset = generate(&generator);
    let messages = dataset.messages();
    eprintln!(
        "generated {} messages for {} users over {} days (seed {})",
        messages.len(),
        args.users,
        args.days,
        args.seed
    );

    match &args.out {
        Some(path) => write_ndjson(messages, path)?,
        None => {
            let config = super::services_config(config_path, "generate")?;
            let routes = if args.topics.is_empty() {
                vec![Route {
                    types: Vec::new(),
                    topic: config.kafka.topics[0].clone(),
                }]
            } else {
                args.topics.clone()
            };
            super::runtime()?.block_on(produce(&config, &routes, args.partitions, messages))?;
        }
    }

    if let Some(path) = &args.truth {
        write_truth(&dataset, args.lateness_ms, path)?;
    }
    if let Some(path) = &args.expected_alerts {
        write_expected_alerts(&dataset, args.lateness_ms, path)?;
    }
    Ok(())
}

fn write_ndjson(messages: &[Message], path: &Path) -> anyhow::Result<()> {
    let sink: Box<dyn Write> = if path == Path::new("-") {
        Box::new(io::stdout().lock())
    } else {
        Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?)
    };
    let mut out = BufWriter::new(sink);
    let bar = progress(messages.len() as u64, "writing");
    for message in messages {
        out.write_all(&message.payload)?;
        out.write_all(b"\n")?;
        bar.inc(1);
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    bar.finish_and_clear();
    Ok(())
}

/// Produces every message to the topic its route names, creating missing topics first.
async fn produce(
    config: &Config,
    routes: &[Route],
    partitions: u32,
    messages: &[Message],
) -> anyhow::Result<()> {
    let Some(fallback) = routes.iter().find(|r| r.types.is_empty()) else {
        bail!("no plain --topic TOPIC for the events no route names (e.g. malformed ones)");
    };
    let topic_of = |message: &Message| {
        let event_type = message.event_type.unwrap_or_default();
        routes
            .iter()
            .find(|r| r.types.iter().any(|t| t == event_type))
            .unwrap_or(fallback)
            .topic
            .as_str()
    };

    let mut topics: Vec<&str> = routes.iter().map(|r| r.topic.as_str()).collect();
    topics.sort_unstable();
    topics.dedup();
    Admin::new(&config.kafka)?
        .create_topics(&topics, partitions)
        .await
        .context("creating the topics to produce to")?;

    let producer = Producer::new(&config.kafka)?;
    let bar = progress(messages.len() as u64, "producing");
    let mut sent = 0;
    for topic in topics {
        let of_topic = messages
            .iter()
            .filter(|m| topic_of(m) == topic)
            .map(|m| (m.key.as_bytes(), m.payload.as_slice()));
        let base = sent;
        sent += producer
            .send_all(topic, of_topic, |n| bar.set_position(base + n))
            .await?;
    }
    bar.finish_and_clear();
    eprintln!("produced {sent} messages to {}", config.kafka.brokers);
    Ok(())
}

fn write_truth(dataset: &Dataset, lateness_ms: i64, path: &Path) -> anyhow::Result<()> {
    let truth = dataset.truth(lateness_ms);
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    truth
        .write_ndjson(BufWriter::new(file))
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "wrote the expected profiles of {} users (watermark {} ms) to {}",
        truth.profiles.len(),
        truth.watermark_ms,
        path.display()
    );
    Ok(())
}

fn write_expected_alerts(dataset: &Dataset, lateness_ms: i64, path: &Path) -> anyhow::Result<()> {
    let alerts = dataset.expected_alerts(lateness_ms);
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    write_alerts_ndjson(&alerts, BufWriter::new(file))
        .with_context(|| format!("writing {}", path.display()))?;
    let by_kind: Vec<String> = ALERT_KINDS
        .iter()
        .map(|&kind| {
            let count = alerts.iter().filter(|a| a.kind == kind).count();
            format!("{kind} {count}")
        })
        .collect();
    eprintln!(
        "wrote {} expected alerts ({}) up to watermark {} ms to {}",
        alerts.len(),
        by_kind.join(", "),
        dataset.max_event_ms() - lateness_ms,
        path.display()
    );
    Ok(())
}

/// A progress bar on standard error, hidden for small jobs where it would only flicker.
fn progress(total: u64, verb: &str) -> ProgressBar {
    if total < 100_000 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{verb} {{bar:40}} {{pos}}/{{len}} messages ({{per_sec}}, {{eta}} left)"
        ))
        .expect("static template"),
    );
    bar
}
