//! Table functions in Arrow terms.
//!
//! [`TableFunction`]: bind parses the arguments and declares the result as
//! an Arrow schema; the scan produces Arrow batches of the projected columns
//! (any size: they are cut into DuckDB vectors here). [`BatchFunction`]: the
//! common case of a small result computed at once (history listings,
//! maintenance reports), on the first scan call — never at bind, so
//! `EXPLAIN` or a prepared statement does not run maintenance.
//!
//! Built on duckdb-rs's `VTab`; every callback runs inside [`guard`].

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use arrow59::array::ArrayRef;
use arrow59::datatypes::SchemaRef;
use duckdb::arrow as a60;
use duckdb::core::{DataChunkHandle, LogicalTypeHandle};
use duckdb::vtab::arrow::{record_batch_to_duckdb_data_chunk, to_duckdb_logical_type};
use duckdb::vtab::{BindInfo, InitInfo, TableFunctionInfo, VTab};

use super::access::{self, Access};
use super::arrow_bridge::{array_59_to_60, datatype_59_to_60};
use super::columns;
use super::constant::Constant;
use super::registrar::{refused, Registrar};
use super::types::TypeId;
use crate::error::{guard, Error, Result};

/// DuckDB's vector size: the most rows one output chunk takes.
const VECTOR_SIZE: usize = 2048;

/// What a table function's bind can ask DuckDB.
pub struct TableBind<'a> {
    info: &'a BindInfo,
    access: Access,
}

impl TableBind<'_> {
    /// Positional argument `idx` (declared by [`TableFunction::parameters`]).
    pub fn positional(&self, idx: usize) -> Constant {
        Constant::from_value(self.info.get_parameter(idx as u64))
    }

    /// Named argument `name`; `None` when absent or NULL.
    pub fn named(&self, name: &str) -> Option<Constant> {
        self.info
            .get_named_parameter(name)
            .map(Constant::from_value)
            .filter(|c| !c.is_null())
    }

    /// Named argument `name` read as a `T` by `read` (`Constant::i64`,
    /// `Constant::bool`, ...); `None` when absent or NULL.
    pub fn named_as<T>(&self, name: &str, read: impl FnOnce(&Constant) -> Option<T>) -> Option<T> {
        self.named(name).as_ref().and_then(read)
    }

    /// The caller's external-access policy.
    pub fn access(&self) -> &Access {
        &self.access
    }
}

/// What a bind decided: the result's columns, an exact row count if known,
/// and the function's own bind data.
pub struct Bound<T> {
    pub schema: SchemaRef,
    pub rows: Option<u64>,
    pub data: T,
}

/// A table function producing Arrow batches.
pub trait TableFunction: 'static {
    const NAME: &'static str;
    /// Positional parameters (optional ones are named: the C API keeps one
    /// signature per table function name).
    const PARAMETERS: &'static [TypeId];
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] = &[];
    /// Whether `init` gets only the columns the query uses.
    const PROJECTION_PUSHDOWN: bool = false;
    type Bind: Send + Sync;
    type Scan: Send;
    fn bind(b: &TableBind) -> Result<Bound<Self::Bind>>;
    /// Starts a scan of the columns `projection` (indices into the bound
    /// schema; an index past its end asks for a row id, any value will do).
    fn init(bind: &Self::Bind, projection: &[usize]) -> Result<Self::Scan>;
    /// The next batch of projected columns, `None` at the end.
    fn next(bind: &Self::Bind, scan: &mut Self::Scan) -> Result<Option<Vec<ArrayRef>>>;
}

/// A table function whose whole (small) result is one batch.
pub trait BatchFunction: 'static {
    const NAME: &'static str;
    /// The result as SQL writes a column list (`version BIGINT, path
    /// VARCHAR`; types as in [`columns::parse`]); `run` returns arrays of
    /// these types, in order.
    const COLUMNS: &'static str;
    const PARAMETERS: &'static [TypeId];
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] = &[];
    type Args: Send + Sync;
    fn bind(b: &TableBind) -> Result<Self::Args>;
    fn run(args: &Self::Args) -> Result<Vec<ArrayRef>>;
}

/// [`BatchFunction`] as a [`TableFunction`]: runs once, on the first scan call.
pub struct Batch<T>(PhantomData<T>);

impl<T: BatchFunction> TableFunction for Batch<T> {
    const NAME: &'static str = T::NAME;
    const PARAMETERS: &'static [TypeId] = T::PARAMETERS;
    const NAMED_PARAMETERS: &'static [(&'static str, TypeId)] = T::NAMED_PARAMETERS;
    /// The arguments, and how many columns `run` must return.
    type Bind = (T::Args, usize);
    type Scan = bool;

    fn bind(b: &TableBind) -> Result<Bound<(T::Args, usize)>> {
        let schema = columns::parse(T::NAME, T::COLUMNS)?;
        let count = schema.fields().len();
        Ok(Bound {
            schema,
            rows: None,
            data: (T::bind(b)?, count),
        })
    }
    fn init(_: &(T::Args, usize), _: &[usize]) -> Result<bool> {
        Ok(false)
    }
    fn next((args, count): &(T::Args, usize), done: &mut bool) -> Result<Option<Vec<ArrayRef>>> {
        if std::mem::replace(done, true) {
            return Ok(None);
        }
        let columns = T::run(args)?;
        let rows = columns.first().map(|c| c.len()).unwrap_or(0);
        if columns.len() != *count || columns.iter().any(|c| c.len() != rows) {
            return Err(Error::Output {
                function: T::NAME,
                reason: format!("expected {count} columns of {rows} rows"),
            });
        }
        Ok(Some(columns))
    }
}

