//! One visit of a remote viewer: a cold browser on the emulated slow link opens a page,
//! and the page's own clock says when the verdict showed. The clock is read by an
//! observer installed before any of the page's scripts run, so polling from WebDriver
//! only collects the figure and adds nothing to it.

use std::time::Duration;

use runboard_e2e::{Browser, wait_for};
use serde::Deserialize;
use serde_json::{Value, json};

use super::meter::{Meter, Wire};
use crate::{BenchError, compare::procs::USER_HEADER};

/// The slow link of the issue: what a stakeholder at home, on a VPN or on a phone has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Downlink, kbit/s.
    pub down_kbps: u32,
    /// Uplink, kbit/s.
    pub up_kbps: u32,
    /// Added to each request's round trip.
    pub latency: Duration,
}

impl Link {
    /// 1.6 Mbps down, 750 kbps up, 150 ms latency (issue 20).
    pub const REMOTE: Self = Self {
        down_kbps: 1_600,
        up_kbps: 750,
        latency: Duration::from_millis(150),
    };

    /// The parameters of `Network.emulateNetworkConditions` (throughputs in bytes/s).
    fn conditions(&self) -> Value {
        json!({
            "offline": false,
            "latency": self.latency.as_secs_f64() * 1000.0,
            "downloadThroughput": f64::from(self.down_kbps) * 1000.0 / 8.0,
            "uploadThroughput": f64::from(self.up_kbps) * 1000.0 / 8.0,
        })
    }
}

/// How long a finished report's visit waits, past its final verdict, for the server's
/// verdict to show.
const JUDGED_WAIT: Duration = Duration::from_secs(3);

/// What kind of page a visit opens, which says what its verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    /// The start view: its "verdict" is its form (the start button) on screen.
    Start,
    /// A finished run: the final verdict ("2 of 36 failed", "All 36 passed").
    Finished,
    /// A live run: the first verdict ("Running · 12 of 2000 done"); the visit goes on
    /// until the final one.
    Live,
}

impl Page {
    /// The mark the visit waits for.
    fn until(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Finished | Self::Live => "final",
        }
    }

    /// Of the page's marks, the moment its verdict showed.
    fn shown(self, marks: &Marks) -> Option<f64> {
        match self {
            Self::Start => marks.start,
            Self::Finished => marks.done,
            Self::Live => marks.verdict,
        }
    }

    /// Whether the mark waited for has its frame, and the widget has mounted: a
    /// report's verdict shows before the widget, written into the page by the server.
    fn reached(self, marks: &Marks) -> bool {
        let mark = match self {
            Self::Start => marks.start,
            Self::Finished | Self::Live => marks.done,
        };
        mark.is_some() && marks.app.is_some()
    }
}

/// Installed on every new document before its scripts run: records the page's clock
/// (ms since navigation start) at the first frame after each condition held. `verdict`
/// is any verdict (a live run's "Running · 12 of 36 done" too), `final` one that is not
/// running, `start` the start view's button; `document` is when this script ran, which
/// on the emulated link is at least its latency; `app` when the widget has mounted,
/// `ready` when it has read its bootstrap (the stages between the widget's last byte and
/// the verdict) and `judged` when the header shows the server's verdict (its wording,
/// which replaces the report's own once read). It stops watching once the widget has
/// mounted and read its bootstrap and the page's last verdict is in.
const MARKS: &str = r#"
(() => {
  if (!location.protocol.startsWith('http')) return;
  const marks = { document: performance.now() };
  window.__runboardMarks = marks;
  const at = (name) => {
    if (name in marks) return;
    marks[name] = null;
    requestAnimationFrame(() => { marks[name] = performance.now(); });
  };
  const observer = new MutationObserver(() => {
    const head = document.querySelector('[data-testid=run-status]');
    const outcome = head && head.getAttribute('data-outcome');
    const words = head && head.querySelector('[data-testid=verdict]');
    if (outcome && words && words.textContent.trim()) {
      at('verdict');
      if (outcome !== 'running') at('final');
    }
    if (document.querySelector('[data-testid=start-button]')) at('start');
    if (document.querySelector('.rb-app')) at('app');
    if (document.querySelector('[data-ready="1"]')) at('ready');
    if (document.querySelector('[data-testid=run-status][data-blocking]')) at('judged');
    const verdicts = ('final' in marks && 'judged' in marks) || 'start' in marks;
    if (verdicts && 'app' in marks && 'ready' in marks) observer.disconnect();
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})();
"#;

/// What one visit measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Visit {
    /// Navigation start to the first verdict on screen (for the start view, its form).
    pub(crate) verdict: Duration,
    /// The wall clock (ms since the epoch) when the final verdict showed, if it did.
    pub(crate) final_at_ms: Option<f64>,
    /// What crossed the link from navigation to the awaited mark and the widget mounted.
    pub(crate) wire: Wire,
    /// The requests the page made until then, in the order started.
    pub(crate) requests: Vec<Fetch>,
    /// When the verdict showed, in ms of the page's clock.
    shown: f64,
    /// When the widget had mounted and when it had read its bootstrap (ms of the page's
    /// clock), if it got that far.
    pub(crate) stages: Stages,
}

/// The widget's stages between its last byte and its verdict, in ms of the page's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Stages {
    /// The widget's root is in the page.
    pub(crate) app: Option<f64>,
    /// The widget has read its bootstrap.
    pub(crate) ready: Option<f64>,
    /// The header shows the server's verdict (a finished report of a server that has
    /// verdicts).
    pub(crate) judged: Option<f64>,
}

