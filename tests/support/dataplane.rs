//! The real SkyPilot API server and a real nginx in front of it, and for single sign-on the real
//! oauth2-proxy and an OIDC issuer, as `tests/dataplane/dataplane.py` runs them. Everything
//! stops when the value is dropped.

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

    /// [`Dataplane::start_pod`] where each `(service, url)`: the Service `name:port` the pod
    /// reaches by cluster DNS is at `url` here.
    pub fn start_pod_reaching(namespace: &str, pod: &str, services: &[(&str, &str)]) -> Self {
        let services = service_args(services);
        let mut after = vec![namespace, pod];
        after.extend(services.iter().map(String::as_str));
        Self::launch(&["pod"], &after)
    }

    /// [`Dataplane::start_pod`], listening where the pod does (its IP and container port) in
    /// the network namespace of `traefik`, which reaches it through the release's Service.
    pub fn start_pod_behind(traefik: &Traefik, namespace: &str, pod: &str) -> Self {
        Self::start_pod_behind_reaching(traefik, namespace, pod, &[])
    }

    /// [`Dataplane::start_pod_behind`], reaching each service (`name:port`) at its loopback URL,
    /// as [`Dataplane::start_pod_reaching`] does.
    pub fn start_pod_behind_reaching(
        traefik: &Traefik,
        namespace: &str,
        pod: &str,
        services: &[(&str, &str)],
    ) -> Self {
        let traefik_state = traefik.state.path().display().to_string();
        let services = service_args(services);
        let mut after = vec![traefik_state.as_str(), namespace, pod];
        after.extend(services.iter().map(String::as_str));
        Self::launch(&["podip"], &after)
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
        let stop = || down(state.path());
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

    /// Starts nginx on 127.0.0.1:`port` once the release's Ingress exists, serving it as
    /// ingress-nginx does: basic auth when its annotations ask for it, reloading the htpasswd
    /// whenever the Secret changes, until the dataplane stops. Returns at once; the process
    /// finishes when nginx listens.
    pub fn serve_node_port(&self, port: u16, namespace: &str, ingress: &str) -> Child {
        Command::new("python3")
            .arg(script())
            .arg("nginx")
            .arg(self.state.path())
            .args([
                port.to_string(),
                namespace.to_owned(),
                ingress.to_owned(),
                self.skypilot_url.clone(),
            ])
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs")
    }

    /// Stops what [`Dataplane::serve_node_port`] started, as the release's ingress-nginx
    /// controller stops serving when it is deleted.
    pub fn stop_node_port(&self) {
        let status = Command::new("python3")
            .arg(script())
            .arg("stop")
            .arg(self.state.path())
            .args(["nginx-watch", "nginx"])
            .status()
            .expect("python3 runs");
        assert!(status.success(), "nginx did not stop");
    }

    /// An admin's auth proxy in front of `upstream` (basic auth with `user`'s `password`, then
    /// the user's name, `user@example.com`, in `header`), and the real client logging in
    /// through it as the user the proxy names.
    pub fn logs_in_through_auth_proxy(
        &self,
        header: &str,
        upstream: &str,
        user: &str,
        password: &str,
    ) {
        let port = super::cluster::free_node_port();
        let htpasswd = self.state.path().join("authproxy.htpasswd");
        std::fs::write(
            &htpasswd,
            skyctl::guide::basic_auth::htpasswd_line(user, password).unwrap(),
        )
        .unwrap();
        let status = Command::new("python3")
            .arg(script())
            .arg("authproxy")
            .arg(self.state.path())
            .arg(port.to_string())
            .arg(&htpasswd)
            .args([header, upstream])
            .stderr(Stdio::inherit())
            .status()
            .expect("python3 runs");
        assert!(status.success(), "the auth proxy did not start");
        let home = tempfile::tempdir().unwrap();
        match self.sky_login(
            home.path(),
            &format!("http://127.0.0.1:{port}"),
            user,
            password,
        ) {
            Ok(info) => assert!(info.contains(&format!("{user}@example.com")), "{info}"),
            Err(refused) => panic!("sky api login through the auth proxy to {upstream}: {refused}"),
        }
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

/// The OIDC issuer and oauth2-proxy of single sign-on; they stop when the value is dropped.
pub struct SingleSignOn {
    state: tempfile::TempDir,
    pub issuer_url: String,
}

impl SingleSignOn {
    /// The issuer, for one user (`email`) who is always signed in, and a client with this id and
    /// secret.
    pub fn start_issuer(client_id: &str, client_secret: &str, email: &str) -> Self {
        let state = tempfile::tempdir().expect("a temporary directory");
        let secret_file = state.path().join("client-secret");
        std::fs::write(&secret_file, client_secret).unwrap();
        let mut sso = Self {
            issuer_url: String::new(),
            state,
        };
        sso.issuer_url = sso.run(&[
            "issuer",
            client_id,
            &secret_file.display().to_string(),
            email,
        ]);
        sso
    }

    /// oauth2-proxy as the release's pod `namespace/pod` runs it; returns its URL.
    pub fn start_oauth2_proxy(&self, namespace: &str, pod: &str) -> String {
        self.run(&["oauth2proxy", namespace, pod])
    }

    fn run(&self, command: &[&str]) -> String {
        let output = Command::new("python3")
            .arg(script())
            .arg(command[0])
            .arg(self.state.path())
            .args(&command[1..])
            .stderr(Stdio::inherit())
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "dataplane.py {} failed; the lines above say why",
            command[0]
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

/// A request to the API at `endpoint` that never signed in is sent to the single sign-on's
/// start, not served.
pub async fn sent_to_sign_in(endpoint: &str) {
    skyctl::crypto_provider::install();
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{endpoint}/api/v1/users"))
        .send()
        .await
        .unwrap();
    let location = anonymous
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        anonymous.status().is_redirection() && location.contains("/oauth2/start"),
        "a request that never signed in got {} (location {location:?})",
        anonymous.status()
    );
}

/// The `SERVICE=URL` arguments of `dataplane.py pod` and `podip`.
fn service_args(services: &[(&str, &str)]) -> Vec<String> {
    services
        .iter()
        .map(|(service, url)| format!("{service}={url}"))
        .collect()
}

/// Traefik, the cluster's own Gateway API and Ingress controller, as `dataplane.py traefik`
/// runs it (in a network namespace of its own, with the pods it reaches); stopped, and the
/// namespace deleted, when dropped.
pub struct Traefik {
    state: tempfile::TempDir,
    /// The port of its entry point on 127.0.0.1, which a Gateway listener of the same port
    /// uses.
    pub port: u16,
}

impl Traefik {
    /// Starts Traefik (building it on first use) for the objects of `namespaces`. Fails the
    /// test, with the reason, if it cannot.
    pub fn start(namespaces: &[&str]) -> Self {
        let state = tempfile::tempdir().expect("a temporary directory");
        let port = super::cluster::free_node_port();
        let status = Command::new("python3")
            .arg(script())
            .arg("traefik")
            .arg(state.path())
            .arg(port.to_string())
            .args(namespaces)
            .stderr(Stdio::inherit())
            .status()
            .expect("python3 runs");
        let traefik = Self { state, port };
        assert!(
            status.success(),
            "Traefik did not start; the lines above say why"
        );
        traefik
    }
}

impl Drop for Traefik {
    fn drop(&mut self) {
        down(self.state.path());
    }
}

impl Drop for SingleSignOn {
    fn drop(&mut self) {
        down(self.state.path());
    }
}

impl Dataplane {
    /// A user logging in through single sign-on with the real client: `sky api login
    /// --no-browser` prints the URL to open, the browser stand-in (`browser.py`) signs in there
    /// and presses Authorize, and the client picks the token up. Then `sky api info`.
    pub fn sky_login_in_browser(&self, home: &Path, endpoint: &str) -> SkySession {
        use std::io::{BufRead, BufReader};
        let mut login = self
            .sky_client(home)
            .args(["api", "login", "-e", endpoint, "--no-browser"])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sky runs");
        let mut stdout = BufReader::new(login.stdout.take().unwrap()).lines();
        let mut printed = String::new();
        let mut url = None;
        for line in stdout.by_ref().map_while(Result::ok) {
            printed.push_str(&line);
            printed.push('\n');
            if let Some(at) = line.find("http") {
                let candidate = line[at..].trim();
                if candidate.contains("/auth/authorize?code_challenge=") {
                    url = Some(candidate.to_owned());
                    break;
                }
            }
        }
        let Some(url) = url else {
            let _ = login.kill();
            let _ = login.wait();
            return Err(format!("sky api login printed no URL to open:\n{printed}"));
        };
        let browser = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dataplane/browser.py"))
            .arg(&url)
            .output()
            .expect("python3 runs");
        if !browser.status.success() {
            let _ = login.kill();
            return Err(format!(
                "the browser could not sign in: {}",
                transcript(&browser)
            ));
        }
        for line in stdout.map_while(Result::ok) {
            printed.push_str(&line);
            printed.push('\n');
        }
        let finished = login.wait_with_output().expect("sky runs");
        if !finished.status.success() {
            return Err(format!("{printed}{}", transcript(&finished)));
        }
        self.sky_info(home)
            .map(|info| format!("{}{info}", String::from_utf8_lossy(&browser.stdout)))
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
        down(self.state.path());
    }
}

/// Stops everything the harness started with this state directory.
fn down(state: &Path) {
    let _ = Command::new("python3")
        .arg(script())
        .arg("down")
        .arg(state)
        .status();
}
