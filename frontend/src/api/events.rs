//! The live report stream (`GET /runboard/live/{projId}/{runId}?since=`, Server-Sent
//! Events) through the browser's `EventSource`, owned by [`crate::api`]: opened after the
//! report the view read, events in, as the shared crate's types; a stream that fails or
//! goes quiet is reported once as [`LiveEvent::Broken`] so the view falls back to polling.

use std::{cell::Cell, rc::Rc};

use gloo_timers::callback::Interval;
use runboard_shared::{LiveEventName, ProjectId, RunId, TestRun};
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{Event, EventSource, MessageEvent};

use crate::browser;

/// How long the watchdog waits between two looks at a stream, at most.
const WATCH_EVERY_MS: i64 = 5_000;

/// What the stream says.
pub(crate) enum LiveEvent {
    /// The whole report (when the server could not tell what changed since the report
    /// the view holds, or after a gap).
    Report(TestRun),
    /// Only what changed (read as a partial report): see `logic::patch`.
    Change(TestRun),
    /// The final report; the stream is closed.
    Final(TestRun),
    /// The report the view holds (with the changes so far) is the final one; the stream
    /// is closed.
    End,
    /// The stream failed (before any event, for good, or went quiet); it is closed and
    /// says nothing more.
    Broken,
}

/// An open stream; closed when dropped.
pub(crate) struct LiveReport {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(Event)>>,
    _watchdog: Interval,
}

impl LiveReport {
    /// Opens the stream of `run` after the report the view holds, named by its `ETag`
    /// (`since`; without one the stream starts with the whole report); `on` gets each
    /// event. The server says something at least every `heartbeat_ms`: twice that
    /// without a word means the stream is stuck (a proxy on the way buffers it), and it
    /// is reported broken. `None` when the browser has no `EventSource` (then the caller
    /// polls).
    pub(crate) fn open(
        project: &ProjectId,
        run: &RunId,
        since: Option<String>,
        heartbeat_ms: u64,
        on: impl Fn(LiveEvent) + 'static,
    ) -> Option<Self> {
        let quiet_limit = i64::try_from(heartbeat_ms.saturating_mul(2)).unwrap_or(i64::MAX);
        let live = runboard_shared::Target::Live(project.clone(), run.clone(), since);
        let source = EventSource::new(&live.path()).ok()?;
        let on: Rc<dyn Fn(LiveEvent)> = Rc::new(on);
        let over = Rc::new(Cell::new(false));
        let heard = Rc::new(Cell::new(None::<i64>));
        let opened = browser::now_ms();
        // Delivers at most one ending (final or broken), then nothing.
        let emit = {
            let (source, over) = (source.clone(), over.clone());
            Rc::new(move |event: LiveEvent| {
                if over.get() {
                    return;
                }
                if matches!(
                    event,
                    LiveEvent::Final(_) | LiveEvent::End | LiveEvent::Broken
                ) {
                    over.set(true);
                    source.close();
                }
                on(event);
            })
        };
        let mut listeners = Vec::new();
        for name in [
            LiveEventName::Report,
            LiveEventName::Change,
            LiveEventName::Final,
            LiveEventName::End,
            LiveEventName::Ping,
        ] {
            let (emit, heard) = (emit.clone(), heard.clone());
            let listener = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                heard.set(Some(browser::now_ms()));
                match name {
                    LiveEventName::Ping => return,
                    LiveEventName::End => return emit(LiveEvent::End),
                    _ => {}
                }
                let data = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|message| message.data().as_string());
                let report =
                    data.and_then(|data| runboard_shared::from_json::<TestRun>(&data).ok());
                emit(match (name, report) {
                    (LiveEventName::Report, Some(report)) => LiveEvent::Report(report),
                    (LiveEventName::Change, Some(change)) => LiveEvent::Change(change),
                    (LiveEventName::Final, Some(report)) => LiveEvent::Final(report),
                    _ => LiveEvent::Broken,
                });
            });
            listen(&source, name.as_str(), &listener);
            listeners.push(listener);
        }
        // `failure` (the server could not read the run) and the browser's own `error`:
        // polling shows the reason. A stream that had events and is reconnecting by
        // itself (`CONNECTING`) is left to it; the watchdog ends a reconnect that never
        // succeeds.
        for name in [LiveEventName::Failure.as_str(), "error"] {
            let (emit, heard, state) = (emit.clone(), heard.clone(), source.clone());
            let listener = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let reconnecting =
                    name == "error" && heard.get().is_some() && state.ready_state() == 0;
                if !reconnecting {
                    emit(LiveEvent::Broken);
                }
            });
            listen(&source, name, &listener);
            listeners.push(listener);
        }
        let every = u32::try_from((quiet_limit / 2).clamp(1, WATCH_EVERY_MS)).unwrap_or(5_000);
        let watchdog = Interval::new(every, move || {
            let last = heard.get().unwrap_or(opened);
            if browser::now_ms() - last > quiet_limit {
                emit(LiveEvent::Broken);
            }
        });
        Some(Self {
            source,
            _listeners: listeners,
            _watchdog: watchdog,
        })
    }
}

fn listen(source: &EventSource, name: &str, listener: &Closure<dyn FnMut(Event)>) {
    // Adding a listener to a live EventSource does not fail.
    let _ = source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
}

impl Drop for LiveReport {
    fn drop(&mut self) {
        self.source.close();
    }
}
