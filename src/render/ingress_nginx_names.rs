//! Object names the ingress-nginx 4.11.3 chart gives a release's objects.
//!
//! They live here, not in a template, because the admission certificate has to name the
//! webhook Service before anything is rendered.

use minijinja::{Value, context};

use crate::release::Release;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressNginxNames {
    /// ServiceAccount, ClusterRole(Binding) and Role(Binding).
    pub fullname: String,
    /// Controller Deployment, ConfigMap and Service.
    pub controller: String,
    /// The Service the API server calls for admission reviews.
    pub admission_service: String,
    /// ValidatingWebhookConfiguration and the certificate Secret.
    pub admission: String,
    /// The lease the controller replicas elect a leader with.
    pub election_id: String,
}

impl IngressNginxNames {
    pub fn for_release(release: &Release) -> Self {
        // The chart leaves out its own name when the release name already contains it.
        let fullname = if release.name.contains("ingress-nginx") {
            dns_name(&release.name)
        } else {
            dns_name(&format!("{}-ingress-nginx", release.name))
        };
        let controller = dns_name(&format!("{fullname}-controller"));
        IngressNginxNames {
            // Not shortened: the chart appends this suffix after truncating.
            admission_service: format!("{controller}-admission"),
            admission: dns_name(&format!("{fullname}-admission")),
            election_id: format!("{fullname}-leader"),
            controller,
            fullname,
        }
    }

    pub(crate) fn to_template_value(&self) -> Value {
        context! {
            fullname => &self.fullname,
            controller => &self.controller,
            admission_service => &self.admission_service,
            admission => &self.admission,
            election_id => &self.election_id,
        }
    }
}

/// Helm's `trunc 63 | trimSuffix "-"`: object names are limited to 63 characters.
pub(super) fn dns_name(name: &str) -> String {
    let truncated: String = name.chars().take(63).collect();
    match truncated.strip_suffix('-') {
        Some(trimmed) => trimmed.to_owned(),
        None => truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(release: &str) -> IngressNginxNames {
        IngressNginxNames::for_release(&Release {
            name: release.to_owned(),
            namespace: "ns".to_owned(),
        })
    }

    #[test]
    fn release_name_gets_the_chart_name_appended() {
        let names = names("skypilot");
        assert_eq!(names.fullname, "skypilot-ingress-nginx");
        assert_eq!(names.controller, "skypilot-ingress-nginx-controller");
        assert_eq!(
            names.admission_service,
            "skypilot-ingress-nginx-controller-admission"
        );
        assert_eq!(names.admission, "skypilot-ingress-nginx-admission");
        assert_eq!(names.election_id, "skypilot-ingress-nginx-leader");
    }

    #[test]
    fn release_name_containing_the_chart_name_is_used_alone() {
        assert_eq!(names("my-ingress-nginx").fullname, "my-ingress-nginx");
        assert_eq!(
            names("my-ingress-nginx").controller,
            "my-ingress-nginx-controller"
        );
    }

    #[test]
    fn long_names_are_cut_to_63_characters_without_a_trailing_dash() {
        let long = "a".repeat(60);
        assert_eq!(names(&long).fullname, format!("{long}-ingress-nginx")[..63]);
        // 62 characters plus "-controller" cut at 63 ends in a dash, which is dropped: the
        // controller then shares the fullname, as it does with the upstream chart.
        let names = names(&"b".repeat(48));
        assert_eq!(names.fullname.len(), 62);
        assert_eq!(names.controller, names.fullname);
    }
}
