//! `/p/:proj/tokens`: the project's machine tokens (issue 22), for administrators only
//! (the bootstrap's `mayAdmin`; the server refuses everyone else too). A token is made
//! with a name, whether it may start runs (and which presets), and an expiry; its text is
//! shown once, with a copy button, and never again. Each token's scope, creator, last use
//! and expiry are listed; revoking one asks first (an inline confirmation).

use leptos::{prelude::*, task::spawn_local};
use runboard_shared::{NewToken, ProjectId, ProjectInfo, TokenInfo};

use crate::{
    api::tokens as api,
    browser,
    components::banner::ErrorBanner,
    context::{self, Clock},
    live::{live, shown},
    logic::{failure::Failure, format, time::parse_iso_ms},
    poller,
    views::not_found::UnknownProject,
};

/// The list is read again this often (the last use changes, others revoke).
const REFRESH_MS: u64 = 30_000;

/// `/p/:proj/tokens`.
#[component]
pub(crate) fn TokensView(
    /// The project id from the address.
    project: String,
) -> impl IntoView {
    let boot = context::boot();
    match boot.project(&project) {
        Some(project) if boot.0.may_admin => view! { <TokensPage project=project /> }.into_any(),
        Some(_) => view! {
            <p class="rb-empty" data-testid="tokens-forbidden">
                "Only Runboard administrators manage machine tokens."
            </p>
        }
        .into_any(),
        None => view! { <UnknownProject id=project /> }.into_any(),
    }
}

/// The tokens of one project and the form that makes one.
#[component]
fn TokensPage(
    /// The project whose tokens are shown.
    project: ProjectInfo,
) -> impl IntoView {
    let tokens: RwSignal<Option<Vec<TokenInfo>>> = RwSignal::new(None);
    let proj = project.id.clone();
    let status = poller::start(REFRESH_MS, move |_| {
        let proj = proj.clone();
        async move {
            tokens.set(Some(api::list(&proj).await?.tokens));
            Ok(false)
        }
    });
    let refresh = Callback::new(move |()| status.retry_now());
    let row_proj = StoredValue::new(project.id.clone());
    let list = shown(move || {
        let Some(tokens) = tokens.get() else {
            let loading = status
                .error
                .with(Option::is_none)
                .then_some("Loading the tokens…");
            return view! { <p class="rb-empty" data-testid="tokens-empty">{loading}</p> }
                .into_any();
        };
        if tokens.is_empty() {
            return view! {
                <p class="rb-empty" data-testid="tokens-empty">
                    "No tokens. A pipeline that runs `runboard run` needs one, in RUNBOARD_TOKEN."
                </p>
            }
            .into_any();
        }
        view! {
            <ul class="rb-rules" aria-label="Tokens, by name">
                {tokens.into_iter().map(|token| view! {
                    <TokenRow token=token project=row_proj.get_value() refresh=refresh />
                }).collect_view()}
            </ul>
        }
        .into_any()
    });
    view! {
        <section class="rb-rules-view" aria-labelledby="rb-tokens-title">
            <h1 id="rb-tokens-title" class="rb-title">"Tokens"</h1>
            <p class="rb-muted rb-rules-intro">
                "A token lets a pipeline read this project, and start runs if you allow it, as "
                <code>"Authorization: Bearer rbt_…"</code>". It acts as token:NAME in the history and the audit trail."
            </p>
            <ErrorBanner status=status />
            <CreateToken project=project refresh=refresh />
            <h2 class="rb-subtitle">"Tokens in use"</h2>
            {list}
        </section>
    }
}

/// The form that makes a token, then its text, shown once, with a copy button.
#[component]
fn CreateToken(
    /// The project the token is for.
    project: ProjectInfo,
    /// Reads the list again once a token is made.
    refresh: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let may_start = RwSignal::new(false);
    let chosen: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let days = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let failure: RwSignal<Option<String>> = RwSignal::new(None);
    let created: RwSignal<Option<String>> = RwSignal::new(None);
    let copied = RwSignal::new(false);
    let proj = StoredValue::new(project.id.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let expires_days = match days.get_untracked().trim() {
            "" => None,
            text => match text.parse::<u32>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    failure.set(Some(
                        "Expiry: a whole number of days, or empty for never.".into(),
                    ));
                    return;
                }
            },
        };
        let presets = chosen.get_untracked();
        let token = NewToken {
            name: name.get_untracked().trim().to_owned(),
            may_start: may_start.get_untracked(),
            presets: (may_start.get_untracked() && !presets.is_empty()).then_some(presets),
            expires_days,
        };
        sending.set(true);
        failure.set(None);
        let project: ProjectId = proj.get_value();
        spawn_local(async move {
            let answer = api::create(&project, &token).await;
            sending.try_set(false);
            match answer {
                Ok(made) => {
                    copied.try_set(false);
                    created.try_set(Some(made.token));
                    name.try_set(String::new());
                    refresh.run(());
                }
                Err(f) => {
                    failure.try_set(Some(f.message()));
                }
            }
        });
    };
    let copy = move |_| {
        if let Some(text) = created.get_untracked() {
            spawn_local(async move {
                copied.try_set(browser::copy_text(&text).await);
            });
        }
    };
    let presets = project
        .presets
        .iter()
        .map(|preset| {
            let label = preset.name.clone();
            let value = StoredValue::new(preset.name.clone());
            view! {
                <label class="rb-field-inline">
                    <input type="checkbox" disabled=live(move || !may_start.get())
                        prop:checked=live(move || chosen.with(|c| c.contains(&value.get_value())))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|p| *p != value.get_value());
                                if on {
                                    c.push(value.get_value());
                                }
                            });
                        } />
                    {label}
                </label>
            }
        })
        .collect_view();
    let shown_once = shown(move || {
        created.get().map(|token| {
            view! {
                <div class="rb-token-created" role="status" data-testid="token-created">
                    <p>"Store this token now: it will not be shown again."</p>
                    <code class="rb-token-text" data-testid="token-text">{token}</code>
                    <button type="button" class="rb-btn rb-btn-small" data-testid="token-copy" on:click=copy>
                        {live(move || if copied.get() { "Copied" } else { "Copy" })}
                    </button>
                    <button type="button" class="rb-btn rb-btn-small" on:click=move |_| created.set(None)>"Done"</button>
                </div>
            }
        })
    });
    view! {
        <form class="rb-token-form" on:submit=submit aria-labelledby="rb-token-form-title">
            <h2 class="rb-subtitle" id="rb-token-form-title">"New token"</h2>
            <label class="rb-field">
                <span>"Name"</span>
                <input type="text" required maxlength="64" pattern="[A-Za-z0-9._\\-]+" autocomplete="off"
                    data-testid="token-name" prop:value=live(move || name.get())
                    on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label class="rb-field-inline">
                <input type="checkbox" data-testid="token-may-start" prop:checked=live(move || may_start.get())
                    on:change=move |ev| may_start.set(event_target_checked(&ev)) />
                "May start runs"
            </label>
            {(!project.presets.is_empty()).then(|| view! {
                <fieldset class="rb-token-presets">
                    <legend>"Only these presets (none checked: any run)"</legend>
                    {presets}
                </fieldset>
            })}
            <label class="rb-field">
                <span>"Expires after (days; empty: never)"</span>
                <input type="number" min="1" max="3650" inputmode="numeric" data-testid="token-days"
                    prop:value=live(move || days.get()) on:input=move |ev| days.set(event_target_value(&ev)) />
            </label>
            <button type="submit" class="rb-btn" data-testid="token-create" disabled=live(move || sending.get())>"Create token"</button>
            <span class="rb-field-error" role="alert">{shown(move || failure.get().map(|m| format!("Not created: {m}")))}</span>
        </form>
        {shown_once}
    }
}

