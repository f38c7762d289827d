//! The login for install and upgrade: which way users log in (`--auth`, the values, the
//! release's record, or a question on a terminal) and what that way needs, laid over the user's
//! values as a values layer of its own. A password (stdin, environment, prompt) becomes a bcrypt
//! htpasswd line: the ingress's basic auth (`ingress.authCredentials`) or the API server's first
//! admin (`apiService.initialBasicAuthCredentials`). An OAuth client secret goes into a Secret,
//! never into the values. What the values set themselves is kept; an upgrade given nothing keeps
//! the login its release recorded.

use std::io::{BufRead, IsTerminal};

use serde_json::Value;

use crate::chart::Chart;
use crate::cli::{DeployArgs, WebAuthArgs};
use crate::error::invalid_input;
use crate::guide::basic_auth;
use crate::guide::health::Credentials;
use crate::guide::login_mode::{self, HeaderFormat, Login, Mode};
use crate::guide::oauth_client;
use crate::guide::password;
use crate::redacted::Redacted;
use crate::values::{ExtraLayer, Resolved};

/// The login as this rollout sets it.
pub(super) struct WebLogin {
    pub mode: Mode,
    /// The layer with the login's values, when skyctl makes or keeps them.
    pub layer: Option<ExtraLayer>,
    /// The user and password, when skyctl knows them: the health check logs in with them.
    pub credentials: Option<Credentials>,
    /// A password replaces the one the release recorded.
    pub changed: bool,
    /// The release's users that a login of another `--web-username` replaced.
    pub replaced_users: Vec<String>,
    /// The OAuth client to store before the rollout.
    pub oauth_client: Option<oauth_client::Client>,
}

/// Which login, and what chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Choice {
    pub mode: Mode,
    by: ChosenBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChosenBy {
    /// `--auth`.
    Flag,
    /// The values given, or reused ones that set a login of their own: kept as they are.
    Values,
    /// The release's record: kept until a flag says otherwise.
    Record,
    /// The admin, asked on a terminal.
    Question,
    /// The admin will be asked on a terminal, once the preflight has passed; until then the
    /// checks run with basic auth, which every chart version has.
    ToAsk,
    /// Nothing chose: basic auth, as every chart version has it.
    Default,
}

/// The environment variable that may hold the OAuth client secret.
pub(super) const CLIENT_SECRET_ENV: &str = "SKYCTL_OAUTH_CLIENT_SECRET";

