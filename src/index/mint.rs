//! Trusted publishing: exchange the job's GitHub OIDC ID token for a short-lived upload token
//! at the index's `/_/oidc/audience` and `/_/oidc/mint-token` endpoints.
//!
//! Two things make this more robust than a single request: every mint attempt asks GitHub for
//! a fresh ID token (Warehouse refuses a reused `jti`, so retrying with the same JWT can never
//! succeed), and a refusal is explained with the claims that were sent and the publisher
//! settings that would match them.
use anyhow::{anyhow, bail, Context};
use base64::Engine;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use url::{Host, Url};

use crate::github::id_token::RunnerOidc;
use crate::http::{self, redirect_target, Answer, Failure, Http};
use crate::inert::shown;
use crate::report::Notice;
use crate::reporting;
use crate::secret::Secret;

/// The claims shown when the index refuses a token, in the order a reader compares them with
/// the publisher settings.
const SHOWN_CLAIMS: &[&str] = &[
    "sub",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "workflow_ref",
    "job_workflow_ref",
    "ref",
    "environment",
    "event_name",
];

/// Why no upload token was minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// The index refused the ID token. The explanation shows the claims that were sent and
    /// the publisher settings that would match them.
    #[error(
        "the index refused to mint an upload token (HTTP {status}); see the explanation above"
    )]
    Refused {
        status: StatusCode,
        explanation: String,
    },
    /// No refusal: the job has no ID token, the index does not do trusted publishing, or it
    /// could not be reached.
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

/// What `/_/oidc/audience` says.
#[derive(Debug, PartialEq, Eq)]
pub enum Audience {
    Supported(String),
    Disabled,
    Unsupported,
}

/// The address of a trusted-publishing endpoint of the index (whose transport
/// [`MintTarget::new`] checked).
fn endpoint(index_url: &Url, path: &str) -> anyhow::Result<Url> {
    index_url
        .join(path)
        .with_context(|| format!("bad index URL {index_url}"))
}

/// Over `https`, or over `http` to this machine only (a local test service): anything else
/// would carry `carried` in clear text. `action` and `fix` word the refusal.
fn check_transport(url: &Url, action: &str, carried: &str, fix: &str) -> anyhow::Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => bail!(
            "refusing {action} over plain http to {url}: {carried} would cross the network \
             unencrypted (http is only accepted for localhost, 127.0.0.0/8 and ::1). {fix}"
        ),
        other => bail!("refusing {action} to {url}: the scheme `{other}` is not https. {fix}"),
    }
}

/// A Sigstore service (Fulcio receives the job's ID token, Rekor the signatures PyPI checks)
/// follows the transport rule of trusted publishing; `flag` is the option that named it.
pub fn check_sigstore_transport(url: &Url, service: &str, flag: &str) -> anyhow::Result<()> {
    check_transport(
        url,
        &format!("to sign attestations with {service}"),
        "the job's identity and what is signed with it",
        &format!("Use {service}'s https:// address in {flag}"),
    )
}

/// Is the URL's host this machine? Names other than `localhost` are not trusted to resolve
/// to it.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// PyPI and TestPyPI: the audience each mints for, and the origins its upload URLs live on.
/// An ID token is good at whatever service its audience names, so these audiences are
/// accepted from these origins only.
struct KnownIndex {
    name: &'static str,
    origin: &'static str,
    audience: &'static str,
    upload_origins: &'static [&'static str],
}

const KNOWN_INDEXES: &[KnownIndex] = &[
    KnownIndex {
        name: "PyPI",
        origin: "https://pypi.org",
        audience: "pypi",
        upload_origins: &["https://upload.pypi.org"],
    },
    KnownIndex {
        name: "TestPyPI",
        origin: "https://test.pypi.org",
        audience: "testpypi",
        upload_origins: &["https://upload.test.pypi.org"],
    },
];

