//! An API server in memory: the part of the Kubernetes REST API skyctl speaks, served to a
//! real `kube::Client`. Unit tests run the real executor (the object manager, the lock, the
//! waits) against it, where a hand-written copy of the executor would prove only itself.
//!
//! What the executor depends on behaves as the API server has it:
//! - get; list with a label selector of `key=value`, `key!=value`, `key` and `!key` terms and a
//!   field selector of `path=value` terms; watch from a resourceVersion, with every change in
//!   order as ADDED, MODIFIED and DELETED events;
//! - create, refused when the name exists or the namespace does not; replace, refused when the
//!   resourceVersion it carries is not the object's; JSON merge patch;
//! - server-side apply: it creates an absent object whatever resourceVersion it carries, and
//!   checks one it carries against an existing object; it keeps each field manager's fields,
//!   refuses to change another manager's field unless forced, removes the fields a manager
//!   stops applying that no one else holds, and writes nothing when nothing changes;
//! - `dryRun=All` on every write;
//! - delete with UID and resourceVersion preconditions; finalizers hold an object, marked with
//!   a deletion time, until the last one goes; a namespace takes what it holds with it;
//! - what the server owns: uid, one resourceVersion counter for everything (as etcd's
//!   revision, from 2), generation (counting changes outside metadata and status) and
//!   creationTimestamp.
//!
//! Left out, and so not to be relied on by a test: a list inside an object is one field (the
//! real server merges some lists by key), there is no defaulting, validation or admission, no
//! subresource (a test plays the controller with [`InMemoryApi::set_status`]), no discovery
//! (skyctl finds the kinds it renders in its own table), no authorization (a test refuses
//! writes with [`InMemoryApi::refuse_writes_to`]), no `deletecollection` (the release records'
//! `delete_all` is tested on the real API server), no namespace lifecycle (a namespace goes at
//! once, and creates in one being deleted are not refused), and no watch that expires or
//! answers 410 Gone.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use futures::StreamExt;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

use crate::known_kinds::known;
use crate::manifest::ObjectRef;

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// A field's place in an object: the keys leading to it.
type Path = Vec<String>;

/// Where an object is kept: what its URL names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    group: String,
    plural: String,
    namespace: Option<String>,
    name: String,
}

/// One change, as a watch reports it.
struct Event {
    revision: u64,
    key: Key,
    kind: &'static str,
    object: Value,
}

/// One request the API served, as an audit log would list it.
#[derive(Debug, Clone)]
pub struct Served {
    pub method: Method,
    /// The path and query.
    pub uri: String,
    pub dry_run: bool,
}

impl Served {
    /// Whether the request could change what is stored.
    pub fn is_write(&self) -> bool {
        self.method != Method::GET && !self.dry_run
    }
}

#[derive(Default)]
struct State {
    objects: BTreeMap<Key, Value>,
    revision: u64,
    uids: u64,
    events: Vec<Event>,
    served: Vec<Served>,
    refused: BTreeSet<String>,
}

/// The API server; clones share it.
#[derive(Clone)]
pub struct InMemoryApi {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
}

