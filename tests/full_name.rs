//! `fullnameOverride` renames every object of a chart 0.13.0 release. What skyctl does to the
//! release after the rollout (restarting the API server for new credentials, restarting
//! oauth2-proxy for a new OAuth client, finding the Ingress for the login line) finds the
//! objects by the same names the templates gave them; the URL it gives is at the Ingress's host
//! and below its sub-path (`ingress.path`).

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use support::cluster;
use support::release::{Chart, Fixture};
use support::skyctl::skyctl;

const FULL_NAME: &str = "pilot";
const HOST: &str = "sky.example.com";

fn restarted(deployment: &Deployment) -> bool {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .is_some_and(|a| a.contains_key("skyctl.io/restarted-at"))
}

// With fullnameOverride set, `creds add aws` stored the new keys and then failed with
// `deployments.apps "R-api-server" not found`, and the server kept the old keys; the login line
// lost the Ingress's host, looked up under the release's name.
#[tokio::test]
async fn creds_add_and_the_login_line_find_the_objects_fullname_override_named() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let values = format!("fullnameOverride={FULL_NAME},ingress.host={HOST},ingress.path=/sky");
    f.run("install", &["--no-wait", "--set", &values])
        .success()
        .stderr_has(&format!("http://{HOST}:"));
    let deployments: Api<Deployment> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let api_server = format!("{FULL_NAME}-api-server");
    assert!(deployments.get_opt(&api_server).await.unwrap().is_some());

    let add = |key: &str| f.creds_add_aws(key, "a-secret-key").run();
    add("AKIAFIRST").success();
    // New keys over stored ones: the API server must restart to read them.
    add("AKIASECOND")
        .success()
        .stderr_has("the API server is restarting to read the new credentials");
    assert!(restarted(&deployments.get(&api_server).await.unwrap()));

    // At the host, below the sub-path the Ingress routes.
    let at_host_and_path =
        |url: &str| url.starts_with(&format!("http://{HOST}:")) && url.ends_with("/sky");
    let endpoint = f.run("endpoint", &[]).success();
    assert!(at_host_and_path(endpoint.stdout.trim()), "{endpoint:#?}");
    let status = f.status();
    assert!(
        status["endpoint"].as_str().is_some_and(at_host_and_path),
        "{status}"
    );
    f.run("uninstall", &["--delete-data"]).success();
}

// A new OAuth client secret restarts oauth2-proxy to read it: with fullnameOverride set, the
// restart asked for `R-oauth2-proxy`, which does not exist, and failed.
#[tokio::test]
async fn a_new_oauth_client_restarts_the_oauth2_proxy_fullname_override_named() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    // Not the fixture's command: it gives the basic login's values, which OAuth replaces.
    let oauth = |verb: &str, secret: &str| {
        skyctl()
            .kubeconfig(cluster::kubeconfig())
            .args([verb, f.release(), "-n", &f.ns.name, "--version", "0.13.0"])
            .args([
                "--no-wait",
                "--no-health-check",
                "--set",
                "ingress-nginx.controller.service.type=NodePort",
                "--set",
                &format!("fullnameOverride={FULL_NAME}"),
                "--auth",
                "oauth",
                "--oauth-issuer-url",
                "https://idp.example.com",
                "--oauth-client-id",
                "skypilot",
                "--oauth-client-secret-stdin",
            ])
            .stdin(format!("{secret}\n"))
            .run()
    };
    oauth("install", "first-client-secret").success();
    let proxy = format!("{FULL_NAME}-oauth2-proxy");
    oauth("upgrade", "second-client-secret")
        .success()
        .stderr_has(&format!("{proxy} restarted to read it"));
    let deployments: Api<Deployment> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    assert!(restarted(&deployments.get(&proxy).await.unwrap()));
    f.run("uninstall", &["--delete-data"]).success();
}
