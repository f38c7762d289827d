//! `Redacted<T>`: a secret that `Debug` never prints, so types holding passwords, keys and
//! kubeconfigs can `#[derive(Debug)]` and still be logged or put in an error safely.

use std::fmt;
use std::ops::Deref;

/// A secret value. `Debug` prints `<redacted>`; code that needs the value says so with
/// [`Redacted::expose`] or a deref (`&*secret`, `secret.as_str()`).
///
/// There is no `Display` and no `Serialize`: printing or storing a secret has to be spelled
/// out with `expose()`, so that it is never done by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a secret.
    pub fn new(secret: T) -> Self {
        Self(secret)
    }

    /// The secret itself.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The secret itself, unwrapped.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> Deref for Redacted<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Redacted<T> {
    fn from(secret: T) -> Self {
        Self(secret)
    }
}

/// What stands in for a secret in anything skyctl prints.
pub const MASK: &str = "***";

/// Words in a key or a variable's name that say its value is a secret. A database connection
/// string and a Redis URL carry their password inline.
const SECRET_WORDS: &[&str] = &[
    "password",
    "secret",
    "token",
    "credential",
    "key",
    "connectionstring",
    "redis-url",
];

/// Whether `name` (a values key or path, or an environment variable) names a secret, whose
/// value nothing skyctl prints may show.
pub fn names_a_secret(name: &str) -> bool {
    let name = name.to_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

/// `text` with the password of every URL in it (`scheme://user:password@host`) masked.
pub fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (before, after) = rest.split_at(start + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(at) => {
                let userinfo = &after[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(MASK);
                    }
                    None => out.push_str(userinfo),
                }
                rest = &after[at..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// Whether a values key holds the name of a Secret object rather than secret data: the
/// chart spells those `...Name` (`awsSecretName`) or, in camelCase, `...Secret`
/// (`apiService.sshKeySecret`, `ingress.authSecret`), where a secret itself is kebab-case
/// (`client-secret`, `cookie-secret`).
fn names_a_secret_object(key: &str) -> bool {
    key.to_lowercase().ends_with("name")
        || key
            .strip_suffix("Secret")
            .and_then(|stem| stem.chars().last())
            .is_some_and(char::is_lowercase)
}

/// A values tree as skyctl prints it: the value of every key that names a secret (but a
/// key naming a Secret object) is masked, and so is every password in a URL. An empty value
/// hides nothing and is shown as it is, so a default reads as unset.
pub fn mask_values(tree: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match tree {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let secret = names_a_secret(key)
                        && !names_a_secret_object(key)
                        // A switch such as `awsCredentials.useCredentialsFile` holds no secret.
                        && !matches!(
                            value,
                            Value::Object(_) | Value::Array(_) | Value::Null | Value::Bool(_)
                        )
                        && value.as_str() != Some("");
                    let shown = if secret {
                        Value::from(MASK)
                    } else {
                        mask_values(value)
                    };
                    (key.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask_values).collect()),
        Value::String(text) => Value::String(mask_url_passwords(text)),
        other => other.clone(),
    }
}

/// A Kubernetes object as skyctl prints it (`get manifest`): a core Secret's values, the value
/// of every container environment variable whose name says it is a secret (chart 0.13.0 writes
/// oauth2-proxy's client secret as one), and every password in a URL, masked.
pub fn mask_object(object: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let mut object = object.clone();
    let secret = object.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && object.get("kind").and_then(Value::as_str) == Some("Secret");
    if secret {
        for field in ["data", "stringData"] {
            if let Some(Value::Object(entries)) = object.get_mut(field) {
                entries.values_mut().for_each(|v| *v = Value::from(MASK));
            }
        }
    }
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if let (true, Value::Array(entries)) = (key == "env", &mut *child) {
                        for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
                            let named = entry.get("name").and_then(Value::as_str);
                            if named.is_some_and(names_a_secret)
                                && let Some(value) = entry.get_mut("value")
                            {
                                *value = Value::from(MASK);
                            }
                        }
                    }
                    walk(child);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::String(text) => *text = mask_url_passwords(text),
            _ => {}
        }
    }
    walk(&mut object);
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked_and_the_rest_is_kept() {
        let cases = [
            (
                "postgresql://sky:pw@db.example:5432/sky",
                "postgresql://sky:***@db.example:5432/sky",
            ),
            (
                "--redis-connection-url=redis://:secret@redis:6379/0",
                "--redis-connection-url=redis://:***@redis:6379/0",
            ),
            (
                "https://login.example.com/a@b",
                "https://login.example.com/a@b",
            ),
            ("redis://user@host", "redis://user@host"),
            ("a://x:y@h b://u:v@h", "a://x:***@h b://u:***@h"),
            ("no url", "no url"),
        ];
        for (text, shown) in cases {
            assert_eq!(mask_url_passwords(text), shown, "{text}");
        }
    }

    #[test]
    fn values_that_name_secrets_are_masked_and_secret_names_shown() {
        let tree = serde_json::json!({
            "auth": {"oauth": {"enabled": true, "client-id": "abc", "client-secret": "def",
                               "redis-url": "redis://:pw@r:6379"}},
            "apiService": {"dbConnectionString": "postgresql://u:pw@db/x",
                           "dbConnectionSecretName": "db"},
            "ingress": {"authCredentials": "sky:$2y$hash", "authSecret": "htpasswd"},
            "awsCredentials": {"useCredentialsFile": true},
            "oauth": {"cookie-secret": "", "sshKeySecret": "ssh-keys", "initialBasicAuthSecret": "b"},
            "global": {"extraEnvs": [{"name": "URL", "value": "http://u:pw@h"}]},
        });
        assert_eq!(
            mask_values(&tree),
            serde_json::json!({
                "auth": {"oauth": {"enabled": true, "client-id": "abc", "client-secret": "***",
                                   "redis-url": "***"}},
                "apiService": {"dbConnectionString": "***", "dbConnectionSecretName": "db"},
                "ingress": {"authCredentials": "***", "authSecret": "htpasswd"},
                "awsCredentials": {"useCredentialsFile": true},
                "oauth": {"cookie-secret": "", "sshKeySecret": "ssh-keys",
                          "initialBasicAuthSecret": "b"},
                "global": {"extraEnvs": [{"name": "URL", "value": "http://u:***@h"}]},
            })
        );
    }

    #[test]
    fn objects_are_shown_with_their_secrets_masked() {
        let secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "data": {"password": "cHc="}, "stringData": {"token": "t"}});
        assert_eq!(
            mask_object(&secret),
            serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "data": {"password": "***"}, "stringData": {"token": "***"}})
        );
        let deployment = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "spec": {"template": {"spec": {"containers": [{"name": "proxy",
                "args": ["--redis-connection-url=redis://:pw@redis:6379"],
                "env": [{"name": "OAUTH2_PROXY_CLIENT_SECRET", "value": "s3cret"},
                        {"name": "OAUTH2_PROXY_CLIENT_ID", "value": "sky"},
                        {"name": "AWS_SECRET", "valueFrom": {"secretKeyRef":
                            {"name": "aws-credentials", "key": "aws_secret_access_key"}}}]}]}}}});
        assert_eq!(
            mask_object(&deployment),
            serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "spec": {"template": {"spec": {"containers": [{"name": "proxy",
                    "args": ["--redis-connection-url=redis://:***@redis:6379"],
                    "env": [{"name": "OAUTH2_PROXY_CLIENT_SECRET", "value": "***"},
                            {"name": "OAUTH2_PROXY_CLIENT_ID", "value": "sky"},
                            {"name": "AWS_SECRET", "valueFrom": {"secretKeyRef":
                                {"name": "aws-credentials", "key": "aws_secret_access_key"}}}]}]}}}})
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        #[derive(Debug)]
        #[allow(dead_code)] // Only Debug reads the fields.
        struct Login {
            user: String,
            password: Redacted<String>,
        }
        let login = Login {
            user: "sky".to_owned(),
            password: "hunter2".to_owned().into(),
        };
        for output in [format!("{login:?}"), format!("{login:#?}")] {
            assert!(!output.contains("hunter2"), "{output}");
            assert!(output.contains("<redacted>"), "{output}");
            assert!(output.contains("sky"), "{output}");
        }
        assert_eq!(format!("{:?}", Redacted::new(Some(42))), "<redacted>");
    }

    #[test]
    fn the_secret_is_reached_on_purpose() {
        let secret = Redacted::from("hunter2".to_owned());
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(secret.as_str(), "hunter2");
        let as_str: &str = &secret;
        assert_eq!(as_str, "hunter2");
        assert_eq!(secret.clone().into_inner(), "hunter2");
        assert_eq!(secret, Redacted::new("hunter2".to_owned()));
    }
}
