//! skyctl's front doors beyond ingress-nginx, end to end on the real control plane: Gateway
//! API's standard CRDs, Traefik as the Gateway and ingress controller (a real implementation,
//! run as a local process against the test API server), and the real SkyPilot API server
//! listening where its pod does, so that Traefik reaches it through the release's Service and
//! its EndpointSlices. Traefik and the server share a network namespace of their own, where
//! the pods' addresses are local; users reach Traefik's entry points on loopback. The real
//! `sky` client logs in through the door.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use k8s_openapi::api::networking::v1::IngressClass;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};
use support::cluster::{self, TestNamespace};
use support::dataplane::{Dataplane, SingleSignOn, Traefik};
use support::gateway;
use support::preflight::blocks_before_writing;
use support::release::{AUTH, Chart, Fixture, SMALL_PODS, pod_of, pod_selected};
use support::skyctl::Outcome;

const PASSWORD: &str = "gateway door admin password 3K";

/// The API server's own users, the first of them `admin` with [`PASSWORD`] from stdin.
const USERS: &[&str] = &[
    "--auth",
    "users",
    "--web-username",
    "admin",
    "--web-password-stdin",
];

/// A release installed by `skyctl install` with `flags` and the admin's password on stdin, its
/// API server started where its pod listens once the pod exists.
struct Installed {
    /// Uninstalled when the test ends, however it ends.
    f: Fixture,
    dataplane: Dataplane,
    outcome: Outcome,
    summary: Value,
}

async fn install(f: Fixture, traefik: &Traefik, flags: &[&str]) -> Installed {
    install_serving(f, traefik, flags, None).await
}

/// [`install`], the release's own ingress-nginx door served on 127.0.0.1:`node_port`, when
/// given, by nginx doing what ingress-nginx does.
async fn install_serving(
    f: Fixture,
    traefik: &Traefik,
    flags: &[&str],
    node_port: Option<u16>,
) -> Installed {
    let ns = &f.ns;
    let mut install = vec!["install", &ns.name, "-n", &ns.name, "--version", "0.13.0"];
    install.extend(["--set", SMALL_PODS, "--timeout", "240s", "-o", "json"]);
    install.extend(flags);
    let mut install = spawn_with_password(&install);
    let pod = pod_of(ns, &format!("{}-api", ns.name), &mut install).await;
    let dataplane = Dataplane::start_pod_behind(traefik, &ns.name, &pod);
    if let Some(port) = node_port {
        let nginx = dataplane.serve_node_port(port, &ns.name, &format!("{}-ingress", ns.name));
        assert!(
            nginx.wait_with_output().unwrap().status.success(),
            "nginx serves the node port"
        );
    }
    let outcome = Outcome::from(install.wait_with_output().unwrap()).success();
    let summary: Value = serde_json::from_str(&outcome.stdout).expect("-o json prints the summary");
    Installed {
        f,
        dataplane,
        outcome,
        summary,
    }
}

impl Installed {
    /// Installed healthy behind `endpoint` of `kind` with the API server's own users; users log
    /// in and open websockets through it; nothing of ingress-nginx; no password printed.
    async fn serves_through(&self, endpoint: &str, kind: &str) {
        let summary = &self.summary;
        assert_eq!(summary["endpoint"]["url"], endpoint, "{summary}");
        assert_eq!(summary["endpoint"]["kind"], kind);
        assert_eq!(summary["health"]["status"], "healthy");
        assert_eq!(summary["loginMode"], "users");
        self.logs_in_through(endpoint);
        self.websocket_upgrades_through(endpoint);
        self.has_no_ingress_nginx().await;
        self.secrets_never_shown();
    }

    /// The admin logs in through `endpoint` with the real client, and a wrong password is
    /// refused by the API server itself.
    fn logs_in_through(&self, endpoint: &str) {
        let home = tempfile::tempdir().unwrap();
        match self
            .dataplane
            .sky_login(home.path(), endpoint, "admin", PASSWORD)
        {
            Ok(info) => assert!(info.contains("admin"), "{info}"),
            Err(refused) => panic!("sky api login through {endpoint}: {refused}"),
        }
        let other = tempfile::tempdir().unwrap();
        assert!(
            self.dataplane
                .sky_login(other.path(), endpoint, "admin", "not the password")
                .is_err(),
            "a wrong password got in through {endpoint}"
        );
    }

