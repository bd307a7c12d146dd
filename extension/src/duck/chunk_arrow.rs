//! DuckDB vectors → Arrow (arrow 59, the version `deltalake` writes with).
//!
//! Works on the flat vectors DuckDB hands aggregates and COPY sinks (the C API
//! flattens them first). Fixed-width data is copied with one `memcpy` per
//! vector and validity masks are reused bit for bit (DuckDB and Arrow both use
//! LSB-first 64-bit words), so this is much faster than a row-by-row reader.
//! Types without a Delta Lake equivalent are refused with a message that says
//! what to cast them to.

use std::sync::Arc;

use arrow59::array::{
    make_array, Array, ArrayData, ArrayRef, BinaryArray, BooleanArray, ListArray, MapArray,
    StringArray, StructArray,
};
use arrow59::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow59::datatypes::{DataType, Field, Fields, TimeUnit};
use duckdb::ffi;

use super::chunk::string_bytes;
use super::message::take_c_string;

/// A converted column: its Arrow field (named `name`) and values.
pub type ArrowColumn = (Field, ArrayRef);

/// Converts the first `len` rows of flat vector `v` to an Arrow array.
///
/// # Safety
/// `v` must be a valid flat vector holding at least `len` rows.
pub(crate) unsafe fn vector_to_arrow(
    v: ffi::duckdb_vector,
    len: usize,
    name: &str,
) -> Result<ArrowColumn, String> {
    // SAFETY: `v` is live (caller's contract); the type is ours to destroy.
    let mut lt = unsafe { ffi::duckdb_vector_get_column_type(v) };
    // SAFETY: `lt` is `v`'s own type; `len` rows are present.
    let out = unsafe { convert(v, lt, len, name) };
    // SAFETY: destroyed once.
    unsafe { ffi::duckdb_destroy_logical_type(&mut lt) };
    out
}

/// `v`'s validity mask as an Arrow null buffer (`None`: no NULLs).
///
/// # Safety
/// `v` must be a live flat vector of at least `len` rows.
unsafe fn validity(v: ffi::duckdb_vector, len: usize) -> Option<NullBuffer> {
    // SAFETY: `v` is live (caller's contract).
    let mask = unsafe { ffi::duckdb_vector_get_validity(v) };
    if mask.is_null() {
        return None;
    }
    let words = len.div_ceil(64);
    // SAFETY: a mask covers `len` rows in 64-bit words.
    let slice = unsafe { std::slice::from_raw_parts(mask, words) };
    let nb = NullBuffer::new(BooleanBuffer::new(Buffer::from_slice_ref(slice), 0, len));
    (nb.null_count() > 0).then_some(nb)
}

/// `v`'s data as `len` values of `T`.
///
/// # Safety
/// `v` must be a live flat vector of at least `len` rows of physical type `T`.
unsafe fn data<'a, T: Copy>(v: ffi::duckdb_vector, len: usize) -> &'a [T] {
    // SAFETY: `v` is live (caller's contract).
    let p = unsafe { ffi::duckdb_vector_get_data(v) } as *const T;
    if len == 0 || p.is_null() {
        return &[];
    }
    // SAFETY: `len` values of `T` (caller's contract).
    unsafe { std::slice::from_raw_parts(p, len) }
}

