//! Shared harness of the integration tests: the local stand-ins for PyPI and GitHub, and the
//! real binary run as a subprocess with a controlled environment, as the action runs it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tempfile::TempDir;
use testbed::dists::{self, Project};
use testbed::github::{GitHub, GitHubConfig, JobClaims};
use testbed::warehouse::{TrustedIssuer, TrustedPublisher, Warehouse, WarehouseConfig};

pub const BIN: &str = env!("CARGO_BIN_EXE_pypi-oidc-publish");
pub const PROJECT: &str = "demo-package";
/// The trusted-publishing audience of the local index: its own, not PyPI's `pypi` (the client
/// accepts `pypi` from https://pypi.org only, and any other index's audience only when the
/// workflow names it, as [`Stack::oidc_env`] does).
pub const LOCAL_AUDIENCE: &str = testbed::warehouse::LOCAL_AUDIENCE;

pub struct Stack {
    pub warehouse: Warehouse,
    pub github: GitHub,
    pub tmp: TempDir,
}

impl Stack {
    pub async fn start() -> Stack {
        Self::start_with(WarehouseConfig::default()).await
    }

    pub async fn start_with(config: WarehouseConfig) -> Stack {
        Self::start_custom(GitHubConfig::default(), config).await
    }

    pub async fn start_custom(github: GitHubConfig, config: WarehouseConfig) -> Stack {
        let github = GitHub::start(github).await.expect("github stand-in");
        Self::with_github(github, config).await
    }

    /// A stack around a GitHub stand-in that is already running (whose issuer other
    /// services, such as a local Sigstore, were told to trust).
    pub async fn with_github(github: GitHub, config: WarehouseConfig) -> Stack {
        let warehouse = Warehouse::start(WarehouseConfig {
            trusted_issuer: Some(TrustedIssuer {
                issuer: github.issuer(),
                public_key_pem: testbed::GITHUB_OIDC_TEST_PUBLIC_KEY_PEM.to_owned(),
            }),
            ..config
        })
        .await
        .expect("warehouse stand-in");
        Stack {
            warehouse,
            github,
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// A stack whose index checks attestations against a local Sigstore (Fulcio + Rekor)
    /// that trusts the stack's GitHub issuer, with this repository's publisher registered.
    pub async fn with_sigstore() -> (Stack, testbed::sigstore::Sigstore) {
        use testbed::sigstore::{Sigstore, SigstoreConfig};
        // The index trusts the Sigstore, which trusts the GitHub issuer: start them in that
        // order.
        let github = GitHub::start(GitHubConfig::default())
            .await
            .expect("github stand-in");
        let sigstore = Sigstore::start(SigstoreConfig::for_issuer(github.issuer()))
            .await
            .expect("sigstore stand-in");
        let stack = Self::with_github(
            github,
            WarehouseConfig {
                sigstore_trust: Some(sigstore.trust_root().expect("trust root")),
                ..Default::default()
            },
        )
        .await;
        stack.register_publisher(PROJECT);
        (stack, sigstore)
    }

    /// Register this repository's `publish.yml` (environment `pypi`) as the trusted
    /// publisher of an existing project.
    pub fn register_publisher(&self, project: &str) {
        let cfg = self.github.config();
        let claims = JobClaims::for_repo(cfg);
        self.warehouse.create_project(project);
        self.warehouse.add_trusted_publisher(TrustedPublisher {
            project: project.to_owned(),
            repository_owner: cfg.owner().to_owned(),
            repository_owner_id: cfg.repository_owner_id.to_string(),
            repository: cfg.name().to_owned(),
            workflow_filename: "publish.yml".to_owned(),
            environment: claims.environment.clone(),
            pending: false,
        });
    }

    /// Every secret of the stack so far: the ID tokens GitHub issued, the runner's request
    /// token, the GitHub token and the index tokens minted from ID tokens.
    pub fn secrets(&self) -> Vec<String> {
        let mut s = self.github.issued_tokens();
        s.push(self.github.id_token_request_token());
        s.push(self.github.config().github_token.clone());
        s.extend(self.warehouse.minted_tokens());
        s
    }

    /// A folder holding a real wheel and sdist of `name` `version`.
    pub fn dists(&self, name: &str, version: &str) -> PathBuf {
        let dir = self
            .tmp
            .path()
            .join(format!("dist-{name}-{version}-{}", fastrand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let project = Project::new(name, version);
        dists::write_wheel(&project, &dir, "py3").unwrap();
        dists::write_sdist(&project, &dir).unwrap();
        dir
    }

    /// The environment a job in GitHub Actions with `id-token: write` sees, whose step names
    /// the local index's audience (`oidc-audience`), as a workflow publishing to any index
    /// but PyPI and TestPyPI must.
    pub fn oidc_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("INPUT_OIDC-AUDIENCE", self.warehouse.audience().to_owned()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                self.github.id_token_request_url(),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                self.github.id_token_request_token(),
            ),
            ("GITHUB_REPOSITORY", self.github.config().repository.clone()),
            ("GITHUB_API_URL", self.github.api_url()),
        ]
    }

    pub async fn publish(&self, args: &[&str], env: &[(&str, String)]) -> Outcome {
        let mut full = vec!["publish", "--repository-url"];
        let upload = self.warehouse.upload_url();
        full.push(&upload);
        full.extend_from_slice(args);
        run(self.tmp.path(), &full, env).await
    }
}

fn fastrand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// What one run of the binary left behind.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub github_output: String,
    pub summary: String,
    /// The `--report` file, the harness's own or the one the test passed.
    pub report: String,
    /// Every `*.publish.attestation` file beside the report and in the run's folder.
    pub attestations: String,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.code == 0
    }

