//! The rule kinds on small rules files, then every embedded chart's rules on its own defaults
//! and on the cases the upstream chart's unit tests refuse (`failedTemplate`) or accept.

use serde_json::{Map, Value, json};

use super::*;
use crate::chart::Chart;
use crate::values::{document, merge};

fn rules(yaml: &str) -> Rules {
    Rules::from_yaml(yaml).unwrap_or_else(|err| panic!("{err}\n{yaml}"))
}

/// The messages, one per breach, as the values engine shows them without origins.
fn messages(rules: &Rules, values: &Value) -> Vec<String> {
    rules.check(values).iter().map(Breach::to_string).collect()
}

#[test]
fn tests_are_read_from_their_text() {
    // Table: a condition as a rules file writes it, as a requirement reads in a message.
    let cases = [
        ("a.b", "a.b set"),
        ("not a.b", "a.b unset"),
        ("a.b == RollingUpdate", "a.b=\"RollingUpdate\""),
        ("a.b != \"\"", "a.b non-empty"),
        ("a.b != x", "a.b other than \"x\""),
        (
            "ingress.oauth2-proxy.client-id",
            "ingress.oauth2-proxy.client-id set",
        ),
        (
            "annotations.example\\.com/x",
            "annotations.example\\.com/x set",
        ),
        (
            "{all: [a, {any: [b, not c]}]}",
            "a set and (b set or c unset)",
        ),
        ("{any: [a, b]}", "a set or b set"),
    ];
    for (text, shown) in cases {
        let yaml = format!("- requires: {text}\n  fix: f.\n");
        let Check::Requires(condition) = &rules(&yaml).0[0].check else {
            panic!("a requires rule")
        };
        assert_eq!(condition.to_string(), shown, "{text}");
    }
}

#[test]
fn a_broken_rules_file_is_named_with_the_rule() {
    // Table: a rules file, the start of its error.
    let cases = [
        ("- fix: f.\n", "rules.yaml: rule 1: needs exactly one of"),
        (
            "- {refuse: a, requires: b, fix: f.}\n",
            "rules.yaml: rule 1: needs exactly one of",
        ),
        (
            "- {refuse: a, fix: f.}\n- {refuse: 'a..b', fix: f.}\n",
            "rules.yaml: rule 2: \"a..b\" has an empty key",
        ),
        (
            "- {refuse: 'a b', fix: f.}\n",
            "rules.yaml: rule 1: \"a b\" is not a key path",
        ),
        (
            "- {excludes: [a], fix: f.}\n",
            "rules.yaml: rule 1: excludes needs at least two",
        ),
        (
            "- {refuse: {all: []}, fix: f.}\n",
            "rules.yaml: rule 1: an empty all or any",
        ),
        (
            "- {refuse: a, fix: ' '}\n",
            "rules.yaml: rule 1: has an empty fix",
        ),
        (
            "- {minimum: {key: a, measure: cpu, atLeast: lots}, fix: f.}\n",
            "rules.yaml: rule 1: atLeast \"lots\" is not a quantity",
        ),
        (
            "- {refuse: a, fix: f., unless: b}\n",
            "rules.yaml: .[0]: unknown field `unless`",
        ),
        (
            "- {minimum: {key: a, measure: disk, atLeast: '1'}, fix: f.}\n",
            "rules.yaml: ",
        ),
        ("- {requires: a == \"x, fix: f.}\n", "rules.yaml: "),
    ];
    for (yaml, start) in cases {
        let err = Rules::from_yaml(yaml).expect_err(yaml).to_string();
        assert!(err.starts_with(start), "{yaml}: {err}");
    }
    assert_eq!(rules("").0.len(), 0, "an empty file has no rules");
    assert_eq!(rules("# only a comment\n[]\n").0.len(), 0);
}

#[test]
fn set_is_helm_truth() {
    let rules = rules("- refuse: a\n  fix: f.\n");
    // Table: the value of `a`, whether the rule refuses it.
    let cases = [
        (json!({}), false),
        (json!({"a": null}), false),
        (json!({"a": false}), false),
        (json!({"a": 0}), false),
        (json!({"a": 0.0}), false),
        (json!({"a": ""}), false),
        (json!({"a": []}), false),
        (json!({"a": {}}), false),
        (json!({"a": true}), true),
        (json!({"a": 1}), true),
        (json!({"a": "0"}), true),
        (json!({"a": "false"}), true),
        (json!({"a": [0]}), true),
        (json!({"a": {"b": null}}), true),
    ];
    for (values, refused) in cases {
        assert_eq!(!rules.check(&values).is_empty(), refused, "{values}");
    }
}

