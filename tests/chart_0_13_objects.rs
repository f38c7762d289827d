//! Chart 0.13.0's objects other than the API server Deployment, value by value: the
//! assertions of upstream's helm-unittest suites (ingress_test, oauth2_test, api_secrets_test,
//! db_secrets_test), restated for skyctl, plus what `lookup` changes.
//!
//! Upstream renders one template at a time; here the whole chart renders, so cases that turn
//! on oauth2-proxy carry the OIDC settings the chart requires, and cases whose values the chart
//! as a whole rejects (its `fail` checks) are left out. Upstream's release is `RELEASE-NAME`;
//! ours is `skypilot`, so names read `skypilot-...`. Three upstream cases have no counterpart:
//! the legacy `kubernetes.io/ingress.class` annotation for Kubernetes before 1.18 (skyctl
//! supports 1.18 and later only), the Ingress with both `auth.oauth` and
//! `ingress.oauth2-proxy` enabled (the chart refuses that pair), and the API server's OAuth
//! environment (api-deployment's own tests). metrics_test covers the prometheus and grafana
//! subcharts, which skyctl does not deploy.

mod support;

use serde_json::{Value, json};
use skyctl::manifest::ObjectRef;
use skyctl::render::Lookups;
use support::render::{Rendered, named, render_chart, render_chart_seeing};

const VERSION: &str = "0.13.0";
const ISSUER: &str = "https://example.okta.com/oauth2/default";

fn render_013(values: Value) -> Rendered {
    render_chart(VERSION, "skypilot", "skypilot", values)
}

/// Renders with `live` as what `lookup` finds in the cluster.
fn render_013_with_live(values: Value, live: Vec<(ObjectRef, Value)>) -> Rendered {
    render_chart_seeing(
        VERSION,
        "skypilot",
        "skypilot",
        values,
        Lookups::answer(live),
    )
}

fn object_ref(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: namespace.map(Into::into),
        name: name.into(),
    }
}

/// `base` with `extra` merged into it, maps key by key.
fn merged(mut base: Value, extra: Value) -> Value {
    fn merge(into: &mut Value, from: Value) {
        match (into, from) {
            (Value::Object(into), Value::Object(from)) => {
                for (key, value) in from {
                    merge(into.entry(key).or_insert(Value::Null), value);
                }
            }
            (into, from) => *into = from,
        }
    }
    merge(&mut base, extra);
    base
}

/// oauth2-proxy in front of the Ingress (`ingress.oauth2-proxy`), with `extra` proxy settings.
fn ingress_oauth(extra: Value) -> Value {
    json!({
        "auth": {"oauth": {"enabled": false}},
        "ingress": {
            "enabled": true,
            "oauth2-proxy": merged(json!({
                "enabled": true,
                "oidc-issuer-url": ISSUER,
                "client-id": "test-client-id",
                "client-secret": "test-client-secret",
            }), extra),
        },
    })
}

/// oauth2-proxy for the API server's own OAuth (`auth.oauth`), with `extra` settings.
fn server_oauth(extra: Value) -> Value {
    json!({
        "auth": {"oauth": merged(json!({
            "enabled": true,
            "oidc-issuer-url": ISSUER,
            "client-id": "test-client-id",
            "client-secret": "test-client-secret",
        }), extra)},
    })
}

fn annotations<'a>(rendered: &'a Rendered, kind: &str, name: &str) -> &'a Value {
    &rendered.object(kind, name)["metadata"]["annotations"]
}

fn ingress_annotations(rendered: &Rendered) -> &Value {
    annotations(rendered, "Ingress", "skypilot-ingress")
}

fn container<'a>(rendered: &'a Rendered, deployment: &str) -> &'a Value {
    &rendered.object("Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]
}

