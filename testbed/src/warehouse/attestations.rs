//! PEP 740 attestations at upload, as PyPI checks them: Warehouse's `IntegrityService`
//! (`warehouse/attestations/services.py`) around pypi-attestations' `Attestation.verify`
//! with the trusted publisher's identity, and the integrity API that serves the result
//! (`GET /integrity/{project}/{version}/{filename}/provenance`).
//!
//! Without `WarehouseConfig::sigstore_trust` the index only checks that the field is a JSON
//! array uploaded with a trusted publishing token, and stores it unverified.
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use x509_cert::Certificate;

use super::names::{canonicalize_name, canonicalize_version, parse_sdist_filename};
use super::names::{parse_version, parse_wheel_filename, py_repr};
use super::pyramid::{acceptable_offers, HttpException};
use super::state::{Credential, GitHubIdentity};
use super::{pyjson, simple, Shared};
use crate::sigstore::verify::{self, der_utf8, extension, fulcio_oids, DsseBundle, Failure};
use crate::sigstore::TrustRoot;

const PREFIX: &str = "Invalid attestations supplied during upload: ";
const PYPI_PUBLISH_V1: &str = "https://docs.pypi.org/attestations/publish/v1";
const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// pypi-attestations' `AttestationType`, which is also Warehouse's supported set.
const KNOWN_TYPES: [&str; 2] = [SLSA_PROVENANCE_V1, PYPI_PUBLISH_V1];
const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The issuer PyPI expects when none is configured (GitHub Actions').
const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";
const PYDANTIC_MORE: &str = "    For further information visit https://errors.pydantic.dev/2.11/v";

fn refuse(reason: impl AsRef<str>) -> HttpException {
    HttpException::with_message(400, format!("{PREFIX}{}", reason.as_ref()))
}

/// One well-formed attestation (pydantic's view of it).
struct Attestation {
    certificate: Vec<u8>,
    transparency_entries: Vec<Value>,
    statement: Vec<u8>,
    signature: Vec<u8>,
}

impl Attestation {
    /// `model_dump(mode="json")`.
    fn dump(&self) -> Value {
        let b64 = |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b);
        json!({
            "version": 1,
            "verification_material": {
                "certificate": b64(&self.certificate),
                "transparency_entries": self.transparency_entries,
            },
            "envelope": {"statement": b64(&self.statement), "signature": b64(&self.signature)},
        })
    }
}

/// Python's `repr()` of a JSON value as `json.loads` would give it.
fn py_value(v: &Value) -> String {
    match v {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_repr(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(k), py_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// pydantic-core's `input_value` display: long reprs keep their first 25 and last 24
/// characters.
fn input_value(v: &Value) -> String {
    let repr = py_value(v);
    let chars: Vec<char> = repr.chars().collect();
    if chars.len() <= 50 {
        return repr;
    }
    let head: String = chars[..25].iter().collect();
    let tail: String = chars[chars.len() - 24..].iter().collect();
    format!("{head}...{tail}")
}

fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Collects pydantic validation errors for `title` and renders them as pydantic does.
struct Errors {
    title: &'static str,
    lines: Vec<String>,
}

impl Errors {
    fn new(title: &'static str) -> Self {
        Self {
            title,
            lines: Vec::new(),
        }
    }

    fn add(&mut self, loc: &str, msg: &str, kind: &str, input: &Value) {
        let mut line = String::new();
        if !loc.is_empty() {
            line.push_str(loc);
            line.push('\n');
        }
        line.push_str(&format!(
            "  {msg} [type={kind}, input_value={}, input_type={}]\n{PYDANTIC_MORE}/{kind}",
            input_value(input),
            py_type(input)
        ));
        self.lines.push(line);
    }

    fn finish(self) -> Result<(), String> {
        if self.lines.is_empty() {
            return Ok(());
        }
        let n = self.lines.len();
        let noun = if n == 1 { "error" } else { "errors" };
        Err(format!(
            "{n} validation {noun} for {}\n{}",
            self.title,
            self.lines.join("\n")
        ))
    }
}

/// A required sub-object; records the error and yields `None` when it is missing or wrong.
fn object<'a>(
    errors: &mut Errors,
    parent: &'a Map<String, Value>,
    loc: &str,
    key: &str,
    model: &str,
) -> Option<&'a Map<String, Value>> {
    let whole = Value::Object(parent.clone());
    match parent.get(key) {
        None => {
            errors.add(&format!("{loc}{key}"), "Field required", "missing", &whole);
            None
        }
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            errors.add(
                &format!("{loc}{key}"),
                &format!("Input should be a valid dictionary or instance of {model}"),
                "model_type",
                other,
            );
            None
        }
    }
}

