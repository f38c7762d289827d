//! Reads what the preflight checks need, all at once and nothing more: the server's version,
//! the admin's rights (SelfSubjectAccessReviews, which persist nothing), the rendered objects
//! that exist, and a few lists. Writes nothing. A list the admin may not read is recorded as
//! such, for the check that needed it to say so.

use std::collections::BTreeMap;

use futures::StreamExt;
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, Node, Pod, ResourceQuota, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::IngressClass;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use serde::de::DeserializeOwned;

use crate::credentials;
use crate::front_door::FrontDoor;
use crate::gateway_api;
use crate::preflight::facts::{NodePortRange, node_port_range_in};
use crate::preflight::gateway::{GatewayFacts, Installed};
use crate::preflight::{Access, Facts, HelmRecord, Intent, NamespaceState, Observed, intent};

use super::object_manager::{ObjectManager, api_message, namespace_ref};
use super::snapshot::{Listed, Snapshot};
use crate::manifest::ObjectRef;

/// How many reviews are in flight at once: enough to hide the round trips, few enough not to
/// look like a flood to the API server's priority and fairness.
const REVIEWS_IN_FLIGHT: usize = 16;

/// Everything the checks look at, kept in `snapshot` for the rest of the run. Fails only when
/// the cluster cannot be reached at all.
pub async fn survey(
    client: &kube::Client,
    intent: &Intent<'_>,
    snapshot: &Snapshot,
) -> anyhow::Result<Facts> {
    let namespace = intent.release.namespace.as_str();
    // The checks list every IngressClass and the namespace's ServiceAccounts whole; the
    // rendered ones among them are then not read again.
    let (server_version, ingress_classes, service_accounts) = tokio::join!(
        client.apiserver_version(),
        list_all::<IngressClass>(client),
        in_namespace(intent, list_in::<ServiceAccount>(client, namespace)),
    );
    let server_version = server_version
        .map_err(|err| anyhow::anyhow!("cannot reach the cluster: {}", api_message(&err)))?
        .git_version;
    let rendered: Vec<&ObjectRef> = intent.manifests.iter().map(|m| &m.id).collect();
    if let Ok(classes) = &ingress_classes {
        snapshot.record_list(Listed::Everything, None, classes, &rendered)?;
    }
    if let Ok(accounts) = &service_accounts {
        snapshot.record_list(Listed::Everything, Some(namespace), accounts, &rendered)?;
    }
    let (namespace_state, access, live, nodes, quotas, secrets, helm_maps) = tokio::join!(
        namespace_state(client, namespace, snapshot),
        reviews(client, intent),
        observe_rendered(client, intent, snapshot),
        list_all::<Node>(client),
        in_namespace(intent, list_in::<ResourceQuota>(client, namespace)),
        in_namespace(intent, metadata_in::<Secret>(client, namespace)),
        in_namespace(intent, helm_config_maps(client, intent)),
    );
    if let Ok(nodes) = &nodes {
        snapshot.record_nodes(nodes);
    }
    if let Ok(secrets) = &secrets {
        snapshot.record_secrets(namespace, secrets);
    }
    let ((services, node_port_range), storage_classes, gateway) = tokio::join!(
        services(client, intent, &live),
        storage_classes(client, intent, &live),
        gateway(client, intent),
    );
    let gateway = gateway.map(|(api, gateway, routes)| GatewayFacts {
        api,
        gateway,
        namespace_labels: namespace_labels(snapshot, namespace),
        routes,
    });
    let helm_secrets = secrets
        .as_ref()
        .map(|secrets| {
            secrets
                .iter()
                .filter_map(|meta| HelmRecord::from_labels("Secret", meta, &intent.release.name))
                .collect::<Vec<_>>()
        })
        .map_err(Clone::clone);
    let helm = match (helm_secrets, helm_maps) {
        (Ok(mut records), Ok(more)) => {
            records.extend(more);
            Ok(records)
        }
        (Err(why), _) | (_, Err(why)) => Err(why),
    };
    Ok(Facts {
        server_version,
        namespace: namespace_state,
        access,
        live,
        services,
        ingress_classes,
        storage_classes,
        nodes,
        quotas,
        credentials: secrets
            .as_ref()
            .map(|metas| credentials::stored_among(metas.iter()))
            .map_err(Clone::clone),
        secrets: secrets.map(|metas| metas.into_iter().filter_map(|m| m.name).collect()),
        service_accounts: service_accounts.map(|accounts| {
            accounts
                .into_iter()
                .filter_map(|account| account.metadata.name)
                .collect()
        }),
        helm,
        node_port_range,
        gateway,
        now: crate::clock::now(),
    })
}

