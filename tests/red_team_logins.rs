//! Breaks found by red-teaming the 0.13.0 logins (`--auth` and its flags), each written as the
//! promise that must hold: `--dry-run` writes nothing; a rotated OAuth client reaches
//! oauth2-proxy even when the run that stored it was cut off; a Secret skyctl did not make is
//! never taken over; the client goes into the Secret the values name; the chart's placeholder
//! admin is never deployed; bad or stray login flags exit 2 with no write; an upgrade given
//! nothing keeps the login and writes nothing, whatever the login and however values are reused.

mod support;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use skyctl::interrupt_point::Point;
use support::audit;
use support::cluster;
use support::release::{Chart, Fixture, pod_spec};
use support::skyctl::{Outcome, Skyctl, skyctl};

const CURRENT: &str = "0.13.0";
/// ingress-nginx is cluster-wide; these tests do not need it.
const INGRESS_OFF: &str = "ingress-nginx.enabled=false";
const ISSUER: &str = "https://login.example.com";
const CLIENT_ID: &str = "sky-client";
const CLIENT_SECRET: &str = "first-client-SECRET-9931";
const ROTATED_SECRET: &str = "rotated-client-SECRET-7720";
const PASSWORD: &str = "admin password red 3Z";

/// `skyctl VERB RELEASE -n NS ARGS`, for a 0.13.0 release without ingress-nginx and without
/// the fixture's basic auth (which `--auth oauth` refuses next to it).
fn run(f: &Fixture, verb: &str, args: &[&str]) -> Skyctl {
    // `get values RELEASE`: the verb has a word of its own before the release.
    let (verb, args) = match (verb, args) {
        ("get", [what, rest @ ..]) => (["get", what].join(" "), rest),
        _ => (verb.to_owned(), args),
    };
    let mut all: Vec<&str> = verb.split(' ').collect();
    all.extend([f.release(), "-n", &f.ns.name]);
    let verb = verb.as_str();
    if matches!(verb, "install" | "upgrade") {
        all.extend(["--set", INGRESS_OFF, "--no-wait"]);
    }
    if verb == "install" && !args.contains(&"--version") {
        all.extend(["--version", CURRENT]);
    }
    all.extend_from_slice(args);
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .env_remove("SKYCTL_WEB_PASSWORD")
        .env_remove("SKYCTL_OAUTH_CLIENT_SECRET")
        .args(all)
}

fn oauth_flags() -> [&'static str; 7] {
    [
        "--auth",
        "oauth",
        "--oauth-issuer-url",
        ISSUER,
        "--oauth-client-id",
        CLIENT_ID,
        "--oauth-client-secret-stdin",
    ]
}

async fn oauth_release() -> Fixture {
    let f = Fixture::with_chart(Chart::Current).await;
    run(&f, "install", &oauth_flags())
        .stdin(format!("{CLIENT_SECRET}\n"))
        .run()
        .success();
    f
}

fn secrets(f: &Fixture) -> Api<Secret> {
    Api::namespaced(f.ns.client.clone(), &f.ns.name)
}

/// An OAuth client Secret the admin made with kubectl, as the chart's docs say to.
async fn store_their_client(f: &Fixture, name: &str) {
    let theirs: Secret = serde_json::from_value(json!({
        "metadata": {"name": name},
        "stringData": {"client-id": "theirs", "client-secret": "their-secret"},
    }))
    .unwrap();
    secrets(f)
        .create(&PostParams::default(), &theirs)
        .await
        .unwrap();
}

fn client_secret_name(f: &Fixture) -> String {
    format!("{}-oauth-client", f.release())
}

async fn stored_client_secret(f: &Fixture, name: &str) -> Vec<u8> {
    let secret = secrets(f).get(name).await.unwrap();
    secret.data.unwrap()["client-secret"].0.clone()
}

