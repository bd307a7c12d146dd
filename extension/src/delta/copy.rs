//! `COPY (SELECT t FROM (SELECT ...) t) TO 'lake/x' (FORMAT delta, MODE 'append', ...)`:
//! the COPY form of `delta_write`, for tools that speak COPY and for databases
//! that run with `enable_external_access = false` (COPY sees the client
//! context, so it is refused there; the aggregate cannot see it).
//!
//! C API v1 gives a COPY function the column types but not their names, so
//! the row must arrive as ONE STRUCT column (`SELECT t FROM (...) t`), whose
//! field names become the table's column names. Options are `delta_write`'s,
//! except that partitions are `PARTITION_COLUMNS` (DuckDB keeps `PARTITION_BY`
//! for itself). Sinks write through one shared writer; finalize commits once.
//! Unlike the aggregate, COPY knows the path and the row type at bind, so a
//! query with no rows still overwrites (empties) a table or creates it.

use std::ffi::{c_void, CStr, CString};
use std::sync::{Arc, Mutex};

use arrow59::array::AsArray;
use arrow59::datatypes::{DataType, Schema, SchemaRef};
use arrow59::record_batch::RecordBatch;
use duckdb::ffi;

use super::options;
use super::table::err;
use super::writer::Session;
use crate::duck::chunk_arrow::vector_to_arrow;
use crate::duck::raw::{take_c_string, RawConnection};
use crate::error::{guard, Error, Result};

pub const NAME: &str = "COPY TO (FORMAT delta)";

struct Bind {
    options: options::WriteOptions,
    /// The row STRUCT's fields: a query with no rows still has a schema,
    /// so `MODE 'overwrite'` can empty a table and a new table can be created.
    schema: SchemaRef,
}

struct Global {
    path: String,
    options: options::WriteOptions,
    schema: SchemaRef,
    session: Mutex<Option<Session>>,
}

/// The Arrow schema of a STRUCT logical type: converts an empty vector of it.
unsafe fn struct_schema(lt: ffi::duckdb_logical_type) -> Result<SchemaRef> {
    unsafe {
        let mut types = [lt];
        let mut chunk = ffi::duckdb_create_data_chunk(types.as_mut_ptr(), 1);
        let converted = vector_to_arrow(ffi::duckdb_data_chunk_get_vector(chunk, 0), 0, "row");
        ffi::duckdb_destroy_data_chunk(&mut chunk);
        let (_, row) = converted.map_err(|m| err(NAME, "", m))?;
        match row.data_type() {
            DataType::Struct(fields) => Ok(Arc::new(Schema::new(fields.clone()))),
            other => Err(err(NAME, "", format!("expected a STRUCT row, got {other}"))),
        }
    }
}

unsafe extern "C" fn drop_box<T>(p: *mut c_void) {
    if !p.is_null() {
        drop(unsafe { Box::from_raw(p as *mut T) });
    }
}

fn c(msg: &Error) -> CString {
    CString::new(msg.to_string().replace('\0', " ")).unwrap_or_default()
}

unsafe fn value_text(v: ffi::duckdb_value) -> Option<String> {
    if v.is_null() || unsafe { ffi::duckdb_is_null_value(v) } {
        return None;
    }
    Some(unsafe { take_c_string(ffi::duckdb_get_varchar(v)) })
}

unsafe extern "C" fn bind(info: ffi::duckdb_copy_function_bind_info) {
    let r = guard(NAME, || unsafe {
        let mut ctx = ffi::duckdb_copy_function_bind_get_client_context(info);
        let allowed = crate::access::read(ctx);
        ffi::duckdb_destroy_client_context(&mut ctx);
        if !allowed {
            return Err(err(NAME, "", crate::access::REFUSAL));
        }
        let ncols = ffi::duckdb_copy_function_bind_get_column_count(info);
        let mut lt = ffi::duckdb_copy_function_bind_get_column_type(info, 0);
        let is_struct = ffi::duckdb_get_type_id(lt) == ffi::DUCKDB_TYPE_DUCKDB_TYPE_STRUCT;
        let schema = if ncols == 1 && is_struct {
            Some(struct_schema(lt))
        } else {
            None
        };
        ffi::duckdb_destroy_logical_type(&mut lt);
        let Some(schema) = schema else {
            return Err(Error::InvalidArgument {
                function: NAME,
                argument: "query",
                reason: "DuckDB does not pass column names to COPY functions: select the row as one STRUCT, \
                         e.g. COPY (SELECT t FROM (SELECT ...) t) TO 'lake/x' (FORMAT delta)"
                    .into(),
            });
        };
        let schema = schema?;
        let mut opts = ffi::duckdb_copy_function_bind_get_options(info);
        let mut pairs = Vec::new();
        if !opts.is_null() {
            // Owned by the value: not destroyed here.
            let ty = ffi::duckdb_get_value_type(opts);
            let n = ffi::duckdb_struct_type_child_count(ty);
            for i in 0..n {
                let key = take_c_string(ffi::duckdb_struct_type_child_name(ty, i));
                let key = if key.eq_ignore_ascii_case("partition_columns") {
                    "partition_by".to_string()
                } else {
                    key
                };
                if key.eq_ignore_ascii_case("format") {
                    continue;
                }
                let mut child = ffi::duckdb_get_struct_child(opts, i);
                pairs.push((key, value_text(child)));
                ffi::duckdb_destroy_value(&mut child);
            }
            ffi::duckdb_destroy_value(&mut opts);
        }
        let options = options::from_text(pairs).map_err(|m| err(NAME, "", m))?;
        let b = Box::new(Bind { options, schema });
        ffi::duckdb_copy_function_bind_set_bind_data(
            info,
            Box::into_raw(b) as *mut c_void,
            Some(drop_box::<Bind>),
        );
        Ok(())
    });
    if let Err(e) = r {
        unsafe { ffi::duckdb_copy_function_bind_set_error(info, c(&e).as_ptr()) };
    }
}

