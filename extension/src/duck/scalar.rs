//! Scalar functions with a bind step, registered through the raw C API.
//!
//! duckdb-rs's `VScalar` has no bind callback, but a bind is where a function
//! can read the caller's settings (`SET bert_sentiment_model = ...`), its
//! external-access policy, and fold constant arguments (load a model once per
//! query, not once per chunk, and report a bad path as a Binder Error).
//! [`BoundScalar`] adds exactly that: `bind` runs once per query and returns
//! a value that every `invoke` of the query shares. Both callbacks run inside
//! [`crate::error::guard`].

use std::ffi::c_void;
use std::sync::Arc;

use duckdb::ffi;

use super::access::{self, Access};
use super::chunk::InputChunk;
use super::constant::Constant;
use super::function_set::{self, SCALAR};
use super::message::{c_message, guarded};
use super::output::Output;
use super::registrar::Registrar;
use super::settings::{self, Setting};
use super::types::Signature;
use crate::error::{guard, Error, Result};

/// A scalar SQL function whose calls share state computed at bind time.
pub trait BoundScalar: 'static {
    /// The SQL name; also the context of every error it raises.
    const NAME: &'static str;
    /// What `bind` computes once per query (settings, a loaded model, ...).
    type Bound: Send + Sync + 'static;
    /// The overloads; `invoke` must handle each of them.
    fn signatures() -> Vec<Signature>;
    fn bind(bind: &Bind) -> Result<Self::Bound>;
    fn invoke(bound: &Self::Bound, input: &InputChunk, output: &mut Output) -> Result<()>;
    /// Volatile functions are re-evaluated per row and never constant-folded.
    fn volatile() -> bool {
        false
    }
}

/// What a bind callback can ask DuckDB.
pub struct Bind {
    info: ffi::duckdb_bind_info,
    context: ffi::duckdb_client_context,
    access: Access,
}

impl Bind {
    pub fn argument_count(&self) -> usize {
        // SAFETY: `info` is the live bind info of this callback.
        (unsafe { ffi::duckdb_scalar_function_bind_get_argument_count(self.info) }) as usize
    }

    /// Argument `idx` if it is a constant (folded now), else `None`.
    /// A constant SQL NULL comes back as a `Constant` whose `is_null()` is true.
    pub fn constant_argument(&self, idx: usize) -> Result<Option<Constant>> {
        // SAFETY: `info` and `context` are live for this callback; the
        // expression, folded value and error data are ours to destroy, and
        // each is destroyed exactly once below.
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
                Constant::from_raw(out)
            } else {
                None
            };
            ffi::duckdb_destroy_expression(&mut expr);
            Ok(folded)
        }
    }

    /// The current value of a setting (`SET name = ...`) or DuckDB option,
    /// as text; `None` if it is unknown, NULL or empty.
    pub fn setting(&self, name: &str) -> Option<String> {
        // SAFETY: `context` is the live client context of this bind call.
        unsafe { settings::read(self.context, name) }
    }

    /// A medallion setting's value, else its default (env var, built-in).
    pub fn setting_or_default(&self, s: &Setting) -> Option<String> {
        self.setting(s.name).or_else(|| s.default_value())
    }

    /// The caller's external-access policy.
    pub fn access(&self) -> &Access {
        &self.access
    }
}

/// Registers `F` with all its overloads.
pub(crate) fn register<F: BoundScalar>(r: &Registrar) -> Result<()> {
    // SAFETY: `f` is a scalar function; these are its setters.
    unsafe {
        function_set::register(r, &SCALAR, F::NAME, F::signatures(), |f| {
            ffi::duckdb_scalar_function_set_bind(f, Some(bind_callback::<F>));
            ffi::duckdb_scalar_function_set_function(f, Some(invoke_callback::<F>));
            if F::volatile() {
                ffi::duckdb_scalar_function_set_volatile(f);
            }
        })
    }
}

/// Bind data is an `Arc<Bound>` in a box: DuckDB may copy bind data (when it
/// copies an expression), and each copy must own something it can free.
type BindData<T> = Arc<T>;

unsafe extern "C" fn bind_callback<F: BoundScalar>(info: ffi::duckdb_bind_info) {
    let mut context: ffi::duckdb_client_context = std::ptr::null_mut();
    // SAFETY: `info` is this callback's live bind info.
    unsafe { ffi::duckdb_scalar_function_get_client_context(info, &mut context) };
    // SAFETY: `context` is null or live until destroyed below.
    let policy = access::from_options(|name| unsafe { settings::option(context, name) });
    let bind = Bind {
        info,
        context,
        access: policy,
    };
    let result = guard(F::NAME, || F::bind(&bind));
    // SAFETY: `info` is live; the context is ours to destroy; the bind data
    // box is handed to DuckDB together with its destructor and copier.
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
    output: ffi::duckdb_vector,
) {
    let set_error = ffi::duckdb_scalar_function_set_error;
    // SAFETY: `info`, `input` and `output` are this call's live info, chunk
    // and vector; the bind data was set by `bind_callback::<F>` as a
    // `BindData<F::Bound>` and lives while the query runs.
    unsafe {
        guarded(F::NAME, info, set_error, || {
            let data = ffi::duckdb_scalar_function_get_bind_data(info) as *const BindData<F::Bound>;
            if data.is_null() {
                return Err(Error::Output {
                    function: F::NAME,
                    reason: "called without bind data".into(),
                });
            }
            let (chunk, mut out) = (InputChunk::new(input), Output::new(output));
            F::invoke(&*data, &chunk, &mut out)
        })
    }
}

unsafe extern "C" fn drop_bind_data<T>(data: *mut c_void) {
    // A panic in a destructor must not unwind into DuckDB either.
    // SAFETY: `data` is a box made by `bind_callback` or `copy_bind_data`,
    // freed once by DuckDB through this callback.
    let _ = std::panic::catch_unwind(|| unsafe { drop(Box::from_raw(data as *mut BindData<T>)) });
}

unsafe extern "C" fn copy_bind_data<T>(data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` is a live `BindData<T>` box (see `drop_bind_data`).
    let original = unsafe { &*(data as *const BindData<T>) };
    Box::into_raw(Box::new(Arc::clone(original))).cast()
}