/// One request of a visit as the page's own timing saw it (Navigation and Resource
/// Timing): a request the browser made twice shows twice, and a preloaded answer a
/// `fetch` took over shows once, as the preload (`link`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Fetch {
    /// The path and query asked for.
    pub(crate) path: String,
    /// What asked: `navigation`, `link` (a preload hint), `script`, `css`, `fetch`…
    pub(crate) initiator: String,
    /// When it started, in ms of the page's clock.
    pub(crate) start: f64,
    /// When its answer's last byte came, in ms of the page's clock.
    pub(crate) end: f64,
    /// Bytes as transferred, headers included (0 where the browser does not say).
    pub(crate) bytes: f64,
}

/// The page's marks, in ms of its clock; `null` until the frame after.
#[derive(Debug, Deserialize)]
struct Marks {
    document: f64,
    verdict: Option<f64>,
    #[serde(rename = "final")]
    done: Option<f64>,
    start: Option<f64>,
    app: Option<f64>,
    ready: Option<f64>,
    judged: Option<f64>,
    /// `performance.timeOrigin`, added by the collecting script.
    origin: f64,
    /// Every request so far, added by the collecting script.
    #[serde(default)]
    requests: Vec<Fetch>,
}

/// Sends the marks script to every document the session opens from now on.
pub(crate) async fn install(browser: &Browser) -> Result<(), BenchError> {
    cdp(browser, "Network.enable", json!({})).await?;
    cdp(
        browser,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": MARKS }),
    )
    .await
    .map(|_| ())
}

impl Visit {
    /// The requests the page started before its verdict showed, in the order started:
    /// the waterfall that says where the time went.
    pub(crate) fn waterfall(&self) -> Vec<Fetch> {
        before(self.requests.clone(), self.shown)
    }
}

/// What a visit opens, and as whom.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The page's address, through the meter.
    pub(crate) url: &'a str,
    pub(crate) page: Page,
    /// The signed-in user the browser names in every request ([`USER_HEADER`]).
    pub(crate) user: &'a str,
}

/// Opens the `target` through `meter` with a cold cache on `link`, signed in as its
/// user, and waits (within `timeout`) until the page's last mark shows and the widget
/// has mounted.
pub(crate) async fn visit(
    browser: &Browser,
    meter: &Meter,
    link: Link,
    target: Target<'_>,
    timeout: Duration,
) -> Result<Visit, BenchError> {
    let Target { url, page, user } = target;
    // A blank page first: the last page's streams close, and nothing of it is counted.
    browser.client.goto("about:blank").await.map_err(failed)?;
    cold(browser, meter.url(), link).await?;
    sign_in(browser, user).await?;
    meter.reset();
    browser.client.goto(url).await.map_err(failed)?;
    let marks = wait_for(
        &format!("the {} mark and the widget mounted on {url}", page.until()),
        timeout,
        || collect(browser, page),
    )
    .await
    .map_err(failed)?;
    let wire = meter.wire();
    let latency_ms = link.latency.as_secs_f64() * 1000.0;
    if marks.document < latency_ms {
        return Err(BenchError::Widget(format!(
            "the document arrived after {:.0} ms, under the link's {latency_ms:.0} ms: \
             the network emulation did not apply",
            marks.document
        )));
    }
    let judged = match (page, marks.judged) {
        (Page::Finished, None) => judged(browser).await,
        (_, judged) => judged,
    };
    let shown = page.shown(&marks).unwrap_or_default();
    Ok(Visit {
        verdict: millis(shown),
        final_at_ms: marks.done.map(|ms| marks.origin + ms),
        wire,
        stages: Stages {
            app: marks.app,
            ready: marks.ready,
            judged,
        },
        requests: in_order(marks.requests),
        shown,
    })
}

