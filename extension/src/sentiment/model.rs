//! A sentiment model directory as HuggingFace exports it — `model.onnx`,
//! `tokenizer.json`, `config.json` (with `id2label`) — loaded once per
//! process and shared: [`load`] caches by canonical path and file times, so
//! every query (and every DuckDB thread) of a process uses the same
//! [`Model`], whatever thread count each asks for (the graph pools sessions
//! per count).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::Value as Json;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::batch::{self, Tokens};
use super::error::{Result, SentimentError};
use super::graph::Graph;
use super::threads::{Threads, SCORING};

/// The three files of a model directory.
pub const FILES: [&str; 3] = ["model.onnx", "tokenizer.json", "config.json"];

/// A loaded model: tokenizer, labels, and its ONNX graph.
pub struct Model {
    pub dir: PathBuf,
    pub labels: Vec<String>,
    /// Truncation length in tokens, special tokens included.
    pub max_length: usize,
    pub pad_id: i64,
    tokenizer: Tokenizer,
    graph: Graph,
}

/// The canonical path of the model directory `path` names, or why it is not
/// one. (A `models:/` URI is resolved to a directory before it gets here.)
pub fn resolve_dir(path: &str) -> Result<PathBuf> {
    let err = |problem: &str| SentimentError::model(path, problem);
    if path.trim().is_empty() {
        return Err(err("empty model path"));
    }
    let dir = Path::new(path);
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(err("no such directory")),
        Err(e) => Err(err(&format!("cannot read: {e}"))),
        Ok(m) if !m.is_dir() => Err(err(
            "not a directory (a model is a directory holding model.onnx, tokenizer.json and config.json)",
        )),
        Ok(_) => std::fs::canonicalize(dir).map_err(|e| err(&format!("cannot resolve: {e}"))),
    }
}

type Stamp = Vec<(u64, Option<SystemTime>)>;
static CACHE: Mutex<Vec<(PathBuf, Stamp, Arc<Model>)>> = Mutex::new(Vec::new());

/// The model in `dir` (canonical), loaded on first use (ONNX Runtime from
/// `library` if it is not loaded yet), then shared until one of its files
/// changes. `first_threads` sizes the session opened to check the graph:
/// the intra-op thread count its first run will most likely use.
pub fn load(dir: &Path, library: Option<&str>, first_threads: usize) -> Result<Arc<Model>> {
    let stamp = stamp(dir)?;
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, s, m)) = cache.iter().find(|(d, _, _)| d == dir) {
        if *s == stamp {
            return Ok(Arc::clone(m));
        }
    }
    let env = super::runtime::environment(library)?;
    let model = Arc::new(Model::open(dir, first_threads, env)?);
    cache.retain(|(d, _, _)| d != dir);
    cache.push((dir.to_path_buf(), stamp, Arc::clone(&model)));
    Ok(model)
}

/// Sizes and modification times of the model files: a changed file reloads.
fn stamp(dir: &Path) -> Result<Stamp> {
    FILES
        .iter()
        .map(|f| {
            let path = dir.join(f);
            let meta = std::fs::metadata(&path).map_err(|e| {
                SentimentError::model(
                    path.display(),
                    if e.kind() == std::io::ErrorKind::NotFound {
                        format!("missing {f} (a model directory needs model.onnx, tokenizer.json and config.json)")
                    } else {
                        format!("cannot read: {e}")
                    },
                )
            })?;
            Ok((meta.len(), meta.modified().ok()))
        })
        .collect()
}

impl Model {
    fn open(dir: &Path, first_threads: usize, env: ort::environment::Environment) -> Result<Self> {
        let fail =
            |file: &str, problem: String| SentimentError::model(dir.join(file).display(), problem);
        let text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| fail("config.json", format!("cannot read: {e}")))?;
        let config: Json = serde_json::from_str(&text)
            .map_err(|e| fail("config.json", format!("not valid JSON: {e}")))?;
        let labels = labels(&config).map_err(|p| fail("config.json", p))?;

        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| fail("tokenizer.json", format!("cannot load the tokenizer: {e}")))?;
        let max_length = max_length(&config, &tokenizer);
        let pad_id = pad_id(&config, &tokenizer);
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| {
                fail(
                    "tokenizer.json",
                    format!("cannot truncate to {max_length}: {e}"),
                )
            })?;
        if let Some(vocab) = config.get("vocab_size").and_then(Json::as_u64) {
            let have = tokenizer.get_vocab_size(true) as u64;
            if have > vocab {
                return Err(fail(
                    "tokenizer.json",
                    format!("the tokenizer has {have} tokens but the model's vocabulary (config.json vocab_size) has {vocab}: tokenizer and model do not belong together"),
                ));
            }
        }
        let graph = Graph::open(&dir.join("model.onnx"), labels.len(), first_threads, env)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            labels,
            max_length,
            pad_id,
            tokenizer,
            graph,
        })
    }

    /// The tokens of `text`, truncated to [`Self::max_length`].
    pub fn tokenize(&self, text: &str) -> Result<Tokens> {
        let enc = self
            .tokenizer
            .encode_fast(text, true)
            .map_err(|e| self.tokenize_error(e))?;
        Ok(tokens(&enc))
    }

    /// The tokens of every text, as [`Self::tokenize`] gives them, computed
    /// in parallel (the tokenizer's rayon pool; `TOKENIZERS_PARALLELISM=false`
    /// turns it off). It runs before this call's ONNX Runtime runs, so the two
    /// do not compete for the cores; one thread took ~3% of a 5,000-tweet scan.
    pub fn tokenize_all(&self, texts: &[&str]) -> Result<Vec<Tokens>> {
        let encs = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(|e| self.tokenize_error(e))?;
        Ok(encs.iter().map(tokens).collect())
    }

    fn tokenize_error(&self, e: impl std::fmt::Display) -> SentimentError {
        SentimentError::model(
            self.dir.join("tokenizer.json").display(),
            format!("cannot tokenize a text: {e}"),
        )
    }

    /// Probabilities per label for each text, in the order given: tokenized,
    /// sorted by length, run in padded batches of at most `batch_size` (cut
    /// where padding would cost more than a run, `batch::plan`), restored.
    ///
    /// The caller counts as scoring for the whole call, which runs as many
    /// batches at once as `threads` gives it for the callers scoring when it
    /// starts, dropping lanes when more callers come (see [`super::threads`]).
    pub fn classify(
        &self,
        texts: &[&str],
        batch_size: usize,
        threads: Threads,
    ) -> Result<Vec<Vec<f32>>> {
        let _scoring = SCORING.enter();
        let tokens = self.tokenize_all(texts)?;
        let logits = batch::run_batched(
            &tokens,
            batch_size,
            self.pad_id,
            threads.lanes(SCORING.now()),
            |lane| threads.lane_open(lane, SCORING.now()),
            |b| self.graph.run(b, threads.intra_op()),
        )?;
        Ok(logits.iter().map(|l| batch::softmax(l)).collect())
    }

    /// Names of the graph inputs this model is fed.
    pub fn inputs(&self) -> Vec<&'static str> {
        self.graph.inputs()
    }
}