#[test]
fn equality_compares_strings_only() {
    let rules =
        rules("- refuse: mode == RollingUpdate\n  fix: f.\n- refuse: id != \"\"\n  fix: g.\n");
    // Table: values, the fixes of the rules they break.
    let cases = [
        (json!({"id": ""}), vec![]),
        (json!({"mode": "RollingUpdate", "id": ""}), vec!["f."]),
        (json!({"mode": "rollingupdate", "id": ""}), vec![]),
        // Helm's `eq` of a missing value and "" is false, so `!= ""` holds.
        (json!({}), vec!["g."]),
        (json!({"id": "x"}), vec!["g."]),
        (json!({"id": 0}), vec!["g."]),
    ];
    for (values, fixes) in cases {
        let found: Vec<String> = rules.check(&values).into_iter().map(|b| b.fix).collect();
        assert_eq!(found, fixes, "{values}");
    }
}

#[test]
fn minimum_reads_quantities_the_lenient_way_and_names_the_value() {
    let rules = rules(
        "- minimum: {key: r.cpu, measure: cpu, atLeast: '4'}\n  when: not skip\n  fix: Raise it.\n\
         - minimum: {key: r.memory, measure: memory, atLeast: 8Gi}\n  when: not skip\n  fix: More.\n",
    );
    // Table: the values, the messages.
    let cases: [(Value, &[&str]); 8] = [
        (json!({"r": {"cpu": "4", "memory": "8Gi"}}), &[]),
        (json!({"r": {"cpu": "4000m", "memory": "8192Mi"}}), &[]),
        (json!({"r": {"cpu": 8, "memory": "8G"}}), &[]),
        (json!({"r": {"cpu": "4.5", "memory": "1Ti"}}), &[]),
        (json!({"r": {"cpu": "1"}, "skip": true}), &[]),
        (
            json!({"r": {"cpu": 2, "memory": "8Gi"}}),
            &["r.cpu=2 is below the chart's minimum of 4 CPU. Raise it."],
        ),
        (
            json!({"r": {"cpu": "3999m", "memory": "4Gi"}}),
            &[
                "r.cpu=\"3999m\" is below the chart's minimum of 4 CPU. Raise it.",
                "r.memory=\"4Gi\" is below the chart's minimum of 8Gi memory. More.",
            ],
        ),
        (
            json!({"r": {"cpu": "4"}, "skip": false}),
            &["r.memory is not set, below the chart's minimum of 8Gi memory. More."],
        ),
    ];
    for (values, expected) in cases {
        assert_eq!(messages(&rules, &values), expected, "{values}");
    }
}

#[test]
fn quantity_patterns_name_every_value_kubernetes_would_refuse() {
    let rules = rules(
        "- quantity: r.*.*\n  fix: Fix it.\n\
         - quantity: n.**.resources.*.*\n  fix: Fix it.\n\
         - quantity: s.size\n  fix: Fix it.\n\
         - quantity: lit\\*.x\n  fix: Fix it.\n",
    );
    // Table: the values, the messages.
    let cases: [(Value, &[&str]); 9] = [
        (json!({}), &[]),
        (
            json!({"r": {"requests": {"cpu": "500m", "memory": 8589934592u64}, "limits": null},
                   "n": {"resources": {"requests": {"cpu": "0e999"}}},
                   "s": {"size": "10Gi"}}),
            &[],
        ),
        // A map where a quantity belongs is not one; a list under `*` is not walked into.
        (
            json!({"r": {"requests": {"cpu": {"a": 1}}, "claims": [{"name": "x"}]}}),
            &["r.requests.cpu is not a Kubernetes quantity. Fix it."],
        ),
        (
            json!({"r": {"requests": {"cpu": "lots", "memory": "1ki"}}}),
            &[
                "r.requests.cpu=\"lots\" and r.requests.memory=\"1ki\" are not Kubernetes \
               quantities. Fix it.",
            ],
        ),
        // `**` matches no key, one, or several.
        (
            json!({"n": {"resources": {"limits": {"cpu": "NaN"}},
                         "a": {"b": {"resources": {"requests": {"memory": "0x10"}}}}}}),
            &[
                "n.resources.limits.cpu=\"NaN\" and n.a.b.resources.requests.memory=\"0x10\" \
               are not Kubernetes quantities. Fix it.",
            ],
        ),
        (json!({"n": {"other": {"cpu": "lots"}}}), &[]),
        (
            json!({"s": {"size": true}}),
            &["s.size=true is not a Kubernetes quantity. Fix it."],
        ),
        // An escaped `*` is a key like any other.
        (
            json!({"lit*": {"x": "big"}, "litx": {"x": "big"}}),
            &["lit*.x=\"big\" is not a Kubernetes quantity. Fix it."],
        ),
        (json!({"lity": {"x": "big"}}), &[]),
    ];
    for (values, expected) in cases {
        assert_eq!(messages(&rules, &values), expected, "{values}");
    }
}

