//! How many intra-op threads each ONNX Runtime run gets.
//!
//! Why it is decided here, per batch, and not once per query: the right
//! number depends on how many callers score at the same moment, and only the
//! scorer sees that. DuckDB parallelises a scan by row group (122,880 rows),
//! so a small table is scored by ONE DuckDB thread: its runs should use all
//! the cores DuckDB may use, or the others sit idle. A big table is scored by
//! every DuckDB thread at once: each run should then use about one core, or
//! ONNX Runtime's pools oversubscribe the cores DuckDB already keeps busy.
//! [`Threads::Auto`] gives each run `cores / callers scoring now` (at least
//! one), so both cases — and the tail of a big scan, where the callers finish
//! one by one — use the cores without fighting over them.
//!
//! Counting is one atomic add on entry and one subtract on exit per call
//! ([`ScoringCount::enter`]), and one load per batch: cheap next to a BERT
//! run. The count is process-wide ([`SCORING`]) because the cores are: two
//! queries scoring at once share them too.
//!
//! The intra-op thread count only spreads the same arithmetic over more or
//! fewer threads; it does not change a text's answer (the SQL tests compare
//! answers across thread settings within 1e-5).

use std::sync::atomic::{AtomicUsize, Ordering};

/// The thread policy of one query (`bert_sentiment_threads`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// A positive `bert_sentiment_threads`: every run uses exactly this many
    /// intra-op threads, however many callers score at once.
    Fixed(usize),
    /// `bert_sentiment_threads = 0` (the default): the `cores` DuckDB may use
    /// (its `threads` setting), shared by the callers scoring at the moment.
    Auto { cores: usize },
}

impl Threads {
    /// The policy a `bert_sentiment_threads` value asks for: 0 is automatic
    /// over `cores`, anything else is fixed.
    pub fn from_setting(threads: usize, cores: usize) -> Threads {
        match threads {
            0 => Threads::Auto {
                cores: cores.max(1),
            },
            n => Threads::Fixed(n),
        }
    }

    /// The intra-op threads of a run while `scoring` callers (this one
    /// included) score at once.
    pub fn per_run(self, scoring: usize) -> usize {
        match self {
            Threads::Fixed(n) => n,
            Threads::Auto { cores } => (cores / scoring.max(1)).max(1),
        }
    }
}

/// How many callers are scoring right now.
#[derive(Debug, Default)]
pub struct ScoringCount(AtomicUsize);

/// The process's count: every scoring call enters it.
pub static SCORING: ScoringCount = ScoringCount::new();

impl ScoringCount {
    pub const fn new() -> Self {
        ScoringCount(AtomicUsize::new(0))
    }

    /// Counts the caller until the returned guard is dropped (also when the
    /// call fails or panics).
    pub fn enter(&self) -> Scoring<'_> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Scoring(self)
    }

    /// The callers scoring now (at least 1 when asked from inside a call).
    pub fn now(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// One caller inside [`ScoringCount`]; leaves it when dropped.
#[must_use = "the caller stops being counted when this is dropped"]
pub struct Scoring<'a>(&'a ScoringCount);

impl Drop for Scoring<'_> {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_automatic_and_a_positive_value_is_kept() {
        assert_eq!(Threads::from_setting(0, 8), Threads::Auto { cores: 8 });
        assert_eq!(Threads::from_setting(3, 8), Threads::Fixed(3));
        // DuckDB always has at least one thread
        assert_eq!(Threads::from_setting(0, 0), Threads::Auto { cores: 1 });
    }

    #[test]
    fn one_caller_gets_every_core_and_many_share_them() {
        let auto = Threads::Auto { cores: 8 };
        assert_eq!(auto.per_run(1), 8); // a small table: one DuckDB thread
        assert_eq!(auto.per_run(2), 4);
        assert_eq!(auto.per_run(3), 2); // never more threads than cores
        assert_eq!(auto.per_run(8), 1); // a big table: every DuckDB thread
        assert_eq!(auto.per_run(20), 1); // more callers than cores: one each
        assert_eq!(auto.per_run(0), 8); // asked before entering
        assert_eq!(Threads::Auto { cores: 1 }.per_run(1), 1); // SET threads = 1
    }

    #[test]
    fn a_fixed_count_ignores_the_callers() {
        assert_eq!(Threads::Fixed(2).per_run(1), 2);
        assert_eq!(Threads::Fixed(2).per_run(16), 2);
    }

    #[test]
    fn callers_are_counted_while_inside_even_when_they_panic() {
        let count = ScoringCount::new();
        assert_eq!(count.now(), 0);
        let a = count.enter();
        {
            let _b = count.enter();
            assert_eq!(count.now(), 2);
        }
        assert_eq!(count.now(), 1);
        drop(a);
        let panicked = std::panic::catch_unwind(|| {
            let _c = count.enter();
            panic!("a failed run");
        });
        assert!(panicked.is_err());
        assert_eq!(count.now(), 0);
    }

    #[test]
    fn threads_count_each_other() {
        let count = ScoringCount::new();
        let barrier = std::sync::Barrier::new(4);
        let seen: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let _in = count.enter();
                        barrier.wait();
                        let n = count.now();
                        barrier.wait();
                        n
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(seen, vec![4; 4]);
        assert_eq!(count.now(), 0);
    }
}
