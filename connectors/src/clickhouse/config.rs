//! The `[clickhouse]` section of Portrait's configuration.

use std::fmt;

use clickhouse::{Client, Compression};
use serde::{Deserialize, Serialize};

use super::Pseudonymiser;

/// Where and how to reach ClickHouse. Every field has a default, so a config file names only
/// what differs (the binary's config layer also reads `PORTRAIT_CLICKHOUSE_<FIELD>`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClickHouseConfig {
    /// HTTP interface, e.g. `http://127.0.0.1:8123`. Default empty: no ClickHouse, which with
    /// no Kafka brokers either is the embedded mode (files in, Parquet out).
    pub url: String,
    /// Database holding Portrait's tables; `migrate` creates it if missing. Default `portrait`.
    pub database: String,
    /// A database of the CRM's own, for servers without SQL access control (ClickHouse 18.16):
    /// when set, `migrate` also creates it with a copy of the profiles that the pipeline's
    /// inserts keep current, and the CRM's view `user_profiles_current` over the copy, so a CRM
    /// user allowed only this database reads its view and nothing else (docs/security.md,
    /// "Access control"). Empty (the default): none; on current ClickHouse, grant the CRM
    /// `user_profiles_current` itself (`schemas/clickhouse/roles.sql`).
    pub crm_database: String,
    /// The analysts' database, pseudonymised (docs/security.md, "Pseudonymisation"): when
    /// set, `migrate` also creates it with copies of `user_profiles`, `events` and
    /// `profile_alerts` that the pipeline's inserts keep current, each with the user's keyed
    /// hash (`user_key`) in place of the real id, and the views the dashboards read. Needs
    /// [`pseudonymisation_key`](Self::pseudonymisation_key). Empty (the default): none.
    pub analytics_database: String,
    /// The HMAC-SHA256 key of the pseudonyms. A secret, like the password: read from
    /// `PORTRAIT_CLICKHOUSE_PSEUDONYMISATION_KEY` only and never serialized. `None` (the
    /// default): no pseudonyms; the `user_key` columns stay empty.
    #[serde(skip_serializing)]
    pub pseudonymisation_key: Option<String>,
    /// Default `default`, ClickHouse's built-in user.
    pub user: String,
    /// `None` sends no password (ClickHouse's default user has none). A secret: never
    /// serialized, so a dumped configuration cannot leak it.
    #[serde(skip_serializing)]
    pub password: Option<String>,
    /// Check typed reads and inserts against the server's column types. Off by default: the
    /// check needs `RowBinaryWithNamesAndTypes` and DESCRIBE settings that ClickHouse 18.16
    /// (Debian's package, used by the tests) lacks. Worth enabling on a current server.
    pub validation: bool,
    /// LZ4-compress requests and responses. Off by default: the `clickhouse` crate does not read
    /// 18.16's compressed responses back correctly. Worth enabling on a current server.
    pub compression: bool,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            database: "portrait".to_owned(),
            crm_database: String::new(),
            analytics_database: String::new(),
            pseudonymisation_key: None,
            user: "default".to_owned(),
            password: None,
            validation: false,
            compression: false,
        }
    }
}

/// Hand-written so that a logged config never shows the password.
impl fmt::Debug for ClickHouseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouseConfig")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("crm_database", &self.crm_database)
            .field("analytics_database", &self.analytics_database)
            .field(
                "pseudonymisation_key",
                &self.pseudonymisation_key.as_ref().map(|_| "<redacted>"),
            )
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("validation", &self.validation)
            .field("compression", &self.compression)
            .finish()
    }
}

impl ClickHouseConfig {
    /// A client whose queries run in [`database`](Self::database). Cheap to clone; clones share
    /// one connection pool.
    pub fn client(&self) -> Client {
        self.server_client().with_database(&self.database)
    }

    /// The pseudonymiser of [`pseudonymisation_key`](Self::pseudonymisation_key), if set.
    pub fn pseudonymiser(&self) -> Option<Pseudonymiser> {
        self.pseudonymisation_key.as_deref().map(Pseudonymiser::new)
    }

    /// A client with no database selected, for statements that must run before the database
    /// exists (`CREATE DATABASE`); the server then uses the user's default database.
    pub(crate) fn server_client(&self) -> Client {
        let compression = if self.compression {
            Compression::Lz4
        } else {
            Compression::None
        };
        let client = Client::default()
            .with_url(&self.url)
            .with_user(&self.user)
            .with_validation(self.validation)
            .with_compression(compression);
        match &self.password {
            Some(password) => client.with_password(password),
            None => client,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_take_defaults_suited_to_clickhouse_18() {
        let config: ClickHouseConfig =
            serde_json::from_str(r#"{"url": "http://127.0.0.1:18123"}"#).unwrap();
        assert_eq!(
            config,
            ClickHouseConfig {
                url: "http://127.0.0.1:18123".to_owned(),
                ..ClickHouseConfig::default()
            }
        );
        assert!(!config.validation);
        assert!(!config.compression);
    }

    #[test]
    fn unknown_field_is_rejected() {
        let err = serde_json::from_str::<ClickHouseConfig>(r#"{"pasword": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `pasword`"), "{err}");
    }

    /// An `https://` URL speaks TLS: the first bytes the server receives are a TLS handshake
    /// record (0x16), not an HTTP request. Without a TLS feature of the `clickhouse` crate the
    /// client refuses the URL instead ("invalid URL, scheme is not http") and sends nothing.
    #[tokio::test]
    async fn https_urls_speak_tls() {
        use tokio::io::AsyncReadExt;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = ClickHouseConfig {
            url: format!("https://{}", listener.local_addr().unwrap()),
            password: Some("hunter2".to_owned()),
            ..ClickHouseConfig::default()
        };
        let query = tokio::spawn(async move { config.client().query("SELECT 1").execute().await });
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 3];
        stream.read_exact(&mut first).await.unwrap();
        assert_eq!(first, [0x16, 0x03, 0x01], "a TLS handshake record");
        drop(stream);
        let err = query.await.unwrap().unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_password_and_the_key() {
        let config = ClickHouseConfig {
            password: Some("hunter2".to_owned()),
            pseudonymisation_key: Some("k3y-s3cret".to_owned()),
            ..ClickHouseConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("k3y-s3cret"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }
}
