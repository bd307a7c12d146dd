//! SQL bindings, one file per function.

pub mod medallion_chart;
