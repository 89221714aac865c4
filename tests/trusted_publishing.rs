//! Trusted publishing end to end: GitHub's OIDC token service and Warehouse's exchange, with
//! no secret configured anywhere.
mod common;

use common::{Stack, PROJECT};
use testbed::faults::{route, Fault};
use testbed::github::JobClaims;
use testbed::warehouse::{TrustedIssuer, TrustedPublisher, Warehouse, WarehouseConfig};

fn assert_no_secret(stack: &Stack, out: &common::Outcome) {
    out.assert_no_secret(&stack.secrets());
}

#[tokio::test(flavor = "multi_thread")]
async fn publishes_with_no_secret_at_all() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack
        .publish(&[dist.to_str().unwrap()], &stack.oidc_env())
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(PROJECT, "1.0.0").len(), 2);
    assert!(
        !stack.warehouse.minted_tokens().is_empty(),
        "a token was minted"
    );
    // Each secret is masked, whole, before anything could print or use it: the runner's
    // request token before the ID token is fetched with it, each ID token before the mint
    // that spends it (whose token is masked next), the minted token before the uploads.
    let minted = stack.warehouse.minted_tokens();
    let ids = stack.github.issued_tokens();
    assert_eq!((minted.len(), ids.len()), (1, 1), "{}", out.debug());
    let request = out.mask_line("the request token", &stack.github.id_token_request_token());
    let id = out.mask_line("the ID token", &ids[0]);
    let index_token = out.mask_line("the minted token", &minted[0]);
    let uploads = out.stdout_line("::group::Uploading");
    assert!(
        request < id && id < index_token && index_token < uploads,
        "masks out of order ({request}, {id}, {index_token}, uploads at {uploads}):\n{}",
        out.stdout
    );
    assert_no_secret(&stack, &out);
}

