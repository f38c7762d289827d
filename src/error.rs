//! The errors that decide how skyctl exits.

/// Exit code for input the user can fix (a flag, a values key, a file). Nothing was changed.
pub const EXIT_INVALID_INPUT: u8 = 2;
/// Exit code for every other failure.
pub const EXIT_FAILURE: u8 = 1;

/// A verb whose implementation has not landed yet. It fails instead of pretending to work.
#[derive(Debug, thiserror::Error)]
#[error("`skyctl {0}` is not implemented yet")]
pub struct NotImplemented(pub &'static str);

/// Maps an error to the process exit code.
pub fn exit_code(_err: &anyhow::Error) -> u8 {
    EXIT_FAILURE
}
