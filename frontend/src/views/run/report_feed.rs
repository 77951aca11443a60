//! The run view's report feed in the browser: the first read, the event stream, the poll
//! loop and the job look-ups, doing what `logic::feed` decides. The report is read once
//! with a plain `GET`; a finished one needs nothing more, a live one opens the stream
//! after it (`since` its `ETag`). While the stream is open it is the report's only
//! writer; the poll tick then follows the job alone.

use std::sync::Arc;

use leptos::prelude::*;
use runboard_shared::{Job, JobId, JobStatus, JobsRequest, ProjectId, RunId, live::apply_change};
use send_wrapper::SendWrapper;

use crate::{
    api::{
        self, Fresh,
        events::{LiveEvent, LiveReport},
    },
    browser, context,
    logic::{
        failure::Failure,
        feed::{Feed, Step, StreamEvent, Tick},
        jobs::supersedes,
    },
    poller::{self, PollStatus},
    state::{Report, Via},
    store,
};

/// Follows the run's report and its job as the feed (`logic::feed`) decides: read once,
/// then over the stream while it is open, and then it alone writes the report; else by
/// polling. The loop returned is what the error banner and "updated N s ago" show, and
/// the way the report comes is said in the latter's tooltip.
pub(super) fn follow_run(
    project: &ProjectId,
    run: &RunId,
    job: Option<JobId>,
    report: Report,
    followed: FollowedJob,
) -> (PollStatus, RwSignal<Via>) {
    let machine = Feed::new();
    let feed = FeedDriver {
        via: RwSignal::new(machine.via()),
        feed: StoredValue::new(machine),
        stream: StoredValue::new(None),
        etag: StoredValue::new(None),
        poll: StoredValue::new(None),
        heartbeat_ms: context::boot().0.live_heartbeat_ms,
    };
    let (proj, tick_run) = (project.clone(), run.clone());
    let poll = poller::start(context::boot().0.poll.run_ms, move |_| {
        let (proj, run, job) = (proj.clone(), tick_run.clone(), job.clone());
        async move {
            // Asked again once the answer is in: the writer may have changed meanwhile.
            if let Some(via) = feed.reader()
                && let Fresh::Changed(answer) = read_report(&proj, &run, feed.etag).await?
                && feed.accepts(via)
            {
                report.set(Some(Arc::new(answer)));
            }
            if let Some(job) = &job {
                followed.look_up(&proj, job).await?;
            }
            let held = report.with_untracked(|r| r.as_ref().map(|r| r.status.clone()));
            let job_now = followed.status.get_untracked();
            let step = feed.step(|f| {
                f.on_tick(Tick {
                    run: held.as_ref(),
                    job: job_now.as_ref(),
                    now_ms: browser::now_ms(),
                })
            });
            if step.open_stream {
                feed.open_stream(&proj, &run, report);
            }
            if let (true, Some(job)) = (step.report_final_for_job, &job) {
                store::report_final(proj.as_str(), job.as_str());
            }
            Ok(step.stop)
        }
    });
    feed.poll.set_value(Some(poll));
    on_cleanup(move || feed.stream.set_value(None));
    (poll, feed.via)
}

/// The feed with the browser objects its steps act on (the view's thread only).
#[derive(Clone, Copy)]
struct FeedDriver {
    /// The machine.
    feed: StoredValue<Feed>,
    /// The open stream, if any.
    stream: StoredValue<Option<SendWrapper<LiveReport>>>,
    /// The feed's [`Feed::via`], as the header's tooltip reads it.
    via: RwSignal<Via>,
    /// The `ETag` of the report last read: `If-None-Match` for the next read, and where
    /// the stream starts (`since`).
    etag: StoredValue<Option<String>>,
    /// The poll loop, whose tick a stream event may run at once; set once it started.
    poll: StoredValue<Option<PollStatus>>,
    /// The server's heartbeat (`bootstrap`), read while the view is built.
    heartbeat_ms: u64,
}

impl FeedDriver {
    /// Whether a report from `via` may be written now ([`Feed::accepts`]).
    fn accepts(self, via: Via) -> bool {
        self.feed.with_value(|f| f.accepts(via))
    }

    /// How a `GET` made now may write the report ([`Feed::reader`]).
    fn reader(self) -> Option<Via> {
        self.feed.with_value(Feed::reader)
    }

    /// Opens the stream after the report read, whose events then write `report` as the
    /// feed allows.
    fn open_stream(self, project: &ProjectId, run: &RunId, report: Report) {
        let on_event = move |event: LiveEvent| {
            let step = self.step(|f| f.on_event(kind(&event)));
            if step.accept_report {
                write(report, event);
            }
            if step.retry_now
                && let Some(poll) = self.poll.get_value()
            {
                poll.retry_now();
            }
        };
        let since = self.etag.get_value();
        self.opened(LiveReport::open(
            project,
            run,
            since,
            self.heartbeat_ms,
            on_event,
        ));
    }

