//! skyctl's own front doors (`skyctl.frontDoor`), as `template` renders them and as bad input
//! is refused: a Gateway's HTTPRoute, a standard Ingress for the cluster's own controller, and
//! no ingress-nginx object behind either. No cluster: every refusal here exits 2 before skyctl
//! reads its kubeconfig, which points nowhere.

mod support;

use serde::Deserialize;
use serde_json::{Value, json};
use support::cluster::unreachable_kubeconfig;
use support::skyctl::skyctl;

/// The objects `skyctl template` prints for `args`.
fn template(args: &[&str]) -> Vec<Value> {
    let outcome = skyctl()
        .default_chart()
        .args(["template", "sky", "-n", "team"])
        .args(args)
        .run()
        .success();
    serde_yaml_ng::Deserializer::from_str(&outcome.stdout)
        .map(|document| Value::deserialize(document).unwrap())
        .filter(|object| !object.is_null())
        .collect()
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

/// Nothing of ingress-nginx: no controller, no IngressClass, no admission webhook, and no
/// object that carries its labels.
fn assert_no_ingress_nginx(objects: &[Value]) {
    for object in objects {
        let kind = object["kind"].as_str().unwrap();
        let name = object["metadata"]["name"].as_str().unwrap();
        assert!(
            !matches!(kind, "IngressClass" | "ValidatingWebhookConfiguration"),
            "{kind}/{name}"
        );
        assert!(!name.contains("ingress-nginx"), "{kind}/{name}");
        assert_ne!(
            object["metadata"]["labels"]["app.kubernetes.io/name"], "ingress-nginx",
            "{kind}/{name}"
        );
    }
}

#[test]
fn a_gateway_door_renders_an_http_route_and_nothing_of_ingress_nginx() {
    let objects = template(&[
        "--gateway",
        "infra/public:https",
        "--hostname",
        "sky.example.com",
        "--set",
        "apiService.enableUserManagement=true",
    ]);
    assert_no_ingress_nginx(&objects);
    assert!(of_kind(&objects, "Ingress").is_empty());
    let routes = of_kind(&objects, "HTTPRoute");
    assert_eq!(routes.len(), 1);
    let route = routes[0];
    assert_eq!(route["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_eq!(route["metadata"]["name"], "sky-api-route");
    assert_eq!(route["metadata"]["namespace"], "team");
    assert_eq!(
        route["spec"]["parentRefs"],
        json!([{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                "name": "public", "namespace": "infra", "sectionName": "https"}])
    );
    assert_eq!(route["spec"]["hostnames"], json!(["sky.example.com"]));
    let rule = &route["spec"]["rules"][0];
    assert_eq!(
        rule["matches"],
        json!([{"path": {"type": "PathPrefix", "value": "/"}}])
    );
    assert!(rule.get("filters").is_none(), "{rule}");
    assert_eq!(
        rule["backendRefs"],
        json!([{"name": "sky-api-service", "port": 80}])
    );
    // SkyPilot's streams last as long as their work: no limit on the request.
    assert_eq!(rule["timeouts"], json!({"request": "0s"}));
}

#[test]
fn a_gateway_in_the_releases_namespace_on_every_listener_and_host() {
    let objects = template(&["--gateway", "public"]);
    let route = of_kind(&objects, "HTTPRoute")[0];
    assert_eq!(
        route["spec"]["parentRefs"],
        json!([{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                "name": "public", "namespace": "team"}])
    );
    assert!(route["spec"].get("hostnames").is_none(), "{route}");
}

#[test]
fn a_path_below_a_gateway_is_stripped_before_the_server_sees_it() {
    let objects = template(&["--gateway", "public", "--set", "ingress.path=/sky"]);
    let rule = &of_kind(&objects, "HTTPRoute")[0]["spec"]["rules"][0];
    assert_eq!(
        rule["matches"],
        json!([{"path": {"type": "PathPrefix", "value": "/sky"}}])
    );
    assert_eq!(
        rule["filters"],
        json!([{"type": "URLRewrite", "urlRewrite": {"path": {
            "type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}])
    );
}

#[test]
fn the_door_is_values_so_a_values_file_chooses_it_as_the_flags_do() {
    let by_flags = template(&["--gateway", "infra/public", "--hostname", "sky.example.com"]);
    let by_values = template(&[
        "--set",
        "skyctl.frontDoor=gateway,skyctl.gateway.name=public,skyctl.gateway.namespace=infra",
        "--set",
        "ingress-nginx.enabled=false,ingress.host=sky.example.com",
    ]);
    assert_eq!(by_flags, by_values);
}

#[test]
fn another_ingress_class_gets_a_standard_ingress_without_nginx_annotations() {
    let objects = template(&[
        "--ingress-class",
        "traefik",
        "--hostname",
        "sky.example.com",
        "--set",
        "apiService.enableUserManagement=true",
        "--set-json",
        r#"ingress.annotations={"example.com/team":"ml"}"#,
    ]);
    assert_no_ingress_nginx(&objects);
    assert!(of_kind(&objects, "HTTPRoute").is_empty());
    let ingresses = of_kind(&objects, "Ingress");
    assert_eq!(ingresses.len(), 1);
    let ingress = ingresses[0];
    // The user's own annotations stay; none of ingress-nginx's, which another controller
    // would ignore.
    assert_eq!(
        ingress["metadata"]["annotations"],
        json!({"example.com/team": "ml"})
    );
    assert_eq!(ingress["spec"]["ingressClassName"], "traefik");
    assert_eq!(
        ingress["spec"]["rules"],
        json!([{"host": "sky.example.com", "http": {"paths": [{
            "pathType": "Prefix", "path": "/",
            "backend": {"service": {"name": "sky-api-service", "port": {"number": 80}}}}]}}])
    );
}

#[test]
fn the_default_door_is_still_the_charts_ingress_nginx() {
    let objects = template(&[]);
    assert!(of_kind(&objects, "HTTPRoute").is_empty());
    assert_eq!(of_kind(&objects, "IngressClass").len(), 1);
    let ingress = of_kind(&objects, "Ingress")[0];
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    assert!(
        ingress["metadata"]["annotations"]
            .as_object()
            .unwrap()
            .keys()
            .any(|key| key.starts_with("nginx.ingress.kubernetes.io/"))
    );
}

/// Exits 2 before reading the kubeconfig, with every `needles` in the message.
fn refused(args: &[&str], needles: &[&str]) {
    let (_dir, kubeconfig) = unreachable_kubeconfig();
    let outcome = skyctl()
        .default_chart()
        .kubeconfig(&kubeconfig)
        .args(args)
        .env_remove("SKYCTL_WEB_PASSWORD")
        .run()
        .code(2);
    for needle in needles {
        assert!(
            outcome.stderr.contains(needle),
            "{args:?}: no {needle:?} in:\n{}",
            outcome.stderr
        );
    }
}

#[test]
fn values_a_door_cannot_serve_are_refused_naming_the_keys() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "--set",
                "skyctl.frontDoor=gateway,ingress-nginx.enabled=false",
            ],
            &["skyctl.gateway.name", "--gateway NAMESPACE/NAME"],
        ),
        (
            &["--set", "skyctl.frontDoor=gateway,skyctl.gateway.name=g"],
            &[
                "ingress-nginx.enabled=true (from skyctl's defaults)",
                "exclude each other",
                "set ingress-nginx.enabled=false",
            ],
        ),
        (
            &["--gateway", "g", "--set", "ingress.enabled=false"],
            &["ingress.enabled", "set ingress.enabled=true"],
        ),
        (
            &["--ingress-class", "traefik", "--set", "ingress.path=/sky"],
            &[
                "ingress.path=\"/sky\" (from --set ingress.path=/sky)",
                "--gateway",
            ],
        ),
        (
            &[
                "--gateway",
                "g",
                "--set",
                "ingress.authCredentials=ada:$apr1$x$y",
            ],
            &[
                "skyctl.frontDoor=\"gateway\" (from --gateway g)",
                "ingress.authCredentials (from --set ingress.authCredentials=***)",
                "--auth users",
            ],
        ),
        (
            &[
                "--ingress-class",
                "traefik",
                "--set",
                "ingress.authSecret=mine",
            ],
            &["ingress.authSecret", "--auth users"],
        ),
        (
            &[
                "--gateway",
                "g",
                "--set",
                "ingress.oauth2-proxy.enabled=true,ingress.oauth2-proxy.oidc-issuer-url=https://i.example.com",
                "--set",
                "ingress.oauth2-proxy.client-id=c,ingress.oauth2-proxy.client-secret=s",
            ],
            &["ingress.oauth2-proxy.enabled", "--auth oauth"],
        ),
        (
            &["--version", "1.0.0-dev.20250319", "--gateway", "g"],
            &[
                "serves the API server through its own ingress-nginx only",
                "--version 0.13.0",
            ],
        ),
        (
            &["--set", "skyctl.frontDoor=traefik"],
            &["skyctl.frontDoor: expected one of \"ingress-nginx\", \"gateway\", \"ingress\""],
        ),
        (
            &["--set", "skyctl.gateway.sectionname=https"],
            &["skyctl.gateway.sectionname: unknown key; did you mean skyctl.gateway.sectionName?"],
        ),
    ];
    for (flags, needles) in cases {
        // An upgrade checks the values before reading the cluster when the chart is named.
        let upgrade: &[&str] = if flags.contains(&"--version") {
            &["upgrade", "sky", "-y"]
        } else {
            &["upgrade", "sky", "-y", "--version", "0.13.0"]
        };
        for verb in [&["template", "sky"][..], &["install", "sky", "-y"], upgrade] {
            let args: Vec<&str> = verb.iter().chain(flags.iter()).copied().collect();
            refused(&args, needles);
        }
    }
}

#[test]
fn malformed_door_flags_are_usage_errors_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["--gateway", ""], "'--gateway <[NS/]NAME[:LISTENER]>'"),
        (
            &["--gateway", "Infra/public"],
            "\"Infra\" is not a valid namespace",
        ),
        (
            &["--gateway", "infra/public:"],
            "\"\" is not a valid listener name",
        ),
        (
            &["--gateway", "a/b/c"],
            "\"b/c\" is not a valid Gateway name",
        ),
        (
            &["--ingress-class", "Traefik"],
            "\"Traefik\" is not a valid IngressClass name",
        ),
        (
            &["--hostname", "https://sky.example.com"],
            "is not a valid host name",
        ),
        (
            &["--hostname", "sky.example.com:443"],
            "is not a valid host name",
        ),
        (&["--hostname", "*"], "is not a valid host name"),
        (
            &["--gateway", "g", "--ingress-class", "traefik"],
            "cannot be used with '--ingress-class <CLASS>'",
        ),
    ];
    for (flags, needle) in cases {
        for verb in [
            &["template", "sky"][..],
            &["install", "sky", "-y"],
            &["upgrade", "sky", "-y"],
            &["doctor", "sky"],
        ] {
            let args: Vec<&str> = verb.iter().chain(flags.iter()).copied().collect();
            refused(&args, &[needle]);
        }
    }
}

/// The names the door flags check, given as values instead: refused before the cluster is
/// asked anything, naming the key and where it came from. (Upgrade and doctor read the
/// release's record first, for the values it reuses.)
#[test]
fn malformed_door_values_are_refused_naming_the_key() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--set",
                "skyctl.frontDoor=gateway,skyctl.gateway.name=g,skyctl.gateway.namespace=Infra,ingress-nginx.enabled=false,apiService.enableUserManagement=true",
            ],
            "skyctl.gateway.namespace=\"Infra\" (from --set",
        ),
        (
            &[
                "--set",
                "skyctl.frontDoor=gateway,skyctl.gateway.name=g,skyctl.gateway.sectionName=web_1,ingress-nginx.enabled=false,apiService.enableUserManagement=true",
            ],
            "skyctl.gateway.sectionName=\"web_1\" (from --set",
        ),
        (
            &[
                "--set",
                "skyctl.frontDoor=ingress,ingress.ingressClassName=Traefik,ingress-nginx.enabled=false,apiService.enableUserManagement=true",
            ],
            "ingress.ingressClassName=\"Traefik\" (from --set",
        ),
        (
            &[
                "--gateway",
                "g",
                "--set",
                "ingress.host=sky.example.com:443",
            ],
            "ingress.host=\"sky.example.com:443\" (from --set",
        ),
    ];
    for (flags, needle) in cases {
        for verb in [&["template", "sky"][..], &["install", "sky", "-y"]] {
            let args: Vec<&str> = verb.iter().chain(flags.iter()).copied().collect();
            refused(&args, &[needle, "is not a valid"]);
        }
    }
    // Keys of a door the release does not use are not read: the chart's ingress-nginx renders
    // as it would without them.
    let objects = template(&[
        "--set",
        "skyctl.gateway.namespace=Infra,ingress.ingressClassName=Nginx_1",
    ]);
    assert!(of_kind(&objects, "HTTPRoute").is_empty());
}

#[test]
fn basic_auth_is_refused_behind_a_door_that_would_not_enforce_it() {
    for door in [&["--gateway", "g"][..], &["--ingress-class", "traefik"]] {
        let args: Vec<&str> = ["install", "sky", "-y", "--auth", "basic"]
            .iter()
            .chain(door.iter())
            .copied()
            .collect();
        refused(
            &args,
            &[
                "--auth basic: the login at the ingress is enforced by ingress-nginx alone",
                "--auth users",
            ],
        );
    }
}