    /// A websocket upgrade through `endpoint` reaches the API server, as SkyPilot's SSH
    /// tunnels to Kubernetes pods need: the handshake is answered 101 with the accept key of
    /// RFC 6455's example, and the server's first frame comes back over the upgraded
    /// connection (it refuses the cluster, which does not exist, in a frame of its own).
    fn websocket_upgrades_through(&self, endpoint: &str) {
        use base64::Engine;
        use std::io::Read;
        let address = endpoint.trim_start_matches("http://");
        let port = if address.contains(':') { "" } else { ":80" };
        let mut stream = std::net::TcpStream::connect(format!("{address}{port}")).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .unwrap();
        let login = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"));
        write!(
            stream,
            "GET /kubernetes-pod-ssh-proxy?cluster_name=none HTTP/1.1\r\nHost: {address}\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Basic {login}\r\n\r\n"
        )
        .unwrap();
        let mut answer = Vec::new();
        let mut byte = [0u8; 1];
        while !answer.ends_with(b"\r\n\r\n") {
            stream
                .read_exact(&mut byte)
                .expect("the handshake's answer");
            answer.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&answer).to_lowercase();
        assert!(
            head.starts_with("http/1.1 101"),
            "through {endpoint}: {head}"
        );
        assert!(
            head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
            "{head}"
        );
        stream
            .read_exact(&mut byte)
            .expect("a frame from the server");
        let opcode = byte[0] & 0x0f;
        assert!(
            matches!(opcode, 0x1 | 0x2 | 0x8),
            "through {endpoint}: not a websocket frame: {byte:?}"
        );
    }

    /// Nothing of ingress-nginx: no IngressClass of the release's, no object of any kind it
    /// would make labelled as the release's ingress-nginx, in any namespace or cluster-wide.
    async fn has_no_ingress_nginx(&self) {
        let classes: Api<IngressClass> = Api::all(self.f.ns.client.clone());
        for class in classes.list(&ListParams::default()).await.unwrap() {
            let annotations = class.metadata.annotations.unwrap_or_default();
            assert_ne!(
                annotations.get("skyctl.io/release-name"),
                Some(&self.f.ns.name),
                "IngressClass {:?}",
                class.metadata.name
            );
        }
        let selector = format!(
            "app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/instance={}",
            self.f.ns.name
        );
        let listed = cluster::kubectl([
            "get",
            "all,configmaps,secrets,serviceaccounts,roles,rolebindings,clusterroles,\
             clusterrolebindings,validatingwebhookconfigurations,ingressclasses",
            "-A",
            "-l",
            &selector,
            "-o",
            "name",
        ]);
        assert!(listed.status.success(), "{listed:?}");
        let names = String::from_utf8_lossy(&listed.stdout);
        assert!(names.trim().is_empty(), "ingress-nginx objects: {names}");
    }

    fn secrets_never_shown(&self) {
        for text in [&self.outcome.stdout, &self.outcome.stderr] {
            assert!(
                !text.contains(PASSWORD),
                "the password was printed:\n{text}"
            );
        }
    }
}

/// Traefik for `f`'s namespace, with Gateway API installed, Gateway `public` (listener `web`
/// on Traefik's port) programmed, and IngressClass `traefik`: both doors ready for a release.
async fn traefik_for(f: &Fixture) -> Traefik {
    let ns = &f.ns;
    gateway::install(&ns.client).await;
    gateway::ingress_class(&ns.client).await;
    let traefik = Traefik::start(&[&ns.name]);
    gateway::gateway(
        &ns.client,
        &ns.name,
        "public",
        json!([{"name": "web", "port": traefik.port, "protocol": "HTTP"}]),
    )
    .await;
    gateway::programmed(&ns.client, &ns.name, "public").await;
    traefik
}

