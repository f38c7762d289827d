//! Helm's everyday verbs (`list`, `history`, `get values`), Helm's rules for values on upgrade,
//! and errors a person can read, each driven through the real skyctl binary against the real
//! control plane.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use support::cluster::{self, TestNamespace};
use support::release::Fixture;
use support::skyctl::{Skyctl, skyctl};

const PASSWORD: &str = "a password nobody may read";
/// The seed-era chart's default, as its published package pins it.
const DEFAULT_IMAGE: &str = "berkeleyskypilot/skypilot-nightly:1.0.0.dev20250319";

/// `skyctl ARGS -n NS`, exactly as given: none of the values the fixture adds to install and
/// upgrade, so that an upgrade here can be one given no values at all.
fn bare(f: &Fixture, args: &[&str]) -> Skyctl {
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(args)
        .args(["-n", &f.ns.name])
        .env_remove("SKYCTL_WEB_PASSWORD")
}

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|err| panic!("not JSON ({err}): {stdout}"))
}

/// What `get values -o json` prints, with `args` added.
fn values(f: &Fixture, args: &[&str]) -> Value {
    let mut all = vec!["get", "values", f.release(), "-o", "json"];
    all.extend_from_slice(args);
    json_of(&bare(f, &all).run().success().stdout)
}

/// The API server Deployment's image and replicas, as the cluster holds them.
async fn api_server(f: &Fixture) -> (String, i32) {
    let deployment = f
        .deployments()
        .get(&format!("{}-api-server", f.release()))
        .await
        .unwrap();
    let spec = deployment.spec.unwrap();
    let image = spec.template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    (image, spec.replicas.unwrap())
}

// `list` had none of `helm list`'s flags for picking releases; each ended in "unexpected
// argument".
#[tokio::test]
async fn list_picks_releases_by_state_and_name_with_helms_flags() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    // A second release whose install was killed once its record was written: pending-install,
    // with nothing of it in the cluster yet.
    let pending = format!("{}-b", f.release());
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["install", &pending, "-n", &f.ns.name, "--no-wait"])
        .args(["--set", support::release::AUTH])
        .args([
            "--set",
            "ingress-nginx.enabled=false,ingress.nodePortEnabled=false",
        ])
        .interrupted_at(skyctl::interrupt_point::Point::RecordedPending, 1)
        .run()
        .interrupted();
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["list", "-q"];
        all.extend_from_slice(args);
        let listed = bare(&f, &all).run().success().stdout;
        listed.lines().map(str::to_owned).collect()
    };
    let first = f.release().to_owned();
    assert_eq!(
        names(&["--deployed", "--failed"]),
        std::slice::from_ref(&first)
    );
    assert_eq!(names(&["--pending"]), std::slice::from_ref(&pending));
    assert_eq!(names(&[]), [first.clone(), pending.clone()], "every state");
    assert_eq!(
        names(&["--deployed", "--pending"]),
        [first.clone(), pending.clone()]
    );
    assert_eq!(names(&["--all"]), [first.clone(), pending.clone()]);
    assert_eq!(
        names(&["-a", "--filter=-b$"]),
        std::slice::from_ref(&pending)
    );
    assert_eq!(names(&["--failed"]), Vec::<String>::new());
    let short_json = bare(&f, &["list", "--short", "-a", "-o", "json"])
        .run()
        .success();
    assert_eq!(json_of(&short_json.stdout), json!([first, pending]));
    let headless = bare(&f, &["list", "--deployed", "--no-headers"])
        .run()
        .success();
    assert_eq!(headless.stdout.lines().count(), 1, "{headless:#?}");
    assert!(headless.stdout.starts_with(&first), "{headless:#?}");
    bare(&f, &["list", "--filter", "sky("])
        .run()
        .code(2)
        .stderr_has("--filter")
        .stderr_has("is not a regular expression");
    bare(&f, &["uninstall", &pending]).run().success();
    f.run("uninstall", &[]).success();
}

