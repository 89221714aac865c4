//! Independent verification with the reference implementation: sigstore-python and
//! pypi-attestations, driven by `tests/verify_attestation.py`.
use std::path::Path;
use std::process::Command;

use anyhow::Context as _;

/// The verification script (`testbed/tests/verify_attestation.py`).
pub const VERIFY_ATTESTATION_PY: &str = include_str!("../../tests/verify_attestation.py");

/// Verifies `attestation` (a PEP 740 attestation object, or a JSON array of them) for
/// `dist` against `trusted_root` with sigstore-python's `Verifier.verify_dsse` and
/// pypi-attestations' `Attestation.verify`, requiring the certificate's SAN `identity` and
/// OIDC issuer `issuer`; when `identity` is a GitHub workflow URL, also PyPI's trusted
/// publisher policy for that repository and workflow (with `issuer` standing in for GitHub's).
/// `python` must have `sigstore` and `pypi-attestations` installed (see
/// `scripts/python-tools.txt`). Blocks while Python runs; it does not contact any service.
pub fn verify_with_sigstore_python(
    python: &Path,
    trusted_root: &Path,
    attestation: &Path,
    dist: &Path,
    identity: &str,
    issuer: &str,
) -> anyhow::Result<()> {
    let output = Command::new(python)
        .arg("-c")
        .arg(VERIFY_ATTESTATION_PY)
        .arg(trusted_root)
        .arg(attestation)
        .arg(dist)
        .arg(identity)
        .arg(issuer)
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if output.status.success() {
        tracing::debug!(stdout = %String::from_utf8_lossy(&output.stdout), "sigstore-python verified");
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("ModuleNotFoundError") {
        anyhow::bail!(
            "{} lacks sigstore or pypi-attestations (install scripts/python-tools.txt into it): \
             {}",
            python.display(),
            stderr.trim()
        );
    }
    anyhow::bail!(
        "sigstore-python refused the attestation for {}: {}",
        dist.display(),
        stderr.trim()
    )
}
