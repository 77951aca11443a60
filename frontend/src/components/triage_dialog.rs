//! The triage dialogs (issue 21): "Quarantine…" (reason, link, until) and "Mark as known
//! issue…" (this test or this error anywhere, the text to recognise, note, link, whether
//! it still blocks). A modal `<dialog>`: the focus moves into it, Esc closes it, and the
//! focus returns to the row's menu button. Forms are checked as the server checks them
//! (`logic::triage`); a refusal is shown next to the field it names. After a rule is
//! made the verdict is read again (`Triage::changed`).

use leptos::{html, prelude::*, task::spawn_local};
use runboard_shared::{Day, NewRule};

use crate::{
    api::triage as api,
    browser,
    components::triage_menu::focus_menu_button,
    live::{live, shown},
    logic::{
        failure::Failure,
        triage::{
            FieldError, KnownForm, KnownScope, QuarantineForm, latest_until, max_days, place,
        },
    },
    state::{DialogKind, Failed, Triage},
};

/// The dialog of `kind` about `failed`.
#[component]
pub(crate) fn TriageDialog(
    /// The page's triage state.
    triage: Triage,
    /// Which dialog.
    kind: DialogKind,
    /// The failure it is about.
    failed: Failed,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        if let Some(d) = dialog.get()
            && !d.open()
        {
            let _ = d.show_modal();
        }
    });
    let test_id = StoredValue::new(failed.test_id.clone());
    // Esc (the browser's cancel), Cancel, or a rule made: the dialog goes, the focus
    // returns to the row's menu button.
    let closed = Callback::new(move |()| {
        triage.dialog.set(None);
        test_id.with_value(|id| focus_menu_button(id));
    });
    let close = move |_| {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };
    let (title, form) = match kind {
        DialogKind::Quarantine => (
            format!("Quarantine “{}”", failed.title),
            view! { <Quarantining triage=triage failed=failed.clone() done=closed cancel=close /> }
                .into_any(),
        ),
        DialogKind::Known => (
            format!("Mark the failure of “{}” as a known issue", failed.title),
            view! { <MarkingKnown triage=triage failed=failed.clone() done=closed cancel=close /> }
                .into_any(),
        ),
    };
    view! {
        <dialog class="rb-dialog" node_ref=dialog aria-labelledby="rb-dialog-title" data-testid="triage-dialog"
            on:close=move |_| closed.run(())>
            <h2 id="rb-dialog-title" class="rb-dialog-title">{title}</h2>
            {form}
        </dialog>
    }
}

/// A labelled field with its error below it, tied to the control by
/// `aria-describedby` (the control gets `id` and the error `{id}-error`). Also the Rules
/// page's "Edit…" dialog's (`rule_edit.rs`).
#[component]
pub(crate) fn Field(
    /// The control's id.
    id: &'static str,
    /// The visible label.
    label: &'static str,
    /// The message for this field, if any.
    error: Signal<Option<String>>,
    /// The control.
    children: Children,
) -> impl IntoView {
    view! {
        <div class="rb-field rb-dialog-field">
            <label for=id>{label}</label>
            {children()}
            <p id=format!("{id}-error") class="rb-field-error" data-testid="field-error" data-for=id>
                {shown(move || error.get())}
            </p>
        </div>
    }
}

/// The form state every triage dialog shares (these two and the Rules page's "Edit…"):
/// the error shown and whether a request is out.
#[derive(Clone, Copy)]
pub(crate) struct FormState {
    /// The message shown (next to its field, or for the whole form).
    pub(crate) error: RwSignal<Option<FieldError>>,
    sending: RwSignal<bool>,
}

impl FormState {
    pub(crate) fn new() -> Self {
        Self {
            error: RwSignal::new(None),
            sending: RwSignal::new(false),
        }
    }

    /// The message for `field`, as a signal for its [`Field`].
    pub(crate) fn of(self, field: &'static str) -> Signal<Option<String>> {
        let error = self.error;
        Signal::derive(move || {
            error.with(|e| {
                e.as_ref()
                    .filter(|e| e.field == field)
                    .map(|e| e.message.clone())
            })
        })
    }

    /// `aria-invalid` of the control of `field`.
    pub(crate) fn invalid(self, field: &'static str) -> crate::live::Live<String> {
        let error = self.error;
        live(move || {
            error
                .with(|e| e.as_ref().is_some_and(|e| e.field == field))
                .to_string()
        })
    }

