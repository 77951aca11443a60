//! The widget built into the binary (`proxy/build.rs`): each file with its content type,
//! strong ETag and brotli/gzip forms, the form chosen by `Accept-Encoding`; and, in a build
//! that found no widget, a page that says how to get one.

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{NO_STORE, PageHeaders, cache_rule, pages::Page};
use crate::reads::{Coding, none_match};

/// One file as the build embedded it. The rows are generated (`$OUT_DIR/widget.rs`) and
/// name their bytes with `include_bytes!`: no copy at start-up, nothing on the heap.
pub(crate) struct File {
    /// The URL path: `/` and the file's path inside the widget's folder.
    pub(crate) path: &'static str,
    pub(crate) content_type: &'static str,
    /// Hex of the file's SHA-256 (128 bits); each form's `ETag` is built from it.
    pub(crate) tag: &'static str,
    pub(crate) identity: &'static [u8],
    /// Absent where compressing saves nothing.
    pub(crate) br: Option<&'static [u8]>,
    pub(crate) gzip: Option<&'static [u8]>,
}

/// The widget this binary carries, sorted by path; empty when the build found none.
pub(crate) static WIDGET: &[File] = include!(concat!(env!("OUT_DIR"), "/widget.rs"));

/// Answers a GET or HEAD for `path` from `files`: the file itself, else `index.html` (the
/// widget routes on the client), else the page saying this build carries no widget.
pub(crate) fn serve(
    files: &'static [File],
    path: &str,
    request: &HeaderMap,
    page: &PageHeaders<'_>,
) -> Response {
    if let Some(file) = find(files, path).filter(|file| !Page::is_page(file.path)) {
        return respond(file, request, cache_rule(path));
    }
    // A build from before the report page has only the full widget.
    let chosen = find(files, page.page.path()).or_else(|| find(files, Page::Full.path()));
    let Some(index) = chosen else {
        return no_widget_page();
    };
    // The page is never stored: a new release's hashed names must reach every browser.
    let html = String::from_utf8_lossy(index.identity);
    if let Some(written) = page.with_line(&html) {
        // Made for this request: sent as it is, the compression layer compresses it.
        return page.written(written);
    }
    (page.for_page(&html), respond(index, request, NO_STORE)).into_response()
}

/// A handful of files: a scan is as fast as any index and needs none.
fn find(files: &'static [File], path: &str) -> Option<&'static File> {
    files.iter().find(|file| file.path == path)
}

/// `file`'s bytes in `coding`, if the build kept that form.
fn form(file: &File, coding: Coding) -> Option<&'static [u8]> {
    match coding {
        Coding::Brotli => file.br,
        Coding::Gzip => file.gzip,
        Coding::Zstd => None,
        Coding::Identity => Some(file.identity),
    }
}

/// The coding `request` gets among the forms `file` has (`reads::encoded` negotiates).
fn choose(request: &HeaderMap, file: &File) -> Coding {
    Coding::among(request, |coding| form(file, coding).is_some())
}