/// The oauth2-proxy Deployment's restart annotation, if skyctl ever restarted it.
async fn restarted_at(f: &Fixture) -> Option<String> {
    let deployment = f
        .deployments()
        .get(&format!("{}-oauth2-proxy", f.release()))
        .await
        .unwrap();
    deployment
        .spec?
        .template
        .metadata?
        .annotations?
        .get("skyctl.io/restarted-at")
        .cloned()
}

fn persisted(mark: &audit::Mark, f: &Fixture) -> Vec<audit::Request> {
    mark.skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(audit::Request::persists)
        .collect()
}

fn never_shown(outcome: &Outcome, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !outcome.stdout.contains(secret) && !outcome.stderr.contains(secret),
            "{secret:?} was shown: {outcome:#?}"
        );
    }
}

// 1. An upgrade whose values do not change is "unchanged" even with --dry-run, and the
//    unchanged path stored the OAuth client (and restarted oauth2-proxy): a dry run of a
//    client secret rotation rotated it.
#[tokio::test]
async fn a_dry_run_of_a_client_secret_rotation_writes_nothing() {
    let _serial = cluster::exclusive().await;
    let f = oauth_release().await;
    let mark = audit::mark();
    let dry = run(&f, "upgrade", &oauth_flags())
        .args(["--dry-run"])
        .stdin(format!("{ROTATED_SECRET}\n"))
        .run()
        .success();
    never_shown(&dry, &[CLIENT_SECRET, ROTATED_SECRET]);
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}\n{dry:#?}");
    assert_eq!(
        stored_client_secret(&f, &client_secret_name(&f)).await,
        CLIENT_SECRET.as_bytes()
    );
    assert_eq!(restarted_at(&f).await, None);
}

// 2. The promise the rotation must keep: an upgrade given nothing keeps the login it recorded
//    and writes nothing; one given a new client secret stores it and restarts oauth2-proxy.
#[tokio::test]
async fn an_oauth_release_keeps_its_login_and_rotates_its_client_secret() {
    let _serial = cluster::exclusive().await;
    let f = oauth_release().await;
    let mark = audit::mark();
    let same = run(&f, "upgrade", &[]).run().success();
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}\n{same:#?}");
    let values = run(&f, "get", &["values", "-o", "json"])
        .run()
        .success()
        .stdout;
    let values: serde_json::Value = serde_json::from_str(&values).unwrap();
    assert_eq!(values["auth"]["oauth"]["enabled"], true, "{values}");

    let rotated = run(&f, "upgrade", &oauth_flags())
        .args(["--diff"])
        .stdin(format!("{ROTATED_SECRET}\n"))
        .run()
        .success()
        .stderr_has("restarted to read it");
    assert_eq!(
        stored_client_secret(&f, &client_secret_name(&f)).await,
        ROTATED_SECRET.as_bytes()
    );
    assert!(restarted_at(&f).await.is_some());
    for (verb, args) in [
        ("get", &["values", "--all"][..]),
        ("history", &[][..]),
        ("status", &["-o", "json"][..]),
    ] {
        let shown = run(&f, verb, args).run().success();
        never_shown(&shown, &[CLIENT_SECRET, ROTATED_SECRET]);
    }
    never_shown(&rotated, &[CLIENT_SECRET, ROTATED_SECRET]);
}

