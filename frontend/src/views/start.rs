//! The start view: one-click presets and the advanced form (scope, ids checked as you
//! type, optional agent). Starting remembers the job, leaves a notice and opens the
//! jobs view, which opens the run by itself as soon as it exists.

use leptos::{prelude::*, task::spawn_local};
use runboard_shared::{HistoryQuery, JobStatus, ProjectInfo};

use crate::{
    api, browser,
    components::chip::Chip,
    context::{self, Clock, Flash},
    launch::{StartRequest, start_run},
    live::{live, shown},
    logic::{
        failure::Failure,
        form::{self, Prefill, Scope},
        format, history,
        links::Prefs,
        look,
        time::parse_iso_ms,
    },
    router::{Route, router},
    store::load_book,
    views::not_found::UnknownProject,
};

/// How many recent runs the start view lists.
const RECENT_RUNS: usize = 5;

/// `/p/:proj/start`.
#[component]
pub(crate) fn StartView(
    /// The project id from the address.
    project: String,
) -> impl IntoView {
    match context::boot().project(&project) {
        Some(project) => view! { <StartPage project=project /> }.into_any(),
        None => view! { <UnknownProject id=project /> }.into_any(),
    }
}

/// The start view of one project.
#[component]
fn StartPage(
    /// The project runs start in.
    project: ProjectInfo,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let Flash(flash) = expect_context::<Flash>();
    let sending = RwSignal::new(false);
    // Until when Runboard asked to wait before the next start (429 with Retry-After);
    // the start buttons stay disabled until then.
    let hold_until: RwSignal<Option<i64>> = RwSignal::new(None);
    let Clock(now) = expect_context::<Clock>();
    let held = move || hold_until.get().is_some_and(|until| now.get() < until);
    let failure: RwSignal<Option<Failure>> = RwSignal::new(None);
    let can_run = project.can_run;
    let router = router();
    let proj = project.id.clone();
    // Where a start goes on to, and where a start of unknown outcome points.
    let jobs = Route::Jobs {
        project: project.id.to_string(),
    };
    let jobs_href = prefs.href(&jobs.href(), &[]);
    let notice_jobs_href = jobs_href.clone();

    let start = Callback::new(move |request: StartRequest| {
        let waiting = hold_until
            .get_untracked()
            .is_some_and(|until| browser::now_ms() < until);
        if sending.get_untracked() || !can_run || waiting {
            return;
        }
        sending.set(true);
        failure.set(None);
        let (proj, jobs_href) = (proj.clone(), jobs_href.clone());
        spawn_local(async move {
            let result = start_run(&proj, request, Flash(flash)).await;
            sending.set(false);
            match result {
                Ok(()) => router.navigate(&jobs_href, false),
                Err(f) => {
                    if let Failure::Wait { seconds, .. } = &f {
                        hold_until.set(Some(browser::now_ms() + (*seconds as i64) * 1000));
                    }
                    failure.set(Some(f));
                }
            }
        });
    });

    let presets = project.presets.clone();
    // ui.md: presets first, the advanced form folded below them (open when there are none).
    let folded = !presets.is_empty();
    view! {
        <section class="rb-start" aria-labelledby="rb-start-title">
            <h1 id="rb-start-title" class="rb-title">"Start a run"</h1>
            {(!can_run).then(|| view! {
                <p class="rb-notice rb-notice-info" id="rb-viewer" data-testid="start-disabled-reason">
                    "You may view runs but not start them in this project. Ask the Runboard administrator if you need to start runs."
                </p>
            })}
            {shown(move || failure.get().map(|f| match f {
                // Not "could not start": it may have started; the Jobs page tells.
                Failure::OutcomeUnknown => view! {
                    <p class="rb-notice rb-notice-warn" role="alert" data-testid="start-notice" data-kind="outcome-unknown">
                        {f.message()}" "<a href=notice_jobs_href.clone()>"Open the Jobs page"</a>
                    </p>
                }.into_any(),
                f => view! {
                    <p class="rb-notice rb-notice-error" role="alert" data-testid="start-notice" data-kind="error"
                        data-failure=f.kind()>
                        "Could not start the run: "{f.message()}
                    </p>
                }.into_any(),
            }))}
            {if presets.is_empty() {
                view! { <p class="rb-muted">"No presets are configured for this project; choose what to run below."</p> }.into_any()
            } else {
                view! {
                    <div class="rb-presets">
                        {presets.into_iter().map(|p| {
                            let request = StartRequest { selector: p.selector.clone(), agent: p.agent_name.clone(), what: p.name.clone() };
                            view! {
                                <button type="button" class="rb-preset" data-testid="preset"
                                    disabled=live(move || sending.get() || !can_run || held())
                                    on:click=move |_| start.run(request.clone())>
                                    <span class="rb-preset-name">"▶ "{p.name}</span>
                                    <span class="rb-preset-desc">{p.description}</span>
                                </button>
                            }
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
            <AdvancedForm start=start sending=sending hold_until=hold_until can_run=can_run folded=folded />
            <RecentRuns project=project.clone() />
        </section>
    }
}

/// The advanced form: what to run, checked as the user types.
#[component]
fn AdvancedForm(
    /// Starts a run.
    start: Callback<StartRequest>,
    /// Whether a start is in flight (the button is disabled meanwhile).
    sending: RwSignal<bool>,
    /// Until when Runboard asked to wait before the next start (epoch ms).
    hold_until: RwSignal<Option<i64>>,
    /// Whether this user may start runs.
    can_run: bool,
    /// Whether the form starts folded (presets are shown above it); a deep link that
    /// pre-fills it opens it anyway.
    folded: bool,
) -> impl IntoView {
    let Clock(now) = expect_context::<Clock>();
    let held = move || hold_until.get().is_some_and(|until| now.get() < until);
    // Read once: a deep link fills the form when it opens, never while someone types.
    let pairs = router().query_pairs_untracked();
    let prefill = Prefill::from_query(&pairs);
    let open = !folded || prefill.is_some();
    let scope = RwSignal::new(prefill.as_ref().map_or(Scope::Suite, |p| p.scope));
    let ids = RwSignal::new(prefill.as_ref().map(|p| p.ids.clone()).unwrap_or_default());
    let agent = RwSignal::new(
        prefill
            .as_ref()
            .map(|p| p.agent.clone())
            .unwrap_or_default(),
    );
    let checked = Memo::new(move |_| form::selector(scope.get(), &ids.read()));
    let agent_checked = Memo::new(move |_| form::agent(&agent.read()));
    let id_error = move || match checked.get() {
        Err(e) if !ids.read().trim().is_empty() => Some(e),
        _ => None,
    };
    let ready = move || checked.with(Result::is_ok) && agent_checked.with(Result::is_ok);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let (Ok(selector), Ok(agent)) = (checked.get_untracked(), agent_checked.get_untracked())
        {
            let what = selector.describe();
            start.run(StartRequest {
                selector,
                agent,
                what,
            });
        }
    };
    let input_class = move || {
        if id_error().is_some() {
            "rb-input rb-invalid"
        } else {
            "rb-input"
        }
    };
    view! {
        <details class="rb-advanced" open=open>
            <summary>"Advanced: run a feature, a suite, a test or a list"</summary>
            <form class="rb-form" on:submit=submit novalidate>
                <div class="rb-field">
                    <label for="rb-scope">"What to run"</label>
                    <select id="rb-scope" class="rb-input" data-testid="scope"
                        on:change=move |ev| scope.set(Scope::parse(&event_target_value(&ev)).unwrap_or(Scope::Suite))
                        prop:value=live(move || scope.get().as_str().to_owned())>
                        {Scope::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=live(move || scope.get() == s)>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="rb-field rb-grow">
                    <label for="rb-ids">{shown(move || scope.get().field_label())}</label>
                    {shown(move || if scope.get() == Scope::Tests {
                        view! {
                            <textarea id="rb-ids" class=live(input_class) data-testid="selector-input" rows="3"
                                aria-describedby="rb-ids-error" spellcheck="false"
                                aria-invalid=live(move || id_error().is_some().to_string())
                                prop:value=live(move || ids.get())
                                on:input=move |ev| ids.set(event_target_value(&ev))></textarea>
                        }.into_any()
                    } else {
                        view! {
                            <input id="rb-ids" class=live(input_class) data-testid="selector-input" type="text"
                                autocomplete="off" spellcheck="false" aria-describedby="rb-ids-error"
                                aria-invalid=live(move || id_error().is_some().to_string())
                                prop:value=live(move || ids.get())
                                on:input=move |ev| ids.set(event_target_value(&ev)) />
                        }.into_any()
                    })}
                    <p id="rb-ids-error" class="rb-field-error" aria-live="polite">
                        {shown(move || id_error().map(|e| view! { <span data-testid="field-error">{e}</span> }.into_any()))}
                    </p>
                </div>
                <div class="rb-field">
                    <label for="rb-agent">"Agent "<span class="rb-muted">"(optional)"</span></label>
                    <input id="rb-agent" class="rb-input" data-testid="agent-input" type="text" autocomplete="off"
                        placeholder="any agent" aria-describedby="rb-agent-error"
                        prop:value=live(move || agent.get()) on:input=move |ev| agent.set(event_target_value(&ev)) />
                    <p id="rb-agent-error" class="rb-field-error" aria-live="polite">
                        {shown(move || agent_checked.get().err().map(|e| view! { <span data-testid="field-error">{e}</span> }.into_any()))}
                    </p>
                </div>
                <div class="rb-field rb-actions">
                    <button type="submit" class="rb-btn rb-btn-primary" data-testid="start-button"
                        aria-describedby=(!can_run).then_some("rb-viewer")
                        title=(!can_run).then_some("You may view runs but not start them")
                        disabled=live(move || sending.get() || !can_run || !ready() || held())>
                        {shown(move || if sending.get() { "Starting…" } else { "Start" })}
                    </button>
                </div>
            </form>
        </details>
    }
}

/// One line of the recent runs: what, how it ended, when, and the report it opens.
struct RecentRun {
    look: look::Look,
    what: String,
    result: Option<String>,
    started_ms: Option<i64>,
    href: Option<String>,
}

/// What ran lately in the project, newest first, from the ledger's history (anyone's
/// runs, and those started elsewhere); this browser's jobs fill in a run the ledger has
/// not followed to its report yet, and stand in when the ledger cannot answer.
#[component]
fn RecentRuns(
    /// The project.
    project: ProjectInfo,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let Clock(now) = expect_context::<Clock>();
    let proj = project.id.to_string();
    let book = load_book(&proj);
    let link = move |run: &str, job: &str| {
        let report = Route::Run {
            project: proj.clone(),
            run: run.to_owned(),
        };
        prefs.href(&report.href(), &[("job", job)])
    };
    let from_book: Vec<RecentRun> = book
        .jobs()
        .iter()
        .filter(|j| j.test_run_id.is_some())
        .take(RECENT_RUNS)
        .map(|job| {
            let run = job.test_run_id.clone().unwrap_or_default();
            RecentRun {
                look: look::job(job.status.as_ref()),
                what: job.what.clone().unwrap_or_else(|| format!("Run {run}")),
                result: job.outcome.map(|o| o.describe()),
                started_ms: job.started_ms,
                href: Some(link(&run, &job.job_id)),
            }
        })
        .collect();
    let recent = RwSignal::new(from_book);
    let book_runs: Vec<(String, String)> = book
        .jobs()
        .iter()
        .filter_map(|j| Some((j.job_id.clone(), j.test_run_id.clone()?)))
        .collect();
    spawn_local(async move {
        let newest = HistoryQuery {
            limit: Some(RECENT_RUNS),
            ..HistoryQuery::default()
        };
        let Ok(page) = api::history(&project.id, &newest).await else {
            return;
        };
        let from_ledger = page.executions.iter().map(|e| {
            let job = e.job_id.clone().unwrap_or_default();
            let known = || {
                book_runs
                    .iter()
                    .find(|(j, _)| *j == job)
                    .map(|(_, r)| r.clone())
            };
            RecentRun {
                look: look::job(Some(&JobStatus::parse(&e.status))),
                what: history::what(e),
                result: Some(match history::outcome(e) {
                    Some(o) => format!("{} · {}", o.describe(), history::who(e)),
                    None => history::who(e),
                }),
                started_ms: parse_iso_ms(&e.started_at),
                href: e
                    .test_run_id
                    .clone()
                    .or_else(known)
                    .map(|run| link(&run, &job)),
            }
        });
        recent.set(from_ledger.collect());
    });
    shown(move || {
        recent.with(|runs| {
            (!runs.is_empty()).then(|| {
                view! {
                    <section class="rb-recent" aria-labelledby="rb-recent-title">
                        <h2 id="rb-recent-title" class="rb-recent-title">"Recent runs"</h2>
                        <ul class="rb-recent-list">
                            {runs.iter().map(|run| {
                                let started = run.started_ms;
                                view! {
                                    <li class="rb-recent-item" data-testid="recent-run">
                                        <Chip look=run.look.clone() />
                                        {match run.href.clone() {
                                            Some(href) => view! { <a href=href class="rb-recent-link">{run.what.clone()}</a> }.into_any(),
                                            None => view! { <span class="rb-recent-link">{run.what.clone()}</span> }.into_any(),
                                        }}
                                        <span class="rb-muted rb-num">{run.result.clone()}</span>
                                        <span class="rb-muted rb-num rb-recent-when">{shown(move || started.map(|ms| format::ago(now.get(), ms)))}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                }
                .into_any()
            })
        })
    })
}
