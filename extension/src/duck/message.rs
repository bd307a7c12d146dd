//! The one way an error becomes the C string DuckDB shows the user.

use std::ffi::{c_char, CStr, CString};

use duckdb::ffi;

use crate::error::{guard, Error, Result};

/// `error`'s message as a C string. An interior NUL would cut the message
/// short on the C side, so each one is written out as `\0`.
pub fn c_message(error: &Error) -> CString {
    c_text(&error.to_string())
}

/// `text` as a C string, interior NULs written out as `\0`.
pub fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).expect("interior NULs were replaced")
}

/// Runs the `work` of a C callback inside [`guard`] (so a panic is an error
/// too) and hands its error to DuckDB through `set_error`, the C API's error
/// setter for that kind of callback: what every callback does with an error,
/// in one place.
///
/// # Safety
/// `info` must be the callback's live info, one `set_error` accepts.
pub(crate) unsafe fn guarded<I>(
    context: &str,
    info: I,
    set_error: unsafe fn(I, *const c_char),
    work: impl FnOnce() -> Result<()>,
) {
    if let Err(e) = guard(context, work) {
        // SAFETY: `info` is live (caller's contract); DuckDB copies the
        // message before the call returns.
        unsafe { set_error(info, c_message(&e).as_ptr()) }
    }
}

/// Reads a DuckDB-allocated C string and frees it.
///
/// # Safety
/// `ptr` must be null or come from a C API call whose result the caller must
/// `duckdb_free`.
pub(crate) unsafe fn take_c_string(ptr: *mut c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: a NUL-terminated string DuckDB allocated (caller's contract).
    let s = unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: freed once, as the C API asks.
    unsafe { ffi::duckdb_free(ptr as *mut std::ffi::c_void) };
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interior_nuls_are_spelled_out_not_truncated() {
        assert_eq!(c_text("a\0b").to_str().unwrap(), "a\\0b");
        let e = Error::Internal {
            context: "f".into(),
            message: "x".into(),
        };
        assert_eq!(c_message(&e).to_str().unwrap(), "f: internal error: x");
    }
}
