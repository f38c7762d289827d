//! What install, upgrade, rollback and `creds` share: from a release's values to a rollout
//! on the cluster, `--atomic`, and the report. The rollout itself is read → decide → preview
//! → carry out (`cluster::rollout`); this file only orchestrates it and tells the user.

use serde::Serialize;

use crate::chart::Chart;
use crate::cli::{DeployArgs, OutputFormat, RolloutArgs};
use crate::cluster::live_render;
use crate::cluster::object_manager::ObjectManager;
use crate::cluster::recovery;
use crate::cluster::release_secrets::SecretStorage;
use crate::cluster::rollout::{self, Prepared};
use crate::cluster::snapshot::Snapshot;
use crate::credentials;
use crate::decide::{self, Decision, Operation, Refusal, TakeOwnership};
use crate::error::invalid_input;
use crate::guide::endpoint::Lookup;
use crate::guide::health::{self, Credentials};
use crate::guide::login_mode::{self, Mode};
use crate::guide::{self, credential_secrets, oauth_client};
use crate::manifest::Manifest;
use crate::ownership::Change;
use crate::plan;
use crate::progress::Progress;
use crate::release::{History, Release, ReleaseStorage};
use crate::render::ChartNames;
use crate::ui::LiveProgress;
use crate::values::{self, ExtraLayer, Resolved};

use crate::web_login::{self, WebLogin};

/// Credentials stored with `creds add` are used unless the values say otherwise: one values
/// layer per Secret. Returns the layers and a checklist line naming the Secrets.
async fn stored_credentials(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
    chart: &Chart,
    user: &Resolved,
) -> anyhow::Result<(Vec<ExtraLayer>, String)> {
    let mut layers = Vec::new();
    let mut used = Vec::new();
    let stored = match snapshot.secrets(&release.namespace) {
        Some(secrets) => credentials::stored_among(secrets.iter()),
        None => credential_secrets::list(client, &release.namespace).await?,
    };
    for stored in stored {
        if let Some(why) = credentials::unsupported_by(&stored, chart) {
            used.push(format!("Secret {} not used: {why}", stored.secret));
            continue;
        }
        // The values decide, reused ones included: a release recorded turning them on or off.
        if let Some((uses, _)) = credentials::chosen(&stored, &user.user) {
            if uses {
                used.push(format!("Secret {}", stored.secret));
            }
            continue;
        }
        layers.push(ExtraLayer {
            label: format!("the credentials stored in Secret {}", stored.secret),
            values: credentials::values_for(&stored, true, chart),
        });
        // A kubeconfig stored before the release existed brings the contexts it was stored
        // with: SkyPilot uses only those its config allows.
        match guide::skypilot_config::allowed_contexts_layer(&user.values, &stored.contexts)? {
            Some(contexts) => {
                layers.push(contexts);
                used.push(format!(
                    "Secret {} (contexts {} allowed in the SkyPilot config)",
                    stored.secret,
                    stored.contexts.join(", ")
                ));
            }
            None => used.push(format!("Secret {}", stored.secret)),
        }
    }
    let line = if used.is_empty() {
        "none stored in the namespace (add some with `skyctl creds add`)".to_owned()
    } else {
        used.join(", ")
    };
    Ok((layers, line))
}

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
        stored_credentials(client, snapshot, release, chart, user).await?;
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
    let store_client = || -> futures::future::BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async {
            if let Some(oauth) = &login.oauth_client {
                let restart =
                    oauth_client::store(client, &release.namespace, &release.name, oauth).await?;
                *stored.lock().expect("not poisoned") = Some(restart);
            }
            Ok(())
        })
    };
    let before_apply: Option<rollout::BeforeApply> =
        login.oauth_client.is_some().then_some(&store_client);
    let names = ChartNames::new(release, &resolved.values);
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
        before_apply,
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
    finish(client, snapshot, release, &names, &outcome, &login, args).await
}

/// What a rollout came to, for the report.
#[derive(Debug)]
pub(super) enum Outcome {
    Unchanged {
        revision: u32,
        changes: Counts,
    },
    DryRun {
        changes: Counts,
    },
    Deployed {
        revision: u32,
        changes: Counts,
        /// `installed`, `upgraded` or `rolled back`.
        verb: &'static str,
        /// This run created or changed the web login's Secret: the ingress reloads it a
        /// moment later, and may refuse the new password until then.
        login_written: bool,
        /// This run created or changed the API server's Deployment, so its pods start anew
        /// and read the Secrets they mount.
        api_server_rolled: bool,
    },
}

