//! What install, upgrade, rollback, `adopt` and `creds` share: the values with skyctl's own
//! layers, a rollout on the cluster and its report. The rollout itself is read → decide →
//! preview → carry out (`cluster::rollout`); these files orchestrate it and tell the user.

mod finish;
mod outcome;
mod stored_credentials;

pub(super) use finish::{DoorMove, new_door_answers};
pub(super) use outcome::{Outcome, deploy};

use crate::chart::Chart;
use crate::cli::DeployArgs;
use crate::cluster::live_render;
use crate::cluster::rollout;
use crate::cluster::snapshot::Snapshot;
use crate::decide::Operation;
use crate::error::invalid_input;
use crate::guide::login_mode::Mode;
use crate::guide::oauth_client;
use crate::release::{History, Release};
use crate::render::ChartNames;
use crate::values::{self, ExtraLayer, Resolved};
use crate::web_login::{self, WebLogin};

/// The values of an install or upgrade: the user's flags, read once (over the recorded values
/// an upgrade reuses), and the web login.
pub(super) struct DeployValues {
    /// The chart version to render.
    pub chart: &'static Chart,
    pub input: values::Input,
    /// The user's values, reused ones included.
    pub user: Resolved,
    pub login: WebLogin,
    /// A layer the values were read with before the cluster could say whether it holds (an
    /// install's stored database): laid in again, under the stored credentials.
    pub assumed: Option<ExtraLayer>,
}

/// What install and upgrade choose beyond how to apply; rollback has none of it.
#[derive(Debug, Clone, Default)]
pub(super) struct DeployOptions {
    pub create_namespace: bool,
    pub atomic: bool,
    pub description: Option<String>,
    /// `adopt`: objects are taken over from the Helm release of the same name only.
    pub adopting: bool,
}

impl DeployOptions {
    pub fn of(args: &DeployArgs) -> Self {
        Self {
            create_namespace: args.create_namespace,
            atomic: args.atomic,
            description: args.description.clone(),
            adopting: false,
        }
    }
}

/// Install and upgrade after their own first steps: the user's values with the web login and
/// stored credentials layered in, rendered, rolled out, and finished with the health check.
pub(super) async fn deploy_and_finish(
    client: &kube::Client,
    release: &Release,
    operation: Operation,
    values: DeployValues,
    history: History,
    args: &DeployArgs,
    snapshot: &Snapshot,
) -> anyhow::Result<()> {
    let DeployValues {
        chart,
        input,
        user,
        login,
        assumed,
    } = values;
    let user = &user;
    let (stored, credentials_line) =
        stored_credentials::layers(client, snapshot, release, chart, user).await?;
    let mut extra: Vec<ExtraLayer> = assumed.into_iter().collect();
    extra.extend(stored);
    extra.extend(login.layer.clone());
    let resolved = input
        .resolve(chart.definition(), extra)
        .map_err(invalid_input)?;
    web_login::check(&resolved.values, chart)?;
    if resolved
        .values
        .pointer("/apiService/dbConnectionString")
        .is_some_and(|url| !url.is_null())
    {
        eprintln!(
            "warning: apiService.dbConnectionString puts the database password into the values \
             and the release record; `skyctl creds add db` keeps it in a Secret instead"
        );
    }
    crate::ui::step("credentials", &credentials_line);
    crate::ui::step("web login", &web_login::describe(&resolved.values, &login));
    if login.oauth_client.is_some() {
        oauth_client::check_free(
            client,
            &release.namespace,
            &release.name,
            args.rollout.take_ownership,
        )
        .await?;
    }
    let manifests =
        live_render::render_release(client, snapshot, release, chart, &resolved.values).await?;
    // The OAuth client goes into its Secret once the namespace exists, under the lock, before
    // oauth2-proxy that reads it is applied.
    let stored = std::sync::Mutex::new(None);
    let store_client = || -> futures::future::LocalBoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async {
            if let Some(oauth) = &login.oauth_client {
                let restart =
                    oauth_client::store(client, &release.namespace, &release.name, oauth).await?;
                *stored.lock().expect("not poisoned") = Some(restart);
            }
            Ok(())
        })
    };
    let names = ChartNames::new(release, &resolved.values);
    // Moving to another front door, the old one goes only once users reach the API server
    // through the new one.
    let door_answers = || -> futures::future::LocalBoxFuture<'_, anyhow::Result<()>> {
        Box::pin(finish::new_door_answers(
            client,
            release,
            &names,
            login.credentials.as_ref(),
            args.rollout.wait.limit(),
            finish::DoorMove::Upgrade,
        ))
    };
    let hooks = rollout::Hooks {
        before_apply: login.oauth_client.is_some().then_some(&store_client),
        before_prune: (!args.no_health_check).then_some(&door_answers),
    };
    let outcome = deploy(
        client,
        release,
        operation,
        chart,
        manifests,
        resolved,
        &history,
        &args.rollout,
        &DeployOptions::of(args),
        snapshot,
        hooks,
    )
    .await?;
    if let Some(oauth) = &login.oauth_client {
        let secret = oauth_client::secret_name(&release.name);
        // An upgrade whose values stay is `Unchanged` even with --dry-run: the flag decides.
        if args.rollout.dry_run {
            eprintln!("dry run: Secret {secret} (the OAuth client) would be stored");
        } else {
            // Without a rollout, the client is stored now; oauth2-proxy reads it only when it
            // starts.
            if let Outcome::Unchanged { .. } = outcome {
                snapshot.forget();
                let restart =
                    oauth_client::store(client, &release.namespace, &release.name, oauth).await?;
                *stored.lock().expect("not poisoned") = Some(restart);
            }
            if stored.lock().expect("not poisoned").take() == Some(true) {
                let proxy = &names.oauth2_proxy;
                crate::cluster::kept_secrets::restart_deployment(client, &release.namespace, proxy)
                    .await?;
                oauth_client::restarted(client, &release.namespace, &release.name, oauth).await?;
                eprintln!("OAuth client in Secret {secret} replaced; {proxy} restarted to read it");
            }
        }
    }
    if login.changed && matches!(outcome, Outcome::Deployed { .. }) {
        let user = login
            .credentials
            .as_ref()
            .map_or("", |c| c.username.as_str());
        match login.mode {
            // The server seeds its first admin from the line once, on a fresh database.
            Mode::Users => eprintln!(
                "warning: the API server made its first admin {user:?} when it first started and \
                 keeps the password it had then; change the password on the dashboard's Users \
                 page (the new one takes effect only on a new data volume)"
            ),
            _ if !login.replaced_users.is_empty() => eprintln!(
                "web login: user {user:?} replaces {}, who can no longer log in",
                login
                    .replaced_users
                    .iter()
                    .map(|u| format!("{u:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => eprintln!(
                "web login: password changed for user {user:?}; the old one no longer works"
            ),
        }
    }
    finish::run(client, snapshot, release, &names, &outcome, &login, args).await
}
