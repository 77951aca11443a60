//! Accessibility checks in the page: axe-core (npm `axe-core`, pinned and installed by
//! `scripts/tools.sh browser`) injected through WebDriver and run against the current
//! document, and the layout checks of narrow frames.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::Browser;

/// Where `scripts/tools.sh` puts `axe.min.js` (`RUNBOARD_AXE` overrides it).
pub fn axe_path() -> PathBuf {
    if let Some(path) = std::env::var_os("RUNBOARD_AXE") {
        return PathBuf::from(path);
    }
    let tools = std::env::var_os("RUNBOARD_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/runboard/tools")
        });
    tools.join("node_modules/axe-core/axe.min.js")
}

/// The serious and critical violations axe-core finds in the current document, one
/// line each: rule, help and up to five offending elements.
pub async fn serious_violations(browser: &Browser) -> Result<Vec<String>> {
    let path = axe_path();
    let source = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} (install it with: bash scripts/tools.sh browser)",
            path.display()
        )
    })?;
    browser
        .js(&format!("{source}\n;return typeof window.axe;"), vec![])
        .await
        .context("injecting axe-core")?;
    let found = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 5)
                   .map(n => n.target.join(' ') + ' (' + (n.failureSummary || '').replace(/\\s+/g, ' ') + ')')
                   .join(' | '))))
               .catch(e => done(['axe-core failed: ' + e]));",
            vec![],
        )
        .await
        .context("running axe-core")?;
    let found: Vec<String> = serde_json::from_value(found)?;
    Ok(found)
}

/// Proves the check can fail: a low-contrast element added to the page is reported
/// (and removed again).
pub async fn axe_catches_a_planted_violation(browser: &Browser) -> Result<bool> {
    browser
        .js(
            "const p = document.createElement('p'); p.id = 'rb-axe-probe';
             p.textContent = 'faint text'; p.style.color = '#eeeeee'; p.style.background = '#ffffff';
             document.body.appendChild(p); return 1;",
            vec![],
        )
        .await?;
    let found = serious_violations(browser).await?;
    browser
        .js(
            "document.getElementById('rb-axe-probe').remove(); return 1;",
            vec![],
        )
        .await?;
    Ok(found
        .iter()
        .any(|v| v.contains("color-contrast") && v.contains("rb-axe-probe")))
}

/// Layout problems of the current document at the window's width: horizontal
/// scrolling, and test titles cut short (`Checkou…`).
pub async fn layout_problems(browser: &Browser) -> Result<Vec<String>> {
    let found: Value = browser
        .js(
            "const out = [];
             const doc = document.documentElement;
             if (doc.scrollWidth > window.innerWidth) {
               out.push('scrolls sideways: ' + doc.scrollWidth + ' > ' + window.innerWidth);
             }
             for (const cell of document.querySelectorAll('.rb-cell-title')) {
               if (cell.scrollWidth > cell.clientWidth + 1 || cell.scrollHeight > cell.clientHeight + 1) {
                 out.push('title cut short: ' + cell.textContent);
               }
             }
             // Up to 700 px wide and beyond, the table's toolbar fits one line.
             const bar = document.querySelector('.rb-toolbar');
             if (bar && window.innerWidth >= 700) {
               const boxes = Array.from(bar.children)
                 .filter(c => getComputedStyle(c).position !== 'absolute' && c.getBoundingClientRect().width > 1 && c.getBoundingClientRect().height > 1)
                 .map(c => c.getBoundingClientRect());
               const top = Math.max(...boxes.map(r => r.top));
               const bottom = Math.min(...boxes.map(r => r.bottom));
               if (boxes.length > 1 && top >= bottom) {
                 out.push('the toolbar wraps: ' + boxes.map(r => Math.round(r.top)).join(','));
               }
             }
             return out;",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}
