//! Everything that can stop values from loading, each naming the file, flag or key at fault.

use std::fmt;

use super::document::DocumentError;
use super::origin::{Flag, Origin};
use super::rules::{Breach, RulesError};
use super::schema::{SchemaError, Violation};
use super::strvals::ParseError;

/// Why values could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A values file, or standard input, could not be read.
    #[error("cannot read values file {name}")]
    Read {
        /// The file as the user named it (`<stdin>` for `-`).
        name: String,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A values document is not valid YAML, or not a map at the top.
    #[error("{name}")]
    Document {
        /// The file as the user named it, or `skyctl's defaults`.
        name: String,
        /// What is wrong with it, with the line when the YAML parser gives one.
        #[source]
        source: DocumentError,
    },
    /// A `--set`-style argument is malformed, or a `--set-file` file is unreadable.
    // Quoted as typed, not escaped, so `key\.with\.dots` reads the same as on the command line.
    #[error("{flag} \"{}\"", super::origin::shown_arg(.arg))]
    Flag {
        /// Which flag.
        flag: Flag,
        /// The argument as given.
        arg: String,
        /// What is wrong with it, naming the key.
        #[source]
        source: ParseError,
    },
    /// The values schema itself is unusable; a bug in skyctl, not in the user's input.
    #[error("values schema")]
    Schema(#[from] SchemaError),
    /// The merged values break the schema. Every violation is listed, one per line.
    #[error("{0}")]
    Invalid(Violations),
    /// The chart's rules file is unusable; a bug in skyctl, not in the user's input.
    #[error("chart rules")]
    Rules(#[from] RulesError),
    /// The merged values fit the schema but break the chart's rules (what the upstream chart
    /// refuses with `fail`). Every breach is listed, one per line.
    #[error("{0}")]
    Refused(Breaches),
}

/// Every chart rule the merged values break, each fact traced to where its value came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Breaches(pub Vec<Breach>);

impl fmt::Display for Breaches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, breach) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "values: {breach}")?;
        }
        Ok(())
    }
}

/// Every schema violation in the merged values, each traced to where its value came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Violations(pub Vec<TracedViolation>);

/// A schema violation and the origin of the offending value.
#[derive(Debug, Clone, PartialEq)]
pub struct TracedViolation {
    /// What is wrong, and where in the tree.
    pub violation: Violation,
    /// The highest-precedence layer that holds the path, if any does.
    pub origin: Option<Origin>,
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, traced) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{traced}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TracedViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "values: {}", self.violation)?;
        match &self.origin {
            Some(origin) => write!(f, " (from {origin})"),
            None => Ok(()),
        }
    }
}