impl Default for InMemoryApi {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a request is refused: the HTTP status, the API's reason and a message.
struct Refusal(StatusCode, &'static str, String);

type Answer = Result<Value, Refusal>;

impl InMemoryApi {
    /// A cluster with the namespace `default`, as every cluster has it.
    pub fn new() -> Self {
        let api = Self {
            state: Arc::new(Mutex::new(State {
                revision: 1,
                ..State::default()
            })),
            changed: Arc::new(Notify::new()),
        };
        api.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}));
        api
    }

    /// A client that talks to this API server.
    pub fn client(&self) -> kube::Client {
        let api = self.clone();
        let service = tower::service_fn(move |request: Request<kube::client::Body>| {
            let api = api.clone();
            async move { Ok::<_, Infallible>(api.serve(request).await) }
        });
        kube::Client::new(service, "default")
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates an object as a person would with `kubectl create`.
    pub fn put(&self, object: Value) -> Value {
        let key = key_of(&object);
        let mut state = self.state();
        let answer = state.create(key, object, "kubectl-create", false);
        drop(state);
        self.changed.notify_waiters();
        answer.unwrap_or_else(|Refusal(_, _, message)| panic!("cannot put the object: {message}"))
    }

    /// The object as stored, if it exists.
    pub fn get(&self, id: &ObjectRef) -> Option<Value> {
        self.state().objects.get(&key_of_ref(id)).cloned()
    }

    /// Every object stored, by identity, the namespace `default` left out.
    pub fn objects(&self) -> Vec<ObjectRef> {
        self.state()
            .objects
            .values()
            .map(id_of)
            .filter(|id| !(id.kind == "Namespace" && id.name == "default"))
            .collect()
    }

    /// Sets an object's status, as its controller would.
    pub fn set_status(&self, id: &ObjectRef, status: Value) {
        let key = key_of_ref(id);
        let mut state = self.state();
        let mut object = state.objects.get(&key).cloned().expect("the object exists");
        object["status"] = status;
        state.store(key, object, "MODIFIED");
        drop(state);
        self.changed.notify_waiters();
    }

    /// From now on every write to the resource `plural` is forbidden, as RBAC would.
    pub fn refuse_writes_to(&self, plural: &str) {
        self.state().refused.insert(plural.to_owned());
    }

    /// Every request served so far.
    pub fn served(&self) -> Vec<Served> {
        self.state().served.clone()
    }

    async fn serve(&self, request: Request<kube::client::Body>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) => {
                return refused(Refusal(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    err.to_string(),
                ));
            }
        };
        let query: HashMap<String, String> = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let dry_run = query.get("dryRun").is_some_and(|v| v == "All");
        let Some(target) = Target::of(parts.uri.path()) else {
            return refused(Refusal(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("the in-memory API serves no {}", parts.uri.path()),
            ));
        };
        let mut state = self.state();
        state.served.push(Served {
            method: parts.method.clone(),
            uri: parts.uri.to_string(),
            dry_run,
        });
        if parts.method != Method::GET && !dry_run && state.refused.contains(&target.plural) {
            return refused(Refusal(
                StatusCode::FORBIDDEN,
                "Forbidden",
                format!("{} is forbidden to write", target.plural),
            ));
        }
        let manager = query
            .get("fieldManager")
            .map(String::as_str)
            .unwrap_or("unknown")
            .to_owned();
        let parsed = || -> Result<Value, Refusal> {
            if body.is_empty() {
                return Ok(json!({}));
            }
            serde_json::from_slice(&body)
                .map_err(|err| Refusal(StatusCode::BAD_REQUEST, "BadRequest", err.to_string()))
        };
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let answer = match (&parts.method, target.name.clone()) {
            (&Method::GET, None) if query.get("watch").is_some_and(|v| v == "true") => {
                let selector = match Selector::of(&query) {
                    Ok(selector) => selector,
                    Err(refusal) => return refused(refusal),
                };
                let from = query
                    .get("resourceVersion")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                drop(state);
                return self.watch(target, selector, from);
            }
            (&Method::GET, None) => Selector::of(&query).map(|s| state.list(&target, &s)),
            (&Method::GET, Some(name)) => state.read(&target.key(name)),
            (&Method::POST, None) => parsed().and_then(|object| {
                let name = text(&object, "/metadata/name").to_owned();
                state.create(target.key(name), object, &manager, dry_run)
            }),
            (&Method::PUT, Some(name)) => parsed()
                .and_then(|object| state.replace(target.key(name), object, &manager, dry_run)),
            (&Method::PATCH, Some(name)) if content_type.starts_with("application/apply-patch") => {
                let force = query.get("force").is_some_and(|v| v == "true");
                parsed().and_then(|object| {
                    state.apply(target.key(name), object, &manager, force, dry_run)
                })
            }
            (&Method::PATCH, Some(name)) if content_type == "application/merge-patch+json" => {
                parsed().and_then(|patch| state.merge(target.key(name), &patch, &manager, dry_run))
            }
            (&Method::DELETE, Some(name)) => {
                parsed().and_then(|options| state.delete(target.key(name), &options))
            }
            (method, _) => Err(Refusal(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("the in-memory API does not serve {method} {}", parts.uri),
            )),
        };
        drop(state);
        self.changed.notify_waiters();
        match answer {
            Ok(object) => respond(StatusCode::OK, &object),
            Err(refusal) => refused(refusal),
        }
    }

    /// Every change after revision `from` (with `from` 0: what there is now, as ADDED), then
    /// each change as it happens.
    fn watch(&self, target: Target, selector: Selector, from: u64) -> Response<Body> {
        let initial: Vec<Bytes> = if from == 0 {
            let state = self.state();
            state
                .objects
                .iter()
                .filter(|(key, object)| target.holds(key) && selector.matches(object))
                .map(|(_, object)| event_line("ADDED", object))
                .collect()
        } else {
            Vec::new()
        };
        let api = self.clone();
        let start = if from == 0 {
            self.state().revision
        } else {
            from
        };
        let later = futures::stream::unfold(start, move |seen| {
            let api = api.clone();
            let target = target.clone();
            let selector = selector.clone();
            async move {
                loop {
                    let changed = api.changed.notified();
                    tokio::pin!(changed);
                    changed.as_mut().enable();
                    let next = api.state().events.iter().find_map(|event| {
                        (event.revision > seen
                            && target.holds(&event.key)
                            && selector.matches(&event.object))
                        .then(|| (event.revision, event_line(event.kind, &event.object)))
                    });
                    if let Some((revision, line)) = next {
                        return Some((line, revision));
                    }
                    changed.await;
                }
            }
        });
        let lines = futures::stream::iter(initial)
            .chain(later)
            .map(|line| Ok(http_body::Frame::data(line)));
        Response::builder()
            .status(StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(BodyExt::boxed_unsync(StreamBody::new(lines)))
            .expect("a response of parts that are valid")
    }
}

