//! Support of the root package's tests that only they can have: the gatehouse binary they
//! were built with, and the daemon of this package run in process. The rest is in
//! `gatehouse_testkit`.
#![allow(dead_code)] // each test uses the part it needs

pub mod cli;
pub mod daemon;
pub mod district;
