//! Importing records from other systems' files: residents (CSV or XLSX).
//!
//! - [`text`]: decoding CSV bytes (UTF-8, UTF-16, GBK/GB18030) and folding full-width cells.
//! - [`columns`]: the residents file's columns, their other names, and the role words.
//! - [`table`]: reading a CSV or XLSX file into records of text.
//! - [`header`]: the header row below titles, the columns it names, records → rows.
//! - [`household`]: household codes and the zones (building, unit) they live in.
//! - [`plan`]: rows + configuration + stored data → changes to write, or every bad row (pure).
//! - [`residents`]: the import itself: file → plan → store, all or nothing.
//! - [`upload`]: a console upload, private on disk while imported and deleted after.

pub mod columns;
pub mod header;
pub mod household;
pub mod plan;
pub mod residents;
pub mod table;
pub mod text;
pub mod upload;