impl State {
    fn read(&self, key: &Key) -> Answer {
        self.objects.get(key).cloned().ok_or_else(|| not_found(key))
    }

    fn list(&self, target: &Target, selector: &Selector) -> Value {
        let items: Vec<&Value> = self
            .objects
            .iter()
            .filter(|(key, object)| target.holds(key) && selector.matches(object))
            .map(|(_, object)| object)
            .collect();
        json!({"apiVersion": "v1", "kind": "List",
            "metadata": {"resourceVersion": self.revision.to_string()}, "items": items})
    }

    fn create(&mut self, key: Key, mut object: Value, manager: &str, dry_run: bool) -> Answer {
        if self.objects.contains_key(&key) {
            return Err(Refusal(
                StatusCode::CONFLICT,
                "AlreadyExists",
                format!("{} \"{}\" already exists", key.plural, key.name),
            ));
        }
        if let Some(namespace) = &key.namespace {
            let namespaces = Key {
                group: String::new(),
                plural: "namespaces".into(),
                namespace: None,
                name: namespace.clone(),
            };
            if !self.objects.contains_key(&namespaces) {
                return Err(not_found(&namespaces));
            }
            object["metadata"]["namespace"] = json!(namespace);
        }
        let fields = leaves(&object);
        let metadata = &mut object["metadata"];
        for owned in SERVER_FIELDS {
            metadata.as_object_mut().map(|m| m.remove(*owned));
        }
        self.uids += 1;
        metadata["uid"] = json!(format!("uid-{}", self.uids));
        metadata["generation"] = json!(1);
        metadata["creationTimestamp"] = json!(now());
        set_managers(&mut object, &[Manager::new(manager, "Update", fields)]);
        if dry_run {
            return Ok(object);
        }
        Ok(self.store(key, object, "ADDED"))
    }