/// Chooses the login: `--auth`; else the values' own; else the release's record; else, on a
/// terminal and with a chart that has more than one way, the admin's answer; else basic auth.
/// `given`: the values given now; `user`: with those the upgrade reuses.
pub(super) fn choose(
    args: &DeployArgs,
    chart: &Chart,
    given: &Resolved,
    user: &Resolved,
    recorded: Option<&Value>,
) -> anyhow::Result<Choice> {
    let defaults = Value::Object(chart.definition().defaults().clone());
    let stdin_readers: Vec<&str> = [
        (
            args.values.files.iter().any(|f| f.as_os_str() == "-"),
            "--values -",
        ),
        (args.auth.web_password_stdin, "--web-password-stdin"),
        (
            args.login.oauth_client_secret_stdin,
            "--oauth-client-secret-stdin",
        ),
    ]
    .into_iter()
    .filter_map(|(reads, flag)| reads.then_some(flag))
    .collect();
    if let [first, second, ..] = stdin_readers[..] {
        return Err(invalid_input(anyhow::anyhow!(
            "{second} and {first} both read standard input; give the other as a file"
        )));
    }
    let choice = |mode, by| Ok(Choice { mode, by });
    if let Some(flag) = args.login.auth {
        let mode = Mode::from(flag);
        if !mode.supported_by(&defaults) {
            let having: Vec<&str> = Chart::all()
                .iter()
                .filter(|c| mode.supported_by(&Value::Object(c.definition().defaults().clone())))
                .map(Chart::version)
                .collect();
            return Err(invalid_input(anyhow::anyhow!(
                "--auth {}: chart {} has no such login; chart {} has (--version)",
                mode.name(),
                chart.version(),
                having.join(" or ")
            )));
        }
        if let Some((chosen, key)) = login_mode::chosen_by(&given.user)
            && chosen != mode
        {
            return Err(invalid_input(anyhow::anyhow!(
                "--auth {} and {key} in the values given choose different logins; drop one",
                mode.name()
            )));
        }
        // `--auth basic` (or users) with the values' own htpasswd line: the values set that
        // login up, the flag only agrees; a password then checks health through it.
        let set = |pointer: &str| given.user.pointer(pointer).is_some_and(|v| !v.is_null());
        let own_line = match mode {
            Mode::Basic => set("/ingress/authSecret") || set(login_mode::htpasswd_pointer(mode)),
            Mode::Users => set(login_mode::htpasswd_pointer(mode)),
            _ => false,
        };
        if own_line {
            return choice(mode, ChosenBy::Values);
        }
        if let Some(key) = login_mode::switched_off(mode, &given.user) {
            return Err(invalid_input(anyhow::anyhow!(
                "--auth {} and {key}=false in the values given disagree: the flag turns on what \
                 the value turns off; drop one",
                mode.name()
            )));
        }
        return choice(mode, ChosenBy::Flag);
    }
    if let Some(chosen) = chosen_by_values(given, user) {
        // Reused values that set up the OAuth or proxy login the release recorded are its
        // record, kept as without --reuse-values and changed by their flags (a new client, a
        // header); for the others, reused values may hold what only they know (a Secret of the
        // first admin's).
        let reused_record = login_mode::chosen_by(&given.user).is_none()
            && matches!(chosen.mode, Mode::Oauth | Mode::Proxy)
            && recorded
                .and_then(login_mode::chosen_by)
                .map(|(mode, _)| mode)
                == Some(chosen.mode);
        if !reused_record {
            return Ok(chosen);
        }
    }
    if let Some(recorded) = recorded {
        return match login_mode::chosen_by(recorded) {
            Some((mode, _)) => choice(mode, ChosenBy::Record),
            // A release that recorded no login (adopted from Helm as it was) keeps none until
            // a password is given.
            None if offered(&args.auth) => choice(Mode::Basic, ChosenBy::Default),
            None => choice(Mode::None, ChosenBy::Record),
        };
    }
    let several = Mode::ALL
        .iter()
        .filter(|m| m.supported_by(&defaults))
        .count()
        > 1;
    if several && can_ask(&args.auth) && !offered(&args.auth) {
        return choice(Mode::Basic, ChosenBy::ToAsk);
    }
    choice(Mode::Basic, ChosenBy::Default)
}

/// Asks the admin for the login the choice left to a question, after the checks that need no
/// answer have run; any other choice stands.
pub(super) fn settle(choice: Choice, chart: &Chart) -> anyhow::Result<Choice> {
    if choice.by != ChosenBy::ToAsk {
        return Ok(choice);
    }
    let defaults = Value::Object(chart.definition().defaults().clone());
    Ok(Choice {
        mode: ask_mode(&defaults)?,
        by: ChosenBy::Question,
    })
}

/// The login the values given choose, or reused ones that choose one of their own (skyctl's
/// own htpasswd line aside, which a new password replaces).
fn chosen_by_values(given: &Resolved, user: &Resolved) -> Option<Choice> {
    let by_values = |mode| Choice {
        mode,
        by: ChosenBy::Values,
    };
    if let Some((mode, _)) = login_mode::chosen_by(&given.user) {
        return Some(by_values(mode));
    }
    let reused_secret = user
        .user
        .pointer("/ingress/authSecret")
        .is_some_and(|v| !v.is_null());
    match login_mode::chosen_by(&user.values) {
        Some((mode, _)) if mode != Mode::Basic => Some(by_values(mode)),
        _ if reused_secret => Some(by_values(Mode::Basic)),
        _ => None,
    }
}

/// Whether skyctl may ask on the terminal.
pub(super) fn can_ask(args: &WebAuthArgs) -> bool {
    !args.yes && std::io::stdin().is_terminal()
}

