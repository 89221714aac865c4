//! `testbed`: run the local stand-ins for PyPI and GitHub outside the tests (the demo, the
//! benchmarks, the container smoke run), and make example distributions.
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use testbed::dists::{self, Project};
use testbed::github::{zip_of, GitHub, GitHubConfig, JobClaims, WorkflowRun};
use testbed::sigstore::{Sigstore, SigstoreConfig};
use testbed::tls::ServerTls;
use testbed::warehouse::{FarIndex, TrustedIssuer, TrustedPublisher, Warehouse, WarehouseConfig};

#[derive(Parser)]
#[command(
    name = "testbed",
    about = "Local stand-ins for PyPI (Warehouse) and GitHub Actions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a Warehouse-compatible index and GitHub's OIDC/REST stand-ins until stopped.
    Serve {
        /// Port of the index (0: any free port).
        #[arg(long, default_value_t = 0)]
        index_port: u16,
        /// Port of the GitHub API stand-in (0: any free port).
        #[arg(long, default_value_t = 0)]
        github_port: u16,
        /// Project to create, with this repository's publish workflow as its trusted
        /// publisher and an API token scoped to it.
        #[arg(long, default_value = "demo-package")]
        project: String,
        /// Write the environment a publish job would see (KEY=VALUE lines) to this file.
        #[arg(long)]
        env_file: Option<PathBuf>,
        /// Benchmark mode: the index reads every upload body and stores nothing.
        #[arg(long)]
        sink: bool,
        /// Far-index emulation: milliseconds added before every answer (a round trip).
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Far-index emulation: milliseconds an upload's answer additionally waits after its
        /// body is read (Warehouse hashes and stores a file before it answers).
        #[arg(long, default_value_t = 0)]
        upload_ms: u64,
        /// Far-index emulation: the index's processing rate of an upload's bytes, in MiB/s,
        /// added to --upload-ms (0: none).
        #[arg(long, default_value_t = 0.0)]
        upload_mib_per_s: f64,
        /// Serve the index over HTTPS, with a CA made at start whose certificate (PEM) is
        /// written to this file for the clients to trust.
        #[arg(long)]
        tls_ca_file: Option<PathBuf>,
        /// With --tls-ca-file: offer only HTTP/1.1 in ALPN (by default `h2` is offered first).
        #[arg(long, requires = "tls_ca_file")]
        no_h2: bool,
        /// A build run: a successful `push` run of `.github/workflows/build.yml` in this
        /// repository whose artifact `dist` holds the files of this folder, as a build job's
        /// upload-artifact step leaves it. Its id and commit go to BUILD_RUN_ID and
        /// BUILD_HEAD_SHA.
        #[arg(long)]
        build_run: Option<PathBuf>,
        /// With --build-run: the release tag, pointing at the run's commit.
        #[arg(long, requires = "build_run")]
        build_tag: Option<String>,
    },
    /// Write a real wheel and sdist of an example project.
    MakeDists {
        #[arg(long, default_value = "demo-package")]
        name: String,
        #[arg(long, default_value = "1.0.0")]
        version: String,
        #[arg(long, default_value = "dist")]
        out: PathBuf,
        /// Also pad the wheel with this many bytes of incompressible data (benchmarks).
        #[arg(long, default_value_t = 0)]
        payload_bytes: u64,
        /// Python tag of the wheel.
        #[arg(long, default_value = "py3")]
        python_tag: String,
        /// Skip the sdist.
        #[arg(long)]
        no_sdist: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            index_port,
            github_port,
            project,
            env_file,
            sink,
            latency_ms,
            upload_ms,
            upload_mib_per_s,
            tls_ca_file,
            no_h2,
            build_run,
            build_tag,
        } => {
            let far = FarIndex {
                latency: Duration::from_millis(latency_ms),
                upload_time: Duration::from_millis(upload_ms),
                upload_bytes_per_sec: (upload_mib_per_s > 0.0)
                    .then_some((upload_mib_per_s * (1u64 << 20) as f64) as u64),
            };
            let tls = match tls_ca_file {
                Some(path) => Some(index_tls(&path, !no_h2)?),
                None => None,
            };
            let index = IndexMode { sink, far, tls };
            let build = build_run.map(|dir| BuildRun {
                dir,
                tag: build_tag,
            });
            serve(index_port, github_port, &project, env_file, index, build).await
        }
        Command::MakeDists {
            name,
            version,
            out,
            payload_bytes,
            python_tag,
            no_sdist,
        } => {
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let mut project = Project::new(&name, &version);
            if payload_bytes > 0 {
                let path = format!("{}/payload.bin", project.import_name());
                project = project.with_payload(&path, payload_bytes);
            }
            println!(
                "{}",
                dists::write_wheel(&project, &out, &python_tag)?.display()
            );
            if !no_sdist {
                println!("{}", dists::write_sdist(&project, &out)?.display());
            }
            Ok(())
        }
    }
}

/// How the index serves: the benchmarks' settings.
struct IndexMode {
    sink: bool,
    far: FarIndex,
    tls: Option<ServerTls>,
}

