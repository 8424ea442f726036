//! `tally view`: an axum router over indexed runs. Pages are rendered on request; sample text is
//! read from disk only when a sample or problem page asks for it.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ViewError;
use crate::html::{esc, page, url_enc, Assets, KATEX_CSS, KATEX_JS, VIEW_CSS, VIEW_JS};
use crate::index::{read_sample, RunIndex};
use crate::pages::{self, GridQuery, Links};
use crate::summary::Summaries;

/// One run the viewer serves: its index and its summaries.
#[derive(Debug)]
pub struct ServedRun {
    pub index: RunIndex,
    pub summaries: Summaries,
}

impl ServedRun {
    /// Indexes a results directory and computes its summaries.
    pub fn open(root: &std::path::Path) -> Result<ServedRun, ViewError> {
        let index = RunIndex::open(root)?;
        let summaries = Summaries::compute(root);
        Ok(ServedRun { index, summaries })
    }
}

/// What the server holds.
#[derive(Debug)]
pub struct ViewState {
    pub runs: Vec<ServedRun>,
    /// Options of the two-run comparison page.
    pub compare: crate::compare::CompareOptions,
}

type Shared = Arc<ViewState>;

/// The viewer's routes.
pub fn router(state: Arc<ViewState>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/static/{name}", get(asset))
        .route("/r/{run}/{bench}", get(grid_page))
        .route("/r/{run}/{bench}/p/{problem}", get(problem_page))
        .route("/r/{run}/{bench}/s/{problem}/{file}", get(sample_page))
        .route("/compare", get(compare_page))
        .with_state(state)
}

/// Binds the listening socket (port 0: any free port).
pub async fn bind(addr: &str) -> Result<tokio::net::TcpListener, ViewError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ViewError::Bind {
            addr: addr.to_string(),
            source,
        })
}

/// Serves until the future is dropped or the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ViewState>,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page(
            "not found",
            &format!("<main><p>{}</p></main>", esc(what)),
            Assets::Linked,
        )),
    )
        .into_response()
}

fn header_bar(state: &ViewState) -> String {
    let mut out = String::from("<header><a href=\"/\">tally view</a>");
    for (i, r) in state.runs.iter().enumerate() {
        let _ = write!(out, " · run {i}: {}", esc(&r.index.name));
    }
    if state.runs.len() >= 2 {
        out.push_str(" · <a href=\"/compare\">compare runs 0 and 1</a>");
    }
    out.push_str("</header>");
    out
}

async fn home(State(state): State<Shared>) -> Response {
    let mut body = header_bar(&state);
    body.push_str("<main>");
    for (ri, r) in state.runs.iter().enumerate() {
        let _ = write!(
            body,
            "<h1>{}</h1><p>{}</p><ul class=\"benchmarks\">",
            esc(&r.index.name),
            esc(&r.index.root.display().to_string())
        );
        for b in &r.index.benchmarks {
            let _ = write!(
                body,
                "<li><a href=\"/r/{ri}/{}\">{}</a>: {} problems × {} files</li>",
                url_enc(&b.name),
                esc(&b.name),
                b.problems.len(),
                b.files.len()
            );
        }
        body.push_str("</ul>");
        body.push_str(&r.summaries.html());
    }
    body.push_str("</main>");
    Html(page("tally view", &body, Assets::Linked)).into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    let (body, mime) = match name.as_str() {
        "katex.min.js" => (KATEX_JS, "text/javascript"),
        "katex.min.css" => (KATEX_CSS, "text/css"),
        "view.js" => (VIEW_JS, "text/javascript"),
        "view.css" => (VIEW_CSS, "text/css"),
        _ => return not_found(&name),
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn grid_page(
    State(state): State<Shared>,
    Path((run, bench)): Path<(usize, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(b) = state.runs.get(run).and_then(|r| r.index.benchmark(&bench)) else {
        return not_found(&format!("no benchmark {bench} in run {run}"));
    };
    let query = GridQuery::from_pairs(&q);
    let rows = query.select(b);
    let mut body = header_bar(&state);
    let _ = write!(
        body,
        "<main><h2>{} · {}</h2>",
        esc(&state.runs[run].index.name),
        esc(&b.name)
    );
    body.push_str(&pages::legend());
    body.push_str(&pages::filter_form(b, &query));
    body.push_str(&pages::outcome_counts(b, &rows));
    body.push_str(&pages::grid(b, &rows, Links::Server { run }));
    body.push_str("</main>");
    Html(page(
        &format!("{} · {}", b.name, state.runs[run].index.name),
        &body,
        Assets::Linked,
    ))
    .into_response()
}

async fn problem_page(
    State(state): State<Shared>,
    Path((run, bench, problem)): Path<(usize, String, usize)>,
) -> Response {
    let Some(r) = state.runs.get(run) else {
        return not_found("no such run");
    };
    let Some(b) = r.index.benchmark(&bench) else {
        return not_found("no such benchmark");
    };
    if problem >= b.problems.len() {
        return not_found("no such problem");
    }
    let texts: Vec<_> = b
        .files
        .iter()
        .map(|f| read_sample(f, problem).ok())
        .collect();
    let mut body = header_bar(&state);
    body.push_str("<main>");
    body.push_str(&pages::problem_page(
        &r.index,
        b,
        problem,
        Links::Server { run },
        &texts,
    ));
    body.push_str("</main>");
    Html(page(
        &format!("{} · {}", b.name, b.problems[problem].key),
        &body,
        Assets::Linked,
    ))
    .into_response()
}

async fn sample_page(
    State(state): State<Shared>,
    Path((run, bench, problem, file)): Path<(usize, String, usize, usize)>,
) -> Response {
    let Some(r) = state.runs.get(run) else {
        return not_found("no such run");
    };
    let Some(b) = r.index.benchmark(&bench) else {
        return not_found("no such benchmark");
    };
    let Some(f) = b.files.get(file) else {
        return not_found("no such file");
    };
    if problem >= b.problems.len() {
        return not_found("no such problem");
    }
    let rec = match read_sample(f, problem) {
        Ok(r) => r,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let mut body = header_bar(&state);
    let _ = write!(
        body,
        "<main><p><a href=\"/r/{run}/{}\">grid</a> · <a href=\"{}\">this problem across seeds</a></p>",
        url_enc(&b.name),
        Links::Server { run }.problem(&b.name, problem)
    );
    body.push_str(&pages::sample_page(b, f, problem, &rec, None));
    body.push_str("</main>");
    Html(page(
        &format!("{} · {} · {}", b.name, b.problems[problem].key, f.label),
        &body,
        Assets::Linked,
    ))
    .into_response()
}

async fn compare_page(State(state): State<Shared>) -> Response {
    let [a, b, ..] = state.runs.as_slice() else {
        return not_found("comparing needs two runs: tally view RUN_A RUN_B");
    };
    let mut body = header_bar(&state);
    body.push_str("<main>");
    match crate::compare::compare(&a.index, &b.index, &state.compare) {
        Ok(c) => body.push_str(&crate::compare::html(&c, &a.index, &b.index)),
        Err(e) => {
            let _ = write!(body, "<p class=\"error\">{}</p>", esc(&e.to_string()));
        }
    }
    body.push_str("</main>");
    Html(page("tally compare", &body, Assets::Linked)).into_response()
}