impl Outcome {
    /// Whether the API server's pods started anew in this run.
    pub(super) fn rolled_api_server(&self) -> bool {
        matches!(
            self,
            Outcome::Deployed {
                api_server_rolled: true,
                ..
            }
        )
    }
}

/// How many objects a rollout created, configured, left unchanged and pruned.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(super) struct Counts {
    created: usize,
    configured: usize,
    unchanged: usize,
    pruned: usize,
}

/// Runs a rollout and reports it: refused, unchanged, previewed (`--dry-run`) or carried out.
/// With `--atomic`, a rollout that failed after recording its revision is undone: rolled back
/// to the deployed revision, or uninstalled if there was none.
#[allow(clippy::too_many_arguments)]
pub(super) async fn deploy(
    client: &kube::Client,
    release: &Release,
    operation: Operation,
    chart: &Chart,
    manifests: Vec<Manifest>,
    values: Resolved,
    history: &History,
    args: &RolloutArgs,
    options: &DeployOptions,
    snapshot: &Snapshot,
    before_apply: Option<rollout::BeforeApply<'_>>,
) -> anyhow::Result<Outcome> {
    let objects = manifests.len();
    let names = ChartNames::new(release, &values.values);
    let single_sign_on =
        login_mode::chosen_by(&values.values).map(|(mode, _)| mode) == Some(Mode::Oauth);
    let manager = ObjectManager::new(client);
    let storage = SecretStorage::new(client, &release.namespace, &release.name);
    let plan = plan::plan(
        manifests,
        &history.owned_objects(),
        args.delete_data,
        release,
    );
    let request = rollout::Request {
        release,
        operation,
        plan,
        values,
        chart_version: chart.version(),
        description: options.description.clone(),
        options: decide::Options {
            dry_run: args.dry_run,
            create_namespace: options.create_namespace,
            history_max: args.history_max,
            take_ownership: match (options.adopting, args.take_ownership) {
                (true, _) => TakeOwnership::HelmRelease,
                (false, true) => TakeOwnership::Any,
                (false, false) => TakeOwnership::No,
            },
        },
        force_conflicts: args.force_conflicts,
        history,
        snapshot,
    };
    let prepared = match rollout::prepare(&manager, request).await {
        Ok(prepared) => prepared,
        Err(err) => {
            return Err(match err.downcast_ref::<Refusal>() {
                Some(refusal) if refusal.is_bad_input() => invalid_input(err),
                _ => err,
            });
        }
    };
    let rollout = match &prepared.decision {
        Decision::Unchanged { revision } => {
            eprintln!(
                "release {} unchanged: nothing to apply (revision {revision} stays deployed)",
                release.name
            );
            return Ok(Outcome::Unchanged {
                revision: *revision,
                changes: Counts {
                    unchanged: objects,
                    ..Counts::default()
                },
            });
        }
        Decision::Rollout(rollout) => rollout,
    };
    // Only a rollout that changes something can change how users reach the server; a no-op
    // upgrade reads nothing more.
    if let Some(deployed) = history.deployed() {
        let before = storage.manifests(deployed).await?;
        for warning in guide::transition::warnings(&before, prepared.manifests()) {
            eprintln!("warning: {warning}");
        }
        if let Some(warning) =
            guide::config_reach::unapplied_config(release, &names, &before, prepared.manifests())
        {
            eprintln!("warning: {warning}");
        }
    }
    if args.diff {
        print_diff(&prepared, rollout);
    }
    let mut counts = Counts {
        created: rollout.count(Change::Create),
        configured: rollout.count(Change::Update),
        unchanged: rollout.count(Change::Unchanged),
        pruned: rollout.prune.len(),
    };
    if rollout.dry_run {
        eprintln!(
            "dry run: {} object(s) would be created, {} configured, {} unchanged, {} pruned; nothing was changed",
            counts.created, counts.configured, counts.unchanged, counts.pruned
        );
        for (id, why) in &rollout.keep {
            eprintln!("  {id} would be left alone: {why}");
        }
        let changes = prepared
            .previews
            .iter()
            .map(|p| (&p.id, p.live.as_ref(), &p.planned));
        for restart in crate::pod_restarts::restarts(changes) {
            eprintln!("  {restart}");
        }
        return Ok(Outcome::DryRun { changes: counts });
    }
    snapshot.forget();
    let mut progress = LiveProgress::new();
    let execution = rollout::Execution {
        wait: args.wait.limit(),
        force_unlock: args.lock.force_unlock,
        before_apply,
    };
    let result = rollout::carry_out(
        &manager,
        &storage,
        release,
        &prepared,
        execution,
        &mut progress,
    )
    .await;
    drop(progress);
    let executed = match result {
        Ok(executed) => executed,
        Err(err) if options.atomic => {
            return Err(
                recovery::undo(client, release, history, &recovery_settings(args), err).await,
            );
        }
        Err(err) => return Err(err),
    };
    counts.pruned = executed.pruned.len();
    let verb = match operation {
        Operation::Rollback { .. } => "rolled back",
        _ if rollout.record.status == crate::release::ReleaseStatus::PendingInstall => "installed",
        _ => "upgraded",
    };
    eprintln!(
        "release {} {verb} in namespace {} (revision {}): {} created, {} configured, {} unchanged, {} pruned",
        release.name,
        release.namespace,
        executed.revision,
        counts.created,
        counts.configured,
        counts.unchanged,
        counts.pruned
    );
    let changed = |kind: &str, name: &str| {
        rollout
            .changes
            .iter()
            .any(|(id, change)| id.kind == kind && id.name == name && *change != Change::Unchanged)
    };
    let login_written = changed("Secret", &names.basic_auth);
    let api_server_rolled = changed("Deployment", &names.api_server);
    // The OAuth client Secret is the login's, kept outside the release's objects: a revision
    // with another login (an upgrade, or a rollback to one) no longer reads it, and it must
    // not linger until uninstall.
    if !single_sign_on
        && let Some(secret) =
            oauth_client::remove(client, &release.namespace, &release.name).await?
    {
        eprintln!(
            "deleted Secret {secret}: the OAuth client, which the release's login no longer uses"
        );
    }
    Ok(Outcome::Deployed {
        revision: executed.revision,
        changes: counts,
        verb,
        login_written,
        api_server_rolled,
    })
}

