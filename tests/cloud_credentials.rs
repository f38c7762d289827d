//! `skyctl creds add` for the clouds chart 0.13.0 reads besides AWS, GCP and Kubernetes:
//! RunPod, Lambda, Vast, DigitalOcean, Nebius, Cloudflare R2 and CoreWeave. Each is read from
//! the files its CLI writes (in a home directory the test makes), stored as the Secret whose keys
//! the chart's init containers and mounts read, and turned on in the release; its secret never
//! appears in any output or in the release record.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use serde_json::Value;
use skyctl::guide::cloud_keys::{self, CloudRequest};
use skyctl::guide::credential_secrets::{self, Kind, Stored};
use skyctl::guide::host::Host;
use support::cluster;
use support::release::{Chart, Fixture, pod_spec};
use support::render::render_chart;
use support::skyctl::skyctl;

const SECRET: &str = "sEcReT-cloud-key-4711";

/// Each cloud's files, below a home directory, as its CLI writes them.
fn cli_files(kind: Kind) -> Vec<(&'static str, String)> {
    match kind {
        Kind::Runpod => vec![(
            ".runpod/config.toml",
            format!("[default]\napi_key = \"{SECRET}\"\n"),
        )],
        Kind::Lambda => vec![(".lambda_cloud/lambda_keys", format!("api_key = {SECRET}\n"))],
        Kind::Vast => vec![(".config/vastai/vast_api_key", format!("{SECRET}\n"))],
        Kind::Digitalocean => vec![(
            ".config/doctl/config.yaml",
            format!("access-token: {SECRET}\n"),
        )],
        Kind::Nebius => vec![
            (
                ".nebius/credentials.json",
                format!("{{\"subject-credentials\": {{\"private-key\": \"{SECRET}\"}}}}"),
            ),
            (".nebius/NEBIUS_TENANT_ID.txt", "tenant-e00test\n".into()),
        ],
        Kind::R2 => vec![
            (
                ".cloudflare/r2.credentials",
                format!("[r2]\naws_access_key_id = id\naws_secret_access_key = {SECRET}\n"),
            ),
            (".cloudflare/accountid", "account-42\n".into()),
        ],
        Kind::Coreweave => vec![
            (
                ".coreweave/cw.config",
                "[default]\nendpoint_url = https://cwobject.com\n".into(),
            ),
            (
                ".coreweave/cw.credentials",
                format!("[cw]\naws_access_key_id = id\naws_secret_access_key = {SECRET}\n"),
            ),
        ],
        Kind::Aws | Kind::Gcp | Kind::Kube | Kind::Db | Kind::Ssh => {
            unreachable!("tested elsewhere")
        }
    }
}

const CLOUDS: [Kind; 7] = [
    Kind::Runpod,
    Kind::Lambda,
    Kind::Vast,
    Kind::Digitalocean,
    Kind::Nebius,
    Kind::R2,
    Kind::Coreweave,
];

fn home_with(kind: Kind) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    for (path, text) in cli_files(kind) {
        let path = home.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    home
}

/// What `creds add` would store, read through the real file system.
fn stored(kind: Kind, home: &Path) -> (Stored, std::collections::BTreeMap<String, String>) {
    let env = |_: &str| None;
    let read = |path: &Path| std::fs::read(path);
    let host = Host {
        env: &env,
        home: Some(home.to_owned()),
        read_file: &read,
    };
    let found = cloud_keys::read(kind, &CloudRequest::default(), &host).unwrap();
    let stored = Stored {
        tenant_id: found.tenant_id,
        ..Stored::new(kind, kind.default_secret())
    };
    (stored, found.data)
}

