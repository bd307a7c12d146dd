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

use std::ffi::c_char;
use std::ops::Range;

use duckdb::ffi;

use super::chunk_arrow::{vector_to_arrow, ArrowColumn};
use super::function_set::{self, AGGREGATE};
use super::message::guarded;
use super::registrar::Registrar;
use super::types::Signature;
use crate::error::{guard, Error, Result};

/// An input chunk handed to [`Aggregate::prepare`]; valid during that call.
pub struct Chunk {
    raw: ffi::duckdb_data_chunk,
    len: usize,
}

impl Chunk {
    /// Rows in the chunk.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether the chunk has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Columns (the aggregate's arguments).
    pub fn column_count(&self) -> usize {
        // SAFETY: the chunk is live during `prepare`.
        unsafe { ffi::duckdb_data_chunk_get_column_count(self.raw) as usize }
    }
    /// Argument `i` as an Arrow array named `name` (a STRUCT argument keeps
    /// its member names); `Err` names a type Arrow cannot hold.
    pub fn arrow(&self, i: usize, name: &str) -> std::result::Result<ArrowColumn, String> {
        if i >= self.column_count() {
            return Err(format!("argument {i} does not exist"));
        }
        // SAFETY: `i` is in range; the chunk's vectors are flat and hold
        // `len` rows while `prepare` runs.
        unsafe {
            let v = ffi::duckdb_data_chunk_get_vector(self.raw, i as ffi::idx_t);
            vector_to_arrow(v, self.len, name)
        }
    }
}

/// The result vector handed to [`Aggregate::finalize`]; valid during that call.
pub struct Output {
    vector: ffi::duckdb_vector,
    rows: u64,
}

impl Output {
    /// Row `row` of a STRUCT result, member by member.
    pub fn struct_row(&self, row: u64) -> StructRow<'_> {
        assert!(row < self.rows, "result row {row} out of range");
        StructRow { out: self, row }
    }
}

/// One row of a STRUCT result: setters by member index.
pub struct StructRow<'a> {
    out: &'a Output,
    row: u64,
}

impl StructRow<'_> {
    fn child(&self, idx: usize, want: ffi::DUCKDB_TYPE) -> ffi::duckdb_vector {
        // SAFETY: the result vector is live during `finalize`; its type and
        // children are DuckDB's; the type we get is ours to destroy.
        unsafe {
            let mut ty = ffi::duckdb_vector_get_column_type(self.out.vector);
            let members = ffi::duckdb_struct_type_child_count(ty) as usize;
            assert!(idx < members, "STRUCT member {idx} out of range");
            let mut child_ty = ffi::duckdb_struct_type_child_type(ty, idx as ffi::idx_t);
            let id = ffi::duckdb_get_type_id(child_ty);
            ffi::duckdb_destroy_logical_type(&mut child_ty);
            ffi::duckdb_destroy_logical_type(&mut ty);
            assert_eq!(id, want, "STRUCT member {idx} has another type");
            ffi::duckdb_struct_vector_get_child(self.out.vector, idx as ffi::idx_t)
        }
    }

    /// Sets a BIGINT member; `None` writes NULL.
    pub fn set_i64(&self, idx: usize, value: Option<i64>) {
        let child = self.child(idx, ffi::DUCKDB_TYPE_DUCKDB_TYPE_BIGINT);
        match value {
            // SAFETY: checked BIGINT member; `row` is within the result.
            Some(v) => unsafe {
                let data = ffi::duckdb_vector_get_data(child) as *mut i64;
                *data.add(self.row as usize) = v;
            },
            None => self.set_null(child),
        }
    }

    /// Sets a VARCHAR member; `None` writes NULL.
    pub fn set_str(&self, idx: usize, value: Option<&str>) {
        let child = self.child(idx, ffi::DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR);
        match value {
            // SAFETY: checked VARCHAR member; DuckDB copies the bytes.
            Some(s) => unsafe {
                ffi::duckdb_vector_assign_string_element_len(
                    child,
                    self.row,
                    s.as_ptr() as *const c_char,
                    s.len() as ffi::idx_t,
                );
            },
            None => self.set_null(child),
        }
    }

    fn set_null(&self, child: ffi::duckdb_vector) {
        // SAFETY: `child` is a live member vector; `row` is within it.
        unsafe {
            ffi::duckdb_vector_ensure_validity_writable(child);
            let validity = ffi::duckdb_vector_get_validity(child);
            ffi::duckdb_validity_set_row_invalid(validity, self.row);
        }
    }
}