async fn refused(stack: &Stack, claims: Option<JobClaims>) -> common::Outcome {
    if let Some(c) = claims {
        stack.github.set_claims(c);
    }
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack
        .publish(&[dist.to_str().unwrap()], &stack.oidc_env())
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(stack.warehouse.uploads().is_empty(), "nothing uploaded");
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_publisher_shows_claims_and_the_matching_settings() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let mut claims = JobClaims::for_repo(stack.github.config());
    let repo = claims.repository.clone();
    claims.workflow_ref = format!("{repo}/.github/workflows/release.yml@refs/heads/main");
    claims.job_workflow_ref = claims.workflow_ref.clone();
    claims.environment = Some("production".to_owned());
    let out = refused(&stack, Some(claims)).await;
    for expected in [
        "invalid-publisher",
        "job_workflow_ref",
        "release.yml",
        "production",
        &repo,
        "Workflow name:     release.yml",
        "Environment name:  production",
        &format!("/manage/project/{PROJECT}/settings/publishing/"),
    ] {
        assert!(
            out.stderr.contains(expected),
            "{expected:?} missing from:\n{}",
            out.stderr
        );
    }
    assert!(out.summary.contains("invalid-publisher"), "{}", out.summary);
    assert!(
        out.stdout
            .contains("::error title=Trusted publishing failed::"),
        "{}",
        out.stdout
    );
    assert_no_secret(&stack, &out);
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_request_target_is_refused_and_explained() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let mut claims = JobClaims::for_repo(stack.github.config());
    claims.event_name = "pull_request_target".to_owned();
    let out = refused(&stack, Some(claims)).await;
    assert!(
        out.stderr
            .contains("PyPI refuses tokens from `pull_request_target` workflows"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_id_token_is_invalid_token() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let mut claims = JobClaims::for_repo(stack.github.config());
    claims.issued_at = Some(1_600_000_000);
    let out = refused(&stack, Some(claims)).await;
    assert!(out.stderr.contains("invalid-token"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_issuer_is_invalid_payload() {
    // An index that trusts another issuer than the one that signed the token.
    let stack = Stack::start_with(testbed::warehouse::WarehouseConfig::default()).await;
    stack.register_publisher(PROJECT);
    let other = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    let mut env = stack.oidc_env();
    for (k, v) in env.iter_mut() {
        if *k == "ACTIONS_ID_TOKEN_REQUEST_URL" {
            *v = other.github.id_token_request_url();
        }
        if *k == "ACTIONS_ID_TOKEN_REQUEST_TOKEN" {
            *v = other.github.id_token_request_token();
        }
    }
    let out = stack.publish(&[dist.to_str().unwrap()], &env).await;
    assert!(!out.ok());
    // Warehouse finds no publisher for an issuer it does not know before it checks any
    // signature: `invalid-payload`, never `invalid-token`.
    assert!(out.stderr.contains("invalid-payload"), "{}", out.stderr);
    assert!(!out.stderr.contains("invalid-token"), "{}", out.stderr);
    assert!(stack.warehouse.minted_tokens().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_permission_and_fork_and_no_actions_are_explained() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    let path = dist.to_str().unwrap().to_owned();

    let out = stack
        .publish(&[&path], &[("GITHUB_ACTIONS", "true".to_owned())])
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains("permissions: id-token: write"),
        "{}",
        out.stderr
    );

    let event = stack.tmp.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({
            "pull_request": {
                "head": {"repo": {"full_name": "mallory/fork"}},
                "base": {"repo": {"full_name": stack.github.config().repository}}
            },
            "repository": {"full_name": stack.github.config().repository}
        })
        .to_string(),
    )
    .unwrap();
    let out = stack
        .publish(
            &[&path],
            &[
                ("GITHUB_ACTIONS", "true".to_owned()),
                ("GITHUB_EVENT_NAME", "pull_request".to_owned()),
                ("GITHUB_EVENT_PATH", event.display().to_string()),
            ],
        )
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains(
            "this job runs for a pull request from the fork mallory/fork, and GitHub never \
             gives a fork's pull request an OIDC ID token"
        ),
        "{}",
        out.stderr
    );

    let out = stack.publish(&[&path], &[]).await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains(
            "trusted publishing needs a GitHub Actions job (GITHUB_ACTIONS is not `true`, so \
             this is not one): outside Actions, give an API token"
        ),
        "{}",
        out.stderr
    );
    assert!(stack.warehouse.uploads().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_mint_failures_are_survived_with_fresh_id_tokens() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    stack.warehouse.faults().inject(
        route::OIDC_MINT,
        Fault::Status {
            status: 503,
            body: "upstream unavailable".to_owned(),
        },
        1,
    );
    stack
        .warehouse
        .faults()
        .inject(route::OIDC_MINT, Fault::HtmlPage { status: 502 }, 1);
    stack
        .warehouse
        .faults()
        .inject(route::OIDC_MINT, Fault::DropConnection, 1);
    stack.github.faults().inject(
        route::ID_TOKEN,
        Fault::Status {
            status: 500,
            body: "{}".to_owned(),
        },
        1,
    );
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack
        .publish(&[dist.to_str().unwrap()], &stack.oidc_env())
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.faults().fired(route::OIDC_MINT), 3);
    // One fresh ID token per mint attempt: a reused `jti` would be refused.
    assert!(
        stack.github.issued_tokens().len() >= 4,
        "{}",
        stack.github.issued_tokens().len()
    );
    assert!(out.stderr.contains("retrying"), "{}", out.stderr);
    assert_eq!(stack.warehouse.files(PROJECT, "1.0.0").len(), 2);
    // The retry lines carry no token, nor the runner's request token.
    assert_no_secret(&stack, &out);
}

#[tokio::test(flavor = "multi_thread")]
async fn index_without_trusted_publishing_is_explained() {
    for (mode, expected) in [
        (
            testbed::warehouse::OidcMode::Disabled,
            "disabled on this index",
        ),
        (
            testbed::warehouse::OidcMode::Unsupported,
            "does not support trusted publishing",
        ),
    ] {
        let stack = Stack::start_with(testbed::warehouse::WarehouseConfig {
            oidc: mode,
            ..Default::default()
        })
        .await;
        let dist = stack.dists(PROJECT, "1.0.0");
        let out = stack
            .publish(&[dist.to_str().unwrap()], &stack.oidc_env())
            .await;
        assert!(!out.ok());
        assert!(out.stderr.contains(expected), "{}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mint_token_prints_only_the_masked_token() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let mut env = stack.oidc_env();
    env.push(("INPUT_REPOSITORY-URL", stack.warehouse.upload_url()));
    let out = common::run(
        stack.tmp.path(),
        &["mint-token", "--project", PROJECT],
        &env,
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    let minted = stack.warehouse.minted_tokens();
    assert_eq!(minted.len(), 1);
    assert_eq!(out.stdout.trim(), minted[0], "stdout is the token alone");
    assert!(out.stderr.contains(&format!("::add-mask::{}", minted[0])));
    assert_eq!(out.output("token"), minted[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_token_on_a_trusted_publishing_index_suggests_the_upgrade() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack
        .publish(
            &[dist.to_str().unwrap()],
            &[
                ("GITHUB_ACTIONS", "true".to_owned()),
                ("INPUT_PASSWORD", token.clone()),
            ],
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stdout
            .contains("::warning title=An API token is not needed here::"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!("::add-mask::{token}")));
}

/// Another index on this machine that trusts the same GitHub issuer and has this workflow as
/// the project's trusted publisher: an ID token that reached it would be exchanged there.
async fn another_index(stack: &Stack, audience: &str) -> Warehouse {
    let other = Warehouse::start(WarehouseConfig {
        audience: audience.to_owned(),
        trusted_issuer: Some(TrustedIssuer {
            issuer: stack.github.issuer(),
            public_key_pem: testbed::GITHUB_OIDC_TEST_PUBLIC_KEY_PEM.to_owned(),
        }),
        ..WarehouseConfig::default()
    })
    .await
    .expect("second index");
    let cfg = stack.github.config();
    other.create_project(PROJECT);
    other.add_trusted_publisher(TrustedPublisher {
        project: PROJECT.to_owned(),
        repository_owner: cfg.owner().to_owned(),
        repository_owner_id: cfg.repository_owner_id.to_string(),
        repository: cfg.name().to_owned(),
        workflow_filename: "publish.yml".to_owned(),
        environment: JobClaims::for_repo(cfg).environment,
        pending: false,
    });
    other
}

fn assert_contains(out: &common::Outcome, expected: &[&str]) {
    for e in expected {
        assert!(
            out.stderr.contains(e),
            "{e:?} missing from:\n{}",
            out.debug()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_from_the_mint_endpoint_never_carries_the_id_token_away() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let other = another_index(&stack, common::LOCAL_AUDIENCE).await;
    let target = format!("{}/_/oidc/mint-token", other.url());
    let dist = stack.dists(PROJECT, "1.0.0");
    for (n, status) in [307u16, 308].into_iter().enumerate() {
        stack.warehouse.faults().inject(
            route::OIDC_MINT,
            Fault::Redirect {
                status,
                location: target.clone(),
            },
            1,
        );
        let out = stack
            .publish(&[dist.to_str().unwrap()], &stack.oidc_env())
            .await;
        assert!(!out.ok(), "{}", out.debug());
        // Refused at the first answer, not retried.
        assert_eq!(stack.warehouse.faults().fired(route::OIDC_MINT), n + 1);
        assert!(
            other.requests().is_empty(),
            "the redirect target was contacted: {:?}",
            other.requests()
        );
        assert!(other.minted_tokens().is_empty());
        assert!(stack.warehouse.minted_tokens().is_empty());
        assert!(stack.warehouse.uploads().is_empty());
        assert_contains(
            &out,
            &[
                &format!("{}/_/oidc/mint-token", stack.warehouse.url()),
                &format!("HTTP {status}"),
                &target,
                "--index-url or --repository-url",
                "final address",
            ],
        );
        assert_no_secret(&stack, &out);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_from_the_audience_endpoint_is_refused_before_any_id_token() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let other = another_index(&stack, common::LOCAL_AUDIENCE).await;
    let target = format!("{}/_/oidc/audience", other.url());
    stack.warehouse.faults().inject(
        route::OIDC_AUDIENCE,
        Fault::Redirect {
            status: 307,
            location: target.clone(),
        },
        1,
    );
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack
        .publish(&[dist.to_str().unwrap()], &stack.oidc_env())
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    assert!(
        stack.github.issued_tokens().is_empty(),
        "an ID token was requested"
    );
    assert_contains(
        &out,
        &[
            &format!("{}/_/oidc/audience", stack.warehouse.url()),
            "HTTP 307",
            &target,
            "final address",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_of_the_id_token_request_is_not_followed() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let other = another_index(&stack, common::LOCAL_AUDIENCE).await;
    let target = format!("{}/steal", other.url());
    stack.github.faults().inject(
        route::ID_TOKEN,
        Fault::Redirect {
            status: 302,
            location: target.clone(),
        },
        1,
    );
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack
        .publish(&[dist.to_str().unwrap()], &stack.oidc_env())
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    assert!(stack.warehouse.minted_tokens().is_empty());
    assert_contains(&out, &["HTTP 302", &target, "never sent after a redirect"]);
    assert_no_secret(&stack, &out);
}

/// The job's environment without the `oidc-audience` input the harness gives every step.
fn env_naming(stack: &Stack, audience: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env: Vec<_> = stack
        .oidc_env()
        .into_iter()
        .filter(|(k, _)| *k != "INPUT_OIDC-AUDIENCE")
        .collect();
    if let Some(a) = audience {
        env.push(("INPUT_OIDC-AUDIENCE", a.to_owned()));
    }
    env
}

/// How many ID tokens the job asked GitHub's token service for.
fn id_token_requests(stack: &Stack) -> usize {
    stack
        .github
        .requests()
        .iter()
        .filter(|r| r.path.contains("/idtoken"))
        .count()
}

/// The trusted-publishing requests an index received.
fn oidc_requests(index: &Warehouse) -> Vec<(String, String, u16)> {
    index
        .requests()
        .into_iter()
        .filter(|(_, path, _)| path.starts_with("/_/oidc/"))
        .collect()
}

/// The `aud` claim of an ID token.
fn audience_of(jwt: &str) -> String {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64"),
    )
    .expect("JSON claims");
    claims["aud"].as_str().expect("aud").to_owned()
}

/// Audiences of other services an index could ask for: a token for any of them is good there.
const OTHER_SERVICES: &[(&str, &str)] = &[
    ("pypi", "PyPI (https://pypi.org/)"),
    ("testpypi", "TestPyPI (https://test.pypi.org/)"),
    ("sigstore", "Sigstore"),
    ("npm:registry.npmjs.org", "npm"),
    ("crates.io", "crates.io"),
    ("rubygems.org", "RubyGems"),
    ("sts.amazonaws.com", "AWS"),
    ("api://AzureADTokenExchange", "Azure"),
    (
        "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh",
        "Google Cloud",
    ),
    ("https://github.com/octo-org", "GitHub"),
];

#[tokio::test(flavor = "multi_thread")]
async fn an_index_that_is_not_pypi_gets_no_id_token_for_an_audience_the_workflow_did_not_name() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    // Another service's audience, or one that may well be the index's own: unnamed, neither
    // is asked for.
    let own = ("index-internal", "`oidc-audience: \"index-internal\"`");
    for (audience, says) in OTHER_SERVICES.iter().chain([&own]) {
        let lookalike = another_index(&stack, audience).await;
        let out = common::run(
            stack.tmp.path(),
            &[
                "publish",
                "--repository-url",
                &lookalike.upload_url(),
                dist.to_str().unwrap(),
            ],
            &env_naming(&stack, None),
        )
        .await;
        assert!(!out.ok(), "{}", out.debug());
        assert_eq!(
            id_token_requests(&stack),
            0,
            "an ID token was asked for {audience}"
        );
        assert!(lookalike.minted_tokens().is_empty());
        assert!(lookalike.uploads().is_empty());
        assert_eq!(
            oidc_requests(&lookalike),
            vec![("GET".to_owned(), "/_/oidc/audience".to_owned(), 200)],
            "only the audience was asked for"
        );
        assert_contains(
            &out,
            &[
                &format!("{}/ asked for an ID token", lookalike.url()),
                &format!("the audience {audience:?}"),
                says,
            ],
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_audience_of_pypi_or_another_service_is_refused_even_when_named() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    for (audience, service) in OTHER_SERVICES {
        // The index asks for exactly what the workflow named: naming it does not make a
        // token another service accepts any safer to hand out.
        let lookalike = another_index(&stack, audience).await;
        let out = common::run(
            stack.tmp.path(),
            &[
                "publish",
                "--repository-url",
                &lookalike.upload_url(),
                dist.to_str().unwrap(),
            ],
            &env_naming(&stack, Some(audience)),
        )
        .await;
        assert!(!out.ok(), "{}", out.debug());
        assert_eq!(
            id_token_requests(&stack),
            0,
            "an ID token was asked for {audience}"
        );
        // Refused from the arguments alone, before anything was asked of the index.
        assert!(
            lookalike.requests().is_empty(),
            "{:?}",
            lookalike.requests()
        );
        assert_contains(
            &out,
            &[
                &format!("names {audience:?}, the audience of {service}"),
                "--oidc-audience",
            ],
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_audience_the_index_does_not_serve_is_refused() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack
        .publish(
            &[dist.to_str().unwrap()],
            &env_naming(&stack, Some("index-internal")),
        )
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert_eq!(id_token_requests(&stack), 0, "an ID token was requested");
    assert!(stack.warehouse.minted_tokens().is_empty());
    assert!(stack.warehouse.uploads().is_empty());
    assert_contains(
        &out,
        &[
            &format!("the audience \"{}\"", common::LOCAL_AUDIENCE),
            "but the workflow named \"index-internal\"",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audience_the_workflow_names_publishes() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack
        .publish(
            &[
                "--oidc-audience",
                common::LOCAL_AUDIENCE,
                dist.to_str().unwrap(),
            ],
            &env_naming(&stack, None),
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(PROJECT, "1.0.0").len(), 2);
    let issued = stack.github.issued_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(audience_of(&issued[0]), common::LOCAL_AUDIENCE);
}

#[tokio::test(flavor = "multi_thread")]
async fn trusted_publishing_over_plain_http_to_another_host_is_refused_at_once() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    let path = dist.to_str().unwrap();
    for args in [
        vec![
            "publish",
            "--repository-url",
            "http://example.invalid/legacy/",
            path,
        ],
        vec![
            "publish",
            "--repository-url",
            "https://example.invalid/legacy/",
            "--index-url",
            "http://example.invalid/",
            path,
        ],
        vec![
            "mint-token",
            "--repository-url",
            "http://example.invalid/legacy/",
        ],
    ] {
        let started = std::time::Instant::now();
        let out = common::run(stack.tmp.path(), &args, &stack.oidc_env()).await;
        assert!(!out.ok(), "{args:?}: {}", out.debug());
        assert_contains(
            &out,
            &[
                "refusing trusted publishing over plain http to http://example.invalid/",
                "https://",
            ],
        );
        // Refused before any request: no retry of a name that does not resolve.
        assert!(!out.stderr.contains("retrying"), "{}", out.debug());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert!(stack.github.issued_tokens().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_minted_token_never_goes_over_plain_http_to_pypis_upload_host() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    // PyPI's own upload host over http: the index (https://pypi.org) would mint over https,
    // and the token would then go out as Basic auth in clear text.
    for args in [
        vec![
            "publish",
            "--repository-url",
            "http://upload.pypi.org/legacy/",
            dist.to_str().unwrap(),
        ],
        vec![
            "mint-token",
            "--repository-url",
            "http://upload.pypi.org/legacy/",
        ],
    ] {
        let started = std::time::Instant::now();
        let out = common::run(stack.tmp.path(), &args, &env_naming(&stack, None)).await;
        assert!(!out.ok(), "{args:?}: {}", out.debug());
        assert_contains(
            &out,
            &[
                "refusing trusted publishing over plain http to http://upload.pypi.org/legacy/",
                "the minted upload token would cross the network unencrypted",
            ],
        );
        // Refused from the arguments: nothing asked of PyPI, no ID token.
        assert!(!out.stderr.contains("retrying"), "{}", out.debug());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(id_token_requests(&stack), 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_minted_token_never_goes_to_another_origin_than_the_minting_index() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    // An upload URL on another index than the one the token is minted at (here one that
    // would take any token it is given, and log it).
    let other = another_index(&stack, common::LOCAL_AUDIENCE).await;
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = common::run(
        stack.tmp.path(),
        &[
            "publish",
            "--repository-url",
            &other.upload_url(),
            "--index-url",
            &stack.warehouse.url(),
            dist.to_str().unwrap(),
        ],
        &stack.oidc_env(),
    )
    .await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(
        oidc_requests(&stack.warehouse).is_empty(),
        "the minting index was asked: {:?}",
        oidc_requests(&stack.warehouse)
    );
    assert!(stack.warehouse.minted_tokens().is_empty());
    assert_eq!(id_token_requests(&stack), 0);
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    assert_contains(
        &out,
        &[
            &format!(
                "the upload token would be minted at {}/ but sent to {}, another origin",
                stack.warehouse.url(),
                other.upload_url()
            ),
            "--repository-url and --index-url",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigstore_over_plain_http_to_another_host_is_refused_at_once() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let dist = stack.dists(PROJECT, "1.0.0");
    for (flag, service) in [("--fulcio-url", "Fulcio"), ("--rekor-url", "Rekor")] {
        let out = stack
            .publish(
                &[
                    flag,
                    "http://sigstore.example.invalid/",
                    dist.to_str().unwrap(),
                ],
                &stack.oidc_env(),
            )
            .await;
        assert!(!out.ok(), "{}", out.debug());
        assert_contains(
            &out,
            &[
                &format!(
                    "refusing to sign attestations with {service} over plain http to \
                     http://sigstore.example.invalid/"
                ),
                &format!("{service}'s https:// address in {flag}"),
            ],
        );
        assert!(stack.warehouse.requests().is_empty());
        assert_eq!(id_token_requests(&stack), 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_minted_token_of_implausible_shape_is_refused_not_masked_nor_echoed() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let dist = stack.dists(PROJECT, "1.0.0");
    let secretish = "SECRETSECRETSECRETSECRET";
    for (token, says) in [
        (String::new(), "does not start with `pypi-`"),
        (
            format!("{secretish}-not-a-pypi-token"),
            "does not start with `pypi-`",
        ),
        (
            format!("pypi-{secretish}\n::warning::injected"),
            "not URL-safe base64 at position 29",
        ),
        (format!("pypi-{}", "A".repeat(100_000)), "bytes long"),
    ] {
        stack.warehouse.faults().inject(
            route::OIDC_MINT,
            Fault::Status {
                status: 200,
                body: serde_json::json!({"success": true, "token": token, "expires": 1})
                    .to_string(),
            },
            1,
        );
        let out = stack
            .publish(&[dist.to_str().unwrap()], &stack.oidc_env())
            .await;
        assert!(!out.ok(), "{}", out.debug());
        assert_contains(&out, &["the minted token", says]);
        assert!(
            !out.everything().contains(secretish) && !out.everything().contains("AAAAAAAAAA"),
            "the token was echoed:\n{}",
            out.debug()
        );
        assert!(
            !out.stdout.contains("::add-mask::pypi-") && !out.stdout.contains(secretish),
            "the token was registered as a mask:\n{}",
            out.stdout
        );
        assert!(stack.warehouse.uploads().is_empty());
    }
}
