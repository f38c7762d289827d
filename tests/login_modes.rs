//! Each way of logging in that chart 0.13.0 has, end to end. skyctl installs a 0.13.0 release
//! with `--auth MODE`; the real SkyPilot API server runs as the release's pod would (its
//! environment from the cluster, its server config), behind a real nginx doing what
//! ingress-nginx does for the release's Ingress; skyctl's health check asks the server which
//! login it runs; the real `sky` client logs in the way the mode expects. No password, client
//! secret or hash shows up in skyctl's output, in the release record or in a process's argv.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use serde_json::Value;
use support::cluster::{self, TestNamespace, free_node_port};
use support::dataplane::{Dataplane, SingleSignOn};
use support::release::{Chart, Fixture, SMALL_PODS, pod_of};
use support::skyctl::{Outcome, on_a_terminal, skyctl};

const CURRENT: &str = "0.13.0";
const PASSWORD: &str = "admin password for the e2e 7Q";
const CLIENT_ID: &str = "skypilot-e2e-client";
const CLIENT_SECRET: &str = "e2e-oauth-client-secret-DoNotPrint-5521";
/// A 0.13.0 release installed with `auth` flags, the data plane standing in for its pods.
struct Deployed {
    /// Uninstalled when the test ends, however it ends.
    f: Fixture,
    dataplane: Dataplane,
    /// Kept running for the test.
    _sso: Option<SingleSignOn>,
    outcome: Outcome,
    summary: Value,
    endpoint: String,
}

impl Deployed {
    fn release(&self) -> &str {
        self.f.release()
    }

    fn said(&self, text: &str) {
        assert!(
            self.outcome.stderr.contains(text),
            "skyctl did not say {text:?}: {}",
            self.outcome.stderr
        );
    }

    fn hinted(&self, text: &str) {
        let hint = self.summary["loginHint"].as_str().unwrap_or_default();
        assert!(
            hint.contains(text),
            "the login hint {hint:?} lacks {text:?}"
        );
    }

    /// Everything the tests must never find a secret in: skyctl's output, the release's
    /// values and record, the argv of every process on the machine.
    async fn everything_printed_or_stored(&self) -> String {
        let mut all = format!("{}{}", self.outcome.stdout, self.outcome.stderr);
        let values = skyctl()
            .kubeconfig(cluster::kubeconfig())
            .args([
                "get",
                "values",
                self.release(),
                "-n",
                &self.f.ns.name,
                "--all",
            ])
            .run()
            .success();
        all.push_str(&values.stdout);
        let secrets: Api<Secret> = Api::namespaced(self.f.ns.client.clone(), &self.f.ns.name);
        for secret in secrets
            .list(&ListParams::default().labels(support::release::RECORDS))
            .await
            .unwrap()
            .items
        {
            all.push_str(&support::release::record_text(&secret));
        }
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
                all.push_str(&String::from_utf8_lossy(&cmdline).replace('\0', " "));
                all.push('\n');
            }
        }
        all
    }
}

/// Installs with `auth` (and the secret on stdin, if any), starts the data plane for the pods
/// once they exist (oauth2-proxy first, with `sso`), and waits for skyctl to finish.
async fn deploy(auth: &[&str], stdin: Option<&str>, sso: Option<SingleSignOn>) -> Deployed {
    deploy_behind(auth, stdin, sso, None).await
}

