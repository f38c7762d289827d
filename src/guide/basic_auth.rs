//! htpasswd lines for the ingress's basic auth (key `auth` of the basic-auth Secret), made without
//! an `htpasswd` binary.
//!
//! Which hashes work is decided by nginx in the ingress-nginx controller. nginx checks `$apr1$`,
//! `{PLAIN}`, `{SHA}` and `{SSHA}` itself and hands anything else to the C library's `crypt()`.
//! The controller image is Alpine, so that is musl's `crypt()`, which does bcrypt (`$2a$`,
//! `$2b$`, `$2y$`; Openwall's crypt_blowfish), SHA-crypt (`$5$`, `$6$`), MD5-crypt (`$1$`) and
//! traditional DES. (A glibc-based nginx has bcrypt only when built against libxcrypt, which is
//! why many guides insist on apr1.) skyctl writes bcrypt, and accepts all of those except:
//! - `{PLAIN}`: the password itself, readable by anyone who can read the Secret;
//! - traditional DES: only the first 8 characters of a password count, and a 13-character
//!   clear-text password written by mistake is indistinguishable from one;
//! - `$2x$`: a compatibility mode for hashes made by an old, buggy crypt_blowfish.
//!
//! Errors name line numbers and users, never a hash or password.

use base64::Engine as _;

/// Key of the basic-auth Secret that holds the htpasswd text.
pub const SECRET_KEY: &str = "auth";
/// bcrypt cost skyctl writes: 2^10 rounds, a few tens of milliseconds per login on the
/// controller. (`htpasswd -B` defaults to 5, which is weak for a password on the internet.)
pub const BCRYPT_COST: u32 = 10;
// bcrypt reads at most 72 bytes of password; anything after would be silently ignored.
const BCRYPT_MAX_PASSWORD_BYTES: usize = 72;
// The chart's default `ingress.authCredentials` hash: a placeholder, not a hash of anything.
const PLACEHOLDER_HASH: &str = "$apr1$encrypted_password";
const HOW_TO_SET: &str =
    "set one with --web-username and --web-password-stdin (or SKYCTL_WEB_PASSWORD)";
// The alphabet of crypt()-family salts and hashes.
const CRYPT_ALPHABET: &str = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a user, password or htpasswd text cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BasicAuthError {
    /// The web user name cannot appear in an htpasswd line.
    #[error("the web username {reason}")]
    InvalidUsername {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The web password is empty.
    #[error("the web password is empty; {HOW_TO_SET}")]
    EmptyPassword,
    /// The web password is longer than bcrypt reads.
    #[error(
        "the web password is {bytes} bytes long; bcrypt ignores everything after \
         {BCRYPT_MAX_PASSWORD_BYTES} bytes, so choose a shorter one"
    )]
    PasswordTooLong {
        /// Its length in bytes.
        bytes: usize,
    },
    /// bcrypt refused (an invalid cost) or the system had no randomness for the salt.
    #[error("could not hash the web password: {reason}")]
    Hashing {
        /// bcrypt's explanation, which never contains the password.
        reason: String,
    },
    /// The htpasswd text has no user lines.
    #[error("the htpasswd text has no user lines; {HOW_TO_SET}")]
    Empty,
    /// A line is the chart's placeholder.
    #[error(
        "line {line} is the chart's placeholder (username:$apr1$encrypted_password), not a real \
         password hash; {HOW_TO_SET}"
    )]
    Placeholder {
        /// 1-based line number.
        line: usize,
    },
    /// A line has no `user:` part.
    #[error("line {line} is not user:hash (it has no ':')")]
    NoSeparator {
        /// 1-based line number.
        line: usize,
    },
    /// A line's user is empty or has spaces, which nginx would compare literally.
    #[error("line {line}: the user name is empty or contains whitespace")]
    InvalidUser {
        /// 1-based line number.
        line: usize,
    },
    /// A user appears twice.
    #[error(
        "line {line}: user \"{user}\" already appears on line {first}; nginx only ever checks the \
         first"
    )]
    DuplicateUser {
        /// 1-based line number of the repeat.
        line: usize,
        /// The user.
        user: String,
        /// 1-based line number of the first appearance.
        first: usize,
    },
    /// A `{PLAIN}` password.
    #[error(
        "line {line} (user \"{user}\"): {{PLAIN}} stores the password in clear text in the \
         Secret; {HOW_TO_SET}"
    )]
    Cleartext {
        /// 1-based line number.
        line: usize,
        /// The user.
        user: String,
    },
    /// A known scheme whose hash has the wrong shape.
    #[error(
        "line {line} (user \"{user}\"): the {scheme} hash is malformed (wrong length or characters)"
    )]
    MalformedHash {
        /// 1-based line number.
        line: usize,
        /// The user.
        user: String,
        /// The scheme its prefix names.
        scheme: &'static str,
    },
    /// Not a hash skyctl accepts: clear text, DES crypt, `$2x$` or unknown.
    #[error(
        "line {line} (user \"{user}\"): the password is not a hash nginx can use safely (accepted: \
         bcrypt $2y$/$2b$/$2a$, $apr1$, $1$, $5$, $6$, {{SHA}}, {{SSHA}}); clear-text and DES-crypt \
         passwords are refused; {HOW_TO_SET}"
    )]
    UnrecognisedHash {
        /// 1-based line number.
        line: usize,
        /// The user.
        user: String,
    },
}

