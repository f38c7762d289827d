//! Helm's values, with the admin's flags over them, rolled out as the release's first revision.

use crate::chart::Chart;
use crate::cli::{AdoptArgs, RolloutArgs};
use crate::cluster::helm_handover;
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::snapshot::Snapshot;
use crate::cluster::{live_render, rollout};
use crate::commands::deploy::{self, DeployOptions};
use crate::decide::Operation;
use crate::error::invalid_input;
use crate::front_door::FrontDoor;
use crate::helm_release::{self, HelmRelease};
use crate::manifest::ObjectRef;
use crate::release::{History, Release};
use crate::values::{self, ExtraLayer, Input, Resolved};

/// Helm's values, rendered with `chart` and rolled out as revision 1, taking Helm's objects
/// over. Returns the objects rendered: applied, or with `--dry-run` previewed.
pub(super) async fn take_over(
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
    let hand_over = || -> futures::future::LocalBoxFuture<'_, anyhow::Result<()>> {
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
        rollout::Hooks {
            before_apply: Some(&hand_over),
            ..Default::default()
        },
    )
    .await?;
    Ok(ids)
}

/// The values adopt renders a Helm release with: Helm's values (what `chart` does not know
/// left out when moving to another chart version), the admin's flags over them, and the chart's
/// monitoring turned off where Helm's values turned it on.
pub(in crate::commands) struct AdoptedValues {
    pub input: Input,
    /// skyctl's own layers over the flags.
    pub extra: Vec<ExtraLayer>,
    pub values: Resolved,
}

/// [`AdoptedValues`] for `helm`, or why skyctl refuses them with the command that adopts it
/// without them (exit 2). `version`: the `--version` the admin gave.
pub(in crate::commands) fn adopted_values(
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
        .map_err(
            |err| match helm_release::values_refusal(&err, &label, release, version) {
                Some(refusal) => invalid_input(anyhow::anyhow!(refusal)),
                None => invalid_input(err),
            },
        )?;
    // Helm's release is behind its ingress-nginx; adopt takes it over as it is, and a move
    // to another door is an upgrade's, which checks the new door before pruning the old.
    let door = FrontDoor::of(&values.values);
    if door != FrontDoor::IngressNginx {
        return Err(invalid_input(anyhow::anyhow!(
            "{}={}: adopt keeps the release's ingress-nginx; move it once adopted: skyctl \
             upgrade {} -n {} --reuse-values --gateway … (or --ingress-class …)",
            crate::front_door::KEY,
            door.name(),
            release.name,
            release.namespace
        )));
    }
    Ok(AdoptedValues {
        input,
        extra,
        values,
    })
}
