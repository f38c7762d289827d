//! What `skyctl list` and `skyctl history` show of the records: Helm's columns, so that admins
//! who know `helm list` and `helm history` read them the same way. Pure.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::record::{ReleaseRecord, ReleaseStatus};
use crate::chart::Chart;

/// One line of `skyctl list`. The JSON and YAML forms use Helm's keys (`app_version`, the
/// revision as a string), so that scripts written for `helm list -o json` read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseRow {
    pub name: String,
    pub namespace: String,
    pub revision: String,
    pub updated: String,
    pub status: String,
    pub chart: String,
    pub app_version: String,
}

/// One line of `skyctl history`, with Helm's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevisionRow {
    pub revision: u32,
    pub updated: String,
    pub status: String,
    pub chart: String,
    pub app_version: String,
    pub description: String,
}

impl ReleaseRow {
    pub const HEADERS: [&'static str; 7] = [
        "NAME",
        "NAMESPACE",
        "REVISION",
        "UPDATED",
        "STATUS",
        "CHART",
        "APP VERSION",
    ];

    /// `computed`: the values the revision was rendered from.
    pub fn new(record: &ReleaseRecord, computed: &Value) -> Self {
        Self {
            name: record.name.clone(),
            namespace: record.namespace.clone(),
            revision: record.revision.to_string(),
            updated: record.last_deployed.clone(),
            status: record.status.as_str().to_owned(),
            chart: chart(record),
            app_version: app_version(computed),
        }
    }

    pub fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.namespace.clone(),
            self.revision.clone(),
            self.updated.clone(),
            self.status.clone(),
            self.chart.clone(),
            self.app_version.clone(),
        ]
    }
}

impl RevisionRow {
    pub const HEADERS: [&'static str; 6] = [
        "REVISION",
        "UPDATED",
        "STATUS",
        "CHART",
        "APP VERSION",
        "DESCRIPTION",
    ];

    /// `computed`: the values the revision was rendered from.
    pub fn new(record: &ReleaseRecord, computed: &Value) -> Self {
        Self {
            revision: record.revision,
            updated: record.last_deployed.clone(),
            status: record.status.as_str().to_owned(),
            chart: chart(record),
            app_version: app_version(computed),
            description: record.description.clone(),
        }
    }

    pub fn cells(&self) -> Vec<String> {
        vec![
            self.revision.to_string(),
            self.updated.clone(),
            self.status.clone(),
            self.chart.clone(),
            self.app_version.clone(),
            self.description.clone(),
        ]
    }
}

/// Helm's CHART column: the chart's package name and the version the revision was rendered
/// from.
pub fn chart(record: &ReleaseRecord) -> String {
    let name = Chart::find(&record.chart_version)
        .map_or("skypilot", |chart| chart.metadata().name.as_str());
    format!("{name}-{}", record.chart_version)
}

/// Helm's APP VERSION is the chart's appVersion; here it is what a revision actually runs: the
/// tag (or digest) of the API server image, `latest` for an image without either.
pub fn app_version(computed: &Value) -> String {
    let Some(image) = computed
        .pointer("/apiService/image")
        .and_then(Value::as_str)
    else {
        return String::new();
    };
    if let Some((_, digest)) = image.split_once('@') {
        return digest.to_owned();
    }
    // A colon before the last slash belongs to a registry's port, not to a tag.
    let name = image.rsplit('/').next().unwrap_or(image);
    match name.split_once(':') {
        Some((_, tag)) => tag.to_owned(),
        None => "latest".to_owned(),
    }
}

/// The newest record of each release among `records` (which may span namespaces), ordered by
/// name and then namespace, as `helm list` orders them.
pub fn newest_of_each(records: Vec<ReleaseRecord>) -> Vec<ReleaseRecord> {
    let mut newest: BTreeMap<(String, String), ReleaseRecord> = BTreeMap::new();
    for record in records {
        let key = (record.name.clone(), record.namespace.clone());
        match newest.get(&key) {
            Some(kept) if kept.revision >= record.revision => {}
            _ => {
                newest.insert(key, record);
            }
        }
    }
    newest.into_values().collect()
}

