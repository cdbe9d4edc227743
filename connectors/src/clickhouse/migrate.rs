//! Schema migrations: the files `schemas/clickhouse/NNNN_name.sql`, applied in order, once each.
//!
//! The files are embedded in the binary at build time (see `connectors/build.rs`), so a binary
//! always applies the schema it was built with, from any directory. [`migrate`]:
//!
//! 1. checks the set: names `NNNN_name.sql`, numbers strictly increasing; splits every file
//!    into statements (before touching the server, so a malformed file changes nothing);
//! 2. creates the database if missing, and in it the bookkeeping table `schema_migrations`
//!    (`name`, `checksum` = SHA-256 of the file, `applied_at`);
//! 3. refuses to run if a recorded migration's file has changed since it was applied: the
//!    database would no longer match the files, and silently skipping the edit hides that;
//! 4. runs each unrecorded file's statements in order and records the file once all succeeded.
//!
//! ClickHouse has no transactional DDL, so a file that fails halfway leaves its earlier
//! statements applied and is not recorded; running `migrate` again after the fix re-runs it
//! from the top. Migrations are therefore written to be re-runnable (`CREATE ... IF NOT EXISTS`).
//! Nothing locks the database either: run one `migrate` at a time (it is a deploy step, not
//! something each pipeline process does).
//!
//! The HTTP interface runs one statement per request, hence the splitting on `;`, which skips
//! semicolons inside quotes and comments.
//!
//! With [`ClickHouseConfig::crm_database`] set, [`migrate`] then sets up the CRM's database
//! from `schemas/clickhouse/crm/user_profiles_current.sql` (its header says why and how), and
//! with [`ClickHouseConfig::analytics_database`] set, the analysts' pseudonymised database from
//! `schemas/clickhouse/analytics/pseudonymised.sql`.

use std::collections::HashMap;
use std::fmt;

use clickhouse::sql::Identifier;
use sha2::{Digest, Sha256};

use super::ClickHouseConfig;

/// One migration file: its name (`NNNN_name.sql`) and its SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration<'a> {
    pub name: &'a str,
    pub sql: &'a str,
}

/// The migrations in `schemas/clickhouse`, embedded at build time, sorted by name.
pub const EMBEDDED: &[Migration<'static>] =
    include!(concat!(env!("OUT_DIR"), "/clickhouse_migrations.rs"));

/// The CRM database's file, with `{database}` and `{crm_database}` to substitute.
const CRM_FEED: Migration<'static> = Migration {
    name: "crm/user_profiles_current.sql",
    sql: include_str!("../../../schemas/clickhouse/crm/user_profiles_current.sql"),
};

/// The analytics database's file, with `{database}` and `{analytics_database}` to substitute.
const ANALYTICS_FEED: Migration<'static> = Migration {
    name: "analytics/pseudonymised.sql",
    sql: include_str!("../../../schemas/clickhouse/analytics/pseudonymised.sql"),
};

/// The migrator's own bookkeeping, created before any migration runs. Duplicate rows (two
/// concurrent runs) are harmless: they carry the same name and checksum.
const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
    (name String, checksum String, applied_at DateTime('UTC')) \
    ENGINE = MergeTree ORDER BY name";

/// What a [`migrate`] run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub database: String,
    /// Migrations applied by this run, in order.
    pub applied: Vec<String>,
    /// Migrations recorded by an earlier run, with unchanged files, skipped.
    pub already_applied: Vec<String>,
    /// The CRM database, when [`ClickHouseConfig::crm_database`] names one.
    pub crm_feed: Option<CrmFeed>,
    /// The analysts' database, when [`ClickHouseConfig::analytics_database`] names one.
    pub analytics_feed: Option<CrmFeed>,
}

/// What [`migrate`] did about a database fed from the main one: the CRM's, or the analysts'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmFeed {
    pub database: String,
    /// `false`: its view existed already, so nothing was run.
    pub created: bool,
}

impl fmt::Display for MigrationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.applied.is_empty() {
            write!(
                f,
                "database `{}` is up to date ({} migrations applied earlier)",
                self.database,
                self.already_applied.len()
            )?;
        } else {
            write!(
                f,
                "database `{}`: applied {} ({} applied earlier)",
                self.database,
                self.applied.join(", "),
                self.already_applied.len()
            )?;
        }
        match &self.crm_feed {
            Some(CrmFeed {
                database,
                created: true,
            }) => write!(
                f,
                "; CRM database `{database}` created with its copy of the profiles"
            ),
            Some(CrmFeed {
                database,
                created: false,
            }) => write!(f, "; CRM database `{database}` was already set up"),
            None => Ok(()),
        }?;
        match &self.analytics_feed {
            Some(CrmFeed {
                database,
                created: true,
            }) => write!(
                f,
                "; analytics database `{database}` created with pseudonymised copies"
            ),
            Some(CrmFeed {
                database,
                created: false,
            }) => write!(f, "; analytics database `{database}` was already set up"),
            None => Ok(()),
        }
    }
}

