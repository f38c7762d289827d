//! The whole walk-through, end to end: credentials, the web login, install, the endpoint and
//! the health check, against the real control plane, the real SkyPilot API server and a real
//! nginx doing the ingress's basic auth on the release's node port.

mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use support::cluster::{self, TestNamespace, free_node_port};
use support::dataplane::Dataplane;
use support::skyctl::{Outcome, SEED_ERA, Transcript, on_a_terminal, skyctl};

const PASSWORD: &str = "correct horse battery staple";
const AWS_KEY_ID: &str = "AKIAE2ETESTKEY000001";
const AWS_SECRET: &str = "e2eSecretAccessKey/DoNotPrint+0123456789";
const GCP_KEY_MARKER: &str = "E2EGCPPRIVATEKEYMATERIAL";
const KUBE_KEY_MARKER: &str = "E2EKUBECLIENTKEYMATERIAL";

struct Local {
    dir: tempfile::TempDir,
}

impl Local {
    /// Credentials as an admin has them on a laptop: an AWS credentials file, a GCP service
    /// account key, and a kubeconfig with an exec plugin at an absolute path and key files.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        std::fs::write(
            path("aws-credentials"),
            format!("[default]\naws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}\n"),
        )
        .unwrap();
        let key = json!({
            "type": "service_account", "project_id": "skyctl-e2e", "private_key_id": "0123",
            "private_key": format!("-----BEGIN PRIVATE KEY-----\n{GCP_KEY_MARKER}\n-----END PRIVATE KEY-----\n"),
            "client_email": "deployer@skyctl-e2e.iam.gserviceaccount.com", "client_id": "42"
        });
        std::fs::write(path("sa.json"), key.to_string()).unwrap();
        std::fs::write(
            path("ca.crt"),
            "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        std::fs::write(
            path("client.crt"),
            "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        std::fs::write(
            path("client.key"),
            format!("-----BEGIN PRIVATE KEY-----\n{KUBE_KEY_MARKER}\n-----END PRIVATE KEY-----\n"),
        )
        .unwrap();
        std::fs::write(
            path("kubeconfig"),
            r#"apiVersion: v1
kind: Config
current-context: gke
clusters:
- name: gke-cluster
  cluster: {server: "https://203.0.113.10", certificate-authority: ca.crt}
- name: onprem
  cluster: {server: "https://198.51.100.20:6443", certificate-authority: ca.crt}
users:
- name: gke-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: /opt/gcloud/bin/gke-gcloud-auth-plugin
      provideClusterInfo: true
- name: onprem-admin
  user: {client-certificate: client.crt, client-key: client.key}
contexts:
- name: gke
  context: {cluster: gke-cluster, user: gke-user}
- name: onprem
  context: {cluster: onprem, user: onprem-admin}
"#,
        )
        .unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

fn secret_keys(secret: &Secret) -> BTreeSet<String> {
    secret
        .data
        .iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .collect()
}

