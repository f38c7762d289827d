//! Object names the SkyPilot chart gives a release's own objects: one home for the templates
//! (as `chart_names`) and for the walk-through, which finds the API server, its login and its
//! endpoint by these names (and by its front door). They start with the release's full name: `fullnameOverride` where
//! the values set it (chart 0.13.0), else the release name.

use minijinja::{Value, context};

use crate::front_door::FrontDoor;
use crate::release::Release;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartNames {
    /// The prefix of every name: `fullnameOverride` or the release name, at most 63
    /// characters and never ending in '-', as Helm's charts cut it.
    pub fullname: String,
    /// The API server's Deployment.
    pub api_server: String,
    /// The API server's ClusterIP Service, behind the Ingress.
    pub api_service: String,
    /// The `app` label of the API server's pods.
    pub api_app: String,
    pub service_account: String,
    pub role: String,
    pub role_binding: String,
    /// The ConfigMap with the SkyPilot config.
    pub config: String,
    /// The data volume (PVC).
    pub state: String,
    /// The Secret with the web login's htpasswd.
    pub basic_auth: String,
    /// The API server's Ingress: `-ingress` as the chart names it, or `-api-ingress` for the
    /// standard Ingress of skyctl's `ingress` door, so that a move between the two makes the
    /// new door beside the old one instead of changing it in place.
    pub ingress: String,
    /// The HTTPRoute of skyctl's `gateway` front door.
    pub http_route: String,
    /// The NodePort Service the seed-era chart puts in front of the ingress-nginx controller
    /// (`ingress.nodePortEnabled`); none where the values do not ask for it, as in chart
    /// 0.13.0, whose controller Service is the NodePort one when its type says so.
    pub nodeport_service: Option<String>,
    /// The Secret chart 0.13.0 makes from `slurmCredentials.config`.
    pub slurm_config: String,
    /// The oauth2-proxy Deployment chart 0.13.0 runs for single sign-on.
    pub oauth2_proxy: String,
    /// The door users reach the API server through, which decides where its endpoint is found.
    pub front_door: FrontDoor,
}

impl ChartNames {
    /// The names of `release`'s objects, rendered from `values` (the release's values, as
    /// resolved over the chart's defaults; only `fullnameOverride` matters).
    pub fn new(release: &Release, values: &serde_json::Value) -> Self {
        let fullname = fullname(release, values);
        let name = |suffix: &str| format!("{fullname}-{suffix}");
        let front_door = FrontDoor::of(values);
        Self {
            api_server: name("api-server"),
            api_service: name("api-service"),
            api_app: name("api"),
            service_account: name("api-sa"),
            role: name("api-role"),
            role_binding: name("api-role-binding"),
            config: name("config"),
            state: name("state"),
            basic_auth: name("basic-auth"),
            ingress: match front_door {
                FrontDoor::Ingress { .. } => name("api-ingress"),
                _ => name("ingress"),
            },
            http_route: name("api-route"),
            nodeport_service: values
                .pointer("/ingress/nodePortEnabled")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
                .then(|| name("ingress-controller-np")),
            slurm_config: name("slurm-config"),
            oauth2_proxy: name("oauth2-proxy"),
            front_door,
            fullname,
        }
    }

    pub(crate) fn to_template_value(&self) -> Value {
        context! {
            fullname => &self.fullname,
            api_server => &self.api_server,
            api_service => &self.api_service,
            api_app => &self.api_app,
            service_account => &self.service_account,
            role => &self.role,
            role_binding => &self.role_binding,
            config => &self.config,
            state => &self.state,
            basic_auth => &self.basic_auth,
            ingress => &self.ingress,
            http_route => &self.http_route,
            nodeport_service => &self.nodeport_service,
        }
    }
}

/// `fullnameOverride` or the release name, cut as Helm's charts cut names.
fn fullname(release: &Release, values: &serde_json::Value) -> String {
    let chosen = values
        .get("fullnameOverride")
        .and_then(serde_json::Value::as_str)
        .filter(|name| !name.is_empty())
        .unwrap_or(&release.name);
    super::ingress_nginx_names::dns_name(chosen)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_start_with_fullname_override_cut_as_helm_cuts_it() {
        let release = Release {
            name: "sky".into(),
            namespace: "team".into(),
        };
        // Cut at 63 characters, the '-' it then ends with trimmed.
        let long = format!("{}-x", "a".repeat(62));
        let cut = "a".repeat(62);
        let cases = [
            (json!({}), "sky"),
            (json!({"fullnameOverride": null}), "sky"),
            (json!({"fullnameOverride": ""}), "sky"),
            (json!({"fullnameOverride": "pilot"}), "pilot"),
            (json!({"fullnameOverride": long}), cut.as_str()),
        ];
        for (values, want) in cases {
            let names = ChartNames::new(&release, &values);
            assert_eq!(names.fullname, want, "{values}");
            assert_eq!(names.api_server, format!("{want}-api-server"));
            assert_eq!(names.oauth2_proxy, format!("{want}-oauth2-proxy"));
        }
    }

    #[test]
    fn a_node_port_service_is_named_only_where_the_values_ask_for_one() {
        let release = Release {
            name: "sky".into(),
            namespace: "team".into(),
        };
        let cases = [
            (json!({}), None),
            (json!({"ingress": {"nodePortEnabled": false}}), None),
            (
                json!({"ingress": {"nodePortEnabled": true}}),
                Some("sky-ingress-controller-np"),
            ),
        ];
        for (values, want) in cases {
            let names = ChartNames::new(&release, &values);
            assert_eq!(names.nodeport_service.as_deref(), want, "{values}");
        }
    }
}
