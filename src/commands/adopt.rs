use serde_json::{Value, json};

use crate::chart::Chart;
use crate::cli::{AdoptArgs, ClusterArgs, RolloutArgs};
use crate::cluster::live_render;
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::snapshot::Snapshot;
use crate::cluster::{helm_handover, lock};
use crate::decide::Operation;
use crate::error::invalid_input;
use crate::helm_release::{self, HelmError, HelmRelease, Resume};
use crate::interrupt_point::{self, Point};
use crate::manifest::ObjectRef;
use crate::release::{History, Release};
use crate::values::{self, ExtraLayer, Input, Resolved};

use super::deploy::{self, DeployOptions};

/// Adopt: Helm's record → values → the same rollout as an install, taking Helm's objects over
/// → Helm's marks, leftovers and records removed. Each step can run again: a run after an
/// interruption finds the skyctl revision recorded and only finishes the clean-up.
pub async fn run(cluster: &ClusterArgs, args: AdoptArgs) -> anyhow::Result<()> {
    // The values flags are read before the cluster is asked anything: bad input exits 2 first.
    let flags = super::read_input(&args.values)?;
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::history(&client, &release).await?;
    let revisions = helm_handover::revisions(&client, &release).await?;
    let adoptable = helm_release::adoptable(&release, &revisions).map_err(helm_error)?;
    let Some(adoptable) = adoptable else {
        if let Some(deployed) = history.deployed() {
            eprintln!(
                "release {} is skyctl's (revision {}); nothing of Helm's is left to adopt",
                release.name, deployed.revision
            );
            return Ok(());
        }
        anyhow::bail!(
            "no Helm release {} in namespace {}: Helm keeps its releases as Secrets (or \
             ConfigMaps) labelled owner=helm,name={}; `helm list -A` shows where it is",
            release.name,
            release.namespace,
            release.name
        );
    };
    let helm = helm_release::decode(adoptable.revision, &release).map_err(helm_error)?;
    // What the skipped revisions made goes as the adopted one's leftovers do, so each is read
    // as carefully: a record of another release is refused.
    let skipped = adoptable
        .skipped
        .iter()
        .map(|stored| helm_release::decode(stored, &release))
        .collect::<Result<Vec<_>, _>>()
        .map_err(helm_error)?;
    let chart = helm_release::chart_for(&helm, args.version.as_deref()).map_err(helm_error)?;
    crate::ui::step(
        "helm release",
        &format!(
            "{} revision {} (chart {}), kept in {} record(s)",
            release.name,
            helm.version,
            helm.chart_label(),
            revisions.len()
        ),
    );
    if !adoptable.skipped.is_empty() {
        let named: Vec<String> = adoptable
            .skipped
            .iter()
            .map(|r| format!("revision {} ({})", r.revision, r.status))
            .collect();
        eprintln!(
            "warning: Helm's {} never deployed: adopting revision {}, the newest deployed, \
             which is what runs; what only the newer revisions made goes with Helm's leftovers, \
             and their records are retired with the others",
            named.join(", "),
            helm.version
        );
    }
    let manager = ObjectManager::new(&client);
    let (applied, marks_known) = match helm_release::resume(&history, &helm).map_err(helm_error)? {
        Resume::CleanUp { revision } => {
            crate::ui::step(
                "skyctl release",
                &format!("revision {revision} is recorded; finishing what an earlier adopt began"),
            );
            (history.owned_objects(), true)
        }
        // After a dry run the objects are not skyctl's yet: which will carry Helm's marks
        // then is not known.
        Resume::Rollout => (
            take_over(&client, &release, &helm, chart, &history, flags, &args).await?,
            !args.dry_run,
        ),
    };
    let made: Vec<_> = std::iter::once(&helm)
        .chain(&skipped)
        .flat_map(helm_release::helm_objects)
        .collect();
    let leftovers = helm_release::leftovers(&made, &applied);
    let unowned = leftovers.unowned();
    if args.dry_run {
        let marked = if marks_known {
            Some(
                helm_handover::remove_marks(
                    &manager,
                    &release,
                    &applied,
                    helm_release::traces_patch,
                    true,
                )
                .await?,
            )
        } else {
            None
        };
        let doomed =
            helm_handover::remove_leftovers(&manager, &release, &leftovers.delete, true).await?;
        report_dry_run(
            &release,
            marked.as_deref(),
            &doomed,
            &revisions,
            args.keep_helm_history,
        );
        report_monitoring(&leftovers.monitoring, true);
        return Ok(());
    }
    // The clean-up changes the release's objects: under the release's lock, as every change
    // is, so that it never interleaves with an upgrade, and a run after one killed while it held
    // the lock takes a dead holder's lock with --force-unlock instead of leaving it to block
    // the next upgrade or uninstall.
    let lock = lock::acquire(
        &client,
        &release.namespace,
        &release.name,
        "adopt",
        args.lock.force_unlock,
    )
    .await?;
    let cleaned_up = async {
        let cleaned = helm_handover::remove_marks(
            &manager,
            &release,
            &applied,
            helm_release::traces_patch,
            false,
        )
        .await?;
        helm_handover::remove_marks(
            &manager,
            &release,
            &unowned,
            helm_release::unowned_patch,
            false,
        )
        .await?;
        interrupt_point::reached(Point::HelmMarksRemoved);
        let removed =
            helm_handover::remove_leftovers(&manager, &release, &leftovers.delete, false).await?;
        interrupt_point::reached(Point::HelmLeftoversRemoved);
        helm_handover::retire_records(&client, &release, &revisions, args.keep_helm_history)
            .await?;
        anyhow::Ok((cleaned, removed))
    }
    .await;
    lock.release().await?;
    let (cleaned, removed) = cleaned_up?;
    eprintln!(
        "release {} adopted from Helm: Helm's marks removed from {} object(s), {} object(s) \
         Helm made and skyctl does not render deleted{}, Helm's {} record(s) {}",
        release.name,
        cleaned.len(),
        removed.len(),
        listed(&removed),
        revisions.len(),
        if args.keep_helm_history {
            "kept, relabelled so Helm no longer lists them"
        } else {
            "deleted"
        }
    );
    report_monitoring(&leftovers.monitoring, false);
    eprintln!(
        "`skyctl upgrade {} -n {}` changes it from now on; Helm no longer knows it",
        release.name, release.namespace
    );
    Ok(())
}

