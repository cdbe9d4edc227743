//! The resident memory of a running `portrait`, sampled from /proc while a sink is down: the
//! pipeline must wait rather than go on consuming, so its memory stays flat.

use std::time::{Duration, Instant};

/// How much the late peak may exceed the early one: allocator noise, not a backlog.
const SLACK_KIB: u64 = 16 * 1024;

/// Samples of one process's resident memory, in KiB, with the moment each was taken.
pub struct ResidentMemory {
    pid: u32,
    samples: Vec<(Instant, u64)>,
}

impl ResidentMemory {
    pub fn of(pid: u32) -> ResidentMemory {
        ResidentMemory {
            pid,
            samples: Vec::new(),
        }
    }

    /// Reads the process's `VmRSS` from /proc now.
    pub fn sample(&mut self) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status");
        self.samples.push((Instant::now(), kib));
    }

    pub fn samples(&self) -> usize {
        self.samples.len()
    }

    /// The peaks before and after `settle` (counted from the first sample), in KiB.
    pub fn peaks(&self, settle: Duration) -> (u64, u64) {
        let start = self.samples.first().expect("memory was sampled").0;
        let (early, late): (Vec<_>, Vec<_>) = self
            .samples
            .iter()
            .partition(|(at, _)| *at < start + settle);
        let peak = |samples: &[&(Instant, u64)]| samples.iter().map(|(_, kib)| *kib).max();
        (
            peak(&early).expect("samples before the memory settled"),
            peak(&late).expect("samples after the memory settled"),
        )
    }

    /// Insists that the peak after `settle` is at most the peak before it plus a little
    /// slack, and returns both ([`ResidentMemory::peaks`]). Whatever the process buffers while
    /// it waits (the consumer's prefetch, the batch being retried) is allocated early; growth
    /// after that means it kept taking input it could not write. `during` says what was going
    /// on, for the message.
    pub fn assert_flat(&self, settle: Duration, during: &str) -> (u64, u64) {
        let (early_peak, late_peak) = self.peaks(settle);
        assert!(
            late_peak <= early_peak + SLACK_KIB,
            "memory grew from {early_peak} KiB to {late_peak} KiB {during}"
        );
        (early_peak, late_peak)
    }
}
