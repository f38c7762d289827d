//! The errors that decide how skyctl exits.

/// Exit code for input the user can fix (a flag, a values key, a file). Nothing was changed.
pub const EXIT_INVALID_INPUT: u8 = 2;
/// Exit code for every other failure.
pub const EXIT_FAILURE: u8 = 1;

/// Input the user can fix: a flag, a values key, a file. Wrapping an error in it makes skyctl
/// exit with [`EXIT_INVALID_INPUT`]; its message is the wrapped error's.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct InvalidInput(#[from] pub anyhow::Error);

/// Marks an error as the user's input at fault.
pub fn invalid_input(err: impl Into<anyhow::Error>) -> anyhow::Error {
    InvalidInput(err.into()).into()
}

/// Maps an error to the process exit code.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.chain().any(|cause| cause.is::<InvalidInput>()) {
        EXIT_INVALID_INPUT
    } else {
        EXIT_FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_exit_2_even_under_context() {
        let err = invalid_input(anyhow::anyhow!("--set: bad")).context("while installing");
        assert_eq!(exit_code(&err), EXIT_INVALID_INPUT);
        assert_eq!(exit_code(&anyhow::anyhow!("cluster down")), EXIT_FAILURE);
    }
}
