//! Values as users give them to the binary: layered files, stdin and flags, and bad input that
//! exits 2 with a message naming the key, file, line or flag, before any cluster is contacted.

mod support;

use std::path::PathBuf;

use skyctl::manifest::{self, Manifest};
use support::skyctl::skyctl;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn api_server(stdout: &str) -> Manifest {
    manifest::from_yaml_stream(stdout)
        .unwrap()
        .into_iter()
        .find(|m| m.id.kind == "Deployment" && m.id.name == "skypilot-api-server")
        .expect("the API server Deployment is rendered")
}

#[test]
fn later_layers_win_files_then_set_json_set_set_string_set_file() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(
        &dir,
        "first.yaml",
        "apiService:\n  replicas: 2\n  image: from-first\n  skypilotDev: true\n",
    );
    let second = write(&dir, "second.yaml", "apiService:\n  image: from-second\n");
    let image = write(&dir, "image.txt", "from-set-file");
    let outcome = skyctl()
        .args(["template", "-f"])
        .arg_path(&first)
        .args(["-f"])
        .arg_path(&second)
        .args([
            "--set-json",
            "apiService.replicas=3",
            "--set",
            "apiService.replicas=4",
        ])
        .args([
            "--set-string",
            "apiService.image=from-set-string",
            "--set-file",
        ])
        .args([format!("apiService.image={}", image.display())])
        .run()
        .success();
    let deployment = api_server(&outcome.stdout).object;
    assert_eq!(
        deployment["spec"]["replicas"], 4,
        "--set beats --set-json and the files"
    );
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"], "from-set-file",
        "--set-file beats everything"
    );
    assert_eq!(
        container["env"][0]["value"], "true",
        "keys only the first file sets survive"
    );
}

#[test]
fn a_values_file_can_come_from_standard_input() {
    let outcome = skyctl()
        .args(["template", "-f", "-"])
        .stdin("apiService:\n  replicas: 5\n")
        .run()
        .success();
    assert_eq!(api_server(&outcome.stdout).object["spec"]["replicas"], 5);
}

#[test]
fn null_deletes_a_default() {
    let outcome = skyctl()
        .args(["template", "--set", "ingress.httpNodePort=null"])
        .run()
        .success();
    let nodeport = manifest::from_yaml_stream(&outcome.stdout)
        .unwrap()
        .into_iter()
        .find(|m| m.id.name == "skypilot-ingress-controller-np")
        .unwrap();
    let ports = nodeport.object["spec"]["ports"].as_array().unwrap();
    assert!(
        ports[0].get("nodePort").is_none(),
        "http nodePort is left to the cluster"
    );
    assert_eq!(ports[1]["nodePort"], 30051, "https keeps its default");
}

#[test]
fn a_wrong_type_names_the_key_the_expected_type_and_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "values.yaml",
        "ingress:\n  enabled: true\n  httpNodePort: \"abc\"\n",
    );
    skyctl()
        .args(["template", "-f"])
        .arg_path(&file)
        .run()
        .code(2)
        .stderr_has(&format!(
            "values: ingress.httpNodePort: expected integer or null, got string \"abc\" (from {}:3)",
            file.display()
        ));
}

#[test]
fn an_unknown_key_suggests_the_closest_one() {
    skyctl()
        .args(["template", "--set", "ingress.nodeportEnabled=true"])
        .run()
        .code(2)
        .stderr_has("ingress.nodeportEnabled: unknown key; did you mean ingress.nodePortEnabled? (from --set ingress.nodeportEnabled=true)");
}

#[test]
fn an_unsupported_ingress_nginx_key_is_an_error_not_ignored() {
    skyctl()
        .args([
            "template",
            "--set",
            "ingress-nginx.controller.hostNetwork=true",
        ])
        .run()
        .code(2)
        .stderr_has("ingress-nginx.controller.hostNetwork: unknown key");
}

#[test]
fn every_problem_is_listed_not_just_the_first() {
    let outcome = skyctl()
        .args([
            "template",
            "--set",
            "apiService.replicas=many,storage.size=10",
        ])
        .run()
        .code(2);
    assert!(
        outcome.stderr.contains("apiService.replicas") && outcome.stderr.contains("storage.size"),
        "{outcome:#?}"
    );
}

#[test]
fn malformed_flags_missing_files_and_broken_yaml_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write(&dir, "broken.yaml", "a: [\n");
    skyctl()
        .args(["template", "--set", "a.b"])
        .run()
        .code(2)
        .stderr_has("--set \"a.b\": key \"a.b\" has no value");
    skyctl()
        .args(["template", "-f", "no-such.yaml"])
        .run()
        .code(2)
        .stderr_has("cannot read values file no-such.yaml");
    skyctl()
        .args(["template", "-f"])
        .arg_path(&broken)
        .run()
        .code(2)
        .stderr_has(&format!("{}: invalid YAML", broken.display()))
        .stderr_has("line 2");
}

#[test]
fn bad_values_stop_install_before_any_cluster_is_contacted() {
    // The kubeconfig does not exist: reaching for the cluster would be a different error.
    skyctl()
        .args([
            "install",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
            "--set",
            "apiService.replicas=many",
        ])
        .run()
        .code(2)
        .stderr_has("apiService.replicas: expected integer");
}