#[tokio::test]
async fn behind_a_gateway_users_log_in_with_the_api_servers_own_users() {
    // One Traefik at a time takes 127.0.0.2:80.
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let traefik = traefik_for(&f).await;

    let installed = install(
        f,
        &traefik,
        &[&["--gateway", "public:web"][..], USERS].concat(),
    )
    .await;
    let endpoint = format!("http://127.0.0.1:{}", traefik.port);
    installed.serves_through(&endpoint, "gateway").await;
    let login = installed.summary["login"].as_str().unwrap_or_default();
    assert!(
        login.starts_with("sky api login -e http://")
            && login.ends_with(&format!("127.0.0.1:{}", traefik.port)),
        "{login}"
    );
    let release = &installed.f.ns.name;
    // The route asks for no limit on SkyPilot's long requests, and Gateway API's CRD keeps it
    // as written (server-side apply would refuse a field the CRD does not have).
    let route = cluster::kubectl([
        "get",
        "httproute",
        &format!("{release}-api-route"),
        "-n",
        release,
        "-o",
        "jsonpath={.spec.rules[0].timeouts}",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&route.stdout),
        r#"{"request":"0s"}"#
    );
    // After the install, doctor reports what the Gateway said of the route.
    let doctor = support::skyctl::skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["doctor", release, "-n", release])
        .run()
        .success();
    assert!(
        doctor.stdout.contains(&format!(
            "HTTPRoute {release}-api-route accepted, its backend resolved"
        )),
        "{doctor:#?}"
    );
}

#[tokio::test]
async fn behind_the_clusters_own_ingress_controller_users_log_in_with_the_api_servers_own_users() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let traefik = traefik_for(&f).await;

    let installed = install(
        f,
        &traefik,
        &[&["--ingress-class", "traefik"][..], USERS].concat(),
    )
    .await;
    installed
        .serves_through("http://127.0.0.2", "ingress")
        .await;
}

#[tokio::test]
async fn behind_a_gateway_an_auth_proxy_in_front_tells_the_server_who_the_user_is() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let traefik = traefik_for(&f).await;
    let header = "X-Auth-Request-Email";
    let installed = install(
        f,
        &traefik,
        &[
            "--gateway",
            "public:web",
            "--auth",
            "proxy",
            "--proxy-header",
            header,
        ],
    )
    .await;
    let gateway = format!("http://127.0.0.1:{}", traefik.port);
    assert_eq!(installed.summary["loginMode"], "proxy");
    assert_eq!(
        installed.summary["endpoint"]["url"], gateway,
        "{}",
        installed.summary
    );
    // The admin's proxy in front of the Gateway: basic auth of its own, then the user's name in
    // the header, which the Gateway passes on to the API server.
    installed
        .dataplane
        .logs_in_through_auth_proxy(header, &gateway, "bob", PASSWORD);
    installed.has_no_ingress_nginx().await;
}

#[tokio::test]
async fn behind_a_gateway_users_sign_in_with_the_api_servers_own_single_sign_on() {
    let _serial = cluster::exclusive().await;
    // The client secret comes on stdin as the password does elsewhere here.
    let sso = SingleSignOn::start_issuer("skypilot-gateway-client", PASSWORD, "alice@example.com");
    let f = Fixture::with_chart(Chart::Current).await;
    let traefik = traefik_for(&f).await;
    let ns = &f.ns;
    let release = ns.name.clone();
    let issuer = sso.issuer_url.clone();
    let mut install = spawn_with_password(&[
        "install",
        &release,
        "-n",
        &release,
        "--version",
        "0.13.0",
        "--set",
        SMALL_PODS,
        "--timeout",
        "240s",
        "-o",
        "json",
        "--gateway",
        "public:web",
        "--auth",
        "oauth",
        "--oauth-issuer-url",
        &issuer,
        "--oauth-client-id",
        "skypilot-gateway-client",
        "--oauth-client-secret-stdin",
        "--set",
        "auth.oauth.session-store-type=cookie",
    ]);
    // oauth2-proxy is a Service the API server calls, not a door's annotation: the server in
    // the Gateway's network namespace reaches it there.
    let proxy_pod = pod_of(ns, &format!("{release}-oauth2-proxy"), &mut install).await;
    let proxy = sso.start_oauth2_proxy(&release, &proxy_pod);
    let api_pod = pod_of(ns, &format!("{release}-api"), &mut install).await;
    let service = format!("{release}-oauth2-proxy:4180");
    let dataplane =
        Dataplane::start_pod_behind_reaching(&traefik, &release, &api_pod, &[(&service, &proxy)]);
    let outcome = Outcome::from(install.wait_with_output().unwrap()).success();
    let summary: Value = serde_json::from_str(&outcome.stdout).expect("-o json prints the summary");
    let gateway = format!("http://127.0.0.1:{}", traefik.port);
    assert_eq!(summary["loginMode"], "oauth", "{summary}");
    assert_eq!(summary["endpoint"]["url"], gateway, "{summary}");
    // The real client, the browser signing in at the issuer, all through the Gateway.
    let home = tempfile::tempdir().unwrap();
    match dataplane.sky_login_in_browser(home.path(), &gateway) {
        Ok(info) => assert!(info.contains("alice@example.com"), "{info}"),
        Err(refused) => {
            panic!("sky api login through single sign-on behind the Gateway: {refused}")
        }
    }
    // Without signing in, a request to the API through the Gateway is sent to the sign-in: the
    // server enforces the login, not the door.
    support::dataplane::sent_to_sign_in(&gateway).await;
    for text in [&outcome.stdout, &outcome.stderr] {
        assert!(
            !text.contains(PASSWORD),
            "the client secret was printed:\n{text}"
        );
    }
}

