//! OPTIMIZE against real tables in scratch directories.

use super::*;
use crate::delta::ops::files::files;
use crate::delta::ops::testing::{scratch, table_of, write_rows};

#[test]
fn small_files_become_one_clustered_commit_with_every_row() {
    let t = table_of("optimize", &[100; 4]);
    let r = optimize_zorder(
        &t,
        &["who".to_string(), "id".to_string()],
        DEFAULT_TARGET,
        &Input::all(),
    )
    .unwrap();
    assert_eq!((r.version, r.files_removed, r.files_added), (Some(4), 4, 1));
    assert_eq!((r.rows, r.partitions), (400, 1));
    let after = files(&t, &At::Latest).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].num_records, Some(400));
    // Nothing left to compact: no commit.
    let again = optimize_zorder(&t, &["who".to_string()], DEFAULT_TARGET, &Input::all()).unwrap();
    assert_eq!((again.version, again.files_added), (Some(4), 0));
}

#[test]
fn incremental_runs_cluster_only_what_arrived_since() {
    let t = scratch("optimize-incr");
    let by = ["who".to_string()];
    write_rows(&t, 0..100);
    write_rows(&t, 100..200);
    let first = optimize_zorder(&t, &by, DEFAULT_TARGET, &Input::unclustered()).unwrap();
    assert_eq!((first.files_removed, first.files_added), (2, 1));
    let clustered = files(&t, &At::Latest).unwrap();
    assert!(
        clustered.iter().all(|f| is_clustered(&f.path)),
        "{clustered:?}"
    );
    // Nothing new: no commit.
    let idle = optimize_zorder(&t, &by, DEFAULT_TARGET, &Input::unclustered()).unwrap();
    assert_eq!((idle.version, idle.files_added), (first.version, 0));
    // New appends: only they are rewritten; the clustered file stays.
    write_rows(&t, 200..250);
    let next = optimize_zorder(&t, &by, DEFAULT_TARGET, &Input::unclustered()).unwrap();
    assert_eq!((next.files_removed, next.rows), (1, 50));
    let after = files(&t, &At::Latest).unwrap();
    assert!(after.iter().any(|f| f.path == clustered[0].path));
    let rows: i64 = after.iter().filter_map(|f| f.num_records).sum();
    assert_eq!(rows, 250);
    assert!(!is_clustered("part-0.parquet") && !is_clustered("clusteredx/a"));
}

#[test]
fn a_run_waits_until_enough_unclustered_files_or_bytes_have_gathered() {
    let t = scratch("optimize-threshold");
    let by = ["who".to_string()];
    write_rows(&t, 0..10);
    write_rows(&t, 10..20);
    let wait = Input {
        min_files: Some(3),
        min_bytes: Some(1 << 30),
        ..Input::unclustered()
    };
    let r = optimize_zorder(&t, &by, DEFAULT_TARGET, &wait).unwrap();
    assert_eq!((r.version, r.files_removed), (Some(1), 0));
    write_rows(&t, 20..30);
    let r = optimize_zorder(&t, &by, DEFAULT_TARGET, &wait).unwrap();
    assert_eq!((r.version, r.files_removed, r.rows), (Some(3), 3, 30));
    assert!(Input {
        min_bytes: Some(10),
        ..Input::default()
    }
    .enough(0, 10));
    assert!(!Input {
        min_bytes: Some(10),
        ..Input::default()
    }
    .enough(5, 9));
    assert!(Input::all().enough(0, 0));
}

#[test]
fn unknown_and_partition_columns_are_refused_by_name() {
    let t = table_of("optimize-bad", &[10]);
    let e = optimize_zorder(&t, &["nope".to_string()], DEFAULT_TARGET, &Input::all()).unwrap_err();
    assert_eq!(
        e.message,
        "unknown Z-order column `nope` (columns: id, who)"
    );
    let e = optimize_zorder(&t, &[], DEFAULT_TARGET, &Input::all()).unwrap_err();
    assert_eq!(e.message, "give at least one Z-order column");
}

#[test]
fn small_cubes_are_merged_into_the_new_cube_and_large_ones_stay() {
    let t = scratch("optimize-cubes");
    let by = ["who".to_string()];
    let merge_small = Input {
        min_cube_bytes: Some(1 << 30),
        ..Input::unclustered()
    };
    write_rows(&t, 0..100);
    write_rows(&t, 100..200);
    let first = optimize_zorder(&t, &by, DEFAULT_TARGET, &merge_small).unwrap();
    assert_eq!((first.files_removed, first.files_added), (2, 1));
    let cube1 = cube_of(&files(&t, &At::Latest).unwrap()[0].path)
        .unwrap()
        .to_string();
    assert!(cube1.starts_with(CUBE_PREFIX), "{cube1}");
    // the first cube is small: the next run rewrites it with the new file
    write_rows(&t, 200..250);
    let next = optimize_zorder(&t, &by, DEFAULT_TARGET, &merge_small).unwrap();
    assert_eq!((next.files_removed, next.rows), (2, 250));
    let after = files(&t, &At::Latest).unwrap();
    assert_eq!(after.len(), 1);
    let cube2 = cube_of(&after[0].path).unwrap().to_string();
    assert_ne!(cube1, cube2);
    // a cube at least min_cube_bytes large stays as it is
    write_rows(&t, 250..260);
    let keep = Input {
        min_cube_bytes: Some(1),
        ..Input::unclustered()
    };
    let last = optimize_zorder(&t, &by, DEFAULT_TARGET, &keep).unwrap();
    assert_eq!((last.files_removed, last.rows), (1, 10));
    let cubes: std::collections::BTreeSet<String> = files(&t, &At::Latest)
        .unwrap()
        .iter()
        .map(|f| cube_of(&f.path).unwrap().to_string())
        .collect();
    assert_eq!(cubes.len(), 2);
    assert!(cubes.contains(&cube2));
}

#[test]
fn concurrent_runs_over_the_same_files_keep_every_row_once() {
    // delta-rs lets two compactions remove the same file; the run's own
    // compare-and-set must drop the loser, or its rows would be there twice.
    let t = scratch("optimize-race");
    let mut rows = 0;
    for round in 0..6 {
        write_rows(&t, rows..rows + 50);
        write_rows(&t, rows + 50..rows + 100);
        rows += 100;
        let go = std::sync::Arc::new(std::sync::Barrier::new(2));
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (t, go) = (t.clone(), go.clone());
                std::thread::spawn(move || {
                    go.wait();
                    let merge = Input {
                        min_cube_bytes: Some(1 << 30),
                        ..Input::unclustered()
                    };
                    optimize_zorder(&t, &["who".to_string()], DEFAULT_TARGET, &merge).unwrap()
                })
            })
            .collect();
        let reports: Vec<_> = runs.into_iter().map(|r| r.join().unwrap()).collect();
        assert!(reports.iter().any(|r| r.files_added > 0), "round {round}");
        let live: i64 = files(&t, &At::Latest)
            .unwrap()
            .iter()
            .filter_map(|f| f.num_records)
            .sum();
        assert_eq!(live, rows, "round {round}: {reports:?}");
    }
}
