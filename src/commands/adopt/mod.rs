//! `skyctl adopt`: a Helm release taken over, as the flags ask, and told.

mod take_over;

pub(super) use take_over::adopted_values;
use take_over::take_over;

use crate::cli::{AdoptArgs, ClusterArgs};
use crate::cluster::helm_handover;
use crate::error::invalid_input;
use crate::helm_release::{self, HelmError, Resume};
use crate::manifest::ObjectRef;
use crate::release::Release;

/// Adopt: Helm's record → values → the same rollout as an install, taking Helm's objects over
/// → Helm's marks, leftovers and records removed. Each step can run again: a run after an
/// interruption finds the skyctl revision recorded and only finishes the clean-up.
pub async fn run(cluster: &ClusterArgs, args: AdoptArgs) -> anyhow::Result<()> {
    // The values flags are read before the cluster is asked anything: bad input exits 2 first.
    let flags = super::read_input(&args.values, &Default::default())?;
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