fn prim<T: arrow59::datatypes::ArrowNativeType>(
    values: Vec<T>,
    dt: DataType,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef, String> {
    let len = values.len();
    let d = ArrayData::builder(dt)
        .len(len)
        .add_buffer(ScalarBuffer::from(values).into_inner())
        .nulls(nulls)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(make_array(d))
}

/// The type's SQL name, for messages.
/// # Safety
/// `lt` must be a live logical type.
unsafe fn type_name(lt: ffi::duckdb_logical_type) -> String {
    // SAFETY: `lt` is live (caller's contract).
    let id = unsafe { ffi::duckdb_get_type_id(lt) };
    let name = duckdb::core::LogicalTypeId::from(id);
    format!("{name:?}").to_uppercase()
}

/// # Safety
/// `v` must be a live flat vector of at least `len` rows whose type is `lt`.
///
/// Every `unsafe` block below reads `v` (or a child of it) as the physical
/// type its logical type id selects, for the rows DuckDB says it holds.
unsafe fn convert(
    v: ffi::duckdb_vector,
    lt: ffi::duckdb_logical_type,
    len: usize,
    name: &str,
) -> Result<ArrowColumn, String> {
    use ffi::*;
    // SAFETY: see the function's comment.
    let id = unsafe { duckdb_get_type_id(lt) };
    // SAFETY: as above.
    let nulls = unsafe { validity(v, len) };
    macro_rules! copy {
        ($t:ty, $dt:expr) => {{
            // SAFETY: the arm's type id selects `$t`.
            let vals: Vec<$t> = unsafe { data::<$t>(v, len) }.to_vec();
            (prim(vals, $dt.clone(), nulls)?, $dt)
        }};
    }
    macro_rules! scaled {
        ($mul:expr, $div:expr) => {{
            // SAFETY: timestamps are stored as i64.
            let vals: Vec<i64> = unsafe { data::<i64>(v, len) }
                .iter()
                .map(|x| x.wrapping_mul($mul) / $div)
                .collect();
            let dt = DataType::Timestamp(TimeUnit::Microsecond, None);
            (prim(vals, dt.clone(), nulls)?, dt)
        }};
    }
    let (array, dt): (ArrayRef, DataType) = match id {
        DUCKDB_TYPE_DUCKDB_TYPE_BOOLEAN => {
            // SAFETY: BOOLEAN is stored as one byte per row.
            let vals = unsafe { data::<u8>(v, len) };
            let b = BooleanBuffer::from_iter(vals.iter().map(|x| *x != 0));
            (Arc::new(BooleanArray::new(b, nulls)), DataType::Boolean)
        }
        DUCKDB_TYPE_DUCKDB_TYPE_TINYINT => copy!(i8, DataType::Int8),
        DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => copy!(i16, DataType::Int16),
        DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => copy!(i32, DataType::Int32),
        DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => copy!(i64, DataType::Int64),
        DUCKDB_TYPE_DUCKDB_TYPE_UTINYINT => copy!(u8, DataType::UInt8),
        DUCKDB_TYPE_DUCKDB_TYPE_USMALLINT => copy!(u16, DataType::UInt16),
        DUCKDB_TYPE_DUCKDB_TYPE_UINTEGER => copy!(u32, DataType::UInt32),
        DUCKDB_TYPE_DUCKDB_TYPE_UBIGINT => copy!(u64, DataType::UInt64),
        DUCKDB_TYPE_DUCKDB_TYPE_FLOAT => copy!(f32, DataType::Float32),
        DUCKDB_TYPE_DUCKDB_TYPE_DOUBLE => copy!(f64, DataType::Float64),
        DUCKDB_TYPE_DUCKDB_TYPE_DATE => copy!(i32, DataType::Date32),
        DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP => {
            copy!(i64, DataType::Timestamp(TimeUnit::Microsecond, None))
        }
        DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_TZ => copy!(
            i64,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        ),
        DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_S => scaled!(1_000_000, 1),
        DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_MS => scaled!(1_000, 1),
        DUCKDB_TYPE_DUCKDB_TYPE_TIMESTAMP_NS => scaled!(1, 1_000),
        DUCKDB_TYPE_DUCKDB_TYPE_HUGEINT => copy!(i128, DataType::Decimal128(38, 0)),
        DUCKDB_TYPE_DUCKDB_TYPE_DECIMAL => {
            // SAFETY: `lt` is a live DECIMAL type.
            let (width, scale, internal) = unsafe {
                (
                    duckdb_decimal_width(lt),
                    duckdb_decimal_scale(lt) as i8,
                    duckdb_decimal_internal_type(lt),
                )
            };
            let vals: Vec<i128> = match internal {
                // SAFETY (three arms): the internal type selects the width.
                DUCKDB_TYPE_DUCKDB_TYPE_SMALLINT => unsafe { widen::<i16>(v, len) },
                DUCKDB_TYPE_DUCKDB_TYPE_INTEGER => unsafe { widen::<i32>(v, len) },
                DUCKDB_TYPE_DUCKDB_TYPE_BIGINT => unsafe { widen::<i64>(v, len) },
                // SAFETY: a wide DECIMAL is stored as a 128-bit integer.
                _ => unsafe { data::<i128>(v, len) }.to_vec(),
            };
            let dt = DataType::Decimal128(width, scale);
            (prim(vals, dt.clone(), nulls)?, dt)
        }
        DUCKDB_TYPE_DUCKDB_TYPE_VARCHAR => {
            // SAFETY: VARCHAR data is `duckdb_string_t`s.
            let (offsets, bytes) = unsafe { strings(v, len, nulls.as_ref()) };
            let a = StringArray::try_new(offsets, Buffer::from_vec(bytes), nulls)
                .map_err(|e| format!("column `{name}`: {e}"))?;
            (Arc::new(a), DataType::Utf8)
        }
        DUCKDB_TYPE_DUCKDB_TYPE_BLOB => {
            // SAFETY: BLOB data is `duckdb_string_t`s.
            let (offsets, bytes) = unsafe { strings(v, len, nulls.as_ref()) };
            let a = BinaryArray::new(offsets, Buffer::from_vec(bytes), nulls);
            (Arc::new(a), DataType::Binary)
        }
        DUCKDB_TYPE_DUCKDB_TYPE_STRUCT => {
            // SAFETY: `lt` is a live STRUCT type.
            let n = unsafe { duckdb_struct_type_child_count(lt) } as usize;
            let mut fields = Vec::with_capacity(n);
            let mut arrays = Vec::with_capacity(n);
            for i in 0..n {
                // SAFETY: member `i` < n exists; its name is ours to free,
                // its vector has the struct's rows and lives as long as `v`.
                let (f, a) = unsafe {
                    let cname = take_c_string(duckdb_struct_type_child_name(lt, i as idx_t));
                    let child = duckdb_struct_vector_get_child(v, i as idx_t);
                    vector_to_arrow(child, len, &cname)
                }?;
                fields.push(f);
                arrays.push(a);
            }
            let fields = Fields::from(fields);
            let a = StructArray::try_new(fields.clone(), arrays, nulls)
                .map_err(|e| format!("column `{name}`: {e}"))?;
            (Arc::new(a), DataType::Struct(fields))
        }
        DUCKDB_TYPE_DUCKDB_TYPE_LIST | DUCKDB_TYPE_DUCKDB_TYPE_MAP => {
            let is_map = id == DUCKDB_TYPE_DUCKDB_TYPE_MAP;
            // SAFETY: LIST/MAP data is list entries; the child vector holds
            // `size` rows and lives as long as `v`.
            let (entries, (cf, ca)) = unsafe {
                let child = duckdb_list_vector_get_child(v);
                let child_len = duckdb_list_vector_get_size(v) as usize;
                (
                    data::<duckdb_list_entry>(v, len),
                    vector_to_arrow(child, child_len, if is_map { "entries" } else { "item" })?,
                )
            };
            // Offsets, gathering the child when DuckDB's entries are not in order.
            let mut offsets = Vec::with_capacity(len + 1);
            offsets.push(0i32);
            let mut contiguous = true;
            let mut pos = 0u64;
            for (i, e) in entries.iter().enumerate() {
                let valid = nulls.as_ref().is_none_or(|n| n.is_valid(i));
                let l = if valid { e.length } else { 0 };
                if valid && l > 0 && e.offset != pos {
                    contiguous = false;
                }
                pos += l;
                offsets.push(
                    i32::try_from(pos).map_err(|_| format!("column `{name}`: list too long"))?,
                );
            }
            let values = if contiguous {
                ca.slice(0, pos as usize)
            } else {
                let idx: Vec<u32> = entries
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| nulls.as_ref().is_none_or(|n| n.is_valid(*i)))
                    .flat_map(|(_, e)| (e.offset..e.offset + e.length).map(|x| x as u32))
                    .collect();
                arrow59::compute::take(&ca, &arrow59::array::UInt32Array::from(idx), None)
                    .map_err(|e| e.to_string())?
            };
            let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
            if is_map {
                let DataType::Struct(kv) = cf.data_type().clone() else {
                    return Err(format!("column `{name}`: MAP without key/value"));
                };
                let kv = Fields::from(vec![
                    kv[0].as_ref().clone().with_name("key").with_nullable(false),
                    kv[1].as_ref().clone().with_name("value"),
                ]);
                let sa = values
                    .as_any()
                    .downcast_ref::<StructArray>()
                    .ok_or("map entries")?;
                let entries = StructArray::try_new(kv.clone(), sa.columns().to_vec(), None)
                    .map_err(|e| format!("column `{name}`: {e}"))?;
                let ef = Arc::new(Field::new("entries", DataType::Struct(kv), false));
                let a = MapArray::try_new(ef.clone(), offsets, entries, nulls, false)
                    .map_err(|e| format!("column `{name}`: {e}"))?;
                (Arc::new(a), DataType::Map(ef, false))
            } else {
                let f = Arc::new(cf.with_name("item"));
                let a = ListArray::try_new(f.clone(), offsets, values, nulls)
                    .map_err(|e| format!("column `{name}`: {e}"))?;
                (Arc::new(a), DataType::List(f))
            }
        }
        _ => {
            // SAFETY: `lt` is live.
            let t = unsafe { type_name(lt) };
            return Err(format!(
                "column `{name}` has type {t}, which Delta Lake cannot store; cast it (e.g. to VARCHAR, BIGINT or TIMESTAMP)"
            ));
        }
    };
    Ok((Field::new(name, dt, true), array))
}

