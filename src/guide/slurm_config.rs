//! The SSH config of Slurm login nodes (`~/.slurm/config`), for `slurmCredentials.config`.
//!
//! Chart 0.13.0 takes this config only as a value: from it the chart makes the Secret
//! `<release>-slurm-config`, whose one key `config` it mounts at `/root/.slurm`. No value names a
//! Secret of the user's own, so the text is in the values and the release record whatever
//! skyctl does. That is acceptable because an SSH config holds host names, users and the paths
//! of identity files, never a key or a password (ssh has no option for one). What is secret is
//! the identity files it names: they are not copied, and a file that holds a private key itself
//! is refused, so that a wrong `--from-file` never puts a key into the values.

use std::path::{Path, PathBuf};

use super::host::Host;

/// Where SkyPilot reads the config, below the home directory.
const DEFAULT_FILE: &str = ".slurm/config";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlurmConfigError {
    #[error("cannot read the Slurm config {path}: {reason}{hint}")]
    Unreadable {
        path: PathBuf,
        reason: String,
        hint: &'static str,
    },
    #[error("the Slurm config {path} has no `Host` entry: SkyPilot finds the login nodes by them")]
    NoHost { path: PathBuf },
    #[error(
        "{path} holds a private key, not an SSH config: it would be stored in the release's \
         values; name the Slurm config with --from-file"
    )]
    HoldsKey { path: PathBuf },
    #[error("no home directory to find ~/{DEFAULT_FILE} in; name the file with --from-file")]
    NoHome,
}

/// A Slurm config ready to go into the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmConfig {
    pub text: String,
    pub path: PathBuf,
    /// The `Host` patterns, as the checklist names them.
    pub hosts: Vec<String>,
    /// The `IdentityFile`s it names, which the API server must find in its own home.
    pub identity_files: Vec<String>,
}

/// Reads the config SkyPilot reads, or the file `from_file` names.
pub fn read(from_file: Option<&Path>, host: &Host<'_>) -> Result<SlurmConfig, SlurmConfigError> {
    let (path, hint) = match from_file {
        Some(path) => (path.to_owned(), ""),
        None => (
            host.home
                .as_ref()
                .ok_or(SlurmConfigError::NoHome)?
                .join(DEFAULT_FILE),
            " (--from-file names another file)",
        ),
    };
    let unreadable = |reason: String| SlurmConfigError::Unreadable {
        path: path.clone(),
        reason,
        hint,
    };
    let bytes = (host.read_file)(&path)
        .map_err(|err| unreadable(super::host::unreadable_because(err.kind())))?;
    let text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))?;
    if text.contains("PRIVATE KEY-----") {
        return Err(SlurmConfigError::HoldsKey { path });
    }
    let hosts = option_values(&text, "host");
    if hosts.is_empty() {
        return Err(SlurmConfigError::NoHost { path });
    }
    let identity_files = option_values(&text, "identityfile");
    Ok(SlurmConfig {
        text,
        path,
        hosts,
        identity_files,
    })
}

/// The values of an SSH config option, as ssh reads a line: keyword, then blanks or one `=`,
/// then the value; keywords are case-insensitive and `#` starts a comment line.
fn option_values(text: &str, keyword: &str) -> Vec<String> {
    let mut values = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        let split = line
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(line.len());
        let (key, rest) = line.split_at(split);
        if !key.eq_ignore_ascii_case(keyword) {
            continue;
        }
        let value = rest
            .trim_start()
            .strip_prefix('=')
            .unwrap_or(rest)
            .trim()
            .trim_matches('"');
        if !value.is_empty() && !values.iter().any(|v| v == value) {
            values.push(value.to_owned());
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_with(
        files: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&Path) -> std::io::Result<Vec<u8>> {
        move |path: &Path| {
            files
                .iter()
                .find(|(p, _)| Path::new(p) == path)
                .map(|(_, text)| text.as_bytes().to_vec())
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        }
    }

    #[test]
    fn reads_hosts_and_identity_files_as_ssh_does() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "Host a\n  HostName login.a\n  IdentityFile ~/.ssh/id_rsa\n",
                &["a"],
                &["~/.ssh/id_rsa"],
            ),
            (
                "# Host commented\nhost=b c\n  identityfile=\"/keys/k b\"\nHost d\n  IdentityFile /keys/k b\n",
                &["b c", "d"],
                &["/keys/k b"],
            ),
            ("Host x\n  User me\n", &["x"], &[]),
        ];
        for (text, hosts, identity_files) in cases {
            assert_eq!(option_values(text, "host"), *hosts, "{text}");
            assert_eq!(
                option_values(text, "identityfile"),
                *identity_files,
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_would_put_a_key_or_nothing_into_the_values() {
        let env = |_: &str| None;
        let files = host_with(&[
            ("/h/.slurm/config", "Host a\n  IdentityFile ~/.ssh/id_rsa\n"),
            ("/h/key", "-----BEGIN OPENSSH PRIVATE KEY-----\nxyz\n"),
            ("/h/empty", "# nothing\n"),
        ]);
        let host = Host {
            env: &env,
            home: Some("/h".into()),
            read_file: &files,
        };
        let found = read(None, &host).unwrap();
        assert_eq!(found.hosts, ["a"]);
        assert_eq!(found.path, Path::new("/h/.slurm/config"));
        let cases: &[(&str, &str)] = &[
            ("/h/key", "/h/key holds a private key"),
            ("/h/empty", "the Slurm config /h/empty has no `Host` entry"),
            (
                "/h/absent",
                "cannot read the Slurm config /h/absent: No such file or directory",
            ),
        ];
        for (file, message) in cases {
            let err = read(Some(Path::new(file)), &host).unwrap_err().to_string();
            assert!(err.starts_with(message), "{file}: {err}");
            assert!(!err.contains("xyz"), "{err}");
        }
        let homeless = Host { home: None, ..host };
        assert_eq!(read(None, &homeless), Err(SlurmConfigError::NoHome));
    }
}
