//! `/p/:proj/rules`: the project's triage rules (issue 21), quarantines and known
//! issues, newest first: what each covers, why, its ticket, who made it and when, until
//! when; `?include=expired` adds the expired ones. People who may triage extend or edit
//! a rule ("Extend…"/"Edit…", `components/rule_edit.rs`) and delete one after saying so
//! twice (an inline confirmation).

use leptos::{prelude::*, task::spawn_local};
use runboard_shared::{ProjectId, ProjectInfo, Rule, RuleEvent, RuleKind, RuleState};

use crate::{
    api::triage as api,
    browser,
    components::{banner::ErrorBanner, rule_edit::EditRule},
    context::{self, Clock},
    live::{live, shown},
    logic::{
        failure::Failure, format, links::Prefs, time::parse_iso_ms, timeline::safe_video_url,
        triage::scope_words,
    },
    poller,
    router::{Route, router},
    state::may_triage,
    views::not_found::UnknownProject,
};

/// The rules are asked for again this often (others change them too).
const REFRESH_MS: u64 = 30_000;

/// `/p/:proj/rules`.
#[component]
pub(crate) fn RulesView(
    /// The project id from the address.
    project: String,
) -> impl IntoView {
    match context::boot().project(&project) {
        Some(project) => view! { <RulesPage project=project /> }.into_any(),
        None => view! { <UnknownProject id=project /> }.into_any(),
    }
}

/// The rules of one project.
#[component]
fn RulesPage(
    /// The project whose rules are shown.
    project: ProjectInfo,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    let router = router();
    let expired = RwSignal::new(router.query_untracked("include").as_deref() == Some("expired"));
    router.follow("include", expired, |v| v == Some("expired"));
    let rules: RwSignal<Option<Vec<Rule>>> = RwSignal::new(None);
    let proj = project.id.clone();
    let status = poller::start(REFRESH_MS, move |_| {
        let proj = proj.clone();
        async move {
            let page = api::rules(&proj, expired.get_untracked()).await?;
            rules.set(Some(page.rules));
            Ok(false)
        }
    });
    let url_proj = project.id.to_string();
    Effect::new(move |previous: Option<bool>| {
        let now = expired.get();
        let here = Route::Rules {
            project: url_proj.clone(),
        };
        let extra = [("include", if now { "expired" } else { "" })];
        router.navigate(&prefs.href(&here.href(), &extra), true);
        if previous.is_some_and(|p| p != now) {
            status.retry_now();
        }
        now
    });
    let allowed = may_triage(&project);
    let row_proj = StoredValue::new(project.id.clone());
    let list = shown(move || {
        let Some(rules) = rules.get() else {
            let loading = status
                .error
                .with(Option::is_none)
                .then_some("Loading the rules…");
            return view! { <p class="rb-empty" data-testid="rules-empty">{loading}</p> }
                .into_any();
        };
        if rules.is_empty() {
            let words = if expired.get() {
                "No rules, active or expired."
            } else {
                "No active rules. Quarantine a test or mark a known issue from a failed row's menu on a run report."
            };
            return view! { <p class="rb-empty" data-testid="rules-empty">{words}</p> }.into_any();
        }
        view! {
            <ul class="rb-rules" aria-label="Rules, newest first">
                {rules.into_iter().map(|rule| view! {
                    <RuleRow rule=rule project=row_proj.get_value() allowed=allowed refresh=Callback::new(move |()| status.retry_now()) />
                }).collect_view()}
            </ul>
        }
        .into_any()
    });
    view! {
        <section class="rb-rules-view" aria-labelledby="rb-rules-title">
            <h1 id="rb-rules-title" class="rb-title">"Rules"</h1>
            <p class="rb-muted rb-rules-intro">"Quarantined tests are shown but never block; known issues label failures whose error matches. "
                {(!allowed).then_some("You may read the rules but not change them.")}</p>
            <ErrorBanner status=status />
            <label class="rb-field-inline rb-rules-toggle">
                <input type="checkbox" data-testid="rules-expired" prop:checked=live(move || expired.get())
                    on:change=move |ev| expired.set(event_target_checked(&ev)) />
                "Show expired rules too"
            </label>
            {list}
        </section>
    }
}

