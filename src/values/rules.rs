//! A chart version's rules for its values beyond the schema: what the upstream chart refuses
//! with `fail` in its templates, written as data in `charts/skypilot/<version>/rules.yaml`
//! and checked here, purely, on the merged values. A combination the chart would refuse is
//! then refused before anything is rendered or sent to a cluster.
//!
//! The file is a list of rules. Each has one check, a `fix` (what the user can do, shown after
//! the problem) and, optionally, `when`: a condition under which alone the rule applies. The
//! keys that make `when` hold are named in the message, with where their values came from.
//!
//! - `minimum: {key, measure: cpu | memory, atLeast}`: a resource quantity reaches a floor
//!   (see [`quantity`](super::quantity) for how it is read).
//! - `requires: <condition>`: the condition holds.
//! - `excludes: [<condition>, <condition>, …]`: the conditions do not all hold at once.
//! - `refuse: <condition>`: the condition does not hold (a feature skyctl does not provide).
//! - `quantity: <pattern>`: every value at a key the pattern matches is a quantity as
//!   Kubernetes parses it (`500m`, `8Gi`, `1e3`, a number). A pattern is a key path where `*`
//!   stands for any one key and `**` for any keys, none included. The chart passes such values
//!   to the API server unread, which refuses the object without naming the values key.
//! - `name: {key: <pattern>, kind: <kind>}`: every non-empty string at a key the pattern
//!   matches is a valid name of that kind (`namespace`, `gateway`, `listener`,
//!   `ingressClass`, `host`; see [`kube_names`](crate::kube_names)), for the same reason.
//!
//! A condition is a test, `{all: [<condition>, …]}` or `{any: [<condition>, …]}`. A test is
//! one string: `key` holds when the value is set as Helm's `if` sees it (not missing, null,
//! false, 0, "" or empty); `not key` is the opposite; `key == value` and `key != value`
//! compare with a string (`""` is the empty one). Keys are dotted paths; `\.` is a dot inside
//! a key.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::kind::helm_truthy;
use super::origin::{Origin, names_a_secret};
use super::path::KeyPath;
use super::quantity::{self, Measure};
use crate::kube_names::{self, NameKind};

/// A chart version's rules, loaded from its `rules.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Rules(Vec<Rule>);

#[derive(Debug, Clone)]
struct Rule {
    when: Option<Condition>,
    check: Check,
    fix: String,
}

#[derive(Debug, Clone)]
enum Check {
    Minimum {
        key: KeyPath,
        measure: Measure,
        /// The floor, in cores or bytes.
        at_least: f64,
        /// The floor as the rules file writes it, e.g. `8Gi`.
        written: String,
    },
    Requires(Condition),
    Excludes(Vec<Condition>),
    Refuse(Condition),
    Quantity(Pattern),
    Name(Pattern, NameKind),
}

/// Keys a `quantity` or `name` rule reads: a key path with wildcards.
#[derive(Debug, Clone)]
struct Pattern(Vec<PatternSegment>);

#[derive(Debug, Clone, PartialEq)]
enum PatternSegment {
    Key(String),
    /// `*`: any one key.
    AnyKey,
    /// `**`: any keys, none included.
    AnyKeys,
}

#[derive(Debug, Clone)]
enum Condition {
    Test(Test),
    All(Vec<Condition>),
    Any(Vec<Condition>),
}

#[derive(Debug, Clone)]
enum Test {
    Set(KeyPath),
    Unset(KeyPath),
    Equals(KeyPath, String),
    Differs(KeyPath, String),
}

/// The rules file is unusable; a bug in skyctl's chart data, not in the user's input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules.yaml: {0}")]
pub struct RulesError(String);

/// A rule the values break.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// The values that made the rule apply (its `when`).
    pub context: Vec<Fact>,
    /// What is wrong.
    pub problem: Problem,
    /// What the user can do.
    pub fix: String,
}

