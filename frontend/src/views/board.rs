//! The status board at `/` and `/board` (issue 21): every project the user may see, and
//! for each of its presets the last run's verdict (a big icon, what blocks, the classes
//! of its failures), its trend, how long ago it ran, and a run going on now with its
//! progress. `?tv=1` is for a wall screen: large type, no chrome (`components/chrome.rs`
//! steps aside). It refreshes by itself: every 30 s, every 5 s while a run is going on,
//! and says when it last did. Requests stay bounded: one history page per project, and
//! verdicts only for the runs shown (a finished run's once per refresh, a live run's at
//! every tick).

use std::{collections::HashMap, sync::Arc};

use leptos::prelude::*;
use runboard_shared::{HistoryQuery, ProjectId, ProjectInfo, RunId, Verdict, VerdictStatus};

use crate::{
    api::{self, triage},
    browser,
    components::{banner::ErrorBanner, chip::ClassChip},
    context::{self, Clock},
    live::{live, shown},
    logic::{
        board::{self, LIVE_REFRESH_MS, Shown, Tile},
        format,
        links::Prefs,
        trend,
        verdict::class_counts,
    },
    poller,
    router::{Route, router},
};

/// A run's verdict as the board keeps it, by project and run.
type Verdicts = RwSignal<HashMap<(String, String), Arc<Verdict>>>;

/// `/` and `/board`.
#[component]
pub(crate) fn BoardView() -> impl IntoView {
    let tv = router().query_untracked("tv").as_deref() == Some("1");
    let projects = context::boot().0.projects.clone();
    if projects.is_empty() {
        return view! {
            <section class="rb-empty">
                <h1>"No projects yet"</h1>
                <p>"You cannot see any project. Ask the Runboard administrator to add one, or to give you access."</p>
            </section>
        }
        .into_any();
    }
    let tiles: RwSignal<Vec<Option<Vec<Tile>>>> = RwSignal::new(vec![None; projects.len()]);
    let verdicts: Verdicts = RwSignal::new(HashMap::new());
    let updated: RwSignal<Option<i64>> = RwSignal::new(None);
    let ids: Vec<ProjectId> = projects.iter().map(|p| p.id.clone()).collect();
    let presets: Vec<Vec<String>> = projects
        .iter()
        .map(|p| p.presets.iter().map(|p| p.name.clone()).collect())
        .collect();
    // The loop ticks at the live pace; a tick without a live run and before the next
    // full refresh is due sends nothing.
    let status = poller::start(LIVE_REFRESH_MS, move |_| {
        let (ids, presets) = (ids.clone(), presets.clone());
        async move {
            let now = browser::now_ms();
            let wait = tiles.with_untracked(|t| board::refresh_ms(t.iter().flatten().flatten()));
            let last = updated.get_untracked();
            let due = last.is_none_or(|at| now - at + 500 >= wait as i64);
            if !due {
                return Ok(false);
            }
            let full = last.is_none_or(|at| now - at + 500 >= board::REFRESH_MS as i64);
            refresh(&ids, &presets, tiles, verdicts, full).await?;
            updated.set(Some(browser::now_ms()));
            Ok(false)
        }
    });
    let Clock(now) = expect_context::<Clock>();
    let freshness = shown(move || {
        let pace =
            if tiles.with(|t| board::refresh_ms(t.iter().flatten().flatten())) == LIVE_REFRESH_MS {
                "every 5 s while runs are going on"
            } else {
                "every 30 s"
            };
        let ago = updated.get().map_or_else(
            || "loading…".to_owned(),
            |at| format!("updated {}", format::ago(now.get(), at)),
        );
        format!("Refreshes by itself {pace} · {ago}")
    });
    let sections = projects
        .into_iter()
        .enumerate()
        .map(|(i, project)| view! { <ProjectBoard project=project index=i tiles=tiles verdicts=verdicts /> })
        .collect_view();
    view! {
        <section class=if tv { "rb-board rb-board-tv" } else { "rb-board" } aria-labelledby="rb-board-title" data-testid="board"
            data-tv=if tv { "1" } else { "0" }>
            <div class="rb-board-head">
                <h1 id="rb-board-title" class="rb-title">"Status board"</h1>
                <span class="rb-muted rb-num" data-testid="board-updated" role="status" aria-live="off"
                    data-updated=live(move || updated.get().map(|at| at.to_string()))>{freshness}</span>
            </div>
            <ErrorBanner status=status />
            {sections}
        </section>
    }
    .into_any()
}