/// [`deploy`], with the Ingress routing by a host name over TLS, when `tls` gives the host's
/// certificate and the CA that signed it (a file skyctl is told to trust).
async fn deploy_behind(
    auth: &[&str],
    stdin: Option<&str>,
    sso: Option<SingleSignOn>,
    tls: Option<&HostCertificate>,
) -> Deployed {
    let f = Fixture::with_chart(Chart::Current).await;
    let ns = &f.ns;
    let release = f.release().to_owned();
    let port = free_node_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_skyctl"));
    let mut routing = Vec::new();
    let served = match tls {
        Some(tls) => {
            tls.store(ns, &format!("{release}-tls-secrets")).await;
            command.env("SSL_CERT_FILE", tls.ca_file.path());
            routing.extend([
                "--set".to_owned(),
                format!("ingress.host={HOST},ingress.tls.enabled=true"),
            ]);
            "https"
        }
        None => "http",
    };
    let mut install = command
        .args(["install", &release, "-n", &ns.name, "--version", CURRENT])
        .arg("--kubeconfig")
        .arg(cluster::kubeconfig())
        .args(["--set", "ingress-nginx.controller.service.type=NodePort"])
        .args([
            "--set",
            &format!("ingress-nginx.controller.service.nodePorts.{served}={port}"),
        ])
        .args(["--set", SMALL_PODS, "--timeout", "240s", "-o", "json"])
        .args(&routing)
        .args(auth)
        .env("NO_COLOR", "1")
        .env_remove("SKYCTL_WEB_PASSWORD")
        .env_remove("SKYCTL_OAUTH_CLIENT_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = install.stdin.take().unwrap();
    if let Some(line) = stdin {
        input.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    drop(input);
    let mut services = Vec::new();
    if let Some(sso) = &sso {
        let proxy_pod = pod_of(ns, &format!("{release}-oauth2-proxy"), &mut install).await;
        let url = sso.start_oauth2_proxy(&ns.name, &proxy_pod);
        services.push((format!("{release}-oauth2-proxy:4180"), url));
    }
    let api_pod = pod_of(ns, &format!("{release}-api"), &mut install).await;
    let services: Vec<(&str, &str)> = services
        .iter()
        .map(|(service, url)| (service.as_str(), url.as_str()))
        .collect();
    let dataplane = Dataplane::start_pod_reaching(&ns.name, &api_pod, &services);
    let nginx = dataplane.serve_node_port(port, &ns.name, &format!("{release}-ingress"));
    let output = install.wait_with_output().unwrap();
    assert!(
        nginx.wait_with_output().unwrap().status.success(),
        "nginx served the node port"
    );
    let outcome = Outcome::from(output).success();
    let summary: Value = serde_json::from_str(&outcome.stdout).expect("-o json prints the summary");
    assert_eq!(summary["health"]["status"], "healthy", "{summary}");
    Deployed {
        f,
        dataplane,
        _sso: sso,
        outcome,
        summary,
        endpoint: format!("{served}://127.0.0.1:{port}"),
    }
}

/// The host name the TLS test's Ingress routes by; nothing resolves it, so skyctl has to reach
/// it at the address it found.
const HOST: &str = "sky.skyctl.test";

/// A certificate for [`HOST`], signed by a CA of the test's own, in a PEM file to trust.
struct HostCertificate {
    ca_file: tempfile::NamedTempFile,
    cert_pem: String,
    key_pem: String,
}

impl HostCertificate {
    fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![HOST.to_owned()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let ca_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca_file.path(), ca.pem()).unwrap();
        Self {
            ca_file,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// The TLS Secret the chart's Ingress names, as an admin (or cert-manager) makes it.
    async fn store(&self, ns: &TestNamespace, name: &str) {
        let secrets: Api<Secret> = Api::namespaced(ns.client.clone(), &ns.name);
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name},
            "type": "kubernetes.io/tls",
            "stringData": {"tls.crt": self.cert_pem, "tls.key": self.key_pem},
        }))
        .unwrap();
        secrets
            .create(&kube::api::PostParams::default(), &secret)
            .await
            .unwrap();
    }
}

fn assert_never_shown(all: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!all.contains(secret), "{secret:?} was shown or stored");
    }
}

#[tokio::test]
async fn basic_auth_at_the_ingress_of_a_0_13_release() {
    let _serial = cluster::exclusive().await;
    let d = deploy(
        &["--auth", "basic", "--web-password-stdin"],
        Some(PASSWORD),
        None,
    )
    .await;
    assert_eq!(d.summary["loginMode"], "basic");
    assert_eq!(
        d.summary["login"],
        format!(
            "sky api login -e http://skypilot:<password>@{}",
            &d.endpoint[7..]
        )
    );
    let home = tempfile::tempdir().unwrap();
    if let Err(refused) = d
        .dataplane
        .sky_login(home.path(), &d.endpoint, "skypilot", PASSWORD)
    {
        panic!("sky api login with the password: {refused}");
    }
    let other = tempfile::tempdir().unwrap();
    assert!(
        d.dataplane
            .sky_login(other.path(), &d.endpoint, "skypilot", "not the password")
            .is_err(),
        "the ingress let a wrong password in"
    );
    assert_never_shown(&d.everything_printed_or_stored().await, &[PASSWORD]);
}

