//! Z-order keys from per-column ranks, with arrow kernels only (no DataFusion).
//!
//! Each Z-order column is replaced by the rank of its value among the rows
//! being clustered (equal values share a rank, NULLs rank first), the ranks
//! are scaled to the same number of bits, and the bits are interleaved
//! most-significant first into a 128-bit key. Sorting by the key clusters rows
//! that are close in *every* column. Ranking first is what makes this work for
//! strings with long common prefixes (`user_00001`, …) and for timestamps
//! whose top bits never change — both defeat delta-rs' own key, which
//! interleaves raw value bytes.

use arrow59::array::{ArrayRef, RecordBatch, UInt32Array};
use arrow59::compute::take;
use arrow59::row::{RowConverter, SortField};
use std::ops::Range;

/// Per-row dense ranks of one column: 0 for the smallest value (NULL first).
pub fn dense_ranks(column: &ArrayRef) -> Result<(Vec<u64>, u64), String> {
    let conv = RowConverter::new(vec![SortField::new(column.data_type().clone())])
        .map_err(|e| e.to_string())?;
    let rows = conv
        .convert_columns(std::slice::from_ref(column))
        .map_err(|e| e.to_string())?;
    let n = rows.num_rows();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| rows.row(a).cmp(&rows.row(b)));
    let mut ranks = vec![0u64; n];
    let mut rank = 0u64;
    for w in 0..n {
        if w > 0 && rows.row(order[w]) != rows.row(order[w - 1]) {
            rank += 1;
        }
        ranks[order[w]] = rank;
    }
    let distinct = if n == 0 { 0 } else { rank + 1 };
    Ok((ranks, distinct))
}

/// Interleaves the ranks of `columns` into one Z-order key per row.
pub fn zorder_keys(columns: &[ArrayRef]) -> Result<Vec<u128>, String> {
    if columns.is_empty() {
        return Err("no Z-order columns".into());
    }
    let n = columns[0].len();
    let k = columns.len() as u32;
    let bits = (128 / k).min(64);
    let mut scaled: Vec<Vec<u64>> = Vec::with_capacity(columns.len());
    for c in columns {
        let (ranks, distinct) = dense_ranks(c)?;
        // Spread ranks over the full `bits` range so every column weighs the same.
        let denom = distinct.saturating_sub(1).max(1) as u128;
        let top = if bits == 64 {
            u64::MAX as u128
        } else {
            (1u128 << bits) - 1
        };
        scaled.push(
            ranks
                .iter()
                .map(|&r| (r as u128 * top / denom) as u64)
                .collect(),
        );
    }
    let mut keys = vec![0u128; n];
    for (row, key) in keys.iter_mut().enumerate() {
        let mut z = 0u128;
        for b in (0..bits).rev() {
            for col in &scaled {
                z = (z << 1) | ((col[row] >> b) & 1) as u128;
            }
        }
        *key = z;
    }
    Ok(keys)
}

/// The permutation that sorts rows by their Z-order key (stable).
pub fn zorder_permutation(columns: &[ArrayRef]) -> Result<UInt32Array, String> {
    let keys = zorder_keys(columns)?;
    let mut idx: Vec<u32> = (0..keys.len() as u32).collect();
    idx.sort_by_key(|&i| keys[i as usize]);
    Ok(UInt32Array::from(idx))
}

