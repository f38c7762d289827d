//! The model-based safety test: seeded random sequences of installs, upgrades, rollbacks,
//! uninstalls, adopts and `creds add`, some killed at named points and some run two at once,
//! over three skyctl releases (two of one name, in two namespaces) beside a Helm release, a
//! SkyPilot release Helm installed, and a person's objects. After every step the invariants of
//! `invariants.rs` are checked against the live cluster and the audit log.
//!
//! `cargo test --test safety_model` runs a fixed seed for a bounded number of steps.
//! `scripts/soak` runs many more from a random seed; a failure prints the seed and the shortest
//! failing sequence found by dropping steps while it still fails.
//!
//! Settings (environment): `SKYCTL_MODEL_SEED` (a number, or `random`), `SKYCTL_MODEL_STEPS`,
//! `SKYCTL_MODEL_SHRINK=1` to shrink a failure.

#[path = "../support/mod.rs"]
mod support;

mod invariants;
mod plan;
mod snapshot;
mod world;

use std::sync::atomic::{AtomicUsize, Ordering};

use plan::Step;
use support::cluster;
use support::skyctl::Outcome;
use world::World;

/// The seed and length CI runs (after the regressions): about two minutes on the test machine.
const CI_SEED: u64 = 20_261_207;
const CI_STEPS: usize = 100;
/// Steps per world: a longer run is many worlds, each from the seed of its place in the run.
const WORLD_STEPS: usize = 40;
/// Runs of a shrinking sequence at most: each one is a new world.
const SHRINK_RUNS: usize = 80;

struct Settings {
    seed: u64,
    steps: usize,
    shrink: bool,
}

impl Settings {
    fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        let seed = match var("SKYCTL_MODEL_SEED").as_deref() {
            None => CI_SEED,
            Some("random") => {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    ^ u64::from(std::process::id())
            }
            Some(number) => number
                .parse()
                .unwrap_or_else(|_| panic!("SKYCTL_MODEL_SEED={number}: a number or `random`")),
        };
        let steps = var("SKYCTL_MODEL_STEPS").map_or(CI_STEPS, |n| {
            n.parse()
                .unwrap_or_else(|_| panic!("SKYCTL_MODEL_STEPS={n}: a number"))
        });
        Settings {
            seed,
            steps,
            shrink: var("SKYCTL_MODEL_SHRINK").is_some(),
        }
    }
}

/// How the runs ended, to show that a run did something: exits 0, 1, 2, and kills.
#[derive(Default)]
struct Tally([usize; 4]);

impl Tally {
    fn add(&mut self, outcome: &Outcome) {
        let slot = match (outcome.code, outcome.signal) {
            (Some(code @ 0..=2), _) => code as usize,
            _ => 3,
        };
        self.0[slot] += 1;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [ok, failed, refused, killed] = self.0;
        write!(
            f,
            "{ok} succeeded, {failed} failed (exit 1), {refused} refused (exit 2), {killed} killed"
        )
    }
}

/// Where a sequence first broke an invariant.
struct Failure {
    step: usize,
    broken: Vec<String>,
    outcomes: Vec<Outcome>,
}

#[test]
fn no_step_touches_what_is_not_its_releases_own() {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _serial = runtime.block_on(cluster::exclusive());
    let client = runtime.block_on(cluster::client());
    eprintln!(
        "model: seed {}, {} steps (SKYCTL_MODEL_SEED={} SKYCTL_MODEL_STEPS={} repeats it)",
        settings.seed, settings.steps, settings.seed, settings.steps
    );
    let started = std::time::Instant::now();
    let mut done = 0;
    let mut tally = Tally::default();
    for (i, sequence) in plan::regressions().iter().enumerate() {
        if let Err(failure) = runtime.block_on(run(&client, sequence, Some(&mut tally))) {
            panic!(
                "regression {}: {}",
                i + 1,
                report(settings.seed, 0, sequence, &failure)
            );
        }
    }
    for world in 0.. {
        if done >= settings.steps {
            break;
        }
        let seed = settings.seed.wrapping_add(world);
        let sequence = plan::sequence(seed, WORLD_STEPS.min(settings.steps - done));
        if let Err(failure) = runtime.block_on(run(&client, &sequence, Some(&mut tally))) {
            let (sequence, failure) = if settings.shrink {
                runtime.block_on(shrink(&client, sequence, failure))
            } else {
                (sequence, failure)
            };
            panic!("{}", report(settings.seed, world, &sequence, &failure));
        }
        done += sequence.len();
        eprintln!(
            "model: {done}/{} steps in {:.0?}, no invariant broken; runs: {tally}",
            settings.steps,
            started.elapsed()
        );
    }
}

