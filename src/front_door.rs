//! The door users reach the API server through, skyctl's own `skyctl.frontDoor`: the chart's
//! ingress-nginx, a Gateway the cluster already runs, or the cluster's own ingress controller.
//! What each door is, what the flags that choose one stand for in values, and which logins a
//! door can enforce. Pure.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value, json};

use crate::guide::login_mode::Mode;
use crate::kube_names::{self, NameKind};

/// The values key that chooses the door.
pub const KEY: &str = "skyctl.frontDoor";

/// A release's front door, as its values describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrontDoor {
    /// The chart's own ingress-nginx controller, installed with the release.
    IngressNginx,
    /// An HTTPRoute attached to a Gateway the cluster runs.
    Gateway(GatewayRef),
    /// A standard Ingress of `class`, served by the cluster's own controller.
    Ingress { class: String },
}

/// The Gateway an HTTPRoute attaches to: `--gateway [NAMESPACE/]NAME[:LISTENER]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRef {
    /// `None`: the release's namespace.
    pub namespace: Option<String>,
    pub name: String,
    /// The listener (`sectionName`); `None`: every listener that admits the route.
    pub listener: Option<String>,
}

impl FrontDoor {
    /// The door `values` (resolved over the chart's defaults) choose. Values that name none, as
    /// those of a release recorded before skyctl had doors, keep the chart's ingress-nginx.
    pub fn of(values: &Value) -> Self {
        let text = |pointer: &str| {
            values
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        match text("/skyctl/frontDoor").as_deref() {
            Some("gateway") => FrontDoor::Gateway(GatewayRef {
                namespace: text("/skyctl/gateway/namespace"),
                name: text("/skyctl/gateway/name").unwrap_or_default(),
                listener: text("/skyctl/gateway/sectionName"),
            }),
            Some("ingress") => FrontDoor::Ingress {
                class: text("/ingress/ingressClassName").unwrap_or_default(),
            },
            _ => FrontDoor::IngressNginx,
        }
    }

    /// The door's name in `skyctl.frontDoor`.
    pub fn name(&self) -> &'static str {
        match self {
            FrontDoor::IngressNginx => "ingress-nginx",
            FrontDoor::Gateway(_) => "gateway",
            FrontDoor::Ingress { .. } => "ingress",
        }
    }

    /// Whether `mode` is enforced behind this door. Basic auth at the ingress is ingress-nginx's
    /// annotations, which every other door ignores; every other login is the API server's own,
    /// or an auth proxy's the admin runs in front.
    pub fn enforces(&self, mode: Mode) -> bool {
        mode != Mode::Basic || *self == FrontDoor::IngressNginx
    }

    /// The login a release gets when nothing chooses one: basic auth where the door enforces
    /// it (every chart version has it), else the API server's own users.
    pub fn default_login(&self) -> Mode {
        if self.enforces(Mode::Basic) {
            Mode::Basic
        } else {
            Mode::Users
        }
    }
}

impl fmt::Display for FrontDoor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrontDoor::IngressNginx => f.write_str("the release's own ingress-nginx"),
            FrontDoor::Gateway(gateway) => write!(f, "Gateway {gateway}"),
            FrontDoor::Ingress { class } => write!(f, "IngressClass {class}"),
        }
    }
}

impl fmt::Display for GatewayRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(namespace) = &self.namespace {
            write!(f, "{namespace}/")?;
        }
        f.write_str(&self.name)?;
        if let Some(listener) = &self.listener {
            write!(f, ":{listener}")?;
        }
        Ok(())
    }
}

impl FromStr for GatewayRef {
    type Err = String;

