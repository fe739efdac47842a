//! The call log: what every account webhook ran and how it ended, bounded per account in rows
//! and bytes.

use std::io;

use rusqlite::{Row, ToSql, params, types::Type};

use crate::{
    Result, SqliteStore,
    sqlite::{Record, find_all, get_u64, sql_u64},
};

/// What happened on one webhook, for the call log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallRecord {
    /// `CA` + 32 hex, as given by the caller (may repeat: action callbacks).
    pub call_sid: String,
    /// Account the call was routed to.
    pub account_sid: String,
    /// SIP domain the call came through.
    pub domain_sid: Option<String>,
    /// What was run, e.g. `function ZH..` or `bin EH..`.
    pub target: String,
    /// The function that ran, if any.
    pub function_sid: Option<String>,
    /// `ok` or an error code such as `function_deadline`.
    pub outcome: String,
    /// Error detail.
    pub error: Option<String>,
    /// What ran instead, with its own outcome, as text.
    pub fallback: Option<String>,
    /// What the guest logged.
    pub logs: Vec<LogLine>,
    /// The TwiML answered.
    pub twiml: Option<String>,
    /// Time spent handling the webhook.
    pub elapsed_us: u64,
    /// When the call arrived, unix seconds.
    pub date_created: i64,
}

impl CallRecord {
    /// What the record weighs in its account's log, in bytes: its text, its log lines, and a
    /// little for the row around them.
    pub fn weight(&self) -> u64 {
        let logs: usize = self
            .logs
            .iter()
            .map(|l| {
                let fields: usize = l.fields.iter().map(|(n, v)| n.len() + v.len() + 8).sum();
                l.message.len() + fields + 32
            })
            .sum();
        let text: usize = [
            Some(&self.call_sid),
            Some(&self.target),
            Some(&self.outcome),
            self.error.as_ref(),
            self.fallback.as_ref(),
            self.twiml.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::len)
        .sum();
        (logs + text + 128) as u64
    }
}

/// Rows kept per account in the call log; older ones are trimmed.
pub const CALL_LOG_ROWS: u32 = 10_000;
/// Bytes of call records kept per account (logs, TwiML, errors); older ones are trimmed.
pub const CALL_LOG_BYTES: u64 = 16 << 20;

/// One line a function logged during a call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogLine {
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// The message.
    pub message: String,
    /// The structured fields, in order.
    pub fields: Vec<(String, String)>,
}

/// Which call records to return.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Only calls that ran this function.
    pub function_sid: Option<String>,
    /// Only calls through this SIP domain.
    pub domain_sid: Option<String>,
    /// At most this many records (capped at the log size).
    pub limit: u32,
}

/// The call log in a store.
pub trait CallLogStore: Send + Sync {
    /// Appends call records in one transaction.
    fn record_calls(&self, calls: &[CallRecord]) -> Result<()>;

    /// The rows and bytes of the account's call log.
    fn call_log_usage(&self, account_sid: &str) -> Result<(u64, u64)>;

    /// Drops the account's oldest call records until at most `rows` rows of at most `bytes` in
    /// all are left; returns what is left.
    fn trim_calls(&self, account_sid: &str, rows: u64, bytes: u64) -> Result<(u64, u64)>;

    /// The account's call records matching `filter`, newest first, at most `filter.limit`.
    fn calls(&self, account_sid: &str, filter: &CallFilter) -> Result<Vec<CallRecord>>;
}

impl CallLogStore for SqliteStore {
    fn record_calls(&self, calls: &[CallRecord]) -> Result<()> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO calls (call_sid, account_sid, domain_sid, target, function_sid, outcome, error,
                     fallback, logs, twiml, elapsed_us, date_created, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for c in calls {
                let logs = serde_json::to_string(&c.logs).map_err(io::Error::from)?;
                insert.execute(params![
                    c.call_sid,
                    c.account_sid,
                    c.domain_sid,
                    c.target,
                    c.function_sid,
                    c.outcome,
                    c.error,
                    c.fallback,
                    logs,
                    c.twiml,
                    sql_u64(c.elapsed_us),
                    c.date_created,
                    sql_u64(c.weight())
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn call_log_usage(&self, account_sid: &str) -> Result<(u64, u64)> {
        let conn = self.lock();
        let usage = conn.query_row(
            "SELECT count(*), total(size) FROM calls WHERE account_sid = ?1",
            [account_sid],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?)),
        )?;
        Ok((u64::try_from(usage.0).unwrap_or_default(), usage.1 as u64))
    }

    fn trim_calls(&self, account_sid: &str, rows: u64, bytes: u64) -> Result<(u64, u64)> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM calls WHERE id IN (
                 SELECT id FROM (
                     SELECT id,
                         row_number() OVER newest AS n,
                         sum(size) OVER (newest ROWS UNBOUNDED PRECEDING) AS kept
                     FROM calls WHERE account_sid = ?1
                     WINDOW newest AS (ORDER BY date_created DESC, id DESC))
                 WHERE n > ?2 OR kept > ?3)",
            (account_sid, sql_u64(rows), sql_u64(bytes)),
        )?;
        let usage = tx.query_row(
            "SELECT count(*), total(size) FROM calls WHERE account_sid = ?1",
            [account_sid],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?)),
        )?;
        tx.commit()?;
        Ok((u64::try_from(usage.0).unwrap_or_default(), usage.1 as u64))
    }

    fn calls(&self, account_sid: &str, filter: &CallFilter) -> Result<Vec<CallRecord>> {
        let mut tail = String::from("WHERE x.account_sid = ?");
        let mut args: Vec<&dyn ToSql> = vec![&account_sid];
        if let Some(function_sid) = &filter.function_sid {
            tail.push_str(" AND x.function_sid = ?");
            args.push(function_sid);
        }
        if let Some(domain_sid) = &filter.domain_sid {
            tail.push_str(" AND x.domain_sid = ?");
            args.push(domain_sid);
        }
        tail.push_str(" ORDER BY x.date_created DESC, x.id DESC LIMIT ?");
        let limit = filter.limit.min(CALL_LOG_ROWS);
        args.push(&limit);
        find_all(&self.lock(), &tail, rusqlite::params_from_iter(args))
    }
}

