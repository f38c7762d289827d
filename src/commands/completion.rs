use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

pub fn run(shell: Shell) -> anyhow::Result<()> {
    clap_complete::generate(shell, &mut Cli::command(), "skyctl", &mut std::io::stdout());
    Ok(())
}