// The preflight listed every Service in the cluster on every run, for node port clashes and
// load balancers, so a no-op upgrade grew slower with the rest of the cluster. The release's
// own Services now tell all when no node port changes. And each step of a run read what it
// needed again (the namespace three times, the webhook certificate twice, every object once
// for the preflight and once for the decision, the endpoint's objects after an upgrade that
// changed nothing): a run now reads each thing once, and a no-op upgrade writes nothing.
#[tokio::test]
async fn a_no_op_upgrade_reads_no_service_nor_storage_class_and_nothing_twice() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let port = cluster::free_node_port().to_string();
    let fixed = format!("ingress.httpNodePort={port}");
    f.run("install", &["--no-wait", "--set", &fixed]).success();
    let every_service = |mark: &support::audit::Mark| {
        mark.skyctl_requests(&f.ns.name)
            .into_iter()
            .filter(|r| r.verb == "list" && r.resource == "services" && r.namespace.is_none())
            .count()
    };
    let mark = support::audit::mark();
    f.run("upgrade", &["--no-wait", "--reuse-values"])
        .success()
        .stderr_has("all ");
    assert_eq!(every_service(&mark), 0, "a no-op upgrade lists no Service");
    let mark = support::audit::mark();
    f.run("upgrade", &["--no-wait", "--reuse-values"])
        .success()
        .stderr_has("unchanged: nothing to apply");
    let requests = mark.skyctl_requests(&f.ns.name);
    let mut seen = std::collections::BTreeSet::new();
    let twice: Vec<&str> = requests
        .iter()
        .map(|r| r.uri.as_str())
        .filter(|uri| !seen.insert(*uri))
        .collect();
    assert!(twice.is_empty(), "read twice in one run: {twice:#?}");
    let written: Vec<_> = requests.iter().filter(|r| r.persists()).collect();
    assert!(written.is_empty(), "a no-op upgrade wrote {written:#?}");
    // Its volume claim exists and keeps its size, so no StorageClass matters.
    let classes: Vec<_> = requests
        .iter()
        .filter(|r| r.resource == "storageclasses")
        .collect();
    assert!(classes.is_empty(), "a no-op upgrade read {classes:#?}");
    // A node port its own Service does not hold yet is checked against every Service.
    let other = (port.parse::<u16>().unwrap() + 1).to_string();
    let mark = support::audit::mark();
    f.run(
        "upgrade",
        &[
            "--no-wait",
            "--reuse-values",
            "--set",
            &format!("ingress.httpNodePort={other}"),
        ],
    )
    .success();
    assert_eq!(every_service(&mark), 1, "a new node port is checked");
    f.run("uninstall", &[]).success();
}

// `uninstall --keep-history` ended in "unexpected argument". As in Helm, the records stay with
// the newest marked uninstalled; history and get still read them, rollback returns to one,
// install starts again beside them, and a plain uninstall deletes them.
#[tokio::test]
async fn uninstall_keep_history_keeps_the_records_for_rollback_and_a_new_install() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    f.run(
        "upgrade",
        &[
            "--no-wait",
            "--reuse-values",
            "--set",
            "apiService.replicas=2",
        ],
    )
    .success();
    let api_server = format!("{}-api-server", f.release());
    let exists = || async {
        f.deployments()
            .get_opt(&api_server)
            .await
            .unwrap()
            .is_some()
    };
    let statuses = || -> Vec<String> {
        let history = bare(&f, &["history", f.release(), "-o", "json"])
            .run()
            .success();
        json_of(&history.stdout)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{}:{}", r["revision"], r["status"].as_str().unwrap()))
            .collect()
    };
    f.run("uninstall", &["--keep-history", "--dry-run"])
        .success()
        .stderr_has("would keep the release's 2 revision record(s), the newest marked uninstalled");
    assert!(exists().await, "a dry run changes nothing");
    f.run("uninstall", &["--keep-history"]).success();
    assert!(!exists().await, "the objects go");
    assert_eq!(statuses(), ["1:superseded", "2:uninstalled"]);
    let status = f.status();
    assert_eq!(status["status"], "uninstalled", "{status}");
    assert_eq!(status["objects"], json!([]), "{status}");
    let nothing_runs = "uninstalled with its history kept: nothing of it runs";
    assert!(
        status["health"].as_str().unwrap().contains(nothing_runs),
        "{status}"
    );
    bare(&f, &["get", "notes", f.release()])
        .run()
        .success()
        .stdout_has(nothing_runs);
    // Its dry run says what the real run deletes: the kept records.
    f.run("uninstall", &["--dry-run"])
        .success()
        .stderr_has("would delete the 2 revision record(s) uninstall --keep-history kept");
    let listed = bare(&f, &["list", "--uninstalled", "-q"]).run().success();
    assert_eq!(listed.stdout.trim(), f.release());
    f.run("upgrade", &["--no-wait"])
        .code(2)
        .stderr_has("was uninstalled with --keep-history")
        .stderr_has("skyctl install");
    f.run("uninstall", &["--keep-history"])
        .code(2)
        .stderr_has("already uninstalled");
    f.run("uninstall", &["--keep-history", "--delete-namespace"])
        .code(2)
        .stderr_has("--delete-namespace");

    f.run("rollback", &["1", "--no-wait"]).success();
    assert!(exists().await, "rollback brings revision 1's objects back");
    assert_eq!(statuses(), ["1:superseded", "2:uninstalled", "3:deployed"]);
    f.run("uninstall", &["--keep-history"]).success();
    f.run("install", &["--no-wait"]).success();
    assert!(exists().await);
    assert_eq!(
        statuses(),
        [
            "1:superseded",
            "2:uninstalled",
            "3:uninstalled",
            "4:deployed"
        ]
    );
    f.run("uninstall", &[]).success();
    assert!(!exists().await);
    bare(&f, &["history", f.release()])
        .run()
        .code(1)
        .stderr_has("not found");
}

