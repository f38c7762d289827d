//! Properties that must hold for any input: the parsers and the merge never panic, and
//! merging nothing changes nothing but nulls.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::merge::{coalesce, drop_nulls, merge};
use super::path::KeyPath;
use super::schema::Schema;
use super::strvals::{Scalars, parse_into};
use super::{document, yaml_locator};

/// Strings heavy in `--set` syntax, so the parser's branches are all reached.
fn set_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-c0-2=.,\\[\\]{}\\\\ \"-]{0,24}",
        any::<String>(),
        "[a-c]{1,3}(\\[[0-3]\\])?(\\.[a-c]{1,3}){0,3}=[a-c0-9{},\\[\\]\"-]{0,8}(,[a-c]{1,2}=[0-9a-z]{0,3}){0,3}",
    ]
}

/// JSON-like trees: scalars, lists and maps nested a few levels, nulls included.
fn tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-d]{1,2}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn object_map() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("[a-d]{1,2}", tree(), 0..5).prop_map(|m| m.into_iter().collect())
}

fn object_tree() -> impl Strategy<Value = Value> {
    object_map().prop_map(Value::Object)
}

/// Text shaped like block YAML: keys, dashes, indentation, quotes, comments, scalars.
fn yaml_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "([ ]{0,4}(- )?[a-c\\'\"]{0,3}:?[ ]?[a-c|>{}\\[\\]#-]{0,3}\n){0,12}"
    ]
}

proptest! {
    #[test]
    fn strvals_never_panics(arg in set_like(), base in object_map()) {
        let mut read = |name: &str| if name.contains('a') { Ok(name.to_owned()) } else { Err("unreadable".to_owned()) };
        for mode in 0..4 {
            for mut dest in [Map::new(), base.clone()] {
                let scalars = match mode {
                    0 => Scalars::Typed,
                    1 => Scalars::Strings,
                    2 => Scalars::Json,
                    _ => Scalars::FileContents(&mut read),
                };
                let _ = parse_into(&arg, &mut dest, scalars);
            }
        }
    }

    #[test]
    fn merge_never_panics(base in tree(), overlay in tree()) {
        let mut merged = base.clone();
        merge(&mut merged, overlay.clone());
        let coalesced = coalesce(base, overlay);
        let mut pruned = merged;
        drop_nulls(&mut pruned);
        prop_assert_eq!(coalesced, pruned);
    }

    #[test]
    fn merging_nothing_is_identity_minus_nulls(base in object_tree()) {
        let mut without_nulls = base.clone();
        drop_nulls(&mut without_nulls);
        prop_assert_eq!(coalesce(base.clone(), Value::Object(Map::new())), without_nulls.clone());
        prop_assert_eq!(coalesce(Value::Object(Map::new()), base.clone()), without_nulls);
        let mut merged = base.clone();
        merge(&mut merged, Value::Object(Map::new()));
        prop_assert_eq!(merged, base);
    }

    #[test]
    fn overlay_wins_at_every_leaf(base in object_tree(), overlay in object_tree()) {
        let mut merged = base;
        merge(&mut merged, overlay.clone());
        for (key, value) in overlay.as_object().into_iter().flatten() {
            if !value.is_object() {
                prop_assert_eq!(&merged[key], value);
            }
        }
    }

    #[test]
    fn documents_locator_and_schema_never_panic(text in yaml_like(), value in tree()) {
        let _ = document::parse(&text);
        let _ = Schema::from_json(&text);
        let root = KeyPath::root();
        for path in [root.key("a"), root.key("a").index(1).key("b"), root.index(0), root.key("b").key("c").index(0)] {
            let _ = yaml_locator::line_of(&text, &path);
        }
        let schema = Schema::from_json(include_str!("testdata/schema.json")).expect("fixture loads");
        let _ = schema.validate(&value);
    }
}
