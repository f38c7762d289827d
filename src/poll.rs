//! One way to wait for something on the cluster or the network: ask again with a growing pause
//! until it is ready, an error ends the wait, or the time is up.

use std::time::{Duration, Instant};

/// Asking starts fast, since most things are ready within a moment, and slows down for the
/// ones that take long, to spare the API server.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The pauses between looks: 100 ms, then half as long again each time, up to a second.
#[derive(Debug)]
pub struct Pauses(Duration);

impl Default for Pauses {
    fn default() -> Self {
        Self(FIRST_PAUSE)
    }
}

impl Pauses {
    /// The next pause; the one after it is longer.
    pub fn next_pause(&mut self) -> Duration {
        let pause = self.0;
        self.0 = (pause * 3 / 2).min(MAX_PAUSE);
        pause
    }
}

/// What one look found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll<T, P> {
    Ready(T),
    /// Not yet, and why: what the caller reports if the time runs out.
    Pending(P),
}

/// Looks until ready or `timeout` is up. `Ok(Err(pending))` is the last look's answer when the
/// time ran out; an error from a look ends the wait at once.
pub async fn until<T, P, E>(
    timeout: Duration,
    mut look: impl AsyncFnMut() -> Result<Poll<T, P>, E>,
) -> Result<Result<T, P>, E> {
    let deadline = Instant::now() + timeout;
    let mut pauses = Pauses::default();
    loop {
        match look().await? {
            Poll::Ready(value) => return Ok(Ok(value)),
            Poll::Pending(pending) if Instant::now() >= deadline => return Ok(Err(pending)),
            Poll::Pending(_) => {}
        }
        let pause = pauses.next_pause();
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_look_that_becomes_ready_ends_the_wait_with_its_value() {
        let mut looks = 0;
        let result: Result<Result<u32, &str>, ()> = until(Duration::from_secs(10), async || {
            looks += 1;
            Ok(if looks < 3 {
                Poll::Pending("not yet")
            } else {
                Poll::Ready(looks)
            })
        })
        .await;
        assert_eq!(result, Ok(Ok(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_time_running_out_returns_the_last_reason() {
        let started = tokio::time::Instant::now();
        let result: Result<Result<(), String>, ()> = until(Duration::from_secs(5), async || {
            Ok(Poll::Pending("still".to_owned()))
        })
        .await;
        assert_eq!(result, Ok(Err("still".to_owned())));
        assert!(started.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_ends_the_wait_at_once() {
        let result: Result<Result<(), ()>, &str> =
            until(Duration::from_secs(5), async || Err("broken")).await;
        assert_eq!(result, Err("broken"));
    }
}
