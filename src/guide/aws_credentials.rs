//! AWS keys for the `aws-credentials` Secret, found the way the AWS CLI finds them.
//!
//! Precedence is the AWS CLI's, so that skyctl deploys the keys `aws sts get-caller-identity`
//! would use in the same shell:
//! 1. a profile named explicitly (`--profile`) is read from the shared credentials file and the
//!    environment is ignored;
//! 2. otherwise `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` win;
//! 3. otherwise the file's `$AWS_PROFILE` profile, else `default`.
//!
//! When the secret key arrives on a reader (`--secret-access-key-stdin`), only the key id is
//! looked up: an explicit key id argument first, then the same order as above.
//!
//! Only long-lived static keys are accepted: the Secret the chart mounts has no session token,
//! and nothing in the pod can run SSO, `credential_process` or role assumption.
//!
//! Chart 0.13.0 can instead mount the Secret whole at `/root/.aws` (`useCredentialsFile`), for
//! workspaces that use profiles of their own: then [`read_files`] stores the shared credentials
//! file and the config file as they are, under the file names the AWS CLI reads there.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::host::Host;
use crate::redacted::Redacted;

/// Name of the Secret the chart's pods read AWS keys from.
pub const SECRET_NAME: &str = "aws-credentials";
/// Secret key (and credentials-file key) holding the access key id.
pub const ACCESS_KEY_ID: &str = "aws_access_key_id";
/// Secret key (and credentials-file key) holding the secret access key.
pub const SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
const SESSION_TOKEN: &str = "aws_session_token";

const ENV_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
const ENV_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
const ENV_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
const ENV_PROFILE: &str = "AWS_PROFILE";
const ENV_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
const ENV_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
/// The Secret's keys when it is mounted whole at `/root/.aws`: the files the AWS CLI reads.
pub const CREDENTIALS_FILE: &str = "credentials";
pub const CONFIG_FILE: &str = "config";
const DEFAULT_PROFILE: &str = "default";
// AWS issues temporary (STS) key ids with this prefix; they are useless without a session token.
const TEMPORARY_KEY_ID_PREFIX: &str = "ASIA";

/// What the user asked for on the command line.
#[derive(Default)]
pub struct AwsRequest<'r> {
    /// A profile named explicitly: read from the credentials file, ignoring the environment.
    pub profile: Option<String>,
    /// An access key id given as an argument; only meaningful with `secret_reader`, and then it
    /// wins over `profile` and the environment.
    pub access_key_id: Option<String>,
    /// The secret access key as a stream (standard input); its whole content, trimmed.
    pub secret_reader: Option<&'r mut dyn Read>,
}

/// Where one of the two values came from; safe to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The access key id argument.
    Argument,
    /// An environment variable.
    Environment(&'static str),
    /// A profile of the shared credentials file.
    File {
        /// The credentials file.
        path: PathBuf,
        /// The profile (section) name.
        profile: String,
    },
    /// The secret reader (standard input).
    Reader,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Argument => f.write_str("the access key id argument"),
            Origin::Environment(name) => write!(f, "environment variable {name}"),
            Origin::File { path, profile } => {
                write!(f, "profile \"{profile}\" in {}", path.display())
            }
            Origin::Reader => f.write_str("standard input"),
        }
    }
}

/// Why a profile of the credentials file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileFrom {
    /// The profile argument named it.
    Argument,
    /// `AWS_PROFILE` named it.
    AwsProfile,
    /// Nothing named one, so `default`.
    Default,
}

impl fmt::Display for ProfileFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileFrom::Argument => "named by the profile argument",
            ProfileFrom::AwsProfile => "named by AWS_PROFILE",
            ProfileFrom::Default => "the default, as AWS_PROFILE is not set",
        })
    }
}

/// A resolved key pair. Its `Debug` never shows the keys.
#[derive(Debug)]
pub struct AwsCredentials {
    access_key_id: Redacted<String>,
    secret_access_key: Redacted<String>,
    /// Where the access key id came from.
    pub access_key_id_origin: Origin,
    /// Where the secret access key came from.
    pub secret_access_key_origin: Origin,
}

/// The Secret keys the chart reads the pair from (`accessKeyIdKeyName`,
/// `secretAccessKeyKeyName`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyNames {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Default for KeyNames {
    fn default() -> Self {
        KeyNames {
            access_key_id: ACCESS_KEY_ID.to_owned(),
            secret_access_key: SECRET_ACCESS_KEY.to_owned(),
        }
    }
}

impl AwsCredentials {
    /// The Secret's data: exactly the two keys `names` gives.
    pub fn secret_data(&self, names: &KeyNames) -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                names.access_key_id.clone(),
                self.access_key_id.expose().clone(),
            ),
            (
                names.secret_access_key.clone(),
                self.secret_access_key.expose().clone(),
            ),
        ])
    }
}

