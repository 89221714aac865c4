//! Trusted publishing: audience, token exchange checks, and minted tokens at upload.
use base64::Engine;
use testbed::{OidcMode, TrustedPublisher, Warehouse, WarehouseConfig};

use crate::support::*;

fn publisher(project: &str, environment: Option<&str>, pending: bool) -> TrustedPublisher {
    TrustedPublisher {
        project: project.to_owned(),
        repository_owner: "octo".to_owned(),
        repository_owner_id: "4242".to_owned(),
        repository: "demo".to_owned(),
        workflow_filename: "release.yml".to_owned(),
        environment: environment.map(str::to_owned),
        pending,
    }
}

async fn expect_error(wh: &Warehouse, claims: &serde_json::Value, code: &str, description: &str) {
    let (status, body) = mint(wh, &sign(claims)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(mint_error(&body), (code.to_owned(), description.to_owned()));
}

#[tokio::test]
async fn audience_by_mode() {
    let wh = start(oidc_config()).await;
    let resp = reqwest::get(format!("{}/_/oidc/audience", wh.url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), r#"{"audience": "pypi"}"#);

    // The local index, which is not PyPI, has an audience of its own.
    let local = start(WarehouseConfig::default()).await;
    let body: serde_json::Value = reqwest::get(format!("{}/_/oidc/audience", local.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["audience"], testbed::warehouse::LOCAL_AUDIENCE);
    assert_eq!(local.audience(), testbed::warehouse::LOCAL_AUDIENCE);

    let test = start(WarehouseConfig {
        audience: "testpypi".into(),
        ..WarehouseConfig::default()
    })
    .await;
    let body: serde_json::Value = reqwest::get(format!("{}/_/oidc/audience", test.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["audience"], "testpypi");

    let disabled = start(WarehouseConfig {
        oidc: OidcMode::Disabled,
        ..oidc_config()
    })
    .await;
    let resp = reqwest::get(format!("{}/_/oidc/audience", disabled.url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"message": "Trusted publishing functionality not enabled"}"#
    );
    let (status, body) = mint(
        &disabled,
        &sign(&claims("octo", "demo", "release.yml", None)),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        mint_error(&body),
        (
            "not-enabled".to_owned(),
            "github trusted publishing functionality not enabled".to_owned()
        )
    );

    let unsupported = start(WarehouseConfig {
        oidc: OidcMode::Unsupported,
        ..oidc_config()
    })
    .await;
    for (method, path) in [("GET", "/_/oidc/audience"), ("POST", "/_/oidc/mint-token")] {
        let resp = reqwest::Client::new()
            .request(
                method.parse().unwrap(),
                format!("{}{path}", unsupported.url()),
            )
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn mint_refuses_bad_requests_and_tokens() {
    let wh = start(oidc_config()).await;
    wh.add_trusted_publisher(publisher("demo", None, false));

    let (status, body) = mint_raw(&wh, "not json".into()).await;
    assert_eq!(status, 422);
    let (code, description) = mint_error(&body);
    assert_eq!(code, "invalid-payload");
    assert!(
        description.starts_with("1 validation error for TokenPayload"),
        "{description}"
    );
    let (_, body) = mint_raw(&wh, "{}".into()).await;
    assert_eq!(mint_error(&body).0, "invalid-payload");

    let (_, body) = mint(&wh, "abc.def").await;
    assert_eq!(
        mint_error(&body),
        ("invalid-payload".into(), "malformed JWT".into())
    );

    let mut other_issuer = claims("octo", "demo", "release.yml", None);
    other_issuer["iss"] = "https://gitlab.com".into();
    expect_error(
        &wh,
        &other_issuer,
        "invalid-payload",
        "unknown trusted publishing issuer",
    )
    .await;

    let invalid_token = ("invalid-token", "malformed or invalid token");
    let mut wrong_aud = claims("octo", "demo", "release.yml", None);
    wrong_aud["aud"] = "sigstore".into();
    expect_error(&wh, &wrong_aud, invalid_token.0, invalid_token.1).await;
    let mut list_aud = claims("octo", "demo", "release.yml", None);
    list_aud["aud"] = serde_json::json!(["pypi"]);
    expect_error(&wh, &list_aud, invalid_token.0, invalid_token.1).await;
    let mut expired = claims("octo", "demo", "release.yml", None);
    expired["exp"] = (now() - 60).into();
    expect_error(&wh, &expired, invalid_token.0, invalid_token.1).await;
    let mut no_iat = claims("octo", "demo", "release.yml", None);
    no_iat.as_object_mut().unwrap().remove("iat");
    expect_error(&wh, &no_iat, invalid_token.0, invalid_token.1).await;
    let mut future = claims("octo", "demo", "release.yml", None);
    future["nbf"] = (now() + 120).into();
    expect_error(&wh, &future, invalid_token.0, invalid_token.1).await;

    // A tampered payload no longer matches the signature.
    let good = sign(&claims("octo", "demo", "release.yml", None));
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut forged = claims("octo", "demo", "release.yml", None);
    forged["repository_owner_id"] = "1".into();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    let (_, body) = mint(&wh, &parts.join(".")).await;
    assert_eq!(
        mint_error(&body),
        (invalid_token.0.into(), invalid_token.1.into())
    );

    // HS256 is not accepted, whatever the key.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims("octo", "demo", "release.yml", None),
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let (_, body) = mint(&wh, &hs).await;
    assert_eq!(
        mint_error(&body),
        (invalid_token.0.into(), invalid_token.1.into())
    );
}

#[tokio::test]
async fn mint_matches_the_publisher() {
    let wh = start(oidc_config()).await;
    wh.add_trusted_publisher(publisher("demo", Some("PyPI"), false));
    let no_publisher = |why: &str| format!("valid token, but no corresponding publisher ({why})");

    expect_error(
        &wh,
        &claims("octo", "demo", "other.yml", Some("pypi")),
        "invalid-publisher",
        &no_publisher("Publisher with matching claims was not found"),
    )
    .await;
    // The environment is required by this publisher and matched case-insensitively.
    expect_error(
        &wh,
        &claims("octo", "demo", "release.yml", None),
        "invalid-publisher",
        &no_publisher("Publisher with matching claims was not found"),
    )
    .await;
    expect_error(
        &wh,
        &claims("octo", "demo", "release.yml", Some("staging")),
        "invalid-publisher",
        &no_publisher("Publisher with matching claims was not found"),
    )
    .await;
    let mut other_owner_id = claims("octo", "demo", "release.yml", Some("pypi"));
    other_owner_id["repository_owner_id"] = "1".into();
    expect_error(
        &wh,
        &other_owner_id,
        "invalid-publisher",
        &no_publisher("Publisher with matching claims was not found"),
    )
    .await;
    let mut prt = claims("octo", "demo", "release.yml", Some("pypi"));
    prt["event_name"] = "pull_request_target".into();
    expect_error(
        &wh,
        &prt,
        "invalid-publisher",
        &no_publisher(
            "Publishing from a workflow invoked via 'pull_request_target' is not supported.",
        ),
    )
    .await;
    let mut no_jti = claims("octo", "demo", "release.yml", Some("pypi"));
    no_jti.as_object_mut().unwrap().remove("jti");
    expect_error(
        &wh,
        &no_jti,
        "invalid-publisher",
        &no_publisher("Missing claim 'jti'"),
    )
    .await;

    // Repository case does not matter; the environment's case does not either.
    let ok = claims("Octo", "Demo", "release.yml", Some("PYPI"));
    let jwt = sign(&ok);
    let (status, body) = mint(&wh, &jwt).await;
    assert_eq!(status, 422, "{body}");
    // ...but repository_owner is compared exactly, as GitHub sends its canonical login.
    assert_eq!(
        mint_error(&body).1,
        no_publisher("Check failed for required claim 'repository_owner'")
    );
    let mut ok = claims("octo", "Demo", "release.yml", Some("PYPI"));
    ok["job_workflow_ref"] = "octo/demo/.github/workflows/release.yml@refs/tags/v1.0".into();
    let jwt = sign(&ok);
    let (status, body) = mint(&wh, &jwt).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("pypi-"));
    let expires = body["expires"].as_i64().unwrap();
    assert!((expires - now() - 900).abs() <= 5, "{expires}");

    // The same ID token cannot be exchanged twice.
    let (status, body) = mint(&wh, &jwt).await;
    assert_eq!(status, 422);
    assert_eq!(
        mint_error(&body),
        (
            "invalid-reuse-token".into(),
            "invalid token: already used".into()
        )
    );
}

#[tokio::test]
async fn minted_tokens_at_upload() {
    let wh = start(oidc_config()).await;
    wh.add_trusted_publisher(publisher("demo", None, false));
    wh.create_project("elsewhere");
    let (status, body) = mint(&wh, &sign(&claims("octo", "demo", "release.yml", None))).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();

    let ok = Upload::for_file(
        "demo",
        "1.0",
        "demo-1.0-py3-none-any.whl",
        wheel("demo", "1.0", "a"),
    )
    .add("attestations", "[{\"version\": 1}]");
    let resp = upload(&wh, &ok, Some(basic(&token)), None).await;
    assert_eq!(resp.status, 200, "{} {}", resp.reason, resp.body);
    assert_eq!(
        wh.files("demo", "1.0")[0].attestations.as_deref(),
        Some("[{\"version\": 1}]")
    );

    let new = Upload::for_file(
        "unknown",
        "1.0",
        "unknown-1.0-py3-none-any.whl",
        wheel("unknown", "1.0", "a"),
    );
    let resp = upload(&wh, &new, Some(basic(&token)), None).await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.reason,
        "Non-user identities cannot create new projects. This was probably caused by \
         successfully using a pending publisher but specifying the project name incorrectly \
         (either in the publisher or in your project's metadata). Please ensure that both match. \
         See: https://docs.pypi.org/trusted-publishers/troubleshooting/"
    );

    let other = Upload::for_file(
        "elsewhere",
        "1.0",
        "elsewhere-1.0-py3-none-any.whl",
        wheel("elsewhere", "1.0", "a"),
    );
    let resp = upload(&wh, &other, Some(basic(&token)), None).await;
    assert_eq!(resp.status, 403);
    assert_eq!(
        resp.reason,
        "Invalid API Token: OIDC scoped token is not valid for project 'elsewhere', \
         project-scoped token is not valid for project: 'elsewhere'"
    );

    wh.expire_minted_tokens();
    let later = Upload::for_file(
        "demo",
        "1.1",
        "demo-1.1-py3-none-any.whl",
        wheel("demo", "1.1", "a"),
    );
    let resp = upload(&wh, &later, Some(basic(&token)), None).await;
    assert_eq!(
        (resp.status, resp.reason.as_str()),
        (403, "Invalid API Token: token is expired")
    );
}

#[tokio::test]
async fn pending_publisher_creates_the_project() {
    let wh = start(oidc_config()).await;
    wh.add_trusted_publisher(publisher("fresh-pkg", Some("pypi"), true));
    let base = wh.url();
    assert_eq!(
        reqwest::get(format!("{base}/simple/fresh-pkg/"))
            .await
            .unwrap()
            .status(),
        404
    );
    let (status, body) = mint(
        &wh,
        &sign(&claims("octo", "demo", "release.yml", Some("pypi"))),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    // The project exists now, without releases.
    assert_eq!(
        reqwest::get(format!("{base}/simple/fresh-pkg/"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        reqwest::get(format!("{base}/pypi/fresh-pkg/json"))
            .await
            .unwrap()
            .status(),
        404
    );
    let form = Upload::for_file(
        "fresh-pkg",
        "0.1",
        "fresh_pkg-0.1-py3-none-any.whl",
        wheel("fresh_pkg", "0.1", "a"),
    );
    let resp = upload(&wh, &form, Some(basic(&token)), None).await;
    assert_eq!(resp.status, 200, "{} {}", resp.reason, resp.body);
    // The pending publisher became a normal one: new ID tokens keep working.
    let (status, _) = mint(
        &wh,
        &sign(&claims("octo", "demo", "release.yml", Some("pypi"))),
    )
    .await;
    assert_eq!(status, 200);

    // A pending publisher for a name that is taken is refused and removed.
    wh.create_project("taken");
    let mut taken = publisher("taken", None, true);
    taken.workflow_filename = "other.yml".into();
    wh.add_trusted_publisher(taken);
    expect_error(
        &wh,
        &claims("octo", "demo", "other.yml", None),
        "invalid-pending-publisher",
        "valid token, but project already exists",
    )
    .await;
    expect_error(
        &wh,
        &claims("octo", "demo", "other.yml", None),
        "invalid-publisher",
        "valid token, but no corresponding publisher (Publisher with matching claims was not found)",
    )
    .await;
}
