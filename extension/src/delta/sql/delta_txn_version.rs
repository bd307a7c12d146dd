//! `delta_txn_version(path, app_id)` → BIGINT: the last version application
//! `app_id` recorded in the table (its Delta `txn`, as written by
//! `delta_write(..., {txn_app_id, txn_version})`), NULL when it recorded
//! none or there is no table yet. How a streaming layer learns how far it
//! has consumed its input (duckdb-delta's `delta_get_transaction_version`).

use super::lookup::Lookup;
use crate::delta::ops;
use crate::delta::ops::table::txn_version;

pub struct DeltaTxnVersion;

impl Lookup for DeltaTxnVersion {
    const NAME: &'static str = "delta_txn_version";
    const ARGUMENTS: &'static [&'static str] = &["path", "app_id"];

    fn lookup(args: &[&str]) -> ops::Result<Option<i64>> {
        txn_version(args[0], args[1])
    }
}
