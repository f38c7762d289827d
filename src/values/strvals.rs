//! The argument syntax of Helm's `--set`, `--set-string`, `--set-json` and `--set-file`.
//!
//! An argument is `key=value` pairs separated by commas: `a.b=c,list[0].x=1,tags={a,b}`.
//! The behaviour follows Helm's `pkg/strvals` rule for rule, quirks included, because users
//! bring `--set` lines from Helm docs and scripts and expect the same tree. Where a quirk is
//! kept on purpose, the code says so.

use serde_json::{Map, Value};

use super::kind::describe;
use super::path::KeyPath;

/// The largest list index accepted, as in Helm; it bounds what `a[N]=x` can allocate.
pub const MAX_INDEX: usize = 65_536;

/// The deepest `a.b.c` nesting accepted, as in Helm. List indexes do not count towards it.
pub const MAX_NESTING: usize = 30;

/// How the text after `=` becomes a value; one variant per flag.
pub enum Scalars<'r> {
    /// `--set`: `true`, `false` and `null` (any letter case) and decimal integers are typed;
    /// everything else, floats included, stays a string.
    Typed,
    /// `--set-string`: every value is a string.
    Strings,
    /// `--set-json`: every value is a JSON document; an empty value is null.
    Json,
    /// `--set-file`: every value is a file name; the function returns the file's content or
    /// a message saying why it could not be read.
    FileContents(&'r mut dyn FnMut(&str) -> Result<String, String>),
}

/// Why a `--set` style argument was rejected. Every variant names the key it was parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The argument ended right after a key, with no `=`.
    #[error("key \"{0}\" has no value")]
    NoValue(KeyPath),
    /// A key was followed by `,` instead of `=`.
    #[error("key \"{key}\" has no value (found \",\" at character {at})")]
    EndsWithComma {
        /// The key being read.
        key: KeyPath,
        /// 1-based character position of the comma in the argument.
        at: usize,
    },
    /// `=x`, `.a=x`, `a..b=x`, `[0]=x`: a key with no name before `=`, `.` or `[`.
    #[error("{}empty key before \"{stop}\" at character {at}", inside(parent))]
    EmptyKey {
        /// The map the empty key would be in (the root for `=x`).
        parent: KeyPath,
        /// The character that ended the empty key.
        stop: char,
        /// 1-based character position of that character in the argument.
        at: usize,
    },
    /// `a.=x` and the like: a map key with nothing under it.
    #[error("key map \"{0}\" has no value")]
    EmptyMap(KeyPath),
    /// `a[x]`: the index is not a decimal integer.
    #[error("key \"{key}\": list index \"{text}\" is not an integer")]
    BadIndex {
        /// The list being indexed.
        key: KeyPath,
        /// What stood between the brackets.
        text: String,
    },
    /// `a[0` with no closing bracket.
    #[error("key \"{0}\": list index has no closing \"]\"")]
    UnclosedIndex(KeyPath),
    /// `a[-1]`.
    #[error("key \"{key}\": negative list index {index} is not allowed")]
    NegativeIndex {
        /// The list being indexed.
        key: KeyPath,
        /// The index given.
        index: i64,
    },
    /// `a[N]` with N above [`MAX_INDEX`].
    #[error("key \"{key}\": list index {index} is larger than the maximum of {MAX_INDEX}")]
    IndexTooLarge {
        /// The list being indexed.
        key: KeyPath,
        /// The index given.
        index: usize,
    },
    /// `a[0]x=1`: text between `]` and the next `.`, `[` or `=`.
    #[error("key \"{key}\": unexpected \"{text}\" after the list index")]
    AfterIndex {
        /// The list item that was indexed.
        key: KeyPath,
        /// The unexpected text.
        text: String,
    },
    /// `a={x,y` with no closing brace.
    #[error("key \"{0}\": list must end with \"}}\"")]
    UnterminatedList(KeyPath),
    /// More than [`MAX_NESTING`] dots in one key.
    #[error("key \"{0}\" is nested deeper than the maximum of {MAX_NESTING} levels")]
    TooDeep(KeyPath),
    /// The key already holds a value that cannot contain what the argument puts under it,
    /// e.g. `a.b=1` when earlier values set `a` to a string. Helm rejects these too.
    #[error("key \"{key}\" already holds {found}, so it cannot take {wanted}")]
    Conflict {
        /// The key whose existing value is in the way.
        key: KeyPath,
        /// The existing value, described.
        found: String,
        /// `nested keys` or `list indexes`.
        wanted: &'static str,
    },
    /// `--set-json`: the value is not JSON.
    #[error("key \"{key}\": invalid JSON: {message}")]
    Json {
        /// The key being set.
        key: KeyPath,
        /// The JSON parser's message.
        message: String,
    },
    /// `--set-file`: the file could not be read.
    #[error("key \"{key}\": cannot read \"{file}\": {message}")]
    File {
        /// The key being set.
        key: KeyPath,
        /// The file name given as the value.
        file: String,
        /// Why reading failed.
        message: String,
    },
}