/// An aggregate implemented in Rust.
pub trait Aggregate: 'static {
    /// SQL name, also the context of error messages.
    const NAME: &'static str;
    /// The overloads (an ANY parameter takes the caller's type as it is).
    fn signatures() -> Vec<Signature>;
    /// Per-group (per-thread for ungrouped aggregates) state.
    type State: Default;
    /// The input chunk, converted once for all the states it feeds.
    type Prepared;

    /// Converts an input chunk (all columns, flattened) once per `update`.
    fn prepare(chunk: &Chunk) -> Result<Self::Prepared>;
    /// Feeds rows `rows` of the prepared chunk to `state`.
    fn update(state: &mut Self::State, input: &Self::Prepared, rows: Range<usize>) -> Result<()>;
    /// Merges `source` into `target`; `source` is destroyed afterwards.
    fn combine(source: &mut Self::State, target: &mut Self::State) -> Result<()>;
    /// Writes the state's result into `out` at `row`.
    fn finalize(state: &mut Self::State, out: &Output, row: u64) -> Result<()>;
}

const TAG: u64 = 0x6d65_6461_6c6c_696f; // "medallio"

#[repr(C)]
struct Slot<S> {
    tag: u64,
    state: *mut S,
}

/// The state in DuckDB's slot, if `init` wrote one there.
///
/// # Safety
/// `state` must be null or point at `state_size::<A>()` bytes DuckDB
/// allocated for a state of this aggregate.
unsafe fn slot<'a, S>(state: ffi::duckdb_aggregate_state) -> Option<&'a mut S> {
    let slot = state as *mut Slot<S>;
    // SAFETY: a non-null slot is readable (caller's contract); the tag tells
    // whether `init` wrote a live box into it.
    if slot.is_null() || unsafe { (*slot).tag } != TAG || unsafe { (*slot).state.is_null() } {
        return None;
    }
    // SAFETY: tagged: `state` is the box `init` made, alive until `destroy`.
    Some(unsafe { &mut *(*slot).state })
}

/// The `count` state pointers DuckDB passes at `states`.
///
/// # Safety
/// `states` must hold `count` pointers, alive for `'a`.
unsafe fn pointers<'a>(
    states: *mut ffi::duckdb_aggregate_state,
    count: ffi::idx_t,
) -> &'a [ffi::duckdb_aggregate_state] {
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(states, count as usize) }
}

/// The state `init` put in `state`, or an internal error saying `what`.
///
/// # Safety
/// As for [`slot`].
unsafe fn live<'a, S>(state: ffi::duckdb_aggregate_state, what: &str) -> Result<&'a mut S> {
    // SAFETY: the caller's contract.
    unsafe { slot::<S>(state) }.ok_or_else(|| internal(what))
}

/// # Safety
/// DuckDB's callback; it reads nothing.
unsafe extern "C" fn state_size<A: Aggregate>(_: ffi::duckdb_function_info) -> ffi::idx_t {
    std::mem::size_of::<Slot<A::State>>() as ffi::idx_t
}

/// Every callback with an error channel reports through it the same way.
const SET_ERROR: unsafe fn(ffi::duckdb_function_info, *const c_char) =
    ffi::duckdb_aggregate_function_set_error;