// 3. A rotation stores the Secret, then restarts oauth2-proxy. A run cut off in between (killed,
//    or failed on the restart) left the new client in the Secret and the old one in
//    oauth2-proxy; the rerun found the Secret unchanged and restarted nothing, so oauth2-proxy
//    kept the old client until its pod happened to die.
#[tokio::test]
async fn a_rotation_cut_off_before_the_restart_restarts_oauth2_proxy_on_the_rerun() {
    let _serial = cluster::exclusive().await;
    let f = oauth_release().await;
    // The state `kill -9` between the store and the restart leaves, made without a race: the
    // API server refuses the restart, so the run ends right after the store.
    let policy = RestartRefused::install(&f).await;
    let cut_off = run(&f, "upgrade", &oauth_flags())
        .stdin(format!("{ROTATED_SECRET}\n"))
        .run();
    assert_ne!(cut_off.code, Some(0), "{cut_off:#?}");
    assert_eq!(
        stored_client_secret(&f, &client_secret_name(&f)).await,
        ROTATED_SECRET.as_bytes(),
        "{cut_off:#?}"
    );
    assert_eq!(restarted_at(&f).await, None, "the restart was refused");
    policy.remove().await;
    run(&f, "upgrade", &oauth_flags())
        .stdin(format!("{ROTATED_SECRET}\n"))
        .run()
        .success();
    let restarted = restarted_at(&f).await;
    assert!(
        restarted.is_some(),
        "oauth2-proxy still runs with the client it had before the rotation"
    );
    // Once restarted, the same client again restarts nothing, and writes nothing.
    let mark = audit::mark();
    run(&f, "upgrade", &oauth_flags())
        .stdin(format!("{ROTATED_SECRET}\n"))
        .run()
        .success();
    assert_eq!(restarted_at(&f).await, restarted);
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
}

/// A ValidatingAdmissionPolicy that refuses skyctl's restart of the test's oauth2-proxy.
struct RestartRefused {
    manifest: tempfile::NamedTempFile,
    deployments: Api<Deployment>,
    proxy: String,
}

impl RestartRefused {
    async fn install(f: &Fixture) -> Self {
        let name = format!("refuse-restart-{}", f.ns.name);
        let yaml = format!(
            r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: {name}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["UPDATE"]
      resources: ["deployments"]
  validations:
  - expression: >-
      !has(object.spec.template.metadata.annotations) ||
      !('skyctl.io/restarted-at' in object.spec.template.metadata.annotations)
    message: restarts refused by the test
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: {name}
spec:
  policyName: {name}
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: {ns}
"#,
            ns = f.ns.name
        );
        let manifest = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(manifest.path(), yaml).unwrap();
        let applied =
            cluster::kubectl(["apply".as_ref(), "-f".as_ref(), manifest.path().as_os_str()]);
        assert!(applied.status.success(), "{applied:?}");
        let refused = Self {
            manifest,
            deployments: f.deployments(),
            proxy: format!("{}-oauth2-proxy", f.release()),
        };
        refused.until_restart_is(false).await;
        refused
    }

    async fn remove(self) {
        let deleted = cluster::kubectl([
            "delete".as_ref(),
            "-f".as_ref(),
            self.manifest.path().as_os_str(),
        ]);
        assert!(deleted.status.success(), "{deleted:?}");
        self.until_restart_is(true).await;
    }

    /// Waits until the API server has the policy in force (or gone): a restart sent as a
    /// server-side dry run is refused (or allowed).
    async fn until_restart_is(&self, allowed: bool) {
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {
            "skyctl.io/restarted-at": "probe"}}}}});
        let params = PatchParams {
            dry_run: true,
            ..Default::default()
        };
        cluster::eventually(
            "the admission policy to take effect",
            std::time::Duration::from_secs(30),
            || async {
                let result = self
                    .deployments
                    .patch(&self.proxy, &params, &Patch::Merge(&patch))
                    .await;
                (result.is_ok() == allowed).then_some(())
            },
        )
        .await;
    }
}

// 4. The OAuth client's Secret is named for the release. One of that name that skyctl did not
//    make (an admin's, made with kubectl as the chart's docs suggest) was overwritten by force.
#[tokio::test]
async fn a_secret_of_the_client_name_that_skyctl_did_not_make_is_never_taken_over() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let name = client_secret_name(&f);
    store_their_client(&f, &name).await;
    let mark = audit::mark();
    let refused = run(&f, "install", &oauth_flags())
        .stdin(format!("{CLIENT_SECRET}\n"))
        .run()
        .code(2)
        .stderr_has(&name);
    never_shown(&refused, &[CLIENT_SECRET]);
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}\n{refused:#?}");
    assert_eq!(stored_client_secret(&f, &name).await, b"their-secret");
}

