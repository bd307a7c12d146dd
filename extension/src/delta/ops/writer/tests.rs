//! The write path against real tables in scratch directories.

use super::*;
use crate::delta::ops::testing::{rows as batch, scratch as tmp};
use arrow59::array::{ArrayRef, StringArray};
use std::sync::Arc;

fn write(path: &str, opts: WriteOptions, b: RecordBatch) -> Result<WriteOutcome> {
    let mut s = TableWriter::start(path, opts, b.schema())?;
    s.write(b)?;
    s.commit()
}

#[test]
fn create_append_and_txn_idempotency() {
    let p = tmp("txn");
    let o = WriteOptions {
        txn: Some(("app".into(), 1)),
        ..Default::default()
    };
    let r = write(&p, o.clone(), batch(0..100)).unwrap();
    assert_eq!(
        (r.version, r.rows, r.status.as_str()),
        (Some(0), 100, "committed")
    );
    let again = write(&p, o, batch(0..100)).unwrap();
    assert_eq!((again.version, again.rows), (Some(0), 0));
    assert_eq!(again.status, "skipped: txn already applied");
    let o2 = WriteOptions {
        txn: Some(("app".into(), 2)),
        ..Default::default()
    };
    assert_eq!(write(&p, o2, batch(100..110)).unwrap().version, Some(1));
    let _ = std::fs::remove_dir_all(&p);
}

#[test]
fn txn_rules_skip_applied_work_and_a_moved_on_app() {
    assert_eq!(skip_reason(None, 0, None), None);
    assert_eq!(skip_reason(Some(3), 4, Some(3)), None);
    assert_eq!(skip_reason(None, 4, Some(-1)), None);
    assert_eq!(
        skip_reason(Some(4), 4, Some(3)).as_deref(),
        Some("skipped: txn already applied")
    );
    assert_eq!(
        skip_reason(Some(3), 5, Some(1)).as_deref(),
        Some("skipped: txn moved on (read 1, found 3)")
    );
}

#[test]
fn two_writers_that_read_the_same_state_commit_once() {
    let p = tmp("cas");
    let opts = |v: i64| WriteOptions {
        txn: Some(("silver".into(), v)),
        txn_from: Some(-1),
        ..Default::default()
    };
    // Both read "no txn yet"; the first consumed up to 3, the second up to 5.
    let b = batch(0..10);
    let mut first = TableWriter::start(&p, opts(3), b.schema()).unwrap();
    let mut second = TableWriter::start(&p, opts(5), b.schema()).unwrap();
    first.write(batch(0..10)).unwrap();
    second.write(batch(0..20)).unwrap();
    assert_eq!(first.commit().unwrap().status, "committed");
    let r = second.commit().unwrap();
    assert_eq!(r.status, "skipped: txn moved on (read -1, found 3)");
    assert_eq!(r.version, Some(0));
    // Nothing of the skipped write is left behind.
    let parquet = std::fs::read_dir(&p)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".parquet"))
        .count();
    assert_eq!(parquet, 1);
    let _ = std::fs::remove_dir_all(&p);
}

#[test]
fn a_txn_with_no_rows_is_still_recorded() {
    let p = tmp("txn-only");
    write(&p, WriteOptions::default(), batch(0..3)).unwrap();
    let opts = WriteOptions {
        txn: Some(("gold".into(), 9)),
        txn_from: Some(-1),
        ..Default::default()
    };
    let r = TableWriter::start(&p, opts, batch(0..0).schema())
        .unwrap()
        .commit()
        .unwrap();
    assert_eq!(
        (r.status.as_str(), r.version, r.rows),
        ("committed", Some(1), 0)
    );
    assert_eq!(
        crate::delta::ops::table::txn_version(&p, "gold").unwrap(),
        Some(9)
    );
    let plain = TableWriter::start(&p, WriteOptions::default(), batch(0..0).schema())
        .unwrap()
        .commit()
        .unwrap();
    assert_eq!((plain.status.as_str(), plain.version), ("no rows", Some(1)));
    let _ = std::fs::remove_dir_all(&p);
}

#[test]
fn racing_creators_with_one_txn_commit_once() {
    // Many writers create the same new table at once, all recording the
    // same txn: exactly one commits, whatever the interleaving.
    for trial in 0..6 {
        let p = tmp(&format!("create-race-{trial}"));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let writers: Vec<_> = (0..6)
            .map(|i| {
                let (p, barrier) = (p.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let opts = WriteOptions {
                        txn: Some(("ingest".into(), 0)),
                        txn_from: Some(-1),
                        ..Default::default()
                    };
                    let b = batch(i * 10..i * 10 + 10);
                    let mut w = TableWriter::start(&p, opts, b.schema()).unwrap();
                    w.write(b).unwrap();
                    barrier.wait();
                    w.commit().unwrap().status
                })
            })
            .collect();
        let statuses: Vec<String> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        let committed = statuses.iter().filter(|s| *s == "committed").count();
        assert_eq!(committed, 1, "trial {trial}: {statuses:?}");
        let t = block_on(crate::delta::ops::table::open(
            &p,
            &crate::delta::ops::table::At::Latest,
        ))
        .unwrap();
        assert_eq!(t.version(), Some(0), "trial {trial}: {statuses:?}");
        let _ = std::fs::remove_dir_all(&p);
    }
}

#[test]
fn two_writers_commit_once() {
    let p = tmp("absorb");
    let b = batch(0..10);
    let mut a = TableWriter::start(&p, WriteOptions::default(), b.schema()).unwrap();
    let mut c = TableWriter::start(&p, WriteOptions::default(), b.schema()).unwrap();
    a.write(batch(0..10)).unwrap();
    c.write(batch(10..30)).unwrap();
    a.absorb(c).unwrap();
    let r = a.commit().unwrap();
    assert_eq!((r.version, r.rows, r.files_added), (Some(0), 30, 2));
    let _ = std::fs::remove_dir_all(&p);
}

#[test]
fn schema_mismatch_is_refused_before_writing() {
    let p = tmp("schema");
    write(&p, WriteOptions::default(), batch(0..5)).unwrap();
    let id: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
    let bad = RecordBatch::try_from_iter(vec![("id", id)]).unwrap();
    let e = TableWriter::start(&p, WriteOptions::default(), bad.schema())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("schema mismatch: column `id`"), "{e}");
    let _ = std::fs::remove_dir_all(&p);
}
