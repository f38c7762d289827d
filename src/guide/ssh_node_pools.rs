//! SSH node pools (`~/.sky/ssh_node_pools.yaml`, SkyPilot's format) with the private keys they
//! name, for `apiService.sshNodePools` and `apiService.sshKeySecret`.
//!
//! The two halves go different ways, because chart 0.13.0 gives them different homes:
//! - The pools file is a value: the chart makes the Secret `<release>-ssh-node-pools` from it
//!   and no value names a Secret of the user's own. So it is in the values and the release
//!   record. It holds host names, users and key paths, which are not secret; the one field of
//!   the format that is, a host's or pool's `password`, is refused rather than recorded.
//! - The keys are secret, so they go only into a Secret of skyctl's own, which
//!   `apiService.sshKeySecret` names. The chart mounts it at `/var/skypilot/ssh_keys` and links
//!   each key, by its name, into `/root/.ssh/`. So a key's Secret key is its file name, and
//!   every `identity_file` is rewritten to `~/.ssh/<that name>`, where the API server finds it
//!   whatever path it had on this machine. Two different files of the same name are refused:
//!   one would shadow the other in `/root/.ssh`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::host::Host;

/// Where SkyPilot reads the pools, below the home directory.
const DEFAULT_FILE: &str = ".sky/ssh_node_pools.yaml";
const IDENTITY_FILE: &str = "identity_file";
const PASSWORD: &str = "password";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SshPoolsError {
    #[error("cannot read {what} {path}: {reason}{hint}")]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        reason: String,
        hint: &'static str,
    },
    #[error("{path} is not SkyPilot's SSH node pools file: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error(
        "{path}: pool {pool} has a `password`, which would be stored in the release's values; \
         log in with an identity_file instead"
    )]
    Password { path: PathBuf, pool: String },
    #[error(
        "{path}: no pool has an identity_file, so the API server would have no key to log in \
         with"
    )]
    NoKey { path: PathBuf },
    #[error(
        "{path}: identity files {first} and {second} have the same name, and the API server \
         finds keys in ~/.ssh by name; rename one"
    )]
    SameName {
        path: PathBuf,
        first: String,
        second: String,
    },
    #[error(
        "{path}: identity file {file} has a name a Secret key cannot have (letters, digits, \
         `-`, `_` and `.` only)"
    )]
    BadName { path: PathBuf, file: String },
    #[error("{file} (an identity_file of {path}) holds no private key")]
    NotAKey { path: PathBuf, file: String },
    #[error("no home directory to find ~/{DEFAULT_FILE} in; name the file with --from-file")]
    NoHome,
}

/// Node pools ready to store: the pools text for the values, the keys for the Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePools {
    /// The pools file with every `identity_file` pointing into the API server's `~/.ssh`.
    pub pools_yaml: String,
    /// Secret key (the file name) to the private key.
    pub keys: BTreeMap<String, String>,
    pub path: PathBuf,
    pub pool_names: Vec<String>,
}

/// Reads the pools SkyPilot reads, or the file `from_file` names, and the keys they name.
pub fn read(from_file: Option<&Path>, host: &Host<'_>) -> Result<NodePools, SshPoolsError> {
    let (path, hint) = match from_file {
        Some(path) => (path.to_owned(), ""),
        None => (
            host.home
                .as_ref()
                .ok_or(SshPoolsError::NoHome)?
                .join(DEFAULT_FILE),
            " (--from-file names another file)",
        ),
    };
    let read_text = |file: &Path, what: &'static str, hint: &'static str| {
        let unreadable = |reason: String| SshPoolsError::Unreadable {
            what,
            path: file.to_owned(),
            reason,
            hint,
        };
        let bytes = (host.read_file)(file)
            .map_err(|err| unreadable(super::host::unreadable_because(err.kind())))?;
        String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))
    };
    let text = read_text(&path, "SSH node pools", hint)?;
    let malformed = |reason: String| SshPoolsError::Malformed {
        path: path.clone(),
        reason,
    };
    let mut pools: Value = serde_yaml_ng::from_str(&text).map_err(|e| malformed(e.to_string()))?;
    let mapping = pools
        .as_mapping_mut()
        .ok_or_else(|| malformed("it is not a mapping of pool names".into()))?;
    let mut pool_names = Vec::new();
    // File name to the path it was read from, which decides whether two names clash.
    let mut named: BTreeMap<String, (String, PathBuf)> = BTreeMap::new();
    for (name, pool) in mapping.iter_mut() {
        let name = name
            .as_str()
            .ok_or_else(|| malformed("a pool name is not a string".into()))?
            .to_owned();
        let hosts = pool
            .get("hosts")
            .and_then(Value::as_sequence)
            .ok_or_else(|| malformed(format!("pool {name} has no list of hosts")))?
            .len();
        // Each host, then the pool: both may name a key.
        for index in (0..=hosts).rev() {
            let entry = match index == hosts {
                true => &mut *pool,
                false => &mut pool["hosts"][index],
            };
            if !entry.is_mapping() {
                continue;
            }
            if entry.get(PASSWORD).is_some() {
                return Err(SshPoolsError::Password {
                    path: path.clone(),
                    pool: name.clone(),
                });
            }
            let Some(file) = entry.get(IDENTITY_FILE).and_then(Value::as_str) else {
                continue;
            };
            let local = expand_home(file, host);
            let key_name = key_name(&local).ok_or_else(|| SshPoolsError::BadName {
                path: path.clone(),
                file: file.to_owned(),
            })?;
            match named.get(&key_name) {
                Some((first, read_from)) if *read_from != local => {
                    return Err(SshPoolsError::SameName {
                        path: path.clone(),
                        first: first.clone(),
                        second: file.to_owned(),
                    });
                }
                Some(_) => {}
                None => {
                    named.insert(key_name.clone(), (file.to_owned(), local));
                }
            }
            entry[IDENTITY_FILE] = Value::String(format!("~/.ssh/{key_name}"));
        }
        pool_names.push(name);
    }
    if named.is_empty() {
        return Err(SshPoolsError::NoKey { path });
    }
    let mut keys = BTreeMap::new();
    for (key_name, (file, local)) in named {
        let key = read_text(&local, "identity file", "")?;
        if !key.contains("PRIVATE KEY-----") {
            return Err(SshPoolsError::NotAKey {
                path: path.clone(),
                file,
            });
        }
        keys.insert(key_name, key);
    }
    let pools_yaml = serde_yaml_ng::to_string(&pools).map_err(|e| malformed(e.to_string()))?;
    Ok(NodePools {
        pools_yaml,
        keys,
        path,
        pool_names,
    })
}

