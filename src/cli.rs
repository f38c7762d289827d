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
    Install(Pending),
    /// Upgrade a release to new values or a new skyctl version
    Upgrade(Pending),
    /// Remove a release and everything it applied (its data volume only when asked)
    Uninstall(Pending),
    /// Return a release to an earlier revision
    Rollback(Pending),
    /// Show a release's revision, readiness, endpoint and health
    Status(Pending),
    /// Print the objects that install would apply, as YAML, without a cluster
    Template(Pending),
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
