//! The 0.13.0 API server Deployment for value sets beyond the Helm fixtures: mostly the cases
//! of the chart's own helm-unittest suite (`tests/deployment_test.yaml` and the API server
//! cases of `tests/oauth2_test.yaml`), asserting what those assert, plus the switches that
//! suite leaves out.
//!
//! Where the upstream suite asserts something the chart's template does not do, the test here
//! follows the template, since Helm's output is what skyctl must match; such tests say so.

mod support;

use serde_json::{Value, json};
use support::render::{Rendered, named, render_chart};

const DEFAULT_IMAGE: &str = "berkeleyskypilot/skypilot:0.13.0";

fn render(values: Value) -> Rendered {
    render_chart("0.13.0", "skypilot", "skypilot", values)
}

fn env<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    named(&container["env"], name)
}

/// The Secret and key an environment variable is read from: `None` when the variable is not
/// set, null when it is set some other way.
fn secret_ref(container: &Value, name: &str) -> Option<Value> {
    env(container, name).map(|var| var["valueFrom"]["secretKeyRef"].clone())
}

fn env_names(container: &Value) -> Vec<&str> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap())
        .collect()
}

/// Whether `list` holds an entry equal to `item` (helm-unittest's `contains`).
fn has(list: &Value, item: Value) -> bool {
    list.as_array().is_some_and(|items| items.contains(&item))
}

/// The `sh -c` script a container runs.
fn script(container: &Value) -> &str {
    container["args"][2].as_str().unwrap()
}

fn container<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    named(&pod["containers"], name)
}

fn init<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    named(&pod["initContainers"], name)
}

fn volume<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    named(&pod["volumes"], name)
}

fn mount(container: &Value, name: &str, path: &str) -> Option<Value> {
    container["volumeMounts"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == name && m["mountPath"] == path)
        .cloned()
}

fn mount_paths(container: &Value) -> Vec<&str> {
    container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect()
}

// ---- Kubernetes credentials and SSH node pools ----

#[test]
fn kubeconfig_secret_is_mounted_as_the_kube_directory() {
    let r = render(json!({"kubernetesCredentials": {"useKubeconfig": true}}));
    let api = r.api_container();
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "kube-config", "mountPath": "/root/.kube"})
    ));
    assert!(has(
        &r.api_pod_spec()["volumes"],
        json!({"name": "kube-config", "secret": {"secretName": "kube-credentials"}})
    ));
    assert!(env(api, "KUBECONFIG").is_none());
}

#[test]
fn ssh_node_pools_persist_the_kube_directory_and_mount_their_secret() {
    let r = render(json!({"apiService": {"sshNodePools": "test"}}));
    let api = r.api_container();
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "state-volume", "mountPath": "/root/.kube", "subPath": ".kube"})
    ));
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "skypilot-ssh-node-pools", "mountPath": "/var/skypilot/ssh_node_pool"})
    ));
    assert!(has(
        &r.api_pod_spec()["volumes"],
        json!({"name": "skypilot-ssh-node-pools", "secret": {"secretName": "skypilot-ssh-node-pools"}})
    ));
    assert!(script(api).contains(
        "ln -sf /var/skypilot/ssh_node_pool/ssh_node_pools.yaml /root/.sky/ssh_node_pools.yaml\n"
    ));
}

#[test]
fn kubeconfig_and_ssh_node_pools_merge_two_kubeconfigs() {
    let r = render(json!({
        "kubernetesCredentials": {"useKubeconfig": true},
        "apiService": {"sshNodePools": "test"},
    }));
    let api = r.api_container();
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "kube-config", "mountPath": "/var/skypilot/kubeconfig"})
    ));
    assert!(mount(api, "kube-config", "/root/.kube").is_none());
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "state-volume", "mountPath": "/root/.kube", "subPath": ".kube"})
    ));
    assert_eq!(
        env(api, "KUBECONFIG").unwrap(),
        &json!({"name": "KUBECONFIG", "value": "/root/.kube/config:/var/skypilot/kubeconfig/config"})
    );
}

#[test]
fn in_cluster_namespace_is_passed_to_the_server() {
    let r = render(json!({"kubernetesCredentials": {"inclusterNamespace": "workloads"}}));
    assert_eq!(
        env(r.api_container(), "SKYPILOT_IN_CLUSTER_NAMESPACE").unwrap()["value"],
        "workloads"
    );
    assert!(
        env(
            render(json!({})).api_container(),
            "SKYPILOT_IN_CLUSTER_NAMESPACE"
        )
        .is_none()
    );
}

#[test]
fn use_api_server_cluster_controls_the_token_mount() {
    for (use_it, expected) in [(true, true), (false, false)] {
        let r = render(json!({"kubernetesCredentials": {"useApiServerCluster": use_it}}));
        assert_eq!(r.api_pod_spec()["automountServiceAccountToken"], expected);
    }
}

// ---- global values ----

#[test]
fn global_image_pull_secrets_reach_the_pod() {
    let r = render(json!({"global": {"imagePullSecrets": [{"name": "global-pull-secret"}]}}));
    assert!(has(
        &r.api_pod_spec()["imagePullSecrets"],
        json!({"name": "global-pull-secret"})
    ));
    assert!(
        render(json!({}))
            .api_pod_spec()
            .get("imagePullSecrets")
            .is_none()
    );
}

#[test]
fn global_image_registry_replaces_or_prefixes_the_registry_of_images() {
    let cases = [
        // (global.imageRegistry, apiService.image, expected)
        (
            "registry.example.com/custom",
            "berkeleyskypilot/skypilot-nightly:latest",
            "registry.example.com/custom/berkeleyskypilot/skypilot-nightly:latest",
        ),
        (
            "registry.example.com/custom",
            "images.example.com/skypilot-dev/sky:dev",
            "registry.example.com/custom/skypilot-dev/sky:dev",
        ),
        (
            "mirror.local/",
            "localhost:5000/sky:1",
            "mirror.local/sky:1",
        ),
        (
            "mirror.local",
            "localhost/team/sky:1",
            "mirror.local/team/sky:1",
        ),
        ("mirror.local", "/team/sky:1", "mirror.local/team/sky:1"),
        ("mirror.local", "sky:1", "mirror.local/sky:1"),
    ];
    for (registry, image, expected) in cases {
        let r = render(json!({
            "global": {"imageRegistry": registry},
            "apiService": {"image": image, "logs": {"retention": {"enabled": true}}},
        }));
        let pod = r.api_pod_spec();
        assert_eq!(
            pod["containers"][0]["image"], expected,
            "{registry} {image}"
        );
        assert_eq!(pod["containers"][1]["name"], "logrotate");
        assert_eq!(
            pod["containers"][1]["image"], expected,
            "{registry} {image}"
        );
    }
}

#[test]
fn without_a_global_registry_images_are_used_as_given() {
    let r = render(json!({"apiService": {"image": "images.example.com/skypilot-dev/sky:dev"}}));
    assert_eq!(
        r.api_container()["image"],
        "images.example.com/skypilot-dev/sky:dev"
    );
    assert_eq!(render(json!({})).api_container()["image"], DEFAULT_IMAGE);
}