#[test]
fn name_patterns_name_every_value_the_api_server_would_refuse() {
    let rules = rules(
        "- name: {key: g.namespace, kind: namespace}\n  fix: Fix it.\n\
         - name: {key: g.*.host, kind: host}\n  fix: Fix it.\n",
    );
    // Table: the values, the messages.
    let cases: [(Value, &[&str]); 6] = [
        (json!({}), &[]),
        // Empty and null are "not set"; a wildcard host is a host.
        (
            json!({"g": {"namespace": "", "a": {"host": null}, "b": {"host": "*.example.com"}}}),
            &[],
        ),
        (
            json!({"g": {"namespace": "Team"}}),
            &[
                "g.namespace=\"Team\" is not a valid namespace: uppercase 'T' is not allowed. Fix it.",
            ],
        ),
        (
            json!({"g": {"namespace": "team.a"}}),
            &["g.namespace=\"team.a\" is not a valid namespace: '.' is not allowed. Fix it."],
        ),
        (
            json!({"g": {"a": {"host": "sky.example.com:80"}, "b": {"host": "-sky"}}}),
            &[
                "g.a.host=\"sky.example.com:80\" is not a valid host name: ':' is not allowed; \
               g.b.host=\"-sky\" is not a valid host name: it starts with '-'. Fix it.",
            ],
        ),
        (json!({"g": {"namespace": "team-a"}}), &[]),
    ];
    for (values, expected) in cases {
        assert_eq!(messages(&rules, &values), expected, "{values}");
    }
}

#[test]
fn a_value_that_is_no_quantity_is_named_once_not_also_below_the_minimum() {
    let rules = rules(
        "- quantity: r.*\n  fix: Fix it.\n\
         - minimum: {key: r.cpu, measure: cpu, atLeast: '4'}\n  fix: Raise it.\n",
    );
    assert_eq!(
        messages(&rules, &json!({"r": {"cpu": "lots"}})),
        ["r.cpu=\"lots\" is not a Kubernetes quantity. Fix it."]
    );
}

#[test]
fn requires_names_what_made_it_apply_and_what_is_there_instead() {
    let rules = rules(
        "- requires: {any: [db.secret, db.url]}\n  when: mode == RollingUpdate\n  fix: Add a database.\n\
         - requires: access == ReadWriteMany\n  when: {all: [mode == RollingUpdate, storage, not skip]}\n  fix: Share it.\n",
    );
    // Table: the values, the messages.
    let cases: [(Value, &[&str]); 5] = [
        (json!({"mode": "Recreate", "storage": true}), &[]),
        (
            json!({"mode": "RollingUpdate", "db": {"url": "postgresql://u:pw@h"}, "access": "ReadWriteMany", "storage": true}),
            &[],
        ),
        (
            json!({"mode": "RollingUpdate", "db": {"url": "x"}, "storage": false}),
            &[],
        ),
        (
            json!({"mode": "RollingUpdate", "db": {"url": ""}, "storage": true, "access": "ReadWriteOnce"}),
            &[
                "when mode=\"RollingUpdate\", the chart needs db.secret set or db.url set; it has db.url=\"\". Add a database.",
                "when mode=\"RollingUpdate\" and storage=true, the chart needs access=\"ReadWriteMany\"; it has access=\"ReadWriteOnce\". Share it.",
            ],
        ),
        (
            json!({"mode": "RollingUpdate", "db": {"secret": "s"}, "storage": "yes"}),
            // A set string is named, not shown: it could be a password.
            &[
                "when mode=\"RollingUpdate\" and storage, the chart needs access=\"ReadWriteMany\". Share it.",
            ],
        ),
    ];
    for (values, expected) in cases {
        assert_eq!(messages(&rules, &values), expected, "{values}");
    }
}

