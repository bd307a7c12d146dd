//! medallion: a DuckDB loadable extension for a tweet-sentiment lakehouse.
//!
//! `medallion_init_c_api` is what DuckDB calls on `LOAD`; everything it
//! registers is listed in [`register::all`]. Capabilities live in their own
//! modules (`delta`, `sentiment`, `mlflow`), one file per SQL function;
//! reusable DuckDB plumbing lives in [`duck`].

pub mod core;
pub mod delta;
pub mod duck;
pub mod error;
pub mod register;

use duckdb::ffi;
use duckdb::Connection;

/// The oldest DuckDB C API this extension asks for (see README, "Hosts").
const MIN_DUCKDB_VERSION: &str = "v1.5.6";

/// Called by DuckDB on `LOAD`.
///
/// Hand-written instead of duckdb-rs' `duckdb_entrypoint_c_api` macro because
/// registering aggregates needs the raw `duckdb_database` (duckdb-rs cannot
/// register aggregates and hides its raw connection). Registration runs inside
/// [`error::guard`], so a panic while loading fails the `LOAD` with a message
/// instead of aborting the host.
///
/// # Safety
/// Called by DuckDB with its extension-loading handles.
#[no_mangle]
pub unsafe extern "C" fn medallion_init_c_api(
    info: ffi::duckdb_extension_info,
    access: *const ffi::duckdb_extension_access,
) -> bool {
    let result = error::guard("LOAD medallion", || unsafe { init(info, access) });
    match result {
        Ok(loaded) => loaded,
        Err(e) => {
            if let Some(set_error) = unsafe { (*access).set_error } {
                let msg =
                    std::ffi::CString::new(e.to_string().replace('\0', " ")).unwrap_or_default();
                unsafe { set_error(info, msg.as_ptr()) };
            }
            false
        }
    }
}

unsafe fn init(
    info: ffi::duckdb_extension_info,
    access: *const ffi::duckdb_extension_access,
) -> error::Result<bool> {
    let load_error = |reason: String| error::Error::InvalidArgument {
        function: "LOAD medallion",
        argument: "extension",
        reason,
    };
    let have_api = unsafe { ffi::duckdb_rs_extension_api_init(info, access, MIN_DUCKDB_VERSION) }
        .map_err(|e| load_error(e.to_string()))?;
    if !have_api {
        // DuckDB has already recorded why (an API version mismatch).
        return Ok(false);
    }
    let get_database = unsafe { (*access).get_database }
        .ok_or_else(|| load_error("get_database is null in duckdb_extension_access".into()))?;
    let db_ptr = unsafe { get_database(info) };
    if db_ptr.is_null() {
        return Ok(false);
    }
    // Valid only while LOAD runs: DuckDB frees this wrapper afterwards.
    let db: ffi::duckdb_database = unsafe { *db_ptr };
    let con =
        unsafe { Connection::open_from_raw(db.cast()) }.map_err(|e| load_error(e.to_string()))?;
    let raw = unsafe { duck::raw::RawConnection::open(db) }.map_err(load_error)?;
    register::all(&con, &raw)?;
    Ok(true)
}