#[tokio::test]
async fn the_api_servers_own_users_start_from_the_admin_skyctl_made() {
    let _serial = cluster::exclusive().await;
    let d = deploy(
        &[
            "--auth",
            "users",
            "--web-username",
            "admin",
            "--web-password-stdin",
        ],
        Some(PASSWORD),
        None,
    )
    .await;
    assert_eq!(d.summary["loginMode"], "users");
    d.said("the API server's own users; first admin admin");
    // The server got the line from the Secret the chart made of it, and turned its basic auth on.
    let given = d.dataplane.pod_environment();
    assert_eq!(
        given["args"],
        serde_json::json!(["--deploy", "--enable-basic-auth"])
    );
    let line = given["env"]["SKYPILOT_INITIAL_BASIC_AUTH"]
        .as_str()
        .unwrap();
    assert!(skyctl::guide::basic_auth::verify(line, "admin", PASSWORD));
    assert!(
        !line.contains("$apr1$c1h4rNxt"),
        "the chart's placeholder admin"
    );
    // The admin logs in with the real client; the server knows them as its admin.
    let home = tempfile::tempdir().unwrap();
    match d
        .dataplane
        .sky_login(home.path(), &d.endpoint, "admin", PASSWORD)
    {
        Ok(info) => assert!(info.contains("admin"), "{info}"),
        Err(refused) => panic!("sky api login as the first admin: {refused}"),
    }
    let other = tempfile::tempdir().unwrap();
    assert!(
        d.dataplane
            .sky_login(other.path(), &d.endpoint, "admin", "not the password")
            .is_err(),
        "the API server let a wrong password in"
    );
    let all = d.everything_printed_or_stored().await;
    assert_never_shown(&all, &[PASSWORD]);
}

#[tokio::test]
async fn single_sign_on_through_oauth2_proxy_and_an_oidc_issuer() {
    let _serial = cluster::exclusive().await;
    let sso = SingleSignOn::start_issuer(CLIENT_ID, CLIENT_SECRET, "alice@example.com");
    let issuer = sso.issuer_url.clone();
    let d = deploy(
        &[
            "--auth",
            "oauth",
            "--oauth-issuer-url",
            &issuer,
            "--oauth-client-id",
            CLIENT_ID,
            "--oauth-client-secret-stdin",
            "--set",
            "auth.oauth.session-store-type=cookie",
        ],
        Some(CLIENT_SECRET),
        Some(sso),
    )
    .await;
    assert_eq!(d.summary["loginMode"], "oauth");
    assert_eq!(
        d.summary["login"],
        format!("sky api login -e {}", d.endpoint)
    );
    d.hinted("a browser opens to sign in");
    // The client secret is in the Secret oauth2-proxy reads, and nowhere in the values.
    let secrets: Api<Secret> = Api::namespaced(d.f.ns.client.clone(), &d.f.ns.name);
    let client = secrets
        .get(&format!("{}-oauth-client", d.release()))
        .await
        .unwrap();
    let data = client.data.unwrap();
    assert_eq!(data["client-secret"].0, CLIENT_SECRET.as_bytes());
    assert_eq!(data["client-id"].0, CLIENT_ID.as_bytes());
    // The real client, with the browser signing in at the issuer through oauth2-proxy.
    let home = tempfile::tempdir().unwrap();
    match d.dataplane.sky_login_in_browser(home.path(), &d.endpoint) {
        Ok(info) => assert!(info.contains("alice@example.com"), "{info}"),
        Err(refused) => panic!("sky api login through single sign-on: {refused}"),
    }
    // Without signing in, a request to the API is sent to the sign-in.
    support::dataplane::sent_to_sign_in(&d.endpoint).await;
    assert_never_shown(&d.everything_printed_or_stored().await, &[CLIENT_SECRET]);
    // The client is the release's: it goes with it.
    let client_secret = format!("{}-oauth-client", d.release());
    d.f.run("uninstall", &[]).success().stderr_has(&format!(
        "deleted Secret {client_secret}: the release's OAuth client"
    ));
    assert!(secrets.get_opt(&client_secret).await.unwrap().is_none());
}

