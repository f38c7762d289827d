//! The SkyPilot chart versions built into skyctl, as data: each folder of `charts/skypilot/`
//! is one version with its metadata, default values, schema, rules and templates, and
//! `charts/ingress-nginx/` holds the subchart templates they share (`build.rs` embeds them).

use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

/// The chart skyctl reproduced before it knew versions: releases recorded without a chart
/// version were made from it.
pub const SEED_ERA: &str = "1.0.0-dev.20250319";

/// One version's files, as `build.rs` embeds them.
pub(crate) struct ChartFiles {
    metadata: &'static str,
    values: &'static str,
    /// `values.yaml` as JSON, made by build.rs.
    defaults: &'static str,
    schema: &'static str,
    rules: &'static str,
    templates: &'static [(&'static str, &'static str)],
}

include!(concat!(env!("OUT_DIR"), "/charts.rs"));

/// A chart version skyctl can render.
#[derive(Debug)]
pub struct Chart {
    metadata: Metadata,
    files: &'static ChartFiles,
    environment: OnceLock<minijinja::Environment<'static>>,
    definition: OnceLock<crate::values::Definition>,
}

/// `chart.yaml` of a version folder: what Helm's `Chart.yaml` says, of the chart and of the
/// ingress-nginx chart it depends on.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// The package name, `skypilot` or `skypilot-nightly`.
    pub name: String,
    pub version: String,
    pub app_version: String,
    pub ingress_nginx: Subchart,
    /// The published chart's file (below `templates/`) for each template whose name differs
    /// from it: what Helm's `# Source:` says and `template --show-only` selects by.
    #[serde(default)]
    pub template_sources: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subchart {
    pub version: String,
    pub app_version: String,
    /// Helm's `kubeVersion` constraint, such as `>=1.21.0-0`.
    pub kube_version: String,
}

/// `--version` names no embedded chart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chart version {asked:?} is not built into skyctl; it has {}", known.join(", "))]
pub struct UnknownVersion {
    pub asked: String,
    pub known: Vec<String>,
}

impl fmt::Debug for ChartFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChartFiles")
            .field("templates", &self.templates.len())
            .finish_non_exhaustive()
    }
}

impl Chart {
    /// Every embedded version, oldest first by version number.
    pub fn all() -> &'static [Chart] {
        static CHARTS: OnceLock<Vec<Chart>> = OnceLock::new();
        CHARTS.get_or_init(|| {
            let mut charts: Vec<Chart> = CHART_FILES
                .iter()
                .map(|files| Chart {
                    metadata: serde_yaml_ng::from_str(files.metadata)
                        .expect("every embedded chart.yaml is checked by a unit test"),
                    files,
                    environment: OnceLock::new(),
                    definition: OnceLock::new(),
                })
                .collect();
            charts.sort_by_key(Chart::semver);
            charts
        })
    }

    /// The version `--version` names.
    pub fn find(version: &str) -> Result<&'static Chart, UnknownVersion> {
        let all = Self::all();
        all.iter()
            .find(|chart| chart.version() == version)
            .ok_or_else(|| UnknownVersion {
                asked: version.to_owned(),
                known: all.iter().map(|chart| chart.version().to_owned()).collect(),
            })
    }

    /// The version a command renders: the one `--version` asks for, else the one the release
    /// recorded (an upgrade keeps its chart), else the newest.
    pub fn choose(
        asked: Option<&str>,
        recorded: Option<&str>,
    ) -> Result<&'static Chart, UnknownVersion> {
        match asked.or(recorded) {
            Some(version) => Self::find(version),
            None => Ok(Self::newest()),
        }
    }

    /// What a new install gets without `--version`: the highest stable version, as Helm
    /// chooses from a repository without `--devel` (a pre-release is chosen only by name).
    pub fn newest() -> &'static Chart {
        newest_stable(Self::all()).expect("at least one embedded chart is a stable release")
    }

    /// The Kubernetes versions the chart supports: its subchart's constraint, since the
    /// SkyPilot chart states none of its own.
    pub fn kube_version(&self) -> &str {
        &self.metadata.ingress_nginx.kube_version
    }

    pub fn version(&self) -> &str {
        &self.metadata.version
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The version's `values.yaml`.
    pub fn values_yaml(&self) -> &'static str {
        self.files.values
    }

    /// The version's `rules.yaml`: what its values must satisfy beyond the schema (see
    /// [`crate::values::rules`]).
    pub fn rules_yaml(&self) -> &'static str {
        self.files.rules
    }

    /// The subchart's templates, then the chart's own, each by file name: the order Helm
    /// renders them in.
    pub fn templates(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        SUBCHART_TEMPLATES
            .iter()
            .chain(self.files.templates)
            .map(|(name, source)| (*name, *source))
    }

    /// The version's defaults, schema and rules, read on first use.
    pub fn definition(&self) -> &crate::values::Definition {
        self.definition.get_or_init(|| {
            let defaults = serde_json::from_str(self.files.defaults)
                .expect("build.rs writes the defaults as a JSON map");
            crate::values::Definition::new(defaults, self.files.schema, self.files.rules)
                .expect("every embedded chart's schema and rules are checked by a unit test")
        })
    }

    /// The version's minijinja environment, built by `make` on first use and kept, so
    /// templates compile once per process.
    pub fn environment(
        &self,
        make: impl FnOnce() -> minijinja::Environment<'static>,
    ) -> &minijinja::Environment<'static> {
        self.environment.get_or_init(make)
    }

    fn semver(&self) -> semver::Version {
        semver::Version::parse(self.version()).expect("chart versions are checked by a unit test")
    }
}