/// What `--atomic`'s recovery repeats of the failed rollout's flags.
fn recovery_settings(args: &RolloutArgs) -> recovery::Settings {
    recovery::Settings {
        delete_data: args.delete_data,
        history_max: args.history_max,
        force_conflicts: args.force_conflicts,
        wait: args.wait.limit(),
    }
}

/// The unified diff of every change, Secret data masked, and every prune.
fn print_diff(prepared: &Prepared, rollout: &decide::Rollout) {
    for preview in &prepared.previews {
        if let Some(text) = crate::diff::unified(
            &preview.id.to_string(),
            preview.live.as_ref(),
            &preview.planned,
        ) {
            print!("{text}");
        }
    }
    for id in &rollout.prune {
        println!("--- live/{id}\n+++ planned/{id} (deleted: no longer rendered)");
    }
}

/// What install and upgrade print at the end, and `-o json` gives scripts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    release: String,
    namespace: String,
    /// `installed`, `upgraded`, `unchanged` or `dry-run`.
    outcome: &'static str,
    revision: Option<u32>,
    changes: Counts,
    /// Where users log in; null when it is not known (yet).
    endpoint: Option<guide::endpoint::Endpoint>,
    health: HealthReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    login: Option<String>,
    /// How users log in: `basic`, `users`, `oauth`, `proxy` or `none`.
    login_mode: Mode,
    /// What users should know about logging in that way, beyond the `login` line.
    #[serde(skip_serializing_if = "Option::is_none")]
    login_hint: Option<&'static str>,
}

/// After a healthy answer: the server runs the login this rollout set up, asked as a client
/// asks. A server that runs another login (a config that never reached it, a proxy the server
/// does not trust) fails the install; a server that cannot say is a warning.
async fn confirm_login(
    http: &reqwest::Client,
    url: &str,
    login: &WebLogin,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    let admin = login.credentials.as_ref().map(|c| c.username.as_str());
    match health::login_seen(http, url, login.credentials.as_ref()).await {
        Ok(seen) => login_mode::confirms(login.mode, admin, &seen).map_err(|why| {
            anyhow::anyhow!(
                "the API server at {url} is healthy, but {why}.\nNext: compare the release's \
                 login (skyctl get values) with the server's (kubectl logs)"
            )
        }),
        Err(err) => {
            progress.println(&format!(
                "warning: could not confirm the {} login: {err:#}",
                login.mode.name()
            ));
            Ok(())
        }
    }
}

