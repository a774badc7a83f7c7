//! Where things are in a configuration file: line numbers for keys and entries, so that every
//! error can say which line to fix.

use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a path into the document: a key of a table or an index into an array.
#[derive(Clone, Copy, Debug)]
pub enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

/// The text of a configuration file with its line starts and, when it is valid TOML, its
/// spanned syntax tree.
pub struct Lines<'a> {
    line_starts: Vec<usize>,
    doc: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines {
            line_starts,
            doc: DeTable::parse(text).ok(),
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .max(1)
    }

    /// The line of the deepest part of `path` that exists: the key's value if it is there,
    /// else the entry that should hold it, else the table, else line 1.
    pub fn line(&self, path: &[Step]) -> usize {
        self.span(path).map_or(1, |span| self.line_of(span.start))
    }

    fn span(&self, path: &[Step]) -> Option<Range<usize>> {
        let doc = self.doc.as_ref()?;
        let mut best = None;
        let mut table: Option<&DeTable> = Some(doc.get_ref());
        let mut value: Option<&DeValue> = None;
        for step in path {
            let next: Option<&Spanned<DeValue>> = match (step, table, value) {
                (Step::Key(k), Some(t), _) => t.get(*k),
                (Step::Index(i), None, Some(DeValue::Array(a))) => a.get(*i),
                _ => None,
            };
            let Some(next) = next else { break };
            best = Some(next.span());
            value = Some(next.get_ref());
            table = match next.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[site]\nid = \"x\"\n\n[[doors]]\nid = \"a\"\n\n[[doors]]\nid = \"b\"\nreaders = [\n  { id = \"r1\", direction = \"in\" },\n  { id = \"r2\", direction = \"out\" },\n]\n";

    #[test]
    fn finds_keys_entries_and_array_items() {
        let l = Lines::new(TEXT);
        assert_eq!(l.line(&[Step::Key("site"), Step::Key("id")]), 2);
        assert_eq!(
            l.line(&[Step::Key("doors"), Step::Index(0), Step::Key("id")]),
            5
        );
        assert_eq!(
            l.line(&[Step::Key("doors"), Step::Index(1), Step::Key("id")]),
            8
        );
        let r2 = [
            Step::Key("doors"),
            Step::Index(1),
            Step::Key("readers"),
            Step::Index(1),
            Step::Key("id"),
        ];
        assert_eq!(l.line(&r2), 11);
    }

    #[test]
    fn falls_back_to_the_nearest_existing_part() {
        let l = Lines::new(TEXT);
        // doors[1] has no `inside`: the line of the entry's table is the best there is.
        let line = l.line(&[Step::Key("doors"), Step::Index(1), Step::Key("inside")]);
        assert!((7..=8).contains(&line), "line {line}");
        assert_eq!(l.line(&[Step::Key("nothing")]), 1);
    }

    #[test]
    fn counts_lines_from_one() {
        let l = Lines::new("a\nb\nc");
        assert_eq!(l.line_of(0), 1);
        assert_eq!(l.line_of(2), 2);
        assert_eq!(l.line_of(4), 3);
    }
}
