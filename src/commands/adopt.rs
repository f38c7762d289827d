use crate::chart::Chart;
use crate::cli::{AdoptArgs, ClusterArgs, RolloutArgs};
use crate::cluster::helm_handover;
use crate::cluster::live_render;
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::snapshot::Snapshot;
use crate::decide::Operation;
use crate::error::invalid_input;
use crate::helm_release::{self, HelmError, HelmRelease, Resume};
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
    let plan = helm_handover::CleanUp {
        release: &release,
        applied: &applied,
        leftovers: &leftovers,
        records: &revisions,
        keep_records: args.keep_helm_history,
    };
    if args.dry_run {
        let preview = helm_handover::preview_clean_up(&client, &plan, marks_known).await?;
        report_dry_run(
            &release,
            preview.marked.as_deref(),
            &preview.removed,
            &revisions,
            args.keep_helm_history,
        );
        report_monitoring(&leftovers.monitoring, true);
        return Ok(());
    }
    let cleaned = helm_handover::clean_up(&client, &plan, args.lock.force_unlock).await?;
    eprintln!(
        "release {} adopted from Helm: Helm's marks removed from {} object(s), {} object(s) \
         Helm made and skyctl does not render deleted{}, Helm's {} record(s) {}",
        release.name,
        cleaned.marked.len(),
        cleaned.removed.len(),
        listed(&cleaned.removed),
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
        extra.push(helm_release::grown_claim_layer(&claim, &size));
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
    let manager = ObjectManager::new(client);
    let hand_over = || -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(helm_handover::hand_over_fields(&manager, release, &ids))
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
    let layer = helm.values_layer()?;
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
