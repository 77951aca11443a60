//! The Rules page's "Extend…" (a quarantine) and "Edit…" (a known issue) button and its
//! dialog (issue 21): a modal `<dialog>` with the fields a rule may change, opened with
//! the rule's values; the focus moves into it, Esc or Cancel closes it, and the focus
//! returns to the button. Built from the triage dialogs' pieces (`triage_dialog.rs`:
//! fields tied to their errors, the form state, the buttons); checked as the server
//! checks it (`logic::rule_edit`), a refusal shown next to the field it names.

use leptos::{html, prelude::*};
use runboard_shared::{Day, NewRule, ProjectId, Rule, RuleId};

use crate::{
    api::triage as api,
    browser,
    components::triage_dialog::{Actions, Field, FormState, text_input},
    live::{live, shown},
    logic::{
        rule_edit::{EditForm, FIELDS},
        triage::{latest_until, max_days},
    },
};

/// The button, and the dialog while it is open.
#[component]
pub(crate) fn EditRule(
    /// The rule.
    rule: Rule,
    /// Its project.
    project: ProjectId,
    /// Reads the rules again once it changed.
    refresh: Callback<()>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let button = NodeRef::<html::Button>::new();
    let closed = Callback::new(move |()| {
        open.set(false);
        if let Some(b) = button.get_untracked() {
            let _ = b.focus();
        }
    });
    let (words, label) = match rule.spec {
        NewRule::Quarantine(_) => ("Extend…", "Extend or edit the quarantine of"),
        NewRule::Known(_) => ("Edit…", "Edit the known issue on"),
    };
    let aria = format!("{label} {}", crate::logic::triage::scope_words(&rule.spec));
    let rule = StoredValue::new(rule);
    let project = StoredValue::new(project);
    view! {
        <button type="button" class="rb-btn rb-btn-small" data-testid="rule-edit" node_ref=button
            aria-label=aria aria-haspopup="dialog" on:click=move |_| open.set(true)>{words}</button>
        {shown(move || open.get().then(|| view! {
            <EditDialog rule=rule.get_value() project=project.get_value() refresh=refresh closed=closed />
        }))}
    }
}

/// The modal dialog of one rule's edit.
#[component]
fn EditDialog(
    rule: Rule,
    project: ProjectId,
    refresh: Callback<()>,
    /// Runs when the dialog has gone (Esc, Cancel or saved).
    closed: Callback<()>,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        if let Some(d) = dialog.get()
            && !d.open()
        {
            let _ = d.show_modal();
        }
    });
    let close = move |_| {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };
    let saved = Callback::new(move |()| {
        refresh.run(());
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    });
    let title = format!(
        "Edit the rule on {}",
        crate::logic::triage::scope_words(&rule.spec)
    );
    let start = EditForm::of(&rule.spec);
    let (until, text, link) = (
        RwSignal::new(start.until),
        RwSignal::new(start.text),
        RwSignal::new(start.link),
    );
    let blocks = RwSignal::new(start.blocks);
    let today = Day::from_epoch_ms(browser::now_ms());
    let latest = RwSignal::new(latest_until(today, None));
    let state = FormState::new();
    let quarantine = matches!(rule.spec, NewRule::Quarantine(_));
    let spec = StoredValue::new(rule.spec.clone());
    let id: StoredValue<RuleId> = StoredValue::new(rule.id.clone());
    let project = StoredValue::new(project);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let form = EditForm {
            until: until.get_untracked(),
            text: text.get_untracked(),
            link: link.get_untracked(),
            blocks: blocks.get_untracked(),
        };
        let max = max_days(today, latest.get_untracked());
        match spec.with_value(|spec| form.edit(spec, today, max)) {
            Ok(edit) => {
                let (project, id) = (project.get_value(), id.get_value());
                state.send_with(
                    async move { api::edit_rule(&project, &id, &edit).await },
                    FIELDS,
                    move |error| {
                        if error.field == "until" {
                            latest.set(latest_until(today, Some(&error.message)));
                        }
                    },
                    saved,
                );
            }
            Err(error) => state.error.set(Some(error)),
        }
    };
    let (until_value, until_input) = text_input(until);
    let (text_value, text_input_) = text_input(text);
    let (link_value, link_input) = text_input(link);
    let (text_field, text_label) = if quarantine {
        ("reason", "Reason")
    } else {
        ("note", "Note (optional)")
    };
    let until_field = quarantine.then(|| {
        view! {
            <Field id="rb-e-until" label="Until (last day, UTC)" error=state.of("until")>
                <input id="rb-e-until" class="rb-input" type="date" data-testid="field-until"
                    min=today.to_string() max=live(move || latest.get().to_string())
                    aria-describedby="rb-e-until-error" aria-invalid=state.invalid("until")
                    prop:value=until_value on:input=until_input />
            </Field>
        }
    });
    let blocks_field = (!quarantine).then(|| view! {
        <label class="rb-dialog-check"><input type="checkbox" data-testid="field-blocks"
            prop:checked=live(move || blocks.get()) on:change=move |ev| blocks.set(event_target_checked(&ev)) />
            " Still blocks releases (a known bug is still a bug)"</label>
    });
    view! {
        <dialog class="rb-dialog" node_ref=dialog aria-labelledby="rb-edit-title" data-testid="rule-edit-dialog"
            on:close=move |_| closed.run(())>
            <h2 id="rb-edit-title" class="rb-dialog-title">{title}</h2>
            <form class="rb-dialog-form" data-testid="rule-edit-form" on:submit=submit novalidate=true>
                {until_field}
                <Field id="rb-e-text" label=text_label error=state.of(text_field)>
                    <input id="rb-e-text" class="rb-input" type="text" data-testid="field-text" autocomplete="off"
                        aria-describedby="rb-e-text-error" aria-invalid=state.invalid(text_field)
                        prop:value=text_value on:input=text_input_ />
                </Field>
                <Field id="rb-e-link" label="Ticket link (optional)" error=state.of("link")>
                    <input id="rb-e-link" class="rb-input" type="url" data-testid="field-link" placeholder="https://…"
                        aria-describedby="rb-e-link-error" aria-invalid=state.invalid("link")
                        prop:value=link_value on:input=link_input />
                </Field>
                {blocks_field}
                <Actions state=state submit="Save" cancel=close />
            </form>
        </dialog>
    }
}
