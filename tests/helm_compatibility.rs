//! skyctl renders the same objects as Helm does with the upstream chart, for every value set
//! in `tests/fixtures/helm/`.
//!
//! Objects are matched by kind, namespace and name. Everything outside `metadata` must be
//! equal after parsing; `metadata` must carry Helm's labels and annotations. Two labels name
//! the tool and differ on purpose: `app.kubernetes.io/managed-by` is `skyctl` wherever Helm
//! writes `Helm` (pod template labels included). Helm's hook documents (admission Jobs and
//! their RBAC) are left out; in their place skyctl adds one Secret with the webhook
//! certificate and fills the webhook's `caBundle`. oauth2-proxy's cookie secret is random in
//! each render, Helm's and ours: both are checked well-formed and then set aside. Nothing else
//! may differ.

mod support;

use std::collections::BTreeSet;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use skyctl::render::IngressNginxNames;
use support::render::{Rendered, crate_path, release, render_chart, render_skypilot};

const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The chart version the seed-era fixtures were rendered from.
const SEED_ERA: &str = "1.0.0-dev.20250319";

/// The stable chart version with fixtures of its own.
const STABLE: &str = "0.13.0";

const COOKIE_SECRET: &str = "OAUTH2_PROXY_COOKIE_SECRET";

fn helm_objects(version: &str, name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(crate_path(&format!(
        "tests/fixtures/helm/{version}/{name}.yaml"
    )))
    .unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).unwrap())
        .filter(|object| !object.is_null())
        .filter(|object| {
            object["metadata"]["annotations"]
                .get("helm.sh/hook")
                .is_none()
        })
        .collect()
}

/// What Helm rendered a fixture from: the release, its namespace and the user values.
struct FixtureInput {
    release: String,
    namespace: String,
    values: Value,
}

/// Reads `NAME.values.json`. The older seed-era files hold the user values alone, for release
/// `skypilot` in namespace `skypilot`; the others wrap them with the release, namespace and
/// chart they were rendered for.
fn fixture_input(version: &str, name: &str) -> FixtureInput {
    let path = crate_path(&format!("tests/fixtures/helm/{version}/{name}.values.json"));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if file.get("chart").is_none() {
        return FixtureInput {
            release: "skypilot".into(),
            namespace: "skypilot".into(),
            values: file,
        };
    }
    let text = |key: &str| {
        file[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key}"))
            .to_owned()
    };
    FixtureInput {
        release: text("release"),
        namespace: text("namespace"),
        values: file["values"].clone(),
    }
}

fn user_values(version: &str, name: &str) -> Value {
    fixture_input(version, name).values
}

fn identity(object: &Value) -> String {
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or("");
    format!(
        "{}/{namespace}/{}",
        object["kind"].as_str().unwrap(),
        object["metadata"]["name"].as_str().unwrap()
    )
}

/// Helm's object as skyctl is meant to write it: the tool label names skyctl.
fn as_skyctl_writes_it(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(labels)) = map.get_mut("labels")
                && labels.get(MANAGED_BY).is_some_and(|tool| tool == "Helm")
            {
                labels.insert(MANAGED_BY.to_owned(), "skyctl".into());
            }
            map.values_mut().for_each(as_skyctl_writes_it);
        }
        Value::Array(items) => items.iter_mut().for_each(as_skyctl_writes_it),
        _ => {}
    }
}

/// Sprig's `randAlphaNum 32 | b64enc`, as the chart makes oauth2-proxy's cookie secret: 44
/// characters of base64 for 32 letters and digits.
fn is_random_cookie_secret(value: &str) -> bool {
    value.len() == 44
        && base64::engine::general_purpose::STANDARD
            .decode(value)
            .is_ok_and(|bytes| bytes.len() == 32 && bytes.iter().all(u8::is_ascii_alphanumeric))
}

/// Checks every cookie secret in a Deployment's containers is a fresh random one and replaces
/// it with a placeholder, so that two renders compare equal.
fn set_aside_random_cookie_secret(object: &mut Value, renderer: &str) {
    if object["kind"] != "Deployment" {
        return;
    }
    let Some(containers) = object["spec"]["template"]["spec"]["containers"].as_array_mut() else {
        return;
    };
    let variables = containers
        .iter_mut()
        .filter_map(|container| container["env"].as_array_mut())
        .flatten()
        .filter(|variable| variable["name"] == COOKIE_SECRET);
    for variable in variables {
        let value = variable["value"].as_str().unwrap_or_default();
        assert!(
            is_random_cookie_secret(value),
            "{renderer}: {COOKIE_SECRET} is not a random one: {value:?}"
        );
        variable["value"] = "(random)".into();
    }
}