fn ask_mode(defaults: &Value) -> anyhow::Result<Mode> {
    let modes: Vec<Mode> = Mode::ALL
        .into_iter()
        .filter(|m| m.supported_by(defaults))
        .collect();
    eprintln!("How will users log in?");
    for (n, mode) in modes.iter().enumerate() {
        eprintln!("  {}) {:<6} {}", n + 1, mode.name(), mode.summary());
    }
    for _ in 0..3 {
        let answer = crate::ui::ask(&format!("Choose 1-{} [1]:", modes.len()))?;
        if answer.is_empty() {
            return Ok(modes[0]);
        }
        let picked = answer
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| modes.get(n))
            .or_else(|| modes.iter().find(|m| m.name() == answer.to_lowercase()));
        match picked {
            Some(mode) => return Ok(*mode),
            None => eprintln!("Type a number from 1 to {}, or a name.", modes.len()),
        }
    }
    Err(invalid_input(anyhow::anyhow!(
        "no login chosen; pass --auth basic|users|oauth|proxy|none"
    )))
}

/// Settles what the chosen login needs: passwords and secrets, read or asked for, and the
/// values layer. `release`: the release's name (the OAuth client's Secret is named for it).
pub(super) fn decide(
    args: &DeployArgs,
    choice: Choice,
    release: &str,
    given: &Resolved,
    user: &Resolved,
    recorded: Option<&Value>,
) -> anyhow::Result<WebLogin> {
    let by_values = choice.by == ChosenBy::Values;
    if let [flag, ..] = stray_flags(choice.mode, by_values, &args.login)[..] {
        let (owner, _) = FLAGS_OF
            .iter()
            .find(|(_, flags)| flags.contains(&flag))
            .expect("a stray flag is one of a login's");
        let owner = owner.name();
        return Err(invalid_input(if *owner == *choice.mode.name() {
            anyhow::anyhow!(
                "{flag} is for --auth {owner}, but the values set that login up themselves; \
                 add --auth {owner} to have skyctl set it up with {flag}, or drop {flag}"
            )
        } else {
            anyhow::anyhow!(
                "{flag} is for --auth {owner}, but this release's login is {}; drop {flag}, \
                 or pass --auth {owner}",
                choice.mode.name()
            )
        }));
    }
    // Only the htpasswd logins read a user and password; any other would drop them without a
    // word.
    let htpasswd_flags = [
        ("--web-password-stdin", args.auth.web_password_stdin),
        ("--web-username", args.auth.web_username.is_some()),
    ];
    if let Some((flag, _)) = htpasswd_flags.iter().find(|(_, given)| *given)
        && !matches!(choice.mode, Mode::Basic | Mode::Users)
    {
        return Err(invalid_input(anyhow::anyhow!(
            "{flag} is for --auth basic or users, but this release's login is {}; drop {flag}",
            choice.mode.name()
        )));
    }
    // The record counts only for the login it recorded.
    let recorded = recorded
        .filter(|values| login_mode::chosen_by(values).map(|(mode, _)| mode) == Some(choice.mode));
    match choice.mode {
        Mode::Basic | Mode::Users => htpasswd_login(args, choice, given, user, recorded),
        Mode::Oauth => oauth(args, choice, release, user, recorded),
        Mode::Proxy => proxy(args, choice, user, recorded),
        // A release that recorded no login keeps its values as they are (a placeholder the
        // chart's defaults bring is then refused by `check`, as before): only a choice made now
        // turns the other logins off.
        Mode::None if choice.by == ChosenBy::Record => Ok(nothing(choice)),
        Mode::None => Ok(WebLogin {
            layer: layer(choice, Login::None, user, "no login (--auth none)".into()),
            ..nothing(choice)
        }),
    }
}

/// The flags that only one login reads.
const FLAGS_OF: [(Mode, &[&str]); 2] = [
    (
        Mode::Oauth,
        &[
            "--oauth-issuer-url",
            "--oauth-client-id",
            "--oauth-client-secret-stdin",
            "--oauth-client-secret-file",
        ],
    ),
    (Mode::Proxy, &["--proxy-header", "--proxy-header-format"]),
];

/// The flags given for another login than `mode`, or for any login when the values set it up
/// themselves (`by_values`): ignored, they would leave the admin thinking they had set up the
/// login they name.
fn stray_flags(mode: Mode, by_values: bool, login: &crate::cli::LoginArgs) -> Vec<&'static str> {
    let given = [
        ("--oauth-issuer-url", login.oauth_issuer_url.is_some()),
        ("--oauth-client-id", login.oauth_client_id.is_some()),
        (
            "--oauth-client-secret-stdin",
            login.oauth_client_secret_stdin,
        ),
        (
            "--oauth-client-secret-file",
            login.oauth_client_secret_file.is_some(),
        ),
        ("--proxy-header", login.proxy_header.is_some()),
        ("--proxy-header-format", login.proxy_header_format.is_some()),
    ];
    given
        .into_iter()
        .filter(|(flag, given)| {
            *given
                && FLAGS_OF
                    .iter()
                    .any(|(owner, flags)| (by_values || *owner != mode) && flags.contains(flag))
        })
        .map(|(flag, _)| flag)
        .collect()
}

