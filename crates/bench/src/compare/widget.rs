//! The widget's cost in the browser: from navigation to a rendered 10,000-test report,
//! and from one keystroke in the search box to the filtered list, in headless Chromium
//! (the browser suite's driver), timed by the page's own clock.

use std::{path::Path, time::Duration};

use reqwest::Client;
use runboard_e2e::Browser;
use serde_json::{Value, json};

use crate::{
    BenchError,
    compare::procs::{RunboardProcess, RunboardSetup, SignIn},
    fixture::{Caller, everything},
    stack::{Destination, start_sim},
};

/// Tests in the report the widget renders.
pub const WIDGET_TESTS: usize = 10_000;
/// Navigations measured (the first one compiles the widget's wasm).
const NAVIGATIONS: usize = 3;

/// What the browser took.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetTimes {
    /// Navigation start to the report's count and first rows on screen, per navigation.
    pub render: Vec<Duration>,
    /// One character typed into the search box to the filtered count on screen.
    pub keystroke: Duration,
    /// The character typed and how many tests matched it.
    pub typed: char,
    pub matched: String,
}

/// Waits for `want` matching tests and a row, then two frames, and answers the page's
/// clock (ms since navigation started).
const RENDERED: &str = r#"
const done = arguments[arguments.length - 1];
const want = String(arguments[0]);
function check() {
  const count = document.querySelector('[data-testid=match-count]');
  if (count && count.getAttribute('data-count') === want
      && document.querySelector('[data-testid=test-row]')) {
    requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())));
  } else {
    requestAnimationFrame(check);
  }
}
check();
"#;

/// Types one character as an input event and answers the ms until the count changed
/// and two frames passed, and the new count.
const KEYSTROKE: &str = r#"
const done = arguments[arguments.length - 1];
const ch = arguments[0];
const before = String(arguments[1]);
const input = document.querySelector('input[data-testid=search]');
input.focus();
const start = performance.now();
input.value = input.value + ch;
input.dispatchEvent(new InputEvent('input', {bubbles: true, data: ch, inputType: 'insertText'}));
function check() {
  const count = document.querySelector('[data-testid=match-count]');
  const now = count && count.getAttribute('data-count');
  if (now && now !== before) {
    requestAnimationFrame(() => requestAnimationFrame(() => done([performance.now() - start, now])));
  } else {
    requestAnimationFrame(check);
  }
}
check();
"#;

/// Starts a simulator with a finished 10,000-test run, `runboard` serving the widget
/// from `widget_dir`, and Chromium; measures; stops all three.
pub(crate) async fn measure(binary: &Path, widget_dir: &Path) -> Result<WidgetTimes, BenchError> {
    if !widget_dir.join("index.html").is_file() {
        return Err(BenchError::Widget(format!(
            "no built widget in {} (./x widget)",
            widget_dir.display()
        )));
    }
    let (sim, project) = start_sim(crate::DEFAULT_SIM_SPEED, WIDGET_TESTS).await?;
    let result = async {
        let client = Client::new();
        let caller = Caller {
            client: &client,
            target: Destination {
                base: sim.url(),
                key: Some(project.key.clone()),
            },
            project: &project.id,
        };
        let catalog = sim
            .sim
            .catalog(&project.id)
            .ok_or_else(|| BenchError::Fixture("the simulator has no catalog".to_owned()))?;
        let job = caller.execute(everything(&catalog)?).await?;
        let run = caller.finished_run(&job).await?;
        let runboard = RunboardProcess::start(&RunboardSetup {
            binary,
            upstream: &sim.url(),
            project: &project,
            widget_dir,
            run_ms: 1_000,
            // One page: the browser's one stream at most.
            streams: 1,
            // Mode none: everyone gets the full widget, the one this has always measured.
            sign_in: SignIn::Nobody,
        })
        .await?;
        let url = format!("{}/p/{}/runs/{}", runboard.url(), project.id, run.id);
        let times = in_browser(&url, run.tests).await;
        runboard.stop().await;
        times
    }
    .await;
    sim.shutdown().await;
    result
}

async fn in_browser(url: &str, tests: usize) -> Result<WidgetTimes, BenchError> {
    let browser = Browser::start().await.map_err(browser_error)?;
    let result = navigate_and_type(&browser, url, tests).await;
    browser.close().await;
    result
}

async fn navigate_and_type(
    browser: &Browser,
    url: &str,
    tests: usize,
) -> Result<WidgetTimes, BenchError> {
    let mut render = Vec::new();
    for _ in 0..NAVIGATIONS {
        browser.client.goto(url).await.map_err(browser_error)?;
        let ms = script(browser, RENDERED, vec![json!(tests)]).await?;
        render.push(millis(&ms)?);
    }
    // A letter rare enough in titles that the filtered list differs from the whole.
    let typed = 'q';
    let answer = script(
        browser,
        KEYSTROKE,
        vec![json!(typed.to_string()), json!(tests)],
    )
    .await?;
    let keystroke = millis(&answer[0])?;
    Ok(WidgetTimes {
        render,
        keystroke,
        typed,
        matched: answer[1].as_str().unwrap_or("?").to_owned(),
    })
}

async fn script(browser: &Browser, js: &str, args: Vec<Value>) -> Result<Value, BenchError> {
    browser
        .client
        .execute_async(js, args)
        .await
        .map_err(browser_error)
}

fn millis(value: &Value) -> Result<Duration, BenchError> {
    let ms = value
        .as_f64()
        .ok_or_else(|| BenchError::Widget(format!("the page answered {value}")))?;
    Ok(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
}

fn browser_error(err: impl std::fmt::Display) -> BenchError {
    BenchError::Widget(err.to_string())
}
