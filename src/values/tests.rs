//! Whole-engine tests: layer precedence, null handling, and the exact text of every kind of
//! error a user can see.

use std::fs;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;

const DEFAULTS: &str = include_str!("testdata/defaults.yaml");
const SCHEMA: &str = include_str!("testdata/schema.json");
const ANY: &str = "{}";
const NO_RULES: &str = "[]";

/// A scratch directory for one test's values files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("skyctl-values-{}-{test}", std::process::id()));
        fs::create_dir_all(&dir).expect("create scratch dir");
        Self(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, text).expect("write scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

fn resolve_fixture(layers: &Layers, stdin: &str) -> Result<Resolved, Error> {
    resolve_with(DEFAULTS, SCHEMA, NO_RULES, layers, &mut stdin.as_bytes())
}

#[test]
fn each_layer_beats_the_one_below() {
    let scratch = Scratch::new("precedence");
    let keys = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"];
    // Layer n sets keys p_n and above, so key p_n shows the highest layer that set it.
    let defaults: String = keys.iter().map(|k| format!("{k}: defaults\n")).collect();
    let file1 = scratch.file(
        "one.yaml",
        "p1: file1\np2: file1\np3: file1\np4: file1\np5: file1\np6: file1\np7: file1\np8: file1\np9: file1\n",
    );
    let file2 = scratch.file(
        "two.yaml",
        "p2: file2\np3: file2\np4: file2\np5: file2\np6: file2\np7: file2\np8: file2\np9: file2\n",
    );
    let content = scratch.file("content.txt", "set-file");
    let layers = Layers {
        files: vec![file1, file2, PathBuf::from("-")],
        set_json: strings(&[
            r#"p4="set-json",p5="set-json",p6="set-json",p7="set-json",p8="set-json",p9="set-json""#,
        ]),
        set: strings(&["p5=early,p6=early", "p5=set,p6=set,p7=set,p8=set,p9=set"]),
        shortcuts: vec![ExtraLayer {
            label: "--shortcut".to_owned(),
            values: serde_json::from_value(
                json!({"p6": "shortcut", "p7": "shortcut", "p8": "shortcut", "p9": "shortcut"}),
            )
            .expect("a map"),
        }],
        extra: vec![ExtraLayer {
            label: "--extra".to_owned(),
            values: serde_json::from_value(json!({"p7": "extra", "p8": "extra", "p9": "extra"}))
                .expect("a map"),
        }],
        set_string: strings(&["p8=set-string,p9=set-string"]),
        set_file: vec![format!("p9={}", content.display())],
        reused: None,
        previous_defaults: None,
    };
    let stdin = "p3: stdin\np4: stdin\np5: stdin\np6: stdin\np7: stdin\np8: stdin\np9: stdin\n";
    let resolved =
        resolve_with(&defaults, ANY, NO_RULES, &layers, &mut stdin.as_bytes()).expect("loads");
    let expected = json!({
        "p0": "defaults",
        "p1": "file1",
        "p2": "file2",
        "p3": "stdin",
        "p4": "set-json",
        "p5": "set",
        "p6": "shortcut",
        "p7": "extra",
        "p8": "set-string",
        "p9": "set-file",
    });
    assert_eq!(resolved.values, expected);
    let mut user = expected;
    user.as_object_mut().expect("a map").remove("p0");
    assert_eq!(resolved.user, user);
}

fn map(tree: Value) -> serde_json::Map<String, Value> {
    serde_json::from_value(tree).expect("a map")
}

#[test]
fn reused_values_rank_below_every_file_and_flag_and_previous_defaults_below_them() {
    let scratch = Scratch::new("reused");
    let file = scratch.file("new.yaml", "ingress:\n  path: /file\n");
    let layers = Layers {
        files: vec![file],
        set: strings(&["apiService.replicas=3"]),
        reused: Some(ExtraLayer {
            label: "the values of revision 2".to_owned(),
            values: map(
                json!({"ingress": {"path": "/old", "httpNodePort": 31234, "httpsNodePort": null},
                "apiService": {"replicas": 2}}),
            ),
        }),
        previous_defaults: Some(ExtraLayer {
            label: "the defaults of revision 2".to_owned(),
            values: map(
                json!({"apiService": {"image": "example/api:0", "replicas": 1},
                "storage": {"size": "5Gi"}}),
            ),
        }),
        ..Layers::default()
    };
    let resolved = resolve_fixture(&layers, "").expect("loads");
    let values = &resolved.values;
    assert_eq!(
        values["ingress"]["path"], "/file",
        "a file beats reused values"
    );
    assert_eq!(
        values["apiService"]["replicas"], 3,
        "a flag beats reused values"
    );
    assert_eq!(
        values["ingress"]["httpNodePort"], 31234,
        "reused beat defaults"
    );
    assert_eq!(
        values["ingress"].get("httpsNodePort"),
        None,
        "a reused null deletes"
    );
    assert_eq!(values["apiService"]["image"], "example/api:0");
    assert_eq!(
        values["storage"]["size"], "5Gi",
        "previous defaults beat today's"
    );
    assert_eq!(
        values["storage"]["accessMode"], "ReadWriteOnce",
        "keys only today's defaults have are kept"
    );
    assert_eq!(
        resolved.user,
        json!({"ingress": {"path": "/file", "httpNodePort": 31234, "httpsNodePort": null},
            "apiService": {"replicas": 3}}),
        "reused values are recorded again, previous defaults are not"
    );
}

#[test]
fn null_deletes_defaults_and_survives_in_user_values() {
    let scratch = Scratch::new("nulls");
    let file = scratch.file(
        "nulls.yaml",
        "ingress:\n  httpsNodePort: null\n  path: null\n",
    );
    let layers = Layers {
        files: vec![file],
        set: strings(&["ingress.httpNodePort=null"]),
        ..Layers::default()
    };
    let resolved = resolve_fixture(&layers, "").expect("loads");
    assert_eq!(
        resolved.values["ingress"],
        json!({"enabled": true, "nodePortEnabled": true})
    );
    assert_eq!(
        resolved.values["apiService"],
        json!({"image": "example/api:1", "replicas": 1}),
        "nulls in the defaults are dropped too"
    );
    assert_eq!(
        resolved.user,
        json!({"ingress": {"httpNodePort": null, "httpsNodePort": null, "path": null}})
    );

    let restored = Layers {
        set: strings(&["ingress.httpNodePort=null", "ingress.httpNodePort=30080"]),
        ..Layers::default()
    };
    let values = resolve_with(DEFAULTS, SCHEMA, NO_RULES, &restored, &mut "".as_bytes())
        .expect("loads")
        .values;
    assert_eq!(values["ingress"]["httpNodePort"], json!(30080));
}

#[test]
fn flags_build_on_earlier_layers_like_helm() {
    let scratch = Scratch::new("into");
    let file = scratch.file(
        "rules.yaml",
        "rbac:\n  rules:\n    - apiGroups: [a]\n      verbs: [get]\n    - apiGroups: [b]\n",
    );
    let layers = Layers {
        files: vec![file],
        set: strings(&["rbac.rules[1].verbs={list,watch}"]),
        set_json: strings(&[r#"rbac.rules[0].resources=["pods"]"#]),
        ..Layers::default()
    };
    let values = resolve_with(DEFAULTS, SCHEMA, NO_RULES, &layers, &mut "".as_bytes())
        .expect("loads")
        .values;
    assert_eq!(
        values["rbac"]["rules"],
        json!([
            {"apiGroups": ["a"], "verbs": ["get"], "resources": ["pods"]},
            {"apiGroups": ["b"], "verbs": ["list", "watch"]},
        ])
    );
}

#[test]
fn schema_violations_are_listed_with_their_origin() {
    let scratch = Scratch::new("violations");
    let user = scratch.file(
        "user.yaml",
        "ingress:\n  nodeportEnabled: true\n  httpNodePort: 80\napiService:\n  replicas: many\n",
    );
    let layers = Layers {
        files: vec![user.clone()],
        set: strings(&["ingress.httpsNodePort=abc"]),
        set_string: strings(&["storage.enabled=true"]),
        ..Layers::default()
    };
    let err = resolve_fixture(&layers, "").expect_err("invalid");
    let user = user.display();
    assert_eq!(
        err.to_string(),
        [
            format!("values: apiService.replicas: expected integer, got string \"many\" (from {user}:5)"),
            format!("values: ingress.httpNodePort: expected at least 30000, got integer 80 (from {user}:3)"),
            "values: ingress.httpsNodePort: expected integer or null, got string \"abc\" (from --set ingress.httpsNodePort=abc)".to_owned(),
            format!("values: ingress.nodeportEnabled: unknown key; did you mean ingress.nodePortEnabled? (from {user}:2)"),
            "values: storage.enabled: expected boolean, got string \"true\" (from --set-string storage.enabled=true)".to_owned(),
        ]
        .join("\n")
    );
    let Error::Invalid(Violations(traced)) = err else {
        panic!("expected schema violations");
    };
    assert_eq!(traced.len(), 5);
    assert_eq!(
        traced[2].origin,
        Some(Origin::Flag {
            flag: origin::Flag::Set,
            arg: "ingress.httpsNodePort=abc".to_owned()
        })
    );
}

#[test]
fn every_origin_kind_is_named() {
    let scratch = Scratch::new("origins");
    let replicas = scratch.file("replicas.txt", "3");
    let cases: Vec<(Layers, &str, &str, String)> = vec![
        (
            Layers::default(),
            "apiService:\n  replicas: 0\n",
            "",
            "values: apiService.replicas: expected at least 1, got integer 0 (from skyctl's defaults)".to_owned(),
        ),
        (
            Layers { files: vec![PathBuf::from("-")], ..Layers::default() },
            DEFAULTS,
            "# from a pipe\ningress:\n  httpsNodeport: 1\n",
            "values: ingress.httpsNodeport: unknown key; did you mean ingress.httpsNodePort? (from <stdin>:3)".to_owned(),
        ),
        (
            Layers { files: vec![PathBuf::from("-")], ..Layers::default() },
            DEFAULTS,
            "storage:\n  annotations:\n    \"example.com/a\": 1\n",
            "values: storage.annotations.example\\.com/a: expected string, got integer 1 (from <stdin>:3)".to_owned(),
        ),
        (
            Layers { set_json: strings(&[r#"apiService={"replicas":0}"#]), ..Layers::default() },
            DEFAULTS,
            "",
            r#"values: apiService.replicas: expected at least 1, got integer 0 (from --set-json apiService={"replicas":0})"#.to_owned(),
        ),
        (
            Layers { set_file: vec![format!("apiService.replicas={}", replicas.display())], ..Layers::default() },
            DEFAULTS,
            "",
            format!(
                "values: apiService.replicas: expected integer, got string \"3\" (from --set-file apiService.replicas={})",
                replicas.display()
            ),
        ),
        (
            Layers {
                extra: vec![ExtraLayer {
                    label: "--auth".to_owned(),
                    values: serde_json::from_value(json!({"ingress": {"authCredentials": 5}})).expect("a map"),
                }],
                ..Layers::default()
            },
            DEFAULTS,
            "",
            "values: ingress.authCredentials: expected string or null, got integer (from --auth)".to_owned(),
        ),
        (
            Layers {
                reused: Some(ExtraLayer {
                    label: "the values of revision 2".to_owned(),
                    values: serde_json::from_value(json!({"apiService": {"replicas": 0}})).expect("a map"),
                }),
                ..Layers::default()
            },
            DEFAULTS,
            "",
            "values: apiService.replicas: expected at least 1, got integer 0 (from the values of revision 2)".to_owned(),
        ),
        (
            Layers {
                previous_defaults: Some(ExtraLayer {
                    label: "the defaults of revision 2".to_owned(),
                    values: serde_json::from_value(json!({"storage": {"size": 10}})).expect("a map"),
                }),
                ..Layers::default()
            },
            DEFAULTS,
            "",
            "values: storage.size: expected string, got integer 10 (from the defaults of revision 2)".to_owned(),
        ),
        (
            Layers { set: strings(&["rbac.rules[0].verb={get}"]), ..Layers::default() },
            DEFAULTS,
            "",
            "values: rbac.rules[0].verb: unknown key; did you mean rbac.rules[0].verbs? (from --set rbac.rules[0].verb={get})".to_owned(),
        ),
        (
            // As in Helm, the index applies to the user's (empty) list, which then replaces
            // the default list whole: both padding nulls are the flag's.
            Layers { set: strings(&["rbac.rules[2].verbs={x}"]), ..Layers::default() },
            DEFAULTS,
            "",
            [
                "values: rbac.rules[0]: expected object, got null (from --set rbac.rules[2].verbs={x})",
                "values: rbac.rules[1]: expected object, got null (from --set rbac.rules[2].verbs={x})",
            ]
            .join("\n"),
        ),
    ];
    for (layers, defaults, stdin, expected) in cases {
        let err = resolve_with(defaults, SCHEMA, NO_RULES, &layers, &mut stdin.as_bytes())
            .expect_err(&expected);
        assert_eq!(err.to_string(), expected);
    }
}

#[test]
fn input_errors_name_file_flag_and_key() {
    let scratch = Scratch::new("inputs");
    let broken = scratch.file("broken.yaml", "a: 1\n  b: 2\n");
    let listed = scratch.file("list.yaml", "- a\n- b\n");
    let empty = scratch.file("empty.yaml", "");
    let string_a = scratch.file("a.yaml", "a: text\n");
    let missing = scratch.0.join("missing.yaml");
    let missing_text = scratch.0.join("missing.txt");
    let cases: Vec<(Layers, String)> = vec![
        (
            Layers { set: strings(&["a.b"]), ..Layers::default() },
            "--set \"a.b\": key \"a.b\" has no value".to_owned(),
        ),
        (
            Layers { set: strings(&["k\\.x=1,k\\.x.y=2"]), ..Layers::default() },
            "--set \"k\\.x=1,k\\.x.y=2\": key \"k\\.x\" already holds integer 1, so it cannot take nested keys".to_owned(),
        ),
        (
            Layers { set: strings(&["ok=1", "list[x]=1"]), ..Layers::default() },
            "--set \"list[x]=1\": key \"list\": list index \"x\" is not an integer".to_owned(),
        ),
        (
            Layers { set_string: strings(&["a,b=1"]), ..Layers::default() },
            "--set-string \"a,b=1\": key \"a\" has no value (found \",\" at character 2)".to_owned(),
        ),
        (
            Layers { set_json: strings(&["a={nope}"]), ..Layers::default() },
            "--set-json \"a={nope}\": key \"a\": invalid JSON: key must be a string at line 1 column 2".to_owned(),
        ),
        (
            Layers { set_file: vec![format!("a.b={}", missing_text.display())], ..Layers::default() },
            format!(
                "--set-file \"a.b={0}\": key \"a.b\": cannot read \"{0}\": No such file or directory (os error 2)",
                missing_text.display()
            ),
        ),
        (
            Layers { files: vec![string_a], set: strings(&["a.b=1"]), ..Layers::default() },
            "--set \"a.b=1\": key \"a\" already holds string \"text\", so it cannot take nested keys".to_owned(),
        ),
        (
            Layers { files: vec![missing.clone()], ..Layers::default() },
            format!("cannot read values file {}: No such file or directory (os error 2)", missing.display()),
        ),
        (
            Layers { files: vec![broken.clone()], ..Layers::default() },
            format!(
                "{}: invalid YAML: mapping values are not allowed in this context at line 2 column 4",
                broken.display()
            ),
        ),
        (
            Layers { files: vec![listed.clone()], ..Layers::default() },
            format!("{}: expected a map of keys at the top level, got array", listed.display()),
        ),
        (
            Layers { files: vec![PathBuf::from("-"), empty, PathBuf::from("-")], ..Layers::default() },
            "cannot read values file <stdin>: standard input was already read for an earlier `-`".to_owned(),
        ),
        (
            Layers { files: vec![PathBuf::from("-")], set_file: strings(&["a=-"]), ..Layers::default() },
            "--set-file \"a=-\": key \"a\": cannot read \"-\": standard input was already read for an earlier `-`"
                .to_owned(),
        ),
    ];
    for (layers, expected) in cases {
        let err = resolve_with(DEFAULTS, ANY, NO_RULES, &layers, &mut "x: 1\n".as_bytes())
            .expect_err(&expected);
        assert_eq!(as_printed(err), expected);
    }
    let err = resolve_with(
        DEFAULTS,
        ANY,
        NO_RULES,
        &Layers::default(),
        &mut "".as_bytes(),
    );
    assert!(err.is_ok(), "an empty file and empty stdin are empty maps");
}

/// The error and its causes, as skyctl prints them.
fn as_printed(err: Error) -> String {
    format!("{:#}", anyhow::Error::from(err))
}

#[test]
fn defaults_and_schema_problems_are_named() {
    let bad_defaults = resolve_with(
        "a: [1\n",
        ANY,
        NO_RULES,
        &Layers::default(),
        &mut "".as_bytes(),
    )
    .expect_err("bad defaults");
    let printed = as_printed(bad_defaults);
    assert!(
        printed.starts_with("skyctl's defaults: invalid YAML: "),
        "{printed}"
    );
    let bad_schema = resolve_with(
        DEFAULTS,
        r#"{"pattern": "x"}"#,
        NO_RULES,
        &Layers::default(),
        &mut "".as_bytes(),
    )
    .expect_err("bad schema");
    assert_eq!(
        as_printed(bad_schema),
        "values schema: #: unsupported keyword \"pattern\""
    );
}

#[test]
fn set_file_and_stdin_share_one_reading() {
    let layers = Layers {
        set_file: strings(&["apiService.config=-"]),
        ..Layers::default()
    };
    let values = resolve_with(
        DEFAULTS,
        SCHEMA,
        NO_RULES,
        &layers,
        &mut "a: b\n".as_bytes(),
    )
    .expect("loads")
    .values;
    assert_eq!(values["apiService"]["config"], json!("a: b\n"));
}

#[test]
fn every_embedded_charts_defaults_satisfy_its_schema() {
    for chart in crate::chart::Chart::all() {
        let values = resolve(chart.definition(), &Layers::default())
            .unwrap_or_else(|err| panic!("{}: defaults are invalid: {err}", chart.version()))
            .values;
        let defaults = document::parse(chart.values_yaml()).expect("defaults parse");
        assert_eq!(values, merge::coalesce(Value::Object(defaults), json!({})));
        assert!(no_null_keys(&values));
    }
}

fn no_null_keys(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.values().all(|v| !v.is_null() && no_null_keys(v)),
        _ => true,
    }
}

#[test]
fn values_recorded_with_another_chart_keep_what_the_new_chart_knows() {
    let chart = crate::chart::Chart::find("0.13.0").unwrap();
    let layer = ExtraLayer {
        label: "the values of revision 1".into(),
        values: json!({
            "ingress": {"httpNodePort": 30050, "authCredentials": "a:b", "nodePortEnabled": true},
            "apiService": {"replicas": 2},
            "rbac": {"rules": [{"apiGroups": ["*"]}]}
        })
        .as_object()
        .unwrap()
        .clone(),
    };
    let (known, dropped) = known_to(chart.definition(), layer).unwrap();
    assert_eq!(
        Value::Object(known.values),
        json!({"ingress": {"authCredentials": "a:b"}, "apiService": {"replicas": 2}, "rbac": {}})
    );
    let mut dropped: Vec<String> = dropped.iter().map(ToString::to_string).collect();
    dropped.sort();
    assert_eq!(
        dropped,
        [
            "ingress.httpNodePort",
            "ingress.nodePortEnabled",
            "rbac.rules"
        ]
    );
}