/// The `gateway` door's reads, for a release that renders an HTTPRoute only: the HTTPRoute
/// CRD, the Gateway it attaches to, and every HTTPRoute (for one that claims the same host and
/// path).
async fn gateway(
    client: &kube::Client,
    intent: &Intent<'_>,
) -> Option<(
    Observed<Option<Installed>>,
    Observed<Option<gateway_api::Gateway>>,
    Observed<Vec<gateway_api::HttpRoute>>,
)> {
    let FrontDoor::Gateway(parent) = FrontDoor::of(intent.values) else {
        return None;
    };
    if !intent.manifests.iter().any(|m| m.id.kind == "HTTPRoute") {
        return None;
    }
    let namespace = parent
        .namespace
        .as_deref()
        .unwrap_or(&intent.release.namespace);
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    let gateways: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &gateway_api::resource("Gateway", "gateways"),
    );
    let routes: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &gateway_api::resource("HTTPRoute", "httproutes"),
    );
    let every = ListParams::default();
    let (crd, found, listed) = tokio::join!(
        crds.get_metadata_opt(gateway_api::HTTP_ROUTE_CRD),
        gateways.get_opt(&parent.name),
        routes.list(&every),
    );
    let api = crd.map_err(|err| reason(&err)).map(|crd| {
        crd.map(|crd| {
            let annotation = |key: &str| crd.metadata.annotations.as_ref()?.get(key).cloned();
            Installed {
                bundle_version: annotation(gateway_api::BUNDLE_VERSION),
                channel: annotation(gateway_api::CHANNEL),
            }
        })
    });
    let gateway = found.map_err(|err| reason(&err)).and_then(|found| {
        found
            .map(gateway_api::view)
            .transpose()
            .map_err(|err| format!("the Gateway does not read: {err}"))
    });
    // A route that does not read as one is no rival: the Gateway would not take it either.
    let routes = match listed {
        Ok(list) => Ok(list
            .items
            .into_iter()
            .filter_map(|object| gateway_api::view(object).ok())
            .collect()),
        // No CRD, no routes: the check says so from the CRD.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(Vec::new()),
        Err(err) => Err(reason(&err)),
    };
    Some((api, gateway, routes))
}

/// The labels of the release's namespace, as read into `snapshot`; one about to be created
/// gets the name label Kubernetes gives every namespace.
fn namespace_labels(snapshot: &Snapshot, namespace: &str) -> Observed<BTreeMap<String, String>> {
    match snapshot.recorded(&namespace_ref(namespace)) {
        Some(Some(found)) => Ok(found.metadata.labels.unwrap_or_default()),
        Some(None) => Ok(BTreeMap::from([(
            "kubernetes.io/metadata.name".to_owned(),
            namespace.to_owned(),
        )])),
        None => Err("the namespace was not read".to_owned()),
    }
}

/// What a list of the release's namespace finds: nothing, when the namespace does not exist.
async fn in_namespace<T: Default>(
    intent: &Intent<'_>,
    list: impl std::future::Future<Output = Observed<T>>,
) -> Observed<T> {
    if intent.namespace_exists {
        list.await
    } else {
        Ok(T::default())
    }
}