    /// Sends `rule`; on success the verdict is read again and `done` runs, on a refusal
    /// the message goes next to the field it names (`fields`), and `refused` hears it.
    fn send(
        self,
        triage: Triage,
        rule: NewRule,
        fields: &'static [&'static str],
        refused: impl Fn(&FieldError) + 'static,
        done: Callback<()>,
    ) {
        let project = triage.project.get_value();
        let changed = Callback::new(move |()| {
            triage.changed.try_update(|n| *n += 1);
            done.run(());
        });
        self.send_with(
            async move { api::create_rule(&project, &rule).await },
            fields,
            refused,
            changed,
        );
    }

    /// Sends `request` (unless one is out already); on success `done` runs, on a refusal
    /// the message goes next to the field it names (`fields`), and `refused` hears it.
    pub(crate) fn send_with(
        self,
        request: impl std::future::Future<Output = Result<(), Failure>> + 'static,
        fields: &'static [&'static str],
        refused: impl Fn(&FieldError) + 'static,
        done: Callback<()>,
    ) {
        if self.sending.get_untracked() {
            return;
        }
        self.sending.set(true);
        self.error.set(None);
        spawn_local(async move {
            let answer = request.await;
            self.sending.try_set(false);
            match answer {
                Ok(()) => done.run(()),
                Err(failure) => {
                    let error = match &failure {
                        Failure::Invalid(message) => place(message, fields),
                        other => FieldError {
                            field: "",
                            message: other.message(),
                        },
                    };
                    refused(&error);
                    self.error.try_set(Some(error));
                }
            }
        });
    }
}

/// The form's own message (not about one field) and its buttons.
#[component]
pub(crate) fn Actions(
    /// The form's state.
    state: FormState,
    /// The submit button's words.
    submit: &'static str,
    /// Closes the dialog without doing anything.
    cancel: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    let general = state.of("");
    view! {
        <p class="rb-field-error" role="alert" data-testid="dialog-error">{shown(move || general.get())}</p>
        <div class="rb-dialog-actions">
            <button type="button" class="rb-btn" data-testid="dialog-cancel" on:click=cancel>"Cancel"</button>
            <button type="submit" class="rb-btn rb-btn-primary" data-testid="dialog-submit"
                disabled=live(move || state.sending.get())>{submit}</button>
        </div>
    }
}

/// Binds a text control to `value`.
pub(crate) fn text_input(
    value: RwSignal<String>,
) -> (
    crate::live::Live<String>,
    impl Fn(leptos::ev::Event) + 'static,
) {
    (live(move || value.get()), move |ev| {
        value.set(event_target_value(&ev))
    })
}

/// "Quarantine…": reason, link, until (a date input, a week from today by default, at
/// most as far as the server allows).
#[component]
fn Quarantining(
    /// The page's triage state.
    triage: Triage,
    /// The failure whose test is quarantined.
    failed: Failed,
    /// Runs once the rule is made.
    done: Callback<()>,
    /// Closes the dialog.
    cancel: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    const FIELDS: &[&str] = &["reason", "link", "until"];
    let today = Day::from_epoch_ms(browser::now_ms());
    let start = QuarantineForm::new(today);
    let (reason, link, until) = (
        RwSignal::new(start.reason),
        RwSignal::new(start.link),
        RwSignal::new(start.until),
    );
    let latest = RwSignal::new(latest_until(today, None));
    let state = FormState::new();
    let test_id = failed.test_id.clone();
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let form = QuarantineForm {
            reason: reason.get_untracked(),
            link: link.get_untracked(),
            until: until.get_untracked(),
        };
        let max = max_days(today, latest.get_untracked());
        match form.rule(&test_id, today, max) {
            Ok(rule) => state.send(
                triage,
                rule,
                FIELDS,
                move |error| {
                    if error.field == "until" {
                        latest.set(latest_until(today, Some(&error.message)));
                    }
                },
                done,
            ),
            Err(error) => state.error.set(Some(error)),
        }
    };
    let (reason_value, reason_input) = text_input(reason);
    let (link_value, link_input) = text_input(link);
    let (until_value, until_input) = text_input(until);
    view! {
        <form class="rb-dialog-form" data-testid="quarantine-form" on:submit=submit novalidate=true>
            <p class="rb-muted rb-dialog-note">"Its failures stay visible but stop blocking until the day you pick."</p>
            <Field id="rb-q-reason" label="Reason" error=state.of("reason")>
                <input id="rb-q-reason" class="rb-input" type="text" data-testid="field-reason" autocomplete="off"
                    aria-describedby="rb-q-reason-error" aria-invalid=state.invalid("reason")
                    prop:value=reason_value on:input=reason_input />
            </Field>
            <Field id="rb-q-link" label="Ticket link (optional)" error=state.of("link")>
                <input id="rb-q-link" class="rb-input" type="url" data-testid="field-link" placeholder="https://…"
                    aria-describedby="rb-q-link-error" aria-invalid=state.invalid("link")
                    prop:value=link_value on:input=link_input />
            </Field>
            <Field id="rb-q-until" label="Until (last day, UTC)" error=state.of("until")>
                <input id="rb-q-until" class="rb-input" type="date" data-testid="field-until"
                    min=today.to_string() max=live(move || latest.get().to_string())
                    aria-describedby="rb-q-until-error" aria-invalid=state.invalid("until")
                    prop:value=until_value on:input=until_input />
            </Field>
            <Actions state=state submit="Quarantine" cancel=cancel />
        </form>
    }
}