/// # Safety
/// As [`data`].
unsafe fn widen<T: Copy + Into<i128>>(v: ffi::duckdb_vector, len: usize) -> Vec<i128> {
    // SAFETY: forwarded caller's contract.
    unsafe { data::<T>(v, len) }
        .iter()
        .map(|x| (*x).into())
        .collect()
}

/// Reads `duckdb_string_t` values (VARCHAR/BLOB) into Arrow offsets + bytes.
///
/// # Safety
/// `v` must be a live VARCHAR or BLOB vector of at least `len` rows.
unsafe fn strings(
    v: ffi::duckdb_vector,
    len: usize,
    nulls: Option<&NullBuffer>,
) -> (OffsetBuffer<i32>, Vec<u8>) {
    // SAFETY: forwarded caller's contract.
    let vals = unsafe { data::<ffi::duckdb_string_t>(v, len) };
    let mut offsets = Vec::with_capacity(len + 1);
    let mut bytes = Vec::new();
    offsets.push(0i32);
    for (i, s) in vals.iter().enumerate() {
        if nulls.is_none_or(|n| n.is_valid(i)) {
            // SAFETY: a valid row's string lives as long as the vector.
            bytes.extend_from_slice(unsafe { string_bytes(s) });
        }
        offsets.push(bytes.len() as i32);
    }
    (OffsetBuffer::new(ScalarBuffer::from(offsets)), bytes)
}
