//! medallion's settings: `SET name = value` in SQL, with the environment
//! variable of the same name upper-cased as the default (as MLflow's clients
//! treat `MLFLOW_TRACKING_URI`). One name everywhere: SQL, README, env var.
//!
//! Capabilities declare theirs as plain data (`pub const SETTINGS:
//! &[Setting]`); the registrar turns them into DuckDB config options when the
//! extension loads, so `SET`, `RESET`, `current_setting()` and
//! `duckdb_settings()` work on them as on DuckDB's own. Functions read them
//! in their bind step ([`super::scalar::Bind::setting`]).

use std::ffi::CString;

use duckdb::ffi;

use super::constant::{Constant, OwnedVarchar};
use super::registrar::Registrar;
use super::types::LogicalType;
use crate::error::{Error, Result};

/// A setting medallion adds to DuckDB.
pub struct Setting {
    pub name: &'static str,
    pub description: &'static str,
    /// The default when the environment variable is unset (may depend on
    /// where the extension file lives, so it is computed at LOAD).
    pub builtin_default: fn() -> Option<String>,
}

impl Setting {
    /// The environment variable that supplies this setting's default.
    pub fn env_var(&self) -> String {
        self.name.to_ascii_uppercase()
    }

    /// The default in force for this process: env var, else built-in.
    pub fn default_value(&self) -> Option<String> {
        std::env::var(self.env_var())
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(self.builtin_default)
    }
}

/// The directory of the loaded extension file (`build/release/` after
/// `make build`), found with `dladdr` on a function of ours; `None` if the
/// loader cannot tell. Built-in defaults that ship next to the extension (the
/// ONNX Runtime library, the default model) are computed from it.
pub fn extension_dir() -> Option<std::path::PathBuf> {
    // SAFETY: `Dl_info` is plain data; all-zero is a valid value for it.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let ours = extension_dir as *const libc::c_void;
    // SAFETY: `ours` points into this library's code; dladdr only reads it.
    if unsafe { libc::dladdr(ours, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr set `dli_fname` to a NUL-terminated path it owns.
    let file = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let file = std::path::PathBuf::from(file.to_string_lossy().into_owned());
    let file = std::fs::canonicalize(&file).unwrap_or(file);
    file.parent().map(|d| d.to_path_buf())
}

/// Registers `setting` as a DuckDB config option of the database.
pub(crate) fn register(r: &Registrar, s: &Setting) -> Result<()> {
    let name = CString::new(s.name).expect("setting names are literals");
    let description = CString::new(s.description).expect("descriptions are literals");
    let default = OwnedVarchar::new(&s.default_value().unwrap_or_default());
    let ty = LogicalType::varchar();
    // SAFETY: the connection is live during LOAD; every handle passed is live
    // until the end of the block and DuckDB copies what it keeps.
    let state = unsafe {
        let mut option = ffi::duckdb_create_config_option();
        ffi::duckdb_config_option_set_name(option, name.as_ptr());
        ffi::duckdb_config_option_set_type(option, ty.raw());
        ffi::duckdb_config_option_set_default_value(option, default.0);
        ffi::duckdb_config_option_set_description(option, description.as_ptr());
        let state = ffi::duckdb_register_config_option(r.raw(), option);
        ffi::duckdb_destroy_config_option(&mut option);
        state
    };
    if state != ffi::DuckDBSuccess {
        return Err(Error::Registration {
            name: s.name.to_string(),
            reason: "DuckDB refused the setting".into(),
        });
    }
    Ok(())
}

/// The current value of option `name` in `context`; `None` when unknown.
/// Only ask for options that exist (DuckDB's own, or registered ones): a
/// debug build of DuckDB asserts on unknown names.
///
/// # Safety
/// `context` must be null or a live client context.
pub(crate) unsafe fn option(context: ffi::duckdb_client_context, name: &str) -> Option<Constant> {
    if context.is_null() {
        return None;
    }
    let name = CString::new(name).ok()?;
    let mut scope: ffi::duckdb_config_option_scope = 0;
    // SAFETY: `context` is live (caller's contract); the returned value is
    // ours to destroy, which `Constant` does.
    unsafe {
        Constant::from_raw(ffi::duckdb_client_context_get_config_option(
            context,
            name.as_ptr(),
            &mut scope,
        ))
    }
}

/// The current value of setting `name` in `context` as text; `None` when
/// unknown, NULL or empty.
///
/// # Safety
/// `context` must be null or a live client context.
pub(crate) unsafe fn read(context: ffi::duckdb_client_context, name: &str) -> Option<String> {
    // SAFETY: forwarded caller's contract.
    unsafe { option(context, name) }?
        .text()
        .filter(|v| !v.is_empty())
}