fn proxy_args(rendered: &Rendered) -> Vec<&str> {
    container(rendered, "skypilot-oauth2-proxy")["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap())
        .collect()
}

fn proxy_env(rendered: &Rendered) -> &Value {
    &container(rendered, "skypilot-oauth2-proxy")["env"]
}

/// The oauth2-proxy objects rendered, by kind and name, sorted.
fn oauth2_objects(rendered: &Rendered) -> Vec<String> {
    let mut ids: Vec<String> = rendered
        .identities()
        .into_iter()
        .filter(|id| id.contains("oauth2-proxy"))
        .collect();
    ids.sort();
    ids
}

const AUTH_SIGNIN: &str = "nginx.ingress.kubernetes.io/auth-signin";
const AUTH_URL: &str = "nginx.ingress.kubernetes.io/auth-url";
const AUTH_RESPONSE_HEADERS: &str = "nginx.ingress.kubernetes.io/auth-response-headers";
const AUTH_SNIPPET: &str = "nginx.ingress.kubernetes.io/auth-snippet";
const AUTH_TYPE: &str = "nginx.ingress.kubernetes.io/auth-type";
const AUTH_REALM: &str = "nginx.ingress.kubernetes.io/auth-realm";
const AUTH_SECRET: &str = "nginx.ingress.kubernetes.io/auth-secret";

// ---- ingress_test ----

#[test]
fn the_ingress_follows_ingress_enabled() {
    let on = render_013(json!({"ingress": {"enabled": true}}));
    assert_eq!(
        on.object("Ingress", "skypilot-ingress")["kind"],
        json!("Ingress")
    );
    let off = render_013(json!({"ingress": {"enabled": false}}));
    assert!(off.get("Ingress", "skypilot-ingress").is_none());
}

#[test]
fn oauth2_proxy_at_the_ingress_sends_browsers_to_it_over_the_configured_scheme() {
    for (use_https, scheme) in [(false, "http"), (true, "https")] {
        let rendered = render_013(ingress_oauth(json!({"use-https": use_https})));
        let annotations = ingress_annotations(&rendered);
        assert_eq!(
            annotations[AUTH_SIGNIN],
            format!("{scheme}://$host/oauth2/start?rd=$escaped_request_uri"),
            "use-https {use_https}"
        );
        assert_eq!(
            annotations[AUTH_URL],
            format!("{scheme}://$host/oauth2/auth")
        );
        assert_eq!(
            annotations[AUTH_RESPONSE_HEADERS],
            "X-Auth-Request-Email, X-Skypilot-Auth"
        );
        let snippet = annotations[AUTH_SNIPPET].as_str().unwrap();
        assert!(
            snippet.contains(r#"if ($http_authorization ~ "^Bearer sky_.+")"#),
            "{snippet}"
        );
    }
}

#[test]
fn oauth2_proxy_at_the_ingress_works_without_auth_oauth_settings() {
    // Upstream's "auth.oauth is not configured": only the ingress proxy is set.
    let mut values = ingress_oauth(json!({}));
    values.as_object_mut().unwrap().remove("auth");
    let rendered = render_013(values);
    let annotations = ingress_annotations(&rendered);
    assert_eq!(
        annotations[AUTH_SIGNIN],
        "http://$host/oauth2/start?rd=$escaped_request_uri"
    );
    assert_eq!(annotations[AUTH_URL], "http://$host/oauth2/auth");
    assert_eq!(
        annotations[AUTH_RESPONSE_HEADERS],
        "X-Auth-Request-Email, X-Skypilot-Auth"
    );
}

#[test]
fn basic_auth_at_the_ingress_names_its_secret() {
    let cases = [
        (json!({"authSecret": "my-auth-secret"}), "my-auth-secret"),
        (
            json!({"authCredentials": "user:pass"}),
            "skypilot-basic-auth",
        ),
    ];
    for (ingress, secret) in cases {
        let rendered = render_013(json!({
            "ingress": merged(json!({"enabled": true}), ingress.clone()),
            "apiService": {"enableUserManagement": false},
        }));
        let annotations = ingress_annotations(&rendered);
        assert_eq!(annotations[AUTH_TYPE], "basic", "{ingress}");
        assert_eq!(annotations[AUTH_REALM], "SkyPilot API Server");
        assert_eq!(annotations[AUTH_SECRET], secret);
    }
}

#[test]
fn user_management_in_the_server_takes_basic_auth_off_the_ingress() {
    let rendered = render_013(json!({
        "ingress": {"enabled": true, "authCredentials": "user:pass"},
        "apiService": {"enableUserManagement": true},
    }));
    let annotations = ingress_annotations(&rendered);
    for key in [AUTH_TYPE, AUTH_REALM, AUTH_SECRET] {
        assert!(annotations.get(key).is_none(), "{key} is set");
    }
}

#[test]
fn the_ingress_always_allows_long_and_large_requests() {
    let rendered = render_013(json!({"ingress": {"enabled": true}}));
    let annotations = ingress_annotations(&rendered);
    assert_eq!(
        annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"],
        "3600"
    );
    assert_eq!(
        annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"],
        "3600"
    );
    assert_eq!(
        annotations["nginx.ingress.kubernetes.io/proxy-body-size"],
        "1000m"
    );
}

#[test]
fn a_sub_path_is_rewritten_and_the_root_path_is_not() {
    let rewrite = "nginx.ingress.kubernetes.io/rewrite-target";
    let ingress_path = "skypilot.co/ingress-path";

    let sub = render_013(json!({"ingress": {"enabled": true, "path": "/api"}}));
    let annotations = ingress_annotations(&sub);
    assert_eq!(annotations[rewrite], "/$2");
    assert_eq!(annotations[ingress_path], "/api");
    let path = &sub.object("Ingress", "skypilot-ingress")["spec"]["rules"][0]["http"]["paths"][0];
    assert_eq!(path["path"], "/api(/|$)(.*)");
    assert_eq!(path["pathType"], "ImplementationSpecific");

    let root = render_013(json!({"ingress": {"enabled": true, "path": "/"}}));
    let annotations = ingress_annotations(&root);
    assert!(annotations.get(rewrite).is_none());
    assert!(annotations.get(ingress_path).is_none());
    let path = &root.object("Ingress", "skypilot-ingress")["spec"]["rules"][0]["http"]["paths"][0];
    assert_eq!(path["path"], "/");
    assert_eq!(path["pathType"], "Prefix");
}

#[test]
fn the_ingress_class_is_a_spec_field_not_the_legacy_annotation() {
    let rendered = render_013(json!({"ingress": {"enabled": true, "ingressClassName": "nginx"}}));
    let ingress = rendered.object("Ingress", "skypilot-ingress");
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    assert!(
        ingress["metadata"]["annotations"]
            .get("kubernetes.io/ingress.class")
            .is_none()
    );
}

#[test]
fn the_ingress_host_is_the_configured_one_or_null() {
    let with_host = render_013(json!({"ingress": {"enabled": true, "host": "api.example.com"}}));
    assert_eq!(
        with_host.object("Ingress", "skypilot-ingress")["spec"]["rules"][0]["host"],
        "api.example.com"
    );
    let without = render_013(json!({"ingress": {"enabled": true}}));
    let rule = &without.object("Ingress", "skypilot-ingress")["spec"]["rules"][0];
    assert_eq!(rule.get("host"), Some(&Value::Null));
}

#[test]
fn the_ingress_routes_to_the_api_service_port_80() {
    let rendered = render_013(json!({"ingress": {"enabled": true}}));
    let backend = &rendered.object("Ingress", "skypilot-ingress")["spec"]["rules"][0]["http"]["paths"]
        [0]["backend"]["service"];
    assert_eq!(backend["name"], "skypilot-api-service");
    assert_eq!(backend["port"]["number"], 80);
}

#[test]
fn rolling_updates_retry_on_502_and_pin_clients_unless_affinity_is_off() {
    const NEXT_UPSTREAM: &str = "nginx.ingress.kubernetes.io/proxy-next-upstream";
    const NEXT_UPSTREAM_TRIES: &str = "nginx.ingress.kubernetes.io/proxy-next-upstream-tries";
    const AFFINITY: [&str; 4] = [
        "nginx.ingress.kubernetes.io/affinity",
        "nginx.ingress.kubernetes.io/session-cookie-name",
        "nginx.ingress.kubernetes.io/affinity-mode",
        "nginx.ingress.kubernetes.io/session-cookie-change-on-failure",
    ];
    let rolling = |session_affinity: bool| {
        json!({
            "ingress": {"enabled": true, "sessionAffinity": session_affinity},
            "apiService": {
                "upgradeStrategy": "RollingUpdate",
                "dbConnectionSecretName": "test-db-secret",
            },
            "storage": {"enabled": false},
        })
    };

    let pinned = render_013(rolling(true));
    let annotations = ingress_annotations(&pinned);
    assert_eq!(annotations[NEXT_UPSTREAM], "http_502 non_idempotent");
    assert_eq!(annotations[NEXT_UPSTREAM_TRIES], "3");
    assert_eq!(annotations[AFFINITY[0]], "cookie");
    assert_eq!(annotations[AFFINITY[1]], "SKYPILOT_ROUTEID");
    assert_eq!(annotations[AFFINITY[2]], "persistent");
    assert_eq!(annotations[AFFINITY[3]], "true");

    let unpinned = render_013(rolling(false));
    let annotations = ingress_annotations(&unpinned);
    assert_eq!(annotations[NEXT_UPSTREAM], "http_502 non_idempotent");
    assert_eq!(annotations[NEXT_UPSTREAM_TRIES], "3");
    for key in AFFINITY {
        assert!(annotations.get(key).is_none(), "{key} is set");
    }

    let recreate = render_013(json!({
        "ingress": {"enabled": true},
        "apiService": {"upgradeStrategy": "Recreate"},
    }));
    let annotations = ingress_annotations(&recreate);
    for key in AFFINITY
        .into_iter()
        .chain([NEXT_UPSTREAM, NEXT_UPSTREAM_TRIES])
    {
        assert!(annotations.get(key).is_none(), "{key} is set");
    }
}

// ---- oauth2_test ----

#[test]
fn no_oauth2_proxy_objects_without_either_setting() {
    let rendered = render_013(json!({
        "auth": {"oauth": {"enabled": false}},
        "ingress": {"oauth2-proxy": {"enabled": false}},
    }));
    assert_eq!(oauth2_objects(&rendered), Vec::<String>::new());
}

#[test]
fn either_setting_brings_the_proxy_its_service_and_redis_and_only_the_ingress_one_an_ingress() {
    let proxy = [
        "Deployment/skypilot-oauth2-proxy",
        "Deployment/skypilot-oauth2-proxy-redis",
        "Service/skypilot-oauth2-proxy",
        "Service/skypilot-oauth2-proxy-redis",
    ];
    let at_ingress = render_013(ingress_oauth(json!({})));
    let mut expected: Vec<&str> = proxy.to_vec();
    expected.insert(2, "Ingress/skypilot-oauth2-proxy");
    assert_eq!(oauth2_objects(&at_ingress), expected);

    let in_server = render_013(server_oauth(json!({})));
    assert_eq!(oauth2_objects(&in_server), proxy.to_vec());
}

#[test]
fn the_ingress_proxy_takes_its_settings_from_ingress_oauth2_proxy() {
    let rendered = render_013(ingress_oauth(json!({
        "email-domain": "example.com",
        "session-store-type": "redis",
    })));
    let deployment = rendered.object("Deployment", "skypilot-oauth2-proxy");
    assert_eq!(deployment["kind"], "Deployment");
    let args = proxy_args(&rendered);
    for expected in [
        "--oidc-issuer-url=https://example.okta.com/oauth2/default",
        "--email-domain=example.com",
        "--redis-connection-url=redis://$(SERVICE_NAME)-oauth2-proxy-redis:6379/0",
    ] {
        assert!(args.contains(&expected), "{expected} not in {args:?}");
    }
    let env = proxy_env(&rendered);
    assert_eq!(env[0]["name"], "OAUTH2_PROXY_CLIENT_ID");
    assert_eq!(env[0]["value"], "test-client-id");
    assert_eq!(env[1]["name"], "OAUTH2_PROXY_CLIENT_SECRET");
    assert_eq!(env[1]["value"], "test-client-secret");
}

#[test]
fn global_extra_envs_reach_the_proxy_and_redis() {
    let rendered = render_013(merged(
        ingress_oauth(json!({})),
        json!({"global": {"extraEnvs": [{"name": "GLOBAL_ENV", "value": "global"}]}}),
    ));
    let expected = json!({"name": "GLOBAL_ENV", "value": "global"});
    for deployment in ["skypilot-oauth2-proxy", "skypilot-oauth2-proxy-redis"] {
        assert_eq!(
            named(&container(&rendered, deployment)["env"], "GLOBAL_ENV"),
            Some(&expected),
            "{deployment}"
        );
    }
}

#[test]
fn client_details_from_a_secret_are_read_from_it() {
    let rendered = render_013(json!({
        "auth": {"oauth": {"enabled": false}},
        "ingress": {"enabled": true, "oauth2-proxy": {
            "enabled": true,
            "oidc-issuer-url": ISSUER,
            "client-details-from-secret": "oauth-secret",
        }},
    }));
    let env = proxy_env(&rendered);
    for (index, key) in [(0, "client-id"), (1, "client-secret")] {
        let reference = &env[index]["valueFrom"]["secretKeyRef"];
        assert_eq!(reference["name"], "oauth-secret");
        assert_eq!(reference["key"], key);
    }
}

#[test]
fn a_redis_of_the_users_own_replaces_the_bundled_one() {
    let by_url = render_013(ingress_oauth(
        json!({"redis-url": "redis://external-redis:6379/1"}),
    ));
    assert!(proxy_args(&by_url).contains(&"--redis-connection-url=redis://external-redis:6379/1"));
    assert!(
        by_url
            .get("Deployment", "skypilot-oauth2-proxy-redis")
            .is_none()
    );
    assert!(
        by_url
            .get("Service", "skypilot-oauth2-proxy-redis")
            .is_none()
    );

    // `ingress.oauth2-proxy.redis-secret` is read by the chart though its defaults lack it.
    for values in [
        server_oauth(json!({"redis-secret": "redis-credentials"})),
        ingress_oauth(json!({"redis-secret": "redis-credentials"})),
    ] {
        let by_secret = render_013(values);
        assert!(proxy_args(&by_secret).contains(&"--redis-connection-url=$(REDIS_URL)"));
        assert_eq!(
            named(proxy_env(&by_secret), "REDIS_URL"),
            Some(&json!({
                "name": "REDIS_URL",
                "valueFrom": {"secretKeyRef": {"name": "redis-credentials", "key": "redis_url"}},
            }))
        );
        assert!(
            by_secret
                .get("Deployment", "skypilot-oauth2-proxy-redis")
                .is_none()
        );
        assert!(
            by_secret
                .get("Service", "skypilot-oauth2-proxy-redis")
                .is_none()
        );
    }
}

#[test]
fn cookie_sessions_need_no_redis() {
    let rendered = render_013(ingress_oauth(json!({"session-store-type": "cookie"})));
    let args = proxy_args(&rendered);
    assert!(args.contains(&"--session-store-type=cookie"));
    assert!(
        !args
            .iter()
            .any(|arg| arg.starts_with("--redis-connection-url"))
    );
    assert!(
        rendered
            .get("Deployment", "skypilot-oauth2-proxy-redis")
            .is_none()
    );
}

#[test]
fn the_proxys_ingress_serves_oauth2_on_the_api_host() {
    let rendered = render_013(merged(
        ingress_oauth(json!({})),
        json!({"ingress": {"host": "api.example.com"}}),
    ));
    let ingress = rendered.object("Ingress", "skypilot-oauth2-proxy");
    let rule = &ingress["spec"]["rules"][0];
    assert_eq!(rule["host"], "api.example.com");
    assert_eq!(rule["http"]["paths"][0]["path"], "/oauth2");
    assert_eq!(
        rule["http"]["paths"][0]["backend"]["service"]["name"],
        "skypilot-oauth2-proxy"
    );
}

#[test]
fn global_image_pull_secrets_reach_the_proxy_and_redis() {
    let rendered = render_013(merged(
        server_oauth(json!({})),
        json!({"global": {"imagePullSecrets": [{"name": "global-pull-secret"}]}}),
    ));
    for deployment in ["skypilot-oauth2-proxy", "skypilot-oauth2-proxy-redis"] {
        let secrets = &rendered.object("Deployment", deployment)["spec"]["template"]["spec"]["imagePullSecrets"];
        assert_eq!(
            secrets,
            &json!([{"name": "global-pull-secret"}]),
            "{deployment}"
        );
    }
}

#[test]
fn images_move_under_the_global_registry() {
    let rendered = render_013(merged(
        server_oauth(json!({"image": "oauth2/proxy:custom", "redis-image": "redis/redis:custom"})),
        json!({"global": {"imageRegistry": "registry.example.com/custom"}}),
    ));
    assert_eq!(
        container(&rendered, "skypilot-oauth2-proxy")["image"],
        "registry.example.com/custom/oauth2/proxy:custom"
    );
    assert_eq!(
        container(&rendered, "skypilot-oauth2-proxy-redis")["image"],
        "registry.example.com/custom/redis/redis:custom"
    );
}

#[test]
fn a_registry_host_in_an_image_gives_way_to_the_global_registry() {
    // The chart's common.image: a first part with '.' or ':' or `localhost` is a registry host.
    let cases = [
        (
            "images.example/oauth2-proxy/oauth2-proxy:v7.9.0",
            "mirror.example/oauth2-proxy/oauth2-proxy:v7.9.0",
        ),
        ("localhost:5000/proxy:1", "mirror.example/proxy:1"),
        ("localhost/proxy:1", "mirror.example/proxy:1"),
        ("/proxy:1", "mirror.example/proxy:1"),
        ("proxy:1", "mirror.example/proxy:1"),
    ];
    for (image, expected) in cases {
        let rendered = render_013(merged(
            server_oauth(json!({"image": image})),
            json!({"global": {"imageRegistry": "mirror.example/"}}),
        ));
        assert_eq!(
            container(&rendered, "skypilot-oauth2-proxy")["image"],
            expected,
            "{image}"
        );
    }
}

#[test]
fn server_side_oauth_has_no_proxy_ingress_and_no_ingress_annotations() {
    let rendered = render_013(merged(
        server_oauth(json!({})),
        json!({"ingress": {"enabled": true}}),
    ));
    assert!(rendered.get("Ingress", "skypilot-oauth2-proxy").is_none());
    let annotations = ingress_annotations(&rendered);
    for key in [AUTH_SIGNIN, AUTH_URL, AUTH_RESPONSE_HEADERS, AUTH_SNIPPET] {
        assert!(annotations.get(key).is_none(), "{key} is set");
    }
}

#[test]
fn cookie_timings_reach_the_proxy() {
    let rendered = render_013(server_oauth(
        json!({"cookie-refresh": 3600, "cookie-expire": 7200}),
    ));
    let args = proxy_args(&rendered);
    assert!(args.contains(&"--cookie-refresh=3600"), "{args:?}");
    assert!(args.contains(&"--cookie-expire=7200"), "{args:?}");
}

#[test]
fn the_proxy_service_listens_on_4180() {
    let rendered = render_013(server_oauth(json!({})));
    let service = rendered.object("Service", "skypilot-oauth2-proxy");
    assert_eq!(service["spec"]["ports"][0]["port"], 4180);
    assert_eq!(service["spec"]["ports"][0]["targetPort"], 4180);
    assert_eq!(service["spec"]["selector"]["app"], "skypilot-oauth2-proxy");
}

#[test]
fn bundled_redis_is_a_deployment_and_a_service() {
    let rendered = render_013(server_oauth(json!({})));
    assert_eq!(
        container(&rendered, "skypilot-oauth2-proxy-redis")["image"],
        "redis:7-alpine"
    );
    assert!(
        rendered
            .get("Service", "skypilot-oauth2-proxy-redis")
            .is_some()
    );
}

#[test]
fn the_proxy_and_redis_are_placed_like_the_api_server() {
    let scheduling = json!({"apiService": {
        "nodeSelector": {"pool": "system"},
        "tolerations": [{"key": "components.gke.io/gke-managed-components", "operator": "Exists"}],
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {"app": "skypilot-api"}},
            "topologyKey": "kubernetes.io/hostname",
        }]}},
    }});
    let rendered = render_013(merged(server_oauth(json!({})), scheduling));
    for deployment in ["skypilot-oauth2-proxy", "skypilot-oauth2-proxy-redis"] {
        let pod = &rendered.object("Deployment", deployment)["spec"]["template"]["spec"];
        assert_eq!(pod["nodeSelector"]["pool"], "system", "{deployment}");
        assert_eq!(
            pod["tolerations"][0]["key"],
            "components.gke.io/gke-managed-components"
        );
        assert_eq!(
            pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
                ["topologyKey"],
            "kubernetes.io/hostname"
        );
    }

    let legacy = render_013(merged(
        ingress_oauth(json!({})),
        json!({"apiService": {"nodeSelector": {"role": "control-plane"}}}),
    ));
    for deployment in ["skypilot-oauth2-proxy", "skypilot-oauth2-proxy-redis"] {
        let pod = &legacy.object("Deployment", deployment)["spec"]["template"]["spec"];
        assert_eq!(pod["nodeSelector"]["role"], "control-plane", "{deployment}");
    }
}

