//! Which files an OPTIMIZE run rewrites: every file of each partition, or
//! (incremental) what appends added since the last run plus the cubes that
//! are still small.
//!
//! Each run writes its files into one *cube*: the directory
//! `clustered/zcube-<id>/`, its files also tagged `ZCUBE_ID` as Delta's
//! ZCubes are. Why cubes: a run sorts only what it rewrites, so a filter on
//! the Z-order columns opens about one file per cube. Rewriting only the new
//! files would leave one small cube per run, and skipping would decay as the
//! stream goes on; rewriting everything would cost the table on every run.
//! Merging the cubes smaller than `min_cube_bytes` into the new one (the
//! rule of Delta's ZCubes, whose `minCubeSize` is 100 GB) keeps the table at
//! a few large cubes plus one growing cube, and rewrites a row only until
//! its cube is large: a bounded number of times, not once per run.

use std::collections::BTreeMap;

/// The directory (under the table root) of the files OPTIMIZE wrote.
pub const CLUSTERED_DIR: &str = "clustered";

/// The name of a cube's directory under [`CLUSTERED_DIR`] starts with this.
pub const CUBE_PREFIX: &str = "zcube-";

/// Whether a file (path relative to the table root, as the log has it) was
/// written by OPTIMIZE.
pub fn is_clustered(relative_path: &str) -> bool {
    relative_path
        .strip_prefix(CLUSTERED_DIR)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// The cube a clustered file belongs to: its `zcube-<id>` directory; a file
/// an older version wrote straight under `clustered/` is a cube of its own.
pub fn cube_of(relative_path: &str) -> Option<&str> {
    let rest = relative_path
        .strip_prefix(CLUSTERED_DIR)?
        .strip_prefix('/')?;
    match rest.split_once('/') {
        Some((cube, _)) if cube.starts_with(CUBE_PREFIX) => Some(cube),
        _ => Some(relative_path),
    }
}

/// Which files a run rewrites, and when it is worth it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Input {
    /// Only the files not clustered yet, plus small cubes (else every file).
    pub incremental: bool,
    /// Run only when at least this many candidate files ...
    pub min_files: Option<u64>,
    /// ... or at least this many bytes of them have gathered (either one;
    /// neither given: always run). Incremental: counts the new files only.
    pub min_bytes: Option<u64>,
    /// Incremental: cubes of fewer bytes are merged into the run's cube
    /// (None: every cube stays as written).
    pub min_cube_bytes: Option<u64>,
}

impl Input {
    /// Every file of each partition.
    pub fn all() -> Input {
        Input::default()
    }

    /// The files not clustered yet.
    pub fn unclustered() -> Input {
        Input {
            incremental: true,
            ..Input::default()
        }
    }

    /// Whether `files` candidates of `bytes` are enough to run.
    pub(super) fn enough(&self, files: u64, bytes: u64) -> bool {
        match (self.min_files, self.min_bytes) {
            (None, None) => true,
            (f, b) => f.is_some_and(|f| files >= f) || b.is_some_and(|b| bytes >= b),
        }
    }
}

/// A partition's values, sorted by column: what groups files.
pub type PartitionKey = Vec<(String, Option<String>)>;

/// One live file of the table, as selection sees it.
#[derive(Debug, Clone)]
pub struct Live<'a> {
    pub path: &'a str,
    pub size: u64,
    pub partition: PartitionKey,
}

/// The files to rewrite, as indexes into `files`, one group per partition
/// (each group becomes one new cube); empty when there is nothing to do or
/// not enough has gathered yet.
pub fn select(files: &[Live], input: &Input) -> Vec<Vec<usize>> {
    let mut fresh: BTreeMap<&PartitionKey, Vec<usize>> = BTreeMap::new();
    let mut cubes: BTreeMap<(&PartitionKey, &str), (u64, Vec<usize>)> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        match cube_of(f.path).filter(|_| input.incremental) {
            None => fresh.entry(&f.partition).or_default().push(i),
            Some(cube) => {
                let c = cubes.entry((&f.partition, cube)).or_default();
                c.0 += f.size;
                c.1.push(i);
            }
        }
    }
    let count = fresh.values().map(Vec::len).sum::<usize>() as u64;
    let bytes = fresh.values().flatten().map(|&i| files[i].size).sum();
    if !input.enough(count, bytes) {
        return Vec::new();
    }
    let least = if input.incremental { 1 } else { 2 };
    if let Some(min) = input.min_cube_bytes {
        for ((partition, _), (size, idxs)) in &cubes {
            if *size < min {
                if let Some(group) = fresh.get_mut(partition) {
                    group.extend(idxs);
                }
            }
        }
    }
    fresh
        .into_values()
        .filter(|g| g.len() >= least)
        .map(|mut g| {
            g.sort_unstable();
            g
        })
        .collect()
}