/// Parses one flag argument and writes its assignments into `dest`, as Helm does for each
/// `--set` flag in turn: existing lists are indexed into, existing maps are extended, and a
/// key is replaced when it gets a new value. On error `dest` may hold part of the argument.
pub fn parse_into(
    arg: &str,
    dest: &mut Map<String, Value>,
    scalars: Scalars<'_>,
) -> Result<(), ParseError> {
    let values = match scalars {
        Scalars::Json => Values::Json,
        Scalars::Typed => Values::Text(TextValues::Typed),
        Scalars::Strings => Values::Text(TextValues::Strings),
        Scalars::FileContents(read) => Values::Text(TextValues::File(read)),
    };
    let mut parser = Parser {
        cursor: Cursor {
            chars: arg.chars().collect(),
            pos: 0,
        },
        values,
    };
    while let Step::More = parser.key(dest, &KeyPath::root(), 0)? {}
    Ok(())
}

/// Whether parsing goes on after an assignment. Helm stops at end of input, and in a few
/// places an early stop drops a half-built list item; keeping the same signal keeps that.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    More,
    End,
}

enum Values<'r> {
    Json,
    Text(TextValues<'r>),
}

enum TextValues<'r> {
    Typed,
    Strings,
    File(&'r mut dyn FnMut(&str) -> Result<String, String>),
}

/// What follows `=` in the text forms.
enum Braced {
    List(Vec<Value>),
    NotAList,
    AtEnd,
}

struct Cursor {
    chars: Vec<char>,
    pos: usize,
}

struct Parser<'r> {
    cursor: Cursor,
    values: Values<'r>,
}

impl Cursor {
    /// Reads up to the first unescaped stop character, which is consumed and returned
    /// (`None` at end of input). A backslash makes the next character literal.
    fn until(&mut self, stops: &[char]) -> (String, Option<char>) {
        let mut text = String::new();
        while let Some(&c) = self.chars.get(self.pos) {
            self.pos += 1;
            if stops.contains(&c) {
                return (text, Some(c));
            }
            if c == '\\' {
                match self.chars.get(self.pos) {
                    Some(&escaped) => {
                        text.push(escaped);
                        self.pos += 1;
                    }
                    None => break,
                }
            } else {
                text.push(c);
            }
        }
        (text, None)
    }

    /// Skips blanks and one comma; true when no value starts here (Helm's rule for an
    /// empty `--set-json` value, which means null).
    fn value_is_empty(&mut self) -> bool {
        while let Some(&c) = self.chars.get(self.pos) {
            if c == ',' {
                self.pos += 1;
                return true;
            }
            if !c.is_whitespace() {
                return false;
            }
            self.pos += 1;
        }
        true
    }

    fn index(&mut self, list: &KeyPath) -> Result<i64, ParseError> {
        match self.until(&[']']) {
            (text, Some(_)) => text.parse().map_err(|_| ParseError::BadIndex {
                key: list.clone(),
                text,
            }),
            (_, None) => Err(ParseError::UnclosedIndex(list.clone())),
        }
    }

