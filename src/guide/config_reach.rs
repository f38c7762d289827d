//! Whether a changed SkyPilot config (`apiService.config`) reaches the running API server.
//!
//! Chart 0.13.0's start script copies the config from its ConfigMap to `~/.sky/config.yaml`
//! only while that file is empty (`if [ -s /root/.sky/config.yaml ]`); otherwise it keeps the
//! file and syncs it back into the ConfigMap. So where `~/.sky` is on the data volume, the copy
//! made at the first start wins over every later upgrade (skypilot#10397, #7291, #5157), and
//! the chart's own notes just call the value ignored. What does reach the server: the config
//! page of SkyPilot's dashboard, which changes the running server's file; or removing that
//! file and restarting, so the script copies the values' config again. Where `~/.sky` is not
//! on a volume (storage off, or RollingUpdate), the config is copied at every start, but a
//! ConfigMap change alone restarts nothing.
//!
//! Pure: it reads the objects the deployed revision applied and those the upgrade applies.

use serde_json::Value;

use crate::manifest::Manifest;
use crate::release::Release;
use crate::render::ChartNames;

/// The test in the start script that makes the copy happen only once.
const COPIES_ONCE: &str = "[ -s /root/.sky/config.yaml ]";
const SKY_DIR: &str = "/root/.sky";
const CONFIG_KEY: &str = "config.yaml";

/// A warning, in plain words with a way that works, when the upgrade from `before` to `after`
/// changes the SkyPilot config and the API server would not read the change.
pub fn unapplied_config<'a>(
    release: &Release,
    names: &ChartNames,
    before: impl IntoIterator<Item = &'a Manifest>,
    after: impl IntoIterator<Item = &'a Manifest>,
) -> Option<String> {
    let (before, after): (Vec<&Manifest>, Vec<&Manifest>) =
        (before.into_iter().collect(), after.into_iter().collect());
    let config = |objects: &[&Manifest]| {
        find(objects, "ConfigMap", &names.config).map(|m| m.object["data"][CONFIG_KEY].clone())
    };
    let (was, will) = (config(&before)?, config(&after)?);
    if was == will {
        return None;
    }
    let deployment = find(&after, "Deployment", &names.api_server)?;
    let spec = &deployment.object["spec"]["template"]["spec"];
    let copies_once = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["args"].to_string().contains(COPIES_ONCE));
    if !copies_once {
        return None;
    }
    let namespace = &release.namespace;
    let deploy = format!("deploy/{}", names.api_server);
    let restart = format!("kubectl rollout restart -n {namespace} {deploy}");
    match sky_dir_claim(spec) {
        Some(claim) => {
            // A volume made by this upgrade is empty: the first start copies the new config.
            find(&before, "PersistentVolumeClaim", &claim)?;
            Some(format!(
                "apiService.config changed, but the running API server will not read it: the \
                 chart copies it to ~/.sky/config.yaml on the volume {claim} only while that \
                 file is empty, and the server has kept its own copy there since it first \
                 started. To change the server's config, either edit it on the Config page of \
                 the SkyPilot dashboard (the running server takes it at once and keeps it), or \
                 make the server copy apiService.config again, which discards edits made in \
                 the dashboard:\n  kubectl exec -n {namespace} {deploy} -c skypilot-api -- rm \
                 {SKY_DIR}/config.yaml\n  {restart}"
            ))
        }
        None => {
            let template = |m: &Manifest| m.object["spec"]["template"].clone();
            let restarts = find(&before, "Deployment", &names.api_server)
                .is_none_or(|old| template(old) != template(deployment));
            (!restarts).then(|| {
                format!(
                    "apiService.config changed; the API server copies it only when it starts, \
                     and this upgrade does not restart it: {restart}"
                )
            })
        }
    }
}

fn find<'m>(objects: &[&'m Manifest], kind: &str, name: &str) -> Option<&'m Manifest> {
    objects
        .iter()
        .find(|m| m.id.kind == kind && m.id.name == name)
        .copied()
}