// 5. A release whose values name the client's Secret (`client-details-from-secret`) recorded
//    that name; `--auth oauth` with a new client stored it in `<release>-oauth-client` yet kept
//    the recorded name in the values, so oauth2-proxy never saw the new client.
#[tokio::test]
async fn a_new_client_goes_into_the_secret_oauth2_proxy_reads() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    store_their_client(&f, "their-client").await;
    run(
        &f,
        "install",
        &[
            "--set",
            &format!("auth.oauth.enabled=true,auth.oauth.oidc-issuer-url={ISSUER}"),
            "--set",
            "auth.oauth.client-details-from-secret=their-client",
        ],
    )
    .run()
    .success();
    run(&f, "upgrade", &oauth_flags())
        .stdin(format!("{ROTATED_SECRET}\n"))
        .run()
        .success();
    let proxy = f
        .deployments()
        .get(&format!("{}-oauth2-proxy", f.release()))
        .await
        .unwrap();
    let env = serde_json::to_value(&pod_spec(&proxy).containers[0].env).unwrap();
    let secret_read = env
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "OAUTH2_PROXY_CLIENT_SECRET")
        .map(|e| e["valueFrom"]["secretKeyRef"]["name"].clone());
    assert_eq!(secret_read, Some(json!(client_secret_name(&f))));
    assert_eq!(
        stored_client_secret(&f, "their-client").await,
        b"their-secret"
    );
}

// 6. Values that turn the API server's users on without a first admin (the documented
//    `--set apiService.enableUserManagement=true`) with a password given: skyctl read the
//    password, made no line of it, and then refused the chart's placeholder as if the user
//    had set it.
#[tokio::test]
async fn users_chosen_by_the_values_get_their_first_admin_from_the_password() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let installed = run(
        &f,
        "install",
        &[
            "--set",
            "apiService.enableUserManagement=true",
            "--web-username",
            "admin",
            "--web-password-stdin",
        ],
    )
    .stdin(format!("{PASSWORD}\n"))
    .run()
    .success();
    never_shown(&installed, &[PASSWORD]);
    let admin = secrets(&f)
        .get(&format!("{}-initial-basic-auth", f.release()))
        .await
        .unwrap();
    let line = String::from_utf8(admin.data.unwrap()["auth"].0.clone()).unwrap();
    assert!(skyctl::guide::basic_auth::verify(&line, "admin", PASSWORD));
    // The same values again, with no password: the recorded admin stays, nothing is written.
    let mark = audit::mark();
    run(
        &f,
        "upgrade",
        &["--set", "apiService.enableUserManagement=true", "--yes"],
    )
    .run()
    .success();
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
}

// 7. A flag of another login than the one chosen was ignored without a word: the admin who
//    typed `--oauth-issuer-url` next to `--auth basic` got basic auth and no OAuth.
#[tokio::test]
async fn a_flag_of_another_login_exits_2_naming_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "--auth",
                "basic",
                "--web-password-stdin",
                "--oauth-issuer-url",
                ISSUER,
            ],
            "--oauth-issuer-url",
        ),
        (
            &[
                "--auth",
                "users",
                "--web-password-stdin",
                "--proxy-header-format",
                "jwt",
            ],
            "--proxy-header-format",
        ),
        (
            &[
                "--auth",
                "basic",
                "--web-password-stdin",
                "--oauth-client-secret-file",
                "/dev/null",
            ],
            "--oauth-client-secret-file",
        ),
        (
            &["--auth", "none", "--oauth-client-id", CLIENT_ID],
            "--oauth-client-id",
        ),
        (
            &[
                "--auth",
                "oauth",
                "--oauth-issuer-url",
                ISSUER,
                "--oauth-client-id",
                CLIENT_ID,
                "--oauth-client-secret-stdin",
                "--proxy-header",
                "X-User",
            ],
            "--proxy-header",
        ),
    ];
    let mark = audit::mark();
    for (args, flag) in cases {
        run(&f, "install", args)
            .stdin(format!("{PASSWORD}\n"))
            .run()
            .code(2)
            .stderr_has(flag);
    }
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
}

