//! The values the preflight renders. Install and upgrade lay skyctl's login over the values
//! only once its password or secret is known, after the preflight; a stand-in renders what
//! that login brings (the `<release>-basic-auth` Secret, oauth2-proxy), so that the checks see
//! it: a Secret of that name that is someone else's stops the install before the password is
//! asked for, not after.

use serde_json::Value;

use super::{Choice, ChosenBy, Request};
use crate::guide::login_mode::{self, HeaderFormat, Login, Mode};
use crate::values::Resolved;

/// A syntactically valid htpasswd line that no password matches. Only ever rendered for the
/// preflight, never applied.
const STAND_IN_LINE: &str = "skypilot:$apr1$standin0$0000000000000000000000";

/// The user's values with a stand-in of the chosen login laid over them. The OAuth client is
/// given inline: its Secret is written only with the rollout. `request`: the login flags of
/// install or upgrade (`doctor` has none).
pub fn preflight_values(user: &Resolved, choice: Choice, request: Option<&Request>) -> Value {
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
            issuer_url: request
                .and_then(|r| r.oauth.issuer_url.clone())
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
            header_name: request
                .and_then(|r| r.proxy.header.clone())
                .unwrap_or_else(|| super::proxy::DEFAULT_HEADER.into()),
            header_format: request
                .and_then(|r| r.proxy.header_format)
                .unwrap_or(HeaderFormat::Plaintext),
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