/// A `Base64Bytes` field.
fn base64_field(
    errors: &mut Errors,
    parent: &Map<String, Value>,
    loc: &str,
    key: &str,
) -> Option<Vec<u8>> {
    let whole = Value::Object(parent.clone());
    match parent.get(key) {
        None => {
            errors.add(&format!("{loc}{key}"), "Field required", "missing", &whole);
            None
        }
        Some(Value::String(s)) => match crate::sigstore::verify::b64_decode_strict(s) {
            Some(b) => Some(b),
            None => {
                errors.add(
                    &format!("{loc}{key}"),
                    "Base64 decoding error: 'Incorrect padding'",
                    "base64_decode",
                    &Value::String(s.clone()),
                );
                None
            }
        },
        Some(other) => {
            errors.add(
                &format!("{loc}{key}"),
                "Input should be a valid bytes",
                "bytes_type",
                other,
            );
            None
        }
    }
}

/// `TypeAdapter(list[Attestation]).validate_json(...)`.
fn parse_list(raw: &str) -> Result<Vec<Attestation>, String> {
    let mut errors = Errors::new("list[Attestation]");
    let value: Value = match serde_json::from_str(raw) {
        Ok(v) => v,
        Err(e) => {
            errors.add(
                "",
                &format!("Invalid JSON: {e}"),
                "json_invalid",
                &Value::String(raw.to_owned()),
            );
            return errors.finish().map(|()| Vec::new());
        }
    };
    let Value::Array(items) = &value else {
        errors.add("", "Input should be a valid list", "list_type", &value);
        return errors.finish().map(|()| Vec::new());
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let loc = format!("{i}.");
        let Value::Object(item) = item else {
            errors.add(
                &format!("{i}"),
                "Input should be a valid dictionary or instance of Attestation",
                "model_type",
                item,
            );
            continue;
        };
        match item.get("version") {
            Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
            Some(other) => errors.add(
                &format!("{loc}version"),
                "Input should be 1",
                "literal_error",
                other,
            ),
            None => errors.add(
                &format!("{loc}version"),
                "Field required",
                "missing",
                &Value::Object(item.clone()),
            ),
        }
        let mut certificate = None;
        let mut entries = None;
        if let Some(vm) = object(
            &mut errors,
            item,
            &loc,
            "verification_material",
            "VerificationMaterial",
        ) {
            let vloc = format!("{loc}verification_material.");
            certificate = base64_field(&mut errors, vm, &vloc, "certificate");
            match vm.get("transparency_entries") {
                None => errors.add(
                    &format!("{vloc}transparency_entries"),
                    "Field required",
                    "missing",
                    &Value::Object(vm.clone()),
                ),
                Some(Value::Array(list)) if list.is_empty() => errors.add(
                    &format!("{vloc}transparency_entries"),
                    "List should have at least 1 item after validation, not 0",
                    "too_short",
                    &Value::Array(Vec::new()),
                ),
                Some(Value::Array(list)) => {
                    let mut ok = true;
                    for (j, e) in list.iter().enumerate() {
                        if !e.is_object() {
                            ok = false;
                            errors.add(
                                &format!("{vloc}transparency_entries.{j}"),
                                "Input should be a valid dictionary",
                                "dict_type",
                                e,
                            );
                        }
                    }
                    entries = ok.then(|| list.clone());
                }
                Some(other) => errors.add(
                    &format!("{vloc}transparency_entries"),
                    "Input should be a valid list",
                    "list_type",
                    other,
                ),
            }
        }
        let mut statement = None;
        let mut signature = None;
        if let Some(env) = object(&mut errors, item, &loc, "envelope", "Envelope") {
            let eloc = format!("{loc}envelope.");
            statement = base64_field(&mut errors, env, &eloc, "statement");
            signature = base64_field(&mut errors, env, &eloc, "signature");
        }
        if let (Some(certificate), Some(transparency_entries), Some(statement), Some(signature)) =
            (certificate, entries, statement, signature)
        {
            out.push(Attestation {
                certificate,
                transparency_entries,
                statement,
                signature,
            });
        }
    }
    errors.finish().map(|()| out)
}

