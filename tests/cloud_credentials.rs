//! `skyctl creds add` for every kind of credentials chart 0.13.0 reads: each kind of
//! `Kind::ALL` (AWS also with the whole AWS files and with a Secret and keys of other names),
//! and the Slurm config. Each is read from the files its CLI writes (in a home directory the
//! test makes), stored as the Secret whose keys the chart's init containers and mounts read,
//! and turned on in the release; its secret never appears in any output or in the release
//! record.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};
use skyctl::chart::Chart;
use skyctl::credentials::{self, Kind, Stored};
use skyctl::guide::host::Host;
use skyctl::guide::{
    aws_credentials, cloud_keys, database, gcp_credentials, kube_credentials, slurm_config,
    ssh_node_pools,
};
use support::cluster;
use support::release::{Chart as TestChart, Fixture, pod_spec};
use support::render::render_chart;
use support::skyctl::skyctl;

const SECRET: &str = "sEcReT-cloud-key-4711";
const PRIVATE_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";

/// One `creds add` as a user runs it: the kind (and its flags; `{home}` is the home directory),
/// and the files below the home directory, as that cloud's CLI writes them.
struct Case {
    args: &'static [&'static str],
    files: Vec<(&'static str, String)>,
}

impl Case {
    fn name(&self) -> String {
        self.args.join(" ")
    }

    fn args(&self, home: &Path) -> Vec<String> {
        let home = home.to_str().unwrap();
        self.args
            .iter()
            .map(|a| a.replace("{home}", home))
            .collect()
    }

    /// Standard input: the database's connection string.
    fn stdin(&self) -> Option<String> {
        (self.args[0] == "db").then(db_url)
    }

    fn home(&self) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        for (path, text) in &self.files {
            let path = home.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        home
    }
}

fn db_url() -> String {
    format!("postgresql://sky:{SECRET}@db.internal:5432/skypilot")
}

fn aws_files() -> Vec<(&'static str, String)> {
    vec![(
        ".aws/credentials",
        format!(
            "[default]\naws_access_key_id = AKIATESTKEYID000001\naws_secret_access_key = {SECRET}\n"
        ),
    )]
}

/// Every kind, in an order in which each `creds add` stands on its own in one release.
fn cases() -> Vec<Case> {
    let case = |args, files| Case { args, files };
    let mut aws_with_config = aws_files();
    aws_with_config.push((".aws/config", "[default]\nregion = us-east-1\n".into()));
    vec![
        case(&["aws"], aws_files()),
        case(
            &["aws", "--access-key-id-key-name", "id", "--secret-access-key-key-name", "key"],
            aws_files(),
        ),
        case(
            &["aws", "--use-credentials-file", "--secret-name", "team-aws"],
            aws_with_config,
        ),
        case(
            &["gcp", "--key-file", "{home}/sa.json"],
            vec![(
                "sa.json",
                json!({
                    "type": "service_account", "project_id": "proj-7",
                    "private_key": format!("-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n"),
                    "client_email": "sky@proj-7.iam.gserviceaccount.com",
                })
                .to_string(),
            )],
        ),
        case(
            &["kube", "--from-kubeconfig", "{home}/.kube/config"],
            vec![(
                ".kube/config",
                format!(
                    "apiVersion: v1\nkind: Config\ncurrent-context: lab\nclusters:\n- name: lab\n  cluster: {{server: \"https://10.0.0.1\"}}\ncontexts:\n- name: lab\n  context: {{cluster: lab, user: lab}}\nusers:\n- name: lab\n  user: {{token: {SECRET}}}\n"
                ),
            )],
        ),
        case(
            &["runpod"],
            vec![(".runpod/config.toml", format!("[default]\napi_key = \"{SECRET}\"\n"))],
        ),
        case(
            &["lambda"],
            vec![(".lambda_cloud/lambda_keys", format!("api_key = {SECRET}\n"))],
        ),
        case(
            &["vast"],
            vec![(".config/vastai/vast_api_key", format!("{SECRET}\n"))],
        ),
        case(
            &["digitalocean"],
            vec![(".config/doctl/config.yaml", format!("access-token: {SECRET}\n"))],
        ),
        case(
            &["nebius"],
            vec![
                (
                    ".nebius/credentials.json",
                    format!("{{\"subject-credentials\": {{\"private-key\": \"{SECRET}\"}}}}"),
                ),
                (".nebius/NEBIUS_TENANT_ID.txt", "tenant-e00test\n".into()),
            ],
        ),
        case(
            &["r2"],
            vec![
                (
                    ".cloudflare/r2.credentials",
                    format!("[r2]\naws_access_key_id = id\naws_secret_access_key = {SECRET}\n"),
                ),
                (".cloudflare/accountid", "account-42\n".into()),
            ],
        ),
        case(
            &["coreweave"],
            vec![
                (".coreweave/cw.config", "[default]\nendpoint_url = https://cwobject.com\n".into()),
                (
                    ".coreweave/cw.credentials",
                    format!("[cw]\naws_access_key_id = id\naws_secret_access_key = {SECRET}\n"),
                ),
            ],
        ),
        case(&["db", "--connection-string-stdin"], vec![]),
        case(
            &["ssh"],
            vec![
                (
                    ".sky/ssh_node_pools.yaml",
                    "lab:\n  user: ubuntu\n  identity_file: ~/keys/lab.pem\n  hosts:\n    - 10.0.0.1\n    - ip: 10.0.0.2\n      identity_file: ~/.ssh/id_gpu\n".into(),
                ),
                ("keys/lab.pem", format!("{PRIVATE_KEY}\n{SECRET}\n")),
                (".ssh/id_gpu", format!("{PRIVATE_KEY}\n{SECRET}-2\n")),
            ],
        ),
        case(
            &["slurm"],
            vec![(
                ".slurm/config",
                "Host login\n  HostName login.example.org\n  User me\n".into(),
            )],
        ),
    ]
}