impl KnownIndex {
    /// The known index served from exactly this origin (scheme, host and port).
    fn at(url: &Url) -> Option<&'static KnownIndex> {
        KNOWN_INDEXES.iter().find(|k| same_origin(url, k.origin))
    }

    fn owning(audience: &str) -> Option<&'static KnownIndex> {
        KNOWN_INDEXES.iter().find(|k| k.audience == audience)
    }
}

fn same_origin(url: &Url, origin: &str) -> bool {
    Url::parse(origin).is_ok_and(|o| o.origin() == url.origin())
}

/// Audiences of services that are no Python package index (Sigstore's Fulcio, which would
/// issue signing certificates for this workflow; other registries' trusted publishing; the
/// clouds' workload identity federation; GitHub's default audience, `https://github.com/OWNER`).
fn foreign_service(audience: &str) -> Option<&'static str> {
    match audience {
        "sigstore" => Some("Sigstore (Fulcio)"),
        "npm:registry.npmjs.org" => Some("npm"),
        "crates.io" => Some("crates.io"),
        "rubygems.org" => Some("RubyGems"),
        "sts.amazonaws.com" => Some("AWS"),
        "api://AzureADTokenExchange" => Some("Azure"),
        a if a.starts_with("//iam.googleapis.com/")
            || a.starts_with("https://iam.googleapis.com/") =>
        {
            Some("Google Cloud")
        }
        a if a.starts_with("https://github.com/") => Some("GitHub (its default audience)"),
        _ => None,
    }
}

/// An audience as the index served it, for an error message: inert and of bounded length.
fn shown_audience(audience: &str) -> String {
    const SHOWN: usize = 200;
    let cut: String = audience.chars().take(SHOWN).collect();
    let more = if cut.len() < audience.len() {
        "…"
    } else {
        ""
    };
    format!("\"{}{more}\"", shown(cut))
}

/// The service other than the index at `index_url` that `audience` belongs to, if known.
fn owner_elsewhere(index_url: &Url, audience: &str) -> Option<String> {
    if let Some(k) = KnownIndex::owning(audience) {
        return (!same_origin(index_url, k.origin)).then(|| format!("{} ({}/)", k.name, k.origin));
    }
    foreign_service(audience).map(str::to_owned)
}

/// Where trusted publishing mints a token and where that token may then go, checked before
/// anything is read: both over https (http only to this machine), the upload URL on the
/// minting index's own origin or one of PyPI's or TestPyPI's own upload hosts, and an audience
/// the workflow named that is no other service's.
#[derive(Clone, Debug)]
pub struct MintTarget {
    index_url: Url,
    upload_url: Url,
    named_audience: Option<String>,
}

impl MintTarget {
    pub fn new(
        index_url: &Url,
        upload_url: &Url,
        named_audience: Option<&str>,
    ) -> anyhow::Result<MintTarget> {
        let fix = "Use the index's https:// address in --repository-url (and --index-url)";
        check_transport(
            index_url,
            "trusted publishing",
            "the ID token and the minted upload token",
            fix,
        )?;
        check_transport(
            upload_url,
            "trusted publishing",
            "the minted upload token",
            fix,
        )?;
        if !upload_origin_allowed(index_url, upload_url) {
            bail!(
                "refusing trusted publishing: the upload token would be minted at {index_url} \
                 but sent to {upload_url}, another origin. A minted token goes only to the \
                 index that minted it: set --repository-url and --index-url to the same index"
            );
        }
        let named_audience = named_audience.map(str::trim).filter(|a| !a.is_empty());
        if let Some(named) = named_audience {
            check_named_audience(index_url, named)?;
        }
        Ok(MintTarget {
            index_url: index_url.clone(),
            upload_url: upload_url.clone(),
            named_audience: named_audience.map(str::to_owned),
        })
    }

    pub fn index_url(&self) -> &Url {
        &self.index_url
    }

    pub fn upload_url(&self) -> &Url {
        &self.upload_url
    }
}

