//! A `values.yaml` and its `values.schema.json` describe the same tree: every default fits the
//! schema, every key the schema names has a default, every key is explained, and the schema
//! sticks to the keywords skyctl's validator implements. Checked for the seed-era chart and for
//! skyctl's own keys (`charts/skyctl/`), which every chart version gets.

mod support;

use serde_json::Value;
use support::render::crate_path;

const KEYWORDS: [&str; 10] = [
    "type",
    "properties",
    "additionalProperties",
    "items",
    "enum",
    "minimum",
    "maximum",
    "description",
    "default",
    "$comment",
];
const TYPES: [&str; 7] = [
    "object", "array", "string", "integer", "number", "boolean", "null",
];

/// The ingress-nginx keys skyctl supports; docs/chart-compatibility.md lists the same.
const SUPPORTED_INGRESS_NGINX_KEYS: [&str; 35] = [
    "enabled",
    "revisionHistoryLimit",
    "controller.image.registry",
    "controller.image.image",
    "controller.image.tag",
    "controller.image.digest",
    "controller.image.pullPolicy",
    "controller.config",
    "controller.allowSnippetAnnotations",
    "controller.ingressClassResource.name",
    "controller.ingressClassResource.enabled",
    "controller.ingressClassResource.default",
    "controller.ingressClassResource.controllerValue",
    "controller.ingressClass",
    "controller.replicaCount",
    "controller.minAvailable",
    "controller.resources",
    "controller.nodeSelector",
    "controller.tolerations",
    "controller.affinity",
    "controller.podAnnotations",
    "controller.priorityClassName",
    "controller.terminationGracePeriodSeconds",
    "controller.extraArgs",
    "controller.extraEnvs",
    "controller.service.type",
    "controller.service.annotations",
    "controller.service.loadBalancerIP",
    "controller.service.loadBalancerSourceRanges",
    "controller.service.loadBalancerClass",
    "controller.service.externalTrafficPolicy",
    "controller.service.nodePorts.http",
    "controller.service.nodePorts.https",
    "controller.admissionWebhooks.enabled",
    "controller.admissionWebhooks.failurePolicy",
];

/// The folders whose `values.yaml` and `values.schema.json` are checked against each other.
const PAIRS: [&str; 2] = ["charts/skypilot/1.0.0-dev.20250319", "charts/skyctl"];

fn schema() -> Value {
    schema_of("1.0.0-dev.20250319")
}

fn schema_in(dir: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(crate_path(&format!("{dir}/values.schema.json"))).unwrap(),
    )
    .unwrap()
}

fn values_in(dir: &str) -> String {
    std::fs::read_to_string(crate_path(&format!("{dir}/values.yaml"))).unwrap()
}

fn schema_of(version: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(crate_path(&format!(
            "charts/skypilot/{version}/values.schema.json"
        )))
        .unwrap(),
    )
    .unwrap()
}

fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().map(|t| t.as_str().unwrap()).collect(),
        other => panic!("schema without a type: {other}"),
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks `value` against `schema`, returning the problems found, each with its key path.
fn problems(path: &str, value: &Value, schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let allowed = types(schema);
    let actual = type_of(value);
    if !(allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"))) {
        found.push(format!(
            "{path}: {actual} where the schema wants {allowed:?}"
        ));
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array)
        && !choices.contains(value)
    {
        found.push(format!("{path}: {value} is not one of {choices:?}"));
    }
    match value {
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                match (
                    properties.and_then(|p| p.get(key)),
                    schema.get("additionalProperties"),
                ) {
                    (Some(child_schema), _) => {
                        found.extend(problems(&child_path, child, child_schema))
                    }
                    (None, Some(Value::Bool(true))) => {}
                    (None, Some(extra @ Value::Object(_))) => {
                        found.extend(problems(&child_path, child, extra))
                    }
                    (None, _) => found.push(format!("{child_path}: not in the schema")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    found.extend(problems(&format!("{path}[{index}]"), item, item_schema));
                }
            }
        }
        _ => {}
    }
    found
}

/// Paths of every key the schema lists under `properties`.
fn schema_paths(prefix: &str, schema: &Value, paths: &mut Vec<String>) {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (key, child) in properties {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            paths.push(path.clone());
            if types(child).contains(&"object") {
                schema_paths(&path, child, paths);
            }
        }
    }
}

fn lookup<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(tree, |node, key| node.get(key))
}

#[test]
fn the_defaults_satisfy_the_schema() {
    for dir in PAIRS {
        let defaults: Value = serde_yaml_ng::from_str(&values_in(dir)).unwrap();
        let found = problems("", &defaults, &schema_in(dir));
        assert!(found.is_empty(), "{dir}: {found:#?}");
    }
}

#[test]
fn every_key_in_the_schema_has_a_default() {
    for dir in PAIRS {
        let defaults: Value = serde_yaml_ng::from_str(&values_in(dir)).unwrap();
        let mut paths = Vec::new();
        schema_paths("", &schema_in(dir), &mut paths);
        let missing: Vec<&String> = paths
            .iter()
            .filter(|path| !path.starts_with("rbac.rules"))
            .filter(|path| lookup(&defaults, path).is_none())
            .collect();
        assert!(missing.is_empty(), "{dir}: no default for {missing:?}");
    }
}

