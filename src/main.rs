use std::process::ExitCode;

use clap::Parser;
use skyctl::cli::Cli;

fn main() -> ExitCode {
    // reqwest is built without a provider of its own; ring (the one kube uses) serves both.
    // Installing fails only if one is already installed, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match skyctl::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(skyctl::error::exit_code(&err))
        }
    }
}