/// One refresh: each project's history page into its tiles, then the verdicts of the
/// runs shown (finished runs' only on a `full` refresh, or when not yet read).
async fn refresh(
    ids: &[ProjectId],
    presets: &[Vec<String>],
    tiles: RwSignal<Vec<Option<Vec<Tile>>>>,
    verdicts: Verdicts,
    full: bool,
) -> Result<(), crate::logic::failure::Failure> {
    for (i, (project, names)) in ids.iter().zip(presets).enumerate() {
        if names.is_empty() {
            tiles.try_update(|t| t[i] = Some(Vec::new()));
            continue;
        }
        let query = HistoryQuery {
            limit: Some(board::HISTORY_LIMIT),
            ..HistoryQuery::default()
        };
        let page = api::history(project, &query).await?;
        let fresh = board::tiles(names, &page.executions);
        let live_runs: Vec<String> = fresh
            .iter()
            .filter_map(|t| t.live.as_ref()?.run_id.clone())
            .collect();
        let mut read = Vec::new();
        for run in board::verdicts_wanted(&fresh) {
            let key = (project.to_string(), run.clone());
            let known = verdicts.with_untracked(|v| v.get(&key).map(|v| v.status));
            let settled = known.is_some_and(|s| s != VerdictStatus::Running);
            if settled && !full && !live_runs.contains(&run) {
                continue;
            }
            let Ok(id) = RunId::parse(run.as_str()) else {
                continue;
            };
            // A verdict that cannot be read leaves the tile with the ledger's counts.
            if let Ok(verdict) = triage::verdict(project, &id).await {
                read.push((key, Arc::new(verdict)));
            }
        }
        // One change for the project: its tiles are drawn once, with their verdicts.
        if !read.is_empty() {
            verdicts.try_update(|v| v.extend(read));
        }
        tiles.try_update(|t| t[i] = Some(fresh));
    }
    Ok(())
}

/// A project's name, its links, and its presets' tiles.
#[component]
fn ProjectBoard(
    /// The project.
    project: ProjectInfo,
    /// Its place among the board's projects.
    index: usize,
    /// Every project's tiles, `None` until its history was read.
    tiles: RwSignal<Vec<Option<Vec<Tile>>>>,
    /// The verdicts read.
    verdicts: Verdicts,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let id = project.id.to_string();
    let link = |route: Route| prefs.href(&route.href(), &[]);
    let start = link(Route::Start {
        project: id.clone(),
    });
    let history = link(Route::History {
        project: id.clone(),
    });
    let rules = link(Route::Rules {
        project: id.clone(),
    });
    let heading = format!("rb-board-{index}");
    let proj = StoredValue::new(id.clone());
    let grid = shown(move || {
        // The tiles read their verdicts as they are drawn.
        verdicts.track();
        let Some(list) = tiles.with(|t| t.get(index).cloned().flatten()) else {
            return view! { <p class="rb-muted">"Loading…"</p> }.into_any();
        };
        if list.is_empty() {
            return view! { <p class="rb-muted" data-testid="board-no-presets">"No presets: nothing to show here."</p> }.into_any();
        }
        view! {
            <ul class="rb-tiles">
                {list.into_iter().map(|tile| view! { <TileView tile=tile project=proj.get_value() verdicts=verdicts /> }).collect_view()}
            </ul>
        }
        .into_any()
    });
    view! {
        <section class="rb-board-project" aria-labelledby=heading.clone() data-testid="board-project" data-project=id>
            <h2 id=heading.clone() class="rb-board-project-name">
                {project.name}
                <span class="rb-board-links">
                    <a href=start>"Start"</a>
                    <a href=history>"History"</a>
                    <a href=rules>"Rules"</a>
                </span>
            </h2>
            {grid}
        </section>
    }
}

