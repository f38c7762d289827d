//! Which login a rollout sets up, and what chose it: `--auth`; else the values' own; else the
//! release's record; else, on a terminal and with a chart that has more than one way, the
//! admin's answer; else the front door's default: basic auth behind ingress-nginx, the API
//! server's own users behind any other door, which would not enforce basic auth.

use serde_json::Value;

use super::Request;
use crate::chart::Chart;
use crate::error::invalid_input;
use crate::front_door::{self, FrontDoor};
use crate::guide::login_mode::{self, Mode};
use crate::values::Resolved;

/// Which login, and what chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub mode: Mode,
    pub(super) by: ChosenBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChosenBy {
    /// `--auth`.
    Flag,
    /// The values given, or reused ones that set a login of their own: kept as they are.
    Values,
    /// The release's record: kept until a flag says otherwise.
    Record,
    /// The admin, asked on a terminal.
    Question,
    /// The admin will be asked on a terminal, once the preflight has passed; until then the
    /// checks run with the front door's default login.
    ToAsk,
    /// Nothing chose: the front door's default login.
    Default,
}

impl Choice {
    /// The choice is left to a question, asked once the checks that need no answer have run.
    pub fn awaits_answer(self) -> bool {
        self.by == ChosenBy::ToAsk
    }

    /// The login the admin answered.
    pub fn answered(mode: Mode) -> Self {
        Choice {
            mode,
            by: ChosenBy::Question,
        }
    }
}

/// Chooses the login. `given`: the values given now; `user`: with those the upgrade reuses.
pub fn choose(
    request: &Request,
    chart: &Chart,
    given: &Resolved,
    user: &Resolved,
    recorded: Option<&Value>,
) -> anyhow::Result<Choice> {
    super::conflicts::refuse_two_stdin_readers(request)?;
    let choice = |mode, by| Ok(Choice { mode, by });
    // The door of the values the rollout will use: an upgrade given no values reuses the
    // release's.
    let door = FrontDoor::of(&user.values);
    if let Some(mode) = request.mode {
        if !door.enforces(mode) {
            return Err(invalid_input(anyhow::anyhow!(
                "--auth {}: the login at the ingress is enforced by ingress-nginx alone, and {} \
                 is {}; let the API server check passwords itself: --auth {}",
                mode.name(),
                front_door::KEY,
                door.name(),
                door.default_login().name()
            )));
        }
        if !mode.supported_by(&defaults(chart)) {
            let having: Vec<&str> = Chart::all()
                .iter()
                .filter(|c| mode.supported_by(&defaults(c)))
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
            None if request.password_offered() => choice(door.default_login(), ChosenBy::Default),
            None => choice(Mode::None, ChosenBy::Record),
        };
    }
    let several = modes_of(chart, &door).len() > 1;
    if several && request.can_ask() && !request.password_offered() {
        return choice(door.default_login(), ChosenBy::ToAsk);
    }
    choice(door.default_login(), ChosenBy::Default)
}

/// The login `doctor` checks a release with: the one the values choose, else the front door's
/// default (what install does without a terminal).
pub fn unasked_choice(given: &Resolved, user: &Resolved) -> Choice {
    chosen_by_values(given, user).unwrap_or(Choice {
        mode: FrontDoor::of(&user.values).default_login(),
        by: ChosenBy::Default,
    })
}

/// The ways to log in that `chart` has and `door` enforces, in the order the question offers
/// them.
pub fn modes_of(chart: &Chart, door: &FrontDoor) -> Vec<Mode> {
    let defaults = defaults(chart);
    Mode::ALL
        .into_iter()
        .filter(|m| m.supported_by(&defaults) && door.enforces(*m))
        .collect()
}

/// The login an answer to the question picks from `modes`: its number, its name, or nothing
/// typed for the first.
pub fn pick(answer: &str, modes: &[Mode]) -> Option<Mode> {
    if answer.is_empty() {
        return modes.first().copied();
    }
    answer
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|n| modes.get(n))
        .or_else(|| modes.iter().find(|m| m.name() == answer.to_lowercase()))
        .copied()
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

