//! A validator for the subset of JSON Schema that `values.schema.json` is written in.
//!
//! Supported keywords: `type` (a name or a list of names), `properties`,
//! `additionalProperties` (boolean or schema), `items` (one schema), `enum`, `minimum`,
//! `maximum`, and the annotations `description`, `title`, `default`, `$comment` and
//! `$schema`, which are read past. Any other keyword fails the load: a constraint the
//! validator does not enforce must not look as if it were enforced.
//!
//! One deliberate deviation from JSON Schema: when a schema that describes objects (its
//! `type` includes `object`, or it has `properties`) says nothing about
//! `additionalProperties`, unknown keys are errors, as if it said `false`. A typo such as
//! `nodeportEnabled` would otherwise be accepted and silently ignored. A free-form map (pod
//! annotations, say) has to say `"additionalProperties": true` or give a schema.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Number, Value};

use super::did_you_mean::closest;
use super::kind::{describe, is_integer};
use super::path::KeyPath;

/// A loaded schema, ready to validate values trees.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    types: Vec<JsonType>,
    properties: BTreeMap<String, Schema>,
    additional: Additional,
    items: Option<Box<Schema>>,
    allowed: Option<Vec<Value>>,
    minimum: Option<Number>,
    maximum: Option<Number>,
}

#[derive(Debug, Clone, Default)]
enum Additional {
    #[default]
    Allowed,
    Forbidden,
    Checked(Box<Schema>),
}

/// A JSON Schema type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// `object`: a map.
    Object,
    /// `array`: a list.
    Array,
    /// `string`.
    String,
    /// `integer`: a number without a fractional part.
    Integer,
    /// `number`: any number.
    Number,
    /// `boolean`.
    Boolean,
    /// `null`.
    Null,
}

/// The schema document itself is unusable: not JSON, or it uses what this validator does
/// not support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {problem}")]
pub struct SchemaError {
    /// A JSON pointer to the offending part of the schema, e.g. `#/properties/ingress`.
    pub at: String,
    /// What is wrong there.
    pub problem: String,
}

/// One way in which a values tree breaks the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Where in the values tree.
    pub path: KeyPath,
    /// What is wrong there.
    pub problem: Problem,
}

/// What a [`Violation`] found wrong. Each variant carries the offending value described as
/// its type and, for scalars, the value (`string "abc"`).
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The value's type is not one the schema allows.
    WrongType {
        /// The types the schema allows.
        expected: Vec<JsonType>,
        /// The value found.
        actual: String,
    },
    /// A map key the schema does not know.
    UnknownKey {
        /// The known sibling key that is closest to it, when one is close.
        suggestion: Option<KeyPath>,
    },
    /// The value is not in the schema's `enum`.
    NotAllowed {
        /// The values the schema allows.
        allowed: Vec<Value>,
        /// The value found.
        actual: String,
    },
    /// The number is below `minimum`.
    TooSmall {
        /// The smallest value allowed.
        minimum: Number,
        /// The value found.
        actual: String,
    },
    /// The number is above `maximum`.
    TooLarge {
        /// The largest value allowed.
        maximum: Number,
        /// The value found.
        actual: String,
    },
}

impl Schema {
    /// Reads a schema document, rejecting unsupported keywords and malformed keyword values.
    pub fn from_json(text: &str) -> Result<Self, SchemaError> {
        let document: Value = serde_json::from_str(text).map_err(|e| SchemaError {
            at: "#".to_owned(),
            problem: format!("not valid JSON: {e}"),
        })?;
        Self::from_node(&document, "#")
    }

    fn from_node(node: &Value, at: &str) -> Result<Self, SchemaError> {
        let Value::Object(keywords) = node else {
            return Err(invalid(at, "a schema must be a JSON object"));
        };
        let mut schema = Schema::default();
        let mut additional = None;
        for (keyword, value) in keywords {
            let here = format!("{at}/{}", pointer_token(keyword));
            match keyword.as_str() {
                "type" => schema.types = types(value, &here)?,
                "properties" => {
                    let Value::Object(properties) = value else {
                        return Err(invalid(&here, "must be an object of schemas"));
                    };
                    for (name, property) in properties {
                        let at = format!("{here}/{}", pointer_token(name));
                        schema
                            .properties
                            .insert(name.clone(), Self::from_node(property, &at)?);
                    }
                }
                "additionalProperties" => {
                    additional = Some(match value {
                        Value::Bool(true) => Additional::Allowed,
                        Value::Bool(false) => Additional::Forbidden,
                        other => Additional::Checked(Box::new(Self::from_node(other, &here)?)),
                    });
                }
                "items" => schema.items = Some(Box::new(Self::from_node(value, &here)?)),
                "enum" => match value {
                    Value::Array(allowed) if !allowed.is_empty() => {
                        schema.allowed = Some(allowed.clone())
                    }
                    _ => return Err(invalid(&here, "must be a non-empty array")),
                },
                "minimum" => schema.minimum = Some(number(value, &here)?),
                "maximum" => schema.maximum = Some(number(value, &here)?),
                "description" | "title" | "$comment" => {
                    if !value.is_string() {
                        return Err(invalid(&here, "must be a string"));
                    }
                }
                "default" | "$schema" => {}
                other => {
                    return Err(invalid(at, &format!("unsupported keyword \"{other}\"")));
                }
            }
        }
        let describes_objects =
            schema.types.contains(&JsonType::Object) || !schema.properties.is_empty();
        schema.additional = additional.unwrap_or(if describes_objects {
            Additional::Forbidden
        } else {
            Additional::Allowed
        });
        Ok(schema)
    }

