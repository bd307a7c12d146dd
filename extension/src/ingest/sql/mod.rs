//! The ingest SQL functions: one file per function, each parsing its
//! arguments, checking external access, calling the ingest core and writing
//! Arrow columns; errors get the function's name here.

pub mod landing_files;
pub mod landing_lines;