/// An encoding's ids and type ids, as the graph takes them.
fn tokens(enc: &tokenizers::Encoding) -> Tokens {
    Tokens {
        ids: enc.get_ids().iter().map(|&i| i as i64).collect(),
        type_ids: enc.get_type_ids().iter().map(|&i| i as i64).collect(),
    }
}

/// `id2label` as a list indexed by class id (ids must be 0..n).
fn labels(config: &Json) -> std::result::Result<Vec<String>, String> {
    let map = config
        .get("id2label")
        .and_then(Json::as_object)
        .ok_or("no `id2label` object: the model's labels are unknown")?;
    let mut by_id: HashMap<usize, String> = HashMap::new();
    for (k, v) in map {
        let id: usize = k
            .parse()
            .map_err(|_| format!("id2label key `{k}` is not a class id"))?;
        let name = v.as_str().ok_or(format!("id2label[{k}] is not a string"))?;
        by_id.insert(id, name.to_string());
    }
    if by_id.is_empty() {
        return Err("`id2label` is empty".into());
    }
    (0..by_id.len())
        .map(|i| {
            by_id
                .remove(&i)
                .ok_or(format!("id2label has no class {i} (ids must be 0..n)"))
        })
        .collect()
}

/// Truncation length: medallion's export records it; else the tokenizer's own
/// truncation; else the position embeddings (less RoBERTa's offset); else 512.
fn max_length(config: &Json, tokenizer: &Tokenizer) -> usize {
    let num = |v: Option<&Json>| v.and_then(Json::as_u64).map(|n| n as usize);
    if let Some(n) = num(config.pointer("/medallion/max_length")) {
        return n;
    }
    if let Some(t) = tokenizer.get_truncation() {
        return t.max_length;
    }
    if let Some(n) = num(config.get("max_position_embeddings")) {
        let model_type = config
            .get("model_type")
            .and_then(Json::as_str)
            .unwrap_or("");
        if model_type.contains("roberta") || model_type == "camembert" {
            let pad = num(config.get("pad_token_id")).unwrap_or(1);
            return n.saturating_sub(pad + 1).max(2);
        }
        return n;
    }
    512
}

/// The id padding uses: medallion's export, else the tokenizer's padding,
/// else `pad_token_id` in config.json, else 0.
fn pad_id(config: &Json, tokenizer: &Tokenizer) -> i64 {
    let num = |v: Option<&Json>| v.and_then(Json::as_i64);
    num(config.pointer("/medallion/pad_token_id"))
        .or_else(|| tokenizer.get_padding().map(|p| p.pad_id as i64))
        .or_else(|| num(config.get("pad_token_id")))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_non_directories_are_named() {
        let e = resolve_dir("/nonexistent/model/dir").unwrap_err();
        assert_eq!(
            e.to_string(),
            "model `/nonexistent/model/dir`: no such directory"
        );
        let e = resolve_dir("/etc/hostname").unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
        let e = resolve_dir("  ").unwrap_err();
        assert!(e.to_string().contains("empty model path"), "{e}");
    }

    #[test]
    fn a_directory_resolves_to_its_canonical_path() {
        let dir = std::env::temp_dir();
        let dotted = format!("{}/.", dir.display());
        assert_eq!(
            resolve_dir(&dotted).unwrap(),
            std::fs::canonicalize(&dir).unwrap()
        );
    }

    #[test]
    fn labels_come_from_id2label_in_id_order() {
        let c: Json = serde_json::json!({"id2label": {"1": "POS", "0": "NEG"}});
        assert_eq!(labels(&c).unwrap(), vec!["NEG", "POS"]);
        let c: Json = serde_json::json!({"id2label": {"0": "a", "2": "c"}});
        assert!(labels(&c).unwrap_err().contains("no class 1"));
        assert!(labels(&serde_json::json!({}))
            .unwrap_err()
            .contains("id2label"));
    }
}
