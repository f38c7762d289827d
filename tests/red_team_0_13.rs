//! Breaks found by red-teaming chart 0.13.0 support, each written as the promise that must
//! hold: the live cluster never adds objects to a release, every object the release applies is
//! marked as its own, a namespace the chart marked to keep is never deleted with another
//! release's objects in it, the endpoint of a documented configuration is found, and no secret
//! the values hold is ever printed.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::Value;
use support::cluster::{self, kubectl};
use support::release::{Chart, Fixture};
use support::skyctl::skyctl;

/// ingress-nginx is cluster-wide (its IngressClass `nginx`); tests that do not need it leave
/// it out, so that a failing one blocks no other install.
const INGRESS_OFF: &str = "ingress-nginx.enabled=false";
/// The fixture's web login is refused next to `auth.oauth`.
const NO_BASIC_AUTH: &str = "ingress.authCredentials=null";
const OAUTH: &str = "auth.oauth.enabled=true,auth.oauth.oidc-issuer-url=https://login.example.com,auth.oauth.client-id=sky-client";

const OAUTH_CLIENT_SECRET: &str = "oauth-client-SECRET-4711";
const PROXY_CLIENT_SECRET: &str = "proxy-client-SECRET-0815";
const DB_PASSWORD: &str = "db-PASSWORD-1337";
const REDIS_PASSWORD: &str = "redis-PASSWORD-4242";

async fn current() -> Fixture {
    Fixture::with_chart(Chart::Current).await
}

fn oauth_client_secret() -> String {
    format!("auth.oauth.client-secret={OAUTH_CLIENT_SECRET}")
}

fn redis_url(password: &str) -> String {
    format!("auth.oauth.redis-url=redis://:{password}@redis.example:6379/0")
}

async fn namespace_alive(client: &kube::Client, name: &str) -> bool {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .get_opt(name)
        .await
        .unwrap()
        .is_some_and(|ns| ns.metadata.deletion_timestamp.is_none())
}

async fn role_exists(client: &kube::Client, namespace: &str, name: &str) -> bool {
    let roles: Api<Role> = Api::namespaced(client.clone(), namespace);
    roles.get_opt(name).await.unwrap().is_some()
}

