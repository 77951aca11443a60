//! The browser side of polling: runs a fetch on the timing [`PollMachine`] decides,
//! pauses while the tab is hidden, refreshes when it is shown, and exposes the state the
//! error banner and "updated N s ago" need.

use std::{cell::RefCell, future::Future, pin::Pin, rc::Rc};

use gloo_timers::callback::Timeout;
use leptos::{ev, prelude::*, task::spawn_local};
use send_wrapper::SendWrapper;

use crate::{
    browser,
    logic::{
        failure::Failure,
        poll::{Next, PollMachine},
    },
};

/// What a poll loop shows: the last failure (cleared on success), when the next retry
/// is due, when the last answer arrived.
#[derive(Clone, Copy)]
pub(crate) struct PollStatus {
    /// The last failure, until an attempt succeeds.
    pub(crate) error: RwSignal<Option<Failure>>,
    /// When the next attempt is due (epoch ms), if one is scheduled.
    pub(crate) next_at: RwSignal<Option<i64>>,
    /// When the last answer arrived (epoch ms).
    pub(crate) last_ok: RwSignal<Option<i64>>,
    /// Whether the loop has stopped because the watched thing is finished.
    pub(crate) finished: RwSignal<bool>,
    retry: StoredValue<SendWrapper<Rc<dyn Fn()>>>,
}

impl PollStatus {
    /// Asks again now (the banner's "Retry now").
    pub(crate) fn retry_now(&self) {
        self.retry.with_value(|retry| retry());
    }
}

type Tick = Rc<dyn Fn(u64) -> Pin<Box<dyn Future<Output = Result<bool, Failure>>>>>;

struct Loop {
    machine: PollMachine,
    timer: Option<Timeout>,
    in_flight: bool,
    alive: bool,
    ticks: u64,
    tick: Tick,
    status: PollStatus,
}

/// Starts polling in the current reactive scope; it stops when the scope is disposed.
/// `tick(n)` does one attempt and says whether the watched thing is finished.
pub(crate) fn start<F, Fut>(interval_ms: u64, tick: F) -> PollStatus
where
    F: Fn(u64) -> Fut + 'static,
    Fut: Future<Output = Result<bool, Failure>> + 'static,
{
    let tick: Tick = Rc::new(move |n| Box::pin(tick(n)));
    let shared: Rc<RefCell<Option<Rc<RefCell<Loop>>>>> = Rc::new(RefCell::new(None));
    let retry_target = shared.clone();
    let retry: Rc<dyn Fn()> = Rc::new(move || {
        if let Some(state) = retry_target.borrow().clone() {
            let next = state.borrow_mut().machine.on_retry();
            decide(&state, next);
        }
    });
    let status = PollStatus {
        error: RwSignal::new(None),
        next_at: RwSignal::new(None),
        last_ok: RwSignal::new(None),
        finished: RwSignal::new(false),
        retry: StoredValue::new(SendWrapper::new(retry)),
    };
    let state = Rc::new(RefCell::new(Loop {
        machine: PollMachine::new(interval_ms, browser::is_hidden()),
        timer: None,
        in_flight: false,
        alive: true,
        ticks: 0,
        tick,
        status,
    }));
    *shared.borrow_mut() = Some(state.clone());

    let watcher = state.clone();
    let listener = window_event_listener(ev::visibilitychange, move |_| {
        let next = if browser::is_hidden() {
            watcher.borrow_mut().machine.on_hidden()
        } else {
            watcher.borrow_mut().machine.on_visible(browser::now_ms())
        };
        decide(&watcher, next);
    });
    let first = state.borrow().machine.start();
    decide(&state, first);

    let owned = SendWrapper::new((state, shared));
    on_cleanup(move || {
        let (state, shared) = owned.take();
        {
            let mut inner = state.borrow_mut();
            inner.alive = false;
            inner.timer = None;
        }
        shared.borrow_mut().take();
        listener.remove();
    });
    status
}

fn decide(state: &Rc<RefCell<Loop>>, next: Next) {
    let mut inner = state.borrow_mut();
    inner.timer = None;
    if !inner.alive {
        return;
    }
    let status = inner.status;
    match next {
        Next::Now => {
            drop(inner);
            run(state);
        }
        Next::After(ms) => {
            let again = state.clone();
            inner.timer = Some(Timeout::new(
                u32::try_from(ms).unwrap_or(u32::MAX),
                move || run(&again),
            ));
            status.next_at.set(Some(browser::now_ms() + ms as i64));
        }
        Next::Paused => status.next_at.set(None),
        Next::Stopped => {
            status.next_at.set(None);
            status.finished.set(status.error.get_untracked().is_none());
        }
    }
}

fn run(state: &Rc<RefCell<Loop>>) {
    let (future, status) = {
        let mut inner = state.borrow_mut();
        if !inner.alive || inner.in_flight {
            return;
        }
        inner.in_flight = true;
        inner.ticks += 1;
        ((inner.tick)(inner.ticks), inner.status)
    };
    status.finished.set(false);
    let state = state.clone();
    spawn_local(async move {
        let outcome = future.await;
        let next = {
            let mut inner = state.borrow_mut();
            inner.in_flight = false;
            if !inner.alive {
                return;
            }
            match outcome {
                Ok(finished) => {
                    status.error.set(None);
                    status.last_ok.set(Some(browser::now_ms()));
                    inner.machine.on_success(finished)
                }
                Err(failure) => {
                    let retry = failure.retry();
                    status.error.set(Some(failure));
                    inner.machine.on_failure(retry, browser::now_ms())
                }
            }
        };
        decide(&state, next);
    });
}