// ---- api_secrets_test and db_secrets_test ----

const SLURM_CONFIG: &str = "Host mycluster\n    HostName login.mycluster.myorg.com\n    User myuser\n    IdentityFile ~/.ssh/id_rsa\n";

fn secrets(rendered: &Rendered) -> Vec<String> {
    rendered
        .identities()
        .into_iter()
        .filter(|id| id.starts_with("Secret/") && !id.contains("ingress-nginx-admission"))
        .collect()
}

#[test]
fn ssh_node_pools_and_slurm_config_each_get_a_secret() {
    let cases = [
        (json!({}), vec![]),
        (
            json!({"slurmCredentials": {"config": SLURM_CONFIG}}),
            vec!["Secret/skypilot-slurm-config"],
        ),
        (
            json!({
                "apiService": {"sshNodePools": "node_pools:\n  - name: test\n"},
                "slurmCredentials": {"config": SLURM_CONFIG},
            }),
            vec![
                "Secret/skypilot-ssh-node-pools",
                "Secret/skypilot-slurm-config",
            ],
        ),
    ];
    for (values, expected) in cases {
        let rendered = render_013(values.clone());
        assert_eq!(secrets(&rendered), expected, "{values}");
    }
    let rendered = render_013(json!({"slurmCredentials": {"config": SLURM_CONFIG}}));
    let config = rendered.object("Secret", "skypilot-slurm-config")["stringData"]["config"]
        .as_str()
        .unwrap();
    assert!(config.contains("Host mycluster"), "{config}");
}

