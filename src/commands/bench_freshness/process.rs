//! The pipeline under test as a child process, and the CPU time processes used, as the OS
//! counts it (`/proc/<pid>/stat`: user and system time of all its threads).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use rustix::process::{kill_process, Pid, Signal};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// `portrait run` (live mode) started from this same executable, with this process's
/// configuration: the same `--config` file and the same environment. Its log goes to this
/// process's standard error; its summary is read when it stops. Dropping it kills it.
pub struct Pipeline {
    child: Child,
}

impl Pipeline {
    pub fn start(config_path: Option<&Path>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding the portrait executable")?;
        let mut command = Command::new(exe);
        if let Some(path) = config_path {
            command.arg("--config").arg(path);
        }
        let child = command
            .arg("run")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting portrait run")?;
        Ok(Self { child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the pipeline was not reaped yet")
    }

    /// Fails if the pipeline exited on its own.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("portrait run exited during the benchmark ({status}); its log is above");
        }
        Ok(())
    }

    /// Stops the pipeline as a supervisor would (SIGTERM: it flushes and commits) and returns
    /// its summary. Fails if it does not exit within `within` or exits with an error.
    pub async fn stop(mut self, within: Duration) -> anyhow::Result<String> {
        let pid = Pid::from_raw(self.pid() as i32).expect("a child's pid is positive");
        kill_process(pid, Signal::TERM).context("sending SIGTERM to portrait run")?;
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .with_context(|| format!("portrait run did not stop within {within:?}"))??;
        let mut summary = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            stdout.read_to_string(&mut summary).await?;
        }
        if !status.success() {
            bail!("portrait run failed on SIGTERM ({status}); its log is above");
        }
        Ok(summary)
    }
}

/// CPU time a process has used since it started, all threads together.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    pub user: Duration,
    pub system: Duration,
}

impl Cpu {
    /// Of the process `pid`, or of this process for `None`.
    pub fn of(pid: Option<u32>) -> anyhow::Result<Self> {
        let path = match pid {
            Some(pid) => format!("/proc/{pid}/stat"),
            None => "/proc/self/stat".to_owned(),
        };
        let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        // `pid (comm) state ppid ...`: the command name may hold spaces and parentheses, so
        // fields are counted after its last `)`. utime and stime are fields 14 and 15.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let mut fields = after_name.split_whitespace().skip(11);
        let mut ticks = || -> anyhow::Result<u64> {
            let field = fields.next().context("too few fields")?;
            Ok(field.parse()?)
        };
        let (user, system) = (ticks(), ticks());
        let per_second = rustix::param::clock_ticks_per_second();
        let time = |ticks: u64| Duration::from_secs_f64(ticks as f64 / per_second as f64);
        Ok(Self {
            user: time(user.with_context(|| format!("no utime in {path}"))?),
            system: time(system.with_context(|| format!("no stime in {path}"))?),
        })
    }

    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// The CPU used between `earlier` and this reading.
    pub fn since(&self, earlier: Cpu) -> Cpu {
        Cpu {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// The peak resident set size of the process `pid` so far, in bytes (`VmHWM`).
pub fn peak_rss(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|value| value.trim().parse::<u64>().ok())
        .with_context(|| format!("no VmHWM in {path}"))?;
    Ok(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_cpu() {
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {}
        assert!(Cpu::of(None).unwrap().total() > Duration::ZERO);
        assert!(peak_rss(std::process::id()).unwrap() > 0);
    }
}
