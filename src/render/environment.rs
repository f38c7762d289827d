//! The minijinja environment a chart version renders with, over its templates built into the
//! binary.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use super::filters;
use super::helm_text::helm_text;
use crate::chart::Chart;

/// The templates that produce objects, in rendering order. Names starting with `_` hold
/// shared macros and render nothing themselves.
pub fn object_templates(chart: &Chart) -> impl Iterator<Item = &'static str> {
    chart
        .templates()
        .map(|(name, _)| name)
        .filter(|name| !name.rsplit('/').next().unwrap_or(name).starts_with('_'))
}

/// Built on first use. Templates compile when first rendered, so a mistake in one surfaces as
/// an error naming its file and line rather than a panic.
pub fn environment(chart: &'static Chart) -> &'static Environment<'static> {
    chart.environment(|| {
        let mut env = Environment::new();
        env.set_loader(move |name| {
            Ok(chart
                .templates()
                .find(|(known, _)| *known == name)
                .map(|(_, source)| source.to_owned()))
        });
        // Output is YAML assembled as text, as Helm does: nothing may be escaped.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        env.set_formatter(|out, _state, value| Ok(out.write_str(&helm_text(value))?));
        filters::register(&mut env);
        env
    })
}
