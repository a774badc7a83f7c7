//! The simulators' line protocol, shared by `gatehouse sim controller --script` and the
//! benchmark: one command per line, applied to the controller with the given index.
//!
//! ```text
//! open I CH | close I CH | exit I CH | tamper I CH on|off
//! card I READER CARDHEX [PIN] | fire I on|off | silent I on|off | slow I MS|off
//! ```

use super::SimController;
use std::sync::Arc;

/// Applies one line to `sims`; the error says what to write instead.
pub fn apply(sims: &[Arc<SimController>], line: &str) -> Result<(), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&command, rest)) = words.split_first() else {
        return Ok(());
    };
    let sim = rest
        .first()
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| sims.get(i))
        .ok_or_else(|| {
            format!(
                "'{line}': give the controller's index (0..{}) after the command",
                sims.len()
            )
        })?;
    let arg = |i: usize| {
        rest.get(i)
            .copied()
            .ok_or_else(|| format!("'{line}': argument {i} is missing"))
    };
    let num = |i: usize| {
        arg(i)?
            .parse::<u16>()
            .map_err(|_| format!("'{line}': argument {i} is not a number"))
    };
    let on = |i: usize| Ok::<bool, String>(arg(i)? == "on");
    let done = match command {
        "open" => sim.open_door(num(1)?),
        "close" => sim.close_door(num(1)?),
        "exit" => sim.press_exit(num(1)?),
        "tamper" => sim.set_tamper(num(1)?, on(2)?),
        "fire" => sim.set_fire(on(1)?),
        "card" => {
            let card = u32::from_str_radix(arg(2)?, 16)
                .map_err(|_| format!("'{line}': the card is hex, like 04A1B2C3"))?;
            sim.read_card(num(1)?, card, rest.get(3).copied())
        }
        "silent" => {
            sim.set_silent(on(1)?);
            Ok(())
        }
        "slow" => {
            sim.set_slow(
                arg(1)?
                    .parse::<u64>()
                    .ok()
                    .map(std::time::Duration::from_millis),
            );
            Ok(())
        }
        other => {
            return Err(format!(
                "unknown command '{other}': use open, close, exit, tamper, card, fire, silent or slow"
            ));
        }
    };
    done.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Profiles;

    #[test]
    fn lines_drive_the_simulator_and_mistakes_say_what_to_write() {
        let sims = [SimController::new(
            Profiles::builtin()
                .get("reader-controller")
                .unwrap()
                .clone(),
        )];
        apply(&sims, "open 0 2").unwrap();
        apply(&sims, "card 0 1 04A1B2C3 5678").unwrap();
        assert!(apply(&sims, "open 3 0").unwrap_err().contains("index"));
        assert!(apply(&sims, "card 0 1 XYZ").unwrap_err().contains("hex"));
        assert!(
            apply(&sims, "exit 0 0")
                .unwrap_err()
                .contains("exit button"),
            "reader-controller has none"
        );
        assert!(
            apply(&sims, "dance 0")
                .unwrap_err()
                .contains("unknown command")
        );
    }
}
