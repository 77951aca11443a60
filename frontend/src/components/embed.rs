//! Embed mode's half of the iframe contract: posts the widget's height to the parent
//! window whenever it changes.

use leptos::{html::Div, prelude::*};

use crate::{browser, logic::links::Prefs};

/// Watches `root` and posts its height on changes
/// ([`runboard_shared::PortalMessage::resize`]: `{"runboard":{"type":"resize","height":N}}`).
#[component]
pub(crate) fn EmbedResize(
    /// The element whose height is the widget's height.
    root: NodeRef<Div>,
) -> impl IntoView {
    let prefs = expect_context::<Prefs>();
    if prefs.embed {
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            let Some(element) = root.get() else {
                return false;
            };
            let last = std::cell::Cell::new(0u32);
            browser::observe_height(&element, move |height| {
                if height != last.get() {
                    last.set(height);
                    browser::post_height(height);
                }
            });
            true
        });
    }
}
