//! The training API: courses, assignments, completions, records, competence.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_domain::Permission;
use isms_domain::training::{Audience, CourseStatus, Quiz, Status};
use isms_store::{
    AssignmentFilter, AssignmentInput, CompetenceInput, Course, CourseInput, RequirementInput,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, Problem, WebError};
use crate::isms_reports::Format;

/// A JSON body, or a problem that says what is wrong with it.
fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(t)| t).map_err(|e| {
        ApiError(WebError::new(
            e.status(),
            "Please check your input",
            format!("the request body is not valid: {}", e.body_text()),
        ))
    })
}

/// A course to create (`title`, and `content` or `link`) or a change to one
/// (`version` required). Absent fields keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CourseIn {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Markdown (raw HTML is shown as text).
    pub content: Option<String>,
    /// An http(s) address of the course elsewhere.
    pub link: Option<String>,
    /// 0 (a completion never expires) to 120; 12 when omitted on creation.
    pub validity_months: Option<i64>,
    /// `null` removes the quiz; `{"pass_mark": 80, "questions": [{"text", "options": [..], "answer": 0}]}`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Object)]
    pub quiz: Option<serde_json::Value>,
    pub version: Option<i64>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

impl From<CourseIn> for CourseInput {
    fn from(c: CourseIn) -> Self {
        CourseInput {
            title: c.title,
            description: c.description,
            content: c.content,
            link: c.link,
            validity_months: c.validity_months,
            quiz: c.quiz,
            version: c.version,
        }
    }
}

