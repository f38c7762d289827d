//! The sequences of operations the model runs: made from a seed alone, so that a sequence
//! can be run again, and shrunk, whatever the cluster answered the first time.

use std::fmt;

use proptest::prelude::RngExt;
use proptest::test_runner::{RngAlgorithm, TestRng};
use skyctl::interrupt_point::Point;

/// A place a release can be: three skyctl releases, two of them of the same name in two
/// namespaces, and one that Helm installs and skyctl may adopt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// `sky<tag>` in namespace `<tag>-a`, beside the person's objects and the Helm releases.
    SkyA,
    /// `sky<tag>` in namespace `<tag>-b`, which only skyctl creates.
    SkyB,
    /// `alt<tag>` in namespace `<tag>-a`.
    AltA,
    /// `hlm<tag>` in namespace `<tag>-a`: Helm's until adopted.
    HelmA,
}

impl Slot {
    pub const ALL: [Slot; 4] = [Slot::SkyA, Slot::SkyB, Slot::AltA, Slot::HelmA];

    pub fn release(self, tag: &str) -> String {
        match self {
            Slot::SkyA | Slot::SkyB => format!("sky{tag}"),
            Slot::AltA => format!("alt{tag}"),
            Slot::HelmA => format!("hlm{tag}"),
        }
    }

    pub fn namespace(self, tag: &str) -> String {
        match self {
            Slot::SkyB => format!("{tag}-b"),
            _ => format!("{tag}-a"),
        }
    }

    fn short(self) -> &'static str {
        match self {
            Slot::SkyA => "sky/a",
            Slot::SkyB => "sky/b",
            Slot::AltA => "alt/a",
            Slot::HelmA => "hlm/a",
        }
    }
}

/// The IngressClass a release's controller serves: one every release may ask for (so two
/// releases race for it), or one of the slot's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Shared,
    Own,
}

/// What an upgrade changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// New values in full, without `--reuse-values`.
    Values { class: Class, mark: u8 },
    /// `--reuse-values` and one value more.
    Reuse { mark: u8 },
    /// `--reuse-values --version`: to the seed-era chart, or back.
    Version { seed_era: bool },
    /// `--reuse-values --set fullnameOverride=…`: every object, the claim too, renamed.
    Fullname { mark: u8 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Install {
        slot: Slot,
        class: Class,
    },
    Upgrade {
        slot: Slot,
        change: Change,
    },
    /// To the revision before the current one.
    Rollback {
        slot: Slot,
    },
    Uninstall {
        slot: Slot,
        delete_data: bool,
        delete_namespace: bool,
    },
    /// Helm installs `hlm<tag>` again (real Helm 4).
    HelmInstall,
    Adopt,
    /// `creds add aws` for the slot's release; in namespace a a person's `aws-credentials`
    /// Secret is in the way.
    CredsAdd {
        slot: Slot,
    },
}

impl Op {
    pub fn slot(self) -> Slot {
        match self {
            Op::Install { slot, .. }
            | Op::Upgrade { slot, .. }
            | Op::Rollback { slot }
            | Op::Uninstall { slot, .. }
            | Op::CredsAdd { slot } => slot,
            Op::HelmInstall | Op::Adopt => Slot::HelmA,
        }
    }
}

/// One skyctl (or Helm) run, maybe killed at a named point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub op: Op,
    /// `kill -9` at the `n`th arrival at this point.
    pub kill: Option<(Point, usize)>,
}

/// One step: a run, or two at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step(pub Vec<Run>);

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = self.op.slot().short();
        match self.op {
            Op::Install { class, .. } => write!(f, "install {slot} ({class:?} class)")?,
            Op::Upgrade { change, .. } => write!(f, "upgrade {slot} {change:?}")?,
            Op::Rollback { .. } => write!(f, "rollback {slot}")?,
            Op::Uninstall {
                delete_data,
                delete_namespace,
                ..
            } => {
                write!(f, "uninstall {slot}")?;
                if delete_data {
                    f.write_str(" --delete-data")?;
                }
                if delete_namespace {
                    f.write_str(" --delete-namespace")?;
                }
            }
            Op::HelmInstall => write!(f, "helm install {slot}")?,
            Op::Adopt => write!(f, "adopt {slot}")?,
            Op::CredsAdd { .. } => write!(f, "creds add aws {slot}")?,
        }
        if let Some((point, nth)) = self.kill {
            write!(f, ", kill -9 at {}#{nth}", point.name())?;
        }
        Ok(())
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runs: Vec<String> = self.0.iter().map(Run::to_string).collect();
        f.write_str(&runs.join("  ||  "))
    }
}

