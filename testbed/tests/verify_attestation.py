"""Verifies PEP 740 attestations with sigstore-python and pypi-attestations against a
custom sigstore trusted root (the local Fulcio/Rekor's), the way PyPI verifies them at
upload but without Sigstore's production TUF root.

usage: verify_attestation.py TRUSTED_ROOT_JSON ATTESTATION_JSON DIST IDENTITY ISSUER

ATTESTATION_JSON holds one attestation object or a JSON array of them (each is verified).
IDENTITY is the certificate's expected SAN (for GitHub Actions:
https://github.com/OWNER/REPO/.github/workflows/FILE@REF), ISSUER the expected OIDC issuer
(certificate extension 1.3.6.1.4.1.57264.1.1). When IDENTITY names a GitHub workflow, the
attestation must also satisfy pypi-attestations' GitHub trusted publisher policy for
OWNER/REPO and FILE, as PyPI applies it (source repository, and a build config URI naming
that workflow), with ISSUER in place of GitHub's issuer URL.

Exit status 0 and a JSON summary on stdout when every attestation verifies; 1 and the
reason on stderr otherwise.
"""

import json
import re
import sys
from pathlib import Path

import pypi_attestations._impl as pypi_impl
from pypi_attestations import Attestation, Distribution
from sigstore.dsse import Envelope
from sigstore.models import TrustedRoot
from sigstore.verify import Verifier, policy


def main(argv: list[str]) -> int:
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    root_path, attestation_path, dist_path, identity, issuer = argv[1:]
    verifier = Verifier(trusted_root=TrustedRoot.from_file(root_path))
    identity_policy = policy.Identity(identity=identity, issuer=issuer)
    dist = Distribution.from_file(Path(dist_path))

    raw = json.loads(Path(attestation_path).read_text())
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        print("no attestation to verify", file=sys.stderr)
        return 1

    # pypi-attestations always builds Sigstore's production verifier; hand it ours so its own
    # checks (subject name and digest, predicate type) run against the custom root.
    pypi_impl.Verifier.production = staticmethod(lambda offline=False: verifier)
    pypi_impl.Verifier.staging = staticmethod(lambda offline=False: verifier)

    checks = [identity_policy]
    workflow = re.fullmatch(
        r"https://github\.com/([^/]+/[^/]+)/\.github/workflows/([^@/]+)@.+", identity
    )
    if workflow:
        repository, filename = workflow.groups()
        publisher_policy = pypi_impl._GitHubTrustedPublisherPolicy(repository, filename)
        # The local issuer stands in for https://token.actions.githubusercontent.com.
        publisher_policy._subpolicy = policy.AllOf(
            [
                policy.OIDCIssuerV2(issuer),
                policy.OIDCSourceRepositoryURI(f"https://github.com/{repository}"),
            ]
        )
        checks.append(publisher_policy)

    results = []
    for item in items:
        attestation = Attestation.model_validate(item)
        try:
            # 1. sigstore-python alone: chain, SCT, Rekor entry, signature, identity.
            payload_type, payload = verifier.verify_dsse(
                attestation.to_bundle(), identity_policy
            )
            if payload_type != Envelope._TYPE:
                raise ValueError(f"unexpected DSSE payload type {payload_type}")
            # 2. pypi-attestations' PEP 740 checks on top, with each identity policy.
            for check in checks:
                predicate_type, _ = attestation.verify(check, dist)
        except Exception as exc:  # noqa: BLE001 - report any failure as the reason
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        results.append(
            {
                "predicate_type": predicate_type,
                "subject": json.loads(payload)["subject"][0]["name"],
            }
        )
    print(json.dumps({"verified": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