// A release whose only revision was uninstalled with its history kept could not be rolled
// back to it ("not found"), as `--keep-history` promises and Helm allows.
#[tokio::test]
async fn a_release_whose_only_revision_was_uninstalled_rolls_back_to_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    f.run("uninstall", &["--keep-history"]).success();
    f.run("rollback", &["--no-wait"])
        .code(2)
        .stderr_has(&format!(
            "`skyctl rollback {} 1 -n {}`",
            f.release(),
            f.ns.name
        ));
    f.run("rollback", &["1", "--no-wait"]).success();
    assert!(
        f.deployments()
            .get_opt(&format!("{}-api-server", f.release()))
            .await
            .unwrap()
            .is_some()
    );
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn list_shows_helms_columns_for_the_namespace_or_every_namespace() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let other = TestNamespace::create("other").await;
    f.run("install", &["--no-wait"]).success();
    // A second release in another namespace shares the first one's ingress-nginx.
    // Named like its namespace, so that its cluster-scoped objects are this test's own.
    let second = other.name.as_str();
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["install", second, "-n", &other.name, "--no-wait"])
        .args(["--set", support::release::AUTH])
        .args([
            "--set",
            "ingress-nginx.enabled=false,ingress.nodePortEnabled=false",
        ])
        .args(["--set", "apiService.image=example.org/sky:1.2"])
        .run()
        .success();

    let table = bare(&f, &["list"]).run().success();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one release: {}", table.stdout);
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "NAMESPACE",
            "REVISION",
            "UPDATED",
            "STATUS",
            "CHART",
            "APP VERSION"
        ]
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[0], f.release());
    assert_eq!(row[1], f.ns.name);
    assert_eq!(row[2], "1");
    assert_eq!(row[4], "deployed");
    assert_eq!(row[5], "skypilot-nightly-1.0.0-dev.20250319");
    assert_eq!(row[6], "1.0.0.dev20250319");

    let every = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["list", "-A", "-o", "json"])
        .run()
        .success();
    let releases = json_of(&every.stdout);
    let listed = releases
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["namespace"] == other.name.as_str())
        .unwrap_or_else(|| panic!("-A lists the other namespace: {releases}"));
    assert_eq!(listed["name"], second);
    assert_eq!(
        listed["revision"], "1",
        "Helm's JSON has the revision as text"
    );
    assert_eq!(listed["app_version"], "1.2");
    assert_eq!(listed["status"], "deployed");
    assert!(
        releases
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == f.release()),
        "{releases}"
    );

    let yaml = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["list", "-n", &other.name, "-o", "yaml"])
        .run()
        .success();
    let parsed: Value = serde_yaml_ng::from_str(&yaml.stdout).unwrap();
    assert_eq!(parsed[0]["name"], second);
    assert_eq!(parsed.as_array().unwrap().len(), 1);

    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["uninstall", second, "-n", &other.name])
        .run()
        .success();
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn history_lists_revisions_with_their_descriptions_newest_last_up_to_max() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    f.run(
        "upgrade",
        &[
            "--no-wait",
            "--set",
            "apiService.replicas=2",
            "--description",
            "two API servers for the launch",
        ],
    )
    .success();

    let table = bare(&f, &["history", f.release()]).run().success();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(
        lines[0].starts_with("REVISION") && lines[0].ends_with("DESCRIPTION"),
        "{}",
        table.stdout
    );
    assert!(lines[0].contains("APP VERSION"), "{}", table.stdout);
    assert!(lines[1].starts_with("1 ") && lines[1].contains("superseded"));
    assert!(lines[1].ends_with("Install complete"), "{}", table.stdout);
    assert!(lines[2].starts_with("2 ") && lines[2].contains("deployed"));
    assert!(lines[2].ends_with("two API servers for the launch"));

    let newest = json_of(
        &bare(&f, &["history", f.release(), "--max", "1", "-o", "json"])
            .run()
            .success()
            .stdout,
    );
    assert_eq!(
        newest,
        json!([{
            "revision": 2,
            "updated": newest[0]["updated"],
            "status": "deployed",
            "chart": "skypilot-nightly-1.0.0-dev.20250319",
            "app_version": "1.0.0.dev20250319",
            "description": "two API servers for the launch",
        }])
    );
    bare(&f, &["history", "no-such-release"])
        .run()
        .code(1)
        .stderr_has("release no-such-release not found");
    f.run("uninstall", &[]).success();
}

