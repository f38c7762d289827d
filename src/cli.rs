//! The command line: every verb, flag and help text skyctl has.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

/// Deploys the SkyPilot API server, with ingress-nginx in front of it, to Kubernetes.
///
/// skyctl renders the same objects as the SkyPilot Helm chart from the same values files and
/// `--set` flags, applies them with server-side apply, tracks each release, and walks you through
/// credentials, basic auth, the endpoint and the health check.
#[derive(Debug, Parser)]
#[command(
    name = "skyctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Where to find the cluster; kubectl's flags and rules.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file to use instead of $KUBECONFIG or ~/.kube/config
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context to use instead of the current one
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Namespace of the release
    #[arg(
        short,
        long,
        global = true,
        default_value = "skypilot",
        value_name = "NAME"
    )]
    pub namespace: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install a release: render, apply, wait, and check the API server's health
    #[command(
        after_help = "Examples:\n  skyctl install -f values.yaml\n  skyctl install --set ingress-nginx.controller.service.type=LoadBalancer --create-namespace"
    )]
    Install(InstallArgs),
    /// Upgrade a release to new values or a new skyctl version
    ///
    /// Objects that did not change are not sent again; with nothing to change, an upgrade makes
    /// no write at all and records no new revision.
    Upgrade(UpgradeArgs),
    /// Remove a release and everything it applied (its data volume only when asked)
    Uninstall(UninstallArgs),
    /// Return a release to an earlier revision (by default the one before the current)
    Rollback(RollbackArgs),
    /// Show a release's revision, readiness, endpoint and health
    Status(StatusArgs),
    /// Print the objects that install would apply, as YAML, without a cluster
    Template(TemplateArgs),
    /// Print the URL users log in to (NodePort or LoadBalancer)
    Endpoint(Pending),
    /// Turn local cloud and Kubernetes credentials into the Secrets the API server reads
    Creds {
        #[command(subcommand)]
        command: CredsCommand,
    },
    /// Print a shell completion script
    ///
    /// For example: `skyctl completion bash > /etc/bash_completion.d/skyctl`
    Completion {
        /// The shell to complete for
        shell: Shell,
    },
}

/// The release a command works on.
#[derive(Debug, Args)]
pub struct ReleaseArg {
    /// Name of the release
    #[arg(default_value = "skypilot")]
    pub release: String,
}

/// Values, layered as in Helm: defaults, then each --values file in order, then --set-json,
/// --set, --set-string, --set-file. Later layers win.
#[derive(Debug, Args, Clone, Default)]
pub struct ValuesArgs {
    /// A YAML values file; `-` reads standard input. Repeat for more; later files win
    #[arg(
        short = 'f',
        long = "values",
        value_name = "FILE",
        help_heading = "Values"
    )]
    pub files: Vec<std::path::PathBuf>,
    /// Set values as JSON: --set-json 'apiService.resources={"requests":{"cpu":"4"}}'
    #[arg(long = "set-json", value_name = "KEY=JSON", help_heading = "Values")]
    pub set_json: Vec<String>,
    /// Set values: --set a.b=c,x[0]=y. true, false, null and integers are typed; null deletes a default
    #[arg(long = "set", value_name = "KEY=VALUE", help_heading = "Values")]
    pub set: Vec<String>,
    /// Set values, always as strings: --set-string apiService.image=repo/image:1.0
    #[arg(long = "set-string", value_name = "KEY=VALUE", help_heading = "Values")]
    pub set_string: Vec<String>,
    /// Set a value to a file's content: --set-file apiService.config=config.yaml
    #[arg(long = "set-file", value_name = "KEY=PATH", help_heading = "Values")]
    pub set_file: Vec<String>,
}

/// How install, upgrade and rollback apply and wait.
#[derive(Debug, Args, Clone)]
pub struct RolloutArgs {
    /// Let the API server check every change without persisting anything
    #[arg(long, help_heading = "Apply")]
    pub dry_run: bool,
    /// Show a unified diff of every object that would change (with --dry-run, only show)
    #[arg(long, help_heading = "Apply")]
    pub diff: bool,
    /// Take ownership of fields that another field manager (kubectl, an operator) set
    #[arg(long, help_heading = "Apply")]
    pub force_conflicts: bool,
    /// Create the namespace if it does not exist
    #[arg(long, help_heading = "Apply")]
    pub create_namespace: bool,
    /// Prune the data volume (PVC) too when storage is disabled; it is kept otherwise
    #[arg(long, help_heading = "Apply")]
    pub delete_data: bool,
    /// On failure, roll back to the previous revision (or uninstall a failed first install)
    #[arg(long, help_heading = "Apply")]
    pub atomic: bool,
    /// Revisions to keep in the release history; 0 keeps all
    #[arg(long, default_value_t = 10, value_name = "N", help_heading = "Apply")]
    pub history_max: usize,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args, Clone)]
pub struct WaitArgs {
    /// Do not wait for the objects to become ready (or gone)
    #[arg(long, help_heading = "Wait")]
    pub no_wait: bool,
    /// How long to wait: 90s, 5m, 1h30m
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION", help_heading = "Wait")]
    pub timeout: std::time::Duration,
}

impl WaitArgs {
    /// The wait's bound, or `None` with --no-wait.
    pub fn limit(&self) -> Option<std::time::Duration> {
        (!self.no_wait).then_some(self.timeout)
    }
}

#[derive(Debug, Args, Clone)]
pub struct LockArgs {
    /// Take the release's lock even if another skyctl holds it (only when that one is gone)
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Install the release if it does not exist yet
    #[arg(short, long)]
    pub install: bool,
    #[command(flatten)]
    pub release: ReleaseArg,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// The revision to return to; by default the one before the deployed one
    pub revision: Option<u32>,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// Also delete the data volume (PVC): the API server's state is lost
    #[arg(long)]
    pub delete_data: bool,
    /// Also delete the namespace, if skyctl created it
    #[arg(long)]
    pub delete_namespace: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    #[command(flatten)]
    pub values: ValuesArgs,
}

#[derive(Debug, Args, Clone, Copy)]
pub struct OutputArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Yaml,
}

/// Parses durations as Helm's --timeout does: `300s`, `5m`, `1h30m`; a bare number is seconds.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(seconds));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => {
                return Err(format!(
                    "{text:?} is not a duration; use forms like 90s, 5m or 1h30m"
                ));
            }
        };
        let value: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration; use forms like 90s, 5m or 1h30m"))?;
        total += value * unit;
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!(
            "{text:?} is not a duration: {number} has no unit (s, m or h)"
        ));
    }
    Ok(std::time::Duration::from_secs(total))
}

#[derive(Debug, Subcommand)]
pub enum CredsCommand {
    /// Add credentials for a cloud or a Kubernetes cluster
    Add {
        /// Which credentials to add
        kind: CredsKind,
        #[command(flatten)]
        pending: Pending,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CredsKind {
    /// AWS access keys, from ~/.aws/credentials or the environment
    Aws,
    /// A GCP service-account key file
    Gcp,
    /// Contexts from a kubeconfig
    Kube,
}

/// Arguments of a verb that is not built yet. They are accepted, so that the verb can say so
/// instead of failing on its flags.
#[derive(Debug, Args)]
pub struct Pending {
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    _args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_read_as_helm_writes_them() {
        for (text, seconds) in [
            ("300", 300),
            ("90s", 90),
            ("5m", 300),
            ("1h30m", 5400),
            ("1m30s", 90),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
        assert!(parse_duration("5x").unwrap_err().contains("not a duration"));
        assert!(parse_duration("1h5").unwrap_err().contains("5 has no unit"));
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