#[test]
fn global_image_registry_reaches_the_credential_init_containers_but_digital_oceans() {
    let r = render(json!({
        "global": {"imageRegistry": "registry.example.com/custom"},
        "apiService": {"image": "berkeleyskypilot/skypilot-nightly:latest"},
        "gcpCredentials": {"enabled": true, "image": "google/cloud-sdk:slim", "projectId": "test-project"},
        "coreweaveCredentials": {"enabled": true, "coreweaveSecretName": "my-coreweave-secret"},
        "awsCredentials": {"enabled": true},
        "r2Credentials": {"enabled": true},
        "runpodCredentials": {"enabled": true},
        "lambdaCredentials": {"enabled": true},
        "vastCredentials": {"enabled": true},
        "digitaloceanCredentials": {"enabled": true},
    }));
    let pod = r.api_pod_spec();
    let prefixed = "registry.example.com/custom/berkeleyskypilot/skypilot-nightly:latest";
    assert_eq!(
        init(pod, "setup-gcp-credentials").unwrap()["image"],
        "registry.example.com/custom/google/cloud-sdk:slim"
    );
    for name in [
        "create-aws-credentials",
        "setup-r2-credentials",
        "setup-coreweave-credentials",
        "create-runpod-credentials",
        "create-lambda-credentials",
        "create-vast-credentials",
    ] {
        assert_eq!(init(pod, name).unwrap()["image"], prefixed, "{name}");
    }
    // The chart writes Digital Ocean's image as given.
    assert_eq!(
        init(pod, "create-digitalocean-credentials").unwrap()["image"],
        "berkeleyskypilot/skypilot-nightly:latest"
    );
}

#[test]
fn global_extra_envs_reach_the_server_and_the_credential_init_containers() {
    let global_env = json!({"name": "GLOBAL_ENV", "value": "global"});
    let r = render(json!({
        "global": {"extraEnvs": [global_env]},
        "awsCredentials": {"enabled": true, "useCredentialsFile": false},
        "gcpCredentials": {"enabled": true, "projectId": "p"},
        "coreweaveCredentials": {"enabled": true, "coreweaveSecretName": "my-coreweave-secret"},
        "r2Credentials": {"enabled": true},
        "runpodCredentials": {"enabled": true},
        "lambdaCredentials": {"enabled": true},
        "vastCredentials": {"enabled": true},
        "digitaloceanCredentials": {"enabled": true},
    }));
    let pod = r.api_pod_spec();
    assert!(has(&r.api_container()["env"], global_env.clone()));
    assert!(has(&pod["initContainers"][0]["env"], global_env.clone()));
    for name in [
        "create-aws-credentials",
        "setup-r2-credentials",
        "setup-gcp-credentials",
        "create-runpod-credentials",
        "create-lambda-credentials",
        "create-vast-credentials",
    ] {
        assert_eq!(
            init(pod, name).unwrap()["env"][0],
            global_env,
            "{name} starts with the global envs"
        );
    }
    assert_eq!(
        init(pod, "setup-coreweave-credentials").unwrap()["env"],
        json!([global_env])
    );
    // Digital Ocean's init container takes only its own variable.
    assert_eq!(
        env_names(init(pod, "create-digitalocean-credentials").unwrap()),
        ["DIGITALOCEAN_CREDENTIALS"]
    );
}

// ---- upgrade strategy and storage ----

#[test]
fn recreate_is_the_default_strategy() {
    let r = render(json!({}));
    let deployment = r.object("Deployment", "skypilot-api-server");
    assert_eq!(deployment["spec"]["strategy"], json!({"type": "Recreate"}));
    let api = r.api_container();
    assert!(env(api, "SKYPILOT_APISERVER_UUID").is_none());
    assert!(env(api, "SKYPILOT_ROLLING_UPDATE_ENABLED").is_none());
}

#[test]
fn rolling_update_with_an_external_database_and_no_storage() {
    for (db, uri_secret) in [
        (
            json!({"dbConnectionSecretName": "test-db-secret"}),
            "test-db-secret",
        ),
        (
            json!({"dbConnectionString": "postgresql://user:pass@host:5432/db"}),
            "skypilot-db-connection",
        ),
    ] {
        let mut api_values = db;
        api_values["upgradeStrategy"] = json!("RollingUpdate");
        let r = render(json!({"apiService": api_values, "storage": {"enabled": false}}));
        let deployment = r.object("Deployment", "skypilot-api-server");
        assert_eq!(
            deployment["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
        );
        let api = r.api_container();
        assert_eq!(
            env(api, "SKYPILOT_APISERVER_UUID").unwrap()["valueFrom"],
            json!({"fieldRef": {"fieldPath": "metadata.uid"}})
        );
        assert_eq!(
            env(api, "SKYPILOT_ROLLING_UPDATE_ENABLED").unwrap()["value"],
            "true"
        );
        assert_eq!(
            secret_ref(api, "SKYPILOT_DB_CONNECTION_URI"),
            Some(json!({"name": uri_secret, "key": "connection_string"}))
        );
        let pod = r.api_pod_spec();
        assert!(volume(pod, "sky-ephemeral").is_none());
        assert_eq!(
            volume(pod, "state-volume").unwrap(),
            &json!({"name": "state-volume", "emptyDir": {}})
        );
        assert!(has(
            &api["volumeMounts"],
            json!({"name": "state-volume", "mountPath": "/root/.sky", "subPath": ".sky"})
        ));
    }
}

#[test]
fn rolling_update_surge_and_unavailability_are_configurable() {
    let cases = [
        // (apiService.rollingUpdate, expected maxSurge, expected maxUnavailable)
        (
            json!({"maxSurge": 0, "maxUnavailable": 1}),
            json!(0),
            json!(1),
        ),
        (
            json!({"maxSurge": "25%", "maxUnavailable": "50%"}),
            json!("25%"),
            json!("50%"),
        ),
        (json!(null), json!(1), json!(0)),
        (json!({"maxSurge": 2}), json!(2), json!(0)),
    ];
    for (rolling_update, surge, unavailable) in cases {
        let r = render(json!({
            "apiService": {
                "upgradeStrategy": "RollingUpdate",
                "dbConnectionSecretName": "test-db-secret",
                "rollingUpdate": rolling_update,
            },
            "storage": {"enabled": false},
        }));
        let strategy = &r.object("Deployment", "skypilot-api-server")["spec"]["strategy"];
        assert_eq!(
            strategy["rollingUpdate"]["maxSurge"], surge,
            "{rolling_update}"
        );
        assert_eq!(
            strategy["rollingUpdate"]["maxUnavailable"], unavailable,
            "{rolling_update}"
        );
    }
}

#[test]
fn rolling_update_with_shared_storage_keeps_sky_state_off_the_shared_volume() {
    let r = render(json!({
        "apiService": {
            "upgradeStrategy": "RollingUpdate",
            "dbConnectionSecretName": "test-db-secret",
            "logs": {"retention": {"enabled": true}},
        },
        "storage": {"enabled": true, "accessMode": "ReadWriteMany"},
    }));
    let pod = r.api_pod_spec();
    assert_eq!(
        r.object("Deployment", "skypilot-api-server")["spec"]["strategy"]["type"],
        "RollingUpdate"
    );
    assert!(has(
        &pod["volumes"],
        json!({"name": "sky-ephemeral", "emptyDir": {}})
    ));
    assert_eq!(
        volume(pod, "state-volume").unwrap()["persistentVolumeClaim"],
        json!({"claimName": "skypilot-state"})
    );
    let api = r.api_container();
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "sky-ephemeral", "mountPath": "/root/.sky"})
    ));
    assert!(!has(
        &api["volumeMounts"],
        json!({"name": "state-volume", "mountPath": "/root/.sky", "subPath": ".sky"})
    ));
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "state-volume", "mountPath": "/root/.sky/api_server/clients", "subPath": "api_server/clients"})
    ));
    let logrotate = &pod["containers"][1];
    assert_eq!(logrotate["name"], "logrotate");
    assert_eq!(
        logrotate["volumeMounts"],
        json!([{"name": "sky-ephemeral", "mountPath": "/root/.sky"}])
    );
}