/// The AWS CLI's own files, to mount whole. Its `Debug` never shows them.
#[derive(Debug)]
pub struct AwsFiles {
    data: Redacted<BTreeMap<String, String>>,
    /// The files read, for the checklist.
    pub paths: Vec<PathBuf>,
}

impl AwsFiles {
    /// The Secret's data: `credentials`, and `config` when there is one.
    pub fn secret_data(&self) -> BTreeMap<String, String> {
        self.data.expose().clone()
    }
}

/// Reads the shared credentials file (`$AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/credentials`), which must hold a profile with a static key pair, and the config file
/// (`$AWS_CONFIG_FILE`, else `~/.aws/config`) when it exists: a profile other than `default`
/// must be declared there too.
pub fn read_files(host: &Host<'_>) -> Result<AwsFiles, AwsCredentialsError> {
    let credentials = credentials_path(host)
        .ok_or(AwsCredentialsError::NoCredentialsFile { env_checked: false })?;
    let config = match host.var(ENV_CONFIG_FILE) {
        Some(path) => Some(expand_tilde(&path, host.home.as_deref())),
        None => host
            .home
            .as_ref()
            .map(|home| home.join(".aws").join("config")),
    };
    let mut data = BTreeMap::new();
    let mut paths = Vec::new();
    for (key, path, required) in [
        (CREDENTIALS_FILE, Some(credentials), true),
        (CONFIG_FILE, config, false),
    ] {
        let Some(path) = path else { continue };
        let bytes = match (host.read_file)(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound && !required => continue,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(AwsCredentialsError::NoFileToMount { path });
            }
            Err(err) => {
                return Err(AwsCredentialsError::FileUnreadable {
                    path,
                    kind: err.kind(),
                });
            }
        };
        let sections = parse_file(&path, &bytes)?;
        let has_pair = |section: &Section| {
            [ACCESS_KEY_ID, SECRET_ACCESS_KEY]
                .iter()
                .all(|key| section.keys.iter().any(|(name, _)| name == key))
        };
        if key == CREDENTIALS_FILE && !sections.iter().any(has_pair) {
            return Err(AwsCredentialsError::NoStaticProfile { path });
        }
        let text = String::from_utf8(bytes).expect("parse_ini accepted it as UTF-8");
        data.insert(key.to_owned(), text);
        paths.push(path);
    }
    Ok(AwsFiles {
        data: data.into(),
        paths,
    })
}

/// Why no usable key pair was found. Messages name places and variables, never key values.
#[derive(Debug, thiserror::Error)]
pub enum AwsCredentialsError {
    /// A key id argument came without a secret reader.
    #[error(
        "an AWS access key id was given without its secret access key; \
         pass the secret on standard input with --secret-access-key-stdin"
    )]
    KeyIdWithoutSecret,
    /// Only one of the two environment variables is set.
    #[error(
        "{set} is set but {unset} is not; set both, or unset {set} to use the shared credentials file"
    )]
    PartialEnvironment {
        /// The variable that is set.
        set: &'static str,
        /// The variable that is missing.
        unset: &'static str,
    },
    /// No credentials file location could be worked out.
    #[error(
        "no AWS credentials found: {env}AWS_SHARED_CREDENTIALS_FILE is not set and the home \
         directory is unknown",
        env = if *env_checked { "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, " } else { "" }
    )]
    NoCredentialsFile {
        /// Whether the environment variables were looked at (and were unset) first.
        env_checked: bool,
    },
    /// The credentials file does not exist.
    #[error(
        "no AWS credentials found: {path} does not exist (looked for profile \"{profile}\", \
         {from}){env}",
        path = path.display(),
        env = if *env_checked { "; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set either" } else { "" }
    )]
    FileNotFound {
        /// The file looked for.
        path: PathBuf,
        /// The profile wanted.
        profile: String,
        /// Why that profile.
        from: ProfileFrom,
        /// Whether the environment variables were looked at (and were unset) first.
        env_checked: bool,
    },
    /// The credentials file exists but cannot be read.
    #[error("cannot read AWS credentials file {path}: {reason}", path = path.display(), reason = super::host::unreadable_because(*kind))]
    FileUnreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        kind: io::ErrorKind,
    },
    /// The credentials file is not valid INI.
    #[error("AWS credentials file {path}, line {line}: {reason}", path = path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The wanted profile is not in the file.
    #[error(
        "AWS profile \"{profile}\" ({from}) is not in {path} (profiles there: {available}){env}. \
         skyctl reads static keys from this file only, not SSO, role or credential_process \
         profiles from ~/.aws/config",
        path = path.display(),
        available = if available.is_empty() { "none".to_owned() } else { available.join(", ") },
        env = if *env_checked { "; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set either" } else { "" }
    )]
    ProfileNotFound {
        /// The file.
        path: PathBuf,
        /// The profile wanted.
        profile: String,
        /// Why that profile.
        from: ProfileFrom,
        /// The profiles the file does have.
        available: Vec<String>,
        /// Whether the environment variables were looked at (and were unset) first.
        env_checked: bool,
    },
    /// The profile lacks a key.
    #[error("AWS profile \"{profile}\" in {path} has no {key}", path = path.display())]
    MissingKey {
        /// The file.
        path: PathBuf,
        /// The profile.
        profile: String,
        /// The missing key.
        key: &'static str,
    },
    /// The keys are STS session credentials.
    #[error(
        "the AWS keys from {origin} are temporary session credentials; the aws-credentials \
         Secret holds no session token and they would expire. Use an IAM user's long-lived \
         access key (name its profile explicitly if the environment holds session keys)"
    )]
    TemporaryCredentials {
        /// Where the access key id came from.
        origin: Origin,
    },
    /// A value is empty or has whitespace inside (often an inline comment in the file).
    #[error("the AWS {what} from {origin} is empty or contains whitespace")]
    InvalidValue {
        /// "access key id" or "secret access key".
        what: &'static str,
        /// Where it came from.
        origin: Origin,
    },
    /// `--use-credentials-file` without a credentials file.
    #[error(
        "no AWS credentials file at {path} to mount (set AWS_SHARED_CREDENTIALS_FILE to name \
         another)",
        path = path.display()
    )]
    NoFileToMount {
        /// The file looked for.
        path: PathBuf,
    },
    /// The credentials file has no profile the pod could use.
    #[error(
        "AWS credentials file {path} has no profile with aws_access_key_id and \
         aws_secret_access_key; the API server can use static keys only",
        path = path.display()
    )]
    NoStaticProfile {
        /// The file.
        path: PathBuf,
    },
    /// The secret reader failed.
    #[error("cannot read the AWS secret access key from standard input: {kind}")]
    SecretUnreadable {
        /// What went wrong.
        kind: io::ErrorKind,
    },
}