#[tokio::test]
async fn a_non_interactive_install_with_credentials_ends_healthy_and_users_can_log_in() {
    let _serial = cluster::exclusive().await;
    let dataplane = Dataplane::start();
    let ns = TestNamespace::create("gi").await;
    let release = ns.name.clone();
    let kubeconfig = cluster::kubeconfig();
    let local = Local::new();
    let mut transcript = Transcript::default();
    let creds = |args: &[&str]| {
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["creds", "add"])
            .args(args)
            .args(["--release", &release, "-n", &ns.name])
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                &local.path("aws-credentials"),
            )
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .run()
    };

    // Before the install: stored now, used by the next install.
    transcript.keep(creds(&["aws"]).success().stderr_has(&format!(
        "the next `skyctl install {release} -n {}`",
        ns.name
    )));
    transcript.keep(
        creds(&["gcp", "--key-file", &local.path("sa.json")])
            .success()
            .stderr_has("project skyctl-e2e"),
    );
    transcript.keep(
        creds(&[
            "kube",
            "--from-kubeconfig",
            &local.path("kubeconfig"),
            "--from-context",
            "gke",
            "--from-context",
            "onprem",
        ])
        .success()
        .stderr_has("allowed_contexts"),
    );

    let port = free_node_port();
    let mut install = Command::new(env!("CARGO_BIN_EXE_skyctl"))
        .args(["install", &release, "-n", &ns.name, "--version", SEED_ERA])
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args([
            "--set",
            &format!("ingress.httpNodePort={port}"),
            "--set",
            "ingress.httpsNodePort=null",
        ])
        .args(["--web-password-stdin", "--timeout", "120s", "-o", "json"])
        .env("NO_COLOR", "1")
        .env_remove("SKYCTL_WEB_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    install
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    // The ingress data path: nginx with the htpasswd skyctl put into the cluster.
    let nginx = dataplane.serve_node_port(port, &ns.name, &format!("{release}-ingress"));
    let output = install.wait_with_output().unwrap();
    let outcome = transcript.keep(Outcome::from(output));
    assert!(
        nginx.wait_with_output().unwrap().status.success(),
        "nginx served the node port"
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let outcome = outcome.success();
    let summary: Value = serde_json::from_str(&outcome.stdout).expect("-o json prints the summary");
    assert_eq!(summary["health"]["status"], "healthy");
    assert_eq!(summary["health"]["version"], "0.14.1");
    assert_eq!(summary["endpoint"]["url"], endpoint.as_str());
    assert_eq!(summary["revision"], 1);
    assert_eq!(
        summary["login"],
        format!("sky api login -e http://skypilot:<password>@127.0.0.1:{port}")
    );

    // The real client logs in through the ingress and sees a healthy server.
    let home = tempfile::tempdir().unwrap();
    if let Err(refused) = dataplane.sky_login(home.path(), &endpoint, "skypilot", PASSWORD) {
        panic!("sky api login with the password: {refused}");
    }

    // The Secrets hold exactly the keys the chart's pods read; the kubeconfig is self-contained.
    let secrets: Api<Secret> = Api::namespaced(ns.client.clone(), &ns.name);
    let keys = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        secret_keys(&secrets.get("aws-credentials").await.unwrap()),
        keys(&["aws_access_key_id", "aws_secret_access_key"])
    );
    assert_eq!(
        secret_keys(&secrets.get("gcp-credentials").await.unwrap()),
        keys(&["gcp-cred.json"])
    );
    let kube_secret = secrets.get("kube-credentials").await.unwrap();
    assert_eq!(secret_keys(&kube_secret), keys(&["config"]));
    let config = String::from_utf8(kube_secret.data.unwrap()["config"].0.clone()).unwrap();
    assert!(
        !config.contains("/opt/gcloud"),
        "no absolute exec paths: {config}"
    );
    assert!(
        config.contains("command: gke-gcloud-auth-plugin"),
        "{config}"
    );
    for file_reference in [
        "certificate-authority:",
        "client-certificate:",
        "client-key:",
    ] {
        assert!(
            !config.contains(file_reference),
            "no file references ({file_reference}): {config}"
        );
    }

    // The API server uses them: the values the chart reads were turned on.
    let deployments: Api<Deployment> = Api::namespaced(ns.client.clone(), &ns.name);
    let api_pod = || async {
        let deployment = deployments
            .get(&format!("{release}-api-server"))
            .await
            .unwrap();
        deployment.spec.unwrap().template.spec.unwrap()
    };
    let init_containers = |pod: &k8s_openapi::api::core::v1::PodSpec| -> Vec<String> {
        pod.init_containers
            .iter()
            .flatten()
            .map(|c| c.name.clone())
            .collect()
    };
    let pod = api_pod().await;
    assert_eq!(
        init_containers(&pod),
        ["create-aws-credentials", "setup-gcp-credentials"]
    );
    let volumes = serde_json::to_value(pod.volumes.unwrap()).unwrap();
    assert!(
        volumes
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "kube-config" && v["secret"]["secretName"] == "kube-credentials")
    );

    transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["endpoint", &release, "-n", &ns.name])
            .run()
            .success()
            .stdout_has(&endpoint),
    );
    let list = transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["creds", "list", "--release", &release, "-n", &ns.name])
            .run()
            .success(),
    );
    assert_eq!(
        list.stdout.matches(": used by release").count(),
        3,
        "{}",
        list.stdout
    );

    transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["status", &release, "-n", &ns.name])
            .env("SKYCTL_WEB_PASSWORD", PASSWORD)
            .run()
            .success()
            .stdout_has(&format!("ENDPOINT: {endpoint}"))
            .stdout_has("HEALTH: healthy (SkyPilot 0.14.1"),
    );

    // On an installed release, credentials are turned off and on by an upgrade.
    let remove = skyctl()
        .kubeconfig(kubeconfig)
        .args([
            "creds",
            "remove",
            "aws",
            "--release",
            &release,
            "-n",
            &ns.name,
            "--no-wait",
        ])
        .run();
    transcript
        .keep(remove)
        .success()
        .stderr_has("Secret")
        .stderr_has("upgraded");
    assert_eq!(init_containers(&api_pod().await), ["setup-gcp-credentials"]);
    assert!(secrets.get_opt("aws-credentials").await.unwrap().is_none());
    transcript.keep(
        creds(&["aws", "--no-wait"])
            .success()
            .stderr_has("upgraded"),
    );
    assert_eq!(
        init_containers(&api_pod().await),
        ["create-aws-credentials", "setup-gcp-credentials"]
    );

    // A wrong password while the ingress holds the right one. An admin who manages the htpasswd
    // gives the line as a value and a password only for the health check: the login stays as
    // it is, so the ingress has nothing to reload and the 401 is reported at once.
    let login_secret = format!("{release}-basic-auth");
    let htpasswd = || async {
        let secret = secrets.get(&login_secret).await.unwrap();
        String::from_utf8(secret.data.unwrap()["auth"].0.clone()).unwrap()
    };
    let line = htpasswd().await;
    let wrong = transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args([
                "upgrade",
                &release,
                "-n",
                &ns.name,
                "--set",
                &format!("ingress.httpNodePort={port}"),
                "--set",
                "ingress.httpsNodePort=null",
                "--set-string",
                &format!("ingress.authCredentials={line}"),
            ])
            .args(["--web-password-stdin", "--timeout", "30s"])
            .stdin("not the password\n")
            .run()
            .code(1)
            .stderr_has("not healthy after 0s: the ingress rejected the credentials (401)")
            .stderr_has(&format!(
                "kubectl get secret -n {} {release}-basic-auth",
                ns.name
            )),
    );
    assert!(!wrong.stderr.contains("password changed"), "{wrong:#?}");
    let kept = htpasswd().await;
    assert_eq!(kept, line, "the login was not touched");
    assert!(skyctl::guide::basic_auth::verify(
        &kept, "skypilot", PASSWORD
    ));
    transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["status", &release, "-n", &ns.name])
            .env("SKYCTL_WEB_PASSWORD", "not the password")
            .run()
            .success()
            .stdout_has("HEALTH: the ingress rejected the credentials (401) for user \"skypilot\""),
    );
    let other_home = tempfile::tempdir().unwrap();
    if let Ok(session) =
        dataplane.sky_login(other_home.path(), &endpoint, "skypilot", "not the password")
    {
        panic!("sky api login with a wrong password got in: {session}");
    }

    // No secret material in anything skyctl printed.
    for secret in [
        PASSWORD,
        "not the password",
        AWS_SECRET,
        AWS_KEY_ID,
        GCP_KEY_MARKER,
        KUBE_KEY_MARKER,
    ] {
        assert!(
            !transcript.0.contains(secret),
            "skyctl printed secret material {secret:?}:\n{}",
            transcript.0
        );
    }
    skyctl()
        .kubeconfig(kubeconfig)
        .args(["uninstall", &release, "-n", &ns.name, "--delete-data"])
        .run()
        .success();
}