// 1. The oauth2-proxy cookie secret is read from the live Deployment and written into the
//    template bare, so a value with line breaks is YAML: whoever may patch a Deployment in the
//    release's namespace adds any object to the release, and the admin's next routine upgrade
//    applies it with the admin's rights (here a ClusterRoleBinding to cluster-admin). The patch
//    is a server-side apply under skyctl's field manager name, so the upgrade sees no conflict.
#[tokio::test]
async fn a_cookie_secret_edited_in_the_live_proxy_never_adds_objects_to_the_release() {
    let _serial = cluster::exclusive().await;
    let f = current().await;
    let secret = oauth_client_secret();
    f.run(
        "install",
        &[
            "--set",
            INGRESS_OFF,
            "--set",
            NO_BASIC_AUTH,
            "--set",
            OAUTH,
            "--set",
            &secret,
            "--no-wait",
        ],
    )
    .success();

    let smuggled = format!("{}-smuggled-admin", f.release());
    let value = format!(
        "abc\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\n\
         subjects: [{{kind: ServiceAccount, name: default, namespace: {}}}]\n\
         metadata:\n  name: {smuggled}\n  annotations:\n    rest: |",
        f.ns.name
    );
    let deployments: Api<Deployment> = f.deployments();
    let proxy = format!("{}-oauth2-proxy", f.release());
    let mut live = serde_json::to_value(deployments.get(&proxy).await.unwrap()).unwrap();
    live.as_object_mut().unwrap().remove("status");
    let metadata = live["metadata"].as_object_mut().unwrap();
    for field in [
        "managedFields",
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "generation",
    ] {
        metadata.remove(field);
    }
    for env in live["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
    {
        if env["name"] == "OAUTH2_PROXY_COOKIE_SECRET" {
            env["value"] = Value::String(value.clone());
        }
    }
    deployments
        .patch(
            &proxy,
            &PatchParams::apply("skyctl").force(),
            &Patch::Apply(&live),
        )
        .await
        .unwrap();

    let upgrade = f.run(
        "upgrade",
        &["--reuse-values", "--set", NO_BASIC_AUTH, "--no-wait"],
    );
    let bindings: Api<ClusterRoleBinding> = Api::all(f.ns.client.clone());
    let made = bindings.get_opt(&smuggled).await.unwrap();
    bindings
        .delete(&smuggled, &DeleteParams::default())
        .await
        .ok();
    f.run("uninstall", &["--delete-data"]).success();
    assert!(
        made.is_none(),
        "a value in the live Deployment made the upgrade create ClusterRoleBinding {smuggled} \
         (cluster-admin): {upgrade:#?}"
    );
}

// 2. The oauth2-proxy Ingress of `ingress.oauth2-proxy` renders `annotations:` empty (null),
//    and skyctl stamps its release annotations only into a map: the Ingress is applied
//    unmarked. The next upgrade refuses it as "belongs to no release", and uninstall leaves it.
#[tokio::test]
async fn a_release_with_the_ingress_oauth2_proxy_upgrades_and_uninstalls_its_login_ingress() {
    let _serial = cluster::exclusive().await;
    let f = current().await;
    let proxy = format!(
        "ingress.oauth2-proxy.enabled=true,ingress.oauth2-proxy.oidc-issuer-url=https://login.example.com,\
         ingress.oauth2-proxy.client-id=sky-client,ingress.oauth2-proxy.client-secret={PROXY_CLIENT_SECRET}"
    );
    f.run(
        "install",
        &[
            "--set",
            INGRESS_OFF,
            "--set",
            NO_BASIC_AUTH,
            "--set",
            &proxy,
            "--no-wait",
        ],
    )
    .success();
    let ingresses: Api<Ingress> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let name = format!("{}-oauth2-proxy", f.release());
    let annotations = ingresses
        .get(&name)
        .await
        .unwrap()
        .metadata
        .annotations
        .unwrap_or_default();

    let upgrade = f.run(
        "upgrade",
        &[
            "--reuse-values",
            "--set",
            "apiService.terminationGracePeriodSeconds=30",
            "--no-wait",
        ],
    );
    f.run("uninstall", &["--delete-data"]).success();
    let left = ingresses.get_opt(&name).await.unwrap();
    assert_eq!(
        annotations
            .get("skyctl.io/release-name")
            .map(String::as_str),
        Some(f.release()),
        "Ingress {name} was applied without the release's annotations: {annotations:?}"
    );
    assert_eq!(upgrade.code, Some(0), "the upgrade failed: {upgrade:#?}");
    assert!(left.is_none(), "uninstall left Ingress {name} behind");
}

/// Two releases whose API servers work in the same namespace, which the first one's chart
/// creates (with the keep policy); the admin then removes that policy by hand.
async fn two_releases_sharing_a_namespace_the_first_created() -> (Fixture, Fixture, String) {
    let first = current().await;
    let second = current().await;
    let work = format!("{}-work", first.release());
    let in_cluster = format!("kubernetesCredentials.inclusterNamespace={work}");
    for f in [&first, &second] {
        f.run(
            "install",
            &["--set", INGRESS_OFF, "--set", &in_cluster, "--no-wait"],
        )
        .success();
    }
    let removed = kubectl(["annotate", "namespace", &work, "helm.sh/resource-policy-"]);
    assert!(removed.status.success(), "{removed:?}");
    (first, second, work)
}

async fn clean_up_shared(second: &Fixture, work: &str) {
    second.run("uninstall", &["--delete-data"]).success();
    let namespaces: Api<Namespace> = Api::all(second.ns.client.clone());
    namespaces.delete(work, &DeleteParams::default()).await.ok();
}

// 3. Whether a namespace is kept is read from the live object, not from the manifest the
//    release applied (Helm reads the manifest): once the annotation is removed by hand, an
//    upgrade with nothing to change prunes the namespace the chart no longer renders (because
//    it exists), and with it the other release's Role.
#[tokio::test]
async fn an_upgrade_never_deletes_a_namespace_the_chart_marked_keep_with_another_releases_role() {
    let _serial = cluster::exclusive().await;
    let (first, second, work) = two_releases_sharing_a_namespace_the_first_created().await;
    let upgrade = first.run("upgrade", &["--reuse-values", "--no-wait"]);
    let alive = namespace_alive(&first.ns.client, &work).await;
    let role = format!("{}-api-role", second.release());
    let other_role = role_exists(&first.ns.client, &work, &role).await;
    first.run("uninstall", &["--delete-data"]).success();
    clean_up_shared(&second, &work).await;
    assert!(
        alive && other_role,
        "the upgrade deleted Namespace {work} (alive: {alive}) with Role {role} of another \
         release (exists: {other_role}): {upgrade:#?}"
    );
}

// 4. The same with uninstall: it deletes the namespace the chart marked to keep.
#[tokio::test]
async fn uninstall_never_deletes_a_namespace_the_chart_marked_keep_with_another_releases_role() {
    let _serial = cluster::exclusive().await;
    let (first, second, work) = two_releases_sharing_a_namespace_the_first_created().await;
    let uninstall = first.run("uninstall", &["--delete-data"]).success();
    let alive = namespace_alive(&first.ns.client, &work).await;
    let role = format!("{}-api-role", second.release());
    let other_role = role_exists(&first.ns.client, &work, &role).await;
    clean_up_shared(&second, &work).await;
    assert!(
        alive && other_role,
        "uninstall deleted Namespace {work} (alive: {alive}) with Role {role} of another \
         release (exists: {other_role}): {uninstall:#?}"
    );
}

// 5. The first upgrade after an install that created a namespace tries to prune it (the chart
//    no longer renders it), keeps it, and records a revision although nothing changed; its
//    --dry-run says nothing would change.
#[tokio::test]
async fn an_upgrade_with_nothing_to_change_after_the_install_that_made_a_namespace_records_nothing()
{
    let _serial = cluster::exclusive().await;
    let f = current().await;
    let work = format!("{}-work", f.release());
    let in_cluster = format!("kubernetesCredentials.inclusterNamespace={work}");
    f.run(
        "install",
        &["--set", INGRESS_OFF, "--set", &in_cluster, "--no-wait"],
    )
    .success();
    let upgrade = f.run("upgrade", &["--reuse-values", "--no-wait"]);
    let history = f.run("history", &["-o", "json"]).success();
    let revisions: Vec<Value> = serde_json::from_str(&history.stdout).unwrap();
    f.run("uninstall", &["--delete-data"]).success();
    let namespaces: Api<Namespace> = Api::all(f.ns.client.clone());
    namespaces
        .delete(&work, &DeleteParams::default())
        .await
        .ok();
    assert!(
        upgrade.stderr.contains("unchanged: nothing to apply") && revisions.len() == 1,
        "an upgrade with nothing to change recorded revision {}: {upgrade:#?}",
        revisions.len()
    );
}

// 6. 0.13.0 has no NodePort Service of its own: the docs keep node ports with
//    ingress-nginx.controller.service.type=NodePort. The endpoint is then never found (so
//    install's health check fails after applying), and the advice names
//    ingress.nodePortEnabled, a key 0.13.0 refuses.
#[tokio::test]
async fn a_0_13_release_with_a_node_port_controller_has_an_endpoint() {
    let _serial = cluster::exclusive().await;
    let f = current().await;
    f.run("install", &["--no-wait"]).success();
    let endpoint = f.run("endpoint", &[]);
    let services: Api<Service> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let controller = services
        .get(&format!("{}-ingress-nginx-controller", f.release()))
        .await
        .unwrap();
    let port = controller
        .spec
        .unwrap()
        .ports
        .unwrap()
        .into_iter()
        .find(|port| port.name.as_deref() == Some("http"))
        .and_then(|port| port.node_port)
        .expect("the NodePort controller Service has an http node port");
    f.run("uninstall", &["--delete-data"]).success();
    assert_eq!(endpoint.code, Some(0), "{endpoint:#?}");
    assert_eq!(endpoint.stdout.trim(), format!("http://127.0.0.1:{port}"));
}

// 7. The values of 0.13.0 hold secrets (OAuth client secrets, a database URL with its
//    password, a redis URL with its password), and `get values` prints them; the docs say the
//    values never hold Secret data.
#[tokio::test]
async fn no_verb_prints_a_secret_that_the_values_hold() {
    let _serial = cluster::exclusive().await;
    let f = current().await;
    let secrets = [
        format!("ingress.oauth2-proxy.client-secret={PROXY_CLIENT_SECRET}"),
        oauth_client_secret(),
        format!("apiService.dbConnectionString=postgresql://sky:{DB_PASSWORD}@db.example:5432/sky"),
        redis_url(REDIS_PASSWORD),
    ];
    let mut install = vec!["--set", INGRESS_OFF, "--set", NO_BASIC_AUTH, "--set", OAUTH];
    for secret in &secrets {
        install.extend(["--set", secret.as_str()]);
    }
    install.extend(["--no-wait", "-o", "json"]);
    let mut outputs = vec![("install -o json".to_owned(), f.run("install", &install))];
    for args in [
        &["status", "-o", "json"][..],
        &["status", "-o", "yaml"],
        &["history", "-o", "json"],
        &["get", "values"],
        &["get", "values", "--all"],
        &["get", "values", "-o", "json"],
        &["get", "values", "--all", "-o", "yaml"],
    ] {
        let outcome = skyctl()
            .kubeconfig(cluster::kubeconfig())
            .args(args)
            .args([f.release(), "-n", &f.ns.name])
            .run();
        outputs.push((args.join(" "), outcome));
    }
    let list = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["list", "-A", "-o", "yaml"])
        .run();
    outputs.push(("list -A -o yaml".to_owned(), list));
    f.run("uninstall", &["--delete-data"]).success();

    let mut printed = Vec::new();
    for (verb, outcome) in &outputs {
        assert_eq!(outcome.code, Some(0), "{verb}: {outcome:#?}");
        for secret in [
            OAUTH_CLIENT_SECRET,
            PROXY_CLIENT_SECRET,
            DB_PASSWORD,
            REDIS_PASSWORD,
        ] {
            if outcome.stdout.contains(secret) || outcome.stderr.contains(secret) {
                printed.push(format!("{verb} prints {secret}"));
            }
        }
    }
    assert!(printed.is_empty(), "{printed:#?}");
}

