//! The web login for install and upgrade: a password (stdin, environment, prompt) becomes a
//! bcrypt htpasswd line in `ingress.authCredentials`, laid over the user's values as a values
//! layer of its own. Values that set `ingress.authCredentials` or `ingress.authSecret`
//! themselves are kept; an upgrade given neither keeps the line its release recorded.

use std::io::IsTerminal;

use serde_json::{Value, json};

use crate::cli::{ValuesArgs, WebAuthArgs};
use crate::error::invalid_input;
use crate::guide::basic_auth;
use crate::guide::health::Credentials;
use crate::guide::password;
use crate::values::{ExtraLayer, Resolved};

/// The web login as this rollout sets it.
pub(super) struct WebLogin {
    /// The layer that sets `ingress.authCredentials`, when skyctl makes or keeps the line.
    pub layer: Option<ExtraLayer>,
    /// The login, when skyctl knows the password: the health check uses it.
    pub credentials: Option<Credentials>,
    /// A password replaces the one the release recorded: everyone who logs in with the old
    /// one is locked out once the rollout is done.
    pub changed: bool,
}

/// Decides the web login from the flags, the values given now (`given`), the user's values
/// with any reused ones (`user`) and the recorded line.
pub(super) fn decide(
    args: &WebAuthArgs,
    values_args: &ValuesArgs,
    given: &Resolved,
    user: &Resolved,
    recorded: Option<&Value>,
) -> anyhow::Result<WebLogin> {
    if args.web_password_stdin && values_args.files.iter().any(|f| f.as_os_str() == "-") {
        return Err(invalid_input(anyhow::anyhow!(
            "--web-password-stdin and --values - both read standard input; give the values as a file"
        )));
    }
    let user_chose_auth = user_chose_auth(given, user);
    let recorded_line = recorded_line(recorded);
    let sources = password::Sources {
        stdin: args.web_password_stdin,
        no_prompt: args.yes,
    };
    let offered = offered(args);
    let keeps_recorded = recorded_line.is_some() || recorded_no_login(recorded);
    let password = if user_chose_auth || (keeps_recorded && !offered) {
        // Not needed for the login itself; only the health check uses it.
        if offered {
            read_password(sources, "")?
        } else {
            None
        }
    } else {
        let prompt = format!("Password for the web login {:?}", args.web_username);
        Some(
            read_password(sources, &prompt)?
                .ok_or_else(|| invalid_input(password::PasswordError::Missing))?,
        )
    };
    let credentials = password.map(|password| Credentials {
        username: args.web_username.clone(),
        password: password.into(),
    });
    if user_chose_auth || (credentials.is_none() && recorded_line.is_none()) {
        return Ok(WebLogin {
            layer: None,
            changed: false,
            credentials,
        });
    }
    let (line, changed) = match (&credentials, recorded_line) {
        // bcrypt salts every hash afresh: keeping a recorded text whose line for the user still
        // matches keeps an upgrade with the same password a no-op.
        (Some(c), Some(text)) if basic_auth::verify(text, &c.username, &c.password) => {
            (text.to_owned(), false)
        }
        (Some(c), recorded) => {
            let line =
                basic_auth::htpasswd_line(&c.username, &c.password).map_err(invalid_input)?;
            // The user's own line changes; other users of a text of several keep theirs.
            let text = recorded
                .and_then(|text| basic_auth::with_line(text, &c.username, &line))
                .unwrap_or(line);
            (text, recorded.is_some())
        }
        (None, line) => (line.unwrap_or_default().to_owned(), false),
    };
    let Value::Object(values) = json!({"ingress": {"authCredentials": line}}) else {
        unreachable!("a literal map")
    };
    let label = if recorded_line.is_some() && !changed {
        "the web login the release recorded".to_owned()
    } else {
        format!("the web login of user {:?}", args.web_username)
    };
    Ok(WebLogin {
        layer: Some(ExtraLayer { label, values }),
        credentials,
        changed,
    })
}

/// Whether [`decide`] would ask for the password on the terminal. When it would not, the web
/// login can be settled before the cluster is asked anything: a missing password is then
/// named first, and no question waits on the cluster's answers.
pub(super) fn prompts(
    args: &WebAuthArgs,
    given: &Resolved,
    user: &Resolved,
    recorded: Option<&Value>,
) -> bool {
    let needed = !user_chose_auth(given, user)
        && recorded_line(recorded).is_none()
        && !recorded_no_login(recorded);
    needed && !offered(args) && !args.yes && std::io::stdin().is_terminal()
}

/// The values given set the login themselves, the release's own Secret is reused, or the
/// values choose a login of another kind. A recorded line is not a choice made now: a new
/// password replaces it.
fn user_chose_auth(given: &Resolved, user: &Resolved) -> bool {
    let set = |values: &Resolved, key: &str| {
        values
            .user
            .pointer(&format!("/ingress/{key}"))
            .is_some_and(|v| !v.is_null())
    };
    set(given, "authCredentials")
        || set(given, "authSecret")
        || set(user, "authSecret")
        || other_login(&user.values).is_some()
}