/// A TLS setup for the index, its CA written to `ca_file` (whole, then renamed).
fn index_tls(ca_file: &Path, http2: bool) -> anyhow::Result<ServerTls> {
    let tls = ServerTls::self_signed(http2)?;
    write_whole(ca_file, tls.ca_pem())?;
    Ok(tls)
}

/// Written whole and renamed, so a script polling for the file never reads half.
fn write_whole(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// `serve --build-run DIR [--build-tag TAG]`.
struct BuildRun {
    dir: PathBuf,
    tag: Option<String>,
}

/// Adds the build run and its `dist` artifact (the folder's files, zipped as
/// actions/upload-artifact does); returns the variables that name it.
fn add_build_run(github: &GitHub, build: &BuildRun) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&build.dir)
        .with_context(|| format!("cannot read --build-run {}", build.dir.display()))?
    {
        let path = entry?.path();
        if path.is_file() {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            files.push((
                name,
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
            ));
        }
    }
    anyhow::ensure!(
        !files.is_empty(),
        "--build-run {} holds no files",
        build.dir.display()
    );
    files.sort();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let run = WorkflowRun::push_success(github.config());
    let head_sha = run.head_sha.clone();
    let id = github.add_run(run);
    github.add_artifact(id, "dist", zip_of(&refs));
    if let Some(tag) = &build.tag {
        github.add_tag(tag, &head_sha);
    }
    Ok(vec![
        ("BUILD_RUN_ID", id.to_string()),
        ("BUILD_HEAD_SHA", head_sha),
    ])
}

async fn serve(
    index_port: u16,
    github_port: u16,
    project: &str,
    env_file: Option<PathBuf>,
    index: IndexMode,
    build: Option<BuildRun>,
) -> anyhow::Result<()> {
    let gh_config = GitHubConfig::default();
    let any = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let github = GitHub::start_on(gh_config.clone(), any(github_port), any(0)).await?;
    // A local Sigstore (Fulcio + Rekor) trusting the GitHub stand-in, trusted in turn by the
    // index, so attestations are signed and checked as on PyPI.
    let sigstore = Sigstore::start(SigstoreConfig::for_issuer(github.issuer())).await?;
    let warehouse = Warehouse::start(WarehouseConfig {
        port: index_port,
        sink: index.sink,
        far: index.far,
        tls: index.tls,
        sigstore_trust: Some(sigstore.trust_root()?),
        trusted_issuer: Some(TrustedIssuer {
            issuer: github.issuer(),
            public_key_pem: testbed::GITHUB_OIDC_TEST_PUBLIC_KEY_PEM.to_owned(),
        }),
        ..WarehouseConfig::default()
    })
    .await?;
    let claims = JobClaims::for_repo(&gh_config);
    warehouse.create_project(project);
    warehouse.add_trusted_publisher(TrustedPublisher {
        project: project.to_owned(),
        repository_owner: gh_config.owner().to_owned(),
        repository_owner_id: gh_config.repository_owner_id.to_string(),
        repository: gh_config.name().to_owned(),
        workflow_filename: "publish.yml".to_owned(),
        environment: claims.environment.clone(),
        pending: false,
    });
    let token = warehouse.add_api_token(None);
    let mut env = vec![
        ("INDEX_URL", warehouse.url()),
        ("UPLOAD_URL", warehouse.upload_url()),
        ("SIMPLE_URL", warehouse.simple_url()),
        // Not PyPI: its trusted-publishing audience is named with --oidc-audience.
        ("OIDC_AUDIENCE", warehouse.audience().to_owned()),
        ("API_TOKEN", token),
        ("FULCIO_URL", sigstore.fulcio_url()),
        ("REKOR_URL", sigstore.rekor_url()),
        ("GITHUB_API_URL", github.api_url()),
        ("GITHUB_REPOSITORY", gh_config.repository.clone()),
        ("GITHUB_TOKEN", gh_config.github_token.clone()),
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            github.id_token_request_url(),
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            github.id_token_request_token(),
        ),
    ];
    if let Some(build) = &build {
        env.extend(add_build_run(&github, build)?);
    }
    let mut text: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    // The Sigstore's trusted root beside the env file, for clients that verify provenance
    // (`verify`, the publish's read-back) against it.
    if let Some(path) = &env_file {
        let root = path.with_file_name("trusted_root.json");
        std::fs::write(&root, sigstore.trusted_root_json())
            .with_context(|| format!("cannot write {}", root.display()))?;
        text.push_str(&format!(
            "TRUSTED_ROOT={}\nOIDC_ISSUER={}\n",
            root.display(),
            github.issuer()
        ));
    }
    match env_file {
        Some(path) => write_whole(&path, &text)?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    eprintln!(
        "testbed: index at {}, GitHub at {}; Ctrl-C to stop",
        warehouse.url(),
        github.api_url()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    drop(warehouse);
    drop(sigstore);
    drop(github);
    Ok(())
}
