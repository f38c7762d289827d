//! Single sign-on: the issuer in the values, the client in a Secret of its own.

use serde_json::Value;

use super::{Choice, ChosenBy, Reader, Request, WebLogin, layer, nothing};
use crate::error::invalid_input;
use crate::guide::login_mode::{self, Login};
use crate::guide::oauth_client;
use crate::redacted::Redacted;
use crate::values::Resolved;

/// The environment variable that may hold the OAuth client secret.
pub const CLIENT_SECRET_ENV: &str = "SKYCTL_OAUTH_CLIENT_SECRET";

pub(super) fn login(
    request: &Request,
    choice: Choice,
    release: &str,
    user: &Resolved,
    recorded: Option<&Value>,
    reader: &mut dyn Reader,
) -> anyhow::Result<WebLogin> {
    if choice.by == ChosenBy::Values {
        return Ok(nothing(choice));
    }
    let flags = &request.oauth;
    let recorded_key = |key: &str| {
        recorded
            .and_then(|values| values.pointer(&format!("/auth/oauth/{key}")))
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let ask = request.can_ask();
    let issuer_url = match (&flags.issuer_url, recorded_key("oidc-issuer-url")) {
        (Some(url), _) => url.clone(),
        (None, Some(url)) => url,
        (None, None) if ask => reader.ask("OIDC issuer URL (e.g. https://example.okta.com):")?,
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
    let secret = reader.client_secret()?;
    let from_environment = !flags.client_secret_stdin && flags.client_secret_file.is_none();
    let client = match (&flags.client_id, secret) {
        (Some(id), Some(secret)) => Some((id.clone(), secret)),
        // The Secret the release uses stays as it is.
        (None, None) if recorded.is_some() => None,
        // The environment may hold the secret for every run (a CI job's): without an id it asks
        // for no new client, and an upgrade given nothing stays one.
        (None, Some(_)) if from_environment && recorded.is_some() => None,
        (id, secret) if ask => {
            let id = match id {
                Some(id) => id.clone(),
                None => reader.ask("OAuth client id:")?,
            };
            let secret = match secret {
                Some(secret) => secret,
                None => reader.ask_hidden("OAuth client secret: ")?,
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

/// The client secret in a text read from standard input, a file or the environment: its first
/// line, without the line break or trailing blanks a file or a shell adds.
pub fn client_secret_in(text: &str) -> String {
    text.lines().next().unwrap_or("").trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(client_secret_in(text), secret, "{text:?}");
        }
    }
}