/// Python's `repr()` of a `bytes` value.
fn py_bytes(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = format!("b{}", char::from(quote));
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b == quote => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(char::from(quote));
    out
}

fn oid_repr(oid: &x509_cert::der::oid::ObjectIdentifier) -> String {
    format!("<ObjectIdentifier(oid={oid}, name=Unknown OID)>")
}

/// sigstore-python's `_SingleX509ExtPolicyV2.verify` for one extension.
fn require_ext(
    cert: &Certificate,
    name: &str,
    oid: &x509_cert::der::oid::ObjectIdentifier,
    expected: &str,
) -> Result<(), Failure> {
    let Some((_, value)) = extension(cert, oid) else {
        return Err(Failure::Verification(format!(
            "Certificate does not contain {name} ({oid}) extension"
        )));
    };
    let got = der_utf8(&value)
        .ok_or_else(|| Failure::Other(format!("extension {oid} is not a DER UTF8String")))?;
    if got != expected {
        return Err(Failure::Verification(format!(
            "Certificate's {name} does not match (got {got}, expected {expected})"
        )));
    }
    Ok(())
}

/// pypi-attestations' `_GitHubTrustedPublisherPolicy`: the issuer, the source repository,
/// and a build config URI naming the publisher's workflow at the certificate's own ref or
/// commit.
fn github_policy(
    cert: &Certificate,
    issuer: &str,
    repository: &str,
    workflow: &str,
) -> Result<(), Failure> {
    require_ext(cert, "OIDCIssuerV2", &fulcio_oids::ISSUER_V2, issuer)?;
    require_ext(
        cert,
        "OIDCSourceRepositoryURI",
        &fulcio_oids::SOURCE_REPOSITORY_URI,
        &format!("https://github.com/{repository}"),
    )?;
    let oid = fulcio_oids::BUILD_CONFIG_URI;
    let (critical, value) = extension(cert, &oid)
        .ok_or_else(|| Failure::Other(format!("No {} extension was found", oid_repr(&oid))))?;
    let build_config_uri = der_utf8(&value)
        .ok_or_else(|| Failure::Other(format!("extension {oid} is not a DER UTF8String")))?;
    let suffixes: Vec<String> = [
        fulcio_oids::SOURCE_REPOSITORY_DIGEST,
        fulcio_oids::SOURCE_REPOSITORY_REF,
    ]
    .iter()
    .filter_map(|o| extension(cert, o))
    .filter_map(|(_, v)| der_utf8(&v))
    .collect();
    if suffixes.is_empty() {
        return Err(Failure::Verification(
            "Certificate must contain either Source Repository Digest or Source Repository Ref"
                .to_owned(),
        ));
    }
    let matches = suffixes.iter().any(|suffix| {
        build_config_uri
            == format!("https://github.com/{repository}/.github/workflows/{workflow}@{suffix}")
    });
    if matches {
        return Ok(());
    }
    let critical = if critical { "True" } else { "False" };
    Err(Failure::Verification(format!(
        "Certificate's Build Config URI (<Extension(oid={oid}, critical={critical}, \
         value=<UnrecognizedExtension(oid={oid}, value={value})>)>) does not match expected \
         Trusted Publisher ({workflow} @ {repository})",
        oid = oid_repr(&oid),
        value = py_bytes(&value)
    )))
}

/// What `packaging` parses a distribution filename into, for comparing two filenames.
#[derive(PartialEq, Eq, Debug)]
enum DistName {
    Sdist(String, String),
    Wheel {
        name: String,
        version: String,
        build: Option<(u64, String)>,
        tags: std::collections::BTreeSet<(String, String, String)>,
    },
}

