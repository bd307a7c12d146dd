//! DuckDB types as capabilities name them: [`LogicalType`] (owned, any
//! shape) for scalar and aggregate signatures, [`TypeId`] (a plain id) for
//! the parameters of table functions.
//!
//! duckdb-rs's `LogicalTypeHandle` does not hand out its raw pointer, so
//! functions registered through the raw C API describe their signatures with
//! this type instead.

use std::ffi::CString;

use duckdb::ffi;

/// The id of a simple DuckDB type (VARCHAR, BIGINT, ...), for table
/// function parameters and result columns.
pub use duckdb::core::LogicalTypeId as TypeId;

/// A `duckdb_logical_type` that is destroyed when dropped.
#[derive(Debug)]
pub struct LogicalType(ffi::duckdb_logical_type);

// SAFETY: the handle is an immutable description once created; DuckDB only
// reads it (when registering), from any thread.
unsafe impl Send for LogicalType {}
// SAFETY: as above, no interior mutability is reachable through `&self`.
unsafe impl Sync for LogicalType {}

impl LogicalType {
    fn of(id: ffi::DUCKDB_TYPE) -> Self {
        // SAFETY: creating a type from a valid id has no preconditions.
        Self(unsafe { ffi::duckdb_create_logical_type(id) })
    }
    pub fn list(child: &LogicalType) -> Self {
        // SAFETY: `child` is a live type; DuckDB copies it.
        Self(unsafe { ffi::duckdb_create_list_type(child.0) })
    }
    pub fn map(key: &LogicalType, value: &LogicalType) -> Self {
        // SAFETY: both are live types; DuckDB copies them.
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
        // SAFETY: the two arrays hold `members.len()` live names and types,
        // alive until after the call; DuckDB copies them.
        Self(unsafe {
            ffi::duckdb_create_struct_type(
                types.as_mut_ptr(),
                name_ptrs.as_mut_ptr(),
                members.len() as ffi::idx_t,
            )
        })
    }
    pub(crate) fn raw(&self) -> ffi::duckdb_logical_type {
        self.0
    }
}

/// One constructor per simple type, named after it: `LogicalType::varchar()`
/// is `duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR)`.
macro_rules! simple_types {
    ($($(#[$doc:meta])* $name:ident => $id:ident,)*) => {
        impl LogicalType {
            $(
                $(#[$doc])*
                pub fn $name() -> Self {
                    Self::of(ffi::$id)
                }
            )*
        }
    };
}

simple_types! {
    varchar => DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR,
    boolean => DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN,
    bigint => DUCKDB_TYPE_DUCKDB_TYPE_BIGINT,
    integer => DUCKDB_TYPE_DUCKDB_TYPE_INTEGER,
    float => DUCKDB_TYPE_DUCKDB_TYPE_FLOAT,
    double => DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE,
    timestamp_tz => DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_TZ,
    /// ANY: accepts whatever the caller passes; read the real type at run time.
    any => DUCKDB_TYPE_DUCKDB_TYPE_ANY,
}

impl Drop for LogicalType {
    fn drop(&mut self) {
        // SAFETY: we own the handle and drop it once.
        unsafe { ffi::duckdb_destroy_logical_type(&mut self.0) }
    }
}

/// One overload of a scalar or aggregate function: parameter types and the
/// return type.
pub struct Signature {
    pub params: Vec<LogicalType>,
    pub returns: LogicalType,
}

impl Signature {
    pub fn new(params: Vec<LogicalType>, returns: LogicalType) -> Self {
        Self { params, returns }
    }

    /// One overload per number of trailing optional parameters: `required`,
    /// then `required` + the first optional one, and so on. `returns` makes
    /// the return type for each (a type is owned by one signature).
    pub fn with_optional(
        required: impl Fn() -> Vec<LogicalType>,
        optional: impl Fn() -> Vec<LogicalType>,
        returns: impl Fn() -> LogicalType,
    ) -> Vec<Signature> {
        param_lists(required, optional)
            .into_iter()
            .map(|params| Signature::new(params, returns()))
            .collect()
    }
}

/// `required`, then `required` plus each longer prefix of `optional`.
fn param_lists<T>(required: impl Fn() -> Vec<T>, optional: impl Fn() -> Vec<T>) -> Vec<Vec<T>> {
    (0..=optional().len())
        .map(|n| {
            let mut params = required();
            params.extend(optional().into_iter().take(n));
            params
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_parameters_make_one_overload_each() {
        let lists = param_lists(|| vec!["run"], || vec!["status", "when"]);
        assert_eq!(
            lists,
            vec![
                vec!["run"],
                vec!["run", "status"],
                vec!["run", "status", "when"]
            ]
        );
    }
}
