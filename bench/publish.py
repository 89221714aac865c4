#!/usr/bin/env python3
"""Benchmark: publish the same release through pypi-oidc-publish, `uv publish` and
`twine upload` to one local index that only reads the request body (so the index is not the
bottleneck), and compare with the floor: reading and hashing every file once.

Usage: bench/publish.py [--reps 5] [--wheels 8] [--wheel-mib 32] [--no-sdist]
                        [--latency-ms MS] [--upload-ms MS] [--upload-mib-per-s RATE]
                        [--tls] [--no-h2]
                        [--preset wide-far|tls|tls-h1|wide-far-tls|wide-far-tls-h1]
                        [--ours-args "..."] [--bin-dir DIR] [--no-build]
                        [--compare DIR]

Far-index mode: `--latency-ms` adds a round trip before every answer of the index, and
`--upload-ms` / `--upload-mib-per-s` the index's own work on each upload (Warehouse hashes and
stores a file before it answers). `--preset wide-far` is a wide release sent to a far index:
24 wheels of 4 MiB + sdist, 40 ms round trip, 250 ms + size / 40 MiB/s per upload.

TLS: `--tls` serves the index over HTTPS with a CA the testbed makes at start (written to a
PEM file), offering HTTP/2 through ALPN (`h2` first) unless `--no-h2`. Each tool trusts that
CA through its usual setting: ours (rustls-native-certs) and uv through `SSL_CERT_FILE`,
twine through `--cert`. The presets `tls` / `tls-h1` are the default release (8 x 32 MiB +
sdist) over HTTPS with and without HTTP/2, `wide-far-tls` / `wide-far-tls-h1` the far preset
over HTTPS. Over TLS, ours is also run against a plain-HTTP index with the same settings in
the same run ("ours, plain HTTP"), for the cost of TLS.

Modelled limit (far index): what no client can beat on that index, the way ours orders
uploads: the first wheel alone (a new release: concurrent first uploads would race to create
it), then every other wheel in flight at once, then the sdist alone, then the confirming read.
Each of those three phases costs one round trip plus the index's work on its largest file
(latency + upload-ms + size / rate), and the confirm one round trip:
    limit = sum over phases of (latency + upload_ms + max size in phase / rate) + latency
The client's own reading, hashing and sending overlap the index's waits and are left out, so
the limit is a little optimistic on a loaded machine.

Prints, per tool, the median wall time, the peak RSS (of the process and the children it
waited for), the median CPU time (user + system, the tool's own and its waited-for
children's: not the index's), and the ratios to the floor and to the faster peer. Not a test: numbers depend on
the machine; run it on a quiet one (the load average is printed beside the figures).
"""
import argparse
import concurrent.futures
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def run_measured(cmd, env=None):
    """Run cmd, return (wall seconds, peak RSS in MiB, CPU seconds).

    The peak is the process's own VmHWM, polled from /proc until it exits: wait4's ru_maxrss
    would start from this Python process's size, which a fork passes on to the child.
    """
    errfile = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errfile)
    peak_kib = 0
    status = None
    while status is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak_kib = max(peak_kib, int(line.split()[1]))
        except OSError:
            pass
        pid, st, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = st
            cpu = usage.ru_utime + usage.ru_stime
        else:
            time.sleep(0.002)
    wall = time.perf_counter() - start
    errfile.seek(0)
    stderr = errfile.read().decode(errors="replace")
    errfile.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}):\n{stderr}")
    return wall, peak_kib / 1024.0, cpu


def floor(files):
    """Read and hash (sha256 + blake2b-256) every file once, two files at a time."""

    def one(path):
        sha, blake = hashlib.sha256(), hashlib.blake2b(digest_size=32)
        with open(path, "rb", buffering=0) as f:
            while chunk := f.read(1 << 20):
                sha.update(chunk)
                blake.update(chunk)
        return sha.hexdigest()

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - start


