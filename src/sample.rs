//! The sample estate shipped in `config/`: built into the binary so `gatehouse demo` needs no
//! files, and generated from a seed by `gatehouse sample generate` so it can be remade.
//!
//! - [`estate`]: the layout (areas, buildings, gates, controllers) and its configuration file.
//! - [`residents`]: households and residents, written as CSV and XLSX.
//! - [`names`]: Chinese names, fake phone numbers, card numbers.

mod estate;
mod names;
mod residents;

use base64::Engine;
use rand::SeedableRng;
use std::path::Path;

pub use residents::Resident;

/// The sample estate's configuration.
pub const CONFIG: &str = include_str!("../config/estate.toml");

/// The seed the shipped sample was generated with.
pub const SEED: u64 = 7;

/// The demo office's Ed25519 secret key. It is public on purpose: it lets the demo and the
/// tests sign office commands. Never use it for a real estate.
pub const DEMO_OFFICE_SECRET: [u8; 32] = *b"gatehouse-demo-office-1-secret!!";

/// The generated sample: configuration text, residents, and the demo office key.
pub struct Sample {
    pub config: String,
    pub residents: Vec<Resident>,
    /// Base64 of [`DEMO_OFFICE_SECRET`], the content of `demo-office.key`.
    pub office_secret: String,
}

/// Generates the sample estate; the same seed gives the same estate.
pub fn generate(seed: u64) -> Sample {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let layout = estate::layout(&mut rng);
    let key = ed25519_dalek::SigningKey::from_bytes(&DEMO_OFFICE_SECRET);
    let b64 = base64::engine::general_purpose::STANDARD;
    let public = b64.encode(key.verifying_key().to_bytes());
    Sample {
        config: estate::config_toml(&layout, seed, &public),
        residents: residents::residents(&mut rng, &layout),
        office_secret: b64.encode(DEMO_OFFICE_SECRET),
    }
}

/// Writes `estate.toml`, `residents.csv`, `residents.xlsx` and `demo-office.key` into `dir`.
pub fn write(sample: &Sample, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("estate.toml"), &sample.config)?;
    residents::write_csv(&dir.join("residents.csv"), &sample.residents)?;
    residents::write_xlsx(&dir.join("residents.xlsx"), &sample.residents)?;
    std::fs::write(
        dir.join("demo-office.key"),
        format!("{}\n", sample.office_secret),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_shipped_sample_is_what_the_generator_makes() {
        // If this fails, run `gatehouse sample generate --seed 7 --out config/` and commit.
        assert!(
            generate(SEED).config == CONFIG,
            "config/estate.toml is out of date with the generator"
        );
    }

    #[test]
    fn the_sample_has_the_size_of_an_old_quarter() {
        let cfg = crate::config::parse(CONFIG, "estate.toml").unwrap_or_else(|e| panic!("{e}"));
        let kind = |k| cfg.zones.iter().filter(|z| z.kind == Some(k)).count();
        use gatehouse_core::config::{DoorKind, Verify, ZoneKind};
        assert_eq!(kind(ZoneKind::Area), 3);
        assert!(kind(ZoneKind::Building) >= 20);
        let gates: Vec<_> = cfg
            .doors
            .iter()
            .filter(|d| d.outside == "outside")
            .collect();
        assert_eq!(gates.len(), 12);
        assert_eq!(
            gates.iter().filter(|d| d.verify != Verify::Card).count(),
            3,
            "3 guarded checkpoints"
        );
        assert_eq!(
            gates.iter().filter(|d| d.schedule.is_none()).count(),
            1,
            "one gate open at night"
        );
        let units = cfg
            .doors
            .iter()
            .filter(|d| d.kind == DoorKind::Unit)
            .count();
        assert_eq!(units, kind(ZoneKind::Unit), "one door per unit entrance");
        let profiles: HashSet<_> = cfg.controllers.iter().map(|c| c.profile.as_str()).collect();
        assert_eq!(profiles.len(), 3);
        assert_eq!(cfg.fire_inputs.len(), 3);

        let sample = generate(SEED);
        let households: HashSet<_> = sample.residents.iter().map(|r| &r.household).collect();
        assert!(
            (1_800..=2_300).contains(&households.len()),
            "{} households",
            households.len()
        );
        assert!(
            (4_500..=5_800).contains(&sample.residents.len()),
            "{} residents",
            sample.residents.len()
        );
        let cards: Vec<_> = sample
            .residents
            .iter()
            .filter_map(|r| r.card.as_ref())
            .collect();
        assert_eq!(
            cards.iter().collect::<HashSet<_>>().len(),
            cards.len(),
            "cards are unique"
        );
        for r in &sample.residents {
            assert_eq!(
                gatehouse_core::phone::normalize(&r.phone).as_deref(),
                Ok(r.phone.as_str())
            );
        }
    }

    #[test]
    fn the_demo_key_pair_matches_the_issuer() {
        let cfg = crate::config::parse(CONFIG, "estate.toml").unwrap_or_else(|e| panic!("{e}"));
        let public = ed25519_dalek::SigningKey::from_bytes(&DEMO_OFFICE_SECRET).verifying_key();
        let b64 = base64::engine::general_purpose::STANDARD;
        assert_eq!(cfg.issuers[0].public_key, b64.encode(public.to_bytes()));
        let shipped = include_str!("../config/demo-office.key");
        assert_eq!(shipped.trim(), generate(SEED).office_secret);
    }

    #[test]
    fn different_seeds_give_different_estates() {
        assert!(generate(1).config != generate(2).config);
        assert!(generate(3).residents == generate(3).residents);
    }
}
