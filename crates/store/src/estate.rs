//! Estate data (households, people, passes) and the small state that must survive a restart
//! (lockdowns, fire zones awaiting acknowledgement, doors held open, command counters).

use crate::chain::decode;
use crate::errors::{StoreError, fail};
use crate::tables;
use gatehouse_core::Restored;
use gatehouse_core::estate::{EstateData, Household, Pass, Person};
use gatehouse_core::io::Save;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

type JsonTable = TableDefinition<'static, &'static str, &'static str>;

/// Every household, person and pass.
pub(crate) fn load(d: &Database) -> Result<EstateData, StoreError> {
    let what = "read the estate data";
    let txn = d.begin_read().map_err(fail(what))?;
    Ok(EstateData {
        households: all(&txn, tables::HOUSEHOLDS, "households")?,
        people: all(&txn, tables::PEOPLE, "people")?,
        passes: all(&txn, tables::PASSES, "passes")?,
    })
}

fn all<T: DeserializeOwned>(
    txn: &redb::ReadTransaction,
    def: JsonTable,
    name: &'static str,
) -> Result<Vec<T>, StoreError> {
    let what = "read the estate data";
    let table = txn.open_table(def).map_err(fail(what))?;
    let mut out = Vec::new();
    for row in table.iter().map_err(fail(what))? {
        let (k, v) = row.map_err(fail(what))?;
        out.push(
            serde_json::from_str(v.value()).map_err(|e| StoreError::Corrupt {
                table: name,
                key: k.value().to_string(),
                problem: e.to_string(),
            })?,
        );
    }
    Ok(out)
}

/// Upserts everything in `data` in one transaction: all of it is written or none.
pub(crate) fn put(d: &Database, data: &EstateData) -> Result<(), StoreError> {
    let what = "save the estate data";
    let txn = d.begin_write().map_err(fail(what))?;
    put_records(
        &txn,
        data.households.iter(),
        data.people.iter(),
        data.passes.iter(),
    )?;
    txn.commit().map_err(fail(what))
}

/// Upserts households, people and passes in `txn`.
fn put_records<'a>(
    txn: &WriteTransaction,
    households: impl Iterator<Item = &'a Household>,
    people: impl Iterator<Item = &'a Person>,
    passes: impl Iterator<Item = &'a Pass>,
) -> Result<(), StoreError> {
    upsert(
        txn,
        tables::HOUSEHOLDS,
        households.map(|h| (h.id.as_str(), h)),
    )?;
    upsert(txn, tables::PEOPLE, people.map(|p| (p.id.as_str(), p)))?;
    upsert(txn, tables::PASSES, passes.map(|p| (p.id.as_str(), p)))
}

fn upsert<'a, T: Serialize + 'a>(
    txn: &WriteTransaction,
    def: JsonTable,
    rows: impl Iterator<Item = (&'a str, &'a T)>,
) -> Result<(), StoreError> {
    let what = "save the estate data";
    let mut table = txn.open_table(def).map_err(fail(what))?;
    for (id, row) in rows {
        let json = serde_json::to_string(row).expect("estate data always serialises");
        table.insert(id, json.as_str()).map_err(fail(what))?;
    }
    Ok(())
}

/// Persists one piece of changed state.
pub(crate) fn apply(d: &Database, save: &Save) -> Result<(), StoreError> {
    let what = "save state";
    let txn = d.begin_write().map_err(fail(what))?;
    match save {
        Save::Pass(pass) => upsert(
            &txn,
            tables::PASSES,
            std::iter::once((pass.id.as_str(), &**pass)),
        )?,
        Save::Person(person) => upsert(
            &txn,
            tables::PEOPLE,
            std::iter::once((person.id.as_str(), &**person)),
        )?,
        Save::Lockdowns(all) => upsert(&txn, tables::STATE, std::iter::once((LOCKDOWNS, all)))?,
        Save::FireZones(all) => upsert(&txn, tables::STATE, std::iter::once((FIRE_ZONES, all)))?,
        Save::Holds(all) => upsert(&txn, tables::STATE, std::iter::once((HOLDS, all)))?,
        Save::Estate(data) => put_records(
            &txn,
            data.households.iter().map(|h| &**h),
            data.people.iter().map(|p| &**p),
            data.passes.iter().map(|p| &**p),
        )?,
    }
    txn.commit().map_err(fail(what))
}

const LOCKDOWNS: &str = "lockdowns";
const FIRE_ZONES: &str = "fire_zones";
const HOLDS: &str = "holds";

/// What the core needs back at start-up; `recent_events` are those at or after `since`.
pub(crate) fn restored(d: &Database, since: jiff::Timestamp) -> Result<Restored, StoreError> {
    let what = "read the state to restore";
    let txn = d.begin_read().map_err(fail(what))?;
    let state = txn.open_table(tables::STATE).map_err(fail(what))?;
    let lockdowns = whole_table(&state, LOCKDOWNS)?;
    let fire_zones = whole_table(&state, FIRE_ZONES)?;
    let holds = whole_table(&state, HOLDS)?;
    let counters = txn.open_table(tables::COUNTERS).map_err(fail(what))?;
    let mut command_counters = Vec::new();
    for row in counters.iter().map_err(fail(what))? {
        let (k, v) = row.map_err(fail(what))?;
        command_counters.push((k.value().to_string(), v.value()));
    }
    let index = txn.open_table(tables::BY_TIME).map_err(fail(what))?;
    let events = txn.open_table(tables::EVENTS).map_err(fail(what))?;
    let mut recent_events = Vec::new();
    for row in index
        .range((since.as_microsecond(), 0u64)..)
        .map_err(fail(what))?
    {
        let (micros, seq) = row.map_err(fail(what))?.0.value();
        // A damaged record is left out (verify reports it); the gateway starts without it.
        match crate::chain::raw(&events, seq).map(|v| v.map(|json| decode(seq, &json))) {
            Ok(Some(Ok(event))) => recent_events.push((micros, seq, event)),
            Ok(None) => {}
            Ok(Some(Err(e))) => tracing::warn!(seq, error = %e, "Skipping a damaged record."),
            Err(problem) => tracing::warn!(seq, %problem, "Skipping a damaged record."),
        }
    }
    // Records after the index's watermark are read from the log itself.
    let (_, tail) = crate::index::tail(&txn)?;
    for (seq, event) in tail {
        let micros = crate::index::micros_of(seq, &event)?;
        if micros >= since.as_microsecond() {
            recent_events.push((micros, seq, event));
        }
    }
    // Oldest first, as the index gives them; tail records go where their time puts them.
    recent_events.sort_by_key(|(micros, seq, _)| (*micros, *seq));
    let recent_events = recent_events.into_iter().map(|(_, _, e)| e).collect();
    Ok(Restored {
        lockdowns,
        fire_zones,
        holds,
        command_counters,
        recent_events,
        ..Restored::default()
    })
}

/// A whole table kept as one JSON value in `STATE` (empty if never saved).
fn whole_table<T: DeserializeOwned>(
    state: &redb::ReadOnlyTable<&'static str, &'static str>,
    key: &'static str,
) -> Result<Vec<T>, StoreError> {
    let Some(json) = state.get(key).map_err(fail("read the state to restore"))? else {
        return Ok(Vec::new());
    };
    serde_json::from_str(json.value()).map_err(|e| StoreError::Corrupt {
        table: "state",
        key: key.into(),
        problem: e.to_string(),
    })
}