/// A question as shown: the right answer only to those who edit courses.
#[derive(Debug, Serialize)]
pub struct QuestionOut {
    pub text: String,
    pub options: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct QuizOut {
    pub pass_mark: i64,
    pub questions: Vec<QuestionOut>,
}

/// A course as the API shows it.
#[derive(Debug, Serialize)]
pub struct CourseOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub content: String,
    pub link: String,
    pub validity_months: i64,
    pub quiz: Option<QuizOut>,
    /// active or retired (a retired course takes no new assignments).
    pub status: &'static str,
    /// When it was retired, "" while active.
    pub retired_at: String,
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

pub(crate) fn quiz_out(q: &Quiz, answers: bool) -> QuizOut {
    QuizOut {
        pass_mark: q.pass_mark,
        questions: q
            .questions
            .iter()
            .map(|x| QuestionOut {
                text: x.text.clone(),
                options: x.options.clone(),
                answer: answers.then_some(x.answer),
            })
            .collect(),
    }
}

fn course_out(c: Course, answers: bool) -> CourseOut {
    CourseOut {
        id: c.id,
        quiz: c.quiz.as_ref().map(|q| quiz_out(q, answers)),
        title: c.title,
        description: c.description,
        content: c.content,
        link: c.link,
        validity_months: c.validity_months,
        status: c.status.as_str(),
        retired_at: c.retired_at,
        version: c.version,
        updated_at: c.updated_at,
        updated_by: c.updated_by,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CoursesQuery {
    /// active (the default), retired or all.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/courses", tag = "training", params(CoursesQuery),
    responses((status = 200, description = "The active courses (or `?status=retired|all`) with their completion figures", body = Vec<Object>),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_courses(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<CoursesQuery>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let want = match q.status.as_deref().map(str::trim) {
        None | Some("" | "active") => Some("active"),
        Some("retired") => Some("retired"),
        Some("all") => None,
        Some(other) => {
            return Err(WebError::invalid(format!(
                "status: '{other}' is not one of active, retired, all"
            ))
            .into());
        }
    };
    let list = state.store.courses(user.0.org_id).await?;
    Ok(Json(
        list.into_iter()
            .filter(|c| want.is_none_or(|w| c.status == w))
            .map(|c| {
                let percent = c.percent();
                let mut v = serde_json::to_value(c).unwrap_or_default();
                v["percent"] = percent.into();
                v
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/courses", tag = "training", request_body = CourseIn,
    responses((status = 201, description = "The course", body = Object),
        (status = 409, description = "A course of that title exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_course(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<CourseIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let c = state
        .store
        .create_course(user.0.org_id, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(course_out(c, true))).into_response())
}

#[utoipa::path(get, path = "/courses/{course}", tag = "training", params(("course" = i64, Path)),
    responses((status = 200, description = "The course (quiz answers only for those who edit courses)", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_course(
    State(state): State<AppState>,
    user: ApiUser,
    Path(course): Path<i64>,
) -> Result<Json<CourseOut>, ApiError> {
    let c = state.store.course(user.0.org_id, course).await?;
    Ok(Json(course_out(c, user.0.role.can(Permission::EditIsms))))
}

#[utoipa::path(put, path = "/courses/{course}", tag = "training", params(("course" = i64, Path)), request_body = CourseIn,
    responses((status = 200, description = "The course", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version or title taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_course(
    State(state): State<AppState>,
    user: ApiUser,
    Path(course): Path<i64>,
    input: Result<Json<CourseIn>, JsonRejection>,
) -> Result<Json<CourseOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let c = state
        .store
        .update_course(user.0.org_id, course, &body(input)?.into(), &user.actor())
        .await?;
    Ok(Json(course_out(c, true)))
}

/// The version of the course you last read (optional: when sent, a stale
/// one is refused with 409).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CourseStatusIn {
    pub version: Option<i64>,
}

async fn change_course_status(
    state: &AppState,
    user: &ApiUser,
    course: i64,
    to: CourseStatus,
    raw: &Bytes,
) -> Result<Json<CourseOut>, ApiError> {
    user.require(Permission::EditIsms)?;
    let i: CourseStatusIn = if raw.iter().all(u8::is_ascii_whitespace) {
        CourseStatusIn::default()
    } else {
        serde_json::from_slice(raw).map_err(|e| {
            WebError::invalid(format!(
                "the request body is not valid JSON for this operation: {e}"
            ))
        })?
    };
    let c = state
        .store
        .set_course_status(user.0.org_id, course, to, i.version, &user.actor())
        .await?;
    Ok(Json(course_out(c, true)))
}

#[utoipa::path(post, path = "/courses/{course}/retire", tag = "training", params(("course" = i64, Path)),
    request_body(content = CourseStatusIn, description = "Optional"),
    responses((status = 200, description = "The course, retired: no new assignments; its records stay", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Retired already, or a stale version", body = Problem, content_type = "application/problem+json")))]
pub async fn retire_course(
    State(state): State<AppState>,
    user: ApiUser,
    Path(course): Path<i64>,
    raw: Bytes,
) -> Result<Json<CourseOut>, ApiError> {
    change_course_status(&state, &user, course, CourseStatus::Retired, &raw).await
}

#[utoipa::path(post, path = "/courses/{course}/reactivate", tag = "training", params(("course" = i64, Path)),
    request_body(content = CourseStatusIn, description = "Optional"),
    responses((status = 200, description = "The course, active again", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Active already, or a stale version", body = Problem, content_type = "application/problem+json")))]
pub async fn reactivate_course(
    State(state): State<AppState>,
    user: ApiUser,
    Path(course): Path<i64>,
    raw: Bytes,
) -> Result<Json<CourseOut>, ApiError> {
    change_course_status(&state, &user, course, CourseStatus::Active, &raw).await
}

/// Who must take a course, and by when.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignIn {
    /// `"all"`, a role (`"employee"` or `"employees"`, `"auditor"`, ...) or a list of members' e-mail addresses.
    #[schema(value_type = Object)]
    pub to: serde_json::Value,
    /// YYYY-MM-DD, today or later.
    pub due_date: String,
}

#[utoipa::path(post, path = "/courses/{course}/assignments", tag = "training", params(("course" = i64, Path)), request_body = AssignIn,
    responses((status = 201, description = "Who was assigned, and who had been already", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown audience, a person who is not a member, a past date", body = Problem, content_type = "application/problem+json")))]
pub async fn assign_course(
    State(state): State<AppState>,
    user: ApiUser,
    Path(course): Path<i64>,
    input: Result<Json<AssignIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let audience = Audience::parse(&i.to).map_err(|e| WebError::invalid(e.to_string()))?;
    let out = state
        .store
        .assign_course(user.0.org_id, course, &audience, &i.due_date, &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

#[utoipa::path(get, path = "/courses/{course}/assignments", tag = "training", params(("course" = i64, Path)),
    responses((status = 200, description = "Everyone the course is assigned to, with their status", body = Vec<Object>),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_course_assignments(
    State(state): State<AppState>,
    user: ApiUser,
    Path(course): Path<i64>,
) -> Result<Json<Vec<isms_store::Assignment>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let org = user.0.org_id;
    state.store.course(org, course).await?;
    Ok(Json(
        state
            .store
            .assignments(
                org,
                &AssignmentFilter {
                    course_id: Some(course),
                    ..AssignmentFilter::default()
                },
            )
            .await?,
    ))
}

/// A new due date for one assignment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignmentIn {
    /// YYYY-MM-DD.
    pub due_date: Option<String>,
    pub version: Option<i64>,
}

#[utoipa::path(put, path = "/training/assignments/{assignment}", tag = "training", params(("assignment" = i64, Path)), request_body = AssignmentIn,
    responses((status = 200, description = "The assignment", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_assignment(
    State(state): State<AppState>,
    user: ApiUser,
    Path(assignment): Path<i64>,
    input: Result<Json<AssignmentIn>, JsonRejection>,
) -> Result<Json<isms_store::Assignment>, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    Ok(Json(
        state
            .store
            .update_assignment(
                user.0.org_id,
                assignment,
                &AssignmentInput {
                    due_date: i.due_date,
                    version: i.version,
                },
                &user.actor(),
            )
            .await?,
    ))
}

/// A completion: the quiz's answers (option indexes from 0, one per
/// question, in order), or nothing for a course without a quiz.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CompleteIn {
    pub answers: Option<Vec<usize>>,
}

#[utoipa::path(post, path = "/courses/{course}/complete", tag = "training", params(("course" = i64, Path)), request_body = CompleteIn,
    responses((status = 201, description = "The result (passed or not; a failed quiz may be retaken until the due date)", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already completed and still valid", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not assigned to the caller, past the due date, or wrong answers", body = Problem, content_type = "application/problem+json")))]
pub async fn complete_course(
    State(state): State<AppState>,
    user: ApiUser,
    Path(course): Path<i64>,
    input: Result<Json<CompleteIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    let i = body(input)?;
    let s = state
        .store
        .complete_course(
            user.0.org_id,
            course,
            user.0.user_id,
            i.answers.as_deref(),
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

#[utoipa::path(get, path = "/me/training", tag = "training",
    responses((status = 200, description = "The caller's assigned courses with due dates and status", body = Vec<Object>)))]
pub async fn my_training(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<isms_store::Assignment>>, ApiError> {
    Ok(Json(
        state
            .store
            .assignments(
                user.0.org_id,
                &AssignmentFilter {
                    user_id: Some(user.0.user_id),
                    ..AssignmentFilter::default()
                },
            )
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AssignmentsQuery {
    /// pending, overdue, completed, expiring or expired (comma-separated); all when omitted.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/training/assignments", tag = "training", params(AssignmentsQuery),
    responses((status = 200, description = "Assignments of every course, by due date (overdue and expiring lists)", body = Vec<Object>),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_assignments(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<AssignmentsQuery>,
) -> Result<Json<Vec<isms_store::Assignment>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    let statuses = parse_statuses(q.status.as_deref()).map_err(WebError::invalid)?;
    Ok(Json(
        state
            .store
            .assignments(
                user.0.org_id,
                &AssignmentFilter {
                    statuses,
                    ..AssignmentFilter::default()
                },
            )
            .await?,
    ))
}

/// `overdue,expiring` as statuses.
pub(crate) fn parse_statuses(s: Option<&str>) -> Result<Vec<Status>, String> {
    let mut out = Vec::new();
    for part in s
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let st = [
            Status::Pending,
            Status::Overdue,
            Status::Completed,
            Status::Expiring,
            Status::Expired,
        ]
        .into_iter()
        .find(|x| x.as_str() == part)
        .ok_or_else(|| {
            format!("status: '{part}' is not one of pending, overdue, completed, expiring, expired")
        })?;
        out.push(st);
    }
    Ok(out)
}

#[utoipa::path(get, path = "/training/records", tag = "training",
    responses((status = 200, description = "Every submission (passed or failed), newest first", body = Vec<Object>)))]
pub async fn training_records(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<isms_store::TrainingRecord>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(state.store.training_records(user.0.org_id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// csv, xlsx or pdf.
    pub format: String,
}

#[utoipa::path(get, path = "/training/export", tag = "training", params(ExportQuery),
    responses((status = 200, description = "The training records as a file", content_type = "application/octet-stream"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_training(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    let org = user.0.org();
    let (bytes, _) = super::export::training_export(&state.store, &org, format)
        .await
        .map_err(|e| {
            tracing::error!("training export failed: {e}");
            WebError::internal()
        })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &super::export::file_name(&org.slug, format),
        format,
    ))
}

#[utoipa::path(get, path = "/competence/export", tag = "training", params(ExportQuery),
    responses((status = 200, description = "Competence per role and person (required, evidence held, gaps) as a file", content_type = "application/octet-stream"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_competence(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    let org = user.0.org();
    let (bytes, _) = super::export::competence_export(&state.store, &org, format)
        .await
        .map_err(|e| {
            tracing::error!("competence export failed: {e}");
            WebError::internal()
        })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &super::export::competence_file_name(&org.slug, format),
        format,
    ))
}

#[utoipa::path(post, path = "/training/reminders", tag = "training",
    responses((status = 200, description = "How many people with overdue training got an inbox message", body = Object)))]
pub async fn remind_training(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    user.require(Permission::EditIsms)?;
    let sent = state.store.remind_overdue_training(user.0.org_id).await?;
    Ok(Json(serde_json::json!({ "sent": sent })))
}

/// A requirement of a role.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RequirementIn {
    /// admin, isms_manager, risk_owner, control_owner, auditor or employee.
    pub role: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

#[utoipa::path(get, path = "/competence/requirements", tag = "training",
    responses((status = 200, description = "What each role requires", body = Vec<Object>)))]
pub async fn list_competence_requirements(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<isms_store::CompetenceRequirement>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(
        state.store.competence_requirements(user.0.org_id).await?,
    ))
}

#[utoipa::path(post, path = "/competence/requirements", tag = "training", request_body = RequirementIn,
    responses((status = 201, description = "The requirement", body = Object),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_competence_requirement(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<RequirementIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let i = body(input)?;
    let r = state
        .store
        .create_competence_requirement(
            user.0.org_id,
            &RequirementInput {
                role: i.role,
                title: i.title,
                description: i.description,
            },
            &user.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// Evidence of a person's competence, or a change to it (`version`).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CompetenceIn {
    /// E-mail of a member.
    pub person: Option<String>,
    /// The id of a requirement.
    pub requirement: Option<i64>,
    /// What proves it: a certificate, a course, experience, or a link.
    pub evidence: Option<String>,
    /// YYYY-MM-DD.
    pub achieved_on: Option<String>,
    /// YYYY-MM-DD or "".
    pub expires_on: Option<String>,
    pub version: Option<i64>,
}

impl From<CompetenceIn> for CompetenceInput {
    fn from(c: CompetenceIn) -> Self {
        CompetenceInput {
            person: c.person,
            requirement: c.requirement,
            evidence: c.evidence,
            achieved_on: c.achieved_on,
            expires_on: c.expires_on,
            version: c.version,
        }
    }
}

#[utoipa::path(post, path = "/competence/records", tag = "training", request_body = CompetenceIn,
    responses((status = 201, description = "The record", body = Object),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_competence_record(
    State(state): State<AppState>,
    user: ApiUser,
    input: Result<Json<CompetenceIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.require(Permission::EditIsms)?;
    let r = state
        .store
        .record_competence(user.0.org_id, &body(input)?.into(), &user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(put, path = "/competence/records/{record}", tag = "training", params(("record" = i64, Path)), request_body = CompetenceIn,
    responses((status = 200, description = "The record", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale version", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_competence_record(
    State(state): State<AppState>,
    user: ApiUser,
    Path(record): Path<i64>,
    input: Result<Json<CompetenceIn>, JsonRejection>,
) -> Result<Json<isms_store::CompetenceRecord>, ApiError> {
    user.require(Permission::EditIsms)?;
    Ok(Json(
        state
            .store
            .update_competence_record(user.0.org_id, record, &body(input)?.into(), &user.actor())
            .await?,
    ))
}

#[utoipa::path(get, path = "/competence", tag = "training",
    responses((status = 200, description = "Every member: what their role requires, the evidence held, the gaps", body = Vec<Object>)))]
pub async fn get_competence(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<isms_store::PersonCompetence>>, ApiError> {
    user.require(Permission::ReadIsms)?;
    Ok(Json(state.store.competence(user.0.org_id).await?))
}