/// Finds the key pair to deploy; see the module docs for the precedence.
pub fn resolve(
    request: AwsRequest<'_>,
    host: &Host<'_>,
) -> Result<AwsCredentials, AwsCredentialsError> {
    let AwsRequest {
        profile,
        access_key_id,
        secret_reader,
    } = request;
    let (key_id, secret) = match secret_reader {
        Some(reader) => {
            let key_id = match (access_key_id, profile) {
                (Some(id), _) => Found::new(id, Origin::Argument, false),
                (None, Some(profile)) => {
                    let profile = ProfileLookup::read(host, profile, ProfileFrom::Argument, false)?;
                    profile.value(ACCESS_KEY_ID)?
                }
                (None, None) => match host.var(ENV_ACCESS_KEY_ID) {
                    Some(id) => Found::new(
                        id,
                        Origin::Environment(ENV_ACCESS_KEY_ID),
                        host.var(ENV_SESSION_TOKEN).is_some(),
                    ),
                    None => ProfileLookup::implicit(host, false)?.value(ACCESS_KEY_ID)?,
                },
            };
            (key_id, read_secret(reader)?)
        }
        None => {
            if access_key_id.is_some() {
                return Err(AwsCredentialsError::KeyIdWithoutSecret);
            }
            match profile {
                Some(profile) => {
                    ProfileLookup::read(host, profile, ProfileFrom::Argument, false)?.pair()?
                }
                None => from_environment(host)?,
            }
        }
    };
    check(key_id, secret)
}

/// One value with where it came from and whether a session token came with it.
struct Found {
    value: String,
    origin: Origin,
    temporary: bool,
}

impl Found {
    fn new(value: String, origin: Origin, temporary: bool) -> Self {
        Found {
            value,
            origin,
            temporary,
        }
    }
}

fn from_environment(host: &Host<'_>) -> Result<(Found, Found), AwsCredentialsError> {
    match (host.var(ENV_ACCESS_KEY_ID), host.var(ENV_SECRET_ACCESS_KEY)) {
        (Some(id), Some(secret)) => {
            let temporary = host.var(ENV_SESSION_TOKEN).is_some();
            Ok((
                Found::new(id, Origin::Environment(ENV_ACCESS_KEY_ID), temporary),
                Found::new(
                    secret,
                    Origin::Environment(ENV_SECRET_ACCESS_KEY),
                    temporary,
                ),
            ))
        }
        (Some(_), None) => Err(AwsCredentialsError::PartialEnvironment {
            set: ENV_ACCESS_KEY_ID,
            unset: ENV_SECRET_ACCESS_KEY,
        }),
        (None, Some(_)) => Err(AwsCredentialsError::PartialEnvironment {
            set: ENV_SECRET_ACCESS_KEY,
            unset: ENV_ACCESS_KEY_ID,
        }),
        (None, None) => ProfileLookup::implicit(host, true)?.pair(),
    }
}

fn read_secret(reader: &mut dyn Read) -> Result<Found, AwsCredentialsError> {
    let mut secret = String::new();
    reader
        .read_to_string(&mut secret)
        .map_err(|err| AwsCredentialsError::SecretUnreadable { kind: err.kind() })?;
    Ok(Found::new(secret.trim().to_owned(), Origin::Reader, false))
}