/// Why [`migrate`] stopped. Nothing after the failing step ran.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("migration {name}: {problem}")]
    Invalid { name: String, problem: String },

    #[error("cannot create database `{database}`")]
    CreateDatabase {
        database: String,
        #[source]
        source: clickhouse::error::Error,
    },

    #[error("cannot read the applied migrations from `{database}.schema_migrations`")]
    History {
        database: String,
        #[source]
        source: clickhouse::error::Error,
    },

    #[error(
        "migration {name} was edited after it was applied (checksum recorded {recorded}, file \
         now {current}); restore the applied text and put the change in a new migration"
    )]
    Changed {
        name: String,
        recorded: String,
        current: String,
    },

    /// ClickHouse rejected a statement. The server's message is part of this error's text
    /// (not a `source`) because, with the statement, it is the whole story.
    #[error(
        "migration {name}, statement {number} (line {line}) failed: {message}\n\
         statement {number}:\n{statement}"
    )]
    Statement {
        name: String,
        /// 1-based position of the statement in its file.
        number: usize,
        /// Line of the file where the statement starts.
        line: usize,
        statement: String,
        message: String,
    },

    #[error("cannot check whether the database `{database}` is set up")]
    CrmFeed {
        database: String,
        #[source]
        source: clickhouse::error::Error,
    },

    #[error(
        "migration {name} ran but could not be recorded in schema_migrations; run migrate \
         again (migrations are re-runnable)"
    )]
    Record {
        name: String,
        #[source]
        source: clickhouse::error::Error,
    },
}

/// Applies the embedded migrations that `config.database` has not recorded yet.
pub async fn migrate(config: &ClickHouseConfig) -> Result<MigrationReport, MigrateError> {
    migrate_with(config, EMBEDDED).await
}