#[test]
fn only_an_inline_database_url_gets_a_secret() {
    let url = "postgresql://user:pass@host:5432/db";
    let inline = render_013(json!({"apiService": {"dbConnectionString": url}}));
    assert_eq!(secrets(&inline), ["Secret/skypilot-db-connection"]);
    assert_eq!(
        inline.object("Secret", "skypilot-db-connection")["stringData"]["connection_string"],
        url
    );

    for values in [
        json!({"apiService": {"dbConnectionSecretName": "external-db-secret"}}),
        json!({}),
    ] {
        assert_eq!(
            secrets(&render_013(values.clone())),
            Vec::<String>::new(),
            "{values}"
        );
    }
}

// ---- beyond upstream's suites ----

#[test]
fn keys_the_templates_read_but_the_defaults_lack_are_accepted() {
    // render_013 validates against the schema and fails the test on an unknown key.
    render_013(json!({
        "auth": {"disableBasicAuthMiddleware": true, "oauth": {"image": null}},
        "ingress": {"oauth2-proxy": {"redis-secret": null}},
    }));
}

#[test]
fn a_unified_ingress_carries_the_oauth2_path_itself() {
    let rendered = render_013(merged(
        ingress_oauth(json!({})),
        json!({"ingress": {"unified": true}}),
    ));
    assert!(rendered.get("Ingress", "skypilot-oauth2-proxy").is_none());
    let paths =
        &rendered.object("Ingress", "skypilot-ingress")["spec"]["rules"][0]["http"]["paths"];
    assert_eq!(
        paths[1],
        json!({
            "pathType": "Prefix",
            "path": "/oauth2",
            "backend": {"service": {"name": "skypilot-oauth2-proxy", "port": {"number": 4180}}},
        })
    );
}