    fn json(&mut self, key: &KeyPath) -> Result<Value, ParseError> {
        let rest: String = self.chars[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<Value>();
        // Helm decodes one JSON value and carries on after it, so `a={"x":1},b=2` holds two
        // assignments; a stream decoder reports how far that one value reached.
        let value = stream
            .next()
            .unwrap_or(Ok(Value::Null))
            .map_err(|e| ParseError::Json {
                key: key.clone(),
                message: e.to_string(),
            })?;
        let read = rest.get(..stream.byte_offset()).unwrap_or(&rest);
        self.pos += read.chars().count();
        Ok(value)
    }

    fn braced(&mut self, key: &KeyPath, text: &mut TextValues) -> Result<Braced, ParseError> {
        match self.chars.get(self.pos) {
            None => return Ok(Braced::AtEnd),
            Some('{') => self.pos += 1,
            Some(_) => return Ok(Braced::NotAList),
        }
        let mut items = Vec::new();
        loop {
            match self.until(&[',', '}']) {
                (_, None) => return Err(ParseError::UnterminatedList(key.clone())),
                (item, Some(',')) => items.push(text.convert(item, key)?),
                (item, Some(_)) => {
                    if self.chars.get(self.pos) == Some(&',') {
                        self.pos += 1;
                    }
                    // Like Helm, `{}` is a list holding one empty string, not an empty list.
                    items.push(text.convert(item, key)?);
                    return Ok(Braced::List(items));
                }
            }
        }
    }
}

impl TextValues<'_> {
    fn convert(&mut self, text: String, key: &KeyPath) -> Result<Value, ParseError> {
        match self {
            TextValues::Typed => Ok(typed(text)),
            TextValues::Strings => Ok(Value::String(text)),
            TextValues::File(read) => match read(&text) {
                Ok(content) => Ok(Value::String(content)),
                Err(message) => Err(ParseError::File {
                    key: key.clone(),
                    file: text,
                    message,
                }),
            },
        }
    }
}

impl Parser<'_> {
    fn key(
        &mut self,
        data: &mut Map<String, Value>,
        parent: &KeyPath,
        depth: usize,
    ) -> Result<Step, ParseError> {
        let (name, stop) = self.cursor.until(&['=', '[', ',', '.']);
        let path = parent.key(&name);
        match stop {
            None if name.is_empty() => Ok(Step::End),
            None => Err(ParseError::NoValue(path)),
            Some(',') => Err(ParseError::EndsWithComma {
                key: path,
                at: self.cursor.pos,
            }),
            // Helm drops an assignment to an empty key (`=x`, `.a=x`, `[0]=x`) without a word,
            // yet follows `.a=x` into a "" map that a values file holds. A `--set` that does
            // nothing while looking accepted is worse than an error, so skyctl refuses them all.
            Some(stop) if name.is_empty() => Err(ParseError::EmptyKey {
                parent: parent.clone(),
                stop,
                at: self.cursor.pos,
            }),
            Some('=') => {
                let (value, at_end) = self.assigned(&path)?;
                data.insert(name, value);
                Ok(if at_end { Step::End } else { Step::More })
            }
            Some('[') => {
                let index = self.cursor.index(&path)?;
                let list = match data.get(&name) {
                    None => Vec::new(),
                    Some(Value::Array(items)) => items.clone(),
                    Some(other) => return Err(conflict(path, other, "list indexes")),
                };
                let (list, step) = self.list_item(list, index, &path, depth)?;
                data.insert(name, Value::Array(list));
                Ok(step)
            }
            Some(_) => {
                let depth = depth + 1;
                if depth > MAX_NESTING {
                    return Err(ParseError::TooDeep(path));
                }
                match data.get_mut(&name) {
                    Some(Value::Object(inner)) => {
                        let step = self.key(inner, &path, depth)?;
                        no_empty_map(step, inner, path)
                    }
                    Some(other) => Err(conflict(path, other, "nested keys")),
                    None => {
                        let mut inner = Map::new();
                        let step = self.key(&mut inner, &path, depth)?;
                        let step = no_empty_map(step, &inner, path)?;
                        if !inner.is_empty() {
                            data.insert(name, Value::Object(inner));
                        }
                        Ok(step)
                    }
                }
            }
        }
    }

    /// Reads the value after `=`; the flag is true when the text form found the argument
    /// already at its end (`a=`), which Helm treats as an empty string.
    fn assigned(&mut self, key: &KeyPath) -> Result<(Value, bool), ParseError> {
        match &mut self.values {
            Values::Json => {
                if self.cursor.value_is_empty() {
                    return Ok((Value::Null, false));
                }
                let value = self.cursor.json(key)?;
                self.cursor.value_is_empty();
                Ok((value, false))
            }
            Values::Text(text) => match self.cursor.braced(key, text)? {
                Braced::List(items) => Ok((Value::Array(items), false)),
                Braced::AtEnd => Ok((Value::String(String::new()), true)),
                Braced::NotAList => {
                    let (raw, _) = self.cursor.until(&[',']);
                    Ok((text.convert(raw, key)?, false))
                }
            },
        }
    }

    /// Handles what follows `list[index]`, returning the updated list.
    fn list_item(
        &mut self,
        mut list: Vec<Value>,
        index: i64,
        path: &KeyPath,
        depth: usize,
    ) -> Result<(Vec<Value>, Step), ParseError> {
        let Ok(index) = usize::try_from(index) else {
            return Err(ParseError::NegativeIndex {
                key: path.clone(),
                index,
            });
        };
        let item = path.index(index);
        let (text, stop) = self.cursor.until(&['[', '.', '=']);
        if !text.is_empty() {
            return Err(ParseError::AfterIndex { key: item, text });
        }
        match stop {
            // `a[0]` alone is not an error in Helm: it leaves the list as it was.
            None => Ok((list, Step::End)),
            Some('=') => {
                // Unlike a plain key, a list item does not stop the argument at `a[0]=`.
                let (value, _) = self.assigned(&item)?;
                set_index(&mut list, index, value, path)?;
                Ok((list, Step::More))
            }
            Some('[') => {
                let next = self.cursor.index(&item)?;
                let inner = match list.get(index) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items.clone(),
                    Some(other) => return Err(conflict(item, other, "list indexes")),
                };
                let (inner, step) = self.list_item(inner, next, &item, depth)?;
                // Helm drops the nested list when the argument ends inside it (`a[0][1]`).
                if step == Step::End {
                    return Ok((list, step));
                }
                set_index(&mut list, index, Value::Array(inner), path)?;
                Ok((list, step))
            }
            Some(_) => {
                if let Some(slot) = list.get_mut(index) {
                    // Helm silently replaces a non-map item here instead of rejecting it.
                    let mut inner = match slot.take() {
                        Value::Object(map) => map,
                        _ => Map::new(),
                    };
                    let step = self.key(&mut inner, &item, depth);
                    *slot = Value::Object(inner);
                    return Ok((list, step?));
                }
                let mut inner = Map::new();
                // A new item is dropped when the argument ends inside it, so Helm turns
                // `a[0].b=` (nothing after `=`) into an empty list. Kept for parity.
                if self.key(&mut inner, &item, depth)? == Step::End {
                    return Ok((list, Step::End));
                }
                set_index(&mut list, index, Value::Object(inner), path)?;
                Ok((list, Step::More))
            }
        }
    }
}