/// What `creds add` stores for a case, read through the library from the same files: the
/// values it turns on, the Secret the pod reads and that Secret's data (for Slurm, made by the
/// chart: `None`).
struct Stores {
    values: Value,
    secret: String,
    data: Option<BTreeMap<String, String>>,
    /// The credentials `creds list` names, when skyctl stores the Secret.
    stored: Option<Stored>,
}

fn stores(case: &Case, home: &Path, release: &str) -> Stores {
    let env = |_: &str| None;
    let read = |path: &Path| std::fs::read(path);
    let host = Host {
        env: &env,
        home: Some(home.to_owned()),
        read_file: &read,
    };
    let chart = Chart::find("0.13.0").unwrap();
    let settings = |value: Value| value.as_object().unwrap().clone();
    let (stored, data) = match case.args {
        ["aws"] => {
            let found = aws_credentials::resolve(Default::default(), &host).unwrap();
            (
                Stored::new(Kind::Aws, "aws-credentials"),
                found.secret_data(&Default::default()),
            )
        }
        ["aws", "--access-key-id-key-name", ..] => {
            let names = aws_credentials::KeyNames {
                access_key_id: "id".into(),
                secret_access_key: "key".into(),
            };
            let found = aws_credentials::resolve(Default::default(), &host).unwrap();
            let stored = Stored {
                settings: settings(
                    json!({"accessKeyIdKeyName": "id", "secretAccessKeyKeyName": "key"}),
                ),
                ..Stored::new(Kind::Aws, "aws-credentials")
            };
            (stored, found.secret_data(&names))
        }
        ["aws", "--use-credentials-file", ..] => {
            let stored = Stored {
                settings: settings(json!({"useCredentialsFile": true})),
                ..Stored::new(Kind::Aws, "team-aws")
            };
            let files = aws_credentials::read_files(&host).unwrap();
            (stored, files.secret_data())
        }
        ["gcp", ..] => {
            let key = gcp_credentials::load(&home.join("sa.json"), None, &host).unwrap();
            let stored = Stored {
                project: Some(key.project_id.clone()),
                ..Stored::new(Kind::Gcp, "gcp-credentials")
            };
            (stored, key.secret_data())
        }
        ["kube", ..] => {
            let kubeconfig = home.join(".kube/config");
            let minimized = kube_credentials::minimize(&kubeconfig, &[], &host).unwrap();
            (
                Stored::new(Kind::Kube, "kube-credentials"),
                minimized.secret_data(),
            )
        }
        ["db", ..] => {
            let url = db_url();
            let connection = database::read(Some(&mut url.as_bytes()), &host).unwrap();
            (
                Stored::new(Kind::Db, "db-credentials"),
                BTreeMap::from([(database::KEY.to_owned(), connection.url)]),
            )
        }
        ["ssh"] => {
            let pools = ssh_node_pools::read(None, &host).unwrap();
            let stored = Stored {
                settings: settings(json!({"sshNodePools": pools.pools_yaml})),
                ..Stored::new(Kind::Ssh, "ssh-credentials")
            };
            (stored, pools.keys)
        }
        ["slurm"] => {
            let config = slurm_config::read(None, &host).unwrap();
            let stored = Stored {
                settings: settings(json!({"config": config.text})),
                ..Stored::new(Kind::Slurm, "slurm-credentials")
            };
            return Stores {
                values: Value::Object(credentials::values_for(&stored, true, chart)),
                secret: format!("{release}-slurm-config"),
                data: None,
                stored: Some(stored),
            };
        }
        [label] => {
            let kind = Kind::from_label(label).unwrap();
            let found = cloud_keys::read(kind, &Default::default(), &host).unwrap();
            let stored = Stored {
                tenant_id: found.tenant_id,
                ..Stored::new(kind, kind.default_secret())
            };
            (stored, found.data)
        }
        other => unreachable!("no case {other:?}"),
    };
    Stores {
        values: Value::Object(credentials::values_for(&stored, true, chart)),
        secret: stored.secret.clone(),
        data: Some(data),
        stored: Some(stored),
    }
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

/// The pod reads exactly `keys`: by name, or, mounted whole, as files the chart knows by name
/// (an SSH key under the name the pools' identity_file gives it).
fn assert_reads_exactly(
    case: &Case,
    spec: &Value,
    secret: &str,
    keys: &BTreeSet<String>,
    values: &Value,
) {
    let read = keys_read(spec, secret);
    assert!(
        !keys.is_empty(),
        "{}: Secret {secret} holds keys",
        case.name()
    );
    if read != BTreeSet::from(["*".to_owned()]) {
        assert_eq!(
            &read,
            keys,
            "{}: the pod reads the Secret's keys",
            case.name()
        );
        return;
    }
    let files: BTreeSet<String> = match case.args[0] {
        "ssh" => {
            let pools: Value =
                serde_yaml_ng::from_str(values["apiService"]["sshNodePools"].as_str().unwrap())
                    .unwrap();
            let mut named = BTreeSet::new();
            for pool in pools.as_object().unwrap().values() {
                let entries = pool["hosts"].as_array().unwrap().iter().chain([pool]);
                for file in entries.filter_map(|e| e["identity_file"].as_str()) {
                    named.insert(file.strip_prefix("~/.ssh/").unwrap().to_owned());
                }
            }
            named
        }
        "aws" => ["credentials", "config"].map(String::from).into(),
        "kube" => ["config".to_owned()].into(),
        "gcp" => ["gcp-cred.json".to_owned()].into(),
        "nebius" => ["credentials.json".to_owned()].into(),
        "coreweave" => ["cw.config", "cw.credentials"].map(String::from).into(),
        "slurm" => ["config".to_owned()].into(),
        other => panic!("{other}: a whole-Secret mount this test does not know"),
    };
    assert!(
        keys.is_subset(&files) && (case.args[0] != "ssh" || *keys == files),
        "{}: keys {keys:?} are files the chart reads ({files:?})",
        case.name()
    );
}

/// The release's values as `get values -o json` shows them, with `flags`.
fn release_values(f: &Fixture, flags: &[&str]) -> Value {
    let shown = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["get", "values", f.release(), "-n", &f.ns.name, "-o", "json"])
        .args(flags)
        .run()
        .success()
        .stdout;
    serde_json::from_str(&shown).unwrap()
}

