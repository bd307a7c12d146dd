//! Writing a checkpoint of the latest version on demand (a Parquet
//! checkpoint and `_last_checkpoint`). Writers also checkpoint automatically every
//! `delta.checkpointInterval` commits (default 100), as other Delta writers
//! do; the write option `checkpoint_interval` sets that property when a
//! write creates the table.

use super::error::{err, Result};
use super::table::{block_on, describe, enter, open, At};

/// Checkpoints the latest version; returns it and the checkpoint file name.
pub fn checkpoint(path: &str) -> Result<(i64, String)> {
    let _rt = enter();
    let table = block_on(open(path, &At::Latest))?;
    block_on(deltalake::checkpoints::create_checkpoint(&table, None))
        .map_err(|e| err(path, describe(&e)))?;
    let v = table.version().unwrap_or(0) as i64;
    Ok((v, format!("_delta_log/{v:020}.checkpoint.parquet")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::ops::testing::{scratch, table_of};

    #[test]
    fn a_checkpoint_of_the_latest_version_is_written_and_named() {
        let t = table_of("checkpoint", &[10, 10]);
        let (v, file) = checkpoint(&t).unwrap();
        assert_eq!(
            (v, file.as_str()),
            (1, "_delta_log/00000000000000000001.checkpoint.parquet")
        );
        assert!(std::path::Path::new(&t).join(&file).is_file());
        assert!(std::path::Path::new(&t)
            .join("_delta_log/_last_checkpoint")
            .is_file());
    }

    #[test]
    fn no_table_is_named_in_the_error() {
        let t = scratch("checkpoint-none");
        let e = checkpoint(&t).unwrap_err();
        assert!(e.message.contains("no Delta table"), "{e}");
    }
}
