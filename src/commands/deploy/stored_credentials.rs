//! The credentials `creds add` stored in the namespace, as values layers of an install or
//! upgrade.

use crate::chart::Chart;
use crate::cluster::snapshot::Snapshot;
use crate::credentials;
use crate::guide::{self, credential_secrets};
use crate::release::Release;
use crate::values::{ExtraLayer, Resolved};

/// Credentials stored with `creds add` are used unless the values say otherwise: one values
/// layer per Secret. Returns the layers and a checklist line naming the Secrets.
pub(super) async fn layers(
    client: &kube::Client,
    snapshot: &Snapshot,
    release: &Release,
    chart: &Chart,
    user: &Resolved,
) -> anyhow::Result<(Vec<ExtraLayer>, String)> {
    let mut layers = Vec::new();
    let mut used = Vec::new();
    let stored = match snapshot.secrets(&release.namespace) {
        Some(secrets) => credentials::stored_among(secrets.iter()),
        None => credential_secrets::list(client, &release.namespace).await?,
    };
    for stored in stored {
        if let Some(why) = credentials::unsupported_by(&stored, chart) {
            used.push(format!("Secret {} not used: {why}", stored.secret));
            continue;
        }
        // The values decide, reused ones included: a release recorded turning them on or off.
        if let Some((uses, _)) = credentials::chosen(&stored, &user.user) {
            if uses {
                used.push(format!("Secret {}", stored.secret));
            }
            continue;
        }
        layers.push(ExtraLayer {
            label: format!("the credentials stored in Secret {}", stored.secret),
            values: credentials::values_for(&stored, true, chart),
        });
        // A kubeconfig stored before the release existed brings the contexts it was stored
        // with: SkyPilot uses only those its config allows.
        match guide::skypilot_config::allowed_contexts_layer(&user.values, &stored.contexts)? {
            Some(contexts) => {
                layers.push(contexts);
                used.push(format!(
                    "Secret {} (contexts {} allowed in the SkyPilot config)",
                    stored.secret,
                    stored.contexts.join(", ")
                ));
            }
            None => used.push(format!("Secret {}", stored.secret)),
        }
    }
    let line = if used.is_empty() {
        "none stored in the namespace (add some with `skyctl creds add`)".to_owned()
    } else {
        used.join(", ")
    };
    Ok((layers, line))
}