// 8. An issuer URL with no host passed the check and was deployed; one with a password in it
//    was deployed too, and printed on every run.
#[tokio::test]
async fn an_issuer_url_without_a_host_exits_2() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let mark = audit::mark();
    for url in [
        "https://",
        "http:///path",
        "ftp://idp.example",
        "https://a b",
        "https://admin:issuer-PASSWORD@idp.example",
    ] {
        run(
            &f,
            "install",
            &[
                "--auth",
                "oauth",
                "--oauth-issuer-url",
                url,
                "--oauth-client-id",
                CLIENT_ID,
                "--oauth-client-secret-stdin",
            ],
        )
        .stdin(format!("{CLIENT_SECRET}\n"))
        .run()
        .code(2)
        .stderr_has("--oauth-issuer-url")
        .stderr_lacks("issuer-PASSWORD");
    }
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
}

// 9. Bad input on every new flag exits 2, names what is wrong, and writes nothing.
#[tokio::test]
async fn bad_login_input_exits_2_and_writes_nothing() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let missing = dir.path().join("missing");
    let (empty, missing, dir_path) = (
        empty.to_str().unwrap(),
        missing.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    );
    let oauth = |rest: &[&'static str]| -> Vec<String> {
        let mut args = vec!["--auth", "oauth", "--oauth-issuer-url", ISSUER];
        args.extend_from_slice(rest);
        args.into_iter().map(str::to_owned).collect()
    };
    let with_file = |file: &str| {
        let mut args = oauth(&["--oauth-client-id", CLIENT_ID, "--oauth-client-secret-file"]);
        args.push(file.to_owned());
        args
    };
    let owned = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (with_file(missing), "", "--oauth-client-secret-file"),
        (with_file(dir_path), "", "--oauth-client-secret-file"),
        (with_file(empty), "", "must not be empty"),
        (
            oauth(&["--oauth-client-id", " ", "--oauth-client-secret-stdin"]),
            "s\n",
            "must not be empty",
        ),
        (
            oauth(&[
                "--oauth-client-id",
                CLIENT_ID,
                "--oauth-client-secret-stdin",
            ]),
            "",
            "must not be empty",
        ),
        (
            oauth(&["--oauth-client-secret-stdin"]),
            "s\n",
            "--oauth-client-id",
        ),
        (
            oauth(&["--oauth-client-id", CLIENT_ID]),
            "",
            "--oauth-client-secret-stdin",
        ),
        (
            oauth(&[
                "--oauth-client-id",
                CLIENT_ID,
                "--oauth-client-secret-stdin",
                "--web-password-stdin",
            ]),
            "s\n",
            "standard input",
        ),
        (
            oauth(&[
                "--oauth-client-id",
                CLIENT_ID,
                "--oauth-client-secret-stdin",
                "--values",
                "-",
            ]),
            "{}\n",
            "standard input",
        ),
        (
            oauth(&[
                "--oauth-client-id",
                CLIENT_ID,
                "--oauth-client-secret-stdin",
                "--set",
                "ingress.authCredentials=u:$apr1$abcdefgh$0123456789abcdefghijkl",
            ]),
            "s\n",
            "ingress.authCredentials",
        ),
        (
            owned(&["--auth", "proxy", "--proxy-header", "X User"]),
            "",
            "--proxy-header",
        ),
        (
            owned(&["--auth", "proxy", "--proxy-header", "X-User:"]),
            "",
            "--proxy-header",
        ),
        (
            owned(&["--auth", "proxy", "--proxy-header", ""]),
            "",
            "--proxy-header",
        ),
        (
            owned(&["--auth", "proxy", "--proxy-header", "X-Üser"]),
            "",
            "--proxy-header",
        ),
        (
            owned(&["--auth", "users", "--version", support::skyctl::SEED_ERA]),
            "",
            "--auth users",
        ),
        (
            owned(&["--auth", "none", "--version", support::skyctl::SEED_ERA]),
            "",
            "--auth none",
        ),
        (owned(&["--auth", "users"]), "", "password"),
        (
            owned(&["--auth", "users", "--web-password-stdin"]),
            "\n",
            "password",
        ),
    ];
    let mark = audit::mark();
    for (args, stdin, said) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let refused = run(&f, "install", &args)
            .stdin(stdin)
            .run()
            .code(2)
            .stderr_has(said);
        never_shown(&refused, &["$apr1$abcdefgh"]);
    }
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
}

