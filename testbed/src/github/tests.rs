use std::io::{Cursor, Read as _};
use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use reqwest::header::{AUTHORIZATION, LINK, LOCATION};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::Digest as _;

use super::*;
use crate::faults::{route, Fault};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start() -> GitHub {
    GitHub::start(GitHubConfig::default()).await.unwrap()
}

async fn id_token(gh: &GitHub, audience: Option<&str>) -> String {
    let mut url = gh.id_token_request_url();
    if let Some(aud) = audience {
        url = format!("{url}&audience={}", urlenc::encode_component(aud));
    }
    let resp = client()
        .get(url)
        .header(
            AUTHORIZATION,
            format!("bearer {}", gh.id_token_request_token()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["value"].as_str().unwrap().to_owned()
}

/// Verifies `token` the way an index does: discovery document, JWKS, key by `kid`.
async fn verify(gh: &GitHub, token: &str, audience: &str) -> serde_json::Map<String, Value> {
    let c = client();
    let discovery: Value = c
        .get(format!("{}/.well-known/openid-configuration", gh.issuer()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], gh.issuer());
    let jwks: jsonwebtoken::jwk::JwkSet = c
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.unwrap();
    let jwk = jwks.find(&kid).expect("the token's kid is in the JWKS");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[gh.issuer()]);
    validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let data = decode::<serde_json::Map<String, Value>>(token, &key, &validation).unwrap();
    // The checked-in public key (which the index stand-in trusts) verifies it too.
    let pem = DecodingKey::from_rsa_pem(crate::GITHUB_OIDC_TEST_PUBLIC_KEY_PEM.as_bytes()).unwrap();
    decode::<Value>(token, &pem, &validation).unwrap();
    data.claims
}

#[tokio::test]
async fn id_token_claims_verify_against_the_jwks() {
    let gh = start().await;
    let token = id_token(&gh, Some("pypi")).await;
    let claims = verify(&gh, &token, "pypi").await;

    assert_eq!(claims["sub"], "repo:octo-org/octo-repo:environment:pypi");
    assert_eq!(claims["iss"], gh.issuer());
    assert_eq!(claims["aud"], "pypi");
    assert_eq!(claims["repository"], "octo-org/octo-repo");
    assert_eq!(claims["repository_owner"], "octo-org");
    assert_eq!(claims["repository_owner_id"], "81234567");
    assert_eq!(claims["repository_id"], "892341657");
    assert_eq!(
        claims["job_workflow_ref"],
        "octo-org/octo-repo/.github/workflows/publish.yml@refs/heads/main"
    );
    assert_eq!(claims["environment"], "pypi");
    assert_eq!(claims["event_name"], "workflow_run");
    assert_eq!(claims["ref"], "refs/heads/main");
    assert_eq!(claims["ref_protected"], "true");
    assert_eq!(claims["runner_environment"], "github-hosted");
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 300);
    assert_eq!(claims["nbf"].as_u64().unwrap(), iat - 300);
    assert!(iat.abs_diff(time::now()) < 5);
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 36);
    assert_eq!(jti.matches('-').count(), 4);
    assert_eq!(claims["sha"].as_str().unwrap().len(), 40);

    let api_requests: Vec<_> = gh
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/idtoken"))
        .collect();
    assert_eq!(api_requests.len(), 1);
    assert_eq!(api_requests[0].host, "api");
    assert!(api_requests[0]
        .path
        .ends_with("?api-version=2.0&audience=pypi"));
    assert_eq!(
        api_requests[0].authorization.as_deref(),
        Some(format!("bearer {}", gh.id_token_request_token()).as_str())
    );

    let second = id_token(&gh, Some("pypi")).await;
    let claims2 = verify(&gh, &second, "pypi").await;
    assert_ne!(
        claims2["jti"], claims["jti"],
        "every token gets a fresh jti"
    );
    assert_eq!(gh.issued_tokens(), vec![token.clone(), second.clone()]);

    let mut c = JobClaims::for_repo(gh.config());
    c.environment = Some("release".to_owned());
    let minted = gh.mint_id_token(&c, "testpypi").unwrap();
    let claims3 = verify(&gh, &minted, "testpypi").await;
    assert_eq!(
        claims3["sub"],
        "repo:octo-org/octo-repo:environment:release"
    );
    assert_eq!(gh.issued_tokens(), vec![token, second, minted]);
}