#[test]
fn recreate_with_storage_keeps_sky_state_on_the_volume() {
    let r = render(json!({
        "apiService": {"upgradeStrategy": "Recreate", "logs": {"retention": {"enabled": true}}},
        "storage": {"enabled": true},
    }));
    let pod = r.api_pod_spec();
    assert!(volume(pod, "sky-ephemeral").is_none());
    let api = r.api_container();
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "state-volume", "mountPath": "/root/.sky", "subPath": ".sky"})
    ));
    assert!(mount(api, "state-volume", "/root/.sky/api_server/clients").is_none());
    assert_eq!(
        pod["containers"][1]["volumeMounts"],
        json!([{"name": "state-volume", "mountPath": "/root/.sky", "subPath": ".sky"}])
    );
}

#[test]
fn storage_persists_ssh_keys_and_job_logs() {
    let r = render(json!({"storage": {"enabled": true}}));
    let api = r.api_container();
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "state-volume", "mountPath": "/root/sky_logs", "subPath": "sky_logs"})
    ));
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "state-volume", "mountPath": "/root/.ssh", "subPath": ".ssh"})
    ));
    for path in [
        "/root/sky_logs/jobs_controller",
        "/root/sky_logs/managed_jobs",
    ] {
        assert!(!mount_paths(api).contains(&path), "{path}");
    }
    assert_eq!(
        env(api, "SKYPILOT_API_SERVER_STORAGE_ENABLED").unwrap()["value"],
        "true"
    );
}

#[test]
fn without_storage_only_the_sky_directory_is_mounted_from_an_empty_dir() {
    let r = render(json!({"storage": {"enabled": false}}));
    let api = r.api_container();
    assert_eq!(
        mount_paths(api),
        ["/root/.sky", "/var/skypilot/config"],
        "no job logs or SSH keys on a volume"
    );
    assert!(env(api, "SKYPILOT_API_SERVER_STORAGE_ENABLED").is_none());
}

#[test]
fn persist_ssh_config_false_keeps_ssh_keys_off_the_volume() {
    let r = render(json!({"apiService": {"persistSSHConfig": false}}));
    let api = r.api_container();
    assert!(mount(api, "state-volume", "/root/.ssh").is_none());
    assert!(mount(api, "state-volume", "/root/sky_logs").is_some());
}

// ---- names ----

#[test]
fn fullname_override_names_the_deployment_its_pods_and_the_server() {
    let r = render(json!({"fullnameOverride": "custom-fullname"}));
    let deployment = r.object("Deployment", "custom-fullname-api-server");
    assert_eq!(
        deployment["spec"]["selector"]["matchLabels"]["app"],
        "custom-fullname-api"
    );
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["labels"],
        json!({"app": "custom-fullname-api", "skypilot.co/ready": "true"})
    );
    let pod = &deployment["spec"]["template"]["spec"];
    assert!(has(
        &pod["containers"][0]["env"],
        json!({"name": "SKYPILOT_RELEASE_NAME", "value": "custom-fullname"})
    ));
    assert_eq!(pod["serviceAccountName"], "custom-fullname-api-sa");
    assert_eq!(
        volume(pod, "skypilot-config").unwrap()["configMap"]["name"],
        "custom-fullname-config"
    );
    assert_eq!(
        volume(pod, "state-volume").unwrap()["persistentVolumeClaim"]["claimName"],
        "custom-fullname-state"
    );
}

#[test]
fn rbac_service_account_name_replaces_the_charts() {
    let r = render(json!({"rbac": {"serviceAccountName": "existing-sa"}}));
    assert_eq!(r.api_pod_spec()["serviceAccountName"], "existing-sa");
    assert_eq!(
        render(json!({})).api_pod_spec()["serviceAccountName"],
        "skypilot-api-sa"
    );
}

// ---- database ----

#[test]
fn database_connection_comes_from_the_users_secret_or_the_charts() {
    let cases = [
        (
            json!({"dbConnectionSecretName": "my-db-secret"}),
            Some("my-db-secret"),
        ),
        (
            json!({"dbConnectionString": "postgresql://user:pass@host:5432/db"}),
            Some("skypilot-db-connection"),
        ),
        (
            json!({"dbConnectionSecretName": "my-db-secret", "dbConnectionString": "postgresql://x"}),
            Some("my-db-secret"),
        ),
        (json!({}), None),
    ];
    for (api_values, secret) in cases {
        let r = render(json!({"apiService": api_values}));
        assert_eq!(
            secret_ref(r.api_container(), "SKYPILOT_DB_CONNECTION_URI"),
            secret.map(|name| json!({"name": name, "key": "connection_string"})),
            "{api_values}"
        );
    }
}

// ---- authentication ----

#[test]
fn service_account_tokens_follow_auth_then_the_deprecated_switch() {
    let cases = [
        // (auth.serviceAccount.enabled, apiService.enableServiceAccounts, ENABLE_SERVICE_ACCOUNTS)
        (json!(true), json!(false), true),
        (json!(false), json!(true), false),
        (json!(null), json!(false), false),
        (json!(null), json!(true), true),
    ];
    for (auth_enabled, api_enabled, expected) in cases {
        let r = render(json!({
            "auth": {"serviceAccount": {"enabled": auth_enabled}},
            "apiService": {"enableServiceAccounts": api_enabled},
        }));
        let set = env(r.api_container(), "ENABLE_SERVICE_ACCOUNTS");
        assert_eq!(set.is_some(), expected, "{auth_enabled} {api_enabled}");
        if let Some(entry) = set {
            assert_eq!(entry["value"], "true");
        }
    }
}