#[test]
fn excludes_and_refuse_name_every_value_involved() {
    let rules = rules(
        "- excludes: [{any: [db.secret, db.url]}, config]\n  fix: Drop the config.\n\
         - excludes: [oauth, {all: [ingress, {any: [authSecret, authCredentials]}]}]\n  fix: Pick one.\n\
         - refuse: prometheus.enabled\n  fix: Scrape it yourself.\n",
    );
    // Table: the values, the messages.
    let cases: [(Value, &[&str]); 6] = [
        (json!({"db": {"url": "x"}}), &[]),
        (json!({"config": "a: b"}), &[]),
        (
            json!({"oauth": true, "ingress": false, "authSecret": "s"}),
            &[],
        ),
        (
            json!({"db": {"url": "postgresql://u:pw@h", "secret": "s"}, "config": "a: b\n"}),
            &["db.secret with db.url and config exclude each other. Drop the config."],
        ),
        (
            json!({"oauth": true, "ingress": true, "authCredentials": "u:hash"}),
            &["oauth=true and ingress=true with authCredentials exclude each other. Pick one."],
        ),
        (
            json!({"prometheus": {"enabled": true, "server": {}}}),
            &["prometheus.enabled=true is not supported by skyctl. Scrape it yourself."],
        ),
    ];
    for (values, expected) in cases {
        assert_eq!(messages(&rules, &values), expected, "{values}");
    }
}

#[test]
fn facts_never_show_a_secret() {
    let rules =
        rules("- refuse: {all: [db.connectionString, auth.password == hunter2]}\n  fix: f.\n");
    let values =
        json!({"db": {"connectionString": "postgresql://u:pw@h"}, "auth": {"password": "hunter2"}});
    assert_eq!(
        messages(&rules, &values),
        ["db.connectionString with auth.password is not supported by skyctl. f."]
    );
}

#[test]
fn every_fact_is_offered_for_tracing() {
    let rules = rules("- requires: b == x\n  when: a\n  fix: f.\n- excludes: [c, d]\n  fix: g.\n");
    let mut breaches = rules.check(&json!({"a": true, "b": "y", "c": 1, "d": 2}));
    let traced: Vec<String> = breaches
        .iter_mut()
        .flat_map(Breach::facts_mut)
        .map(|fact| fact.path.to_string())
        .collect();
    assert_eq!(traced, ["a", "b", "c", "d"]);
}

// --- The embedded charts ---

