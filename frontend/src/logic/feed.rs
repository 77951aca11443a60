//! The run view's feed as a state machine: where the report comes from (one plain read
//! first, then the server's event stream or polling), who may write it, when a stream has
//! fallen behind and when the run is over. The run view only carries out the [`Step`]s it
//! answers, so the rules "a finished report never opens a stream" and "while the stream
//! is open it is the report's only writer" are decided, and tested, here.
//!
//! The first read is a `GET` (compressed, with its `ETag`): a finished report needs
//! nothing more, and a live one then opens the stream *after* that report (`since` its
//! `ETag`), so the server sends only what changed instead of the whole report again.

use runboard_shared::{JobStatus, RunStatus};

use crate::logic::summary::is_live;

/// How long a stream may still show a live run after its job ended before the view reads
/// the report itself: the server follows at `poll.run_ms` and reuses a live answer for
/// about a second, so a healthy stream is never this late.
pub(crate) const STREAM_GRACE_MS: i64 = 10_000;

/// Where the report comes from, and so who may write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The first read, a plain `GET`: all a finished report needs.
    Snapshot,
    /// The server's event stream.
    Stream,
    /// Polling (the stream failed, fell behind, or a proxy on the way holds it back).
    Polling,
}

impl Via {
    /// The tooltip of "updated N s ago", and its `data-via`: the only place a person
    /// sees which one it is.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Snapshot => "read once",
            Self::Stream => "live over a stream",
            Self::Polling => "live over polling",
        }
    }
}

/// What the stream said, without the report it carried (the view holds that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamEvent {
    /// The whole report.
    Whole,
    /// Only what changed.
    Change,
    /// The final report, whole or as the changes before it (then the event carries no
    /// report); the stream has closed itself.
    Final,
    /// The stream failed or went quiet; it says nothing more.
    Broken,
}

/// One tick of the poll loop, once the job was looked up: what the view holds then.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tick<'a> {
    /// The status of the report held, if one arrived yet.
    pub(crate) run: Option<&'a RunStatus>,
    /// The job's status, when the view follows a job and has heard of it.
    pub(crate) job: Option<&'a JobStatus>,
    /// The time of the tick (epoch ms).
    pub(crate) now_ms: i64,
}

/// What the view does after an input; the default does nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Step {
    /// Write the report that came with the stream event.
    pub(crate) accept_report: bool,
    /// Open the stream after the report read (with its `ETag`), then say how that went
    /// ([`Feed::on_stream_opened`] or [`Feed::on_stream_unavailable`]).
    pub(crate) open_stream: bool,
    /// Close the stream: it is done, or no longer trusted.
    pub(crate) drop_stream: bool,
    /// Run the poll tick at once instead of at the next interval.
    pub(crate) retry_now: bool,
    /// The run is over: the poll loop stops.
    pub(crate) stop: bool,
    /// Tell this browser's job book that the job's report is final, so a job in a
    /// status the guide does not list stops being followed.
    pub(crate) report_final_for_job: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The view reads the report once, with a plain `GET`, which alone writes it; the
    /// tick after the read decides whether the run needs following.
    Snapshot,
    /// The view is opening the stream and has not heard yet whether the browser has one.
    Opening,
    /// The stream is open and the report's only writer. `behind_since` is when the job
    /// was first seen over while the streamed report still showed a live run.
    Streaming { behind_since: Option<i64> },
    /// Polling reads and writes the report.
    Polling,
    /// The run is over: nothing writes the report any more. `via` is how it came.
    Finished { via: Via },
}

/// The feed of one run view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Feed {
    phase: Phase,
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

impl Feed {
    /// A feed whose view is about to read the report.
    pub(crate) fn new() -> Self {
        Self {
            phase: Phase::Snapshot,
        }
    }

    /// The stream is open: from now on it alone writes the report.
    pub(crate) fn on_stream_opened(&mut self) {
        self.phase = Phase::Streaming { behind_since: None };
    }

    /// The browser cannot open a stream: poll instead.
    pub(crate) fn on_stream_unavailable(&mut self) {
        self.phase = Phase::Polling;
    }

    /// Who may write the report now; `None` while the stream opens and once the run is
    /// over.
    pub(crate) fn writer(&self) -> Option<Via> {
        match self.phase {
            Phase::Snapshot => Some(Via::Snapshot),
            Phase::Streaming { .. } => Some(Via::Stream),
            Phase::Polling => Some(Via::Polling),
            Phase::Opening | Phase::Finished { .. } => None,
        }
    }

