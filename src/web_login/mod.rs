//! The web login of install and upgrade, decided: which way users log in (`--auth`, the values,
//! the release's record, or a question on a terminal), which login flags conflict with it, and
//! what that way needs, laid over the user's values as a values layer of its own. A password
//! becomes a bcrypt htpasswd line: the ingress's basic auth (`ingress.authCredentials`) or the
//! API server's first admin (`apiService.initialBasicAuthCredentials`). An OAuth client secret
//! goes into a Secret, never into the values. What the values set themselves is kept; an
//! upgrade given nothing keeps the login its release recorded.
//!
//! clap's types do not reach here: `commands` hands over a [`Request`], and reads what a login
//! needs (standard input, a file, the environment, a terminal) through a [`Reader`], so that the
//! order of questions and refusals is decided here and tested without a terminal.

mod check;
mod choice;
mod conflicts;
mod describe;
mod htpasswd;
mod oauth;
mod proxy;
mod request;
mod stand_in;

pub use check::{check, check_given};
pub use choice::{Choice, choose, modes_of, pick, unasked_choice};
pub use describe::describe;
pub use oauth::{CLIENT_SECRET_ENV, client_secret_in};
pub use request::{OauthFlags, ProxyFlags, Request};
pub use stand_in::preflight_values;

use serde_json::Value;

use crate::guide::health::Credentials;
use crate::guide::login_mode::{self, Login, Mode};
use crate::guide::oauth_client;
use crate::values::{ExtraLayer, Resolved};
use choice::ChosenBy;

/// The login as this rollout sets it.
pub struct WebLogin {
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

/// What a login reads beyond its flags, read where it is asked for.
pub trait Reader {
    /// The web password: offered (standard input, environment), else asked with `prompt` when
    /// a terminal may be asked; `None` when neither gives one.
    fn password(&mut self, prompt: &str) -> anyhow::Result<Option<String>>;
    /// The OAuth client secret offered by flag or environment; never asked.
    fn client_secret(&mut self) -> anyhow::Result<Option<String>>;
    /// One line typed on the terminal.
    fn ask(&mut self, question: &str) -> anyhow::Result<String>;
    /// One line typed on the terminal without an echo.
    fn ask_hidden(&mut self, question: &str) -> anyhow::Result<String>;
}

/// Settles what the chosen login needs: passwords and secrets, read or asked for, and the
/// values layer. `release`: the release's name (the OAuth client's Secret is named for it).
pub fn decide(
    request: &Request,
    choice: Choice,
    release: &str,
    given: &Resolved,
    user: &Resolved,
    recorded: Option<&Value>,
    reader: &mut dyn Reader,
) -> anyhow::Result<WebLogin> {
    conflicts::refuse_stray_flags(request, choice)?;
    // The record counts only for the login it recorded.
    let recorded = recorded
        .filter(|values| login_mode::chosen_by(values).map(|(mode, _)| mode) == Some(choice.mode));
    match choice.mode {
        Mode::Basic | Mode::Users => {
            htpasswd::login(request, choice, given, user, recorded, reader)
        }
        Mode::Oauth => oauth::login(request, choice, release, user, recorded, reader),
        Mode::Proxy => proxy::login(request, choice, user, recorded),
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

#[cfg(test)]
mod tests;
