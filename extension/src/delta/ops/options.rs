//! `delta_write` options: parsed from the optional third argument, a STRUCT
//! (`{mode: 'overwrite', partition_by: ['day']}`) or a MAP of strings
//! (`MAP {'mode': 'overwrite'}`). Plain Rust over Arrow; unit-tested here.

use arrow59::array::{Array, ArrayRef, AsArray, ListArray, MapArray, StructArray};
use arrow59::datatypes::DataType;
use deltalake::protocol::SaveMode;

/// Default size at which a data file is closed and the next one started.
pub const DEFAULT_TARGET_FILE_SIZE: u64 = 128 * 1024 * 1024;

pub const KEYS: &[&str] = &[
    "mode",
    "partition_by",
    "merge_schema",
    "txn_app_id",
    "txn_version",
    "txn_from_version",
    "commit_message",
    "user_metadata",
    "target_file_size",
    "checkpoint_interval",
];

#[derive(Clone, Debug, PartialEq)]
pub struct WriteOptions {
    pub mode: SaveMode,
    pub partition_by: Option<Vec<String>>,
    pub merge_schema: bool,
    /// Delta `txn` action: (app id, version). A table that already recorded a
    /// version ≥ this one for the app id is not written again.
    pub txn: Option<(String, i64)>,
    /// The app's txn version the writer read before it decided what to
    /// write (-1: none yet): the commit applies only if the table still
    /// records exactly that, so two writers that read the same state cannot
    /// both commit work derived from it (compare-and-set).
    pub txn_from: Option<i64>,
    /// Stored as the commit's `userMetadata`.
    pub user_metadata: Option<String>,
    pub target_file_size: u64,
    /// `delta.checkpointInterval` for a table this write creates.
    pub checkpoint_interval: Option<u64>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            mode: SaveMode::Append,
            partition_by: None,
            merge_schema: false,
            txn: None,
            txn_from: None,
            user_metadata: None,
            target_file_size: DEFAULT_TARGET_FILE_SIZE,
            checkpoint_interval: None,
        }
    }
}

/// The SQL spelling of a save mode.
pub fn mode_name(m: SaveMode) -> &'static str {
    match m {
        SaveMode::Append => "append",
        SaveMode::Overwrite => "overwrite",
        SaveMode::ErrorIfExists => "error",
        SaveMode::Ignore => "ignore",
    }
}

/// One option value as read from the argument.
#[derive(Debug, Clone)]
enum Val {
    Null,
    Text(String),
    List(Vec<String>),
}

fn value_at(a: &ArrayRef, row: usize) -> Result<Val, String> {
    if a.is_null(row) {
        return Ok(Val::Null);
    }
    Ok(match a.data_type() {
        DataType::List(_) => {
            let l: &ListArray = a.as_list();
            let v = l.value(row);
            let mut out = Vec::new();
            for i in 0..v.len() {
                match value_at(&v, i)? {
                    Val::Text(s) => out.push(s),
                    _ => return Err("expected a list of names".into()),
                }
            }
            Val::List(out)
        }
        _ => {
            let s = arrow59::compute::cast(&a.slice(row, 1), &DataType::Utf8)
                .map_err(|e| e.to_string())?;
            Val::Text(s.as_string::<i32>().value(0).to_string())
        }
    })
}

/// Parses the options at `row` of the options argument.
pub fn parse(options: &ArrayRef, row: usize) -> Result<WriteOptions, String> {
    let mut pairs: Vec<(String, Val)> = Vec::new();
    match options.data_type() {
        DataType::Struct(_) => {
            let s: &StructArray = options.as_struct();
            if s.is_null(row) {
                return Ok(WriteOptions::default());
            }
            for (f, col) in s.fields().iter().zip(s.columns()) {
                pairs.push((f.name().to_lowercase(), value_at(col, row)?));
            }
        }
        DataType::Map(_, _) => {
            let m: &MapArray = options.as_map();
            if m.is_null(row) {
                return Ok(WriteOptions::default());
            }
            let e = m.value(row);
            let keys = e.column(0).clone();
            let vals = e.column(1).clone();
            for i in 0..e.len() {
                let Val::Text(k) = value_at(&keys, i)? else {
                    return Err("option names must be text".into());
                };
                pairs.push((k.to_lowercase(), value_at(&vals, i)?));
            }
        }
        DataType::Null => return Ok(WriteOptions::default()),
        other => return Err(format!("options must be a STRUCT or a MAP, got {other}")),
    }
    build(pairs)
}

/// Options given as text, e.g. by `COPY ... (FORMAT delta, MODE 'overwrite')`.
/// A value like `[a, b]` is a list.
pub fn from_text(pairs: Vec<(String, Option<String>)>) -> Result<WriteOptions, String> {
    build(
        pairs
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    None => Val::Null,
                    Some(t) => match t.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                        Some(inner) => Val::List(
                            inner
                                .split(',')
                                .map(|x| x.trim().trim_matches('\'').to_string())
                                .filter(|x| !x.is_empty())
                                .collect(),
                        ),
                        None => Val::Text(t),
                    },
                };
                (k.to_lowercase(), v)
            })
            .collect(),
    )
}