/// The chart's Prometheus and Grafana, which adopt leaves running and owned by nobody, named
/// with the commands that remove them.
fn report_monitoring(monitoring: &[ObjectRef], dry_run: bool) {
    if monitoring.is_empty() {
        return;
    }
    let verb = if dry_run { "would be" } else { "are" };
    eprintln!(
        "the chart's Prometheus and Grafana {verb} left in place, owned by nobody (skyctl \
         deploys neither; Helm no longer knows them):{}",
        listed(monitoring)
    );
    for command in helm_release::delete_commands(monitoring) {
        eprintln!("  remove them with: {command}");
    }
}

/// Helm's values, rendered with `chart` and rolled out as revision 1, taking Helm's objects
/// over. Returns the objects rendered: applied, or with `--dry-run` previewed.
async fn take_over(
    client: &kube::Client,
    release: &Release,
    helm: &HelmRelease,
    chart: &'static Chart,
    history: &History,
    flags: Input,
    args: &AdoptArgs,
) -> anyhow::Result<Vec<ObjectRef>> {
    let moving = !helm.runs(chart);
    let adopted = adopted_values(release, helm, chart, flags, args.version.as_deref())?;
    let AdoptedValues {
        input,
        mut extra,
        mut values,
    } = adopted;
    // Adopting changes nothing, a login nobody can pass included (the seed-era chart's
    // placeholder); install and upgrade refuse one, so the admin hears of it now.
    if let Err(err) = crate::web_login::check(&values.values, chart) {
        eprintln!(
            "warning: the login is adopted as it is, though install and upgrade refuse it: {err:#}"
        );
    }
    let snapshot = Snapshot::default();
    let mut manifests =
        live_render::render_release(client, &snapshot, release, chart, &values.values).await?;
    let claims = snapshot
        .observe(
            &ObjectManager::new(client),
            manifests
                .iter()
                .map(|m| &m.id)
                .filter(|id| id.kind == "PersistentVolumeClaim"),
        )
        .await?;
    if let Some((claim, size)) = helm_release::grown_claim(&manifests, &claims) {
        let key = helm_release::CLAIM_SIZE_KEY.join(".");
        eprintln!(
            "warning: {claim} has grown to {size} since Helm made it, and a claim never shrinks: \
             the release keeps {size} ({key}), not the size Helm's values ask for"
        );
        let [section, field] = helm_release::CLAIM_SIZE_KEY;
        let Value::Object(grown) = json!({ section: { field: size } }) else {
            unreachable!("a literal map")
        };
        extra.push(ExtraLayer {
            label: format!("the size {claim} has on the cluster"),
            values: grown,
        });
        values = input
            .resolve(chart.definition(), extra)
            .map_err(invalid_input)?;
        manifests =
            live_render::render_release(client, &snapshot, release, chart, &values.values).await?;
    }
    let ids: Vec<ObjectRef> = manifests.iter().map(|m| m.id.clone()).collect();
    let rollout = RolloutArgs {
        dry_run: args.dry_run,
        // Moving to another chart version changes objects: the admin sees how first.
        diff: args.diff || moving,
        force_conflicts: true,
        // `adopting` says whose objects are taken over.
        take_ownership: false,
        delete_data: false,
        history_max: 10,
        wait: args.wait.clone(),
        lock: args.lock.clone(),
    };
    let options = DeployOptions {
        description: Some(helm_release::adoption_description(helm)),
        adopting: true,
        ..DeployOptions::default()
    };
    // Under the lock, with the revision recorded, just before the apply: what Helm's manager
    // owns becomes skyctl's, so the apply removes what Helm set and skyctl does not render. A
    // Namespace is never taken over (it stays, owned by nobody): it keeps its fields as they are.
    let manager = ObjectManager::new(client);
    let taken: Vec<ObjectRef> = ids
        .iter()
        .filter(|id| !(id.kind == "Namespace" && id.group().is_empty()))
        .cloned()
        .collect();
    let hand_over = || -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async {
            helm_handover::remove_marks(
                &manager,
                release,
                &taken,
                helm_release::fields_handover_patch,
                false,
            )
            .await?;
            Ok(())
        })
    };
    deploy::deploy(
        client,
        release,
        Operation::Upgrade { install: true },
        chart,
        manifests,
        values,
        history,
        &rollout,
        &options,
        &snapshot,
        Some(&hand_over),
    )
    .await?;
    Ok(ids)
}

