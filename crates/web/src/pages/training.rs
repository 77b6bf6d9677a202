//! Training pages: the course list (my training for everyone; completion
//! per course and per person, overdue and expiring lists, exports and a new
//! course for managers), a course's page (its content, the quiz, who it is
//! assigned to, assigning and editing), and competence (7.2). Forms keep
//! what was typed after a 409 or 422.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use isms_domain::Permission;
use isms_domain::training::{Audience, CourseStatus, Status, parse_quiz_text, quiz_text};
use isms_store::{
    Assignment, AssignmentFilter, AssignmentInput, CompetenceInput, CompetenceRequirement, Course,
    CourseInput, CourseSummary, PersonCompetence, RequirementInput, StoreError,
};
use serde::Deserialize;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::isms_reports::Format;

/// A person's figures across courses.
struct PersonRow {
    email: String,
    assigned: usize,
    completed: usize,
    overdue: usize,
}

#[derive(Template)]
#[template(path = "page_training.html")]
struct TrainingPage {
    chrome: Option<Chrome>,
    mine: Vec<Assignment>,
    can_read: bool,
    can_edit: bool,
    courses: Vec<CourseSummary>,
    /// Retired courses: no new assignments, records kept.
    retired: Vec<CourseSummary>,
    people: Vec<PersonRow>,
    overdue: Vec<Assignment>,
    expiring: Vec<Assignment>,
    form: CourseForm,
    error: Option<String>,
    notice: Option<String>,
}

/// The course form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CourseForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    link: String,
    #[serde(default)]
    validity_months: String,
    #[serde(default)]
    pass_mark: String,
    /// The quiz in the text format of `parse_quiz_text`.
    #[serde(default)]
    quiz: String,
    #[serde(default)]
    version: String,
}

impl CourseForm {
    fn blank() -> Self {
        CourseForm {
            validity_months: "12".into(),
            pass_mark: "80".into(),
            ..CourseForm::default()
        }
    }
    fn of(c: &Course) -> Self {
        CourseForm {
            title: c.title.clone(),
            description: c.description.clone(),
            content: c.content.clone(),
            link: c.link.clone(),
            validity_months: c.validity_months.to_string(),
            pass_mark: c
                .quiz
                .as_ref()
                .map_or_else(|| "80".to_owned(), |q| q.pass_mark.to_string()),
            quiz: c.quiz.as_ref().map(quiz_text).unwrap_or_default(),
            version: c.version.to_string(),
        }
    }
    fn input(&self) -> Result<CourseInput, StoreError> {
        let number = |field: &str, v: &str| -> Result<i64, StoreError> {
            v.trim().parse().map_err(|_| {
                StoreError::Invalid(format!("{field}: '{}' is not a whole number", v.trim()))
            })
        };
        let pass_mark = if self.quiz.trim().is_empty() {
            0
        } else {
            number("pass_mark", &self.pass_mark)?
        };
        let quiz = parse_quiz_text(&self.quiz, pass_mark)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok(CourseInput {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            content: Some(self.content.clone()),
            link: Some(self.link.clone()),
            validity_months: Some(number("validity_months", &self.validity_months)?),
            quiz: Some(serde_json::to_value(quiz).unwrap_or_default()),
            version: self.version.trim().parse().ok(),
        })
    }
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    done: Option<String>,
}

