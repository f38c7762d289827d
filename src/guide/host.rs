//! What the guide may read from the machine it runs on.
//!
//! Every credential reader takes a [`Host`] instead of touching `std::env` or the file system,
//! so tests describe a whole machine in a few lines and never see the developer's real keys.

use std::io;
use std::path::{Path, PathBuf};

/// The environment, home directory and files of the machine skyctl runs on.
#[derive(Clone)]
pub struct Host<'a> {
    /// Looks up an environment variable; `None` when it is unset.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The user's home directory, when known.
    pub home: Option<PathBuf>,
    /// Reads a whole file.
    pub read_file: &'a dyn Fn(&Path) -> io::Result<Vec<u8>>,
}

/// What went wrong reading a file, as the shell and the AWS CLI say it ("No such file or
/// directory"), not as Rust names the error kind ("entity not found").
pub fn unreadable_because(kind: io::ErrorKind) -> String {
    match kind {
        io::ErrorKind::NotFound => "No such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "Permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "Is a directory".to_owned(),
        io::ErrorKind::NotADirectory => "Not a directory".to_owned(),
        other => other.to_string(),
    }
}

impl Host<'static> {
    /// The real machine: the process environment, `$HOME` and the file system.
    pub fn system() -> Self {
        Host {
            env: &system_env,
            home: std::env::home_dir(),
            read_file: &system_read_file,
        }
    }
}

impl Host<'_> {
    /// An environment variable, treating an empty value as unset, as the AWS CLI and kubectl do.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|value| !value.is_empty())
    }
}

// A variable that is not valid Unicode cannot hold a usable key or path, so it counts as unset.
fn system_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn system_read_file(path: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_host_reads_real_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"bytes").expect("write");
        let host = Host::system();
        assert_eq!((host.read_file)(&path).expect("read"), b"bytes");
        assert!((host.read_file)(&dir.path().join("absent")).is_err());
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let env = |name: &str| match name {
            "EMPTY" => Some(String::new()),
            "SET" => Some("v".to_owned()),
            _ => None,
        };
        let read = |_: &Path| Err(io::Error::from(io::ErrorKind::NotFound));
        let host = Host {
            env: &env,
            home: None,
            read_file: &read,
        };
        assert_eq!(host.var("EMPTY"), None);
        assert_eq!(host.var("UNSET"), None);
        assert_eq!(host.var("SET").as_deref(), Some("v"));
    }
}