/// What a [`Breach`] found wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// A resource quantity is below the floor.
    Below {
        /// The quantity.
        fact: Fact,
        /// The floor as the rules file writes it.
        minimum: String,
        /// What the quantity measures.
        measure: Measure,
    },
    /// A requirement does not hold.
    Unmet {
        /// The requirement, in words.
        needs: String,
        /// The values the requirement reads that are there but wrong.
        found: Vec<Fact>,
    },
    /// Conditions that exclude each other all hold; the values that make each hold.
    Together(Vec<Vec<Fact>>),
    /// A refused condition holds; the values that make it hold.
    Refused(Vec<Fact>),
    /// Values that Kubernetes does not read as quantities.
    NotQuantities(Vec<Fact>),
    /// Values that are not names of `kind`, each with the first naming rule it breaks.
    NotNames {
        kind: NameKind,
        found: Vec<(Fact, kube_names::Problem)>,
    },
}

/// One value a message names: its key, the value when it may be shown, and where it came
/// from once the values engine has traced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The key.
    pub path: KeyPath,
    /// The value as the message shows it.
    pub shown: Shown,
    /// Where the value came from; filled in by the values engine, which knows the layers.
    pub origin: Option<Origin>,
}

/// How a [`Fact`] shows its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// As JSON, e.g. `true`, `2`, `"ReadWriteOnce"`.
    Value(String),
    /// Not at all: the key alone is named (a secret, a long text, a map).
    Hidden,
    /// The key has no value.
    Missing,
}