fn check(key_id: Found, secret: Found) -> Result<AwsCredentials, AwsCredentialsError> {
    for (what, found) in [("access key id", &key_id), ("secret access key", &secret)] {
        if found.value.is_empty() || found.value.contains(char::is_whitespace) {
            return Err(AwsCredentialsError::InvalidValue {
                what,
                origin: found.origin.clone(),
            });
        }
    }
    if key_id.temporary || key_id.value.starts_with(TEMPORARY_KEY_ID_PREFIX) {
        return Err(AwsCredentialsError::TemporaryCredentials {
            origin: key_id.origin,
        });
    }
    Ok(AwsCredentials {
        access_key_id: key_id.value.into(),
        secret_access_key: secret.value.into(),
        access_key_id_origin: key_id.origin,
        secret_access_key_origin: secret.origin,
    })
}

/// One profile read from the shared credentials file.
struct ProfileLookup {
    path: PathBuf,
    profile: String,
    keys: Vec<(String, String)>,
}

impl ProfileLookup {
    /// The profile the AWS CLI would pick when none is named: `$AWS_PROFILE`, else `default`.
    fn implicit(host: &Host<'_>, env_checked: bool) -> Result<Self, AwsCredentialsError> {
        match host.var(ENV_PROFILE) {
            Some(profile) => Self::read(host, profile, ProfileFrom::AwsProfile, env_checked),
            None => Self::read(
                host,
                DEFAULT_PROFILE.to_owned(),
                ProfileFrom::Default,
                env_checked,
            ),
        }
    }

    fn read(
        host: &Host<'_>,
        profile: String,
        from: ProfileFrom,
        env_checked: bool,
    ) -> Result<Self, AwsCredentialsError> {
        let path =
            credentials_path(host).ok_or(AwsCredentialsError::NoCredentialsFile { env_checked })?;
        let bytes = (host.read_file)(&path).map_err(|err| match err.kind() {
            io::ErrorKind::NotFound => AwsCredentialsError::FileNotFound {
                path: path.clone(),
                profile: profile.clone(),
                from,
                env_checked,
            },
            kind => AwsCredentialsError::FileUnreadable {
                path: path.clone(),
                kind,
            },
        })?;
        let sections = parse_file(&path, &bytes)?;
        let available: Vec<String> = sections.iter().map(|s| s.name.clone()).collect();
        let keys = sections
            .into_iter()
            .find(|section| section.name == profile)
            .map(|section| section.keys)
            .ok_or_else(|| AwsCredentialsError::ProfileNotFound {
                path: path.clone(),
                profile: profile.clone(),
                from,
                available,
                env_checked,
            })?;
        Ok(ProfileLookup {
            path,
            profile,
            keys,
        })
    }