struct Adapter<T>(PhantomData<T>);

struct BindData<T: TableFunction> {
    data: T::Bind,
    columns: usize,
}

struct Scan<T: TableFunction> {
    scan: T::Scan,
    /// A batch not yet fully handed to DuckDB, and how far it got.
    pending: Option<(Vec<ArrayRef>, usize)>,
}

struct InitData<T: TableFunction> {
    state: Mutex<Scan<T>>,
}

type BoxErr = Box<dyn std::error::Error>;

impl<T: TableFunction> VTab for Adapter<T> {
    type BindData = BindData<T>;
    type InitData = InitData<T>;

    fn bind(b: &BindInfo) -> std::result::Result<BindData<T>, BoxErr> {
        Ok(guard(T::NAME, || {
            let access = access::from_options(|n| b.get_config_option(n).map(Constant::from_value));
            let bound = T::bind(&TableBind { info: b, access })?;
            for f in bound.schema.fields() {
                let dt = datatype_59_to_60(f.data_type()).map_err(|e| output_error::<T>(&e))?;
                let lt = to_duckdb_logical_type(&dt)
                    .map_err(|e| output_error::<T>(&format!("column `{}`: {e}", f.name())))?;
                b.add_result_column(f.name(), lt);
            }
            if let Some(n) = bound.rows {
                b.set_cardinality(n, true);
            }
            Ok(BindData {
                data: bound.data,
                columns: bound.schema.fields().len(),
            })
        })?)
    }

    fn init(i: &InitInfo) -> std::result::Result<InitData<T>, BoxErr> {
        Ok(guard(T::NAME, || {
            // SAFETY: duckdb-rs stored our `BindData<T>` at bind; it outlives
            // every init and scan of the query.
            let bind = unsafe { &*i.get_bind_data::<BindData<T>>() };
            let projection: Vec<usize> = if T::PROJECTION_PUSHDOWN {
                i.get_column_indices()
                    .into_iter()
                    .map(|c| c as usize)
                    .collect()
            } else {
                (0..bind.columns).collect()
            };
            i.set_max_threads(1);
            Ok(InitData {
                state: Mutex::new(Scan {
                    scan: T::init(&bind.data, &projection)?,
                    pending: None,
                }),
            })
        })?)
    }

    fn func(
        f: &TableFunctionInfo<Self>,
        output: &mut DataChunkHandle,
    ) -> std::result::Result<(), BoxErr> {
        Ok(guard(T::NAME, || {
            let bind = &f.get_bind_data().data;
            let mut s = f
                .get_init_data()
                .state
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            loop {
                if s.pending.is_none() {
                    let st = &mut *s;
                    match T::next(bind, &mut st.scan)? {
                        None => {
                            output.set_len(0);
                            return Ok(());
                        }
                        Some(cols) => st.pending = Some((cols, 0)),
                    }
                }
                let (cols, offset) = s.pending.as_mut().expect("pending");
                let rows = cols.first().map(|c| c.len()).unwrap_or(0);
                if *offset >= rows {
                    s.pending = None;
                    continue;
                }
                let n = (rows - *offset).min(VECTOR_SIZE);
                let slice: Vec<ArrayRef> = cols.iter().map(|c| c.slice(*offset, n)).collect();
                *offset += n;
                write_chunk::<T>(&slice, n, output)?;
                return Ok(());
            }
        })?)
    }

    fn parameters() -> Option<Vec<LogicalTypeHandle>> {
        Some(T::PARAMETERS.iter().map(|t| (*t).into()).collect())
    }

    fn named_parameters() -> Option<Vec<(String, LogicalTypeHandle)>> {
        Some(
            T::NAMED_PARAMETERS
                .iter()
                .map(|(n, t)| (n.to_string(), (*t).into()))
                .collect(),
        )
    }

    fn supports_pushdown() -> bool {
        T::PROJECTION_PUSHDOWN
    }
}

/// Writes `n` rows of `columns` into DuckDB's output chunk.
fn write_chunk<T: TableFunction>(
    columns: &[ArrayRef],
    n: usize,
    output: &mut DataChunkHandle,
) -> Result<()> {
    let arrays = columns
        .iter()
        .map(array_59_to_60)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| output_error::<T>(&e))?;
    let fields: Vec<a60::datatypes::Field> = arrays
        .iter()
        .enumerate()
        .map(|(i, a)| a60::datatypes::Field::new(format!("c{i}"), a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(a60::datatypes::Schema::new(fields));
    let options = a60::record_batch::RecordBatchOptions::new().with_row_count(Some(n));
    let batch = a60::record_batch::RecordBatch::try_new_with_options(schema, arrays, &options)
        .map_err(|e| output_error::<T>(&e.to_string()))?;
    record_batch_to_duckdb_data_chunk(&batch, output).map_err(|e| output_error::<T>(&e.to_string()))
}

fn output_error<T: TableFunction>(reason: &str) -> Error {
    Error::Output {
        function: T::NAME,
        reason: reason.to_string(),
    }
}

/// Registers a table function.
pub(crate) fn register<T: TableFunction>(r: &Registrar) -> Result<()> {
    r.connection()
        .register_table_function::<Adapter<T>>(T::NAME)
        .map_err(|e| refused(T::NAME, &e.to_string()))
}