/// Which logins the deployed values turn on, and whether the ingress's basic auth is on.
type LoginsOn = (Vec<&'static str>, bool);

fn logins_on(f: &Fixture) -> LoginsOn {
    let values = run(f, "get", &["values", "--all", "-o", "json"])
        .run()
        .success()
        .stdout;
    let values: serde_json::Value = serde_json::from_str(&values).unwrap();
    let on = [
        ("/auth/oauth/enabled", "oauth"),
        ("/auth/externalProxy/enabled", "proxy"),
        ("/apiService/enableUserManagement", "users"),
        ("/ingress/oauth2-proxy/enabled", "ingress-oauth"),
    ]
    .into_iter()
    .filter(|(pointer, _)| values.pointer(pointer) == Some(&json!(true)))
    .map(|(_, name)| name)
    .collect();
    let basic = values
        .pointer("/ingress/authCredentials")
        .is_some_and(|v| !v.is_null())
        || values
            .pointer("/ingress/authSecret")
            .is_some_and(|v| !v.is_null());
    (on, basic)
}

// 10. Switching logins on upgrade, with and without --reuse-values: each upgrade turns the
//     previous login off, and an upgrade given nothing keeps the login and writes nothing.
#[tokio::test]
async fn switching_logins_on_upgrade_leaves_one_login_on() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    run(&f, "install", &["--auth", "basic", "--web-password-stdin"])
        .stdin(format!("{PASSWORD}\n"))
        .run()
        .success();
    assert_eq!(logins_on(&f), (vec![], true));
    let steps: [(&[&str], Option<&str>, LoginsOn); 6] = [
        (&oauth_flags(), Some(CLIENT_SECRET), (vec!["oauth"], false)),
        (
            &["--reuse-values", "--auth", "users", "--web-password-stdin"],
            Some(PASSWORD),
            (vec!["users"], false),
        ),
        (
            &["--auth", "proxy", "--proxy-header", "X-User"],
            None,
            (vec!["proxy"], false),
        ),
        (&["--reuse-values", "--auth", "none"], None, (vec![], false)),
        (
            &["--reuse-values", "--auth", "basic", "--web-password-stdin"],
            Some(PASSWORD),
            (vec![], true),
        ),
        (&["--reset-values", "--auth", "none"], None, (vec![], false)),
    ];
    for (args, stdin, expected) in steps {
        let upgraded = run(&f, "upgrade", args)
            .stdin(stdin.map(|s| format!("{s}\n")).unwrap_or_default())
            .run()
            .success();
        never_shown(&upgraded, &[PASSWORD, CLIENT_SECRET]);
        assert_eq!(logins_on(&f), expected, "{args:?}: {upgraded:#?}");
        // Without --reuse-values the values given replace the recorded ones (as with Helm):
        // after an upgrade that reused values, only reusing them again is the same release.
        let agains: &[&[&str]] = if args.contains(&"--reuse-values") {
            &[&["--reuse-values"]]
        } else {
            &[&[], &["--reuse-values"]]
        };
        let mark = audit::mark();
        for again in agains {
            let kept = run(&f, "upgrade", again).run().success();
            let writes = persisted(&mark, &f);
            assert!(
                writes.is_empty(),
                "{args:?} then {again:?}: {writes:#?}\n{kept:#?}"
            );
        }
        assert_eq!(logins_on(&f), expected, "{args:?}, kept");
    }
}