// `get manifest`, `get notes`, `get all` and `status --revision` ended in "unexpected
// argument"; Helm users reach for them to see what a revision applied and how to log in.
#[tokio::test]
async fn get_manifest_notes_and_all_and_status_show_any_revision_never_a_secret() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let db = "postgresql://sky:db-pass-4711@db.example:5432/sky";
    bare(
        &f,
        &["install", f.release(), "--no-wait", "--web-password-stdin"],
    )
    .args(["--set", "apiService.image=example.org/sky:1"])
    .args(["--set-string", &format!("apiService.config=db: {db}")])
    .stdin(format!("{PASSWORD}\n"))
    .run()
    .success();
    f.run(
        "upgrade",
        &[
            "--no-wait",
            "--reuse-values",
            "--set",
            "apiService.image=example.org/sky:2",
        ],
    )
    .success();
    let mut printed = String::new();
    let mut get = |args: &[&str]| {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.push(f.release());
        let outcome = bare(&f, &all).run().success();
        printed.push_str(&outcome.stdout);
        printed.push_str(&outcome.stderr);
        outcome.stdout
    };

    let newest = get(&["manifest"]);
    let objects = skyctl::manifest::from_yaml_stream(&newest).unwrap();
    let deployment = objects
        .iter()
        .find(|m| m.id.kind == "Deployment" && m.id.name.ends_with("-api-server"))
        .expect("the API server's Deployment");
    assert!(deployment.object.to_string().contains("example.org/sky:2"));
    let first = get(&["manifest", "--revision", "1"]);
    assert!(first.contains("example.org/sky:1") && !first.contains("example.org/sky:2"));
    assert!(first.contains("postgresql://sky:***@db.example"), "{first}");

    let notes = get(&["notes"]);
    assert!(notes.contains("endpoint: http://"), "{notes}");
    assert!(
        notes.contains("sky api login -e http://skypilot:<password>@"),
        "{notes}"
    );

    let all = get(&["all", "--revision", "1"]);
    for part in [
        "REVISION: 1\n",
        "STATUS: superseded\n",
        "CHART: skypilot-nightly-1.0.0-dev.20250319\n",
        "USER-SUPPLIED VALUES:\n",
        "COMPUTED VALUES:\n",
        "MANIFEST:\n",
        "NOTES:\nendpoint: http://",
    ] {
        assert!(all.contains(part), "{part:?} in {all}");
    }

    let status = |args: &[&str]| {
        let mut all = vec!["status", f.release(), "-o", "json"];
        all.extend_from_slice(args);
        json_of(&bare(&f, &all).run().success().stdout)
    };
    let old = status(&["--revision", "1"]);
    assert_eq!(old["revision"], 1);
    assert_eq!(old["status"], "superseded");
    assert_eq!(
        old["objects"],
        json!([]),
        "only the newest revision is live"
    );
    assert_eq!(status(&[])["revision"], 2);
    for verb in [
        &["status"][..],
        &["get", "manifest"],
        &["get", "notes"],
        &["get", "all"],
    ] {
        let mut args = verb.to_vec();
        args.extend([f.release(), "--revision", "7"]);
        bare(&f, &args)
            .run()
            .code(2)
            .stderr_has("has no revision 7")
            .stderr_has("skyctl history");
    }
    for secret in [PASSWORD, "db-pass-4711"] {
        assert!(!printed.contains(secret), "{secret} printed");
    }
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn get_values_prints_the_user_values_the_merged_ones_and_older_revisions_never_a_secret() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    bare(
        &f,
        &["install", f.release(), "--no-wait", "--web-password-stdin"],
    )
    .args([
        "--set",
        "ingress.httpNodePort=null,ingress.httpsNodePort=null",
    ])
    .args(["--set", "apiService.image=example.org/sky:1"])
    .stdin(format!("{PASSWORD}\n"))
    .run()
    .success();
    f.run("upgrade", &["--no-wait", "--set", "apiService.replicas=2"])
        .success();

    let mut printed = String::new();
    let table = bare(&f, &["get", "values", f.release()]).run().success();
    printed.push_str(&table.stdout);
    assert!(table.stdout.starts_with("USER-SUPPLIED VALUES:\n"));
    let user: Value = serde_yaml_ng::from_str(
        table
            .stdout
            .strip_prefix("USER-SUPPLIED VALUES:\n")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(user["apiService"], json!({"replicas": 2}));
    assert!(user.get("storage").is_none(), "defaults are not the user's");

    let all = values(&f, &["--all"]);
    printed.push_str(&all.to_string());
    assert_eq!(all["apiService"]["replicas"], 2);
    assert_eq!(all["apiService"]["image"], DEFAULT_IMAGE);
    assert_eq!(
        all["storage"]["size"], "10Gi",
        "--all includes the defaults"
    );

    let first = values(&f, &["--revision", "1"]);
    printed.push_str(&first.to_string());
    assert_eq!(first["apiService"]["image"], "example.org/sky:1");
    // The web login is recorded as a bcrypt line, and printed masked: even a hash of the
    // password is not for the screen.
    assert_eq!(first["ingress"]["authCredentials"], "***");
    let yaml = bare(&f, &["get", "values", f.release(), "-o", "yaml"])
        .run()
        .success();
    printed.push_str(&yaml.stdout);
    assert_eq!(
        serde_yaml_ng::from_str::<Value>(&yaml.stdout).unwrap(),
        user
    );

    // It points to the verb that lists the revisions, in the release's namespace.
    bare(&f, &["get", "values", f.release(), "--revision", "9"])
        .run()
        .code(2)
        .stderr_has("has no revision 9")
        .stderr_has(&format!(
            "`skyctl history {} -n {}`",
            f.release(),
            f.ns.name
        ));
    bare(&f, &["get", "values", "no-such-release"])
        .run()
        .code(1)
        .stderr_has("not found");

    assert!(!printed.contains(PASSWORD), "the password was printed");
    // The records themselves hold no password either.
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    for record in secrets
        .list(
            &kube::api::ListParams::default().labels(&format!("skyctl.io/release={}", f.release())),
        )
        .await
        .unwrap()
    {
        for ByteString(bytes) in record.data.unwrap_or_default().values() {
            assert!(
                !String::from_utf8_lossy(bytes).contains(PASSWORD),
                "a release record holds the password"
            );
        }
    }
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn an_upgrade_given_no_values_keeps_the_values_of_the_release() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run(
        "install",
        &["--no-wait", "--set", "apiService.image=example.org/sky:1"],
    )
    .success();
    // Helm's reuseValues: without values flags, the release's own values, not the defaults.
    bare(
        &f,
        &["upgrade", f.release(), "--no-wait", "--no-health-check"],
    )
    .run()
    .success()
    .stderr_has("the values of revision 1, reused")
    .stderr_has("unchanged");
    assert_eq!(api_server(&f).await.0, "example.org/sky:1");
    assert_eq!(
        f.status()["revision"],
        1,
        "nothing changed, nothing recorded"
    );
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn reuse_reset_and_reset_then_reuse_values_mean_what_they_mean_in_helm() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run(
        "install",
        &["--no-wait", "--set", "apiService.image=example.org/sky:1"],
    )
    .success();

    // Values given and no flag: the defaults again, with the new values.
    f.run("upgrade", &["--no-wait", "--set", "apiService.replicas=2"])
        .success()
        .stderr_has("are not reused");
    assert_eq!(api_server(&f).await, (DEFAULT_IMAGE.to_owned(), 2));

    // --reuse-values: the new values over the recorded ones.
    f.run(
        "upgrade",
        &[
            "--no-wait",
            "--reuse-values",
            "--set",
            "apiService.image=example.org/sky:2",
        ],
    )
    .success();
    assert_eq!(api_server(&f).await, ("example.org/sky:2".to_owned(), 2));

    // --reset-then-reuse-values: the same, over today's defaults.
    f.run(
        "upgrade",
        &[
            "--no-wait",
            "--reset-then-reuse-values",
            "--set",
            "apiService.replicas=3",
        ],
    )
    .success();
    assert_eq!(api_server(&f).await, ("example.org/sky:2".to_owned(), 3));
    assert_eq!(
        values(&f, &[])["apiService"],
        json!({"image": "example.org/sky:2", "replicas": 3}),
        "the reused values are recorded again"
    );

    // --reset-values: the recorded values are not used, even with no values given.
    bare(
        &f,
        &[
            "upgrade",
            f.release(),
            "--no-wait",
            "--no-health-check",
            "--reset-values",
        ],
    )
    .args(["--set", support::release::AUTH])
    .args([
        "--set",
        "ingress.httpNodePort=null,ingress.httpsNodePort=null",
    ])
    .run()
    .success();
    assert_eq!(api_server(&f).await, (DEFAULT_IMAGE.to_owned(), 1));

    bare(
        &f,
        &["upgrade", f.release(), "--reuse-values", "--reset-values"],
    )
    .run()
    .code(2)
    .stderr_has("cannot be used with");
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn reuse_values_keeps_the_defaults_the_release_was_computed_from() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    // What an older skyctl with another default image would have recorded.
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let name = format!("skyctl.release.v1.{}.v1", f.release());
    let secret = secrets.get(&name).await.unwrap();
    let mut record: Value =
        serde_json::from_slice(&secret.data.unwrap()["release.json"].0).unwrap();
    record["computedValues"]["apiService"]["image"] = json!("example.org/old-default:1");
    let data = json!({"data": {"release.json": ByteString(serde_json::to_vec(&record).unwrap())}});
    secrets
        .patch(&name, &PatchParams::default(), &Patch::Merge(&data))
        .await
        .unwrap();

    f.run(
        "upgrade",
        &[
            "--no-wait",
            "--reuse-values",
            "--set",
            "apiService.replicas=2",
        ],
    )
    .success();
    assert_eq!(
        api_server(&f).await,
        ("example.org/old-default:1".to_owned(), 2),
        "as in Helm, --reuse-values keeps the old defaults"
    );
    f.run("upgrade", &["--no-wait", "--reset-then-reuse-values"])
        .success();
    assert_eq!(
        api_server(&f).await,
        (DEFAULT_IMAGE.to_owned(), 2),
        "--reset-then-reuse-values takes today's defaults"
    );
    f.run("uninstall", &[]).success();
}

