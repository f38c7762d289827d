//! skyctl: deploys the SkyPilot API server to Kubernetes without Helm.
//!
//! Data flows one way: `cli` → `values` → `render` → `plan` → `cluster` → `guide`/`ui`.
//! `docs/architecture.md` maps the modules.

pub mod chart;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod commands;
pub mod credentials;
pub mod crypto_provider;
pub mod decide;
pub mod diff;
pub mod error;
pub mod front_door;
pub mod gateway_api;
pub mod guide;
pub mod helm_release;
pub mod interrupt_point;
pub mod known_kinds;
pub mod kube_names;
pub mod manifest;
pub mod namespace_deletion;
pub mod ownership;
pub mod plan;
pub mod pod_restarts;
pub mod poll;
pub mod preflight;
pub mod progress;
pub mod redacted;
pub mod release;
pub mod render;
pub mod shared_controller;
pub mod ui;
pub mod values;
pub mod web_login;
pub mod yaml;
