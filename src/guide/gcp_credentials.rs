//! The GCP service-account key for the `gcp-credentials` Secret.
//!
//! The pod gets the key file byte for byte; skyctl only checks that it is a service-account key
//! (the usual mistake is deploying `gcloud auth application-default login` user credentials,
//! which the API server cannot refresh) and picks the default project. Messages name the file
//! and JSON field names only: the file holds a private key.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::host::Host;
use crate::redacted::Redacted;

/// Name of the Secret the chart's pods read the GCP key from.
pub const SECRET_NAME: &str = "gcp-credentials";
/// Secret key holding the key file.
pub const KEY_FILE: &str = "gcp-cred.json";
const SERVICE_ACCOUNT: &str = "service_account";
// Other credential types Google tools write; named in errors so the user learns what they have.
// Any other value is not echoed: it could be anything, including key material in the wrong field.
const KNOWN_TYPES: &[&str] = &[
    "authorized_user",
    "external_account",
    "external_account_authorized_user",
    "impersonated_service_account",
    "gdch_service_account",
];

/// Where the default project came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectFrom {
    /// The project argument, which wins over the key file.
    Argument,
    /// The key file's `project_id`.
    KeyFile,
}

/// A checked service-account key. Its `Debug` never shows the key file.
#[derive(Debug)]
pub struct GcpCredentials {
    key_json: Redacted<String>,
    /// The project SkyPilot uses by default.
    pub project_id: String,
    /// Where `project_id` came from.
    pub project_from: ProjectFrom,
    /// The service account's e-mail, to tell the user which identity the pods act as.
    pub client_email: String,
}

impl GcpCredentials {
    /// The `gcp-credentials` Secret's data: `gcp-cred.json`, the file's bytes unchanged.
    pub fn secret_data(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(KEY_FILE.to_owned(), self.key_json.expose().clone())])
    }
}

/// Why a file is not a usable service-account key.
#[derive(Debug, thiserror::Error)]
pub enum GcpCredentialsError {
    /// The file cannot be read.
    #[error("cannot read GCP service-account key {path}: {reason}", path = path.display(), reason = super::host::unreadable_because(*kind))]
    Unreadable {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        kind: io::ErrorKind,
    },
    /// The file is not JSON.
    #[error(
        "{path} is not valid JSON (line {line}, column {column}); expected a GCP service-account \
         key file",
        path = path.display()
    )]
    NotJson {
        /// The key file.
        path: PathBuf,
        /// 1-based line of the first error.
        line: usize,
        /// 1-based column of the first error.
        column: usize,
    },
    /// The JSON is not an object.
    #[error("{path} is not a JSON object; expected a GCP service-account key file", path = path.display())]
    NotObject {
        /// The key file.
        path: PathBuf,
    },
    /// `type` is not `service_account`.
    #[error(
        "{path} holds {what}, not a service-account key (\"type\": \"service_account\"); create one \
         with `gcloud iam service-accounts keys create`",
        path = path.display(),
        what = match found {
            Some(kind) => format!("\"{kind}\" credentials"),
            None => "credentials of an unrecognised \"type\"".to_owned(),
        }
    )]
    WrongType {
        /// The key file.
        path: PathBuf,
        /// The credential type, when it is one Google tools are known to write.
        found: Option<&'static str>,
    },
    /// A required field is absent.
    #[error(
        "{path} has no \"{field}\" field; expected a GCP service-account key file",
        path = path.display()
    )]
    MissingField {
        /// The key file.
        path: PathBuf,
        /// The JSON field.
        field: &'static str,
    },
    /// A field is present but unusable.
    #[error("\"{field}\" in {path} must be {expected}", path = path.display())]
    InvalidField {
        /// The key file.
        path: PathBuf,
        /// The JSON field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// Neither the argument nor the file names a project.
    #[error(
        "no GCP project: {path} has no \"project_id\" and no project was given; pass --project",
        path = path.display()
    )]
    NoProject {
        /// The key file.
        path: PathBuf,
    },
}