#[tokio::test]
async fn wait_is_accepted_and_waits_while_no_wait_skips_the_wait() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    // No controller on the test cluster gives a LoadBalancer an address: waiting never ends.
    let load_balancer = "ingress-nginx.controller.service.type=LoadBalancer";
    let started = Instant::now();
    f.run("install", &["--no-wait", "--set", load_balancer])
        .success();
    assert!(started.elapsed() < Duration::from_secs(60));
    f.run(
        "upgrade",
        &[
            "--wait",
            "--timeout",
            "3s",
            "--set",
            load_balancer,
            "--set",
            "apiService.replicas=2",
        ],
    )
    .code(1)
    .stderr_has("load balancer");
    f.run("upgrade", &["--wait", "--no-wait"])
        .code(2)
        .stderr_has("cannot be used with");
    f.run("uninstall", &["--no-wait"]).success();
}

#[tokio::test]
async fn uninstall_of_a_missing_release_fails_unless_told_to_ignore_it() {
    let f = Fixture::new().await;
    bare(&f, &["uninstall", "never-installed"])
        .run()
        .code(1)
        .stderr_has("release never-installed not found")
        .stderr_has("--ignore-not-found");
    bare(&f, &["uninstall", "never-installed", "--ignore-not-found"])
        .run()
        .success()
        .stderr_has("nothing to uninstall");
}

