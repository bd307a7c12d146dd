//! What `delta_version` and `delta_txn_version` share: a scalar that looks
//! one BIGINT up per row in the table at a path, after checking that the
//! caller may read it, NULL where an argument is NULL. Each states only its
//! arguments and its lookup ([`Lookup`]); [`PerRow`] does the rest.

use std::marker::PhantomData;

use super::args::{check, Use};
use crate::delta::ops;
use crate::duck::{Access, Bind, BoundScalar, InputChunk, LogicalType, Output, Signature};
use crate::error::Result;

/// One per-row lookup in a Delta table.
pub trait Lookup: 'static {
    /// The SQL name; also the context of every error it raises.
    const NAME: &'static str;
    /// The names of its VARCHAR arguments, the table path first.
    const ARGUMENTS: &'static [&'static str];
    /// The value for one row's arguments (in [`Lookup::ARGUMENTS`] order).
    fn lookup(args: &[&str]) -> ops::Result<Option<i64>>;
}

/// A [`Lookup`] as a DuckDB scalar: `(VARCHAR, ...) -> BIGINT`, volatile
/// (the table moves on between calls).
pub struct PerRow<L>(PhantomData<fn() -> L>);

impl<L: Lookup> BoundScalar for PerRow<L> {
    const NAME: &'static str = L::NAME;
    type Bound = Access;

    fn signatures() -> Vec<Signature> {
        let params = L::ARGUMENTS.iter().map(|_| LogicalType::varchar());
        vec![Signature::new(params.collect(), LogicalType::bigint())]
    }

    fn bind(b: &Bind) -> Result<Access> {
        Ok(b.access().clone())
    }

    fn invoke(access: &Access, input: &InputChunk, output: &mut Output) -> Result<()> {
        let columns = (0..L::ARGUMENTS.len())
            .map(|i| input.column(i).strings())
            .collect::<Result<Vec<_>>>()?;
        let mut results = Vec::with_capacity(input.len());
        // A chunk usually names one table: a run of rows with the same
        // arguments is looked up once.
        let mut last: Option<(Vec<&str>, Option<i64>)> = None;
        for row in 0..input.len() {
            let args: Option<Vec<&str>> = columns.iter().map(|c| c[row].as_deref()).collect();
            let Some(args) = args else {
                results.push(None);
                continue;
            };
            let value = match &last {
                Some((previous, value)) if *previous == args => *value,
                _ => {
                    check(L::NAME, access, args[0], Use::Read)?;
                    let value = L::lookup(&args).map_err(|e| e.in_function(L::NAME))?;
                    last = Some((args, value));
                    value
                }
            };
            results.push(value);
        }
        output.bigints(&results);
        Ok(())
    }

    fn volatile() -> bool {
        true // the table moves on between calls
    }
}
