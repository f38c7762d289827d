//! The web login's flags and terminal: install's and upgrade's flags as a
//! [`web_login::Request`], and what the login reads (a password, an OAuth client secret, the
//! answers to its questions) from standard input, a file, the environment or the terminal. What
//! is chosen and refused is `crate::web_login`'s.

use std::io::{BufRead, IsTerminal};

use crate::chart::Chart;
use crate::cli::DeployArgs;
use crate::error::invalid_input;
use crate::guide::login_mode::Mode;
use crate::guide::password;
use crate::values::Resolved;
use crate::web_login::{self, Choice, OauthFlags, ProxyFlags, Request};

/// The login flags of install or upgrade, with what the process sees of a terminal and the
/// environment.
pub(super) fn request(args: &DeployArgs) -> Request {
    let login = &args.login;
    Request {
        mode: login.auth.map(Mode::from),
        yes: args.auth.yes,
        on_terminal: std::io::stdin().is_terminal(),
        username: args.auth.web_username.clone(),
        password_stdin: args.auth.web_password_stdin,
        password_in_environment: password::from_env().is_some(),
        values_stdin: args.values.files.iter().any(|f| f.as_os_str() == "-"),
        oauth: OauthFlags {
            issuer_url: login.oauth_issuer_url.clone(),
            client_id: login.oauth_client_id.clone(),
            client_secret_stdin: login.oauth_client_secret_stdin,
            client_secret_file: login.oauth_client_secret_file.clone(),
        },
        proxy: ProxyFlags {
            header: login.proxy_header.clone(),
            header_format: login.proxy_header_format.map(Into::into),
        },
    }
}

/// Reads what the login needs where the request says it is.
pub(super) struct Terminal<'a>(pub &'a Request);

impl web_login::Reader for Terminal<'_> {
    fn password(&mut self, prompt: &str) -> anyhow::Result<Option<String>> {
        let sources = password::Sources {
            stdin: self.0.password_stdin,
            no_prompt: self.0.yes,
        };
        read_password(sources, prompt)
    }

    fn client_secret(&mut self) -> anyhow::Result<Option<String>> {
        let flags = &self.0.oauth;
        if flags.client_secret_stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            return Ok(Some(web_login::client_secret_in(&line)));
        }
        if let Some(path) = &flags.client_secret_file {
            let text = std::fs::read_to_string(path).map_err(|err| {
                invalid_input(anyhow::anyhow!(
                    "--oauth-client-secret-file {}: {err}",
                    path.display()
                ))
            })?;
            return Ok(Some(web_login::client_secret_in(&text)));
        }
        // Read as a file is: `export VAR="$(cat secret)"` and `VAR=$(<secret)` differ in a
        // trailing newline, which oauth2-proxy would send to the provider as part of the secret.
        Ok(std::env::var(web_login::CLIENT_SECRET_ENV)
            .ok()
            .map(|text| web_login::client_secret_in(&text)))
    }

    fn ask(&mut self, question: &str) -> anyhow::Result<String> {
        Ok(crate::ui::ask(question)?)
    }

    fn ask_hidden(&mut self, question: &str) -> anyhow::Result<String> {
        Ok(rpassword::prompt_password(question)?)
    }
}

/// Asks the admin for the login the choice left to a question, after the checks that need no
/// answer have run; any other choice stands. `values`: the release's, whose front door limits
/// the logins offered.
pub(super) fn settle(choice: Choice, chart: &Chart, values: &Resolved) -> anyhow::Result<Choice> {
    if !choice.awaits_answer() {
        return Ok(choice);
    }
    let door = crate::front_door::FrontDoor::of(&values.values);
    Ok(Choice::answered(ask_mode(&web_login::modes_of(
        chart, &door,
    ))?))
}

fn ask_mode(modes: &[Mode]) -> anyhow::Result<Mode> {
    eprintln!("How will users log in?");
    for (n, mode) in modes.iter().enumerate() {
        eprintln!("  {}) {:<6} {}", n + 1, mode.name(), mode.summary());
    }
    for _ in 0..3 {
        let answer = crate::ui::ask(&format!("Choose 1-{} [1]:", modes.len()))?;
        match web_login::pick(&answer, modes) {
            Some(mode) => return Ok(mode),
            None => eprintln!("Type a number from 1 to {}, or a name.", modes.len()),
        }
    }
    Err(invalid_input(anyhow::anyhow!(
        "no login chosen; pass --auth basic|users|oauth|proxy|none"
    )))
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