fn newest_stable(charts: &[Chart]) -> Option<&Chart> {
    charts
        .iter()
        .filter(|chart| chart.semver().pre.is_empty())
        .max_by(|a, b| a.semver().cmp(&b.semver()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_version_has_valid_metadata_and_a_semver_version() {
        for files in CHART_FILES {
            let metadata: Metadata = serde_yaml_ng::from_str(files.metadata).unwrap();
            semver::Version::parse(&metadata.version).unwrap();
            if let Err(err) = crate::values::rules::Rules::from_yaml(files.rules) {
                panic!("{}: {err}", metadata.version);
            }
            // The JSON build.rs made is exactly what skyctl's own reading of the YAML gives.
            let read = crate::values::document::parse(files.values).unwrap();
            let built: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(files.defaults).unwrap();
            assert_eq!(
                read, built,
                "{}: values.yaml and its JSON",
                metadata.version
            );
            crate::values::Definition::new(built, files.schema, files.rules).unwrap();
            assert!(
                !files.templates.is_empty(),
                "{} has no templates",
                metadata.version
            );
        }
        assert!(Chart::all().len() >= 2);
    }

    #[test]
    fn a_new_install_gets_the_newest_stable_version_not_the_seed_era_nightly() {
        // 1.0.0-dev.20250319 is higher by number but a pre-release; Helm skips it too.
        assert_eq!(Chart::newest().version(), "0.13.0");
    }

    #[test]
    fn the_version_asked_for_wins_then_the_recorded_one_then_the_newest() {
        let cases = [
            (Some("0.13.0"), Some(SEED_ERA), "0.13.0"),
            (Some(SEED_ERA), Some("0.13.0"), SEED_ERA),
            (None, Some(SEED_ERA), SEED_ERA),
            (None, None, "0.13.0"),
        ];
        for (asked, recorded, chosen) in cases {
            assert_eq!(
                Chart::choose(asked, recorded).unwrap().version(),
                chosen,
                "{asked:?} {recorded:?}"
            );
        }
        // A release recorded by a newer skyctl, with a chart this one lacks, is not rendered
        // with another chart.
        assert!(Chart::choose(None, Some("9.9.9")).is_err());
    }

    #[test]
    fn an_unknown_version_lists_the_embedded_ones() {
        let err = Chart::find("0.12.1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "chart version \"0.12.1\" is not built into skyctl; it has 0.13.0, 1.0.0-dev.20250319"
        );
    }
}
