//! The login flags of install and upgrade as plain data: `commands` fills them in from clap's
//! types and from what the process sees (a terminal, the environment), so that every decision
//! about them is a function of this and the values.

use std::path::PathBuf;

use crate::guide::login_mode::{HeaderFormat, Mode};

/// What the admin asked of the web login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `--auth`.
    pub mode: Option<Mode>,
    /// `-y`: never prompt.
    pub yes: bool,
    /// Standard input is a terminal.
    pub on_terminal: bool,
    /// `--web-username`.
    pub username: Option<String>,
    /// `--web-password-stdin`.
    pub password_stdin: bool,
    /// The password's environment variable is set.
    pub password_in_environment: bool,
    /// `--values -`.
    pub values_stdin: bool,
    pub oauth: OauthFlags,
    pub proxy: ProxyFlags,
}

/// The flags only `--auth oauth` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OauthFlags {
    /// `--oauth-issuer-url`.
    pub issuer_url: Option<String>,
    /// `--oauth-client-id`.
    pub client_id: Option<String>,
    /// `--oauth-client-secret-stdin`.
    pub client_secret_stdin: bool,
    /// `--oauth-client-secret-file`.
    pub client_secret_file: Option<PathBuf>,
}

/// The flags only `--auth proxy` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyFlags {
    /// `--proxy-header`.
    pub header: Option<String>,
    /// `--proxy-header-format`.
    pub header_format: Option<HeaderFormat>,
}

impl Request {
    /// Whether skyctl may ask on the terminal.
    pub fn can_ask(&self) -> bool {
        !self.yes && self.on_terminal
    }

    /// A password comes without asking: from standard input or the environment.
    pub fn password_offered(&self) -> bool {
        self.password_stdin || self.password_in_environment
    }
}