// 11. The client secret from $SKYCTL_OAUTH_CLIENT_SECRET was stored as given, a trailing
//     newline included (which oauth2-proxy would send to the provider), while the same text
//     from a file lost it; and one of blanks only was stored instead of refused.
#[tokio::test]
async fn the_client_secret_from_the_environment_is_read_as_from_a_file() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let without_stdin = &oauth_flags()[..6];
    let mark = audit::mark();
    run(&f, "install", without_stdin)
        .env("SKYCTL_OAUTH_CLIENT_SECRET", " \n")
        .run()
        .code(2)
        .stderr_has("must not be empty");
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
    run(&f, "install", without_stdin)
        .env("SKYCTL_OAUTH_CLIENT_SECRET", &format!("{CLIENT_SECRET}\n"))
        .run()
        .success();
    assert_eq!(
        stored_client_secret(&f, &client_secret_name(&f)).await,
        CLIENT_SECRET.as_bytes()
    );
}

// 12. `kill -9` of an `--auth oauth` install at the moment it stored the client (before its
//     objects are applied), then the same install again: it completes, with the client stored.
#[tokio::test]
async fn an_oauth_install_killed_after_storing_the_client_completes_when_run_again() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let without_stdin = &oauth_flags()[..6];
    run(&f, "install", without_stdin)
        .env("SKYCTL_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
        .interrupted_at(Point::OauthClientStored, 1)
        .run()
        .interrupted();
    let name = client_secret_name(&f);
    assert_eq!(
        stored_client_secret(&f, &name).await,
        CLIENT_SECRET.as_bytes()
    );
    let again = run(&f, "install", without_stdin)
        .env("SKYCTL_OAUTH_CLIENT_SECRET", ROTATED_SECRET)
        // The lock of the killed run outlives it by its lease; skyctl says to take it over.
        .args(["--force-unlock"])
        .run()
        .success();
    never_shown(&again, &[CLIENT_SECRET, ROTATED_SECRET]);
    assert_eq!(
        stored_client_secret(&f, &name).await,
        ROTATED_SECRET.as_bytes()
    );
    assert!(
        f.deployments()
            .get_opt(&format!("{}-oauth2-proxy", f.release()))
            .await
            .unwrap()
            .is_some()
    );
}

// 13. Values that turn on OAuth and the API server's users at once (the chart refuses neither)
//     choose OAuth, and the placeholder check asked only of users mode: the chart's public
//     placeholder admin was deployed.
#[tokio::test]
async fn the_placeholder_admin_is_never_deployed_next_to_oauth() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    store_their_client(&f, "theirs").await;
    let mark = audit::mark();
    let oauth = format!(
        "auth.oauth.enabled=true,auth.oauth.oidc-issuer-url={ISSUER},\
         auth.oauth.client-details-from-secret=theirs"
    );
    run(
        &f,
        "install",
        &[
            "--set",
            &oauth,
            "--set",
            "apiService.enableUserManagement=true",
        ],
    )
    .run()
    .code(2)
    .stderr_has("apiService.initialBasicAuthCredentials");
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
    let initial = secrets(&f)
        .get_opt(&format!("{}-initial-basic-auth", f.release()))
        .await
        .unwrap();
    assert!(initial.is_none());
}

// 14. A release whose values give the OAuth client inline (auth.oauth.client-id and
//     client-secret, as the chart allows) upgraded with --auth oauth and no client flags: skyctl
//     pointed oauth2-proxy at its own client Secret, which nobody had stored.
#[tokio::test]
async fn auth_oauth_without_a_client_keeps_the_client_the_values_give() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let inline = format!(
        "auth.oauth.enabled=true,auth.oauth.oidc-issuer-url={ISSUER},\
         auth.oauth.client-id={CLIENT_ID},auth.oauth.client-secret={CLIENT_SECRET}"
    );
    run(&f, "install", &["--set", &inline]).run().success();
    let mark = audit::mark();
    run(&f, "upgrade", &["--reuse-values", "--auth", "oauth"])
        .run()
        .success();
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
}