/// The switch by which the values choose a login other than the Ingress's basic auth (chart
/// 0.13.0 has these; the seed-era chart none). Basic auth next to it would be refused by the
/// chart, or ignored.
fn other_login(values: &Value) -> Option<&'static str> {
    const SWITCHES: [(&str, &str); 4] = [
        ("/auth/oauth/enabled", "auth.oauth"),
        ("/auth/externalProxy/enabled", "auth.externalProxy"),
        ("/ingress/oauth2-proxy/enabled", "ingress.oauth2-proxy"),
        (
            "/apiService/enableUserManagement",
            "apiService.enableUserManagement",
        ),
    ];
    SWITCHES
        .iter()
        .find(|(pointer, _)| values.pointer(pointer) == Some(&Value::Bool(true)))
        .map(|(_, key)| *key)
}

/// A syntactically valid htpasswd line that no password matches. Only ever rendered for the
/// preflight, never applied.
const STAND_IN_LINE: &str = "skypilot:$apr1$standin0$0000000000000000000000";

/// The values the preflight renders. Install and upgrade lay skyctl's web login over the
/// values only once the password is known, after the preflight; when they will, a stand-in
/// line renders what that login brings (the `<release>-basic-auth` Secret), so that the
/// checks see it: a Secret of that name that is someone else's stops the install before the
/// password is asked for, not after.
pub(super) fn preflight_values(given: &Resolved, user: &Resolved) -> Value {
    let mut values = user.values.clone();
    let has_line = values
        .pointer("/ingress/authCredentials")
        .is_some_and(|line| !line.is_null());
    if !user_chose_auth(given, user)
        && !has_line
        && let Some(ingress) = values.get_mut("ingress").and_then(Value::as_object_mut)
    {
        ingress.insert("authCredentials".into(), STAND_IN_LINE.into());
    }
    values
}

/// The release recorded no login of any kind: no htpasswd line, no Secret of its own, no
/// other login. skyctl's installs always record one, so this is a Helm release adopted as it
/// was (chart 0.13.0 asks for none by default). An upgrade keeps that until a password is
/// given, as it keeps a recorded line: adopting changes nothing, and the upgrade after it
/// neither. A release that recorded a login of another kind and drops it now is not this: it
/// gets a password.
fn recorded_no_login(recorded: Option<&Value>) -> bool {
    recorded.is_some_and(|values| {
        recorded_line(Some(values)).is_none()
            && values
                .pointer("/ingress/authSecret")
                .is_none_or(Value::is_null)
            && other_login(values).is_none()
    })
}

fn recorded_line(recorded: Option<&Value>) -> Option<&str> {
    recorded
        .and_then(|values| values.pointer("/ingress/authCredentials"))
        .and_then(Value::as_str)
}

/// A password comes without asking: from standard input or the environment.
fn offered(args: &WebAuthArgs) -> bool {
    args.web_password_stdin || password::from_env().is_some()
}

/// The password from its sources; one the user can fix (empty, mistyped, not given) exits 2.
pub(super) fn read_password(
    sources: password::Sources,
    prompt: &str,
) -> anyhow::Result<Option<String>> {
    password::read(sources, prompt).map_err(|err| match err {
        password::PasswordError::Read(_) => anyhow::Error::new(err),
        _ => invalid_input(err),
    })
}

/// [`check`] of a login the values given set themselves, before the cluster is asked anything.
/// (Without one, skyctl's own layer sets the login later, over the defaults' placeholder.)
pub(super) fn check_given(given: &Resolved) -> anyhow::Result<()> {
    let set = given
        .user
        .pointer("/ingress/authCredentials")
        .is_some_and(|v| !v.is_null());
    if set { check(&given.values) } else { Ok(()) }
}

/// A broken htpasswd (such as the chart's placeholder) would lock everyone out: refuse it
/// before anything is applied.
pub(super) fn check(values: &Value) -> anyhow::Result<()> {
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

/// How the web login is set up, for the checklist. Never the password or the hash.
pub(super) fn describe(values: &Value, login: &WebLogin) -> String {
    if let Some(key) = other_login(values) {
        return format!("none at the ingress: the values choose {key}");
    }
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
    match &login.credentials {
        Some(_) => format!("user {user}, password set"),
        None => format!("user {user}, from ingress.authCredentials"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_of_another_kind_is_the_first_switch_that_is_on() {
        let cases = [
            (json!({}), None),
            (json!({"auth": {"oauth": {"enabled": false}}}), None),
            (
                json!({"auth": {"oauth": {"enabled": true}}}),
                Some("auth.oauth"),
            ),
            (
                json!({"auth": {"externalProxy": {"enabled": true}}}),
                Some("auth.externalProxy"),
            ),
            (
                json!({"ingress": {"oauth2-proxy": {"enabled": true}}}),
                Some("ingress.oauth2-proxy"),
            ),
            (
                json!({"apiService": {"enableUserManagement": true}}),
                Some("apiService.enableUserManagement"),
            ),
            // A string is not Helm's true here: the schema types these as booleans anyway.
            (json!({"auth": {"oauth": {"enabled": "true"}}}), None),
        ];
        for (values, expected) in cases {
            assert_eq!(other_login(&values), expected, "{values}");
        }
    }
}