fn defaults(chart: &Chart) -> Value {
    Value::Object(chart.definition().defaults().clone())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resolved(user: Value) -> Resolved {
        Resolved {
            values: user.clone(),
            user,
        }
    }

    fn request(mode: Option<Mode>) -> Request {
        Request {
            mode,
            ..Request::default()
        }
    }

    const CHART: &str = "0.13.0";
    const SEED_ERA: &str = "1.0.0-dev.20250319";

    /// One case: the chart, the request, the values given, the values with those reused, the
    /// record; and the choice, or the start of the refusal.
    struct Case {
        name: &'static str,
        chart: &'static str,
        request: Request,
        given: Value,
        reused: Value,
        recorded: Option<Value>,
        chosen: Result<(Mode, ChosenBy), &'static str>,
    }

    #[test]
    fn the_flag_wins_then_the_values_then_the_record_then_the_question() {
        let on_terminal = Request {
            on_terminal: true,
            ..Request::default()
        };
        let oauth_on = json!({"auth": {"oauth": {"enabled": true}}});
        let basic_line = json!({"ingress": {"authCredentials": "ada:$2y$05$x"}});
        let gateway = json!({"skyctl": {"frontDoor": "gateway", "gateway": {"name": "public"}}});
        let other_ingress = json!({"skyctl": {"frontDoor": "ingress"},
                                   "ingress": {"ingressClassName": "traefik"}});
        let cases = [
            Case {
                name: "--auth alone",
                chart: CHART,
                request: request(Some(Mode::Oauth)),
                given: json!({}),
                reused: json!({}),
                recorded: Some(basic_line.clone()),
                chosen: Ok((Mode::Oauth, ChosenBy::Flag)),
            },
            Case {
                name: "--auth the chart lacks",
                chart: SEED_ERA,
                request: request(Some(Mode::Proxy)),
                given: json!({}),
                reused: json!({}),
                recorded: None,
                chosen: Err("--auth proxy: chart 1.0.0-dev.20250319 has no such login; \
                             chart 0.13.0 has (--version)"),
            },
            Case {
                name: "--auth against a login the values choose",
                chart: CHART,
                request: request(Some(Mode::Users)),
                given: oauth_on.clone(),
                reused: oauth_on.clone(),
                recorded: None,
                chosen: Err("--auth users and auth.oauth.enabled in the values given choose"),
            },
            Case {
                name: "--auth against a switch the values turn off",
                chart: CHART,
                request: request(Some(Mode::Users)),
                given: json!({"apiService": {"enableUserManagement": false}}),
                reused: json!({}),
                recorded: None,
                chosen: Err("--auth users and apiService.enableUserManagement=false"),
            },
            Case {
                name: "--auth basic agreeing with the values' own line",
                chart: CHART,
                request: request(Some(Mode::Basic)),
                given: basic_line.clone(),
                reused: basic_line.clone(),
                recorded: None,
                chosen: Ok((Mode::Basic, ChosenBy::Values)),
            },
            Case {
                name: "--auth basic agreeing with the values' own Secret",
                chart: CHART,
                request: request(Some(Mode::Basic)),
                given: json!({"ingress": {"authSecret": "mine"}}),
                reused: json!({}),
                recorded: None,
                chosen: Ok((Mode::Basic, ChosenBy::Values)),
            },
            Case {
                name: "the values given over the record",
                chart: CHART,
                request: on_terminal.clone(),
                given: json!({"auth": {"externalProxy": {"enabled": true}}}),
                reused: json!({}),
                recorded: Some(basic_line.clone()),
                chosen: Ok((Mode::Proxy, ChosenBy::Values)),
            },
            Case {
                name: "reused values of the recorded OAuth login are the record",
                chart: CHART,
                request: Request::default(),
                given: json!({}),
                reused: oauth_on.clone(),
                recorded: Some(oauth_on.clone()),
                chosen: Ok((Mode::Oauth, ChosenBy::Record)),
            },
            Case {
                name: "reused values of the recorded users login are the values'",
                chart: CHART,
                request: Request::default(),
                given: json!({}),
                reused: json!({"apiService": {"enableUserManagement": true}}),
                recorded: Some(json!({"apiService": {"enableUserManagement": true}})),
                chosen: Ok((Mode::Users, ChosenBy::Values)),
            },
            Case {
                name: "a reused Secret of the ingress",
                chart: CHART,
                request: Request::default(),
                given: json!({}),
                reused: json!({"ingress": {"authSecret": "mine"}}),
                recorded: None,
                chosen: Ok((Mode::Basic, ChosenBy::Values)),
            },
            Case {
                name: "the record when nothing else chooses",
                chart: CHART,
                request: on_terminal.clone(),
                given: json!({}),
                reused: json!({}),
                recorded: Some(basic_line.clone()),
                chosen: Ok((Mode::Basic, ChosenBy::Record)),
            },
            Case {
                name: "a record of no login keeps none",
                chart: CHART,
                request: Request::default(),
                given: json!({}),
                reused: json!({}),
                recorded: Some(json!({})),
                chosen: Ok((Mode::None, ChosenBy::Record)),
            },
            Case {
                name: "a record of no login and a password",
                chart: CHART,
                request: Request {
                    password_in_environment: true,
                    ..Request::default()
                },
                given: json!({}),
                reused: json!({}),
                recorded: Some(json!({})),
                chosen: Ok((Mode::Basic, ChosenBy::Default)),
            },
            Case {
                name: "a new release on a terminal is asked",
                chart: CHART,
                request: on_terminal.clone(),
                given: json!({}),
                reused: json!({}),
                recorded: None,
                chosen: Ok((Mode::Basic, ChosenBy::ToAsk)),
            },
            Case {
                name: "-y asks nothing",
                chart: CHART,
                request: Request {
                    yes: true,
                    ..on_terminal.clone()
                },
                given: json!({}),
                reused: json!({}),
                recorded: None,
                chosen: Ok((Mode::Basic, ChosenBy::Default)),
            },
            Case {
                name: "a password offered asks nothing",
                chart: CHART,
                request: Request {
                    password_stdin: true,
                    ..on_terminal.clone()
                },
                given: json!({}),
                reused: json!({}),
                recorded: None,
                chosen: Ok((Mode::Basic, ChosenBy::Default)),
            },
            Case {
                name: "no terminal asks nothing",
                chart: CHART,
                request: Request::default(),
                given: json!({}),
                reused: json!({}),
                recorded: None,
                chosen: Ok((Mode::Basic, ChosenBy::Default)),
            },
            Case {
                name: "a chart of one login asks nothing",
                chart: SEED_ERA,
                request: on_terminal.clone(),
                given: json!({}),
                reused: json!({}),
                recorded: None,
                chosen: Ok((Mode::Basic, ChosenBy::Default)),
            },
            Case {
                name: "two readers of standard input",
                chart: CHART,
                request: Request {
                    values_stdin: true,
                    password_stdin: true,
                    mode: Some(Mode::Basic),
                    ..Request::default()
                },
                given: json!({}),
                reused: json!({}),
                recorded: None,
                chosen: Err("--web-password-stdin and --values - both read standard input"),
            },
            Case {
                name: "--auth basic behind a gateway",
                chart: CHART,
                request: request(Some(Mode::Basic)),
                given: gateway.clone(),
                reused: gateway.clone(),
                recorded: None,
                chosen: Err(
                    "--auth basic: the login at the ingress is enforced by ingress-nginx \
                             alone, and skyctl.frontDoor is gateway; let the API server check \
                             passwords itself: --auth users",
                ),
            },
            Case {
                name: "--auth basic on an upgrade that reuses a gateway's values",
                chart: CHART,
                request: request(Some(Mode::Basic)),
                given: json!({}),
                reused: gateway.clone(),
                recorded: None,
                chosen: Err("--auth basic: the login at the ingress is enforced by ingress-nginx"),
            },
            Case {
                name: "--auth users behind a gateway",
                chart: CHART,
                request: request(Some(Mode::Users)),
                given: gateway.clone(),
                reused: gateway.clone(),
                recorded: None,
                chosen: Ok((Mode::Users, ChosenBy::Flag)),
            },
            Case {
                name: "nothing chooses behind a gateway: the API server's users",
                chart: CHART,
                request: request(None),
                given: gateway.clone(),
                reused: gateway.clone(),
                recorded: None,
                chosen: Ok((Mode::Users, ChosenBy::Default)),
            },
            Case {
                name: "a terminal behind another ingress controller: asked, users until then",
                chart: CHART,
                request: on_terminal.clone(),
                given: other_ingress.clone(),
                reused: other_ingress.clone(),
                recorded: None,
                chosen: Ok((Mode::Users, ChosenBy::ToAsk)),
            },
        ];
        for case in cases {
            let chart = Chart::find(case.chart).unwrap();
            let chosen = choose(
                &case.request,
                chart,
                &resolved(case.given),
                &resolved(case.reused),
                case.recorded.as_ref(),
            );
            match (chosen, case.chosen) {
                (Ok(chosen), Ok((mode, by))) => {
                    assert_eq!(chosen, Choice { mode, by }, "{}", case.name);
                }
                (Err(err), Err(start)) => {
                    let message = err.to_string();
                    assert!(message.starts_with(start), "{}: {message}", case.name);
                    assert!(
                        err.chain()
                            .any(|cause| cause.is::<crate::error::InvalidInput>()),
                        "{}: exits 2",
                        case.name
                    );
                }
                (chosen, expected) => panic!("{}: {chosen:?}, not {expected:?}", case.name),
            }
        }
    }

    #[test]
    fn doctor_checks_the_values_login_else_basic_auth() {
        let proxy = json!({"auth": {"externalProxy": {"enabled": true}}});
        let cases = [
            (json!({}), json!({}), Mode::Basic, ChosenBy::Default),
            (proxy.clone(), proxy.clone(), Mode::Proxy, ChosenBy::Values),
            (json!({}), proxy, Mode::Proxy, ChosenBy::Values),
        ];
        for (given, user, mode, by) in cases {
            assert_eq!(
                unasked_choice(&resolved(given.clone()), &resolved(user)),
                Choice { mode, by },
                "{given}"
            );
        }
    }

    #[test]
    fn an_answer_picks_by_number_or_name_and_nothing_typed_picks_the_first() {
        let modes = [Mode::Basic, Mode::Users, Mode::Oauth];
        let cases = [
            ("", Some(Mode::Basic)),
            ("1", Some(Mode::Basic)),
            ("3", Some(Mode::Oauth)),
            ("0", None),
            ("4", None),
            ("-1", None),
            ("users", Some(Mode::Users)),
            ("OAuth", Some(Mode::Oauth)),
            ("proxy", None),
            ("two", None),
        ];
        for (answer, picked) in cases {
            assert_eq!(pick(answer, &modes), picked, "{answer:?}");
        }
    }

    #[test]
    fn the_question_offers_the_logins_the_chart_has_and_the_door_enforces() {
        let nginx = FrontDoor::IngressNginx;
        let gateway = FrontDoor::Gateway("public".parse().unwrap());
        let cases = [
            (CHART, &nginx, &Mode::ALL[..]),
            (SEED_ERA, &nginx, &[Mode::Basic][..]),
            (
                CHART,
                &gateway,
                &[Mode::Users, Mode::Oauth, Mode::Proxy, Mode::None][..],
            ),
        ];
        for (version, door, modes) in cases {
            let chart = Chart::find(version).unwrap();
            assert_eq!(modes_of(chart, door), modes, "{version} {door}");
        }
    }
}