#[tokio::test]
async fn api_errors_say_the_servers_message_once_without_debug_output() {
    // The install below must reach the API server's check, not stop at the shared IngressClass.
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    // A user the API server knows but lets do nothing: a ServiceAccount without any role.
    let account = cluster::kubectl(["create", "serviceaccount", "nobody", "-n", &f.ns.name]);
    assert!(account.status.success(), "{account:?}");
    let token = cluster::kubectl(["create", "token", "nobody", "-n", &f.ns.name]);
    assert!(token.status.success(), "{token:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(cluster::kubeconfig()).unwrap()).unwrap();
    config["users"][0]["user"] = json!({"token": String::from_utf8_lossy(&token.stdout).trim()});
    let path = dir.path().join("config");
    std::fs::write(&path, config.to_string()).unwrap();

    let outcome = skyctl()
        .kubeconfig(&path)
        .args(["status", "sky", "-n", &f.ns.name])
        .run()
        .code(1);
    let forbidden = "cannot list resource \"secrets\"";
    assert_eq!(
        outcome.stderr.matches(forbidden).count(),
        1,
        "the message once: {outcome:#?}"
    );
    assert!(
        outcome
            .stderr
            .contains("cannot read the records of release sky")
    );
    for noise in ["Status {", "ApiError", "Some(", "Failure"] {
        assert!(!outcome.stderr.contains(noise), "{noise}: {outcome:#?}");
    }

    // An object the API server rejects: named, with the field, once.
    let rejected = f
        .run(
            "install",
            &[
                "--no-wait",
                "--set-json",
                r#"apiService.resources={"requests":{"cpu":"-1"}}"#,
            ],
        )
        .code(1);
    let object = format!("Deployment {}/{}-api-server", f.ns.name, f.release());
    let field = "resources.requests[cpu]";
    assert_eq!(rejected.stderr.matches(&object).count(), 1, "{rejected:#?}");
    assert_eq!(rejected.stderr.matches(field).count(), 1, "{rejected:#?}");
    assert!(
        rejected.stderr.contains("Nothing was changed"),
        "{rejected:#?}"
    );
    for noise in ["Status {", "ApiError", "Some("] {
        assert!(!rejected.stderr.contains(noise), "{noise}: {rejected:#?}");
    }
}

#[test]
fn a_failed_connection_names_the_server_the_kubeconfig_and_the_context() {
    let (_dir, path) = cluster::unreachable_kubeconfig();
    let outcome = skyctl()
        .kubeconfig(&path)
        .args(["status", "sky", "-n", "team"])
        .run()
        .code(1)
        .stderr_has("cannot reach the Kubernetes API server at https://127.0.0.1:1")
        .stderr_has(&format!("context nowhere of kubeconfig {}", path.display()))
        .stderr_has("Connection refused");
    for noise in ["ServiceError", "client error (Connect)", "HyperError"] {
        assert!(!outcome.stderr.contains(noise), "{noise}: {outcome:#?}");
    }
    // The same through $KUBECONFIG.
    skyctl()
        .env("KUBECONFIG", path.to_str().unwrap())
        .args(["status", "sky"])
        .run()
        .code(1)
        .stderr_has("https://127.0.0.1:1")
        .stderr_has("from $KUBECONFIG");
}

#[tokio::test]
async fn mistakes_the_user_can_fix_exit_2() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    // An unknown --context names the ones the kubeconfig has.
    bare(&f, &["status", "sky", "--context", "no-such-context"])
        .run()
        .code(2)
        .stderr_has("--context no-such-context")
        .stderr_has("skyctl-test");
    // A --kubeconfig that is not there.
    skyctl()
        .args(["status", "sky", "--kubeconfig", "/no/such/kubeconfig"])
        .run()
        .code(2)
        .stderr_has("/no/such/kubeconfig");
    // An empty password.
    bare(
        &f,
        &["install", f.release(), "--web-password-stdin", "--no-wait"],
    )
    .stdin("\n")
    .run()
    .code(2)
    .stderr_has("the password is empty");
    // A revision the release never had.
    f.run("install", &["--no-wait"]).success();
    bare(&f, &["rollback", f.release(), "7"])
        .run()
        .code(2)
        .stderr_has("has no revision 7");
    f.run("uninstall", &[]).success();
}