// 15. $SKYCTL_OAUTH_CLIENT_SECRET is ambient (a CI job exports it for every run): a routine
//     upgrade of an OAuth release, given nothing, failed for want of --oauth-client-id.
#[tokio::test]
async fn a_client_secret_in_the_environment_keeps_a_routine_upgrade_a_no_op() {
    let _serial = cluster::exclusive().await;
    let f = oauth_release().await;
    let mark = audit::mark();
    run(&f, "upgrade", &[])
        .env("SKYCTL_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
        .run()
        .success();
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
}

// 16. With --reuse-values, the reused values of an OAuth or proxy release counted as the user's
//     own, so the flags that change that login (a rotated client, another header) were refused
//     (before that: ignored); without --reuse-values they worked.
#[tokio::test]
async fn reused_values_keep_the_flags_of_their_login_working() {
    let _serial = cluster::exclusive().await;
    let f = oauth_release().await;
    run(&f, "upgrade", &["--reuse-values"])
        .args(&oauth_flags()[2..])
        .stdin(format!("{ROTATED_SECRET}\n"))
        .run()
        .success()
        .stderr_has("restarted to read it");
    assert_eq!(
        stored_client_secret(&f, &client_secret_name(&f)).await,
        ROTATED_SECRET.as_bytes()
    );
    run(
        &f,
        "upgrade",
        &["--auth", "proxy", "--proxy-header", "X-Email"],
    )
    .run()
    .success();
    run(
        &f,
        "upgrade",
        &[
            "--reuse-values",
            "--proxy-header",
            "X-User",
            "--proxy-header-format",
            "jwt",
        ],
    )
    .run()
    .success();
    let values = run(&f, "get", &["values", "-o", "json"])
        .run()
        .success()
        .stdout;
    let values: serde_json::Value = serde_json::from_str(&values).unwrap();
    assert_eq!(
        values["auth"]["externalProxy"],
        json!({"enabled": true, "headerName": "X-User", "headerFormat": "jwt"}),
        "{values}"
    );
    let mark = audit::mark();
    run(&f, "upgrade", &["--reuse-values"]).run().success();
    let writes = persisted(&mark, &f);
    assert!(writes.is_empty(), "{writes:#?}");
}

// The OAuth client Secret stayed after a rollback from OAuth to basic auth: only uninstall
// deleted it. A revision with another login no longer needs it.
#[tokio::test]
async fn the_oauth_client_goes_with_the_oauth_login_on_rollback_or_upgrade() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let name = client_secret_name(&f);
    run(&f, "install", &["--auth", "basic", "--web-password-stdin"])
        .stdin("a basic password\n")
        .run()
        .success();
    run(&f, "upgrade", &oauth_flags())
        .stdin(format!("{CLIENT_SECRET}\n"))
        .run()
        .success();
    assert_eq!(
        stored_client_secret(&f, &name).await,
        CLIENT_SECRET.as_bytes()
    );
    // Its dry run says nothing of it and deletes nothing.
    run(&f, "rollback", &["1", "--dry-run"]).run().success();
    assert!(secrets(&f).get_opt(&name).await.unwrap().is_some());
    run(&f, "rollback", &["1"])
        .run()
        .success()
        .stderr_has(&format!("deleted Secret {name}: the OAuth client"));
    assert!(secrets(&f).get_opt(&name).await.unwrap().is_none());
    // The same after an upgrade away from OAuth.
    run(&f, "upgrade", &oauth_flags())
        .stdin(format!("{CLIENT_SECRET}\n"))
        .run()
        .success();
    run(&f, "upgrade", &["--auth", "basic", "--web-password-stdin"])
        .stdin("a basic password\n")
        .run()
        .success()
        .stderr_has(&format!("deleted Secret {name}"));
    assert!(secrets(&f).get_opt(&name).await.unwrap().is_none());
    run(&f, "uninstall", &[]).run().success();
}
