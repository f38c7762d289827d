//! Named points where a test stops skyctl as `kill -9` would.
//!
//! A test that kills skyctl after a delay proves nothing on a machine slow or fast enough to
//! move the step it aimed at, so interruption tests name the step instead: with
//! `SKYCTL_INTERRUPT_AT=recorded-pending`, skyctl sends itself SIGKILL once it has stored the
//! pending record, with no destructor, lock release or record update run after it. `NAME#N`
//! stops at the N-th time the point is reached (a rollout applies several phases).
//!
//! For a race, a test needs a run held between two steps instead: with
//! `SKYCTL_PAUSE_AT=NAME[#N]` and `SKYCTL_PAUSE_FILE=PATH`, skyctl writes `PATH.paused` at the
//! point and waits there until `PATH` exists.
//!
//! Only debug builds (what `cargo test` runs) read the variables; in a release build
//! [`reached`] is empty, so the binary users run cannot be stopped this way.

/// The environment variable that names the point to stop at.
pub const VARIABLE: &str = "SKYCTL_INTERRUPT_AT";
/// The environment variable that names the point to wait at.
pub const PAUSE_VARIABLE: &str = "SKYCTL_PAUSE_AT";
/// The file whose existence ends the wait.
pub const PAUSE_FILE: &str = "SKYCTL_PAUSE_FILE";

/// The steps a test can stop skyctl at, in the order a rollout or an adopt reaches them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// A rollout read the cluster and decided, and is about to write its first object.
    Prepared,
    /// The release's lock is held; nothing else of this run is written yet.
    LockTaken,
    /// The OAuth client is stored in its Secret, before any object is applied.
    OauthClientStored,
    /// The new revision is recorded as pending, before any object is applied.
    RecordedPending,
    /// One phase (one kind) of objects is applied.
    PhaseApplied,
    /// What the release no longer renders is pruned.
    Pruned,
    /// The objects are ready (or the wait was skipped), before the revision is deployed.
    Waited,
    /// The revision is recorded as deployed, before the lock is released.
    RecordedDeployed,
    /// uninstall: the newest revision is recorded as uninstalling, nothing deleted yet.
    RecordedUninstalling,
    /// uninstall: the release's objects are deleted, its records not yet.
    ObjectsDeleted,
    /// uninstall: the records are deleted, or the namespace asked to go with them in it, and
    /// the lock released.
    RecordsDeleted,
    /// adopt: one object is read and the patch removing Helm's marks made, before it is sent
    /// (reached once per object that has marks).
    HelmMarksRead,
    /// adopt: Helm's annotations and field managers are gone from the release's objects.
    HelmMarksRemoved,
    /// adopt: the objects Helm made and skyctl does not render are deleted.
    HelmLeftoversRemoved,
}

impl Point {
    pub const ALL: [Point; 14] = [
        Point::Prepared,
        Point::LockTaken,
        Point::OauthClientStored,
        Point::RecordedPending,
        Point::PhaseApplied,
        Point::Pruned,
        Point::Waited,
        Point::RecordedDeployed,
        Point::RecordedUninstalling,
        Point::ObjectsDeleted,
        Point::RecordsDeleted,
        Point::HelmMarksRead,
        Point::HelmMarksRemoved,
        Point::HelmLeftoversRemoved,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Point::Prepared => "prepared",
            Point::LockTaken => "lock-taken",
            Point::OauthClientStored => "oauth-client-stored",
            Point::RecordedPending => "recorded-pending",
            Point::PhaseApplied => "phase-applied",
            Point::Pruned => "pruned",
            Point::Waited => "waited",
            Point::RecordedDeployed => "recorded-deployed",
            Point::RecordedUninstalling => "recorded-uninstalling",
            Point::ObjectsDeleted => "objects-deleted",
            Point::RecordsDeleted => "records-deleted",
            Point::HelmMarksRead => "helm-marks-read",
            Point::HelmMarksRemoved => "helm-marks-removed",
            Point::HelmLeftoversRemoved => "helm-leftovers-removed",
        }
    }
}

/// Whether the `times`-th arrival at `point` is the one `wanted` (`NAME` or `NAME#N`) names.
/// A count that is not a positive number never matches, so a typo cannot stop a run early.
#[cfg(any(debug_assertions, test))]
fn stops_here(wanted: &str, point: Point, times: usize) -> bool {
    let (name, nth) = match wanted.split_once('#') {
        Some((name, nth)) => match nth.parse::<usize>() {
            Ok(nth) if nth > 0 => (name, nth),
            _ => return false,
        },
        None => (wanted, 1),
    };
    name == point.name() && nth == times
}

/// skyctl reached `point`: a debug build named by [`VARIABLE`] stops here with SIGKILL; one
/// named by [`PAUSE_VARIABLE`] waits here for [`PAUSE_FILE`].
#[cfg(debug_assertions)]
pub fn reached(point: Point) {
    use std::sync::Mutex;
    static ARRIVALS: Mutex<[usize; Point::ALL.len()]> = Mutex::new([0; Point::ALL.len()]);
    let stop = std::env::var(VARIABLE).ok();
    let pause = std::env::var(PAUSE_VARIABLE).ok();
    if stop.is_none() && pause.is_none() {
        return;
    }
    let times = {
        let mut arrivals = ARRIVALS.lock().unwrap_or_else(|e| e.into_inner());
        // The discriminant is the point's place in `ALL`, which lists them in declaration order.
        arrivals[point as usize] += 1;
        arrivals[point as usize]
    };
    let named = |wanted: &Option<String>| {
        wanted
            .as_deref()
            .is_some_and(|w| stops_here(w, point, times))
    };
    if named(&stop) {
        eprintln!("skyctl: stopped at {} ({VARIABLE})", point.name());
        // SAFETY: kill(2) on this process's own pid; SIGKILL cannot be caught or ignored.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
    if named(&pause)
        && let Some(gate) = std::env::var_os(PAUSE_FILE).map(std::path::PathBuf::from)
    {
        let mut paused = gate.clone().into_os_string();
        paused.push(".paused");
        let _ = std::fs::write(&paused, point.name());
        // Bounded, so that a test that died never leaves skyctl waiting for good.
        for _ in 0..6000 {
            if gate.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// skyctl reached `point`; a release build never stops for a test.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn reached(_point: Point) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_stops_at_the_arrival_its_name_counts() {
        let cases = [
            ("recorded-pending", Point::RecordedPending, 1, true),
            ("recorded-pending", Point::RecordedPending, 2, false),
            ("recorded-pending#1", Point::RecordedPending, 1, true),
            ("phase-applied#3", Point::PhaseApplied, 2, false),
            ("phase-applied#3", Point::PhaseApplied, 3, true),
            ("phase-applied", Point::Pruned, 1, false),
            ("phase-applied#0", Point::PhaseApplied, 1, false),
            ("phase-applied#x", Point::PhaseApplied, 1, false),
            ("phase-applied#", Point::PhaseApplied, 1, false),
            ("", Point::LockTaken, 1, false),
        ];
        for (wanted, point, times, stops) in cases {
            assert_eq!(
                stops_here(wanted, point, times),
                stops,
                "{wanted:?} at arrival {times} of {point:?}"
            );
        }
    }

    #[test]
    fn every_point_has_its_own_name_and_its_place_in_all() {
        let names: std::collections::BTreeSet<_> = Point::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), Point::ALL.len());
        for (place, point) in Point::ALL.iter().enumerate() {
            assert_eq!(*point as usize, place, "{point:?}");
        }
    }
}
