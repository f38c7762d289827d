//! Stacking the user's values layers in Helm's precedence order: the values a release
//! recorded when they are reused, each `-f` file in turn, then every `--set-json`, `--set`, the values of skyctl's shortcut flags, skyctl's own extra values, `--set-string` and finally
//! `--set-file`, each flag's arguments in command-line order.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use super::document;
use super::error::Error;
use super::input::{Inputs, display_name};
use super::merge::merge_maps;
use super::origin::{Flag, Layer};
use super::strvals::{self, Scalars};
use super::{ExtraLayer, Layers};

/// The user-supplied values, merged, and every layer kept apart for origin lookup.
pub(crate) struct Stack {
    pub(crate) user: Map<String, Value>,
    pub(crate) layers: Vec<Layer>,
}

/// Reads and merges every layer in `given`. Nulls stay in `user`: they delete defaults later.
pub(crate) fn stack(given: &Layers, stdin: &mut dyn Read) -> Result<Stack, Error> {
    let mut builder = Builder {
        inputs: Inputs::new(stdin),
        stack: Stack {
            user: Map::new(),
            layers: Vec::new(),
        },
    };
    if let Some(reused) = &given.reused {
        builder.extra(reused);
    }
    for path in &given.files {
        builder.file(path)?;
    }
    builder.flags(Flag::SetJson, &given.set_json)?;
    builder.flags(Flag::Set, &given.set)?;
    for extra in given.shortcuts.iter().chain(&given.extra) {
        builder.extra(extra);
    }
    builder.flags(Flag::SetString, &given.set_string)?;
    builder.flags(Flag::SetFile, &given.set_file)?;
    Ok(builder.stack)
}

struct Builder<'s> {
    inputs: Inputs<'s>,
    stack: Stack,
}

impl Builder<'_> {
    fn extra(&mut self, extra: &ExtraLayer) {
        merge_maps(&mut self.stack.user, extra.values.clone());
        let tree = Value::Object(extra.values.clone());
        self.stack.layers.push(Layer::extra(&extra.label, tree));
    }

    fn file(&mut self, path: &Path) -> Result<(), Error> {
        let name = display_name(path);
        let text = self.inputs.read(path).map_err(|source| Error::Read {
            name: name.clone(),
            source,
        })?;
        let tree = document::parse(&text).map_err(|source| Error::Document {
            name: name.clone(),
            source,
        })?;
        merge_maps(&mut self.stack.user, tree.clone());
        self.stack
            .layers
            .push(Layer::file(name, text, Value::Object(tree)));
        Ok(())
    }

    /// Applies each argument on top of everything before it, as Helm does, so that
    /// `--set list[1]=x` edits a list that a file supplied.
    fn flags(&mut self, flag: Flag, args: &[String]) -> Result<(), Error> {
        for arg in args {
            let inputs = &mut self.inputs;
            let mut read = |name: &str| inputs.read(Path::new(name)).map_err(|e| e.to_string());
            strvals::parse_into(arg, &mut self.stack.user, scalars(flag, &mut read)).map_err(
                |source| Error::Flag {
                    flag,
                    arg: arg.clone(),
                    source,
                },
            )?;
            // The argument parsed on its own records which paths it wrote. Files are not
            // read again for that: only the paths matter. On its own an argument can fail
            // where it succeeded on top of earlier values (`a.=x` over a non-empty map);
            // what it wrote up to that point is still the right record.
            let mut alone = Map::new();
            let mut placeholder = |_: &str| Ok(String::new());
            let _ = strvals::parse_into(arg, &mut alone, scalars(flag, &mut placeholder));
            self.stack
                .layers
                .push(Layer::flag(flag, arg, Value::Object(alone)));
        }
        Ok(())
    }
}

fn scalars<'r>(flag: Flag, read: &'r mut dyn FnMut(&str) -> Result<String, String>) -> Scalars<'r> {
    match flag {
        Flag::SetJson => Scalars::Json,
        Flag::Set => Scalars::Typed,
        Flag::SetString => Scalars::Strings,
        Flag::SetFile => Scalars::FileContents(read),
    }
}