/// Applies `migrations` instead of the embedded set, through the same code as [`migrate`].
/// Meant for tests that need a migration of their own (a broken one, say).
pub async fn migrate_with(
    config: &ClickHouseConfig,
    migrations: &[Migration<'_>],
) -> Result<MigrationReport, MigrateError> {
    let plan = prepare(migrations)?;
    let database = &config.database;

    config
        .server_client()
        .query("CREATE DATABASE IF NOT EXISTS ?")
        .bind(Identifier(database))
        .execute()
        .await
        .map_err(|source| MigrateError::CreateDatabase {
            database: database.clone(),
            source,
        })?;

    let client = config.client();
    let history_error = |source| MigrateError::History {
        database: database.clone(),
        source,
    };
    client
        .query(CREATE_HISTORY)
        .execute()
        .await
        .map_err(history_error)?;
    let recorded: HashMap<String, String> = client
        .query("SELECT name, checksum FROM schema_migrations")
        .fetch_all::<(String, String)>()
        .await
        .map_err(history_error)?
        .into_iter()
        .collect();

    // Every check before the first change, so a refused run leaves the database as it was.
    for step in &plan {
        match recorded.get(step.name) {
            Some(checksum) if *checksum != step.checksum => {
                return Err(MigrateError::Changed {
                    name: step.name.to_owned(),
                    recorded: checksum.clone(),
                    current: step.checksum.clone(),
                });
            }
            _ => {}
        }
    }
    for name in recorded.keys() {
        if !plan.iter().any(|step| step.name == name) {
            // A newer binary migrated this database; this one still works with the columns it
            // knows, so it warns rather than refuses (a rollback must stay possible).
            tracing::warn!(migration = %name, %database, "applied migration unknown to this binary");
        }
    }

    let mut report = MigrationReport {
        database: database.clone(),
        applied: Vec::new(),
        already_applied: Vec::new(),
        crm_feed: None,
        analytics_feed: None,
    };
    for step in plan {
        if recorded.contains_key(step.name) {
            report.already_applied.push(step.name.to_owned());
            continue;
        }
        for (index, statement) in step.statements.iter().enumerate() {
            // The client treats `?` as a bind placeholder; `??` is a literal `?`.
            client
                .query(&statement.sql.replace('?', "??"))
                .execute()
                .await
                .map_err(|err| MigrateError::Statement {
                    name: step.name.to_owned(),
                    number: index + 1,
                    line: statement.line,
                    statement: statement.sql.to_owned(),
                    message: server_message(&err),
                })?;
        }
        client
            .query(
                "INSERT INTO schema_migrations (name, checksum, applied_at) VALUES (?, ?, now())",
            )
            .bind(step.name)
            .bind(&step.checksum)
            .execute()
            .await
            .map_err(|source| MigrateError::Record {
                name: step.name.to_owned(),
                source,
            })?;
        tracing::info!(
            migration = step.name,
            %database,
            statements = step.statements.len(),
            "applied migration"
        );
        report.applied.push(step.name.to_owned());
    }
    if !config.crm_database.is_empty() {
        report.crm_feed = Some(CrmFeed {
            database: config.crm_database.clone(),
            created: set_up_fed_database(
                config,
                &CRM_FEED,
                ("{crm_database}", &config.crm_database),
                "user_profiles_current",
            )
            .await?,
        });
    }
    if !config.analytics_database.is_empty() {
        report.analytics_feed = Some(CrmFeed {
            database: config.analytics_database.clone(),
            created: set_up_fed_database(
                config,
                &ANALYTICS_FEED,
                ("{analytics_database}", &config.analytics_database),
                "profile_alerts_unique",
            )
            .await?,
        });
    }
    Ok(report)
}

/// Runs `file`, a fed database's ([`CRM_FEED`], [`ANALYTICS_FEED`]), with `placeholder`
/// standing for that database, unless `last_view`, created by its last statement, exists
/// there; returns whether it ran.
async fn set_up_fed_database(
    config: &ClickHouseConfig,
    file: &Migration<'static>,
    (placeholder, fed_database): (&str, &String),
    last_view: &str,
) -> Result<bool, MigrateError> {
    let client = config.client();
    let exists = client
        .query("EXISTS TABLE ?.?")
        .bind(Identifier(fed_database))
        .bind(Identifier(last_view))
        .fetch_one::<u8>()
        .await
        .map_err(|source| MigrateError::CrmFeed {
            database: fed_database.clone(),
            source,
        })?;
    if exists == 1 {
        return Ok(false);
    }
    let sql = file
        .sql
        .replace(placeholder, &quoted(fed_database))
        .replace("{database}", &quoted(&config.database));
    let invalid = |problem: String| MigrateError::Invalid {
        name: file.name.to_owned(),
        problem,
    };
    let statements = split_statements(&sql).map_err(|err| invalid(err.to_string()))?;
    for (index, statement) in statements.iter().enumerate() {
        client
            .query(&statement.sql.replace('?', "??"))
            .execute()
            .await
            .map_err(|err| MigrateError::Statement {
                name: file.name.to_owned(),
                number: index + 1,
                line: statement.line,
                statement: statement.sql.to_owned(),
                message: server_message(&err),
            })?;
    }
    tracing::info!(%fed_database, database = %config.database, file = file.name, "set up a fed database");
    Ok(true)
}

/// `name` as a back-quoted identifier, as ClickHouse escapes one.
pub(super) fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

/// A migration checked and split, ready to run.
struct Step<'a> {
    name: &'a str,
    checksum: String,
    statements: Vec<Statement<'a>>,
}

fn prepare<'a>(migrations: &[Migration<'a>]) -> Result<Vec<Step<'a>>, MigrateError> {
    let mut previous: Option<(u32, &str)> = None;
    let mut plan = Vec::with_capacity(migrations.len());
    for migration in migrations {
        let invalid = |problem: String| MigrateError::Invalid {
            name: migration.name.to_owned(),
            problem,
        };
        let number = parse_name(migration.name).ok_or_else(|| {
            invalid(
                "the name must look like NNNN_name.sql (four digits, then lower-case letters, \
                 digits or _)"
                    .to_owned(),
            )
        })?;
        if let Some((previous_number, previous_name)) = previous {
            if number <= previous_number {
                return Err(invalid(format!(
                    "its number must be greater than that of {previous_name}, which comes before it"
                )));
            }
        }
        previous = Some((number, migration.name));

        let statements = split_statements(migration.sql).map_err(|err| invalid(err.to_string()))?;
        if statements.is_empty() {
            return Err(invalid("contains no SQL statement".to_owned()));
        }
        plan.push(Step {
            name: migration.name,
            checksum: format!("{:x}", Sha256::digest(migration.sql.as_bytes())),
            statements,
        });
    }
    Ok(plan)
}

/// The number of a `NNNN_name.sql` migration, or `None` if the name has another shape.
fn parse_name(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".sql")?;
    let (number, label) = stem.split_once('_')?;
    let well_formed = number.len() == 4
        && number.bytes().all(|b| b.is_ascii_digit())
        && !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    well_formed.then(|| number.parse().expect("four ASCII digits"))
}

