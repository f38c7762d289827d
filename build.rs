//! Embeds every chart under `charts/`: each folder in `charts/skypilot/` is one chart version
//! (chart.yaml, values.yaml, values.schema.json, rules.yaml, templates/), and
//! `charts/ingress-nginx/` holds the subchart templates every version shares. Adding a version
//! is adding a folder. `charts/skyctl/` holds skyctl's own values (its schema, defaults and
//! rules), laid into every version's files here, so they have one home and the chart's files
//! stay comparable with upstream.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("charts");
    println!("cargo::rerun-if-changed={}", root.display());

    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let mut out = String::new();
    out.push_str("pub(crate) static CHART_FILES: &[ChartFiles] = &[\n");
    for version_dir in sorted_entries(&root.join("skypilot")) {
        for file in [
            "chart.yaml",
            "values.yaml",
            "values.schema.json",
            "rules.yaml",
        ] {
            assert!(
                version_dir.join(file).is_file(),
                "{} has no {file}",
                version_dir.display()
            );
        }
        let name = version_dir.file_name().unwrap().to_str().unwrap();
        let generated = |file: &str, text: String| {
            let path = out_dir.join(format!("{name}.{file}"));
            fs::write(&path, text).unwrap();
            path
        };
        let with_skyctls = |file: &str| {
            let own = fs::read_to_string(version_dir.join(file)).unwrap();
            let skyctls = fs::read_to_string(root.join("skyctl").join(file)).unwrap();
            generated(file, format!("{own}{skyctls}"))
        };
        let values = with_skyctls("values.yaml");
        let rules = with_skyctls("rules.yaml");
        let schema = generated("values.schema.json", merged_schema(&version_dir, &root));
        let defaults = generated("values.json", defaults_as_json(&values));
        let _ = writeln!(
            out,
            "    ChartFiles {{ metadata: include_str!({:?}), values: include_str!({:?}), defaults: include_str!({:?}), schema: include_str!({:?}), rules: include_str!({:?}), templates: &[{}] }},",
            version_dir.join("chart.yaml"),
            values,
            defaults,
            schema,
            rules,
            template_list(&version_dir.join("templates"), ""),
        );
    }
    out.push_str("];\n");
    let _ = writeln!(
        out,
        "pub(crate) static SUBCHART_TEMPLATES: &[(&str, &str)] = &[{}];",
        template_list(
            &root.join("ingress-nginx").join("templates"),
            "ingress-nginx/"
        )
    );

    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("charts.rs");
    fs::write(dest, out).unwrap();
}

/// The version's defaults as JSON, which reads several times faster than the YAML every run
/// would otherwise parse. A unit test holds it equal to what skyctl's own YAML reading makes
/// of the values text.
fn defaults_as_json(values: &Path) -> String {
    let text = fs::read_to_string(values).unwrap();
    let mut yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", values.display()));
    yaml.apply_merge().unwrap();
    let json: serde_json::Value =
        serde_yaml_ng::from_value(yaml).unwrap_or_else(|err| panic!("{}: {err}", values.display()));
    serde_json::to_string(&json).unwrap()
}

/// The version's schema with skyctl's own top-level keys added to its properties.
fn merged_schema(version_dir: &Path, root: &Path) -> String {
    let read = |path: PathBuf| -> serde_json::Value {
        serde_json::from_str(&fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    };
    let mut schema = read(version_dir.join("values.schema.json"));
    let skyctls = read(root.join("skyctl").join("values.schema.json"));
    let properties = schema["properties"].as_object_mut().unwrap();
    for (key, value) in skyctls["properties"].as_object().unwrap() {
        let clash = properties.insert(key.clone(), value.clone());
        assert!(
            clash.is_none(),
            "{}: skyctl's own key {key} is the chart's",
            version_dir.display()
        );
    }
    serde_json::to_string(&schema).unwrap()
}

/// `(name, include_str!(path))` for every template, by file name: the order Helm renders and
/// breaks ties between objects of one kind in.
fn template_list(dir: &Path, prefix: &str) -> String {
    sorted_entries(dir)
        .iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap();
            format!(
                "({:?}, include_str!({:?}))",
                format!("{prefix}{name}"),
                path
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    entries
}