/// The values of a release behind Gateway `gateway`, with the API server's own users (their
/// first admin from a line in the values, so that no password is asked for).
fn behind(gateway: &str) -> Vec<String> {
    let admin = AUTH.replace(
        "ingress.authCredentials",
        "apiService.initialBasicAuthCredentials",
    );
    [
        "--gateway",
        gateway,
        "--set",
        "ingress.authCredentials=null,apiService.enableUserManagement=true",
        "--set",
        &admin,
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test]
async fn doctor_names_what_keeps_a_gateway_from_taking_the_route_before_any_write() {
    let f = Fixture::with_chart(Chart::Current).await;
    let infra = TestNamespace::create("infra").await;
    gateway::install(&f.ns.client).await;
    let at = format!("{}/public", infra.name);
    let args = behind(&at);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    blocks_before_writing(
        &f,
        &args,
        &[
            "✗ gateway",
            &format!("Gateway {at} does not exist"),
            "kubectl get gateways -A",
        ],
    );

    // A listener for its own namespace only, as a Gateway's listeners are by default.
    let web = |allowed: Value| json!([{"name": "web", "port": 8000, "protocol": "HTTP", "allowedRoutes": allowed}]);
    gateway::gateway(&f.ns.client, &infra.name, "public", web(json!({}))).await;
    blocks_before_writing(
        &f,
        &args,
        &[
            &format!(
                "no listener of Gateway {at} admits the route from namespace {}: web (it admits \
                 routes from the Gateway's own namespace only)",
                f.ns.name
            ),
            &format!("or install the release into namespace {}", infra.name),
        ],
    );

    // Namespaces chosen by a label the release's lacks.
    gateway::gateway(
        &f.ns.client,
        &infra.name,
        "public",
        web(json!({"namespaces": {"from": "Selector",
            "selector": {"matchLabels": {"gateway-access": "public"}}}})),
    )
    .await;
    blocks_before_writing(
        &f,
        &args,
        &[&format!(
            "kubectl label namespace {} gateway-access=public",
            f.ns.name
        )],
    );

    // Every namespace, but the host already routed by another team's HTTPRoute.
    gateway::gateway(
        &f.ns.client,
        &infra.name,
        "public",
        web(json!({"namespaces": {"from": "All"}})),
    )
    .await;
    gateway::http_route(&f.ns.client, &infra.name, "site", &at, "sky.example.com").await;
    let mut taken = args.clone();
    taken.extend(["--hostname", "sky.example.com"]);
    blocks_before_writing(
        &f,
        &taken,
        &[
            &format!(
                "HTTPRoute {}/site already routes sky.example.com/ on Gateway {at}",
                infra.name
            ),
            "--set ingress.path=/",
        ],
    );

    // A host of its own: nothing blocks; the Gateway, which no controller runs here, is
    // said not to be ready yet.
    let mut own = args.clone();
    own.extend(["--hostname", "pilot.example.com"]);
    let doctor = f.command("doctor", &own).run().success();
    assert!(doctor.stdout.contains("! gateway"), "{doctor:#?}");
    assert!(
        doctor
            .stdout
            .contains(&format!("Gateway {at} is not ready")),
        "{doctor:#?}"
    );
}

/// skyctl started with the password on stdin, as the admin runs it, against the test cluster.
fn spawn_with_password(args: &[&str]) -> std::process::Child {
    spawn_with_password_and(args, &[])
}

/// [`spawn_with_password`] with these environment variables: a named point to be killed or
/// held at (`skyctl::interrupt_point`).
fn spawn_with_password_and(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> std::process::Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skyctl"));
    command.envs(env.iter().copied());
    let mut command = command
        .args(args)
        .arg("--kubeconfig")
        .arg(cluster::kubeconfig())
        .env("NO_COLOR", "1")
        .env_remove("SKYCTL_WEB_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = command.stdin.take().unwrap();
    input.write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    drop(input);
    command
}

/// [`spawn_with_password`], run to its end.
fn run_with_password(args: &[&str]) -> Outcome {
    Outcome::from(spawn_with_password(args).wait_with_output().unwrap())
}

/// A move's output says the new door answered at `endpoint` before it says `pruned` (the first
/// prune it names, or the old door's).
fn answered_before_pruned(run: &Outcome, endpoint: &str, pruned: &str) {
    let answered = run
        .stderr
        .find(&format!("the new front door answers at {endpoint}"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    let pruned = run
        .stderr
        .find(pruned)
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(
        answered < pruned,
        "pruned before the new door answered:\n{}",
        run.stderr
    );
}

/// The door a release moves to from its own ingress-nginx: the flags, where users reach it,
/// and the object that is the door (kind, name suffix).
struct Door {
    flags: &'static [&'static str],
    endpoint: fn(&Traefik) -> String,
    object: (&'static str, &'static str),
}

/// A release of ingress-nginx with the API server's own users, its door served on a free node
/// port by nginx doing what ingress-nginx does, on a cluster with Traefik running: the release,
/// Traefik and the node port.
async fn ingress_nginx_release() -> (Traefik, Installed, u16) {
    let f = Fixture::with_chart(Chart::Current).await;
    let traefik = traefik_for(&f).await;
    let node_port = cluster::free_node_port();
    let nodes = format!(
        "ingress-nginx.controller.service.type=NodePort,\
         ingress-nginx.controller.service.nodePorts.http={node_port}"
    );
    let installed = install_serving(
        f,
        &traefik,
        &[USERS, &["--set", &nodes]].concat(),
        Some(node_port),
    )
    .await;
    (traefik, installed, node_port)
}

/// Whether the object `kind`/`name` exists in namespace `release`.
fn present(release: &str, kind: &str, name: &str) -> bool {
    cluster::kubectl(["get", kind, name, "-n", release, "-o", "name"])
        .status
        .success()
}

/// A running release of ingress-nginx moves to `door` (the new door applied, the health check
/// through it passed before the first prune, ingress-nginx pruned everywhere), users log in
/// through it, and a rollback brings ingress-nginx's door back and takes the new one away.
async fn moves_to_and_back(door: Door) {
    let _serial = cluster::exclusive().await;
    let (traefik, installed, node_port) = ingress_nginx_release().await;
    let nginx = format!("http://127.0.0.1:{node_port}");
    assert_eq!(
        installed.summary["endpoint"]["url"], nginx,
        "{}",
        installed.summary
    );
    let release = installed.f.ns.name.clone();

    let mut upgrade = vec!["upgrade", &release, "-n", &release, "--reuse-values"];
    upgrade.extend(door.flags);
    upgrade.extend([
        "--web-username",
        "admin",
        "--web-password-stdin",
        "--timeout",
        "240s",
        "-o",
        "json",
    ]);
    let moved = run_with_password(&upgrade).success();
    let endpoint = (door.endpoint)(&traefik);
    answered_before_pruned(&moved, &endpoint, " pruned\n");
    let summary: Value = serde_json::from_str(&moved.stdout).unwrap();
    assert_eq!(summary["endpoint"]["url"], endpoint, "{summary}");
    assert_eq!(summary["health"]["status"], "healthy");
    installed.logs_in_through(&endpoint);
    installed.has_no_ingress_nginx().await;
    // ingress-nginx is gone, and with it what it served on the node port.
    installed.dataplane.stop_node_port();

    // And back: the rollback restores ingress-nginx's door, which serves again once its
    // controller runs, and takes the new door away only once users reach the server through
    // ingress-nginx.
    let mut back =
        spawn_with_password(&["rollback", &release, "-n", &release, "--timeout", "240s"]);
    let controller =
        format!("app.kubernetes.io/component=controller,app.kubernetes.io/instance={release}");
    pod_selected(&installed.f.ns, &controller, &mut back).await;
    let serving =
        installed
            .dataplane
            .serve_node_port(node_port, &release, &format!("{release}-ingress"));
    assert!(
        serving.wait_with_output().unwrap().status.success(),
        "nginx serves the node port again"
    );
    let back = Outcome::from(back.wait_with_output().unwrap()).success();
    let (kind, suffix) = door.object;
    let new_door = format!("{release}-{suffix}");
    answered_before_pruned(&back, &nginx, &format!("{new_door} pruned"));
    installed.logs_in_through(&nginx);
    let found = run_with_password(&["endpoint", &release, "-n", &release, "-o", "json"]).success();
    let found: Value = serde_json::from_str(&found.stdout).unwrap();
    assert_eq!(found["url"], nginx, "{found}");
    let present = |kind: &str, name: &str| present(&release, kind, name);
    assert!(present("ingress", &format!("{release}-ingress")));
    assert!(present(
        "service",
        &format!("{release}-ingress-nginx-controller")
    ));
    assert!(present(
        "deployment",
        &format!("{release}-ingress-nginx-controller")
    ));
    assert!(!present(kind, &new_door));
    for text in [&moved.stdout, &moved.stderr, &back.stderr] {
        assert!(
            !text.contains(PASSWORD),
            "the password was printed:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_release_moves_from_its_ingress_nginx_to_a_gateway_and_back() {
    moves_to_and_back(Door {
        flags: &["--gateway", "public:web"],
        endpoint: |traefik| format!("http://127.0.0.1:{}", traefik.port),
        object: ("httproute", "api-route"),
    })
    .await;
}

#[tokio::test]
async fn a_release_moves_from_its_ingress_nginx_to_the_clusters_own_controller_and_back() {
    moves_to_and_back(Door {
        flags: &["--ingress-class", "traefik"],
        endpoint: |_| "http://127.0.0.2".to_owned(),
        object: ("ingress", "api-ingress"),
    })
    .await;
}

/// A control plane of the test's own, stopped when dropped: the shared one gets Gateway API's
/// CRDs from the other tests, and they stay.
struct OwnControlPlane {
    state: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
}

impl OwnControlPlane {
    fn start() -> Self {
        let state = tempfile::tempdir().unwrap();
        let mut up = Command::new("python3");
        up.arg(Self::script())
            .arg("up")
            .env("SKYCTL_TEST_STATE", state.path());
        let kubeconfig = cluster::path_printed_by(up, "a second test control plane did not start");
        Self { state, kubeconfig }
    }

    fn script() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/controlplane/controlplane.py")
    }
}

impl Drop for OwnControlPlane {
    fn drop(&mut self) {
        let _ = Command::new("python3")
            .arg(Self::script())
            .arg("down")
            .env("SKYCTL_TEST_STATE", self.state.path())
            .status();
    }
}

#[tokio::test]
async fn on_a_cluster_without_gateway_api_doctor_and_install_say_so_before_any_write() {
    let cluster = OwnControlPlane::start();
    let run = |verb: &str| {
        let mut args = vec![verb, "sky", "-n", "team", "--version", "0.13.0"];
        args.extend([
            "--create-namespace",
            "--gateway",
            "infra/public",
            "--auth",
            "users",
        ]);
        if verb == "doctor" {
            args.retain(|a| !matches!(*a, "--auth" | "users"));
        } else {
            args.extend(["--web-password-stdin", "--no-wait"]);
        }
        let mut command = Command::new(env!("CARGO_BIN_EXE_skyctl"))
            .args(&args)
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = command.stdin.take().unwrap();
        input.write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
        drop(input);
        Outcome::from(command.wait_with_output().unwrap())
    };
    let needle = "the cluster does not serve Gateway API: CRD httproutes.gateway.networking.k8s.io \
                  does not exist";
    let doctor = run("doctor").code(1);
    assert!(doctor.stdout.contains(needle), "{doctor:#?}");
    let install = run("install").code(1);
    assert!(install.stderr.contains(needle), "{install:#?}");
    assert!(
        install.stderr.contains("Nothing was changed"),
        "{install:#?}"
    );
    // Nothing was written: not even the namespace --create-namespace asked for.
    let kubeconfig = kube::config::Kubeconfig::read_from(&cluster.kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> =
        Api::all(kube::Client::try_from(config).unwrap());
    assert!(namespaces.get_opt("team").await.unwrap().is_none());
}

// A move killed after the new door is applied, before the old one goes: users keep the old
// door, and the next run finishes the move, while a second move at the same time is kept out.
#[tokio::test]
async fn a_move_killed_half_way_leaves_the_old_door_and_the_next_run_finishes_it_alone() {
    let _serial = cluster::exclusive().await;
    let (traefik, installed, _) = ingress_nginx_release().await;
    let release = installed.f.ns.name.clone();
    let upgrade = [
        "upgrade",
        &release,
        "-n",
        &release,
        "--reuse-values",
        "--gateway",
        "public:web",
        "--web-username",
        "admin",
        "--web-password-stdin",
        "--timeout",
        "240s",
    ];
    let killed = spawn_with_password_and(
        &upgrade,
        &[(
            skyctl::interrupt_point::VARIABLE,
            "phase-applied#1".as_ref(),
        )],
    );
    Outcome::from(killed.wait_with_output().unwrap()).interrupted();
    let present = |kind: &str, name: &str| present(&release, kind, name);
    assert!(present("httproute", &format!("{release}-api-route")));
    assert!(present("ingress", &format!("{release}-ingress")));
    assert!(present(
        "deployment",
        &format!("{release}-ingress-nginx-controller")
    ));
    assert!(present(
        "service",
        &format!("{release}-ingress-nginx-controller")
    ));

    // The next run finishes the move. Held once it has the release's lock, both doors there, it
    // keeps a second move (to the cluster's own controller) out: that one changes nothing and
    // names the holder.
    let gate = tempfile::tempdir().unwrap();
    let gate = gate.path().join("go");
    let finishing = spawn_with_password_and(
        &upgrade,
        &[
            (
                skyctl::interrupt_point::PAUSE_VARIABLE,
                "lock-taken".as_ref(),
            ),
            (skyctl::interrupt_point::PAUSE_FILE, gate.as_os_str()),
        ],
    );
    cluster::eventually(
        "the finishing run to hold with the lock",
        std::time::Duration::from_secs(120),
        || async { gate.with_extension("paused").exists().then_some(()) },
    )
    .await;
    let mut other = upgrade.to_vec();
    other[5..7].copy_from_slice(&["--ingress-class", "traefik"]);
    let refused = run_with_password(&other).code(1);
    assert!(
        refused.stderr.contains(&format!("pid {}", finishing.id())),
        "{}",
        refused.stderr
    );
    assert!(!present("ingress", &format!("{release}-api-ingress")));
    assert!(present("ingress", &format!("{release}-ingress")));
    std::fs::write(&gate, "").unwrap();
    let finished = Outcome::from(finishing.wait_with_output().unwrap()).success();
    let gateway = format!("http://127.0.0.1:{}", traefik.port);
    assert!(
        finished
            .stderr
            .contains(&format!("the new front door answers at {gateway}")),
        "{}",
        finished.stderr
    );
    assert!(!present("ingress", &format!("{release}-ingress")));
    installed.logs_in_through(&gateway);
    installed.has_no_ingress_nginx().await;
}