#[tokio::test]
async fn an_upgrade_with_a_new_password_rotates_the_login_and_the_old_one_is_refused() {
    const OLD: &str = "the password before";
    const NEW: &str = "the p@ssword after: rotated";
    let _serial = cluster::exclusive().await;
    let dataplane = Dataplane::start();
    let ns = TestNamespace::create("rot").await;
    let release = ns.name.clone();
    let kubeconfig = cluster::kubeconfig();
    let port = free_node_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let node_port = [
        "--set".to_owned(),
        format!("ingress.httpNodePort={port}"),
        "--set".to_owned(),
        "ingress.httpsNodePort=null".to_owned(),
    ];
    let mut transcript = Transcript::default();

    let nginx = dataplane.serve_node_port(port, &ns.name, &format!("{release}-ingress"));
    transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["install", &release, "-n", &ns.name, "--timeout", "120s"])
            .args(&node_port)
            .env("SKYCTL_WEB_PASSWORD", OLD)
            .run()
            .success()
            .stderr_has("healthy: SkyPilot API server 0.14.1"),
    );
    assert!(
        nginx.wait_with_output().unwrap().status.success(),
        "nginx served the node port"
    );
    let before = tempfile::tempdir().unwrap();
    if let Err(refused) = dataplane.sky_login(before.path(), &endpoint, "skypilot", OLD) {
        panic!("sky api login with the first password: {refused}");
    }

    // The rotation: an upgrade given another password. Its health check logs in with the new
    // one, so it ends healthy only once the ingress has reloaded the Secret.
    transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["upgrade", &release, "-n", &ns.name, "--timeout", "120s"])
            .args(&node_port)
            .args(["--web-password-stdin"])
            .env_remove("SKYCTL_WEB_PASSWORD")
            .stdin(format!("{NEW}\n"))
            .run()
            .success()
            .stderr_has("web login: password changed")
            .stderr_has("upgraded")
            .stderr_has("healthy: SkyPilot API server 0.14.1"),
    );

    // The real client: the session made with the old password no longer gets through, a new
    // login with it is refused, and one with the new password works.
    if let Ok(session) = dataplane.sky_info(before.path()) {
        panic!("the session with the old password still works: {session}");
    }
    let old_home = tempfile::tempdir().unwrap();
    if let Ok(session) = dataplane.sky_login(old_home.path(), &endpoint, "skypilot", OLD) {
        panic!("sky api login with the old password got in: {session}");
    }
    let new_home = tempfile::tempdir().unwrap();
    if let Err(refused) = dataplane.sky_login(new_home.path(), &endpoint, "skypilot", NEW) {
        panic!("sky api login with the new password: {refused}");
    }

    // `status` says which password is the login's.
    transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["status", &release, "-n", &ns.name])
            .env("SKYCTL_WEB_PASSWORD", OLD)
            .run()
            .success()
            .stdout_has("HEALTH: the ingress rejected the credentials (401)")
            .stdout_has(&format!(
                "kubectl get secret -n {} {release}-basic-auth",
                ns.name
            )),
    );
    transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["status", &release, "-n", &ns.name])
            .env("SKYCTL_WEB_PASSWORD", NEW)
            .run()
            .success()
            .stdout_has("HEALTH: healthy (SkyPilot 0.14.1"),
    );

    // The same password again changes nothing: the recorded line still matches it.
    let again = transcript.keep(
        skyctl()
            .kubeconfig(kubeconfig)
            .args(["upgrade", &release, "-n", &ns.name, "--timeout", "120s"])
            .args(&node_port)
            .env("SKYCTL_WEB_PASSWORD", NEW)
            .run()
            .success()
            .stderr_has("unchanged")
            .stderr_has("healthy: SkyPilot API server 0.14.1"),
    );
    assert!(!again.stderr.contains("password changed"), "{again:#?}");

    for secret in [OLD, NEW] {
        assert!(
            !transcript.0.contains(secret),
            "skyctl printed the password {secret:?}:\n{}",
            transcript.0
        );
    }
    skyctl()
        .kubeconfig(kubeconfig)
        .args(["uninstall", &release, "-n", &ns.name, "--delete-data"])
        .run()
        .success();
}