#[test]
fn tls_and_user_annotations_reach_the_ingress() {
    let rendered = render_013(json!({"ingress": {
        "host": "api.example.com",
        "tls": {"enabled": true},
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
    }}));
    let ingress = rendered.object("Ingress", "skypilot-ingress");
    assert_eq!(
        ingress["spec"]["tls"],
        json!([{"hosts": ["api.example.com"], "secretName": "skypilot-tls-secrets"}])
    );
    assert_eq!(
        ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"],
        "letsencrypt"
    );
}

#[test]
fn an_external_proxy_configures_the_servers_identity_header() {
    let rendered = render_013(json!({"auth": {"externalProxy": {
        "enabled": true,
        "headerName": "X-Amzn-Oidc-Data",
        "headerFormat": "jwt",
        "jwtIdentityClaim": "email",
    }}}));
    assert_eq!(
        rendered.object("ConfigMap", "skypilot-server-config")["data"]["server.yaml"],
        "auth:\n  external_proxy:\n    enabled: true\n    header_name: \"X-Amzn-Oidc-Data\"\n    header_format: \"jwt\"\n    jwt_identity_claim: \"email\""
    );
    assert!(
        render_013(json!({}))
            .get("ConfigMap", "skypilot-server-config")
            .is_none()
    );
}