#[tokio::test]
async fn an_auth_proxy_in_front_tells_the_server_who_the_user_is() {
    let _serial = cluster::exclusive().await;
    let d = deploy(
        &["--auth", "proxy", "--proxy-header", "X-Auth-Request-Email"],
        None,
        None,
    )
    .await;
    assert_eq!(d.summary["loginMode"], "proxy");
    d.hinted("users reach the API server through your auth proxy");
    // The admin's proxy: basic auth of its own, then the user's name in the header.
    d.dataplane
        .logs_in_through_auth_proxy("X-Auth-Request-Email", &d.endpoint, "bob", PASSWORD);
    assert_never_shown(&d.everything_printed_or_stored().await, &[PASSWORD]);
}

#[tokio::test]
async fn no_login_only_when_asked_for() {
    let _serial = cluster::exclusive().await;
    let d = deploy(&["--auth", "none"], None, None).await;
    assert_eq!(d.summary["loginMode"], "none");
    d.hinted("keep it off the internet");
    let home = tempfile::tempdir().unwrap();
    let login = d
        .dataplane
        .sky_client(home.path())
        .args(["api", "login", "-e", &d.endpoint])
        .output()
        .unwrap();
    assert!(login.status.success());
    if let Err(refused) = d.dataplane.sky_info(home.path()) {
        panic!("sky api info without a login: {refused}");
    }
}

