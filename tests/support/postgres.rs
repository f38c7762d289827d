//! A real PostgreSQL on loopback, as `tests/dataplane/postgres.py` runs it: a fresh cluster in
//! a temporary directory, stopped (and thrown away) when the value is dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Postgres {
    state: tempfile::TempDir,
    connection_string_file: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dataplane/postgres.py")
}

impl Postgres {
    /// Starts a server with an empty database. Fails the test, with the reason, if it cannot.
    pub fn start() -> Self {
        let state = tempfile::tempdir().expect("a temporary directory");
        let mut up = Command::new("python3");
        up.arg(script()).arg("up").arg(state.path());
        let up = up.output().expect("python3 runs");
        if !up.status.success() {
            // Whatever started is stopped before the failure is reported.
            Self::stop(state.path());
            panic!(
                "PostgreSQL did not start ({}): {}",
                up.status,
                String::from_utf8_lossy(&up.stderr)
            );
        }
        let connection_string_file = PathBuf::from(String::from_utf8_lossy(&up.stdout).trim());
        Self {
            state,
            connection_string_file,
        }
    }

    /// `postgresql://skypilot:<password>@127.0.0.1:<port>/skypilot`, as an admin pastes it.
    pub fn connection_string(&self) -> String {
        std::fs::read_to_string(&self.connection_string_file).expect("the harness wrote it")
    }

    /// The database password, to search every output for.
    pub fn password(&self) -> String {
        std::fs::read_to_string(self.state.path().join("password")).expect("the harness wrote it")
    }

    /// The rows `statement` returns, one a line, columns separated by `|`.
    pub fn sql(&self, statement: &str) -> Vec<String> {
        let output = Command::new("python3")
            .arg(script())
            .arg("sql")
            .arg(self.state.path())
            .arg(statement)
            .stderr(Stdio::inherit())
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "psql failed on {statement:?}; the lines above say why"
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .filter(|line| !line.is_empty())
            .collect()
    }

    fn stop(state: &Path) {
        let _ = Command::new("python3")
            .arg(script())
            .arg("down")
            .arg(state)
            .stderr(Stdio::inherit())
            .status();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        Self::stop(self.state.path());
    }
}