/// Every leaf of `part` is in `whole`, as `get values` shows it: masked where its key names a
/// secret (`sshKeySecret`).
fn has_values(whole: &Value, part: &Value) -> bool {
    match part {
        Value::Object(part) => part.iter().all(|(key, value)| {
            whole.get(key).is_some_and(|w| {
                has_values(w, value)
                    || (value.is_string() && w == "***" && skyctl::redacted::names_a_secret(key))
            })
        }),
        leaf => whole == leaf,
    }
}

#[test]
fn each_kinds_secret_holds_exactly_the_keys_its_init_container_and_mounts_read() {
    for case in cases() {
        let home = case.home();
        let stores = stores(&case, home.path(), "sky");
        let rendered = render_chart("0.13.0", "sky", "team", stores.values.clone());
        let deployment = rendered.object("Deployment", "sky-api-server");
        let spec = &deployment["spec"]["template"]["spec"];
        let keys: BTreeSet<String> = match &stores.data {
            Some(data) => data.keys().cloned().collect(),
            None => {
                let made = rendered.object("Secret", &stores.secret);
                made["stringData"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect()
            }
        };
        assert_reads_exactly(&case, spec, &stores.secret, &keys, &stores.values);
        if case.args[0] == "nebius" {
            assert!(
                deployment.to_string().contains("tenant-e00test"),
                "the tenant reaches the pod"
            );
        }
    }
}

#[tokio::test]
async fn creds_add_stores_each_kind_and_turns_it_on_without_printing_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(TestChart::Current).await;
    f.run("install", &["--no-wait"]).success();
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let mut listed = BTreeSet::new();
    for case in cases() {
        let home = case.home();
        let mut command = skyctl()
            .kubeconfig(cluster::kubeconfig())
            .env("HOME", home.path().to_str().unwrap())
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .env_remove("AWS_CONFIG_FILE")
            .args(["-n", &f.ns.name, "creds", "add"])
            .args(case.args(home.path()))
            .args(["--release", f.release(), "--no-wait"]);
        if let Some(stdin) = case.stdin() {
            command = command.stdin(stdin);
        }
        let outcome = command.run().success();
        assert!(
            !outcome.stdout.contains(SECRET) && !outcome.stderr.contains(SECRET),
            "{} printed its secret: {outcome:#?}",
            case.name()
        );
        let stores = stores(&case, home.path(), f.release());
        let secret = secrets.get(&stores.secret).await.unwrap();
        let keys: BTreeSet<String> = secret.data.unwrap().keys().cloned().collect();
        if let Some(data) = &stores.data {
            assert_eq!(&keys, &data.keys().cloned().collect(), "{}", case.name());
            outcome.stderr_has(&format!("Secret {}/{} ", f.ns.name, stores.secret));
        }
        if let Some(stored) = stores.stored {
            listed.insert(stored.secret);
        }
        let deployment = f
            .deployments()
            .get(&format!("{}-api-server", f.release()))
            .await
            .unwrap();
        let spec = serde_json::to_value(pod_spec(&deployment)).unwrap();
        assert_reads_exactly(&case, &spec, &stores.secret, &keys, &stores.values);
        let values = release_values(&f, &["--all"]);
        assert!(
            has_values(&values, &stores.values),
            "{}: the release turns on {} ({values})",
            case.name(),
            stores.values
        );
    }
    // The release record holds values and names, never what the Secrets hold.
    // Unpacked (the data is base64, the manifest gzipped): searched as stored, the secret could
    // never be found.
    let records = secrets
        .list(&ListParams::default().labels(support::release::RECORDS))
        .await
        .unwrap();
    assert!(!records.items.is_empty());
    for record in records.items {
        let text = support::release::record_text(&record);
        assert!(
            text.contains("apiVersion"),
            "not the unpacked record: {text}"
        );
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
    let names: BTreeSet<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["secret"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, listed, "{list}");
    // As text, one row a kind, with `Secret` in one column however long the kind's name; the
    // release named as every other verb names it.
    let text = skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["-n", &f.ns.name, "creds", "list", f.release()])
        .run()
        .success()
        .stdout;
    let columns: BTreeSet<usize> = text.lines().filter_map(|l| l.find(" Secret ")).collect();
    assert_eq!(columns.len(), 1, "{text}");
}

