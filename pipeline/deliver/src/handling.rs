//! Handling an alert: 待处理 (pending) → 处理中 (in progress, someone has it) → 已办结 (done),
//! or closed as a false alarm with its reason, with comments along the way. Each step is a record
//! in the access chain ([`crate::access`]: who, when, from where, the step and its detail), and
//! the `handling` table keeps where each alert stands for lists and reports, written in the same
//! transaction. `vigil verify` replays the chain's steps and finds a `handling` row they do not
//! explain. A first step on an alert nobody acknowledged acknowledges it.

use serde::{Deserialize, Serialize};

/// Version 5 of the store: where each alert's handling stands.
pub(crate) const SCHEMA_V5: &str = "
    CREATE TABLE handling (
        alert_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        assignee TEXT,
        false_alarm TEXT,
        updated_ms INTEGER NOT NULL,
        done_ms INTEGER
    );";

/// What a list may be filtered by (`AlertQuery::handling`): the states, and false alarms.
pub const FILTERS: [&str; 4] = ["pending", "in_progress", "done", "false_alarm"];

/// The longest comment, reason or assignee name, in characters.
pub const MAX_TEXT: usize = 2000;

/// Where an alert's handling stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 待处理: nobody has taken it.
    #[default]
    Pending,
    /// 处理中: someone has it.
    InProgress,
    /// 已办结: handled, or closed as a false alarm.
    Done,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::InProgress => "in_progress",
            State::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [State::Pending, State::InProgress, State::Done]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// One step, as a request asks for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// The caller takes it (处理中, assigned to the caller).
    Take,
    /// Given to someone (处理中, assigned to `to`).
    Assign { to: String },
    /// A comment; the state does not change.
    Comment { text: String },
    /// Handled (已办结), with what was done.
    Done {
        #[serde(default)]
        text: String,
    },
    /// Closed as a false alarm (已办结), with why — `vigil labels export` reads these.
    FalseAlarm { reason: String },
    /// Done, but not after all: back to 处理中.
    Reopen,
}

impl Step {
    /// The access chain's name for the step.
    pub fn action(&self) -> crate::access::Action {
        use crate::access::Action;
        match self {
            Step::Take => Action::Take,
            Step::Assign { .. } => Action::Assign,
            Step::Comment { .. } => Action::Comment,
            Step::Done { .. } => Action::Done,
            Step::FalseAlarm { .. } => Action::FalseAlarm,
            Step::Reopen => Action::Reopen,
        }
    }

    /// The step's text as the access record keeps it (`detail`).
    pub fn detail(&self) -> &str {
        match self {
            Step::Take | Step::Reopen => "",
            Step::Assign { to } => to,
            Step::Comment { text } | Step::Done { text } => text,
            Step::FalseAlarm { reason } => reason,
        }
    }

    /// The step an access record describes, if it is one.
    pub fn from_record(action: crate::access::Action, detail: &str) -> Option<Self> {
        use crate::access::Action;
        let text = detail.to_string();
        Some(match action {
            Action::Take => Step::Take,
            Action::Assign => Step::Assign { to: text },
            Action::Comment => Step::Comment { text },
            Action::Done => Step::Done { text },
            Action::FalseAlarm => Step::FalseAlarm { reason: text },
            Action::Reopen => Step::Reopen,
            _ => return None,
        })
    }
}

/// Where an alert's handling stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handling {
    pub state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// The reason, when it was closed as a false alarm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub false_alarm: Option<String>,
    pub updated_ms: i64,
    /// When it was done (the time to handle runs from the alert to here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_ms: Option<i64>,
}