    /// Gives the feed one input and does the part of its step that concerns the stream
    /// and the tooltip; the caller does the rest.
    fn step(self, input: impl FnOnce(&mut Feed) -> Step) -> Step {
        let step = self.feed.try_update_value(input).unwrap_or_default();
        if step.drop_stream {
            self.stream.set_value(None);
        }
        self.show_via();
        step
    }

    /// The stream opened, or the browser has none.
    fn opened(self, stream: Option<LiveReport>) {
        match stream {
            Some(stream) => {
                self.stream.set_value(Some(SendWrapper::new(stream)));
                self.feed.update_value(Feed::on_stream_opened);
            }
            None => self.feed.update_value(Feed::on_stream_unavailable),
        }
        self.show_via();
    }

    /// Shows the feed's way in the tooltip; set only when it changed, so the header does
    /// not redraw at every tick.
    fn show_via(self) {
        let now = self.feed.with_value(Feed::via);
        if self.via.get_untracked() != now {
            self.via.set(now);
        }
    }
}

/// What kind of event `event` is, for the feed.
fn kind(event: &LiveEvent) -> StreamEvent {
    match event {
        LiveEvent::Report(_) => StreamEvent::Whole,
        LiveEvent::Change(_) => StreamEvent::Change,
        LiveEvent::Final(_) | LiveEvent::End => StreamEvent::Final,
        LiveEvent::Broken => StreamEvent::Broken,
    }
}

/// Writes the report a stream event carries; a change is applied in place.
fn write(report: Report, event: LiveEvent) {
    match event {
        LiveEvent::Report(fresh) | LiveEvent::Final(fresh) => report.set(Some(Arc::new(fresh))),
        LiveEvent::Change(change) => report.update(|held| match held {
            Some(held) => apply_change(Arc::make_mut(held), change),
            None => *held = Some(Arc::new(change)),
        }),
        LiveEvent::End | LiveEvent::Broken => {}
    }
}

/// One read of the report with the `ETag` of the last one; a 304 keeps the report held.
async fn read_report(
    project: &ProjectId,
    run: &RunId,
    etag: StoredValue<Option<String>>,
) -> Result<Fresh, Failure> {
    let sent = etag.get_value();
    let (fresh, tag) = api::test_run(project, run, sent.as_deref()).await?;
    etag.set_value(tag);
    Ok(fresh)
}

/// The run's job as the view follows it (only with `?job=`).
#[derive(Clone, Copy)]
pub(super) struct FollowedJob {
    /// Its status, once the platform answered.
    pub(super) status: RwSignal<Option<JobStatus>>,
    /// Its `updatedAt` beside the status, so an older answer never moves it back.
    updated: StoredValue<Option<String>>,
    /// The agent it went to: remembered by this browser, or from the platform.
    pub(super) agent: RwSignal<Option<String>>,
}

impl FollowedJob {
    /// Starts with the agent this browser remembers for `job`, if any.
    pub(super) fn new(project: &ProjectId, job: Option<&JobId>) -> Self {
        let remembered = job.and_then(|j| {
            store::load_book(project.as_str())
                .get(j.as_str())
                .and_then(|t| t.agent.clone())
        });
        Self {
            status: RwSignal::new(None),
            updated: StoredValue::new(None),
            agent: RwSignal::new(remembered),
        }
    }

    /// Reads `job`'s state unless it is already known to be over, and keeps it only
    /// when it is newer than the one held, so an older answer never moves the job back.
    async fn look_up(self, project: &ProjectId, job: &JobId) -> Result<(), Failure> {
        if self
            .status
            .with_untracked(|s| s.as_ref().is_some_and(JobStatus::is_terminal))
        {
            return Ok(());
        }
        let request = JobsRequest {
            job_ids: Some(vec![job.clone()]),
        };
        let jobs = api::jobs(project, &request).await?;
        let found = jobs.jobs.into_iter().find(|j| j.job_id == job.as_str());
        if let Some(found) = found.filter(|f| self.is_superseded_by(f)) {
            if found.agent_name.is_some() && self.agent.with_untracked(Option::is_none) {
                self.agent.set(found.agent_name.clone());
            }
            self.updated.set_value(found.updated_at);
            self.status.set(Some(found.status));
        }
        Ok(())
    }

    /// Whether `found` is newer than the state held.
    fn is_superseded_by(self, found: &Job) -> bool {
        let time = self.updated.get_value();
        self.status.with_untracked(|held| {
            supersedes(
                (held.as_ref(), time.as_deref()),
                (&found.status, found.updated_at.as_deref()),
            )
        })
    }
}
