//! How a value prints when a template writes it out, following Helm rather than Jinja.
//!
//! Helm prints a missing or null value as nothing (minijinja would print `none`), booleans in
//! lower case (minijinja prints `True`, which YAML 1.1 readers take for a string), and holds
//! every number as a float that prints without a fraction when it is whole, so `replicas: 1.0`
//! from a values file still renders `replicas: 1`.

use minijinja::Value;
use minijinja::value::ValueKind;

use crate::yaml::number_text;

/// The text Helm would print for `value`.
pub fn helm_text(value: &Value) -> String {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => String::new(),
        ValueKind::Bool => value.is_true().to_string(),
        ValueKind::Number => match serde_json::to_value(value) {
            Ok(serde_json::Value::Number(number)) => number_text(&number),
            _ => value.to_string(),
        },
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_null_print_as_nothing() {
        assert_eq!(helm_text(&Value::UNDEFINED), "");
        assert_eq!(helm_text(&Value::from(())), "");
    }

    #[test]
    fn whole_floats_print_without_fraction() {
        assert_eq!(helm_text(&Value::from(2.0)), "2");
        assert_eq!(helm_text(&Value::from(2.5)), "2.5");
        assert_eq!(helm_text(&Value::from(7)), "7");
        assert_eq!(helm_text(&Value::from(false)), "false");
    }
}