    /// The way a `GET` of the report made by this tick may write it: the first read or
    /// polling; `None` while the stream writes it and once the run is over (the tick
    /// then follows the job alone). Asked again with [`Self::accepts`] once the answer is
    /// in.
    pub(crate) fn reader(&self) -> Option<Via> {
        self.writer().filter(|via| *via != Via::Stream)
    }

    /// Whether a report from `via` may be written: asked before polling and again when
    /// the answer arrives, and for each stream event. A poll tick that wrote back a
    /// report it held across an await would undo what the stream brought meanwhile.
    pub(crate) fn accepts(&self, via: Via) -> bool {
        self.writer() == Some(via)
    }

    /// How the report is followed, for the "updated" tooltip: the stream until it
    /// failed, and the last way once the run is over.
    pub(crate) fn via(&self) -> Via {
        match self.phase {
            Phase::Snapshot => Via::Snapshot,
            Phase::Opening | Phase::Streaming { .. } => Via::Stream,
            Phase::Polling => Via::Polling,
            Phase::Finished { via } => via,
        }
    }

    /// The stream said something. Its reports are written only while it is the writer;
    /// a final report or a failure has the poll tick run at once (to see the job, and
    /// stop; or to read the report itself).
    pub(crate) fn on_event(&mut self, event: StreamEvent) -> Step {
        if !self.accepts(Via::Stream) {
            return Step::default();
        }
        match event {
            StreamEvent::Whole | StreamEvent::Change => Step {
                accept_report: true,
                ..Step::default()
            },
            StreamEvent::Final => Step {
                accept_report: true,
                retry_now: true,
                ..Step::default()
            },
            StreamEvent::Broken => {
                self.phase = Phase::Polling;
                Step {
                    drop_stream: true,
                    retry_now: true,
                    ..Step::default()
                }
            }
        }
    }

    /// A poll tick, after the job was looked up: the run stops once neither the report
    /// nor the job is live, and a stream that still shows a live run
    /// [`STREAM_GRACE_MS`] after its job ended is dropped for polling. After the first
    /// read, a live run opens the stream; a finished one never does.
    pub(crate) fn on_tick(&mut self, tick: Tick<'_>) -> Step {
        if let Phase::Finished { .. } = self.phase {
            return Step {
                stop: true,
                ..Step::default()
            };
        }
        let Some(run) = tick.run else {
            return Step::default();
        };
        if self.phase == Phase::Snapshot && is_live(run, tick.job) {
            self.phase = Phase::Opening;
            return Step {
                open_stream: true,
                ..Step::default()
            };
        }
        if self.stream_fell_behind(run, tick.job, tick.now_ms) {
            self.phase = Phase::Polling;
            return Step {
                drop_stream: true,
                ..Step::default()
            };
        }
        if is_live(run, tick.job) {
            return Step::default();
        }
        self.phase = Phase::Finished { via: self.via() };
        Step {
            drop_stream: true,
            stop: true,
            report_final_for_job: matches!(tick.job, Some(JobStatus::Other(_))),
            ..Step::default()
        }
    }