/// `user:bcrypt-hash`, as `htpasswd -nbB` writes it (`$2y$`), at [`BCRYPT_COST`].
pub fn htpasswd_line(user: &str, password: &str) -> Result<String, BasicAuthError> {
    htpasswd_line_with_cost(user, password, BCRYPT_COST)
}

/// [`htpasswd_line`] at another bcrypt cost (4 to 31).
pub fn htpasswd_line_with_cost(
    user: &str,
    password: &str,
    cost: u32,
) -> Result<String, BasicAuthError> {
    let invalid = |reason| Err(BasicAuthError::InvalidUsername { reason });
    if user.is_empty() {
        return invalid("is empty");
    }
    if user.contains(':') {
        return invalid("contains ':', which separates the user from the hash");
    }
    if user.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("contains whitespace or control characters");
    }
    if password.is_empty() {
        return Err(BasicAuthError::EmptyPassword);
    }
    if password.len() > BCRYPT_MAX_PASSWORD_BYTES {
        return Err(BasicAuthError::PasswordTooLong {
            bytes: password.len(),
        });
    }
    let parts =
        bcrypt::hash_with_result(password, cost).map_err(|err| BasicAuthError::Hashing {
            reason: err.to_string(),
        })?;
    Ok(format!(
        "{user}:{}",
        parts.format_for_version(bcrypt::Version::TwoY)
    ))
}

/// Checks htpasswd text as the ingress-nginx controller will read it: `user:hash[:comment]`
/// lines, blank lines and `#` comments. See the module docs for the accepted hashes.
pub fn validate_htpasswd(text: &str) -> Result<(), BasicAuthError> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let content = raw.strip_suffix('\r').unwrap_or(raw);
        if content.trim().is_empty() || content.starts_with('#') {
            continue;
        }
        let (user, hash) = split_line(content).ok_or(BasicAuthError::NoSeparator { line })?;
        if hash == PLACEHOLDER_HASH {
            return Err(BasicAuthError::Placeholder { line });
        }
        if user.is_empty() || user.contains(char::is_whitespace) {
            return Err(BasicAuthError::InvalidUser { line });
        }
        if let Some(&(_, first)) = seen.iter().find(|(seen_user, _)| *seen_user == user) {
            return Err(BasicAuthError::DuplicateUser {
                line,
                user: user.to_owned(),
                first,
            });
        }
        seen.push((user, line));
        check_hash(hash, line, user)?;
    }
    if seen.is_empty() {
        return Err(BasicAuthError::Empty);
    }
    Ok(())
}

/// Whether `password` is `user`'s in the htpasswd `text`, checked on the first line for
/// `user` (the one nginx checks; a text may hold several users): bcrypt, which skyctl writes,
/// the `$apr1$` (MD5) and `{SHA}` lines that `htpasswd` writes, which releases made the seed
/// guide's way carry, and the `$1$`, `$5$` and `$6$` crypt lines of `openssl passwd` and
/// `mkpasswd`. Plain text and unknown schemes never match.
pub fn verify(text: &str, user: &str, password: &str) -> bool {
    let Some(hash) = user_lines(text)
        .find(|(line_user, _)| *line_user == user)
        .map(|(_, hash)| hash)
    else {
        return false;
    };
    if bcrypt_version(hash).is_some() {
        bcrypt::verify(password, hash).unwrap_or(false)
    } else if hash.starts_with("$apr1$") || hash.starts_with("{SHA}") {
        htpasswd_verify::Htpasswd::new_borrowed(&format!("{user}:{hash}")).check(user, password)
    } else if ["$1$", "$5$", "$6$"].iter().any(|id| hash.starts_with(id)) {
        pwhash::unix::verify(password, hash)
    } else {
        false
    }
}