/// Returns `batch` with its rows in Z-order of the named columns, and the
/// sorted keys.
pub fn zorder_sort(batch: &RecordBatch, by: &[String]) -> Result<(RecordBatch, Vec<u128>), String> {
    let cols: Vec<ArrayRef> = by
        .iter()
        .map(|c| {
            batch
                .column_by_name(c)
                .cloned()
                .ok_or_else(|| format!("unknown Z-order column `{c}`"))
        })
        .collect::<Result<_, _>>()?;
    let keys = zorder_keys(&cols)?;
    let mut idx: Vec<u32> = (0..keys.len() as u32).collect();
    idx.sort_by_key(|&i| keys[i as usize]);
    let sorted_keys = idx.iter().map(|&i| keys[i as usize]).collect();
    let perm = UInt32Array::from(idx);
    let columns = batch
        .columns()
        .iter()
        .map(|c| take(c, &perm, None).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let sorted = RecordBatch::try_new(batch.schema(), columns).map_err(|e| e.to_string())?;
    Ok((sorted, sorted_keys))
}

/// Cuts sorted keys into row ranges of at most `max_rows` rows that follow
/// the Z-curve's cells: a range is halved at its next key bit (so a file
/// covers one quadrant-tree cell, and its per-column min/max stay tight),
/// then neighbouring small cells are merged while they fit in `max_rows`.
pub fn aligned_ranges(keys: &[u128], max_rows: usize) -> Vec<Range<usize>> {
    fn split(keys: &[u128], r: Range<usize>, bit: i32, max: usize, out: &mut Vec<Range<usize>>) {
        if r.len() <= max || bit < 0 {
            out.push(r);
            return;
        }
        let m = r.start + keys[r.clone()].partition_point(|k| (k >> bit) & 1 == 0);
        if m == r.start || m == r.end {
            split(keys, r, bit - 1, max, out);
        } else {
            split(keys, r.start..m, bit - 1, max, out);
            split(keys, m..r.end, bit - 1, max, out);
        }
    }
    let max = max_rows.max(1);
    let mut cells = Vec::new();
    split(keys, 0..keys.len(), 127, max, &mut cells);
    let mut out: Vec<Range<usize>> = Vec::new();
    for c in cells.into_iter().filter(|c| !c.is_empty()) {
        match out.last_mut() {
            Some(last) if last.len() + c.len() <= max => last.end = c.end,
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow59::array::{Array, Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn ranks_are_dense_and_nulls_first() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            None,
            Some("a"),
            Some("b"),
        ]));
        let (r, d) = dense_ranks(&a).unwrap();
        assert_eq!(r, vec![2, 0, 1, 2]);
        assert_eq!(d, 3);
    }

    #[test]
    fn one_column_zorder_is_plain_sort() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![5, 3, 9, 1]));
        let p = zorder_permutation(&[a]).unwrap();
        assert_eq!(p.values().to_vec(), vec![3, 1, 0, 2]);
    }

    #[test]
    fn common_prefix_strings_and_timestamps_cluster() {
        // 64 users x 64 times; after Z-order, any one user's rows should span
        // a small contiguous fraction of positions when cut into 16 files.
        let mut users = Vec::new();
        let mut ts = Vec::new();
        for u in 0..64 {
            for t in 0..64 {
                users.push(format!("user_{u:08}"));
                ts.push(1_700_000_000_000_000i64 + t * 1_000_000);
            }
        }
        let users: ArrayRef = Arc::new(StringArray::from(users));
        let ts: ArrayRef = Arc::new(Int64Array::from(ts));
        let p = zorder_permutation(&[users.clone(), ts]).unwrap();
        let files = 16;
        let per = p.len() / files;
        let target = "user_00000042";
        let mut touched = std::collections::BTreeSet::new();
        for (pos, &i) in p.values().iter().enumerate() {
            let s = users.as_any().downcast_ref::<StringArray>().unwrap();
            if s.value(i as usize) == target {
                touched.insert(pos / per);
            }
        }
        // With 2 columns, one user's rows land in ~sqrt(16) = 4 of 16 files.
        assert!(touched.len() <= 4, "{touched:?}");
    }

    #[test]
    fn unknown_column_is_named() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        let b = RecordBatch::try_from_iter(vec![("x", a)]).unwrap();
        assert!(zorder_sort(&b, &["y".into()]).unwrap_err().contains("`y`"));
    }

    #[test]
    fn aligned_ranges_cover_every_row_within_the_limit() {
        let keys: Vec<u128> = (0..10_000u128).map(|i| i * i).collect();
        let r = aligned_ranges(&keys, 1000);
        assert_eq!(r.first().unwrap().start, 0);
        assert_eq!(r.last().unwrap().end, keys.len());
        assert!(r.windows(2).all(|w| w[0].end == w[1].start));
        assert!(r.iter().all(|x| x.len() <= 1000 && !x.is_empty()));
        assert!(aligned_ranges(&[], 10).is_empty());
    }
}
