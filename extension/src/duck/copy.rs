//! COPY functions: `COPY (query) TO 'path' (FORMAT <name>, ...)`, shaped
//! like [`super::aggregate::Aggregate`]: bind once, sink Arrow columns from
//! every chunk, finalize once.
//!
//! What C API v1 gives a COPY function: it runs inside the caller's
//! transaction (it sees TEMP tables and uncommitted rows); its bind gets the
//! column types but NOT their names, and the options as a STRUCT with
//! upper-cased keys. [`CopyBind`] hands those over as Arrow fields (named
//! `col0`, `col1`, ... ; a STRUCT column keeps its member names) and text.

use std::ffi::{c_void, CStr, CString};
use std::marker::PhantomData;

use arrow59::array::ArrayRef;
use arrow59::datatypes::Field;
use duckdb::ffi;

use super::access::{self, Access};
use super::chunk_arrow::vector_to_arrow;
use super::message::{guarded, take_c_string};
use super::registrar::{refused, Registrar};
use super::settings;
use crate::error::Result;

/// What a COPY function's bind can ask DuckDB.
pub struct CopyBind {
    columns: Vec<Field>,
    options: Vec<(String, Option<String>)>,
    access: Access,
}

impl CopyBind {
    /// The query's columns as Arrow fields (`col0`, `col1`, ...: DuckDB does
    /// not pass column names; a STRUCT column's type keeps its members').
    pub fn columns(&self) -> &[Field] {
        &self.columns
    }

    /// The COPY options but FORMAT, keys as given (DuckDB upper-cases
    /// them), values as text (`None` for NULL).
    pub fn options(&self) -> &[(String, Option<String>)] {
        &self.options
    }

    /// The caller's external-access policy.
    pub fn access(&self) -> &Access {
        &self.access
    }
}

/// A `COPY ... TO` format implemented in Rust.
pub trait CopyTo: 'static {
    /// The FORMAT name (`delta`).
    const FORMAT: &'static str;
    /// How errors name it (`COPY TO (FORMAT delta)`).
    const NAME: &'static str;
    type Bind: Send + Sync;
    type Global: Send + Sync;
    fn bind(b: &CopyBind) -> Result<Self::Bind>;
    /// Once per COPY, with the target path.
    fn init(bind: &Self::Bind, path: &str) -> Result<Self::Global>;
    /// One chunk's columns (possibly from several threads at once).
    fn sink(global: &Self::Global, columns: Vec<ArrayRef>) -> Result<()>;
    /// After the last chunk.
    fn finalize(global: &Self::Global) -> Result<()>;
}

struct Callbacks<C>(PhantomData<C>);

unsafe extern "C" fn drop_box<T>(p: *mut c_void) {
    if !p.is_null() {
        // SAFETY: `p` is a `Box<T>` we handed DuckDB with this destructor;
        // DuckDB frees it once. A panic in a destructor is dropped here.
        let _ = std::panic::catch_unwind(|| drop(unsafe { Box::from_raw(p as *mut T) }));
    }
}

impl<C: CopyTo> Callbacks<C> {
    unsafe extern "C" fn bind(info: ffi::duckdb_copy_function_bind_info) {
        let set_error = ffi::duckdb_copy_function_bind_set_error;
        // SAFETY: `info` is this callback's live bind info.
        unsafe {
            guarded(C::NAME, info, set_error, || {
                let mut ctx = ffi::duckdb_copy_function_bind_get_client_context(info);
                let access = access::from_options(|n| settings::option(ctx, n));
                ffi::duckdb_destroy_client_context(&mut ctx);
                let bind = CopyBind {
                    columns: bind_columns(info)?,
                    options: bind_options(info),
                    access,
                };
                let data = Box::new(C::bind(&bind)?);
                ffi::duckdb_copy_function_bind_set_bind_data(
                    info,
                    Box::into_raw(data) as *mut c_void,
                    Some(drop_box::<C::Bind>),
                );
                Ok(())
            })
        }
    }

    unsafe extern "C" fn global_init(info: ffi::duckdb_copy_function_global_init_info) {
        let set_error = ffi::duckdb_copy_function_global_init_set_error;
        // SAFETY: `info` is live; its bind data is our `C::Bind` box; the
        // path is a NUL-terminated string DuckDB owns for the call.
        unsafe {
            guarded(C::NAME, info, set_error, || {
                let bind =
                    &*(ffi::duckdb_copy_function_global_init_get_bind_data(info) as *const C::Bind);
                let path =
                    CStr::from_ptr(ffi::duckdb_copy_function_global_init_get_file_path(info))
                        .to_string_lossy()
                        .into_owned();
                let global = Box::new(C::init(bind, &path)?);
                ffi::duckdb_copy_function_global_init_set_global_state(
                    info,
                    Box::into_raw(global) as *mut c_void,
                    Some(drop_box::<C::Global>),
                );
                Ok(())
            })
        }
    }

