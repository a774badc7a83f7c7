//! Importing records from other systems' files: residents (CSV or XLSX).
//!
//! - [`columns`]: the residents file's columns and role words, in English and Chinese.
//! - [`table`]: reading a CSV or XLSX file into rows of text.
//! - [`plan`]: rows + configuration + stored data → changes to write, or every bad row (pure).
//! - [`residents`]: the import itself: file → plan → store, all or nothing.
//! - [`upload`]: a console upload, private on disk while imported and deleted after.

pub mod columns;
pub mod plan;
pub mod residents;
pub mod table;
pub mod upload;