/// One token: name, scope, who made it and when, last use, expiry, and revoke.
#[component]
fn TokenRow(
    /// The token.
    token: TokenInfo,
    /// Its project.
    project: ProjectId,
    /// Reads the list again (after a revoke).
    refresh: Callback<()>,
) -> impl IntoView {
    let Clock(now) = expect_context::<Clock>();
    let scope = match (&token.presets, token.may_start) {
        (_, false) => "read".to_owned(),
        (None, true) => "read, start any run".to_owned(),
        (Some(presets), true) => format!("read, start {}", presets.join(", ")),
    };
    let created = parse_iso_ms(&token.created_at);
    let used = token.last_used_at.as_deref().and_then(parse_iso_ms);
    let expires = token
        .expires_at
        .as_deref()
        .and_then(parse_iso_ms)
        .map(|ms| {
            format!(
                " · expires {}",
                format::timestamp(ms, browser::local_offset_min(ms))
            )
        });
    let by = token.created_by.clone();
    let name = token.name;
    let (attribute, label) = (name.clone(), name.clone());
    view! {
        <li class="rb-rule rb-token-row" data-testid="token-row" data-token=attribute>
            <div class="rb-rule-main">
                <span class="rb-rule-scope">{label}</span>
                <span class="rb-rule-reason">{scope}</span>
                <span class="rb-rule-meta rb-muted rb-num">
                    {format!("made by {by} ")}
                    {shown(move || created.map(|ms| format::ago(now.get(), ms)))}
                    " · last used "
                    {shown(move || used.map_or_else(|| "never".to_owned(), |ms| format::ago(now.get(), ms)))}
                    {expires}
                </span>
            </div>
            <RevokeToken name=name project=project refresh=refresh />
        </li>
    }
}

/// "Revoke", then "Revoke this token? [Revoke] [Keep]": nothing goes until confirmed.
#[component]
fn RevokeToken(
    /// The token's name.
    name: String,
    /// Its project.
    project: ProjectId,
    /// Reads the list again once it is revoked.
    refresh: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let sending = RwSignal::new(false);
    let failure: RwSignal<Option<Failure>> = RwSignal::new(None);
    let token = StoredValue::new(name.clone());
    let project = StoredValue::new(project);
    let confirm = move |_| {
        sending.set(true);
        failure.set(None);
        let (project, name) = (project.get_value(), token.get_value());
        spawn_local(async move {
            let answer = api::revoke(&project, &name).await;
            sending.try_set(false);
            match answer {
                Ok(()) => refresh.run(()),
                Err(f) => {
                    failure.try_set(Some(f));
                }
            }
        });
    };
    view! {
        <div class="rb-rule-actions">
            {shown(move || if asking.get() {
                view! {
                    <span class="rb-rule-confirm" role="group" aria-label="Confirm">
                        <span>"Revoke this token?"</span>
                        <button type="button" class="rb-btn rb-btn-small rb-btn-danger" data-testid="token-revoke-confirm"
                            disabled=live(move || sending.get()) on:click=confirm>"Revoke"</button>
                        <button type="button" class="rb-btn rb-btn-small" on:click=move |_| asking.set(false)>"Keep"</button>
                    </span>
                }.into_any()
            } else {
                view! {
                    <button type="button" class="rb-btn rb-btn-small" data-testid="token-revoke"
                        aria-label=format!("Revoke the token {name}") on:click=move |_| asking.set(true)>"Revoke"</button>
                }.into_any()
            })}
            <span class="rb-field-error" role="alert">{shown(move || failure.get().map(|f| format!("Not revoked: {}", f.message())))}</span>
        </div>
    }
}
