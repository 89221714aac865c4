//! Error (and bare success) answers as Warehouse gives them: Pyramid's `HTTPException`
//! rendering, negotiated on `Accept`, with Warehouse's message as the HTTP reason phrase.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::ext::ReasonPhrase;
use serde::Serialize;

use super::pyjson;

/// `webob`'s `acceptable_offers`: the offers the `Accept` header allows, best first.
/// `None` (no header) accepts every offer; an empty header accepts none.
pub(crate) fn acceptable_offers<'a>(accept: Option<&str>, offers: &[&'a str]) -> Vec<&'a str> {
    let Some(accept) = accept else {
        return offers.to_vec();
    };
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|item| {
            let mut params = item.split(';');
            let range = params.next()?.trim().to_ascii_lowercase();
            if !range.contains('/') {
                return None;
            }
            let mut q = 1.0f32;
            for p in params {
                if let Some((k, v)) = p.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("q") {
                        q = v.trim().parse().unwrap_or(0.0);
                    }
                }
            }
            Some((range, q))
        })
        .collect();
    let mut scored: Vec<(usize, &'a str, f32)> = Vec::new();
    for (idx, offer) in offers.iter().enumerate() {
        let (otype, _) = offer.split_once('/').unwrap_or((offer, ""));
        // The most specific matching range decides the quality.
        let mut best: Option<(u8, f32)> = None;
        for (range, q) in &ranges {
            let specificity = if range == offer {
                3
            } else if range.strip_suffix("/*") == Some(otype) {
                2
            } else if range == "*/*" {
                1
            } else {
                continue;
            };
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, *q));
            }
        }
        if let Some((_, q)) = best {
            if q > 0.0 {
                scored.push((idx, offer, q));
            }
        }
    }
    scored.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    scored.into_iter().map(|(_, o, _)| o).collect()
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Pyramid's `(title, explanation)` of a status.
fn status_texts(status: u16) -> (&'static str, &'static str) {
    match status {
        200 => ("OK", ""),
        301 => ("Moved Permanently", "The resource has been moved to"),
        308 => ("Permanent Redirect", "The resource has been moved to"),
        400 => (
            "Bad Request",
            "The server could not comply with the request since it is either malformed or \
             otherwise incorrect.",
        ),
        403 => ("Forbidden", "Access was denied to this resource."),
        404 => ("Not Found", "The resource could not be found."),
        410 => (
            "Gone",
            "This resource is no longer available.  No forwarding address is given.",
        ),
        413 => (
            "Request Entity Too Large",
            "The body of your request was too large for this server.",
        ),
        429 => (
            "Too Many Requests",
            "The action could not be performed because there were too many requests by the client.",
        ),
        _ => ("Error", ""),
    }
}

#[derive(Serialize)]
struct JsonPage<'a> {
    message: &'a str,
    code: &'a str,
    title: &'a str,
}

/// A Pyramid `HTTPException`, the way Warehouse's legacy upload API raises it.
#[derive(Clone, Debug)]
pub(crate) struct HttpException {
    pub status: u16,
    /// Goes into the status line after the code (Warehouse's `_exc_with_message`).
    pub message: String,
    /// Pyramid's `detail`, printed in the body.
    pub detail: String,
    /// Redirect target (a path), for 3xx.
    pub location: Option<String>,
}

