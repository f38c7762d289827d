//! How users log in to the API server. The seed-era chart knows one way, basic auth at the
//! ingress; chart 0.13.0 knows four, and none at all. The values say which one a release uses;
//! the walk-through chooses one with the admin and lays its values over the user's.

use serde::Serialize;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// An htpasswd line checked by the ingress (`ingress.authCredentials`).
    Basic,
    /// The API server's own users, starting from one admin
    /// (`apiService.enableUserManagement`).
    Users,
    /// Single sign-on through oauth2-proxy and an OIDC provider (`auth.oauth`).
    Oauth,
    /// An auth proxy the admin runs in front sets the user's identity header
    /// (`auth.externalProxy`).
    Proxy,
    /// Nothing: whoever reaches the endpoint uses the API server.
    None,
}

impl Mode {
    pub const ALL: [Mode; 5] = [
        Mode::Basic,
        Mode::Users,
        Mode::Oauth,
        Mode::Proxy,
        Mode::None,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Basic => "basic",
            Mode::Users => "users",
            Mode::Oauth => "oauth",
            Mode::Proxy => "proxy",
            Mode::None => "none",
        }
    }

    /// One line for the question on a terminal.
    pub fn summary(self) -> &'static str {
        match self {
            Mode::Basic => "a user and password, checked by the ingress",
            Mode::Users => "the API server's own users; you set the first admin's password",
            Mode::Oauth => "single sign-on with your OIDC provider (Okta, Google, Keycloak, ...)",
            Mode::Proxy => "an auth proxy you run in front sets each user's identity header",
            Mode::None => "no login: anyone who reaches the endpoint can use the API server",
        }
    }

    /// The values key that turns the mode on. Basic auth has no switch: an htpasswd line or
    /// Secret turns it on.
    fn switch(self) -> Option<&'static str> {
        match self {
            Mode::Users => Some("/apiService/enableUserManagement"),
            Mode::Oauth => Some("/auth/oauth/enabled"),
            Mode::Proxy => Some("/auth/externalProxy/enabled"),
            Mode::Basic | Mode::None => None,
        }
    }

    /// Whether `chart_defaults` (a chart's values.yaml) have the mode's values. Going without
    /// a login needs a chart whose ingress asks for none by default (the seed-era chart's
    /// Ingress always asks for basic auth).
    pub fn supported_by(self, chart_defaults: &Value) -> bool {
        match self {
            Mode::None => chart_defaults.pointer("/ingress/authCredentials") == Some(&Value::Null),
            mode => mode
                .switch()
                .is_none_or(|pointer| chart_defaults.pointer(pointer).is_some()),
        }
    }
}

/// The key of `mode`'s switch when `values` turn it off explicitly (`false`), which contradicts
/// choosing the mode by flag.
pub fn switched_off(mode: Mode, values: &Value) -> Option<String> {
    let pointer = mode.switch()?;
    (values.pointer(pointer) == Some(&Value::Bool(false)))
        .then(|| pointer.trim_start_matches('/').replace('/', "."))
}

/// The login the values choose, and the key that chooses it; `None` when they choose none.
/// The switches are the chart's, in the order its templates let them win; ingress.oauth2-proxy
/// (OAuth at the ingress, the older way) counts as OAuth.
pub fn chosen_by(values: &Value) -> Option<(Mode, &'static str)> {
    const SWITCHES: [(&str, &str, Mode); 4] = [
        ("/auth/oauth/enabled", "auth.oauth.enabled", Mode::Oauth),
        (
            "/ingress/oauth2-proxy/enabled",
            "ingress.oauth2-proxy.enabled",
            Mode::Oauth,
        ),
        (
            "/auth/externalProxy/enabled",
            "auth.externalProxy.enabled",
            Mode::Proxy,
        ),
        (
            "/apiService/enableUserManagement",
            "apiService.enableUserManagement",
            Mode::Users,
        ),
    ];
    let on = SWITCHES
        .iter()
        .find(|(pointer, _, _)| values.pointer(pointer) == Some(&Value::Bool(true)))
        .map(|(_, key, mode)| (*mode, *key));
    on.or_else(|| {
        let set = |pointer: &str| values.pointer(pointer).is_some_and(|v| !v.is_null());
        if set("/ingress/authSecret") {
            Some((Mode::Basic, "ingress.authSecret"))
        } else if set("/ingress/authCredentials") {
            Some((Mode::Basic, "ingress.authCredentials"))
        } else {
            None
        }
    })
}