def start_sink(testbed, flags, env_file):
    """Start `testbed serve --sink` with these flags; return (process, upload URL, token)."""
    server = subprocess.Popen([str(testbed), "serve", "--sink", *flags, "--env-file", str(env_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if env_file.exists():
            break
        time.sleep(0.05)
    else:
        server.terminate()
        sys.exit(f"the testbed did not write {env_file} within 10 s")
    conf = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    return server, conf["UPLOAD_URL"], conf["API_TOKEN"]


def modelled_limit(args, wheel_sizes, other_sizes):
    """Seconds no client can beat on this far index (the model in the docstring)."""
    latency, work = args.latency_ms / 1000, args.upload_ms / 1000
    rate = args.upload_mib_per_s * (1 << 20)

    def phase(sizes):
        if not sizes:
            return 0.0
        return latency + work + (max(sizes) / rate if rate else 0.0)

    wheels = sorted(wheel_sizes)
    first, rest = wheels[:1], wheels[1:]
    return phase(first) + phase(rest) + phase(other_sizes) + latency


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--wheels", type=int, default=8)
    ap.add_argument("--wheel-mib", type=int, default=32)
    ap.add_argument("--no-sdist", action="store_true")
    ap.add_argument("--tools", default="ours,uv,twine")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--upload-ms", type=int, default=0)
    ap.add_argument("--upload-mib-per-s", type=float, default=0.0)
    ap.add_argument("--tls", action="store_true", help="serve the index over HTTPS")
    ap.add_argument("--no-h2", action="store_true", help="with --tls: offer only HTTP/1.1 in ALPN")
    ap.add_argument("--preset", choices=["wide-far", "tls", "tls-h1", "wide-far-tls", "wide-far-tls-h1"])
    ap.add_argument("--ours-args", default="", help="extra arguments of pypi-oidc-publish publish")
    ap.add_argument("--bin-dir", type=Path, default=ROOT / "target" / "release",
                    help="where pypi-oidc-publish and testbed are (another build to compare)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries as they are")
    ap.add_argument("--compare", type=Path, metavar="DIR",
                    help="also run the pypi-oidc-publish in DIR (another build: before a change), "
                         "interleaved with the others in the same run, as 'ours, before'")
    args = ap.parse_args()
    preset = args.preset or ""
    if preset.startswith("wide-far"):
        args.wheels, args.wheel_mib, args.no_sdist = 24, 4, False
        args.latency_ms, args.upload_ms, args.upload_mib_per_s = 40, 250, 40.0
    if "tls" in preset:
        args.tls = True
        args.no_h2 = preset.endswith("-h1")
    if args.no_h2 and not args.tls:
        ap.error("--no-h2 needs --tls")

    if not args.no_build:
        subprocess.run(["cargo", "build", "--quiet", "--release", "--locked", "-p", "pypi-oidc-publish", "-p", "testbed"], cwd=ROOT, check=True)
    subprocess.run([str(ROOT / "scripts" / "python-tools")], check=True)
    ours = args.bin_dir / "pypi-oidc-publish"
    testbed = args.bin_dir / "testbed"

    work = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    servers = []
    try:
        dist = work / "dist"
        # Distinct wheels by Python tag (make-dists writes pure wheels; the names differ as a
        # compiled project's platform wheels do, which is all the index and the tools see).
        tags = [f"cp3{minor}" for minor in range(8, 8 + args.wheels)]
        for i, tag in enumerate(tags):
            cmd = [str(testbed), "make-dists", "--out", str(dist), "--python-tag", tag,
                   "--payload-bytes", str(args.wheel_mib << 20)]
            if i > 0 or args.no_sdist:
                cmd.append("--no-sdist")
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        files = sorted(str(p) for p in dist.iterdir())
        total = sum(os.path.getsize(f) for f in files)

        far = ["--latency-ms", str(args.latency_ms), "--upload-ms", str(args.upload_ms),
               "--upload-mib-per-s", str(args.upload_mib_per_s)]
        ca_file = work / "ca.pem"
        tls = ((["--tls-ca-file", str(ca_file)] + (["--no-h2"] if args.no_h2 else []))
               if args.tls else [])
        server, url, token = start_sink(testbed, far + tls, work / "env")
        servers.append(server)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ACTIONS_"))}
        if args.tls:
            # Only the testbed's CA: requests prefers REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from
            # the environment over twine's --cert, and rustls-native-certs adds SSL_CERT_DIR.
            for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_DIR"):
                env.pop(var, None)
            env["SSL_CERT_FILE"] = str(ca_file)

        commands = {
            "ours": [str(ours), "publish", "--repository-url", url, "--password", token,
                     "--confirm-timeout", "0", *args.ours_args.split(), str(dist)],
            "uv": [str(VENV_BIN / "uv"), "publish", "--publish-url", url, "--token", token,
                   "--no-attestations", *files] if shutil.which("uv", path=str(VENV_BIN)) else None,
            "twine": [str(VENV_BIN / "twine"), "upload", "--repository-url", url, "-u", "__token__",
                      "-p", token, "--non-interactive", "--disable-progress-bar",
                      *(["--cert", str(ca_file)] if args.tls else []), *files],
        }
        wanted = [t for t in args.tools.split(",") if commands.get(t)]
        if args.tls and "ours" in wanted:
            # The same files to a plain-HTTP index with the same settings: TLS's own cost.
            plain, plain_url, plain_token = start_sink(testbed, far, work / "env-plain")
            servers.append(plain)
            commands["ours, plain HTTP"] = [str(ours), "publish", "--repository-url", plain_url,
                                            "--password", plain_token, "--confirm-timeout", "0",
                                            *args.ours_args.split(), str(dist)]
            wanted.insert(wanted.index("ours") + 1, "ours, plain HTTP")
        if args.compare and "ours" in wanted:
            commands["ours, before"] = [str(args.compare / "pypi-oidc-publish"), *commands["ours"][1:]]
            wanted.insert(wanted.index("ours") + 1, "ours, before")
        # uv publish learnt --no-attestations recently; drop it if this uv does not know it.
        if "uv" in wanted:
            probe = subprocess.run(commands["uv"][:2] + ["--help"], capture_output=True, text=True)
            if "--no-attestations" not in probe.stdout:
                commands["uv"].remove("--no-attestations")

        results = {t: [] for t in wanted}
        floors, rust_floors = [], []
        # The same reading and hashing in Rust: `--dry-run --print-hash` reads and hashes
        # every file once, in parallel, after the checks, and uploads nothing.
        rust_floor_cmd = [str(ours), "publish", "--dry-run", "--print-hash", "--repository-url", url,
                          "--confirm-timeout", "0", str(dist)]
        for rep in range(args.reps):
            floors.append(floor(files))
            rust_floors.append(run_measured(rust_floor_cmd, env)[0])
            for tool in wanted:
                results[tool].append(run_measured(commands[tool], env))
        fl = statistics.median(floors)
        index = "an index that answers at once"
        far_index = bool(args.latency_ms or args.upload_ms or args.upload_mib_per_s)
        if far_index:
            index = (f"a far index ({args.latency_ms} ms round trip; {args.upload_ms} ms + size / "
                     f"{args.upload_mib_per_s:g} MiB/s per upload)")
        if args.tls:
            index += ", over HTTPS " + ("(HTTP/1.1 only)" if args.no_h2 else "(h2 offered)")
        load = os.getloadavg()
        print(f"\n{len(files)} files, {total / (1 << 20):.0f} MiB in all, to {index}; {args.reps} runs each; "
              f"median wall time, peak RSS; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
        print(f"| tool | wall (s) | x floor | peak RSS (MiB) | CPU (s) |")
        print(f"|---|---:|---:|---:|---:|")
        print(f"| floor: read + sha256 + blake2b once (Python hashlib, 2 threads) | {fl:.2f} | 1.00 | | |")
        rfl = statistics.median(rust_floors)
        print(f"| floor in Rust: `pypi-oidc-publish --dry-run --print-hash` (checks + hashes, no upload) | {rfl:.2f} | {rfl / fl:.2f} | | |")
        limit = modelled_limit(args, [os.path.getsize(f) for f in files if f.endswith(".whl")],
                               [os.path.getsize(f) for f in files if not f.endswith(".whl")])
        if far_index:
            print(f"| modelled limit of this index (see the docstring) | {limit:.2f} | {limit / fl:.2f} | | |")
        med, cpu = {}, {}
        for tool in wanted:
            wall = statistics.median(w for w, _, _ in results[tool])
            rss = max(r for _, r, _ in results[tool])
            cpu[tool] = statistics.median(c for _, _, c in results[tool])
            med[tool] = wall
            print(f"| {tool} | {wall:.2f} | {wall / fl:.2f} | {rss:.1f} | {cpu[tool]:.2f} |")
        peers = [med[t] for t in ("uv", "twine") if t in med]
        if "ours" in med and peers:
            print(f"\nfaster peer / ours: {min(peers) / med['ours']:.2f}x")
        if "ours" in med and far_index:
            print(f"ours / modelled limit: {med['ours'] / limit:.2f}x")
        if "ours, before" in med:
            print(f"ours before / ours: {med['ours, before'] / med['ours']:.2f}x")
        if "ours, plain HTTP" in med:
            print(f"ours over HTTPS / ours over plain HTTP: {med['ours'] / med['ours, plain HTTP']:.2f}x "
                  f"(wall), {cpu['ours'] / cpu['ours, plain HTTP']:.2f}x (ours' own CPU)")
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