    fn replace(&mut self, key: Key, object: Value, manager: &str, dry_run: bool) -> Answer {
        let live = self.read(&key)?;
        if let Some(version) = object.pointer("/metadata/resourceVersion")
            && *version != live["metadata"]["resourceVersion"]
        {
            return Err(modified(&key));
        }
        self.update(key, live, object, manager, dry_run)
    }

    fn merge(&mut self, key: Key, patch: &Value, manager: &str, dry_run: bool) -> Answer {
        let live = self.read(&key)?;
        let mut object = live.clone();
        merge_patch(&mut object, patch);
        self.update(key, live, object, manager, dry_run)
    }

    /// Writes `object` over `live` as `manager`'s update: it takes the fields it changes.
    fn update(
        &mut self,
        key: Key,
        live: Value,
        mut object: Value,
        manager: &str,
        dry_run: bool,
    ) -> Answer {
        keep_server_fields(&mut object, &live);
        let before = leaves(&live);
        let after = leaves(&object);
        let changed: BTreeSet<Path> = before
            .symmetric_difference(&after)
            .chain(
                after
                    .iter()
                    .filter(|p| field(&live, p) != field(&object, p)),
            )
            .cloned()
            .collect();
        let mut managers = managers_of(&live);
        for other in &mut managers {
            other.fields.retain(|p| !changed.contains(p));
        }
        match managers
            .iter_mut()
            .find(|m| m.name == manager && m.operation == "Update")
        {
            Some(entry) => entry
                .fields
                .extend(changed.iter().filter(|p| after.contains(*p)).cloned()),
            None => managers.push(Manager::new(
                manager,
                "Update",
                changed.into_iter().filter(|p| after.contains(p)).collect(),
            )),
        }
        set_managers(&mut object, &managers);
        self.write(key, live, object, dry_run)
    }

    fn apply(
        &mut self,
        key: Key,
        applied: Value,
        manager: &str,
        force: bool,
        dry_run: bool,
    ) -> Answer {
        let Some(live) = self.objects.get(&key).cloned() else {
            let mut object = self.create(key.clone(), applied, manager, true)?;
            let fields = leaves(&object);
            set_managers(&mut object, &[Manager::new(manager, "Apply", fields)]);
            if dry_run {
                return Ok(object);
            }
            return Ok(self.store(key, object, "ADDED"));
        };
        if let Some(version) = applied.pointer("/metadata/resourceVersion")
            && *version != live["metadata"]["resourceVersion"]
        {
            return Err(modified(&key));
        }
        let fields = leaves(&applied);
        let mut managers = managers_of(&live);
        let mine = |m: &Manager| m.name == manager && m.operation == "Apply";
        let conflicts: Vec<String> = managers
            .iter()
            .filter(|m| !mine(m))
            .flat_map(|m| {
                m.fields
                    .iter()
                    .filter(|p| fields.contains(*p) && field(&live, p) != field(&applied, p))
                    .map(|p| format!("conflict with \"{}\": .{}", m.name, p.join(".")))
                    .collect::<Vec<_>>()
            })
            .collect();
        if !conflicts.is_empty() && !force {
            return Err(Refusal(
                StatusCode::CONFLICT,
                "Conflict",
                format!(
                    "Apply failed with {} conflict(s): {}",
                    conflicts.len(),
                    conflicts.join(", ")
                ),
            ));
        }
        // Forced, the conflicting fields become this manager's alone.
        for other in managers.iter_mut().filter(|m| !mine(m)) {
            other
                .fields
                .retain(|p| !fields.contains(p) || field(&live, p) == field(&applied, p));
        }
        let before = managers
            .iter()
            .find(|m| mine(m))
            .map(|m| m.fields.clone())
            .unwrap_or_default();
        let held_by_others: BTreeSet<&Path> = managers
            .iter()
            .filter(|m| !mine(m))
            .flat_map(|m| &m.fields)
            .collect();
        let mut object = live.clone();
        for dropped in before.difference(&fields) {
            if !held_by_others.contains(dropped) {
                remove_field(&mut object, dropped);
            }
        }
        for path in &fields {
            set_field(
                &mut object,
                path,
                field(&applied, path).cloned().unwrap_or(Value::Null),
            );
        }
        managers.retain(|m| !mine(m));
        managers.push(Manager::new(manager, "Apply", fields));
        set_managers(&mut object, &managers);
        self.write(key, live, object, dry_run)
    }

