//! A raw-FFI aggregate function wrapper (duckdb-rs cannot register aggregates).
//!
//! Why an aggregate: C API v1 has no table in-out functions, so the only way a
//! function consumes the rows of an arbitrary query — with their column names —
//! is an aggregate over an ANY-typed argument (`agg(t)` over a row `t` arrives
//! as a STRUCT whose child names are the query's column names), and an
//! aggregate is also the only shape with a "all rows seen" callback
//! (`finalize`) in which to commit work exactly once.
//!
//! Lifecycle, per DuckDB: `init` every state; `update` with flattened input
//! chunks and one state pointer per row; `combine(source, target)` merges
//! thread-local states; `finalize` writes one result per state; `destroy`.
//! Every callback runs inside [`guard`], so a panic becomes a DuckDB error.
//!
//! Pitfalls handled here: DuckDB may call `destroy` on a slot that `init` never
//! wrote (after an error), so each slot carries a tag; a destructor must be
//! registered or DuckDB treats the aggregate as a streaming window function.
//! Known DuckDB defect (duckdb#26109): `agg(x) OVER ()` and `agg(x ORDER BY y)`
//! pass one state for many rows to every C API aggregate; don't use those shapes.

use std::ffi::CString;
use std::ops::Range;

use duckdb::ffi;

use super::raw::RawConnection;
use super::types::LogicalType;
use crate::error::{guard, Error, Result};

/// An input chunk handed to [`Aggregate::prepare`]; valid during that call.
#[derive(Clone, Copy)]
pub struct Chunk(ffi::duckdb_data_chunk);

impl Chunk {
    /// Rows in the chunk.
    pub fn len(self) -> usize {
        unsafe { ffi::duckdb_data_chunk_get_size(self.0) as usize }
    }
    /// Whether the chunk has no rows.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
    /// Columns (the aggregate's arguments).
    pub fn column_count(self) -> usize {
        unsafe { ffi::duckdb_data_chunk_get_column_count(self.0) as usize }
    }
    /// The (flat) vector of argument `i`.
    pub fn vector(self, i: usize) -> ffi::duckdb_vector {
        unsafe { ffi::duckdb_data_chunk_get_vector(self.0, i as ffi::idx_t) }
    }
}

/// The result vector handed to [`Aggregate::finalize`]; valid during that call.
#[derive(Clone, Copy)]
pub struct Output(ffi::duckdb_vector);

impl Output {
    pub fn raw(self) -> ffi::duckdb_vector {
        self.0
    }
}

/// An aggregate implemented in Rust.
pub trait Aggregate: 'static {
    /// SQL name, also the context of error messages.
    const NAME: &'static str;
    /// Per-group (per-thread for ungrouped aggregates) state.
    type State: Default;
    /// The input chunk, converted once for all the states it feeds.
    type Prepared;

    /// Converts an input chunk (all columns, flattened) once per `update`.
    fn prepare(chunk: Chunk) -> Result<Self::Prepared>;
    /// Feeds rows `rows` of the prepared chunk to `state`.
    fn update(state: &mut Self::State, input: &Self::Prepared, rows: Range<usize>) -> Result<()>;
    /// Merges `source` into `target`; `source` is destroyed afterwards.
    fn combine(source: &mut Self::State, target: &mut Self::State) -> Result<()>;
    /// Writes the state's result into `out` at `row`.
    fn finalize(state: &mut Self::State, out: Output, row: u64) -> Result<()>;
}

const TAG: u64 = 0x6d65_6461_6c6c_696f; // "medallio"

#[repr(C)]
struct Slot<S> {
    tag: u64,
    state: *mut S,
}

unsafe fn slot<'a, S>(state: ffi::duckdb_aggregate_state) -> Option<&'a mut S> {
    let slot = state as *mut Slot<S>;
    if slot.is_null() || unsafe { (*slot).tag } != TAG || unsafe { (*slot).state.is_null() } {
        return None;
    }
    Some(unsafe { &mut *(*slot).state })
}

fn report(info: ffi::duckdb_function_info, err: &Error) {
    let msg = CString::new(err.to_string().replace('\0', " ")).unwrap_or_default();
    unsafe { ffi::duckdb_aggregate_function_set_error(info, msg.as_ptr()) };
}

unsafe extern "C" fn state_size<A: Aggregate>(_: ffi::duckdb_function_info) -> ffi::idx_t {
    std::mem::size_of::<Slot<A::State>>() as ffi::idx_t
}

unsafe extern "C" fn init<A: Aggregate>(
    info: ffi::duckdb_function_info,
    state: ffi::duckdb_aggregate_state,
) {
    let res = guard(A::NAME, || {
        let boxed = Box::into_raw(Box::<A::State>::default());
        let slot = state as *mut Slot<A::State>;
        unsafe {
            slot.write(Slot {
                tag: TAG,
                state: boxed,
            })
        };
        Ok(())
    });
    if let Err(e) = res {
        report(info, &e);
    }
}

