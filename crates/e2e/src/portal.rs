//! A team portal that embeds the widget in an iframe, on an origin of its own, and
//! records the height the widget posts so tests can see the resize protocol work.

use anyhow::Result;
use axum::{Router, extract::Query, response::Html, routing::get};
use serde::Deserialize;

use crate::serve::{Served, serve};

/// A running portal page.
pub struct Portal {
    server: Served,
}

#[derive(Deserialize)]
struct PageQuery {
    src: String,
}

impl Portal {
    /// Serves the portal page on a free loopback port.
    pub async fn start() -> Result<Self> {
        let app = Router::new().route("/", get(page));
        Ok(Self {
            server: serve(app).await?,
        })
    }

    /// The portal's origin, as `frame_ancestors` lists it.
    pub fn origin(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// The portal page embedding `widget_url`.
    pub fn page_url(&self, widget_url: &str) -> String {
        let mut url = reqwest::Url::parse(&self.origin()).expect("portal origin is a URL");
        url.query_pairs_mut().append_pair("src", widget_url);
        url.into()
    }
}

async fn page(Query(query): Query<PageQuery>) -> Html<String> {
    let src = query
        .src
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    Html(format!(
        r#"<!doctype html><html><head><title>Team portal</title></head><body>
<h1>Team portal</h1>
<iframe id="runboard" src="{src}" width="800" height="300" title="Runboard"></iframe>
<script>
window.addEventListener("message", (e) => {{
  const m = e.data && e.data.runboard;
  if (m && m.type === "resize") {{
    window.rbHeight = m.height;
    document.getElementById("runboard").height = m.height;
  }}
  if (m && m.type === "finished") {{ window.rbFinished = m; }}
}});
</script></body></html>"#
    ))
}