/// What a mode needs beyond its switch, made by the walk-through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The htpasswd text for the ingress.
    Basic {
        htpasswd: String,
    },
    /// The first admin's htpasswd line.
    Users {
        htpasswd: String,
    },
    /// The OIDC issuer, and the Secret that holds the client id and secret; none when the
    /// values give the client themselves (`auth.oauth.client-id`, `client-secret`).
    Oauth {
        issuer_url: String,
        client_secret_name: Option<String>,
    },
    Proxy {
        header_name: String,
        header_format: HeaderFormat,
    },
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderFormat {
    Plaintext,
    Jwt,
}

impl HeaderFormat {
    pub fn name(self) -> &'static str {
        match self {
            HeaderFormat::Plaintext => "plaintext",
            HeaderFormat::Jwt => "jwt",
        }
    }
}

impl Login {
    pub fn mode(&self) -> Mode {
        match self {
            Login::Basic { .. } => Mode::Basic,
            Login::Users { .. } => Mode::Users,
            Login::Oauth { .. } => Mode::Oauth,
            Login::Proxy { .. } => Mode::Proxy,
            Login::None => Mode::None,
        }
    }
}

/// The values that set `login` up over `user` (the values it is laid over): its own keys, and
/// every other login `user` has turned on turned off, since the chart refuses two at once (and
/// a reused record may hold the one this replaces).
pub fn values(login: &Login, user: &Value) -> Map<String, Value> {
    let mut tree = match login {
        Login::Basic { htpasswd } => json!({"ingress": {"authCredentials": htpasswd}}),
        Login::Users { htpasswd } => json!({"apiService": {
            "enableUserManagement": true,
            "initialBasicAuthCredentials": htpasswd,
        }}),
        Login::Oauth {
            issuer_url,
            client_secret_name,
        } => {
            let mut oauth = json!({"enabled": true, "oidc-issuer-url": issuer_url});
            if let Some(name) = client_secret_name {
                oauth["client-details-from-secret"] = json!(name);
            }
            json!({"auth": {"oauth": oauth}})
        }
        Login::Proxy {
            header_name,
            header_format,
        } => json!({"auth": {"externalProxy": {
            "enabled": true,
            "headerName": header_name,
            "headerFormat": header_format.name(),
        }}}),
        Login::None => json!({}),
    };
    let mode = login.mode();
    for other in Mode::ALL.into_iter().filter(|m| *m != mode) {
        if let Some(pointer) = other.switch()
            && user.pointer(pointer) == Some(&Value::Bool(true))
        {
            set(&mut tree, pointer, Value::Bool(false));
        }
    }
    if mode == Mode::Oauth
        && user.pointer("/ingress/oauth2-proxy/enabled") == Some(&Value::Bool(true))
    {
        set(
            &mut tree,
            "/ingress/oauth2-proxy/enabled",
            Value::Bool(false),
        );
    }
    if mode != Mode::Basic {
        for pointer in ["/ingress/authCredentials", "/ingress/authSecret"] {
            if user.pointer(pointer).is_some_and(|v| !v.is_null()) {
                set(&mut tree, pointer, Value::Null);
            }
        }
    }
    let Value::Object(map) = tree else {
        unreachable!("a JSON object literal")
    };
    map
}

