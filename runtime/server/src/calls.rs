//! The call log: what every account webhook ran, how it ended and what its guests logged,
//! written to the store by a thread of its own so no webhook waits on a disk sync.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        mpsc::{self, Receiver, SyncSender, TrySendError},
    },
    thread::JoinHandle,
    time::Duration,
};

use twiml_edge_store::{CALL_LOG_BYTES, CALL_LOG_ROWS, CallRecord, Store};

/// Records waiting to be written before new ones are dropped (and counted in the log).
const QUEUE: usize = 10_000;
/// Records written in one transaction at most.
const BATCH: usize = 256;
/// How long the writer gathers a batch after its first record.
const GATHER: Duration = Duration::from_millis(20);

/// A handle that queues call records for the writer thread; dropping it flushes the queue.
#[derive(Debug)]
pub(crate) struct CallLog {
    queue: Option<SyncSender<CallRecord>>,
    writer: Option<JoinHandle<()>>,
}

impl CallLog {
    /// Starts the writer thread for `store`.
    pub(crate) fn start(store: Arc<dyn Store>) -> Self {
        let (queue, records) = mpsc::sync_channel(QUEUE);
        let writer = std::thread::Builder::new()
            .name("twiml-edge-call-log".into())
            .spawn(move || write_batches(store.as_ref(), &records))
            .expect("spawning the call log thread");
        Self {
            queue: Some(queue),
            writer: Some(writer),
        }
    }

    /// Queues `record`; when the writer is this far behind, the record is dropped and logged.
    pub(crate) fn record(&self, record: CallRecord) {
        let Some(queue) = &self.queue else { return };
        if let Err(TrySendError::Full(record) | TrySendError::Disconnected(record)) =
            queue.try_send(record)
        {
            tracing::warn!(call_sid = %record.call_sid, "call log is behind: dropping this call's record");
        }
    }
}

impl Drop for CallLog {
    fn drop(&mut self) {
        // Closing the queue lets the writer drain it and stop.
        self.queue.take();
        if let Some(writer) = self.writer.take() {
            writer.join().ok();
        }
    }
}

fn write_batches(store: &dyn Store, records: &Receiver<CallRecord>) {
    let mut usage = Usage::default();
    while let Ok(first) = records.recv() {
        let mut batch = vec![first];
        let deadline = std::time::Instant::now() + GATHER;
        while batch.len() < BATCH {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match records.recv_timeout(left) {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        if let Err(err) = store.record_calls(&batch) {
            tracing::error!(records = batch.len(), "failed to write the call log: {err}");
            continue;
        }
        usage.recorded(store, &batch);
    }
}

/// What each account's log holds, as this writer last counted it: an account whose log passes
/// [`CALL_LOG_ROWS`] rows or [`CALL_LOG_BYTES`] bytes is trimmed to nine tenths of both, so
/// trimming happens once in many batches rather than on every one.
#[derive(Default)]
struct Usage {
    accounts: HashMap<String, (u64, u64)>,
}

impl Usage {
    fn recorded(&mut self, store: &dyn Store, batch: &[CallRecord]) {
        let mut added: HashMap<&str, (u64, u64)> = HashMap::new();
        for record in batch {
            let entry = added.entry(record.account_sid.as_str()).or_default();
            entry.0 += 1;
            entry.1 += record.weight();
        }
        for (account, (rows, bytes)) in added {
            let known = match self.accounts.get_mut(account) {
                Some(known) => {
                    known.0 += rows;
                    known.1 += bytes;
                    *known
                }
                None => {
                    // First seen since start: count what the store already holds.
                    let Ok(counted) = store.call_log_usage(account) else {
                        continue;
                    };
                    self.accounts.insert(account.to_owned(), counted);
                    counted
                }
            };
            if known.0 > u64::from(CALL_LOG_ROWS) || known.1 > CALL_LOG_BYTES {
                let rows = u64::from(CALL_LOG_ROWS) / 10 * 9;
                match store.trim_calls(account, rows, CALL_LOG_BYTES / 10 * 9) {
                    Ok(left) => {
                        self.accounts.insert(account.to_owned(), left);
                    }
                    Err(err) => tracing::error!(account, "failed to trim the call log: {err}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twiml_edge_store::CallFilter;
    use twiml_edge_store::prelude::*;

    #[test]
    fn records_reach_the_store_by_the_time_the_log_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(twiml_edge_store::SqliteStore::open(dir.path()).unwrap());
        let account = store.create_account("test").unwrap();
        let log = CallLog::start(store.clone());
        for i in 0..300 {
            log.record(CallRecord {
                call_sid: format!("CA{i:032x}"),
                account_sid: account.sid.clone(),
                domain_sid: None,
                target: "bin EH0".into(),
                function_sid: None,
                outcome: "ok".into(),
                error: None,
                fallback: None,
                logs: Vec::new(),
                twiml: None,
                elapsed_us: 1,
                date_created: 0,
            });
        }
        drop(log);
        let filter = CallFilter {
            limit: 1000,
            ..CallFilter::default()
        };
        assert_eq!(store.calls(&account.sid, &filter).unwrap().len(), 300);
    }
}
