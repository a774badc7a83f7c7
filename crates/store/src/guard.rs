//! The boundary between the store and redb on a damaged file.
//!
//! redb trusts its file: a changed byte in a value (`&str` values are decoded with an
//! `unwrap` of `from_utf8`) or in a page's layout can make it panic deep inside a read.
//! Every call the store makes into redb runs through [`contain`], which turns such a panic into
//! [`StoreError::Damaged`] naming what the store was doing, so that no damaged file makes a
//! command panic. The panic's own message goes to the log (`tracing`), not to standard error:
//! a hook installed once passes every other panic to the hook that was there before.

use crate::errors::StoreError;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Once;

thread_local! {
    /// How deep this thread is inside [`contain`] (nested calls are fine).
    static INSIDE: Cell<u32> = const { Cell::new(0) };
    /// The message of the last contained panic on this thread.
    static LAST: RefCell<String> = const { RefCell::new(String::new()) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if INSIDE.with(Cell::get) > 0 {
                let message = match info.payload().downcast_ref::<&str>() {
                    Some(s) => (*s).to_string(),
                    None => info
                        .payload()
                        .downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| "a panic without a message".into()),
                };
                let place = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST.with(|l| *l.borrow_mut() = format!("{message}{place}"));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside it (redb on a damaged file) becomes [`StoreError::Damaged`].
pub(crate) fn contain<T>(
    dir: &Path,
    what: &'static str,
    f: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    install_hook();
    INSIDE.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    INSIDE.with(|d| d.set(d.get() - 1));
    result.unwrap_or_else(|_| {
        let detail = LAST.with(|l| std::mem::take(&mut *l.borrow_mut()));
        tracing::error!(dir = %dir.display(), what, %detail, "The store file is damaged: redb failed while reading it.");
        Err(StoreError::Damaged {
            dir: dir.to_path_buf(),
            what,
            detail: format!("redb failed while decoding it: {detail}"),
        })
    })
}

/// [`contain`] for a value that cannot fail otherwise: `None` if reading it panicked.
pub(crate) fn value<T>(f: impl FnOnce() -> T) -> Option<T> {
    contain(Path::new(""), "decode a value", || Ok(f())).ok()
}