    fn origin(&self) -> Origin {
        Origin::File {
            path: self.path.clone(),
            profile: self.profile.clone(),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    fn value(&self, key: &'static str) -> Result<Found, AwsCredentialsError> {
        let value = self
            .get(key)
            .ok_or_else(|| AwsCredentialsError::MissingKey {
                path: self.path.clone(),
                profile: self.profile.clone(),
                key,
            })?;
        let temporary = self.get(SESSION_TOKEN).is_some_and(|t| !t.is_empty());
        Ok(Found::new(value.to_owned(), self.origin(), temporary))
    }

    fn pair(&self) -> Result<(Found, Found), AwsCredentialsError> {
        Ok((self.value(ACCESS_KEY_ID)?, self.value(SECRET_ACCESS_KEY)?))
    }
}

/// `$AWS_SHARED_CREDENTIALS_FILE` (with `~` expanded, as the AWS CLI does), else
/// `~/.aws/credentials`.
fn credentials_path(host: &Host<'_>) -> Option<PathBuf> {
    match host.var(ENV_CREDENTIALS_FILE) {
        Some(path) => Some(expand_tilde(&path, host.home.as_deref())),
        None => host
            .home
            .as_ref()
            .map(|home| home.join(".aws").join("credentials")),
    }
}

fn expand_tilde(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix('~'), home) {
        (Some(""), Some(home)) => home.to_path_buf(),
        (Some(rest), Some(home)) if rest.starts_with('/') => home.join(&rest[1..]),
        _ => PathBuf::from(path),
    }
}

/// The sections of the INI file at `path`, which holds `bytes`.
fn parse_file(path: &Path, bytes: &[u8]) -> Result<Vec<Section>, AwsCredentialsError> {
    parse_ini(bytes).map_err(|(line, reason)| AwsCredentialsError::Malformed {
        path: path.to_owned(),
        line,
        reason,
    })
}

/// One `[section]` of an INI file, keys lower-cased as Python's configparser does.
struct Section {
    name: String,
    keys: Vec<(String, String)>,
}

/// Parses INI like botocore's configparser: full-line `#`/`;` comments, `=` or `:` delimiters,
/// case-insensitive keys, and a repeated section or key is an error rather than a guess.
fn parse_ini(bytes: &[u8]) -> Result<Vec<Section>, (usize, &'static str)> {
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let line = bytes[..err.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        (line + 1, "not valid UTF-8")
    })?;
    let mut sections: Vec<Section> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(header) = trimmed.strip_prefix('[') {
            let name = header
                .strip_suffix(']')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .ok_or((line, "a section header must look like [profile-name]"))?;
            if sections.iter().any(|section| section.name == name) {
                return Err((line, "this [profile] header repeats an earlier one"));
            }
            sections.push(Section {
                name: name.to_owned(),
                keys: Vec::new(),
            });
            continue;
        }
        let split = trimmed
            .find(['=', ':'])
            .ok_or((line, "expected [profile], key = value, or a # comment"))?;
        let key = trimmed[..split].trim().to_lowercase();
        let value = trimmed[split + 1..].trim().to_owned();
        let section = sections
            .last_mut()
            .ok_or((line, "a key = value line comes before any [profile] header"))?;
        if key.is_empty() {
            return Err((line, "a key = value line has no key"));
        }
        if section.keys.iter().any(|(existing, _)| *existing == key) {
            return Err((line, "this key repeats an earlier one in the same profile"));
        }
        section.keys.push((key, value));
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const ID: &str = "AKIAEXAMPLEKEYID0001";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY1";
    const ID2: &str = "AKIAEXAMPLEKEYID0002";
    const SECRET2: &str = "s3cr3tSecondProfileValue/xyz+ABCDEFGHIJ2";
    const ENV_ID: &str = "AKIAEXAMPLEENVKEY003";
    const ENV_SECRET: &str = "EnvSecretValue/EXAMPLE+0123456789abcdef3";
    const STDIN_SECRET: &str = "StdinSecretValue/EXAMPLE+0123456789abcd4";
    const TEMP_ID: &str = "ASIAEXAMPLETEMPKEY05";
    const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN5";

    const ALL_SECRETS: &[&str] = &[
        ID,
        SECRET,
        ID2,
        SECRET2,
        ENV_ID,
        ENV_SECRET,
        STDIN_SECRET,
        TEMP_ID,
        TOKEN,
    ];

    fn credentials_file() -> String {
        format!(
            "# work and play\n\
             [default]\n\
             aws_access_key_id = {ID}\n\
             AWS_SECRET_ACCESS_KEY={SECRET}\n\
             \n\
             ; second\n\
             [ prod ]\n\
             aws_access_key_id: {ID2}\n\
             \taws_secret_access_key = {SECRET2}  \n\
             region = us-east-1\n\
             [sso]\n\
             aws_access_key_id = {TEMP_ID}\n\
             aws_secret_access_key = {SECRET}\n\
             aws_session_token = {TOKEN}\n\
             [idonly]\n\
             aws_access_key_id = {ID2}\n\
             [spacey]\n\
             aws_access_key_id = {ID} # inline comments are part of the value\n\
             aws_secret_access_key = {SECRET}\n"
        )
    }

    /// A fake machine: variables, a home, and files by path.
    struct Machine {
        env: HashMap<String, String>,
        home: Option<PathBuf>,
        files: HashMap<PathBuf, Result<Vec<u8>, io::ErrorKind>>,
    }

    impl Machine {
        fn new() -> Self {
            let mut machine = Machine {
                env: HashMap::new(),
                home: Some(PathBuf::from("/home/u")),
                files: HashMap::new(),
            };
            machine.file("/home/u/.aws/credentials", &credentials_file());
            machine
        }
        fn var(mut self, name: &str, value: &str) -> Self {
            self.env.insert(name.to_owned(), value.to_owned());
            self
        }
        fn file(&mut self, path: &str, text: &str) {
            self.files
                .insert(PathBuf::from(path), Ok(text.as_bytes().to_vec()));
        }
        fn run(&self, request: AwsRequest<'_>) -> Result<AwsCredentials, AwsCredentialsError> {
            self.on_host(|host| resolve(request, host))
        }
        fn on_host<T>(&self, f: impl FnOnce(&Host<'_>) -> T) -> T {
            let env = |name: &str| self.env.get(name).cloned();
            let read = |path: &Path| match self.files.get(path) {
                Some(Ok(bytes)) => Ok(bytes.clone()),
                Some(Err(kind)) => Err(io::Error::from(*kind)),
                None => Err(io::Error::from(io::ErrorKind::NotFound)),
            };
            let host = Host {
                env: &env,
                home: self.home.clone(),
                read_file: &read,
            };
            f(&host)
        }
    }

