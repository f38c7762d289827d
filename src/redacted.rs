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

#[cfg(test)]
mod tests {
    use super::*;

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