#[tokio::test]
async fn a_seed_era_release_keeps_working_and_says_which_chart_can_use_new_kinds() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::new().await;
    f.run("install", &["--no-wait"]).success();
    let lacking = [
        (["runpod"].as_slice(), "runpodCredentials.enabled"),
        (&["slurm"], "slurmCredentials.config"),
        (&["ssh"], "apiService.sshKeySecret"),
        (
            &["aws", "--use-credentials-file", "--secret-name", "team-aws"],
            "awsCredentials.useCredentialsFile",
        ),
    ];
    for (args, key) in lacking {
        let case = cases().into_iter().find(|c| c.args == args).unwrap();
        let home = case.home();
        skyctl()
            .kubeconfig(cluster::kubeconfig())
            .env("HOME", home.path().to_str().unwrap())
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .env_remove("AWS_CONFIG_FILE")
            .args(["-n", &f.ns.name, "creds", "add"])
            .args(args)
            .args(["--release", f.release(), "--no-wait"])
            .run()
            .success()
            .stderr_has(&format!(
                "cannot use them yet: chart 1.0.0-dev.20250319 has no {key}; chart 0.13.0 has"
            ));
    }
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
        .stderr_has("/nonexistent/credentials.json: No such file or directory");
}

#[test]
fn what_would_put_a_secret_into_the_values_or_cannot_work_exits_2_naming_it() {
    let (_unreachable_dir, kubeconfig) = cluster::unreachable_kubeconfig();
    let ssh = cases().into_iter().find(|c| c.args == ["ssh"]).unwrap();
    let home = ssh.home();
    let pools = home.path().join(".sky/ssh_node_pools.yaml");
    let with_password =
        "lab:\n  hosts: [a]\n  identity_file: ~/keys/lab.pem\n  password: hunter2\n";
    std::fs::write(&pools, with_password).unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["ssh"],
            &["ssh_node_pools.yaml: pool lab has a `password`"],
        ),
        (
            &["slurm", "--from-file", "{home}/keys/lab.pem"],
            &["keys/lab.pem holds a private key"],
        ),
        (&["slurm"], &[".slurm/config", "--from-file"]),
        (
            &["aws", "--use-credentials-file"],
            &["no AWS credentials file at", ".aws/credentials"],
        ),
        (
            &["aws", "--use-credentials-file", "--profile", "prod"],
            &["--use-credentials-file", "--profile"],
        ),
        (
            &["aws", "--access-key-id-key-name", "a/b"],
            &["--access-key-id-key-name"],
        ),
    ];
    for (args, messages) in cases {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{home}", home.path().to_str().unwrap()))
            .collect();
        let mut outcome = skyctl()
            .kubeconfig(&kubeconfig)
            .env("HOME", home.path().to_str().unwrap())
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .args(["creds", "add"])
            .args(&args)
            .run()
            .code(2);
        for message in *messages {
            outcome = outcome.stderr_has(message);
        }
        assert!(
            !outcome.stderr.contains("hunter2") && !outcome.stderr.contains(SECRET),
            "{args:?}: {outcome:#?}"
        );
    }
}

