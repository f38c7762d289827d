//! Basic auth at the ingress, or the API server's first admin: a password made into an
//! htpasswd line, or the line the release recorded.

use serde_json::Value;

use super::{Choice, ChosenBy, Reader, Request, WebLogin, layer, nothing};
use crate::error::invalid_input;
use crate::guide::basic_auth;
use crate::guide::health::Credentials;
use crate::guide::login_mode::{self, Login, Mode};
use crate::guide::password;
use crate::values::{ExtraLayer, Resolved};

pub(super) fn login(
    request: &Request,
    choice: Choice,
    given: &Resolved,
    user: &Resolved,
    recorded: Option<&Value>,
    reader: &mut dyn Reader,
) -> anyhow::Result<WebLogin> {
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
    let username = login_mode::login_user(request.username.as_deref(), recorded_line);
    let offered = request.password_offered();
    let password = if values_have_line || (recorded_line.is_some() && !offered) {
        // Not needed for the login itself; only the health check uses it.
        if offered { reader.password("")? } else { None }
    } else {
        let prompt = match choice.mode {
            Mode::Users => format!("Password for the API server's first admin {username:?}"),
            _ => format!("Password for the web login {username:?}"),
        };
        Some(reader.password(&prompt)?.ok_or_else(|| {
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