/// The keys of `secret` the API server's pod reads: `secretKeyRef`s, and a whole-Secret volume
/// as `*` (every key becomes a file).
fn keys_read(spec: &Value, secret: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let containers = spec["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(spec["containers"].as_array().into_iter().flatten());
    for container in containers {
        for env in container["env"].as_array().into_iter().flatten() {
            let reference = &env["valueFrom"]["secretKeyRef"];
            if reference["name"] == secret {
                keys.insert(reference["key"].as_str().unwrap().to_owned());
            }
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        if volume["secret"]["secretName"] == secret {
            match volume["secret"]["items"].as_array() {
                Some(items) => {
                    keys.extend(items.iter().map(|i| i["key"].as_str().unwrap().to_owned()))
                }
                None => {
                    keys.insert("*".to_owned());
                }
            }
        }
    }
    keys
}

#[test]
fn each_clouds_secret_holds_exactly_the_keys_its_init_container_and_mounts_read() {
    for kind in CLOUDS {
        let home = home_with(kind);
        let (stored, data) = stored(kind, home.path());
        let values = Value::Object(credential_secrets::values_for(
            &stored,
            true,
            skyctl::chart::Chart::find("0.13.0").unwrap(),
        ));
        let rendered = render_chart("0.13.0", "sky", "team", values);
        let deployment = rendered.object("Deployment", "sky-api-server");
        let spec = &deployment["spec"]["template"]["spec"];
        let read = keys_read(spec, &stored.secret);
        assert!(
            !read.is_empty(),
            "{kind:?}: the pod reads Secret {}",
            stored.secret
        );
        let stored_keys: BTreeSet<String> = data.keys().cloned().collect();
        if read.contains("*") {
            // A whole-Secret mount: every key is a file the chart copies or links.
            assert!(!stored_keys.is_empty(), "{kind:?}");
        } else {
            assert_eq!(
                read, stored_keys,
                "{kind:?}: the Secret's keys are those the pod reads"
            );
        }
        if kind == Kind::Nebius {
            assert!(
                deployment.to_string().contains("tenant-e00test"),
                "the tenant reaches the pod"
            );
        }
    }
}

#[tokio::test]
async fn creds_add_stores_each_cloud_and_turns_it_on_without_printing_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    f.run("install", &["--no-wait"]).success();
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    for kind in CLOUDS {
        let home = home_with(kind);
        let outcome = skyctl()
            .kubeconfig(cluster::kubeconfig())
            .env("HOME", home.path().to_str().unwrap())
            .args([
                "-n",
                &f.ns.name,
                "creds",
                "add",
                kind.label(),
                "--release",
                f.release(),
                "--no-wait",
            ])
            .run()
            .success()
            .stderr_has(&format!(
                "Secret {}/{} created",
                f.ns.name,
                kind.default_secret()
            ));
        assert!(
            !outcome.stdout.contains(SECRET) && !outcome.stderr.contains(SECRET),
            "{kind:?} printed its secret: {outcome:#?}"
        );
        let (_, data) = stored(kind, home.path());
        let secret = secrets.get(&kind.default_secret()).await.unwrap();
        let keys: BTreeSet<String> = secret.data.unwrap().keys().cloned().collect();
        assert_eq!(keys, data.keys().cloned().collect(), "{kind:?}");
        let deployment = f
            .deployments()
            .get(&format!("{}-api-server", f.release()))
            .await
            .unwrap();
        let spec = serde_json::to_value(pod_spec(&deployment)).unwrap();
        assert!(
            !keys_read(&spec, &kind.default_secret()).is_empty(),
            "{kind:?}: the running pod reads its Secret"
        );
    }
    let values = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "get",
            "values",
            f.release(),
            "-n",
            &f.ns.name,
            "-o",
            "json",
            "--all",
        ])
        .run()
        .success()
        .stdout;
    let values: Value = serde_json::from_str(&values).unwrap();
    for kind in CLOUDS {
        assert_eq!(
            values[kind.section()]["enabled"],
            true,
            "{kind:?}: {values}"
        );
    }
    assert_eq!(values["nebiusCredentials"]["tenantId"], "tenant-e00test");
    // The release record holds values and names, never what the Secrets hold.
    let records = secrets
        .list(
            &ListParams::default().labels("app.kubernetes.io/managed-by=skyctl,skyctl.io/release"),
        )
        .await
        .unwrap();
    assert!(!records.items.is_empty());
    for record in records.items {
        let text = serde_json::to_string(&record.data).unwrap();
        assert!(
            !text.contains(SECRET),
            "release record {:?} holds a secret",
            record.metadata.name
        );
    }
    // `creds list` names them, never their contents.
    let list = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "-n",
            &f.ns.name,
            "creds",
            "list",
            "--release",
            f.release(),
            "-o",
            "json",
        ])
        .run()
        .success();
    assert!(!list.stdout.contains(SECRET));
    let list: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), CLOUDS.len(), "{list}");
}

