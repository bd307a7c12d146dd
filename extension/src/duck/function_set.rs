//! Registering a scalar or an aggregate function: a DuckDB function *set*
//! with one function per [`Signature`], each given its kind's callbacks.
//!
//! The two kinds go through the same steps with different C API calls,
//! named the same way for both (`duckdb_create_scalar_function_set`,
//! `duckdb_create_aggregate_function_set`, ...). So each kind's calls are a
//! [`SetApi`] made from that naming, and [`register`] takes the steps once.

use std::ffi::{c_char, CString};

use duckdb::ffi;

use super::registrar::{refused, Registrar};
use super::types::Signature;
use crate::error::Result;

/// The C API calls that build and register a function set of one kind:
/// functions `F` in sets `S`.
pub(crate) struct SetApi<F, S> {
    kind: &'static str,
    create_set: unsafe fn(*const c_char) -> S,
    create: unsafe fn() -> F,
    set_name: unsafe fn(F, *const c_char),
    add_parameter: unsafe fn(F, ffi::duckdb_logical_type),
    set_return_type: unsafe fn(F, ffi::duckdb_logical_type),
    add_to_set: unsafe fn(S, F) -> ffi::duckdb_state,
    destroy: unsafe fn(*mut F),
    register_set: unsafe fn(ffi::duckdb_connection, S) -> ffi::duckdb_state,
    destroy_set: unsafe fn(*mut S),
}

/// The [`SetApi`] of `$kind` (`scalar`, `aggregate`), from the C API's
/// naming.
macro_rules! set_api {
    ($kind:ident) => {
        paste::paste! {
            SetApi {
                kind: stringify!($kind),
                create_set: ffi::[<duckdb_create_ $kind _function_set>],
                create: ffi::[<duckdb_create_ $kind _function>],
                set_name: ffi::[<duckdb_ $kind _function_set_name>],
                add_parameter: ffi::[<duckdb_ $kind _function_add_parameter>],
                set_return_type: ffi::[<duckdb_ $kind _function_set_return_type>],
                add_to_set: ffi::[<duckdb_add_ $kind _function_to_set>],
                destroy: ffi::[<duckdb_destroy_ $kind _function>],
                register_set: ffi::[<duckdb_register_ $kind _function_set>],
                destroy_set: ffi::[<duckdb_destroy_ $kind _function_set>],
            }
        }
    };
}

pub(crate) const SCALAR: SetApi<ffi::duckdb_scalar_function, ffi::duckdb_scalar_function_set> =
    set_api!(scalar);

pub(crate) const AGGREGATE: SetApi<
    ffi::duckdb_aggregate_function,
    ffi::duckdb_aggregate_function_set,
> = set_api!(aggregate);

/// Registers `name` with one function per signature, each handed to
/// `configure` (the kind's callbacks and flags) before it joins the set.
/// The set is registered only if every overload joined it.
///
/// # Safety
/// `configure` must only set what a function of `api`'s kind accepts.
pub(crate) unsafe fn register<F: Copy, S: Copy>(
    r: &Registrar,
    api: &SetApi<F, S>,
    name: &str,
    signatures: Vec<Signature>,
    configure: impl Fn(F),
) -> Result<()> {
    let c_name = CString::new(name).expect("function names are literals");
    // SAFETY: the connection is live during LOAD; every handle created here
    // is destroyed here, after DuckDB has copied what it keeps; each type
    // is alive for the call that copies it.
    let ok = unsafe {
        let mut set = (api.create_set)(c_name.as_ptr());
        let mut ok = true;
        for sig in signatures {
            let mut f = (api.create)();
            (api.set_name)(f, c_name.as_ptr());
            for p in &sig.params {
                (api.add_parameter)(f, p.raw());
            }
            (api.set_return_type)(f, sig.returns.raw());
            configure(f);
            ok &= (api.add_to_set)(set, f) == ffi::DuckDBSuccess;
            (api.destroy)(&mut f);
        }
        ok = ok && (api.register_set)(r.raw(), set) == ffi::DuckDBSuccess;
        (api.destroy_set)(&mut set);
        ok
    };
    if ok {
        return Ok(());
    }
    let what = format!(
        "DuckDB refused the {} function set (duplicate overload or name?)",
        api.kind
    );
    Err(refused(name, &what))
}
