//! Runs the real skyctl binary, so that a test reads as a specification: given these
//! arguments and this input, expect this output and this exit code.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub struct Skyctl {
    command: Command,
    stdin: Vec<u8>,
}

/// Starts describing a skyctl invocation.
pub fn skyctl() -> Skyctl {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skyctl"));
    // Tests must not see the developer's cluster or settings.
    command.env_remove("KUBECONFIG").env("NO_COLOR", "1");
    Skyctl {
        command,
        stdin: Vec::new(),
    }
}

impl Skyctl {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn arg_path(mut self, path: &Path) -> Self {
        self.command.arg(path);
        self
    }

    pub fn kubeconfig(self, path: &Path) -> Self {
        self.args([Path::new("--kubeconfig"), path])
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = input.into();
        self
    }

    /// Starts skyctl without waiting for it, its output discarded: for tests that kill it.
    pub fn spawn(mut self) -> std::process::Child {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the skyctl binary runs")
    }

    pub fn run(mut self) -> Outcome {
        let mut child = self
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the skyctl binary runs");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(&self.stdin)
            .expect("skyctl reads its stdin");
        let output = child.wait_with_output().expect("skyctl finishes");
        Outcome {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// What one skyctl run did.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(self.code, Some(expected), "exit code of {self:#?}");
        self
    }

    pub fn success(self) -> Self {
        self.code(0)
    }

    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}: {self:#?}"
        );
        self
    }

    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {self:#?}"
        );
        self
    }
}