/// The server's own words for a failed statement. ClickHouse 18.16 wraps them as
/// `Code: N, e.displayText() = DB::Exception: <message>, e.what() = DB::Exception`; the tail
/// only repeats the exception class.
fn server_message(err: &clickhouse::error::Error) -> String {
    let text = match err {
        clickhouse::error::Error::BadResponse(text) => text.clone(),
        other => other.to_string(),
    };
    let text = text.trim();
    text.strip_suffix(", e.what() = DB::Exception")
        .unwrap_or(text)
        .to_owned()
}

/// One statement of a migration file, without its `;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Statement<'a> {
    /// Line of the file where the statement starts (1-based).
    line: usize,
    /// From the first token to just before the `;`, comments inside it kept.
    sql: &'a str,
}

/// A quote or comment that never ends: everything after it would be swallowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} opened on line {line} is never closed")]
struct UnterminatedError {
    what: &'static str,
    line: usize,
}

/// Splits `sql` on the `;` that end statements: not those inside '...' strings, "..." or
/// `...` identifiers, `--` line comments or `/* */` block comments. Inside quotes a backslash
/// escapes the next character and a doubled quote stands for itself, as in ClickHouse.
/// Statements holding only whitespace and comments are dropped.
fn split_statements(sql: &str) -> Result<Vec<Statement<'_>>, UnterminatedError> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut line = 1;
    // Byte offset and line of the current statement's first token, once one has been seen.
    let mut start: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                // Up to, not past, the newline, so that the line count sees it.
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = sql[i + 2..].find("*/").ok_or(UnterminatedError {
                    what: "block comment",
                    line,
                })?;
                let end = i + 2 + end + 2;
                line += count_newlines(&bytes[i..end]);
                i = end;
            }
            quote @ (b'\'' | b'"' | b'`') => {
                start.get_or_insert((i, line));
                let end = closing_quote(bytes, i).ok_or(UnterminatedError {
                    what: match quote {
                        b'\'' => "string literal",
                        _ => "quoted identifier",
                    },
                    line,
                })?;
                line += count_newlines(&bytes[i..end]);
                i = end;
            }
            b';' => {
                if let Some((begin, first_line)) = start.take() {
                    statements.push(Statement {
                        line: first_line,
                        sql: sql[begin..i].trim_end(),
                    });
                }
                i += 1;
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                start.get_or_insert((i, line));
                i += 1;
            }
        }
    }
    if let Some((begin, first_line)) = start {
        statements.push(Statement {
            line: first_line,
            sql: sql[begin..].trim_end(),
        });
    }
    Ok(statements)
}

