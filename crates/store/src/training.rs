//! Training and awareness (7.2, 7.3): courses, their assignment to people
//! with due dates, completions (every attempt kept), reminders, and
//! competence (requirements per role, evidence per person). The rules
//! (scoring, expiry, status, refusals) live in `isms_domain::training`; this
//! file loads, claims versions, calls them, writes and audits, each change in
//! one transaction.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use isms_domain::Role;
use isms_domain::training::{
    self as rules, Audience, CourseFields, CourseStatus, Day, Passed, Quiz, Refused, Status,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::due::DueItem;
use crate::notifications::NewNotification;
use crate::versioned::{self, Claim, Key, Target};
use crate::{Result, Store, StoreError, Tx, is_unique_violation, now, on_pool, on_tx};

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// Today (UTC) as a [`Day`].
pub fn today() -> Day {
    let n = now();
    n.get(..10).and_then(|d| d.parse().ok()).unwrap_or(Day {
        year: 2000,
        month: 1,
        day: 1,
    })
}

fn day(field: &str, s: &str) -> Result<Day> {
    s.trim().parse::<Day>().map_err(|_| {
        invalid(format!(
            "{field}: '{}' is not a date (YYYY-MM-DD)",
            s.trim()
        ))
    })
}

fn opt_day(s: &str) -> Option<Day> {
    s.parse().ok()
}

// ---------------------------------------------------------------- courses

/// A course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Course {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// Markdown.
    pub content: String,
    pub link: String,
    /// 0: a completion never expires.
    pub validity_months: i64,
    pub quiz: Option<Quiz>,
    /// active or retired (a retired course takes no new assignments).
    pub status: CourseStatus,
    /// When it was retired (RFC 3339), "" while active.
    pub retired_at: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub updated_by: String,
}

#[derive(sqlx::FromRow)]
struct CourseRow {
    id: i64,
    title: String,
    description: String,
    content: String,
    link: String,
    quiz_json: Option<String>,
    validity_months: i64,
    status: String,
    retired_at: String,
    version: i64,
    created_at: String,
    updated_at: String,
    updated_by: String,
}

impl CourseRow {
    fn into_course(self) -> Course {
        Course {
            id: self.id,
            title: self.title,
            description: self.description,
            content: self.content,
            link: self.link,
            validity_months: self.validity_months,
            quiz: self
                .quiz_json
                .as_deref()
                .and_then(|q| serde_json::from_str(q).ok()),
            status: self.status.parse().unwrap_or(CourseStatus::Active),
            retired_at: self.retired_at,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        }
    }
}

const COURSE_SELECT: &str = "SELECT id, title, description, content, link, quiz_json, validity_months, status, retired_at, \
     version, created_at, updated_at, updated_by FROM courses WHERE org_id = $1";

/// Fields of a course to create or change. Absent fields keep their value;
/// `quiz: null` removes the quiz. `version` is required to change.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CourseInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub content: Option<String>,
    pub link: Option<String>,
    pub validity_months: Option<i64>,
    /// Absent: unchanged; `null`: no quiz; an object: `{pass_mark, questions: [{text, options, answer}]}`.
    #[serde(default, deserialize_with = "present")]
    pub quiz: Option<serde_json::Value>,
    pub version: Option<i64>,
}

/// Keeps a JSON `null` as `Some(Value::Null)` so it differs from absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

fn apply_course_input(c: &Course, input: &CourseInput) -> Result<Course> {
    let quiz = match &input.quiz {
        None => c.quiz.clone(),
        Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<Quiz>(v.clone()).map_err(|e| invalid(format!("quiz: {e}")))?,
        ),
    };
    let fields = CourseFields {
        title: input.title.clone().unwrap_or_else(|| c.title.clone()),
        description: input
            .description
            .clone()
            .unwrap_or_else(|| c.description.clone()),
        content: input.content.clone().unwrap_or_else(|| c.content.clone()),
        link: input.link.clone().unwrap_or_else(|| c.link.clone()),
        validity_months: input.validity_months.unwrap_or(c.validity_months),
        quiz,
    }
    .validate()
    .map_err(invalid)?;
    Ok(Course {
        title: fields.title,
        description: fields.description,
        content: fields.content,
        link: fields.link,
        validity_months: fields.validity_months,
        quiz: fields.quiz,
        ..c.clone()
    })
}

fn quiz_json(q: Option<&Quiz>) -> Option<String> {
    q.map(|q| serde_json::to_string(q).unwrap_or_default())
}

fn course_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no course {id} in this organisation"))
}

fn title_taken(title: &str) -> StoreError {
    StoreError::Conflict(format!(
        "title: a course named '{title}' exists already in this organisation"
    ))
}

async fn course_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<Course>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, CourseRow>(&format!(
        "{COURSE_SELECT} AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(CourseRow::into_course))
}

/// A course in the list, with where its assignees stand.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CourseSummary {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub validity_months: i64,
    pub has_quiz: bool,
    /// active or retired.
    pub status: String,
    pub assigned: i64,
    /// Assignees holding a valid completion.
    pub completed: i64,
    pub overdue: i64,
}

impl CourseSummary {
    /// Completed of assigned, in whole percent (100 when nobody is assigned).
    pub fn percent(&self) -> i64 {
        if self.assigned == 0 {
            100
        } else {
            self.completed * 100 / self.assigned
        }
    }
}