/// The index's own origin, or PyPI's (TestPyPI's) upload host for PyPI (TestPyPI).
fn upload_origin_allowed(index_url: &Url, upload_url: &Url) -> bool {
    upload_url.origin() == index_url.origin()
        || KnownIndex::at(index_url).is_some_and(|k| {
            k.upload_origins
                .iter()
                .any(|origin| same_origin(upload_url, origin))
        })
}

/// An audience named by the workflow is still never another service's.
fn check_named_audience(index_url: &Url, named: &str) -> anyhow::Result<()> {
    if let Some(owner) = owner_elsewhere(index_url, named) {
        bail!(
            "refusing trusted publishing: --oidc-audience (the `oidc-audience` input) names \
             {named:?}, the audience of {owner}, for {index_url}. A token for that audience \
             could be replayed there in this workflow's name, whoever asks for it: name the \
             index's own audience, or remove oidc-audience to publish to PyPI or TestPyPI"
        );
    }
    if let Some(k) = KnownIndex::at(index_url) {
        if named != k.audience {
            bail!(
                "refusing trusted publishing: --oidc-audience (the `oidc-audience` input) \
                 names {named:?}, but {} mints only for {:?}: remove oidc-audience",
                k.name,
                k.audience
            );
        }
    }
    Ok(())
}

/// The audience the index served, accepted only if it is PyPI's own at PyPI, TestPyPI's own
/// at TestPyPI, or the one the workflow named for any other index. Checked before any ID
/// token is requested for it.
pub fn check_audience(target: &MintTarget, served: &str) -> anyhow::Result<()> {
    let index_url = &target.index_url;
    let asked = || {
        format!(
            "refusing trusted publishing: {index_url} asked for an ID token with the audience {}",
            shown_audience(served)
        )
    };
    if let Some(owner) = owner_elsewhere(index_url, served) {
        bail!(
            "{}, which belongs to {owner}, not to this index. A token for that audience could \
             be replayed there in this workflow's name. Check --repository-url and \
             --index-url: to publish there, point them at it; a self-hosted index needs an \
             audience of its own",
            asked()
        );
    }
    if let Some(k) = KnownIndex::at(index_url) {
        if served != k.audience {
            bail!(
                "{}, but {} mints only for {:?}: something between this job and {} answered \
                 in its place",
                asked(),
                k.name,
                k.audience,
                k.name
            );
        }
        return Ok(());
    }
    match &target.named_audience {
        None => bail!(
            "{}. Only PyPI's and TestPyPI's audiences are known; for any other index the \
             workflow names the audience, so that no index can ask for a token meant for \
             another service (another registry, a cloud). If that is the index's own audience \
             (its administrators or documentation say so; it is not another service's), add \
             `oidc-audience: {}` to the step's inputs (--oidc-audience)",
            asked(),
            shown_audience(served)
        ),
        Some(named) if named != served => bail!(
            "{}, but the workflow named {named:?} (--oidc-audience, the `oidc-audience` \
             input). An index that asks for another audience than the one it is known by may \
             be asking for a token it could use elsewhere: check --repository-url, and \
             correct oidc-audience only if the index's administrators changed its audience",
            asked()
        ),
        Some(_) => Ok(()),
    }
}

/// A redirect from a trusted-publishing endpoint is never followed: a 307/308 re-sends the
/// POST body, the ID token, to wherever the index points.
fn refuse_redirect(what: &str, url: &Url, reply: &Answer) -> Result<(), Failure> {
    if !reply.status.is_redirection() {
        return Ok(());
    }
    Err(Failure::Permanent(anyhow!(
        "{what}: HTTP {} redirecting to {}. Trusted publishing never follows a redirect (the ID \
         token would go along to the new address): set --index-url or --repository-url to the \
         index's final address",
        reply.status,
        redirect_target(url, reply)
    )))
}