#[test]
fn ingress_basic_auth_is_announced_and_rules_out_service_accounts() {
    let cases = [
        (
            json!({"enabled": true, "authSecret": "my-auth-secret"}),
            true,
        ),
        (
            json!({"enabled": true, "authCredentials": "user:password"}),
            true,
        ),
        (json!({"enabled": true}), false),
        (
            json!({"enabled": false, "authSecret": "my-auth-secret"}),
            false,
        ),
    ];
    for (ingress, basic_auth) in cases {
        let r = render(json!({"ingress": ingress}));
        let api = r.api_container();
        assert_eq!(
            env(api, "SKYPILOT_INGRESS_BASIC_AUTH_ENABLED").map(|e| e["value"].clone()),
            basic_auth.then(|| json!("true")),
            "{ingress}"
        );
        assert_eq!(
            env(api, "ENABLE_SERVICE_ACCOUNTS").is_some(),
            !basic_auth,
            "{ingress}"
        );
    }
    assert!(
        env(
            render(json!({})).api_container(),
            "SKYPILOT_INGRESS_BASIC_AUTH_ENABLED"
        )
        .is_none()
    );
}

#[test]
fn initial_basic_auth_reaches_the_server_only_when_it_does_basic_auth() {
    let cases = [
        // (apiService values, ingress.oauth2-proxy.enabled, expected secret)
        (
            json!({"enableUserManagement": true, "initialBasicAuthSecret": "my-auth-secret"}),
            false,
            Some("my-auth-secret"),
        ),
        (
            json!({"enableUserManagement": true, "initialBasicAuthCredentials": "user:password"}),
            false,
            Some("skypilot-initial-basic-auth"),
        ),
        // Upstream's suite expects no variable here, but the chart's default
        // initialBasicAuthCredentials is set, so its template (and Helm) names the chart's Secret.
        (
            json!({"enableUserManagement": true}),
            false,
            Some("skypilot-initial-basic-auth"),
        ),
        (
            json!({"enableUserManagement": true, "initialBasicAuthCredentials": null}),
            false,
            None,
        ),
        (
            json!({"enableUserManagement": false, "initialBasicAuthSecret": "my-auth-secret"}),
            false,
            None,
        ),
        (
            json!({"enableUserManagement": true, "initialBasicAuthSecret": "my-auth-secret"}),
            true,
            None,
        ),
    ];
    for (api_values, oauth2_proxy, secret) in cases {
        let r = render(json!({
            "apiService": api_values,
            "ingress": {"oauth2-proxy": oauth2_proxy_values(oauth2_proxy)},
        }));
        assert_eq!(
            secret_ref(r.api_container(), "SKYPILOT_INITIAL_BASIC_AUTH"),
            secret.map(|name| json!({"name": name, "key": "auth"})),
            "{api_values} {oauth2_proxy}"
        );
    }
}

#[test]
fn user_management_without_oauth2_proxy_starts_the_server_with_basic_auth() {
    let cases = [
        (false, false, "--deploy"),
        (true, false, "--deploy --enable-basic-auth"),
        (true, true, "--deploy"),
    ];
    for (user_management, oauth2_proxy, args) in cases {
        let r = render(json!({
            "apiService": {"enableUserManagement": user_management},
            "ingress": {"oauth2-proxy": oauth2_proxy_values(oauth2_proxy)},
        }));
        let expected = format!("exec sky api start {args} --foreground > /tmp/skylog 2>&1");
        assert!(
            script(r.api_container()).contains(&expected),
            "{user_management} {oauth2_proxy}"
        );
    }
}

#[test]
fn auth_oauth_points_the_server_at_its_oauth2_proxy() {
    let r = render(json!({"auth": {"oauth": {
        "enabled": true,
        "oidc-issuer-url": "https://example.okta.com/oauth2/default",
        "client-id": "test-client-id",
        "client-secret": "test-client-secret",
    }}}));
    let api = r.api_container();
    assert!(has(
        &api["env"],
        json!({"name": "SKYPILOT_AUTH_OAUTH2_PROXY_ENABLED", "value": "true"})
    ));
    assert!(has(
        &api["env"],
        json!({"name": "SKYPILOT_AUTH_OAUTH2_PROXY_BASE_URL", "value": "http://skypilot-oauth2-proxy:4180"})
    ));
    let plain = render(json!({}));
    assert!(env(plain.api_container(), "SKYPILOT_AUTH_OAUTH2_PROXY_ENABLED").is_none());
}

#[test]
fn server_config_is_mounted_behind_an_external_proxy_or_the_ingress_oauth2_proxy() {
    let cases = [
        (json!({}), false),
        (json!({"auth": {"externalProxy": {"enabled": true}}}), true),
        (
            json!({"ingress": {"oauth2-proxy": oauth2_proxy_values(true)}}),
            true,
        ),
        (
            json!({"ingress": {"enabled": false, "oauth2-proxy": oauth2_proxy_values(true)}}),
            false,
        ),
    ];
    for (values, mounted) in cases {
        let r = render(values.clone());
        assert_eq!(
            has(
                &r.api_container()["volumeMounts"],
                json!({"name": "skypilot-server-config", "mountPath": "/root/.sky/.server.yaml", "subPath": "server.yaml", "readOnly": true})
            ),
            mounted,
            "{values}"
        );
        assert_eq!(
            has(
                &r.api_pod_spec()["volumes"],
                json!({"name": "skypilot-server-config", "configMap": {"name": "skypilot-server-config"}})
            ),
            mounted,
            "{values}"
        );
    }
}

#[test]
fn auth_user_header_name_is_passed_to_the_server() {
    let r = render(json!({"apiService": {"authUserHeaderName": "X-Forwarded-Email"}}));
    assert_eq!(
        env(r.api_container(), "SKYPILOT_AUTH_USER_HEADER").unwrap()["value"],
        "X-Forwarded-Email"
    );
}

#[test]
fn ingress_host_is_passed_to_the_server_while_the_ingress_is_on() {
    let r = render(json!({"ingress": {"host": "sky.example.com"}}));
    assert_eq!(
        env(r.api_container(), "SKYPILOT_INGRESS_HOST").unwrap()["value"],
        "sky.example.com"
    );
    // Without a host the chart still declares the variable, with a null value.
    let r = render(json!({}));
    assert_eq!(
        env(r.api_container(), "SKYPILOT_INGRESS_HOST").unwrap(),
        &json!({"name": "SKYPILOT_INGRESS_HOST", "value": null})
    );
    let r = render(json!({"ingress": {"enabled": false}}));
    assert!(env(r.api_container(), "SKYPILOT_INGRESS_HOST").is_none());
}

// ---- cloud credentials ----

#[test]
fn r2_credentials_are_written_by_an_init_container() {
    let r = render(json!({
        "r2Credentials": {"enabled": true, "r2SecretName": "my-r2-secret"},
        "apiService": {"image": "test-image:latest"},
    }));
    let pod = r.api_pod_spec();
    assert!(has(
        &pod["volumes"],
        json!({"name": "r2-config", "emptyDir": {}})
    ));
    assert!(has(
        &r.api_container()["volumeMounts"],
        json!({"name": "r2-config", "mountPath": "/root/.cloudflare", "readOnly": true})
    ));
    let setup = init(pod, "setup-r2-credentials").unwrap();
    assert_eq!(pod["initContainers"][0]["name"], "setup-r2-credentials");
    assert!(script_of_init(setup).contains("cat > /root/.cloudflare/r2.credentials"));
    assert_eq!(
        setup["env"],
        json!([
            {"name": "R2_CREDENTIALS", "valueFrom": {"secretKeyRef": {"name": "my-r2-secret", "key": "r2.credentials"}}},
            {"name": "R2_ACCOUNT_ID", "valueFrom": {"secretKeyRef": {"name": "my-r2-secret", "key": "accountid"}}},
        ])
    );
    assert_eq!(
        setup["volumeMounts"],
        json!([{"name": "r2-config", "mountPath": "/root/.cloudflare"}])
    );
    assert_eq!(setup["image"], "test-image:latest");
}

