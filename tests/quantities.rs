//! Resource quantities in the values, read as Kubernetes reads them before anything is written:
//! one Kubernetes accepts never crashes skyctl, and one it refuses exits 2 naming the values key
//! and where it came from, with nothing written.

mod support;

use support::audit;
use support::cluster;
use support::release::{Chart, Fixture};

// `0e999` is zero to Kubernetes, and read as a float it was NaN: the preflight's capacity check
// panicked (exit 101) on it in doctor, install and upgrade, wherever it stood. Kubernetes
// accepts it, so a release installed with --skip-preflight then panicked on every upgrade.
#[tokio::test]
async fn quantities_kubernetes_accepts_never_crash_doctor_install_or_upgrade() {
    let _serial = cluster::exclusive().await;
    let f = Fixture::with_chart(Chart::Current).await;
    let odd = [
        "ingress-nginx.controller.resources.requests.cpu=0e999",
        "apiService.skipResourceCheck=true,apiService.resources.requests.cpu=0e999",
        "apiService.resources.requests.memory=0e999,apiService.skipResourceCheck=true",
        "ingress-nginx.controller.resources.requests.memory=1e400",
    ];
    for values in odd {
        let doctor = f.run("doctor", &["--set", values]);
        assert!(
            matches!(doctor.code, Some(0 | 1)),
            "doctor --set {values}: {doctor:#?}"
        );
        assert!(!doctor.stderr.contains("NaN"), "{doctor:#?}");
    }
    let zero = "ingress-nginx.controller.resources.requests.cpu=0e999";
    f.run("install", &["--set", zero, "--no-wait"]).success();
    f.run("upgrade", &["--set", zero, "--no-wait"])
        .success()
        .stderr_has("unchanged");
    f.run("uninstall", &["--delete-data"]).success();
}

// Strings that are no quantity at all (`NaN`, `1ki`, `0x10`, `lots`) were called "below the
// chart's minimum", passed the preflight under skipResourceCheck, or reached the API server,
// whose error named neither the values key nor the object's field.
#[tokio::test]
async fn values_that_are_not_quantities_exit_2_naming_the_key_and_its_origin_and_write_nothing() {
    let _serial = cluster::exclusive().await;
    for chart in [Chart::Current, Chart::SeedEra] {
        let f = Fixture::with_chart(chart).await;
        let skip = match chart {
            Chart::Current => ",apiService.skipResourceCheck=true",
            Chart::SeedEra => "",
        };
        let cases = [
            (
                "--set-json",
                r#"apiService.resources={"requests":{"cpu":"lots"}}"#.to_owned(),
                r#"apiService.resources.requests.cpu="lots" (from --set-json apiService.resources="#,
            ),
            (
                "--set",
                format!("apiService.resources.requests.cpu=NaN{skip}"),
                "apiService.resources.requests.cpu=\"NaN\" (from --set",
            ),
            (
                "--set",
                "apiService.resources.limits.memory=1ki".to_owned(),
                "apiService.resources.limits.memory=\"1ki\" (from --set",
            ),
            (
                "--set",
                "ingress-nginx.controller.resources.limits.cpu=0x10".to_owned(),
                "ingress-nginx.controller.resources.limits.cpu=\"0x10\" (from --set",
            ),
            (
                "--set",
                "storage.size=big".to_owned(),
                "storage.size=\"big\" (from --set",
            ),
        ];
        for verb in ["doctor", "install", "template"] {
            for (flag, value, named) in &cases {
                let mark = audit::mark();
                let outcome = f
                    .run(verb, &[flag, value])
                    .code(2)
                    .stderr_has(named)
                    .stderr_has("not a Kubernetes quantity")
                    .stderr_lacks("below the chart's minimum");
                let writes: Vec<_> = mark
                    .skyctl_requests(&f.ns.name)
                    .into_iter()
                    .filter(audit::Request::persists)
                    .collect();
                assert!(
                    writes.is_empty(),
                    "{verb} {flag} {value}: {writes:#?}\n{outcome:#?}"
                );
            }
        }
        // An installed release refuses them on upgrade the same way.
        f.run("install", &["--no-wait"]).success();
        for (flag, value, named) in &cases {
            let mark = audit::mark();
            f.run("upgrade", &[flag, value, "--reuse-values"])
                .code(2)
                .stderr_has(named);
            let writes: Vec<_> = mark
                .skyctl_requests(&f.ns.name)
                .into_iter()
                .filter(audit::Request::persists)
                .collect();
            assert!(writes.is_empty(), "upgrade {flag} {value}: {writes:#?}");
        }
        f.run("uninstall", &["--delete-data"]).success();
    }
}