pub async fn audience(http: &Http, index_url: &Url) -> anyhow::Result<Audience> {
    let url = endpoint(index_url, "_/oidc/audience")?;
    let what = format!("asking {url} for the trusted-publishing audience");
    http.retry(&what, |_| {
        let url = url.clone();
        let what = what.clone();
        async move {
            let reply = http
                .send_text(&what, http.no_redirect.get(url.clone()))
                .await?;
            refuse_redirect(&what, &url, &reply)?;
            match reply.status {
                StatusCode::FORBIDDEN => return Ok(Audience::Disabled),
                StatusCode::NOT_FOUND => return Ok(Audience::Unsupported),
                s if !s.is_success() => {
                    return Err(Failure::Permanent(anyhow!("{what}: HTTP {s}")));
                }
                _ => {}
            }
            let body = reply.text;
            #[derive(Deserialize)]
            struct Answer {
                audience: String,
            }
            serde_json::from_str::<Answer>(&body)
                .map(|a| Audience::Supported(a.audience))
                .map_err(|_| {
                    Failure::transient(format!("{what}: not JSON{}", http::snippet(&body)))
                })
        }
    })
    .await
}

/// A minted upload token.
pub struct Minted {
    pub token: Secret,
    pub expires: Option<u64>,
    /// What the ID token's claims say that the user should know (a reusable workflow).
    pub notices: Vec<Notice>,
    /// The trusted publisher that matched the job: a project that refuses the token lacks it.
    pub publisher: Publisher,
}

/// A trusted publisher's settings as PyPI's form asks for them (GitHub tab), read from the
/// job's ID-token claims; every value already made inert for a log line.
#[derive(Clone, Debug)]
pub struct Publisher {
    pub owner: String,
    pub repo: String,
    pub workflow: String,
    pub environment: String,
}

impl Publisher {
    fn from_claims(claims: &serde_json::Map<String, Value>) -> Publisher {
        let repository = claim(claims, "repository").unwrap_or("OWNER/REPO");
        let (owner, repo) = repository.split_once('/').unwrap_or(("OWNER", "REPO"));
        let owner = claim(claims, "repository_owner").unwrap_or(owner);
        let workflow = claim(claims, "job_workflow_ref")
            .and_then(workflow_file)
            .unwrap_or("publish.yml");
        let environment =
            claim(claims, "environment").unwrap_or("(leave empty: this job has no environment)");
        Publisher {
            owner: shown(owner).to_string(),
            repo: shown(repo).to_string(),
            workflow: shown(workflow).to_string(),
            environment: shown(environment).to_string(),
        }
    }

    /// The settings on one line, for a file's error.
    pub fn one_line(&self) -> String {
        format!(
            "Owner {}, Repository name {}, Workflow name {}, Environment name {}",
            self.owner, self.repo, self.workflow, self.environment
        )
    }

    /// Where the publisher is added to `project` (or, for a new project, a pending one).
    pub fn register_at(index_url: &Url, project: &str) -> String {
        let index = index_url.as_str().trim_end_matches('/');
        let p = shown(project);
        format!(
            "{index}/manage/project/{p}/settings/publishing/ (a project that does not exist \
             yet needs a pending publisher: {index}/manage/account/publishing/)"
        )
    }
}

/// Where to mint, and where a refusal's explanation points: the project's name.
pub struct MintContext<'a> {
    pub target: &'a MintTarget,
    pub project: Option<&'a str>,
}