/// What the health check found, or why there was none.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum HealthReport {
    /// The server's own answer; `status` is `healthy`.
    Checked(health::Health),
    /// `status` is `not-checked` or `login-required`, and `reason` says why.
    Not {
        status: &'static str,
        reason: String,
    },
}

impl HealthReport {
    fn not_checked(reason: impl Into<String>) -> Self {
        HealthReport::Not {
            status: "not-checked",
            reason: reason.into(),
        }
    }
}

/// After a deploy: find the endpoint and, unless told not to or not waiting, check health
/// through it with the web login; tell the admin the line users log in with.
async fn finish(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
    names: &ChartNames,
    outcome: &Outcome,
    login: &WebLogin,
    args: &DeployArgs,
) -> anyhow::Result<()> {
    let credentials: Option<&Credentials> = login.credentials.as_ref();
    let (word, revision, changes) = match outcome {
        Outcome::Deployed {
            revision,
            changes,
            verb,
            ..
        } => (*verb, Some(*revision), *changes),
        Outcome::Unchanged { revision, changes } => ("unchanged", Some(*revision), *changes),
        Outcome::DryRun { changes } => ("dry-run", None, *changes),
    };
    let mut summary = Summary {
        release: release.name.clone(),
        namespace: release.namespace.clone(),
        outcome: word,
        revision,
        changes,
        endpoint: None,
        health: HealthReport::not_checked("--dry-run"),
        login: None,
        login_mode: login.mode,
        login_hint: None,
    };
    // The health check needs the wait: without it, or without the check, one look finds the
    // endpoint if it is there.
    let health_check = args.rollout.wait.limit().filter(|_| !args.no_health_check);
    match (revision, health_check) {
        (None, _) => {}
        (Some(_), None) => {
            summary.health = HealthReport::not_checked(if args.no_health_check {
                "--no-health-check"
            } else {
                "--no-wait"
            });
            if let Lookup::Found(found) =
                guide::endpoint::find(client, snapshot, release, names).await?
            {
                summary.endpoint = Some(found);
            }
        }
        (Some(_), Some(timeout)) => {
            let mut progress = LiveProgress::new();
            let found =
                guide::endpoint::wait(client, release, names, timeout, &mut progress).await?;
            for warning in &found.warnings {
                progress.println(&format!("warning: {warning}"));
            }
            let rejected_grace = match outcome {
                Outcome::Deployed {
                    login_written: true,
                    ..
                } if credentials.is_some() => health::LOGIN_RELOAD_GRACE,
                _ => std::time::Duration::ZERO,
            };
            let http = health::client_for(&found).await;
            let checked = health::wait(
                &http,
                release,
                names,
                &found,
                credentials,
                health::Patience {
                    timeout,
                    rejected_grace,
                },
                &mut progress,
            );
            match checked.await {
                Ok(health) => {
                    confirm_login(&http, &found.url, login, &mut progress).await?;
                    summary.health = HealthReport::Checked(health);
                }
                // Without the password skyctl cannot pass the login; the 401 proves the way there.
                Err(unhealthy)
                    if credentials.is_none()
                        && unhealthy.problem == health::Problem::CredentialsRejected =>
                {
                    let reason = "the endpoint answers and asks for the web login; pass --web-password-stdin to check health through it";
                    progress.println(reason);
                    summary.health = HealthReport::Not {
                        status: "login-required",
                        reason: reason.to_owned(),
                    };
                }
                Err(unhealthy) => return Err(unhealthy.into()),
            }
            summary.endpoint = Some(found);
        }
    }
    if let Some(found) = &summary.endpoint {
        let user = match login.mode {
            Mode::Basic | Mode::Users => credentials.map(|c| c.username.as_str()),
            _ => None,
        };
        summary.login = Some(health::login_command(&found.url, user));
        summary.login_hint = login_mode::after_login(login.mode);
    }
    match args.output.output {
        OutputFormat::Text => {
            if let HealthReport::Checked(health) = &summary.health {
                eprintln!(
                    "healthy: SkyPilot API server {} (commit {})",
                    health.version, health.commit
                );
            }
            if let (Some(found), Some(line)) = (&summary.endpoint, &summary.login) {
                eprint!(
                    "{}",
                    guide::notes::login_lines(&found.url, line, summary.login_hint)
                );
            }
        }
        format => crate::ui::print(&summary, format.into())?,
    }
    Ok(())
}