#[tokio::test]
async fn id_token_default_audience_and_subject_forms() {
    let gh = start().await;
    let token = id_token(&gh, None).await;
    let claims = verify(&gh, &token, "https://github.com/octo-org").await;
    assert_eq!(claims["aud"], "https://github.com/octo-org");

    let mut c = JobClaims::for_repo(gh.config());
    c.environment = None;
    c.ref_ = "refs/tags/v1.0.0".to_owned();
    gh.set_claims(c.clone());
    let claims = verify(&gh, &id_token(&gh, Some("pypi")).await, "pypi").await;
    assert_eq!(
        claims["sub"],
        "repo:octo-org/octo-repo:ref:refs/tags/v1.0.0"
    );
    assert!(!claims.contains_key("environment"));

    c.event_name = "pull_request".to_owned();
    gh.set_claims(c);
    let claims = verify(&gh, &id_token(&gh, Some("pypi")).await, "pypi").await;
    assert_eq!(claims["sub"], "repo:octo-org/octo-repo:pull_request");
}

#[tokio::test]
async fn id_token_expired_claims_fail_validation() {
    let gh = start().await;
    let mut c = JobClaims::for_repo(gh.config());
    c.issued_at = Some(time::now() - 3600);
    gh.set_claims(c);
    let token = id_token(&gh, Some("pypi")).await;
    let key = DecodingKey::from_rsa_pem(crate::GITHUB_OIDC_TEST_PUBLIC_KEY_PEM.as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["pypi"]);
    let err = decode::<Value>(&token, &key, &validation).unwrap_err();
    assert_eq!(
        err.kind(),
        &jsonwebtoken::errors::ErrorKind::ExpiredSignature
    );
}

