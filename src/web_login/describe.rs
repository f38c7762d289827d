//! The login's line in the checklist.

use serde_json::Value;

use super::WebLogin;
use crate::guide::login_mode::{self, Mode};

/// How the login is set up. Never a password, hash or client secret.
pub fn describe(values: &Value, login: &WebLogin) -> String {
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