impl Store {
    /// Creates a course.
    pub async fn create_course(
        &self,
        org_id: i64,
        input: &CourseInput,
        actor: &Actor,
    ) -> Result<Course> {
        let at = now();
        let blank = Course {
            id: 0,
            title: String::new(),
            description: String::new(),
            content: String::new(),
            link: String::new(),
            validity_months: 12,
            quiz: None,
            status: CourseStatus::Active,
            retired_at: String::new(),
            version: 1,
            created_at: at.clone(),
            updated_at: at.clone(),
            updated_by: actor.label.clone(),
        };
        let mut c = apply_course_input(&blank, input)?;
        let mut tx = self.begin().await?;
        let inserted: std::result::Result<(i64,), sqlx::Error> = on_tx!(&mut tx, |x| {
            sqlx::query_as(
                "INSERT INTO courses (org_id, title, description, content, link, quiz_json, validity_months, \
                 created_at, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id",
            )
            .bind(org_id)
            .bind(&c.title)
            .bind(&c.description)
            .bind(&c.content)
            .bind(&c.link)
            .bind(quiz_json(c.quiz.as_ref()))
            .bind(c.validity_months)
            .bind(&at)
            .bind(&actor.label)
            .fetch_one(x)
            .await
        });
        let (id,) = match inserted {
            Err(e) if is_unique_violation(&e) => return Err(title_taken(&c.title)),
            r => r?,
        };
        c.id = id;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "course",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&c).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(c)
    }

    /// One course.
    pub async fn course(&self, org_id: i64, id: i64) -> Result<Course> {
        let row = on_pool!(self, |p| sqlx::query_as::<_, CourseRow>(&format!(
            "{COURSE_SELECT} AND id = $2"
        ))
        .bind(org_id)
        .bind(id)
        .fetch_optional(p)
        .await)?;
        row.map(CourseRow::into_course)
            .ok_or_else(|| course_missing(id))
    }

    /// Changes a course if `version` is current.
    pub async fn update_course(
        &self,
        org_id: i64,
        id: i64,
        input: &CourseInput,
        actor: &Actor,
    ) -> Result<Course> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the course"));
        };
        let mut tx = self.begin().await?;
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "courses",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("course {id}"),
            async |tx| course_in_tx(tx, org_id, id).await,
            || course_missing(id),
        )
        .await?;
        let mut after = apply_course_input(&before, input)?;
        if after == before {
            return Ok(before);
        }
        after.version = sent + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        let updated: std::result::Result<u64, sqlx::Error> = on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE courses SET title = $1, description = $2, content = $3, link = $4, quiz_json = $5, \
                 validity_months = $6, updated_at = $7, updated_by = $8 WHERE org_id = $9 AND id = $10",
            )
            .bind(&after.title)
            .bind(&after.description)
            .bind(&after.content)
            .bind(&after.link)
            .bind(quiz_json(after.quiz.as_ref()))
            .bind(after.validity_months)
            .bind(&after.updated_at)
            .bind(&after.updated_by)
            .bind(org_id)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        });
        match updated {
            Err(e) if is_unique_violation(&e) => return Err(title_taken(&after.title)),
            r => r?,
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "course",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Retires a course (`CourseStatus::Retired`: no new assignments; its
    /// assignments and records stay readable) or reactivates it. `sent` is
    /// the version read; absent, the course as it is now.
    pub async fn set_course_status(
        &self,
        org_id: i64,
        id: i64,
        to: CourseStatus,
        sent: Option<i64>,
        actor: &Actor,
    ) -> Result<Course> {
        let mut tx = self.begin().await?;
        let sent = match sent {
            Some(v) => v,
            None => {
                course_in_tx(&mut tx, org_id, id)
                    .await?
                    .ok_or_else(|| course_missing(id))?
                    .version
            }
        };
        let before = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "courses",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("course {id}"),
            async |tx| course_in_tx(tx, org_id, id).await,
            || course_missing(id),
        )
        .await?;
        rules::status_change(&before.title, before.status, to).map_err(StoreError::Conflict)?;
        let at = now();
        let mut after = before.clone();
        after.status = to;
        after.retired_at = if to == CourseStatus::Retired {
            at.clone()
        } else {
            String::new()
        };
        after.version = sent + 1;
        after.updated_at.clone_from(&at);
        after.updated_by.clone_from(&actor.label);
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE courses SET status = $1, retired_at = $2, updated_at = $3, updated_by = $4 WHERE org_id = $5 AND id = $6",
            )
            .bind(to.as_str())
            .bind(&after.retired_at)
            .bind(&at)
            .bind(&actor.label)
            .bind(org_id)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: if to == CourseStatus::Retired {
                    "retire"
                } else {
                    "reactivate"
                },
                entity_type: "course",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Every course (active and retired) with its completion figures, by title. One query.
    pub async fn courses(&self, org_id: i64) -> Result<Vec<CourseSummary>> {
        let mut list: Vec<CourseSummary> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT c.id, c.title, c.description, c.validity_months, c.quiz_json IS NOT NULL AS has_quiz, c.status, \
             CAST(0 AS BIGINT) AS assigned, CAST(0 AS BIGINT) AS completed, CAST(0 AS BIGINT) AS overdue FROM courses c WHERE c.org_id = $1 ORDER BY c.title, c.id"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?;
        let all = self
            .assignments(org_id, &AssignmentFilter::default())
            .await?;
        for c in &mut list {
            for a in all.iter().filter(|a| a.course_id == c.id) {
                c.assigned += 1;
                if a.status.is_valid() {
                    c.completed += 1;
                }
                if a.status == Status::Overdue {
                    c.overdue += 1;
                }
            }
        }
        Ok(list)
    }
}

