//! Which REST resource serves a kind: the built-in table (`known_kinds`) first, so skyctl
//! makes no discovery requests for them (Helm discovers every API group on every command). Only
//! a kind outside the table costs one discovery call.

use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};

use crate::known_kinds::{Resource, known};
use crate::manifest::ObjectRef;

/// The resource of any kind: the table first, one discovery request otherwise.
pub async fn resolve(client: &kube::Client, id: &ObjectRef) -> anyhow::Result<Resource> {
    if let Some(resource) = known(&id.api_version, &id.kind) {
        return Ok(resource);
    }
    let (group, version) = id
        .api_version
        .rsplit_once('/')
        .unwrap_or(("", &id.api_version));
    let gvk = GroupVersionKind::gvk(group, version, &id.kind);
    let (api, capabilities) = discovery::pinned_kind(client, &gvk).await.map_err(|err| {
        anyhow::anyhow!(
            "the cluster does not serve {} {}: {err}",
            id.api_version,
            id.kind
        )
    })?;
    Ok(Resource {
        api,
        namespaced: capabilities.scope == Scope::Namespaced,
    })
}
