//! What storing or removing credentials does to the release: the values that turn them on or
//! off, checked before anything is written, and the upgrade that applies them.

use serde_json::Value;

use super::kind_name;
use crate::chart::Chart;
use crate::cli::{LockArgs, RolloutArgs, WaitArgs};
use crate::cluster::live_render;
use crate::cluster::snapshot::Snapshot;
use crate::commands::deploy::Outcome;
use crate::credentials::{self, Stored};
use crate::decide::Operation;
use crate::error::invalid_input;
use crate::release::Release;
use crate::release::recorded_values;
use crate::render::ChartNames;
use crate::values::{self, ExtraLayer, Layers};

/// The values that turn these stored credentials on or off in a release of `chart`, or why
/// that chart cannot have them.
pub(super) fn credentials_change(
    stored: Vec<Stored>,
    enabled: bool,
) -> impl FnOnce(&Chart, &Value) -> anyhow::Result<Vec<ExtraLayer>> {
    move |chart, _| {
        let unusable: Vec<String> = stored
            .iter()
            .filter_map(|s| credentials::unsupported_by(s, chart))
            .collect();
        if !unusable.is_empty() {
            return Err(Unusable(unusable.join("; ")).into());
        }
        let verb = if enabled { "add" } else { "remove" };
        Ok(stored
            .iter()
            .map(|s| ExtraLayer {
                label: format!("skyctl creds {verb} {}", kind_name(s.kind)),
                values: credentials::values_for(s, enabled, chart),
            })
            .collect())
    }
}

/// The release's chart lacks values that the change needs: said, and nothing is applied.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Unusable(String);

/// What became of a release that credentials were turned on or off in.
pub(super) enum Applied {
    NotInstalled,
    /// Its chart cannot use them; the reason was printed.
    Unusable,
    /// With the names of the release's objects, as this revision renders them.
    Deployed(Outcome, Box<ChartNames>),
}

/// What a change of credentials does to the release, decided before anything is written.
pub(super) enum Planned {
    NotInstalled,
    /// Its chart cannot use them; the reason was printed.
    Unusable,
    Upgrade(Box<Upgrade>),
}

/// The upgrade that turns the credentials on or off.
pub(super) struct Upgrade {
    history: crate::release::History,
    chart: &'static Chart,
    resolved: values::Resolved,
    /// The change edits the SkyPilot config, which the user did not write: it is shown.
    diff: bool,
}

/// The values an installed release gets from its recorded ones and the layers `change` makes
/// from its chart and recorded user values. Values that cannot work (a rule of the chart, a key
/// another layer set) are the command line's to fix: exit 2, before any write.
pub(super) async fn plan_release_change(
    client: &kube::Client,
    release: &Release,
    change: impl FnOnce(&Chart, &Value) -> anyhow::Result<Vec<ExtraLayer>>,
) -> anyhow::Result<Planned> {
    let history = crate::commands::history(client, release).await?;
    let Some(deployed) = history.deployed() else {
        return Ok(Planned::NotInstalled);
    };
    let chart = recorded_values::record_chart(deployed)?;
    let recorded = recorded_values::recorded_layer(deployed)?;
    let layers = match change(chart, &Value::Object(recorded.values.clone())) {
        Ok(layers) => layers,
        Err(err) => {
            let Some(Unusable(why)) = err.downcast_ref() else {
                return Err(err);
            };
            eprintln!("release {} cannot use them yet: {why}", release.name);
            return Ok(Planned::Unusable);
        }
    };
    let diff = layers.iter().any(|layer| {
        layer
            .values
            .get("apiService")
            .and_then(|a| a.get("config"))
            .is_some()
    });
    let resolved = values::resolve(
        chart.definition(),
        &Layers {
            reused: Some(recorded),
            extra: layers,
            ..Layers::default()
        },
    )
    .map_err(|err| {
        invalid_input(anyhow::Error::new(err).context(format!(
            "release {} cannot take this change of credentials; nothing was changed",
            release.name
        )))
    })?;
    Ok(Planned::Upgrade(Box::new(Upgrade {
        history,
        chart,
        resolved,
        diff,
    })))
}

/// Upgrades the release as planned.
pub(super) async fn carry_out(
    client: &kube::Client,
    release: &Release,
    planned: Planned,
    wait: WaitArgs,
) -> anyhow::Result<Applied> {
    let upgrade = match planned {
        Planned::NotInstalled => return Ok(Applied::NotInstalled),
        Planned::Unusable => return Ok(Applied::Unusable),
        Planned::Upgrade(upgrade) => *upgrade,
    };
    let Upgrade {
        history,
        chart,
        resolved,
        diff,
    } = upgrade;
    let snapshot = Snapshot::default();
    let manifests =
        live_render::render_release(client, &snapshot, release, chart, &resolved.values).await?;
    let names = ChartNames::new(release, &resolved.values);
    let args = RolloutArgs {
        dry_run: false,
        diff,
        force_conflicts: false,
        delete_data: false,
        history_max: 10,
        take_ownership: false,
        wait,
        lock: LockArgs {
            force_unlock: false,
        },
    };
    let outcome = crate::commands::deploy::deploy(
        client,
        release,
        Operation::Upgrade { install: false },
        chart,
        manifests,
        resolved,
        &history,
        &args,
        &crate::commands::deploy::DeployOptions::default(),
        &snapshot,
        Default::default(),
    )
    .await?;
    Ok(Applied::Deployed(outcome, Box::new(names)))
}