    /// Stores a changed object (nothing when it did not change), counting a generation for a
    /// change outside metadata and status, and ending it when its last finalizer went after
    /// its deletion.
    fn write(&mut self, key: Key, live: Value, mut object: Value, dry_run: bool) -> Answer {
        if object == live {
            return Ok(live);
        }
        let spec = |o: &Value| {
            let mut o = o.clone();
            o.as_object_mut().map(|m| {
                m.remove("metadata");
                m.remove("status")
            });
            o
        };
        if spec(&object) != spec(&live) {
            let generation = live["metadata"]["generation"].as_u64().unwrap_or(1);
            object["metadata"]["generation"] = json!(generation + 1);
        }
        if dry_run {
            return Ok(object);
        }
        let finalized = object.pointer("/metadata/deletionTimestamp").is_some()
            && object
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
        if finalized {
            return Ok(self.remove(&key));
        }
        Ok(self.store(key, object, "MODIFIED"))
    }

    fn delete(&mut self, key: Key, options: &Value) -> Answer {
        let live = self.read(&key)?;
        for (precondition, field, said) in [
            ("uid", "uid", ("UID", "deleted and then recreated")),
            (
                "resourceVersion",
                "resourceVersion",
                ("ResourceVersion", "modified"),
            ),
        ] {
            if let Some(wanted) = options.pointer(&format!("/preconditions/{precondition}"))
                && let Some(wanted) = wanted.as_str()
                && Some(wanted) != live["metadata"][field].as_str()
            {
                let (name, might) = said;
                return Err(Refusal(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!(
                        "Operation cannot be fulfilled on {} \"{}\": the {name} in the precondition ({wanted}) does not match the {name} in record ({}). The object might have been {might}",
                        key.plural,
                        key.name,
                        text(&live, &format!("/metadata/{field}"))
                    ),
                ));
            }
        }
        let dry_run = options
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|v| v == "All"));
        if dry_run {
            return Ok(live);
        }
        if key.plural == "namespaces" && key.group.is_empty() {
            let held: Vec<Key> = self
                .objects
                .keys()
                .filter(|k| k.namespace.as_deref() == Some(key.name.as_str()))
                .cloned()
                .collect();
            for resident in held {
                self.remove(&resident);
            }
            return Ok(self.remove(&key));
        }
        let finalizers = live
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if !finalizers {
            return Ok(self.remove(&key));
        }
        if live.pointer("/metadata/deletionTimestamp").is_some() {
            return Ok(live);
        }
        let mut object = live;
        object["metadata"]["deletionTimestamp"] = json!(now());
        Ok(self.store(key, object, "MODIFIED"))
    }

    /// Keeps `object` at the next revision and tells the watches.
    fn store(&mut self, key: Key, mut object: Value, kind: &'static str) -> Value {
        self.revision += 1;
        object["metadata"]["resourceVersion"] = json!(self.revision.to_string());
        self.events.push(Event {
            revision: self.revision,
            key: key.clone(),
            kind,
            object: object.clone(),
        });
        self.objects.insert(key, object.clone());
        object
    }

    fn remove(&mut self, key: &Key) -> Value {
        let mut object = self.objects.remove(key).expect("the object exists");
        self.revision += 1;
        object["metadata"]["resourceVersion"] = json!(self.revision.to_string());
        self.events.push(Event {
            revision: self.revision,
            key: key.clone(),
            kind: "DELETED",
            object: object.clone(),
        });
        object
    }
}