/// An init container's script: its only argument, after `sh -c` in `command`.
fn script_of_init(container: &Value) -> &str {
    assert_eq!(container["command"], json!(["/bin/sh", "-c"]));
    container["args"][0].as_str().unwrap()
}

#[test]
fn r2_default_secret_name() {
    let r = render(json!({"r2Credentials": {"enabled": true}}));
    let setup = init(r.api_pod_spec(), "setup-r2-credentials").unwrap();
    assert_eq!(
        setup["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        "r2-credentials"
    );
}

#[test]
fn aws_access_keys_are_turned_into_a_config_by_an_init_container() {
    for aws in [
        json!({"enabled": true, "useCredentialsFile": false}),
        json!({"enabled": true}),
    ] {
        let r = render(json!({"awsCredentials": aws}));
        let pod = r.api_pod_spec();
        assert!(has(
            &pod["volumes"],
            json!({"name": "aws-config", "emptyDir": {}})
        ));
        assert!(volume(pod, "aws-config-files").is_none());
        assert!(has(
            &r.api_container()["volumeMounts"],
            json!({"name": "aws-config", "mountPath": "/root/.aws", "readOnly": true})
        ));
        let create = init(pod, "create-aws-credentials").unwrap();
        assert_eq!(
            create["volumeMounts"],
            json!([{"name": "aws-config", "mountPath": "/root/.aws"}])
        );
        assert_eq!(
            create["env"],
            json!([
                {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "aws-credentials", "key": "aws_access_key_id"}}},
                {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "aws-credentials", "key": "aws_secret_access_key"}}},
            ])
        );
    }
}

#[test]
fn aws_access_keys_come_from_the_named_secret_and_keys() {
    let r = render(json!({"awsCredentials": {
        "enabled": true,
        "useCredentialsFile": false,
        "awsSecretName": "my-custom-secret",
        "accessKeyIdKeyName": "my_key_id",
        "secretAccessKeyKeyName": "my_secret_key",
    }}));
    let create = init(r.api_pod_spec(), "create-aws-credentials").unwrap();
    assert_eq!(
        create["env"],
        json!([
            {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "my-custom-secret", "key": "my_key_id"}}},
            {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "my-custom-secret", "key": "my_secret_key"}}},
        ])
    );
}

#[test]
fn aws_credentials_file_mounts_the_secret_directly() {
    for (secret, expected) in [
        (None, "aws-credentials"),
        (Some("my-aws-profiles"), "my-aws-profiles"),
    ] {
        let mut aws = json!({"enabled": true, "useCredentialsFile": true});
        if let Some(secret) = secret {
            aws["awsSecretName"] = json!(secret);
        }
        let r = render(json!({"awsCredentials": aws}));
        let pod = r.api_pod_spec();
        assert!(has(
            &pod["volumes"],
            json!({"name": "aws-config-files", "secret": {"secretName": expected}})
        ));
        assert!(volume(pod, "aws-config").is_none());
        assert!(has(
            &r.api_container()["volumeMounts"],
            json!({"name": "aws-config-files", "mountPath": "/root/.aws", "readOnly": true})
        ));
        assert!(init(pod, "create-aws-credentials").is_none());
    }
}

#[test]
fn without_cloud_credentials_there_are_no_init_containers_or_credential_mounts() {
    let r = render(json!({}));
    let pod = r.api_pod_spec();
    assert_eq!(pod["initContainers"], Value::Null);
    assert_eq!(
        mount_paths(r.api_container()),
        [
            "/root/.sky",
            "/root/.ssh",
            "/root/sky_logs",
            "/var/skypilot/config"
        ]
    );
    let volumes: Vec<&str> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(volumes, ["state-volume", "skypilot-config"]);
}

#[test]
fn coreweave_credentials_are_copied_into_a_writable_directory() {
    let r = render(
        json!({"coreweaveCredentials": {"enabled": true, "coreweaveSecretName": "my-coreweave-secret"}}),
    );
    let pod = r.api_pod_spec();
    assert!(has(
        &pod["volumes"],
        json!({"name": "coreweave-credentials", "secret": {"secretName": "my-coreweave-secret"}})
    ));
    assert!(has(
        &pod["volumes"],
        json!({"name": "coreweave-config", "emptyDir": {}})
    ));
    assert!(has(
        &r.api_container()["volumeMounts"],
        json!({"name": "coreweave-config", "mountPath": "/root/.coreweave", "readOnly": true})
    ));
    let setup = init(pod, "setup-coreweave-credentials").unwrap();
    assert_eq!(
        setup["volumeMounts"],
        json!([
            {"name": "coreweave-credentials", "mountPath": "/root/.coreweave_credentials"},
            {"name": "coreweave-config", "mountPath": "/root/.coreweave"},
        ])
    );
    assert_eq!(
        script_of_init(setup),
        "cp /root/.coreweave_credentials/* /root/.coreweave/\n"
    );
    // Without global envs the container declares none at all.
    assert!(setup.get("env").is_none());
}

/// The clouds whose API key an init container writes into an emptyDir the server reads.
#[test]
fn api_key_clouds_write_their_key_with_an_init_container() {
    let cases = [
        // (values key, secret key, init container, volume, server mount, init mount, variable)
        (
            "runpodCredentials",
            "runpodSecretName",
            "create-runpod-credentials",
            "runpod-config",
            "/root/.runpod",
            "/root/.runpod",
            "RUNPOD_API_KEY",
        ),
        (
            "lambdaCredentials",
            "lambdaSecretName",
            "create-lambda-credentials",
            "lambda-config",
            "/root/.lambda_cloud",
            "/root/.lambda_cloud",
            "LAMBDA_API_KEY",
        ),
        (
            "vastCredentials",
            "vastSecretName",
            "create-vast-credentials",
            "vast-config",
            "/root/.config/vastai",
            "/root/.config/vastai",
            "VAST_API_KEY",
        ),
        (
            "digitaloceanCredentials",
            "digitaloceanSecretName",
            "create-digitalocean-credentials",
            "digitalocean-config",
            "/root/.config/doctl",
            "/.config/doctl",
            "DIGITALOCEAN_CREDENTIALS",
        ),
    ];
    for (key, secret_key, init_name, volume_name, server_path, init_path, variable) in cases {
        let default_secret = format!("{}-credentials", key.trim_end_matches("Credentials"));
        for (secret, expected_secret) in [(None, default_secret.as_str()), (Some("mine"), "mine")] {
            let mut cloud = json!({"enabled": true});
            if let Some(secret) = secret {
                cloud[secret_key] = json!(secret);
            }
            let r = render(json!({ key: cloud }));
            let pod = r.api_pod_spec();
            assert!(
                has(
                    &pod["volumes"],
                    json!({"name": volume_name, "emptyDir": {}})
                ),
                "{key}"
            );
            assert!(
                has(
                    &r.api_container()["volumeMounts"],
                    json!({"name": volume_name, "mountPath": server_path, "readOnly": true})
                ),
                "{key}"
            );
            let create = init(pod, init_name).unwrap_or_else(|| panic!("{key}: no {init_name}"));
            assert_eq!(
                create["env"],
                json!([{"name": variable, "valueFrom": {"secretKeyRef": {"name": expected_secret, "key": "api_key"}}}]),
                "{key}"
            );
            assert_eq!(
                create["volumeMounts"],
                json!([{"name": volume_name, "mountPath": init_path}]),
                "{key}"
            );
            assert_eq!(
                create["securityContext"],
                json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}),
                "{key}"
            );
        }
        let r = render(json!({ key: {"enabled": false} }));
        assert!(init(r.api_pod_spec(), init_name).is_none(), "{key}");
        assert!(volume(r.api_pod_spec(), volume_name).is_none(), "{key}");
    }
}