    /// `[NAMESPACE/]NAME[:LISTENER]`, each part a valid Kubernetes name.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (path, listener) = match text.split_once(':') {
            Some((path, listener)) => (path, Some(listener)),
            None => (text, None),
        };
        let (namespace, name) = match path.split_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, path),
        };
        let checked = |kind, part: &str| {
            kube_names::check(kind, part)
                .map(|()| part.to_owned())
                .map_err(|err| format!("{err} (the form is [NAMESPACE/]NAME[:LISTENER])"))
        };
        Ok(GatewayRef {
            namespace: namespace
                .map(|n| checked(NameKind::Namespace, n))
                .transpose()?,
            name: checked(NameKind::Gateway, name)?,
            listener: listener
                .map(|l| checked(NameKind::Listener, l))
                .transpose()?,
        })
    }
}

/// The front-door flags of install, upgrade, template and doctor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--gateway`.
    pub gateway: Option<GatewayRef>,
    /// `--ingress-class`.
    pub ingress_class: Option<String>,
    /// `--hostname`.
    pub hostname: Option<String>,
}

impl Flags {
    /// The values the flags stand for, laid over `--set` as one layer: the door, what it
    /// attaches to, no ingress-nginx of the release's own, and the host the route answers.
    pub fn values(&self) -> Option<Map<String, Value>> {
        let mut values = json!({});
        if let Some(gateway) = &self.gateway {
            values["skyctl"] = json!({
                "frontDoor": "gateway",
                "gateway": {
                    "namespace": gateway.namespace.as_deref().unwrap_or_default(),
                    "name": gateway.name,
                    "sectionName": gateway.listener.as_deref().unwrap_or_default(),
                },
            });
            values["ingress-nginx"] = json!({"enabled": false});
        }
        if let Some(class) = &self.ingress_class {
            values["skyctl"] = json!({"frontDoor": "ingress"});
            values["ingress"] = json!({"ingressClassName": class});
            values["ingress-nginx"] = json!({"enabled": false});
        }
        if let Some(host) = &self.hostname {
            values["ingress"]["host"] = json!(host);
        }
        match values {
            Value::Object(map) if !map.is_empty() => Some(map),
            _ => None,
        }
    }

