//! Topic administration: create the input topics, and check at start-up that they are
//! co-partitioned.
//!
//! Co-partitioning is what lets one process own all of a user's events: every input topic is
//! keyed by `user_id` with the same partitioner, so with equal partition counts a user's page,
//! search and chat events all land in the same partition number, and a consumer assigned
//! partition `p` of every topic sees everything about its users.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::config::KafkaConfig;

/// How long one metadata or admin request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A failed admin operation, naming the topic it was about.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot create a Kafka admin client for {brokers}")]
    Client { brokers: String, source: KafkaError },
    #[error("cannot create topic {topic} with {partitions} partitions: {code}")]
    Create {
        topic: String,
        partitions: u32,
        code: RDKafkaErrorCode,
    },
    #[error("cannot create topics {topics:?}")]
    CreateRequest {
        topics: Vec<String>,
        source: KafkaError,
    },
    #[error("cannot read the metadata of topic {topic}")]
    Metadata { topic: String, source: KafkaError },
    #[error("topic {topic} does not exist (or is not visible to this client): {code}")]
    UnknownTopic {
        topic: String,
        code: RDKafkaErrorCode,
    },
}

/// Creates topics and reads their partition counts. Cheap to share: clone the handle.
#[derive(Clone)]
pub struct Admin {
    /// An `Arc` so that the blocking metadata calls can run on tokio's blocking pool.
    client: Arc<AdminClient<DefaultClientContext>>,
}

impl Admin {
    /// Connects lazily: the first request reaches the brokers, not this call.
    pub fn new(config: &KafkaConfig) -> Result<Self, AdminError> {
        let client = config
            .client_config()
            // An admin client is a producer underneath, and librdkafka producers create
            // missing topics on a metadata request by default: reading the partition count
            // of a misspelt topic would silently create it.
            .set("allow.auto.create.topics", "false")
            .create()
            .map_err(|source| AdminError::Client {
                brokers: config.brokers.clone(),
                source,
            })?;
        Ok(Self {
            client: Arc::new(client),
        })
    }

    /// Creates each topic with `partitions` partitions and the broker's default replication
    /// factor. Idempotent: a topic that already exists is left as it is, whatever its
    /// partition count; [`check_copartitioned`] is what catches a mismatch.
    pub async fn create_topics(&self, topics: &[&str], partitions: u32) -> Result<(), AdminError> {
        let count = i32::try_from(partitions).unwrap_or(i32::MAX);
        // -1: the broker's `default.replication.factor` (KIP-464), right for one local broker
        // and for a production cluster alike.
        let new_topics: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|topic| NewTopic::new(topic, count, TopicReplication::Fixed(-1)))
            .collect();
        let options = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .client
            .create_topics(&new_topics, &options)
            .await
            .map_err(|source| AdminError::CreateRequest {
                topics: topics.iter().map(|t| t.to_string()).collect(),
                source,
            })?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(AdminError::Create {
                        topic,
                        partitions,
                        code,
                    })
                }
            }
        }
        Ok(())
    }

    /// The partition count of each topic, from the brokers' metadata.
    pub async fn partition_counts(
        &self,
        topics: &[String],
    ) -> Result<BTreeMap<String, u32>, AdminError> {
        let client = Arc::clone(&self.client);
        let topics = topics.to_vec();
        // fetch_metadata blocks its thread until the broker answers.
        tokio::task::spawn_blocking(move || {
            topics
                .iter()
                .map(|topic| Ok((topic.clone(), partition_count(&client, topic)?)))
                .collect()
        })
        .await
        .expect("metadata lookup panicked")
    }
}

fn partition_count(
    client: &AdminClient<DefaultClientContext>,
    topic: &str,
) -> Result<u32, AdminError> {
    let metadata = client
        .inner()
        .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
        .map_err(|source| AdminError::Metadata {
            topic: topic.to_owned(),
            source,
        })?;
    let unknown = |code| AdminError::UnknownTopic {
        topic: topic.to_owned(),
        code,
    };
    let found = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or(unknown(RDKafkaErrorCode::UnknownTopicOrPartition))?;
    if let Some(error) = found.error() {
        return Err(unknown(error.into()));
    }
    match found.partitions().len() {
        0 => Err(unknown(RDKafkaErrorCode::UnknownTopicOrPartition)),
        n => Ok(u32::try_from(n).expect("partition counts fit in i32")),
    }
}

/// The input topics do not all have the same partition count, so a user's events would be
/// split across partition numbers and across processes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NotCoPartitioned {
    /// Every input topic with its partition count; empty when no topic was given.
    pub counts: BTreeMap<String, u32>,
}

impl fmt::Display for NotCoPartitioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.counts.is_empty() {
            return f.write_str("no input topics to check for co-partitioning");
        }
        let listed: Vec<String> = self
            .counts
            .iter()
            .map(|(topic, count)| format!("{topic} has {count}"))
            .collect();
        write!(
            f,
            "input topics are not co-partitioned: {} partitions. Every input topic must have \
             the same partition count so that one user's events land in the same partition \
             number on every topic; recreate the odd ones out with the same count (adding \
             partitions to a keyed topic moves existing users to other partitions)",
            listed.join(", ")
        )
    }
}

/// Checks that all topics have the same partition count and returns it. The pipeline calls
/// this at start-up, before consuming anything.
pub fn check_copartitioned(counts: &BTreeMap<String, u32>) -> Result<u32, NotCoPartitioned> {
    let mut values = counts.values();
    match values.next() {
        Some(&first) if values.all(|&count| count == first) => Ok(first),
        _ => Err(NotCoPartitioned {
            counts: counts.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
        pairs.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    #[test]
    fn equal_counts_are_copartitioned() {
        assert_eq!(
            check_copartitioned(&counts(&[("pages", 8), ("chats", 8)])),
            Ok(8)
        );
        assert_eq!(check_copartitioned(&counts(&[("events", 3)])), Ok(3));
    }

    #[test]
    fn different_counts_name_every_topic_and_count() {
        let err =
            check_copartitioned(&counts(&[("pages", 8), ("chats", 4), ("orders", 8)])).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("chats has 4, orders has 8, pages has 8 partitions"),
            "{message}"
        );
    }

    #[test]
    fn no_topics_is_an_error() {
        let err = check_copartitioned(&BTreeMap::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no input topics to check for co-partitioning"
        );
    }
}