/// Metadata the API server sets, whatever a write carries.
const SERVER_FIELDS: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
];

fn keep_server_fields(object: &mut Value, live: &Value) {
    for owned in SERVER_FIELDS {
        match live["metadata"].get(*owned) {
            Some(value) => object["metadata"][*owned] = value.clone(),
            None => {
                object["metadata"].as_object_mut().map(|m| m.remove(*owned));
            }
        }
    }
}

/// A field manager's entry in `metadata.managedFields`.
struct Manager {
    name: String,
    operation: String,
    fields: BTreeSet<Path>,
}

impl Manager {
    fn new(name: &str, operation: &str, fields: BTreeSet<Path>) -> Self {
        Self {
            name: name.into(),
            operation: operation.into(),
            fields,
        }
    }
}

fn managers_of(object: &Value) -> Vec<Manager> {
    let entries = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    entries
        .iter()
        .map(|entry| {
            let mut fields = BTreeSet::new();
            owned_paths(&entry["fieldsV1"], &mut Vec::new(), &mut fields);
            Manager::new(
                entry["manager"].as_str().unwrap_or_default(),
                entry["operation"].as_str().unwrap_or_default(),
                fields,
            )
        })
        .collect()
}

fn set_managers(object: &mut Value, managers: &[Manager]) {
    let entries: Vec<Value> = managers
        .iter()
        .filter(|m| !m.fields.is_empty())
        .map(|m| {
            let mut tree = json!({});
            for path in &m.fields {
                let mut node = &mut tree;
                for key in path {
                    node = &mut node[format!("f:{key}")];
                    if node.is_null() {
                        *node = json!({});
                    }
                }
            }
            json!({"manager": m.name, "operation": m.operation, "apiVersion": "v1",
                "fieldsType": "FieldsV1", "fieldsV1": tree, "time": now()})
        })
        .collect();
    // A manager's time changes only with its fields: an apply that changes nothing writes
    // nothing.
    let old = managers_of(object);
    let unchanged = old.len() == entries.len()
        && old
            .iter()
            .zip(managers.iter().filter(|m| !m.fields.is_empty()))
            .all(|(a, b)| a.name == b.name && a.operation == b.operation && a.fields == b.fields);
    if !unchanged {
        object["metadata"]["managedFields"] = Value::Array(entries);
    }
}

/// The leaf paths of a `fieldsV1` tree: `{"f:data": {"f:k": {}}}` holds `data.k`.
fn owned_paths(tree: &Value, at: &mut Path, out: &mut BTreeSet<Path>) {
    let children: Vec<(&String, &Value)> = tree
        .as_object()
        .map(|m| m.iter().filter(|(k, _)| k.starts_with("f:")).collect())
        .unwrap_or_default();
    if children.is_empty() {
        if !at.is_empty() {
            out.insert(at.clone());
        }
        return;
    }
    for (key, child) in children {
        at.push(key["f:".len()..].to_owned());
        owned_paths(child, at, out);
        at.pop();
    }
}

