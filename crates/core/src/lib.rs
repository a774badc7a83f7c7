//! gatehouse's core: the estate's rules with no I/O. Time is an argument, inputs come in,
//! outputs go out (`Core::handle(input, now) -> Vec<Output>`).
//!
//! - [`config`]: the estate's configuration file and its validation.
//! - [`estate`]: households, people, passes (the store's data).
//! - [`model`]: the estate indexed for lookups (zone tree, readers, cards).
//! - [`bounds`]: length limits on event fields (input must not make an event too large).
//! - [`event`]: the event record and its closed code lists; [`export`]: its one CSV shape.
//! - [`io`]: inputs, outputs and effects; write-ahead lives in their shape.
//! - [`core`]: the state owner that routes inputs.
//! - [`decide`]: access decisions in the order of the spec.
//! - [`doors`]: door states and supervision (forced, held open).
//! - [`lockdown`], [`fire`], [`presence`]: zone modes, fire release, who is inside.
//! - [`holds`]: doors the office holds open, until a time or until released.
//! - [`command`]: signed office commands and replay protection.
//! - [`admin`]: changes people make to estate data.
//! - [`card`]: card numbers, the one rule that makes a reader's and a spreadsheet's agree.
//! - [`phone`], [`time`]: phone numbers (masking, matching), time formatting, end of a day.
//! - [`actuation`]: unlocks that were granted but not carried out (`unlock_failed`).
//! - [`clock`]: the wall clock jumping against the monotonic clock (`alarm` `clock`).
//! - [`log_damage`]: damaged records found by the check of the whole log (`alarm` `log_damaged`).
//! - [`schedule`]: weekly windows and holidays; [`modes`]: a door's mode from the rules.
//! - [`quota`], [`phone_failures`], [`visitor`]: exit quotas, lent-pass detection, QR tokens.
//! - [`passage`]: what reports read of an access record (the store keeps it beside the log).

// Lets shared test fixtures name the crate the same way inside and outside it.
extern crate self as gatehouse_core;

pub mod actuation;
pub mod admin;
pub mod bounds;
pub mod card;
pub mod clock;
pub mod command;
pub mod config;
pub mod core;
pub mod decide;
pub mod directory;
pub mod doors;
pub mod estate;
pub mod event;
pub mod export;
pub mod fire;
pub mod holds;
pub mod io;
pub mod lockdown;
pub mod log_damage;
pub mod model;
pub mod modes;
pub mod passage;
pub mod phone;
pub mod phone_failures;
pub mod presence;
pub mod quota;
pub mod schedule;
pub mod time;
pub mod visitor;

pub use crate::card::{CardError, CardNumber};
pub use crate::core::{Core, CoreError, Restored};
pub use crate::event::{Decision, Direction, Event, Kind, Method, Reason};
pub use crate::io::{Effect, Input, Output};
