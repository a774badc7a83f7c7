//! One trial of the inference, in memory: simulate an estate with one of the two simulators,
//! hand the swipes to the inference the way an office's imports would (optionally in shuffled
//! chunks with some records twice), and score the report against the truth. The tables of
//! docs/occupancy.md are made of these (`gatehouse eval table`), and so is the test that
//! checks the inference on a small estate.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::eval::{self, Scores};
use crate::simulate::episodes::Episodes;
use crate::simulate::{SimConfig, Simulation, Swipe, Truth, event};
use crate::{Method, Occupancy, Report};

/// Which simulator makes the estate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simulator {
    /// Per-person daily routines (`simulate`).
    Routines,
    /// Activity episodes drawn from time-of-day hazards (`simulate::episodes`).
    Episodes,
}

impl Simulator {
    pub fn as_str(self) -> &'static str {
        match self {
            Simulator::Routines => "routines",
            Simulator::Episodes => "episodes",
        }
    }
}

impl std::str::FromStr for Simulator {
    type Err = String;
    fn from_str(s: &str) -> Result<Simulator, String> {
        match s {
            "routines" => Ok(Simulator::Routines),
            "episodes" => Ok(Simulator::Episodes),
            _ => Err(format!("unknown simulator '{s}': use routines or episodes")),
        }
    }
}

/// A simulated estate and what happened in it.
pub struct World {
    pub config: gatehouse_core::config::Config,
    pub estate: gatehouse_core::estate::EstateData,
    pub swipes: Vec<Swipe>,
    pub truth: Truth,
    pub cfg: SimConfig,
}

/// Seeds as the evaluation examples take them: a comma-separated list of seeds and
/// inclusive ranges (`42,7`, `2000-2029`).
pub fn seeds(arg: &str) -> Result<Vec<u64>, String> {
    let number = |s: &str| {
        s.trim().parse::<u64>().map_err(|_| {
            format!("'{s}' is not a seed: give numbers and ranges, e.g. 42,7 or 2000-2029")
        })
    };
    let mut out = Vec::new();
    for part in arg.split(',') {
        match part.split_once('-') {
            Some((a, b)) => out.extend(number(a)?..=number(b)?),
            None => out.push(number(part)?),
        }
    }
    Ok(out)
}

/// Runs `which` on `cfg`.
pub fn world(which: Simulator, cfg: SimConfig) -> World {
    let mut swipes = Vec::new();
    let mut sink = |s: &Swipe| swipes.push(*s);
    let (config, estate, truth) = match which {
        Simulator::Routines => {
            let mut sim = Simulation::new(cfg.clone());
            let truth = sim.run(&mut sink);
            (sim.config, sim.estate, truth)
        }
        Simulator::Episodes => {
            let mut sim = Episodes::new(cfg.clone());
            let truth = sim.run(&mut sink);
            (sim.config, sim.estate, truth)
        }
    };
    World {
        config,
        estate,
        swipes,
        truth,
        cfg,
    }
}

/// The report `method` makes of `world`'s swipes. With `messy`, the swipes arrive as an
/// office's imports might: in chunks of a few days in shuffled order, 2 % of them twice.
pub fn report(world: &World, method: Method, messy: bool) -> Report {
    let tz = jiff::tz::TimeZone::get(&world.cfg.timezone).expect("the simulator's time zone");
    let mut occ = Occupancy::new(&world.config, &world.estate, world.cfg.window(), method)
        .expect("the simulator's estate is valid");
    let mut order: Vec<&[Swipe]> = world.swipes.chunks(4096).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(world.cfg.seed ^ 0x5eed);
    if messy {
        order.shuffle(&mut rng);
    }
    for chunk in order {
        for s in chunk {
            let e = event(&world.config, &world.estate, s, &tz);
            occ.observe(&e);
            if messy && rng.random_bool(0.02) {
                occ.observe(&e);
            }
        }
    }
    occ.finish()
}

/// Scores `method` on `world`.
pub fn score(world: &World, method: Method, messy: bool) -> Scores {
    eval::score(&world.truth, &report(world, method, messy))
}

#[cfg(test)]
mod tests {
    #[test]
    fn seeds_are_lists_and_ranges_and_a_bad_one_is_named() {
        assert_eq!(super::seeds("42,7").unwrap(), vec![42, 7]);
        assert_eq!(super::seeds("5-7,1").unwrap(), vec![5, 6, 7, 1]);
        let err = super::seeds("42,x7").unwrap_err();
        assert!(err.contains("'x7' is not a seed"), "{err}");
    }
}
