//! One module per verb. Each orchestrates the services (values, render, plan, cluster, ui)
//! and holds no logic of its own beyond that; what several verbs share is below.

mod completion;
pub(crate) mod creds;
mod endpoint;
mod install;
mod rollback;
mod status;
mod template;
mod uninstall;
mod upgrade;

use anyhow::Context;
use serde_json::Value;

use crate::cli::{
    Cli, ClusterArgs, Command, DeployArgs, OutputFormat, RolloutArgs, ValuesArgs, WebAuthArgs,
};
use crate::cluster::apply::{ApplyOptions, Change};
use crate::cluster::release_record::{ReleaseRecord, ReleaseStore};
use crate::cluster::rollout::{self, History, Operation, Outcome, RolloutError};
use crate::cluster::{admission_certificate, teardown};
use crate::error::invalid_input;
use crate::guide::health::{self, Credentials};
use crate::guide::{self, basic_auth, credential_secrets, password};
use crate::manifest::Manifest;
use crate::release::Release;
use crate::render;
use crate::ui::Progress;
use crate::values::{self, ExtraLayer, Layers, Resolved};

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { cluster, command } = cli;
    match command {
        Command::Completion { shell } => completion::run(shell),
        Command::Template(args) => template::run(&cluster, args),
        Command::Install(args) => block_on(install::run(&cluster, args)),
        Command::Upgrade(args) => block_on(upgrade::run(&cluster, args)),
        Command::Rollback(args) => block_on(rollback::run(&cluster, args)),
        Command::Uninstall(args) => block_on(uninstall::run(&cluster, args)),
        Command::Status(args) => block_on(status::run(&cluster, args)),
        Command::Endpoint(args) => block_on(endpoint::run(&cluster, args)),
        Command::Creds { command } => block_on(creds::run(&cluster, command)),
    }
}

/// A single-threaded runtime: starting it costs next to nothing, and the concurrency skyctl
/// needs (objects of one phase applied together) is waiting on the network, not computing.
fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(future: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(future)
}

async fn connect(cluster: &ClusterArgs) -> anyhow::Result<kube::Client> {
    crate::cluster::connect(cluster.kubeconfig.as_deref(), cluster.context.as_deref()).await
}

fn release(cluster: &ClusterArgs, name: &str) -> Release {
    Release {
        name: name.to_owned(),
        namespace: cluster.namespace.clone(),
    }
}

/// The user's values flags, merged over the defaults and validated. Bad input exits 2.
fn resolve_values(args: &ValuesArgs) -> anyhow::Result<Resolved> {
    let layers = Layers {
        files: args.files.clone(),
        set_json: args.set_json.clone(),
        set: args.set.clone(),
        set_string: args.set_string.clone(),
        set_file: args.set_file.clone(),
        extra: Vec::new(),
    };
    values::resolve(&layers).map_err(invalid_input)
}

/// The values a revision recorded, over today's defaults.
fn recorded_values(record: &ReleaseRecord) -> anyhow::Result<Resolved> {
    let Value::Object(values) = record.values.clone() else {
        anyhow::bail!(
            "revision {} recorded values that are not a map",
            record.revision
        );
    };
    let layers = Layers {
        extra: vec![ExtraLayer {
            label: format!("the values of revision {}", record.revision),
            values,
        }],
        ..Layers::default()
    };
    values::resolve(&layers).with_context(|| {
        format!(
            "the values of revision {} no longer validate",
            record.revision
        )
    })
}

/// Every object of the release for these values, with the webhook certificate the cluster
/// already has when it is still good.
async fn render_release(
    client: &kube::Client,
    release: &Release,
    values: &Value,
) -> anyhow::Result<Vec<Manifest>> {
    let certificate = admission_certificate::current_or_new(client, release).await?;
    Ok(render::render(values, release, &certificate)?)
}

/// What revision `record` applied. Its stored manifest leaves Secret data out, so Secrets are
/// rendered again from the revision's values.
async fn revision_manifests(
    client: &kube::Client,
    release: &Release,
    store: &ReleaseStore,
    record: &ReleaseRecord,
) -> anyhow::Result<Vec<Manifest>> {
    let stored = store.manifests(record).await?;
    let rendered = render_release(client, release, &recorded_values(record)?.values).await?;
    Ok(stored
        .into_iter()
        .filter_map(|manifest| {
            if manifest.id.kind == "Secret" && manifest.id.group().is_empty() {
                rendered.iter().find(|r| r.id == manifest.id).cloned()
            } else {
                Some(manifest)
            }
        })
        .collect())
}