/// The Services of every namespace and the node port range where the checks need them, else
/// the release's own Services as they are (see `intent::needs_every_service`): a no-op upgrade
/// does not read the rest of the cluster.
async fn services(
    client: &kube::Client,
    intent: &Intent<'_>,
    live: &BTreeMap<ObjectRef, Observed<Option<DynamicObject>>>,
) -> (Observed<Vec<Service>>, Option<NodePortRange>) {
    let own = live_values(live, "Service");
    let borrowed: Vec<(&ObjectRef, &serde_json::Value)> =
        own.iter().map(|(id, value)| (*id, value)).collect();
    if intent::needs_every_service(intent.manifests, &borrowed) {
        return tokio::join!(list_all::<Service>(client), node_port_range(client));
    }
    let own = own
        .into_iter()
        .filter_map(|(_, value)| serde_json::from_value(value).ok())
        .collect();
    (Ok(own), None)
}

/// The rendered objects of a core `kind` that exist, as the cluster has them: what the pure
/// decisions of `intent` take.
fn live_values<'a>(
    live: &'a BTreeMap<ObjectRef, Observed<Option<DynamicObject>>>,
    kind: &str,
) -> Vec<(&'a ObjectRef, serde_json::Value)> {
    live.iter()
        .filter(|(id, _)| id.kind == kind && id.group().is_empty())
        .filter_map(|(id, found)| {
            let object = found.as_ref().ok()?.as_ref()?;
            Some((id, serde_json::to_value(object).ok()?))
        })
        .collect()
}

/// Every StorageClass where a volume claim needs one; none for a run that changes no claim
/// (see `intent::needs_storage_classes`).
async fn storage_classes(
    client: &kube::Client,
    intent: &Intent<'_>,
    live: &BTreeMap<ObjectRef, Observed<Option<DynamicObject>>>,
) -> Observed<Vec<StorageClass>> {
    let held = live_values(live, "PersistentVolumeClaim");
    let borrowed: Vec<(&ObjectRef, &serde_json::Value)> =
        held.iter().map(|(id, value)| (*id, value)).collect();
    if intent::needs_storage_classes(intent.manifests, &borrowed) {
        list_all::<StorageClass>(client).await
    } else {
        Ok(Vec::new())
    }
}

/// The node port range, where the cluster tells it: the command line of a kube-apiserver that
/// runs as a pod (kubeadm's static pods carry `component=kube-apiserver`). Managed clusters
/// and those that may not list kube-system's pods tell nothing: Kubernetes' default applies.
async fn node_port_range(client: &kube::Client) -> Option<NodePortRange> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "kube-system");
    let list = pods
        .list(&ListParams::default().labels("component=kube-apiserver"))
        .await
        .ok()?;
    list.items.iter().find_map(|pod| {
        pod.spec.as_ref()?.containers.iter().find_map(|container| {
            let line: Vec<String> = container
                .command
                .iter()
                .chain(&container.args)
                .flatten()
                .cloned()
                .collect();
            node_port_range_in(&line)
        })
    })
}

/// Why a read failed, shortly: `forbidden` (the checklist has many; the API server's own
/// message repeats the user's name in each), else the API server's own message.
fn reason(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if status.code == 403 => "forbidden".to_owned(),
        other => api_message(other),
    }
}

async fn list_all<K>(client: &kube::Client) -> Observed<Vec<K>>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    Api::<K>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map(|list| list.items)
        .map_err(|err| reason(&err))
}

/// Whether the namespace exists, and whether it is being deleted.
async fn namespace_state(
    client: &kube::Client,
    namespace: &str,
    snapshot: &Snapshot,
) -> Observed<NamespaceState> {
    let found = snapshot
        .read(&ObjectManager::new(client), &namespace_ref(namespace))
        .await
        .map_err(|err| unread(&err))?;
    Ok(match found {
        None => NamespaceState::Absent,
        Some(ns) if ns.metadata.deletion_timestamp.is_some() => NamespaceState::Terminating,
        Some(_) => NamespaceState::Active,
    })
}