/// The values adopt renders a Helm release with: Helm's values (what `chart` does not know
/// left out when moving to another chart version), the admin's flags over them, and the chart's
/// monitoring turned off where Helm's values turned it on.
pub(super) struct AdoptedValues {
    pub input: Input,
    /// skyctl's own layers over the flags.
    pub extra: Vec<ExtraLayer>,
    pub values: Resolved,
}

/// [`AdoptedValues`] for `helm`, or why skyctl refuses them with the command that adopts it
/// without them (exit 2). `version`: the `--version` the admin gave.
pub(super) fn adopted_values(
    release: &Release,
    helm: &HelmRelease,
    chart: &'static Chart,
    flags: Input,
    version: Option<&str>,
) -> anyhow::Result<AdoptedValues> {
    let layer = helm_values(helm)?;
    let layer = if !helm.runs(chart) {
        let (known, dropped) =
            values::known_to(chart.definition(), layer).map_err(invalid_input)?;
        for key in dropped {
            eprintln!(
                "warning: Helm's values set {key}, which chart {} does not have; it is left out",
                chart.version()
            );
        }
        known
    } else {
        layer
    };
    let label = layer.label.clone();
    let input = flags.over_recorded(Some(layer), None);
    let extra: Vec<ExtraLayer> = helm_release::monitoring_off(&helm.config, chart)
        .map(|values| ExtraLayer {
            label: "adopt, which leaves the chart's Prometheus and Grafana in place".to_owned(),
            values,
        })
        .into_iter()
        .collect();
    let values = input
        .resolve(chart.definition(), extra.clone())
        .map_err(|err| {
            let fix = helm_release::values_fix(&err, &label);
            if fix.is_empty() {
                return invalid_input(err);
            }
            let version = version
                .map(|v| format!(" --version {v}"))
                .unwrap_or_default();
            invalid_input(anyhow::anyhow!(
                "{err}\nHelm took these values without checking them (its chart has no schema); \
                 `helm get values {name} -n {namespace}` shows them. Adopt without them (null \
                 deletes a key, as with Helm's --set), or with values skyctl takes: `skyctl \
                 adopt {name} -n {namespace}{version} --set {}`",
                fix.join(","),
                name = release.name,
                namespace = release.namespace,
            ))
        })?;
    Ok(AdoptedValues {
        input,
        extra,
        values,
    })
}

/// Errors of Helm's records: those in what the user pointed skyctl at exit 2.
fn helm_error(err: HelmError) -> anyhow::Error {
    if err.is_bad_input() {
        invalid_input(err)
    } else {
        err.into()
    }
}

/// Helm's `config` as a values layer, named so that an error in it says where it came from.
fn helm_values(helm: &HelmRelease) -> anyhow::Result<ExtraLayer> {
    let values = match &helm.config {
        Value::Object(map) => map.clone(),
        Value::Null => serde_json::Map::new(),
        _ => anyhow::bail!(
            "Helm release {} recorded values that are not a map",
            helm.name
        ),
    };
    Ok(ExtraLayer {
        label: format!(
            "the values of Helm release {} (revision {})",
            helm.name, helm.version
        ),
        values,
    })
}

fn listed(ids: &[ObjectRef]) -> String {
    if ids.is_empty() {
        return String::new();
    }
    let names: Vec<String> = ids.iter().map(ObjectRef::to_string).collect();
    format!(" ({})", names.join(", "))
}

/// What the clean-up would do; `marked`, the objects carrying Helm's marks, when they are
/// known (once the objects are skyctl's).
fn report_dry_run(
    release: &Release,
    marked: Option<&[ObjectRef]>,
    doomed: &[ObjectRef],
    revisions: &[helm_release::StoredRevision],
    keep: bool,
) {
    let marks = match marked {
        Some(marked) => format!("from {} object(s)", marked.len()),
        None => "from its objects".to_owned(),
    };
    eprintln!(
        "dry run: adopting {} would hand the fields Helm's manager owns to skyctl's just before \
         applying, so that what Helm set and skyctl does not render goes with the apply",
        release.name
    );
    eprintln!(
        "dry run: adopting {} would then remove Helm's marks {marks}, delete {} \
         object(s) Helm made that skyctl does not render{}, and {} Helm's {} record(s); \
         nothing was changed",
        release.name,
        doomed.len(),
        listed(doomed),
        if keep { "relabel" } else { "delete" },
        revisions.len()
    );
}