/// pypi-attestations' `_check_dist_filename`.
fn parse_dist_name(filename: &str) -> Result<DistName, String> {
    if filename.ends_with(".whl") {
        let parsed = parse_wheel_filename(filename)?;
        let stem = filename.trim_end_matches(".whl");
        let parts: Vec<&str> = stem.split('-').collect();
        let build = (parts.len() == 6).then(|| {
            let digits: String = parts[2].chars().take_while(char::is_ascii_digit).collect();
            let rest = parts[2][digits.len()..].to_owned();
            (digits.parse().unwrap_or(0), rest)
        });
        let [py, abi, plat] = [
            parts[parts.len() - 3],
            parts[parts.len() - 2],
            parts[parts.len() - 1],
        ];
        let mut tags = std::collections::BTreeSet::new();
        for i in py.split('.') {
            for a in abi.split('.') {
                for p in plat.split('.') {
                    tags.insert((i.to_lowercase(), a.to_lowercase(), p.to_lowercase()));
                }
            }
        }
        Ok(DistName::Wheel {
            name: parsed.name,
            version: canonicalize_version(&parsed.version),
            build,
            tags,
        })
    } else if filename.ends_with(".tar.gz") || filename.ends_with(".zip") {
        let (name, version) = parse_sdist_filename(filename)?;
        Ok(DistName::Sdist(name, canonicalize_version(&version)))
    } else {
        Err(format!("unknown distribution format: {filename}"))
    }
}

/// pypi-attestations' checks of the verified statement against the uploaded file.
fn check_statement(payload: &[u8], filename: &str, sha256: &str) -> Result<String, String> {
    let invalid =
        |what: &str| format!("invalid statement: 1 validation error for _Statement\n{what}");
    let statement: Value =
        serde_json::from_slice(payload).map_err(|e| invalid(&format!("  Invalid JSON: {e}")))?;
    if statement.get("_type").and_then(Value::as_str) != Some(STATEMENT_V1) {
        return Err(invalid(&format!(
            "_type\n  Input should be '{STATEMENT_V1}' [type=literal_error]"
        )));
    }
    let subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("subject\n  List should have at least 1 item after validation"))?;
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("predicateType\n  Field required [type=missing]"))?;
    if !matches!(
        statement.get("predicate"),
        None | Some(Value::Null | Value::Object(_))
    ) {
        return Err(invalid("predicate\n  Input should be a valid dictionary"));
    }
    for s in subjects {
        let digest_ok = s
            .get("digest")
            .and_then(Value::as_object)
            .is_some_and(|d| d.values().all(Value::is_string));
        let name_ok = matches!(s.get("name"), None | Some(Value::Null | Value::String(_)));
        if !digest_ok || !name_ok {
            return Err(invalid("subject\n  Input should be a valid subject"));
        }
    }
    if subjects.len() != 1 {
        return Err("too many subjects in statement (must be exactly one)".to_owned());
    }
    let subject = &subjects[0];
    let name = subject
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or("invalid subject: missing name")?;
    let parsed = parse_dist_name(name).map_err(|e| format!("invalid subject: {e}"))?;
    if Ok(parsed) != parse_dist_name(filename) {
        return Err(format!(
            "subject does not match distribution name: {name} != {filename}"
        ));
    }
    if subject.pointer("/digest/sha256").and_then(Value::as_str) != Some(sha256) {
        return Err("subject does not match distribution digest".to_owned());
    }
    if !KNOWN_TYPES.contains(&predicate_type) {
        return Err(format!("unknown attestation type: {predicate_type}"));
    }
    Ok(predicate_type.to_owned())
}

/// `Attestation.verify(publisher, Distribution(name=filename, digest=sha256))`.
fn verify_one(
    trust: &TrustRoot,
    attestation: &Attestation,
    issuer: &str,
    publisher: &GitHubIdentity,
    filename: &str,
    sha256: &str,
) -> Result<String, HttpException> {
    let unknown = |e: String| {
        refuse(format!(
            "Unknown error while trying to verify included attestations: {e}"
        ))
    };
    let failed = |e: String| {
        refuse(format!(
            "Could not verify the uploaded artifact using the included attestation: \
             Verification failed: {e}"
        ))
    };
    if attestation.signature.is_empty() {
        return Err(unknown("envelope signature must be non-empty".to_owned()));
    }
    let repository = format!(
        "{}/{}",
        publisher.repository_owner, publisher.repository_name
    );
    let bundle = DsseBundle {
        certificate: &attestation.certificate,
        tlog_entry: &attestation.transparency_entries[0],
        payload: &attestation.statement,
        signature: &attestation.signature,
    };
    let policy =
        |cert: &Certificate| github_policy(cert, issuer, &repository, &publisher.workflow_filename);
    match verify::verify_dsse(trust, &bundle, &policy) {
        Ok(()) => {}
        Err(Failure::Verification(e)) => return Err(failed(e)),
        Err(Failure::Other(e)) => return Err(unknown(e)),
    }
    check_statement(&attestation.statement, filename, sha256).map_err(failed)
}