/// The offset just past the quote that closes the one at `open`, if any.
fn closing_quote(bytes: &[u8], open: usize) -> Option<usize> {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split_statements(sql)
            .unwrap()
            .into_iter()
            .map(|s| s.sql)
            .collect()
    }

    #[test]
    fn splits_on_semicolons_and_drops_empty_statements() {
        assert_eq!(
            texts("CREATE TABLE a (x UInt8) ENGINE = Log;\n;;\nSELECT 1;  \n"),
            ["CREATE TABLE a (x UInt8) ENGINE = Log", "SELECT 1"]
        );
    }

    #[test]
    fn last_statement_needs_no_semicolon() {
        assert_eq!(texts("SELECT 1;\nSELECT 2\n"), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn semicolons_inside_quotes_do_not_split() {
        assert_eq!(
            texts(r#"SELECT 'a;b', "c;d", `e;f`; SELECT 2"#),
            [r#"SELECT 'a;b', "c;d", `e;f`"#, "SELECT 2"]
        );
    }

    #[test]
    fn escaped_and_doubled_quotes_stay_inside_the_string() {
        assert_eq!(
            texts(r"SELECT 'it\'s;', 'it''s;'; SELECT 2"),
            [r"SELECT 'it\'s;', 'it''s;'", "SELECT 2"]
        );
    }

    #[test]
    fn semicolons_inside_comments_do_not_split() {
        assert_eq!(
            texts("-- intro; still a comment\nSELECT 1 /* a; b */ + 1;\n-- trailing;\n"),
            ["SELECT 1 /* a; b */ + 1"]
        );
    }

    #[test]
    fn statements_start_at_their_first_token_with_its_line() {
        let statements =
            split_statements("-- header\n\nSELECT 1;\n/* x\n y */ SELECT\n  2;").unwrap();
        assert_eq!(
            statements,
            [
                Statement {
                    line: 3,
                    sql: "SELECT 1"
                },
                Statement {
                    line: 5,
                    sql: "SELECT\n  2"
                },
            ]
        );
    }

    #[test]
    fn unterminated_string_is_an_error_naming_its_line() {
        let err = split_statements("SELECT 1;\nSELECT 'oops;\nSELECT 2;").unwrap_err();
        assert_eq!(
            err,
            UnterminatedError {
                what: "string literal",
                line: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "string literal opened on line 2 is never closed"
        );
    }

    #[test]
    fn unterminated_block_comment_is_an_error() {
        let err = split_statements("SELECT 1 /* never closed;").unwrap_err();
        assert_eq!(err.what, "block comment");
    }

    #[test]
    fn names_must_be_numbered() {
        assert_eq!(parse_name("0001_user_profiles.sql"), Some(1));
        assert_eq!(parse_name("0420_a1_b2.sql"), Some(420));
        for bad in [
            "1_short.sql",
            "00001_long.sql",
            "0001.sql",
            "0001_.sql",
            "0001_Upper.sql",
            "0001_dash-name.sql",
            "0001_name.txt",
            "abcd_name.sql",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_must_increase() {
        let set = [
            Migration {
                name: "0002_b.sql",
                sql: "SELECT 1",
            },
            Migration {
                name: "0002_a.sql",
                sql: "SELECT 1",
            },
        ];
        let err = prepare(&set).err().unwrap();
        assert!(
            matches!(&err, MigrateError::Invalid { name, .. } if name == "0002_a.sql"),
            "{err}"
        );
    }

    #[test]
    fn a_file_without_statements_is_refused() {
        let set = [Migration {
            name: "0001_empty.sql",
            sql: "-- nothing yet\n",
        }];
        assert!(matches!(
            prepare(&set),
            Err(MigrateError::Invalid { problem, .. }) if problem == "contains no SQL statement"
        ));
    }

    #[test]
    fn clickhouse_18_exception_tail_is_trimmed() {
        let err = clickhouse::error::Error::BadResponse(
            "Code: 62, e.displayText() = DB::Exception: Syntax error, e.what() = DB::Exception\n"
                .to_owned(),
        );
        assert_eq!(
            server_message(&err),
            "Code: 62, e.displayText() = DB::Exception: Syntax error"
        );
    }

    #[test]
    fn identifiers_are_back_quoted_with_escapes() {
        assert_eq!(quoted("portrait_crm"), "`portrait_crm`");
        assert_eq!(quoted(r"a`b\c"), r"`a\`b\\c`");
    }

    #[test]
    fn the_crm_file_names_only_the_two_databases() {
        let sql = CRM_FEED
            .sql
            .replace("{crm_database}", "`crm`")
            .replace("{database}", "`main`");
        assert!(!sql.contains('{') && !sql.contains('}'), "{sql}");
        let statements = split_statements(&sql).unwrap();
        assert_eq!(statements.len(), 5);
        assert!(statements
            .last()
            .unwrap()
            .sql
            .starts_with("CREATE VIEW IF NOT EXISTS `crm`.user_profiles_current"));
    }

    #[test]
    fn the_analytics_file_names_only_the_two_databases_and_copies_no_real_id() {
        let sql = ANALYTICS_FEED
            .sql
            .replace("{analytics_database}", "`analytics`")
            .replace("{database}", "`main`");
        assert!(!sql.contains('{') && !sql.contains('}'), "{sql}");
        let statements = split_statements(&sql).unwrap();
        assert_eq!(statements.len(), 12);
        assert!(statements
            .last()
            .unwrap()
            .sql
            .starts_with("CREATE VIEW IF NOT EXISTS `analytics`.profile_alerts_unique"));
        // Every statement reading a main table copies the pseudonyms in place of the ids, and
        // only rows that have one.
        for statement in statements.iter().filter(|s| s.sql.contains("FROM `main`.")) {
            assert!(
                statement.sql.contains("user_key AS user_id"),
                "{}",
                statement.sql
            );
            assert!(
                statement.sql.ends_with("WHERE user_key != ''"),
                "{}",
                statement.sql
            );
            let from_events = statement.sql.contains("FROM `main`.events");
            assert_eq!(
                statement.sql.contains("event_key AS event_id"),
                from_events,
                "{}",
                statement.sql
            );
        }
    }

    /// The shipped files pass every check that does not need a server, so a malformed file
    /// fails here, in `cargo test`, rather than at deploy time.
    #[test]
    fn embedded_migrations_are_well_formed() {
        let plan = prepare(EMBEDDED).unwrap();
        assert!(!plan.is_empty(), "no files found in schemas/clickhouse");
        assert_eq!(plan[0].name, "0001_user_profiles.sql");
    }
}