    #[test]
    fn credentials_files_are_stored_whole_under_the_names_the_aws_cli_reads() {
        let mut machine = Machine::new();
        let files = machine.on_host(read_files).unwrap();
        assert_eq!(
            files.secret_data(),
            BTreeMap::from([(CREDENTIALS_FILE.to_owned(), credentials_file())])
        );
        assert!(!format!("{files:?}").contains(SECRET));
        machine.file(
            "/home/u/.aws/config",
            "[profile prod]\nregion = us-east-1\n",
        );
        let files = machine.on_host(read_files).unwrap();
        assert_eq!(
            files.secret_data().keys().collect::<Vec<_>>(),
            [CONFIG_FILE, CREDENTIALS_FILE]
        );
        assert_eq!(files.paths.len(), 2);
        let mut sso_only = Machine::new();
        sso_only.file("/home/u/.aws/credentials", "[sso]\nregion = x\n");
        let err = sso_only.on_host(read_files).unwrap_err().to_string();
        assert!(
            err.contains("has no profile with aws_access_key_id"),
            "{err}"
        );
        let elsewhere = Machine::new().var(ENV_CREDENTIALS_FILE, "/nowhere/credentials");
        let err = elsewhere.on_host(read_files).unwrap_err().to_string();
        assert!(
            err.starts_with("no AWS credentials file at /nowhere/credentials"),
            "{err}"
        );
    }

    fn profile(name: &str) -> AwsRequest<'static> {
        AwsRequest {
            profile: Some(name.to_owned()),
            ..AwsRequest::default()
        }
    }

    fn file_origin(profile: &str) -> Origin {
        Origin::File {
            path: PathBuf::from("/home/u/.aws/credentials"),
            profile: profile.to_owned(),
        }
    }

    #[test]
    fn precedence_table() {
        let env = || {
            Machine::new()
                .var(ENV_ACCESS_KEY_ID, ENV_ID)
                .var(ENV_SECRET_ACCESS_KEY, ENV_SECRET)
        };
        let cases: Vec<(&str, Machine, AwsRequest<'static>, &str, &str, Origin)> = vec![
            (
                "default profile",
                Machine::new(),
                AwsRequest::default(),
                ID,
                SECRET,
                file_origin("default"),
            ),
            (
                "AWS_PROFILE",
                Machine::new().var(ENV_PROFILE, "prod"),
                AwsRequest::default(),
                ID2,
                SECRET2,
                file_origin("prod"),
            ),
            (
                "env beats AWS_PROFILE",
                env().var(ENV_PROFILE, "prod"),
                AwsRequest::default(),
                ENV_ID,
                ENV_SECRET,
                Origin::Environment(ENV_ACCESS_KEY_ID),
            ),
            (
                "explicit profile beats env",
                env(),
                profile("prod"),
                ID2,
                SECRET2,
                file_origin("prod"),
            ),
            (
                "empty env vars count as unset",
                Machine::new()
                    .var(ENV_ACCESS_KEY_ID, "")
                    .var(ENV_SECRET_ACCESS_KEY, ""),
                AwsRequest::default(),
                ID,
                SECRET,
                file_origin("default"),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE with ~",
                {
                    let mut m = Machine::new().var(ENV_CREDENTIALS_FILE, "~/elsewhere");
                    m.file(
                        "/home/u/elsewhere",
                        &format!(
                            "[default]\naws_access_key_id={ID2}\naws_secret_access_key={SECRET2}\n"
                        ),
                    );
                    m
                },
                AwsRequest::default(),
                ID2,
                SECRET2,
                Origin::File {
                    path: PathBuf::from("/home/u/elsewhere"),
                    profile: "default".to_owned(),
                },
            ),
        ];
        for (name, machine, request, id, secret, origin) in cases {
            let creds = machine
                .run(request)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            let data = creds.secret_data(&KeyNames::default());
            assert_eq!(
                data.keys().collect::<Vec<_>>(),
                [ACCESS_KEY_ID, SECRET_ACCESS_KEY],
                "{name}"
            );
            assert_eq!(data[ACCESS_KEY_ID], id, "{name}");
            assert_eq!(data[SECRET_ACCESS_KEY], secret, "{name}");
            assert_eq!(creds.access_key_id_origin, origin, "{name}");
        }
    }