/// `text` with `user`'s first line replaced by `line`, every other line kept: a new password
/// for one user of several locks no one else out. `None` when `user` has no line.
pub fn with_line(text: &str, user: &str, line: &str) -> Option<String> {
    let mut replaced = false;
    let lines: Vec<&str> = text
        .split('\n')
        .map(|raw| {
            let content = raw.strip_suffix('\r').unwrap_or(raw);
            let mine = !replaced
                && !content.starts_with('#')
                && split_line(content).is_some_and(|(line_user, _)| line_user == user);
            if mine {
                replaced = true;
                line
            } else {
                raw
            }
        })
        .collect();
    replaced.then(|| lines.join("\n"))
}

/// The users of htpasswd text, in order.
pub fn users(text: &str) -> Vec<&str> {
    user_lines(text).map(|(user, _)| user).collect()
}

/// The `(user, hash)` of each user line of htpasswd text, in order; blank lines and `#`
/// comments are not user lines.
fn user_lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split('\n')
        .map(|raw| raw.strip_suffix('\r').unwrap_or(raw))
        .filter(|content| !content.trim().is_empty() && !content.starts_with('#'))
        .filter_map(split_line)
}

/// `user` and `hash` of `user:hash[:comment]`, as nginx splits it.
fn split_line(line: &str) -> Option<(&str, &str)> {
    let (user, rest) = line.split_once(':')?;
    let hash = rest.split_once(':').map_or(rest, |(hash, _comment)| hash);
    Some((user, hash))
}

fn bcrypt_version(hash: &str) -> Option<&'static str> {
    ["$2y$", "$2b$", "$2a$"]
        .into_iter()
        .find(|prefix| hash.starts_with(prefix))
}

fn check_hash(hash: &str, line: usize, user: &str) -> Result<(), BasicAuthError> {
    let malformed = |scheme| BasicAuthError::MalformedHash {
        line,
        user: user.to_owned(),
        scheme,
    };
    let (scheme, well_formed) = if let Some(version) = bcrypt_version(hash) {
        (version, is_bcrypt(hash))
    } else if let Some(rest) = hash.strip_prefix("$apr1$") {
        ("$apr1$", is_md5_crypt(rest))
    } else if let Some(rest) = hash.strip_prefix("$1$") {
        ("$1$", is_md5_crypt(rest))
    } else if let Some(rest) = hash.strip_prefix("$5$") {
        ("$5$", is_sha_crypt(rest, 43))
    } else if let Some(rest) = hash.strip_prefix("$6$") {
        ("$6$", is_sha_crypt(rest, 86))
    } else if let Some(rest) = hash.strip_prefix("{SHA}") {
        ("{SHA}", decoded_len(rest) == Some(20))
    } else if let Some(rest) = hash.strip_prefix("{SSHA}") {
        ("{SSHA}", decoded_len(rest).is_some_and(|len| len > 20))
    } else if hash.starts_with("{PLAIN}") {
        return Err(BasicAuthError::Cleartext {
            line,
            user: user.to_owned(),
        });
    } else {
        return Err(BasicAuthError::UnrecognisedHash {
            line,
            user: user.to_owned(),
        });
    };
    if well_formed {
        Ok(())
    } else {
        Err(malformed(scheme))
    }
}

fn in_crypt_alphabet(text: &str) -> bool {
    text.chars().all(|c| CRYPT_ALPHABET.contains(c))
}

/// `$2y$NN$` + 22 salt + 31 hash characters, cost 04–31.
fn is_bcrypt(hash: &str) -> bool {
    let Some(rest) = hash.get(4..) else {
        return false;
    };
    let Some((cost, body)) = rest.split_once('$') else {
        return false;
    };
    cost.len() == 2
        && cost.parse::<u32>().is_ok_and(|c| (4..=31).contains(&c))
        && body.len() == 53
        && in_crypt_alphabet(body)
}

/// `salt$hash` after `$apr1$` or `$1$`: up to 8 salt characters, 22 hash characters.
fn is_md5_crypt(rest: &str) -> bool {
    rest.split_once('$').is_some_and(|(salt, digest)| {
        (1..=8).contains(&salt.len())
            && in_crypt_alphabet(salt)
            && digest.len() == 22
            && in_crypt_alphabet(digest)
    })
}