unsafe extern "C" fn update<A: Aggregate>(
    info: ffi::duckdb_function_info,
    chunk: ffi::duckdb_data_chunk,
    states: *mut ffi::duckdb_aggregate_state,
) {
    let res = guard(A::NAME, || {
        let count = unsafe { ffi::duckdb_data_chunk_get_size(chunk) } as usize;
        if count == 0 {
            return Ok(());
        }
        let prepared = A::prepare(Chunk(chunk))?;
        // Feed contiguous runs of rows that share a state (ungrouped: one run).
        let states = unsafe { std::slice::from_raw_parts(states, count) };
        let mut start = 0;
        while start < count {
            let mut end = start + 1;
            while end < count && states[end] == states[start] {
                end += 1;
            }
            let state = unsafe { slot::<A::State>(states[start]) }
                .ok_or_else(|| internal("update on an uninitialised state"))?;
            A::update(state, &prepared, start..end)?;
            start = end;
        }
        Ok(())
    });
    if let Err(e) = res {
        report(info, &e);
    }
}

unsafe extern "C" fn combine<A: Aggregate>(
    info: ffi::duckdb_function_info,
    source: *mut ffi::duckdb_aggregate_state,
    target: *mut ffi::duckdb_aggregate_state,
    count: ffi::idx_t,
) {
    let res = guard(A::NAME, || {
        for i in 0..count as usize {
            let (s, t) = unsafe { (*source.add(i), *target.add(i)) };
            if s == t {
                continue;
            }
            let src = unsafe { slot::<A::State>(s) }.ok_or_else(|| internal("bad source"))?;
            let tgt = unsafe { slot::<A::State>(t) }.ok_or_else(|| internal("bad target"))?;
            A::combine(src, tgt)?;
        }
        Ok(())
    });
    if let Err(e) = res {
        report(info, &e);
    }
}

unsafe extern "C" fn finalize<A: Aggregate>(
    info: ffi::duckdb_function_info,
    source: *mut ffi::duckdb_aggregate_state,
    result: ffi::duckdb_vector,
    count: ffi::idx_t,
    offset: ffi::idx_t,
) {
    let res = guard(A::NAME, || {
        for i in 0..count as usize {
            let s = unsafe { *source.add(i) };
            let state = unsafe { slot::<A::State>(s) }.ok_or_else(|| internal("bad state"))?;
            A::finalize(state, Output(result), offset + i as u64)?;
        }
        Ok(())
    });
    if let Err(e) = res {
        report(info, &e);
    }
}

unsafe extern "C" fn destroy<A: Aggregate>(
    states: *mut ffi::duckdb_aggregate_state,
    count: ffi::idx_t,
) {
    // No error channel here: a panic is caught and dropped.
    let _ = guard(A::NAME, || {
        for i in 0..count as usize {
            let slot = unsafe { *states.add(i) } as *mut Slot<A::State>;
            if slot.is_null() {
                continue;
            }
            unsafe {
                if (*slot).tag == TAG && !(*slot).state.is_null() {
                    drop(Box::from_raw((*slot).state));
                }
                (*slot).tag = 0;
                (*slot).state = std::ptr::null_mut();
            }
        }
        Ok(())
    });
}

fn internal(what: &str) -> Error {
    Error::Panic {
        context: "aggregate".into(),
        message: what.into(),
    }
}

/// Registers `A` under `A::NAME` with one overload per parameter list.
pub fn register<A: Aggregate>(
    con: &RawConnection,
    overloads: &[Vec<LogicalType>],
    returns: impl Fn() -> LogicalType,
) -> Result<()> {
    let fail = |what: &str| Error::Register {
        name: A::NAME,
        source: duckdb::Error::DuckDBFailure(
            ffi::Error::new(ffi::DuckDBError),
            Some(what.to_string()),
        ),
    };
    let name = CString::new(A::NAME).expect("function name");
    unsafe {
        let mut set = ffi::duckdb_create_aggregate_function_set(name.as_ptr());
        for params in overloads {
            let mut f = ffi::duckdb_create_aggregate_function();
            ffi::duckdb_aggregate_function_set_name(f, name.as_ptr());
            for p in params {
                ffi::duckdb_aggregate_function_add_parameter(f, p.raw());
            }
            let ret = returns();
            ffi::duckdb_aggregate_function_set_return_type(f, ret.raw());
            ffi::duckdb_aggregate_function_set_functions(
                f,
                Some(state_size::<A>),
                Some(init::<A>),
                Some(update::<A>),
                Some(combine::<A>),
                Some(finalize::<A>),
            );
            ffi::duckdb_aggregate_function_set_destructor(f, Some(destroy::<A>));
            // NULL rows (e.g. a NULL path) must reach us to be reported.
            ffi::duckdb_aggregate_function_set_special_handling(f);
            let added = ffi::duckdb_add_aggregate_function_to_set(set, f);
            ffi::duckdb_destroy_aggregate_function(&mut f);
            if added != ffi::DuckDBSuccess {
                ffi::duckdb_destroy_aggregate_function_set(&mut set);
                return Err(fail("could not add an overload"));
            }
        }
        let state = ffi::duckdb_register_aggregate_function_set(con.0, set);
        ffi::duckdb_destroy_aggregate_function_set(&mut set);
        if state != ffi::DuckDBSuccess {
            return Err(fail("duckdb_register_aggregate_function_set failed"));
        }
    }
    Ok(())
}
