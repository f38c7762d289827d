//! The command line itself: help that teaches.

mod support;

use support::cluster::unreachable_kubeconfig;
use support::skyctl::skyctl;

const VERBS: [&str; 12] = [
    "install",
    "upgrade",
    "uninstall",
    "rollback",
    "status",
    "list",
    "history",
    "get",
    "template",
    "endpoint",
    "creds",
    "completion",
];

#[test]
fn help_lists_every_verb() {
    let outcome = skyctl().args(["--help"]).run().success();
    for verb in VERBS {
        assert!(
            outcome
                .stdout
                .lines()
                .any(|line| line.trim_start().starts_with(verb)),
            "`skyctl --help` does not list {verb}:\n{}",
            outcome.stdout
        );
    }
}

#[test]
fn every_verb_has_its_own_help() {
    for verb in VERBS {
        skyctl()
            .args([verb, "--help"])
            .run()
            .success()
            .stdout_has("Usage: skyctl ");
    }
    skyctl()
        .args(["creds", "add", "--help"])
        .run()
        .success()
        .stdout_has("aws")
        .stdout_has("gcp")
        .stdout_has("kube");
}

// adopt had no values flags: a key Helm took and skyctl refuses could not be dropped.
#[test]
fn adopts_help_shows_the_values_flags_that_change_helms_values() {
    skyctl()
        .args(["adopt", "--help"])
        .run()
        .success()
        .stdout_has("-f, --values <FILE>")
        .stdout_has("--set <KEY=VALUE>")
        .stdout_has("--set-string <KEY=VALUE>")
        .stdout_has("--set KEY=null");
}

#[test]
fn version_names_the_crate_version() {
    skyctl()
        .args(["--version"])
        .run()
        .success()
        .stdout_has(concat!("skyctl ", env!("CARGO_PKG_VERSION")));
}

#[test]
fn completion_prints_a_script_for_the_shell() {
    skyctl()
        .args(["completion", "bash"])
        .run()
        .success()
        .stdout_has("_skyctl()");
}

#[test]
fn unknown_flags_are_usage_errors() {
    skyctl()
        .args(["--no-such-flag"])
        .run()
        .code(2)
        .stderr_has("--no-such-flag");
}

/// Runs `args` against the unreachable cluster and expects a usage error naming `flag`.
fn rejected(kubeconfig: &std::path::Path, args: &[&str], flag: &str) {
    let outcome = skyctl().kubeconfig(kubeconfig).args(args).run();
    assert!(
        !outcome.stderr.contains("panicked"),
        "skyctl {args:?} panicked: {outcome:#?}"
    );
    // clap's footer: the command line itself was refused, before any command ran.
    outcome
        .code(2)
        .stderr_has(flag)
        .stderr_has("For more information, try '--help'.");
}

/// Every verb that takes a number, with the arguments it needs besides that number.
const DURATION_VERBS: [&[&str]; 8] = [
    &["install"],
    &["upgrade"],
    &["rollback"],
    &["uninstall"],
    &["endpoint"],
    &["creds", "add", "aws"],
    &["creds", "add", "gcp", "--key-file", "sa.json"],
    &["creds", "remove", "kube"],
];
const HISTORY_VERBS: [&[&str]; 3] = [&["install"], &["upgrade"], &["rollback"]];

#[test]
fn extreme_durations_are_usage_errors_naming_the_flag() {
    let (_dir, kubeconfig) = unreachable_kubeconfig();
    let values = [
        "18446744073709551615s",
        "18446744073709551615h",
        "18446744073709551616",
        "99999999999999999999999999999m",
        "25h",
        "24h1s",
        "-1",
        "-5s",
        "",
        "5x",
        "1.5h",
    ];
    for verb in DURATION_VERBS {
        for value in values {
            let mut args = verb.to_vec();
            args.extend(["--timeout", value]);
            rejected(&kubeconfig, &args, "--timeout <DURATION>");
        }
    }
    rejected(
        &kubeconfig,
        &["install", "--timeout", "25h"],
        "longer than the limit of 24h",
    );
}

#[test]
fn extreme_history_limits_are_usage_errors_naming_the_flag() {
    let (_dir, kubeconfig) = unreachable_kubeconfig();
    let values = [
        "18446744073709551616",
        "18446744073709551615",
        "1001",
        "-1",
        "",
        "ten",
    ];
    for verb in HISTORY_VERBS {
        for value in values {
            let mut args = verb.to_vec();
            args.extend(["--history-max", value]);
            rejected(&kubeconfig, &args, "--history-max <N>");
        }
    }
    rejected(
        &kubeconfig,
        &["upgrade", "--history-max", "1001"],
        "keep 1 to 1000 revisions, or 0 to keep all",
    );
}

#[test]
fn extreme_revisions_are_usage_errors_naming_the_argument() {
    let (_dir, kubeconfig) = unreachable_kubeconfig();
    for value in ["0", "-1", "4294967296", "18446744073709551616", "two", ""] {
        rejected(&kubeconfig, &["rollback", "skypilot", value], "[REVISION]");
    }
    rejected(
        &kubeconfig,
        &["rollback", "skypilot", "0"],
        "revisions count from 1",
    );
}

#[test]
fn numbers_at_their_limits_are_accepted() {
    let (_dir, kubeconfig) = unreachable_kubeconfig();
    for args in [
        &["uninstall", "--timeout", "24h"][..],
        &["endpoint", "--timeout", "0"],
        &[
            "rollback",
            "skypilot",
            "4294967295",
            "--history-max",
            "1000",
        ],
        &[
            "rollback",
            "skypilot",
            "1",
            "--history-max",
            "0",
            "--timeout",
            "86400",
        ],
    ] {
        let outcome = skyctl().kubeconfig(&kubeconfig).args(args).run();
        assert!(
            !outcome.stderr.contains("panicked"),
            "skyctl {args:?} panicked: {outcome:#?}"
        );
        // Past the command line, the next thing to fail is the unreachable cluster.
        outcome.code(1);
    }
}

