//! The closing lines of `install` and `upgrade`: where users log in and how. `get notes` prints
//! them again for any revision, as Helm prints a chart's NOTES. Pure.

use serde_json::Value;

use super::endpoint::Lookup;
use super::health;
use super::login_mode::{self, Mode};

/// The endpoint, the `sky api login` line and what the login mode adds to it.
pub fn login_lines(url: &str, login: &str, hint: Option<&str>) -> String {
    let mut text = format!("endpoint: {url}\nusers log in with:\n  {login}\n");
    if let Some(hint) = hint {
        text.push_str(&format!("  ({hint})\n"));
    }
    text
}

/// A revision's notes, from its values and what the cluster says about the endpoint now: the
/// login lines, or why there is no endpoint.
pub fn of_revision(values: &Value, lookup: &Lookup) -> String {
    let mode = login_mode::chosen_by(values).map_or(Mode::None, |(mode, _)| mode);
    match lookup {
        Lookup::Found(found) => {
            let user = matches!(mode, Mode::Basic | Mode::Users)
                .then(|| login_mode::login_user(None, login_mode::recorded_htpasswd(values)));
            let login = health::login_command(&found.url, user.as_deref());
            login_lines(&found.url, &login, login_mode::after_login(mode))
        }
        Lookup::Pending(reason) => format!("no endpoint yet: waiting for {reason}\n"),
        Lookup::Unavailable(reason) => format!("no endpoint: {reason}\n"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::guide::endpoint::{Endpoint, EndpointKind};

    #[test]
    fn each_login_mode_ends_with_its_own_lines() {
        let found = Lookup::Found(Endpoint {
            url: "http://10.0.0.1:30050".into(),
            kind: EndpointKind::NodePort,
            service: "sky-ingress-nginx-controller".into(),
            service_namespace: "team".into(),
            resolves_to: None,
            warnings: vec![],
        });
        let cases = [
            (
                json!({"ingress": {"authCredentials": "alice:$2y$05$hash"}}),
                "endpoint: http://10.0.0.1:30050\nusers log in with:\n  sky api login -e http://alice:<password>@10.0.0.1:30050\n",
            ),
            (
                json!({"apiService": {"enableUserManagement": true,
                                      "initialBasicAuthCredentials": "admin:$2y$05$hash"}}),
                "endpoint: http://10.0.0.1:30050\nusers log in with:\n  sky api login -e http://admin:<password>@10.0.0.1:30050\n  (the first admin adds the other users on the dashboard's Users page)\n",
            ),
            (
                json!({"auth": {"oauth": {"enabled": true}}}),
                "endpoint: http://10.0.0.1:30050\nusers log in with:\n  sky api login -e http://10.0.0.1:30050\n  (a browser opens to sign in with your OIDC provider (with --no-browser, sky prints the URL to open))\n",
            ),
            (
                json!({}),
                "endpoint: http://10.0.0.1:30050\nusers log in with:\n  sky api login -e http://10.0.0.1:30050\n  (anyone who reaches this address uses the API server: keep it off the internet)\n",
            ),
        ];
        for (values, notes) in cases {
            assert_eq!(of_revision(&values, &found), notes, "{values}");
        }
        assert_eq!(
            of_revision(&json!({}), &Lookup::Pending("a node".into())),
            "no endpoint yet: waiting for a node\n"
        );
    }
}
