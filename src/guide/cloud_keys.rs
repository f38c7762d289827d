//! The credentials of the clouds whose CLIs keep them in one file or two: RunPod, Lambda,
//! Vast, DigitalOcean, Nebius, Cloudflare R2 and CoreWeave. Each is read where that CLI writes
//! it (a flag names another file) and turned into the Secret keys the chart's init containers
//! and mounts read. Contents never appear in messages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::host::Host;
use crate::credentials::Kind;

/// The Secret key under which the chart reads an API key (`RUNPOD_API_KEY` and its kin come
/// from it).
pub const API_KEY: &str = "api_key";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CloudKeyError {
    #[error("cannot read {what} from {path}: {reason}{hint}")]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        reason: String,
        hint: String,
    },
    #[error("{path} holds no {what}{hint}")]
    Missing {
        what: &'static str,
        path: PathBuf,
        hint: String,
    },
    #[error("no home directory to find {relative} in; name it with {flag}")]
    NoHome {
        relative: &'static str,
        flag: &'static str,
    },
}

/// The flag that names the files to read instead of the CLI's own, and what it names:
/// CoreWeave's are a directory.
fn from_flag(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Coreweave => ("--from-dir", "directory"),
        _ => ("--from-file", "file"),
    }
}

/// What the command line adds to the files.
#[derive(Debug, Clone, Default)]
pub struct CloudRequest {
    /// The file (for CoreWeave: the directory) to read instead of the CLI's own.
    pub from_file: Option<PathBuf>,
    /// Nebius: the tenant; else `~/.nebius/NEBIUS_TENANT_ID.txt`.
    pub tenant_id: Option<String>,
    /// R2: the Cloudflare account; else `~/.cloudflare/accountid`.
    pub account_id: Option<String>,
}

/// Credentials ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudCredentials {
    pub data: BTreeMap<String, String>,
    /// Where they were found, for the checklist; never their contents.
    pub from: String,
    pub tenant_id: Option<String>,
}

/// Where each CLI keeps its credentials, below the home directory, and how to name them.
fn default_file(kind: Kind) -> (&'static str, &'static str, &'static str) {
    match kind {
        Kind::Runpod => (".runpod/config.toml", "RunPod API key", "`runpod config`"),
        Kind::Lambda => (
            ".lambda_cloud/lambda_keys",
            "Lambda API key",
            "Lambda's dashboard",
        ),
        Kind::Vast => (
            ".config/vastai/vast_api_key",
            "Vast API key",
            "`vastai set api-key`",
        ),
        Kind::Digitalocean => (
            ".config/doctl/config.yaml",
            "DigitalOcean token",
            "`doctl auth init`",
        ),
        Kind::Nebius => (
            ".nebius/credentials.json",
            "Nebius service account credentials",
            "Nebius' console",
        ),
        Kind::R2 => (
            ".cloudflare/r2.credentials",
            "R2 credentials",
            "`aws configure --profile r2`",
        ),
        Kind::Coreweave => (".coreweave", "CoreWeave credentials", "CoreWeave's console"),
        Kind::Aws | Kind::Gcp | Kind::Kube | Kind::Db | Kind::Ssh | Kind::Slurm => {
            unreachable!("read by their own modules")
        }
    }
}