    unsafe extern "C" fn sink(
        info: ffi::duckdb_copy_function_sink_info,
        input: ffi::duckdb_data_chunk,
    ) {
        let set_error = ffi::duckdb_copy_function_sink_set_error;
        // SAFETY: `info` and `input` are live; the global state is our
        // `C::Global` box; the chunk's vectors are flat with `len` rows.
        unsafe {
            guarded(C::NAME, info, set_error, || {
                let global =
                    &*(ffi::duckdb_copy_function_sink_get_global_state(info) as *const C::Global);
                let len = ffi::duckdb_data_chunk_get_size(input) as usize;
                if len == 0 {
                    return Ok(());
                }
                let n = ffi::duckdb_data_chunk_get_column_count(input);
                let mut columns = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let v = ffi::duckdb_data_chunk_get_vector(input, i);
                    let (_, array) = vector_to_arrow(v, len, &format!("col{i}"))
                        .map_err(|m| refused_input::<C>(&m))?;
                    columns.push(array);
                }
                C::sink(global, columns)
            })
        }
    }

    unsafe extern "C" fn finalize(info: ffi::duckdb_copy_function_finalize_info) {
        let set_error = ffi::duckdb_copy_function_finalize_set_error;
        // SAFETY: `info` is live; the global state is our `C::Global` box.
        unsafe {
            guarded(C::NAME, info, set_error, || {
                let global = &*(ffi::duckdb_copy_function_finalize_get_global_state(info)
                    as *const C::Global);
                C::finalize(global)
            })
        }
    }
}

fn refused_input<C: CopyTo>(reason: &str) -> crate::error::Error {
    crate::error::Error::InvalidArgument {
        function: C::NAME,
        argument: "query",
        reason: reason.to_string(),
    }
}

/// The bound columns as Arrow fields: each type converted through an empty
/// vector of it.
///
/// # Safety
/// `info` must be a live COPY bind info.
unsafe fn bind_columns(info: ffi::duckdb_copy_function_bind_info) -> Result<Vec<Field>> {
    // SAFETY: `info` is live; each type and chunk made here is destroyed here.
    unsafe {
        let n = ffi::duckdb_copy_function_bind_get_column_count(info);
        let mut fields = Vec::with_capacity(n as usize);
        for i in 0..n {
            let mut lt = ffi::duckdb_copy_function_bind_get_column_type(info, i);
            let mut types = [lt];
            let mut chunk = ffi::duckdb_create_data_chunk(types.as_mut_ptr(), 1);
            let converted = vector_to_arrow(
                ffi::duckdb_data_chunk_get_vector(chunk, 0),
                0,
                &format!("col{i}"),
            );
            ffi::duckdb_destroy_data_chunk(&mut chunk);
            ffi::duckdb_destroy_logical_type(&mut lt);
            let (field, _) = converted.map_err(|m| crate::error::Error::InvalidArgument {
                function: "COPY",
                argument: "query",
                reason: m,
            })?;
            fields.push(field);
        }
        Ok(fields)
    }
}

/// The COPY options but FORMAT, as (key, text).
///
/// # Safety
/// `info` must be a live COPY bind info.
unsafe fn bind_options(info: ffi::duckdb_copy_function_bind_info) -> Vec<(String, Option<String>)> {
    let mut pairs = Vec::new();
    // SAFETY: `info` is live; the options value is ours to destroy; its type
    // belongs to the value; each child value is ours to destroy.
    unsafe {
        let mut opts = ffi::duckdb_copy_function_bind_get_options(info);
        if opts.is_null() {
            return pairs;
        }
        let ty = ffi::duckdb_get_value_type(opts);
        let n = ffi::duckdb_struct_type_child_count(ty);
        for i in 0..n {
            let key = take_c_string(ffi::duckdb_struct_type_child_name(ty, i));
            if key.eq_ignore_ascii_case("format") {
                continue;
            }
            let mut child = ffi::duckdb_get_struct_child(opts, i);
            let text = if child.is_null() || ffi::duckdb_is_null_value(child) {
                None
            } else {
                Some(take_c_string(ffi::duckdb_get_varchar(child)))
            };
            ffi::duckdb_destroy_value(&mut child);
            pairs.push((key, text));
        }
        ffi::duckdb_destroy_value(&mut opts);
    }
    pairs
}

/// Registers `FORMAT C::FORMAT` for COPY TO.
pub(crate) fn register<C: CopyTo>(r: &Registrar) -> Result<()> {
    let name = CString::new(C::FORMAT).expect("format names are literals");
    // SAFETY: the connection is live during LOAD; the function handle is
    // destroyed after DuckDB has copied it.
    let state = unsafe {
        let mut f = ffi::duckdb_create_copy_function();
        ffi::duckdb_copy_function_set_name(f, name.as_ptr());
        ffi::duckdb_copy_function_set_bind(f, Some(Callbacks::<C>::bind));
        ffi::duckdb_copy_function_set_global_init(f, Some(Callbacks::<C>::global_init));
        ffi::duckdb_copy_function_set_sink(f, Some(Callbacks::<C>::sink));
        ffi::duckdb_copy_function_set_finalize(f, Some(Callbacks::<C>::finalize));
        let state = ffi::duckdb_register_copy_function(r.raw(), f);
        ffi::duckdb_destroy_copy_function(&mut f);
        state
    };
    if state != ffi::DuckDBSuccess {
        return Err(refused(C::NAME, "DuckDB refused the COPY function"));
    }
    Ok(())
}
