//! The shared test estates, each a named fixture: where two tests used the same estate there is
//! one copy here; an estate that tests depend on being different keeps its own name.
//!
//! - [`decisions`]: the core's decision estate (every verify mode, schedules, passes in every
//!   state, a visitor).
//! - [`north`]: the MQTT tests' north estate (readers driven over MQTT, the office issuer).
//! - [`console`]: the web console's estate (guarded gates, a card+phone unit door).
//! - [`one_gate`]: the runtime's estate of one gate into one building, with one resident or a
//!   crowd.
//! - [`court`]: a daemon's estate of one court behind one MQTT-driven gate.
//! - [`modbus`]: the Modbus acceptance tests' doors around their controllers.

pub mod console;
pub mod court;
pub mod decisions;
pub mod modbus;
pub mod north;
pub mod one_gate;

use gatehouse_core::estate::{Household, Pass, PassStatus};

/// A card pass `id` of `holder` for `card` (hex), in `status`, for all time.
pub fn card_pass(id: &str, card: &str, holder: &str, status: PassStatus) -> Pass {
    Pass {
        status,
        ..Pass::card(id, card.parse().expect("a test card number"), holder)
    }
}

/// A household of `zone` with the default tenure.
pub fn household(id: &str, zone: &str) -> Household {
    Household {
        id: id.into(),
        zone: zone.into(),
        tenure: Default::default(),
    }
}