/// A world's tag: unique in this process and among processes.
fn next_tag() -> String {
    static WORLDS: AtomicUsize = AtomicUsize::new(0);
    format!(
        "m{:x}w{}",
        std::process::id(),
        WORLDS.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs a sequence in a new world, checking after each step; the world is removed after.
async fn run(
    client: &kube::Client,
    sequence: &[Step],
    tally: Option<&mut Tally>,
) -> Result<(), Failure> {
    let world = World::create(client, &next_tag()).await;
    let result = run_in(&world, sequence, tally).await;
    world.remove().await;
    result
}

async fn run_in(
    world: &World,
    sequence: &[Step],
    mut tally: Option<&mut Tally>,
) -> Result<(), Failure> {
    let namespaces = world.namespaces();
    let namespace_refs: Vec<&str> = namespaces
        .iter()
        .map(String::as_str)
        .chain([snapshot::SHARED_NAMESPACE])
        .collect();
    for (index, step) in sequence.iter().enumerate() {
        let before = snapshot::take(&world.client, &world.tag, &namespaces).await;
        let mark = support::audit::mark();
        let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
            let running: Vec<_> = step
                .0
                .iter()
                .map(|run| scope.spawn(|| world.run(run)))
                .collect();
            running.into_iter().map(|r| r.join().unwrap()).collect()
        });
        world.settle().await;
        if let Some(tally) = tally.as_deref_mut() {
            outcomes.iter().for_each(|o| tally.add(o));
        }
        let ends: Vec<String> = outcomes.iter().map(ending).collect();
        eprintln!("model: {:>3}. {step}: {}", index + 1, ends.join(" || "));
        let after = snapshot::take(&world.client, &world.tag, &namespaces).await;
        let requests = mark.skyctl_requests_in(&namespace_refs);
        let mut broken = invariants::check(&invariants::Step {
            tag: &world.tag,
            runs: &step.0,
            outcomes: &outcomes,
            before: &before,
            after: &after,
            requests: &requests,
        });
        let records = skyctl::cluster::release_secrets::every_release(&world.client, None)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| namespaces.contains(&r.namespace))
            .collect::<Vec<_>>();
        broken.extend(invariants::records_agree(&records, &after, &world.tag));
        if !broken.is_empty() {
            return Err(Failure {
                step: index,
                broken,
                outcomes,
            });
        }
    }
    Ok(())
}

/// Drops steps, halves first and then one at a time, while the sequence still breaks an
/// invariant (any one): the shortest failing sequence found in [`SHRINK_RUNS`] runs.
async fn shrink(
    client: &kube::Client,
    mut sequence: Vec<Step>,
    mut failure: Failure,
) -> (Vec<Step>, Failure) {
    sequence.truncate(failure.step + 1);
    let mut runs = 0;
    let mut chunk = sequence.len().div_ceil(2);
    while chunk >= 1 && runs < SHRINK_RUNS {
        let mut start = 0;
        while start < sequence.len() && runs < SHRINK_RUNS {
            let mut candidate = sequence.clone();
            candidate.drain(start..(start + chunk).min(candidate.len()));
            runs += 1;
            match run(client, &candidate, None).await {
                Err(smaller) => {
                    eprintln!("model: still fails with {} steps", smaller.step + 1);
                    candidate.truncate(smaller.step + 1);
                    sequence = candidate;
                    failure = smaller;
                }
                Ok(()) => start += chunk,
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    (sequence, failure)
}

/// How a run ended, in a few words: its exit and the first line of its error.
fn ending(outcome: &Outcome) -> String {
    let error = outcome
        .stderr
        .lines()
        .find(|line| line.starts_with("error:"))
        .unwrap_or("");
    match outcome.code {
        Some(code) => format!("exit {code} {error}"),
        None => format!("signal {:?}", outcome.signal),
    }
}

fn report(seed: u64, world: u64, sequence: &[Step], failure: &Failure) -> String {
    let mut text = format!(
        "the model broke an invariant: seed {seed} (world {world}), at step {} of:\n",
        failure.step + 1
    );
    for (i, step) in sequence.iter().enumerate() {
        text.push_str(&format!("  {:>3}. {step}\n", i + 1));
    }
    text.push_str("broken:\n");
    for broken in &failure.broken {
        text.push_str(&format!("  - {broken}\n"));
    }
    text.push_str("output of the failing step:\n");
    for outcome in &failure.outcomes {
        text.push_str(&format!(
            "  exit {:?} signal {:?}\n{}\n",
            outcome.code, outcome.signal, outcome.stderr
        ));
    }
    text
}
