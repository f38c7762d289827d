//! The login flags that cannot go together: two that read standard input, and a flag of one
//! login given for another. Either would leave the admin thinking skyctl read what it did not.

use super::{Choice, Request};
use crate::error::invalid_input;
use crate::guide::login_mode::Mode;

/// Standard input holds one thing: a second reader would get nothing.
pub(super) fn refuse_two_stdin_readers(request: &Request) -> anyhow::Result<()> {
    if let [first, second, ..] = stdin_readers(request)[..] {
        return Err(invalid_input(anyhow::anyhow!(
            "{second} and {first} both read standard input; give the other as a file"
        )));
    }
    Ok(())
}

fn stdin_readers(request: &Request) -> Vec<&'static str> {
    [
        (request.values_stdin, "--values -"),
        (request.password_stdin, "--web-password-stdin"),
        (
            request.oauth.client_secret_stdin,
            "--oauth-client-secret-stdin",
        ),
    ]
    .into_iter()
    .filter_map(|(reads, flag)| reads.then_some(flag))
    .collect()
}

/// Refuses a flag that the chosen login would not read.
pub(super) fn refuse_stray_flags(request: &Request, choice: Choice) -> anyhow::Result<()> {
    let by_values = choice.by == super::choice::ChosenBy::Values;
    if let [flag, ..] = stray_flags(choice.mode, by_values, request)[..] {
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
    if let Some(flag) = htpasswd_flag_of_another_login(choice.mode, request) {
        return Err(invalid_input(anyhow::anyhow!(
            "{flag} is for --auth basic or users, but this release's login is {}; drop {flag}",
            choice.mode.name()
        )));
    }
    Ok(())
}

fn htpasswd_flag_of_another_login(mode: Mode, request: &Request) -> Option<&'static str> {
    let given = [
        ("--web-password-stdin", request.password_stdin),
        ("--web-username", request.username.is_some()),
    ];
    let (flag, _) = given.into_iter().find(|(_, given)| *given)?;
    (!matches!(mode, Mode::Basic | Mode::Users)).then_some(flag)
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
fn stray_flags(mode: Mode, by_values: bool, request: &Request) -> Vec<&'static str> {
    let (oauth, proxy) = (&request.oauth, &request.proxy);
    let given = [
        ("--oauth-issuer-url", oauth.issuer_url.is_some()),
        ("--oauth-client-id", oauth.client_id.is_some()),
        ("--oauth-client-secret-stdin", oauth.client_secret_stdin),
        (
            "--oauth-client-secret-file",
            oauth.client_secret_file.is_some(),
        ),
        ("--proxy-header", proxy.header.is_some()),
        ("--proxy-header-format", proxy.header_format.is_some()),
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::guide::login_mode::HeaderFormat;
    use crate::web_login::{OauthFlags, ProxyFlags};

    #[test]
    fn a_flag_of_another_login_is_stray() {
        let none = Request::default();
        let oauth = Request {
            oauth: OauthFlags {
                issuer_url: Some("https://idp".into()),
                client_secret_file: Some("f".into()),
                ..OauthFlags::default()
            },
            ..none.clone()
        };
        let proxy = Request {
            proxy: ProxyFlags {
                header_format: Some(HeaderFormat::Jwt),
                ..ProxyFlags::default()
            },
            ..none.clone()
        };
        let both = Request {
            oauth: OauthFlags {
                client_id: Some("id".into()),
                client_secret_stdin: true,
                ..OauthFlags::default()
            },
            proxy: ProxyFlags {
                header: Some("X-User".into()),
                ..ProxyFlags::default()
            },
            ..none.clone()
        };
        let cases: [(Mode, &Request, &[&str]); 9] = [
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
        for (mode, request, stray) in cases {
            assert_eq!(
                stray_flags(mode, false, request),
                stray,
                "{mode:?} {request:?}"
            );
        }
        // The values set the login up: its own flags would be ignored too.
        let by_values: [(Mode, &Request, &[&str]); 3] = [
            (
                Mode::Oauth,
                &oauth,
                &["--oauth-issuer-url", "--oauth-client-secret-file"],
            ),
            (Mode::Proxy, &proxy, &["--proxy-header-format"]),
            (Mode::Users, &none, &[]),
        ];
        for (mode, request, stray) in by_values {
            assert_eq!(
                stray_flags(mode, true, request),
                stray,
                "{mode:?} {request:?}"
            );
        }
    }

    #[test]
    fn a_user_or_password_is_only_for_the_htpasswd_logins() {
        let password = Request {
            password_stdin: true,
            ..Request::default()
        };
        let username = Request {
            username: Some("ada".into()),
            ..Request::default()
        };
        let both = Request {
            username: Some("ada".into()),
            ..password.clone()
        };
        let cases: [(Mode, &Request, Option<&str>); 10] = [
            (Mode::Basic, &password, None),
            (Mode::Users, &both, None),
            (Mode::Oauth, &Request::default(), None),
            (Mode::Oauth, &password, Some("--web-password-stdin")),
            (Mode::Proxy, &username, Some("--web-username")),
            (Mode::None, &username, Some("--web-username")),
            (Mode::None, &both, Some("--web-password-stdin")),
            (Mode::Basic, &username, None),
            (Mode::Proxy, &Request::default(), None),
            (Mode::Oauth, &both, Some("--web-password-stdin")),
        ];
        for (mode, request, flag) in cases {
            assert_eq!(
                htpasswd_flag_of_another_login(mode, request),
                flag,
                "{mode:?} {request:?}"
            );
        }
    }

    #[test]
    fn standard_input_has_one_reader() {
        let reads = |values_stdin, password_stdin, client_secret_stdin| Request {
            values_stdin,
            password_stdin,
            oauth: OauthFlags {
                client_secret_stdin,
                ..OauthFlags::default()
            },
            ..Request::default()
        };
        let cases = [
            (reads(false, false, false), None),
            (reads(true, false, false), None),
            (reads(false, true, false), None),
            (reads(false, false, true), None),
            (
                reads(true, true, false),
                Some("--web-password-stdin and --values - both read standard input"),
            ),
            (
                reads(false, true, true),
                Some("--oauth-client-secret-stdin and --web-password-stdin both read"),
            ),
            (
                reads(true, false, true),
                Some("--oauth-client-secret-stdin and --values - both read"),
            ),
            (
                reads(true, true, true),
                Some("--web-password-stdin and --values - both read"),
            ),
        ];
        for (request, refusal) in cases {
            let result = refuse_two_stdin_readers(&request);
            match refusal {
                None => assert!(result.is_ok(), "{request:?}"),
                Some(start) => {
                    let err = result.expect_err("refused").to_string();
                    assert!(err.starts_with(start), "{request:?}: {err}");
                }
            }
        }
    }
}