unsafe extern "C" fn global_init(info: ffi::duckdb_copy_function_global_init_info) {
    let r = guard(NAME, || unsafe {
        let bind = &*(ffi::duckdb_copy_function_global_init_get_bind_data(info) as *const Bind);
        let path = CStr::from_ptr(ffi::duckdb_copy_function_global_init_get_file_path(info))
            .to_string_lossy()
            .into_owned();
        let g = Box::new(Global {
            path,
            options: bind.options.clone(),
            schema: bind.schema.clone(),
            session: Mutex::new(None),
        });
        ffi::duckdb_copy_function_global_init_set_global_state(
            info,
            Box::into_raw(g) as *mut c_void,
            Some(drop_box::<Global>),
        );
        Ok(())
    });
    if let Err(e) = r {
        unsafe { ffi::duckdb_copy_function_global_init_set_error(info, c(&e).as_ptr()) };
    }
}

unsafe extern "C" fn sink(
    info: ffi::duckdb_copy_function_sink_info,
    input: ffi::duckdb_data_chunk,
) {
    let r = guard(NAME, || unsafe {
        let g = &*(ffi::duckdb_copy_function_sink_get_global_state(info) as *const Global);
        let len = ffi::duckdb_data_chunk_get_size(input) as usize;
        if len == 0 {
            return Ok(());
        }
        let (_, row) = vector_to_arrow(ffi::duckdb_data_chunk_get_vector(input, 0), len, "row")
            .map_err(|m| err(NAME, &g.path, m))?;
        let DataType::Struct(fields) = row.data_type().clone() else {
            return Err(err(NAME, &g.path, "expected a STRUCT row"));
        };
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            row.as_struct().columns().to_vec(),
        )
        .map_err(|e| err(NAME, &g.path, e))?;
        let mut s = g.session.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_none() {
            *s = Some(Session::start(&g.path, g.options.clone(), batch.schema())?);
        }
        s.as_mut().expect("session").write(batch)
    });
    if let Err(e) = r {
        unsafe { ffi::duckdb_copy_function_sink_set_error(info, c(&e).as_ptr()) };
    }
}

unsafe extern "C" fn finalize(info: ffi::duckdb_copy_function_finalize_info) {
    let r = guard(NAME, || unsafe {
        let g = &*(ffi::duckdb_copy_function_finalize_get_global_state(info) as *const Global);
        let session = g.session.lock().unwrap_or_else(|p| p.into_inner()).take();
        // No rows reached a sink: still commit what an empty write means
        // (an overwrite empties the table; a missing table is created).
        let session = match session {
            Some(s) => s,
            None => Session::start(&g.path, g.options.clone(), g.schema.clone())?,
        };
        session.commit()?;
        Ok(())
    });
    if let Err(e) = r {
        unsafe { ffi::duckdb_copy_function_finalize_set_error(info, c(&e).as_ptr()) };
    }
}

/// Registers `FORMAT delta` for COPY TO.
pub fn register(con: &RawConnection) -> Result<()> {
    let name = CString::new("delta").expect("name");
    unsafe {
        let mut f = ffi::duckdb_create_copy_function();
        ffi::duckdb_copy_function_set_name(f, name.as_ptr());
        ffi::duckdb_copy_function_set_bind(f, Some(bind));
        ffi::duckdb_copy_function_set_global_init(f, Some(global_init));
        ffi::duckdb_copy_function_set_sink(f, Some(sink));
        ffi::duckdb_copy_function_set_finalize(f, Some(finalize));
        let state = ffi::duckdb_register_copy_function(con.0, f);
        ffi::duckdb_destroy_copy_function(&mut f);
        if state != ffi::DuckDBSuccess {
            return Err(Error::Register {
                name: "COPY (FORMAT delta)",
                source: duckdb::Error::DuckDBFailure(ffi::Error::new(state), None),
            });
        }
    }
    Ok(())
}
