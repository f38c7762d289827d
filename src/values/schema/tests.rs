use serde_json::json;

use super::*;

const FIXTURE: &str = include_str!("../testdata/schema.json");

fn fixture() -> Schema {
    Schema::from_json(FIXTURE).expect("fixture schema loads")
}

fn report(value: &Value) -> Vec<String> {
    fixture()
        .validate(value)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn accepts_valid_values() {
    let valid = [
        json!({}),
        json!({"apiService": {"image": "x", "replicas": 3, "config": "a: b\n", "resources": {"requests": {"cpu": "1"}}}}),
        json!({"apiService": {"replicas": 1.0, "config": null, "resources": null}}),
        json!({"ingress": {"httpNodePort": null, "httpsNodePort": 32767, "authCredentials": "u:p"}}),
        json!({"ingress-nginx": {"enabled": false, "controller": {"anything": [1, {"goes": true}]}}}),
        json!({"storage": {"accessMode": "ReadWriteMany", "annotations": {"example.com/a": "b"}}}),
        json!({"rbac": {"rules": []}}),
        json!({"rbac": {"rules": [{"apiGroups": [""], "verbs": ["get", "list"]}]}}),
        json!({"tuning": {"ratio": 0.5, "mode": "safe", "anything": {"x": [null]}}}),
        json!({"tuning": {"ratio": 1, "anything": 3}}),
    ];
    for value in valid {
        assert_eq!(report(&value), Vec::<String>::new(), "{value}");
    }
}

#[test]
fn reports_every_violation() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"ingress": {"httpNodePort": "abc"}}),
            vec!["ingress.httpNodePort: expected integer or null, got string \"abc\""],
        ),
        (
            json!({"ingress": {"nodeportEnabled": true}}),
            vec!["ingress.nodeportEnabled: unknown key; did you mean ingress.nodePortEnabled?"],
        ),
        (
            json!({"ingress": {"tls": true}}),
            vec!["ingress.tls: unknown key"],
        ),
        (
            json!({"ingres": {}}),
            vec!["ingres: unknown key; did you mean ingress?"],
        ),
        (
            json!({"ingress": "on"}),
            vec!["ingress: expected object, got string \"on\""],
        ),
        (
            json!({"ingress": [1]}),
            vec!["ingress: expected object, got array"],
        ),
        (
            json!({"ingress": {"enabled": "true"}}),
            vec!["ingress.enabled: expected boolean, got string \"true\""],
        ),
        (
            json!({"ingress": {"enabled": 1}}),
            vec!["ingress.enabled: expected boolean, got integer 1"],
        ),
        (
            json!({"apiService": {"replicas": 1.5}}),
            vec!["apiService.replicas: expected integer, got number 1.5"],
        ),
        (
            json!({"apiService": {"replicas": 0}}),
            vec!["apiService.replicas: expected at least 1, got integer 0"],
        ),
        (
            json!({"apiService": {"replicas": 11}}),
            vec!["apiService.replicas: expected at most 10, got integer 11"],
        ),
        (
            json!({"apiService": {"config": {"a": 1}}}),
            vec!["apiService.config: expected string or null, got object"],
        ),
        (
            json!({"ingress": {"httpNodePort": 80}}),
            vec!["ingress.httpNodePort: expected at least 30000, got integer 80"],
        ),
        (
            json!({"tuning": {"ratio": 2}}),
            vec!["tuning.ratio: expected at most 1.5, got integer 2"],
        ),
        (
            json!({"tuning": {"ratio": 0.25}}),
            vec!["tuning.ratio: expected at least 0.5, got number 0.25"],
        ),
        (
            json!({"storage": {"accessMode": "ReadOnlyMany"}}),
            vec![
                "storage.accessMode: expected one of \"ReadWriteOnce\", \"ReadWriteMany\", got string \"ReadOnlyMany\"",
            ],
        ),
        (
            json!({"tuning": {"mode": 3}}),
            vec!["tuning.mode: expected string, got integer 3"],
        ),
        (
            json!({"storage": {"annotations": {"example.com/a": 1, "ok": "x"}}}),
            vec!["storage.annotations.example\\.com/a: expected string, got integer 1"],
        ),
        (
            json!({"rbac": {"rules": [{"verbs": ["get", 7]}, {"verb": ["get"]}, "x"]}}),
            vec![
                "rbac.rules[0].verbs[1]: expected string, got integer 7",
                "rbac.rules[1].verb: unknown key; did you mean rbac.rules[1].verbs?",
                "rbac.rules[2]: expected object, got string \"x\"",
            ],
        ),
        (
            json!({"zzz": 1, "apiService": {"image": 5, "replica": 2}, "ingress": {"path": null}}),
            vec![
                "apiService.image: expected string, got integer 5",
                "apiService.replica: unknown key; did you mean apiService.replicas?",
                "ingress.path: expected string, got null",
                "zzz: unknown key",
            ],
        ),
        (
            json!({"apiService": {"replicas": "x".repeat(60)}, "storage": {"size": true}}),
            vec![
                "apiService.replicas: expected integer, got string \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"…",
                "storage.size: expected string, got boolean true",
            ],
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(report(&value), expected, "{value}");
    }
}

