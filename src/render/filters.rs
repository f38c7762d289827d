//! The Sprig functions the upstream charts use, as minijinja filters.
//!
//! `indent` and `default` deliberately replace minijinja's built-ins of the same name: the
//! templates are ports of Helm templates and must produce the same text. Sprig's `indent`
//! pads every line, blank ones and an empty last line included (which is why the chart's
//! config ConfigMap ends with four spaces), and its `default` replaces every empty value,
//! not only a missing one.

use base64::Engine;
use minijinja::{Environment, Error, ErrorKind, Value};

use super::helm_text::helm_text;
use crate::yaml::{double_quoted, to_yaml};

pub fn register(env: &mut Environment<'_>) {
    env.add_filter("toYaml", to_yaml_filter);
    env.add_filter("indent", indent);
    env.add_filter("nindent", nindent);
    env.add_filter("quote", quote);
    env.add_filter("default", default);
    env.add_filter("b64enc", b64enc);
    env.add_filter("trunc", trunc);
    env.add_filter("trimSuffix", trim_suffix);
    env.add_filter("trimPrefix", trim_prefix);
    env.add_function("randAlphaNum", rand_alpha_num);
    env.add_function("lookup", super::lookups::lookup);
}

/// Sprig's `randAlphaNum`: `count` random letters and digits, from the system's secure
/// generator (a chart uses it for secrets).
fn rand_alpha_num(count: usize) -> Result<String, Error> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let random = aws_lc_rs::rand::SystemRandom::new();
    let mut text = String::with_capacity(count);
    while text.len() < count {
        let byte: [u8; 1] = aws_lc_rs::rand::generate(&random)
            .map_err(|_| Error::new(ErrorKind::InvalidOperation, "no system randomness"))?
            .expose();
        // 62 * 4 = 248: bytes above that are dropped so that every character is equally likely.
        if usize::from(byte[0]) < ALPHABET.len() * 4 {
            text.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    Ok(text)
}

/// Sprig's `trunc`: the first `count` characters.
fn trunc(text: &str, count: usize) -> String {
    text.chars().take(count).collect()
}

/// Sprig's `trimSuffix`: `suffix` removed once, if the text ends with it.
fn trim_suffix(text: &str, suffix: &str) -> String {
    text.strip_suffix(suffix).unwrap_or(text).to_owned()
}

/// Sprig's `trimPrefix`: `prefix` removed once, if the text starts with it.
fn trim_prefix(text: &str, prefix: &str) -> String {
    text.strip_prefix(prefix).unwrap_or(text).to_owned()
}

fn to_yaml_filter(value: Value) -> Result<String, Error> {
    let tree = serde_json::to_value(&value).map_err(|err| {
        Error::new(
            ErrorKind::InvalidOperation,
            "toYaml cannot serialize this value",
        )
        .with_source(err)
    })?;
    Ok(to_yaml(&tree))
}

fn indent(text: &str, width: usize) -> String {
    let pad = " ".repeat(width);
    format!("{pad}{}", text.replace('\n', &format!("\n{pad}")))
}

fn nindent(text: &str, width: usize) -> String {
    format!("\n{}", indent(text, width))
}

/// Sprig drops a missing value entirely instead of quoting an empty string.
fn quote(value: Value) -> String {
    if value.is_undefined() || value.is_none() {
        String::new()
    } else {
        double_quoted(&helm_text(&value))
    }
}

fn default(value: Value, fallback: Value) -> Value {
    if value.is_true() { value } else { fallback }
}

fn b64enc(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn render(source: &str, ctx: Value) -> String {
        let mut env = Environment::new();
        register(&mut env);
        env.render_str(source, ctx).unwrap()
    }

    #[test]
    fn rand_alpha_num_gives_that_many_letters_and_digits_and_differs_each_time() {
        let first = render("{{ randAlphaNum(32) }}", context! {});
        assert_eq!(first.len(), 32);
        assert!(first.chars().all(|c| c.is_ascii_alphanumeric()), "{first}");
        assert_ne!(first, render("{{ randAlphaNum(32) }}", context! {}));
    }

    #[test]
    fn trunc_and_trim_suffix_are_sprigs() {
        assert_eq!(trunc("abcdef", 3), "abc");
        assert_eq!(trunc("ab", 3), "ab");
        assert_eq!(trim_suffix("a--", "-"), "a-");
        assert_eq!(trim_suffix("a", "-"), "a");
    }

    #[test]
    fn indent_pads_blank_lines_and_a_trailing_empty_line() {
        assert_eq!(indent("a\n\nb\n", 4), "    a\n    \n    b\n    ");
        assert_eq!(nindent("a", 2), "\n  a");
    }

    #[test]
    fn quote_stringifies_and_skips_missing_values() {
        let ctx = context! { flag => false, n => 3, s => "a\"b" };
        assert_eq!(
            render("{{ flag | quote }} {{ n | quote }} {{ s | quote }}", ctx),
            r#""false" "3" "a\"b""#
        );
        assert_eq!(render("[{{ missing | quote }}]", context! {}), "[]");
    }

    #[test]
    fn default_replaces_every_empty_value() {
        let ctx = context! { empty => "", zero => 0, set => "x" };
        assert_eq!(
            render(
                "{{ empty | default('d') }} {{ zero | default('d') }} {{ missing | default('d') }} {{ set | default('d') }}",
                ctx
            ),
            "d d d x"
        );
    }

    #[test]
    fn to_yaml_of_a_missing_value_is_null() {
        assert_eq!(render("{{ missing | toYaml }}", context! {}), "null");
        assert_eq!(
            render(
                "{{ m | toYaml }}",
                context! { m => context! { b => 1, a => [1] } }
            ),
            "a:\n- 1\nb: 1"
        );
    }

    #[test]
    fn trim_prefix_removes_one_leading_occurrence() {
        assert_eq!(trim_prefix("//a/b", "/"), "/a/b");
        assert_eq!(trim_prefix("a/b", "/"), "a/b");
    }

    #[test]
    fn b64enc_uses_standard_padding() {
        assert_eq!(b64enc("ab"), "YWI=");
    }
}
