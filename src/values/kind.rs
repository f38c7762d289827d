//! The kind of a value, named with JSON Schema's type names so every message uses one vocabulary,
//! and whether Go templates (so a Helm chart's `if`) count it as true.

use serde_json::Value;

/// Longest string shown in full when a message quotes a value.
const QUOTE_LIMIT: usize = 40;

/// The JSON Schema type name of `value`: `object`, `array`, `string`, `integer`, `number`,
/// `boolean` or `null`. A number with no fractional part is an `integer`, as JSON Schema says.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => "null",
    }
}

/// Whether `n` counts as a JSON Schema `integer` (`1.0` does, `1.5` does not).
pub fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

/// The kind of `value` followed by the value itself for scalars, e.g. `string "abc"`,
/// `integer 5`, `object`. Long strings are cut so one bad value cannot flood a message.
pub fn describe(value: &Value) -> String {
    let kind = kind_of(value);
    match value {
        Value::String(s) if s.chars().count() > QUOTE_LIMIT => {
            let head: String = s.chars().take(QUOTE_LIMIT).collect();
            format!("{kind} {}…", Value::String(head))
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) => format!("{kind} {value}"),
        Value::Object(_) | Value::Array(_) | Value::Null => kind.to_owned(),
    }
}

/// Go templates' truth, which a chart's `if`, `not` and `default` test: false, 0, "", null and
/// empty collections are false.
pub fn helm_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_and_descriptions() {
        let long = "x".repeat(50);
        let cases = [
            (json!({}), "object", "object".to_owned()),
            (json!([1]), "array", "array".to_owned()),
            (json!("abc"), "string", "string \"abc\"".to_owned()),
            (json!("a\"b"), "string", "string \"a\\\"b\"".to_owned()),
            (
                json!(long),
                "string",
                format!("string \"{}\"…", "x".repeat(40)),
            ),
            (json!(5), "integer", "integer 5".to_owned()),
            (json!(-5), "integer", "integer -5".to_owned()),
            (json!(2.0), "integer", "integer 2.0".to_owned()),
            (json!(1.5), "number", "number 1.5".to_owned()),
            (json!(true), "boolean", "boolean true".to_owned()),
            (json!(null), "null", "null".to_owned()),
        ];
        for (value, kind, description) in cases {
            assert_eq!(kind_of(&value), kind, "{value}");
            assert_eq!(describe(&value), description, "{value}");
        }
    }
}