async fn list_in<K>(client: &kube::Client, namespace: &str) -> Observed<Vec<K>>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await
        .map(|list| list.items)
        .map_err(|err| reason(&err))
}

/// One kind's objects in the namespace, metadata only: names, labels, annotations; for
/// Secrets, never their data.
async fn metadata_in<K>(
    client: &kube::Client,
    namespace: &str,
) -> Observed<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    Api::<K>::namespaced(client.clone(), namespace)
        .list_metadata(&ListParams::default())
        .await
        .map(|list| list.items.into_iter().map(|item| item.metadata).collect())
        .map_err(|err| reason(&err))
}

/// Helm's ConfigMap driver keeps the same records as ConfigMaps.
async fn helm_config_maps(client: &kube::Client, intent: &Intent<'_>) -> Observed<Vec<HelmRecord>> {
    let selector = format!("owner=helm,name={}", intent.release.name);
    Api::<ConfigMap>::namespaced(client.clone(), &intent.release.namespace)
        .list_metadata(&ListParams::default().labels(&selector))
        .await
        .map(|list| {
            list.items
                .iter()
                .filter_map(|m| {
                    HelmRecord::from_labels("ConfigMap", &m.metadata, &intent.release.name)
                })
                .collect()
        })
        .map_err(|err| reason(&err))
}

/// Each rendered object as the cluster has it, or why it could not be read.
async fn observe_rendered(
    client: &kube::Client,
    intent: &Intent<'_>,
    snapshot: &Snapshot,
) -> BTreeMap<ObjectRef, Observed<Option<DynamicObject>>> {
    let (read, to_read): (Vec<&ObjectRef>, Vec<&ObjectRef>) = intent
        .manifests
        .iter()
        .map(|m| &m.id)
        .partition(|id| snapshot.recorded(id).is_some());
    let found = ObjectManager::new(client).read_each(&to_read).await;
    let mut live: BTreeMap<ObjectRef, Observed<Option<DynamicObject>>> = read
        .into_iter()
        .filter_map(|id| Some((id.clone(), Ok(snapshot.recorded(id)?))))
        .collect();
    for (id, found) in to_read.into_iter().zip(found) {
        if let Ok(found) = &found {
            snapshot.record(id, found.as_ref());
        }
        live.insert(id.clone(), found.map_err(|err| unread(&err)));
    }
    live
}

/// Why a read failed, as a check says it: `forbidden`, or the API server's message.
fn unread(err: &anyhow::Error) -> String {
    match err.downcast_ref::<kube::Error>() {
        Some(err) => reason(err),
        None => format!("{err:#}"),
    }
}

/// The answer to every right the install needs. A cluster admin may do anything: one review
/// says so, and the others are not sent.
async fn reviews(client: &kube::Client, intent: &Intent<'_>) -> BTreeMap<Access, Observed<bool>> {
    let needed: Vec<Access> = intent::needed_access(intent).into_keys().collect();
    if review(client, &Access::everything()).await == Ok(true) {
        return needed
            .into_iter()
            .map(|access| (access, Ok(true)))
            .collect();
    }
    futures::stream::iter(needed)
        .map(|access| async move {
            let answer = review(client, &access).await;
            (access, answer)
        })
        .buffer_unordered(REVIEWS_IN_FLIGHT)
        .collect()
        .await
}

async fn review(client: &kube::Client, access: &Access) -> Observed<bool> {
    let spec = match &access.path {
        Some(path) => SelfSubjectAccessReviewSpec {
            non_resource_attributes: Some(NonResourceAttributes {
                path: Some(path.clone()),
                verb: Some(access.verb.clone()),
            }),
            ..Default::default()
        },
        None => SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(access.verb.clone()),
                group: Some(access.group.clone()),
                resource: Some(access.resource.clone()),
                namespace: access.namespace.clone(),
                name: access.name.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
    };
    let review = SelfSubjectAccessReview {
        spec,
        ..Default::default()
    };
    Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .map(|answer| answer.status.is_some_and(|status| status.allowed))
        .map_err(|err| reason(&err))
}