// 8. `--diff` masks Secret data and env values named like secrets, but oauth2-proxy gets the
//    session redis URL, password included, as an argument: the diff prints it.
#[tokio::test]
async fn the_diff_of_an_upgrade_never_prints_the_password_of_the_session_redis() {
    let _serial = cluster::exclusive().await;
    let f = current().await;
    let secret = oauth_client_secret();
    let before = redis_url(REDIS_PASSWORD);
    f.run(
        "install",
        &[
            "--set",
            INGRESS_OFF,
            "--set",
            NO_BASIC_AUTH,
            "--set",
            OAUTH,
            "--set",
            &secret,
            "--set",
            &before,
            "--no-wait",
        ],
    )
    .success();
    let after = redis_url("redis-NEW-PASSWORD-9999");
    let diff = f.run(
        "upgrade",
        &[
            "--reuse-values",
            "--set",
            NO_BASIC_AUTH,
            "--set",
            &after,
            "--dry-run",
            "--diff",
        ],
    );
    f.run("uninstall", &["--delete-data"]).success();
    // The proxy's Deployment is in the diff; its argument line, with the password masked on
    // both sides, reads the same before and after.
    let diff = diff.success().stdout_has("-oauth2-proxy");
    assert!(
        !diff.stdout.contains(REDIS_PASSWORD) && !diff.stdout.contains("redis-NEW-PASSWORD-9999"),
        "the diff prints the redis password: {}",
        diff.stdout
    );
}

// 9. A values error names a secret's key and masks the flag, but a type error then prints the
//    value itself: a numeric client secret or database URL is shown in full.
#[test]
fn a_secret_value_of_the_wrong_type_is_never_printed_in_a_values_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("values.yaml");
    std::fs::write(&file, "apiService:\n  dbConnectionString: 73317331\n").unwrap();
    for args in [
        vec![
            "template".into(),
            "--version".into(),
            "0.13.0".into(),
            "--set".into(),
            "auth.oauth.client-secret=73317331".into(),
        ],
        vec![
            "template".into(),
            "--version".into(),
            "0.13.0".into(),
            "-f".into(),
            file.display().to_string(),
        ],
    ] {
        let outcome = skyctl().args(&args).run().code(2);
        assert!(
            !outcome.stderr.contains("73317331"),
            "{args:?} prints the secret: {}",
            outcome.stderr
        );
    }
}
