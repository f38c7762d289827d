//! The time the preflight judges by.
//!
//! A check such as "this LoadBalancer Service has waited a minute for an address" depends on
//! the time; a test of it on a real cluster would have to wait that minute. Debug builds (what
//! `cargo test` runs) read `SKYCTL_CLOCK_AHEAD=SECONDS` and run that far ahead; a release build
//! always uses the system clock.

use k8s_openapi::jiff::Timestamp;

/// The environment variable that sets a debug build's clock ahead, in seconds.
pub const AHEAD_VARIABLE: &str = "SKYCTL_CLOCK_AHEAD";

/// Now, as the preflight sees it.
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    #[cfg(debug_assertions)]
    if let Some(seconds) = std::env::var(AHEAD_VARIABLE)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        && let Ok(ahead) = now.checked_add(k8s_openapi::jiff::SignedDuration::from_secs(seconds))
    {
        return ahead;
    }
    now
}
