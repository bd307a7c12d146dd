//! Scalar functions with a bind step, registered through the raw C API.
//!
//! duckdb-rs's `VScalar` has no bind callback, but a bind is where a function
//! can read the caller's settings (`SET bert_sentiment_model = ...`) and fold
//! constant arguments (load a model once per query, not once per chunk, and
//! report a bad path as a Binder Error). [`BoundScalar`] adds exactly that:
//! `bind` runs once per query and returns a value that every `invoke` of the
//! query shares. Both callbacks run inside [`crate::error::guard`].

use std::ffi::{c_void, CString};
use std::sync::Arc;

use duckdb::ffi;
use duckdb::vtab::arrow::WritableVector;

use super::chunk::InputChunk;
use super::types::LogicalType;
use super::value::Value;
use crate::error::{guard, Error, Result};
use crate::register::Registrar;

/// One overload: parameter types and the return type.
pub struct Signature {
    pub params: Vec<LogicalType>,
    pub returns: LogicalType,
}

/// A scalar SQL function whose calls share state computed at bind time.
pub trait BoundScalar: 'static {
    /// The SQL name; also the context of every error it raises.
    const NAME: &'static str;
    /// What `bind` computes once per query (settings, a loaded model, ...).
    type Bound: Send + Sync + 'static;
    /// The overloads; `invoke` must handle each of them.
    fn signatures() -> Vec<Signature>;
    fn bind(bind: &Bind) -> Result<Self::Bound>;
    fn invoke(
        bound: &Self::Bound,
        input: &InputChunk,
        output: &mut dyn WritableVector,
    ) -> Result<()>;
    /// Volatile functions are re-evaluated per row and never constant-folded.
    fn volatile() -> bool {
        false
    }
}

/// What a bind callback can ask DuckDB.
pub struct Bind {
    info: ffi::duckdb_bind_info,
    context: ffi::duckdb_client_context,
}

impl Bind {
    pub fn argument_count(&self) -> usize {
        (unsafe { ffi::duckdb_scalar_function_bind_get_argument_count(self.info) }) as usize
    }

    /// Argument `idx` if it is a constant (folded now), else `None`.
    /// A constant SQL NULL comes back as a `Value` whose `is_null()` is true.
    pub fn constant_argument(&self, idx: usize) -> Result<Option<Value>> {
        unsafe {
            let mut expr =
                ffi::duckdb_scalar_function_bind_get_argument(self.info, idx as ffi::idx_t);
            if expr.is_null() {
                return Ok(None);
            }
            let folded = if ffi::duckdb_expression_is_foldable(expr) {
                let mut out: ffi::duckdb_value = std::ptr::null_mut();
                let mut err = ffi::duckdb_expression_fold(self.context, expr, &mut out);
                if !err.is_null() {
                    let msg = std::ffi::CStr::from_ptr(ffi::duckdb_error_data_message(err))
                        .to_string_lossy()
                        .into_owned();
                    ffi::duckdb_destroy_error_data(&mut err);
                    ffi::duckdb_destroy_expression(&mut expr);
                    return Err(Error::InvalidArgument {
                        function: "bind",
                        argument: "constant",
                        reason: msg,
                    });
                }
                Value::from_raw(out)
            } else {
                None
            };
            ffi::duckdb_destroy_expression(&mut expr);
            Ok(folded)
        }
    }

    /// The current value of a setting (`SET name = ...`), as text; `None` if
    /// the setting is unknown or NULL.
    pub fn setting(&self, name: &str) -> Option<String> {
        // SAFETY: `context` is the live client context of this bind call.
        unsafe { crate::settings::read(self.context, name) }
    }
}