/// Checks the `attestations` field of an upload; `Ok(Some(provenance))` when they verified
/// (PyPI's provenance object, for the integrity API), `Ok(None)` when stored unverified.
pub(crate) fn check(
    shared: &Shared,
    credential: &Credential,
    raw: &str,
    filename: &str,
    sha256: &str,
) -> Result<Option<Value>, HttpException> {
    let Credential::Oidc { publisher_id, .. } = credential else {
        return Err(refuse(
            "Attestations are only supported when using Trusted Publishing",
        ));
    };
    let Some(trust) = &shared.config.sigstore_trust else {
        if !matches!(serde_json::from_str::<Value>(raw), Ok(Value::Array(_))) {
            return Err(refuse(
                "Error while decoding the included attestation: the attestations field must be \
                 a JSON array",
            ));
        }
        return Ok(None);
    };
    let Some(publisher) = shared
        .index
        .lock()
        .publisher(*publisher_id)
        .map(|p| p.identity.clone())
    else {
        return Err(HttpException::with_message(
            500,
            "the trusted publisher of this token no longer exists",
        ));
    };
    let attestations =
        parse_list(raw).map_err(|e| refuse(format!("Malformed attestations: {e}")))?;
    if attestations.is_empty() {
        return Err(refuse(
            "Malformed attestations: an empty attestation set is not permitted",
        ));
    }
    if attestations.len() > KNOWN_TYPES.len() {
        return Err(refuse(format!(
            "A maximum of {} attestations per file are supported",
            KNOWN_TYPES.len()
        )));
    }
    let issuer = shared
        .config
        .trusted_issuer
        .as_ref()
        .map_or(GITHUB_ACTIONS_ISSUER, |i| i.issuer.as_str());
    let mut seen: Vec<String> = Vec::new();
    for attestation in &attestations {
        let predicate_type = verify_one(trust, attestation, issuer, &publisher, filename, sha256)?;
        if seen.contains(&predicate_type) {
            return Err(refuse(format!(
                "Multiple attestations for the same file with the same predicate type \
                 ({predicate_type}) are not supported"
            )));
        }
        seen.push(predicate_type);
    }
    tracing::info!(
        filename,
        count = attestations.len(),
        "attestations verified"
    );
    let environment = (!publisher.environment.is_empty()).then_some(&publisher.environment);
    Ok(Some(json!({
        "version": 1,
        "attestation_bundles": [{
            "publisher": {
                "kind": "GitHub",
                "repository": format!("{}/{}", publisher.repository_owner, publisher.repository_name),
                "workflow": publisher.workflow_filename,
                "environment": environment,
            },
            "attestations": attestations.iter().map(Attestation::dump).collect::<Vec<_>>(),
        }]
    })))
}

/// Keeps a stored file's provenance for the integrity API (the first upload's wins).
pub(crate) fn remember(shared: &Shared, filename: &str, provenance: Value) {
    shared
        .provenance
        .lock()
        .entry(filename.to_owned())
        .or_insert(provenance);
}

const INTEGRITY_V1: &str = "application/vnd.pypi.integrity.v1+json";