// --- Loading ---

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleSpec {
    #[serde(default)]
    when: Option<ConditionSpec>,
    #[serde(default)]
    minimum: Option<MinimumSpec>,
    #[serde(default)]
    requires: Option<ConditionSpec>,
    #[serde(default)]
    excludes: Option<Vec<ConditionSpec>>,
    #[serde(default)]
    refuse: Option<ConditionSpec>,
    #[serde(default)]
    quantity: Option<String>,
    #[serde(default)]
    name: Option<NameSpec>,
    fix: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NameSpec {
    key: String,
    kind: NameKindSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum NameKindSpec {
    Namespace,
    Gateway,
    Listener,
    IngressClass,
    Host,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MinimumSpec {
    key: String,
    measure: MeasureSpec,
    at_least: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum MeasureSpec {
    Cpu,
    Memory,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ConditionSpec {
    Test(String),
    All { all: Vec<ConditionSpec> },
    Any { any: Vec<ConditionSpec> },
}

impl Rules {
    /// Reads a rules file; an empty file (or `[]`) has no rules.
    pub fn from_yaml(text: &str) -> Result<Self, RulesError> {
        let specs: Option<Vec<RuleSpec>> =
            serde_yaml_ng::from_str(text).map_err(|err| RulesError(err.to_string()))?;
        specs
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, spec)| {
                rule(spec).map_err(|problem| RulesError(format!("rule {}: {problem}", index + 1)))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Every rule `values` breaks, in the file's order.
    pub fn check(&self, values: &Value) -> Vec<Breach> {
        self.0
            .iter()
            .filter_map(|rule| rule.check(values))
            .collect()
    }
}

fn rule(spec: RuleSpec) -> Result<Rule, String> {
    let RuleSpec {
        when,
        minimum,
        requires,
        excludes,
        refuse,
        quantity,
        name,
        fix,
    } = spec;
    let mut checks = Vec::new();
    if let Some(minimum) = minimum {
        let measure = match minimum.measure {
            MeasureSpec::Cpu => Measure::Cpu,
            MeasureSpec::Memory => Measure::Memory,
        };
        let at_least = quantity::kubernetes_reading(&Value::String(minimum.at_least.clone()))
            .ok_or_else(|| format!("atLeast {:?} is not a quantity", minimum.at_least))?;
        checks.push(Check::Minimum {
            key: key_path(&minimum.key)?,
            measure,
            at_least,
            written: minimum.at_least,
        });
    }
    if let Some(requires) = requires {
        checks.push(Check::Requires(condition(requires)?));
    }
    if let Some(excludes) = excludes {
        if excludes.len() < 2 {
            return Err("excludes needs at least two conditions".to_owned());
        }
        let conditions = excludes
            .into_iter()
            .map(condition)
            .collect::<Result<_, _>>()?;
        checks.push(Check::Excludes(conditions));
    }
    if let Some(refuse) = refuse {
        checks.push(Check::Refuse(condition(refuse)?));
    }
    if let Some(quantity) = quantity {
        checks.push(Check::Quantity(pattern(&quantity)?));
    }
    if let Some(NameSpec { key, kind }) = name {
        let kind = match kind {
            NameKindSpec::Namespace => NameKind::Namespace,
            NameKindSpec::Gateway => NameKind::Gateway,
            NameKindSpec::Listener => NameKind::Listener,
            NameKindSpec::IngressClass => NameKind::IngressClass,
            NameKindSpec::Host => NameKind::Host,
        };
        checks.push(Check::Name(pattern(&key)?, kind));
    }
    if checks.len() != 1 {
        return Err(
            "needs exactly one of minimum, requires, excludes, refuse, quantity and name"
                .to_owned(),
        );
    }
    if fix.trim().is_empty() {
        return Err("has an empty fix".to_owned());
    }
    Ok(Rule {
        when: when.map(condition).transpose()?,
        check: checks.remove(0),
        fix: fix.trim().to_owned(),
    })
}

fn condition(spec: ConditionSpec) -> Result<Condition, String> {
    let list = |specs: Vec<ConditionSpec>| -> Result<Vec<Condition>, String> {
        if specs.is_empty() {
            return Err("an empty all or any".to_owned());
        }
        specs.into_iter().map(condition).collect()
    };
    Ok(match spec {
        ConditionSpec::Test(text) => Condition::Test(test(&text)?),
        ConditionSpec::All { all } => Condition::All(list(all)?),
        ConditionSpec::Any { any } => Condition::Any(list(any)?),
    })
}

/// One test as the rules file writes it: `key`, `not key`, `key == value`, `key != value`.
fn test(text: &str) -> Result<Test, String> {
    let text = text.trim();
    if let Some((key, value)) = text.split_once(" == ") {
        return Ok(Test::Equals(key_path(key)?, literal(value)?));
    }
    if let Some((key, value)) = text.split_once(" != ") {
        return Ok(Test::Differs(key_path(key)?, literal(value)?));
    }
    if let Some(key) = text.strip_prefix("not ") {
        return Ok(Test::Unset(key_path(key)?));
    }
    Ok(Test::Set(key_path(text)?))
}

fn literal(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.starts_with('"') {
        serde_json::from_str(text).map_err(|err| format!("{text}: {err}"))
    } else {
        Ok(text.to_owned())
    }
}

/// A dotted key path; `\.` is a dot inside a key.
fn key_path(text: &str) -> Result<KeyPath, String> {
    Ok(keys(text)?
        .iter()
        .fold(KeyPath::root(), |path, (key, _)| path.key(key)))
}

/// A `quantity` rule's pattern: a key path whose unescaped `*` and `**` are wildcards.
fn pattern(text: &str) -> Result<Pattern, String> {
    Ok(Pattern(
        keys(text)?
            .into_iter()
            .map(|(key, escaped)| match key.as_str() {
                "*" if !escaped => PatternSegment::AnyKey,
                "**" if !escaped => PatternSegment::AnyKeys,
                _ => PatternSegment::Key(key),
            })
            .collect(),
    ))
}

/// The keys of a dotted path, each with whether it had an escape in it.
fn keys(text: &str) -> Result<Vec<(String, bool)>, String> {
    let text = text.trim();
    if text.is_empty() || text.contains(char::is_whitespace) {
        return Err(format!("{text:?} is not a key path"));
    }
    let mut keys = Vec::new();
    let mut key = String::new();
    let mut escaped = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                key.extend(chars.next());
                escaped = true;
            }
            '.' => {
                if key.is_empty() {
                    return Err(format!("{text:?} has an empty key"));
                }
                keys.push((std::mem::take(&mut key), std::mem::take(&mut escaped)));
            }
            c => key.push(c),
        }
    }
    if key.is_empty() {
        return Err(format!("{text:?} has an empty key"));
    }
    keys.push((key, escaped));
    Ok(keys)
}

// --- Checking ---

impl Rule {
    fn check(&self, values: &Value) -> Option<Breach> {
        if let Some(when) = &self.when
            && !when.holds(values)
        {
            return None;
        }
        let problem = match &self.check {
            Check::Minimum {
                key,
                measure,
                at_least,
                written,
            } => {
                let value = key.lookup(values);
                // A value that is set but no quantity at all is the `quantity` rule's to name.
                let unreadable = value
                    .is_some_and(|v| helm_truthy(v) && quantity::kubernetes_reading(v).is_none());
                (!unreadable && quantity::amount(*measure, value) < *at_least).then(|| {
                    Problem::Below {
                        fact: Fact::new(key, value, true),
                        minimum: written.clone(),
                        measure: *measure,
                    }
                })?
            }
            Check::Requires(needed) => (!needed.holds(values)).then(|| {
                let mut found = Vec::new();
                needed.refuting(values, &mut found);
                Problem::Unmet {
                    needs: needed.to_string(),
                    found,
                }
            })?,
            Check::Excludes(conditions) => conditions
                .iter()
                .all(|c| c.holds(values))
                .then(|| Problem::Together(conditions.iter().map(|c| c.facts(values)).collect()))?,
            Check::Refuse(refused) => refused
                .holds(values)
                .then(|| Problem::Refused(refused.facts(values)))?,
            Check::Quantity(pattern) => {
                let mut wrong = Vec::new();
                pattern.each_match(values, &mut |path, value| {
                    if !value.is_null() && quantity::kubernetes_reading(value).is_none() {
                        wrong.push(Fact::new(&path, Some(value), true));
                    }
                });
                (!wrong.is_empty()).then_some(Problem::NotQuantities(wrong))?
            }
            Check::Name(pattern, kind) => {
                let mut found = Vec::new();
                pattern.each_match(values, &mut |path, value| {
                    // Empty is "not set": each key's default then applies.
                    if let Some(name) = value.as_str().filter(|name| !name.is_empty())
                        && let Err(invalid) = kube_names::check(*kind, name)
                    {
                        found.push((Fact::new(&path, Some(value), true), invalid.problem));
                    }
                });
                (!found.is_empty()).then_some(Problem::NotNames { kind: *kind, found })?
            }
        };
        Some(Breach {
            context: self
                .when
                .as_ref()
                .map(|w| w.facts(values))
                .unwrap_or_default(),
            problem,
            fix: self.fix.clone(),
        })
    }
}

impl Pattern {
    /// Calls `found` with each key of `values` the pattern matches, and its value.
    fn each_match(&self, values: &Value, found: &mut dyn FnMut(KeyPath, &Value)) {
        Self::walk(&self.0, values, KeyPath::root(), found);
    }

    /// [`Pattern::each_match`] below `node`, at `path`, for what is `rest` of the pattern.
    fn walk(
        rest: &[PatternSegment],
        node: &Value,
        path: KeyPath,
        found: &mut dyn FnMut(KeyPath, &Value),
    ) {
        let Some((first, after)) = rest.split_first() else {
            found(path, node);
            return;
        };
        let Some(map) = node.as_object() else {
            return;
        };
        match first {
            PatternSegment::Key(key) => {
                if let Some(child) = map.get(key) {
                    Self::walk(after, child, path.key(key), found);
                }
            }
            PatternSegment::AnyKey => {
                for (key, child) in map {
                    Self::walk(after, child, path.key(key), found);
                }
            }
            PatternSegment::AnyKeys => {
                // None of the keys, or one more and still any keys.
                Self::walk(after, node, path.clone(), found);
                for (key, child) in map {
                    Self::walk(rest, child, path.key(key), found);
                }
            }
        }
    }
}

impl Condition {
    fn holds(&self, values: &Value) -> bool {
        match self {
            Self::Test(test) => test.holds(values),
            Self::All(all) => all.iter().all(|c| c.holds(values)),
            Self::Any(any) => any.iter().any(|c| c.holds(values)),
        }
    }

    /// The values that make this condition hold: those its holding tests read, except the
    /// `not key` ones, whose key has nothing to show.
    fn facts(&self, values: &Value) -> Vec<Fact> {
        let mut facts = Vec::new();
        self.witnesses(values, &mut facts);
        facts
    }

    fn witnesses(&self, values: &Value, out: &mut Vec<Fact>) {
        match self {
            Self::Test(test) => {
                if test.holds(values)
                    && let Some(fact) = test.fact(values)
                {
                    out.push(fact);
                }
            }
            Self::All(list) | Self::Any(list) => list
                .iter()
                .filter(|c| c.holds(values))
                .for_each(|c| c.witnesses(values, out)),
        }
    }

    /// The values that keep this (failing) condition from holding, when they are there at all:
    /// a missing key is said by the requirement itself.
    fn refuting(&self, values: &Value, out: &mut Vec<Fact>) {
        match self {
            Self::Test(test) => {
                if !test.holds(values)
                    && test.key().lookup(values).is_some_and(|v| !v.is_null())
                    && let Some(fact) = test.fact(values)
                {
                    out.push(fact);
                }
            }
            Self::All(list) | Self::Any(list) => list
                .iter()
                .filter(|c| !c.holds(values))
                .for_each(|c| c.refuting(values, out)),
        }
    }
}

impl Test {
    fn key(&self) -> &KeyPath {
        match self {
            Self::Set(key) | Self::Unset(key) | Self::Equals(key, _) | Self::Differs(key, _) => key,
        }
    }

    fn holds(&self, values: &Value) -> bool {
        let value = self.key().lookup(values);
        match self {
            Self::Set(_) => value.is_some_and(helm_truthy),
            Self::Unset(_) => !value.is_some_and(helm_truthy),
            // Helm's `eq` compares a string with a string only; anything else is not equal.
            Self::Equals(_, expected) => value.and_then(Value::as_str) == Some(expected),
            Self::Differs(_, expected) => value.and_then(Value::as_str) != Some(expected),
        }
    }

    /// The fact this test reads; `not key` reads none worth naming.
    fn fact(&self, values: &Value) -> Option<Fact> {
        let value = self.key().lookup(values);
        match self {
            Self::Unset(_) => None,
            // Whether a value is set says nothing about its text, which may be a password.
            Self::Set(key) => Some(Fact::new(key, value, false)),
            Self::Equals(key, _) | Self::Differs(key, _) => Some(Fact::new(key, value, true)),
        }
    }
}

/// The longest string a message shows; a longer one is named by its key alone.
const SHOWN_LIMIT: usize = 40;

impl Fact {
    /// `text` says whether a string may be shown (a secret never is).
    fn new(path: &KeyPath, value: Option<&Value>, text: bool) -> Self {
        let shown = match value {
            None | Some(Value::Null) => Shown::Missing,
            Some(value @ (Value::Bool(_) | Value::Number(_))) => Shown::Value(value.to_string()),
            Some(Value::String(s)) if s.is_empty() => Shown::Value("\"\"".to_owned()),
            Some(value @ Value::String(s))
                if text
                    && !names_a_secret(&path.to_string())
                    && !s.contains('\n')
                    && s.chars().count() <= SHOWN_LIMIT =>
            {
                Shown::Value(value.to_string())
            }
            Some(_) => Shown::Hidden,
        };
        Self {
            path: path.clone(),
            shown,
            origin: None,
        }
    }
}

impl Breach {
    /// Every fact the message names, for the values engine to trace to its origin.
    pub fn facts_mut(&mut self) -> impl Iterator<Item = &mut Fact> {
        let problem: Vec<&mut Fact> = match &mut self.problem {
            Problem::Below { fact, .. } => vec![fact],
            Problem::Unmet { found, .. } => found.iter_mut().collect(),
            Problem::Together(sides) => sides.iter_mut().flatten().collect(),
            Problem::Refused(facts) | Problem::NotQuantities(facts) => facts.iter_mut().collect(),
            Problem::NotNames { found, .. } => found.iter_mut().map(|(fact, _)| fact).collect(),
        };
        self.context.iter_mut().chain(problem)
    }
}

// --- Messages ---

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, list: &[Condition], word: &str| {
            for (index, condition) in list.iter().enumerate() {
                if index > 0 {
                    write!(f, " {word} ")?;
                }
                match condition {
                    Self::Test(_) => write!(f, "{condition}")?,
                    _ => write!(f, "({condition})")?,
                }
            }
            Ok(())
        };
        match self {
            Self::Test(test) => write!(f, "{test}"),
            Self::All(all) => join(f, all, "and"),
            Self::Any(any) => join(f, any, "or"),
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Set(key) => write!(f, "{key} set"),
            Self::Unset(key) => write!(f, "{key} unset"),
            Self::Equals(key, value) => write!(f, "{key}={}", Value::String(value.clone())),
            Self::Differs(key, value) if value.is_empty() => write!(f, "{key} non-empty"),
            Self::Differs(key, value) => {
                write!(f, "{key} other than {}", Value::String(value.clone()))
            }
        }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shown {
            Shown::Value(value) => write!(f, "{}={value}", self.path)?,
            Shown::Hidden => write!(f, "{}", self.path)?,
            Shown::Missing => write!(f, "{} is not set", self.path)?,
        }
        match &self.origin {
            Some(origin) => write!(f, " (from {origin})"),
            None => Ok(()),
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn listed(facts: &[Fact], last: &str) -> String {
    let shown: Vec<String> = facts.iter().map(Fact::to_string).collect();
    match shown.split_last() {
        None => String::new(),
        Some((only, [])) => only.clone(),
        Some((final_one, rest)) => format!("{} {last} {final_one}", rest.join(", ")),
    }
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.context.is_empty() {
            write!(f, "when {}, ", listed(&self.context, "and"))?;
        }
        match &self.problem {
            Problem::Below {
                fact,
                minimum,
                measure,
            } => {
                let unit = match measure {
                    Measure::Cpu => "CPU",
                    Measure::Memory => "memory",
                };
                let verb = if fact.shown == Shown::Missing {
                    ", below"
                } else {
                    " is below"
                };
                write!(f, "{fact}{verb} the chart's minimum of {minimum} {unit}")?;
            }
            Problem::Unmet { needs, found } => {
                write!(f, "the chart needs {needs}")?;
                if !found.is_empty() {
                    write!(f, "; it has {}", listed(found, "and"))?;
                }
            }
            Problem::Together(sides) => {
                let sides: Vec<String> = sides.iter().map(|side| listed(side, "with")).collect();
                write!(f, "{} exclude each other", sides.join(" and "))?;
            }
            Problem::Refused(facts) => {
                write!(f, "{} is not supported by skyctl", listed(facts, "with"))?;
            }
            Problem::NotQuantities(facts) => {
                let what = if facts.len() == 1 {
                    "is not a Kubernetes quantity"
                } else {
                    "are not Kubernetes quantities"
                };
                write!(f, "{} {what}", listed(facts, "and"))?;
            }
            Problem::NotNames { kind, found } => {
                let found: Vec<String> = found
                    .iter()
                    .map(|(fact, problem)| format!("{fact} is not a valid {kind}: {problem}"))
                    .collect();
                f.write_str(&found.join("; "))?;
            }
        }
        write!(f, ". {}", self.fix)
    }
}

#[cfg(test)]
mod tests;
