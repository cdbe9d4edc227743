//! The `[clickhouse]` section of Portrait's configuration.

use std::fmt;

use clickhouse::{Client, Compression};
use serde::{Deserialize, Serialize};

/// Where and how to reach ClickHouse. Every field has a default, so a config file names only
/// what differs (the binary's config layer also reads `PORTRAIT_CLICKHOUSE_<FIELD>`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClickHouseConfig {
    /// HTTP interface, e.g. `http://127.0.0.1:8123` (default).
    pub url: String,
    /// Database holding Portrait's tables; `migrate` creates it if missing. Default `portrait`.
    pub database: String,
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
            url: "http://127.0.0.1:8123".to_owned(),
            database: "portrait".to_owned(),
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

    #[test]
    fn debug_output_hides_the_password() {
        let config = ClickHouseConfig {
            password: Some("hunter2".to_owned()),
            ..ClickHouseConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }
}
