//! A SQL function as plain data: what each capability's `functions()`
//! returns and `register.rs` loops over (the way duckdb-delta's
//! `GetTableFunctions` and DataFusion's `functions()` hand theirs out).
//!
//! A [`Function`] is its name, its kind and how to register it; the kinds
//! are the traits of this module's siblings: [`BoundScalar`],
//! [`Aggregate`], [`TableFunction`] / [`BatchFunction`], [`CopyTo`] and
//! [`ReplacementScan`].

use super::aggregate::{self, Aggregate};
use super::columns;
use super::copy::{self, CopyTo};
use super::registrar::Registrar;
use super::replacement::{self, ReplacementScan};
use super::scalar::{self, BoundScalar};
use super::table::{self, Batch, BatchFunction, TableFunction};
use crate::error::Result;

/// What shape of SQL function it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Aggregate,
    Table,
    CopyFormat,
    ReplacementScan,
}

/// One SQL function a capability provides.
pub struct Function {
    name: &'static str,
    kind: Kind,
    register: fn(&Registrar) -> Result<()>,
    /// A batch function's declared result (`BatchFunction::COLUMNS`), kept
    /// so that [`Function::check`] can parse it without DuckDB.
    columns: Option<&'static str>,
}

impl Function {
    pub fn scalar<F: BoundScalar>() -> Self {
        Self::new(F::NAME, Kind::Scalar, scalar::register::<F>)
    }

    pub fn aggregate<A: Aggregate>() -> Self {
        Self::new(A::NAME, Kind::Aggregate, aggregate::register::<A>)
    }

    pub fn table<T: TableFunction>() -> Self {
        Self::new(T::NAME, Kind::Table, table::register::<T>)
    }

    /// A [`BatchFunction`] is registered as the table function [`Batch`].
    pub fn batch<T: BatchFunction>() -> Self {
        Self {
            columns: Some(T::COLUMNS),
            ..Self::table::<Batch<T>>()
        }
    }

    pub fn copy_format<C: CopyTo>() -> Self {
        Self::new(C::NAME, Kind::CopyFormat, copy::register::<C>)
    }

    pub fn replacement_scan<R: ReplacementScan>() -> Self {
        Self::new(R::NAME, Kind::ReplacementScan, replacement::register::<R>)
    }

    fn new(name: &'static str, kind: Kind, register: fn(&Registrar) -> Result<()>) -> Self {
        Self {
            name,
            kind,
            register,
            columns: None,
        }
    }

    /// The SQL name (for a COPY format and a replacement scan: how errors
    /// name it).
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// What can be checked before LOAD: a batch function's declared
    /// columns parse (otherwise its every call fails at bind).
    pub fn check(&self) -> Result<()> {
        match self.columns {
            Some(c) => columns::parse(self.name, c).map(drop),
            None => Ok(()),
        }
    }

    pub(crate) fn register(&self, r: &Registrar) -> Result<()> {
        (self.register)(r)
    }
}

#[cfg(test)]
mod tests {
    use arrow59::array::ArrayRef;

    use super::*;
    use crate::duck::{TableBind, TypeId};

    /// A batch function whose declared result does not parse.
    struct Misdeclared;

    impl BatchFunction for Misdeclared {
        const NAME: &'static str = "misdeclared";
        const COLUMNS: &'static str = "version BIGINT, at TIMESTAMP";
        const PARAMETERS: &'static [TypeId] = &[];
        type Args = ();
        fn bind(_: &TableBind) -> Result<()> {
            Ok(())
        }
        fn run(_: &()) -> Result<Vec<ArrayRef>> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn a_batch_function_with_columns_that_do_not_parse_fails_its_check() {
        let f = Function::batch::<Misdeclared>();
        assert_eq!((f.name(), f.kind()), ("misdeclared", Kind::Table));
        let e = f.check().unwrap_err().to_string();
        assert!(e.contains("unknown type `TIMESTAMP` of column `at`"), "{e}");
    }
}