    #[test]
    fn secret_from_reader_table() {
        struct Case {
            name: &'static str,
            machine: Machine,
            key_id_argument: Option<&'static str>,
            profile: Option<&'static str>,
            want_id: &'static str,
            want_origin: Origin,
        }
        let env_id = || Machine::new().var(ENV_ACCESS_KEY_ID, ENV_ID);
        let cases = [
            Case {
                name: "argument key id wins",
                machine: env_id(),
                key_id_argument: Some(ID2),
                profile: Some("prod"),
                want_id: ID2,
                want_origin: Origin::Argument,
            },
            Case {
                name: "explicit profile beats env",
                machine: env_id(),
                key_id_argument: None,
                profile: Some("idonly"),
                want_id: ID2,
                want_origin: file_origin("idonly"),
            },
            Case {
                name: "env key id",
                machine: env_id(),
                key_id_argument: None,
                profile: None,
                want_id: ENV_ID,
                want_origin: Origin::Environment(ENV_ACCESS_KEY_ID),
            },
            Case {
                name: "file key id",
                machine: Machine::new().var(ENV_PROFILE, "idonly"),
                key_id_argument: None,
                profile: None,
                want_id: ID2,
                want_origin: file_origin("idonly"),
            },
        ];
        for case in cases {
            let name = case.name;
            let stdin = format!("{STDIN_SECRET}\r\n");
            let mut reader = stdin.as_bytes();
            let creds = case
                .machine
                .run(AwsRequest {
                    profile: case.profile.map(str::to_owned),
                    access_key_id: case.key_id_argument.map(str::to_owned),
                    secret_reader: Some(&mut reader),
                })
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            let data = creds.secret_data(&KeyNames::default());
            assert_eq!(data[ACCESS_KEY_ID], case.want_id, "{name}");
            assert_eq!(data[SECRET_ACCESS_KEY], STDIN_SECRET, "{name}");
            assert_eq!(creds.access_key_id_origin, case.want_origin, "{name}");
            assert_eq!(creds.secret_access_key_origin, Origin::Reader, "{name}");
        }
    }

    struct FailingReader;
    impl Read for FailingReader {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    fn run(machine: Machine, request: AwsRequest<'_>) -> AwsCredentialsError {
        machine.run(request).expect_err("expected an error")
    }

