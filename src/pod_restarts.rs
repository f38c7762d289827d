//! Which changes start a workload's pods anew. A Deployment, StatefulSet or DaemonSet replaces
//! its pods whenever its pod template changes, a label included: adopt changes the
//! `app.kubernetes.io/managed-by` label of ingress-nginx's controller template from Helm to
//! skyctl, so its pods restart although nothing else changes. Pure: from the live object and
//! the object as the API server would store it after the apply (a server-side dry run), so that
//! defaults the server fills in compare equal.

use serde_json::Value;

use crate::manifest::ObjectRef;

/// The kinds whose controllers replace their pods when the pod template changes.
const WORKLOADS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];
/// How many changed fields a message names; the diff shows them all.
const SHOWN: usize = 3;

/// A workload whose pods a change starts anew, and the fields of its pod template that change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restart {
    pub id: ObjectRef,
    /// Paths inside the pod template, as `metadata.labels.app.kubernetes.io/managed-by`.
    pub changed: Vec<String>,
}

impl std::fmt::Display for Restart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut fields = self.changed[..self.changed.len().min(SHOWN)].join(", ");
        if self.changed.len() > SHOWN {
            fields.push_str(&format!(" and {} more", self.changed.len() - SHOWN));
        }
        write!(
            f,
            "{} would restart its pods: its pod template changes ({fields})",
            self.id
        )
    }
}

/// The workloads among `changes` (each object, live and planned) whose pods would start anew.
/// A workload that does not exist yet starts its pods for the first time: not a restart.
pub fn restarts<'c>(
    changes: impl IntoIterator<Item = (&'c ObjectRef, Option<&'c Value>, &'c Value)>,
) -> Vec<Restart> {
    changes
        .into_iter()
        .filter(|(id, _, _)| id.group() == "apps" && WORKLOADS.contains(&id.kind.as_str()))
        .filter_map(|(id, live, planned)| {
            let template = |object: &'c Value| object.pointer("/spec/template");
            let mut changed = Vec::new();
            differences(template(live?), template(planned), "", &mut changed);
            (!changed.is_empty()).then(|| Restart {
                id: id.clone(),
                changed,
            })
        })
        .collect()
}

/// The paths below `path` where `before` and `after` differ, down to the first value that is
/// not a map on either side.
fn differences(before: Option<&Value>, after: Option<&Value>, path: &str, out: &mut Vec<String>) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let inner = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                differences(a.get(key), b.get(key), &inner, out);
            }
        }
        (a, b) if a != b => out.push(path.to_owned()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn id(api_version: &str, kind: &str) -> ObjectRef {
        ObjectRef {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: Some("team".into()),
            name: "sky-ingress-nginx-controller".into(),
        }
    }

    fn workload(labels: Value, image: &str) -> Value {
        json!({"metadata": {"labels": {"changed": "outside the template"}},
               "spec": {"replicas": 1, "template": {
                   "metadata": {"labels": labels},
                   "spec": {"containers": [{"name": "controller", "image": image}]}}}})
    }

    #[test]
    fn a_workload_restarts_when_its_pod_template_changes_and_only_then() {
        let helms = workload(json!({"app.kubernetes.io/managed-by": "Helm"}), "nginx:1");
        let skyctls = workload(json!({"app.kubernetes.io/managed-by": "skyctl"}), "nginx:1");
        let mut scaled = helms.clone();
        scaled["spec"]["replicas"] = json!(3);
        scaled["metadata"]["labels"] = json!({});
        let newer = workload(json!({"app.kubernetes.io/managed-by": "Helm"}), "nginx:2");
        let deployment = id("apps/v1", "Deployment");
        let (daemon_set, config_map) = (id("apps/v1", "DaemonSet"), id("v1", "ConfigMap"));
        for (why, changes, want) in [
            (
                "a label of the template",
                vec![(&deployment, Some(&helms), &skyctls)],
                vec![vec!["metadata.labels.app.kubernetes.io/managed-by"]],
            ),
            (
                "an image, inside a list",
                vec![(&daemon_set, Some(&helms), &newer)],
                vec![vec!["spec.containers"]],
            ),
            (
                "replicas and the object's own labels",
                vec![(&deployment, Some(&helms), &scaled)],
                vec![],
            ),
            (
                "a new workload",
                vec![(&deployment, None, &skyctls)],
                vec![],
            ),
            (
                "not a workload",
                vec![(&config_map, Some(&helms), &skyctls)],
                vec![],
            ),
        ] {
            let got: Vec<Vec<String>> = restarts(changes.iter().map(|(i, l, p)| (*i, *l, *p)))
                .into_iter()
                .map(|restart| restart.changed)
                .collect();
            assert_eq!(got, want, "{why}");
        }
    }

    #[test]
    fn a_restart_names_the_first_fields_that_change() {
        let restart = Restart {
            id: id("apps/v1", "Deployment"),
            changed: ["a", "b", "c", "d", "e"].map(String::from).to_vec(),
        };
        assert_eq!(
            restart.to_string(),
            "Deployment team/sky-ingress-nginx-controller would restart its pods: its pod \
             template changes (a, b, c and 2 more)"
        );
    }
}