fn set(tree: &mut Value, pointer: &str, value: Value) {
    let mut node = tree;
    let keys: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let (last, parents) = keys.split_last().expect("a pointer has a key");
    for key in parents {
        node = node
            .as_object_mut()
            .expect("values are maps down to the key")
            .entry(*key)
            .or_insert_with(|| json!({}));
    }
    node.as_object_mut()
        .expect("values are maps down to the key")
        .insert((*last).to_owned(), value);
}

/// Whether `url` can be an OIDC issuer: http(s), a host, and nothing the chart would write
/// into oauth2-proxy's arguments other than as given (whitespace, control characters). A user
/// and password in it would be printed and recorded with the values: refused too.
pub fn check_issuer_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("is not an http(s) URL")?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("has whitespace or control characters");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("has a user or password in it");
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err("has no host");
    }
    Ok(())
}

/// What users should know after the `sky api login` line.
pub fn after_login(mode: Mode) -> Option<&'static str> {
    match mode {
        Mode::Basic => None,
        Mode::Users => Some("the first admin adds the other users on the dashboard's Users page"),
        Mode::Oauth => Some(
            "a browser opens to sign in with your OIDC provider (with --no-browser, sky prints the URL to open)",
        ),
        Mode::Proxy => Some(
            "users reach the API server through your auth proxy: give them its address in place of this one",
        ),
        Mode::None => {
            Some("anyone who reaches this address uses the API server: keep it off the internet")
        }
    }
}

/// What `/api/health` says about the login, read with skyctl's API version header (without it
/// the server says only "healthy").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// `healthy`, or `needs_auth` for a request that has not logged in.
    pub status: String,
    pub basic_auth_enabled: bool,
    pub external_proxy_auth_enabled: bool,
    /// The name of the user the request was taken as.
    pub user: Option<String>,
}

/// Whether the server answers as `mode` means it to, for a check that logged in as `admin`
/// (basic auth at the ingress or the server) or not at all. `Err` says what is off.
pub fn confirms(mode: Mode, admin: Option<&str>, seen: &Seen) -> Result<(), String> {
    match mode {
        Mode::Users if !seen.basic_auth_enabled => Err(
            "the API server does not manage users itself (its basic auth is off)".into(),
        ),
        Mode::Users => match (admin, seen.user.as_deref()) {
            (Some(admin), Some(user)) if admin != user => Err(format!(
                "the API server took the check as user {user:?}, not the admin {admin:?}"
            )),
            _ => Ok(()),
        },
        Mode::Oauth if seen.status != "needs_auth" => Err(
            "the API server let a request without a login in; OAuth is not in front of it".into(),
        ),
        Mode::Proxy if !seen.external_proxy_auth_enabled => Err(
            "the API server does not trust the proxy's identity header (auth.external_proxy is off in its server config)".into(),
        ),
        _ => Ok(()),
    }
}

/// The user name skyctl uses for the web login absent `--web-username`.
pub const DEFAULT_USER: &str = "skypilot";

/// Whose password the web login takes: the user `--web-username` names, else the release's own
/// (the first user of the htpasswd `recorded`, as installed or adopted), else skyctl's default.
/// A release's user never changes by omission.
pub fn login_user(given: Option<&str>, recorded: Option<&str>) -> String {
    given
        .or_else(|| recorded.and_then(|text| super::basic_auth::users(text).first().copied()))
        .unwrap_or(DEFAULT_USER)
        .to_owned()
}

/// The htpasswd text a release's values keep, at the ingress or for the API server's users.
pub fn recorded_htpasswd(values: &Value) -> Option<&str> {
    [Mode::Basic, Mode::Users]
        .into_iter()
        .find_map(|mode| values.pointer(htpasswd_pointer(mode))?.as_str())
}