    /// Every violation in `value`, in tree order (keys sorted). Nothing below a value of the
    /// wrong type is checked, so one wrong map does not bury the report in follow-ups.
    pub fn validate(&self, value: &Value) -> Vec<Violation> {
        let mut found = Vec::new();
        self.check(value, &KeyPath::root(), &mut found);
        found
    }

    fn check(&self, value: &Value, path: &KeyPath, found: &mut Vec<Violation>) {
        // The value of a key that names a secret is described by its kind alone.
        let describe = |value: &Value| {
            if crate::redacted::names_a_secret(&path.to_string()) {
                super::kind::kind_of(value).to_owned()
            } else {
                describe(value)
            }
        };
        let mut report = |problem| {
            found.push(Violation {
                path: path.clone(),
                problem,
            })
        };
        if !self.types.is_empty() && !self.types.iter().any(|t| t.admits(value)) {
            report(Problem::WrongType {
                expected: self.types.clone(),
                actual: describe(value),
            });
            return;
        }
        if let Some(allowed) = &self.allowed
            && !allowed.iter().any(|a| same(a, value))
        {
            report(Problem::NotAllowed {
                allowed: allowed.clone(),
                actual: describe(value),
            });
        }
        if let Value::Number(n) = value {
            let n = n.as_f64();
            let below = |bound: &Number| n < bound.as_f64();
            if let Some(minimum) = self.minimum.as_ref().filter(|m| below(m)) {
                report(Problem::TooSmall {
                    minimum: minimum.clone(),
                    actual: describe(value),
                });
            }
            let above = |bound: &Number| n > bound.as_f64();
            if let Some(maximum) = self.maximum.as_ref().filter(|m| above(m)) {
                report(Problem::TooLarge {
                    maximum: maximum.clone(),
                    actual: describe(value),
                });
            }
        }
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let child_path = path.key(key);
                    let extra = match &self.additional {
                        Additional::Checked(schema) => Some(schema.as_ref()),
                        Additional::Allowed | Additional::Forbidden => None,
                    };
                    match (self.properties.get(key).or(extra), &self.additional) {
                        (Some(schema), _) => schema.check(child, &child_path, found),
                        (None, Additional::Allowed | Additional::Checked(_)) => {}
                        (None, Additional::Forbidden) => found.push(Violation {
                            path: child_path,
                            problem: Problem::UnknownKey {
                                suggestion: closest(
                                    key,
                                    self.properties.keys().map(String::as_str),
                                )
                                .map(|known| path.key(known)),
                            },
                        }),
                    }
                }
            }
            Value::Array(items) => {
                if let Some(schema) = &self.items {
                    for (index, item) in items.iter().enumerate() {
                        schema.check(item, &path.index(index), found);
                    }
                }
            }
            _ => {}
        }
    }
}

impl JsonType {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "object" => Self::Object,
            "array" => Self::Array,
            "string" => Self::String,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "null" => Self::Null,
            _ => return None,
        })
    }

    fn admits(self, value: &Value) -> bool {
        match (self, value) {
            (Self::Object, Value::Object(_))
            | (Self::Array, Value::Array(_))
            | (Self::String, Value::String(_))
            | (Self::Number, Value::Number(_))
            | (Self::Boolean, Value::Bool(_))
            | (Self::Null, Value::Null) => true,
            (Self::Integer, Value::Number(n)) => is_integer(n),
            _ => false,
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Object => "object",
            Self::Array => "array",
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Null => "null",
        })
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongType { expected, actual } => {
                let names: Vec<String> = expected.iter().map(ToString::to_string).collect();
                write!(f, "expected {}, got {actual}", alternatives(&names))
            }
            Self::UnknownKey { suggestion: None } => f.write_str("unknown key"),
            Self::UnknownKey {
                suggestion: Some(known),
            } => write!(f, "unknown key; did you mean {known}?"),
            Self::NotAllowed { allowed, actual } => {
                let names: Vec<String> = allowed.iter().map(ToString::to_string).collect();
                write!(f, "expected one of {}, got {actual}", names.join(", "))
            }
            Self::TooSmall { minimum, actual } => {
                write!(f, "expected at least {minimum}, got {actual}")
            }
            Self::TooLarge { maximum, actual } => {
                write!(f, "expected at most {maximum}, got {actual}")
            }
        }
    }
}

/// `a`, `a or b`, `a, b or c`.
fn alternatives(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Equality as `enum` means it: `1` and `1.0` are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn types(value: &Value, at: &str) -> Result<Vec<JsonType>, SchemaError> {
    let names: Vec<&Value> = match value {
        Value::Array(names) if !names.is_empty() => names.iter().collect(),
        Value::String(_) => vec![value],
        _ => {
            return Err(invalid(
                at,
                "must be a type name or a non-empty array of them",
            ));
        }
    };
    names
        .into_iter()
        .map(|name| {
            name.as_str()
                .and_then(JsonType::from_name)
                .ok_or_else(|| invalid(at, &format!("unknown type {name}")))
        })
        .collect()
}

fn number(value: &Value, at: &str) -> Result<Number, SchemaError> {
    match value {
        Value::Number(n) => Ok(n.clone()),
        _ => Err(invalid(at, "must be a number")),
    }
}

fn invalid(at: &str, problem: &str) -> SchemaError {
    SchemaError {
        at: at.to_owned(),
        problem: problem.to_owned(),
    }
}

/// A JSON pointer reference token: `~` and `/` are escaped as RFC 6901 says.
fn pointer_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests;