#[tokio::test]
async fn the_endpoint_of_a_load_balancer_is_its_hostname() {
    let _serial = cluster::exclusive().await;
    let ns = TestNamespace::create("lb").await;
    let release = ns.name.clone();
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "install",
            &release,
            "-n",
            &ns.name,
            "--no-wait",
            "--web-password-stdin",
        ])
        .args([
            "--set",
            "ingress-nginx.controller.service.type=LoadBalancer",
        ])
        .stdin(format!("{PASSWORD}\n"))
        .run()
        .success();
    // What a cloud's load balancer controller does; EKS gives a hostname and no IP.
    let services: Api<Service> = Api::namespaced(ns.client.clone(), &ns.name);
    let status = json!({"status": {"loadBalancer": {"ingress": [{"hostname": "k8s-sky-abc123.elb.us-east-1.amazonaws.com"}]}}});
    services
        .patch_status(
            &format!("{release}-ingress-nginx-controller"),
            &PatchParams::default(),
            &Patch::Merge(&status),
        )
        .await
        .unwrap();
    let outcome = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["endpoint", &release, "-n", &ns.name, "-o", "json"])
        .run()
        .success();
    let endpoint: Value = serde_json::from_str(&outcome.stdout).unwrap();
    assert_eq!(
        endpoint["url"],
        "http://k8s-sky-abc123.elb.us-east-1.amazonaws.com"
    );
    assert_eq!(endpoint["kind"], "loadbalancer");
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["uninstall", &release, "-n", &ns.name, "--delete-data"])
        .run()
        .success();
}