/// Reads the credentials of `kind` from its CLI's files, or from the file the request names.
pub fn read(
    kind: Kind,
    request: &CloudRequest,
    host: &Host<'_>,
) -> Result<CloudCredentials, CloudKeyError> {
    let (relative, what, made_by) = default_file(kind);
    let path = match &request.from_file {
        Some(path) => path.clone(),
        None => host
            .home
            .as_ref()
            .ok_or(CloudKeyError::NoHome {
                relative,
                flag: from_flag(kind).0,
            })?
            .join(relative),
    };
    let hint = if request.from_file.is_some() {
        String::new()
    } else {
        let (flag, names) = from_flag(kind);
        format!(" ({made_by} writes it; {flag} names another {names})")
    };
    let read_text = |path: &Path, what: &'static str| -> Result<String, CloudKeyError> {
        let bytes = (host.read_file)(path).map_err(|err| CloudKeyError::Unreadable {
            what,
            path: path.to_owned(),
            reason: super::host::unreadable_because(err.kind()),
            hint: hint.clone(),
        })?;
        String::from_utf8(bytes).map_err(|_| CloudKeyError::Unreadable {
            what,
            path: path.to_owned(),
            reason: "not UTF-8 text".into(),
            hint: hint.clone(),
        })
    };
    let missing = |path: &Path| CloudKeyError::Missing {
        what,
        path: path.to_owned(),
        hint: hint.clone(),
    };
    let mut data = BTreeMap::new();
    let mut tenant_id = None;
    match kind {
        Kind::Runpod => {
            let text = read_text(&path, what)?;
            let key = runpod_key(&text).ok_or_else(|| missing(&path))?;
            data.insert(API_KEY.to_owned(), key);
        }
        Kind::Lambda => {
            let text = read_text(&path, what)?;
            let key = lambda_key(&text).ok_or_else(|| missing(&path))?;
            data.insert(API_KEY.to_owned(), key);
        }
        Kind::Vast => {
            let key = read_text(&path, what)?.trim().to_owned();
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(missing(&path));
            }
            data.insert(API_KEY.to_owned(), key);
        }
        Kind::Digitalocean => {
            let text = read_text(&path, what)?;
            let token = doctl_token(&text).ok_or_else(|| missing(&path))?;
            data.insert(API_KEY.to_owned(), token);
        }
        Kind::Nebius => {
            let text = read_text(&path, what)?;
            if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text).is_err() {
                return Err(CloudKeyError::Unreadable {
                    what,
                    path: path.clone(),
                    reason: "not a JSON object".into(),
                    hint: hint.clone(),
                });
            }
            // The chart links every key of the Secret into ~/.nebius and creates its profile
            // from credentials.json.
            data.insert("credentials.json".to_owned(), text);
            let tenant = match &request.tenant_id {
                Some(tenant) => tenant.trim().to_owned(),
                None => {
                    let file = path.with_file_name("NEBIUS_TENANT_ID.txt");
                    read_text(&file, "Nebius tenant ID")
                        .map_err(|_| CloudKeyError::Missing {
                            what: "Nebius tenant ID",
                            path: file.clone(),
                            hint: " (pass --tenant-id)".into(),
                        })?
                        .trim()
                        .to_owned()
                }
            };
            if tenant.is_empty() {
                return Err(CloudKeyError::Missing {
                    what: "Nebius tenant ID",
                    path: path.with_file_name("NEBIUS_TENANT_ID.txt"),
                    hint: " (pass --tenant-id)".into(),
                });
            }
            tenant_id = Some(tenant);
        }
        Kind::R2 => {
            let text = read_text(&path, what)?;
            if !text.contains("aws_access_key_id") {
                return Err(missing(&path));
            }
            data.insert("r2.credentials".to_owned(), text);
            let account = match &request.account_id {
                Some(account) => account.trim().to_owned(),
                None => {
                    let file = path.with_file_name("accountid");
                    read_text(&file, "Cloudflare account ID")
                        .map_err(|_| CloudKeyError::Missing {
                            what: "Cloudflare account ID",
                            path: file,
                            hint: " (pass --account-id)".into(),
                        })?
                        .trim()
                        .to_owned()
                }
            };
            data.insert("accountid".to_owned(), account);
        }
        Kind::Coreweave => {
            // The chart copies every key of the Secret into ~/.coreweave; these are the files
            // SkyPilot reads there.
            for file in ["cw.config", "cw.credentials"] {
                let text = read_text(&path.join(file), what)?;
                data.insert(file.to_owned(), text);
            }
        }
        Kind::Aws | Kind::Gcp | Kind::Kube | Kind::Db | Kind::Ssh | Kind::Slurm => {
            unreachable!("read by their own modules")
        }
    }
    Ok(CloudCredentials {
        data,
        from: format!("{what} from {}", path.display()),
        tenant_id,
    })
}

/// `api_key` of the `[default]` profile in RunPod's `config.toml`, or at the top.
fn runpod_key(text: &str) -> Option<String> {
    let table: toml::Table = text.parse().ok()?;
    let key = table
        .get("default")
        .and_then(|profile| profile.get("api_key"))
        .or_else(|| table.get("api_key"))?
        .as_str()?
        .trim()
        .to_owned();
    (!key.is_empty()).then_some(key)
}