    /// Whether the stream has fallen behind: the job has been over for longer than the
    /// stream needs to bring the final report, and the report held is still live. The
    /// clock starts when the job is first seen over, and restarts if that stops.
    fn stream_fell_behind(&mut self, run: &RunStatus, job: Option<&JobStatus>, now: i64) -> bool {
        let Phase::Streaming { behind_since } = &mut self.phase else {
            return false;
        };
        if !(job.is_some_and(JobStatus::is_terminal) && run.is_live()) {
            *behind_since = None;
            return false;
        }
        let first = *behind_since.get_or_insert(now);
        now - first > STREAM_GRACE_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feed whose first read found a live run, and the view has opened the stream.
    fn opening() -> Feed {
        let mut feed = Feed::new();
        assert_eq!(tick(&mut feed, "Running", None, 0), OPEN);
        feed
    }

    fn streaming() -> Feed {
        let mut feed = opening();
        feed.on_stream_opened();
        feed
    }

    fn polling() -> Feed {
        let mut feed = opening();
        feed.on_stream_unavailable();
        feed
    }

    fn tick(feed: &mut Feed, run: &str, job: Option<&str>, now_ms: i64) -> Step {
        let (run, job) = (RunStatus::parse(run), job.map(JobStatus::parse));
        feed.on_tick(Tick {
            run: Some(&run),
            job: job.as_ref(),
            now_ms,
        })
    }

    const NOTHING: Step = Step {
        accept_report: false,
        open_stream: false,
        drop_stream: false,
        retry_now: false,
        stop: false,
        report_final_for_job: false,
    };
    const WRITE: Step = Step {
        accept_report: true,
        ..NOTHING
    };
    const STOP: Step = Step {
        drop_stream: true,
        stop: true,
        ..NOTHING
    };
    const OPEN: Step = Step {
        open_stream: true,
        ..NOTHING
    };

    #[test]
    fn the_first_read_alone_writes_the_report() {
        let feed = Feed::new();
        assert_eq!(feed.writer(), Some(Via::Snapshot));
        assert_eq!(feed.reader(), Some(Via::Snapshot));
        assert!(feed.accepts(Via::Snapshot));
        assert!(!feed.accepts(Via::Polling) && !feed.accepts(Via::Stream));
        assert_eq!(feed.via(), Via::Snapshot);
        let mut unread = Feed::new();
        let job = JobStatus::parse("Success");
        let step = unread.on_tick(Tick {
            run: None,
            job: Some(&job),
            now_ms: 0,
        });
        assert_eq!(
            step, NOTHING,
            "the read failed: read again at the next tick"
        );
        assert_eq!(unread.reader(), Some(Via::Snapshot));
    }

    #[test]
    fn a_finished_report_never_opens_a_stream() {
        for (run, job) in [
            ("Completed", None),
            ("Aborted", Some("Failed")),
            ("Completed", Some("Success")),
        ] {
            let mut feed = Feed::new();
            assert_eq!(tick(&mut feed, run, job, 0), STOP, "{run} {job:?}");
            assert_eq!(feed.writer(), None);
            assert_eq!(feed.reader(), None, "nor is it read again");
            assert_eq!(
                feed.via(),
                Via::Snapshot,
                "the tooltip says it was read once"
            );
            assert_eq!(feed.on_event(StreamEvent::Whole), NOTHING);
        }
        let mut undocumented = Feed::new();
        assert_eq!(
            tick(&mut undocumented, "Completed", Some("Cancelled"), 0),
            Step {
                report_final_for_job: true,
                ..STOP
            }
        );
    }

    #[test]
    fn a_live_report_opens_the_stream_which_then_writes_alone() {
        for (run, job) in [
            ("Running", None),
            ("Scheduled", Some("InProgress")),
            ("Completed", Some("InProgress")),
        ] {
            let mut feed = Feed::new();
            assert_eq!(tick(&mut feed, run, job, 0), OPEN, "{run} {job:?}");
            assert_eq!(feed.writer(), None, "nobody writes while it opens");
            assert_eq!(feed.reader(), None);
            feed.on_stream_opened();
            assert_eq!(feed.writer(), Some(Via::Stream));
            assert_eq!(feed.reader(), None, "the tick follows the job alone");
        }
        let mut without = opening();
        without.on_stream_unavailable();
        assert_eq!(without.reader(), Some(Via::Polling), "no EventSource: poll");
    }

    #[test]
    fn the_stream_is_opened_once() {
        let mut feed = streaming();
        assert_eq!(tick(&mut feed, "Running", None, 1), NOTHING);
        let mut broken = streaming();
        broken.on_event(StreamEvent::Broken);
        assert_eq!(
            tick(&mut broken, "Running", None, 1),
            NOTHING,
            "polling does not open another"
        );
    }

    #[test]
    fn while_the_stream_is_open_it_is_the_only_writer() {
        let mut feed = streaming();
        assert_eq!(feed.writer(), Some(Via::Stream));
        assert!(!feed.accepts(Via::Polling), "a poll answer is refused");
        assert_eq!(feed.on_event(StreamEvent::Whole), WRITE);
        assert_eq!(feed.on_event(StreamEvent::Change), WRITE);
        assert_eq!(tick(&mut feed, "Running", Some("InProgress"), 0), NOTHING);
        assert!(!feed.accepts(Via::Polling), "still refused after a tick");
        assert_eq!(feed.via(), Via::Stream);
    }

    #[test]
    fn before_the_stream_opens_nobody_writes() {
        let mut feed = opening();
        assert_eq!(feed.writer(), None);
        assert_eq!(feed.on_event(StreamEvent::Whole), NOTHING);
        assert_eq!(feed.via(), Via::Stream);
    }

    #[test]
    fn a_broken_stream_hands_the_report_to_polling() {
        let mut feed = streaming();
        let broken = feed.on_event(StreamEvent::Broken);
        assert_eq!(
            broken,
            Step {
                drop_stream: true,
                retry_now: true,
                ..NOTHING
            }
        );
        assert!(feed.accepts(Via::Polling), "a poll answer is now written");
        assert_eq!(feed.on_event(StreamEvent::Change), NOTHING, "late events");
        assert_eq!(feed.on_event(StreamEvent::Broken), NOTHING, "said once");
        assert_eq!(feed.via(), Via::Polling);
    }

    #[test]
    fn without_a_stream_the_view_polls() {
        let mut feed = polling();
        assert_eq!(feed.writer(), Some(Via::Polling));
        assert_eq!(feed.on_event(StreamEvent::Whole), NOTHING);
        assert_eq!(tick(&mut feed, "Running", Some("InProgress"), 0), NOTHING);
        assert_eq!(feed.via(), Via::Polling);
    }

    #[test]
    fn a_final_event_is_written_and_the_tick_runs_at_once() {
        let mut feed = streaming();
        let step = feed.on_event(StreamEvent::Final);
        assert_eq!(
            step,
            Step {
                accept_report: true,
                retry_now: true,
                ..NOTHING
            }
        );
        assert!(!feed.accepts(Via::Polling), "the stream stays the writer");
        assert_eq!(
            tick(&mut feed, "Completed", Some("InProgress"), 0),
            NOTHING,
            "a job still going keeps the loop"
        );
        assert_eq!(tick(&mut feed, "Completed", Some("Success"), 1), STOP);
    }

    #[test]
    fn a_finished_run_stops_and_nothing_writes_any_more() {
        for mut feed in [streaming(), polling()] {
            let via = feed.via();
            assert_eq!(tick(&mut feed, "Completed", Some("Failed"), 0), STOP);
            assert_eq!(feed.writer(), None);
            assert_eq!(feed.on_event(StreamEvent::Whole), NOTHING);
            assert_eq!(feed.via(), via, "the tooltip keeps how the run came");
            assert_eq!(
                tick(&mut feed, "Running", None, 1),
                Step {
                    stop: true,
                    ..NOTHING
                },
                "a finished run stays finished"
            );
        }
        let mut no_job = streaming();
        assert_eq!(tick(&mut no_job, "Running", None, 0), NOTHING);
        assert_eq!(tick(&mut no_job, "Aborted", None, 1), STOP);
    }

    #[test]
    fn no_report_yet_keeps_waiting() {
        let mut feed = streaming();
        let job = JobStatus::parse("Success");
        for now_ms in [0, STREAM_GRACE_MS * 3] {
            let step = feed.on_tick(Tick {
                run: None,
                job: Some(&job),
                now_ms,
            });
            assert_eq!(step, NOTHING);
        }
        assert_eq!(feed.writer(), Some(Via::Stream));
    }

    #[test]
    fn a_stream_still_live_after_the_grace_falls_back_to_polling() {
        let mut feed = streaming();
        assert_eq!(tick(&mut feed, "Running", Some("InProgress"), 0), NOTHING);
        assert_eq!(
            tick(&mut feed, "Running", Some("Success"), 5_000),
            NOTHING,
            "the clock starts when the job is first seen over"
        );
        assert_eq!(
            tick(
                &mut feed,
                "Running",
                Some("Success"),
                5_000 + STREAM_GRACE_MS
            ),
            NOTHING,
            "the grace itself is allowed"
        );
        assert_eq!(
            tick(
                &mut feed,
                "Running",
                Some("Success"),
                5_001 + STREAM_GRACE_MS
            ),
            Step {
                drop_stream: true,
                ..NOTHING
            }
        );
        assert!(feed.accepts(Via::Polling));
        assert_eq!(feed.via(), Via::Polling);
        assert_eq!(
            tick(&mut feed, "Running", Some("Success"), 60_000),
            NOTHING,
            "polling follows the report however late"
        );
        assert_eq!(tick(&mut feed, "Completed", Some("Success"), 61_000), STOP);
    }

    #[test]
    fn the_grace_restarts_when_the_job_is_no_longer_seen_over() {
        let mut feed = streaming();
        assert_eq!(tick(&mut feed, "Running", Some("Failed"), 0), NOTHING);
        assert_eq!(tick(&mut feed, "Running", None, 8_000), NOTHING);
        assert_eq!(
            tick(&mut feed, "Running", Some("Failed"), 12_000),
            NOTHING,
            "a new clock from 12 s"
        );
        assert_eq!(feed.writer(), Some(Via::Stream));
    }

    #[test]
    fn an_undocumented_job_status_ends_with_the_report_and_says_so() {
        let mut feed = streaming();
        assert_eq!(
            tick(&mut feed, "Running", Some("Cancelled"), 0),
            NOTHING,
            "the report's own status decides"
        );
        assert_eq!(
            tick(&mut feed, "Completed", Some("Cancelled"), 60_000),
            Step {
                report_final_for_job: true,
                ..STOP
            }
        );
        let mut documented = streaming();
        assert_eq!(tick(&mut documented, "Completed", Some("Success"), 0), STOP);
    }
}
