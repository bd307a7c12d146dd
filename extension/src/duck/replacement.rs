//! Replacement scans: `FROM '<name>'` becomes a table function call that a
//! capability plans in plain Rust ([`ReplacementScan::plan`]).

use std::ffi::{c_char, c_void, CStr};

use duckdb::ffi;

use super::constant::OwnedVarchar;
use super::message::{c_message, c_text};
use super::registrar::Registrar;
use super::types::LogicalType;
use crate::error::{guard, Result};

/// An argument of the call a name is replaced by.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    TextList(Vec<String>),
}

/// The table function call a name is replaced by.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub function: String,
    pub args: Vec<Arg>,
}

/// A replacement scan: given a table name, the call to scan instead
/// (`Ok(None)`: not ours, DuckDB goes on as if we were not here).
pub trait ReplacementScan: 'static {
    /// How errors name it.
    const NAME: &'static str;
    fn plan(table_name: &str) -> Result<Option<Call>>;
}

unsafe extern "C" fn callback<R: ReplacementScan>(
    info: ffi::duckdb_replacement_scan_info,
    table_name: *const c_char,
    _data: *mut c_void,
) {
    if table_name.is_null() {
        return;
    }
    // SAFETY: DuckDB passes a NUL-terminated name for the callback's duration.
    let name = unsafe { CStr::from_ptr(table_name) }
        .to_string_lossy()
        .into_owned();
    match guard(R::NAME, || R::plan(&name)) {
        Ok(None) => {}
        // SAFETY: `info` is this callback's live info.
        Ok(Some(call)) => unsafe { apply(info, &call) },
        Err(e) => {
            let msg = c_message(&e);
            // SAFETY: `info` is live; DuckDB copies the message.
            unsafe { ffi::duckdb_replacement_scan_set_error(info, msg.as_ptr()) };
        }
    }
}

/// # Safety
/// `info` must be a live replacement-scan info.
unsafe fn apply(info: ffi::duckdb_replacement_scan_info, call: &Call) {
    let function = c_text(&call.function);
    // SAFETY: `info` is live; DuckDB copies the name and every parameter
    // value, which are destroyed here (by their owners' Drop).
    unsafe {
        ffi::duckdb_replacement_scan_set_function_name(info, function.as_ptr());
        for arg in &call.args {
            match arg {
                Arg::Text(text) => {
                    let v = OwnedVarchar::new(text);
                    ffi::duckdb_replacement_scan_add_parameter(info, v.0);
                }
                Arg::TextList(items) => {
                    let items: Vec<OwnedVarchar> =
                        items.iter().map(|s| OwnedVarchar::new(s)).collect();
                    let mut raw: Vec<ffi::duckdb_value> = items.iter().map(|v| v.0).collect();
                    let ty = LogicalType::varchar();
                    let mut list =
                        ffi::duckdb_create_list_value(ty.raw(), raw.as_mut_ptr(), raw.len() as u64);
                    ffi::duckdb_replacement_scan_add_parameter(info, list);
                    ffi::duckdb_destroy_value(&mut list);
                }
            }
        }
    }
}

/// Registers the scan on the database being loaded.
pub(crate) fn register<R: ReplacementScan>(r: &Registrar) -> Result<()> {
    // SAFETY: registration runs inside LOAD, while the database handle is
    // live; the callback needs no extra data.
    unsafe {
        ffi::duckdb_add_replacement_scan(
            r.database(),
            Some(callback::<R>),
            std::ptr::null_mut(),
            None,
        )
    };
    Ok(())
}
