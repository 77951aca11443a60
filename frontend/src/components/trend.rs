//! A preset's trend chart: pass rate, duration and blocking failures over its last
//! recorded runs, drawn as SVG in the theme's colours (each line also told apart by its
//! dash, never by colour alone), with the same facts in words beside it.

use leptos::prelude::*;

use crate::logic::{
    format,
    trend::{self, HEIGHT, Point, WIDTH},
};

/// The chart of `points` (oldest first); its caption says what it shows.
#[component]
pub(crate) fn TrendChart(
    /// Whose trend this is ("Full regression").
    name: String,
    /// The runs, oldest first (at least two).
    points: Vec<Point>,
) -> impl IntoView {
    let description = trend::describe(&points);
    let view_box = format!("0 -6 {WIDTH} {}", HEIGHT + 12);
    let longest = format::duration(trend::longest(&points));
    let blocking = trend::blocking_path(&points);
    let most = trend::most_blocking(&points).unwrap_or(0).max(1);
    view! {
        <figure class="rb-trend" data-testid="trend" data-points=points.len().to_string()>
            <figcaption class="rb-trend-title">{format!("Trend of {name}")}</figcaption>
            <svg class="rb-trend-chart" viewBox=view_box preserveAspectRatio="none"
                role="img" aria-label=description.clone()>
                <line class="rb-trend-grid" x1="0" y1="0" x2=WIDTH.to_string() y2="0" />
                <line class="rb-trend-grid" x1="0" y1=HEIGHT.to_string() x2=WIDTH.to_string() y2=HEIGHT.to_string() />
                <path class="rb-trend-duration" d=trend::duration_path(&points) />
                <path class="rb-trend-pass" data-testid="trend-pass" d=trend::pass_path(&points) />
                {blocking.clone().map(|d| view! {
                    <path class="rb-trend-blocking" data-testid="trend-blocking" d=d />
                })}
            </svg>
            <ul class="rb-trend-legend">
                <li class="rb-trend-key-pass">"pass rate (0–100 %)"</li>
                <li class="rb-trend-key-duration">{format!("duration (up to {longest})")}</li>
                {blocking.map(|_| view! {
                    <li class="rb-trend-key-blocking">{format!("blocking failures (0–{most})")}</li>
                })}
            </ul>
            <p class="rb-trend-text" data-testid="trend-text">{description}</p>
        </figure>
    }
}
