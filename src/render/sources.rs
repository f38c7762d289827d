//! Which file of the published chart each object comes from, as Helm's `# Source:` comment
//! names it below the chart's name (`templates/api-deployment.yaml`,
//! `charts/ingress-nginx/templates/controller-deployment.yaml`). `template` prints it as Helm
//! does, and `template --show-only` selects by it. skyctl's own template files are named for
//! its chart folders; users know the published chart's.

use crate::chart::Chart;
use crate::manifest::Manifest;

/// The published chart's file that makes `manifest`, which skyctl's `template` rendered.
pub fn helm_source(chart: &Chart, template: &str, manifest: &Manifest) -> String {
    if let Some(file) = template.strip_prefix("ingress-nginx/") {
        return format!(
            "charts/ingress-nginx/templates/{}",
            ingress_nginx_file(file, manifest)
        );
    }
    let own = template.trim_end_matches(".j2");
    let file = chart
        .metadata()
        .template_sources
        .get(own)
        .map_or(own, String::as_str);
    format!("templates/{file}")
}

/// skyctl renders ingress-nginx's objects from fewer files than its chart has; each object's
/// kind (and for Services, which one) names the chart's file.
fn ingress_nginx_file<'a>(template: &'a str, manifest: &Manifest) -> &'a str {
    match manifest.id.kind.as_str() {
        "ServiceAccount" => "controller-serviceaccount.yaml",
        "ClusterRole" => "clusterrole.yaml",
        "ClusterRoleBinding" => "clusterrolebinding.yaml",
        "Role" => "controller-role.yaml",
        "RoleBinding" => "controller-rolebinding.yaml",
        "Service" if manifest.id.name.ends_with("-admission") => "controller-service-webhook.yaml",
        "Service" => "controller-service.yaml",
        "ConfigMap" => "controller-configmap.yaml",
        "Deployment" => "controller-deployment.yaml",
        "IngressClass" => "controller-ingressclass.yaml",
        "PodDisruptionBudget" => "controller-poddisruptionbudget.yaml",
        "ValidatingWebhookConfiguration" => "admission-webhooks/validating-webhook.yaml",
        // The chart's hook Job makes the webhook's certificate Secret; skyctl makes it itself.
        "Secret" => "admission-webhooks/job-patch/job-createSecret.yaml",
        _ => template.trim_end_matches(".j2"),
    }
}

/// One `--show-only` pattern: a published chart file as Helm takes it (`templates/ingress.yaml`,
/// with `*`, `?` and `[...]` as in a shell), or an object as skyctl names it (`KIND/NAME`, the
/// kind in any case, the name with the same wildcards).
#[derive(Debug, Clone)]
pub struct ShowOnly {
    given: String,
    kind: Option<String>,
    pattern: regex::Regex,
}