/// The claim of the volume `~/.sky` is on, when it is on one.
fn sky_dir_claim(spec: &Value) -> Option<String> {
    let volume = spec["containers"]
        .as_array()?
        .iter()
        .flat_map(|c| c["volumeMounts"].as_array().into_iter().flatten())
        .find(|m| m["mountPath"] == SKY_DIR)?["name"]
        .clone();
    spec["volumes"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == volume)?["persistentVolumeClaim"]["claimName"]
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn release() -> Release {
        Release {
            name: "sky".into(),
            namespace: "team".into(),
        }
    }

    fn config_map(config: &str) -> Manifest {
        Manifest::from_object(
            0,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "sky-config", "namespace": "team"},
            "data": {"config.yaml": config}}),
        )
        .unwrap()
    }

    fn claim() -> Manifest {
        Manifest::from_object(
            0,
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "sky-state", "namespace": "team"}}),
        )
        .unwrap()
    }

    /// The API server's Deployment: its start script, and `~/.sky` on the claim or not.
    fn deployment(script: &str, on_claim: bool, image: &str) -> Manifest {
        let volume = match on_claim {
            true => {
                json!({"name": "state-volume", "persistentVolumeClaim": {"claimName": "sky-state"}})
            }
            false => json!({"name": "state-volume", "emptyDir": {}}),
        };
        Manifest::from_object(
            0,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "sky-api-server", "namespace": "team"},
            "spec": {"template": {"spec": {
                "containers": [{"name": "skypilot-api", "image": image,
                    "args": ["/bin/sh", "-c", script],
                    "volumeMounts": [{"name": "state-volume", "mountPath": "/root/.sky"}]}],
                "volumes": [volume]}}}}),
        )
        .unwrap()
    }

    const ONCE: &str = "if [ -s /root/.sky/config.yaml ]; then sync; else cp; fi";
    const ALWAYS: &str = "cp /tmp/config.yaml /root/.sky/config.yaml";

    #[test]
    fn a_changed_config_is_flagged_where_the_server_would_not_read_it() {
        let old = |script, on_claim| {
            vec![
                config_map("a: 1"),
                claim(),
                deployment(script, on_claim, "v1"),
            ]
        };
        // What, the objects before and after, and what the warning says (if any).
        let cases = [
            (
                "the config is unchanged",
                old(ONCE, true),
                vec![config_map("a: 1"), claim(), deployment(ONCE, true, "v2")],
                None,
            ),
            (
                "copied once, onto the volume that exists",
                old(ONCE, true),
                vec![config_map("a: 2"), claim(), deployment(ONCE, true, "v1")],
                Some("the running API server will not read it"),
            ),
            (
                "also when the pod restarts anyway",
                old(ONCE, true),
                vec![config_map("a: 2"), claim(), deployment(ONCE, true, "v2")],
                Some("rm /root/.sky/config.yaml"),
            ),
            (
                "the volume is new: its first start copies",
                vec![config_map("a: 1"), deployment(ONCE, false, "v1")],
                vec![config_map("a: 2"), claim(), deployment(ONCE, true, "v1")],
                None,
            ),
            (
                "no volume, and nothing restarts the pod",
                old(ONCE, false),
                vec![config_map("a: 2"), deployment(ONCE, false, "v1")],
                Some(
                    "this upgrade does not restart it: kubectl rollout restart -n team deploy/sky-api-server",
                ),
            ),
            (
                "no volume, and the pod restarts",
                old(ONCE, false),
                vec![config_map("a: 2"), deployment(ONCE, false, "v2")],
                None,
            ),
            (
                "a start script that copies every time",
                old(ALWAYS, true),
                vec![config_map("a: 2"), claim(), deployment(ALWAYS, true, "v1")],
                None,
            ),
            (
                "a first install",
                vec![],
                vec![config_map("a: 2"), claim(), deployment(ONCE, true, "v1")],
                None,
            ),
        ];
        for (what, before, after, want) in cases {
            let names = ChartNames::new(&release(), &serde_json::json!({}));
            let got = unapplied_config(&release(), &names, &before, &after);
            match want {
                None => assert_eq!(got, None, "{what}"),
                Some(want) => assert!(
                    got.as_deref().is_some_and(|got| got.contains(want)),
                    "{what}: {got:?}"
                ),
            }
        }
    }
}