#[tokio::test]
async fn with_a_host_and_tls_the_url_is_https_at_the_host() {
    let _serial = cluster::exclusive().await;
    let tls = HostCertificate::new();
    let d = deploy_behind(
        &["--auth", "users", "--web-password-stdin"],
        Some(PASSWORD),
        None,
        Some(&tls),
    )
    .await;
    // The health check went to the address found, asking for the host name over TLS with the
    // certificate checked, as users' clients will once DNS points the name there.
    let port = &d.endpoint["https://127.0.0.1:".len()..];
    assert_eq!(
        d.summary["endpoint"]["url"],
        format!("https://{HOST}:{port}")
    );
    assert_eq!(
        d.summary["endpoint"]["resolvesTo"],
        format!("127.0.0.1:{port}")
    );
    assert_eq!(
        d.summary["login"],
        format!("sky api login -e https://skypilot:<password>@{HOST}:{port}")
    );
    // The ingress stand-in routes by the host: the address alone reaches nothing.
    skyctl::crypto_provider::install();
    let by_address = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap()
        .get(format!("{}/api/health", d.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(by_address.status(), 404);
    // `skyctl endpoint` says the same.
    let endpoint = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["endpoint", d.release(), "-n", &d.f.ns.name])
        .run()
        .success();
    assert_eq!(endpoint.stdout.trim(), format!("https://{HOST}:{port}"));
}

/// Arguments, standard input, `$SKYCTL_OAUTH_CLIENT_SECRET`, and what the message must name.
type BadInput<'a> = (Vec<&'a str>, Option<&'a str>, Option<&'a str>, &'a str);

/// Bad input about the login exits 2 naming the flag or key, before the cluster is asked
/// anything (the kubeconfig points nowhere: reaching for it would fail otherwise).
#[test]
fn bad_login_input_is_named_before_the_cluster_is_touched() {
    let (_dir, kubeconfig) = support::cluster::unreachable_kubeconfig();
    let oauth = [
        "--auth",
        "oauth",
        "--oauth-issuer-url",
        "https://idp.example.com",
    ];
    let placeholder = "apiService.enableUserManagement=true,apiService.initialBasicAuthCredentials=skypilot:$apr1$c1h4rNxt$2NnL7dIDUV0tWsnuNMGSr/";
    let cases: Vec<BadInput> = vec![
        // (args, stdin, $SKYCTL_OAUTH_CLIENT_SECRET, what the message names)
        (
            vec!["--auth", "users", "--version", "1.0.0-dev.20250319"],
            None,
            None,
            "--auth users: chart 1.0.0-dev.20250319 has no such login; chart 0.13.0 has",
        ),
        (vec!["--auth", "magic"], None, None, "--auth"),
        (vec!["--auth", "oauth"], None, None, "--oauth-issuer-url"),
        (
            vec![
                "--auth",
                "oauth",
                "--oauth-issuer-url",
                "ftp://idp",
                "--oauth-client-id",
                "a",
            ],
            None,
            Some("s"),
            "the OIDC issuer (--oauth-issuer-url) is not an http(s) URL",
        ),
        (oauth.to_vec(), None, Some("s"), "--oauth-client-id"),
        (
            [&oauth[..], &["--oauth-client-id", "a"]].concat(),
            None,
            None,
            "--oauth-client-secret-stdin",
        ),
        (
            [
                &oauth[..],
                &[
                    "--oauth-client-id",
                    "a",
                    "--oauth-client-secret-file",
                    "/nonexistent/secret",
                ],
            ]
            .concat(),
            None,
            None,
            "--oauth-client-secret-file /nonexistent/secret",
        ),
        (
            [
                &oauth[..],
                &["--oauth-client-id", "a", "--oauth-client-secret-stdin"],
            ]
            .concat(),
            Some("\n"),
            None,
            "must not be empty",
        ),
        (
            [
                &oauth[..],
                &[
                    "--set",
                    "ingress.authCredentials=u:$apr1$abcdefgh$0123456789abcdefghijkl",
                ],
            ]
            .concat(),
            None,
            Some("s"),
            "--auth oauth and ingress.authCredentials in the values given choose different logins",
        ),
        (
            vec!["--auth", "proxy", "--proxy-header", "X Bad: header"],
            None,
            None,
            "--proxy-header \"X Bad: header\" is not an HTTP header name",
        ),
        (
            vec!["--auth", "basic", "--yes"],
            None,
            None,
            "--web-password-stdin",
        ),
        (
            vec!["--web-password-stdin", "--oauth-client-secret-stdin"],
            Some("x\n"),
            None,
            "--oauth-client-secret-stdin and --web-password-stdin both read standard input",
        ),
        (
            vec!["--set", placeholder],
            None,
            None,
            "apiService.initialBasicAuthCredentials is the chart's placeholder",
        ),
        (
            vec![
                "--auth",
                "users",
                "--set",
                "apiService.enableUserManagement=false",
            ],
            None,
            None,
            "--auth users and apiService.enableUserManagement=false in the values given disagree",
        ),
        (
            vec!["--auth", "none", "--web-password-stdin"],
            Some("correct horse\n"),
            None,
            "--web-password-stdin is for --auth basic or users, but this release's login is none",
        ),
        (
            vec!["--auth", "none", "--web-username", "bob"],
            None,
            None,
            "--web-username is for --auth basic or users, but this release's login is none",
        ),
        (
            vec!["--auth", "proxy", "--web-password-stdin"],
            Some("correct horse\n"),
            None,
            "--web-password-stdin is for --auth basic or users, but this release's login is proxy",
        ),
    ];
    for (mut args, stdin, secret, named) in cases {
        if !args.contains(&"--version") {
            args.extend(["--version", CURRENT]);
        }
        let mut run = skyctl()
            .kubeconfig(&kubeconfig)
            .args(["install", "r", "-n", "ns"])
            .args(&args)
            .env_remove("SKYCTL_WEB_PASSWORD")
            .env_remove("SKYCTL_OAUTH_CLIENT_SECRET");
        if let Some(secret) = secret {
            run = run.env("SKYCTL_OAUTH_CLIENT_SECRET", secret);
        }
        if let Some(stdin) = stdin {
            run = run.stdin(stdin);
        }
        let outcome = run.run();
        assert_eq!(outcome.code, Some(2), "{args:?}: {outcome:#?}");
        assert!(
            outcome.stderr.contains(named),
            "{args:?} should name {named:?}: {}",
            outcome.stderr
        );
    }
}

/// `install` of chart 0.13.0 on a pseudo-terminal, with no local credentials to offer and no
/// password in the environment, typing `answers` a `pause` apart.
fn install_on_a_terminal(f: &Fixture, answers: &[&str], pause: Duration) -> (bool, String) {
    let command = format!(
        "{} install {} -n {} --kubeconfig {} --version {CURRENT} --no-health-check --set ingress-nginx.controller.service.type=NodePort",
        env!("CARGO_BIN_EXE_skyctl"),
        f.release(),
        f.ns.name,
        cluster::kubeconfig().display()
    );
    let nothing_local = tempfile::tempdir().unwrap();
    on_a_terminal(
        &command,
        &[("HOME", nothing_local.path().as_os_str())],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_PROFILE",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "SKYCTL_WEB_PASSWORD",
        ],
        answers,
        pause,
    )
}