/// The files a run sorts together, at most `max_bytes` of them at a time
/// (at least one file each): the rows of one sort are held in memory, so a
/// large input (a backlog, or a full OPTIMIZE) is sorted in runs of bounded
/// size, each its own sorted range of the run's cube, instead of all at once.
pub fn sort_runs(files: &[usize], sizes: &[u64], max_bytes: u64) -> Vec<Vec<usize>> {
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut bytes = 0u64;
    for &i in files {
        match runs.last_mut() {
            Some(run) if bytes + sizes[i] <= max_bytes => run.push(i),
            _ => {
                runs.push(vec![i]);
                bytes = 0;
            }
        }
        bytes += sizes[i];
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(path: &str, size: u64, part: &str) -> Live<'static> {
        let path: &'static str = Box::leak(path.to_string().into_boxed_str());
        Live {
            path,
            size,
            partition: vec![("p".into(), Some(part.into()))],
        }
    }

    #[test]
    fn a_file_belongs_to_its_cube_directory_or_is_a_cube_of_its_own() {
        assert_eq!(cube_of("clustered/zcube-1/part-0.parquet"), Some("zcube-1"));
        assert_eq!(
            cube_of("clustered/zcube-1/p=a/part-0.parquet"),
            Some("zcube-1")
        );
        assert_eq!(
            cube_of("clustered/part-0.parquet"),
            Some("clustered/part-0.parquet")
        );
        assert_eq!(cube_of("part-0.parquet"), None);
        assert_eq!(cube_of("clusteredx/part-0.parquet"), None);
    }

    #[test]
    fn incremental_takes_new_files_and_small_cubes_of_the_same_partition() {
        let files = [
            live("new-a.parquet", 10, "a"),
            live("clustered/zcube-small/a.parquet", 50, "a"),
            live("clustered/zcube-big/a0.parquet", 80, "a"),
            live("clustered/zcube-big/a1.parquet", 80, "a"),
            // partition b has no new files: its small cube is left alone
            live("clustered/zcube-small-b/b.parquet", 5, "b"),
        ];
        let input = Input {
            min_cube_bytes: Some(100),
            ..Input::unclustered()
        };
        assert_eq!(select(&files, &input), vec![vec![0, 1]]);
        // without min_cube_bytes only the new file
        assert_eq!(select(&files, &Input::unclustered()), vec![vec![0]]);
        // a full run takes every file of partitions with more than one
        assert_eq!(select(&files, &Input::all()), vec![vec![0, 1, 2, 3]]);
    }

    #[test]
    fn small_cubes_alone_do_not_start_a_run() {
        let files = [live("clustered/zcube-small/a.parquet", 50, "a")];
        let input = Input {
            min_cube_bytes: Some(100),
            ..Input::unclustered()
        };
        assert!(select(&files, &input).is_empty());
    }

    #[test]
    fn thresholds_count_the_new_files_only() {
        let files = [
            live("new-a.parquet", 10, "a"),
            live("clustered/zcube-small/a.parquet", 50, "a"),
        ];
        let input = Input {
            min_files: Some(2),
            min_cube_bytes: Some(100),
            ..Input::unclustered()
        };
        assert!(select(&files, &input).is_empty());
        let input = Input {
            min_bytes: Some(10),
            ..input
        };
        assert_eq!(select(&files, &input), vec![vec![0, 1]]);
    }

    #[test]
    fn sort_runs_hold_at_most_max_bytes_and_every_file_once() {
        let sizes = [10, 30, 25, 100, 5, 5];
        let runs = sort_runs(&[0, 1, 2, 3, 4, 5], &sizes, 40);
        assert_eq!(runs, vec![vec![0, 1], vec![2], vec![3], vec![4, 5]]);
        assert_eq!(sort_runs(&[2, 0], &sizes, 1000), vec![vec![2, 0]]);
        assert!(sort_runs(&[], &sizes, 40).is_empty());
    }
}
