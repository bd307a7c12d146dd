//! The files that make a registered model directory a real MLflow model: an
//! `MLmodel` with a `python_function` flavor whose loader
//! (`code/medallion_pyfunc.py`) tokenizes with `tokenizers` and runs
//! `onnxruntime` exactly as `bert_sentiment` does, plus the environment
//! files MLflow restores it with. So `mlflow.pyfunc.load_model` and
//! `mlflow.pyfunc.spark_udf` score with the very model the SQL pipeline
//! registered, and medallion itself keeps reading only the three model files.

use serde_json::{json, Value};

/// The loader module, shipped inside the extension.
pub const LOADER: &str = include_str!("medallion_pyfunc.py");

/// What the loader needs from PyPI, pinned to the versions tested with it.
pub const REQUIREMENTS: &str =
    "mlflow==3.17.2\nnumpy\npandas\nonnxruntime==1.32.0\ntokenizers==0.22.1\n";

/// `(relative path, contents)` of each flavor file for the model registered
/// as artifact path `artifact_path`, whose `config.json` text is `config`
/// (its `id2label` names the probability columns of the output signature;
/// without a readable one the signature has inputs only).
pub fn flavor_files(
    artifact_path: &str,
    config: Option<&str>,
    model_uuid: &str,
    created: &str,
) -> Vec<(&'static str, String)> {
    vec![
        (
            "MLmodel",
            mlmodel(artifact_path, config, model_uuid, created),
        ),
        ("code/medallion_pyfunc.py", LOADER.to_string()),
        ("requirements.txt", REQUIREMENTS.to_string()),
        (
            "python_env.yaml",
            "python: '3.11'\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n"
                .to_string(),
        ),
    ]
}

fn mlmodel(artifact_path: &str, config: Option<&str>, model_uuid: &str, created: &str) -> String {
    let inputs = json!([{"type": "string", "name": "text", "required": true}]);
    let outputs = config.and_then(labels).map(|labels| {
        let mut cols = vec![
            json!({"type": "string", "name": "label", "required": true}),
            json!({"type": "float", "name": "score", "required": true}),
        ];
        cols.extend(
            labels
                .iter()
                .map(|l| json!({"type": "float", "name": format!("prob_{l}"), "required": true})),
        );
        Value::Array(cols)
    });
    // YAML single-quoted scalars: a quote is doubled, nothing else escapes.
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let outputs = match outputs {
        Some(o) => quoted(&o.to_string()),
        None => "null".to_string(),
    };
    format!(
        "artifact_path: {artifact}\n\
         flavors:\n  python_function:\n    code: code\n    env:\n      virtualenv: python_env.yaml\n    \
         loader_module: medallion_pyfunc\n    python_version: '3.11'\n\
         mlflow_version: 3.17.2\n\
         model_uuid: {model_uuid}\n\
         signature:\n  inputs: {inputs}\n  outputs: {outputs}\n  params: null\n\
         utc_time_created: {created}\n",
        artifact = quoted(artifact_path),
        inputs = quoted(&inputs.to_string()),
        created = quoted(created),
    )
}

/// `id2label` in id order, when it is a complete `0..n` map of strings.
fn labels(config: &str) -> Option<Vec<String>> {
    let config: Value = serde_json::from_str(config).ok()?;
    let map = config.get("id2label")?.as_object()?;
    (0..map.len())
        .map(|i| map.get(&i.to_string())?.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlmodel_names_the_loader_and_a_signature_from_id2label() {
        let config = r#"{"id2label": {"1": "neutral", "0": "negative", "2": "positive"}}"#;
        let files = flavor_files("it's", Some(config), "abc", "2026-12-04 17:00:00.000000");
        let names: Vec<_> = files.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "MLmodel",
                "code/medallion_pyfunc.py",
                "requirements.txt",
                "python_env.yaml"
            ]
        );
        let mlmodel = &files[0].1;
        assert!(mlmodel.starts_with("artifact_path: 'it''s'\n"), "{mlmodel}");
        assert!(mlmodel.contains("    loader_module: medallion_pyfunc\n"));
        assert!(mlmodel.contains(r#""name":"prob_negative""#), "{mlmodel}");
        let neg = mlmodel.find("prob_negative").unwrap();
        assert!(neg < mlmodel.find("prob_neutral").unwrap());
        assert!(files[1].1.contains("def _load_pyfunc(path)"));
    }

    #[test]
    fn without_labels_the_signature_has_inputs_only() {
        let mlmodel = &flavor_files("m", Some("{}"), "abc", "t")[0].1;
        assert!(mlmodel.contains("  outputs: null\n"), "{mlmodel}");
        let mlmodel = &flavor_files("m", None, "abc", "t")[0].1;
        assert!(mlmodel.contains(r#"inputs: '[{"name":"text""#), "{mlmodel}");
    }
}
