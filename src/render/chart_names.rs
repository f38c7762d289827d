//! Object names the SkyPilot chart gives a release's own objects: one home for the templates
//! (as `chart_names`) and for the walk-through, which finds the API server, its login and its
//! endpoint by these names.

use minijinja::{Value, context};

use crate::release::Release;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartNames {
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
    pub ingress: String,
    /// The NodePort Service in front of the ingress-nginx controller.
    pub nodeport_service: String,
    /// The Secret chart 0.13.0 makes from `slurmCredentials.config`.
    pub slurm_config: String,
}

impl ChartNames {
    pub fn for_release(release: &Release) -> Self {
        let name = |suffix: &str| format!("{}-{suffix}", release.name);
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
            ingress: name("ingress"),
            nodeport_service: name("ingress-controller-np"),
            slurm_config: name("slurm-config"),
        }
    }

    pub(crate) fn to_template_value(&self) -> Value {
        context! {
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
            nodeport_service => &self.nodeport_service,
        }
    }
}