#[test]
fn gcp_credentials_set_the_project_in_an_init_container() {
    let r = render(
        json!({"gcpCredentials": {"enabled": true, "projectId": "my-proj", "gcpSecretName": "gcp-key"}}),
    );
    let pod = r.api_pod_spec();
    assert!(has(
        &pod["volumes"],
        json!({"name": "gcp-credentials", "secret": {"secretName": "gcp-key"}})
    ));
    assert!(has(
        &pod["volumes"],
        json!({"name": "gcp-config", "emptyDir": {}})
    ));
    let api = r.api_container();
    assert!(has(
        &api["env"],
        json!({"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/root/gcp-cred.json"})
    ));
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "gcp-credentials", "mountPath": "/root/gcp-cred.json", "subPath": "gcp-cred.json"})
    ));
    let setup = init(pod, "setup-gcp-credentials").unwrap();
    assert_eq!(setup["image"], "google/cloud-sdk:latest");
    assert_eq!(
        setup["args"],
        json!([
            "gcloud auth activate-service-account --key-file=/root/gcp-cred.json\ngcloud config set project my-proj\n"
        ])
    );
}

#[test]
fn nebius_credentials_are_linked_by_the_server_script() {
    let r = render(
        json!({"nebiusCredentials": {"enabled": true, "tenantId": "tenant-1", "nebiusSecretName": "nb"}}),
    );
    let pod = r.api_pod_spec();
    assert!(has(
        &pod["volumes"],
        json!({"name": "nebius-credentials", "secret": {"secretName": "nb"}})
    ));
    let api = r.api_container();
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "nebius-credentials", "mountPath": "/root/.nebius_credentials"})
    ));
    assert!(script(api).contains("echo \"tenant-1\" >> /root/.nebius/NEBIUS_TENANT_ID.txt\n"));
    assert!(
        pod["initContainers"].is_null(),
        "Nebius needs no init container"
    );
    assert!(!script(render(json!({})).api_container()).contains("Setting up Nebius"));
}

#[test]
fn slurm_config_is_mounted_from_the_charts_secret() {
    let r = render(
        json!({"slurmCredentials": {"config": "Host mycluster\n    HostName login.mycluster.myorg.com\n    User myuser\n    IdentityFile ~/.ssh/id_rsa\n"}}),
    );
    assert!(has(
        &r.api_container()["volumeMounts"],
        json!({"name": "slurm-config", "mountPath": "/root/.slurm"})
    ));
    assert!(has(
        &r.api_pod_spec()["volumes"],
        json!({"name": "slurm-config", "secret": {"secretName": "skypilot-slurm-config"}})
    ));
    let plain = render(json!({}));
    assert!(mount(plain.api_container(), "slurm-config", "/root/.slurm").is_none());
    assert!(volume(plain.api_pod_spec(), "slurm-config").is_none());
}

#[test]
fn ssh_key_secret_is_linked_into_the_ssh_directory() {
    let r = render(json!({"apiService": {"sshKeySecret": "my-keys"}}));
    // The chart's `defaultMode: 0600`, as Kubernetes reads it.
    assert!(has(
        &r.api_pod_spec()["volumes"],
        json!({"name": "skypilot-ssh-identity", "secret": {"secretName": "my-keys", "defaultMode": 0o600}})
    ));
    let api = r.api_container();
    assert!(has(
        &api["volumeMounts"],
        json!({"name": "skypilot-ssh-identity", "mountPath": "/var/skypilot/ssh_keys"})
    ));
    assert!(script(api).contains("for file in /var/skypilot/ssh_keys/*; do"));
}

// ---- the server's start script and log handling ----

#[test]
fn server_logs_go_to_a_file_by_default() {
    let r = render(json!({"apiService": {"serveServerLog": true}}));
    let text = script(r.api_container());
    assert!(text.contains("tee -a /root/.sky/api_server/server.log"));
    assert!(text.contains("mkdir -p /root/.sky/api_server"));
    assert!(text.contains("if [ -n \"${SKYPILOT_SERVER_LOG_MIRROR_DIR"));
    assert!(text.contains("SKYPILOT_LOG_MIRROR_PER_POD_DIR"));
    assert_eq!(script(render(json!({})).api_container()), text);
}

#[test]
fn without_a_server_log_file_logs_only_go_to_stdout_or_the_mirror() {
    let r = render(json!({"apiService": {"serveServerLog": false}}));
    let text = script(r.api_container());
    assert!(!text.contains("tee -a /root/.sky/api_server/server.log"));
    assert!(!text.contains("mkdir -p /root/.sky/api_server"));
    assert!(text.contains("if [ -n \"${SKYPILOT_SERVER_LOG_MIRROR_DIR"));
    assert!(text.contains("tee -a \"$SKYPILOT_LOG_MIRROR_FILE\" < /tmp/skylog"));
    assert!(text.ends_with("else\n  exec sky api start --deploy --foreground\nfi\n"));
}

#[test]
fn logrotate_runs_only_for_a_server_log_file_with_retention() {
    let cases = [
        // (serveServerLog, logs.retention.enabled, logrotate present)
        (true, true, true),
        (false, true, false),
        (true, false, false),
    ];
    for (serve, retention, present) in cases {
        let r = render(json!({"apiService": {
            "serveServerLog": serve,
            "logs": {"retention": {"enabled": retention}},
        }}));
        assert_eq!(
            container(r.api_pod_spec(), "logrotate").is_some(),
            present,
            "{serve} {retention}"
        );
    }
}

#[test]
fn logrotate_caps_the_log_at_the_retention_size() {
    let r = render(json!({"apiService": {"logs": {"retention": {"size": "50M"}}}}));
    let logrotate = container(r.api_pod_spec(), "logrotate").unwrap();
    assert!(script_of_init(logrotate).contains("\n    size 50M\n"));
}

