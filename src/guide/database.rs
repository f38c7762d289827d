//! The connection string of the database several API servers share (chart 0.13.0's
//! `apiService.dbConnectionSecretName`): read from standard input or the environment, never
//! from argv, checked, and described without its password.

use std::io::Read;

use super::host::Host;

/// Where `creds add db` looks when standard input is not asked for.
pub const ENV: &str = "SKYCTL_DB_CONNECTION_STRING";
/// The Secret key the chart reads (`SKYPILOT_DB_CONNECTION_URI` comes from it).
pub const KEY: &str = "connection_string";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatabaseError {
    #[error(
        "no connection string: pass --connection-string-stdin and write it to standard input, \
         or set ${ENV} (never on the command line, where `ps` and the shell history keep it)"
    )]
    Missing,
    #[error(
        "the connection string is not a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:PORT/DATABASE): {0}"
    )]
    Malformed(&'static str),
    #[error("cannot read standard input: {0}")]
    Stdin(String),
}

/// A checked connection string, and how to name it without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub url: String,
    pub described: String,
}

/// The connection string from standard input (its first line) or `$SKYCTL_DB_CONNECTION_STRING`.
pub fn read(stdin: Option<&mut dyn Read>, host: &Host<'_>) -> Result<Connection, DatabaseError> {
    let (url, origin) = match stdin {
        Some(reader) => {
            let mut text = String::new();
            reader
                .read_to_string(&mut text)
                .map_err(|err| DatabaseError::Stdin(err.kind().to_string()))?;
            (
                text.lines().next().unwrap_or_default().trim().to_owned(),
                "standard input",
            )
        }
        None => (
            host.var(ENV)
                .ok_or(DatabaseError::Missing)?
                .trim()
                .to_owned(),
            ENV,
        ),
    };
    if url.is_empty() {
        return Err(DatabaseError::Missing);
    }
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .ok_or(DatabaseError::Malformed("it must start with postgresql://"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let server = authority
        .rsplit_once('@')
        .map_or(authority, |(_, server)| server);
    if server.is_empty() {
        return Err(DatabaseError::Malformed("it names no host"));
    }
    if url.chars().any(char::is_whitespace) {
        return Err(DatabaseError::Malformed("it holds whitespace"));
    }
    let described = format!(
        "PostgreSQL at {} from {origin}",
        crate::redacted::mask_url_passwords(&url)
    );
    Ok(Connection { url, described })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "pA55-w0rd";

    fn host(env: &dyn Fn(&str) -> Option<String>) -> Host<'_> {
        Host {
            env,
            home: None,
            read_file: &|_| Err(std::io::ErrorKind::NotFound.into()),
        }
    }

    #[test]
    fn a_connection_string_comes_from_stdin_or_the_environment_and_is_described_without_its_password()
     {
        let url = format!("postgresql://sky:{PASSWORD}@db.internal:5432/skypilot");
        let none = |_: &str| None;
        let mut stdin = format!("{url}\n").into_bytes();
        let found = read(Some(&mut stdin.as_slice() as &mut dyn Read), &host(&none)).unwrap();
        assert_eq!(found.url, url);
        assert!(
            found.described.contains("db.internal:5432/skypilot"),
            "{}",
            found.described
        );
        assert!(!found.described.contains(PASSWORD), "{}", found.described);
        stdin.clear();
        let from_env = |name: &str| (name == ENV).then(|| url.clone());
        assert_eq!(read(None, &host(&from_env)).unwrap().url, url);
    }

    #[test]
    fn a_missing_or_malformed_connection_string_is_refused_without_repeating_it() {
        let none = |_: &str| None;
        assert_eq!(read(None, &host(&none)), Err(DatabaseError::Missing));
        for (text, reason) in [
            (format!("mysql://u:{PASSWORD}@h/db"), "postgresql://"),
            (format!("postgresql://u:{PASSWORD}@/db"), "names no host"),
            (format!("postgresql://u:{PASSWORD}@h/db x"), "whitespace"),
            (String::new(), "no connection string"),
        ] {
            let mut input = text.as_bytes();
            let err = read(Some(&mut input as &mut dyn Read), &host(&none))
                .unwrap_err()
                .to_string();
            assert!(err.contains(reason), "{text}: {err}");
            assert!(!err.contains(PASSWORD), "{err}");
        }
    }
}
