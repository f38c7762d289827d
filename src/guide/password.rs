//! Where the web password comes from. Never from a command-line flag: argv is visible in `ps`
//! and lands in shell history.

use std::io::{BufRead, IsTerminal};

/// The environment variable that may hold the web password.
pub const ENV: &str = "SKYCTL_WEB_PASSWORD";

/// The password in [`ENV`], as set (even empty), or `None` when it is unset or not UTF-8.
pub fn from_env() -> Option<String> {
    std::env::var(ENV).ok()
}

/// How the caller may get the password.
#[derive(Debug, Clone, Copy)]
pub struct Sources {
    /// `--web-password-stdin`: read the first line of standard input.
    pub stdin: bool,
    /// `--yes`: never prompt.
    pub no_prompt: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error(
        "a password for the web login is needed and there is no terminal to ask on; pass it with \
         --web-password-stdin or the {ENV} environment variable"
    )]
    Missing,
    #[error("the two passwords differ")]
    Mismatch,
    #[error("the password is empty")]
    Empty,
    #[error("cannot read the password")]
    Read(#[from] std::io::Error),
}

/// The password, from stdin, the environment, or (on a terminal, unless `no_prompt`) a hidden
/// prompt with confirmation. `None` when no source gives one and prompting is not allowed.
pub fn read(sources: Sources, prompt: &str) -> Result<Option<String>, PasswordError> {
    if sources.stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return non_empty(line.trim_end_matches(['\r', '\n']).to_owned()).map(Some);
    }
    if let Some(password) = from_env() {
        return non_empty(password).map(Some);
    }
    if sources.no_prompt || !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    // A typo on a hidden prompt is easy to make; asking again beats starting the command over.
    let mut failure = PasswordError::Mismatch;
    for _ in 0..PROMPT_ATTEMPTS {
        let first = rpassword::prompt_password(format!("{prompt}: "))?;
        if first.is_empty() {
            eprintln!("The password is empty; type one.");
            failure = PasswordError::Empty;
            continue;
        }
        let second = rpassword::prompt_password("Repeat it: ")?;
        if first == second {
            return Ok(Some(first));
        }
        eprintln!("The two passwords differ; type it again.");
        failure = PasswordError::Mismatch;
    }
    Err(failure)
}

/// How often the prompt asks before it gives up.
const PROMPT_ATTEMPTS: usize = 3;

fn non_empty(password: String) -> Result<String, PasswordError> {
    if password.is_empty() {
        Err(PasswordError::Empty)
    } else {
        Ok(password)
    }
}
