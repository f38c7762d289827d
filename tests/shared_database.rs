//! The database that lets more than one SkyPilot API server run: a real PostgreSQL, stored with
//! `skyctl creds add db`, behind a 0.13.0 release with RollingUpdate; and two real SkyPilot API
//! servers, started as that release's two pods would be, that share their state through it.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, ListParams};
use serde_json::{Value, json};
use support::cluster;
use support::dataplane::Dataplane;
use support::postgres::Postgres;
use support::release::{Chart, Fixture, SMALL_PODS, pod_spec};
use support::skyctl::{Transcript, skyctl};

/// Two replicas under RollingUpdate, the database from the Secret `creds add db` stores, and no
/// volume: ~/.sky is per pod, what the servers share lives in the database.
const ROLLING: &str = "apiService.upgradeStrategy=RollingUpdate,apiService.replicas=2,\
                       apiService.dbConnectionSecretName=db-credentials,storage.enabled=false";
async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let response = http.get(url).send().await.expect("the server answers");
    assert!(response.status().is_success(), "GET {url}: {response:?}");
    response.json().await.expect("JSON")
}

/// POSTs `body`, which must succeed. Two servers that start at once against one new database
/// race to migrate SkyPilot's managed-jobs tables on their first use; the loser answers 500
/// ("Online migration expected to match one row"), and the same request, asked again, then
/// succeeds: a few attempts are allowed for that answer alone.
async fn post_json(http: &reqwest::Client, url: &str, body: Value) {
    const MIGRATION_RACE: &str = "Online migration expected to match one row";
    for attempt in 1..=5 {
        let response = http
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        if status.is_success() {
            return;
        }
        let text = response.text().await.unwrap_or_default();
        assert!(
            text.contains(MIGRATION_RACE) && attempt < 5,
            "POST {url}: {status} {text}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn user_names(http: &reqwest::Client, server: &Dataplane) -> Vec<String> {
    let users = get_json(http, &format!("{}/users", server.skypilot_url)).await;
    users
        .as_array()
        .expect("/users lists users")
        .iter()
        .map(|user| user["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The release's API server pods, once the cluster has made both and given each an IP.
async fn api_server_pods(f: &Fixture) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let selector = format!("app={}-api", f.release());
    cluster::eventually(
        "two API server pods with an IP",
        Duration::from_secs(60),
        || async {
            let found = pods
                .list(&ListParams::default().labels(&selector))
                .await
                .ok()?
                .items;
            let running = found
                .into_iter()
                .filter(cluster::has_started)
                .collect::<Vec<_>>();
            (running.len() == 2).then_some(running)
        },
    )
    .await
}

#[tokio::test]
async fn two_api_servers_of_a_rolling_update_release_share_one_postgresql() {
    let started = Instant::now();
    let _serial = cluster::exclusive().await;
    // Dropped last: the servers stop, then the release goes, then the database.
    let postgres = Postgres::start();
    let password = postgres.password();
    let connection_string = postgres.connection_string();
    let f = Fixture::with_chart(Chart::Current).await;
    let mut transcript = Transcript::default();

    // The admin pastes the connection string into stdin, before the release exists.
    transcript
        .keep(
            skyctl()
                .kubeconfig(cluster::kubeconfig())
                .args(["-n", &f.ns.name, "creds", "add", "db"])
                .args(["--connection-string-stdin", "--release", f.release()])
                .stdin(format!("{connection_string}\n"))
                .run(),
        )
        .success()
        .stderr_has(&format!(
            "Secret {}/db-credentials created (keys: connection_string)",
            f.ns.name
        ));
    transcript
        .keep(f.run(
            "install",
            &["--set", ROLLING, "--set", SMALL_PODS, "--timeout", "120s"],
        ))
        .success();

    let deployment = f
        .deployments()
        .get(&format!("{}-api-server", f.release()))
        .await
        .expect("the API server Deployment exists");
    let strategy = deployment.spec.as_ref().unwrap().strategy.clone().unwrap();
    assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
    let container = serde_json::to_value(&pod_spec(&deployment).containers[0]).unwrap();
    let env = container["env"].as_array().unwrap();
    let var = |name: &str| env.iter().find(|v| v["name"] == name).cloned();
    assert_eq!(
        var("SKYPILOT_DB_CONNECTION_URI").unwrap()["valueFrom"]["secretKeyRef"],
        json!({"name": "db-credentials", "key": "connection_string"})
    );
    assert_eq!(
        var("SKYPILOT_ROLLING_UPDATE_ENABLED").unwrap()["value"],
        "true"
    );

    // Each server runs as one pod would: the kubelet's environment for it (the Secret skyctl
    // stored, the pod's uid as the server's id, its requests), the chart's `sky api start`.
    let pods = api_server_pods(&f).await;
    // One after the other: the second starts once the first has set the empty database up, as
    // the new pod of a rolling update does. Started together, as a fresh release's two pods
    // are, SkyPilot 0.14.1's migrations race: one server usually exits once and comes up on
    // its restart, but in one run of about eight the alembic version table was left with two
    // heads and no restart recovered (docs/testing.md). That is SkyPilot's, not what this test
    // is about.
    let servers: Vec<Dataplane> = pods
        .iter()
        .map(|pod| Dataplane::start_pod(&f.ns.name, pod.metadata.name.as_deref().unwrap()))
        .collect();
    for (pod, server) in pods.iter().zip(&servers) {
        let given = server.pod_environment();
        assert_eq!(
            given["env"]["SKYPILOT_DB_CONNECTION_URI"],
            connection_string
        );
        assert_eq!(
            given["env"]["SKYPILOT_APISERVER_UUID"],
            pod.metadata.uid.as_deref().unwrap()
        );
        assert_eq!(given["env"]["SKYPILOT_ROLLING_UPDATE_ENABLED"], "true");
        assert_eq!(given["env"]["SKYPILOT_POD_CPU_CORE_LIMIT"], "1");
        assert_eq!(
            given["env"]["SKYPILOT_POD_MEMORY_BYTES_LIMIT"],
            (2u64 << 30).to_string()
        );
        assert_eq!(given["args"], json!(["--deploy"]));
    }

    skyctl::crypto_provider::install();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for server in &servers {
        let health = get_json(&http, &format!("{}/api/health", server.skypilot_url)).await;
        assert_eq!(health["status"], "healthy", "{health}");
        assert_eq!(health["version"], "0.14.1", "{health}");
    }

    // SkyPilot made its schema in the database, not in a SQLite file under each HOME.
    let tables = postgres.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    for table in [
        "users",
        "clusters",
        "config_yaml",
        "alembic_version_state_db",
    ] {
        assert!(
            tables.iter().any(|t| t == table),
            "no table {table}: {tables:?}"
        );
    }

    // A user made through one server is a user of the other, and removed through the other,
    // is gone from the first: both read and write the same rows.
    let (first, second) = (&servers[0], &servers[1]);
    post_json(
        &http,
        &format!("{}/users/create", first.skypilot_url),
        json!({"username": "shared-db-alice", "password": "not-the-database-one", "role": "user"}),
    )
    .await;
    assert!(
        user_names(&http, second)
            .await
            .contains(&"shared-db-alice".to_owned())
    );
    assert_eq!(
        postgres.sql("SELECT name FROM users WHERE name = 'shared-db-alice'"),
        ["shared-db-alice"]
    );
    let alice = get_json(&http, &format!("{}/users", second.skypilot_url))
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["name"] == "shared-db-alice")
        .unwrap()["id"]
        .clone();
    post_json(
        &http,
        &format!("{}/users/delete", second.skypilot_url),
        json!({"user_id": alice}),
    )
    .await;
    assert!(
        !user_names(&http, first)
            .await
            .contains(&"shared-db-alice".to_owned())
    );

    // The password is in the Secret and nowhere else: not in what skyctl printed, not in the
    // values or the release record, not in the Deployment, not on any command line.
    let values = transcript
        .keep(
            skyctl()
                .kubeconfig(cluster::kubeconfig())
                .args(["get", "values", f.release(), "-n", &f.ns.name, "--all"])
                .run(),
        )
        .success();
    assert!(values.stdout.contains("db-credentials"), "{values:#?}");
    transcript.keep(f.run("status", &["-o", "json"]).success());
    transcript.keep(f.run("history", &[]).success());
    transcript.keep(
        skyctl()
            .kubeconfig(cluster::kubeconfig())
            .args(["-n", &f.ns.name, "creds", "list"])
            .run()
            .success(),
    );
    assert!(
        !transcript.0.contains(&password),
        "skyctl printed the database password"
    );
    let secrets: Api<Secret> = Api::namespaced(f.ns.client.clone(), &f.ns.name);
    let records = secrets
        .list(&ListParams::default().labels(support::release::RECORDS))
        .await
        .unwrap();
    assert!(!records.items.is_empty(), "the release has a record");
    for record in &records.items {
        let text = support::release::record_text(record);
        // Read as stored, so that a password inside would be found: a sanity check that this
        // is the decoded record, then the search.
        assert!(text.contains("db-credentials"), "{text}");
        assert!(
            !text.contains(&password),
            "release record {:?} holds the database password",
            record.metadata.name
        );
    }
    assert!(
        !serde_json::to_string(&deployment)
            .unwrap()
            .contains(&password)
    );
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(argv) = std::fs::read(entry.path().join("cmdline")) {
            assert!(
                !String::from_utf8_lossy(&argv).contains(&password),
                "process {:?} has the database password on its command line",
                entry.file_name()
            );
        }
    }
    eprintln!(
        "shared_database: two API servers on one PostgreSQL in {:.1}s; restarted {:?} times",
        started.elapsed().as_secs_f64(),
        servers.iter().map(Dataplane::restarts).collect::<Vec<_>>()
    );
}

/// An install with RollingUpdate and no database in its values uses the one `creds add db`
/// stored, as that command says the next install will; without one, the preflight names the
/// Secret and the command that stores it, and nothing is written.
#[tokio::test]
async fn a_rolling_update_install_takes_the_database_creds_add_db_stored() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let rolling = "apiService.upgradeStrategy=RollingUpdate,storage.enabled=false";
    f.run("install", &["--set", rolling, "--no-wait"])
        .code(1)
        .stderr_has("db-credentials")
        .stderr_has("skyctl creds add db")
        .stderr_has("Nothing was changed");
    skyctl()
        .kubeconfig(cluster::kubeconfig())
        .args(["-n", &f.ns.name, "creds", "add", "db"])
        .args(["--connection-string-stdin", "--release", f.release()])
        .stdin("postgresql://sky:pw-not-shown@db.example.com:5432/sky\n")
        .run()
        .success();
    f.run("install", &["--set", rolling, "--no-wait"]).success();
    let deployment = f
        .deployments()
        .get(&format!("{}-api-server", f.release()))
        .await
        .unwrap();
    let container = serde_json::to_value(&pod_spec(&deployment).containers[0]).unwrap();
    let uri = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "SKYPILOT_DB_CONNECTION_URI")
        .cloned()
        .expect("the API server reads the database");
    assert_eq!(
        uri["valueFrom"]["secretKeyRef"],
        json!({"name": "db-credentials", "key": "connection_string"})
    );
}
