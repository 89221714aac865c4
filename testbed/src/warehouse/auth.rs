//! Upload authentication (`MacaroonSecurityPolicy` and the basic-auth policy) and the caveat
//! checks of API tokens (`warehouse/macaroons/caveats`).
use base64::Engine;

use super::names::py_repr;
use super::state::{Credential, Index};
use super::timefmt::unix_now;

/// What the `Authorization` header of an upload amounts to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Presented {
    /// No usable credential: no header, an unknown scheme, or undecodable basic auth.
    Nothing,
    /// `Basic` with a username other than `__token__`.
    Password,
    /// `Basic __token__:<token>`, `token <token>` or `bearer <token>`.
    Token(String),
}

pub(crate) fn parse_authorization(value: Option<&str>) -> Presented {
    let Some((method, rest)) = value.and_then(|v| v.split_once(' ')) else {
        return Presented::Nothing;
    };
    match method.to_ascii_lowercase().as_str() {
        "basic" => {
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) else {
                return Presented::Nothing;
            };
            let Ok(decoded) = String::from_utf8(decoded) else {
                return Presented::Nothing;
            };
            match decoded.split_once(':') {
                Some(("__token__", token)) => Presented::Token(token.trim().to_owned()),
                Some(_) => Presented::Password,
                None => Presented::Nothing,
            }
        }
        "token" | "bearer" => Presented::Token(rest.to_owned()),
        _ => Presented::Nothing,
    }
}

/// The project an upload targets, for caveat checks. `id` is `None` while the project is
/// only about to be created by this upload.
pub(crate) struct Target<'a> {
    pub id: Option<u64>,
    pub name: &'a str,
    pub normalized: &'a str,
}

/// Verifies every caveat of the token against the target project; `Err` is Warehouse's
/// 403 message ("Invalid API Token: ..." with all failed caveats, comma-joined).
pub(crate) fn check_caveats(
    index: &Index,
    credential: &Credential,
    target: &Target<'_>,
) -> Result<(), String> {
    let mut failures: Vec<String> = Vec::new();
    let not_valid = || {
        format!(
            "project-scoped token is not valid for project: {}",
            py_repr(target.name)
        )
    };
    match credential {
        Credential::User { scope: None } => {}
        Credential::User {
            scope: Some(projects),
        } => {
            // ProjectName, then ProjectID.
            if !projects.iter().any(|(n, _)| n == target.normalized) {
                failures.push(not_valid());
            }
            if !projects.iter().any(|(_, id)| Some(*id) == target.id) {
                failures.push(not_valid());
            }
        }
        Credential::Oidc {
            publisher_id,
            project_ids,
            not_before,
            expires_at,
        } => {
            let linked = index
                .publisher(*publisher_id)
                .is_some_and(|p| target.id.is_some_and(|id| p.project_ids.contains(&id)));
            if !linked {
                failures.push(format!(
                    "OIDC scoped token is not valid for project '{}'",
                    target.name
                ));
            }
            if !target.id.is_some_and(|id| project_ids.contains(&id)) {
                failures.push(not_valid());
            }
            let now = unix_now();
            if now < *not_before || now >= *expires_at {
                failures.push("token is expired".to_owned());
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("Invalid API Token: {}", failures.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_pass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_pass)
        )
    }

    #[test]
    fn authorization_forms() {
        assert_eq!(parse_authorization(None), Presented::Nothing);
        assert_eq!(
            parse_authorization(Some(&basic("__token__:pypi-abc "))),
            Presented::Token("pypi-abc".into())
        );
        assert_eq!(
            parse_authorization(Some(&basic("user:pw"))),
            Presented::Password
        );
        assert_eq!(
            parse_authorization(Some("Bearer pypi-x")),
            Presented::Token("pypi-x".into())
        );
        assert_eq!(parse_authorization(Some("Basic !!!")), Presented::Nothing);
        assert_eq!(parse_authorization(Some("Digest x")), Presented::Nothing);
    }
}
