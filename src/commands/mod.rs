//! One module per verb. Each orchestrates the services (values, render, plan, cluster, ui)
//! and holds no logic of its own beyond that.

mod completion;
mod status;
mod uninstall;

use crate::cli::{Cli, ClusterArgs, Command, CredsCommand};
use crate::error::NotImplemented;
use crate::plan::Release;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { cluster, command } = cli;
    match command {
        Command::Completion { shell } => completion::run(shell),
        Command::Uninstall(args) => block_on(uninstall::run(&cluster, args)),
        Command::Status(args) => block_on(status::run(&cluster, args)),
        Command::Install(_) => Err(NotImplemented("install").into()),
        Command::Upgrade(_) => Err(NotImplemented("upgrade").into()),
        Command::Rollback(_) => Err(NotImplemented("rollback").into()),
        Command::Template(_) => Err(NotImplemented("template").into()),
        Command::Endpoint(_) => Err(NotImplemented("endpoint").into()),
        Command::Creds {
            command: CredsCommand::Add { .. },
        } => Err(NotImplemented("creds add").into()),
    }
}

/// A single-threaded runtime: starting it costs next to nothing, and the concurrency skyctl
/// needs (objects of one phase applied together) is waiting on the network, not computing.
fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(future: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(future)
}

async fn connect(cluster: &ClusterArgs) -> anyhow::Result<kube::Client> {
    crate::cluster::connect(cluster.kubeconfig.as_deref(), cluster.context.as_deref()).await
}

fn release(cluster: &ClusterArgs, name: &str) -> Release {
    Release {
        name: name.to_owned(),
        namespace: cluster.namespace.clone(),
    }
}
