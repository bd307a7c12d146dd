//! Batching a chunk of token sequences for the model: sort by length, cut
//! into batches, pad each batch to its own longest sequence, run, and put the
//! results back in the original row order.
//!
//! Plain Rust with no ONNX Runtime in it, so the order/padding logic has its
//! own unit tests. Padding is on the right with the model's pad id, the
//! attention mask is 1 on real tokens and 0 on padding, token types pad with 0
//! (as HuggingFace tokenizers pad).

use super::error::Result;

/// One tokenized text: its ids and token type ids (same length).
#[derive(Debug, Clone, PartialEq)]
pub struct Tokens {
    pub ids: Vec<i64>,
    pub type_ids: Vec<i64>,
}

/// A rectangular batch, row-major `[rows, cols]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Padded {
    pub rows: usize,
    pub cols: usize,
    pub input_ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    pub token_type_ids: Vec<i64>,
}

/// Row indices grouped into batches of at most `batch_size`, in order of
/// increasing token length (ties keep their original order, so the plan is
/// deterministic).
pub fn plan(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]); // stable
    order
        .chunks(batch_size.max(1))
        .map(|c| c.to_vec())
        .collect()
}

/// The rows `batch` of `tokens`, right-padded with `pad_id` to the longest.
pub fn pad(tokens: &[Tokens], batch: &[usize], pad_id: i64) -> Padded {
    let rows = batch.len();
    let cols = batch
        .iter()
        .map(|&i| tokens[i].ids.len())
        .max()
        .unwrap_or(0);
    let mut p = Padded {
        rows,
        cols,
        input_ids: vec![pad_id; rows * cols],
        attention_mask: vec![0; rows * cols],
        token_type_ids: vec![0; rows * cols],
    };
    for (r, &i) in batch.iter().enumerate() {
        let t = &tokens[i];
        let at = r * cols;
        p.input_ids[at..at + t.ids.len()].copy_from_slice(&t.ids);
        p.attention_mask[at..at + t.ids.len()].fill(1);
        p.token_type_ids[at..at + t.type_ids.len()].copy_from_slice(&t.type_ids);
    }
    p
}

/// Runs every batch through `run` (which returns one row of logits per batch
/// row) and returns the logits in the order of `tokens`.
pub fn run_batched(
    tokens: &[Tokens],
    batch_size: usize,
    pad_id: i64,
    mut run: impl FnMut(&Padded) -> Result<Vec<Vec<f32>>>,
) -> Result<Vec<Vec<f32>>> {
    let lengths: Vec<usize> = tokens.iter().map(|t| t.ids.len()).collect();
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); tokens.len()];
    for batch in plan(&lengths, batch_size) {
        let padded = pad(tokens, &batch, pad_id);
        let logits = run(&padded)?;
        debug_assert_eq!(logits.len(), batch.len());
        for (row, &i) in logits.into_iter().zip(batch.iter()) {
            out[i] = row;
        }
    }
    Ok(out)
}

/// Softmax in f32, as `numpy` computes it for the reference outputs:
/// `exp(x - max) / sum`.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|&x| (x - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Index of the largest value (the first one on ties, like `numpy.argmax`).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(lens: &[usize]) -> Vec<Tokens> {
        lens.iter()
            .enumerate()
            .map(|(k, &n)| Tokens {
                ids: (0..n as i64).map(|j| 100 * (k as i64 + 1) + j).collect(),
                type_ids: vec![0; n],
            })
            .collect()
    }

    #[test]
    fn plan_sorts_by_length_stably_and_cuts_batches() {
        assert_eq!(
            plan(&[5, 2, 9, 2, 1], 2),
            vec![vec![4, 1], vec![3, 0], vec![2]]
        );
        assert_eq!(plan(&[], 32), Vec::<Vec<usize>>::new());
        // batch size 0 is treated as 1 (row at a time)
        assert_eq!(plan(&[3, 1], 0), vec![vec![1], vec![0]]);
    }

    #[test]
    fn pad_pads_right_to_the_longest_in_the_batch() {
        let t = toks(&[3, 1]);
        let p = pad(&t, &[1, 0], 7);
        assert_eq!((p.rows, p.cols), (2, 3));
        assert_eq!(p.input_ids, vec![200, 7, 7, 100, 101, 102]);
        assert_eq!(p.attention_mask, vec![1, 0, 0, 1, 1, 1]);
        assert_eq!(p.token_type_ids, vec![0; 6]);
    }

    #[test]
    fn run_batched_restores_the_original_order() {
        let t = toks(&[4, 1, 3, 2, 5, 1, 1]);
        let mut shapes = Vec::new();
        // a fake model: logit = first id and count of real tokens
        let out = run_batched(&t, 3, 0, |p| {
            shapes.push((p.rows, p.cols));
            Ok((0..p.rows)
                .map(|r| {
                    let row = &p.attention_mask[r * p.cols..(r + 1) * p.cols];
                    vec![
                        p.input_ids[r * p.cols] as f32,
                        row.iter().sum::<i64>() as f32,
                    ]
                })
                .collect())
        })
        .unwrap();
        for (k, row) in out.iter().enumerate() {
            assert_eq!(row[0], (100 * (k + 1)) as f32);
            assert_eq!(row[1], t[k].ids.len() as f32);
        }
        // sorted lengths 1,1,1 | 2,3,4 | 5: each batch padded to its own longest
        assert_eq!(shapes, vec![(3, 1), (3, 4), (1, 5)]);
    }

    #[test]
    fn run_batched_passes_errors_through() {
        let t = toks(&[1, 2]);
        let err = run_batched(&t, 1, 0, |_| {
            Err(crate::sentiment::error::SentimentError::model("m", "boom"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("boom"));
    }

    #[test]
    fn softmax_and_argmax() {
        let p = softmax(&[1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(argmax(&p), 2);
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        let big = softmax(&[1000.0, 0.0]);
        assert!((big[0] - 1.0).abs() < 1e-6 && big[1] >= 0.0);
    }
}
