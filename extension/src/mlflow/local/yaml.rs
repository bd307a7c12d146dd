//! Just enough YAML for MLflow's file-store `meta.yaml` files: flat
//! `key: value` mappings.
//!
//! Writing: strings as double-quoted scalars (JSON string syntax is valid
//! YAML, so any text round-trips through PyYAML), integers bare, `null`.
//! Reading: the top-level scalars, plain, single- or double-quoted, including
//! values PyYAML folded over several lines; nested blocks (e.g. `aliases:`)
//! are skipped.

use std::collections::HashMap;

/// A value in a `meta.yaml`.
pub enum Scalar<'a> {
    Str(&'a str),
    Int(i64),
    Null,
}

/// Renders `key: value` lines in the given order.
pub fn write(entries: &[(&str, Scalar<'_>)]) -> String {
    let mut out = String::new();
    for (key, value) in entries {
        let value = match value {
            Scalar::Str(s) => serde_json::to_string(s).expect("strings serialize"),
            Scalar::Int(i) => i.to_string(),
            Scalar::Null => "null".to_string(),
        };
        out.push_str(&format!("{key}: {value}\n"));
    }
    out
}

/// The top-level scalar values; `None` for null.
pub fn read(text: &str) -> HashMap<String, Option<String>> {
    let mut out = HashMap::new();
    let mut current: Option<(String, String)> = None;
    let finish = |entry: Option<(String, String)>, out: &mut HashMap<_, _>| {
        if let Some((k, raw)) = entry {
            out.insert(k, parse_scalar(raw.trim()));
        }
    };
    for line in text.lines() {
        if line.starts_with(' ') || line.starts_with('\t') {
            // Continuation of a folded scalar (or a nested block we skip).
            if let Some((_, raw)) = current.as_mut() {
                raw.push(' ');
                raw.push_str(line.trim());
            }
            continue;
        }
        finish(current.take(), &mut out);
        if let Some((key, rest)) = line.split_once(':') {
            if rest.trim().is_empty() {
                continue; // a nested block such as `aliases:`
            }
            current = Some((key.trim().to_string(), rest.to_string()));
        }
    }
    finish(current.take(), &mut out);
    out
}

fn parse_scalar(raw: &str) -> Option<String> {
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(inner.replace("''", "'"));
    }
    if raw.starts_with('"') {
        return Some(serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string()));
    }
    match raw {
        "" | "null" | "~" | "Null" | "NULL" => None,
        _ => Some(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_our_own_output() {
        let text = write(&[
            ("name", Scalar::Str("it's \"quoted\"\nand: more")),
            ("experiment_id", Scalar::Str("42")),
            ("status", Scalar::Int(3)),
            ("end_time", Scalar::Null),
        ]);
        let back = read(&text);
        assert_eq!(back["name"].as_deref(), Some("it's \"quoted\"\nand: more"));
        assert_eq!(back["experiment_id"].as_deref(), Some("42"));
        assert_eq!(back["status"].as_deref(), Some("3"));
        assert_eq!(back["end_time"], None);
    }

    #[test]
    fn reads_what_pyyaml_writes() {
        let text = "aliases:\n  champion: '1'\nartifact_location: file:///tmp/m/1\n\
                    experiment_id: '903760665418688352'\nname: exp one\n\
                    description: a long text that PyYAML\n  folded here\nq: 'it''s'\n";
        let m = read(text);
        assert_eq!(m["experiment_id"].as_deref(), Some("903760665418688352"));
        assert_eq!(m["name"].as_deref(), Some("exp one"));
        assert_eq!(m["artifact_location"].as_deref(), Some("file:///tmp/m/1"));
        assert_eq!(
            m["description"].as_deref(),
            Some("a long text that PyYAML folded here")
        );
        assert_eq!(m["q"].as_deref(), Some("it's"));
        assert!(!m.contains_key("aliases"));
        assert!(!m.contains_key("champion"));
    }
}
