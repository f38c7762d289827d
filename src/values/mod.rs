//! The values engine: skyctl's defaults, the user's values files and `--set` flags, merged
//! with Helm's rules, checked against skyctl's values schema and then against the chart's
//! rules (what the upstream chart refuses with `fail`), so every command refuses bad values
//! before it renders anything or asks the cluster anything.
//!
//! Precedence, lowest first, as in Helm: the embedded defaults (with the defaults a release
//! recorded over them, for `--reuse-values`); the values a release recorded, when an upgrade
//! reuses them; each `-f/--values` file in order (`-` is standard input); every `--set-json`;
//! every `--set`; the values skyctl's shortcut flags stand for (`--gateway`, `--hostname`);
//! skyctl's own [`ExtraLayer`]s; every `--set-string`; every `--set-file`. Maps
//! merge, lists and scalars replace, and a null removes the key, so no null-valued key is left
//! in the final tree.

mod did_you_mean;
pub mod document;
mod error;
mod input;
mod kind;
pub mod merge;
pub mod origin;
pub mod path;
pub mod quantity;
pub mod rules;
pub mod schema;
mod stack;
pub mod strvals;
mod yaml_locator;

use std::io::Read;
use std::path::PathBuf;

use serde_json::{Map, Value};

pub use error::{Breaches, Error, TracedViolation, Violations};
pub use kind::helm_truthy;

use origin::{Layer, Origin, origin_of};
use rules::Rules;
use schema::Schema;

/// The values the user supplied, each list in command-line order.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// `-f/--values` files; `-` reads standard input.
    pub files: Vec<PathBuf>,
    /// `--set-json key=JSON` arguments.
    pub set_json: Vec<String>,
    /// `--set key=value` arguments.
    pub set: Vec<String>,
    /// `--set-string key=value` arguments.
    pub set_string: Vec<String>,
    /// `--set-file key=path` arguments.
    pub set_file: Vec<String>,
    /// The values skyctl's shortcut flags stand for (`--gateway`, `--hostname`), applied after
    /// `--set`: the user's own, as if given with `--set`.
    pub shortcuts: Vec<ExtraLayer>,
    /// Values skyctl computes from its own flags, applied after the shortcuts.
    pub extra: Vec<ExtraLayer>,
    /// The user values a release recorded, reused beneath every file and flag (Helm's
    /// `reuseValues`): they are the user's again, and the new revision records them.
    pub reused: Option<ExtraLayer>,
    /// The values a release was computed from, laid over skyctl's defaults as defaults of
    /// their own (Helm's `--reuse-values` keeps the old chart's values). Keys that only
    /// today's defaults have still come from them. Never recorded as the user's.
    pub previous_defaults: Option<ExtraLayer>,
}

/// Values that skyctl adds itself (for example `ingress.authCredentials` built from a
/// password flag). They rank with `--set`, after every `--set` argument, and are part of
/// the user-supplied values that a release records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtraLayer {
    /// What produced the values, shown as their origin in errors (e.g. `--auth`).
    pub label: String,
    /// The values, as a tree from the top.
    pub values: Map<String, Value>,
}

/// The result of loading values.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Defaults and every layer coalesced and validated: what templates see.
    pub values: Value,
    /// Every layer merged without the defaults, nulls kept: what a release records, so a
    /// later upgrade can lay the same choices over new defaults.
    pub user: Value,
}

/// The user's values flags, with standard input read once, so that they can be resolved again
/// with skyctl's own layers on top (the web login, stored credentials): every layer is
/// validated the same way and named as the origin of what it set.
#[derive(Debug, Clone)]
pub struct Input {
    layers: Layers,
    stdin: Vec<u8>,
}

impl Input {
    /// Reads standard input if a layer names `-`; a second `-` is refused at resolve time.
    pub fn read(layers: Layers) -> std::io::Result<Self> {
        let reads_stdin = layers.files.iter().any(|f| f.as_os_str() == "-")
            || layers.set_file.iter().any(|arg| arg.ends_with("=-"));
        let mut stdin = Vec::new();
        if reads_stdin {
            std::io::stdin().read_to_end(&mut stdin)?;
        }
        Ok(Self { layers, stdin })
    }

    /// The same input over the values a release recorded: see [`Layers::reused`] and
    /// [`Layers::previous_defaults`].
    pub fn over_recorded(
        mut self,
        reused: Option<ExtraLayer>,
        previous_defaults: Option<ExtraLayer>,
    ) -> Self {
        self.layers.reused = reused;
        self.layers.previous_defaults = previous_defaults;
        self
    }

    /// The values over a chart's defaults, with `extra` layered in (see [`Layers::extra`]).
    pub fn resolve(
        &self,
        definition: &Definition,
        extra: Vec<ExtraLayer>,
    ) -> Result<Resolved, Error> {
        let layers = Layers {
            extra,
            ..self.layers.clone()
        };
        resolve_in(definition, &layers, &mut self.stdin.as_slice())
    }
}

/// What a chart version's values must be: its defaults, its schema and its rules, read once.
#[derive(Debug)]
pub struct Definition {
    defaults: Map<String, Value>,
    schema: Schema,
    rules: Rules,
}

