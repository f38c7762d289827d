use std::process::ExitCode;

use clap::Parser;
use skyctl::cli::Cli;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so a closed pipe (`skyctl get values --all | head`) made println!
    // panic. With the default action skyctl ends quietly there, as other command-line tools do.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists or signal is handled.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