impl Handling {
    /// Where `step` by `who` at `at_ms` leaves this handling, or why it cannot be taken.
    pub fn apply(&self, step: &Step, who: &str, at_ms: i64) -> Result<Handling, String> {
        let text = step.detail();
        if text.chars().count() > MAX_TEXT {
            return Err(format!("the text is longer than {MAX_TEXT} characters"));
        }
        let needs_text = matches!(
            step,
            Step::Assign { .. } | Step::Comment { .. } | Step::FalseAlarm { .. }
        );
        if needs_text && text.trim().is_empty() {
            return Err(match step {
                Step::Assign { .. } => "assign needs `to`: who is to handle it",
                Step::FalseAlarm { .. } => "false_alarm needs a `reason`",
                _ => "a comment needs `text`",
            }
            .into());
        }
        let mut next = Handling {
            updated_ms: at_ms,
            ..self.clone()
        };
        match step {
            Step::Comment { .. } => {}
            Step::Take | Step::Assign { .. } => {
                if self.state == State::Done {
                    return Err("it is done: reopen it first".into());
                }
                next.state = State::InProgress;
                next.assignee = Some(match step {
                    Step::Assign { to } => to.trim().to_string(),
                    _ => who.to_string(),
                });
            }
            Step::Done { .. } | Step::FalseAlarm { .. } => {
                if self.state == State::Done {
                    return Err("it is done already".into());
                }
                next.state = State::Done;
                next.done_ms = Some(at_ms);
                next.assignee.get_or_insert_with(|| who.to_string());
                if let Step::FalseAlarm { reason } = step {
                    next.false_alarm = Some(reason.trim().to_string());
                }
            }
            Step::Reopen => {
                if self.state != State::Done {
                    return Err("only a done alert can be reopened".into());
                }
                next.state = State::InProgress;
                next.done_ms = None;
                next.false_alarm = None;
            }
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(steps: &[Step]) -> Result<Handling, String> {
        let mut h = Handling::default();
        for (i, s) in steps.iter().enumerate() {
            h = h.apply(s, "guard", i as i64 * 1000)?;
        }
        Ok(h)
    }

    #[test]
    fn taken_done_and_reopened() {
        let h = run(&[Step::Take]).unwrap();
        assert_eq!(
            (h.state, h.assignee.as_deref()),
            (State::InProgress, Some("guard"))
        );
        let h = run(&[
            Step::Assign {
                to: " 王师傅 ".into(),
            },
            Step::Done {
                text: "已挪车".into(),
            },
        ])
        .unwrap();
        assert_eq!(
            (h.state, h.assignee.as_deref(), h.done_ms),
            (State::Done, Some("王师傅"), Some(1000))
        );
        let h = run(&[
            Step::FalseAlarm {
                reason: "树影".into(),
            },
            Step::Reopen,
        ])
        .unwrap();
        assert_eq!(
            (h.state, h.false_alarm, h.done_ms),
            (State::InProgress, None, None)
        );
    }

    #[test]
    fn steps_that_do_not_fit_are_refused_with_the_reason() {
        assert_eq!(
            run(&[
                Step::Done {
                    text: String::new()
                },
                Step::Take
            ])
            .unwrap_err(),
            "it is done: reopen it first"
        );
        assert_eq!(
            run(&[Step::Reopen]).unwrap_err(),
            "only a done alert can be reopened"
        );
        assert_eq!(
            run(&[Step::FalseAlarm { reason: " ".into() }]).unwrap_err(),
            "false_alarm needs a `reason`"
        );
        assert!(
            run(&[Step::Comment {
                text: "长".repeat(MAX_TEXT + 1)
            }])
            .is_err()
        );
    }

    #[test]
    fn a_step_survives_its_access_record() {
        for step in [
            Step::Take,
            Step::Assign {
                to: "王师傅".into(),
            },
            Step::Comment {
                text: "在路上".into(),
            },
            Step::Done {
                text: "已处理".into(),
            },
            Step::FalseAlarm {
                reason: "反光".into(),
            },
            Step::Reopen,
        ] {
            assert_eq!(Step::from_record(step.action(), step.detail()), Some(step));
        }
    }
}