/// Reads and checks the key file at `path`; `project` (the argument) wins over its `project_id`.
pub fn load(
    path: &Path,
    project: Option<&str>,
    host: &Host<'_>,
) -> Result<GcpCredentials, GcpCredentialsError> {
    let bytes = (host.read_file)(path).map_err(|err| GcpCredentialsError::Unreadable {
        path: path.to_path_buf(),
        kind: err.kind(),
    })?;
    let key_json = String::from_utf8(bytes).map_err(|err| {
        let (line, column) = position(err.as_bytes(), err.utf8_error().valid_up_to());
        GcpCredentialsError::NotJson {
            path: path.to_path_buf(),
            line,
            column,
        }
    })?;
    // Only the position is kept: serde_json's message could quote part of the input.
    let value: Value =
        serde_json::from_str(&key_json).map_err(|err| GcpCredentialsError::NotJson {
            path: path.to_path_buf(),
            line: err.line(),
            column: err.column(),
        })?;
    let fields = Fields {
        path,
        value: &value,
    };
    let object = value
        .as_object()
        .ok_or_else(|| GcpCredentialsError::NotObject {
            path: path.to_path_buf(),
        })?;

    let kind = fields.string("type", "a string")?;
    if kind != SERVICE_ACCOUNT {
        return Err(GcpCredentialsError::WrongType {
            path: path.to_path_buf(),
            found: KNOWN_TYPES.iter().copied().find(|known| *known == kind),
        });
    }
    let client_email = fields.string("client_email", "an e-mail address")?;
    if !client_email.contains('@') {
        return Err(fields.invalid("client_email", "an e-mail address"));
    }
    let private_key = fields.string("private_key", "a PEM private key")?;
    if !(private_key.contains("-----BEGIN") && private_key.contains("PRIVATE KEY-----")) {
        return Err(fields.invalid("private_key", "a PEM private key"));
    }
    let file_project = match object.get("project_id") {
        None | Some(Value::Null) => None,
        Some(_) => Some(fields.string("project_id", "a non-empty string")?),
    };
    let (project_id, project_from) = match (
        project.map(str::trim).filter(|p| !p.is_empty()),
        file_project,
    ) {
        (Some(project), _) => (project.to_owned(), ProjectFrom::Argument),
        (None, Some(project)) => (project.to_owned(), ProjectFrom::KeyFile),
        (None, None) => {
            return Err(GcpCredentialsError::NoProject {
                path: path.to_path_buf(),
            });
        }
    };
    let client_email = client_email.to_owned();
    Ok(GcpCredentials {
        key_json: key_json.into(),
        project_id,
        project_from,
        client_email,
    })
}

/// Typed access to the key file's top-level fields, with errors that name only the field.
struct Fields<'a> {
    path: &'a Path,
    value: &'a Value,
}

impl<'a> Fields<'a> {
    fn string(
        &self,
        field: &'static str,
        expected: &'static str,
    ) -> Result<&'a str, GcpCredentialsError> {
        match self.value.get(field) {
            None | Some(Value::Null) => Err(GcpCredentialsError::MissingField {
                path: self.path.to_path_buf(),
                field,
            }),
            Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.as_str()),
            Some(_) => Err(self.invalid(field, expected)),
        }
    }

    fn invalid(&self, field: &'static str, expected: &'static str) -> GcpCredentialsError {
        GcpCredentialsError::InvalidField {
            path: self.path.to_path_buf(),
            field,
            expected,
        }
    }
}

