//! The building grid: each building's households laid out floor by floor, room by room,
//! read from household ids of the form building-unit-FRR (`18-2-501`: unit 2, floor 5,
//! room 01). Ids in another form are listed after the grid rather than guessed at.

use std::collections::BTreeMap;

use crate::report::{HouseholdVerdict, Report};

/// One building: floors from the top down, columns "unit-room", and the cells.
pub struct BuildingGrid<'a> {
    pub building: String,
    pub columns: Vec<(u32, u32)>,
    /// floor → column → household.
    pub floors: BTreeMap<u32, BTreeMap<(u32, u32), &'a HouseholdVerdict>>,
    pub unplaced: Vec<&'a HouseholdVerdict>,
}

/// (unit, floor, room) from `b-u-FRR`.
pub fn place(id: &str) -> Option<(u32, u32, u32)> {
    let mut parts = id.rsplit('-');
    let room: u32 = parts.next()?.parse().ok()?;
    let unit: u32 = parts.next()?.parse().ok()?;
    (room >= 100).then_some((unit, room / 100, room % 100))
}

pub fn grids(report: &Report) -> Vec<BuildingGrid<'_>> {
    let mut by_building: BTreeMap<String, Vec<&HouseholdVerdict>> = BTreeMap::new();
    for h in &report.households {
        by_building
            .entry(h.building.clone().unwrap_or_else(|| "—".into()))
            .or_default()
            .push(h);
    }
    let mut out: Vec<BuildingGrid> = by_building
        .into_iter()
        .map(|(building, list)| {
            let mut floors: BTreeMap<u32, BTreeMap<(u32, u32), &HouseholdVerdict>> =
                BTreeMap::new();
            let mut unplaced = Vec::new();
            let mut columns = std::collections::BTreeSet::new();
            for h in list {
                match place(&h.household) {
                    Some((unit, floor, room)) => {
                        columns.insert((unit, room));
                        floors.entry(floor).or_default().insert((unit, room), h);
                    }
                    None => unplaced.push(h),
                }
            }
            BuildingGrid {
                building,
                columns: columns.into_iter().collect(),
                floors,
                unplaced,
            }
        })
        .collect();
    // Natural order: bldg-2 before bldg-10.
    out.sort_by_key(|g| {
        let digits: String = g.building.chars().filter(char::is_ascii_digit).collect();
        (
            digits.parse::<u64>().unwrap_or(u64::MAX),
            g.building.clone(),
        )
    });
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn places_building_unit_floor_room() {
        assert_eq!(super::place("18-2-501"), Some((2, 5, 1)));
        assert_eq!(super::place("3-1-1202"), Some((1, 12, 2)));
        assert_eq!(super::place("villa-7"), None);
    }
}
