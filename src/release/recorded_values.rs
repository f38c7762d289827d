//! The values a recorded revision was rendered from, and the chart it was rendered with: what
//! `get values`, `list`, `history`, `upgrade --reuse-values`, `rollback` and `--atomic` read
//! back from a record.

use serde_json::{Map, Value};

use super::ReleaseRecord;
use crate::chart::Chart;
use crate::values::{self, ExtraLayer, Resolved};

/// The values a revision recorded, as a values layer of their own, so that they are checked
/// and named in errors like every other layer.
pub fn recorded_layer(record: &ReleaseRecord) -> anyhow::Result<ExtraLayer> {
    Ok(ExtraLayer {
        label: format!("the values of revision {}", record.revision),
        values: as_map(&record.values, record)?,
    })
}

/// The values a revision was computed from, as the defaults of `upgrade --reuse-values`.
/// Records made before skyctl kept them have none: today's defaults stand in.
pub fn previous_defaults_layer(record: &ReleaseRecord) -> anyhow::Result<Option<ExtraLayer>> {
    record
        .computed_values
        .as_ref()
        .map(|values| {
            Ok(ExtraLayer {
                label: format!(
                    "the values revision {} was computed from (--reuse-values)",
                    record.revision
                ),
                values: as_map(values, record)?,
            })
        })
        .transpose()
}

fn as_map(values: &Value, record: &ReleaseRecord) -> anyhow::Result<Map<String, Value>> {
    match values {
        Value::Object(map) => Ok(map.clone()),
        Value::Null => Ok(Map::new()),
        _ => anyhow::bail!(
            "revision {} recorded values that are not a map",
            record.revision
        ),
    }
}

/// The chart version a revision was rendered from.
pub fn record_chart(record: &ReleaseRecord) -> anyhow::Result<&'static Chart> {
    Chart::find(&record.chart_version).map_err(|err| {
        anyhow::Error::new(err).context(format!(
            "revision {} of release {} was made by a newer skyctl",
            record.revision, record.name
        ))
    })
}

/// The values a revision was rendered from, and the user's among them. A record made before
/// skyctl kept the computed values has its user values laid over its chart's defaults instead.
pub fn recorded_values(record: &ReleaseRecord) -> anyhow::Result<Resolved> {
    if let Some(values) = &record.computed_values {
        return Ok(Resolved {
            values: values.clone(),
            user: record.values.clone(),
        });
    }
    let layers = values::Layers {
        reused: Some(recorded_layer(record)?),
        ..values::Layers::default()
    };
    Ok(values::resolve(
        record_chart(record)?.definition(),
        &layers,
    )?)
}

/// All the values a revision was rendered from (`get values --all`).
pub fn computed_values(record: &ReleaseRecord) -> anyhow::Result<Value> {
    Ok(recorded_values(record)?.values)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::release::ReleaseStatus;

    fn record(chart_version: &str, values: Value, computed_values: Option<Value>) -> ReleaseRecord {
        ReleaseRecord {
            name: "sky".into(),
            namespace: "skypilot".into(),
            revision: 3,
            status: ReleaseStatus::Deployed,
            description: "Upgrade complete".into(),
            first_deployed: "2025-01-01T00:00:00Z".into(),
            last_deployed: "2025-01-02T00:00:00Z".into(),
            skyctl_version: "0.1.0".into(),
            chart_version: chart_version.into(),
            values,
            computed_values,
            inventory: vec![],
            created_namespace: false,
            uids: Default::default(),
            keep: Default::default(),
        }
    }

    fn oldest() -> &'static str {
        Chart::all()[0].version()
    }

    #[test]
    fn the_recorded_layer_is_the_user_values_named_after_the_revision() {
        let cases = [
            (json!({"a": {"b": 1}}), json!({"a": {"b": 1}})),
            (json!({}), json!({})),
            // A record of no values at all reads as an empty layer.
            (Value::Null, json!({})),
        ];
        for (values, expected) in cases {
            let layer = recorded_layer(&record(oldest(), values.clone(), None)).unwrap();
            assert_eq!(layer.label, "the values of revision 3", "{values}");
            assert_eq!(Value::Object(layer.values), expected, "{values}");
        }
    }

    #[test]
    fn recorded_values_that_are_not_a_map_are_refused_naming_the_revision() {
        for values in [json!([1, 2]), json!("text"), json!(7)] {
            let err = recorded_layer(&record(oldest(), values.clone(), None)).unwrap_err();
            assert_eq!(
                err.to_string(),
                "revision 3 recorded values that are not a map",
                "{values}"
            );
            let err = previous_defaults_layer(&record(oldest(), json!({}), Some(values.clone())))
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                "revision 3 recorded values that are not a map",
                "{values}"
            );
        }
    }

    #[test]
    fn the_previous_defaults_are_the_computed_values_when_the_record_kept_them() {
        let cases = [
            (None, None),
            (
                Some(json!({"x": true})),
                Some((
                    "the values revision 3 was computed from (--reuse-values)",
                    json!({"x": true}),
                )),
            ),
        ];
        for (computed, expected) in cases {
            let layer = previous_defaults_layer(&record(oldest(), json!({}), computed.clone()))
                .unwrap()
                .map(|layer| (layer.label, Value::Object(layer.values)));
            let expected = expected.map(|(label, values)| (label.to_owned(), values));
            assert_eq!(layer, expected, "{computed:?}");
        }
    }

    #[test]
    fn the_record_chart_is_the_built_in_one_of_its_version_or_a_newer_skyctl_made_it() {
        for chart in Chart::all() {
            let found = record_chart(&record(chart.version(), json!({}), None)).unwrap();
            assert_eq!(found.version(), chart.version());
        }
        let err = record_chart(&record("99.0.0", json!({}), None)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "revision 3 of release sky was made by a newer skyctl"
        );
        assert!(format!("{err:#}").contains("\"99.0.0\""), "{err:#}");
    }

    #[test]
    fn recorded_values_are_the_kept_computed_values_else_the_user_values_over_the_defaults() {
        let kept = record(oldest(), json!({"a": 1}), Some(json!({"a": 1, "b": 2})));
        assert_eq!(
            recorded_values(&kept).unwrap(),
            Resolved {
                values: json!({"a": 1, "b": 2}),
                user: json!({"a": 1}),
            }
        );
        assert_eq!(computed_values(&kept).unwrap(), json!({"a": 1, "b": 2}));

        let image = "example.org/sky/api:1.2";
        let older = record(oldest(), json!({"apiService": {"image": image}}), None);
        let resolved = recorded_values(&older).unwrap();
        assert_eq!(resolved.user, json!({"apiService": {"image": image}}));
        assert_eq!(resolved.values["apiService"]["image"], json!(image));
        let defaults =
            values::resolve(Chart::all()[0].definition(), &values::Layers::default()).unwrap();
        assert_eq!(
            resolved.values["ingress"], defaults.values["ingress"],
            "the chart's defaults fill what the user left"
        );
        assert_eq!(computed_values(&older).unwrap(), resolved.values);
    }
}