/// `key "a": ` for a key inside `a`; nothing at the top, where the argument's text says enough.
fn inside(parent: &KeyPath) -> String {
    if parent.segments().is_empty() {
        String::new()
    } else {
        format!("key \"{parent}\": ")
    }
}

fn set_index(
    list: &mut Vec<Value>,
    index: usize,
    value: Value,
    path: &KeyPath,
) -> Result<(), ParseError> {
    if index > MAX_INDEX {
        return Err(ParseError::IndexTooLarge {
            key: path.clone(),
            index,
        });
    }
    if list.len() <= index {
        list.resize(index + 1, Value::Null);
    }
    list[index] = value;
    Ok(())
}

fn no_empty_map(step: Step, inner: &Map<String, Value>, path: KeyPath) -> Result<Step, ParseError> {
    if step == Step::More && inner.is_empty() {
        Err(ParseError::EmptyMap(path))
    } else {
        Ok(step)
    }
}

fn conflict(key: KeyPath, found: &Value, wanted: &'static str) -> ParseError {
    ParseError::Conflict {
        key,
        found: describe(found),
        wanted,
    }
}

/// Helm's typing for `--set`: only these four shapes are typed. Floats stay strings, and so
/// does anything with a leading zero (`007`, `0x1F`) except `0` itself.
fn typed(text: String) -> Value {
    if folds_to(&text, "true") {
        Value::Bool(true)
    } else if folds_to(&text, "false") {
        Value::Bool(false)
    } else if folds_to(&text, "null") {
        Value::Null
    } else if text == "0" {
        Value::from(0)
    } else if text.starts_with('0') {
        Value::String(text)
    } else {
        // Rust's integer parsing accepts exactly what Go's base-10 ParseInt does: an
        // optional sign, ASCII digits, and nothing outside the i64 range.
        match text.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::String(text),
        }
    }
}

/// Case-insensitive comparison as Go's `strings.EqualFold` does it for these words, which
/// also folds U+017F (long s) to `s`.
fn folds_to(text: &str, word: &str) -> bool {
    text.chars().count() == word.len()
        && text
            .chars()
            .zip(word.chars())
            .all(|(c, w)| c.eq_ignore_ascii_case(&w) || (w == 's' && c == '\u{17f}'))
}

#[cfg(test)]
mod tests;