/// Discover the audience, then mint, asking for a fresh ID token on every attempt.
pub async fn mint(
    http: &Http,
    runner: &RunnerOidc,
    ctx: &MintContext<'_>,
) -> Result<Minted, MintError> {
    let index_url = ctx.target.index_url();
    let audience = match audience(http, index_url).await? {
        Audience::Supported(a) => a,
        Audience::Disabled => {
            return Err(anyhow!(
                "trusted publishing is disabled on this index ({} answered 403 to \
                 /_/oidc/audience): use an API token, or ask the index's administrators",
                index_url
            )
            .into())
        }
        Audience::Unsupported => {
            return Err(anyhow!(
                "this index does not support trusted publishing ({} answered 404 to \
                 /_/oidc/audience): use an API token (--password, the `password` input or \
                 PYPI_API_TOKEN)",
                index_url
            )
            .into())
        }
    };
    check_audience(ctx.target, &audience)?;
    let url = endpoint(index_url, "_/oidc/mint-token")?;
    let what = format!("exchanging the ID token at {url}");
    // A refusal is an answer, not a failed attempt: it leaves the retry loop as a value.
    let answer = http
        .retry(&what, |_| {
            let url = url.clone();
            let what = what.clone();
            let audience = audience.clone();
            async move {
                let jwt = runner
                    .id_token(http, &audience)
                    .await
                    .map_err(Failure::Permanent)?;
                let claims = decode_claims(jwt.expose());
                let request = http
                    .no_redirect
                    .post(url.clone())
                    .json(&serde_json::json!({ "token": jwt.expose() }));
                let reply = http.send_text(&what, request).await?;
                refuse_redirect(&what, &url, &reply)?;
                let status = reply.status;
                let json = reply.json_value(&what)?;
                if !status.is_success() {
                    let mut explanation = explain_refusal(status, &json, &claims, ctx);
                    for n in claims_notices(&claims) {
                        explanation.push_str(&format!("\n{}: {}\n", n.title, n.message));
                    }
                    return Ok(Err(MintError::Refused {
                        status,
                        explanation,
                    }));
                }
                let Some(token) = json.get("token").and_then(Value::as_str) else {
                    return Err(Failure::Permanent(anyhow!(
                        "{what}: the answer has no token"
                    )));
                };
                // Checked before it is masked: a mask of an empty, multi-line or huge string
                // would blank the log or be cut by the runner, and such a token is no token.
                check_token_shape(token)
                    .map_err(|why| Failure::Permanent(anyhow!("{what}: {why}")))?;
                reporting::add_mask(token);
                Ok(Ok(Minted {
                    token: Secret::new(token),
                    expires: json.get("expires").and_then(Value::as_u64),
                    notices: claims_notices(&claims),
                    publisher: Publisher::from_claims(&claims),
                }))
            }
        })
        .await?;
    answer
}

/// The longest minted token accepted. Warehouse's tokens have no fixed length (caveats can
/// be added), but one that long would not fit the Authorization header front-end servers
/// accept (nginx takes 8 KiB per header line by default).
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A minted token is a PyPI API token: `pypi-` and a serialized macaroon in URL-safe base64
/// (Warehouse's `f"pypi-{macaroon.serialize()}"`). Why it is not one, never echoing it.
fn check_token_shape(token: &str) -> Result<(), String> {
    const WANT: &str = "a PyPI token is `pypi-` followed by URL-safe base64";
    let Some(body) = token.strip_prefix("pypi-") else {
        return Err(format!(
            "the minted token does not start with `pypi-` ({} characters); {WANT}",
            token.chars().count()
        ));
    };
    if token.len() > MAX_TOKEN_LEN {
        return Err(format!(
            "the minted token is {} bytes long, over the {MAX_TOKEN_LEN} bytes a token can be",
            token.len()
        ));
    }
    let unpadded = body.trim_end_matches('=');
    if unpadded.is_empty() || body.len() - unpadded.len() > 2 {
        return Err(format!(
            "the minted token has no macaroon after `pypi-`; {WANT}"
        ));
    }
    if let Some(at) = unpadded
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(format!(
            "the minted token has a character that is not URL-safe base64 at position {}; \
             {WANT}",
            at + "pypi-".len()
        ));
    }
    Ok(())
}