// The login question came before the preflight: an admin answered it, and a password, for
// an install a check then refused.
#[tokio::test]
async fn on_a_terminal_a_blocked_preflight_asks_nothing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    // Someone's Service where the release would put its own: the objects check blocks.
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let theirs: k8s_openapi::api::core::v1::Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("{}-api-service", f.release())},
        "spec": {"ports": [{"port": 80}]}
    }))
    .unwrap();
    services
        .create(&kube::api::PostParams::default(), &theirs)
        .await
        .unwrap();
    let (succeeded, screen) = install_on_a_terminal(&f, &[], Duration::ZERO);
    assert!(!succeeded, "{screen}");
    assert!(screen.contains("preflight check(s) failed"), "{screen}");
    assert!(!screen.contains("How will users log in?"), "{screen}");
    assert!(!screen.contains("Password"), "{screen}");
}

/// On a terminal, with nothing choosing a login, skyctl asks which one, then what that one
/// needs: here the API server's own users, and the first admin's password.
#[tokio::test]
async fn on_a_terminal_skyctl_asks_how_users_log_in() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let (succeeded, screen) =
        install_on_a_terminal(&f, &["2", PASSWORD, PASSWORD], Duration::from_millis(1500));
    assert!(succeeded, "{screen}");
    // Asked only once the checks that need no answer have passed.
    let checked = screen.find("preflight").expect("the preflight line");
    let asked = screen.find("How will users log in?").expect("the question");
    assert!(checked < asked, "asked before the preflight:\n{screen}");
    for shown in [
        "How will users log in?",
        "1) basic",
        "2) users",
        "3) oauth",
        "4) proxy",
        "5) none",
        "Password for the API server's first admin \"skypilot\"",
        "the API server's own users; first admin skypilot, password set",
        "installed",
    ] {
        assert!(
            screen.contains(shown),
            "the terminal lacks {shown:?}:\n{screen}"
        );
    }
    assert!(!screen.contains(PASSWORD), "the password was echoed");
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let initial = secrets
        .get(&format!("{}-initial-basic-auth", f.release()))
        .await
        .unwrap();
    let line = String::from_utf8(initial.data.unwrap()["auth"].0.clone()).unwrap();
    assert!(skyctl::guide::basic_auth::verify(
        &line, "skypilot", PASSWORD
    ));
}

// `--auth basic` with the values' own htpasswd line asked for a password, and given one,
// refused the pair: no way through. The flag now only agrees with the values' login, and a
// password checks health through it.
#[tokio::test]
async fn auth_basic_with_the_values_own_htpasswd_line_keeps_that_line() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    // The fixture gives ingress.authCredentials, as an admin's values file would.
    f.run("install", &["--auth", "basic", "--no-wait"])
        .success();
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let secret = secrets
        .get(&format!("{}-basic-auth", f.release()))
        .await
        .unwrap();
    let line = String::from_utf8(secret.data.unwrap()["auth"].0.clone()).unwrap();
    assert_eq!(
        line.trim(),
        support::release::AUTH.trim_start_matches("ingress.authCredentials=")
    );
    f.run("uninstall", &[]).success();
}