/// 1-based line and column of byte `offset`.
fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7SECRETKEYMATERIAL\\n-----END PRIVATE KEY-----\\n";
    const PRIVATE_KEY_ID: &str = "3c1f0e5d9a7b2c4e6f8a0b1c2d3e4f5a6b7c8d9e";
    const REFRESH_TOKEN: &str = "1//0gEXAMPLEREFRESHTOKENsecretvalue";
    const SECRETS: &[&str] = &[
        "SECRETKEYMATERIAL",
        PRIVATE_KEY_ID,
        REFRESH_TOKEN,
        "not-a-pem-SECRETKEYMATERIAL",
    ];

    fn key(extra: &str) -> String {
        format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"file-project\",\n  \
             \"private_key_id\": \"{PRIVATE_KEY_ID}\",\n  \"private_key\": \"{PRIVATE_KEY}\",\n  \
             \"client_email\": \"sky@file-project.iam.gserviceaccount.com\"{extra}\n}}\n"
        )
    }

    /// Writes `content` to a temp file and loads it.
    fn load_text(
        content: &[u8],
        project: Option<&str>,
    ) -> (
        Result<GcpCredentials, GcpCredentialsError>,
        PathBuf,
        tempfile::TempDir,
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key.json");
        std::fs::write(&path, content).expect("write key");
        (load(&path, project, &Host::system()), path, dir)
    }

    #[test]
    fn accepted_keys_table() {
        let without_project = key("").replace("  \"project_id\": \"file-project\",\n", "");
        let cases: Vec<(&str, String, Option<&str>, &str, ProjectFrom)> = vec![
            (
                "file project",
                key(""),
                None,
                "file-project",
                ProjectFrom::KeyFile,
            ),
            (
                "argument wins",
                key(""),
                Some("arg-project"),
                "arg-project",
                ProjectFrom::Argument,
            ),
            (
                "empty argument ignored",
                key(""),
                Some(" "),
                "file-project",
                ProjectFrom::KeyFile,
            ),
            (
                "argument only",
                without_project,
                Some("arg-project"),
                "arg-project",
                ProjectFrom::Argument,
            ),
            (
                "extra fields kept",
                key(",\n  \"universe_domain\": \"googleapis.com\""),
                None,
                "file-project",
                ProjectFrom::KeyFile,
            ),
        ];
        for (name, content, project, want_project, want_from) in cases {
            let (result, _, _dir) = load_text(content.as_bytes(), project);
            let creds = result.unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(creds.project_id, want_project, "{name}");
            assert_eq!(creds.project_from, want_from, "{name}");
            assert_eq!(
                creds.client_email, "sky@file-project.iam.gserviceaccount.com",
                "{name}"
            );
            let data = creds.secret_data();
            assert_eq!(data.keys().collect::<Vec<_>>(), [KEY_FILE], "{name}");
            assert_eq!(
                data[KEY_FILE].as_bytes(),
                content.as_bytes(),
                "{name}: bytes unchanged"
            );
        }
    }

    fn error_cases() -> Vec<(GcpCredentialsError, String)> {
        let cases: Vec<(Vec<u8>, Option<&str>, &str)> = vec![
            (
                b"{\"type\": \"service_account\",\n  \"private_key\": SECRETKEYMATERIAL}".to_vec(),
                None,
                "{path} is not valid JSON (line 2, column 18); expected a GCP service-account key file",
            ),
            (
                b"{\"type\": \"service_account\",\n \xff}".to_vec(),
                None,
                "{path} is not valid JSON (line 2, column 2); expected a GCP service-account key file",
            ),
            (
                b"[\"SECRETKEYMATERIAL\"]".to_vec(),
                None,
                "{path} is not a JSON object; expected a GCP service-account key file",
            ),
            (
                format!(
                    "{{\"type\": \"authorized_user\", \"refresh_token\": \"{REFRESH_TOKEN}\"}}"
                )
                .into_bytes(),
                None,
                "{path} holds \"authorized_user\" credentials, not a service-account key (\"type\": \"service_account\"); create one with `gcloud iam service-accounts keys create`",
            ),
            (
                b"{\"type\": \"SECRETKEYMATERIAL\"}".to_vec(),
                None,
                "{path} holds credentials of an unrecognised \"type\", not a service-account key (\"type\": \"service_account\"); create one with `gcloud iam service-accounts keys create`",
            ),
            (
                b"{\"private_key\": \"SECRETKEYMATERIAL\"}".to_vec(),
                None,
                "{path} has no \"type\" field; expected a GCP service-account key file",
            ),
            (
                b"{\"type\": 7}".to_vec(),
                None,
                "\"type\" in {path} must be a string",
            ),
            (
                key("")
                    .replace(
                        "  \"client_email\": \"sky@file-project.iam.gserviceaccount.com\"",
                        "  \"x\": 1",
                    )
                    .into_bytes(),
                None,
                "{path} has no \"client_email\" field; expected a GCP service-account key file",
            ),
            (
                key("")
                    .replace(
                        "sky@file-project.iam.gserviceaccount.com",
                        "SECRETKEYMATERIAL",
                    )
                    .into_bytes(),
                None,
                "\"client_email\" in {path} must be an e-mail address",
            ),
            (
                key("").replace(PRIVATE_KEY, "").into_bytes(),
                None,
                "\"private_key\" in {path} must be a PEM private key",
            ),
            (
                key("")
                    .replace(PRIVATE_KEY, "not-a-pem-SECRETKEYMATERIAL")
                    .into_bytes(),
                None,
                "\"private_key\" in {path} must be a PEM private key",
            ),
            (
                key("")
                    .replace(&format!("  \"private_key\": \"{PRIVATE_KEY}\",\n"), "")
                    .into_bytes(),
                None,
                "{path} has no \"private_key\" field; expected a GCP service-account key file",
            ),
            (
                key("").replace("\"file-project\",", "[],").into_bytes(),
                None,
                "\"project_id\" in {path} must be a non-empty string",
            ),
            (
                key("")
                    .replace("  \"project_id\": \"file-project\",\n", "")
                    .into_bytes(),
                None,
                "no GCP project: {path} has no \"project_id\" and no project was given; pass --project",
            ),
        ];
        let mut out: Vec<(GcpCredentialsError, String)> = cases
            .into_iter()
            .map(|(content, project, want)| {
                let (result, path, _dir) = load_text(&content, project);
                let err = result.expect_err(want);
                (err, want.replace("{path}", &path.display().to_string()))
            })
            .collect();
        let missing = PathBuf::from("/nonexistent/key.json");
        out.push((
            load(&missing, None, &Host::system()).expect_err("missing file"),
            "cannot read GCP service-account key /nonexistent/key.json: No such file or directory"
                .to_owned(),
        ));
        out
    }

    #[test]
    fn error_messages_are_golden() {
        for (err, want) in error_cases() {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn no_message_or_debug_output_contains_key_material() {
        let mut outputs: Vec<String> = error_cases()
            .into_iter()
            .flat_map(|(err, _)| [err.to_string(), format!("{err:?}")])
            .collect();
        let (result, _, _dir) = load_text(key("").as_bytes(), None);
        outputs.push(format!("{:?}", result.expect("valid key")));
        for output in &outputs {
            for secret in SECRETS {
                assert!(!output.contains(secret), "{output:?} leaks {secret}");
            }
        }
    }
}