/// `version`'s defaults with `overrides` (dotted key, value) merged over them as `--set-json`
/// would: a null removes the key.
fn chart_values(version: &str, overrides: &[(&str, Value)]) -> Value {
    let chart = Chart::find(version).unwrap();
    let mut user = Value::Object(Map::new());
    for (key, value) in overrides {
        let path = key_path(key).unwrap();
        let mut node = &mut user;
        let segments = path.segments();
        for (index, segment) in segments.iter().enumerate() {
            let crate::values::path::Segment::Key(key) = segment else {
                unreachable!()
            };
            let map = node.as_object_mut().unwrap();
            if index + 1 == segments.len() {
                map.insert(key.clone(), value.clone());
                break;
            }
            node = map
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
    let defaults = document::parse(chart.values_yaml()).unwrap();
    merge::coalesce(Value::Object(defaults), user)
}

fn chart_rules(version: &str) -> Rules {
    Rules::from_yaml(Chart::find(version).unwrap().rules_yaml()).unwrap()
}

#[test]
fn every_embedded_charts_defaults_keep_its_rules() {
    for chart in Chart::all() {
        let rules = chart_rules(chart.version());
        let values = chart_values(chart.version(), &[]);
        assert_eq!(
            messages(&rules, &values),
            Vec::<String>::new(),
            "{}",
            chart.version()
        );
    }
}

/// `--set-json`-like overrides: a dotted key and its value.
type Overrides = Vec<(&'static str, Value)>;

const OIDC: &str = "https://example.okta.com/oauth2/default";

/// The 0.13.0 chart's own unit tests (tests/*.yaml of the upstream package) that expect a
/// `failedTemplate`, each with the keys the message must name; and those that expect the same
/// templates to render, which must pass.
#[test]
fn chart_0_13_0_refuses_what_its_unit_tests_refuse() {
    let rules = chart_rules("0.13.0");
    let new_auth = || {
        vec![
            ("auth.oauth.enabled", json!(true)),
            ("auth.oauth.oidc-issuer-url", json!(OIDC)),
            ("auth.oauth.client-id", json!("test-client-id")),
            ("auth.oauth.client-secret", json!("test-client-secret")),
        ]
    };
    let with = |mut base: Overrides, more: &[(&'static str, Value)]| {
        base.extend(more.iter().cloned());
        base
    };
    // Table: the test's name, its `set`, the keys the one message names (none: it renders).
    let cases: Vec<(&str, Overrides, &[&str])> = vec![
        (
            "db_secrets: should fail when config is set with dbConnectionString",
            vec![
                (
                    "apiService.dbConnectionString",
                    json!("postgresql://user:pass@host:5432/db"),
                ),
                ("apiService.config", json!("admin_policy: some_policy\n")),
            ],
            &["apiService.dbConnectionString and apiService.config exclude each other"],
        ),
        (
            "db_secrets: should fail when config is set with dbConnectionSecretName",
            vec![
                (
                    "apiService.dbConnectionSecretName",
                    json!("external-db-secret"),
                ),
                ("apiService.config", json!("admin_policy: some_policy\n")),
            ],
            &["apiService.dbConnectionSecretName and apiService.config exclude each other"],
        ),
        (
            "db_secrets: should create secret when dbConnectionString is provided",
            vec![(
                "apiService.dbConnectionString",
                json!("postgresql://user:pass@host:5432/db"),
            )],
            &[],
        ),
        (
            "deployment: should fail RollingUpdate strategy without external database",
            vec![("apiService.upgradeStrategy", json!("RollingUpdate"))],
            // The chart stops at the first; the storage rule also applies.
            &[
                "the chart needs apiService.dbConnectionSecretName set or apiService.dbConnectionString set",
                "the chart needs storage.accessMode=\"ReadWriteMany\"",
            ],
        ),
        (
            "deployment: should fail RollingUpdate strategy with local storage enabled using ReadWriteOnce",
            vec![
                ("apiService.upgradeStrategy", json!("RollingUpdate")),
                ("apiService.dbConnectionSecretName", json!("test-db-secret")),
                ("storage.enabled", json!(true)),
            ],
            &[
                "storage.enabled=true, the chart needs storage.accessMode=\"ReadWriteMany\"; it has storage.accessMode=\"ReadWriteOnce\"",
            ],
        ),
        (
            "deployment: should allow RollingUpdate strategy with local storage enabled using ReadWriteMany",
            vec![
                ("apiService.upgradeStrategy", json!("RollingUpdate")),
                ("apiService.dbConnectionSecretName", json!("test-db-secret")),
                ("storage.enabled", json!(true)),
                ("storage.accessMode", json!("ReadWriteMany")),
            ],
            &[],
        ),
        (
            "deployment: should support percentage strings for maxSurge/maxUnavailable",
            vec![
                ("apiService.upgradeStrategy", json!("RollingUpdate")),
                ("apiService.dbConnectionSecretName", json!("test-db-secret")),
                ("storage.enabled", json!(false)),
                ("apiService.rollingUpdate.maxSurge", json!("25%")),
            ],
            &[],
        ),
        (
            "oauth2: should fail when oidc-issuer-url is missing (legacy)",
            vec![
                ("auth.oauth.enabled", json!(false)),
                ("ingress.enabled", json!(true)),
                ("ingress.oauth2-proxy.enabled", json!(true)),
                ("ingress.oauth2-proxy.client-id", json!("test-client-id")),
                (
                    "ingress.oauth2-proxy.client-secret",
                    json!("test-client-secret"),
                ),
            ],
            &["the chart needs ingress.oauth2-proxy.oidc-issuer-url set"],
        ),
        (
            "oauth2: should create oauth2-proxy resources when legacy config is enabled",
            vec![
                ("ingress.enabled", json!(true)),
                ("ingress.oauth2-proxy.enabled", json!(true)),
                ("ingress.oauth2-proxy.oidc-issuer-url", json!(OIDC)),
                ("ingress.oauth2-proxy.client-id", json!("test-client-id")),
                (
                    "ingress.oauth2-proxy.client-secret",
                    json!("test-client-secret"),
                ),
            ],
            &[],
        ),
        (
            "oauth2: should fail when both auth configs are enabled",
            with(
                new_auth(),
                &[
                    ("ingress.enabled", json!(true)),
                    ("ingress.oauth2-proxy.enabled", json!(true)),
                    ("ingress.oauth2-proxy.oidc-issuer-url", json!(OIDC)),
                    ("ingress.oauth2-proxy.client-id", json!("test-client-id")),
                    (
                        "ingress.oauth2-proxy.client-secret",
                        json!("test-client-secret"),
                    ),
                ],
            ),
            &[
                "auth.oauth.enabled=true and ingress.enabled=true with ingress.oauth2-proxy.enabled=true exclude each other",
            ],
        ),
        (
            "oauth2: should create oauth2-proxy resources when new auth config is enabled",
            new_auth(),
            &[],
        ),
        (
            "oauth2: should use redis-secret",
            with(
                new_auth(),
                &[("auth.oauth.redis-secret", json!("redis-credentials"))],
            ),
            &[],
        ),
        (
            "oauth2: should fail when both redis-url and redis-secret are set",
            with(
                new_auth(),
                &[
                    (
                        "auth.oauth.redis-url",
                        json!("redis://external-redis:6379/1"),
                    ),
                    ("auth.oauth.redis-secret", json!("redis-credentials")),
                ],
            ),
            &[
                "when auth.oauth.enabled=true, auth.oauth.redis-url and auth.oauth.redis-secret exclude each other",
            ],
        ),
        (
            "oauth2: client details from a Secret need no client-id",
            with(
                vec![
                    ("auth.oauth.enabled", json!(true)),
                    ("auth.oauth.oidc-issuer-url", json!(OIDC)),
                ],
                &[(
                    "auth.oauth.client-details-from-secret",
                    json!("oauth-client"),
                )],
            ),
            &[],
        ),
        (
            "helpers: auth.oauth with ingress basic auth",
            with(
                new_auth(),
                &[("ingress.authCredentials", json!("u:$apr1$x$y"))],
            ),
            &[
                "auth.oauth.enabled=true and ingress.enabled=true with ingress.authCredentials exclude each other",
            ],
        ),
        (
            "helpers: auth.oauth with basic auth on a disabled ingress",
            with(
                new_auth(),
                &[
                    ("ingress.enabled", json!(false)),
                    ("ingress.authSecret", json!("s")),
                ],
            ),
            &[],
        ),
        (
            "helpers: externalProxy with auth.oauth",
            with(new_auth(), &[("auth.externalProxy.enabled", json!(true))]),
            &["auth.externalProxy.enabled=true and auth.oauth.enabled=true exclude each other"],
        ),
        (
            "helpers: externalProxy with ingress oauth2-proxy",
            vec![
                ("auth.externalProxy.enabled", json!(true)),
                ("ingress.oauth2-proxy.enabled", json!(true)),
                ("ingress.oauth2-proxy.oidc-issuer-url", json!(OIDC)),
                (
                    "ingress.oauth2-proxy.client-details-from-secret",
                    json!("c"),
                ),
            ],
            &[
                "auth.externalProxy.enabled=true and ingress.enabled=true with ingress.oauth2-proxy.enabled=true exclude each other",
            ],
        ),
        (
            "NOTES: resources below the minimum",
            vec![
                ("apiService.resources.requests.cpu", json!("2")),
                ("apiService.resources.requests.memory", json!("4Gi")),
            ],
            &[
                "apiService.resources.requests.cpu=\"2\" is below the chart's minimum of 4 CPU",
                "apiService.resources.requests.memory=\"4Gi\" is below the chart's minimum of 8Gi memory",
            ],
        ),
        (
            "NOTES: skipResourceCheck",
            vec![
                ("apiService.resources.requests.cpu", json!("500m")),
                ("apiService.skipResourceCheck", json!(true)),
            ],
            &[],
        ),
        (
            "Chart.yaml: the prometheus subchart",
            vec![("prometheus.enabled", json!(true))],
            &[
                "prometheus.enabled=true is not supported by skyctl. It would deploy the chart's own Prometheus",
            ],
        ),
        (
            "Chart.yaml: the grafana subchart",
            vec![("grafana.enabled", json!(true))],
            &[
                "grafana.enabled=true is not supported by skyctl. It would deploy the chart's own Grafana",
            ],
        ),
        (
            "Chart.yaml: subchart keys while disabled",
            vec![
                ("prometheus.server.retention", json!("1d")),
                ("grafana.adminPassword", json!("x")),
            ],
            &[],
        ),
    ];
    for (name, overrides, expected) in cases {
        let found = messages(&rules, &chart_values("0.13.0", &overrides));
        assert_eq!(found.len(), expected.len(), "{name}: {found:#?}");
        for (message, part) in found.iter().zip(expected) {
            assert!(message.contains(part), "{name}: {message:?} lacks {part:?}");
        }
    }
}
