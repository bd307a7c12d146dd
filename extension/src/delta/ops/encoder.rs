//! Parallel Parquet encoding for one writer session.
//!
//! DuckDB often feeds an ungrouped aggregate from a single pipeline thread
//! (e.g. a `range()` or a single-file scan), which would leave Parquet
//! encoding — the expensive part of a write — on one core. The pool runs
//! `workers` encoder threads, each with its own delta-rs `RecordBatchWriter`
//! (its own files, cut at the target size); batches go to whichever worker is
//! free through a bounded channel, so memory stays bounded (at most
//! `2 × workers` batches in flight).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arrow59::record_batch::RecordBatch;
use deltalake::kernel::Add;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};

use super::table::{block_on, describe};

type Worker = JoinHandle<Result<Vec<Add>, String>>;

pub struct EncoderPool {
    tx: Option<SyncSender<RecordBatch>>,
    workers: Vec<Worker>,
}

impl EncoderPool {
    /// Starts `n` encoders; `make` builds each one's writer.
    pub fn new(
        n: usize,
        make: impl Fn() -> Result<RecordBatchWriter, String>,
    ) -> Result<EncoderPool, String> {
        let n = n.max(1);
        let (tx, rx) = sync_channel::<RecordBatch>(n * 2);
        let rx: Arc<Mutex<Receiver<RecordBatch>>> = Arc::new(Mutex::new(rx));
        let mut workers = Vec::with_capacity(n);
        for i in 0..n {
            let mut w = make()?;
            let rx = rx.clone();
            let h = std::thread::Builder::new()
                .name(format!("medallion-parquet-{i}"))
                .spawn(move || -> Result<Vec<Add>, String> {
                    loop {
                        let next = rx
                            .lock()
                            .map_err(|_| "encoder queue poisoned".to_string())?
                            .recv();
                        match next {
                            Ok(batch) => block_on(w.write(batch)).map_err(|e| describe(&e))?,
                            Err(_) => break,
                        }
                    }
                    block_on(w.flush()).map_err(|e| describe(&e))
                })
                .map_err(|e| format!("cannot start an encoder thread: {e}"))?;
            workers.push(h);
        }
        Ok(EncoderPool {
            tx: Some(tx),
            workers,
        })
    }

    /// Queues a batch; blocks while every encoder is busy.
    pub fn send(&mut self, batch: RecordBatch) -> Result<(), String> {
        let tx = self.tx.as_ref().ok_or("the encoders are closed")?;
        if tx.send(batch).is_err() {
            // Every worker has stopped: one failed. Report its error.
            self.tx = None;
            return Err(self
                .join()
                .err()
                .unwrap_or_else(|| "the encoders stopped".into()));
        }
        Ok(())
    }

    /// Closes the queue, waits for the encoders, returns their files.
    pub fn finish(mut self) -> Result<Vec<Add>, String> {
        self.tx = None;
        self.join()
    }

    fn join(&mut self) -> Result<Vec<Add>, String> {
        let mut adds = Vec::new();
        let mut first_err = None;
        for h in self.workers.drain(..) {
            match h.join() {
                Ok(Ok(a)) => adds.extend(a),
                Ok(Err(e)) => first_err = first_err.or(Some(e)),
                Err(_) => first_err = first_err.or(Some("an encoder thread panicked".into())),
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(adds),
        }
    }
}

/// How many encoders a session starts: the machine's cores, at most 4.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4)
}
