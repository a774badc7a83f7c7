//! The redb tables: names and key/value types in one place. Public (hidden) so that tests can
//! open the file directly and tamper with it the way an attacker would.

use redb::TableDefinition;

/// seq → the event record as JSON, exactly the spec's record (with `prev_hash` and `hash`).
pub const EVENTS: TableDefinition<u64, &str> = TableDefinition::new("events");
/// seq → blake3 keyed hash (the seal) of the record, with a key kept outside the database.
pub const SEALS: TableDefinition<u64, &[u8]> = TableDefinition::new("event_seals");
/// (unix microseconds of `at`, seq) → nothing: events by time. The three indexes are written
/// behind the log, up to `META[indexed]`.
pub const BY_TIME: TableDefinition<(i64, u64), ()> = TableDefinition::new("events_by_time");
/// (person id, seq) → nothing: a person's events.
pub const BY_PERSON: TableDefinition<(&str, u64), ()> = TableDefinition::new("events_by_person");
/// (door id, seq) → nothing: a door's events.
pub const BY_DOOR: TableDefinition<(&str, u64), ()> = TableDefinition::new("events_by_door");
/// seq → an `access` record's passage (`crate::passage`): what reports read of it, in a few
/// dozen bytes. Written behind the log with the indexes, from `META[passages_from]` on.
pub const PASSAGES: TableDefinition<u64, &[u8]> = TableDefinition::new("passages");
/// import key (`crate::import::import_key`, 16 bytes) → seq of the imported record: each swipe
/// record from another system is appended once, however often its file is imported.
pub const IMPORTED: TableDefinition<&[u8], u64> = TableDefinition::new("imported_swipes");
/// issuer → highest accepted command counter.
pub const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("command_counters");
/// Log bookkeeping: `head` (the sealed last seq and hash), `site`.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Durable outbox cursors by name.
pub const CURSORS: TableDefinition<&str, u64> = TableDefinition::new("cursors");
/// Estate data as JSON by id.
pub const HOUSEHOLDS: TableDefinition<&str, &str> = TableDefinition::new("households");
pub const PEOPLE: TableDefinition<&str, &str> = TableDefinition::new("people");
pub const PASSES: TableDefinition<&str, &str> = TableDefinition::new("passes");
/// Small whole-table state as JSON: `lockdowns`, `fire_zones`.
pub const STATE: TableDefinition<&str, &str> = TableDefinition::new("state");

/// The database file inside the data directory.
pub const FILE_NAME: &str = "gatehouse.redb";
/// The `META` key of the sealed head.
pub const HEAD: &str = "head";
/// The `META` key of the highest seq the indexes cover (8 bytes, big-endian); see `index`.
pub const INDEXED: &str = "indexed";
/// The `META` key of the first seq the passage projection covers (8 bytes, big-endian): a
/// database written before the projection existed has it set past its records when it opens.
pub const PASSAGES_FROM: &str = "passages_from";
/// The `META` key of the store's schema version (4 bytes, big-endian); see `schema`.
pub const SCHEMA: &str = "schema";
