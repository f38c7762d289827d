use crate::chart::Chart;
use crate::cli::{ClusterArgs, ReuseArgs, UpgradeArgs};
use crate::cluster::helm_handover;
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::snapshot::Snapshot;
use crate::decide::{self, Operation, ValuesBase, ValuesMode};
use crate::error::invalid_input;
use crate::helm_release;
use crate::release::recorded_values;
use crate::release::{History, Release, ReleaseRecord};
use crate::values::{self, ExtraLayer, Input};

/// Upgrade: the values flags, over the values the deployed revision recorded when Helm's rules
/// say so (see `decide::values_base`). The release and its namespace are checked before any
/// question is asked.
pub async fn run(cluster: &ClusterArgs, args: UpgradeArgs) -> anyhow::Result<()> {
    let deploy = &args.deploy;
    let asked = deploy.chart.version.as_deref();
    let input = super::read_input(&deploy.values, &deploy.front_door)?;
    // With --version the chart is known, and the values are checked before the cluster is
    // read; without it, the chart is the release's own, known once its record is read.
    if let Some(version) = asked {
        let chart = Chart::find(version)?;
        let given = input
            .resolve(chart.definition(), Vec::new())
            .map_err(invalid_input)?;
        crate::web_login::check_given(&given, chart)?;
    }
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    let history = super::history(&client, &release).await?;
    let chart = chart(asked, &release, &history)?;
    let given = input
        .resolve(chart.definition(), Vec::new())
        .map_err(invalid_input)?;
    crate::web_login::check_given(&given, chart)?;
    let operation = Operation::Upgrade {
        install: args.install,
    };
    let snapshot = Snapshot::default();
    let namespace_exists = snapshot
        .namespace_exists(&ObjectManager::new(&client), &release.namespace)
        .await?;
    if let Err(refusal) = decide::precheck(
        &release,
        operation,
        &history,
        namespace_exists,
        deploy.create_namespace,
    ) {
        // Helm's records are read only when skyctl knows no such release.
        let helm_deployed = matches!(refusal, decide::Refusal::NotFound { .. }) && {
            let revisions = helm_handover::revisions(&client, &release).await?;
            matches!(helm_release::adoptable(&release, &revisions), Ok(Some(_)))
        };
        return Err(super::refused(decide::beside_helm(refusal, helm_deployed)));
    }
    let deployed = history.deployed();
    let values_given = given.user.as_object().is_some_and(|map| !map.is_empty());
    let base = decide::values_base(mode(args.reuse), values_given, deployed.is_some());
    let input = starting_values(input, base, deployed, chart)?;
    let user = input
        .resolve(chart.definition(), Vec::new())
        .map_err(invalid_input)?;
    if let Some(record) = deployed {
        crate::ui::step("values", &describe(base, values_given, record.revision));
    }
    let recorded = deployed.map(|record| &record.values);
    let request = super::web_login::request(deploy);
    let choice = crate::web_login::choose(&request, chart, &given, &user, recorded)?;
    let choice = super::preflight::gate_then_ask(
        &client,
        &snapshot,
        &release,
        chart,
        &user,
        (choice, &request),
        deploy,
    )
    .await?;
    let login = crate::web_login::decide(
        &request,
        choice,
        &release.name,
        &given,
        &user,
        recorded,
        &mut super::web_login::Terminal(&request),
    )?;
    super::deploy::deploy_and_finish(
        &client,
        &release,
        operation,
        super::deploy::DeployValues {
            chart,
            input,
            user,
            login,
            assumed: None,
        },
        history,
        deploy,
        &snapshot,
    )
    .await
}

/// The values flags over what `base` reuses of the deployed revision: what an upgrade renders
/// from, and what `doctor` checks for a release that exists.
pub(super) fn starting_values(
    input: Input,
    base: ValuesBase,
    deployed: Option<&ReleaseRecord>,
    chart: &Chart,
) -> anyhow::Result<Input> {
    Ok(match (base, deployed) {
        (ValuesBase::Recorded, Some(record)) => {
            input.over_recorded(Some(carried_over(record, chart)?), None)
        }
        (ValuesBase::RecordedAndItsDefaults, Some(record))
            if record.chart_version != chart.version() =>
        {
            eprintln!(
                "warning: --reuse-values starts from chart {}'s defaults: those of chart {} \
                 that revision {} was computed from do not fit it",
                chart.version(),
                record.chart_version,
                record.revision
            );
            input.over_recorded(Some(carried_over(record, chart)?), None)
        }
        (ValuesBase::RecordedAndItsDefaults, Some(record)) => input.over_recorded(
            Some(recorded_values::recorded_layer(record)?),
            recorded_values::previous_defaults_layer(record)?,
        ),
        _ => input,
    })
}

/// The chart an upgrade renders: `--version`, else the newest revision's, as Helm upgrades a
/// release with the chart it last tried. A message names the version this skyctl lacks.
pub(super) fn chart(
    asked: Option<&str>,
    release: &Release,
    history: &History,
) -> anyhow::Result<&'static Chart> {
    let recorded = history.latest().map(|record| record.chart_version.as_str());
    Chart::choose(asked, recorded).map_err(|err| {
        invalid_input(anyhow::Error::new(err).context(format!(
            "release {} was rendered with a chart version this skyctl does not have; use the \
             skyctl that made it, or move the release to a version named with --version",
            release.name
        )))
    })
}

/// The values `record` recorded, as far as `chart` has their keys: moving to another chart
/// version leaves out (and names) what it no longer has, such as the seed-era node ports.
fn carried_over(record: &ReleaseRecord, chart: &Chart) -> anyhow::Result<ExtraLayer> {
    let layer = recorded_values::recorded_layer(record)?;
    if record.chart_version == chart.version() {
        return Ok(layer);
    }
    let (known, dropped) = values::known_to(chart.definition(), layer)?;
    for key in dropped {
        eprintln!(
            "warning: revision {} set {key}, which chart {} does not have; it is left out",
            record.revision,
            chart.version()
        );
    }
    Ok(known)
}

fn mode(args: ReuseArgs) -> ValuesMode {
    match args {
        ReuseArgs {
            reuse_values: true, ..
        } => ValuesMode::Reuse,
        ReuseArgs {
            reset_values: true, ..
        } => ValuesMode::Reset,
        ReuseArgs {
            reset_then_reuse_values: true,
            ..
        } => ValuesMode::ResetThenReuse,
        _ => ValuesMode::Default,
    }
}

/// The checklist line that says which values the upgrade starts from.
fn describe(base: ValuesBase, values_given: bool, revision: u32) -> String {
    match (base, values_given) {
        (ValuesBase::Recorded, false) => {
            format!("the values of revision {revision}, reused (no values given)")
        }
        (ValuesBase::Recorded, true) => {
            format!("the values given, over those of revision {revision}")
        }
        (ValuesBase::RecordedAndItsDefaults, _) => format!(
            "the values given, over those of revision {revision} and the defaults it was computed from"
        ),
        (ValuesBase::Defaults, false) => "skyctl's defaults (--reset-values)".to_owned(),
        (ValuesBase::Defaults, true) => format!(
            "the values given, over skyctl's defaults; those of revision {revision} are not reused (--reuse-values would)"
        ),
    }
}