#[test]
fn the_pre_deploy_hook_runs_first_and_may_be_empty() {
    let r = render(json!({"apiService": {"preDeployHook": "pip install my-policy"}}));
    assert!(
        script(r.api_container())
            .starts_with("set -e\n\npip install my-policy\nmkdir -p /root/.sky\n")
    );
    let r = render(json!({"apiService": {"preDeployHook": ""}}));
    assert!(script(r.api_container()).starts_with("set -e\nmkdir -p /root/.sky\n"));
}

#[test]
fn dev_mode_opens_the_container_and_holds_it_without_a_server() {
    let r = render(json!({"apiService": {"devMode": {"enabled": true}}}));
    let api = r.api_container();
    assert_eq!(
        api["securityContext"],
        json!({"privileged": true, "runAsUser": 0, "runAsGroup": 0, "readOnlyRootFilesystem": false})
    );
    assert!(api.get("livenessProbe").is_none());
    assert!(api.get("readinessProbe").is_none());
    let text = script(api);
    assert!(text.ends_with("exec tail -f /dev/null\n"));
    assert!(!text.contains("exec sky api start"));
}

// ---- probes ----

#[test]
fn default_probes() {
    let r = render(json!({}));
    let api = r.api_container();
    assert_eq!(
        api["livenessProbe"],
        json!({"httpGet": {"path": "/api/health", "port": 46580}, "periodSeconds": 30, "timeoutSeconds": 1})
    );
    assert_eq!(
        api["readinessProbe"],
        json!({
            "httpGet": {"path": "/api/health", "port": 46580},
            "failureThreshold": 3,
            "periodSeconds": 5,
            "initialDelaySeconds": 5,
            "timeoutSeconds": 1,
            "successThreshold": 1,
        })
    );
}

#[test]
fn readiness_success_threshold_follows_the_strategy_unless_set() {
    let rolling = json!({
        "upgradeStrategy": "RollingUpdate",
        "dbConnectionString": "postgres://test",
    });
    let cases = [
        (json!({"upgradeStrategy": "Recreate"}), json!({}), 1),
        (rolling.clone(), json!({"accessMode": "ReadWriteMany"}), 3),
        (
            json!({"readinessProbe": {"successThreshold": 7}}),
            json!({}),
            7,
        ),
        (
            {
                let mut v = rolling.clone();
                v["readinessProbe"] = json!({"successThreshold": 2});
                v
            },
            json!({"accessMode": "ReadWriteMany"}),
            2,
        ),
    ];
    for (api_values, storage, threshold) in cases {
        let r = render(json!({"apiService": api_values, "storage": storage}));
        assert_eq!(
            r.api_container()["readinessProbe"]["successThreshold"],
            threshold,
            "{api_values}"
        );
    }
}

#[test]
fn user_probe_specs_replace_the_default_fields() {
    let r = render(json!({"apiService": {
        "livenessProbe": {
            "httpGet": {"path": "/livez", "port": 46581},
            "periodSeconds": 60,
            "failureThreshold": 5,
            "initialDelaySeconds": 30,
            "timeoutSeconds": 3,
        },
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": 46581},
            "failureThreshold": 2,
            "periodSeconds": 10,
            "initialDelaySeconds": 15,
            "timeoutSeconds": 2,
        },
    }}));
    let api = r.api_container();
    assert_eq!(
        api["livenessProbe"],
        json!({
            "httpGet": {"path": "/livez", "port": 46581},
            "periodSeconds": 60,
            "failureThreshold": 5,
            "initialDelaySeconds": 30,
            "timeoutSeconds": 3,
        })
    );
    assert_eq!(
        api["readinessProbe"],
        json!({
            "httpGet": {"path": "/readyz", "port": 46581},
            "failureThreshold": 2,
            "periodSeconds": 10,
            "initialDelaySeconds": 15,
            "timeoutSeconds": 2,
            "successThreshold": 1,
        })
    );
}

#[test]
fn other_probe_kinds_pass_through() {
    // Values merge as in Helm: the default httpGet stays unless set to null.
    let r = render(json!({"apiService": {
        "livenessProbe": {"exec": {"command": ["/bin/true"]}, "periodSeconds": 30},
        "readinessProbe": {"tcpSocket": {"port": 46580}, "periodSeconds": 5},
    }}));
    let api = r.api_container();
    assert_eq!(api["livenessProbe"]["exec"]["command"][0], "/bin/true");
    assert_eq!(api["readinessProbe"]["tcpSocket"]["port"], 46580);
    assert_eq!(api["livenessProbe"]["httpGet"]["path"], "/api/health");

    let r = render(json!({"apiService": {
        "livenessProbe": {"httpGet": null, "exec": {"command": ["/bin/true"]}},
    }}));
    assert_eq!(
        r.api_container()["livenessProbe"],
        json!({"exec": {"command": ["/bin/true"]}, "periodSeconds": 30, "timeoutSeconds": 1})
    );
}

#[test]
fn null_probes_are_left_out() {
    let r = render(json!({"apiService": {"livenessProbe": null, "readinessProbe": null}}));
    let api = r.api_container();
    assert!(api.get("livenessProbe").is_none());
    assert!(api.get("readinessProbe").is_none());
}

// ---- environment ----

