//! Renders skyctl's embedded templates into the Kubernetes objects `install` applies.
//!
//! `templates/*.yaml.j2` are minijinja ports of the SkyPilot chart (dc4d262) and of the
//! ingress-nginx 4.11.3 objects it pulls in; `docs/chart-compatibility.md` lists where the
//! output deliberately differs from Helm's. Nothing here talks to a cluster.

mod admission_certificate;
mod certificate_fields;
mod chart_names;
mod environment;
mod error;
mod filters;
mod helm_text;
mod ingress_nginx_names;
mod lookups;
mod parse;
mod renderer;
pub mod sources;

pub use admission_certificate::AdmissionCertificate;
pub use chart_names::ChartNames;
pub use error::Error;
pub use ingress_nginx_names::IngressNginxNames;
pub use lookups::Lookups;
pub use renderer::{render, render_sourced};

/// The annotation chart 0.13.0's Ingress carries `ingress.path` in (the template writes it):
/// where users reach the API server below the host.
pub const INGRESS_PATH_ANNOTATION: &str = "skypilot.co/ingress-path";
