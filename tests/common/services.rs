//! Private instances of the local services, for tests that stop and start a server mid-run:
//! each one is started by `scripts/services` in a directory and on ports of its own, so that
//! breaking it affects no other test running at the same time.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/services");

/// One service of `scripts/services` (`clickhouse` or `kafka-durable`), running in a temporary
/// directory on free ports. Dropping it stops the server and removes the directory, also when
/// the test panicked.
pub struct PrivateService {
    service: &'static str,
    dir: PathBuf,
    /// The `PORTRAIT_*_PORT` variables the script reads, with this instance's ports.
    ports: Vec<(&'static str, u16)>,
    /// More variables for the script.
    settings: Vec<(&'static str, String)>,
}

impl PrivateService {
    /// A ClickHouse server of its own, started; [`PrivateService::url`] reaches it.
    pub async fn clickhouse(test: &str) -> PrivateService {
        Self::clickhouse_with(test, Vec::new()).await
    }

    /// The same, whose analysts' user may read `database` only (pseudonymisation's analytics
    /// database, docs/security.md) instead of the main one.
    pub async fn clickhouse_for_analysts_of(test: &str, database: &str) -> PrivateService {
        let settings = vec![("PORTRAIT_CLICKHOUSE_ANALYST_DATABASE", database.to_owned())];
        Self::clickhouse_with(test, settings).await
    }

    async fn clickhouse_with(test: &str, settings: Vec<(&'static str, String)>) -> PrivateService {
        let [http, tcp] = free_ports();
        let mut service = PrivateService::new(
            "clickhouse",
            test,
            vec![
                ("PORTRAIT_CLICKHOUSE_HTTP_PORT", http),
                ("PORTRAIT_CLICKHOUSE_TCP_PORT", tcp),
            ],
        );
        service.settings = settings;
        service.up().await;
        service
    }

    /// A tansu broker of its own with `sqlite://` storage, which keeps topics, messages and
    /// committed offsets across a restart, started; [`PrivateService::address`] reaches it.
    pub async fn durable_kafka(test: &str) -> PrivateService {
        let [port] = free_ports();
        let service = PrivateService::new(
            "kafka-durable",
            test,
            vec![("PORTRAIT_KAFKA_DURABLE_PORT", port)],
        );
        service.up().await;
        service
    }

    fn new(service: &'static str, test: &str, ports: Vec<(&'static str, u16)>) -> Self {
        let dir = std::env::temp_dir().join(super::fresh(&format!("{test}_{service}")));
        PrivateService {
            service,
            dir,
            ports,
            settings: Vec::new(),
        }
    }

    /// `host:port` of the first port: the broker's address, or ClickHouse's HTTP interface.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.ports[0].1)
    }

    /// ClickHouse's HTTP URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.address())
    }

    /// The password `scripts/services` generated for ClickHouse user `portrait_{party}`
    /// (`writer`, `analyst` or `crm`) of this instance.
    pub fn clickhouse_password(&self, party: &str) -> String {
        let file = self.dir.join("clickhouse/secrets").join(party);
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
    }

    /// Starts the server (again, on the same directory and ports) and returns once it answers.
    pub async fn up(&self) {
        self.run("up").await;
    }

    /// Stops the server gracefully (SIGTERM) and returns once its process is gone.
    pub async fn down(&self) {
        self.run("down").await;
    }

    /// Kills the server (SIGKILL), as a crash would, and returns once its process is gone.
    pub async fn kill(&self) {
        self.run("kill").await;
    }

    async fn run(&self, action: &str) {
        let output = tokio::process::Command::from(self.script(action))
            .output()
            .await
            .expect("run scripts/services");
        assert!(output.status.success(), "{}", self.failure(action, &output));
    }

    fn script(&self, action: &str) -> Command {
        let mut command = Command::new(SCRIPT);
        command
            .args([action, self.service])
            .env("PORTRAIT_SERVICES_DIR", &self.dir)
            .envs(
                self.ports
                    .iter()
                    .map(|&(var, port)| (var, port.to_string())),
            )
            .envs(self.settings.iter().map(|(var, value)| (*var, value)));
        command
    }

    fn failure(&self, action: &str, output: &Output) -> String {
        format!(
            "scripts/services {action} {} in {} failed ({}):\n{}",
            self.service,
            self.dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

impl Drop for PrivateService {
    /// Stops the server, then removes its directory. A server that would not stop keeps its
    /// directory, for a look at its log. Problems are reported without a second panic while
    /// the test is already panicking (which would abort the test binary).
    fn drop(&mut self) {
        let outcome = match self.script("down").output() {
            Ok(output) if output.status.success() => std::fs::remove_dir_all(&self.dir)
                .map_err(|e| format!("removing {}: {e}", self.dir.display())),
            Ok(output) => Err(self.failure("down", &output)),
            Err(e) => Err(format!("running {SCRIPT}: {e}")),
        };
        if let Err(problem) = outcome {
            if std::thread::panicking() {
                eprintln!("{problem}");
            } else {
                panic!("{problem}");
            }
        }
    }
}

/// `N` distinct ports nobody listens on right now: bound to 127.0.0.1:0 together, then freed.
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: [TcpListener; N] =
        std::array::from_fn(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"));
    listeners.map(|listener| listener.local_addr().unwrap().port())
}
