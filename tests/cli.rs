//! The command line itself: help that teaches.

mod support;

use support::skyctl::skyctl;

const VERBS: [&str; 9] = [
    "install",
    "upgrade",
    "uninstall",
    "rollback",
    "status",
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