unsafe extern "C" fn init<A: Aggregate>(
    info: ffi::duckdb_function_info,
    state: ffi::duckdb_aggregate_state,
) {
    // SAFETY: `info` is this callback's live info. DuckDB hands `init` an
    // uninitialised slot of `state_size::<A>()` bytes; writing a whole
    // `Slot` initialises it.
    unsafe {
        guarded(A::NAME, info, SET_ERROR, || {
            let boxed = Box::into_raw(Box::<A::State>::default());
            let slot = state as *mut Slot<A::State>;
            slot.write(Slot {
                tag: TAG,
                state: boxed,
            });
            Ok(())
        })
    }
}

unsafe extern "C" fn update<A: Aggregate>(
    info: ffi::duckdb_function_info,
    chunk: ffi::duckdb_data_chunk,
    states: *mut ffi::duckdb_aggregate_state,
) {
    // SAFETY: `info` and `chunk` are this call's live info and input;
    // DuckDB passes one state pointer per input row, each allocated for
    // this aggregate.
    unsafe {
        guarded(A::NAME, info, SET_ERROR, || {
            let count = ffi::duckdb_data_chunk_get_size(chunk);
            if count == 0 {
                return Ok(());
            }
            let prepared = A::prepare(&Chunk {
                raw: chunk,
                len: count as usize,
            })?;
            // Feed contiguous runs of rows that share a state (ungrouped: one run).
            let mut start = 0;
            for run in pointers(states, count).chunk_by(|a, b| a == b) {
                let state = live::<A::State>(run[0], "update on an uninitialised state")?;
                A::update(state, &prepared, start..start + run.len())?;
                start += run.len();
            }
            Ok(())
        })
    }
}

unsafe extern "C" fn combine<A: Aggregate>(
    info: ffi::duckdb_function_info,
    source: *mut ffi::duckdb_aggregate_state,
    target: *mut ffi::duckdb_aggregate_state,
    count: ffi::idx_t,
) {
    // SAFETY: `info` is live; both arrays hold `count` state pointers
    // DuckDB allocated for this aggregate.
    unsafe {
        guarded(A::NAME, info, SET_ERROR, || {
            for (&s, &t) in pointers(source, count).iter().zip(pointers(target, count)) {
                if s != t {
                    A::combine(live(s, "bad source")?, live(t, "bad target")?)?;
                }
            }
            Ok(())
        })
    }
}

unsafe extern "C" fn finalize<A: Aggregate>(
    info: ffi::duckdb_function_info,
    source: *mut ffi::duckdb_aggregate_state,
    result: ffi::duckdb_vector,
    count: ffi::idx_t,
    offset: ffi::idx_t,
) {
    let out = Output {
        vector: result,
        rows: offset + count,
    };
    // SAFETY: `info` is live; `source` holds `count` state pointers DuckDB
    // allocated for this aggregate.
    unsafe {
        guarded(A::NAME, info, SET_ERROR, || {
            for (row, &s) in (offset..).zip(pointers(source, count)) {
                A::finalize(live(s, "bad state")?, &out, row)?;
            }
            Ok(())
        })
    }
}

unsafe extern "C" fn destroy<A: Aggregate>(
    states: *mut ffi::duckdb_aggregate_state,
    count: ffi::idx_t,
) {
    // No error channel here: a panic is caught and dropped.
    let _ = guard(A::NAME, || {
        for i in 0..count as usize {
            // SAFETY: `states` holds `count` state pointers.
            let slot = unsafe { *states.add(i) } as *mut Slot<A::State>;
            if slot.is_null() {
                continue;
            }
            // SAFETY: a slot of this aggregate; the tag says whether `init`
            // put a box in it, which is freed once and then forgotten.
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

/// Registers `A` under `A::NAME` with its overloads.
pub(crate) fn register<A: Aggregate>(r: &Registrar) -> Result<()> {
    // SAFETY: `f` is an aggregate function; these are its setters.
    unsafe {
        function_set::register(r, &AGGREGATE, A::NAME, A::signatures(), |f| {
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
        })
    }
}
