//! The one minijinja environment skyctl renders with, over the templates built into the binary.

use std::sync::OnceLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use super::filters;
use super::helm_text::helm_text;

macro_rules! template {
    ($name:literal) => {
        ($name, include_str!(concat!("../../templates/", $name)))
    };
}

/// Every template, under its file name in `templates/`. Names starting with `_` hold shared
/// macros and render nothing themselves. The order of the others is the order objects of one
/// kind are applied in (see `install_order.rs`): ingress-nginx first, then SkyPilot's own.
const TEMPLATES: [(&str, &str); 16] = [
    template!("_ingress_nginx.j2"),
    template!("ingress-nginx-admission.yaml.j2"),
    template!("ingress-nginx-rbac.yaml.j2"),
    template!("ingress-nginx-configmap.yaml.j2"),
    template!("ingress-nginx-deployment.yaml.j2"),
    template!("ingress-nginx-ingressclass.yaml.j2"),
    template!("ingress-nginx-poddisruptionbudget.yaml.j2"),
    template!("ingress-nginx-services.yaml.j2"),
    template!("api-basic-auth-secret.yaml.j2"),
    template!("api-configmap.yaml.j2"),
    template!("api-deployment.yaml.j2"),
    template!("api-ingress.yaml.j2"),
    template!("api-pvc.yaml.j2"),
    template!("api-rbac.yaml.j2"),
    template!("api-service.yaml.j2"),
    template!("ingress-nodeport-service.yaml.j2"),
];

/// The templates that produce objects, in rendering order.
pub fn object_templates() -> impl Iterator<Item = &'static str> {
    TEMPLATES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !name.starts_with('_'))
}

/// Built on first use. Templates compile when first rendered, so a mistake in one surfaces as
/// an error naming its file and line rather than a panic.
pub fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        env.set_loader(|name| {
            Ok(TEMPLATES
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, source)| (*source).to_owned()))
        });
        // Output is YAML assembled as text, as Helm does: nothing may be escaped.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        env.set_formatter(|out, _state, value| Ok(out.write_str(&helm_text(value))?));
        filters::register(&mut env);
        env
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_templates_folder_is_built_in() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut on_disk: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = TEMPLATES
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        built_in.sort();
        assert_eq!(built_in, on_disk);
    }
}