#[tokio::test]
async fn creds_add_db_stores_the_connection_string_from_stdin_and_never_shows_it() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(TestChart::Current).await;
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
        .list(&ListParams::default().labels(support::release::RECORDS))
        .await
        .unwrap();
    assert!(!records.items.is_empty());
    for record in records.items {
        let text = support::release::record_text(&record);
        assert!(
            text.contains("apiVersion"),
            "not the unpacked record: {text}"
        );
        assert!(!text.contains(SECRET), "the record holds the password");
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

// `creds add db` on a release whose values cannot take a database (chart 0.13.0 keeps the
// SkyPilot config in the database, so apiService.config must go) wrote the Secret, then failed
// with exit 1: the Secret stayed, unused. The values are now checked first.
#[tokio::test]
async fn credentials_the_release_cannot_take_change_nothing_and_exit_2() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(TestChart::Current).await;
    f.run(
        "install",
        &[
            "--no-wait",
            "--set-string",
            "apiService.config=allowed_clouds: [aws]",
        ],
    )
    .success();
    let mark = support::audit::mark();
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["-n", &f.ns.name, "creds", "add", "db", f.release()])
        .args(["--connection-string-stdin", "--no-wait"])
        .stdin(format!(
            "postgresql://sky:{SECRET}@db.internal:5432/skypilot\n"
        ))
        .run()
        .code(2)
        .stderr_has("cannot take this change of credentials; nothing was changed")
        .stderr_has("apiService.config")
        .stderr_lacks(SECRET);
    let writes: Vec<_> = mark
        .skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(support::audit::Request::persists)
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    assert!(secrets.get_opt("db-credentials").await.unwrap().is_none());
    f.run("uninstall", &["--delete-data"]).success();
}