/// Where a mode with a password keeps its htpasswd line.
pub fn htpasswd_pointer(mode: Mode) -> &'static str {
    match mode {
        Mode::Users => "/apiService/initialBasicAuthCredentials",
        _ => "/ingress/authCredentials",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_keeps_its_web_user_unless_another_is_named() {
        // Table: --web-username, the recorded htpasswd, the user.
        let cases = [
            (None, None, "skypilot"),
            (Some("bob"), None, "bob"),
            (None, Some("alice:$apr1$x$y"), "alice"),
            (None, Some("# team\nalice:$apr1$x$y\nbob:$2y$z"), "alice"),
            (Some("bob"), Some("alice:$apr1$x$y"), "bob"),
            (None, Some(""), "skypilot"),
        ];
        for (given, recorded, user) in cases {
            assert_eq!(login_user(given, recorded), user, "{given:?} {recorded:?}");
        }
    }

    #[test]
    fn the_values_choose_the_login_whose_switch_is_on() {
        let cases = [
            (json!({}), None),
            (json!({"ingress": {"authCredentials": null}}), None),
            (
                json!({"ingress": {"authCredentials": "a:b"}}),
                Some((Mode::Basic, "ingress.authCredentials")),
            ),
            (
                json!({"ingress": {"authSecret": "s", "authCredentials": "a:b"}}),
                Some((Mode::Basic, "ingress.authSecret")),
            ),
            (
                json!({"auth": {"oauth": {"enabled": true}}, "ingress": {"authCredentials": "a:b"}}),
                Some((Mode::Oauth, "auth.oauth.enabled")),
            ),
            (
                json!({"ingress": {"oauth2-proxy": {"enabled": true}}}),
                Some((Mode::Oauth, "ingress.oauth2-proxy.enabled")),
            ),
            (
                json!({"auth": {"externalProxy": {"enabled": true}}}),
                Some((Mode::Proxy, "auth.externalProxy.enabled")),
            ),
            (
                json!({"apiService": {"enableUserManagement": true}}),
                Some((Mode::Users, "apiService.enableUserManagement")),
            ),
            // A string is not Helm's true here: the schema types these as booleans anyway.
            (json!({"auth": {"oauth": {"enabled": "true"}}}), None),
        ];
        for (values, expected) in cases {
            assert_eq!(chosen_by(&values), expected, "{values}");
        }
    }

    #[test]
    fn each_login_sets_its_keys_and_turns_the_others_off() {
        let basic_reused = json!({"ingress": {"authCredentials": "old:line"}});
        let users_reused = json!({"apiService": {"enableUserManagement": true}});
        let cases = [
            (
                Login::Users {
                    htpasswd: "admin:$2y$x".into(),
                },
                basic_reused.clone(),
                json!({
                    "apiService": {"enableUserManagement": true, "initialBasicAuthCredentials": "admin:$2y$x"},
                    "ingress": {"authCredentials": null},
                }),
            ),
            (
                Login::Oauth {
                    issuer_url: "https://idp".into(),
                    client_secret_name: Some("r-oauth-client".into()),
                },
                users_reused.clone(),
                json!({
                    "auth": {"oauth": {"enabled": true, "oidc-issuer-url": "https://idp", "client-details-from-secret": "r-oauth-client"}},
                    "apiService": {"enableUserManagement": false},
                }),
            ),
            (
                Login::Proxy {
                    header_name: "X-Email".into(),
                    header_format: HeaderFormat::Jwt,
                },
                json!({"ingress": {"oauth2-proxy": {"enabled": true}}}),
                json!({"auth": {"externalProxy": {"enabled": true, "headerName": "X-Email", "headerFormat": "jwt"}}}),
            ),
            (
                Login::Basic {
                    htpasswd: "u:h".into(),
                },
                users_reused,
                json!({"ingress": {"authCredentials": "u:h"}, "apiService": {"enableUserManagement": false}}),
            ),
            (
                Login::None,
                json!({"ingress": {"authSecret": "theirs"}, "auth": {"externalProxy": {"enabled": true}}}),
                json!({"ingress": {"authSecret": null}, "auth": {"externalProxy": {"enabled": false}}}),
            ),
            (Login::None, json!({}), json!({})),
            // The values give the client inline: no Secret is named over them.
            (
                Login::Oauth {
                    issuer_url: "https://idp".into(),
                    client_secret_name: None,
                },
                json!({"auth": {"oauth": {"client-id": "id"}}}),
                json!({"auth": {"oauth": {"enabled": true, "oidc-issuer-url": "https://idp"}}}),
            ),
        ];
        for (login, user, expected) in cases {
            assert_eq!(Value::Object(values(&login, &user)), expected, "{login:?}");
        }
    }

    #[test]
    fn the_oauth_layer_over_oauth_at_the_ingress_turns_that_off() {
        let user = json!({"ingress": {"oauth2-proxy": {"enabled": true}}});
        let login = Login::Oauth {
            issuer_url: "u".into(),
            client_secret_name: Some("s".into()),
        };
        assert_eq!(
            values(&login, &user)["ingress"],
            json!({"oauth2-proxy": {"enabled": false}})
        );
    }

    #[test]
    fn the_health_answer_confirms_the_mode() {
        let seen = |status: &str, basic, proxy, user: Option<&str>| Seen {
            status: status.into(),
            basic_auth_enabled: basic,
            external_proxy_auth_enabled: proxy,
            user: user.map(str::to_owned),
        };
        let cases = [
            (
                Mode::Basic,
                Some("skypilot"),
                seen("healthy", false, false, None),
                true,
            ),
            (
                Mode::Users,
                Some("admin"),
                seen("healthy", true, false, Some("admin")),
                true,
            ),
            (
                Mode::Users,
                Some("admin"),
                seen("healthy", false, false, None),
                false,
            ),
            (
                Mode::Users,
                Some("admin"),
                seen("healthy", true, false, Some("bob")),
                false,
            ),
            (
                Mode::Oauth,
                None,
                seen("needs_auth", false, false, None),
                true,
            ),
            (
                Mode::Oauth,
                None,
                seen("healthy", false, false, None),
                false,
            ),
            (Mode::Proxy, None, seen("healthy", false, true, None), true),
            (
                Mode::Proxy,
                None,
                seen("healthy", false, false, None),
                false,
            ),
            (Mode::None, None, seen("healthy", false, false, None), true),
        ];
        for (mode, admin, seen, ok) in cases {
            assert_eq!(
                confirms(mode, admin, &seen).is_ok(),
                ok,
                "{mode:?} {seen:?}"
            );
        }
    }

    #[test]
    fn an_issuer_url_is_http_with_a_host() {
        let cases = [
            ("https://login.example.com", true),
            ("http://127.0.0.1:5556/dex", true),
            ("https://idp.example/realms/sky?x=1", true),
            ("https://[::1]:8443", true),
            ("https://bücher.example", true),
            ("https://", false),
            ("http:///path", false),
            ("https://:443", false),
            ("https://[]", false),
            ("ftp://idp.example", false),
            ("idp.example", false),
            ("", false),
            ("HTTPS://idp.example", false),
            ("https://a b", false),
            ("https://idp\n.example", false),
            ("https://idp.example/\u{7}", false),
            ("https://user:pw@idp.example", false),
        ];
        for (url, ok) in cases {
            assert_eq!(check_issuer_url(url).is_ok(), ok, "{url:?}");
        }
    }

    #[test]
    fn the_seed_era_chart_has_basic_auth_and_no_other_switch() {
        let seed = json!({"ingress": {"authCredentials": "x"}, "apiService": {}});
        let current = json!({"ingress": {"authCredentials": null},
            "apiService": {"enableUserManagement": false},
            "auth": {"oauth": {"enabled": false}, "externalProxy": {"enabled": false}}});
        for mode in Mode::ALL {
            assert_eq!(mode.supported_by(&seed), mode == Mode::Basic, "{mode:?}");
            assert!(mode.supported_by(&current), "{mode:?}");
        }
    }
}