impl HttpException {
    /// `_exc_with_message(exc, message)`: message in the status line and in the body.
    pub fn with_message(status: u16, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            detail: message.clone(),
            message,
            location: None,
        }
    }

    /// `_format_exc_status(exc, message)`: message in the status line only.
    pub fn status_only(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            detail: String::new(),
            location: None,
        }
    }

    /// A plain HTTPException (`HTTPOk()`, `HTTPNotFound()`): the standard reason phrase.
    pub fn plain(status: u16) -> Self {
        let reason = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown");
        Self::status_only(status, reason)
    }

    pub fn redirect(status: u16, message: impl Into<String>, location: String) -> Self {
        let mut exc = Self::with_message(status, message);
        exc.location = Some(location);
        exc
    }

    /// The status line text as Warehouse sends it: ISO-8859-1 with `?` for anything else.
    fn status_line_bytes(&self) -> Vec<u8> {
        self.message
            .chars()
            .map(|c| {
                if (c as u32) < 0x100 {
                    c as u32 as u8
                } else {
                    b'?'
                }
            })
            .collect()
    }

    /// The text of `resp.status` (after the ISO-8859-1 round trip).
    fn status_text(&self) -> String {
        let latin1: String = self
            .status_line_bytes()
            .iter()
            .map(|&b| b as char)
            .collect();
        format!("{} {}", self.status, latin1)
    }

    /// The message as the client sees it in the reason phrase.
    pub fn reason(&self) -> String {
        self.status_line_bytes()
            .iter()
            .map(|&b| b as char)
            .collect()
    }

    /// Renders as `pyramid.httpexceptions.HTTPException.prepare` does for this `Accept`;
    /// `base_url` makes `Location` absolute as WebOb does.
    pub fn render(&self, accept: Option<&str>, base_url: &str) -> Response {
        let (title, explanation) = status_texts(self.status);
        let status_text = self.status_text();
        // Pyramid reads `HTTP_ACCEPT` with a default of "", which accepts nothing: no
        // `Accept` header means text/plain.
        let offers = acceptable_offers(
            Some(accept.unwrap_or("")),
            &["text/html", "application/json"],
        );
        let kind = offers.first().copied().unwrap_or("text/plain");
        let (br, escape): (&str, fn(&str) -> String) = if kind == "text/html" {
            ("<br/>", html_escape)
        } else {
            ("\n", str::to_owned)
        };
        let body = match &self.location {
            Some(location) => format!(
                "{} {}; you should be redirected automatically.\n{}\n",
                escape(explanation),
                escape(location),
                escape(&self.detail)
            ),
            None => format!(
                "{}{br}{br}\n{}\n\n",
                escape(explanation),
                escape(&self.detail)
            ),
        };
        let (content_type, page) = match kind {
            "text/html" => (
                "text/html; charset=UTF-8",
                format!(
                    "<html>\n <head>\n  <title>{status_text}</title>\n </head>\n <body>\n  \
                     <h1>{status_text}</h1>\n  {body}\n </body>\n</html>"
                )
                .into_bytes(),
            ),
            "application/json" => {
                let page = JsonPage {
                    message: &body,
                    code: &status_text,
                    title,
                };
                match pyjson::to_vec(&page) {
                    Ok(bytes) => ("application/json", bytes),
                    Err(err) => {
                        tracing::error!(error = %err, "cannot serialise an error page");
                        (
                            "text/plain; charset=UTF-8",
                            status_text.clone().into_bytes(),
                        )
                    }
                }
            }
            _ => (
                "text/plain; charset=UTF-8",
                format!("{status_text}\n\n{body}").into_bytes(),
            ),
        };
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, page).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(location) = &self.location {
            if let Ok(value) = HeaderValue::from_str(&format!("{base_url}{location}")) {
                resp.headers_mut().insert(header::LOCATION, value);
            }
        }
        match ReasonPhrase::try_from(self.status_line_bytes()) {
            Ok(reason) => {
                resp.extensions_mut().insert(reason);
            }
            Err(err) => {
                tracing::warn!(error = %err, "message cannot be a reason phrase; sending the standard one");
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation_like_webob() {
        let offers = ["text/html", "application/json"];
        assert_eq!(acceptable_offers(Some("*/*"), &offers), offers.to_vec());
        assert_eq!(acceptable_offers(Some(""), &offers), Vec::<&str>::new());
        assert_eq!(acceptable_offers(None, &offers), offers.to_vec());
        assert_eq!(
            acceptable_offers(Some("application/json, text/plain;q=0.5"), &offers),
            vec!["application/json"]
        );
        assert_eq!(
            acceptable_offers(Some("text/html;q=0.5, */*;q=0.9"), &offers),
            vec!["application/json", "text/html"]
        );
        assert_eq!(
            acceptable_offers(Some("text/plain"), &offers),
            Vec::<&str>::new()
        );
    }

    async fn body(resp: Response) -> String {
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn renders_like_pyramid() {
        let exc = HttpException::with_message(400, "File already exists ('a<b>&\"x'). See x");
        let plain = body(exc.render(None, "")).await;
        assert_eq!(
            plain,
            "400 File already exists ('a<b>&\"x'). See x\n\nThe server could not comply with the \
             request since it is either malformed or otherwise incorrect.\n\n\nFile already exists \
             ('a<b>&\"x'). See x\n\n"
        );
        let html = body(exc.render(Some("*/*"), "")).await;
        assert_eq!(
            html,
            "<html>\n <head>\n  <title>400 File already exists ('a<b>&\"x'). See x</title>\n \
             </head>\n <body>\n  <h1>400 File already exists ('a<b>&\"x'). See x</h1>\n  The \
             server could not comply with the request since it is either malformed or otherwise \
             incorrect.<br/><br/>\nFile already exists (&#x27;a&lt;b&gt;&amp;&quot;x&#x27;). See \
             x\n\n\n </body>\n</html>"
        );
        let json = body(exc.render(Some("application/json"), "")).await;
        assert_eq!(
            json,
            r#"{"message": "The server could not comply with the request since it is either malformed or otherwise incorrect.\n\n\nFile already exists ('a<b>&\"x'). See x\n\n", "code": "400 File already exists ('a<b>&\"x'). See x", "title": "Bad Request"}"#
        );
        let ok = body(HttpException::plain(200).render(None, "")).await;
        assert_eq!(ok, "200 OK\n\n\n\n\n\n\n");
    }

    #[test]
    fn reason_is_latin1_with_replacement() {
        let exc = HttpException::with_message(403, "é ✓");
        assert_eq!(exc.reason(), "é ?");
    }
}