fn build(pairs: Vec<(String, Val)>) -> Result<WriteOptions, String> {
    let mut o = WriteOptions::default();
    let mut app_id = None;
    let mut app_version = None;
    for (k, v) in pairs {
        let text = |v: &Val| match v {
            Val::Text(s) => Ok(s.clone()),
            Val::List(_) => Err(format!("option `{k}` must be a single value")),
            Val::Null => unreachable!(),
        };
        if matches!(v, Val::Null) {
            if !KEYS.contains(&k.as_str()) {
                return Err(unknown(&k));
            }
            continue;
        }
        match k.as_str() {
            "mode" => {
                o.mode = match text(&v)?.to_lowercase().as_str() {
                    "append" => SaveMode::Append,
                    "overwrite" => SaveMode::Overwrite,
                    "error" | "errorifexists" => SaveMode::ErrorIfExists,
                    "ignore" => SaveMode::Ignore,
                    m => {
                        return Err(format!(
                            "unknown mode '{m}' (use append, overwrite, error or ignore)"
                        ))
                    }
                }
            }
            "partition_by" => {
                o.partition_by = Some(match v {
                    Val::List(l) => l,
                    Val::Text(s) => s
                        .split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect(),
                    Val::Null => unreachable!(),
                })
            }
            "merge_schema" => o.merge_schema = parse_bool(&k, &text(&v)?)?,
            "txn_app_id" => app_id = Some(text(&v)?),
            "txn_version" => app_version = Some(parse_int(&k, &text(&v)?)?),
            "txn_from_version" => {
                let n = parse_int(&k, &text(&v)?)?;
                if n < -1 {
                    return Err(format!("txn_from_version must be ≥ -1, got {n}"));
                }
                o.txn_from = Some(n);
            }
            "commit_message" | "user_metadata" => o.user_metadata = Some(text(&v)?),
            "target_file_size" => {
                let n = parse_int(&k, &text(&v)?)?;
                if n < 1024 {
                    return Err(format!(
                        "target_file_size must be at least 1024 bytes, got {n}"
                    ));
                }
                o.target_file_size = n as u64;
            }
            "checkpoint_interval" => {
                let n = parse_int(&k, &text(&v)?)?;
                if n < 1 {
                    return Err(format!("checkpoint_interval must be ≥ 1, got {n}"));
                }
                o.checkpoint_interval = Some(n as u64);
            }
            _ => return Err(unknown(&k)),
        }
    }
    o.txn = match (app_id, app_version) {
        (Some(a), Some(v)) if !a.is_empty() && v >= 0 => Some((a, v)),
        (None, None) => None,
        _ => {
            return Err(
                "txn_app_id (non-empty) and txn_version (≥ 0) must be given together".into(),
            )
        }
    };
    if o.txn_from.is_some() && o.txn.is_none() {
        return Err("txn_from_version needs txn_app_id and txn_version".into());
    }
    Ok(o)
}

fn unknown(k: &str) -> String {
    format!("unknown option `{k}` (valid: {})", KEYS.join(", "))
}

fn parse_bool(k: &str, s: &str) -> Result<bool, String> {
    match s.to_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("option `{k}` must be true or false, got '{s}'")),
    }
}

fn parse_int(k: &str, s: &str) -> Result<i64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("option `{k}` must be an integer, got '{s}'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow59::array::{BooleanArray, Int64Array, StringArray};
    use arrow59::datatypes::Field;
    use std::sync::Arc;

    fn strukt(cols: Vec<(&str, ArrayRef)>) -> ArrayRef {
        let fields: Vec<Field> = cols
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        Arc::new(StructArray::new(
            fields.into(),
            cols.into_iter().map(|(_, a)| a).collect(),
            None,
        ))
    }

    #[test]
    fn struct_options_parse() {
        let a = strukt(vec![
            ("mode", Arc::new(StringArray::from(vec!["overwrite"]))),
            (
                "partition_by",
                Arc::new(StringArray::from(vec!["day, lang"])),
            ),
            ("merge_schema", Arc::new(BooleanArray::from(vec![true]))),
            ("txn_app_id", Arc::new(StringArray::from(vec!["ingest"]))),
            ("txn_version", Arc::new(Int64Array::from(vec![7]))),
        ]);
        let o = parse(&a, 0).unwrap();
        assert_eq!(o.mode, SaveMode::Overwrite);
        assert_eq!(
            o.partition_by,
            Some(vec!["day".to_string(), "lang".to_string()])
        );
        assert!(o.merge_schema);
        assert_eq!(o.txn, Some(("ingest".to_string(), 7)));
    }

    #[test]
    fn text_options_parse() {
        let o = from_text(vec![
            ("MODE".into(), Some("overwrite".into())),
            ("PARTITION_BY".into(), Some("[day, 'lang']".into())),
        ])
        .unwrap();
        assert_eq!(o.mode, SaveMode::Overwrite);
        assert_eq!(
            o.partition_by,
            Some(vec!["day".to_string(), "lang".to_string()])
        );
    }

    #[test]
    fn bad_options_are_named() {
        let a = strukt(vec![("nope", Arc::new(StringArray::from(vec!["x"])))]);
        assert!(parse(&a, 0).unwrap_err().contains("unknown option `nope`"));
        let a = strukt(vec![("mode", Arc::new(StringArray::from(vec!["upsert"])))]);
        assert!(parse(&a, 0).unwrap_err().contains("unknown mode 'upsert'"));
        let a = strukt(vec![("txn_app_id", Arc::new(StringArray::from(vec!["a"])))]);
        assert!(parse(&a, 0).unwrap_err().contains("together"));
        let o = from_text(vec![("txn_from_version".into(), Some("3".into()))]);
        assert!(o.unwrap_err().contains("needs txn_app_id"));
    }
}