async fn list_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: CourseForm,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let mine = state
        .store
        .assignments(
            org,
            &AssignmentFilter {
                user_id: Some(user.0.user_id),
                ..AssignmentFilter::default()
            },
        )
        .await?;
    let can_read = user.0.role.can(Permission::ReadIsms);
    let (courses, people, overdue, expiring) = if can_read {
        let all = state
            .store
            .assignments(org, &AssignmentFilter::default())
            .await?;
        let mut people: Vec<PersonRow> = Vec::new();
        let mut sorted: Vec<&Assignment> = all.iter().collect();
        sorted.sort_by(|a, b| a.email.cmp(&b.email));
        for a in sorted {
            if people.last().is_none_or(|p| p.email != a.email) {
                people.push(PersonRow {
                    email: a.email.clone(),
                    assigned: 0,
                    completed: 0,
                    overdue: 0,
                });
            }
            if let Some(p) = people.last_mut() {
                p.assigned += 1;
                p.completed += usize::from(a.status.is_valid());
                p.overdue += usize::from(a.status == Status::Overdue);
            }
        }
        let overdue = all
            .iter()
            .filter(|a| a.status == Status::Overdue)
            .cloned()
            .collect();
        let expiring = all
            .iter()
            .filter(|a| matches!(a.status, Status::Expiring | Status::Expired))
            .cloned()
            .collect();
        (state.store.courses(org).await?, people, overdue, expiring)
    } else {
        (Vec::new(), Vec::new(), Vec::new(), Vec::new())
    };
    let (courses, retired): (Vec<CourseSummary>, Vec<CourseSummary>) =
        courses.into_iter().partition(|c| c.status != "retired");
    let html = render(&TrainingPage {
        chrome: Some(Chrome::new(state, &user.0, "training").await?),
        mine,
        can_read,
        can_edit: user.0.role.can(Permission::EditIsms),
        courses,
        retired,
        people,
        overdue,
        expiring,
        form,
        error,
        notice,
    })?;
    Ok((status, html).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let notice = q.done.as_deref().map(|d| match d {
        "remind" => "Reminders were sent to everyone with overdue training.".to_owned(),
        _ => "Saved.".to_owned(),
    });
    list_page(
        &state,
        &user,
        StatusCode::OK,
        CourseForm::blank(),
        None,
        notice,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<CourseForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = match f.input() {
        Ok(mut input) => {
            input.version = None;
            state
                .store
                .create_course(user.0.org_id, &input, &user.actor())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/training/courses/{}", c.id)).into_response()),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            list_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Some(format!("The course was not added: {m}.")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remind(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    state.store.remind_overdue_training(user.0.org_id).await?;
    Ok(Redirect::to("/training?done=remind").into_response())
}

#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: String,
}

pub async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    let org = user.0.org();
    let (bytes, _) = crate::training::export::training_export(&state.store, &org, format)
        .await
        .map_err(|e| {
            tracing::error!("training export failed: {e}");
            WebError::internal()
        })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &crate::training::export::file_name(&org.slug, format),
        format,
    ))
}

pub async fn export_competence(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    user.require(Permission::ReadIsms)?;
    let format = Format::parse(&q.format).map_err(WebError::invalid)?;
    let org = user.0.org();
    let (bytes, _) = crate::training::export::competence_export(&state.store, &org, format)
        .await
        .map_err(|e| {
            tracing::error!("competence export failed: {e}");
            WebError::internal()
        })?;
    Ok(crate::isms_reports::attachment(
        bytes,
        &crate::training::export::competence_file_name(&org.slug, format),
        format,
    ))
}

// ---------------------------------------------------------------- one course

/// The assignment form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssignForm {
    /// "all", a role, or e-mail addresses separated by commas or spaces.
    #[serde(default)]
    to: String,
    #[serde(default)]
    due_date: String,
}

/// A question as the quiz form shows it.
struct QuizQuestion {
    index: usize,
    text: String,
    options: Vec<(usize, String)>,
}

#[derive(Template)]
#[template(path = "page_training_course.html")]
struct CoursePage {
    chrome: Option<Chrome>,
    course: Course,
    content_html: String,
    mine: Option<Assignment>,
    may_submit: bool,
    questions: Vec<QuizQuestion>,
    can_read: bool,
    can_edit: bool,
    assignments: Vec<Assignment>,
    assign: AssignForm,
    form: CourseForm,
    error: Option<String>,
    notice: Option<String>,
}

struct CourseView {
    status: StatusCode,
    assign: Option<AssignForm>,
    form: Option<CourseForm>,
    error: Option<String>,
    notice: Option<String>,
}