/// `[rounds=N$]salt$hash` after `$5$` or `$6$`: up to 16 salt characters.
fn is_sha_crypt(rest: &str, digest_len: usize) -> bool {
    let rest = match rest.strip_prefix("rounds=") {
        Some(tail) => match tail.split_once('$') {
            Some((rounds, tail)) if rounds.parse::<u32>().is_ok() => tail,
            _ => return false,
        },
        None => rest,
    };
    rest.split_once('$').is_some_and(|(salt, digest)| {
        salt.len() <= 16
            && !salt.contains(['\n', ':'])
            && digest.len() == digest_len
            && in_crypt_alphabet(digest)
    })
}

fn decoded_len(encoded: &str) -> Option<usize> {
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .map(|bytes| bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "correct horse";
    const APR1: &str = "$apr1$abcdefgh$sIQmFnT1CuEXAsyjuXjUX/";
    /// The base64 SHA-1 of [`PASSWORD`], as `htpasswd -s` writes it; [`APR1`] is its
    /// `htpasswd -m`.
    const SHA1_OF_PASSWORD: &str = "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A=";
    const MD5: &str = "$1$saltsalt$NuzA7WTAelpl95xgBGWN60";
    const SHA256: &str = "$5$saltsaltsalt$7axwV9kT3PvvGXgJl1FcfUCHLdLFhWk/dIFhzsbucLB";
    const SHA512: &str = "$6$saltsaltsalt$Cy2drr8kDRji6smvDcT28wkqtq0R0VzVL5CkrjPQCITc5d/31j94knt9rGTcVSyjLXfjsiIsBh5ee8qR/3QDx1";
    const SHA: &str = "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A=";
    const SSHA: &str = "{SSHA}yq+6LfoscPeBAPxrfNHqPk640oMxMjM0";
    const DES: &str = "abJnggxhB/yWI";

    fn bcrypt_hash() -> String {
        let line = htpasswd_line_with_cost("u", PASSWORD, 4).expect("hash");
        line["u:".len()..].to_owned()
    }

    #[test]
    fn htpasswd_line_writes_2y_at_cost_10_and_verifies() {
        let line = htpasswd_line("sky", PASSWORD).expect("hash");
        let hash = line.strip_prefix("sky:").expect("user prefix");
        assert!(hash.starts_with("$2y$10$"), "{hash}");
        assert_eq!(hash.len(), 60);
        assert!(verify(&line, "sky", PASSWORD));
        assert!(verify(&format!("{line}\n"), "sky", PASSWORD));
        assert!(!verify(&line, "sky", "wrong horse"));
        assert!(!verify(&line, "other", PASSWORD));
        validate_htpasswd(&line).expect("own output validates");
    }

    #[test]
    fn verify_table() {
        let hash = bcrypt_hash();
        let cases = [
            (format!("u:{hash}"), "u", PASSWORD, true),
            (format!("u:{hash}:comment"), "u", PASSWORD, true),
            (
                format!("u:{}", hash.replacen("$2y$", "$2b$", 1)),
                "u",
                PASSWORD,
                true,
            ),
            (
                format!("u:{}", hash.replacen("$2y$", "$2a$", 1)),
                "u",
                PASSWORD,
                true,
            ),
            (format!("u:{hash}"), "u", "", false),
            // As `htpasswd -nbm` and `htpasswd -nbs` write them, the seed guide's way.
            (format!("u:{APR1}"), "u", PASSWORD, true),
            (format!("u:{APR1}"), "u", "wrong", false),
            (format!("v:{APR1}"), "u", PASSWORD, false),
            (format!("u:{SHA1_OF_PASSWORD}"), "u", PASSWORD, true),
            (format!("u:{SHA1_OF_PASSWORD}"), "u", "wrong", false),
            ("u:{PLAIN}correct horse".to_owned(), "u", PASSWORD, false),
            ("no separator".to_owned(), "u", PASSWORD, false),
            (format!("u:{}", &hash[..50]), "u", PASSWORD, false),
            // `openssl passwd -1`, `-5` and `-6`, which the ingress's musl crypt() checks.
            (format!("u:{MD5}"), "u", PASSWORD, true),
            (format!("u:{SHA256}"), "u", PASSWORD, true),
            (format!("u:{SHA512}"), "u", PASSWORD, true),
            (format!("u:{SHA512}"), "u", "wrong", false),
            (format!("u:{DES}"), "u", PASSWORD, false),
            // Several users: the user's own line is checked, the first if it repeats, as nginx
            // does; comments and blank lines are not lines of users.
            (format!("a:{APR1}\nu:{hash}\n"), "u", PASSWORD, true),
            (
                format!("# admins\r\n\r\nu:{SHA512}\r\nv:{APR1}"),
                "u",
                PASSWORD,
                true,
            ),
            (format!("u:{hash}\nv:{APR1}"), "v", PASSWORD, true),
            (format!("a:{APR1}\nb:{APR1}"), "u", PASSWORD, false),
            (
                format!("u:$apr1$wrong$sIQmFnT1CuEXAsyjuXjUX/\nu:{APR1}"),
                "u",
                PASSWORD,
                false,
            ),
            (format!("#u:{APR1}"), "u", PASSWORD, false),
        ];
        for (line, user, password, want) in cases {
            assert_eq!(verify(&line, user, password), want, "{line}");
        }
    }

    #[test]
    fn a_new_line_replaces_the_users_own_and_keeps_everyone_elses() {
        let text = format!("# team\na:{APR1}\nu:{APR1}\nb:{SHA}\n");
        assert_eq!(
            with_line(&text, "u", "u:NEW").as_deref(),
            Some(format!("# team\na:{APR1}\nu:NEW\nb:{SHA}\n").as_str())
        );
        assert_eq!(
            with_line(&format!("u:{APR1}\n"), "u", "u:NEW").as_deref(),
            Some("u:NEW\n")
        );
        assert_eq!(
            with_line(&format!("u:{APR1}\r\nu:{SHA}"), "u", "u:NEW").as_deref(),
            Some(format!("u:NEW\nu:{SHA}").as_str()),
            "only the first, which nginx checks"
        );
        assert_eq!(
            with_line(&format!("#u:{APR1}\na:{APR1}"), "u", "u:NEW"),
            None
        );
    }

    #[test]
    fn accepted_htpasswd_table() {
        let hash = bcrypt_hash();
        let cases = [
            format!("sky:{hash}"),
            format!("sky:{hash}\n"),
            format!("# users\r\n\r\nsky:{hash}\r\nops:{APR1}:on call\n"),
            format!("a:{}", hash.replacen("$2y$", "$2b$", 1)),
            format!("a:{}", hash.replacen("$2y$", "$2a$", 1)),
            format!("a:{APR1}\nb:{MD5}\nc:{SHA256}\nd:{SHA512}\ne:{SHA}\nf:{SSHA}"),
            format!("a:$5$rounds=10000$saltsaltsalt${}", &SHA256[16..]),
        ];
        for text in cases {
            validate_htpasswd(&text).unwrap_or_else(|err| panic!("{text:?}: {err}"));
        }
    }

    fn error_cases() -> Vec<(BasicAuthError, &'static str)> {
        let hash = bcrypt_hash();
        let validate = |text: String| validate_htpasswd(&text).expect_err("invalid htpasswd");
        vec![
            (
                htpasswd_line("", PASSWORD).expect_err("empty user"),
                "the web username is empty",
            ),
            (
                htpasswd_line("a:b", PASSWORD).expect_err("colon"),
                "the web username contains ':', which separates the user from the hash",
            ),
            (
                htpasswd_line("a b", PASSWORD).expect_err("space"),
                "the web username contains whitespace or control characters",
            ),
            (
                htpasswd_line("sky", "").expect_err("empty password"),
                "the web password is empty; set one with --web-username and --web-password-stdin (or SKYCTL_WEB_PASSWORD)",
            ),
            (
                htpasswd_line("sky", &"p".repeat(73)).expect_err("long password"),
                "the web password is 73 bytes long; bcrypt ignores everything after 72 bytes, so choose a shorter one",
            ),
            (
                htpasswd_line_with_cost("sky", PASSWORD, 3).expect_err("bad cost"),
                "could not hash the web password: Cost needs to be between 4 and 31, got 3",
            ),
            (
                validate(String::new()),
                "the htpasswd text has no user lines; set one with --web-username and --web-password-stdin (or SKYCTL_WEB_PASSWORD)",
            ),
            (
                validate("# only a comment\n\n".to_owned()),
                "the htpasswd text has no user lines; set one with --web-username and --web-password-stdin (or SKYCTL_WEB_PASSWORD)",
            ),
            (
                validate("username:$apr1$encrypted_password".to_owned()),
                "line 1 is the chart's placeholder (username:$apr1$encrypted_password), not a real password hash; set one with --web-username and --web-password-stdin (or SKYCTL_WEB_PASSWORD)",
            ),
            (
                validate(format!("sky:{hash}\nnoseparator{hash}")),
                "line 2 is not user:hash (it has no ':')",
            ),
            (
                validate(format!(":{hash}")),
                "line 1: the user name is empty or contains whitespace",
            ),
            (
                validate(format!(" sky:{hash}")),
                "line 1: the user name is empty or contains whitespace",
            ),
            (
                validate(format!("sky:{hash}\n\nsky:{APR1}")),
                "line 3: user \"sky\" already appears on line 1; nginx only ever checks the first",
            ),
            (
                validate(format!("sky:{{PLAIN}}{PASSWORD}")),
                "line 1 (user \"sky\"): {PLAIN} stores the password in clear text in the Secret; set one with --web-username and --web-password-stdin (or SKYCTL_WEB_PASSWORD)",
            ),
            (
                validate(format!("sky:{}", &hash[..59])),
                "line 1 (user \"sky\"): the $2y$ hash is malformed (wrong length or characters)",
            ),
            (
                validate(format!("sky:{}", hash.replacen("$04$", "$03$", 1))),
                "line 1 (user \"sky\"): the $2y$ hash is malformed (wrong length or characters)",
            ),
            (
                validate(format!("sky:{hash} ")),
                "line 1 (user \"sky\"): the $2y$ hash is malformed (wrong length or characters)",
            ),
            (
                validate("sky:$apr1$abcdefgh$short".to_owned()),
                "line 1 (user \"sky\"): the $apr1$ hash is malformed (wrong length or characters)",
            ),
            (
                validate(format!("sky:{}", MD5.replace("saltsalt", "saltsaltsalt"))),
                "line 1 (user \"sky\"): the $1$ hash is malformed (wrong length or characters)",
            ),
            (
                validate(format!("sky:{}", &SHA256[..50])),
                "line 1 (user \"sky\"): the $5$ hash is malformed (wrong length or characters)",
            ),
            (
                validate(format!("sky:$6$rounds=many${}", &SHA512[3..])),
                "line 1 (user \"sky\"): the $6$ hash is malformed (wrong length or characters)",
            ),
            (
                validate("sky:{SHA}c2hvcnQ=".to_owned()),
                "line 1 (user \"sky\"): the {SHA} hash is malformed (wrong length or characters)",
            ),
            (
                validate("sky:{SSHA}not base64!".to_owned()),
                "line 1 (user \"sky\"): the {SSHA} hash is malformed (wrong length or characters)",
            ),
            (
                validate(format!("sky:{PASSWORD}")),
                "line 1 (user \"sky\"): the password is not a hash nginx can use safely (accepted: bcrypt $2y$/$2b$/$2a$, $apr1$, $1$, $5$, $6$, {SHA}, {SSHA}); clear-text and DES-crypt passwords are refused; set one with --web-username and --web-password-stdin (or SKYCTL_WEB_PASSWORD)",
            ),
            (
                validate(format!("sky:{DES}")),
                "line 1 (user \"sky\"): the password is not a hash nginx can use safely (accepted: bcrypt $2y$/$2b$/$2a$, $apr1$, $1$, $5$, $6$, {SHA}, {SSHA}); clear-text and DES-crypt passwords are refused; set one with --web-username and --web-password-stdin (or SKYCTL_WEB_PASSWORD)",
            ),
            (
                validate(format!("sky:{}", hash.replacen("$2y$", "$2x$", 1))),
                "line 1 (user \"sky\"): the password is not a hash nginx can use safely (accepted: bcrypt $2y$/$2b$/$2a$, $apr1$, $1$, $5$, $6$, {SHA}, {SSHA}); clear-text and DES-crypt passwords are refused; set one with --web-username and --web-password-stdin (or SKYCTL_WEB_PASSWORD)",
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
    fn no_message_or_debug_output_contains_a_hash_or_password() {
        let hash = bcrypt_hash();
        let secrets = [
            PASSWORD,
            &hash[7..],
            "abcdefgh$sIQmFnT1",
            "NuzA7WTAelpl95xgBGWN60",
            "7axwV9kT3Pvv",
            "Cy2drr8kDRji6",
            "L55TUjtiq8FBorTWAZ0jy6g129A",
            "c2hvcnQ",
            DES,
            "ppppp",
        ];
        for (err, _) in error_cases() {
            for output in [err.to_string(), format!("{err:?}")] {
                for secret in secrets {
                    assert!(!output.contains(secret), "{output:?} leaks {secret}");
                }
            }
        }
    }
}