/// A kubeconfig with contexts `a` and `b`, whose user's token is [`SECRET`].
fn two_contexts_kubeconfig(dir: &Path) -> std::path::PathBuf {
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster: {{server: \"https://10.0.0.1\"}}\ncontexts:\n- name: a\n  context: {{cluster: c, user: u}}\n- name: b\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user: {{token: {SECRET}}}\n"
        ),
    )
    .unwrap();
    kubeconfig
}

// The seed guide's order is Secrets first, then install. `creds add kube` with two contexts
// before the release existed printed a config snippet the install never used, so the server
// allowed one context.
#[tokio::test]
async fn contexts_stored_before_the_install_are_allowed_by_the_install() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(TestChart::Current).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = two_contexts_kubeconfig(dir.path());
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["-n", &f.ns.name, "creds", "add", "kube", f.release()])
        .args(["--from-kubeconfig"])
        .arg_path(&kubeconfig)
        .args(["--from-context", "a", "--from-context", "b", "--no-wait"])
        .run()
        .success()
        .stderr_has(&format!(
            "the next `skyctl install {} -n {}` uses these settings",
            f.release(),
            f.ns.name
        ))
        .stderr_has("it also allows contexts a, b in the SkyPilot config");
    f.run("install", &["--no-wait"])
        .success()
        .stderr_has("Secret kube-credentials (contexts a, b allowed in the SkyPilot config)");
    let values = release_values(&f, &["--all"]);
    let config: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(values["apiService"]["config"].as_str().unwrap()).unwrap();
    assert_eq!(
        config["kubernetes"]["allowed_contexts"],
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>("[a, b]").unwrap(),
        "{values}"
    );
    assert_eq!(values["kubernetesCredentials"]["useKubeconfig"], true);
    f.run("uninstall", &["--delete-data"]).success();
}

