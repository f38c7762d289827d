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
    skyctl::crypto_provider::install();
    let cli = Cli::parse();
    match skyctl::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(skyctl::error::exit_code(&err))
        }
    }
}