#[tokio::test]
async fn id_token_endpoint_refuses_bad_requests() {
    let gh = start().await;
    let c = client();
    let url = format!("{}&audience=pypi", gh.id_token_request_url());
    let missing = c.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let wrong = c
        .get(&url)
        .header(AUTHORIZATION, "Bearer not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // The GitHub token is not the request token.
    let github_token = c
        .get(&url)
        .header(
            AUTHORIZATION,
            format!("Bearer {}", gh.config().github_token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(github_token.status(), StatusCode::UNAUTHORIZED);
    // `?audience=` appended to a URL that already has a query corrupts api-version.
    let glued = c
        .get(format!("{}?audience=pypi", gh.id_token_request_url()))
        .header(
            AUTHORIZATION,
            format!("Bearer {}", gh.id_token_request_token()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(glued.status(), StatusCode::BAD_REQUEST);
    let body: Value = glued.json().await.unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("2.0?audience=pypi"));
    assert!(gh.issued_tokens().is_empty());

    gh.faults().inject(
        route::ID_TOKEN,
        Fault::Status {
            status: 503,
            body: "{}".into(),
        },
        1,
    );
    let faulted = c
        .get(&url)
        .header(
            AUTHORIZATION,
            format!("Bearer {}", gh.id_token_request_token()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(faulted.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(gh.faults().fired(route::ID_TOKEN), 1);
}

fn auth(gh: &GitHub) -> String {
    format!("Bearer {}", gh.config().github_token)
}

#[tokio::test]
async fn run_object_uses_githubs_field_names() {
    let gh = start().await;
    let own = gh.add_run(WorkflowRun::push_success(gh.config()));
    let fork = gh.add_run(WorkflowRun::fork_pull_request(
        gh.config(),
        "mallory/octo-repo",
        777_000_111,
    ));
    let c = client();
    let get = |id: u64| {
        c.get(format!(
            "{}/repos/octo-org/octo-repo/actions/runs/{id}",
            gh.api_url()
        ))
        .header(AUTHORIZATION, auth(&gh))
        .send()
    };
    let run: Value = get(own).await.unwrap().json().await.unwrap();
    assert_eq!(run["id"], own);
    assert!(own > u64::from(u32::MAX));
    assert_eq!(run["event"], "push");
    assert_eq!(run["status"], "completed");
    assert_eq!(run["conclusion"], "success");
    assert_eq!(run["path"], ".github/workflows/build.yml");
    assert_eq!(run["head_sha"].as_str().unwrap().len(), 40);
    assert_eq!(run["repository"]["full_name"], "octo-org/octo-repo");
    assert_eq!(run["repository"]["id"], 892_341_657);
    assert_eq!(run["head_repository"]["full_name"], "octo-org/octo-repo");
    assert_eq!(run["head_repository"]["fork"], false);
    assert_eq!(run["head_repository"]["owner"]["login"], "octo-org");
    assert_eq!(run["run_attempt"], 1);
    assert!(run["created_at"].as_str().unwrap().ends_with('Z'));

    let run: Value = get(fork).await.unwrap().json().await.unwrap();
    assert_eq!(run["event"], "pull_request");
    assert_eq!(run["head_repository"]["full_name"], "mallory/octo-repo");
    assert_eq!(run["head_repository"]["id"], 777_000_111);
    assert_eq!(run["head_repository"]["fork"], true);
    assert_eq!(run["repository"]["full_name"], "octo-org/octo-repo");

    // Case-insensitive repository names, and the /repositories/{id} form.
    let upper = c
        .get(format!(
            "{}/repos/Octo-Org/Octo-Repo/actions/runs/{own}",
            gh.api_url()
        ))
        .header(AUTHORIZATION, format!("token {}", gh.config().github_token))
        .send()
        .await
        .unwrap();
    assert_eq!(upper.status(), StatusCode::OK);
    let by_id = c
        .get(format!(
            "{}/repositories/892341657/actions/runs/{own}",
            gh.api_url()
        ))
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.status(), StatusCode::OK);

    let missing = get(own + 1000).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["message"], "Not Found");
    assert_eq!(body["status"], "404");
    let other = c
        .get(format!(
            "{}/repos/octo-org/other/actions/runs/{own}",
            gh.api_url()
        ))
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_credentials_and_anonymous_access() {
    let gh = start().await;
    let run = gh.add_run(WorkflowRun::push_success(gh.config()));
    let art = gh.add_artifact(run, "dist", zip_of(&[("a.txt", b"a")]));
    let c = client();
    let run_url = format!(
        "{}/repos/octo-org/octo-repo/actions/runs/{run}",
        gh.api_url()
    );
    let zip_url = format!(
        "{}/repos/octo-org/octo-repo/actions/artifacts/{art}/zip",
        gh.api_url()
    );

    let bad = c
        .get(&run_url)
        .header(AUTHORIZATION, "Bearer ghs_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401"
        })
    );
    let bad_zip = c
        .get(&zip_url)
        .header(AUTHORIZATION, format!("Basic {}", gh.config().github_token))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_zip.status(), StatusCode::UNAUTHORIZED);

    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("x-access-token:{}", gh.config().github_token));
    let ok = c
        .get(&run_url)
        .header(AUTHORIZATION, format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);

    // A public repository serves reads anonymously, but never artifact bytes.
    assert_eq!(
        c.get(&run_url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let anon_zip = c.get(&zip_url).send().await.unwrap();
    assert_eq!(anon_zip.status(), StatusCode::UNAUTHORIZED);
    let body: Value = anon_zip.json().await.unwrap();
    assert_eq!(
        body["message"],
        "You must have the actions scope to download artifacts."
    );

    gh.set_actions_read(false);
    let forbidden = c
        .get(&run_url)
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let body: Value = forbidden.json().await.unwrap();
    assert_eq!(body["message"], "Resource not accessible by integration");

    let private = GitHub::start(GitHubConfig {
        private: true,
        ..GitHubConfig::default()
    })
    .await
    .unwrap();
    let run = private.add_run(WorkflowRun::push_success(private.config()));
    let anon = c
        .get(format!(
            "{}/repos/octo-org/octo-repo/actions/runs/{run}",
            private.api_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::NOT_FOUND);
}

fn rels(link: &str) -> Vec<(String, String)> {
    link.split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            let url = url.trim_start_matches('<').trim_end_matches('>');
            let rel = rel.trim_start_matches("rel=\"").trim_end_matches('"');
            (rel.to_owned(), url.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn artifacts_paginate_across_three_pages_with_link_headers() {
    let gh = start().await;
    let run = gh.add_run(WorkflowRun::push_success(gh.config()));
    let other_run = gh.add_run(WorkflowRun::push_success(gh.config()));
    gh.add_artifact(other_run, "not-mine", zip_of(&[("x", b"x")]));
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(gh.add_artifact(run, &format!("dist-{i}"), zip_of(&[("f", &[i as u8])])));
    }
    let c = client();
    let mut url = format!(
        "{}/repos/octo-org/octo-repo/actions/runs/{run}/artifacts?per_page=2",
        gh.api_url()
    );
    let mut seen = Vec::new();
    let mut rel_names = Vec::new();
    for _ in 0..5 {
        let resp = c
            .get(&url)
            .header(AUTHORIZATION, auth(&gh))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let link = resp
            .headers()
            .get(LINK)
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["total_count"], 5);
        for a in body["artifacts"].as_array().unwrap() {
            seen.push(a["id"].as_u64().unwrap());
            assert_eq!(a["workflow_run"]["id"], run);
            assert!(a["archive_download_url"]
                .as_str()
                .unwrap()
                .starts_with(&gh.api_url()));
            assert!(a["digest"].as_str().unwrap().starts_with("sha256:"));
            assert_eq!(a["expired"], false);
        }
        let link = link.expect("3 pages need a Link header");
        let rels = rels(&link);
        rel_names.push(rels.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>());
        for (_, u) in &rels {
            assert!(u.starts_with(&format!("{}/repositories/892341657/", gh.api_url())));
        }
        match rels.iter().find(|(r, _)| r == "next") {
            Some((_, next)) => url = next.clone(),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert_eq!(
        rel_names,
        vec![
            vec!["next", "last"],
            vec!["prev", "next", "last", "first"],
            vec!["prev", "first"],
        ]
    );

    // per_page above 100 is capped, name filters exactly, one page means no Link.
    let resp = c
        .get(format!(
            "{}/repos/octo-org/octo-repo/actions/runs/{run}/artifacts?name=dist-3&per_page=500",
            gh.api_url()
        ))
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get(LINK).is_none());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["total_count"], 1);
    assert_eq!(body["artifacts"][0]["id"], ids[3]);
}

#[tokio::test]
async fn artifacts_default_to_30_per_page() {
    let gh = start().await;
    let run = gh.add_run(WorkflowRun::push_success(gh.config()));
    for i in 0..31 {
        gh.add_artifact(run, &format!("a{i}"), vec![i as u8]);
    }
    let resp = client()
        .get(format!(
            "{}/repos/octo-org/octo-repo/actions/runs/{run}/artifacts",
            gh.api_url()
        ))
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    let link = resp.headers()[LINK].to_str().unwrap().to_owned();
    assert!(link.contains("artifacts?page=2>; rel=\"next\""), "{link}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["artifacts"].as_array().unwrap().len(), 30);
}

async fn redirect_location(gh: &GitHub, id: u64) -> String {
    let resp = client()
        .get(format!(
            "{}/repos/octo-org/octo-repo/actions/artifacts/{id}/zip",
            gh.api_url()
        ))
        .header(AUTHORIZATION, auth(gh))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    resp.headers()[LOCATION].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn download_redirects_to_a_signed_blob_url_served_without_auth() {
    let gh = start().await;
    let run = gh.add_run(WorkflowRun::push_success(gh.config()));
    let zip = zip_of(&[
        ("pkg-1.0.tar.gz", b"sdist bytes"),
        ("pkg-1.0-py3-none-any.whl", b"wheel"),
    ]);
    let id = gh.add_artifact(run, "dist", zip.clone());

    let location = redirect_location(&gh, id).await;
    assert!(location.starts_with(&gh.blob_url()));
    assert_ne!(gh.blob_url(), gh.api_url());
    assert!(location.contains("sig=") && location.contains("se="));
    let resp = client().get(&location).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), zip.as_slice());
    let digest = gh.artifact(id).unwrap().digest.unwrap();
    assert_eq!(digest, format!("sha256:{:x}", sha2::Sha256::digest(&bytes)));
    assert_eq!(gh.blob_auth_violations(), 0);

    let blob_requests: Vec<_> = gh
        .requests()
        .into_iter()
        .filter(|r| r.host == "blob")
        .collect();
    assert_eq!(blob_requests.len(), 1);
    assert!(!blob_requests[0].has_authorization());
}

#[tokio::test]
async fn blob_host_rejects_and_counts_authorization() {
    let gh = start().await;
    let run = gh.add_run(WorkflowRun::push_success(gh.config()));
    let id = gh.add_artifact(run, "dist", zip_of(&[("a", b"a")]));
    let location = redirect_location(&gh, id).await;
    let resp = client()
        .get(&location)
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.headers()["x-ms-error-code"],
        "InvalidAuthenticationInfo"
    );
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("<Code>InvalidAuthenticationInfo</Code>"),
        "{body}"
    );
    assert!(body.contains("Check the value of Authorization header."));
    assert_eq!(gh.blob_auth_violations(), 1);
    let leaked = gh
        .requests()
        .into_iter()
        .filter(|r| r.host == "blob")
        .filter_map(|r| r.authorization)
        .collect::<Vec<_>>();
    assert_eq!(leaked, vec![auth(&gh)]);
}

#[tokio::test]
async fn blob_urls_expire_and_cannot_be_tampered_with() {
    let gh = start().await;
    let run = gh.add_run(WorkflowRun::push_success(gh.config()));
    let id = gh.add_artifact(run, "dist", zip_of(&[("a", b"a")]));

    let good = redirect_location(&gh, id).await;
    let se = urlenc::get(good.split_once('?').unwrap().1, "se").unwrap();
    let later = time::rfc3339(time::parse_rfc3339(&se).unwrap() + 3600);
    let tampered = good.replace(
        &format!("se={}", urlenc::encode_component(&se)),
        &format!("se={}", urlenc::encode_component(&later)),
    );
    assert_ne!(tampered, good);
    let resp = client().get(&tampered).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Signature did not match"));

    gh.set_blob_url_ttl(Duration::ZERO);
    let expired = redirect_location(&gh, id).await;
    let resp = client().get(&expired).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(resp.headers()["x-ms-error-code"], "AuthenticationFailed");
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("Signature not valid in the specified time frame"),
        "{body}"
    );

    let unsigned = good.split_once('?').unwrap().0;
    let resp = client().get(unsigned).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn expired_artifact_is_gone() {
    let gh = start().await;
    let run = gh.add_run(WorkflowRun::push_success(gh.config()));
    let id = gh.add_artifact(run, "dist", zip_of(&[("a", b"a")]));
    gh.set_artifact(id, |a| a.expired = true);
    let resp = client()
        .get(format!(
            "{}/repos/octo-org/octo-repo/actions/artifacts/{id}/zip",
            gh.api_url()
        ))
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::GONE);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "Artifact has expired");
    assert_eq!(body["status"], "410");

    let list: Value = client()
        .get(format!(
            "{}/repos/octo-org/octo-repo/actions/runs/{run}/artifacts",
            gh.api_url()
        ))
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["artifacts"][0]["expired"], true);

    // Passing expires_at expires it too.
    let id2 = gh.add_artifact(run, "dist2", zip_of(&[("a", b"a")]));
    gh.set_artifact(id2, |a| a.expires_at = time::now() - 1);
    let resp = client()
        .get(format!(
            "{}/repos/octo-org/octo-repo/actions/artifacts/{id2}/zip",
            gh.api_url()
        ))
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::GONE);
}