#[test]
fn pod_ip_comes_from_the_downward_api_unless_extra_envs_set_it() {
    let pod_ip =
        json!({"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}});
    let r = render(json!({}));
    assert!(has(&r.api_container()["env"], pod_ip.clone()));
    assert_eq!(r.api_container()["env"].as_array().unwrap().len(), 9);

    let r = render(json!({"apiService": {"extraEnvs": [
        pod_ip.clone(),
        {"name": "SOME_OTHER_ENV", "value": "x"},
    ]}}));
    let api = r.api_container();
    assert!(has(&api["env"], pod_ip.clone()));
    assert!(has(
        &api["env"],
        json!({"name": "SOME_OTHER_ENV", "value": "x"})
    ));
    assert_eq!(api["env"].as_array().unwrap().len(), 10);

    let r = render(json!({"global": {"extraEnvs": [pod_ip]}}));
    assert_eq!(r.api_container()["env"].as_array().unwrap().len(), 9);
}

#[test]
fn extra_envs_come_first_global_ones_before_the_servers() {
    let r = render(json!({
        "global": {"extraEnvs": [{"name": "G", "value": "1"}]},
        "apiService": {"extraEnvs": [{"name": "A", "value": "2"}]},
    }));
    assert_eq!(
        env_names(r.api_container())[..3],
        ["G", "A", "SKYPILOT_DEV"]
    );
}

#[test]
fn default_environment() {
    let r = render(json!({}));
    assert_eq!(
        env_names(r.api_container()),
        [
            "SKYPILOT_DEV",
            "SKYPILOT_RELEASE_NAME",
            "SKYPILOT_INGRESS_HOST",
            "ENABLE_SERVICE_ACCOUNTS",
            "SKYPILOT_GRACE_PERIOD_SECONDS",
            "SKYPILOT_API_SERVER_STORAGE_ENABLED",
            "SKYPILOT_POD_CPU_CORE_LIMIT",
            "SKYPILOT_POD_MEMORY_BYTES_LIMIT",
            "POD_IP",
        ]
    );
}

#[test]
fn grace_period_is_the_pods_and_the_servers() {
    let r = render(json!({"apiService": {"terminationGracePeriodSeconds": 300}}));
    assert_eq!(r.api_pod_spec()["terminationGracePeriodSeconds"], 300);
    assert_eq!(
        env(r.api_container(), "SKYPILOT_GRACE_PERIOD_SECONDS").unwrap()["value"],
        "300"
    );
}

// ---- metrics ----

#[test]
fn metrics_annotate_the_pod_for_prometheus() {
    let cases = [(false, "prometheus.io"), (true, "skypilot.co")];
    for (dedicated, prefix) in cases {
        let r = render(json!({
            "apiService": {"metrics": {"enabled": true, "port": 9191}},
            "prometheus": {"useDedicatedScrapeConfig": dedicated},
        }));
        let deployment = r.object("Deployment", "skypilot-api-server");
        assert_eq!(
            deployment["spec"]["template"]["metadata"]["annotations"],
            json!({
                format!("{prefix}/scrape"): "true",
                format!("{prefix}/path"): "/metrics",
                format!("{prefix}/port"): "9191",
            })
        );
        assert_eq!(
            env(r.api_container(), "SKY_API_SERVER_METRICS_ENABLED").unwrap()["value"],
            "true"
        );
    }
    let r = render(json!({}));
    let deployment = r.object("Deployment", "skypilot-api-server");
    assert!(deployment["spec"]["template"]["metadata"]["annotations"].is_null());
    assert!(env(r.api_container(), "SKY_API_SERVER_METRICS_ENABLED").is_none());
}

#[test]
fn pod_annotations_are_added_to_the_metrics_ones() {
    let r = render(json!({"apiService": {
        "metrics": {"enabled": true},
        "annotations": {"example.com/team": "ml"},
    }}));
    let annotations = &r.object("Deployment", "skypilot-api-server")["spec"]["template"]["metadata"]
        ["annotations"];
    assert_eq!(annotations["example.com/team"], "ml");
    assert_eq!(annotations["prometheus.io/port"], "9090");
}

// ---- extra containers, volumes and pod settings ----

#[test]
fn sidecars_extra_init_containers_and_extra_volumes_are_appended() {
    let r = render(json!({
        "apiService": {
            "sidecarContainers": [{"name": "my-sidecar", "image": "busybox", "args": ["sleep", "3600"]}],
            "extraVolumes": [{"name": "my-volume", "secret": {"secretName": "my-secret"}}],
            "extraVolumeMounts": [{"name": "my-volume", "mountPath": "/my-path", "subPath": "my-file"}],
        },
        "extraInitContainers": [{"name": "my-init", "image": "busybox"}],
        "awsCredentials": {"enabled": true},
        "r2Credentials": {"enabled": true},
    }));
    let pod = r.api_pod_spec();
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(&pod["containers"]),
        ["skypilot-api", "logrotate", "my-sidecar"]
    );
    assert_eq!(
        pod["containers"][2],
        json!({"name": "my-sidecar", "image": "busybox", "args": ["sleep", "3600"]})
    );
    assert_eq!(
        names(&pod["initContainers"]),
        ["create-aws-credentials", "setup-r2-credentials", "my-init"]
    );
    // Extra volumes come after the chart's own, before the R2 one.
    assert_eq!(
        names(&pod["volumes"]),
        [
            "state-volume",
            "aws-config",
            "skypilot-config",
            "my-volume",
            "r2-config"
        ]
    );
    let mounts = r.api_container()["volumeMounts"].as_array().unwrap();
    assert_eq!(
        mounts.last().unwrap(),
        &json!({"name": "my-volume", "mountPath": "/my-path", "subPath": "my-file"})
    );
}

#[test]
fn runtime_class_is_set_or_left_null() {
    let r = render(json!({"runtimeClassName": "gvisor"}));
    assert_eq!(r.api_pod_spec()["runtimeClassName"], "gvisor");
    let r = render(json!({}));
    assert_eq!(r.api_pod_spec()["runtimeClassName"], Value::Null);
}

#[test]
fn security_contexts_apply_to_the_pod_the_server_and_the_init_containers() {
    let container_context = json!({"runAsNonRoot": true, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}});
    let r = render(json!({
        "podSecurityContext": {"fsGroup": 1000},
        "securityContext": container_context,
        "gcpCredentials": {"enabled": true},
    }));
    let pod = r.api_pod_spec();
    assert_eq!(pod["securityContext"], json!({"fsGroup": 1000}));
    // Values merge with the defaults, so allowPrivilegeEscalation stays.
    let mut expected = container_context.clone();
    expected["allowPrivilegeEscalation"] = json!(false);
    assert_eq!(r.api_container()["securityContext"], expected);
    assert_eq!(
        init(pod, "setup-gcp-credentials").unwrap()["securityContext"],
        expected
    );
    assert!(
        container(pod, "logrotate")
            .unwrap()
            .get("securityContext")
            .is_none()
    );

    let r = render(json!({}));
    assert!(r.api_pod_spec().get("securityContext").is_none());
}

#[test]
fn scheduling_constraints_reach_the_pod() {
    let r = render(json!({"apiService": {
        "nodeSelector": {"pool": "cpu"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]
        }}},
        "topologySpreadTopologyKey": "topology.kubernetes.io/zone",
    }}));
    let pod = r.api_pod_spec();
    assert_eq!(pod["nodeSelector"], json!({"pool": "cpu"}));
    assert_eq!(
        pod["tolerations"],
        json!([{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}])
    );
    assert_eq!(
        pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            [0]["matchExpressions"][0]["key"],
        "zone"
    );
    assert_eq!(
        pod["topologySpreadConstraints"],
        json!([{
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "skypilot-api"}},
        }])
    );
    let r = render(json!({}));
    let pod = r.api_pod_spec();
    for field in [
        "nodeSelector",
        "tolerations",
        "affinity",
        "topologySpreadConstraints",
    ] {
        assert!(pod.get(field).is_none(), "{field}");
    }
}

#[test]
fn replicas_image_pull_policy_and_resources_are_the_values() {
    let r = render(json!({"apiService": {
        "replicas": 2,
        "imagePullPolicy": "IfNotPresent",
        "resources": {"requests": {"cpu": "8", "memory": "16Gi"}, "limits": null},
    }}));
    assert_eq!(
        r.object("Deployment", "skypilot-api-server")["spec"]["replicas"],
        2
    );
    let api = r.api_container();
    assert_eq!(api["imagePullPolicy"], "IfNotPresent");
    assert_eq!(
        api["resources"],
        json!({"requests": {"cpu": "8", "memory": "16Gi"}})
    );
}

#[test]
#[should_panic(expected = "invalid test values")]
fn extra_env_entries_must_be_objects_as_the_charts_schema_says() {
    render(json!({"apiService": {"extraEnvs": ["FOO=bar"]}}));
}

/// `ingress.oauth2-proxy`, on or off; on, with the keys the chart requires of it.
fn oauth2_proxy_values(enabled: bool) -> serde_json::Value {
    if enabled {
        json!({"enabled": true, "oidc-issuer-url": "https://login.example.com",
               "client-id": "id", "client-secret": "secret"})
    } else {
        json!({"enabled": false})
    }
}