fn rollout_options(args: &RolloutArgs) -> rollout::Options {
    rollout::Options {
        apply: ApplyOptions {
            force_conflicts: args.force_conflicts,
            dry_run: args.dry_run,
        },
        diff: args.diff,
        wait: args.wait.limit(),
        delete_data: args.delete_data,
        history_max: args.history_max,
        create_namespace: args.create_namespace,
        force_unlock: args.lock.force_unlock,
    }
}

/// The web login for install and upgrade, laid over the resolved values: a password (stdin,
/// environment, prompt) becomes a bcrypt htpasswd line in `ingress.authCredentials`. Values
/// that set `ingress.authCredentials` or `ingress.authSecret` themselves are kept; an upgrade
/// given neither keeps the line its release recorded, unless given a password it does not
/// match: then the password changed, and web_auth says so. Returns the credentials for the
/// health check, when skyctl knows the password.
fn web_auth(
    args: &WebAuthArgs,
    values_args: &ValuesArgs,
    resolved: &mut Resolved,
    recorded: Option<&Value>,
) -> anyhow::Result<Option<Credentials>> {
    if args.web_password_stdin && values_args.files.iter().any(|f| f.as_os_str() == "-") {
        return Err(invalid_input(anyhow::anyhow!(
            "--web-password-stdin and --values - both read standard input; give the values as a file"
        )));
    }
    let given = |key: &str| {
        resolved
            .user
            .pointer(&format!("/ingress/{key}"))
            .is_some_and(|v| !v.is_null())
    };
    let user_chose_auth = given("authCredentials") || given("authSecret");
    let recorded_line = recorded
        .and_then(|values| values.pointer("/ingress/authCredentials"))
        .and_then(Value::as_str);
    let sources = password::Sources {
        stdin: args.web_password_stdin,
        no_prompt: args.yes,
    };
    let offered = args.web_password_stdin || password::from_env().is_some();
    let password = if user_chose_auth || (recorded_line.is_some() && !offered) {
        // Not needed for the login itself; only the health check uses it.
        if offered {
            password::read(sources, "")?
        } else {
            None
        }
    } else {
        let prompt = format!("Password for the web login {:?}", args.web_username);
        Some(
            password::read(sources, &prompt)?
                .ok_or_else(|| invalid_input(password::PasswordError::Missing))?,
        )
    };
    if !user_chose_auth {
        let line = match (&password, recorded_line) {
            // bcrypt salts every hash afresh: keeping a recorded line that still matches keeps
            // an upgrade with the same password a no-op.
            (Some(p), Some(line)) if basic_auth::verify(line, &args.web_username, p) => {
                line.to_owned()
            }
            (Some(p), recorded) => {
                if recorded.is_some() {
                    // Rotating the password is an upgrade with a new one: say so, since
                    // everyone who logs in with the old one is locked out.
                    crate::ui::step(
                        "web login",
                        &format!(
                            "password changed for user {:?}; the old one stops working once the ingress reloads",
                            args.web_username
                        ),
                    );
                }
                basic_auth::htpasswd_line(&args.web_username, p).map_err(invalid_input)?
            }
            (None, line) => line.unwrap_or_default().to_owned(),
        };
        let auth = serde_json::json!({"ingress": {"authCredentials": line}});
        values::merge::merge(&mut resolved.values, auth.clone());
        values::merge::merge(&mut resolved.user, auth);
    }
    check_auth(&resolved.values)?;
    Ok(password.map(|password| Credentials {
        username: args.web_username.clone(),
        password,
    }))
}

/// A broken htpasswd (such as the chart's placeholder) would lock everyone out: refuse it
/// before anything is applied.
fn check_auth(values: &Value) -> anyhow::Result<()> {
    let enabled = values
        .pointer("/ingress/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let secret = values
        .pointer("/ingress/authSecret")
        .is_some_and(|v| !v.is_null());
    match values
        .pointer("/ingress/authCredentials")
        .and_then(Value::as_str)
    {
        Some(text) if enabled && !secret => basic_auth::validate_htpasswd(text).map_err(|err| {
            invalid_input(anyhow::Error::new(err).context("ingress.authCredentials"))
        }),
        _ => Ok(()),
    }
}

/// Credentials stored with `creds add` are used unless the values say otherwise. Returns a
/// checklist line naming the Secrets in use.
async fn use_stored_credentials(
    client: &kube::Client,
    release: &Release,
    resolved: &mut Resolved,
) -> anyhow::Result<String> {
    let mut used = Vec::new();
    for stored in credential_secrets::list(client, &release.namespace).await? {
        let (section, key) = credential_secrets::enabled_key(stored.kind);
        if resolved
            .user
            .pointer(&format!("/{section}/{key}"))
            .is_some()
        {
            continue;
        }
        let on = Value::Object(credential_secrets::values_for(&stored, true));
        values::merge::merge(&mut resolved.values, on.clone());
        values::merge::merge(&mut resolved.user, on);
        used.push(format!("Secret {}", stored.secret));
    }
    Ok(if used.is_empty() {
        "none stored in the namespace (add some with `skyctl creds add`)".to_owned()
    } else {
        used.join(", ")
    })
}

/// How the web login is set up, for the checklist. Never the password or the hash.
fn describe_web_login(values: &Value, credentials: Option<&Credentials>) -> String {
    if let Some(secret) = values
        .pointer("/ingress/authSecret")
        .and_then(Value::as_str)
    {
        return format!("the existing Secret {secret} (ingress.authSecret)");
    }
    let user = values
        .pointer("/ingress/authCredentials")
        .and_then(Value::as_str)
        .and_then(|line| line.split_once(':'))
        .map_or("?", |(user, _)| user);
    match credentials {
        Some(_) => format!("user {user}, password set"),
        None => format!("user {user}, from ingress.authCredentials"),
    }
}

/// What install and upgrade print at the end, and `-o json` gives scripts.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    release: String,
    namespace: String,
    revision: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<guide::endpoint::Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<health::Health>,
    #[serde(skip_serializing_if = "Option::is_none")]
    login: Option<String>,
}