    /// How the flags name themselves where their values are the origin of an error.
    pub fn label(&self) -> String {
        let mut flags = Vec::new();
        if let Some(gateway) = &self.gateway {
            flags.push(format!("--gateway {gateway}"));
        }
        if let Some(class) = &self.ingress_class {
            flags.push(format!("--ingress-class {class}"));
        }
        if let Some(host) = &self.hostname {
            flags.push(format!("--hostname {host}"));
        }
        flags.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(namespace: Option<&str>, name: &str, listener: Option<&str>) -> GatewayRef {
        GatewayRef {
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            listener: listener.map(str::to_owned),
        }
    }

    #[test]
    fn gateway_flags_parse_namespace_name_and_listener() {
        let cases: &[(&str, Result<GatewayRef, &str>)] = &[
            ("public", Ok(gateway(None, "public", None))),
            ("infra/public", Ok(gateway(Some("infra"), "public", None))),
            (
                "infra/public:https",
                Ok(gateway(Some("infra"), "public", Some("https"))),
            ),
            ("public:web", Ok(gateway(None, "public", Some("web")))),
            ("gw.example", Ok(gateway(None, "gw.example", None))),
            ("", Err("\"\" is not a valid Gateway name: it is empty")),
            (
                "infra/",
                Err("\"\" is not a valid Gateway name: it is empty"),
            ),
            ("/public", Err("\"\" is not a valid namespace: it is empty")),
            ("Infra/public", Err("\"Infra\" is not a valid namespace")),
            ("infra/public:", Err("\"\" is not a valid listener name")),
            (
                "infra/pub lic",
                Err("\"pub lic\" is not a valid Gateway name"),
            ),
            ("a/b/c", Err("\"b/c\" is not a valid Gateway name")),
            ("a:b:c", Err("\"b:c\" is not a valid listener name")),
        ];
        for (text, want) in cases {
            match (text.parse::<GatewayRef>(), want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{text}"),
                (Err(got), Err(want)) => {
                    assert!(got.starts_with(want), "{text}: {got}");
                    assert!(got.ends_with("(the form is [NAMESPACE/]NAME[:LISTENER])"));
                }
                (got, _) => panic!("{text}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn a_gateway_parsed_prints_as_written() {
        for text in ["public", "infra/public", "infra/public:https", "public:web"] {
            assert_eq!(text.parse::<GatewayRef>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn the_door_is_read_from_the_values() {
        let cases = [
            (json!({}), FrontDoor::IngressNginx),
            (
                json!({"skyctl": {"frontDoor": "ingress-nginx"}}),
                FrontDoor::IngressNginx,
            ),
            (
                json!({"skyctl": {"frontDoor": "gateway", "gateway": {
                    "name": "public", "namespace": "", "sectionName": ""}}}),
                FrontDoor::Gateway(gateway(None, "public", None)),
            ),
            (
                json!({"skyctl": {"frontDoor": "gateway", "gateway": {
                    "name": "public", "namespace": "infra", "sectionName": "https"}}}),
                FrontDoor::Gateway(gateway(Some("infra"), "public", Some("https"))),
            ),
            (
                json!({"skyctl": {"frontDoor": "ingress"},
                       "ingress": {"ingressClassName": "traefik"}}),
                FrontDoor::Ingress {
                    class: "traefik".into(),
                },
            ),
        ];
        for (values, want) in cases {
            assert_eq!(FrontDoor::of(&values), want, "{values}");
        }
    }

    #[test]
    fn only_ingress_nginx_enforces_basic_auth_at_the_ingress() {
        let doors = [
            FrontDoor::IngressNginx,
            FrontDoor::Gateway(gateway(None, "g", None)),
            FrontDoor::Ingress { class: "c".into() },
        ];
        for door in &doors {
            let nginx = *door == FrontDoor::IngressNginx;
            assert_eq!(door.enforces(Mode::Basic), nginx, "{door}");
            for mode in [Mode::Users, Mode::Oauth, Mode::Proxy, Mode::None] {
                assert!(door.enforces(mode), "{door} {mode:?}");
            }
            let want = if nginx { Mode::Basic } else { Mode::Users };
            assert_eq!(door.default_login(), want, "{door}");
        }
    }

    #[test]
    fn flags_stand_for_values() {
        let cases = [
            (Flags::default(), None),
            (
                Flags {
                    gateway: Some(gateway(Some("infra"), "public", Some("https"))),
                    hostname: Some("sky.example.com".into()),
                    ..Flags::default()
                },
                Some(json!({
                    "skyctl": {"frontDoor": "gateway", "gateway": {
                        "namespace": "infra", "name": "public", "sectionName": "https"}},
                    "ingress-nginx": {"enabled": false},
                    "ingress": {"host": "sky.example.com"},
                })),
            ),
            (
                Flags {
                    gateway: Some(gateway(None, "public", None)),
                    ..Flags::default()
                },
                Some(json!({
                    "skyctl": {"frontDoor": "gateway", "gateway": {
                        "namespace": "", "name": "public", "sectionName": ""}},
                    "ingress-nginx": {"enabled": false},
                })),
            ),
            (
                Flags {
                    ingress_class: Some("traefik".into()),
                    hostname: Some("sky.example.com".into()),
                    ..Flags::default()
                },
                Some(json!({
                    "skyctl": {"frontDoor": "ingress"},
                    "ingress": {"ingressClassName": "traefik", "host": "sky.example.com"},
                    "ingress-nginx": {"enabled": false},
                })),
            ),
            (
                Flags {
                    hostname: Some("sky.example.com".into()),
                    ..Flags::default()
                },
                Some(json!({"ingress": {"host": "sky.example.com"}})),
            ),
        ];
        for (flags, want) in cases {
            assert_eq!(flags.values().map(Value::Object), want, "{flags:?}");
        }
    }
}