#[tokio::test]
async fn a_seed_era_release_keeps_working_and_says_which_chart_can_use_new_clouds() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    let home = home_with(Kind::Runpod);
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .env("HOME", home.path().to_str().unwrap())
        .args(["-n", &f.ns.name, "creds", "add", "runpod", "--release", f.release(), "--no-wait"])
        .run()
        .success()
        .stderr_has("cannot use them yet: chart 1.0.0-dev.20250319 has no runpodCredentials.enabled; chart 0.13.0 has");
    assert_eq!(f.status()["revision"], 1, "the release was not upgraded");
    // An upgrade of the seed-era release leaves the stored Secret out, and says so.
    f.run("upgrade", &["--no-wait"]).success().stderr_has(
        "runpod-credentials not used: chart 1.0.0-dev.20250319 has no runpodCredentials",
    );
}

#[test]
fn a_cloud_without_its_files_is_named_and_exits_2() {
    let home = tempfile::tempdir().unwrap();
    let (_unreachable_dir, kubeconfig) = cluster::unreachable_kubeconfig();
    skyctl()
        .kubeconfig(&kubeconfig)
        .env("HOME", home.path().to_str().unwrap())
        .args(["creds", "add", "lambda"])
        .run()
        .code(2)
        .stderr_has(".lambda_cloud/lambda_keys")
        .stderr_has("--from-file");
    skyctl()
        .kubeconfig(&kubeconfig)
        .env("HOME", home.path().to_str().unwrap())
        .args([
            "creds",
            "add",
            "nebius",
            "--from-file",
            "/nonexistent/credentials.json",
        ])
        .run()
        .code(2)
        .stderr_has("/nonexistent/credentials.json");
}

#[tokio::test]
async fn creds_add_db_stores_the_connection_string_from_stdin_and_never_shows_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    f.run("install", &["--no-wait"]).success();
    let url = format!("postgresql://sky:{SECRET}@db.internal:5432/skypilot");
    let outcome = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args([
            "-n",
            &f.ns.name,
            "creds",
            "add",
            "db",
            "--connection-string-stdin",
            "--release",
            f.release(),
            "--no-wait",
        ])
        .stdin(format!("{url}\n"))
        .run()
        .success()
        .stderr_has("PostgreSQL at postgresql://sky:")
        .stderr_has("@db.internal:5432/skypilot")
        .stderr_has(&format!(
            "Secret {}/db-credentials created (keys: connection_string)",
            f.ns.name
        ));
    assert!(
        !outcome.stderr.contains(SECRET) && !outcome.stdout.contains(SECRET),
        "{outcome:#?}"
    );
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let stored = secrets.get("db-credentials").await.unwrap();
    assert_eq!(stored.data.unwrap()["connection_string"].0, url.as_bytes());
    let deployment = f
        .deployments()
        .get(&format!("{}-api-server", f.release()))
        .await
        .unwrap();
    let spec = serde_json::to_value(pod_spec(&deployment)).unwrap();
    assert_eq!(
        keys_read(&spec, "db-credentials"),
        BTreeSet::from(["connection_string".to_owned()])
    );
    let records = secrets
        .list(
            &ListParams::default().labels("app.kubernetes.io/managed-by=skyctl,skyctl.io/release"),
        )
        .await
        .unwrap();
    for record in records.items {
        assert!(
            !serde_json::to_string(&record.data)
                .unwrap()
                .contains(SECRET),
            "the record holds the password"
        );
    }
    // The inline way is warned against, and its password is not printed either.
    let inline = f
        .run(
            "upgrade",
            &[
                "--reuse-values",
                "--set",
                &format!("apiService.dbConnectionString={url}"),
                "--set",
                "apiService.dbConnectionSecretName=null",
                "--dry-run",
            ],
        )
        .success()
        .stderr_has("apiService.dbConnectionString puts the database password into the values");
    assert!(!inline.stderr.contains(SECRET), "{inline:#?}");
    // Without stdin or the variable, nothing is read from argv: exit 2 naming both ways.
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .env_remove("SKYCTL_DB_CONNECTION_STRING")
        .args([
            "-n",
            &f.ns.name,
            "creds",
            "add",
            "db",
            "--release",
            f.release(),
        ])
        .run()
        .code(2)
        .stderr_has("--connection-string-stdin")
        .stderr_has("$SKYCTL_DB_CONNECTION_STRING");
}