/// The fields a write sets: every leaf, a list being one, what the server owns left out.
fn leaves(object: &Value) -> BTreeSet<Path> {
    fn walk(value: &Value, at: &mut Path, out: &mut BTreeSet<Path>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, child) in map {
                    at.push(key.clone());
                    walk(child, at, out);
                    at.pop();
                }
            }
            _ => {
                out.insert(at.clone());
            }
        }
    }
    let mut out = BTreeSet::new();
    let Some(map) = object.as_object() else {
        return out;
    };
    for (key, child) in map {
        if matches!(key.as_str(), "apiVersion" | "kind" | "status") {
            continue;
        }
        let mut at = vec![key.clone()];
        if key == "metadata" {
            for (meta, value) in child.as_object().into_iter().flatten() {
                if matches!(meta.as_str(), "name" | "namespace")
                    || SERVER_FIELDS.contains(&meta.as_str())
                {
                    continue;
                }
                at.push(meta.clone());
                walk(value, &mut at, &mut out);
                at.pop();
            }
        } else {
            walk(child, &mut at, &mut out);
        }
    }
    out
}

fn field<'v>(object: &'v Value, path: &Path) -> Option<&'v Value> {
    path.iter().try_fold(object, |node, key| node.get(key))
}

fn set_field(object: &mut Value, path: &Path, value: Value) {
    let mut node = object;
    for key in path {
        if !node.is_object() {
            *node = json!({});
        }
        node = node
            .as_object_mut()
            .expect("made an object")
            .entry(key.clone())
            .or_insert(Value::Null);
    }
    *node = value;
}

fn remove_field(object: &mut Value, path: &Path) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = object;
    for key in parents {
        match node.get_mut(key) {
            Some(child) => node = child,
            None => return,
        }
    }
    if let Some(map) = node.as_object_mut() {
        map.remove(last);
    }
}

/// RFC 7386.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("made an object");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// What a URL names: a resource, maybe in a namespace, maybe one object of it.
#[derive(Clone)]
struct Target {
    group: String,
    plural: String,
    namespace: Option<String>,
    name: Option<String>,
}

impl Target {
    fn of(path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (group, rest) = match segments.as_slice() {
            ["api", _version, rest @ ..] => ("", rest),
            ["apis", group, _version, rest @ ..] => (*group, rest),
            _ => return None,
        };
        let (namespace, rest) = match rest {
            ["namespaces", namespace, rest @ ..] if !rest.is_empty() => (Some(*namespace), rest),
            _ => (None, rest),
        };
        let (plural, name) = match rest {
            [plural] => (*plural, None),
            [plural, name] => (*plural, Some(*name)),
            _ => return None,
        };
        Some(Self {
            group: group.into(),
            plural: plural.into(),
            namespace: namespace.map(str::to_owned),
            name: name.map(str::to_owned),
        })
    }

    fn key(&self, name: String) -> Key {
        Key {
            group: self.group.clone(),
            plural: self.plural.clone(),
            namespace: self.namespace.clone(),
            name,
        }
    }

    /// Whether a list or watch of the target holds the object kept at `key`.
    fn holds(&self, key: &Key) -> bool {
        key.group == self.group
            && key.plural == self.plural
            && (self.namespace.is_none() || key.namespace == self.namespace)
            && self.name.as_ref().is_none_or(|name| *name == key.name)
    }
}

/// A list's or watch's label and field selectors.
#[derive(Clone, Default)]
struct Selector {
    labels: Vec<(String, Term)>,
    fields: Vec<(String, String)>,
}

#[derive(Clone)]
enum Term {
    Is(String),
    IsNot(String),
    Exists,
    Absent,
}

