//! What a simulated controller accepts, as a device would: a write must land on one of the
//! profile's writable points of an existing channel (else exception 2, IllegalDataAddress),
//! and carry a value that point can hold (else exception 3, IllegalDataValue) — a release time
//! of 1..=`max` units for a `timed` unlock, 0 or 1 for a whole-word hold-open or lock.

use crate::profile::{Point, Profile, Table, Unlock};
use tokio_modbus::ExceptionCode;

/// The kind of writable point an address belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writable {
    /// A lock or hold-open point: a bit, or a whole word that is 0 or 1.
    Switch(Point),
    /// A device-timed unlock: N units of release time, 1..=max.
    Release { max: u16 },
}

/// Checks one write of `value` at `address` of `table` (`None` for a mask write, whose value
/// is a bit pattern checked by the device's bit logic).
pub(super) fn check_write(
    profile: &Profile,
    table: Table,
    address: u16,
    value: Option<u16>,
) -> Result<(), ExceptionCode> {
    let Some(kind) = writable_at(profile, table, address) else {
        return Err(ExceptionCode::IllegalDataAddress);
    };
    let Some(value) = value else {
        return Ok(());
    };
    let fits = match kind {
        Writable::Release { max } => (1..=max).contains(&value),
        Writable::Switch(point) => table.is_bits() || point.bit.is_some() || value <= 1,
    };
    if fits {
        Ok(())
    } else {
        Err(ExceptionCode::IllegalDataValue)
    }
}

fn writable_at(profile: &Profile, table: Table, address: u16) -> Option<Writable> {
    (0..profile.channels).find_map(|ch| {
        let at = |p: &Option<Point>| p.filter(|p| p.table == table && p.address(ch) == address);
        if let Some(point) = at(&profile.unlock_point) {
            return Some(match profile.unlock {
                Unlock::Timed { max, .. } => Writable::Release { max },
                Unlock::Pulse => Writable::Switch(point),
            });
        }
        at(&profile.lock)
            .or_else(|| at(&profile.hold_open))
            .map(Writable::Switch)
    })
}

/// The 32-bit PIN field of a card read: the digits as a number, or why they do not fit.
pub(super) fn pin_value(digits: &str) -> Result<u32, String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "a PIN is 1 to 10 digits 0-9; got {} characters that are not all digits",
            digits.chars().count()
        ));
    }
    digits.parse::<u32>().map_err(|_| {
        format!(
            "a PIN of {} digits does not fit the controller's 32-bit PIN field (at most 4294967295)",
            digits.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profiles;

    fn profile(name: &str) -> Profile {
        (**Profiles::builtin().get(name).unwrap()).clone()
    }

    #[test]
    fn a_timed_relay_refuses_release_times_it_cannot_hold() {
        let p = profile("timed-relay");
        let unlock = |ch: u16, v: u16| check_write(&p, Table::Holding, 0x0100 + ch, Some(v));
        assert_eq!(unlock(0, 1), Ok(()));
        assert_eq!(unlock(15, 600), Ok(()));
        for bad in [0, 601, 65535] {
            assert_eq!(
                unlock(3, bad),
                Err(ExceptionCode::IllegalDataValue),
                "{bad}"
            );
        }
        assert_eq!(unlock(16, 10), Err(ExceptionCode::IllegalDataAddress));
        let hold = |ch: u16, v: u16| check_write(&p, Table::Holding, 0x0200 + ch, Some(v));
        assert_eq!(hold(2, 1), Ok(()));
        assert_eq!(hold(2, 2), Err(ExceptionCode::IllegalDataValue));
        assert_eq!(hold(16, 1), Err(ExceptionCode::IllegalDataAddress));
        assert_eq!(
            check_write(&p, Table::Coil, 0, Some(1)),
            Err(ExceptionCode::IllegalDataAddress),
            "a timed relay has no coils"
        );
    }

    #[test]
    fn a_relay_board_takes_lock_coils_of_its_channels_only() {
        let p = profile("relay-io");
        assert_eq!(check_write(&p, Table::Coil, 3, Some(1)), Ok(()));
        assert_eq!(
            check_write(&p, Table::Coil, 4, Some(1)),
            Err(ExceptionCode::IllegalDataAddress)
        );
        assert_eq!(
            check_write(&p, Table::Holding, 0, Some(1)),
            Err(ExceptionCode::IllegalDataAddress)
        );
    }

    #[test]
    fn a_pin_must_fit_32_bits() {
        assert_eq!(pin_value("0078"), Ok(78));
        assert_eq!(pin_value("4294967295"), Ok(u32::MAX));
        assert!(pin_value("4294967296").is_err());
        assert!(pin_value("139000012345").is_err());
        assert!(pin_value("12a4").is_err());
        assert!(pin_value("").is_err());
    }
}
