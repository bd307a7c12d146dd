//! Owned DuckDB logical types for raw registrations.
//!
//! duckdb-rs's `LogicalTypeHandle` does not hand out its raw pointer, so
//! functions registered through [`super::scalar`] describe their signatures
//! with this type instead.

use std::ffi::CString;

use duckdb::ffi;

/// A `duckdb_logical_type` that is destroyed when dropped.
#[derive(Debug)]
pub struct LogicalType(ffi::duckdb_logical_type);

// The handle is an immutable description once created.
unsafe impl Send for LogicalType {}
unsafe impl Sync for LogicalType {}

impl LogicalType {
    fn of(id: ffi::DUCKDB_TYPE) -> Self {
        Self(unsafe { ffi::duckdb_create_logical_type(id) })
    }
    pub fn varchar() -> Self {
        Self::of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR)
    }
    pub fn boolean() -> Self {
        Self::of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN)
    }
    pub fn bigint() -> Self {
        Self::of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT)
    }
    pub fn integer() -> Self {
        Self::of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_INTEGER)
    }
    pub fn float() -> Self {
        Self::of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_FLOAT)
    }
    pub fn double() -> Self {
        Self::of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE)
    }
    pub fn timestamp_tz() -> Self {
        Self::of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_TZ)
    }
    /// ANY: accepts whatever the caller passes; read the real type at run time.
    pub fn any() -> Self {
        Self::of(ffi::DUCKDB_TYPE_DUCKDB_TYPE_ANY)
    }
    pub fn list(child: &LogicalType) -> Self {
        Self(unsafe { ffi::duckdb_create_list_type(child.0) })
    }
    pub fn map(key: &LogicalType, value: &LogicalType) -> Self {
        Self(unsafe { ffi::duckdb_create_map_type(key.0, value.0) })
    }
    /// A STRUCT with the given (name, type) members, in order.
    pub fn structure(members: &[(&str, LogicalType)]) -> Self {
        let names: Vec<CString> = members
            .iter()
            .map(|(n, _)| CString::new(*n).expect("struct member names are literals without NUL"))
            .collect();
        let mut name_ptrs: Vec<*const std::os::raw::c_char> =
            names.iter().map(|n| n.as_ptr()).collect();
        let mut types: Vec<ffi::duckdb_logical_type> = members.iter().map(|(_, t)| t.0).collect();
        Self(unsafe {
            ffi::duckdb_create_struct_type(
                types.as_mut_ptr(),
                name_ptrs.as_mut_ptr(),
                members.len() as ffi::idx_t,
            )
        })
    }
    pub fn raw(&self) -> ffi::duckdb_logical_type {
        self.0
    }
}

impl Drop for LogicalType {
    fn drop(&mut self) {
        unsafe { ffi::duckdb_destroy_logical_type(&mut self.0) }
    }
}