/// `api_key = …` in Lambda's `lambda_keys`, an INI file without sections.
fn lambda_key(text: &str) -> Option<String> {
    let mut ini = configparser::ini::Ini::new();
    ini.read(text.to_owned()).ok()?;
    ini.get("default", "api_key").filter(|key| !key.is_empty())
}

/// doctl's `access-token` (its default context).
fn doctl_token(text: &str) -> Option<String> {
    let config: serde_json::Value = serde_yaml_ng::from_str(text).ok()?;
    let token = config.get("access-token")?.as_str()?.trim().to_owned();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    const SECRET: &str = "sEcReT-key-123";

    fn host_with<'a>(read: &'a dyn Fn(&Path) -> io::Result<Vec<u8>>) -> Host<'a> {
        Host {
            env: &|_| None,
            home: Some(PathBuf::from("/home/u")),
            read_file: read,
        }
    }

    fn read_with(
        kind: Kind,
        files: &[(&str, &str)],
        request: CloudRequest,
    ) -> Result<CloudCredentials, CloudKeyError> {
        let files: BTreeMap<PathBuf, &str> =
            files.iter().map(|(p, t)| (PathBuf::from(p), *t)).collect();
        let reader = |path: &Path| {
            files
                .get(path)
                .map(|text| text.as_bytes().to_vec())
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        };
        read(kind, &request, &host_with(&reader))
    }

    #[test]
    fn each_cloud_is_read_where_its_cli_writes_it_into_the_keys_the_chart_reads() {
        // The kind, its files, the Secret data expected, the tenant expected.
        type Case<'a> = (
            Kind,
            Vec<(&'a str, String)>,
            Vec<(&'a str, String)>,
            Option<&'a str>,
        );
        let cases: Vec<Case> = vec![
            (
                Kind::Runpod,
                vec![(
                    "/home/u/.runpod/config.toml",
                    format!("[default]\napi_key = \"{SECRET}\"\n"),
                )],
                vec![("api_key", SECRET.into())],
                None,
            ),
            (
                Kind::Lambda,
                vec![(
                    "/home/u/.lambda_cloud/lambda_keys",
                    format!("api_key = {SECRET}\n"),
                )],
                vec![("api_key", SECRET.into())],
                None,
            ),
            (
                Kind::Vast,
                vec![("/home/u/.config/vastai/vast_api_key", format!("{SECRET}\n"))],
                vec![("api_key", SECRET.into())],
                None,
            ),
            (
                Kind::Digitalocean,
                vec![(
                    "/home/u/.config/doctl/config.yaml",
                    format!("access-token: {SECRET}\ncontext: default\n"),
                )],
                vec![("api_key", SECRET.into())],
                None,
            ),
            (
                Kind::Nebius,
                vec![
                    (
                        "/home/u/.nebius/credentials.json",
                        format!("{{\"subject-credentials\": {{\"private-key\": \"{SECRET}\"}}}}"),
                    ),
                    (
                        "/home/u/.nebius/NEBIUS_TENANT_ID.txt",
                        "tenant-e00abc\n".into(),
                    ),
                ],
                vec![(
                    "credentials.json",
                    format!("{{\"subject-credentials\": {{\"private-key\": \"{SECRET}\"}}}}"),
                )],
                Some("tenant-e00abc"),
            ),
            (
                Kind::R2,
                vec![
                    (
                        "/home/u/.cloudflare/r2.credentials",
                        format!("[r2]\naws_access_key_id = a\naws_secret_access_key = {SECRET}\n"),
                    ),
                    ("/home/u/.cloudflare/accountid", "acc123\n".into()),
                ],
                vec![
                    ("accountid", "acc123".into()),
                    (
                        "r2.credentials",
                        format!("[r2]\naws_access_key_id = a\naws_secret_access_key = {SECRET}\n"),
                    ),
                ],
                None,
            ),
            (
                Kind::Coreweave,
                vec![
                    (
                        "/home/u/.coreweave/cw.config",
                        "[default]\nendpoint_url = https://x\n".into(),
                    ),
                    (
                        "/home/u/.coreweave/cw.credentials",
                        format!("[cw]\naws_secret_access_key = {SECRET}\n"),
                    ),
                ],
                vec![
                    ("cw.config", "[default]\nendpoint_url = https://x\n".into()),
                    (
                        "cw.credentials",
                        format!("[cw]\naws_secret_access_key = {SECRET}\n"),
                    ),
                ],
                None,
            ),
        ];
        for (kind, files, want, tenant) in cases {
            let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
            let found = read_with(kind, &files, CloudRequest::default())
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            let want: BTreeMap<String, String> =
                want.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            assert_eq!(found.data, want, "{kind:?}");
            assert_eq!(found.tenant_id.as_deref(), tenant, "{kind:?}");
            assert!(!found.from.contains(SECRET), "{kind:?}: {}", found.from);
        }
    }

    #[test]
    fn a_named_file_and_flags_replace_the_clis_own() {
        let found = read_with(
            Kind::Vast,
            &[("/elsewhere/key", "k2\n")],
            CloudRequest {
                from_file: Some("/elsewhere/key".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(found.data["api_key"], "k2");
        let found = read_with(
            Kind::Nebius,
            &[("/home/u/.nebius/credentials.json", "{}")],
            CloudRequest {
                tenant_id: Some("t-1".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(found.tenant_id.as_deref(), Some("t-1"));
        let found = read_with(
            Kind::R2,
            &[(
                "/home/u/.cloudflare/r2.credentials",
                "aws_access_key_id = a\n",
            )],
            CloudRequest {
                account_id: Some("acc".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(found.data["accountid"], "acc");
    }

    #[test]
    fn missing_or_malformed_files_are_named_without_their_contents() {
        for (kind, files, message) in [
            (
                Kind::Runpod,
                vec![],
                "cannot read RunPod API key from /home/u/.runpod/config.toml: No such file or directory (`runpod config` writes it",
            ),
            (
                Kind::Runpod,
                vec![(
                    "/home/u/.runpod/config.toml",
                    "[default]\nother = \"sEcReT\"\n",
                )],
                "/home/u/.runpod/config.toml holds no RunPod API key",
            ),
            // CoreWeave's files are named by a directory: the hint names the flag that takes it.
            (
                Kind::Coreweave,
                vec![],
                "--from-dir names another directory",
            ),
            (
                Kind::Runpod,
                vec![("/home/u/.runpod/config.toml", "not toml = = sEcReT")],
                "holds no RunPod API key",
            ),
            (
                Kind::Lambda,
                vec![("/home/u/.lambda_cloud/lambda_keys", "key = sEcReT\n")],
                "holds no Lambda API key",
            ),
            (
                Kind::Vast,
                vec![("/home/u/.config/vastai/vast_api_key", "  \n")],
                "holds no Vast API key",
            ),
            (
                Kind::Vast,
                vec![("/home/u/.config/vastai/vast_api_key", "sEcReT two\n")],
                "holds no Vast API key",
            ),
            (
                Kind::Digitalocean,
                vec![("/home/u/.config/doctl/config.yaml", "context: x\n")],
                "holds no DigitalOcean token",
            ),
            (
                Kind::Nebius,
                vec![("/home/u/.nebius/credentials.json", "sEcReT")],
                "not a JSON object",
            ),
            (
                Kind::Nebius,
                vec![("/home/u/.nebius/credentials.json", "{}")],
                "pass --tenant-id",
            ),
            (
                Kind::R2,
                vec![(
                    "/home/u/.cloudflare/r2.credentials",
                    "aws_access_key_id = a\n",
                )],
                "pass --account-id",
            ),
            (
                Kind::R2,
                vec![("/home/u/.cloudflare/r2.credentials", "sEcReT\n")],
                "holds no R2 credentials",
            ),
            (
                Kind::Coreweave,
                vec![("/home/u/.coreweave/cw.config", "x")],
                "/home/u/.coreweave/cw.credentials",
            ),
        ] {
            let err = read_with(kind, &files, CloudRequest::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{kind:?}: {err}");
            assert!(!err.contains("sEcReT"), "{kind:?}: {err}");
        }
    }
}