async fn course_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    v: CourseView,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let course = state.store.course(org, id).await?;
    let mine = state
        .store
        .assignments(
            org,
            &AssignmentFilter {
                course_id: Some(id),
                user_id: Some(user.0.user_id),
                ..AssignmentFilter::default()
            },
        )
        .await?
        .into_iter()
        .next();
    let today = isms_store::training_today();
    let may_submit = mine
        .as_ref()
        .is_some_and(|a| !a.status.is_valid() && a.due_date.as_str() >= today.to_string().as_str());
    let questions = course
        .quiz
        .as_ref()
        .map(|q| {
            q.questions
                .iter()
                .enumerate()
                .map(|(i, x)| QuizQuestion {
                    index: i,
                    text: x.text.clone(),
                    options: x.options.iter().cloned().enumerate().collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    let can_read = user.0.role.can(Permission::ReadIsms);
    let assignments = if can_read {
        state
            .store
            .assignments(
                org,
                &AssignmentFilter {
                    course_id: Some(id),
                    ..AssignmentFilter::default()
                },
            )
            .await?
    } else {
        Vec::new()
    };
    let chrome = Chrome::new(state, &user.0, "training")
        .await?
        .detail(&[], course.title.clone());
    let html = render(&CoursePage {
        chrome: Some(chrome),
        content_html: crate::training::render_markdown(&course.content),
        form: v.form.unwrap_or_else(|| CourseForm::of(&course)),
        course,
        mine,
        may_submit,
        questions,
        can_read,
        can_edit: user.0.role.can(Permission::EditIsms),
        assignments,
        assign: v.assign.unwrap_or_default(),
        error: v.error,
        notice: v.notice,
    })?;
    Ok((v.status, html).into_response())
}

fn view(status: StatusCode, error: Option<String>, notice: Option<String>) -> CourseView {
    CourseView {
        status,
        assign: None,
        form: None,
        error,
        notice,
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(course): Path<i64>,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let notice = q.done.as_deref().map(|d| {
        match d {
            "passed" => "Completed: the course is recorded for you.",
            "failed" => "Not passed this time: read the course again and retake the quiz before the due date.",
            "assigned" => "Assigned.",
            "retired" => "Retired: the course takes no new assignments; its records stay.",
            "reactivated" => "Active again: the course can be assigned.",
            _ => "Saved.",
        }
        .to_owned()
    });
    course_page(&state, &user, course, view(StatusCode::OK, None, notice)).await
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(course): Path<i64>,
    Form(f): Form<CourseForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = match f.input() {
        Ok(input) => {
            state
                .store
                .update_course(user.0.org_id, course, &input, &user.actor())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/training/courses/{course}?done=saved")).into_response())
        }
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            course_page(
                &state,
                &user,
                course,
                CourseView {
                    form: Some(f),
                    ..view(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(format!("The course was not saved: {m}.")),
                        None,
                    )
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn assign(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(course): Path<i64>,
    Form(f): Form<AssignForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let to = f.to.trim();
    let value = if to == "all" || !to.contains('@') {
        serde_json::Value::String(to.to_owned())
    } else {
        serde_json::Value::Array(
            to.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| serde_json::Value::String(s.to_owned()))
                .collect(),
        )
    };
    let result = match Audience::parse(&value) {
        Ok(a) => {
            state
                .store
                .assign_course(user.0.org_id, course, &a, &f.due_date, &user.actor())
                .await
        }
        Err(e) => Err(StoreError::Invalid(e.to_string())),
    };
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/training/courses/{course}?done=assigned")).into_response())
        }
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            course_page(
                &state,
                &user,
                course,
                CourseView {
                    assign: Some(f),
                    ..view(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(format!("Nobody was assigned: {m}.")),
                        None,
                    )
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The version of the course shown when the button was pressed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    version: String,
}

async fn change_status(
    state: &AppState,
    user: &CurrentUser,
    course: i64,
    to: CourseStatus,
    f: &StatusForm,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    match state
        .store
        .set_course_status(
            user.0.org_id,
            course,
            to,
            f.version.trim().parse().ok(),
            &user.actor(),
        )
        .await
    {
        Ok(_) => {
            let done = if to == CourseStatus::Retired {
                "retired"
            } else {
                "reactivated"
            };
            Ok(Redirect::to(&format!("/training/courses/{course}?done={done}")).into_response())
        }
        Err(StoreError::Conflict(m)) => {
            course_page(
                state,
                user,
                course,
                view(
                    StatusCode::CONFLICT,
                    Some(format!("Nothing was changed: {m}.")),
                    None,
                ),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn retire(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(course): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Result<Response, WebError> {
    change_status(&state, &user, course, CourseStatus::Retired, &f).await
}

pub async fn reactivate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(course): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Result<Response, WebError> {
    change_status(&state, &user, course, CourseStatus::Active, &f).await
}

/// The quiz form: `q0`, `q1`, ... hold the chosen option of each question.
pub async fn complete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(course): Path<i64>,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let c = state.store.course(user.0.org_id, course).await?;
    let answers: Option<Vec<usize>> = match &c.quiz {
        None => None,
        Some(q) => {
            let mut out = Vec::with_capacity(q.questions.len());
            for i in 0..q.questions.len() {
                match f.get(&format!("q{i}")).and_then(|v| v.parse().ok()) {
                    Some(a) => out.push(a),
                    None => {
                        return course_page(
                            &state,
                            &user,
                            course,
                            view(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                Some(format!(
                                    "Nothing was recorded: answer question {} too.",
                                    i + 1
                                )),
                                None,
                            ),
                        )
                        .await;
                    }
                }
            }
            Some(out)
        }
    };
    match state
        .store
        .complete_course(
            user.0.org_id,
            course,
            user.0.user_id,
            answers.as_deref(),
            &user.actor(),
        )
        .await
    {
        Ok(s) => {
            let done = if s.passed { "passed" } else { "failed" };
            Ok(Redirect::to(&format!("/training/courses/{course}?done={done}")).into_response())
        }
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            course_page(
                &state,
                &user,
                course,
                view(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(format!("Nothing was recorded: {m}.")),
                    None,
                ),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// A new due date for one assignment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DueForm {
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    version: String,
}

pub async fn move_due_date(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(assignment): Path<i64>,
    Form(f): Form<DueForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    match state
        .store
        .update_assignment(
            user.0.org_id,
            assignment,
            &AssignmentInput {
                due_date: Some(f.due_date.clone()),
                version: f.version.trim().parse().ok(),
            },
            &user.actor(),
        )
        .await
    {
        Ok(a) => Ok(
            Redirect::to(&format!("/training/courses/{}?done=saved", a.course_id)).into_response(),
        ),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- competence

#[derive(Template)]
#[template(path = "page_training_competence.html")]
struct CompetencePage {
    chrome: Option<Chrome>,
    can_edit: bool,
    roles: Vec<(&'static str, &'static str)>,
    requirements: Vec<CompetenceRequirement>,
    people: Vec<PersonCompetence>,
    requirement_form: RequirementForm,
    record_form: RecordForm,
    error: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequirementForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecordForm {
    #[serde(default)]
    person: String,
    #[serde(default)]
    requirement: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    achieved_on: String,
    #[serde(default)]
    expires_on: String,
}

async fn competence_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    requirement_form: RequirementForm,
    record_form: RecordForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let org = user.0.org_id;
    let chrome = Chrome::new(state, &user.0, "training")
        .await?
        .detail(&[], "Competence");
    let html = render(&CompetencePage {
        chrome: Some(chrome),
        can_edit: user.0.role.can(Permission::EditIsms),
        roles: isms_domain::Role::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        requirements: state.store.competence_requirements(org).await?,
        people: state.store.competence(org).await?,
        requirement_form,
        record_form,
        error,
    })?;
    Ok((status, html).into_response())
}

pub async fn competence(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    competence_page(
        &state,
        &user,
        StatusCode::OK,
        RequirementForm::default(),
        RecordForm::default(),
        None,
    )
    .await
}

pub async fn add_requirement(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<RequirementForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    match state
        .store
        .create_competence_requirement(
            user.0.org_id,
            &RequirementInput {
                role: Some(f.role.clone()),
                title: Some(f.title.clone()),
                description: Some(f.description.clone()),
            },
            &user.actor(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/training/competence").into_response()),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            competence_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                RecordForm::default(),
                Some(format!("The requirement was not added: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn add_record(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<RecordForm>,
) -> Result<Response, WebError> {
    user.require(Permission::EditIsms)?;
    let result = match f.requirement.trim().parse::<i64>() {
        Ok(requirement) => {
            state
                .store
                .record_competence(
                    user.0.org_id,
                    &CompetenceInput {
                        person: Some(f.person.clone()),
                        requirement: Some(requirement),
                        evidence: Some(f.evidence.clone()),
                        achieved_on: Some(f.achieved_on.clone()),
                        expires_on: Some(f.expires_on.clone()),
                        version: None,
                    },
                    &user.actor(),
                )
                .await
        }
        Err(_) => Err(StoreError::Invalid(
            "requirement: choose a requirement".into(),
        )),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/training/competence").into_response()),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            competence_page(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                RequirementForm::default(),
                f,
                Some(format!("The evidence was not recorded: {m}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