/// Runs skyctl on a pseudo-terminal, typing `lines` one by one, with no local cloud credentials
/// to offer; returns whether it succeeded and the screen.
fn on_a_terminal(args: &str, lines: &[&str]) -> (bool, String) {
    let command = format!(
        "{} {args} --kubeconfig {}",
        env!("CARGO_BIN_EXE_skyctl"),
        cluster::kubeconfig().display()
    );
    support::skyctl::on_a_terminal(
        &command,
        &[("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".as_ref())],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_PROFILE",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "SKYCTL_WEB_PASSWORD",
            "KUBECONFIG",
        ],
        lines,
        Duration::from_millis(700),
    )
}

#[tokio::test]
async fn on_a_terminal_the_password_is_asked_after_the_cheap_checks_and_again_when_mistyped() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    // The namespace does not exist and may not be created: no password is asked for.
    let (ok, screen) = on_a_terminal(
        &format!("install {} -n {}-missing", f.release(), f.ns.name),
        &[],
    );
    assert!(!ok, "{screen}");
    assert!(screen.contains("does not exist"), "{screen}");
    assert!(
        !screen.contains("Password"),
        "asked before the check: {screen}"
    );

    // Two entries that differ: asked again.
    let (ok, screen) = on_a_terminal(
        &format!(
            "install {} -n {} --auth basic --no-wait --no-health-check --set ingress.httpNodePort=null,ingress.httpsNodePort=null",
            f.release(),
            f.ns.name
        ),
        &[PASSWORD, "a typo", PASSWORD, PASSWORD],
    );
    assert!(ok, "{screen}");
    assert!(screen.contains("differ; type it again"), "{screen}");
    assert_eq!(screen.matches("Password for the web login").count(), 2);
    assert!(!screen.contains(PASSWORD), "the password was echoed");

    // An installed release: asked for nothing before "already exists".
    let (ok, screen) = on_a_terminal(&format!("install {} -n {}", f.release(), f.ns.name), &[]);
    assert!(!ok && screen.contains("already exists"), "{screen}");
    assert!(!screen.contains("Password"), "{screen}");
    f.run("uninstall", &[]).success();
}