#[tokio::test]
async fn without_a_password_or_a_terminal_install_names_the_missing_flag_and_changes_nothing() {
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["install", "nopass", "-n", "nopass-namespace", "--yes"])
        .env_remove("SKYCTL_WEB_PASSWORD")
        .run()
        .code(2)
        .stderr_has("--web-password-stdin")
        .stderr_has("SKYCTL_WEB_PASSWORD");
}

#[tokio::test]
async fn the_charts_placeholder_htpasswd_is_refused_before_anything_is_applied() {
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["install", "placeholder", "-n", "placeholder-namespace"])
        .args([
            "--set",
            "ingress.authCredentials=username:$apr1$encrypted_password",
        ])
        .run()
        .code(2)
        .stderr_has("ingress.authCredentials")
        .stderr_has("placeholder");
}

#[tokio::test]
async fn on_a_terminal_install_asks_for_the_password_and_offers_local_credentials() {
    let _serial = cluster::exclusive().await;
    let ns = TestNamespace::create("tty").await;
    let local = Local::new();
    let command = format!(
        "{} install {} -n {} --kubeconfig {} --version {SEED_ERA} --no-health-check --set ingress.httpNodePort=null,ingress.httpsNodePort=null",
        env!("CARGO_BIN_EXE_skyctl"),
        ns.name,
        ns.name,
        cluster::kubeconfig().display()
    );
    let aws = local.path("aws-credentials");
    let (succeeded, screen) = on_a_terminal(
        &command,
        &[("AWS_SHARED_CREDENTIALS_FILE", aws.as_ref())],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_PROFILE",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "SKYCTL_WEB_PASSWORD",
        ],
        &[PASSWORD, PASSWORD, "y"],
        std::time::Duration::from_millis(700),
    );
    assert!(succeeded, "{screen}");
    for shown in [
        "Password for the web login \"skypilot\"",
        "Repeat it",
        "Found AWS access key id",
        "✓ credentials: Secret aws-credentials",
        "✓ web login: user skypilot, password set",
        "installed",
    ] {
        assert!(
            screen.contains(shown),
            "the terminal lacks {shown:?}:\n{screen}"
        );
    }
    assert!(
        !screen.contains(PASSWORD),
        "the password was echoed:\n{screen}"
    );
    let secrets: Api<Secret> = Api::namespaced(ns.client.clone(), &ns.name);
    let auth = secrets
        .get(&format!("{}-basic-auth", ns.name))
        .await
        .unwrap();
    let line = String::from_utf8(auth.data.unwrap()["auth"].0.clone()).unwrap();
    assert!(
        skyctl::guide::basic_auth::verify(&line, "skypilot", PASSWORD),
        "the htpasswd holds the typed password"
    );
    assert!(secrets.get_opt("aws-credentials").await.unwrap().is_some());
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["uninstall", &ns.name, "-n", &ns.name, "--delete-data"])
        .run()
        .success();
}
