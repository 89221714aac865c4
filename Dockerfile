# The container action's image: one static binary, CA certificates and an empty /tmp.
#
# Built for the architecture of the machine that builds it (amd64 and arm64 runners each build
# their own; release.yml joins them into one multi-arch image). Targets:
#   (default)  the action image, ENTRYPOINT `pypi-oidc-publish action`
#   binary     only the static binary, for `docker buildx build --target binary --output DIR .`

# Alpine's Rust toolchain targets musl natively, so the release binary is static without
# cross tools. Pinned by the digest of the multi-arch index of `rust:1-alpine`, so a tag moved
# upstream (or a compromised registry) cannot change what builds the release; README
# "Bumping the base image" says how to move it.
FROM rust:1-alpine@sha256:a10e64dd139b7387337c7fbe8aca31b959b57b2fd4c8ae20a02cf1d6ea424dce AS build
RUN apk add --no-cache musl-dev ca-certificates binutils
WORKDIR /src

# Dependencies first, in a layer of their own that only changes with the manifests or the
# lockfile. The workspace's other member (testbed) only needs a manifest and stub targets for
# the workspace to load; it is never built here.
COPY Cargo.toml Cargo.lock ./
# Build settings (aws-lc's entropy source) that must hold for the release binary too.
COPY .cargo/ .cargo/
COPY testbed/Cargo.toml testbed/
RUN mkdir -p src testbed/src benches \
    && echo 'fn main() {}' > src/main.rs \
    && echo 'fn main() {}' > benches/hashing.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > testbed/src/main.rs \
    && touch testbed/src/lib.rs \
    && cargo build --release --locked -p pypi-oidc-publish \
    && rm -rf src benches

COPY src/ src/
# Cargo wants every target the manifest declares to exist, the benchmark included.
COPY benches/ benches/
# COPY keeps the files' own modification times, which can be older than the stub build above;
# touching them makes cargo rebuild the crate instead of reusing the stub.
RUN find src -name '*.rs' -exec touch {} + \
    && cargo build --release --locked -p pypi-oidc-publish \
    && bin=target/release/pypi-oidc-publish \
    && if readelf -lW "$bin" | grep -q 'program interpreter' \
        || readelf -dW "$bin" | grep -q '(NEEDED)'; then \
        echo "error: $bin is dynamically linked; the final image has no libc" >&2; exit 1; \
    fi \
    && "$bin" --version \
    && mkdir -p /rootfs/tmp /rootfs/etc/ssl/certs \
    && chmod 1777 /rootfs/tmp \
    && cp "$bin" /rootfs/pypi-oidc-publish \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt

FROM scratch AS binary
COPY --from=build /rootfs/pypi-oidc-publish /pypi-oidc-publish

FROM scratch
COPY --from=build /rootfs/ /
# The binary's TLS roots (rustls-native-certs) come from this file. A step can point
# SSL_CERT_FILE (or SSL_CERT_DIR) at its own bundle, e.g. under /github/workspace, for a
# private index; that bundle then replaces this one, so it must hold every root the job needs.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# The action runs the subcommand named by the `command` input with every flag from INPUT_*.
ENTRYPOINT ["/pypi-oidc-publish", "action"]