/// Registers `F` with all its overloads.
pub fn register<F: BoundScalar>(r: &Registrar) -> Result<()> {
    let con = r.raw();
    let name = CString::new(F::NAME).expect("function names are literals");
    unsafe {
        let mut set = ffi::duckdb_create_scalar_function_set(name.as_ptr());
        let mut ok = true;
        for sig in F::signatures() {
            let mut f = ffi::duckdb_create_scalar_function();
            ffi::duckdb_scalar_function_set_name(f, name.as_ptr());
            for p in &sig.params {
                ffi::duckdb_scalar_function_add_parameter(f, p.raw());
            }
            ffi::duckdb_scalar_function_set_return_type(f, sig.returns.raw());
            ffi::duckdb_scalar_function_set_bind(f, Some(bind_callback::<F>));
            ffi::duckdb_scalar_function_set_function(f, Some(invoke_callback::<F>));
            if F::volatile() {
                ffi::duckdb_scalar_function_set_volatile(f);
            }
            ok &= ffi::duckdb_add_scalar_function_to_set(set, f) == ffi::DuckDBSuccess;
            ffi::duckdb_destroy_scalar_function(&mut f);
        }
        ok &= ffi::duckdb_register_scalar_function_set(con, set) == ffi::DuckDBSuccess;
        ffi::duckdb_destroy_scalar_function_set(&mut set);
        if ok {
            Ok(())
        } else {
            Err(Error::Registration {
                name: F::NAME,
                reason: "DuckDB refused the function set (duplicate overload or name?)".into(),
            })
        }
    }
}

/// Bind data is an `Arc<Bound>` in a box: DuckDB may copy bind data (when it
/// copies an expression), and each copy must own something it can free.
type BindData<T> = Arc<T>;

unsafe extern "C" fn bind_callback<F: BoundScalar>(info: ffi::duckdb_bind_info) {
    let mut context: ffi::duckdb_client_context = std::ptr::null_mut();
    unsafe { ffi::duckdb_scalar_function_get_client_context(info, &mut context) };
    // Every bind feeds the external-access latch (see `access`).
    unsafe { crate::access::read(context) };
    let result = guard(F::NAME, || F::bind(&Bind { info, context }));
    unsafe {
        if !context.is_null() {
            ffi::duckdb_destroy_client_context(&mut context);
        }
        match result {
            Ok(bound) => {
                let data: Box<BindData<F::Bound>> = Box::new(Arc::new(bound));
                ffi::duckdb_scalar_function_set_bind_data(
                    info,
                    Box::into_raw(data).cast(),
                    Some(drop_bind_data::<F::Bound>),
                );
                ffi::duckdb_scalar_function_set_bind_data_copy(
                    info,
                    Some(copy_bind_data::<F::Bound>),
                );
            }
            Err(e) => {
                let msg = c_message(&e);
                ffi::duckdb_scalar_function_bind_set_error(info, msg.as_ptr());
            }
        }
    }
}

unsafe extern "C" fn invoke_callback<F: BoundScalar>(
    info: ffi::duckdb_function_info,
    input: ffi::duckdb_data_chunk,
    mut output: ffi::duckdb_vector,
) {
    let result = guard(F::NAME, || unsafe {
        let data = ffi::duckdb_scalar_function_get_bind_data(info) as *const BindData<F::Bound>;
        if data.is_null() {
            return Err(Error::Output {
                function: F::NAME,
                reason: "called without bind data".into(),
            });
        }
        let chunk = InputChunk::new(input);
        F::invoke(&*data, &chunk, &mut output)
    });
    if let Err(e) = result {
        let msg = c_message(&e);
        unsafe { ffi::duckdb_scalar_function_set_error(info, msg.as_ptr()) };
    }
}

unsafe extern "C" fn drop_bind_data<T>(data: *mut c_void) {
    // A panic in a destructor must not unwind into DuckDB either.
    let _ = std::panic::catch_unwind(|| unsafe { drop(Box::from_raw(data as *mut BindData<T>)) });
}

unsafe extern "C" fn copy_bind_data<T>(data: *mut c_void) -> *mut c_void {
    let original = unsafe { &*(data as *const BindData<T>) };
    Box::into_raw(Box::new(Arc::clone(original))).cast()
}

/// An error as a C string (interior NULs would truncate it; replace them).
pub(crate) fn c_message(e: &Error) -> CString {
    CString::new(e.to_string().replace('\0', "\\0")).expect("NULs replaced")
}