#[tokio::test]
async fn faults_hit_their_routes() {
    let gh = start().await;
    let run = gh.add_run(WorkflowRun::push_success(gh.config()));
    let id = gh.add_artifact(run, "dist", zip_of(&[("a", &[7u8; 10_000])]));
    gh.faults().inject(route::BLOB, Fault::DropConnection, 1);
    gh.faults().inject(
        route::RUN,
        Fault::Status {
            status: 502,
            body: "bad gateway".into(),
        },
        1,
    );
    let location = redirect_location(&gh, id).await;
    let resp = client().get(&location).send().await.unwrap();
    assert!(resp.bytes().await.is_err(), "the body must break off");
    let resp = client().get(&location).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let url = format!(
        "{}/repos/octo-org/octo-repo/actions/runs/{run}",
        gh.api_url()
    );
    let resp = client()
        .get(&url)
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    let resp = client()
        .get(&url)
        .header(AUTHORIZATION, auth(&gh))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_paths_answer_github_not_found() {
    let gh = start().await;
    let resp = client()
        .get(format!("{}/nope", gh.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "Not Found");
}

/// Entry names straight from the central directory (library readers merge duplicates).
fn central_names(zip: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut i = 0;
    while i + 46 <= zip.len() {
        if zip[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] {
            let n = u16::from_le_bytes([zip[i + 28], zip[i + 29]]) as usize;
            names.push(String::from_utf8_lossy(&zip[i + 46..i + 46 + n]).into_owned());
            i += 46 + n;
        } else {
            i += 1;
        }
    }
    names
}

fn archive(zip: &[u8]) -> zip::ZipArchive<Cursor<Vec<u8>>> {
    zip::ZipArchive::new(Cursor::new(zip.to_vec())).unwrap()
}

#[test]
fn zip_of_reads_back() {
    let zip = zip_of(&[("a/b.txt", b"hello"), ("c.bin", &[0u8; 4096])]);
    let mut ar = archive(&zip);
    assert_eq!(ar.len(), 2);
    let mut s = String::new();
    ar.by_name("a/b.txt")
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "hello");
    let f = ar.by_name("c.bin").unwrap();
    assert_eq!(f.size(), 4096);
    assert!(f.compressed_size() < 4096);
    assert!(f.is_file());
}

#[test]
fn hostile_zips_are_what_they_claim() {
    let mut ar = archive(&hostile::path_traversal());
    let f = ar.by_name("../evil.txt").unwrap();
    assert!(f.enclosed_name().is_none());

    let mut ar = archive(&hostile::absolute_path());
    let f = ar.by_name("/tmp/x").unwrap();
    assert!(f.enclosed_name().is_none());

    assert!(central_names(&hostile::backslash_traversal()).contains(&"..\\evil.txt".to_owned()));

    let mut ar = archive(&hostile::symlink());
    let mut f = ar.by_name("link").unwrap();
    assert!(f.is_symlink());
    assert_eq!(f.unix_mode(), Some(0o120_777));
    let mut target = String::new();
    f.read_to_string(&mut target).unwrap();
    assert_eq!(target, "/etc/passwd");

    let dup = hostile::duplicate_names();
    assert_eq!(central_names(&dup), vec!["dist.txt", "ok.txt", "dist.txt"]);

    let actual = 8 << 20;
    let bomb = hostile::understated_size(actual);
    assert!(
        bomb.len() < actual / 100,
        "a bomb must be small: {}",
        bomb.len()
    );
    let mut ar = archive(&bomb);
    let declared = ar.by_name("bomb.bin").unwrap().size();
    assert_eq!(declared, 1024);
    let idx = ar.index_for_name("bomb.bin").unwrap();
    let mut raw = Vec::new();
    ar.by_index_raw(idx).unwrap().read_to_end(&mut raw).unwrap();
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(raw.as_slice())
        .read_to_end(&mut inflated)
        .unwrap();
    assert_eq!(inflated.len(), actual);

    let mut ar = archive(&hostile::huge_declared_size());
    assert_eq!(ar.by_name("huge.bin").unwrap().size(), 0xFFFF_FFFE);

    // Every hostile zip also carries a harmless entry.
    for zip in [
        hostile::path_traversal(),
        hostile::symlink(),
        hostile::duplicate_names(),
    ] {
        assert!(central_names(&zip).contains(&"ok.txt".to_owned()));
    }
}

async fn get_json(gh: &GitHub, path: &str) -> (StatusCode, Value) {
    let resp = client()
        .get(format!("{}{path}", gh.api_url()))
        .header(AUTHORIZATION, auth(gh))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

#[tokio::test]
async fn tags_resolve_as_githubs_git_database_serves_them() {
    let gh = start().await;
    let repo = gh.config().repository.clone();
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let other = "89abcdef0123456789abcdef0123456789abcdef";

    // A lightweight tag: the ref names the commit.
    gh.add_tag("v1.0.0", commit);
    let (status, body) = get_json(&gh, &format!("/repos/{repo}/git/ref/tags/v1.0.0")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ref"], "refs/tags/v1.0.0");
    assert_eq!(body["object"]["type"], "commit");
    assert_eq!(body["object"]["sha"], commit);

    // An annotated tag: the ref names a tag object, whose `object` is the commit.
    let tag_sha = gh.add_annotated_tag("v2.0.0", commit);
    let (_, body) = get_json(&gh, &format!("/repos/{repo}/git/ref/tags/v2.0.0")).await;
    assert_eq!(body["object"]["type"], "tag");
    assert_eq!(body["object"]["sha"], tag_sha.as_str());
    let (status, tag) = get_json(&gh, &format!("/repos/{repo}/git/tags/{tag_sha}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tag["sha"], tag_sha.as_str());
    assert_eq!(tag["tag"], "v2.0.0");
    assert_eq!(tag["object"]["type"], "commit");
    assert_eq!(tag["object"]["sha"], commit);
    assert!(tag["tagger"]["date"].is_string() && tag["verification"].is_object());

    // A tag of a tag: two tag objects on the way.
    let outer = gh.wrap_tag("v2.0.0").unwrap();
    let (_, tag) = get_json(&gh, &format!("/repos/{repo}/git/tags/{outer}")).await;
    assert_eq!(tag["object"]["type"], "tag");
    assert_eq!(tag["object"]["sha"], tag_sha.as_str());
    assert_eq!(gh.tag_commit("v2.0.0").as_deref(), Some(commit));

    // Moved: the lightweight tag is rewritten, the annotated one gets a new tag object.
    gh.move_tag("v1.0.0", other);
    gh.move_tag("v2.0.0", other);
    let (_, body) = get_json(&gh, &format!("/repos/{repo}/git/ref/tags/v1.0.0")).await;
    assert_eq!(body["object"]["sha"], other);
    let (_, body) = get_json(&gh, &format!("/repos/{repo}/git/ref/tags/v2.0.0")).await;
    assert_eq!(body["object"]["type"], "tag");
    assert_eq!(gh.tag_commit("v2.0.0").as_deref(), Some(other));

    // Missing: exactly the ref asked for (no prefix match), GitHub's 404 body; a commit's sha
    // is not a tag object.
    for path in [
        format!("/repos/{repo}/git/ref/tags/v1"),
        format!("/repos/{repo}/git/ref/heads/main"),
        format!("/repos/{repo}/git/tags/{commit}"),
    ] {
        let (status, body) = get_json(&gh, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["message"], "Not Found", "{path}");
        assert!(
            body["documentation_url"]
                .as_str()
                .unwrap()
                .starts_with("https://docs.github.com/rest/git/"),
            "{path}: {body}"
        );
    }
}