// ---------------------------------------------------------------- assignments

/// One person's assignment of one course, with where they stand today.
#[derive(Debug, Clone, Serialize)]
pub struct Assignment {
    pub id: i64,
    pub course_id: i64,
    pub course_title: String,
    #[serde(skip)]
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub due_date: String,
    pub status: Status,
    /// The date of the last passed completion, if any.
    pub completed_on: Option<String>,
    /// The score of that completion (percent), for a course with a quiz.
    pub score: Option<i64>,
    /// When that completion stops counting ("" never).
    pub expires_on: Option<String>,
    /// Submissions so far, passed or not.
    pub attempts: i64,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: i64,
    course_id: i64,
    course_title: String,
    user_id: i64,
    email: String,
    display_name: String,
    due_date: String,
    version: i64,
    completed_on: Option<String>,
    score: Option<i64>,
    expires_on: Option<String>,
    attempts: i64,
}

fn last_pass(completed_on: Option<&str>, expires_on: Option<&str>) -> Option<Passed> {
    let on = opt_day(completed_on?)?;
    Some(Passed {
        on,
        expires: expires_on.and_then(opt_day),
    })
}

impl AssignmentRow {
    fn into_assignment(self, today: Day) -> Assignment {
        let due = opt_day(&self.due_date).unwrap_or(today);
        let status = rules::status(
            today,
            due,
            last_pass(self.completed_on.as_deref(), self.expires_on.as_deref()),
        );
        Assignment {
            id: self.id,
            course_id: self.course_id,
            course_title: self.course_title,
            user_id: self.user_id,
            email: self.email,
            display_name: self.display_name,
            due_date: self.due_date,
            status,
            completed_on: self.completed_on,
            score: self.score,
            expires_on: self.expires_on,
            attempts: self.attempts,
            version: self.version,
        }
    }
}

/// Assignments of active members, each with its last passed completion.
const ASSIGNMENT_SELECT: &str = "SELECT a.id, a.course_id, c.title AS course_title, a.user_id, u.email, u.display_name, \
     a.due_date, a.version, tc.completed_on, tc.score, tc.expires_on, \
     (SELECT COUNT(*) FROM training_completions t3 WHERE t3.org_id = a.org_id AND t3.assignment_id = a.id) AS attempts \
     FROM course_assignments a \
     JOIN courses c ON c.org_id = a.org_id AND c.id = a.course_id \
     JOIN users u ON u.id = a.user_id \
     JOIN memberships m ON m.org_id = a.org_id AND m.user_id = a.user_id AND m.active \
     LEFT JOIN training_completions tc ON tc.org_id = a.org_id AND tc.id = \
       (SELECT MAX(t2.id) FROM training_completions t2 WHERE t2.org_id = a.org_id AND t2.assignment_id = a.id AND t2.passed) \
     WHERE a.org_id = $1";

/// Which assignments to list.
#[derive(Debug, Clone, Default)]
pub struct AssignmentFilter {
    pub course_id: Option<i64>,
    pub user_id: Option<i64>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<Status>,
}

/// What an assignment did.
#[derive(Debug, Clone, Serialize)]
pub struct AssignOutcome {
    pub course_id: i64,
    pub due_date: String,
    /// Newly assigned (e-mail addresses).
    pub assigned: Vec<String>,
    /// Assigned before: left as they were (move their due date on the assignment).
    pub already_assigned: Vec<String>,
}

/// A due date change (`version` required).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssignmentInput {
    pub due_date: Option<String>,
    pub version: Option<i64>,
}

/// The result of a submission.
#[derive(Debug, Clone, Serialize)]
pub struct Submission {
    pub assignment_id: i64,
    pub course_id: i64,
    pub passed: bool,
    /// Percent of right answers; none for a course without a quiz.
    pub score: Option<i64>,
    pub correct: Option<usize>,
    pub total: Option<usize>,
    pub completed_on: String,
    /// When the completion stops counting ("" never; none when failed).
    pub expires_on: Option<String>,
    pub attempts: i64,
}

/// One submission, as the auditor reads it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TrainingRecord {
    pub id: i64,
    pub course_id: i64,
    pub course_title: String,
    pub email: String,
    pub display_name: String,
    pub due_date: String,
    pub completed_at: String,
    pub completed_on: String,
    pub score: Option<i64>,
    pub passed: bool,
    pub expires_on: String,
}

fn assignment_missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("no training assignment {id} in this organisation"))
}