fn without_metadata(object: &Value) -> Value {
    let mut object = object.clone();
    object.as_object_mut().unwrap().remove("metadata");
    object
}

/// Labels or annotations, with Helm's `annotations:` left empty (null) read as none.
fn string_map(metadata: &Value, field: &str) -> serde_json::Map<String, Value> {
    metadata[field].as_object().cloned().unwrap_or_default()
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

fn assert_matches_helm(version: &str, fixture: &str) {
    let helm = helm_objects(version, fixture);
    let input = fixture_input(version, fixture);
    let ours = render_chart(version, &input.release, &input.namespace, input.values);
    // The one object skyctl adds, in place of Helm's certificate hooks.
    let admission_secret = format!(
        "Secret/{}/{}",
        input.namespace,
        IngressNginxNames::for_release(&release(&input.release, &input.namespace)).admission
    );
    let our_objects: Vec<&Value> = ours
        .manifests
        .iter()
        .map(|manifest| &manifest.object)
        .collect();

    let helm_ids: Vec<String> = helm.iter().map(identity).collect();
    let our_ids: Vec<String> = our_objects.iter().map(|object| identity(object)).collect();
    let extra: BTreeSet<&String> = our_ids.iter().filter(|id| !helm_ids.contains(id)).collect();
    let missing: Vec<&String> = helm_ids.iter().filter(|id| !our_ids.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{fixture}: skyctl does not render {missing:?}"
    );
    assert_eq!(
        extra,
        BTreeSet::from([&admission_secret]),
        "{fixture}: unexpected objects"
    );

    let ours_in_helm_order: Vec<&String> = our_ids
        .iter()
        .filter(|id| **id != admission_secret)
        .collect();
    assert_eq!(
        ours_in_helm_order,
        helm_ids.iter().collect::<Vec<_>>(),
        "{fixture}: apply order differs from Helm's"
    );

    for expected in &helm {
        let id = identity(expected);
        let actual = our_objects[our_ids.iter().position(|ours| *ours == id).unwrap()];
        assert_object_matches(fixture, expected, actual, &ours);
    }
    assert_sources_match_helm(version, fixture);
}

/// Each object's `# Source:` in Helm's render, by identity.
fn helm_sources(version: &str, name: &str) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(crate_path(&format!(
        "tests/fixtures/helm/{version}/{name}.yaml"
    )))
    .unwrap();
    text.split("\n---")
        .filter_map(|document| {
            let source = document
                .lines()
                .find_map(|line| line.strip_prefix("# Source: "))?;
            let object: Value = serde_yaml_ng::from_str(document).ok()?;
            (!object.is_null()).then(|| (identity(&object), source.to_owned()))
        })
        .collect()
}

/// skyctl names the published chart's file of every object as Helm's render does, which
/// `template` prints and `template --show-only` selects by.
fn assert_sources_match_helm(version: &str, fixture: &str) {
    let helm = helm_sources(version, fixture);
    let input = fixture_input(version, fixture);
    let chart = skyctl::chart::Chart::find(version).unwrap();
    let release = release(&input.release, &input.namespace);
    let rendered = skyctl::render::render_sourced(
        chart,
        &support::render::chart_values_with(version, input.values),
        &release,
        &skyctl::render::AdmissionCertificate::generate(&release).unwrap(),
        &std::sync::Arc::new(skyctl::render::Lookups::none()),
    )
    .unwrap();
    let package = &chart.metadata().name;
    let mut compared = 0;
    for (template, manifest) in &rendered {
        let id = identity(&manifest.object);
        if let Some(expected) = helm.get(&id) {
            let ours = skyctl::render::sources::helm_source(chart, template, manifest);
            assert_eq!(format!("{package}/{ours}"), *expected, "{fixture}: {id}");
            compared += 1;
        }
    }
    // Every object but Helm's hooks, which skyctl does not render.
    assert_eq!(compared, helm_objects(version, fixture).len(), "{fixture}");
}

/// One object of skyctl's render against Helm's.
fn assert_object_matches(fixture: &str, expected: &Value, actual: &Value, ours: &Rendered) {
    let id = identity(expected);
    let mut expected = expected.clone();
    as_skyctl_writes_it(&mut expected);
    set_aside_random_cookie_secret(&mut expected, "helm");
    let mut actual = actual.clone();
    set_aside_random_cookie_secret(&mut actual, "skyctl");
    let mut actual_body = without_metadata(&actual);
    if expected["kind"] == "ValidatingWebhookConfiguration" {
        assert_ca_bundle_is_the_admission_ca(&mut actual_body, ours);
    }
    assert!(
        without_metadata(&expected) == actual_body,
        "{fixture}: {id} differs from Helm's\n--- helm\n{}\n--- skyctl\n{}",
        pretty(&without_metadata(&expected)),
        pretty(&actual_body)
    );
    for field in ["labels", "annotations"] {
        assert_eq!(
            string_map(&actual["metadata"], field),
            string_map(&expected["metadata"], field),
            "{fixture}: {id} metadata.{field}"
        );
    }
}