    /// Every byte the run wrote anywhere: a secret must appear in none of it.
    pub fn everything(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.stdout,
            self.stderr,
            self.github_output,
            self.summary,
            self.report,
            self.attestations
        )
    }

    /// No secret in anything the run wrote but the `::add-mask::` commands: not whole, and
    /// not a recognisable piece of one (any 20 characters of it at a multiple of 20, so a
    /// leak of 40 characters or more is caught however it was cut). Of a JWT only the
    /// signature is secret: its header is the same for every token.
    pub fn assert_no_secret(&self, secrets: &[String]) {
        let text = self.everything_but_masks();
        assert!(!secrets.is_empty(), "no secrets to look for");
        for secret in secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret leaked into the output"
            );
            let secret_part = match secret.split('.').collect::<Vec<_>>()[..] {
                [_, _, signature] => signature,
                _ => secret.as_str(),
            };
            let chars: Vec<char> = secret_part.chars().collect();
            for piece in chars.chunks_exact(20).filter(|_| chars.len() >= 40) {
                let piece: String = piece.iter().collect();
                assert!(
                    !text.contains(&piece),
                    "a piece of a secret leaked into the output"
                );
            }
        }
    }

    /// Everything but the `::add-mask::` commands, which hand secrets to the runner so it can
    /// redact them (the runner never prints those lines).
    pub fn everything_but_masks(&self) -> String {
        self.everything()
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The stdout line number of the exact `::add-mask::{secret}` command; panics without it.
    pub fn mask_line(&self, what: &str, secret: &str) -> usize {
        let want = format!("::add-mask::{secret}");
        self.stdout
            .lines()
            .position(|l| l == want)
            .unwrap_or_else(|| panic!("{what} was never masked:\n{}", self.debug()))
    }

    /// The stdout line number of the first line starting with `prefix`; panics without one.
    pub fn stdout_line(&self, prefix: &str) -> usize {
        self.stdout
            .lines()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no stdout line starts with {prefix:?}:\n{}", self.debug()))
    }

    /// The step outputs, parsed as the runner parses `$GITHUB_OUTPUT`.
    pub fn outputs(&self) -> HashMap<String, String> {
        parse_github_output(&self.github_output)
    }

    pub fn output(&self, name: &str) -> String {
        self.outputs()
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no output {name:?} in:\n{}", self.github_output))
    }

    pub fn published(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.output("published")).expect("published is a JSON array")
    }

    pub fn debug(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn parse_github_output(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_owned(), value.to_owned());
        }
    }
    out
}

/// Run the binary in `dir` with only `env` (plus PATH and HOME): nothing of the machine's own
/// GitHub or index settings leaks in.
pub async fn run(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Outcome {
    let n = fastrand_suffix();
    let output_file = dir.join(format!("github_output-{n}"));
    let summary_file = dir.join(format!("step_summary-{n}"));
    let report_file = dir.join(format!("report-{n}.json"));
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("PYPI_OIDC_PUBLISH_RETRY_BASE_MS", "10");
    let report_file = match args.iter().position(|a| *a == "--report") {
        Some(i) => dir.join(args.get(i + 1).copied().unwrap_or_default()),
        None => {
            if args.first() == Some(&"publish") {
                cmd.arg("--report").arg(&report_file);
            }
            report_file
        }
    };
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run the binary");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        github_output: read(&output_file),
        summary: read(&summary_file),
        attestations: attestation_files(&[dir, report_file.parent().unwrap_or(dir)]),
        report: read(&report_file),
    }
}

/// The contents of every `*.publish.attestation` file directly in `dirs`.
fn attestation_files(dirs: &[&Path]) -> String {
    let mut out = String::new();
    for dir in dirs {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .ends_with(".publish.attestation")
            {
                out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
                out.push('\n');
            }
        }
    }
    out
}

/// `python3 -m pip install` a project from the local index into a fresh target folder and
/// import it: the proof a real client can use what was published.
pub fn pip_install_and_import(
    simple_url: &str,
    requirement: &str,
    module: &str,
    dir: &Path,
) -> String {
    let target = dir.join(format!("site-{}", fastrand_suffix()));
    let status = std::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-cache-dir",
        ])
        .args(["--index-url", simple_url, "--target"])
        .arg(&target)
        .arg(requirement)
        .status()
        .expect("python3 -m pip");
    assert!(
        status.success(),
        "pip install {requirement} from {simple_url} failed"
    );
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            &format!("import {module}; print({module}.__version__)"),
        ])
        .env("PYTHONPATH", &target)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "import {module} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
