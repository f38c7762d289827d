//! The real SkyPilot API server and a real nginx in front of it, as `tests/dataplane/dataplane.py`
//! runs them. Both stop when the value is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Dataplane {
    state: tempfile::TempDir,
    /// The SkyPilot API server's own URL on loopback.
    pub skypilot_url: String,
    /// The `sky` client of the same installation.
    sky: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dataplane/dataplane.py")
}

impl Dataplane {
    /// Starts the SkyPilot API server (installing it on first use). Fails the test, with the
    /// reason, if it cannot.
    pub fn start() -> Self {
        Self::launch(&["skypilot"], &[])
    }

    /// Starts the SkyPilot API server as the pod `namespace/pod` of a release would run it: the
    /// environment the kubelet would give its container (Secrets and fields resolved from the
    /// cluster), and the `sky api start` arguments of the chart's start script. Each has a HOME
    /// and a port of its own.
    pub fn start_pod(namespace: &str, pod: &str) -> Self {
        Self::launch(&["pod"], &[namespace, pod])
    }

    fn launch(variant: &[&str], after_state: &[&str]) -> Self {
        let state = tempfile::tempdir().expect("a temporary directory");
        let output = Command::new("python3")
            .arg(script())
            .args(variant)
            .arg(state.path())
            .args(after_state)
            .stderr(Stdio::inherit())
            .output()
            .expect("python3 runs");
        // Dropping `state` on failure would stop nothing; stop what may have started.
        let stop = || {
            let _ = Command::new("python3")
                .arg(script())
                .arg("down")
                .arg(state.path())
                .status();
        };
        if !output.status.success() {
            stop();
            panic!("the SkyPilot API server did not start; the lines above say why");
        }
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut lines = stdout.lines();
        let skypilot_url = lines.next().expect("the server URL").to_owned();
        let sky = PathBuf::from(lines.next().expect("the client path"));
        Self {
            state,
            skypilot_url,
            sky,
        }
    }

    /// For a server started with [`Dataplane::start_pod`]: the environment and `sky api start`
    /// arguments it was given, as `{"env": {NAME: value}, "args": [...]}`.
    pub fn pod_environment(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.state.path().join("environment.json"))
            .expect("a server started as a pod has its environment written down");
        serde_json::from_str(&text).expect("the harness writes JSON")
    }

    /// How often the server was started again because it exited before it was healthy, as the
    /// kubelet restarts a pod's container (only [`Dataplane::start_pod`] does).
    pub fn restarts(&self) -> u32 {
        std::fs::read_to_string(self.state.path().join("restarts"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Starts nginx on 127.0.0.1:`port` once the release's basic-auth Secret exists; returns at
    /// once, the process finishes when nginx listens. Like ingress-nginx, it reloads the
    /// htpasswd whenever the Secret changes, until the dataplane stops.
    pub fn serve_node_port(&self, port: u16, namespace: &str, secret: &str) -> Child {
        Command::new("python3")
            .arg(script())
            .arg("nginx")
            .arg(self.state.path())
            .args([
                port.to_string(),
                namespace.to_owned(),
                secret.to_owned(),
                self.skypilot_url.clone(),
            ])
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs")
    }

    /// The `sky` client, with its own HOME.
    pub fn sky_client(&self, home: &Path) -> Command {
        let mut command = Command::new(&self.sky);
        command
            .env("HOME", home)
            .env("SKYPILOT_DISABLE_USAGE_COLLECTION", "1")
            .stdin(Stdio::null());
        command
    }
}

/// What a `sky` client run printed, and whether it reached a healthy server.
pub type SkySession = Result<String, String>;

impl Dataplane {
    /// A user logging in as `username` with `password` through the ingress at `endpoint`, with
    /// the real client and a HOME of their own, then asking the server about itself.
    pub fn sky_login(
        &self,
        home: &Path,
        endpoint: &str,
        username: &str,
        password: &str,
    ) -> SkySession {
        let credentials = skyctl::guide::health::Credentials {
            username: username.to_owned(),
            password: password.to_owned().into(),
        };
        let url = skyctl::guide::health::url_with_credentials(endpoint, &credentials);
        let login = self
            .sky_client(home)
            .args(["api", "login", "-e", &url])
            .output()
            .expect("sky runs");
        if !login.status.success() {
            return Err(transcript(&login));
        }
        self.sky_info(home)
    }

    /// `sky api info` with the login stored in `home`.
    pub fn sky_info(&self, home: &Path) -> SkySession {
        let info = self
            .sky_client(home)
            .args(["api", "info"])
            .output()
            .expect("sky runs");
        let text = transcript(&info);
        // An endpoint it cannot pass still exits 0, saying "Could not connect".
        if info.status.success() && text.contains("ApiServerStatus.HEALTHY") {
            Ok(text)
        } else {
            Err(text)
        }
    }
}

fn transcript(output: &std::process::Output) -> String {
    format!(
        "({}) {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

impl Drop for Dataplane {
    fn drop(&mut self) {
        let _ = Command::new("python3")
            .arg(script())
            .arg("down")
            .arg(self.state.path())
            .status();
    }
}
