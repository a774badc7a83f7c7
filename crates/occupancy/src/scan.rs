//! Reading a long log for a report on more than one thread. Reading an event back from the
//! store (deserialising it, finding its pass, parsing its time) costs several times what the
//! inference does with it, and the inference must see events in log order. So reader threads
//! each take every `threads`-th chunk of seqs and turn its events into [`Seen`] values; the
//! calling thread takes the chunks back in order and feeds the inference. Each reader has a
//! channel of two chunks, so memory stays a few chunks per reader whatever the log's length.
//!
//! A report run by hand uses more readers than there are cores ([`readers`]): when the store
//! is not in the page cache, a reader spends most of its time waiting for the disk.

use std::sync::mpsc;

use gatehouse_core::passage::Scanned;

use crate::access::Seen;
use crate::infer::Occupancy;

/// Events per chunk handed from a reader to the inference.
pub const CHUNK: u64 = 32_768;

/// Fewest reader threads for a report run by hand (see [`readers`]).
pub const MIN_READERS: usize = 16;

/// Reader threads for a report run by hand: one per core, and at least [`MIN_READERS`].
///
/// A store that is not in the page cache is read a 4 KiB page at a time, and the pages of a
/// long log lie scattered through the file, so a reader mostly waits for the disk. A disk
/// answers many reads at once (a virtual disk above all), but it gets only as many as there
/// are readers waiting: on the 2-core benchmark machine, 16 readers read a cold 10 M-record
/// store in about half the time 2 did, and with the file cached they cost nothing
/// measurable (docs/benchmarks.md, "Occupancy"). Memory grows by three chunks per reader.
pub fn readers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .max(MIN_READERS)
}

/// Feeds `occ` the records with seqs `from..=to`. `read(a, b, f)` must call `f` on every
/// record with seq in `a..=b`, in order (`Store::scan`); it is called from `threads` threads
/// at once. The first error stops the scan and is returned.
pub fn observe_log<E: Send>(
    occ: &mut Occupancy,
    from: u64,
    to: u64,
    threads: usize,
    read: impl Fn(u64, u64, &mut dyn FnMut(Scanned<'_>)) -> Result<(), E> + Sync,
) -> Result<(), E> {
    observe_in_chunks(occ, from, to, threads, CHUNK, read)
}

fn observe_in_chunks<E: Send>(
    occ: &mut Occupancy,
    from: u64,
    to: u64,
    threads: usize,
    chunk: u64,
    read: impl Fn(u64, u64, &mut dyn FnMut(Scanned<'_>)) -> Result<(), E> + Sync,
) -> Result<(), E> {
    if to < from {
        return Ok(());
    }
    let threads = threads.max(1) as u64;
    let chunks = (to - from) / chunk + 1;
    let site = occ.site().clone();
    let site = &*site;
    std::thread::scope(|scope| {
        let mut inboxes = Vec::new();
        for w in 0..threads {
            let (tx, rx) = mpsc::sync_channel::<Result<Vec<Seen>, E>>(2);
            inboxes.push(rx);
            let read = &read;
            scope.spawn(move || {
                let mut c = w;
                while c < chunks {
                    let a = from + c * chunk;
                    let b = (a + chunk - 1).min(to);
                    let mut seen = Vec::with_capacity((b - a + 1) as usize);
                    let result = read(a, b, &mut |s| seen.push(site.scanned(s))).map(|()| seen);
                    let failed = result.is_err();
                    // The receiver has stopped (an error elsewhere): nothing more to do.
                    if tx.send(result).is_err() || failed {
                        return;
                    }
                    c += threads;
                }
            });
        }
        for c in 0..chunks {
            // A reader that ended without sending has sent its error before.
            let Ok(chunk) = inboxes[(c % threads) as usize].recv() else {
                break;
            };
            for seen in chunk? {
                occ.observe_seen(seen);
            }
        }
        // Dropping the inboxes stops readers still running after an error.
        drop(inboxes);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{SimConfig, Simulation, log};
    use crate::{Method, Report};
    use gatehouse_core::passage::Passage;

    #[test]
    fn reading_on_threads_makes_the_same_report_and_stops_at_an_error() {
        let mut sim = Simulation::new(SimConfig::new(30, 7, 5, 0.2));
        // A log: seqs from 1, as the store numbers them.
        let log = log(&mut sim);
        const SMALL: u64 = 64;
        assert!(
            log.len() as u64 > 10 * SMALL,
            "too few events to cross chunks"
        );
        let window = sim.cfg.window();
        let new = || Occupancy::new(&sim.config, &sim.estate, window, Method::Ours).unwrap();
        let mut one = new();
        for e in &log {
            one.observe(e);
        }
        let want: Report = one.finish();
        // Small chunks of the log through the same code path: read seqs a..=b.
        // Every third record as the store's projection gives it, the others as whole events.
        let read = |a: u64, b: u64, f: &mut dyn FnMut(Scanned<'_>)| -> Result<(), String> {
            for e in &log[(a - 1) as usize..(b as usize).min(log.len())] {
                let micros = e.timestamp().unwrap().as_microsecond();
                match Passage::of(e, micros) {
                    Some(p) if e.seq % 3 == 0 => f(Scanned::Passage(p)),
                    None if e.seq % 3 == 0 => f(Scanned::Other),
                    _ => f(Scanned::Event(e)),
                }
            }
            Ok(())
        };
        let mut many = new();
        observe_in_chunks(&mut many, 1, log.len() as u64, 3, SMALL, read).unwrap();
        let got = many.finish();
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&want).unwrap()
        );
        let failing = |a: u64, _: u64, _: &mut dyn FnMut(Scanned<'_>)| -> Result<(), String> {
            if a > SMALL {
                Err(format!("disk error at {a}"))
            } else {
                Ok(())
            }
        };
        let err = observe_in_chunks(&mut new(), 1, 30 * SMALL, 2, SMALL, failing).unwrap_err();
        assert_eq!(err, format!("disk error at {}", SMALL + 1));
    }
}