/// From now on every request of the browser names `user` in [`USER_HEADER`], as the
/// SSO proxy in front of a `runboard` in header mode adds it.
async fn sign_in(browser: &Browser, user: &str) -> Result<(), BenchError> {
    cdp(
        browser,
        "Network.setExtraHTTPHeaders",
        json!({ "headers": { USER_HEADER: user } }),
    )
    .await
    .map(|_| ())
}

/// When the header showed the server's verdict, waiting for it a little past the final
/// verdict (it is read once the report is in); `None` from a server without verdicts.
async fn judged(browser: &Browser) -> Option<f64> {
    wait_for("the server's verdict", JUDGED_WAIT, || async {
        let value = browser
            .js(
                "const m = window.__runboardMarks; return m ? m.judged : null;",
                vec![],
            )
            .await?;
        Ok(value.as_f64())
    })
    .await
    .ok()
}

/// No cache, no cookies, no storage of the origin, and the slow link.
async fn cold(browser: &Browser, origin: &str, link: Link) -> Result<(), BenchError> {
    cdp(browser, "Network.clearBrowserCache", json!({})).await?;
    cdp(browser, "Network.clearBrowserCookies", json!({})).await?;
    cdp(
        browser,
        "Storage.clearDataForOrigin",
        json!({ "origin": origin, "storageTypes": "all" }),
    )
    .await?;
    cdp(
        browser,
        "Network.setCacheDisabled",
        json!({ "cacheDisabled": true }),
    )
    .await?;
    cdp(
        browser,
        "Network.emulateNetworkConditions",
        link.conditions(),
    )
    .await
    .map(|_| ())
}

/// The requests that started before `shown` (ms), in the order they started.
fn before(mut requests: Vec<Fetch>, shown: f64) -> Vec<Fetch> {
    requests.retain(|request| request.start <= shown);
    in_order(requests)
}

/// The requests in the order they started.
fn in_order(mut requests: Vec<Fetch>) -> Vec<Fetch> {
    requests.sort_by(|a, b| a.start.total_cmp(&b.start));
    requests
}

/// Reads the marks and the page's requests (its navigation and resource entries).
const COLLECT: &str = r#"
const m = window.__runboardMarks;
if (!m) return null;
const entries = performance.getEntriesByType('navigation')
  .concat(performance.getEntriesByType('resource'));
const requests = entries.map((e) => {
  const url = new URL(e.name);
  return { path: url.pathname + url.search, initiator: e.initiatorType,
           start: e.startTime, end: e.responseEnd, bytes: e.transferSize || 0 };
});
return Object.assign({ origin: performance.timeOrigin, requests }, m);
"#;

/// The marks once the `page`'s last one has its frame, else `None`.
async fn collect(browser: &Browser, page: Page) -> anyhow::Result<Option<Marks>> {
    let value = browser.js(COLLECT, vec![]).await?;
    if value.is_null() {
        return Ok(None);
    }
    let marks: Marks = serde_json::from_value(value)?;
    Ok(page.reached(&marks).then_some(marks))
}

async fn cdp(browser: &Browser, cmd: &str, params: Value) -> Result<Value, BenchError> {
    browser.cdp(cmd, params).await.map_err(failed)
}

fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64(ms.max(0.0) / 1000.0)
}

fn failed(err: impl std::fmt::Display) -> BenchError {
    BenchError::Widget(format!("{err:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waterfall_keeps_what_started_before_the_verdict_in_order() {
        let fetch = |path: &str, start: f64| Fetch {
            path: path.to_owned(),
            initiator: "link".to_owned(),
            start,
            end: start + 10.0,
            bytes: 0.0,
        };
        let kept = before(
            vec![
                fetch("/b", 300.0),
                fetch("/a", 0.0),
                fetch("/late", 1_200.0),
            ],
            1_000.0,
        );
        let paths: Vec<&str> = kept.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/b"]);
    }
}
