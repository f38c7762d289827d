//! The preflight checks as `doctor`, `install` and `upgrade` run them: render what the release
//! would apply, read the cluster, assess. Install and upgrade stop here, before their first
//! prompt and their first write, when a check blocks.

use std::sync::Arc;

use crate::chart::Chart;
use crate::cli::DeployArgs;
use crate::cluster::live_render;
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::snapshot::Snapshot;
use crate::cluster::survey;
use crate::preflight::{Intent, Report, Status};
use crate::release::Release;
use crate::render::{self, AdmissionCertificate, Lookups};
use crate::values::Resolved;
use crate::web_login::{self, Choice, Request};

/// How the rollout would run, as far as the checks care.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plans {
    pub namespace_exists: bool,
    pub create_namespace: bool,
    pub take_ownership: bool,
    /// Checked as `adopt` would take the Helm release of the name over.
    pub adopting: bool,
}

/// A check blocked: nothing was written.
#[derive(Debug, thiserror::Error)]
#[error(
    "{count} preflight check(s) failed. Nothing was changed.\n{lines}\
     `skyctl doctor` shows every check; --skip-preflight goes ahead anyway"
)]
pub(super) struct Blocked {
    count: usize,
    lines: String,
}

/// Renders the release and checks it against the cluster. `values`: those the rollout renders
/// from (with any it reuses); `login`: the login it will lay over them, and its flags. What it
/// reads is kept in `snapshot` for the rest of the run.
pub(super) async fn assess(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
    chart: &'static Chart,
    values: &Resolved,
    login: (Choice, Option<&Request>),
    plans: Plans,
) -> anyhow::Result<Report> {
    let rendered = web_login::preflight_values(values, login.0, login.1);
    // The chart's lookups read cluster objects an admin of one namespace may not read; the
    // RBAC check names that, so the render goes on as `template` would.
    let manifests =
        match live_render::render_release(client, snapshot, release, chart, &rendered).await {
            Ok(manifests) => manifests,
            Err(_) => render::render(
                chart,
                &rendered,
                release,
                &AdmissionCertificate::generate(release)?,
                &Arc::new(Lookups::none()),
            )?,
        };
    let intent = Intent {
        release,
        chart,
        manifests: &manifests,
        values: &rendered,
        user: &values.user,
        namespace_exists: plans.namespace_exists,
        create_namespace: plans.create_namespace,
        take_ownership: plans.take_ownership,
        adopting: plans.adopting,
    };
    let facts = survey::survey(client, &intent, snapshot).await?;
    Ok(Report::assess(&intent, &facts))
}

/// [`gate`], then the login question the choice left to the admin: nothing is asked before
/// the checks that need no answer have passed. An answer that renders other objects than the
/// checked login's is checked again. `login`: the choice and the flags it came from. Returns
/// the login chosen. What the survey read is kept
/// in `snapshot` for the rollout to go on from, unless the admin was asked: time has passed.
pub(super) async fn gate_then_ask(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
    chart: &'static Chart,
    values: &Resolved,
    login: (Choice, &Request),
    args: &DeployArgs,
) -> anyhow::Result<Choice> {
    let (choice, request) = login;
    gate(client, snapshot, release, chart, values, login, args).await?;
    let asked = super::web_login::settle(choice, chart, values)?;
    if asked == choice {
        return Ok(choice);
    }
    snapshot.forget();
    if asked.mode != choice.mode {
        gate(
            client,
            snapshot,
            release,
            chart,
            values,
            (asked, request),
            args,
        )
        .await?;
    }
    Ok(asked)
}

/// Install's and upgrade's gate: warnings are shown, a blocking finding stops the command.
async fn gate(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
    chart: &'static Chart,
    values: &Resolved,
    login: (Choice, &Request),
    args: &DeployArgs,
) -> anyhow::Result<()> {
    let namespace_exists = snapshot
        .namespace_exists(&ObjectManager::new(client), &release.namespace)
        .await?;
    let plans = Plans {
        namespace_exists,
        create_namespace: args.create_namespace,
        take_ownership: args.rollout.take_ownership,
        adopting: false,
    };
    if args.skip_preflight {
        crate::ui::step("preflight", "skipped (--skip-preflight)");
        return Ok(());
    }
    let report = assess(
        client,
        snapshot,
        release,
        chart,
        values,
        (login.0, Some(login.1)),
        plans,
    )
    .await?;
    if report.blocks() {
        return Err(Blocked {
            count: report.count(Status::Block),
            lines: report.lines(true),
        }
        .into());
    }
    let warnings = report.count(Status::Warn);
    let passed = report.count(Status::Pass);
    if warnings == 0 {
        crate::ui::step("preflight", &format!("all {passed} checks passed"));
    } else {
        crate::ui::step(
            "preflight",
            &format!("{passed} checks passed, {warnings} warning(s):"),
        );
        eprint!("{}", report.lines(true));
    }
    Ok(())
}