/// What the generator believes, to make steps that can succeed more often than not: it
/// predicts each run from the rules it knows (one `sky` release in the cluster, one release per
/// IngressClass), and is wrong sometimes, which the invariants do not care about.
#[derive(Default)]
struct Belief {
    /// Per slot: installed, with this class and this many revisions.
    installed: [Option<(Class, u32)>; 4],
    helm_has_hlm: bool,
}

fn index(slot: Slot) -> usize {
    Slot::ALL.iter().position(|s| *s == slot).unwrap()
}

impl Belief {
    fn installed(&self, slot: Slot) -> bool {
        self.installed[index(slot)].is_some()
    }

    /// The class is free for `slot`: shared classes belong to one release at a time.
    fn class_free(&self, slot: Slot, class: Class) -> bool {
        class == Class::Own
            || Slot::ALL
                .iter()
                .filter(|s| **s != slot)
                .all(|s| self.installed[index(*s)].is_none_or(|(c, _)| c != Class::Shared))
    }

    fn may_install(&self, slot: Slot, class: Class) -> bool {
        let twin = match slot {
            Slot::SkyA => Some(Slot::SkyB),
            Slot::SkyB => Some(Slot::SkyA),
            _ => None,
        };
        !self.installed(slot)
            && twin.is_none_or(|t| !self.installed(t))
            && (slot != Slot::HelmA || !self.helm_has_hlm)
            && self.class_free(slot, class)
    }

    fn succeeds(&self, op: Op) -> bool {
        let slot = op.slot();
        let installed = self.installed[index(slot)];
        match op {
            Op::Install { class, .. } => self.may_install(slot, class),
            Op::Upgrade {
                change: Change::Values { class, .. },
                ..
            } => installed.is_some() && self.class_free(slot, class),
            Op::Upgrade { .. } | Op::Uninstall { .. } | Op::CredsAdd { .. } => installed.is_some(),
            Op::Rollback { .. } => installed.is_some_and(|(_, revisions)| revisions > 1),
            Op::HelmInstall => !self.helm_has_hlm && installed.is_none(),
            Op::Adopt => self.helm_has_hlm && installed.is_none(),
        }
    }

    fn apply(&mut self, run: &Run) {
        if run.kill.is_some() || !self.succeeds(run.op) {
            return;
        }
        let entry = &mut self.installed[index(run.op.slot())];
        match run.op {
            Op::Install { class, .. } => *entry = Some((class, 1)),
            Op::Upgrade { change, .. } => {
                if let Some((class, revisions)) = entry {
                    *revisions += 1;
                    if let Change::Values { class: new, .. } = change {
                        *class = new;
                    }
                }
            }
            Op::Rollback { .. } | Op::CredsAdd { .. } => {
                if let Some((_, revisions)) = entry {
                    *revisions += 1;
                }
            }
            Op::Uninstall { .. } => *entry = None,
            Op::HelmInstall => self.helm_has_hlm = true,
            Op::Adopt => {
                self.helm_has_hlm = false;
                *entry = Some((Class::Own, 1));
            }
        }
    }
}

/// Shortest failing sequences the soak found, run first on every run so that what they broke
/// stays fixed.
pub fn regressions() -> Vec<Vec<Step>> {
    let run = |op, kill| Run { op, kill };
    vec![
        // An uninstall stopped after deleting the claim of an earlier fullnameOverride, then
        // an upgrade: the new revision listed the deleted claim as the release's.
        vec![
            Step(vec![
                run(
                    Op::Install {
                        slot: Slot::SkyA,
                        class: Class::Own,
                    },
                    Some((Point::PhaseApplied, 2)),
                ),
                run(
                    Op::Install {
                        slot: Slot::SkyB,
                        class: Class::Own,
                    },
                    None,
                ),
            ]),
            Step(vec![run(
                Op::Upgrade {
                    slot: Slot::SkyB,
                    change: Change::Fullname { mark: 1 },
                },
                None,
            )]),
            Step(vec![run(
                Op::Uninstall {
                    slot: Slot::SkyB,
                    delete_data: true,
                    delete_namespace: false,
                },
                Some((Point::ObjectsDeleted, 1)),
            )]),
            Step(vec![run(
                Op::Upgrade {
                    slot: Slot::SkyB,
                    change: Change::Values {
                        class: Class::Shared,
                        mark: 3,
                    },
                },
                None,
            )]),
        ],
    ]
}

/// `steps` steps from `seed`.
pub fn sequence(seed: u64, steps: usize) -> Vec<Step> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut belief = Belief {
        helm_has_hlm: true,
        ..Belief::default()
    };
    let mut sequence = Vec::with_capacity(steps);
    for _ in 0..steps {
        let step = if rng.random_range(0..100) < 15 {
            concurrent(&mut rng, &belief)
        } else {
            Step(vec![run(&mut rng, &belief, None)])
        };
        for run in &step.0 {
            belief.apply(run);
        }
        sequence.push(step);
    }
    sequence
}