    fn error_cases() -> Vec<(AwsCredentialsError, &'static str)> {
        let with_file = |text: &str| {
            let mut m = Machine::new();
            m.file("/home/u/.aws/credentials", text);
            m
        };
        let no_file = || {
            let mut m = Machine::new();
            m.files.clear();
            m
        };
        vec![
            (
                run(
                    Machine::new(),
                    AwsRequest {
                        access_key_id: Some(ID.to_owned()),
                        ..AwsRequest::default()
                    },
                ),
                "an AWS access key id was given without its secret access key; pass the secret on standard input with --secret-access-key-stdin",
            ),
            (
                run(
                    Machine::new().var(ENV_ACCESS_KEY_ID, ENV_ID),
                    AwsRequest::default(),
                ),
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both, or unset AWS_ACCESS_KEY_ID to use the shared credentials file",
            ),
            (
                run(
                    Machine::new().var(ENV_SECRET_ACCESS_KEY, ENV_SECRET),
                    AwsRequest::default(),
                ),
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both, or unset AWS_SECRET_ACCESS_KEY to use the shared credentials file",
            ),
            (
                run(
                    Machine {
                        home: None,
                        ..Machine::new()
                    },
                    AwsRequest::default(),
                ),
                "no AWS credentials found: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, AWS_SHARED_CREDENTIALS_FILE is not set and the home directory is unknown",
            ),
            (
                run(
                    Machine {
                        home: None,
                        ..Machine::new()
                    },
                    profile("prod"),
                ),
                "no AWS credentials found: AWS_SHARED_CREDENTIALS_FILE is not set and the home directory is unknown",
            ),
            (
                run(no_file(), AwsRequest::default()),
                "no AWS credentials found: /home/u/.aws/credentials does not exist (looked for profile \"default\", the default, as AWS_PROFILE is not set); AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set either",
            ),
            (
                run(no_file(), profile("prod")),
                "no AWS credentials found: /home/u/.aws/credentials does not exist (looked for profile \"prod\", named by the profile argument)",
            ),
            (
                run(
                    no_file().var(ENV_CREDENTIALS_FILE, "/etc/aws-creds"),
                    AwsRequest::default(),
                ),
                "no AWS credentials found: /etc/aws-creds does not exist (looked for profile \"default\", the default, as AWS_PROFILE is not set); AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set either",
            ),
            (
                run(
                    {
                        let mut m = Machine::new();
                        m.files.insert(
                            PathBuf::from("/home/u/.aws/credentials"),
                            Err(io::ErrorKind::PermissionDenied),
                        );
                        m
                    },
                    AwsRequest::default(),
                ),
                "cannot read AWS credentials file /home/u/.aws/credentials: Permission denied",
            ),
            (
                run(
                    with_file(&format!("aws_access_key_id = {ID}\n")),
                    AwsRequest::default(),
                ),
                "AWS credentials file /home/u/.aws/credentials, line 1: a key = value line comes before any [profile] header",
            ),
            (
                run(
                    with_file(&format!("[default]\n{SECRET}\n")),
                    AwsRequest::default(),
                ),
                "AWS credentials file /home/u/.aws/credentials, line 2: expected [profile], key = value, or a # comment",
            ),
            (
                run(with_file("[default\n"), AwsRequest::default()),
                "AWS credentials file /home/u/.aws/credentials, line 1: a section header must look like [profile-name]",
            ),
            (
                run(with_file("[a]\n[b]\n[a]\n"), AwsRequest::default()),
                "AWS credentials file /home/u/.aws/credentials, line 3: this [profile] header repeats an earlier one",
            ),
            (
                run(
                    with_file(&format!(
                        "[default]\naws_access_key_id={ID}\nAWS_ACCESS_KEY_ID={ID2}\n"
                    )),
                    AwsRequest::default(),
                ),
                "AWS credentials file /home/u/.aws/credentials, line 3: this key repeats an earlier one in the same profile",
            ),
            (
                run(
                    with_file(&format!("[default]\n = {SECRET}\n")),
                    AwsRequest::default(),
                ),
                "AWS credentials file /home/u/.aws/credentials, line 2: a key = value line has no key",
            ),
            (
                run(
                    {
                        let mut m = Machine::new();
                        m.files.insert(
                            PathBuf::from("/home/u/.aws/credentials"),
                            Ok(b"[default]\n\xff\n".to_vec()),
                        );
                        m
                    },
                    AwsRequest::default(),
                ),
                "AWS credentials file /home/u/.aws/credentials, line 2: not valid UTF-8",
            ),
            (
                run(Machine::new(), profile("staging")),
                "AWS profile \"staging\" (named by the profile argument) is not in /home/u/.aws/credentials (profiles there: default, prod, sso, idonly, spacey). skyctl reads static keys from this file only, not SSO, role or credential_process profiles from ~/.aws/config",
            ),
            (
                run(
                    with_file("# nothing yet\n").var(ENV_PROFILE, "dev"),
                    AwsRequest::default(),
                ),
                "AWS profile \"dev\" (named by AWS_PROFILE) is not in /home/u/.aws/credentials (profiles there: none); AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set either. skyctl reads static keys from this file only, not SSO, role or credential_process profiles from ~/.aws/config",
            ),
            (
                run(Machine::new(), profile("idonly")),
                "AWS profile \"idonly\" in /home/u/.aws/credentials has no aws_secret_access_key",
            ),
            (
                run(
                    with_file(&format!("[default]\naws_secret_access_key={SECRET}\n")),
                    AwsRequest::default(),
                ),
                "AWS profile \"default\" in /home/u/.aws/credentials has no aws_access_key_id",
            ),
            (
                run(Machine::new(), profile("sso")),
                "the AWS keys from profile \"sso\" in /home/u/.aws/credentials are temporary session credentials; the aws-credentials Secret holds no session token and they would expire. Use an IAM user's long-lived access key (name its profile explicitly if the environment holds session keys)",
            ),
            (
                run(
                    Machine::new()
                        .var(ENV_ACCESS_KEY_ID, ENV_ID)
                        .var(ENV_SECRET_ACCESS_KEY, ENV_SECRET)
                        .var(ENV_SESSION_TOKEN, TOKEN),
                    AwsRequest::default(),
                ),
                "the AWS keys from environment variable AWS_ACCESS_KEY_ID are temporary session credentials; the aws-credentials Secret holds no session token and they would expire. Use an IAM user's long-lived access key (name its profile explicitly if the environment holds session keys)",
            ),
            (
                run(
                    Machine::new()
                        .var(ENV_ACCESS_KEY_ID, TEMP_ID)
                        .var(ENV_SECRET_ACCESS_KEY, ENV_SECRET),
                    AwsRequest::default(),
                ),
                "the AWS keys from environment variable AWS_ACCESS_KEY_ID are temporary session credentials; the aws-credentials Secret holds no session token and they would expire. Use an IAM user's long-lived access key (name its profile explicitly if the environment holds session keys)",
            ),
            (
                run(Machine::new(), profile("spacey")),
                "the AWS access key id from profile \"spacey\" in /home/u/.aws/credentials is empty or contains whitespace",
            ),
            (
                run(
                    Machine::new(),
                    AwsRequest {
                        secret_reader: Some(&mut "  \n".as_bytes()),
                        ..AwsRequest::default()
                    },
                ),
                "the AWS secret access key from standard input is empty or contains whitespace",
            ),
            (
                run(
                    Machine::new(),
                    AwsRequest {
                        secret_reader: Some(&mut FailingReader),
                        ..AwsRequest::default()
                    },
                ),
                "cannot read the AWS secret access key from standard input: broken pipe",
            ),
        ]
    }

    #[test]
    fn error_messages_are_golden() {
        for (err, want) in error_cases() {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn no_message_or_debug_output_contains_a_secret() {
        let mut outputs: Vec<String> = Vec::new();
        for (err, _) in error_cases() {
            outputs.push(err.to_string());
            outputs.push(format!("{err:?}"));
        }
        let creds = Machine::new()
            .run(AwsRequest::default())
            .expect("credentials");
        outputs.push(format!("{creds:?}"));
        outputs.push(format!("{:?}", creds.access_key_id_origin));
        for output in &outputs {
            for secret in ALL_SECRETS {
                assert!(!output.contains(secret), "{output:?} leaks {secret}");
            }
        }
    }
}