impl Definition {
    /// From the texts of a chart version folder.
    pub fn parse(defaults_yaml: &str, schema_json: &str, rules_yaml: &str) -> Result<Self, Error> {
        let defaults = document::parse(defaults_yaml).map_err(|source| Error::Document {
            name: Origin::Defaults.to_string(),
            source,
        })?;
        Self::new(defaults, schema_json, rules_yaml)
    }

    /// With the defaults already read.
    pub fn new(
        defaults: Map<String, Value>,
        schema_json: &str,
        rules_yaml: &str,
    ) -> Result<Self, Error> {
        Ok(Self {
            defaults,
            schema: Schema::from_json(schema_json)?,
            rules: Rules::from_yaml(rules_yaml)?,
        })
    }

    /// The defaults, before any layer.
    pub fn defaults(&self) -> &Map<String, Value> {
        &self.defaults
    }
}

/// The part of `layer` that a chart version (its `definition`) knows, and the keys taken out
/// because its schema does not have them. For values recorded with another chart version: an upgrade to a version without
/// `ingress.httpNodePort` carries the user's other choices over and names what it leaves.
pub fn known_to(
    definition: &Definition,
    mut layer: ExtraLayer,
) -> Result<(ExtraLayer, Vec<path::KeyPath>), Error> {
    let merged = merge::coalesce(
        Value::Object(definition.defaults.clone()),
        Value::Object(layer.values.clone()),
    );
    let unknown: Vec<path::KeyPath> = definition
        .schema
        .validate(&merged)
        .into_iter()
        .filter(|violation| matches!(violation.problem, schema::Problem::UnknownKey { .. }))
        .map(|violation| violation.path)
        .collect();
    let mut tree = Value::Object(layer.values);
    for path in &unknown {
        remove(&mut tree, path.segments());
    }
    let Value::Object(values) = tree else {
        unreachable!("a map stays a map when keys are taken out of it")
    };
    layer.values = values;
    Ok((layer, unknown))
}

/// Takes the key at `segments` out of `tree`, if it is there.
fn remove(tree: &mut Value, segments: &[path::Segment]) {
    use path::Segment;
    let Some((Segment::Key(last), parents)) = segments.split_last() else {
        return;
    };
    let parent = parents
        .iter()
        .try_fold(tree, |node, segment| match segment {
            Segment::Key(key) => node.as_object_mut()?.get_mut(key),
            Segment::Index(index) => node.as_array_mut()?.get_mut(*index),
        });
    if let Some(Value::Object(parent)) = parent {
        parent.remove(last);
    }
}

/// Merges `chart`'s defaults and every layer and validates the result against its schema and
/// its rules.
/// Returns the final tree and the user-supplied values alone, from one reading of the inputs
/// (a `-` file reads this process's standard input, which can be read only once).
pub fn resolve(definition: &Definition, layers: &Layers) -> Result<Resolved, Error> {
    resolve_in(definition, layers, &mut std::io::stdin())
}

/// [`resolve`] with the defaults, schema, rules and standard input given explicitly.
pub fn resolve_with(
    defaults_yaml: &str,
    schema_json: &str,
    rules_yaml: &str,
    layers: &Layers,
    stdin: &mut dyn Read,
) -> Result<Resolved, Error> {
    let definition = Definition::parse(defaults_yaml, schema_json, rules_yaml)?;
    resolve_in(&definition, layers, stdin)
}

/// [`resolve`] against a [`Definition`], with standard input given explicitly.
pub fn resolve_in(
    definition: &Definition,
    layers: &Layers,
    stdin: &mut dyn Read,
) -> Result<Resolved, Error> {
    let Definition {
        defaults,
        schema,
        rules,
    } = definition;
    let stack = stack::stack(layers, stdin)?;
    let user = Value::Object(stack.user);
    let mut base = Value::Object(defaults.clone());
    if let Some(previous) = &layers.previous_defaults {
        merge::merge(&mut base, Value::Object(previous.values.clone()));
    }
    let values = merge::coalesce(base, user.clone());
    // The rules read the values with the types the schema promises, so they run only on
    // values that fit it.
    let violations = schema.validate(&values);
    let breaches = if violations.is_empty() {
        rules.check(&values)
    } else {
        Vec::new()
    };
    if violations.is_empty() && breaches.is_empty() {
        return Ok(Resolved { values, user });
    }
    let mut all = vec![Layer::defaults(Value::Object(defaults.clone()))];
    if let Some(previous) = &layers.previous_defaults {
        all.push(Layer::extra(
            &previous.label,
            Value::Object(previous.values.clone()),
        ));
    }
    all.extend(stack.layers);
    if !violations.is_empty() {
        let traced = violations
            .into_iter()
            .map(|violation| TracedViolation {
                origin: origin_of(&all, &violation.path, &values),
                violation,
            })
            .collect();
        return Err(Error::Invalid(Violations(traced)));
    }
    let mut breaches = breaches;
    for fact in breaches.iter_mut().flat_map(rules::Breach::facts_mut) {
        fact.origin = origin_of(&all, &fact.path, &values);
    }
    Err(Error::Refused(Breaches(breaches)))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod property_tests;