/// `GET /integrity/{project}/{version}/{filename}/provenance` (`warehouse/api/integrity.py`).
pub(crate) async fn provenance(
    State(shared): State<Arc<Shared>>,
    Path((project, version, filename)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let exists = {
        let index = shared.index.lock();
        let canonical = parse_version(&version).map(|v| canonicalize_version(&v));
        index
            .project(&canonicalize_name(&project))
            .zip(canonical)
            .and_then(|(p, c)| p.release_by_canonical(&c))
            .is_some_and(|r| r.files.iter().any(|f| f.filename == filename))
    };
    if !exists {
        return simple::not_found().await;
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let Some(content_type) = acceptable_offers(accept, &[INTEGRITY_V1, "application/json"])
        .first()
        .copied()
    else {
        return pyjson::response(
            StatusCode::NOT_ACCEPTABLE,
            &json!({"message": "Request not acceptable"}),
            &[],
        );
    };
    let vary = ("vary", "Accept".to_owned());
    let Some(provenance) = shared.provenance.lock().get(&filename).cloned() else {
        return pyjson::response(
            StatusCode::NOT_FOUND,
            &json!({"message": format!("No provenance available for {filename}")}),
            &[vary],
        );
    };
    pyjson::response(
        StatusCode::OK,
        &provenance,
        &[
            ("content-type", content_type.to_owned()),
            vary,
            ("access-control-allow-origin", "*".to_owned()),
            (
                "access-control-allow-headers",
                "Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since"
                    .to_owned(),
            ),
            ("access-control-allow-methods", "GET".to_owned()),
            ("access-control-max-age", "86400".to_owned()),
            (
                "access-control-expose-headers",
                "X-PyPI-Last-Serial".to_owned(),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lists_read_like_pydantic() {
        let e = parse_list("[{\"version\": 2}]").err().unwrap();
        assert!(
            e.starts_with("3 validation errors for list[Attestation]\n0.version\n"),
            "{e}"
        );
        assert!(e.contains("Input should be 1 [type=literal_error, input_value=2, input_type=int]"));
        assert!(e.contains("0.verification_material\n  Field required [type=missing"));
        let e = parse_list("{}").err().unwrap();
        assert!(e.contains("Input should be a valid list [type=list_type, input_value={}"));
        assert!(parse_list("[]").unwrap().is_empty());
        let e = parse_list(
            "[{\"version\":1,\"verification_material\":{\"certificate\":\"QQ\",\
             \"transparency_entries\":[]},\"envelope\":{\"statement\":\"\",\"signature\":\"\"}}]",
        )
        .err()
        .unwrap();
        assert!(e.contains("0.verification_material.certificate\n  Base64 decoding error"));
        assert!(e.contains("transparency_entries\n  List should have at least 1 item"));
    }

    #[test]
    fn long_input_values_are_truncated() {
        let v = Value::String("x".repeat(80));
        assert_eq!(
            input_value(&v),
            format!("'{}...{}'", "x".repeat(24), "x".repeat(23))
        );
    }

    #[test]
    fn bytes_repr() {
        assert_eq!(py_bytes(b"\x0cMhttps://x"), "b'\\x0cMhttps://x'");
        assert_eq!(py_bytes(b"it's"), "b\"it's\"");
    }

    #[test]
    fn dist_names_compare_as_packaging_parses_them() {
        let a = parse_dist_name("Demo_Pkg-1.0-py3-none-any.whl").unwrap();
        assert_eq!(
            a,
            parse_dist_name("demo.pkg-1.0.0-py3-none-any.whl").unwrap()
        );
        assert_ne!(a, parse_dist_name("demo_pkg-1.0-py2-none-any.whl").unwrap());
        assert_ne!(
            a,
            parse_dist_name("demo_pkg-1.0-1-py3-none-any.whl").unwrap()
        );
        assert_eq!(
            parse_dist_name("demo-1.0-py2.py3-none-any.whl").unwrap(),
            parse_dist_name("demo-1.0-py3.py2-none-any.whl").unwrap()
        );
        assert_eq!(
            parse_dist_name("demo-1.0.tar.gz").unwrap(),
            parse_dist_name("Demo-1.0.zip").unwrap()
        );
        assert_eq!(
            parse_dist_name("demo-1.0.exe").err().unwrap(),
            "unknown distribution format: demo-1.0.exe"
        );
    }

    fn statement(name: &str, digest: &str, predicate_type: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "_type": STATEMENT_V1,
            "subject": [{"name": name, "digest": {"sha256": digest}}],
            "predicateType": predicate_type,
            "predicate": null
        }))
        .unwrap()
    }

    #[test]
    fn statement_checks() {
        let f = "demo-1.0-py3-none-any.whl";
        assert_eq!(
            check_statement(&statement(f, "ab", PYPI_PUBLISH_V1), f, "ab").unwrap(),
            PYPI_PUBLISH_V1
        );
        assert_eq!(
            check_statement(&statement(f, "ab", PYPI_PUBLISH_V1), f, "cd")
                .err()
                .unwrap(),
            "subject does not match distribution digest"
        );
        assert_eq!(
            check_statement(
                &statement("other-1.0.tar.gz", "ab", PYPI_PUBLISH_V1),
                f,
                "ab"
            )
            .err()
            .unwrap(),
            format!("subject does not match distribution name: other-1.0.tar.gz != {f}")
        );
        assert_eq!(
            check_statement(&statement(f, "ab", "https://example.com/x"), f, "ab")
                .err()
                .unwrap(),
            "unknown attestation type: https://example.com/x"
        );
        assert!(check_statement(b"{}", f, "ab")
            .err()
            .unwrap()
            .starts_with("invalid statement: "));
    }
}