#[test]
fn fullname_override_names_every_object() {
    let rendered = render_013(merged(
        ingress_oauth(json!({})),
        json!({"fullnameOverride": "custom-name", "apiService": {"sshNodePools": "x: 1"}}),
    ));
    for id in rendered.identities() {
        let name = id.split_once('/').unwrap().1;
        assert!(
            name.starts_with("custom-name-")
                || name.starts_with("skypilot-ingress-nginx")
                || name == "skypilot-system"
                || name == "nginx",
            "{id}"
        );
    }
    let binding = rendered.object("ClusterRoleBinding", "custom-name-api-role-binding");
    assert_eq!(binding["subjects"][0]["name"], "custom-name-api-sa");
}

#[test]
fn rbac_switches_shape_the_roles() {
    let off = render_013(json!({"rbac": {"create": false}}));
    for kind in [
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "Namespace",
    ] {
        assert!(
            off.identities()
                .iter()
                .all(|id| !id.starts_with(&format!("{kind}/skypilot-"))
                    || id.contains("ingress-nginx")),
            "{kind} rendered: {:?}",
            off.identities()
        );
    }

    let rbac_rule = json!({
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["clusterroles", "clusterrolebindings"],
        "verbs": ["*"],
    });
    let managed = render_013(json!({}));
    let rules = managed.object("ClusterRole", "skypilot-api-role")["rules"]
        .as_array()
        .unwrap();
    assert!(rules.contains(&rbac_rule));
    let unmanaged = render_013(json!({"rbac": {
        "manageRbacPolicies": false,
        "manageSystemComponents": false,
        "serviceAccountName": "my-sa",
    }}));
    let rules = unmanaged.object("ClusterRole", "skypilot-api-role")["rules"]
        .as_array()
        .unwrap();
    assert!(!rules.contains(&rbac_rule));
    assert!(unmanaged.get("Namespace", "skypilot-system").is_none());
    assert!(unmanaged.get("Role", "skypilot-system-role").is_none());
    assert!(unmanaged.get("ServiceAccount", "my-sa").is_some());
    assert_eq!(
        unmanaged.object("RoleBinding", "skypilot-api-role-binding")["subjects"][0]["name"],
        "my-sa"
    );
}

