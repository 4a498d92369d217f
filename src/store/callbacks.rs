//! Callback samples in the store: every `kaopei sample-callbacks` draw with
//! its seed, parameters and the trainees drawn, so an inspector can show
//! later that the call list was random and reproduce it (audit sampling
//! with a recorded seed). Two tables of their own, created on first use.

use anyhow::{Context, Result};
use rusqlite::params;

use super::Store;

/// One drawn sample, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackSample {
    /// Assigned by the store (0 before recording).
    pub sample_id: i64,
    pub created_at: String,
    pub dataset: String,
    pub institution_id: String,
    /// The seed as decimal text (u64 does not fit SQLite's signed integer).
    pub seed: u64,
    pub n_requested: u64,
    /// Trainees the institution had to draw from.
    pub population: u64,
    /// `[params.callback]` weights and the version, as JSON.
    pub params_json: String,
    pub rows: Vec<CallbackSampleRow>,
}

/// One trainee on the call sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackSampleRow {
    /// 1-based position on the call sheet.
    pub seq: u32,
    pub person_id: String,
    pub name: String,
    pub class_id: String,
    pub recorded_hours: f64,
    /// Flagged by a training/exam check (why it was weighted up).
    pub flagged: bool,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS callback_samples (
    sample_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at     TEXT NOT NULL,
    dataset        TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    seed           TEXT NOT NULL,
    n_requested    INTEGER NOT NULL,
    population     INTEGER NOT NULL,
    params_json    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS callback_sample_rows (
    sample_id      INTEGER NOT NULL REFERENCES callback_samples(sample_id),
    seq            INTEGER NOT NULL,
    person_id      TEXT NOT NULL,
    name           TEXT NOT NULL,
    class_id       TEXT NOT NULL,
    recorded_hours REAL NOT NULL,
    flagged        INTEGER NOT NULL,
    PRIMARY KEY (sample_id, seq)
);
";

impl Store {
    /// Records a drawn sample and returns its `sample_id`.
    pub fn record_callback_sample(&mut self, s: &CallbackSample) -> Result<i64> {
        self.conn.execute_batch(SCHEMA).context("cannot create the callback sample tables")?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO callback_samples (created_at, dataset, institution_id, seed, n_requested, population, params_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                s.created_at,
                s.dataset,
                s.institution_id,
                s.seed.to_string(),
                s.n_requested as i64,
                s.population as i64,
                s.params_json
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut ins = tx.prepare(
                "INSERT INTO callback_sample_rows (sample_id, seq, person_id, name, class_id, recorded_hours, flagged)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for r in &s.rows {
                ins.execute(params![id, r.seq, r.person_id, r.name, r.class_id, r.recorded_hours, r.flagged])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// The samples recorded for an institution, oldest first.
    pub fn callback_samples(&self, institution_id: &str) -> Result<Vec<CallbackSample>> {
        self.conn.execute_batch(SCHEMA).context("cannot create the callback sample tables")?;
        let mut q = self.conn.prepare(
            "SELECT sample_id, created_at, dataset, institution_id, seed, n_requested, population, params_json
             FROM callback_samples WHERE institution_id = ?1 ORDER BY sample_id",
        )?;
        let heads = q
            .query_map([institution_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut rows_q = self.conn.prepare(
            "SELECT seq, person_id, name, class_id, recorded_hours, flagged
             FROM callback_sample_rows WHERE sample_id = ?1 ORDER BY seq",
        )?;
        let mut out = Vec::with_capacity(heads.len());
        for (sample_id, created_at, dataset, institution_id, seed, n, pop, params_json) in heads {
            let rows = rows_q
                .query_map([sample_id], |r| {
                    Ok(CallbackSampleRow {
                        seq: r.get(0)?,
                        person_id: r.get(1)?,
                        name: r.get(2)?,
                        class_id: r.get(3)?,
                        recorded_hours: r.get(4)?,
                        flagged: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            out.push(CallbackSample {
                sample_id,
                created_at,
                dataset,
                institution_id,
                seed: seed.parse().with_context(|| format!("stored seed `{seed}` is not a number"))?,
                n_requested: n as u64,
                population: pop as u64,
                params_json,
                rows,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_a_large_seed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("k.db")).unwrap();
        let s = CallbackSample {
            sample_id: 0,
            created_at: "2026-11-28 10:00:00".into(),
            dataset: "demo".into(),
            institution_id: "T1".into(),
            seed: u64::MAX - 1,
            n_requested: 2,
            population: 10,
            params_json: "{}".into(),
            rows: vec![
                CallbackSampleRow {
                    seq: 1,
                    person_id: "11010519491231002X".into(),
                    name: "张三".into(),
                    class_id: "C1".into(),
                    recorded_hours: 148.0,
                    flagged: true,
                },
                CallbackSampleRow {
                    seq: 2,
                    person_id: "410102199001011234".into(),
                    name: String::new(),
                    class_id: "C2".into(),
                    recorded_hours: 12.5,
                    flagged: false,
                },
            ],
        };
        let id = store.record_callback_sample(&s).unwrap();
        let id2 = store.record_callback_sample(&s).unwrap();
        assert!(id2 > id);
        let back = store.callback_samples("T1").unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], CallbackSample { sample_id: id, ..s.clone() });
        assert!(store.callback_samples("T9").unwrap().is_empty());
    }
}