async fn assignment_in_tx(tx: &mut Tx, org_id: i64, id: i64) -> Result<Option<Assignment>> {
    let row = on_tx!(tx, |c| sqlx::query_as::<_, AssignmentRow>(&format!(
        "{ASSIGNMENT_SELECT} AND a.id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|r| r.into_assignment(today())))
}

/// Active members of the audience: (user id, e-mail). Named people who are
/// not active members of this organisation are refused, naming the first.
async fn audience_members(
    tx: &mut Tx,
    org_id: i64,
    audience: &Audience,
) -> Result<Vec<(i64, String)>> {
    let members: Vec<(i64, String, String)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT u.id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 AND m.active ORDER BY u.email"
    )
    .bind(org_id)
    .fetch_all(c)
    .await)?;
    Ok(match audience {
        Audience::All => members.into_iter().map(|(id, e, _)| (id, e)).collect(),
        Audience::Role(r) => members
            .into_iter()
            .filter(|(_, _, role)| role == r.as_str())
            .map(|(id, e, _)| (id, e))
            .collect(),
        Audience::People(emails) => {
            let mut out = Vec::with_capacity(emails.len());
            for (i, e) in emails.iter().enumerate() {
                let Some((id, email, _)) = members.iter().find(|(_, m, _)| m == e) else {
                    return Err(invalid(format!(
                        "to[{i}]: {e} is not an active member of this organisation"
                    )));
                };
                out.push((*id, email.clone()));
            }
            out
        }
    })
}

impl Store {
    /// Assigns a course to an audience with a due date: one assignment per
    /// person, people assigned before left as they were; each newly assigned
    /// person gets an inbox message. All or nothing.
    pub async fn assign_course(
        &self,
        org_id: i64,
        course_id: i64,
        audience: &Audience,
        due_date: &str,
        actor: &Actor,
    ) -> Result<AssignOutcome> {
        let due = day("due_date", due_date)?;
        if due < today() {
            return Err(invalid(format!(
                "due_date: {due} has passed: give a date from today on"
            )));
        }
        let due = due.to_string();
        let mut tx = self.begin().await?;
        let course = course_in_tx(&mut tx, org_id, course_id)
            .await?
            .ok_or_else(|| course_missing(course_id))?;
        if course.status == CourseStatus::Retired {
            return Err(StoreError::Conflict(format!(
                "course: “{}” (course {course_id}) is retired and takes no new assignments; reactivate it first",
                course.title
            )));
        }
        let people = audience_members(&mut tx, org_id, audience).await?;
        if people.is_empty() {
            return Err(invalid("to: nobody in this organisation matches"));
        }
        let existing: Vec<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT user_id FROM course_assignments WHERE org_id = $1 AND course_id = $2"
        )
        .bind(org_id)
        .bind(course_id)
        .fetch_all(c)
        .await)?;
        let (already, new): (Vec<_>, Vec<_>) = people
            .into_iter()
            .partition(|(id, _)| existing.iter().any(|(e,)| e == id));
        let at = now();
        for chunk in new.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO course_assignments (org_id, course_id, user_id, due_date, assigned_by, created_at, updated_at, updated_by) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = 6 + i;
                if i > 0 {
                    sql.push_str(", ");
                }
                let _ = write!(sql, "($1, $2, ${b}, $3, $4, $5, $5, $4)");
            }
            on_tx!(&mut tx, |c| {
                let mut q = sqlx::query(&sql)
                    .bind(org_id)
                    .bind(course_id)
                    .bind(&due)
                    .bind(&actor.label)
                    .bind(&at);
                for (id, _) in chunk {
                    q = q.bind(*id);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        let outcome = AssignOutcome {
            course_id,
            due_date: due.clone(),
            assigned: new.iter().map(|(_, e)| e.clone()).collect(),
            already_assigned: already.iter().map(|(_, e)| e.clone()).collect(),
        };
        if !new.is_empty() {
            audit::record(
                &mut tx,
                actor,
                Change {
                    org_id,
                    action: "assign",
                    entity_type: "course_assignment",
                    entity_id: course_id.to_string(),
                    before: None,
                    after: Some(json!({
                        "course": course.title,
                        "due_date": due,
                        "people": outcome.assigned,
                    })),
                },
            )
            .await?;
        }
        tx.commit().await?;
        let title = format!("Training to complete by {due}: {}", course.title);
        let link = format!("/training/courses/{course_id}");
        for (user_id, _) in &new {
            self.notify(
                org_id,
                *user_id,
                &NewNotification {
                    category: "training_assignment",
                    title: &title,
                    body: "A course was assigned to you. Open it, work through it and complete it (with its quiz, if it has one) by the due date.",
                    link: &link,
                    dedupe_key: Some(&format!("training-assigned-{course_id}-{user_id}")),
                },
            )
            .await?;
        }
        Ok(outcome)
    }

    /// Moves the due date of an assignment if `version` is current.
    pub async fn update_assignment(
        &self,
        org_id: i64,
        id: i64,
        input: &AssignmentInput,
        actor: &Actor,
    ) -> Result<Assignment> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the assignment"));
        };
        let Some(due) = input.due_date.as_deref() else {
            return Err(invalid("due_date: required"));
        };
        let due = day("due_date", due)?.to_string();
        let mut tx = self.begin().await?;
        let claim = versioned::claim(
            &mut tx,
            &Target {
                table: "course_assignments",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
        )
        .await?;
        let before = match claim {
            Claim::Missing => return Err(assignment_missing(id)),
            Claim::Stale { current } => {
                let (by, at): (String, String) = on_tx!(&mut tx, |c| {
                    sqlx::query_as(
                    "SELECT updated_by, updated_at FROM course_assignments WHERE org_id = $1 AND id = $2"
                )
                .bind(org_id)
                .bind(id)
                .fetch_one(c)
                .await
                })?;
                return Err(versioned::stale(
                    &format!("assignment {id}"),
                    current,
                    sent,
                    &by,
                    &at,
                ));
            }
            Claim::Won => {
                let mut a = assignment_in_tx(&mut tx, org_id, id)
                    .await?
                    .ok_or_else(|| assignment_missing(id))?;
                a.version = sent;
                a
            }
        };
        let at = now();
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE course_assignments SET due_date = $1, updated_at = $2, updated_by = $3 WHERE org_id = $4 AND id = $5"
        )
        .bind(&due)
        .bind(&at)
        .bind(&actor.label)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        let mut after = assignment_in_tx(&mut tx, org_id, id)
            .await?
            .ok_or_else(|| assignment_missing(id))?;
        after.version = sent + 1;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "course_assignment",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Assignments of active members, by due date, with their status today.
    pub async fn assignments(
        &self,
        org_id: i64,
        filter: &AssignmentFilter,
    ) -> Result<Vec<Assignment>> {
        let mut sql = String::from(ASSIGNMENT_SELECT);
        if filter.course_id.is_some() {
            sql.push_str(" AND a.course_id = $2");
        }
        if filter.user_id.is_some() {
            sql.push_str(if filter.course_id.is_some() {
                " AND a.user_id = $3"
            } else {
                " AND a.user_id = $2"
            });
        }
        sql.push_str(" ORDER BY a.due_date, c.title, u.email");
        let rows: Vec<AssignmentRow> = on_pool!(self, |p| {
            let mut q = sqlx::query_as::<_, AssignmentRow>(&sql).bind(org_id);
            if let Some(c) = filter.course_id {
                q = q.bind(c);
            }
            if let Some(u) = filter.user_id {
                q = q.bind(u);
            }
            q.fetch_all(p).await
        })?;
        let today = today();
        Ok(rows
            .into_iter()
            .map(|r| r.into_assignment(today))
            .filter(|a| filter.statuses.is_empty() || filter.statuses.contains(&a.status))
            .collect())
    }

    /// Records that `user_id` completed `course_id` today, scoring the quiz
    /// when the course has one. Refused (nothing stored) when the course is
    /// not assigned to them, when they hold a valid completion already
    /// (409), or after the due date (422). A failed attempt is stored too.
    pub async fn complete_course(
        &self,
        org_id: i64,
        course_id: i64,
        user_id: i64,
        answers: Option<&[usize]>,
        actor: &Actor,
    ) -> Result<Submission> {
        let mut tx = self.begin().await?;
        let course = course_in_tx(&mut tx, org_id, course_id)
            .await?
            .ok_or_else(|| course_missing(course_id))?;
        let found: Option<(i64, i64)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT id, version FROM course_assignments WHERE org_id = $1 AND course_id = $2 AND user_id = $3"
        )
        .bind(org_id)
        .bind(course_id)
        .bind(user_id)
        .fetch_optional(c)
        .await
        })?;
        let Some((assignment_id, version)) = found else {
            return Err(invalid(format!(
                "course: '{}' is not assigned to you: nothing to complete",
                course.title
            )));
        };
        // Claiming the assignment serialises two submissions of one person:
        // the second waits, then sees the first one's completion.
        let target = Target {
            table: "course_assignments",
            org_id,
            keys: &[("id", Key::Int(assignment_id))],
        };
        if versioned::claim(&mut tx, &target, version).await? != Claim::Won {
            return Err(StoreError::Conflict(
                "another submission of this course was being recorded: reload to see it".into(),
            ));
        }
        let a = assignment_in_tx(&mut tx, org_id, assignment_id)
            .await?
            .ok_or_else(|| assignment_missing(assignment_id))?;
        let today = today();
        let due = day("due_date", &a.due_date)?;
        let pass = last_pass(a.completed_on.as_deref(), a.expires_on.as_deref());
        rules::may_submit(today, due, pass).map_err(|r| match r {
            Refused::AlreadyCompleted { .. } => StoreError::Conflict(r.to_string()),
            Refused::PastDue { .. } => invalid(format!("due_date: {r}")),
        })?;
        let (score, passed, correct, total) = match (&course.quiz, answers) {
            (Some(q), Some(ans)) => {
                let s = rules::score(q, ans).map_err(invalid)?;
                (Some(s.percent), s.passed, Some(s.correct), Some(s.total))
            }
            (Some(q), None) => {
                return Err(invalid(format!(
                    "answers: required: this course has a quiz of {} question(s)",
                    q.questions.len()
                )));
            }
            (None, Some(ans)) if !ans.is_empty() => {
                return Err(invalid("answers: this course has no quiz"));
            }
            (None, _) => (None, true, None, None),
        };
        let expires = if passed {
            Some(
                rules::expiry(today, course.validity_months)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            )
        } else {
            None
        };
        let at = now();
        let on = today.to_string();
        let answers_json = serde_json::to_string(&answers.unwrap_or_default()).unwrap_or_default();
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO training_completions (org_id, assignment_id, completed_at, completed_on, score, passed, expires_on, answers_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
        )
        .bind(org_id)
        .bind(assignment_id)
        .bind(&at)
        .bind(&on)
        .bind(score)
        .bind(passed)
        .bind(expires.clone().unwrap_or_default())
        .bind(&answers_json)
        .fetch_one(c)
        .await
        })?;
        let submission = Submission {
            assignment_id,
            course_id,
            passed,
            score,
            correct,
            total,
            completed_on: on,
            expires_on: expires,
            attempts: a.attempts + 1,
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: if passed { "complete" } else { "fail" },
                entity_type: "training_completion",
                entity_id: id.to_string(),
                before: None,
                after: Some(json!({
                    "course": course.title,
                    "person": a.email,
                    "result": submission,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(submission)
    }

    /// Every submission (passed or failed) of active members, newest first:
    /// the training records an auditor reads.
    pub async fn training_records(&self, org_id: i64) -> Result<Vec<TrainingRecord>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT t.id, a.course_id, c.title AS course_title, u.email, u.display_name, a.due_date, \
             t.completed_at, t.completed_on, t.score, t.passed, t.expires_on \
             FROM training_completions t \
             JOIN course_assignments a ON a.org_id = t.org_id AND a.id = t.assignment_id \
             JOIN courses c ON c.org_id = a.org_id AND c.id = a.course_id \
             JOIN users u ON u.id = a.user_id \
             WHERE t.org_id = $1 ORDER BY t.completed_at DESC, t.id DESC"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Sends every person with an overdue course an inbox message (once per
    /// assignment and due date). Returns how many were sent.
    pub async fn remind_overdue_training(&self, org_id: i64) -> Result<usize> {
        let overdue = self
            .assignments(
                org_id,
                &AssignmentFilter {
                    statuses: vec![Status::Overdue],
                    ..AssignmentFilter::default()
                },
            )
            .await?;
        let mut sent = 0;
        for a in &overdue {
            let title = format!("Overdue training: {} (due {})", a.course_title, a.due_date);
            if self
                .notify(
                    org_id,
                    a.user_id,
                    &NewNotification {
                        category: "training_overdue",
                        title: &title,
                        body: "This course is past its due date. Ask your training manager for a new date, then complete it.",
                        link: &format!("/training/courses/{}", a.course_id),
                        dedupe_key: Some(&format!("training-overdue-{}-{}", a.id, a.due_date)),
                    },
                )
                .await?
            {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Training with a person and a date: assignments not yet completed
    /// (due date) and valid completions that expire (expiry date), on or
    /// before `until`.
    pub async fn training_due_items(&self, org_id: i64, until: &str) -> Result<Vec<DueItem>> {
        let all = self
            .assignments(org_id, &AssignmentFilter::default())
            .await?;
        // A retired course asks nothing more of anyone.
        let retired: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM courses WHERE org_id = $1 AND status = 'retired'"
        )
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        let mut out = Vec::new();
        for a in all
            .into_iter()
            .filter(|a| !retired.iter().any(|(r,)| *r == a.course_id))
        {
            let link = format!("/training/courses/{}", a.course_id);
            if a.status.is_valid() {
                if let Some(e) = a
                    .expires_on
                    .as_deref()
                    .filter(|e| !e.is_empty() && *e <= until)
                {
                    out.push(DueItem {
                        kind: "training_expiry",
                        id: a.id,
                        title: format!("Training expires: {} ({})", a.course_title, a.email),
                        owner: Some(a.email.clone()),
                        due_date: e.to_owned(),
                        link,
                    });
                }
            } else if a.due_date.as_str() <= until {
                out.push(DueItem {
                    kind: "training_due",
                    id: a.id,
                    title: format!("Complete training: {}", a.course_title),
                    owner: Some(a.email),
                    due_date: a.due_date,
                    link,
                });
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------- competence

/// What a role requires (clause 7.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CompetenceRequirement {
    pub id: i64,
    pub role: String,
    pub title: String,
    pub description: String,
    pub version: i64,
}

/// Evidence a person holds for a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CompetenceRecord {
    pub id: i64,
    pub email: String,
    pub requirement_id: i64,
    pub requirement: String,
    /// Text or a link: a certificate, a course, experience.
    pub evidence: String,
    pub achieved_on: String,
    /// "" when it does not expire.
    pub expires_on: String,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

/// A requirement to add.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequirementInput {
    pub role: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// Evidence to record (`person`, `requirement`, `evidence`, `achieved_on`),
/// or a change to it (`version` required).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompetenceInput {
    /// E-mail of a member.
    pub person: Option<String>,
    pub requirement: Option<i64>,
    pub evidence: Option<String>,
    pub achieved_on: Option<String>,
    /// YYYY-MM-DD or "".
    pub expires_on: Option<String>,
    pub version: Option<i64>,
}

/// One person: what their role requires, what they hold, what is missing.
#[derive(Debug, Clone, Serialize)]
pub struct PersonCompetence {
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub required: usize,
    pub records: Vec<CompetenceRecord>,
    pub gaps: Vec<rules::Gap>,
}

const RECORD_SELECT: &str = "SELECT r.id, u.email, r.requirement_id, q.title AS requirement, r.evidence, r.achieved_on, \
     r.expires_on, r.version, r.updated_at, r.updated_by FROM competence_records r \
     JOIN users u ON u.id = r.user_id \
     JOIN competence_requirements q ON q.org_id = r.org_id AND q.id = r.requirement_id \
     WHERE r.org_id = $1";

fn check_evidence(r: &mut CompetenceRecord) -> Result<()> {
    r.evidence = r.evidence.trim().to_owned();
    if r.evidence.is_empty() || r.evidence.chars().count() > 2000 {
        return Err(invalid(
            "evidence: 1 to 2000 characters (what proves it, or a link)",
        ));
    }
    let achieved = day("achieved_on", &r.achieved_on)?;
    if achieved > today() {
        return Err(invalid(format!("achieved_on: {achieved} is in the future")));
    }
    r.achieved_on = achieved.to_string();
    r.expires_on = r.expires_on.trim().to_owned();
    if !r.expires_on.is_empty() {
        let e = day("expires_on", &r.expires_on)?;
        if e <= achieved {
            return Err(invalid("expires_on: must be after achieved_on"));
        }
        r.expires_on = e.to_string();
    }
    Ok(())
}

impl Store {
    /// Adds a requirement to a role.
    pub async fn create_competence_requirement(
        &self,
        org_id: i64,
        input: &RequirementInput,
        actor: &Actor,
    ) -> Result<CompetenceRequirement> {
        let role: Role = input
            .role
            .as_deref()
            .ok_or_else(|| invalid("role: required"))?
            .parse()
            .map_err(|e| invalid(format!("role: {e}")))?;
        let title = input.title.as_deref().unwrap_or("").trim().to_owned();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(invalid("title: 1 to 200 characters"));
        }
        let description = input.description.as_deref().unwrap_or("").trim().to_owned();
        if description.chars().count() > 2000 {
            return Err(invalid("description: at most 2000 characters"));
        }
        let at = now();
        let mut tx = self.begin().await?;
        let inserted: std::result::Result<(i64,), sqlx::Error> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO competence_requirements (org_id, role, title, description, created_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id"
        )
        .bind(org_id)
        .bind(role.as_str())
        .bind(&title)
        .bind(&description)
        .bind(&at)
        .bind(&actor.label)
        .fetch_one(c)
        .await
        });
        let (id,) = match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "title: the role {role} already requires '{title}'"
                )));
            }
            r => r?,
        };
        let r = CompetenceRequirement {
            id,
            role: role.as_str().to_owned(),
            title,
            description,
            version: 1,
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "competence_requirement",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&r).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Every requirement, by role and title.
    pub async fn competence_requirements(&self, org_id: i64) -> Result<Vec<CompetenceRequirement>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, role, title, description, version FROM competence_requirements WHERE org_id = $1 ORDER BY role, title"
        )
        .bind(org_id)
        .fetch_all(p)
        .await
        })?)
    }

    /// Records a person's evidence for a requirement. The person must be an
    /// active member of this organisation.
    pub async fn record_competence(
        &self,
        org_id: i64,
        input: &CompetenceInput,
        actor: &Actor,
    ) -> Result<CompetenceRecord> {
        let person = input
            .person
            .as_deref()
            .map(|p| p.trim().to_lowercase())
            .filter(|p| !p.is_empty())
            .ok_or_else(|| invalid("person: required (the e-mail of a member)"))?;
        let requirement_id = input
            .requirement
            .ok_or_else(|| invalid("requirement: required (the id of a requirement)"))?;
        let mut r = CompetenceRecord {
            id: 0,
            email: person.clone(),
            requirement_id,
            requirement: String::new(),
            evidence: input.evidence.clone().unwrap_or_default(),
            achieved_on: input.achieved_on.clone().unwrap_or_default(),
            expires_on: input.expires_on.clone().unwrap_or_default(),
            version: 1,
            updated_at: now(),
            updated_by: actor.label.clone(),
        };
        check_evidence(&mut r)?;
        let mut tx = self.begin().await?;
        let people = audience_members(&mut tx, org_id, &Audience::People(vec![person.clone()]))
            .await
            .map_err(|_| {
                invalid(format!(
                    "person: {person} is not an active member of this organisation"
                ))
            })?;
        let user_id = people[0].0;
        let req: Option<(String,)> = on_tx!(&mut tx, |c| sqlx::query_as(
            "SELECT title FROM competence_requirements WHERE org_id = $1 AND id = $2"
        )
        .bind(org_id)
        .bind(requirement_id)
        .fetch_optional(c)
        .await)?;
        let Some((title,)) = req else {
            return Err(invalid(format!(
                "requirement: no requirement {requirement_id} in this organisation"
            )));
        };
        r.requirement = title;
        let (id,): (i64,) = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "INSERT INTO competence_records (org_id, user_id, requirement_id, evidence, achieved_on, expires_on, created_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id"
        )
        .bind(org_id)
        .bind(user_id)
        .bind(requirement_id)
        .bind(&r.evidence)
        .bind(&r.achieved_on)
        .bind(&r.expires_on)
        .bind(&r.updated_at)
        .bind(&actor.label)
        .fetch_one(c)
        .await
        })?;
        r.id = id;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "create",
                entity_type: "competence_record",
                entity_id: id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&r).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Changes the evidence or dates of a record if `version` is current.
    pub async fn update_competence_record(
        &self,
        org_id: i64,
        id: i64,
        input: &CompetenceInput,
        actor: &Actor,
    ) -> Result<CompetenceRecord> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" of the record"));
        };
        let missing =
            || StoreError::NotFound(format!("no competence record {id} in this organisation"));
        let mut tx = self.begin().await?;
        let before: CompetenceRecord = versioned::claim_and_load(
            &mut tx,
            &Target {
                table: "competence_records",
                org_id,
                keys: &[("id", Key::Int(id))],
            },
            sent,
            &format!("competence record {id}"),
            async |tx| {
                on_tx!(tx, |c| sqlx::query_as(&format!(
                    "{RECORD_SELECT} AND r.id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(c)
                .await)
                .map_err(Into::into)
            },
            missing,
        )
        .await?;
        let mut after = before.clone();
        if let Some(e) = &input.evidence {
            after.evidence.clone_from(e);
        }
        if let Some(a) = &input.achieved_on {
            after.achieved_on.clone_from(a);
        }
        if let Some(e) = &input.expires_on {
            after.expires_on.clone_from(e);
        }
        check_evidence(&mut after)?;
        if after == before {
            return Ok(before);
        }
        after.version = sent + 1;
        after.updated_at = now();
        after.updated_by.clone_from(&actor.label);
        on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE competence_records SET evidence = $1, achieved_on = $2, expires_on = $3, updated_at = $4, updated_by = $5 \
             WHERE org_id = $6 AND id = $7"
        )
        .bind(&after.evidence)
        .bind(&after.achieved_on)
        .bind(&after.expires_on)
        .bind(&after.updated_at)
        .bind(&after.updated_by)
        .bind(org_id)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "competence_record",
                entity_id: id.to_string(),
                before: Some(serde_json::to_value(&before).unwrap_or_default()),
                after: Some(serde_json::to_value(&after).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Every active member: what their role requires, the evidence they
    /// hold, and the gaps, by e-mail. Three queries.
    pub async fn competence(&self, org_id: i64) -> Result<Vec<PersonCompetence>> {
        let members = self.members(org_id).await?;
        let requirements = self.competence_requirements(org_id).await?;
        let records: Vec<CompetenceRecord> = on_pool!(self, |p| sqlx::query_as(&format!(
            "{RECORD_SELECT} ORDER BY u.email, q.title, r.achieved_on"
        ))
        .bind(org_id)
        .fetch_all(p)
        .await)?;
        let mut by_person: BTreeMap<&str, Vec<CompetenceRecord>> = BTreeMap::new();
        for r in &records {
            by_person
                .entry(r.email.as_str())
                .or_default()
                .push(r.clone());
        }
        let today = today();
        Ok(members
            .iter()
            .filter(|m| m.active)
            .map(|m| {
                let required: Vec<(i64, String)> = requirements
                    .iter()
                    .filter(|q| q.role == m.role.as_str())
                    .map(|q| (q.id, q.title.clone()))
                    .collect();
                let held = by_person.get(m.email.as_str()).cloned().unwrap_or_default();
                let held_days: Vec<(i64, Option<Day>)> = held
                    .iter()
                    .map(|r| (r.requirement_id, opt_day(&r.expires_on)))
                    .collect();
                PersonCompetence {
                    email: m.email.clone(),
                    display_name: m.display_name.clone(),
                    role: m.role.as_str().to_owned(),
                    required: required.len(),
                    gaps: rules::competence_gaps(today, &required, &held_days),
                    records: held,
                }
            })
            .collect())
    }

    /// The readiness items training provides: evidence of competence (7.2)
    /// and awareness (7.3).
    pub(crate) async fn training_readiness(
        &self,
        org_id: i64,
    ) -> Result<Vec<crate::ReadinessItem>> {
        let people = self.competence(org_id).await?;
        let required: usize = people.iter().map(|p| p.required).sum();
        let gaps: usize = people.iter().map(|p| p.gaps.len()).sum();
        let (state, detail) = if required == 0 {
            (
                crate::ReadinessState::Missing,
                "no role has competence requirements yet: say what each role must be able to do"
                    .to_owned(),
            )
        } else if gaps > 0 {
            let first = people.iter().find(|p| !p.gaps.is_empty());
            (
                crate::ReadinessState::Incomplete,
                format!(
                    "{gaps} of {required} required competence(s) lack current evidence (first: {} for {})",
                    first.map_or("", |p| p.gaps[0].title.as_str()),
                    first.map_or("", |p| p.email.as_str())
                ),
            )
        } else {
            (
                crate::ReadinessState::Ready,
                format!("evidence held for all {required} required competence(s)"),
            )
        };
        let competence = crate::ReadinessItem {
            key: "competence",
            clause: "7.2",
            title: "Evidence of competence",
            state,
            detail,
            link: "/training/competence",
        };
        let all = self
            .assignments(org_id, &AssignmentFilter::default())
            .await?;
        let valid = all.iter().filter(|a| a.status.is_valid()).count();
        let overdue = all.iter().filter(|a| a.status == Status::Overdue).count();
        let members = self
            .members(org_id)
            .await?
            .iter()
            .filter(|m| m.active)
            .count();
        let covered = {
            let mut people: Vec<i64> = all.iter().map(|a| a.user_id).collect();
            people.sort_unstable();
            people.dedup();
            people.len()
        };
        let (state, detail) = if all.is_empty() {
            (
                crate::ReadinessState::Missing,
                "no awareness training assigned: assign a course to all members".to_owned(),
            )
        } else if overdue > 0 || covered < members {
            (
                crate::ReadinessState::Incomplete,
                format!(
                    "{valid} of {} assigned course(s) completed, {overdue} overdue; {covered} of {members} member(s) have training assigned",
                    all.len()
                ),
            )
        } else {
            (
                crate::ReadinessState::Ready,
                format!(
                    "every member has training assigned; {valid} of {} completed, none overdue",
                    all.len()
                ),
            )
        };
        Ok(vec![
            competence,
            crate::ReadinessItem {
                key: "awareness",
                clause: "7.3",
                title: "Awareness",
                state,
                detail,
                link: "/training",
            },
        ])
    }
}

versioned::versioned_record!(Course, CompetenceRecord);