#[test]
fn help_offers_only_the_flags_that_apply() {
    let help = |verb: &str| skyctl().args([verb, "--help"]).run().success().stdout;
    let rollback = help("rollback");
    for flag in [
        "--create-namespace",
        "--atomic",
        "--description",
        "--reuse-values",
        "--web-password-stdin",
    ] {
        assert!(!rollback.contains(flag), "rollback --help offers {flag}");
    }
    assert!(rollback.contains("--delete-data"), "it can prune a PVC");
    let upgrade = help("upgrade");
    for shown in [
        "Examples:",
        "--reuse-values",
        "--reset-values",
        "--reset-then-reuse-values",
        "--description",
        "--wait",
    ] {
        assert!(upgrade.contains(shown), "upgrade --help lacks {shown}");
    }
    let install = help("install");
    assert!(install.contains("--description") && install.contains("--atomic"));
    assert!(!install.contains("--reuse-values"));
    let uninstall = help("uninstall");
    assert!(uninstall.contains("--ignore-not-found"));
}

#[tokio::test]
async fn endpoint_of_an_unknown_release_says_not_found_at_once() {
    let f = Fixture::new().await;
    let started = Instant::now();
    bare(&f, &["endpoint", "never-installed"])
        .run()
        .code(1)
        .stderr_has("release never-installed not found");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn creds_list_names_the_release_that_uses_them_and_uninstall_says_they_were_kept() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    bare(&f, &["creds", "add", "aws", "--no-wait"])
        .env("AWS_ACCESS_KEY_ID", "AKIAHELMVERBSTEST001")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "helmVerbsSecretAccessKey/DoNotPrint+0123",
        )
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_PROFILE")
        .run()
        .success();
    f.run("install", &["--no-wait"])
        .success()
        .stderr_has("Secret aws-credentials");

    // --release is left at its default: the listing still names the release that uses them.
    bare(&f, &["creds", "list"])
        .run()
        .success()
        .stdout_has(&format!(
            "aws   Secret aws-credentials: used by release {}",
            f.release()
        ));
    let rows = json_of(
        &bare(&f, &["creds", "list", "-o", "json"])
            .run()
            .success()
            .stdout,
    );
    assert_eq!(rows[0]["usedBy"], json!([f.release()]));
    assert_eq!(
        rows[0]["usedByRelease"], false,
        "release skypilot does not use them"
    );

    f.run("uninstall", &["--delete-data"])
        .success()
        .stderr_has(&format!(
            "kept credential Secret {}/aws-credentials",
            f.ns.name
        ))
        .stderr_has(&format!("skyctl creds remove aws -n {}", f.ns.name));
    bare(&f, &["creds", "list"])
        .run()
        .success()
        .stdout_has("not used by any release");
}

#[tokio::test]
async fn json_output_of_install_and_upgrade_tells_revision_changes_endpoint_and_health() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    let install = json_of(&f.run("install", &["-o", "json"]).success().stdout);
    assert_eq!(install["outcome"], "installed");
    assert_eq!(install["revision"], 1);
    let created = install["changes"]["created"].as_u64().unwrap();
    assert!(created > 15, "{install}");
    assert_eq!(install["changes"]["configured"], 0);
    let url = install["endpoint"]["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{install}");
    assert_eq!(install["health"]["status"], "not-checked");
    assert_eq!(install["health"]["reason"], "--no-health-check");

    let unchanged = json_of(&f.run("upgrade", &["-o", "json"]).success().stdout);
    assert_eq!(unchanged["outcome"], "unchanged");
    assert_eq!(unchanged["revision"], 1);
    assert_eq!(unchanged["changes"]["unchanged"], created);
    assert_eq!(unchanged["endpoint"]["url"], url);

    let upgraded = json_of(
        &f.run("upgrade", &["-o", "json", "--set", "apiService.replicas=2"])
            .success()
            .stdout,
    );
    assert_eq!(upgraded["outcome"], "upgraded");
    assert_eq!(upgraded["revision"], 2);
    assert_eq!(upgraded["changes"]["configured"], 1);
    assert_eq!(upgraded["changes"]["created"], 0);
    f.run("uninstall", &[]).success();
}