#[test]
fn every_chart_version_lists_exactly_the_supported_ingress_nginx_keys() {
    let mut expected: Vec<&str> = SUPPORTED_INGRESS_NGINX_KEYS.to_vec();
    expected.sort_unstable();
    for version in ["1.0.0-dev.20250319", "0.13.0"] {
        let schema = schema_of(version);
        let mut paths = Vec::new();
        schema_paths("", &schema["properties"]["ingress-nginx"], &mut paths);
        let leaves: Vec<&String> = paths
            .iter()
            .filter(|path| {
                !paths
                    .iter()
                    .any(|other| other.starts_with(&format!("{path}.")))
            })
            .collect();
        let mut actual: Vec<&str> = leaves.iter().map(|path| path.as_str()).collect();
        actual.sort_unstable();
        assert_eq!(actual, expected, "{version}");
    }
}

#[test]
fn unknown_ingress_nginx_keys_are_rejected() {
    let schema = schema();
    for unsupported in [
        serde_json::json!({"ingress-nginx": {"controller": {"kind": "DaemonSet"}}}),
        serde_json::json!({"ingress-nginx": {"controller": {"metrics": {"enabled": true}}}}),
        serde_json::json!({"ingress-nginx": {"tcp": {"22": "default/ssh:22"}}}),
        serde_json::json!({"ingress-nginx": {"controller": {"service": {"internal": {"enabled": true}}}}}),
        serde_json::json!({"ingress-nginx": {"controller": {"ingressClassResource": {"aliases": ["nginx-2"]}}}}),
    ] {
        assert!(
            !problems("", &unsupported, &schema).is_empty(),
            "{unsupported} was accepted"
        );
    }
}

#[test]
fn null_defaults_and_node_ports_accept_null() {
    let schema = schema();
    for path in [
        "apiService.config",
        "apiService.resources",
        "apiService.preDeployHook",
        "ingress.authSecret",
        "ingress.httpNodePort",
        "ingress.httpsNodePort",
        "kubernetesCredentials.inclusterNamespace",
        "gcpCredentials.projectId",
    ] {
        let node = lookup(&schema["properties"], &path.replace('.', ".properties.")).unwrap();
        assert!(types(node).contains(&"null"), "{path} does not accept null");
    }
    let node_port = &schema["properties"]["ingress"]["properties"]["httpNodePort"];
    assert!(types(node_port).contains(&"integer"));
}

#[test]
fn the_schema_uses_only_the_supported_keywords() {
    fn check(path: &str, schema: &Value) {
        let map = schema
            .as_object()
            .unwrap_or_else(|| panic!("{path}: a schema must be an object"));
        for (keyword, value) in map {
            assert!(
                KEYWORDS.contains(&keyword.as_str()),
                "{path}: keyword {keyword}"
            );
            match keyword.as_str() {
                "type" => types(schema)
                    .iter()
                    .for_each(|t| assert!(TYPES.contains(t), "{path}: type {t}")),
                "properties" => value
                    .as_object()
                    .unwrap()
                    .iter()
                    .for_each(|(k, v)| check(&format!("{path}.{k}"), v)),
                "items" => check(&format!("{path}[]"), value),
                "additionalProperties" if value.is_object() => {
                    check(&format!("{path}{{*}}"), value)
                }
                _ => {}
            }
        }
    }
    for dir in PAIRS {
        check(dir, &schema_in(dir));
    }
}

/// Keys the schema names need a comment; the contents of a default map or list (such as the
/// controller's resource requests) are data, explained by the comment on their key.
#[test]
fn every_key_in_the_defaults_is_explained_by_a_comment() {
    for dir in PAIRS {
        explained(dir);
    }
}

fn explained(dir: &str) {
    let mut schema_keys = Vec::new();
    schema_paths("", &schema_in(dir), &mut schema_keys);
    let text = values_in(dir);
    let mut previous = "";
    let mut parents: Vec<(usize, String)> = Vec::new();
    let mut block_indent: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if let Some(block) = block_indent {
            if trimmed.is_empty() || indent > block {
                continue;
            }
            block_indent = None;
        }
        let is_key =
            !trimmed.starts_with('#') && !trimmed.starts_with('-') && trimmed.contains(':');
        if is_key {
            parents.retain(|(parent_indent, _)| *parent_indent < indent);
            let key = trimmed.split(':').next().unwrap();
            let path: Vec<&str> = parents
                .iter()
                .map(|(_, key)| key.as_str())
                .chain([key])
                .collect();
            let path = path.join(".");
            if schema_keys.contains(&path) {
                assert!(
                    previous.trim_start().starts_with('#'),
                    "{dir}: no comment above `{path}`"
                );
            }
            parents.push((indent, key.to_owned()));
            if trimmed.ends_with('|') || trimmed.ends_with("|-") {
                block_indent = Some(indent);
            }
        }
        if !trimmed.is_empty() {
            previous = line;
        }
    }
}