// ---- lookup: what the cluster already has ----

#[test]
fn an_existing_skypilot_system_namespace_is_not_rendered() {
    let absent = render_013(json!({}));
    let namespace = absent.object("Namespace", "skypilot-system");
    assert_eq!(
        namespace["metadata"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );

    let present = render_013_with_live(
        json!({}),
        vec![(
            object_ref("v1", "Namespace", None, "skypilot-system"),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "skypilot-system"}}),
        )],
    );
    assert!(present.get("Namespace", "skypilot-system").is_none());
    assert!(present.get("Role", "skypilot-system-role").is_some());
}

#[test]
fn a_separate_in_cluster_namespace_is_created_and_kept_unless_it_exists() {
    let values = json!({"kubernetesCredentials": {"inclusterNamespace": "sky-jobs"}});
    let absent = render_013(values.clone());
    assert_eq!(
        absent.object("Namespace", "sky-jobs")["metadata"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );
    let role = absent.object("Role", "skypilot-api-role");
    assert_eq!(role["metadata"]["namespace"], "sky-jobs");

    let present = render_013_with_live(
        values,
        vec![(
            object_ref("v1", "Namespace", None, "sky-jobs"),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sky-jobs"}}),
        )],
    );
    assert!(present.get("Namespace", "sky-jobs").is_none());
    assert!(
        present
            .get("RoleBinding", "skypilot-api-role-binding")
            .is_some()
    );
}

#[test]
fn an_existing_client_details_secret_decides_the_key_spelling() {
    let values = json!({"auth": {"oauth": {
        "enabled": true,
        "oidc-issuer-url": ISSUER,
        "client-details-from-secret": "oauth-secret",
    }}});
    let secret = |keys: &[&str]| {
        let data: serde_json::Map<String, Value> = keys
            .iter()
            .map(|key| ((*key).to_owned(), json!("eA==")))
            .collect();
        vec![(
            object_ref("v1", "Secret", Some("skypilot"), "oauth-secret"),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "oauth-secret"}, "data": data}),
        )]
    };
    let cases: [(&[&str], [&str; 2]); 4] = [
        (
            &["client_id", "client_secret"],
            ["client_id", "client_secret"],
        ),
        (
            &["client-id", "client-secret"],
            ["client-id", "client-secret"],
        ),
        (
            &["client-id", "client_id", "client_secret"],
            ["client-id", "client_secret"],
        ),
        (
            &["client_id", "client-secret"],
            ["client_id", "client-secret"],
        ),
    ];
    for (keys, expected) in cases {
        let rendered = render_013_with_live(values.clone(), secret(keys));
        let env = proxy_env(&rendered);
        assert_eq!(
            [
                env[0]["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap(),
                env[1]["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap(),
            ],
            expected,
            "{keys:?}"
        );
    }
}

#[test]
fn the_running_proxys_cookie_secret_is_kept_and_a_new_one_is_random() {
    let cookie = |rendered: &Rendered| {
        named(proxy_env(rendered), "OAUTH2_PROXY_COOKIE_SECRET")
            .unwrap()
            .get("value")
            .cloned()
    };
    let first = cookie(&render_013(server_oauth(json!({})))).unwrap();
    let second = cookie(&render_013(server_oauth(json!({})))).unwrap();
    assert_ne!(first, second, "a fresh secret each time");
    for secret in [&first, &second] {
        let decoded = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            secret.as_str().unwrap(),
        )
        .unwrap();
        assert_eq!(decoded.len(), 32);
        assert!(decoded.iter().all(u8::is_ascii_alphanumeric));
    }

    let running = |env: Value| {
        vec![(
            object_ref(
                "apps/v1",
                "Deployment",
                Some("skypilot"),
                "skypilot-oauth2-proxy",
            ),
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "skypilot-oauth2-proxy"},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "sidecar", "env": [{"name": "OAUTH2_PROXY_COOKIE_SECRET", "value": "not-this"}]},
                    {"name": "oauth2-proxy", "env": env},
                ]}}},
            }),
        )]
    };
    let kept = render_013_with_live(
        server_oauth(json!({})),
        running(json!([
            {"name": "OAUTH2_PROXY_CLIENT_ID", "value": "x"},
            {"name": "OAUTH2_PROXY_COOKIE_SECRET", "value": "c2VjcmV0LWZyb20tdGhlLWNsdXN0ZXItMTIzNDU2Nzg="},
        ])),
    );
    assert_eq!(
        cookie(&kept),
        Some(json!("c2VjcmV0LWZyb20tdGhlLWNsdXN0ZXItMTIzNDU2Nzg="))
    );

    // As upstream: a running proxy without the variable leaves it without a value.
    let without = render_013_with_live(
        server_oauth(json!({})),
        running(json!([{"name": "OAUTH2_PROXY_CLIENT_ID", "value": "x"}])),
    );
    assert_eq!(cookie(&without), None);
}
