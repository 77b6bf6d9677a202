//! Every route with the roles it admits, declared where the route is added.
//!
//! Pages are added to the router only through [`Routes`], which records each
//! route's method, path and [`Access`] as it adds it; API operations carry
//! their access in the table beside their `routes!` list in `api.rs`. The
//! route-matrix test reads [`route_table`] (and so the router itself) and
//! calls every route as every role, with another organisation's objects in
//! its path: a route without a declaration cannot be added, and an API
//! operation without one fails the test.
//!
//! Path parameters are named after what they name (`{assessment}`,
//! `{item}`, `{scenario}`, ...) so that the test knows which object of the
//! other organisation to put there.

use axum::Router;
use axum::handler::Handler;
use axum::routing::MethodRouter;
use isms_domain::{Permission, Role};

use crate::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without logging in (login, set-up, assets, health).
    Public,
    /// Any logged-in member, for their own things (dashboard, profile).
    Member,
    /// Members whose role has this permission.
    Needs(Permission),
}

impl Access {
    /// Whether a member with `role` may call the route.
    pub fn admits(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Member => true,
            Access::Needs(p) => role.can(p),
        }
    }
}

/// One declared route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// The path as the router knows it, with `{parameters}`; API paths
    /// start with `/api/v1`.
    pub path: String,
    pub access: Access,
}

/// A router that records what it routes.
pub(crate) struct Routes {
    router: Router<AppState>,
    table: Vec<Route>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Routes {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        access: Access,
        route: MethodRouter<AppState>,
    ) -> Self {
        self.table.push(Route {
            method,
            path: path.to_owned(),
            access,
        });
        // The declared access is enforced before any extractor reads the
        // request (a malformed form from a role without the right is a 403,
        // not a 400 that tells it how to get further).
        let route = match access {
            Access::Needs(permission) => route.route_layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    enforce_page(permission, req, next)
                },
            )),
            Access::Public | Access::Member => route,
        };
        // axum merges the method routers of one path.
        self.router = self.router.route(path, route);
        self
    }

    pub(crate) fn get<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("GET", path, access, axum::routing::get(handler))
    }

    pub(crate) fn post<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("POST", path, access, axum::routing::post(handler))
    }

    pub(crate) fn into_parts(self) -> (Router<AppState>, Vec<Route>) {
        (self.router, self.table)
    }
}

async fn enforce_page(
    permission: Permission,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(user) = req.extensions().get::<crate::auth::CurrentUser>()
        && let Err(e) = user.require(permission)
    {
        return e.into_response();
    }
    next.run(req).await
}

/// The API's declared access by (method, path), enforced by
/// [`enforce_api`] before any extractor reads the request.
pub(crate) type ApiAccess = std::sync::Arc<std::collections::HashMap<(String, String), Access>>;

pub(crate) fn api_access() -> ApiAccess {
    std::sync::Arc::new(
        crate::api::route_table()
            .into_iter()
            .map(|(r, _)| ((r.method.to_owned(), r.path), r.access))
            .collect(),
    )
}

pub(crate) async fn enforce_api(
    axum::extract::State(table): axum::extract::State<ApiAccess>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let matched = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let full = if matched.starts_with("/api/v1") {
        matched
    } else {
        format!("/api/v1{matched}")
    };
    let access = table.get(&(req.method().as_str().to_owned(), full));
    if let (Some(Access::Needs(permission)), Some(user)) =
        (access, req.extensions().get::<crate::auth::ApiUser>())
        && let Err(e) = user.require(*permission)
    {
        return e.into_response();
    }
    next.run(req).await
}

/// Every route of the application: the pages and the API operations, each
/// with the access it declares (`None` for an API operation that declares
/// none, which the route-matrix test refuses).
pub fn route_table() -> Vec<(Route, bool)> {
    let mut all: Vec<(Route, bool)> = crate::pages::route_table()
        .into_iter()
        .map(|r| (r, true))
        .collect();
    all.extend(crate::api::route_table());
    all
}
