//! The inspector's case after the findings: decisions on record (confirm,
//! dismiss, order rectification, suspend, fine, refer to the police), the
//! records a confirmed finding cited as they stood when it was confirmed,
//! and what follows from them (which findings count as confirmed, how
//! often each check was dismissed).
//!
//! Decisions are append-only: a correction is a new decision that names
//! the one it supersedes. The store keeps them in its ledger (each
//! `kaopei decide` is a ledger run whose hash covers its decision rows), so
//! `kaopei verify` shows any change to them.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

/// What the inspector decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The finding is confirmed as a problem (认定).
    Confirm,
    /// The finding is dismissed, with the reason (不予认定).
    Dismiss,
    /// Rectification ordered, with items and a deadline (限期整改).
    Rectify,
    /// Suspension ordered (停业整顿).
    Suspend,
    /// A fine, in 万元 (罚款).
    Fine,
    /// Referred to the police as a suspected crime (移送公安机关).
    Refer,
    /// The rectification was checked and accepted (整改合格, from the follow-up).
    Accept,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::Dismiss => "dismiss",
            Action::Rectify => "rectify",
            Action::Suspend => "suspend",
            Action::Fine => "fine",
            Action::Refer => "refer",
            Action::Accept => "accept",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [
            Action::Confirm,
            Action::Dismiss,
            Action::Rectify,
            Action::Suspend,
            Action::Fine,
            Action::Refer,
            Action::Accept,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// The Chinese name used in notices and tables.
    pub fn zh(self) -> &'static str {
        match self {
            Action::Confirm => "认定",
            Action::Dismiss => "不予认定",
            Action::Rectify => "限期整改",
            Action::Suspend => "停业整顿",
            Action::Fine => "罚款",
            Action::Refer => "移送公安机关",
            Action::Accept => "整改合格",
        }
    }

    /// Actions about one finding (the others may be about the institution).
    pub fn needs_check(self) -> bool {
        matches!(self, Action::Confirm | Action::Dismiss | Action::Rectify)
    }
}

/// One input record as the store held it: table, key (record id, with
/// `#2`… for a repeated id), input line and every column but the line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CitedRow {
    pub table: String,
    pub key: String,
    pub line: i64,
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// One decision as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Decision {
    /// The store's id of the decision (0 before it is stored).
    pub id: i64,
    /// The ledger run that recorded it.
    pub run_id: i64,
    /// The audit run whose finding it decides.
    pub audit_run: i64,
    pub institution_id: String,
    /// The finding's check id; empty for a decision about the institution.
    pub check_id: String,
    pub action: Action,
    /// Why (required for a dismissal).
    pub reason: String,
    /// Rectification items ordered.
    pub items: Vec<String>,
    /// Rectification deadline, YYYY-MM-DD.
    pub deadline: Option<String>,
    /// Fine in 万元.
    pub amount_wan: Option<f64>,
    pub decided_by: String,
    pub decided_at: String,
    /// The decision this one corrects.
    pub supersedes: Option<i64>,
    /// The institution's audit period in the audit run's data (its own
    /// classes, sessions, certificates and footage), first and last day.
    pub period: Option<(String, String)>,
    /// The records the finding cited, as they stood when it was decided.
    pub cited: Vec<CitedRow>,
}

/// The decisions still in force: those no later decision supersedes.
pub fn effective(all: &[Decision]) -> Vec<&Decision> {
    let superseded: HashSet<i64> = all.iter().filter_map(|d| d.supersedes).collect();
    all.iter().filter(|d| !superseded.contains(&d.id)).collect()
}

/// Where one finding (institution, check) stands after its decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Undecided,
    Confirmed,
    Dismissed,
}

/// The standing of `(institution, check)`: the latest effective confirm,
/// rectify or dismiss decides.
pub fn standing(all: &[Decision], institution: &str, check: &str) -> Standing {
    effective(all)
        .into_iter()
        .filter(|d| d.institution_id == institution && d.check_id == check && d.action.needs_check())
        .max_by_key(|d| d.id)
        .map_or(Standing::Undecided, |d| {
            if d.action == Action::Dismiss {
                Standing::Dismissed
            } else {
                Standing::Confirmed
            }
        })
}

/// How often one check was dismissed.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRate {
    pub check_id: String,
    pub decided: usize,
    pub dismissed: usize,
}

impl CheckRate {
    pub fn rate(&self) -> f64 {
        if self.decided == 0 {
            0.0
        } else {
            self.dismissed as f64 / self.decided as f64
        }
    }
}

/// Per check: findings decided (confirmed or dismissed, latest effective
/// decision per institution) and how many of them were dismissed.
pub fn dismissal_rates(all: &[Decision]) -> Vec<CheckRate> {
    let mut last: BTreeMap<(&str, &str), &Decision> = BTreeMap::new();
    for d in effective(all).into_iter().filter(|d| d.action.needs_check()) {
        let e = last.entry((d.check_id.as_str(), d.institution_id.as_str())).or_insert(d);
        if d.id > e.id {
            *e = d;
        }
    }
    let mut rates: BTreeMap<&str, CheckRate> = BTreeMap::new();
    for ((check, _), d) in last {
        let r =
            rates.entry(check).or_insert_with(|| CheckRate { check_id: check.to_string(), decided: 0, dismissed: 0 });
        r.decided += 1;
        if d.action == Action::Dismiss {
            r.dismissed += 1;
        }
    }
    rates.into_values().collect()
}

/// The rectification order in force for an institution: items and the
/// latest deadline among its effective `rectify` decisions.
pub fn rectification<'a>(all: &'a [Decision], institution: &str) -> (Vec<&'a Decision>, Option<String>) {
    let orders: Vec<&Decision> =
        effective(all).into_iter().filter(|d| d.institution_id == institution && d.action == Action::Rectify).collect();
    let deadline = orders.iter().filter_map(|d| d.deadline.clone()).max();
    (orders, deadline)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: i64, check: &str, action: Action, supersedes: Option<i64>) -> Decision {
        Decision {
            id,
            run_id: 1,
            audit_run: 1,
            institution_id: "I1".into(),
            check_id: check.into(),
            action,
            reason: String::new(),
            items: vec![],
            deadline: None,
            amount_wan: None,
            decided_by: "张三".into(),
            decided_at: "2024-08-01 10:00:00".into(),
            supersedes,
            period: None,
            cited: vec![],
        }
    }

    #[test]
    fn a_correction_supersedes_and_rates_count_the_latest() {
        let all = vec![
            d(1, "exam.pass_rate", Action::Confirm, None),
            d(2, "exam.face_mismatch", Action::Dismiss, None),
            // Dismissal corrected into a confirmation.
            d(3, "exam.face_mismatch", Action::Confirm, Some(2)),
            d(4, "cctv.frozen", Action::Dismiss, None),
        ];
        assert_eq!(effective(&all).len(), 3);
        assert_eq!(standing(&all, "I1", "exam.face_mismatch"), Standing::Confirmed);
        assert_eq!(standing(&all, "I1", "cctv.frozen"), Standing::Dismissed);
        assert_eq!(standing(&all, "I1", "training.hours_short"), Standing::Undecided);
        let r = dismissal_rates(&all);
        assert_eq!(r.len(), 3);
        assert_eq!((r[0].check_id.as_str(), r[0].dismissed, r[0].decided), ("cctv.frozen", 1, 1));
        assert!(r.iter().filter(|x| x.check_id != "cctv.frozen").all(|x| x.dismissed == 0));
        assert_eq!(Action::parse("refer"), Some(Action::Refer));
    }
}
