//! Batching a chunk of token sequences for the model: sort by length, cut
//! into batches where padding would cost more than a run, pad each batch to
//! its own longest sequence, run the batches on one or more lanes (threads),
//! and put the results back in the original row order.
//!
//! Plain Rust with no ONNX Runtime in it, so the order, padding and lane
//! logic has its own unit tests. Padding is on the right with the model's pad id, the
//! attention mask is 1 on real tokens and 0 on padding, token types pad with 0
//! (as HuggingFace tokenizers pad).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

/// What one more ONNX Runtime run costs, in padded tokens: the price of
/// cutting a batch short to save padding. Measured with the shipped model on
/// one thread: a run of one 3-token text takes 0.6 ms, a token in a batch
/// of 32 about 60 us, so a run costs about 10 tokens. On 5,000 Sentiment140
/// tweets in chunks of 2,048, fixed batches of 32 pad 3.6% more tokens than
/// the texts have (sorting all 5,000 at once: 1.0%); cut at this price they
/// pad 0.2%, with 29% more runs (202 instead of 157).
pub const RUN_COST_TOKENS: usize = 10;

/// Row indices grouped into batches of at most `batch_size`, in order of
/// increasing token length (ties keep their original order, so the plan is
/// deterministic). Where the batches are cut is chosen to spend the fewest
/// padded tokens plus [`RUN_COST_TOKENS`] per batch (a shortest path over
/// the sorted rows, `O(rows * batch_size)`): a batch ends where the lengths
/// step up rather than always after `batch_size` rows.
pub fn plan(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let batch_size = batch_size.max(1);
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]); // stable
    let sorted: Vec<usize> = order.iter().map(|&i| lengths[i]).collect();
    // cost[j]: the cheapest way to run the first j sorted rows; start[j]:
    // where its last batch starts.
    let n = sorted.len();
    let mut cost = vec![usize::MAX; n + 1];
    let mut start = vec![0; n + 1];
    cost[0] = 0;
    for j in 1..=n {
        // a batch i..j is padded to sorted[j - 1], its longest
        for i in j.saturating_sub(batch_size)..j {
            let c = cost[i] + RUN_COST_TOKENS + (j - i) * sorted[j - 1];
            if c < cost[j] {
                cost[j] = c;
                start[j] = i;
            }
        }
    }
    let mut cuts = vec![n];
    while let Some(&j) = cuts.last().filter(|&&j| j > 0) {
        cuts.push(start[j]);
    }
    cuts.reverse();
    cuts.windows(2)
        .map(|w| order[w[0]..w[1]].to_vec())
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
///
/// Up to `lanes` batches run at once, each lane a thread of its own (lane 0
/// is the caller's thread) taking the next batch when it is done with one,
/// longest batches first so that the lanes finish together. A lane other
/// than 0 stops taking batches once `lane_open(lane)` says no (another
/// caller wants its core); lane 0 always goes on, so every batch runs. The
/// batches are the same whatever the lanes, so the answers are too. The
/// first error stops every lane and is returned; a panic in a lane is
/// resumed on the caller's thread.
pub fn run_batched(
    tokens: &[Tokens],
    batch_size: usize,
    pad_id: i64,
    lanes: usize,
    lane_open: impl Fn(usize) -> bool + Sync,
    run: impl Fn(&Padded) -> Result<Vec<Vec<f32>>> + Sync,
) -> Result<Vec<Vec<f32>>> {
    let lengths: Vec<usize> = tokens.iter().map(|t| t.ids.len()).collect();
    let mut batches = plan(&lengths, batch_size);
    batches.reverse();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let lane = |lane: usize| -> Result<Vec<(usize, Vec<Vec<f32>>)>> {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) && (lane == 0 || lane_open(lane)) {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some(batch) = batches.get(at) else { break };
            match run(&pad(tokens, batch, pad_id)) {
                Ok(logits) => done.push((at, logits)),
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        Ok(done)
    };
    let results = if lanes <= 1 {
        vec![lane(0)]
    } else {
        std::thread::scope(|s| {
            let lane = &lane;
            let others: Vec<_> = (1..lanes).map(|l| s.spawn(move || lane(l))).collect();
            let mut results = vec![lane(0)];
            for other in others {
                results.push(
                    other
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                );
            }
            results
        })
    };
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); tokens.len()];
    for result in results {
        for (at, logits) in result? {
            debug_assert_eq!(logits.len(), batches[at].len());
            for (row, &i) in logits.into_iter().zip(batches[at].iter()) {
                out[i] = row;
            }
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
        // sorted: 1 (row 4), 2 (1), 2 (3), 5 (0), 9 (2); three runs either
        // way, and 1 | 2 2 | 5 9 pads as little as 1 2 | 2 5 | 9
        assert_eq!(
            plan(&[5, 2, 9, 2, 1], 2),
            vec![vec![4], vec![1, 3], vec![0, 2]]
        );
        assert_eq!(plan(&[], 32), Vec::<Vec<usize>>::new());
        // batch size 0 is treated as 1 (row at a time)
        assert_eq!(plan(&[3, 1], 0), vec![vec![1], vec![0]]);
    }

    /// The padded tokens of a plan.
    fn cells(lengths: &[usize], plan: &[Vec<usize>]) -> usize {
        plan.iter()
            .map(|b| b.len() * b.iter().map(|&i| lengths[i]).max().unwrap())
            .sum()
    }

    #[test]
    fn plan_cuts_where_lengths_step_up_when_padding_costs_more_than_a_run() {
        // 20 texts of 10 tokens then 20 of 100: fixed batches of 32 would pad
        // 12 short texts to 100 (1,080 tokens wasted); two batches of 20 waste none
        let lengths: Vec<usize> = (0..40).map(|k| if k < 20 { 10 } else { 100 }).collect();
        let p = plan(&lengths, 32);
        assert_eq!(p.iter().map(Vec::len).collect::<Vec<_>>(), vec![20, 20]);
        assert_eq!(cells(&lengths, &p), 20 * 10 + 20 * 100);
        // padding 5 texts by one token (5 tokens) is not worth a run (10)
        let lengths = [10, 10, 10, 10, 10, 11, 11, 11, 11, 11];
        assert_eq!(plan(&lengths, 32).len(), 1);
        // but by 4 tokens it is
        let lengths = [10, 10, 10, 10, 10, 14, 14, 14, 14, 14];
        assert_eq!(plan(&lengths, 32).len(), 2);
    }

    #[test]
    fn plan_covers_every_row_once_in_length_order_within_the_batch_size() {
        let lengths: Vec<usize> = (0..2048).map(|k| 3 + (k * 7919) % 61).collect();
        for size in [1, 7, 32, 64] {
            let p = plan(&lengths, size);
            assert!(p.iter().all(|b| !b.is_empty() && b.len() <= size));
            let flat: Vec<usize> = p.concat();
            let mut seen = flat.clone();
            seen.sort();
            assert_eq!(seen, (0..2048).collect::<Vec<_>>());
            assert!(flat.windows(2).all(|w| lengths[w[0]] <= lengths[w[1]]));
            // never more padded tokens than fixed batches of `size`
            let mut order: Vec<usize> = (0..2048).collect();
            order.sort_by_key(|&i| lengths[i]);
            let fixed: Vec<Vec<usize>> = order.chunks(size).map(<[usize]>::to_vec).collect();
            assert!(cells(&lengths, &p) <= cells(&lengths, &fixed));
        }
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

    /// A fake model: logit = first id and count of real tokens.
    fn fake(p: &Padded) -> Vec<Vec<f32>> {
        (0..p.rows)
            .map(|r| {
                let row = &p.attention_mask[r * p.cols..(r + 1) * p.cols];
                vec![
                    p.input_ids[r * p.cols] as f32,
                    row.iter().sum::<i64>() as f32,
                ]
            })
            .collect()
    }

    #[test]
    fn run_batched_restores_the_original_order() {
        let t = toks(&[4, 1, 3, 2, 5, 1, 1]);
        let shapes = std::sync::Mutex::new(Vec::new());
        let out = run_batched(
            &t,
            3,
            0,
            1,
            |_| true,
            |p| {
                shapes.lock().unwrap().push((p.rows, p.cols));
                Ok(fake(p))
            },
        )
        .unwrap();
        for (k, row) in out.iter().enumerate() {
            assert_eq!(row[0], (100 * (k + 1)) as f32);
            assert_eq!(row[1], t[k].ids.len() as f32);
        }
        // sorted lengths 1,1,1 | 2,3 | 4,5: each batch padded to its own
        // longest, the longest batch run first
        assert_eq!(shapes.into_inner().unwrap(), vec![(2, 5), (2, 3), (3, 1)]);
    }

    #[test]
    fn lanes_run_batches_at_once_and_give_the_same_answers() {
        let t = toks(&(0..200).map(|k| 1 + k % 17).collect::<Vec<_>>());
        let alone = run_batched(&t, 8, 0, 1, |_| true, |p| Ok(fake(p))).unwrap();
        let threads = std::sync::Mutex::new(std::collections::HashSet::new());
        let three = run_batched(
            &t,
            8,
            0,
            3,
            |_| true,
            |p| {
                threads.lock().unwrap().insert(std::thread::current().id());
                // 25 batches of 2 ms: time enough for the other lanes to start
                std::thread::sleep(std::time::Duration::from_millis(2));
                Ok(fake(p))
            },
        )
        .unwrap();
        assert_eq!(three, alone);
        let threads = threads.into_inner().unwrap().len();
        assert!((2..=3).contains(&threads), "{threads} threads ran batches");
    }

    #[test]
    fn a_closed_lane_stops_and_lane_zero_finishes_the_work() {
        let t = toks(&(0..64).map(|k| 1 + k % 5).collect::<Vec<_>>());
        let alone = run_batched(&t, 4, 0, 1, |_| true, |p| Ok(fake(p))).unwrap();
        let lane_threads = std::sync::Mutex::new(std::collections::HashSet::new());
        let caller = std::thread::current().id();
        // lanes 1 and 2 are closed from the start: only the caller's thread runs
        let out = run_batched(
            &t,
            4,
            0,
            3,
            |lane| lane == 0,
            |p| {
                lane_threads
                    .lock()
                    .unwrap()
                    .insert(std::thread::current().id());
                Ok(fake(p))
            },
        )
        .unwrap();
        assert_eq!(out, alone);
        let seen = lane_threads.into_inner().unwrap();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![caller]);
    }

    #[test]
    fn run_batched_passes_errors_through_from_any_lane() {
        let t = toks(&[1, 2, 3, 4, 5, 6]);
        for lanes in [1, 2, 4] {
            let err = run_batched(
                &t,
                1,
                0,
                lanes,
                |_| true,
                |p| {
                    if p.cols == 3 {
                        Err(crate::sentiment::error::SentimentError::model("m", "boom"))
                    } else {
                        Ok(fake(p))
                    }
                },
            )
            .unwrap_err();
            assert!(err.to_string().contains("boom"), "{lanes} lanes: {err}");
        }
    }

    #[test]
    fn a_panic_in_a_lane_reaches_the_caller() {
        let t = toks(&[1, 2, 3, 4]);
        let caller = std::thread::current().id();
        let r = std::panic::catch_unwind(|| {
            run_batched(
                &t,
                1,
                0,
                2,
                |_| true,
                |p| {
                    if std::thread::current().id() != caller {
                        panic!("lane panicked");
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    Ok(fake(p))
                },
            )
        });
        assert!(r.is_err());
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
