//! How a scoring call spreads its batches over the cores: how many batches
//! run at once ("lanes") and how many ONNX Runtime intra-op threads each run
//! gets.
//!
//! Why it is decided here, per call, and not once per query: the right split
//! depends on how many callers score at the same moment, and only the scorer
//! sees that. DuckDB parallelises a scan by row group (122,880 rows), so a
//! small table is scored by ONE DuckDB thread: its call should use all the
//! cores DuckDB may use, or the others sit idle. A big table is scored by
//! every DuckDB thread at once: each call should then use about one core, or
//! the cores are oversubscribed. [`Threads::Auto`] gives each call
//! `cores / callers scoring now` lanes (at least one), each a single-threaded
//! run, and a lane beyond the call's share stops when more callers come
//! ([`Threads::lane_open`]), so both cases, and the tail of a big scan where
//! the callers finish one by one, use the cores without fighting over them.
//!
//! Why lanes of one thread rather than one run of `cores` intra-op threads:
//! a batch of 32 tweets is too small a matrix to split well. Measured on the
//! 20,000 shipped tweets, 2 cores, the shipped model: one caller running 2
//! intra-op threads scored 1,213 tweets/s (1,376 with ONNX Runtime's
//! spinning on), two callers of one thread each 1,575. Python onnxruntime,
//! which knows only intra-op threads, is the floor this beats.
//!
//! Counting is one atomic add on entry and one subtract on exit per call
//! ([`ScoringCount::enter`]), and one load per batch: cheap next to a BERT
//! run. The count is process-wide ([`SCORING`]) because the cores are: two
//! queries scoring at once share them too.
//!
//! Neither the lanes nor the intra-op thread count change a text's answer:
//! the batches are the same, and the threads only spread the same arithmetic
//! (the SQL tests compare answers across thread settings within 1e-5).

use std::sync::atomic::{AtomicUsize, Ordering};

/// The thread policy of one query (`bert_sentiment_threads`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// A positive `bert_sentiment_threads`: one batch at a time, every run
    /// with exactly this many intra-op threads, however many callers score
    /// at once.
    Fixed(usize),
    /// `bert_sentiment_threads = 0` (the default): the `cores` DuckDB may use
    /// (its `threads` setting), shared by the callers scoring at the moment,
    /// each core running its own batches on one thread.
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

    /// How many batches a call runs at once while `scoring` callers (this
    /// one included) score.
    pub fn lanes(self, scoring: usize) -> usize {
        match self {
            Threads::Fixed(_) => 1,
            Threads::Auto { cores } => (cores / scoring.max(1)).max(1),
        }
    }

    /// Whether lane `lane` (0-based) of a call may take another batch while
    /// `scoring` callers score: only the lanes within the call's share.
    pub fn lane_open(self, lane: usize, scoring: usize) -> bool {
        lane < self.lanes(scoring)
    }

    /// The intra-op threads of each run.
    pub fn intra_op(self) -> usize {
        match self {
            Threads::Fixed(n) => n,
            Threads::Auto { .. } => 1,
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
    fn one_caller_gets_a_lane_per_core_and_many_share_them() {
        let auto = Threads::Auto { cores: 8 };
        assert_eq!(auto.lanes(1), 8); // a small table: one DuckDB thread
        assert_eq!(auto.lanes(2), 4);
        assert_eq!(auto.lanes(3), 2); // never more lanes than cores
        assert_eq!(auto.lanes(8), 1); // a big table: every DuckDB thread
        assert_eq!(auto.lanes(20), 1); // more callers than cores: one each
        assert_eq!(auto.lanes(0), 8); // asked before entering
        assert_eq!(Threads::Auto { cores: 1 }.lanes(1), 1); // SET threads = 1
        assert_eq!(auto.intra_op(), 1);
    }

    #[test]
    fn lanes_beyond_the_share_close_when_callers_come() {
        let auto = Threads::Auto { cores: 2 };
        assert!(auto.lane_open(0, 1) && auto.lane_open(1, 1));
        assert!(auto.lane_open(0, 2) && !auto.lane_open(1, 2));
        assert!(auto.lane_open(0, 5));
    }

    #[test]
    fn a_fixed_count_is_one_lane_of_that_many_threads() {
        assert_eq!(Threads::Fixed(2).lanes(1), 1);
        assert_eq!(Threads::Fixed(2).intra_op(), 2);
        assert_eq!(Threads::Fixed(3).lanes(16), 1);
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