impl ShowOnly {
    pub fn new(given: &str) -> Result<Self, String> {
        let by_file = given.ends_with(".yaml") || given.contains("templates/");
        let (kind, glob) = match given.split_once('/') {
            Some((kind, name)) if !by_file && !kind.is_empty() && !name.is_empty() => {
                (Some(kind.to_lowercase()), name)
            }
            _ if by_file => (None, given),
            _ => {
                return Err(format!(
                    "{given:?} names neither a chart file (templates/api-deployment.yaml) nor an \
                     object (KIND/NAME, e.g. Deployment/skypilot-api-server)"
                ));
            }
        };
        let pattern = glob_regex(glob).ok_or_else(|| {
            format!(
                "{given:?} is not a pattern: a `[` class must be closed, hold a character, and \
                 run its ranges forwards (`[a-z]`)"
            )
        })?;
        Ok(Self {
            given: given.to_owned(),
            kind,
            pattern,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// Whether the object from chart file `source` is one this pattern shows.
    pub fn matches(&self, source: &str, manifest: &Manifest) -> bool {
        match &self.kind {
            Some(kind) => {
                manifest.id.kind.to_lowercase() == *kind && self.pattern.is_match(&manifest.id.name)
            }
            None => self.pattern.is_match(source),
        }
    }
}

/// A shell pattern as a regular expression matching a whole path, `*` and `?` never across `/`,
/// as Go's `filepath.Match`, which Helm's `--show-only` uses: a class is a set of characters
/// and ranges (`[a-z]`), negated with `^`. `None` for what `filepath.Match` calls a bad
/// pattern: an open or empty class, or a range that runs backwards.
fn glob_regex(glob: &str) -> Option<regex::Regex> {
    let mut pattern = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => pattern.push_str("[^/]*"),
            '?' => pattern.push_str("[^/]"),
            '[' => {
                let negated = chars.next_if_eq(&'^').is_some();
                let mut items: Vec<char> = Vec::new();
                loop {
                    match chars.next()? {
                        ']' => break,
                        c => items.push(c),
                    }
                }
                if items.is_empty() {
                    return None;
                }
                pattern.push('[');
                if negated {
                    pattern.push('^');
                }
                for (index, c) in items.iter().enumerate() {
                    // A dash between two characters makes a range; anywhere else it is itself.
                    let range = *c == '-' && index > 0 && index + 1 < items.len();
                    if range {
                        pattern.push('-');
                    } else {
                        pattern.push_str(&regex::escape(&c.to_string()));
                    }
                }
                pattern.push(']');
            }
            c => pattern.push_str(&regex::escape(&c.to_string())),
        }
    }
    pattern.push('$');
    regex::Regex::new(&pattern).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn manifest(kind: &str, name: &str) -> Manifest {
        Manifest::from_object(
            0,
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}),
        )
        .unwrap()
    }

    #[test]
    fn patterns_match_chart_files_as_helm_or_objects_by_kind_and_name() {
        let deployment = manifest("Deployment", "sky-api-server");
        let source = "templates/api-deployment.yaml";
        let cases = [
            ("templates/api-deployment.yaml", true),
            ("templates/*.yaml", true),
            ("templates/api-?eployment.yaml", true),
            ("templates/api-[cd]eployment.yaml", true),
            ("templates/api-[a-e]eployment.yaml", true),
            ("templates/api-[^a-c]eployment.yaml", true),
            ("templates/api-[x-z]eployment.yaml", false),
            ("templates/api-[-d]eployment.yaml", true),
            ("templates/ingress.yaml", false),
            ("*.yaml", false),
            ("Deployment/sky-api-server", true),
            ("deployment/sky-*", true),
            ("Service/sky-api-server", false),
        ];
        for (given, shown) in cases {
            let pattern = ShowOnly::new(given).unwrap();
            assert_eq!(pattern.matches(source, &deployment), shown, "{given}");
        }
        for bad in [
            "sky-api-server",
            "Deployment/",
            "/x",
            "templates/[",
            "templates/[]",
            "templates/[^]",
            "templates/a[]b",
            "Deployment/[]",
            "templates/[z-a]*",
        ] {
            assert!(ShowOnly::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_ingress_nginx_object_names_its_chart_file() {
        let chart = Chart::choose(Some("0.13.0"), None).unwrap();
        let cases = [
            (
                "ingress-nginx/services.yaml.j2",
                "Service",
                "sky-ingress-nginx-controller",
                "controller-service.yaml",
            ),
            (
                "ingress-nginx/services.yaml.j2",
                "Service",
                "sky-ingress-nginx-controller-admission",
                "controller-service-webhook.yaml",
            ),
            (
                "ingress-nginx/rbac.yaml.j2",
                "ClusterRole",
                "sky-ingress-nginx",
                "clusterrole.yaml",
            ),
            (
                "ingress-nginx/admission.yaml.j2",
                "ValidatingWebhookConfiguration",
                "sky-ingress-nginx-admission",
                "admission-webhooks/validating-webhook.yaml",
            ),
        ];
        for (template, kind, name, file) in cases {
            assert_eq!(
                helm_source(chart, template, &manifest(kind, name)),
                format!("charts/ingress-nginx/templates/{file}")
            );
        }
        let seed = Chart::choose(Some("1.0.0-dev.20250319"), None).unwrap();
        assert_eq!(
            helm_source(
                seed,
                "api-basic-auth-secret.yaml.j2",
                &manifest("Secret", "sky-basic-auth")
            ),
            "templates/auth.yaml"
        );
    }
}