/// `~/x` as SkyPilot's `os.path.expanduser` reads it on this machine.
fn expand_home(file: &str, host: &Host<'_>) -> PathBuf {
    match (file.strip_prefix("~/"), &host.home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(file),
    }
}

/// The file's name, when a Secret may have it as a key.
fn key_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let valid = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name != "."
        && name != "..";
    valid.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "-----BEGIN OPENSSH PRIVATE KEY-----\nk3y\n-----END OPENSSH PRIVATE KEY-----\n";

    fn read_pools(pools: &'static str) -> Result<NodePools, SshPoolsError> {
        let env = |_: &str| None;
        let files = move |path: &Path| match path.to_str().unwrap() {
            "/h/.sky/ssh_node_pools.yaml" => Ok(pools.as_bytes().to_vec()),
            "/h/.ssh/id_rsa" | "/keys/gpu.pem" | "/other/id_rsa" => Ok(KEY.as_bytes().to_vec()),
            "/h/.ssh/id_rsa.pub" => Ok(b"ssh-rsa AAAA me@host\n".to_vec()),
            _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
        };
        let host = Host {
            env: &env,
            home: Some("/h".into()),
            read_file: &files,
        };
        read(None, &host)
    }

    #[test]
    fn identity_files_become_keys_named_as_the_api_server_finds_them() {
        let pools = read_pools(
            "# my pools\nlab:\n  user: ubuntu\n  identity_file: ~/.ssh/id_rsa\n  hosts:\n    - 10.0.0.1\n    - ip: 10.0.0.2\n      identity_file: /keys/gpu.pem\nbox:\n  hosts: [box1]\n  identity_file: ~/.ssh/id_rsa\n",
        )
        .unwrap();
        assert_eq!(pools.pool_names, ["lab", "box"]);
        assert_eq!(pools.keys.keys().collect::<Vec<_>>(), ["gpu.pem", "id_rsa"]);
        assert!(pools.keys.values().all(|k| k == KEY));
        let rewritten: serde_json::Value = serde_yaml_ng::from_str(&pools.pools_yaml).unwrap();
        assert_eq!(
            rewritten,
            serde_json::json!({
                "lab": {"user": "ubuntu", "identity_file": "~/.ssh/id_rsa",
                        "hosts": ["10.0.0.1", {"ip": "10.0.0.2", "identity_file": "~/.ssh/gpu.pem"}]},
                "box": {"hosts": ["box1"], "identity_file": "~/.ssh/id_rsa"},
            })
        );
        assert!(!pools.pools_yaml.contains("k3y"));
    }

    #[test]
    fn refuses_what_the_api_server_could_not_use_or_the_values_must_not_hold() {
        let cases: &[(&'static str, &str)] = &[
            (
                "lab:\n  hosts: [a]\n  identity_file: ~/.ssh/id_rsa\n  password: hunter2\n",
                "pool lab has a `password`",
            ),
            (
                "lab:\n  hosts:\n    - ip: a\n      password: hunter2\n      identity_file: ~/.ssh/id_rsa\n",
                "pool lab has a `password`",
            ),
            ("lab:\n  hosts: [a]\n", "no pool has an identity_file"),
            (
                "a:\n  hosts: [a]\n  identity_file: ~/.ssh/id_rsa\nb:\n  hosts: [b]\n  identity_file: /other/id_rsa\n",
                "identity files ~/.ssh/id_rsa and /other/id_rsa have the same name",
            ),
            (
                "lab:\n  hosts: [a]\n  identity_file: ~/.ssh/id_rsa.pub\n",
                "~/.ssh/id_rsa.pub (an identity_file of /h/.sky/ssh_node_pools.yaml) holds no private key",
            ),
            (
                "lab:\n  hosts: [a]\n  identity_file: ~/.ssh/absent\n",
                "cannot read identity file /h/.ssh/absent: No such file or directory",
            ),
            (
                "lab:\n  hosts: [a]\n  identity_file: \"~/.ssh/my key\"\n",
                "identity file ~/.ssh/my key has a name a Secret key cannot have",
            ),
            ("- a\n", "is not a mapping of pool names"),
            ("lab:\n  user: me\n", "pool lab has no list of hosts"),
        ];
        for (pools, message) in cases {
            let err = read_pools(pools).unwrap_err().to_string();
            assert!(err.contains(message), "{pools}: {err}");
            assert!(!err.contains("hunter2") && !err.contains("k3y"), "{err}");
        }
    }
}
