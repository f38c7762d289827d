//! Reading what values flags point at: files by path, and `-` for standard input.

use std::io::{self, Read};
use std::path::Path;

/// Reads values inputs. Standard input can be read only once; a second `-` is an error
/// rather than a silently empty document.
pub(crate) struct Inputs<'s> {
    stdin: &'s mut dyn Read,
    stdin_read: bool,
}

/// How a user-named input is shown in messages.
pub(crate) fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

fn is_stdin(path: &Path) -> bool {
    path == Path::new("-")
}

impl<'s> Inputs<'s> {
    pub(crate) fn new(stdin: &'s mut dyn Read) -> Self {
        Self {
            stdin,
            stdin_read: false,
        }
    }

    /// The whole content of `path` as text.
    pub(crate) fn read(&mut self, path: &Path) -> io::Result<String> {
        if !is_stdin(path) {
            return std::fs::read_to_string(path);
        }
        if self.stdin_read {
            return Err(io::Error::other(
                "standard input was already read for an earlier `-`",
            ));
        }
        self.stdin_read = true;
        let mut text = String::new();
        self.stdin.read_to_string(&mut text)?;
        Ok(text)
    }
}
