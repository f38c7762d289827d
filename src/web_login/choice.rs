//! Which login a rollout sets up, and what chose it: `--auth`; else the values' own; else the
//! release's record; else, on a terminal and with a chart that has more than one way, the
//! admin's answer; else basic auth.

use serde_json::Value;

use super::Request;
use crate::chart::Chart;
use crate::error::invalid_input;
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
    /// checks run with basic auth, which every chart version has.
    ToAsk,
    /// Nothing chose: basic auth, as every chart version has it.
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
    if let Some(mode) = request.mode {
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
            None if request.password_offered() => choice(Mode::Basic, ChosenBy::Default),
            None => choice(Mode::None, ChosenBy::Record),
        };
    }
    let several = modes_of(chart).len() > 1;
    if several && request.can_ask() && !request.password_offered() {
        return choice(Mode::Basic, ChosenBy::ToAsk);
    }
    choice(Mode::Basic, ChosenBy::Default)
}

/// The login `doctor` checks a release with: the one the values choose, else basic auth (what
/// install does without a terminal).
pub fn unasked_choice(given: &Resolved, user: &Resolved) -> Choice {
    chosen_by_values(given, user).unwrap_or(Choice {
        mode: Mode::Basic,
        by: ChosenBy::Default,
    })
}

/// The ways to log in that `chart` has, in the order the question offers them.
pub fn modes_of(chart: &Chart) -> Vec<Mode> {
    let defaults = defaults(chart);
    Mode::ALL
        .into_iter()
        .filter(|m| m.supported_by(&defaults))
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
