//! What can go wrong while rendering, each variant naming the template at fault.

/// A rendering failure. Template errors name the file under `templates/` and its line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("templates/{template}:{line}: {message}")]
    Template {
        template: String,
        line: usize,
        message: String,
    },
    #[error("templates/{template} rendered invalid YAML at line {line} of its output: {message}")]
    RenderedYaml {
        template: String,
        line: usize,
        message: String,
    },
    #[error("templates/{template} rendered an object without {field}")]
    IncompleteObject {
        template: String,
        field: &'static str,
    },
    #[error("could not create the admission webhook certificate")]
    Certificate(#[from] rcgen::Error),
}

impl Error {
    /// Turns a minijinja error into one that points at the template file and line.
    pub(crate) fn from_template(rendering: &str, err: &minijinja::Error) -> Self {
        let mut message = match err.detail() {
            Some(detail) => format!("{}: {detail}", err.kind()),
            None => err.kind().to_string(),
        };
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        Error::Template {
            template: err.name().unwrap_or(rendering).to_owned(),
            line: err.line().unwrap_or(0),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_error_names_the_file_and_line() {
        let env = minijinja::Environment::new();
        let err = env
            .template_from_named_str("broken.yaml.j2", "kind: x\nname: {{ 1 + }}\n")
            .unwrap_err();
        let message = Error::from_template("broken.yaml.j2", &err).to_string();
        assert!(
            message.starts_with("templates/broken.yaml.j2:2: syntax error"),
            "{message}"
        );
    }
}