/// Takes the `caBundle` out of the webhook, after checking it is the CA skyctl issued.
fn assert_ca_bundle_is_the_admission_ca(webhook: &mut Value, ours: &Rendered) {
    let client_config = webhook["webhooks"][0]["clientConfig"]
        .as_object_mut()
        .unwrap();
    let bundle = client_config
        .remove("caBundle")
        .expect("the webhook carries a caBundle");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(bundle.as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), ours.certificate.ca_pem);
}

#[test]
fn default_values_render_as_helm_does() {
    assert_matches_helm(SEED_ERA, "default");
}

#[test]
fn aws_credentials_render_as_helm_does() {
    assert_matches_helm(SEED_ERA, "aws");
}

#[test]
fn kubeconfig_credentials_render_as_helm_does() {
    assert_matches_helm(SEED_ERA, "kube");
}

#[test]
fn chart_0_13_0_default_values_render_as_helm_does() {
    assert_matches_helm(STABLE, "default");
}

#[test]
fn chart_0_13_0_rolling_update_renders_as_helm_does() {
    assert_matches_helm(STABLE, "rolling");
}

#[test]
fn chart_0_13_0_cloud_credentials_render_as_helm_does() {
    assert_matches_helm(STABLE, "creds");
}

#[test]
fn chart_0_13_0_oauth2_proxy_ingress_renders_as_helm_does() {
    assert_matches_helm(STABLE, "oauth-ingress");
}

#[test]
fn a_second_controller_with_its_own_ingress_class_renders_as_helm_does() {
    assert_matches_helm(SEED_ERA, "second-controller");
}

#[test]
fn chart_0_13_0_second_controller_with_its_own_ingress_class_renders_as_helm_does() {
    assert_matches_helm(STABLE, "second-controller");
}

#[test]
fn chart_0_13_0_without_an_ingress_class_object_or_flag_renders_as_helm_does() {
    assert_matches_helm(STABLE, "no-ingress-class");
}

#[test]
fn a_cookie_secret_is_32_letters_and_digits_in_base64() {
    let helms = "SnREUW9Wb3NrU2dmOElUU3B6ZTlGeUt4Mk9RbWlxTnI=";
    assert!(is_random_cookie_secret(helms));
    for bad in [
        "",
        "c2hvcnQ=",
        // 32 bytes, but not all letters and digits.
        "ISEhISEhISEhISEhISEhISEhISEhISEhISEhISEhISE=",
        "not base64 at all, but forty-four chars long",
    ] {
        assert!(!is_random_cookie_secret(bad), "{bad:?}");
    }
}

#[test]
fn the_admission_secret_holds_the_certificate_under_the_keys_the_controller_mounts() {
    let ours = render_skypilot(user_values(SEED_ERA, "default"));
    let secret = ours.object("Secret", "skypilot-ingress-nginx-admission");
    let decode = |key: &str| {
        let encoded = secret["data"][key]
            .as_str()
            .unwrap_or_else(|| panic!("no data.{key}"));
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(secret["data"].as_object().unwrap().len(), 3);
    assert_eq!(decode("ca"), ours.certificate.ca_pem);
    assert_eq!(decode("cert"), ours.certificate.cert_pem);
    assert_eq!(decode("key"), ours.certificate.key_pem);
    assert_eq!(
        secret["metadata"]["labels"]["app.kubernetes.io/component"],
        "admission-webhook"
    );
    assert_eq!(secret["metadata"]["labels"][MANAGED_BY], "skyctl");

    let controller = ours.object("Deployment", "skypilot-ingress-nginx-controller");
    let volume = &controller["spec"]["template"]["spec"]["volumes"][0];
    assert_eq!(
        volume["secret"]["secretName"],
        "skypilot-ingress-nginx-admission"
    );
    let args = controller["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap();
    assert!(args.contains(&"--validating-webhook-certificate=/usr/local/certificates/cert".into()));
    assert!(args.contains(&"--validating-webhook-key=/usr/local/certificates/key".into()));
}

#[test]
fn the_admission_secret_is_applied_before_the_controller_that_mounts_it() {
    let ours = render_skypilot(user_values(SEED_ERA, "default"));
    let position = |kind: &str, name: &str| {
        ours.manifests
            .iter()
            .position(|m| m.id.kind == kind && m.id.name == name)
            .unwrap()
    };
    assert!(
        position("Secret", "skypilot-ingress-nginx-admission")
            < position("Deployment", "skypilot-ingress-nginx-controller")
    );
}