/// Which releases `skyctl list` shows, picked as `helm list` picks them: the newest revision
/// of each release whose name matches, if its state is chosen.
#[derive(Debug, Clone)]
pub struct Selection {
    /// `None`: every state (`--all`).
    pub states: Option<Vec<ReleaseStatus>>,
    /// Matched anywhere in the release's name, as Helm's `--filter`.
    pub name: Option<regex::Regex>,
}

/// The revisions `selection` picks among `records`, by name, namespace and revision. As in
/// Helm, the newest revision of each release is taken first and then held to the states: a
/// release whose newest revision is deployed is not listed as failed for an older one. Only
/// `--superseded` alone lists every superseded revision, since a newest one never is.
pub fn select(records: Vec<ReleaseRecord>, selection: &Selection) -> Vec<ReleaseRecord> {
    let named: Vec<ReleaseRecord> = records
        .into_iter()
        .filter(|record| {
            selection
                .name
                .as_ref()
                .is_none_or(|name| name.is_match(&record.name))
        })
        .collect();
    let superseded_only = selection.states.as_deref() == Some(&[ReleaseStatus::Superseded][..]);
    let mut candidates = if superseded_only {
        named
    } else {
        newest_of_each(named)
    };
    candidates.retain(|record| {
        selection
            .states
            .as_ref()
            .is_none_or(|states| states.contains(&record.status))
    });
    candidates.sort_by(|a, b| {
        (&a.name, &a.namespace, a.revision).cmp(&(&b.name, &b.namespace, b.revision))
    });
    candidates
}