/// The second half of install and upgrade: stored credentials and the web login on the
/// checklist, render, roll out, then the endpoint and the health check.
async fn deploy_and_finish(
    client: &kube::Client,
    release: &Release,
    operation: Operation,
    mut values: Resolved,
    credentials: Option<Credentials>,
    history: History,
    args: &DeployArgs,
) -> anyhow::Result<()> {
    crate::ui::step(
        "credentials",
        &use_stored_credentials(client, release, &mut values).await?,
    );
    crate::ui::step(
        "web login",
        &describe_web_login(&values.values, credentials.as_ref()),
    );
    let manifests = render_release(client, release, &values.values).await?;
    let outcome = deploy(
        client,
        release,
        operation,
        manifests,
        values.user,
        history,
        &args.rollout,
    )
    .await?;
    finish(client, release, &outcome, credentials.as_ref(), args).await
}

/// After a deploy that waited: find the endpoint, check health through it with the web login,
/// and tell the admin the line users log in with.
async fn finish(
    client: &kube::Client,
    release: &Release,
    outcome: &Outcome,
    credentials: Option<&Credentials>,
    args: &DeployArgs,
) -> anyhow::Result<()> {
    let revision = match outcome {
        Outcome::Deployed { revision, .. } | Outcome::Unchanged { revision } => Some(*revision),
        Outcome::DryRun { .. } => None,
    };
    let mut summary = Summary {
        release: release.name.clone(),
        namespace: release.namespace.clone(),
        revision,
        endpoint: None,
        health: None,
        login: None,
    };
    if let (Some(timeout), Some(_), false) =
        (args.rollout.wait.limit(), revision, args.no_health_check)
    {
        let mut progress = Progress::new();
        let found = guide::endpoint::wait(client, release, timeout, &mut progress).await?;
        for warning in &found.warnings {
            progress.println(&format!("warning: {warning}"));
        }
        // A login this run wrote reaches the ingress when it reloads the Secret, a moment later;
        // until then it may answer 401 to the new password.
        let login_written = match outcome {
            Outcome::Deployed { changes, .. } => changes.iter().any(|(id, change)| {
                id.kind == "Secret"
                    && id.name == health::login_secret(release)
                    && *change != Change::Unchanged
            }),
            Outcome::Unchanged { .. } | Outcome::DryRun { .. } => false,
        };
        let rejected_grace = if login_written && credentials.is_some() {
            health::LOGIN_RELOAD_GRACE
        } else {
            std::time::Duration::ZERO
        };
        let checked = health::wait(
            release,
            &found.url,
            credentials,
            timeout,
            rejected_grace,
            &mut progress,
        );
        match checked.await {
            Ok(health) => summary.health = Some(health),
            // Without the password skyctl cannot pass the login; the 401 proves the way there.
            Err(unhealthy)
                if credentials.is_none()
                    && unhealthy.problem == health::Problem::CredentialsRejected =>
            {
                progress.println("the endpoint answers and asks for the web login; pass --web-password-stdin to check health through it");
            }
            Err(unhealthy) => return Err(unhealthy.into()),
        }
        summary.login = Some(health::login_command(
            &found.url,
            credentials.map(|c| c.username.as_str()),
        ));
        summary.endpoint = Some(found);
    }
    match args.output.output {
        format @ (OutputFormat::Json | OutputFormat::Yaml) => crate::ui::print(&summary, format)?,
        OutputFormat::Text => {
            if let Some(health) = &summary.health {
                eprintln!(
                    "healthy: SkyPilot API server {} (commit {})",
                    health.version, health.commit
                );
            }
            if let (Some(found), Some(login)) = (&summary.endpoint, &summary.login) {
                eprintln!("endpoint: {}", found.url);
                eprintln!("users log in with:\n  {login}");
            }
        }
    }
    Ok(())
}

