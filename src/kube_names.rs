//! The naming rules for what the user names on the command line: release names, namespaces and
//! the objects flags point at.
//!
//! Both are checked before skyctl reads a kubeconfig, so a typo costs a usage error rather than
//! a half-applied release or a Secret named after something the API server then rejects.

use std::fmt;

/// Helm's limit: release names are at most 53 characters, so that `<release>-<suffix>` still
/// fits the 63 characters of a label value and of most object names.
pub const RELEASE_NAME_MAX: usize = 53;

/// A namespace is a DNS-1123 label, which Kubernetes limits to 63 characters.
pub const NAMESPACE_MAX: usize = 63;

/// What a checked name is, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A release: a DNS-1123 label of at most [`RELEASE_NAME_MAX`] characters, as in Helm.
    Release,
    /// A namespace: a DNS-1123 label of at most [`NAMESPACE_MAX`] characters.
    Namespace,
    /// A Secret: a DNS-1123 subdomain (labels joined by '.') of at most 253 characters.
    Secret,
    /// A Gateway, a subdomain like a Secret.
    Gateway,
    /// A Gateway's listener (its `sectionName`), a subdomain like a Secret.
    Listener,
    /// An IngressClass, a subdomain like a Secret.
    IngressClass,
    /// A host name an Ingress or HTTPRoute answers: a subdomain, optionally `*.` first.
    Host,
}

impl NameKind {
    fn max(self) -> usize {
        match self {
            NameKind::Release => RELEASE_NAME_MAX,
            NameKind::Namespace => NAMESPACE_MAX,
            NameKind::Secret
            | NameKind::Gateway
            | NameKind::Listener
            | NameKind::IngressClass
            | NameKind::Host => 253,
        }
    }

    /// Whether names of the kind are subdomains (labels joined by '.'), not single labels.
    fn subdomain(self) -> bool {
        !matches!(self, NameKind::Release | NameKind::Namespace)
    }
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Release => "release name",
            NameKind::Namespace => "namespace",
            NameKind::Secret => "Secret name",
            NameKind::Gateway => "Gateway name",
            NameKind::Listener => "listener name",
            NameKind::IngressClass => "IngressClass name",
            NameKind::Host => "host name",
        })
    }
}

/// The first rule a name breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Empty,
    TooLong(usize),
    Forbidden(char),
    StartsWithDash,
    EndsWithDash,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty => f.write_str("it is empty"),
            Problem::TooLong(length) => write!(f, "it has {length} characters"),
            Problem::Forbidden(c) if c.is_ascii_uppercase() => {
                write!(f, "uppercase {c:?} is not allowed")
            }
            Problem::Forbidden(c) => write!(f, "{c:?} is not allowed"),
            Problem::StartsWithDash => f.write_str("it starts with '-'"),
            Problem::EndsWithDash => f.write_str("it ends with '-'"),
        }
    }
}

/// A name that breaks its rule: says what is wrong and what the rule is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{name:?} is not a valid {kind}: {problem}; use lowercase letters, digits and '-'{dots}, at most {max} characters, starting and ending with a letter or digit",
    max = kind.max(),
    dots = match kind {
        NameKind::Host => " (and '.' between parts, '*.' first for a wildcard)",
        kind if kind.subdomain() => " (and '.' between parts)",
        _ => "",
    }
)]
pub struct InvalidName {
    pub kind: NameKind,
    pub name: String,
    pub problem: Problem,
}

