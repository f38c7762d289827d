//! Runs the real skyctl binary, so that a test reads as a specification: given these
//! arguments and this input, expect this output and this exit code.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use skyctl::interrupt_point::{self, Point};

pub struct Skyctl {
    command: Command,
    stdin: Vec<u8>,
    pin_chart: bool,
}

/// The chart version that the tests written before skyctl knew versions render: they pin it,
/// so that a new release of theirs gets the seed-era chart rather than the newest.
pub const SEED_ERA: &str = "1.0.0-dev.20250319";

/// Starts describing a skyctl invocation.
pub fn skyctl() -> Skyctl {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skyctl"));
    // Tests must not see the developer's cluster or settings.
    command.env_remove("KUBECONFIG").env("NO_COLOR", "1");
    Skyctl {
        command,
        stdin: Vec::new(),
        pin_chart: true,
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

    /// Stops skyctl as `kill -9` would at the `nth` arrival at `point` (from 1), rather than
    /// after a delay that a slow or fast machine moves to another step.
    pub fn interrupted_at(self, point: Point, nth: usize) -> Self {
        let at = format!("{}#{nth}", point.name());
        self.env(interrupt_point::VARIABLE, &at)
    }

    /// Leaves `--version` to the test: without it, a new release gets skyctl's default chart.
    pub fn default_chart(mut self) -> Self {
        self.pin_chart = false;
        self
    }

    /// A command that starts a new release without `--version` renders the seed-era chart,
    /// unless [`Skyctl::default_chart`] said otherwise.
    fn pinned(mut self) -> Command {
        let args: Vec<String> = self
            .command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        let has = |flag: &str| args.iter().any(|arg| arg == flag);
        // The verb is the first word that is neither a flag nor the value of a global flag.
        let mut words = args.iter().map(String::as_str);
        let mut verb = None;
        while let Some(word) = words.next() {
            match word {
                "--kubeconfig" | "--context" | "-n" | "--namespace" => {
                    words.next();
                }
                flag if flag.starts_with('-') => {}
                word => {
                    verb = Some(word);
                    break;
                }
            }
        }
        let starts_release = match verb {
            Some("install" | "template") => true,
            Some("upgrade") => has("--install") || has("-i"),
            _ => false,
        };
        if self.pin_chart && starts_release && !has("--version") {
            self.command.args(["--version", SEED_ERA]);
        }
        self.command
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = input.into();
        self
    }

    /// Starts skyctl without waiting for it, its output discarded: for tests that kill it.
    pub fn spawn(self) -> std::process::Child {
        self.pinned()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the skyctl binary runs")
    }

    /// Holds skyctl at `point` until `gate` exists; it writes `gate` + `.paused` once there.
    pub fn paused_at(self, point: Point, gate: &Path) -> Self {
        let mut with = self.env(interrupt_point::PAUSE_VARIABLE, point.name());
        with.command.env(interrupt_point::PAUSE_FILE, gate);
        with
    }

    /// Starts skyctl without waiting for it, its output kept for [`Outcome::from`].
    pub fn start(self) -> std::process::Child {
        self.pinned()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the skyctl binary runs")
    }

    pub fn run(self) -> Outcome {
        let stdin = self.stdin.clone();
        let mut child = self
            .pinned()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the skyctl binary runs");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(&stdin)
            .expect("skyctl reads its stdin");
        Outcome::from(child.wait_with_output().expect("skyctl finishes"))
    }
}

/// What one skyctl run did.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    /// The signal that ended skyctl, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Outcome {
    fn from(output: std::process::Output) -> Self {
        Outcome {
            code: output.status.code(),
            signal: std::os::unix::process::ExitStatusExt::signal(&output.status),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Outcome {
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(self.code, Some(expected), "exit code of {self:#?}");
        self
    }

    /// skyctl was stopped by SIGKILL at the point [`Skyctl::interrupted_at`] named: it got there.
    pub fn interrupted(self) -> Self {
        assert_eq!(
            self.signal,
            Some(libc::SIGKILL),
            "skyctl was to be stopped at a named point and was not: {self:#?}"
        );
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

    pub fn stdout_lacks(self, needle: &str) -> Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout has {needle:?}: {self:#?}"
        );
        self
    }

    pub fn stderr_lacks(self, needle: &str) -> Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr has {needle:?}: {self:#?}"
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

/// Everything skyctl printed in a test, to search for leaked secrets at the end.
#[derive(Default)]
pub struct Transcript(pub String);

impl Transcript {
    pub fn keep(&mut self, outcome: Outcome) -> Outcome {
        self.0.push_str(&outcome.stdout);
        self.0.push_str(&outcome.stderr);
        outcome
    }
}

/// Runs `command_line` on a pseudo-terminal (`script`), typing each answer after `pause`, with
/// `env` set and `unset` removed; whether it succeeded, and the screen.
pub fn on_a_terminal(
    command_line: &str,
    env: &[(&str, &std::ffi::OsStr)],
    unset: &[&str],
    answers: &[&str],
    pause: std::time::Duration,
) -> (bool, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut command = Command::new("script");
    command.args(["-qec", command_line, "/dev/null"]);
    for (key, value) in env {
        command.env(key, value);
    }
    for key in unset {
        command.env_remove(key);
    }
    let mut terminal = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs");
    let mut keys = terminal.stdin.take().unwrap();
    for line in answers {
        std::thread::sleep(pause);
        keys.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    drop(keys);
    let output = terminal.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}