fn nothing(choice: Choice) -> WebLogin {
    WebLogin {
        mode: choice.mode,
        layer: None,
        credentials: None,
        changed: false,
        replaced_users: Vec::new(),
        oauth_client: None,
    }
}

/// The layer of `login` over the user's values; none when the values set the login themselves,
/// or when it would set nothing.
fn layer(choice: Choice, login: Login, user: &Resolved, label: String) -> Option<ExtraLayer> {
    if choice.by == ChosenBy::Values {
        return None;
    }
    let values = login_mode::values(&login, &user.values);
    (!values.is_empty()).then_some(ExtraLayer { label, values })
}

/// Basic auth at the ingress, or the API server's first admin: a password made into an
/// htpasswd line, or the line the release recorded.
fn htpasswd_login(
    args: &DeployArgs,
    choice: Choice,
    given: &Resolved,
    user: &Resolved,
    recorded: Option<&Value>,
) -> anyhow::Result<WebLogin> {
    let auth = &args.auth;
    let pointer = login_mode::htpasswd_pointer(choice.mode);
    let set = |values: &Value, pointer: &str| values.pointer(pointer).is_some_and(|v| !v.is_null());
    // The values' own line (or Secret) is theirs to keep; the chart's placeholder is not a line.
    let values_have_line = choice.by == ChosenBy::Values
        && match choice.mode {
            Mode::Users => {
                set(&given.user, pointer)
                    || set(&user.user, pointer)
                    || set(&user.user, "/apiService/initialBasicAuthSecret")
            }
            _ => true,
        };
    let recorded_line = recorded.and_then(|values| values.pointer(pointer)?.as_str());
    let username = login_mode::login_user(auth.web_username.as_deref(), recorded_line);
    let sources = password::Sources {
        stdin: auth.web_password_stdin,
        no_prompt: auth.yes,
    };
    let offered = offered(auth);
    let password = if values_have_line || (recorded_line.is_some() && !offered) {
        // Not needed for the login itself; only the health check uses it.
        if offered {
            read_password(sources, "")?
        } else {
            None
        }
    } else {
        let prompt = match choice.mode {
            Mode::Users => format!("Password for the API server's first admin {username:?}"),
            _ => format!("Password for the web login {username:?}"),
        };
        Some(read_password(sources, &prompt)?.ok_or_else(|| {
            invalid_input(anyhow::anyhow!(
                "{}; or choose another login with --auth",
                password::PasswordError::Missing
            ))
        })?)
    };
    let credentials = password.map(|password| Credentials {
        username: username.clone(),
        password: password.into(),
    });
    let who = match choice.mode {
        Mode::Users => "the first admin",
        _ => "the web login",
    };
    if values_have_line || (credentials.is_none() && recorded_line.is_none()) {
        return Ok(WebLogin {
            credentials,
            ..nothing(choice)
        });
    }
    let mut replaced_users = Vec::new();
    let (line, changed) = match (&credentials, recorded_line) {
        // bcrypt salts every hash afresh: keeping a recorded text whose line for the user still
        // matches keeps an upgrade with the same password a no-op.
        (Some(c), Some(text)) if basic_auth::verify(text, &c.username, &c.password) => {
            (text.to_owned(), false)
        }
        (Some(c), recorded) => {
            let line =
                basic_auth::htpasswd_line(&c.username, &c.password).map_err(invalid_input)?;
            // The user's own line changes; other users of a text of several keep theirs. A
            // user the text lacks replaces it: said, since its users can no longer log in.
            let text = match recorded {
                Some(text) => {
                    basic_auth::with_line(text, &c.username, &line).unwrap_or_else(|| {
                        replaced_users = basic_auth::users(text)
                            .into_iter()
                            .map(str::to_owned)
                            .collect();
                        line
                    })
                }
                None => line,
            };
            (text, recorded.is_some())
        }
        (None, line) => (line.unwrap_or_default().to_owned(), false),
    };
    let label = if recorded_line.is_some() && !changed {
        format!("{who} the release recorded")
    } else {
        format!("{who} of user {username:?}")
    };
    let login = match choice.mode {
        Mode::Users => Login::Users { htpasswd: line },
        _ => Login::Basic { htpasswd: line },
    };
    // Values that turn the API server's users on without a first admin leave the line to
    // skyctl: without it the chart's placeholder, whose password is public, would be the admin.
    let layer = if choice.by == ChosenBy::Values {
        let values = login_mode::values(&login, &user.values);
        Some(ExtraLayer { label, values })
    } else {
        layer(choice, login, user, label)
    };
    Ok(WebLogin {
        layer,
        credentials,
        changed,
        replaced_users,
        ..nothing(choice)
    })
}