/// Checks `name` against its kind's rule (a DNS-1123 label with the kind's length limit).
pub fn check(kind: NameKind, name: &str) -> Result<(), InvalidName> {
    // A wildcard host (`*.` first) answers hosts below the rest.
    let checked = match kind {
        NameKind::Host => name.strip_prefix("*.").unwrap_or(name),
        _ => name,
    };
    let problem = match kind {
        // Each part of a subdomain is a label; the whole has the kind's limit.
        _ if kind.subdomain() && name.chars().count() > kind.max() => {
            Some(Problem::TooLong(name.chars().count()))
        }
        _ if kind.subdomain() => checked
            .split('.')
            .find_map(|label| dns1123_label_problem(label, NAMESPACE_MAX)),
        _ => dns1123_label_problem(name, kind.max()),
    };
    problem.map_or(Ok(()), |problem| {
        Err(InvalidName {
            kind,
            name: name.to_owned(),
            problem,
        })
    })
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most `max` characters: the first rule broken, if any.
fn dns1123_label_problem(name: &str, max: usize) -> Option<Problem> {
    let length = name.chars().count();
    if length == 0 {
        return Some(Problem::Empty);
    }
    if length > max {
        return Some(Problem::TooLong(length));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(Problem::Forbidden(c));
    }
    if name.starts_with('-') {
        return Some(Problem::StartsWithDash);
    }
    if name.ends_with('-') {
        return Some(Problem::EndsWithDash);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_subdomains() {
        let long = format!("{}.{}", "a".repeat(63), "b".repeat(190));
        let cases: &[(&str, Option<Problem>)] = &[
            ("aws-credentials", None),
            ("team.aws-credentials", None),
            (&long, Some(Problem::TooLong(254))),
            ("Bad_Name", Some(Problem::Forbidden('B'))),
            ("a..b", Some(Problem::Empty)),
            ("a.-b", Some(Problem::StartsWithDash)),
        ];
        for (name, problem) in cases {
            assert_eq!(
                check(NameKind::Secret, name).err().map(|e| e.problem),
                *problem,
                "{name}"
            );
        }
    }

    #[test]
    fn hosts_are_subdomains_with_an_optional_wildcard_first() {
        let cases: &[(&str, Option<Problem>)] = &[
            ("sky.example.com", None),
            ("*.example.com", None),
            ("localhost", None),
            ("*", Some(Problem::Forbidden('*'))),
            ("a.*.example.com", Some(Problem::Forbidden('*'))),
            ("Sky.example.com", Some(Problem::Forbidden('S'))),
            ("sky.example.com:8080", Some(Problem::Forbidden(':'))),
            ("http://sky.example.com", Some(Problem::Forbidden(':'))),
        ];
        for (name, problem) in cases {
            assert_eq!(
                check(NameKind::Host, name).err().map(|e| e.problem),
                *problem,
                "{name}"
            );
        }
    }

    #[test]
    fn release_names_follow_helm() {
        let longest = "a".repeat(RELEASE_NAME_MAX);
        let too_long = "a".repeat(RELEASE_NAME_MAX + 1);
        let cases: &[(&str, Option<Problem>)] = &[
            ("skypilot", None),
            ("a", None),
            ("0", None),
            ("sky-1", None),
            ("1sky", None),
            ("a--b", None),
            (&longest, None),
            (&too_long, Some(Problem::TooLong(54))),
            ("", Some(Problem::Empty)),
            ("Bad_Rel", Some(Problem::Forbidden('B'))),
            ("bad_rel", Some(Problem::Forbidden('_'))),
            // Helm's release names are labels, not subdomains: no dots.
            ("sky.pilot", Some(Problem::Forbidden('.'))),
            ("sky pilot", Some(Problem::Forbidden(' '))),
            ("ský", Some(Problem::Forbidden('ý'))),
            ("-sky", Some(Problem::StartsWithDash)),
            ("sky-", Some(Problem::EndsWithDash)),
            ("-", Some(Problem::StartsWithDash)),
        ];
        for (name, problem) in cases {
            assert_eq!(
                check(NameKind::Release, name).err().map(|e| e.problem),
                *problem,
                "{name:?}"
            );
        }
    }

    #[test]
    fn namespaces_are_labels_of_up_to_63_characters() {
        let longest = "n".repeat(NAMESPACE_MAX);
        let too_long = "n".repeat(NAMESPACE_MAX + 1);
        let cases: &[(&str, Option<Problem>)] = &[
            ("skypilot", None),
            ("kube-system", None),
            (&longest, None),
            (&too_long, Some(Problem::TooLong(64))),
            ("", Some(Problem::Empty)),
            ("Team", Some(Problem::Forbidden('T'))),
            ("team.a", Some(Problem::Forbidden('.'))),
            ("team-", Some(Problem::EndsWithDash)),
        ];
        for (name, problem) in cases {
            assert_eq!(
                check(NameKind::Namespace, name).err().map(|e| e.problem),
                *problem,
                "{name:?}"
            );
        }
    }

    #[test]
    fn the_message_says_what_is_wrong_and_what_the_rule_is() {
        let cases = [
            (
                NameKind::Release,
                "Bad_Rel",
                "\"Bad_Rel\" is not a valid release name: uppercase 'B' is not allowed; use lowercase letters, digits and '-', at most 53 characters, starting and ending with a letter or digit",
            ),
            (
                NameKind::Namespace,
                "team-",
                "\"team-\" is not a valid namespace: it ends with '-'; use lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit",
            ),
            (
                NameKind::Release,
                "",
                "\"\" is not a valid release name: it is empty; use lowercase letters, digits and '-', at most 53 characters, starting and ending with a letter or digit",
            ),
            (
                NameKind::Release,
                "a\nb",
                "\"a\\nb\" is not a valid release name: '\\n' is not allowed; use lowercase letters, digits and '-', at most 53 characters, starting and ending with a letter or digit",
            ),
        ];
        for (kind, name, message) in cases {
            assert_eq!(check(kind, name).unwrap_err().to_string(), message);
        }
    }
}