impl Record for CallRecord {
    const TABLE: &'static str = "calls";
    const SELECT: &'static str =
        "SELECT x.call_sid, x.account_sid, x.domain_sid, x.target, x.function_sid,
        x.outcome, x.error, x.fallback, x.logs, x.twiml, x.elapsed_us, x.date_created FROM calls x";
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        let logs: String = r.get(8)?;
        Ok(Self {
            call_sid: r.get(0)?,
            account_sid: r.get(1)?,
            domain_sid: r.get(2)?,
            target: r.get(3)?,
            function_sid: r.get(4)?,
            outcome: r.get(5)?,
            error: r.get(6)?,
            fallback: r.get(7)?,
            logs: serde_json::from_str(&logs).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(8, Type::Text, Box::new(e))
            })?,
            twiml: r.get(9)?,
            elapsed_us: get_u64(r, 10)?,
            date_created: r.get(11)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{testing::*, *};

    #[test]
    fn call_log() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let (f1, f2, d1) = ("ZH1", "ZH2", "SD1");
        let records = vec![
            call(&a, 1, Some(f1), Some(d1)),
            call(&a, 2, Some(f2), None),
            call(&a, 3, None, Some(d1)),
            call(&a, 4, Some(f1), None),
        ];
        store.record_calls(&records).unwrap();
        store.record_calls(&[]).unwrap();
        let filter = |function_sid: Option<&str>, domain_sid: Option<&str>, limit| CallFilter {
            function_sid: function_sid.map(str::to_owned),
            domain_sid: domain_sid.map(str::to_owned),
            limit,
        };
        let sids = |f: CallFilter| -> Vec<String> {
            store
                .calls(&a, &f)
                .unwrap()
                .into_iter()
                .map(|c| c.call_sid)
                .collect()
        };
        let nth = |n: usize| records[n - 1].call_sid.clone();

        let all = store.calls(&a, &filter(None, None, 100)).unwrap();
        assert_eq!(
            all.first(),
            Some(&records[3]),
            "full record round trips, newest first"
        );
        assert_eq!(
            sids(filter(None, None, 100)),
            [nth(4), nth(3), nth(2), nth(1)]
        );
        assert_eq!(sids(filter(None, None, 2)), [nth(4), nth(3)]);
        assert_eq!(sids(filter(Some(f1), None, 100)), [nth(4), nth(1)]);
        assert_eq!(sids(filter(None, Some(d1), 100)), [nth(3), nth(1)]);
        assert_eq!(sids(filter(Some(f1), Some(d1), 100)), [nth(1)]);
        assert!(sids(filter(None, None, 0)).is_empty());
    }

    #[test]
    fn call_log_is_trimmed_per_account_in_rows_and_bytes() {
        let (_dir, store) = open();
        let a = store.create_account("A").unwrap().sid;
        let b = store.create_account("B").unwrap().sid;
        let limit = i64::from(CALL_LOG_ROWS);
        let batch: Vec<_> = (0..limit + 5).map(|n| call(&a, n, None, None)).collect();
        store.record_calls(&batch).unwrap();
        store
            .record_calls(&[call(&b, 0, None, None), call(&a, limit + 5, None, None)])
            .unwrap();
        let (rows, bytes) = store.call_log_usage(&a).unwrap();
        assert_eq!(rows, limit as u64 + 6);
        let (kept_rows, _) = store
            .trim_calls(&a, u64::from(CALL_LOG_ROWS), CALL_LOG_BYTES)
            .unwrap();
        assert_eq!(kept_rows, u64::from(CALL_LOG_ROWS));
        assert_eq!(
            store.call_log_usage(&b).unwrap().0,
            1,
            "another account's log stays"
        );
        let kept = store
            .calls(
                &a,
                &CallFilter {
                    limit: u32::MAX,
                    ..CallFilter::default()
                },
            )
            .unwrap();
        assert_eq!(kept.len(), CALL_LOG_ROWS as usize);
        assert_eq!(
            kept.first().unwrap().date_created,
            1_700_000_000 + limit + 5
        );
        assert_eq!(
            kept.last().unwrap().date_created,
            1_700_000_000 + 6,
            "the oldest were dropped"
        );
        // In bytes: a tenth of what is there keeps about a tenth of the newest records.
        let per_record = bytes / (limit as u64 + 6);
        let (rows, bytes) = store
            .trim_calls(&a, u64::MAX >> 1, per_record * 100)
            .unwrap();
        assert!((90..=100).contains(&rows), "{rows}");
        assert!(bytes <= per_record * 100, "{bytes}");
        let newest = store
            .calls(
                &a,
                &CallFilter {
                    limit: 1,
                    ..CallFilter::default()
                },
            )
            .unwrap();
        assert_eq!(newest[0].date_created, 1_700_000_000 + limit + 5);
    }
}
