//! One module per verb. Each orchestrates the services (values, render, cluster, guide) and
//! holds no logic of its own beyond that.

mod completion;

use crate::cli::{Cli, Command, CredsCommand};
use crate::error::NotImplemented;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let verb = match cli.command {
        Command::Completion { shell } => return completion::run(shell),
        Command::Install(_) => "install",
        Command::Upgrade(_) => "upgrade",
        Command::Uninstall(_) => "uninstall",
        Command::Rollback(_) => "rollback",
        Command::Status(_) => "status",
        Command::Template(_) => "template",
        Command::Endpoint(_) => "endpoint",
        Command::Creds {
            command: CredsCommand::Add { .. },
        } => "creds add",
    };
    Err(NotImplemented(verb).into())
}
