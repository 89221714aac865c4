//! What every call to GitHub's REST API shares: where the API is and the token for it
//! ([`Source`]), GitHub's own words for a refusal, and paging by the `Link` header.
use url::Url;

use crate::http;
use crate::secret::Secret;

pub struct Source {
    pub api_url: Url,
    /// `owner/repo`
    pub repository: String,
    /// `GITHUB_REPOSITORY_ID`, when known: a repository deleted and re-created under the
    /// same name (or a rename race) keeps its name but not its id.
    pub repository_id: Option<u64>,
    pub token: Secret,
}

/// GitHub's own words for a refusal: the `message` of its JSON error body, else the body's
/// start; shown as data.
pub(crate) fn github_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(|m| crate::inert::shown(m).to_string())
        })
        .unwrap_or_else(|| http::snippet(body).trim_start_matches(": ").to_owned())
}

/// `<url>; rel="next"` from a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next() {
        let h = r#"<https://api.github.com/repositories/1/actions/runs/2/artifacts?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/actions/runs/2/artifacts?per_page=100&page=3>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/repositories/1/actions/runs/2/artifacts?per_page=100&page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }
}
