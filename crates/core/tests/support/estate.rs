//! The decision estate for the core's unit tables under `src/` (they `#[path]` this file). They
//! are compiled inside the core itself and so cannot link the testkit (which links the core);
//! they compile its one copy, `gatehouse_testkit::estate::decisions`, from its source instead.
//! Everything else uses the testkit.
#[path = "../../../testkit/src/estate/decisions.rs"]
mod decisions;
pub use decisions::*;
