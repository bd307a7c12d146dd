//! medallion's settings: `SET name = value` in SQL, with the environment
//! variable of the same name upper-cased as the default (as MLflow's clients
//! treat `MLFLOW_TRACKING_URI`). One name everywhere: SQL, README, env var.
//!
//! Settings are registered as DuckDB config options when the extension loads,
//! so `SET`, `RESET`, `current_setting()` and `duckdb_settings()` work on them
//! as on DuckDB's own. Functions read them in their bind step
//! ([`crate::duck::scalar::Bind::setting`]).

use std::ffi::CString;

use duckdb::ffi;

use crate::duck::types::LogicalType;
use crate::duck::value::Value;
use crate::error::{Error, Result};
use crate::register::Registrar;

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

/// Every setting medallion registers. Capabilities add theirs here.
pub const ALL: &[Setting] = &[
    Setting {
        name: "mlflow_tracking_uri",
        description: "Where medallion's mlflow_* functions log: http(s)://host:port (an MLflow \
                      tracking server), file:///dir or a directory (a local MLflow file store); \
                      empty: ./mlruns",
        builtin_default: || None,
    },
    Setting {
        name: "mlflow_http_request_timeout",
        description: "Seconds an MLflow server may take to connect, answer or move data",
        builtin_default: || Some("30".into()),
    },
    Setting {
        name: "mlflow_http_request_max_retries",
        description: "Retries of an MLflow request that failed transiently (connection, 429, 5xx)",
        builtin_default: || Some("3".into()),
    },
    Setting {
        name: "mlflow_http_request_backoff_factor",
        description:
            "Seconds before the first retry of an MLflow request; doubled for each next one",
        builtin_default: || Some("0.5".into()),
    },
    crate::sentiment::MODEL_SETTING,
    crate::sentiment::THREADS_SETTING,
    crate::sentiment::BATCH_SIZE_SETTING,
    crate::sentiment::LIBRARY_SETTING,
];

/// The directory of the loaded extension file (`build/release/` after
/// `make build`), found with `dladdr` on a function of ours; `None` if the
/// loader cannot tell. Built-in defaults that ship next to the extension (the
/// ONNX Runtime library, the default model) are computed from it at LOAD.
pub fn extension_dir() -> Option<std::path::PathBuf> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let ours = extension_dir as *const libc::c_void;
    if unsafe { libc::dladdr(ours, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    let file = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let file = std::path::PathBuf::from(file.to_string_lossy().into_owned());
    let file = std::fs::canonicalize(&file).unwrap_or(file);
    file.parent().map(|d| d.to_path_buf())
}

/// Registers `settings` as DuckDB config options on the database.
pub fn register(r: &Registrar, settings: &[Setting]) -> Result<()> {
    let con = r.raw();
    for s in settings {
        let name = CString::new(s.name).expect("setting names are literals");
        let description = CString::new(s.description).expect("descriptions are literals");
        let default = Value::varchar(&s.default_value().unwrap_or_default());
        let ty = LogicalType::varchar();
        let state = unsafe {
            let mut option = ffi::duckdb_create_config_option();
            ffi::duckdb_config_option_set_name(option, name.as_ptr());
            ffi::duckdb_config_option_set_type(option, ty.raw());
            ffi::duckdb_config_option_set_default_value(option, default.raw());
            ffi::duckdb_config_option_set_description(option, description.as_ptr());
            let state = ffi::duckdb_register_config_option(con, option);
            ffi::duckdb_destroy_config_option(&mut option);
            state
        };
        if state != ffi::DuckDBSuccess {
            return Err(Error::Registration {
                name: s.name,
                reason: "DuckDB refused the setting".into(),
            });
        }
    }
    Ok(())
}

/// The current value of setting `name` in `context`; `None` when unknown,
/// NULL or empty.
///
/// # Safety
/// `context` must be null or a live client context.
pub unsafe fn read(context: ffi::duckdb_client_context, name: &str) -> Option<String> {
    if context.is_null() {
        return None;
    }
    let name = CString::new(name).ok()?;
    let mut scope: ffi::duckdb_config_option_scope = 0;
    let value = unsafe {
        Value::from_raw(ffi::duckdb_client_context_get_config_option(
            context,
            name.as_ptr(),
            &mut scope,
        ))
    }?;
    value.to_text().filter(|v| !v.is_empty())
}