/// The JWT's claims, decoded without verification (only to explain a refusal; the index does
/// the verifying). Never returns the token itself.
pub fn decode_claims(jwt: &str) -> serde_json::Map<String, Value> {
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .unwrap_or_default();
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

fn claim<'a>(claims: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    claims
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// What the claims say that the user should know before a refusal could tell them.
fn claims_notices(claims: &serde_json::Map<String, Value>) -> Vec<Notice> {
    let mut notices = Vec::new();
    if let (Some(w), Some(j)) = (
        claim(claims, "workflow_ref"),
        claim(claims, "job_workflow_ref"),
    ) {
        if w != j {
            notices.push(Notice::warning(
                "Reusable workflow",
                format!(
                    "this job runs in the reusable workflow {}, called from {}. PyPI does not \
                     accept a reusable workflow as the trusted publisher's workflow: run the \
                     publish step in the calling workflow's own job",
                    shown(j),
                    shown(w)
                ),
            ));
        }
    }
    notices
}

/// The workflow file name from `OWNER/REPO/.github/workflows/FILE@REF`.
fn workflow_file(job_workflow_ref: &str) -> Option<&str> {
    let path = job_workflow_ref.split('@').next()?;
    path.rsplit('/').next().filter(|f| !f.is_empty())
}

fn explain_refusal(
    status: StatusCode,
    body: &Value,
    claims: &serde_json::Map<String, Value>,
    ctx: &MintContext<'_>,
) -> String {
    let mut out = format!("The index refused to mint an upload token (HTTP {status}).\n");
    if let Some(msg) = body.get("message").and_then(Value::as_str) {
        out.push_str(&format!("Message: {}\n", shown(msg)));
    }
    let errors = body
        .get("errors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let codes: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.get("code").and_then(Value::as_str))
        .collect();
    for e in &errors {
        let code = e.get("code").and_then(Value::as_str).unwrap_or("?");
        let desc = e.get("description").and_then(Value::as_str).unwrap_or("");
        out.push_str(&format!("  [{}] {}\n", shown(code), shown(desc)));
    }
    out.push_str("\nClaims of the ID token that was sent:\n");
    for key in SHOWN_CLAIMS {
        let v = match claims.get(*key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "(not set)".to_owned(),
            Some(other) => other.to_string(),
        };
        out.push_str(&format!("  {key:<20} {}\n", shown(v)));
    }
    if claim(claims, "event_name") == Some("pull_request_target") {
        out.push_str(
            "\nPyPI refuses tokens from `pull_request_target` workflows: publish from a \
             workflow triggered by `workflow_run`, `release` or `push`.\n",
        );
    }
    let Publisher {
        owner,
        repo,
        workflow,
        environment,
    } = Publisher::from_claims(claims);
    let index_url = ctx.target.index_url();
    let index = index_url.as_str().trim_end_matches('/');
    out.push_str(&format!(
        "\nA trusted publisher that matches this job (GitHub tab):\n  \
         Owner:             {owner}\n  \
         Repository name:   {repo}\n  \
         Workflow name:     {workflow}\n  \
         Environment name:  {environment}\n"
    ));
    match ctx.project {
        Some(p) => out.push_str(&format!(
            "Register it at {}.\n",
            Publisher::register_at(index_url, p)
        )),
        None => out.push_str(&format!(
            "Register it in the project's settings under Publishing on {index}.\n"
        )),
    }
    if codes.contains(&"invalid-reuse-token") {
        out.push_str("The ID token had been used before; every attempt requests a new one, so this points at a clock or replay problem on the runner.\n");
    }
    if codes.contains(&"invalid-token") {
        out.push_str(
            "The token itself was refused (signature, expiry or audience): check that \
             --repository-url points at the index you meant and that the runner's clock is right.\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_file_from_ref() {
        assert_eq!(
            workflow_file("octo/repo/.github/workflows/publish.yml@refs/heads/main"),
            Some("publish.yml")
        );
    }

    #[test]
    fn decodes_claims_without_verifying() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"repository":"octo/repo","environment":"pypi"}"#);
        let claims = decode_claims(&format!("e30.{payload}.sig"));
        assert_eq!(claim(&claims, "repository"), Some("octo/repo"));
        assert!(decode_claims("garbage").is_empty());
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn target(index: &str, upload: &str, named: Option<&str>) -> anyhow::Result<MintTarget> {
        MintTarget::new(&url(index), &url(upload), named)
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        for ok in [
            "https://pypi.org/",
            "https://index.example/",
            "http://localhost:8080/",
            "http://LOCALHOST/",
            "http://127.0.0.1:5000/",
            "http://127.8.9.10/",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(target(ok, ok, None).is_ok(), "{ok}");
            assert!(check_sigstore_transport(&url(ok), "Fulcio", "--fulcio-url").is_ok());
        }
        for refused in [
            "http://example.invalid/",
            "http://pypi.org/",
            "http://10.0.0.1/",
            "http://[::2]/",
            "http://localhost.example.com/",
            "http://127.0.0.1.nip.io/",
            "ftp://localhost/",
        ] {
            let err = target(refused, refused, None).unwrap_err().to_string();
            assert!(err.contains("https://"), "{refused}: {err}");
            let err = check_sigstore_transport(&url(refused), "Rekor", "--rekor-url")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("Rekor's https:// address in --rekor-url"),
                "{err}"
            );
        }
    }

    #[test]
    fn the_minted_token_goes_only_to_the_minting_index() {
        for (index, upload) in [
            ("https://pypi.org/", "https://upload.pypi.org/legacy/"),
            ("https://pypi.org/", "https://pypi.org/legacy/"),
            ("https://test.pypi.org/", "https://test.pypi.org/legacy/"),
            (
                "https://test.pypi.org/",
                "https://upload.test.pypi.org/legacy/",
            ),
            ("https://index.example/", "https://index.example/legacy/"),
            ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/legacy/"),
        ] {
            assert!(target(index, upload, None).is_ok(), "{index} {upload}");
        }
        for (index, upload, says) in [
            // PyPI's upload host over plain http: minted over https, then sent in clear.
            (
                "https://pypi.org/",
                "http://upload.pypi.org/legacy/",
                "plain http",
            ),
            (
                "https://pypi.org/",
                "https://evil.example/legacy/",
                "another origin",
            ),
            (
                "https://index.example/",
                "https://upload.pypi.org/legacy/",
                "another origin",
            ),
            (
                "https://test.pypi.org/",
                "https://upload.pypi.org/legacy/",
                "another origin",
            ),
            (
                "https://pypi.org/",
                "https://upload.test.pypi.org/legacy/",
                "another origin",
            ),
            (
                "https://index.example/",
                "https://index.example:8443/legacy/",
                "another origin",
            ),
            (
                "http://127.0.0.1:8000/",
                "http://127.0.0.1:8001/legacy/",
                "another origin",
            ),
        ] {
            let err = target(index, upload, None).unwrap_err().to_string();
            assert!(
                err.contains(says) && err.contains(upload),
                "{upload}: {err}"
            );
        }
    }

    #[test]
    fn the_audience_is_an_allowlist() {
        let ok = |index: &str, named: Option<&str>, served: &str| {
            let t = target(index, index, named).unwrap();
            check_audience(&t, served)
        };
        assert!(ok("https://pypi.org/", None, "pypi").is_ok());
        assert!(ok("https://pypi.org/", Some("pypi"), "pypi").is_ok());
        assert!(ok("https://test.pypi.org/", None, "testpypi").is_ok());
        assert!(ok(
            "https://index.example/",
            Some("index-example"),
            "index-example"
        )
        .is_ok());
        assert!(ok("http://127.0.0.1:8000/", Some("local"), "local").is_ok());
        // Any other index needs its audience named, and served as named.
        let err = ok("https://index.example/", None, "index-example")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`oidc-audience: \"index-example\"`"), "{err}");
        let err = ok("https://index.example/", Some("mine"), "theirs")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"theirs\"") && err.contains("\"mine\""),
            "{err}"
        );
        // PyPI and TestPyPI mint for their own audience only.
        let err = ok("https://pypi.org/", None, "other")
            .unwrap_err()
            .to_string();
        assert!(err.contains("mints only for \"pypi\""), "{err}");
        for (index, aud, service) in [
            ("http://127.0.0.1:8000/", "pypi", "PyPI"),
            ("https://pypi.org.evil.example/", "pypi", "PyPI"),
            ("https://pypi.org:8443/", "pypi", "PyPI"),
            ("https://test.pypi.org/", "pypi", "PyPI"),
            ("https://pypi.org/", "testpypi", "TestPyPI"),
            ("https://index.example/", "testpypi", "TestPyPI"),
            ("https://pypi.org/", "sigstore", "Sigstore"),
            ("https://index.example/", "npm:registry.npmjs.org", "npm"),
            ("https://index.example/", "crates.io", "crates.io"),
            ("https://index.example/", "rubygems.org", "RubyGems"),
            ("https://index.example/", "sts.amazonaws.com", "AWS"),
            ("https://index.example/", "api://AzureADTokenExchange", "Azure"),
            (
                "https://index.example/",
                "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/g",
                "Google Cloud",
            ),
            (
                "https://index.example/",
                "https://iam.googleapis.com/projects/1",
                "Google Cloud",
            ),
            ("https://index.example/", "https://github.com/octo", "GitHub"),
        ] {
            // Served, named or not: the denylist is the second check of the allowlist.
            let err = ok(index, None, aud).unwrap_err().to_string();
            assert!(
                err.contains(service) && err.contains(&format!("{aud:?}")),
                "{index} {aud}: {err}"
            );
            // Named for any index but its owner's: refused before anything is asked.
            let err = target(index, index, Some(aud)).unwrap_err().to_string();
            assert!(
                err.contains(service) && err.contains(&format!("{aud:?}")),
                "{index} named {aud}: {err}"
            );
        }
        let err = target("https://pypi.org/", "https://pypi.org/", Some("mine"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("remove oidc-audience"), "{err}");
    }

    #[test]
    fn a_served_audience_is_shown_inert_and_bounded() {
        let t = target("https://index.example/", "https://index.example/", None).unwrap();
        let hostile = format!("x\n::error::y{}", "z".repeat(10_000));
        let err = check_audience(&t, &hostile).unwrap_err().to_string();
        assert!(!err.contains("\n::error"), "{err}");
        assert!(err.len() < 2_000, "{}", err.len());
    }

    #[test]
    fn a_minted_token_is_shaped_like_a_pypi_token() {
        let body = "AgEIcHlwaS5vcmcCJGE0YjY3ZGM3LTM1ZTAtNDFkOC1hZjM3LWNmNjRjNDBlYmU0MAACKlsz";
        for ok in [
            format!("pypi-{body}"),
            format!("pypi-{body}=="),
            format!("pypi-{body}-_x"),
        ] {
            assert_eq!(check_token_shape(&ok), Ok(()), "{ok}");
        }
        let secret = "SECRETSECRETSECRET";
        for (bad, says) in [
            (String::new(), "does not start with `pypi-`"),
            (format!("{secret}{body}"), "does not start with `pypi-`"),
            ("pypi-".to_owned(), "no macaroon"),
            ("pypi-===".to_owned(), "no macaroon"),
            (format!("pypi-{secret}\n::warning::x"), "position 23"),
            (format!("pypi-{secret} {body}"), "position 23"),
            (format!("pypi-{secret}+/"), "position 23"),
            (format!("pypi-{}", "A".repeat(MAX_TOKEN_LEN)), "bytes long"),
        ] {
            let why = check_token_shape(&bad).unwrap_err();
            assert!(why.contains(says), "{bad:?}: {why}");
            assert!(!why.contains(secret), "{why}");
        }
    }
}