/// `file` in the coding the client prefers, or 304 when it already holds that form.
fn respond(file: &File, request: &HeaderMap, cache_control: &'static str) -> Response {
    let coding = choose(request, file);
    let mut headers = HeaderMap::new();
    let etag = format!("\"{}{}\"", file.tag, coding.tag_suffix());
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        if none_match(request, &etag) {
            headers.insert(header::ETAG, etag);
            return (StatusCode::NOT_MODIFIED, common(headers, cache_control)).into_response();
        }
        headers.insert(header::ETAG, etag);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    if coding != Coding::Identity {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    let bytes = form(file, coding).unwrap_or(file.identity);
    (common(headers, cache_control), Body::from(bytes)).into_response()
}

/// The headers a 200 and a 304 share.
fn common(mut headers: HeaderMap, cache_control: &'static str) -> HeaderMap {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    // One path, up to three forms: a shared cache must keep them apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers
}

/// What `/` and every client route answer in a build without a widget. A 503, like a
/// `widget_dir` without an `index.html`: the page people came for is unavailable, a
/// monitor watching `/` sees it, and no cache keeps it; the API still works.
fn no_widget_page() -> Response {
    const PAGE: &str = "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
        <title>Runboard: no widget in this build</title></head>\n<body>\n\
        <h1>This Runboard was built without its widget</h1>\n\
        <p>The API works; the web page does not, because this binary was built before \
        the widget was.</p>\n\
        <p>To fix it, either:</p>\n<ul>\n\
        <li>build the server with its widget inside: <code>./x build</code> (one binary, \
        <code>target/release/runboard</code>), or</li>\n\
        <li>point <code>widget_dir</code> (or <code>RUNBOARD_WIDGET_DIR</code>) at a built \
        widget folder (<code>./x widget</code> writes <code>frontend/dist</code>).</li>\n\
        </ul>\n</body>\n</html>\n";
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, NO_STORE),
        ],
        PAGE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderName;

    use super::*;
    use crate::static_files::{IMMUTABLE, REVALIDATE};

    /// A widget made up for these tests, so they hold in a build without `frontend/dist`;
    /// the real table is tested through the router (`proxy/tests/it/embedded.rs`).
    static FILES: &[File] = &[
        File {
            path: "/app-0123456789abcdef.js",
            content_type: "text/javascript; charset=utf-8",
            tag: "00112233",
            identity: b"plain",
            br: Some(b"brotli"),
            gzip: Some(b"gzip"),
        },
        File {
            path: "/favicon.ico",
            content_type: "image/x-icon",
            tag: "44556677",
            identity: b"icon",
            br: None,
            gzip: None,
        },
        File {
            path: "/index.html",
            content_type: "text/html; charset=utf-8",
            tag: "8899aabb",
            identity: b"<script type=\"module\">init()</script>",
            br: Some(b"brotli index"),
            gzip: None,
        },
        File {
            path: "/report.html",
            content_type: "text/html; charset=utf-8",
            tag: "ccddeeff",
            identity: b"<script type=\"module\">report()</script>",
            br: None,
            gzip: None,
        },
    ];

    #[test]
    fn coding_by_accept_encoding() {
        let [app, icon, index] = [&FILES[0], &FILES[1], &FILES[2]];
        let check = |accept: &str, file: &File, expected: Coding| {
            let mut request = HeaderMap::new();
            request.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(accept).unwrap(),
            );
            assert_eq!(
                choose(&request, file),
                expected,
                "{accept:?} for {}",
                file.path
            );
        };
        check("gzip, deflate, br, zstd", app, Coding::Brotli);
        check("gzip", app, Coding::Gzip);
        check("br;q=0.5, gzip", app, Coding::Gzip);
        check("br;q=0, gzip;q=0", app, Coding::Identity);
        check("*", app, Coding::Brotli);
        check("*;q=0.2, br;q=0", app, Coding::Gzip);
        check("GZIP", app, Coding::Gzip);
        check("", app, Coding::Identity);
        check("identity", app, Coding::Identity);
        check("identity;q=0", app, Coding::Identity);
        check("gzip, br", icon, Coding::Identity);
        check("gzip", index, Coding::Identity);
    }

    fn get(files: &'static [File], path: &str, headers: &[(HeaderName, &str)]) -> Response {
        get_with(files, path, headers, None, Page::Full)
    }

    /// `get`, with the page's preload hints set to `preload`, for the address that the
    /// server chose `page` for.
    fn get_with(
        files: &'static [File],
        path: &str,
        headers: &[(HeaderName, &str)],
        preload: Option<&'static str>,
        page: Page,
    ) -> Response {
        let mut request = HeaderMap::new();
        for (name, value) in headers {
            request.insert(name, HeaderValue::from_str(value).unwrap());
        }
        let page = PageHeaders {
            page,
            frame_ancestors: &[],
            preload: preload.map(HeaderValue::from_static),
            verdict_line: None,
        };
        serve(files, path, &request, &page)
    }

    fn header(response: &Response, name: HeaderName) -> &str {
        response.headers()[name].to_str().unwrap()
    }

    async fn body(response: Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn a_hashed_file_in_the_preferred_form_then_304() {
        let accept = (header::ACCEPT_ENCODING, "gzip, br");
        let response = get(
            FILES,
            "/app-0123456789abcdef.js",
            std::slice::from_ref(&accept),
        );
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, header::CONTENT_ENCODING), "br");
        assert_eq!(header(&response, header::ETAG), "\"00112233-br\"");
        assert_eq!(header(&response, header::CACHE_CONTROL), IMMUTABLE);
        assert_eq!(header(&response, header::VARY), "accept-encoding");
        assert_eq!(body(response).await, b"brotli");

        let again = (header::IF_NONE_MATCH, "\"00112233-br\"");
        let response = get(FILES, "/app-0123456789abcdef.js", &[accept, again.clone()]);
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header(&response, header::ETAG), "\"00112233-br\"");
        assert!(body(response).await.is_empty());

        // The brotli tag does not name the plain form.
        let response = get(FILES, "/app-0123456789abcdef.js", &[again]);
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(response).await, b"plain");
    }

    #[tokio::test]
    async fn unhashed_files_revalidate() {
        let response = get(FILES, "/favicon.ico", &[(header::ACCEPT_ENCODING, "br")]);
        assert_eq!(header(&response, header::CACHE_CONTROL), REVALIDATE);
        assert_eq!(header(&response, header::CONTENT_TYPE), "image/x-icon");
        assert_eq!(body(response).await, b"icon");
    }

    #[tokio::test]
    async fn client_routes_get_the_index_with_its_script_hash() {
        for path in [
            "/",
            "/index.html",
            "/report.html",
            "/p/shop/runs/r1",
            "/missing.js",
        ] {
            let response = get(FILES, path, &[]);
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(header(&response, header::CACHE_CONTROL), NO_STORE);
            let csp = header(&response, header::CONTENT_SECURITY_POLICY);
            let hash = &crate::static_files::inline_script_hashes("<script>init()</script>")[0];
            assert!(csp.contains(hash.as_str()), "{path}: {csp}");
            assert_eq!(body(response).await, FILES[2].identity, "{path}");
        }
    }

    #[tokio::test]
    async fn the_report_page_where_chosen_else_the_full_widget() {
        let report = |files: &'static [File]| {
            let response = get_with(files, "/p/shop/runs/r1", &[], None, Page::Report);
            assert_eq!(header(&response, header::CACHE_CONTROL), NO_STORE);
            let csp = header(&response, header::CONTENT_SECURITY_POLICY).to_owned();
            (csp, response)
        };
        let (csp, response) = report(FILES);
        let hash = &crate::static_files::inline_script_hashes("<script>report()</script>")[0];
        assert!(csp.contains(hash.as_str()), "{csp}");
        assert_eq!(body(response).await, FILES[3].identity);
        // A widget built before the report page existed: the full one answers.
        let (_, response) = report(&FILES[..3]);
        assert_eq!(body(response).await, FILES[2].identity);
    }

    #[tokio::test]
    async fn only_the_page_carries_the_preload_hints() {
        let hint = "</x>; rel=preload; as=fetch; crossorigin=anonymous";
        let check = |files: &'static [File], path: &str, expected: Option<&str>| {
            let response = get_with(files, path, &[], Some(hint), Page::Full);
            let link = response.headers().get(header::LINK);
            assert_eq!(link.map(|v| v.to_str().unwrap()), expected, "{path}");
        };
        check(FILES, "/p/shop/runs/r1", Some(hint));
        check(FILES, "/", Some(hint));
        check(FILES, "/app-0123456789abcdef.js", None);
        check(FILES, "/favicon.ico", None);
        // Without a widget there is nothing for the hints to speed up.
        check(&[], "/", None);
    }

    #[tokio::test]
    async fn a_build_without_a_widget_says_how_to_get_one() {
        for path in ["/", "/index.html", "/p/shop", "/app.js"] {
            let response = get(&[], path, &[(header::ACCEPT, "text/html")]);
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert_eq!(header(&response, header::CACHE_CONTROL), NO_STORE);
            assert!(header(&response, header::CONTENT_TYPE).starts_with("text/html"));
            let page = String::from_utf8(body(response).await).unwrap();
            assert!(
                page.contains("./x build") && page.contains("widget_dir"),
                "{page}"
            );
        }
    }
}