#[tokio::test]
async fn creds_add_kube_merges_its_contexts_into_the_config_and_says_the_server_keeps_its_own() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(TestChart::Current).await;
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yaml");
    std::fs::write(
        &values,
        "apiService:\n  config: |\n    # the team's config\n    allowed_clouds: [aws, kubernetes]\n    kubernetes:\n      allowed_contexts:\n        - old\n",
    )
    .unwrap();
    f.run("install", &["--no-wait", "-f", values.to_str().unwrap()])
        .success();
    let kubeconfig = two_contexts_kubeconfig(dir.path());
    let add = |first: &str, second: &str| {
        skyctl()
            .kubeconfig(cluster::kubeconfig())
            .args([
                "-n",
                &f.ns.name,
                "creds",
                "add",
                "kube",
                "--from-kubeconfig",
            ])
            .arg_path(&kubeconfig)
            .args(["--from-context", first, "--from-context", second])
            .args(["--release", f.release(), "--no-wait"])
            .run()
            .success()
    };
    let added = add("a", "b")
        .stderr_has("the running API server will not read it")
        .stderr_has(&format!(
            "kubectl exec -n {} deploy/{}-api-server -c skypilot-api -- rm /root/.sky/config.yaml",
            f.ns.name,
            f.release()
        ));
    assert!(
        !added.stdout.contains(SECRET) && !added.stderr.contains(SECRET),
        "{added:#?}"
    );
    // The diff shows the contexts added to the ConfigMap, below the one allowed before.
    let diff: Vec<&str> = added
        .stdout
        .lines()
        .filter(|l| l.starts_with(['+', '-']))
        .collect();
    assert!(
        diff.iter()
            .any(|l| l.starts_with('+') && l.trim_end().ends_with("- a"))
            && diff
                .iter()
                .any(|l| l.starts_with('+') && l.trim_end().ends_with("- b"))
            && !diff.iter().any(|l| l.contains("- old")),
        "{}",
        added.stdout
    );
    let values = release_values(&f, &[]);
    assert_eq!(
        values["apiService"]["config"],
        "# the team's config\nallowed_clouds: [aws, kubernetes]\nkubernetes:\n  allowed_contexts:\n    - old\n    - a\n    - b\n",
        "the user's comment, keys and context stay"
    );
    // Adding them again changes nothing in the config, and says nothing about it.
    let again = add("b", "a");
    assert!(!again.stderr.contains("will not read it"), "{again:#?}");
    // A plain upgrade that changes the config is warned about the same way.
    f.run(
        "upgrade",
        &[
            "--reuse-values",
            "--no-wait",
            "--set-string",
            "apiService.config=allowed_clouds: [gcp]",
        ],
    )
    .success()
    .stderr_has("apiService.config changed, but the running API server will not read it");
}

// `creds add aws` over the aws-credentials Secret that upstream's guide makes with kubectl
// (the normal state after adopt) replaced it without a word, and did not restart the API
// server: its values changed, no object did, so nothing rolled and the pod kept the old keys.
#[tokio::test]
async fn creds_add_over_a_hand_made_secret_asks_for_take_ownership_and_then_restarts_the_server() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(TestChart::Current).await;
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let hand_made: Secret = serde_json::from_value(json!({
        "metadata": {"name": "aws-credentials"},
        "stringData": {"aws_access_key_id": "AKIAOLDOLDOLD", "aws_secret_access_key": "old-key"}
    }))
    .unwrap();
    secrets
        .create(&kube::api::PostParams::default(), &hand_made)
        .await
        .unwrap();
    f.run(
        "install",
        &["--no-wait", "--set", "awsCredentials.enabled=true"],
    )
    .success();
    // The hand-made Secret the release uses is listed, as made outside skyctl, where `creds
    // list` and doctor said "none stored".
    let creds = |args: &[&str]| {
        skyctl()
            .kubeconfig(cluster::kubeconfig())
            .args(["-n", &f.ns.name, "creds", "list", f.release()])
            .args(args)
            .run()
            .success()
    };
    creds(&[]).stdout_has(&format!(
        "aws   Secret aws-credentials: made outside skyctl, used by release {}",
        f.release()
    ));
    let rows: Value = serde_json::from_str(&creds(&["-o", "json"]).stdout).unwrap();
    assert_eq!(
        rows,
        json!([{"kind": "aws", "secret": "aws-credentials", "exists": true,
                "usedBy": [f.release()], "usedByRelease": true, "madeBySkyctl": false}])
    );
    f.run("doctor", &["--set", "awsCredentials.enabled=true"])
        .stdout_has("Secret aws-credentials (used; made outside skyctl)");
    // Not skyctl's to delete: `creds remove` says how, and leaves it.
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["-n", &f.ns.name, "creds", "remove", "aws", f.release()])
        .run()
        .success()
        .stderr_has("made outside skyctl, which deletes only what it stored")
        .stderr_has(&format!(
            "`skyctl upgrade {} -n {} --reuse-values --set awsCredentials.enabled=false`",
            f.release(),
            f.ns.name
        ));
    assert!(secrets.get_opt("aws-credentials").await.unwrap().is_some());
    let add = |extra: &[&str]| f.creds_add_aws("AKIANEWNEWNEW", SECRET).args(extra).run();
    let mark = support::audit::mark();
    let refused = add(&[])
        .code(2)
        .stderr_has(&format!(
            "Secret {}/aws-credentials exists and skyctl did not make it",
            f.ns.name
        ))
        .stderr_has("--take-ownership");
    assert!(!refused.stderr.contains(SECRET));
    let writes: Vec<_> = mark
        .skyctl_requests(&f.ns.name)
        .into_iter()
        .filter(support::audit::Request::persists)
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
    let kept = secrets.get("aws-credentials").await.unwrap();
    assert_eq!(kept.data.unwrap()["aws_secret_access_key"].0, b"old-key");

    add(&["--take-ownership"])
        .success()
        .stderr_has("aws-credentials updated")
        .stderr_has("the API server is restarting to read the new credentials");
    let stored = secrets.get("aws-credentials").await.unwrap();
    assert_eq!(
        stored.data.unwrap()["aws_secret_access_key"].0,
        SECRET.as_bytes()
    );
    let deployment = f
        .deployments()
        .get(&format!("{}-api-server", f.release()))
        .await
        .unwrap();
    let template = deployment.spec.unwrap().template;
    assert!(
        template
            .metadata
            .and_then(|m| m.annotations)
            .is_some_and(|a| a.contains_key("skyctl.io/restarted-at")),
        "the API server's pods start anew"
    );
    f.run("uninstall", &["--delete-data"]).success();
}