/// Two runs at once, on two slots; a third of the time the race for the cluster-wide objects
/// of one release name: installs of `sky` in both namespaces.
fn concurrent(rng: &mut TestRng, belief: &Belief) -> Step {
    if rng.random_range(0..3) == 0 {
        let class = class(rng);
        return Step(vec![
            with_kill(
                rng,
                Op::Install {
                    slot: Slot::SkyA,
                    class,
                },
            ),
            with_kill(
                rng,
                Op::Install {
                    slot: Slot::SkyB,
                    class,
                },
            ),
        ]);
    }
    let first = run(rng, belief, None);
    let second = run(rng, belief, Some(first.op.slot()));
    Step(vec![first, second])
}

fn class(rng: &mut TestRng) -> Class {
    if rng.random_range(0..2) == 0 {
        Class::Shared
    } else {
        Class::Own
    }
}

/// The points a run of `op` passes, in its order.
fn points(op: Op) -> &'static [Point] {
    const ROLLOUT: &[Point] = &[
        Point::Prepared,
        Point::LockTaken,
        Point::RecordedPending,
        Point::PhaseApplied,
        Point::Pruned,
        Point::Waited,
        Point::RecordedDeployed,
    ];
    const ADOPT: &[Point] = &[
        Point::LockTaken,
        Point::RecordedPending,
        Point::PhaseApplied,
        Point::RecordedDeployed,
        Point::HelmMarksRead,
        Point::HelmMarksRemoved,
        Point::HelmLeftoversRemoved,
    ];
    const UNINSTALL: &[Point] = &[
        Point::LockTaken,
        Point::RecordedUninstalling,
        Point::ObjectsDeleted,
        Point::RecordsDeleted,
    ];
    match op {
        Op::Uninstall { .. } => UNINSTALL,
        Op::Adopt => ADOPT,
        Op::HelmInstall => &[],
        _ => ROLLOUT,
    }
}

/// `op`, killed one time in five at one of the points it passes.
fn with_kill(rng: &mut TestRng, op: Op) -> Run {
    let points = points(op);
    let kill = (!points.is_empty() && rng.random_range(0..5) == 0).then(|| {
        let point = points[rng.random_range(0..points.len())];
        let nth = if matches!(point, Point::PhaseApplied | Point::HelmMarksRead) {
            rng.random_range(1..4)
        } else {
            1
        };
        (point, nth)
    });
    Run { op, kill }
}

/// A run on a slot other than `not`: four times in five one the belief says can succeed.
fn run(rng: &mut TestRng, belief: &Belief, not: Option<Slot>) -> Run {
    let slots: Vec<Slot> = Slot::ALL.into_iter().filter(|s| Some(*s) != not).collect();
    let likely = rng.random_range(0..5) != 0;
    let pick = |rng: &mut TestRng| {
        let slot = slots[rng.random_range(0..slots.len())];
        any_op(rng, slot)
    };
    let mut op = pick(rng);
    for _ in 0..20 {
        if !likely || belief.succeeds(op) {
            break;
        }
        op = pick(rng);
    }
    with_kill(rng, op)
}

fn any_op(rng: &mut TestRng, slot: Slot) -> Op {
    let mark = rng.random_range(0..4);
    match rng.random_range(0..100) {
        0..20 => Op::Install {
            slot,
            class: class(rng),
        },
        20..45 => Op::Upgrade {
            slot,
            change: match rng.random_range(0..10) {
                0..4 => Change::Values {
                    class: class(rng),
                    mark,
                },
                4..7 => Change::Reuse { mark },
                7 => Change::Version {
                    seed_era: rng.random_range(0..2) == 0,
                },
                _ => Change::Fullname { mark },
            },
        },
        45..57 => Op::Rollback { slot },
        57..77 => Op::Uninstall {
            slot,
            delete_data: rng.random_range(0..2) == 0,
            delete_namespace: rng.random_range(0..3) == 0,
        },
        77..87 => Op::CredsAdd { slot },
        _ if slot == Slot::HelmA && rng.random_range(0..2) == 0 => Op::HelmInstall,
        _ if slot == Slot::HelmA => Op::Adopt,
        _ => Op::Install {
            slot,
            class: class(rng),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_sequence_every_time() {
        assert_eq!(sequence(7, 30), sequence(7, 30));
        assert_ne!(sequence(7, 30), sequence(8, 30));
    }
}
