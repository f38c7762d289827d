//! The end of an install or upgrade: the endpoint, the health check through it with the web
//! login, and the summary (text, or `-o json` for scripts) with the line users log in with.

use serde::Serialize;

use super::outcome::{Counts, Outcome};
use crate::cli::{DeployArgs, OutputFormat};
use crate::cluster::rollout;
use crate::cluster::snapshot::Snapshot;
use crate::guide;
use crate::guide::endpoint::Lookup;
use crate::guide::health::{self, Credentials};
use crate::guide::login_mode::{self, Mode};
use crate::progress::Progress;
use crate::release::Release;
use crate::render::ChartNames;
use crate::ui::LiveProgress;
use crate::web_login::WebLogin;

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

/// Finds the endpoint as users reach it, and checks the API server's health through it: the
/// endpoint, the HTTP client for it, and what the check found.
async fn through_endpoint(
    client: &kube::Client,
    release: &Release,
    names: &ChartNames,
    credentials: Option<&Credentials>,
    patience: health::Patience,
    progress: &mut LiveProgress,
) -> anyhow::Result<(
    guide::endpoint::Endpoint,
    reqwest::Client,
    Result<health::Health, health::Unhealthy>,
)> {
    let found = guide::endpoint::wait(client, release, names, patience.timeout, progress).await?;
    for warning in &found.warnings {
        progress.println(&format!("warning: {warning}"));
    }
    let http = health::client_for(&found).await;
    let checked = health::wait(
        &http,
        release,
        names,
        &found,
        credentials,
        patience,
        progress,
    )
    .await;
    Ok((found, http, checked))
}

/// Who asks [`new_door_answers`], for what its failure tells the admin.
#[derive(Debug, Clone, Copy)]
pub(in crate::commands) enum DoorMove {
    /// An upgrade to another door.
    Upgrade,
    /// A rollback to a revision of another door.
    Rollback,
}

/// Before a move to another front door prunes the old one (the rollout's `before_prune`):
/// users reach the API server through the new one, within the move's wait. Without the
/// password, a request the login refuses shows the door answers (the refusal may be the
/// door's own, basic auth at ingress-nginx). A door this machine cannot reach (a ClusterIP
/// controller) is only said to be ready.
pub(in crate::commands) async fn new_door_answers(
    client: &kube::Client,
    release: &Release,
    names: &ChartNames,
    credentials: Option<&Credentials>,
    wait: Option<std::time::Duration>,
    asked_by: DoorMove,
) -> anyhow::Result<()> {
    let timeout = rollout::door_move_wait(wait);
    let mut progress = LiveProgress::new();
    if let Lookup::Unavailable(why) =
        guide::endpoint::find(client, &Snapshot::default(), release, names).await?
    {
        progress.println(&format!(
            "warning: the new front door is ready but not checked: skyctl cannot reach it from \
             here ({why})"
        ));
        return Ok(());
    }
    let patience = health::Patience {
        timeout,
        // The login may have been written in this very run: the new door's proxy, or the
        // server, may not have read it yet. Without the password, a refusal is the answer.
        rejected_grace: if credentials.is_some() {
            health::LOGIN_RELOAD_GRACE
        } else {
            std::time::Duration::ZERO
        },
    };
    let (found, _, checked) =
        through_endpoint(client, release, names, credentials, patience, &mut progress).await?;
    match checked {
        Ok(_) => {}
        Err(refused)
            if credentials.is_none() && refused.problem == health::Problem::CredentialsRejected => {
        }
        Err(unhealthy) => {
            return Err(anyhow::Error::new(unhealthy).context(match asked_by {
                DoorMove::Upgrade => {
                    "the new front door does not answer, so the old one is kept; `skyctl \
                     rollback` returns to the revision before"
                }
                DoorMove::Rollback => {
                    "the front door the rollback returns to does not answer, so the current \
                     one is kept; once you know the restored door serves users (it may be \
                     out of this machine's reach), `skyctl rollback --no-health-check` prunes \
                     the other without this check"
                }
            }));
        }
    }
    progress.println(&format!("the new front door answers at {}", found.url));
    Ok(())
}

/// After a deploy: find the endpoint and, unless told not to or not waiting, check health
/// through it with the web login; tell the admin the line users log in with.
pub(super) async fn run(
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
            let rejected_grace = match outcome {
                Outcome::Deployed {
                    login_written: true,
                    ..
                } if credentials.is_some() => health::LOGIN_RELOAD_GRACE,
                _ => std::time::Duration::ZERO,
            };
            let patience = health::Patience {
                timeout,
                rejected_grace,
            };
            let (found, http, checked) =
                through_endpoint(client, release, names, credentials, patience, &mut progress)
                    .await?;
            match checked {
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