impl Selector {
    fn of(query: &HashMap<String, String>) -> Result<Self, Refusal> {
        let mut selector = Self::default();
        let terms = |name| -> Vec<String> {
            query
                .get(name)
                .map(|s| {
                    s.split(',')
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        for term in terms("labelSelector") {
            let parsed = if let Some((key, value)) = term.split_once("!=") {
                (key.to_owned(), Term::IsNot(value.to_owned()))
            } else if let Some((key, value)) = term.split_once('=') {
                (
                    key.to_owned(),
                    Term::Is(value.trim_start_matches('=').to_owned()),
                )
            } else if let Some(key) = term.strip_prefix('!') {
                (key.to_owned(), Term::Absent)
            } else if term.contains(' ') || term.contains('(') {
                return Err(Refusal(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("the in-memory API does not read the label selector term {term:?}"),
                ));
            } else {
                (term, Term::Exists)
            };
            selector.labels.push(parsed);
        }
        for term in terms("fieldSelector") {
            let Some((path, value)) = term.split_once('=') else {
                return Err(Refusal(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("the in-memory API does not read the field selector term {term:?}"),
                ));
            };
            let pointer = format!("/{}", path.replace('.', "/"));
            selector
                .fields
                .push((pointer, value.trim_start_matches('=').to_owned()));
        }
        Ok(selector)
    }

    fn matches(&self, object: &Value) -> bool {
        let label = |key: &str| {
            object
                .pointer("/metadata/labels")
                .and_then(|l| l.get(key))
                .and_then(Value::as_str)
        };
        self.labels.iter().all(|(key, term)| match term {
            Term::Is(value) => label(key) == Some(value),
            Term::IsNot(value) => label(key) != Some(value),
            Term::Exists => label(key).is_some(),
            Term::Absent => label(key).is_none(),
        }) && self.fields.iter().all(|(pointer, value)| {
            object.pointer(pointer).and_then(Value::as_str) == Some(value.as_str())
        })
    }
}

fn id_of(object: &Value) -> ObjectRef {
    ObjectRef {
        api_version: text(object, "/apiVersion").into(),
        kind: text(object, "/kind").into(),
        namespace: object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name: text(object, "/metadata/name").into(),
    }
}

fn key_of(object: &Value) -> Key {
    key_of_ref(&id_of(object))
}

fn key_of_ref(id: &ObjectRef) -> Key {
    let resource = known(&id.api_version, &id.kind)
        .unwrap_or_else(|| panic!("the in-memory API serves only known kinds, not {id}"));
    Key {
        group: resource.api.group,
        plural: resource.api.plural,
        namespace: id.namespace.clone().filter(|_| resource.namespaced),
        name: id.name.clone(),
    }
}

fn text<'v>(object: &'v Value, pointer: &str) -> &'v str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn now() -> String {
    k8s_openapi::jiff::Timestamp::now().to_string()
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object}))
        .expect("JSON values serialize");
    line.push(b'\n');
    Bytes::from(line)
}

fn not_found(key: &Key) -> Refusal {
    Refusal(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("{} \"{}\" not found", key.plural, key.name),
    )
}

fn modified(key: &Key) -> Refusal {
    Refusal(
        StatusCode::CONFLICT,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
            key.plural, key.name
        ),
    )
}

fn respond(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(BodyExt::boxed_unsync(Full::new(Bytes::from(
            serde_json::to_vec(body).expect("JSON values serialize"),
        ))))
        .expect("a response of parts that are valid")
}

fn refused(Refusal(status, reason, message): Refusal) -> Response<Body> {
    respond(
        status,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": status.as_u16()}),
    )
}

/// What the executor relies on, as scenarios run both here and against the real API server
/// (`tests/in_memory_api.rs`): where the two part, the stand-in is wrong.
pub mod semantics;

#[cfg(test)]
mod tests {
    use kube::api::Api;
    use kube::core::DynamicObject;

    use super::*;

    fn config_maps(api: &InMemoryApi) -> Api<DynamicObject> {
        let resource = known("v1", "ConfigMap").unwrap().api;
        Api::namespaced_with(api.client(), "default", &resource)
    }

    #[tokio::test]
    async fn applies_like_the_api_server() {
        semantics::apply(&config_maps(&InMemoryApi::new())).await;
    }

    #[tokio::test]
    async fn deletes_like_the_api_server() {
        semantics::delete(&config_maps(&InMemoryApi::new())).await;
    }

    #[tokio::test]
    async fn watches_like_the_api_server() {
        semantics::watch(&config_maps(&InMemoryApi::new())).await;
    }
}