/// One preset: its last verdict, classes, trend, when, and a run going on.
#[component]
fn TileView(
    /// The tile.
    tile: Tile,
    /// Its project's id.
    project: String,
    /// The verdicts read.
    verdicts: Verdicts,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let Clock(now) = expect_context::<Clock>();
    let verdict_of = {
        let project = project.clone();
        move |shown: &Option<Shown>| {
            let run = shown.as_ref()?.run_id.clone()?;
            verdicts.with(|v| v.get(&(project.clone(), run)).cloned())
        }
    };
    let last = tile.last.clone();
    let last_verdict = verdict_of(&last);
    let (icon, words, outcome) = board::tile_words(
        last_verdict.as_deref(),
        last.as_ref().and_then(|l| l.counts),
    );
    let tone = match outcome {
        "passed" => "rb-tone-passed",
        "failed" => "rb-tone-failed",
        _ => "rb-tone-other",
    };
    let classes = last_verdict.as_ref().map(|v| {
        class_counts(&v.failures)
            .into_iter()
            .map(|(class, n)| view! { <ClassChip class=class count=n testid="tile-class" /> })
            .collect_view()
    });
    let at = last.as_ref().and_then(|l| l.at_ms);
    let report = last.as_ref().and_then(|l| {
        let route = Route::Run {
            project: project.clone(),
            run: l.run_id.clone()?,
        };
        let job = l.job_id.clone().unwrap_or_default();
        Some(prefs.href(&route.href(), &[("job", job.as_str())]))
    });
    let sparkline = tile.trend.as_ref().map(|points| {
        view! {
            <svg class="rb-spark" viewBox=format!("0 -4 {} {}", trend::WIDTH, trend::HEIGHT + 8) preserveAspectRatio="none"
                role="img" aria-label=trend::describe(points) data-testid="tile-trend">
                <path d=trend::pass_path(points) />
            </svg>
        }
    });
    let live_run = tile.live.clone().map(|run| {
        let verdict = verdict_of(&Some(run.clone()));
        let (done, total) = verdict.as_deref().map_or((0, 0), board::progress);
        let percent = board::percent((done, total));
        let words = if total > 0 {
            format!("Running · {done} of {total} done")
        } else {
            "Starting…".to_owned()
        };
        let blocking = verdict
            .as_ref()
            .filter(|v| v.blocking > 0)
            .map(|v| format!(" · {} blocking so far", v.blocking));
        let href = run.run_id.clone().map(|r| {
            let route = Route::Run {
                project: project.clone(),
                run: r,
            };
            prefs.href(&route.href(), &[("job", run.job_id.as_deref().unwrap_or_default())])
        });
        let text = view! { {words}{blocking} };
        view! {
            <div class="rb-tile-live" data-testid="tile-live" data-run=run.run_id.clone().unwrap_or_default() data-percent=percent.to_string()>
                <svg class="rb-ring" viewBox="0 0 36 36" aria-hidden="true">
                    <circle class="rb-ring-track" cx="18" cy="18" r="15" pathLength="100" />
                    <circle class="rb-ring-done" cx="18" cy="18" r="15" pathLength="100"
                        stroke-dasharray=format!("{percent} 100") transform="rotate(-90 18 18)" />
                </svg>
                {match href {
                    Some(href) => view! { <a href=href>{text}</a> }.into_any(),
                    None => view! { <span>{text}</span> }.into_any(),
                }}
            </div>
        }
    });
    let preset = tile.preset.clone();
    let preset_attr = preset.clone();
    let history = prefs.href(
        &Route::History {
            project: project.clone(),
        }
        .href(),
        &[("preset", preset.as_str())],
    );
    let run_attr = last
        .as_ref()
        .and_then(|l| l.run_id.clone())
        .unwrap_or_default();
    let blocking_attr = last_verdict.as_ref().map(|v| v.blocking.to_string());
    view! {
        <li class=format!("rb-tile {tone}") data-testid="board-tile" data-preset=preset_attr data-run=run_attr
            data-outcome=outcome data-blocking=blocking_attr>
            <div class="rb-tile-head">
                <a class="rb-tile-name" href=history>{preset}</a>
                <span class="rb-tile-when rb-num" data-testid="tile-when">
                    {shown(move || at.map(|ms| format::ago(now.get(), ms)))}
                </span>
            </div>
            <div class="rb-tile-verdict">
                <span class="rb-tile-icon" aria-hidden="true">{icon}</span>
                {match report {
                    Some(href) => view! { <a class="rb-tile-words" data-testid="tile-verdict" href=href>{words}</a> }.into_any(),
                    None => view! { <span class="rb-tile-words" data-testid="tile-verdict">{words}</span> }.into_any(),
                }}
            </div>
            <p class="rb-tile-classes">{classes}</p>
            {sparkline}
            {live_run}
        </li>
    }
}