/// The newest `max` records of one release's history, oldest first (`helm history --max`).
pub fn newest(records: &[ReleaseRecord], max: usize) -> &[ReleaseRecord] {
    &records[records.len().saturating_sub(max)..]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(name: &str, namespace: &str, revision: u32) -> ReleaseRecord {
        ReleaseRecord {
            name: name.into(),
            namespace: namespace.into(),
            revision,
            status: ReleaseStatus::Deployed,
            description: "Install complete".into(),
            first_deployed: "2025-01-01T00:00:00Z".into(),
            last_deployed: "2025-01-02T00:00:00Z".into(),
            skyctl_version: "0.1.0".into(),
            chart_version: "0.13.0".into(),
            values: json!({}),
            computed_values: None,
            inventory: vec![],
            created_namespace: false,
            uids: Default::default(),
            keep: Default::default(),
        }
    }

    #[test]
    fn the_app_version_is_the_api_server_images_tag_or_digest() {
        let cases = [
            ("berkeleyskypilot/skypilot-nightly:latest", "latest"),
            ("berkeleyskypilot/skypilot:0.9.3", "0.9.3"),
            ("registry.example.org:5000/sky/api", "latest"),
            ("registry.example.org:5000/sky/api:1.2", "1.2"),
            ("sky/api@sha256:0123abcd", "sha256:0123abcd"),
            ("sky/api:1.2@sha256:0123abcd", "sha256:0123abcd"),
            ("api", "latest"),
        ];
        for (image, version) in cases {
            let values = json!({"apiService": {"image": image}});
            assert_eq!(app_version(&values), version, "{image}");
        }
        assert_eq!(app_version(&json!({})), "");
    }

    #[test]
    fn list_shows_the_newest_revision_of_each_release_ordered_by_name() {
        let records = vec![
            record("sky", "b", 1),
            record("sky", "b", 3),
            record("sky", "b", 2),
            record("alpha", "z", 1),
            record("sky", "a", 1),
        ];
        let listed: Vec<(String, String, u32)> = newest_of_each(records)
            .into_iter()
            .map(|r| (r.name, r.namespace, r.revision))
            .collect();
        assert_eq!(
            listed,
            [
                ("alpha".into(), "z".into(), 1),
                ("sky".into(), "a".into(), 1),
                ("sky".into(), "b".into(), 3),
            ]
        );
    }

    #[test]
    fn list_picks_by_the_newest_revisions_state_and_by_name_as_helm() {
        let with = |name, revision, status| ReleaseRecord {
            status,
            ..record(name, "team", revision)
        };
        let records = || {
            vec![
                with("sky", 1, ReleaseStatus::Superseded),
                with("sky", 2, ReleaseStatus::Deployed),
                // Being upgraded: pending, not deployed, as in Helm.
                with("moving", 1, ReleaseStatus::Deployed),
                with("moving", 2, ReleaseStatus::PendingUpgrade),
                with("broken", 1, ReleaseStatus::Failed),
                with("gone", 1, ReleaseStatus::Uninstalled),
                with("sky-dev", 1, ReleaseStatus::Deployed),
            ]
        };
        let names = |states: Option<&[ReleaseStatus]>, name: Option<&str>| -> Vec<String> {
            let selection = Selection {
                states: states.map(<[_]>::to_vec),
                name: name.map(|n| regex::Regex::new(n).unwrap()),
            };
            select(records(), &selection)
                .into_iter()
                .map(|r| format!("{}#{}", r.name, r.revision))
                .collect()
        };
        type Case<'a> = (Option<&'a [ReleaseStatus]>, Option<&'a str>, &'a [&'a str]);
        let cases: [Case; 7] = [
            (
                Some(&[ReleaseStatus::Deployed, ReleaseStatus::Failed]),
                None,
                &["broken#1", "sky#2", "sky-dev#1"],
            ),
            (
                None,
                None,
                &["broken#1", "gone#1", "moving#2", "sky#2", "sky-dev#1"],
            ),
            (Some(&[ReleaseStatus::PendingUpgrade]), None, &["moving#2"]),
            (Some(&[ReleaseStatus::Superseded]), None, &["sky#1"]),
            // Failed once, deployed since: not failed.
            (Some(&[ReleaseStatus::Failed]), Some("sky"), &[]),
            (Some(&[ReleaseStatus::Uninstalled]), None, &["gone#1"]),
            (None, Some("^sky"), &["sky#2", "sky-dev#1"]),
        ];
        for (states, name, listed) in cases {
            assert_eq!(names(states, name), listed, "{states:?} {name:?}");
        }
    }

    #[test]
    fn rows_carry_helms_columns_and_keys() {
        let computed = json!({"apiService": {"image": "sky/api:2"}});
        let row = ReleaseRow::new(&record("sky", "team", 4), &computed);
        assert_eq!(
            row.cells(),
            [
                "sky",
                "team",
                "4",
                "2025-01-02T00:00:00Z",
                "deployed",
                "skypilot-0.13.0",
                "2"
            ]
        );
        assert_eq!(
            serde_json::to_value(&row).unwrap(),
            json!({"name": "sky", "namespace": "team", "revision": "4",
                "updated": "2025-01-02T00:00:00Z", "status": "deployed",
                "chart": "skypilot-0.13.0", "app_version": "2"})
        );
        let revision = RevisionRow::new(&record("sky", "team", 4), &computed);
        assert_eq!(revision.cells()[5], "Install complete");
        assert_eq!(RevisionRow::HEADERS.len(), revision.cells().len());
        assert_eq!(ReleaseRow::HEADERS.len(), row.cells().len());
    }

    #[test]
    fn history_max_keeps_the_newest_revisions() {
        let records: Vec<ReleaseRecord> = (1..=5).map(|n| record("sky", "team", n)).collect();
        let revisions = |max| {
            newest(&records, max)
                .iter()
                .map(|r| r.revision)
                .collect::<Vec<_>>()
        };
        assert_eq!(revisions(2), [4, 5]);
        assert_eq!(revisions(5), [1, 2, 3, 4, 5]);
        assert_eq!(revisions(256), [1, 2, 3, 4, 5]);
    }
}