/// Single sign-on: the issuer in the values, the client in a Secret of its own.
fn oauth(
    args: &DeployArgs,
    choice: Choice,
    release: &str,
    user: &Resolved,
    recorded: Option<&Value>,
) -> anyhow::Result<WebLogin> {
    if choice.by == ChosenBy::Values {
        return Ok(nothing(choice));
    }
    let login = &args.login;
    let recorded_key = |key: &str| {
        recorded
            .and_then(|values| values.pointer(&format!("/auth/oauth/{key}")))
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let ask = can_ask(&args.auth);
    let issuer_url = match (&login.oauth_issuer_url, recorded_key("oidc-issuer-url")) {
        (Some(url), _) => url.clone(),
        (None, Some(url)) => url,
        (None, None) if ask => crate::ui::ask("OIDC issuer URL (e.g. https://example.okta.com):")?,
        (None, None) => {
            return Err(invalid_input(anyhow::anyhow!(
                "--auth oauth needs the OIDC issuer: pass --oauth-issuer-url"
            )));
        }
    };
    // Not echoed: a URL refused for the password in it must not print it.
    if let Err(why) = login_mode::check_issuer_url(&issuer_url) {
        return Err(invalid_input(anyhow::anyhow!(
            "the OIDC issuer (--oauth-issuer-url) {why}"
        )));
    }
    let secret = offered_client_secret(login)?;
    let from_environment =
        !login.oauth_client_secret_stdin && login.oauth_client_secret_file.is_none();
    let client = match (&login.oauth_client_id, secret) {
        (Some(id), Some(secret)) => Some((id.clone(), secret)),
        // The Secret the release uses stays as it is.
        (None, None) if recorded.is_some() => None,
        // The environment may hold the secret for every run (a CI job's): without an id it asks
        // for no new client, and an upgrade given nothing stays one.
        (None, Some(_)) if from_environment && recorded.is_some() => None,
        (id, secret) if ask => {
            let id = match id {
                Some(id) => id.clone(),
                None => crate::ui::ask("OAuth client id:")?,
            };
            let secret = match secret {
                Some(secret) => secret,
                None => rpassword::prompt_password("OAuth client secret: ")?,
            };
            Some((id, secret))
        }
        (None, _) => {
            return Err(invalid_input(anyhow::anyhow!(
                "--auth oauth needs the client id the OIDC provider gave: pass --oauth-client-id"
            )));
        }
        (Some(_), None) => {
            return Err(invalid_input(anyhow::anyhow!(
                "--auth oauth needs the client secret: pass --oauth-client-secret-stdin, \
                 --oauth-client-secret-file or ${CLIENT_SECRET_ENV}"
            )));
        }
    };
    let client = match client {
        Some((id, secret)) => {
            if id.trim().is_empty() || secret.is_empty() {
                return Err(invalid_input(anyhow::anyhow!(
                    "the OAuth client id and secret must not be empty"
                )));
            }
            Some(oauth_client::Client {
                id: id.trim().to_owned(),
                secret: Redacted::new(secret),
            })
        }
        None => None,
    };
    // A client given now is stored in skyctl's Secret, so the values must name that one; the
    // recorded name (maybe the admin's own Secret) holds only while no client is given, and a
    // release that recorded none has its client inline in the values, which stays.
    let secret_name = match &client {
        Some(_) => Some(oauth_client::secret_name(release)),
        None => recorded_key("client-details-from-secret"),
    };
    let label = format!("single sign-on with {issuer_url} (--auth oauth)");
    Ok(WebLogin {
        layer: layer(
            choice,
            Login::Oauth {
                issuer_url,
                client_secret_name: secret_name,
            },
            user,
            label,
        ),
        oauth_client: client,
        ..nothing(choice)
    })
}

/// The client secret, when one is given: standard input, a file, or the environment.
fn offered_client_secret(login: &crate::cli::LoginArgs) -> anyhow::Result<Option<String>> {
    if login.oauth_client_secret_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(Some(first_line(&line)));
    }
    if let Some(path) = &login.oauth_client_secret_file {
        let text = std::fs::read_to_string(path).map_err(|err| {
            invalid_input(anyhow::anyhow!(
                "--oauth-client-secret-file {}: {err}",
                path.display()
            ))
        })?;
        return Ok(Some(first_line(&text)));
    }
    // Read as a file is: `export VAR="$(cat secret)"` and `VAR=$(<secret)` differ in a trailing
    // newline, which oauth2-proxy would send to the provider as part of the secret.
    Ok(std::env::var(CLIENT_SECRET_ENV)
        .ok()
        .map(|text| first_line(&text)))
}

