//! Helm's rules for laying one values tree over another.

use serde_json::{Map, Value};

/// Lays `overlay` over `base` the way Helm combines user-supplied layers (one `-f` file over
/// the previous ones): maps merge key by key; anything else in `overlay` (a scalar, a list,
/// null) replaces what `base` had, whatever its type.
///
/// Nulls are kept: a null among user values has to survive until [`coalesce`], where it
/// deletes the default.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => merge_maps(base, overlay),
        (base, overlay) => *base = overlay,
    }
}

/// [`merge`] for two maps, which always yields a map.
pub fn merge_maps(base: &mut Map<String, Value>, overlay: Map<String, Value>) {
    for (key, value) in overlay {
        match base.get_mut(&key) {
            Some(existing) if existing.is_object() && value.is_object() => merge(existing, value),
            _ => {
                base.insert(key, value);
            }
        }
    }
}

/// Helm's coalescing of user values over defaults: [`merge`], then every null-valued map key
/// is dropped. So `--set ingress.httpNodePort=null` removes the default port entirely, and
/// no null-valued key reaches the final tree.
pub fn coalesce(mut defaults: Value, user: Value) -> Value {
    merge(&mut defaults, user);
    drop_nulls(&mut defaults);
    defaults
}

/// Removes null-valued keys from every map reached through maps. Lists are left alone, null
/// items and maps inside them included: Helm treats a list as one value and never looks in.
pub fn drop_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, child| !child.is_null());
        map.values_mut().for_each(drop_nulls);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_and_coalesce_follow_helm() {
        // (base, overlay, merged keeping nulls, coalesced)
        let cases = [
            (json!({}), json!({}), json!({}), json!({})),
            (json!({"a": 1}), json!({}), json!({"a": 1}), json!({"a": 1})),
            (json!({}), json!({"a": 1}), json!({"a": 1}), json!({"a": 1})),
            (
                json!({"a": 1}),
                json!({"a": 2}),
                json!({"a": 2}),
                json!({"a": 2}),
            ),
            (
                json!({"a": 1}),
                json!({"b": 2}),
                json!({"a": 1, "b": 2}),
                json!({"a": 1, "b": 2}),
            ),
            (
                json!({"a": {"b": 1, "c": 2}}),
                json!({"a": {"c": 3, "d": 4}}),
                json!({"a": {"b": 1, "c": 3, "d": 4}}),
                json!({"a": {"b": 1, "c": 3, "d": 4}}),
            ),
            (
                json!({"a": {"b": {"c": {"d": 1, "e": 2}}}}),
                json!({"a": {"b": {"c": {"e": 3}}}}),
                json!({"a": {"b": {"c": {"d": 1, "e": 3}}}}),
                json!({"a": {"b": {"c": {"d": 1, "e": 3}}}}),
            ),
            // Lists replace; they never merge item by item.
            (
                json!({"l": [1, 2, 3]}),
                json!({"l": [9]}),
                json!({"l": [9]}),
                json!({"l": [9]}),
            ),
            (
                json!({"l": [{"a": 1}]}),
                json!({"l": [{"b": 2}]}),
                json!({"l": [{"b": 2}]}),
                json!({"l": [{"b": 2}]}),
            ),
            (
                json!({"l": [1]}),
                json!({"l": []}),
                json!({"l": []}),
                json!({"l": []}),
            ),
            // Any type replaces any other type.
            (
                json!({"a": {"b": 1}}),
                json!({"a": "x"}),
                json!({"a": "x"}),
                json!({"a": "x"}),
            ),
            (
                json!({"a": "x"}),
                json!({"a": {"b": 1}}),
                json!({"a": {"b": 1}}),
                json!({"a": {"b": 1}}),
            ),
            (
                json!({"a": [1]}),
                json!({"a": {"b": 1}}),
                json!({"a": {"b": 1}}),
                json!({"a": {"b": 1}}),
            ),
            (
                json!({"a": {"b": 1}}),
                json!({"a": [1]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (
                json!({"a": 1}),
                json!({"a": false}),
                json!({"a": false}),
                json!({"a": false}),
            ),
            // A null deletes the key when coalescing, and is kept when merging user layers.
            (
                json!({"a": 1, "b": 2}),
                json!({"a": null}),
                json!({"a": null, "b": 2}),
                json!({"b": 2}),
            ),
            (
                json!({"a": {"b": 1}}),
                json!({"a": null}),
                json!({"a": null}),
                json!({}),
            ),
            (
                json!({"ingress": {"httpNodePort": 30050, "httpsNodePort": 30051}}),
                json!({"ingress": {"httpNodePort": null}}),
                json!({"ingress": {"httpNodePort": null, "httpsNodePort": 30051}}),
                json!({"ingress": {"httpsNodePort": 30051}}),
            ),
            // Nulls from the defaults and nulls for keys without a default go too.
            (
                json!({"a": null, "b": 1}),
                json!({}),
                json!({"a": null, "b": 1}),
                json!({"b": 1}),
            ),
            (
                json!({}),
                json!({"a": {"b": null}}),
                json!({"a": {"b": null}}),
                json!({"a": {}}),
            ),
            // A later value brings a key back after an earlier null.
            (
                json!({"a": null}),
                json!({"a": 3}),
                json!({"a": 3}),
                json!({"a": 3}),
            ),
            (
                json!({"a": null}),
                json!({"a": {"b": 1}}),
                json!({"a": {"b": 1}}),
                json!({"a": {"b": 1}}),
            ),
            (
                json!({"a": {"b": 1}}),
                json!({"a": {"b": null, "c": 2}}),
                json!({"a": {"b": null, "c": 2}}),
                json!({"a": {"c": 2}}),
            ),
            // Nulls inside lists are list content, not keys: they stay.
            (
                json!({}),
                json!({"l": [null, {"x": null}]}),
                json!({"l": [null, {"x": null}]}),
                json!({"l": [null, {"x": null}]}),
            ),
            (
                json!({"a": {}}),
                json!({"a": {}}),
                json!({"a": {}}),
                json!({"a": {}}),
            ),
            // Non-map trees replace whole.
            (
                json!([1]),
                json!({"a": 1}),
                json!({"a": 1}),
                json!({"a": 1}),
            ),
            (json!({"a": 1}), json!("x"), json!("x"), json!("x")),
        ];
        for (base, overlay, merged, coalesced) in cases {
            let mut m = base.clone();
            merge(&mut m, overlay.clone());
            assert_eq!(m, merged, "merge {base} <- {overlay}");
            assert_eq!(
                coalesce(base.clone(), overlay.clone()),
                coalesced,
                "coalesce {base} <- {overlay}"
            );
        }
    }

    #[test]
    fn merge_is_ordered_by_layer() {
        let layers = [
            json!({"a": 1, "b": {"c": 1}}),
            json!({"a": 2, "b": {"d": 2}}),
            json!({"b": {"c": 3}}),
        ];
        let mut tree = json!({});
        for layer in layers {
            merge(&mut tree, layer);
        }
        assert_eq!(tree, json!({"a": 2, "b": {"c": 3, "d": 2}}));
    }

    #[test]
    fn drop_nulls_only_touches_map_keys() {
        let mut tree = json!({"a": null, "b": {"c": null, "d": [null, {"e": null}]}, "f": 0});
        drop_nulls(&mut tree);
        assert_eq!(tree, json!({"b": {"d": [null, {"e": null}]}, "f": 0}));
    }
}