#[test]
fn an_empty_key_is_refused_by_every_set_flag() {
    // Helm ignores `--set =x` without a word; skyctl names the flag, the text and the spot.
    for flag in ["--set", "--set-string", "--set-json", "--set-file"] {
        skyctl()
            .args(["template", flag, "=x"])
            .run()
            .code(2)
            .stderr_has(&format!(
                "{flag} \"=x\": empty key before \"=\" at character 1"
            ));
    }
    skyctl()
        .args(["install", "--kubeconfig", "/nonexistent/kubeconfig"])
        .args(["--set", "apiService.=3"])
        .run()
        .code(2)
        .stderr_has(
            "--set \"apiService.=3\": key \"apiService\": empty key before \"=\" at character 12",
        );
}

// --- The chart's own rules (charts/skypilot/<version>/rules.yaml) ---

#[test]
fn too_little_cpu_for_chart_0_13_0_names_the_key_the_flag_and_the_way_out() {
    let outcome = skyctl()
        .args(["template", "--version", "0.13.0"])
        .args(["--set", "apiService.resources.requests.cpu=2"])
        .run()
        .code(2)
        .stderr_has(
            "error: values: apiService.resources.requests.cpu=2 \
             (from --set apiService.resources.requests.cpu=2) \
             is below the chart's minimum of 4 CPU.",
        )
        .stderr_has("--set apiService.resources.requests.cpu=4")
        .stderr_has("apiService.skipResourceCheck=true");
    assert!(outcome.stdout.is_empty(), "nothing is rendered");
}

#[test]
fn the_resource_check_accepts_what_the_chart_accepts_and_can_be_skipped() {
    for args in [
        &["--set", "apiService.resources.requests.cpu=4000m"][..],
        &["--set", "apiService.resources.requests.memory=8192Mi"],
        // The chart counts G as Gi.
        &["--set", "apiService.resources.requests.memory=8G"],
        &[
            "--set",
            "apiService.resources.requests.cpu=1,apiService.skipResourceCheck=true",
        ],
    ] {
        skyctl()
            .args(["template", "--version", "0.13.0"])
            .args(args)
            .run()
            .success();
    }
}

#[test]
fn the_prometheus_subchart_is_refused_with_what_to_scrape_instead() {
    skyctl()
        .args(["template", "--version", "0.13.0"])
        .args(["--set", "prometheus.enabled=true"])
        .run()
        .code(2)
        .stderr_has(
            "error: values: prometheus.enabled=true (from --set prometheus.enabled=true) \
             is not supported by skyctl.",
        )
        .stderr_has("set apiService.metrics.enabled=true")
        .stderr_has("prometheus.io/scrape");
    skyctl()
        .args(["template", "--version", "0.13.0"])
        .args(["--set", "grafana.enabled=true"])
        .run()
        .code(2)
        .stderr_has("values: grafana.enabled=true (from --set grafana.enabled=true)");
}

#[test]
fn chart_0_13_0_defaults_and_disabled_subchart_keys_pass_its_rules() {
    skyctl()
        .args(["template", "--version", "0.13.0"])
        .run()
        .success();
    skyctl()
        .args(["template", "--version", "0.13.0"])
        .args(["--set", "prometheus.server.retention=30d"])
        .args([
            "--set-json",
            r#"grafana={"enabled":false,"persistence":{"size":"1Gi"}}"#,
        ])
        .run()
        .success();
}

#[test]
fn a_rule_names_the_file_and_line_of_each_value_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "rolling.yaml",
        "apiService:\n  upgradeStrategy: RollingUpdate\n  dbConnectionSecretName: db\n",
    );
    skyctl()
        .args(["template", "--version", "0.13.0", "-f"])
        .arg_path(&file)
        .run()
        .code(2)
        .stderr_has(&format!(
            "values: when apiService.upgradeStrategy=\"RollingUpdate\" (from {}:2) \
             and storage.enabled=true (from skyctl's defaults), the chart needs \
             storage.accessMode=\"ReadWriteMany\"; it has storage.accessMode=\"ReadWriteOnce\" \
             (from skyctl's defaults).",
            file.display()
        ));
}

#[test]
fn values_the_chart_refuses_stop_install_before_any_cluster_is_contacted() {
    // The kubeconfig does not exist: reaching for the cluster would be a different error.
    skyctl()
        .args(["install", "--version", "0.13.0", "--yes"])
        .args(["--kubeconfig", "/nonexistent/kubeconfig"])
        .args([
            "--set",
            "apiService.dbConnectionString=postgresql://u:pw@db/sky",
        ])
        .args(["--set", "apiService.config=x"])
        .run()
        .code(2)
        .stderr_has("apiService.dbConnectionString (from --set apiService.dbConnectionString=***)")
        .stderr_has("exclude each other");
    skyctl()
        .args(["upgrade", "--version", "0.13.0", "--yes"])
        .args(["--kubeconfig", "/nonexistent/kubeconfig"])
        .args(["--set", "apiService.resources.requests.memory=4Gi"])
        .run()
        .code(2)
        .stderr_has("apiService.resources.requests.memory=4Gi");
}