/// The client secret in a text: its first line, without the line break or trailing blanks a
/// file or a shell adds.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim_end().to_owned()
}

/// An auth proxy in front: the header it passes the identity in.
fn proxy(
    args: &DeployArgs,
    choice: Choice,
    user: &Resolved,
    recorded: Option<&Value>,
) -> anyhow::Result<WebLogin> {
    let recorded_key = |key: &str| {
        recorded
            .and_then(|values| values.pointer(&format!("/auth/externalProxy/{key}")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let header_name = args
        .login
        .proxy_header
        .clone()
        .or_else(|| recorded_key("headerName"))
        .unwrap_or_else(|| "X-Auth-Request-Email".to_owned());
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if header_name.is_empty() || !header_name.chars().all(token) {
        return Err(invalid_input(anyhow::anyhow!(
            "--proxy-header {header_name:?} is not an HTTP header name"
        )));
    }
    let header_format = match (args.login.proxy_header_format, recorded_key("headerFormat")) {
        (Some(format), _) => format.into(),
        (None, Some(format)) if format == "jwt" => HeaderFormat::Jwt,
        _ => HeaderFormat::Plaintext,
    };
    let label = format!("an auth proxy in front, identity in {header_name} (--auth proxy)");
    Ok(WebLogin {
        layer: layer(
            choice,
            Login::Proxy {
                header_name,
                header_format,
            },
            user,
            label,
        ),
        ..nothing(choice)
    })
}

/// A syntactically valid htpasswd line that no password matches. Only ever rendered for the
/// preflight, never applied.
const STAND_IN_LINE: &str = "skypilot:$apr1$standin0$0000000000000000000000";

/// The values the preflight renders. Install and upgrade lay skyctl's login over the values
/// only once its password or secret is known, after the preflight; a stand-in renders what
/// that login brings (the `<release>-basic-auth` Secret, oauth2-proxy), so that the checks see
/// it: a Secret of that name that is someone else's stops the install before the password is
/// asked for, not after. The OAuth client is given inline: its Secret is written only with the
/// rollout. `args`: the flags of install or upgrade (`doctor` has none).
pub(super) fn preflight_values(
    user: &Resolved,
    choice: Choice,
    args: Option<&crate::cli::LoginArgs>,
) -> Value {
    let mut values = user.values.clone();
    if choice.by == ChosenBy::Values {
        return values;
    }
    let has = |pointer: &str| values.pointer(pointer).is_some_and(|v| !v.is_null());
    let login = match choice.mode {
        Mode::Basic | Mode::Users if has(login_mode::htpasswd_pointer(choice.mode)) => {
            return values;
        }
        Mode::Users => Login::Users {
            htpasswd: STAND_IN_LINE.into(),
        },
        Mode::Basic => Login::Basic {
            htpasswd: STAND_IN_LINE.into(),
        },
        Mode::Oauth => Login::Oauth {
            issuer_url: args
                .and_then(|a| a.oauth_issuer_url.clone())
                .or_else(|| {
                    values
                        .pointer("/auth/oauth/oidc-issuer-url")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "https://issuer.invalid".into()),
            client_secret_name: None,
        },
        Mode::Proxy => Login::Proxy {
            header_name: args
                .and_then(|a| a.proxy_header.clone())
                .unwrap_or_else(|| "X-Auth-Request-Email".into()),
            header_format: args
                .and_then(|a| a.proxy_header_format)
                .map_or(HeaderFormat::Plaintext, Into::into),
        },
        Mode::None => Login::None,
    };
    let mut layer = login_mode::values(&login, &user.values);
    if choice.mode == Mode::Oauth
        && let Some(oauth) = layer
            .get_mut("auth")
            .and_then(|auth| auth.get_mut("oauth"))
            .and_then(Value::as_object_mut)
    {
        oauth.insert("client-id".into(), "stand-in".into());
        oauth.insert("client-secret".into(), "stand-in".into());
    }
    crate::values::merge::merge(&mut values, Value::Object(layer));
    crate::values::merge::coalesce(Value::Object(Default::default()), values)
}

/// The login `doctor` checks a release with: the one the values choose, else basic auth (what
/// install does without a terminal).
pub(super) fn unasked_choice(given: &Resolved, user: &Resolved) -> Choice {
    chosen_by_values(given, user).unwrap_or(Choice {
        mode: Mode::Basic,
        by: ChosenBy::Default,
    })
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
pub(super) fn check_given(given: &Resolved, chart: &Chart) -> anyhow::Result<()> {
    let set = |pointer: &str| given.user.pointer(pointer).is_some_and(|v| !v.is_null());
    if set("/ingress/authCredentials") || set("/apiService/initialBasicAuthCredentials") {
        check(&given.values, chart)
    } else {
        Ok(())
    }
}

/// A broken htpasswd (such as the seed-era chart's placeholder) would lock everyone out, and
/// chart 0.13.0's placeholder first admin has a password anyone can read in its values.yaml:
/// refuse both before anything is applied.
pub(super) fn check(values: &Value, chart: &Chart) -> anyhow::Result<()> {
    let text = |pointer: &str| values.pointer(pointer).and_then(Value::as_str);
    let on = |pointer: &str| values.pointer(pointer) == Some(&Value::Bool(true));
    let set = |pointer: &str| values.pointer(pointer).is_some_and(|v| !v.is_null());
    if let Some(text) = text("/ingress/authCredentials")
        && on("/ingress/enabled")
        && !set("/ingress/authSecret")
    {
        basic_auth::validate_htpasswd(text).map_err(|err| {
            invalid_input(anyhow::Error::new(err).context("ingress.authCredentials"))
        })?;
    }
    // The chart's own condition for the first admin's Secret, not the login the values choose:
    // values that turn OAuth on next to the users (which the chart does not refuse) choose
    // OAuth, yet the chart still seeds the admin from the line.
    let seeded = on("/apiService/enableUserManagement") && !on("/ingress/oauth2-proxy/enabled");
    if let Some(line) = text("/apiService/initialBasicAuthCredentials")
        && seeded
        && !set("/apiService/initialBasicAuthSecret")
    {
        let placeholder = chart
            .definition()
            .defaults()
            .get("apiService")
            .and_then(|api| api.get("initialBasicAuthCredentials"))
            .and_then(Value::as_str);
        if placeholder == Some(line) {
            return Err(invalid_input(anyhow::anyhow!(
                "apiService.initialBasicAuthCredentials is the chart's placeholder, whose \
                 password is public; drop it and skyctl makes the line from a password you \
                 give (--auth users)"
            )));
        }
        basic_auth::validate_htpasswd(line).map_err(|err| {
            invalid_input(anyhow::Error::new(err).context("apiService.initialBasicAuthCredentials"))
        })?;
    }
    Ok(())
}

/// How the login is set up, for the checklist. Never a password, hash or client secret.
pub(super) fn describe(values: &Value, login: &WebLogin) -> String {
    let text = |pointer: &str| values.pointer(pointer).and_then(Value::as_str);
    let user_of = |pointer: &str| {
        text(pointer)
            .and_then(|line| line.split_once(':'))
            .map_or("?", |(user, _)| user)
            .to_owned()
    };
    let password = |from: &str| match &login.credentials {
        Some(_) => "password set".to_owned(),
        None => format!("from {from}"),
    };
    match login_mode::chosen_by(values) {
        None => "none: anyone who reaches the endpoint uses the API server".into(),
        Some((Mode::Basic, "ingress.authSecret")) => format!(
            "the existing Secret {} (ingress.authSecret)",
            text("/ingress/authSecret").unwrap_or("?")
        ),
        Some((Mode::Basic, _)) => format!(
            "user {}, {}",
            user_of("/ingress/authCredentials"),
            password("ingress.authCredentials")
        ),
        Some((Mode::Users, _)) => match text("/apiService/initialBasicAuthSecret") {
            Some(secret) => {
                format!("the API server's own users; first admin from the Secret {secret}")
            }
            None => format!(
                "the API server's own users; first admin {}, {}",
                user_of("/apiService/initialBasicAuthCredentials"),
                password("apiService.initialBasicAuthCredentials")
            ),
        },
        Some((Mode::Oauth, key)) => format!(
            "single sign-on through oauth2-proxy with {} ({key})",
            text("/auth/oauth/oidc-issuer-url")
                .or(text("/ingress/oauth2-proxy/oidc-issuer-url"))
                .unwrap_or("?")
        ),
        Some((Mode::Proxy, _)) => format!(
            "an auth proxy in front; the API server trusts its {} header",
            text("/auth/externalProxy/headerName").unwrap_or("?")
        ),
        Some((Mode::None, _)) => unreachable!("no value chooses none"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cli::{LoginArgs, ProxyHeaderFormat};

    #[test]
    fn a_client_secret_is_its_texts_first_line() {
        let cases = [
            ("s3cr3t", "s3cr3t"),
            ("s3cr3t\n", "s3cr3t"),
            ("s3cr3t \r\n", "s3cr3t"),
            ("s3 cr3t\nsecond line", "s3 cr3t"),
            ("  \n", ""),
            ("", ""),
        ];
        for (text, secret) in cases {
            assert_eq!(first_line(text), secret, "{text:?}");
        }
    }

    #[test]
    fn a_flag_of_another_login_is_stray() {
        let none = LoginArgs {
            auth: None,
            oauth_issuer_url: None,
            oauth_client_id: None,
            oauth_client_secret_stdin: false,
            oauth_client_secret_file: None,
            proxy_header: None,
            proxy_header_format: None,
        };
        let oauth = LoginArgs {
            oauth_issuer_url: Some("https://idp".into()),
            oauth_client_secret_file: Some("f".into()),
            ..none.clone()
        };
        let proxy = LoginArgs {
            proxy_header_format: Some(ProxyHeaderFormat::Jwt),
            ..none.clone()
        };
        let both = LoginArgs {
            oauth_client_id: Some("id".into()),
            oauth_client_secret_stdin: true,
            proxy_header: Some("X-User".into()),
            ..none.clone()
        };
        let cases: [(Mode, &LoginArgs, &[&str]); 9] = [
            (Mode::Basic, &none, &[]),
            (Mode::Oauth, &oauth, &[]),
            (
                Mode::Basic,
                &oauth,
                &["--oauth-issuer-url", "--oauth-client-secret-file"],
            ),
            (
                Mode::Proxy,
                &oauth,
                &["--oauth-issuer-url", "--oauth-client-secret-file"],
            ),
            (Mode::Proxy, &proxy, &[]),
            (Mode::Users, &proxy, &["--proxy-header-format"]),
            (Mode::None, &proxy, &["--proxy-header-format"]),
            (Mode::Oauth, &both, &["--proxy-header"]),
            (
                Mode::Proxy,
                &both,
                &["--oauth-client-id", "--oauth-client-secret-stdin"],
            ),
        ];
        for (mode, login, stray) in cases {
            assert_eq!(stray_flags(mode, false, login), stray, "{mode:?} {login:?}");
        }
        // The values set the login up: its own flags would be ignored too.
        let by_values: [(Mode, &LoginArgs, &[&str]); 3] = [
            (
                Mode::Oauth,
                &oauth,
                &["--oauth-issuer-url", "--oauth-client-secret-file"],
            ),
            (Mode::Proxy, &proxy, &["--proxy-header-format"]),
            (Mode::Users, &none, &[]),
        ];
        for (mode, login, stray) in by_values {
            assert_eq!(stray_flags(mode, true, login), stray, "{mode:?} {login:?}");
        }
    }
}