#[test]
fn rejects_unusable_schemas() {
    let cases = [
        (
            "{",
            "#: not valid JSON: EOF while parsing an object at line 1 column 1",
        ),
        ("[]", "#: a schema must be a JSON object"),
        (r#"{"pattern": "^a"}"#, "#: unsupported keyword \"pattern\""),
        (
            r#"{"properties": {"a": {"oneOf": []}}}"#,
            "#/properties/a: unsupported keyword \"oneOf\"",
        ),
        (
            r#"{"properties": {"a/b": {"properties": {"c~d": {"format": "x"}}}}}"#,
            "#/properties/a~1b/properties/c~0d: unsupported keyword \"format\"",
        ),
        (
            r#"{"items": [{}]}"#,
            "#/items: a schema must be a JSON object",
        ),
        (r#"{"type": "float"}"#, "#/type: unknown type \"float\""),
        (r#"{"type": ["string", 1]}"#, "#/type: unknown type 1"),
        (
            r#"{"type": []}"#,
            "#/type: must be a type name or a non-empty array of them",
        ),
        (r#"{"enum": []}"#, "#/enum: must be a non-empty array"),
        (r#"{"minimum": "1"}"#, "#/minimum: must be a number"),
        (r#"{"maximum": null}"#, "#/maximum: must be a number"),
        (r#"{"description": 1}"#, "#/description: must be a string"),
        (
            r#"{"properties": []}"#,
            "#/properties: must be an object of schemas",
        ),
        (
            r#"{"additionalProperties": {"required": []}}"#,
            "#/additionalProperties: unsupported keyword \"required\"",
        ),
        (
            r#"{"properties": {"a": true}}"#,
            "#/properties/a: a schema must be a JSON object",
        ),
    ];
    for (text, expected) in cases {
        let err = Schema::from_json(text).expect_err(text);
        assert_eq!(err.to_string(), expected, "{text}");
    }
}

#[test]
fn unknown_keys_follow_the_object_rule() {
    // An object schema without `additionalProperties` rejects unknown keys; a schema that
    // does not describe objects leaves them alone; `true` and a schema behave as in JSON Schema.
    let cases = [
        (
            r#"{"type": "object"}"#,
            json!({"a": 1}),
            vec!["a: unknown key"],
        ),
        (
            r#"{"properties": {"b": {}}}"#,
            json!({"a": 1}),
            vec!["a: unknown key"],
        ),
        (r#"{}"#, json!({"a": 1}), vec![]),
        (
            r#"{"type": "object", "additionalProperties": true}"#,
            json!({"a": 1}),
            vec![],
        ),
        (
            r#"{"type": "object", "additionalProperties": false}"#,
            json!({"a": 1}),
            vec!["a: unknown key"],
        ),
        (
            r#"{"type": "object", "additionalProperties": {"type": "integer"}}"#,
            json!({"a": 1, "b": "x"}),
            vec!["b: expected integer, got string \"x\""],
        ),
        (
            r#"{"type": ["object", "null"]}"#,
            json!({"a": 1}),
            vec!["a: unknown key"],
        ),
        (
            r#"{"type": "array", "items": {"type": "object"}}"#,
            json!([{"a": 1}]),
            vec!["[0].a: unknown key"],
        ),
        (r#"{"type": "array"}"#, json!([{"a": 1}]), vec![]),
        (
            r#"{"type": "string"}"#,
            json!({"a": 1}),
            vec!["<top level>: expected string, got object"],
        ),
        (
            r#"{"type": ["integer", "string", "null"]}"#,
            json!(true),
            vec!["<top level>: expected integer, string or null, got boolean true"],
        ),
        (r#"{"enum": [1, "a"]}"#, json!(1.0), vec![]),
        (
            r#"{"enum": [{"a": 1}]}"#,
            json!({"a": 2}),
            vec!["<top level>: expected one of {\"a\":1}, got object"],
        ),
        (r#"{"minimum": 1, "maximum": 0}"#, json!("x"), vec![]),
    ];
    for (schema, value, expected) in cases {
        let schema = Schema::from_json(schema).expect(schema);
        let found: Vec<String> = schema
            .validate(&value)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found, expected, "{value}");
    }
}

#[test]
fn violations_are_typed() {
    let found = fixture().validate(&json!({"ingress": {"nodeportEnabled": "x"}}));
    assert_eq!(
        found,
        vec![Violation {
            path: KeyPath::root().key("ingress").key("nodeportEnabled"),
            problem: Problem::UnknownKey {
                suggestion: Some(KeyPath::root().key("ingress").key("nodePortEnabled")),
            },
        }]
    );
}