/// "Mark as known issue…": the text to recognise (the error headline to start with),
/// this test or anywhere, a note, a link, whether it still blocks.
#[component]
fn MarkingKnown(
    /// The page's triage state.
    triage: Triage,
    /// The failure whose error is known.
    failed: Failed,
    /// Runs once the rule is made.
    done: Callback<()>,
    /// Closes the dialog.
    cancel: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    const FIELDS: &[&str] = &["match", "note", "link"];
    let start = KnownForm::new(&failed.headline);
    let pattern = RwSignal::new(start.pattern);
    let anywhere = RwSignal::new(start.scope == KnownScope::Anywhere);
    let note = RwSignal::new(start.note);
    let link = RwSignal::new(start.link);
    let blocks = RwSignal::new(start.blocks);
    let state = FormState::new();
    let test_id = failed.test_id.clone();
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let form = KnownForm {
            pattern: pattern.get_untracked(),
            scope: if anywhere.get_untracked() {
                KnownScope::Anywhere
            } else {
                KnownScope::ThisTest
            },
            note: note.get_untracked(),
            link: link.get_untracked(),
            blocks: blocks.get_untracked(),
        };
        match form.rule(&test_id) {
            Ok(rule) => state.send(triage, rule, FIELDS, |_| {}, done),
            Err(error) => state.error.set(Some(error)),
        }
    };
    let (pattern_value, pattern_input) = text_input(pattern);
    let (note_value, note_input) = text_input(note);
    let (link_value, link_input) = text_input(link);
    view! {
        <form class="rb-dialog-form" data-testid="known-form" on:submit=submit novalidate=true>
            <fieldset class="rb-dialog-choice">
                <legend>"Which failures"</legend>
                <label><input type="radio" name="rb-k-scope" data-testid="scope-test"
                    prop:checked=live(move || !anywhere.get()) on:change=move |_| anywhere.set(false) />
                    " This test’s, with this error"</label>
                <label><input type="radio" name="rb-k-scope" data-testid="scope-anywhere"
                    prop:checked=live(move || anywhere.get()) on:change=move |_| anywhere.set(true) />
                    " This error in any test"</label>
            </fieldset>
            <Field id="rb-k-match" label="The error contains" error=state.of("match")>
                <textarea id="rb-k-match" class="rb-input" rows="2" data-testid="field-match"
                    aria-describedby="rb-k-match-error" aria-invalid=state.invalid("match")
                    prop:value=pattern_value on:input=pattern_input></textarea>
            </Field>
            <Field id="rb-k-note" label="Note (optional)" error=state.of("note")>
                <input id="rb-k-note" class="rb-input" type="text" data-testid="field-note" autocomplete="off"
                    aria-describedby="rb-k-note-error" aria-invalid=state.invalid("note")
                    prop:value=note_value on:input=note_input />
            </Field>
            <Field id="rb-k-link" label="Ticket link (optional)" error=state.of("link")>
                <input id="rb-k-link" class="rb-input" type="url" data-testid="field-link" placeholder="https://…"
                    aria-describedby="rb-k-link-error" aria-invalid=state.invalid("link")
                    prop:value=link_value on:input=link_input />
            </Field>
            <label class="rb-dialog-check"><input type="checkbox" data-testid="field-blocks"
                prop:checked=live(move || blocks.get()) on:change=move |ev| blocks.set(event_target_checked(&ev)) />
                " Still blocks releases (a known bug is still a bug)"</label>
            <Actions state=state submit="Mark as known" cancel=cancel />
        </form>
    }
}