/// Runs a rollout and reports it; with `--atomic`, a rollout that failed after recording its
/// revision is undone: rolled back to the deployed revision, or uninstalled if there was none.
async fn deploy(
    client: &kube::Client,
    release: &Release,
    operation: Operation,
    manifests: Vec<Manifest>,
    user_values: Value,
    history: History,
    args: &RolloutArgs,
) -> anyhow::Result<Outcome> {
    let before = args.atomic.then(|| history.clone());
    let mut progress = Progress::new();
    let request = rollout::Request {
        release: release.clone(),
        operation,
        manifests,
        values: user_values,
        options: rollout_options(args),
        history,
    };
    let result = rollout::run(client, request, &mut progress).await;
    drop(progress);
    match result {
        Ok(outcome) => {
            report(release, operation, &outcome);
            Ok(outcome)
        }
        Err(err) if matches!(err.downcast_ref(), Some(RolloutError::NoNamespace(_))) => {
            Err(invalid_input(err))
        }
        Err(err) => match before {
            Some(before) => Err(undo(client, release, &before, args, err).await),
            None => Err(err),
        },
    }
}

/// `--atomic`'s recovery. Returns the original error, with what the recovery did.
async fn undo(
    client: &kube::Client,
    release: &Release,
    before: &History,
    args: &RolloutArgs,
    err: anyhow::Error,
) -> anyhow::Error {
    let after = match History::read(client, release).await {
        Ok((_, after)) => after,
        Err(read) => {
            return err.context(format!(
                "--atomic could not read the release to undo it: {read:#}"
            ));
        }
    };
    if after.latest().map(|r| r.revision) == before.latest().map(|r| r.revision) {
        // Nothing was written: there is nothing to undo.
        return err;
    }
    let recovery = match before.deployed() {
        Some(previous) => {
            let store = ReleaseStore::new(client, &release.namespace, &release.name);
            let to = previous.revision;
            let rollback = async {
                let manifests = revision_manifests(client, release, &store, previous).await?;
                let request = rollout::Request {
                    release: release.clone(),
                    operation: Operation::Rollback { to },
                    manifests,
                    values: previous.values.clone(),
                    options: rollout::Options {
                        force_unlock: true,
                        ..rollout_options(args)
                    },
                    history: after,
                };
                rollout::run(client, request, &mut Progress::new()).await
            };
            rollback
                .await
                .map(|_| format!("--atomic rolled the release back to revision {to}"))
        }
        None => {
            let options = teardown::Options {
                delete_data: false,
                delete_namespace: false,
                wait: args.wait.limit(),
                force_unlock: true,
            };
            teardown::run(client, release, &options, &mut Progress::new())
                .await
                .map(|_| {
                    "--atomic uninstalled the failed release (its data volume, if any, is kept)"
                        .to_owned()
                })
        }
    };
    match recovery {
        Ok(done) => err.context(done),
        Err(failed) => err.context(format!("--atomic could not undo the failure: {failed:#}")),
    }
}

fn report(release: &Release, operation: Operation, outcome: &Outcome) {
    let count = |changes: &[(crate::manifest::ObjectRef, Change)], change| {
        changes.iter().filter(|(_, c)| *c == change).count()
    };
    match outcome {
        Outcome::Unchanged { revision } => {
            eprintln!(
                "release {} unchanged: nothing to apply (revision {revision} stays deployed)",
                release.name
            );
        }
        Outcome::DryRun { changes, pruned } => {
            eprintln!(
                "dry run: {} object(s) would be created, {} configured, {} unchanged, {} pruned; nothing was changed",
                count(changes, Change::Create),
                count(changes, Change::Update),
                count(changes, Change::Unchanged),
                pruned.len()
            );
        }
        Outcome::Deployed {
            revision,
            changes,
            pruned,
            ..
        } => {
            let verb = match operation {
                Operation::Install => "installed",
                Operation::Upgrade { .. } if *revision == 1 => "installed",
                Operation::Upgrade { .. } => "upgraded",
                Operation::Rollback { .. } => "rolled back",
            };
            eprintln!(
                "release {} {verb} in namespace {} (revision {revision}): {} created, {} configured, {} unchanged, {} pruned",
                release.name,
                release.namespace,
                count(changes, Change::Create),
                count(changes, Change::Update),
                count(changes, Change::Unchanged),
                pruned.len()
            );
        }
    }
}
