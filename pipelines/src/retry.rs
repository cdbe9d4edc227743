//! Retrying an operation on the outside world until it succeeds.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(10);

/// Runs `attempt` until it succeeds, doubling the pause between attempts from 100 ms up to
/// 10 s, and logging each failure with `what` was being done.
///
/// There is no give-up: the engine holds the data it has not written, and keeps it rather than
/// drop it (DESIGN.md, "Backpressure, not loss"). While this waits, no input is consumed, so
/// memory stays bounded; a shutdown request is bounded by `pipeline.shutdown_timeout_ms`.
pub async fn retry<T, E, Fut>(what: &str, attempt: impl FnMut() -> Fut) -> T
where
    E: Display,
    Fut: Future<Output = Result<T, E>>,
{
    match retry_unless(what, attempt, |_| false).await {
        Ok(value) => value,
        Err(_) => unreachable!("no error is final"),
    }
}

/// [`retry`], except that an error for which `is_final` holds is returned at once: retrying
/// it cannot succeed.
pub async fn retry_unless<T, E, Fut>(
    what: &str,
    mut attempt: impl FnMut() -> Fut,
    is_final: impl Fn(&E) -> bool,
) -> Result<T, E>
where
    E: Display,
    Fut: Future<Output = Result<T, E>>,
{
    let mut delay = FIRST_DELAY;
    let mut failures = 0u32;
    loop {
        match attempt().await {
            Ok(value) => {
                if failures > 0 {
                    tracing::info!(failures, "{what}: succeeded after retrying");
                }
                return Ok(value);
            }
            Err(error) if is_final(&error) => return Err(error),
            Err(error) => {
                failures += 1;
                tracing::warn!(failures, retry_in = ?delay, "{what} failed: {error}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_DELAY);
            }
        }
    }
}