/// One rule: kind, what it covers, why, its ticket, who and when, until, and delete.
#[component]
fn RuleRow(
    /// The rule.
    rule: Rule,
    /// Its project.
    project: ProjectId,
    /// Whether this user may delete it.
    allowed: bool,
    /// Reads the rules again (after a delete).
    refresh: Callback<()>,
) -> impl IntoView {
    let Clock(now) = expect_context::<Clock>();
    let kind = match rule.spec.kind() {
        RuleKind::Quarantine => ("⊘", "Quarantine", "rb-tone-skipped"),
        RuleKind::Known => ("⚑", "Known issue", "rb-tone-waiting"),
    };
    let expired = rule.state == RuleState::Expired;
    let created = parse_iso_ms(&rule.created_at);
    let full = created.map(|ms| format::timestamp(ms, browser::local_offset_min(ms)));
    let link = rule.spec.link().and_then(safe_video_url).map(|url| {
        view! { <a class="rb-rule-link" href=url.to_owned() target="_blank" rel="noopener" data-testid="rule-link">"ticket"</a> }
    });
    let until = rule.spec.until().map(|day| {
        let word = if expired { "expired after" } else { "until" };
        view! { <span class="rb-rule-until rb-num" data-testid="rule-until">{format!("{word} {day}")}</span> }
    });
    let blocks = match &rule.spec {
        runboard_shared::NewRule::Known(k) if !k.blocks => Some("does not block"),
        _ => None,
    };
    let reason = rule.spec.reason().to_owned();
    let history = history(&rule.history);
    let actions = allowed.then(|| {
        view! {
            <div class="rb-rule-actions">
                <EditRule rule=rule.clone() project=project.clone() refresh=refresh />
                <DeleteRule rule=rule.clone() project=project refresh=refresh />
            </div>
        }
    });
    view! {
        <li class="rb-rule" data-testid="rule-row" data-rule-id=rule.id.to_string()
            data-kind=rule.spec.kind().as_str() data-state=if expired { "expired" } else { "active" }>
            <span class=format!("rb-chip {}", kind.2)>
                <span class="rb-chip-icon" aria-hidden="true">{kind.0}</span>
                <span class="rb-chip-word">{kind.1}</span>
            </span>
            <div class="rb-rule-main">
                <span class="rb-rule-scope" data-testid="rule-scope">{scope_words(&rule.spec)}</span>
                <span class="rb-rule-reason">{(!reason.is_empty()).then_some(reason)}</span>
                <span class="rb-rule-meta rb-muted">
                    {format!("by {} ", rule.by)}
                    <span class="rb-num" title=full>{shown(move || created.map(|ms| format::ago(now.get(), ms)))}</span>
                    {until.map(|u| view! { " · "{u} })}
                    {blocks.map(|b| format!(" · {b}"))}
                    {expired.then_some(" · expired")}
                    {link.map(|l| view! { " · "{l} })}
                </span>
                {history}
            </div>
            {actions}
        </li>
    }
}

/// What happened to the rule, when more than its creation did.
fn history(events: &[RuleEvent]) -> Option<AnyView> {
    (events.len() > 1).then(|| {
        let lines = events
            .iter()
            .map(|e| {
                let at = parse_iso_ms(&e.at)
                    .map(|ms| format::timestamp(ms, browser::local_offset_min(ms)))
                    .unwrap_or_else(|| e.at.clone());
                let action = match e.action {
                    runboard_shared::RuleAction::Created => "created",
                    runboard_shared::RuleAction::Edited => "edited",
                    runboard_shared::RuleAction::Expired => "expired",
                    runboard_shared::RuleAction::Deleted => "deleted",
                };
                view! { <li>{format!("{action} by {} · {at}", e.by)}</li> }
            })
            .collect_view();
        view! {
            <details class="rb-rule-history">
                <summary>"History"</summary>
                <ul>{lines}</ul>
            </details>
        }
        .into_any()
    })
}

/// "Delete", then "Delete this rule? [Delete] [Keep]": nothing goes until confirmed.
#[component]
fn DeleteRule(
    /// The rule.
    rule: Rule,
    /// Its project.
    project: ProjectId,
    /// Reads the rules again once it is gone.
    refresh: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let failure: RwSignal<Option<Failure>> = RwSignal::new(None);
    let id = StoredValue::new(rule.id.clone());
    let project = StoredValue::new(project);
    let confirm = move |_| {
        sending.set(true);
        failure.set(None);
        let (project, id) = (project.get_value(), id.get_value());
        spawn_local(async move {
            let answer = api::delete_rule(&project, &id).await;
            sending.try_set(false);
            match answer {
                Ok(()) => refresh.run(()),
                Err(f) => {
                    failure.try_set(Some(f));
                }
            }
        });
    };
    let what = scope_words(&rule.spec);
    view! {
        <div class="rb-rule-actions">
            {shown(move || if asking.get() {
                view! {
                    <span class="rb-rule-confirm" role="group" aria-label="Confirm">
                        <span>"Delete this rule?"</span>
                        <button type="button" class="rb-btn rb-btn-small rb-btn-danger" data-testid="rule-delete-confirm"
                            disabled=live(move || sending.get()) on:click=confirm>"Delete"</button>
                        <button type="button" class="rb-btn rb-btn-small" data-testid="rule-delete-keep"
                            on:click=move |_| asking.set(false)>"Keep"</button>
                    </span>
                }.into_any()
            } else {
                view! {
                    <button type="button" class="rb-btn rb-btn-small" data-testid="rule-delete"
                        aria-label=format!("Delete the rule on {what}") on:click=move |_| asking.set(true)>"Delete"</button>
                }.into_any()
            })}
            <span class="rb-field-error" role="alert">{shown(move || failure.get().map(|f| format!("Not deleted: {}", f.message())))}</span>
        </div>
    }
}