#[tokio::test]
async fn a_slurm_config_outlives_a_plain_upgrade_and_is_listed_and_removed_like_any_kind() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(TestChart::Current).await;
    f.run("install", &["--no-wait"]).success();
    let case = cases().into_iter().find(|c| c.args == ["slurm"]).unwrap();
    let home = case.home();
    let creds = |args: &[&str]| {
        skyctl()
            .kubeconfig(cluster::kubeconfig())
            .env("HOME", home.path().to_str().unwrap())
            .args(["-n", &f.ns.name, "creds"])
            .args(args)
            .args(["--release", f.release()])
            .run()
    };
    creds(&["add", "slurm", "--no-wait"])
        .success()
        .stderr_has("slurm-credentials created");
    let config = "Host login\n  HostName login.example.org\n  User me\n";
    let chart_secret = format!("{}-slurm-config", f.release());
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let holds_config = || async {
        secrets
            .get_opt(&chart_secret)
            .await
            .unwrap()
            .and_then(|s| s.data)
            .is_some_and(|data| data["config"].0 == config.as_bytes())
    };
    assert!(holds_config().await);

    // A plain upgrade with a values file of its own: the stored config is set again.
    let file = home.path().join("values.yaml");
    std::fs::write(&file, "apiService:\n  skipResourceCheck: true\n").unwrap();
    f.run("upgrade", &["--no-wait", "-f", file.to_str().unwrap()])
        .success()
        .stderr_has("Secret slurm-credentials");
    assert!(
        holds_config().await,
        "the Slurm config survives the upgrade"
    );
    assert_eq!(
        release_values(&f, &["--all"])["slurmCredentials"]["config"],
        config
    );

    let listed: Value =
        serde_json::from_str(&creds(&["list", "-o", "json"]).success().stdout).unwrap();
    assert_eq!(listed[0]["kind"], "slurm", "{listed}");
    assert_eq!(listed[0]["secret"], "slurm-credentials");
    assert_eq!(listed[0]["usedByRelease"], true);

    creds(&["remove", "slurm", "--no-wait"])
        .success()
        .stderr_has("slurm-credentials deleted");
    assert!(
        secrets.get_opt(&chart_secret).await.unwrap().is_none(),
        "the chart's Slurm Secret goes with it"
    );
    f.run("upgrade", &["--no-wait", "-f", file.to_str().unwrap()])
        .success();
    assert!(secrets.get_opt(&chart_secret).await.unwrap().is_none());
    f.run("uninstall", &["--delete-data"]).success();
}