#[test]
fn release_names_and_namespaces_are_checked_before_the_cluster() {
    let (_dir, kubeconfig) = unreachable_kubeconfig();
    let long_release = "a".repeat(54);
    let long_namespace = "n".repeat(64);
    for verb in [
        "install",
        "upgrade",
        "uninstall",
        "rollback",
        "status",
        "template",
        "endpoint",
    ] {
        for name in ["Bad_Rel", "sky.pilot", "-sky", "sky-", "", &long_release] {
            // `template -sky` is `-s ky` (Helm's --show-only), refused as a pattern instead.
            let named = if verb == "template" && name == "-sky" {
                "--show-only"
            } else {
                "[RELEASE]"
            };
            rejected(&kubeconfig, &[verb, name], named);
        }
        for namespace in ["Team", "team_a", "team.a", "", &long_namespace] {
            rejected(&kubeconfig, &[verb, "-n", namespace], "--namespace <NAME>");
        }
    }
    for creds in [
        &["creds", "list"][..],
        &["creds", "remove", "aws"],
        &["creds", "add", "aws"],
        &["creds", "add", "gcp", "--key-file", "sa.json"],
        &["creds", "add", "kube"],
    ] {
        let mut args = creds.to_vec();
        args.extend(["--release", "Bad_Rel"]);
        rejected(&kubeconfig, &args, "--release <NAME>");
        // The release as the first argument, as every other verb takes it, is checked alike,
        // and naming it both ways is a conflict.
        let mut args = creds.to_vec();
        args.push("Bad_Rel");
        rejected(&kubeconfig, &args, "[RELEASE]");
        let mut args = creds.to_vec();
        args.extend(["sky", "--release", "sky"]);
        rejected(&kubeconfig, &args, "cannot be used with");
    }
    // A Secret name the API server would refuse is refused before anything is read or stored.
    for kind in ["aws", "kube", "db", "ssh"] {
        rejected(
            &kubeconfig,
            &["creds", "add", kind, "--secret-name", "Bad_Name"],
            "--secret-name",
        );
    }
    rejected(
        &kubeconfig,
        &["status", "Bad_Rel"],
        "\"Bad_Rel\" is not a valid release name: uppercase 'B' is not allowed; use lowercase letters, digits and '-', at most 53 characters, starting and ending with a letter or digit",
    );
    rejected(
        &kubeconfig,
        &["template", "--namespace", &long_namespace],
        "has 64 characters; use lowercase letters, digits and '-', at most 63 characters",
    );
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_skyctl_quietly() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_skyctl"))
        .args(["template", "--version", "0.13.0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Like `| head -0`: nobody reads what skyctl writes.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// `template --show-only` ended in "unexpected argument"; Helm users pick one file of the chart
// with it, and skyctl also takes an object by kind and name.
#[test]
fn template_shows_only_the_chart_files_or_objects_asked_for() {
    let template = |args: &[&str]| {
        skyctl()
            .args(["template", "sky", "--version", "0.13.0"])
            .args(args)
            .run()
    };
    let kinds_of = |stdout: &str| -> Vec<String> {
        skyctl::manifest::from_yaml_stream(stdout)
            .unwrap()
            .into_iter()
            .map(|m| format!("{}/{}", m.id.kind, m.id.name))
            .collect()
    };
    let one = template(&["--show-only", "templates/api-deployment.yaml"]).success();
    assert_eq!(kinds_of(&one.stdout), ["Deployment/sky-api-server"]);
    assert!(
        one.stdout
            .starts_with("---\n# Source: skypilot/templates/api-deployment.yaml\n"),
        "Helm's Source line: {}",
        one.stdout
    );
    let controller = template(&[
        "-s",
        "charts/ingress-nginx/templates/controller-service*.yaml",
    ])
    .success();
    assert_eq!(
        kinds_of(&controller.stdout),
        [
            // `*` matches within a name, so serviceaccount is one of them, as in Helm.
            "ServiceAccount/sky-ingress-nginx",
            "Service/sky-ingress-nginx-controller-admission",
            "Service/sky-ingress-nginx-controller"
        ]
    );
    let by_name = template(&["-s", "service/sky-api-service", "-s", "Ingress/*"]).success();
    assert_eq!(
        kinds_of(&by_name.stdout),
        ["Service/sky-api-service", "Ingress/sky-ingress"]
    );
    template(&["-s", "templates/oauth2-proxy-deployment.yaml"])
        .code(2)
        .stderr_has("--show-only templates/oauth2-proxy-deployment.yaml: could not find")
        .stderr_has("templates/api-deployment.yaml");
    // A class Go's filepath.Match calls a bad pattern is refused as one (it panicked).
    for bad in ["templates/[]", "templates/[z-a]*"] {
        template(&["-s", bad])
            .code(2)
            .stderr_has("is not a pattern")
            .stderr_lacks("panicked");
    }
    let ranged = template(&["-s", "templates/[h-j]ngress.yaml"]).success();
    assert_eq!(kinds_of(&ranged.stdout), ["Ingress/sky-ingress"]);
    let bad = template(&["-s", "api-server"]);
    bad.code(2)
        .stderr_has("--show-only")
        .stderr_has("names neither a chart file");
}
