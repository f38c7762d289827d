//! The walk-through around a deployment: local credentials turned into the exact Secret
//! contents the SkyPilot pods read, and the htpasswd text for the ingress's basic auth.

pub mod aws_credentials;
pub mod basic_auth;
pub mod cloud_keys;
pub mod config_reach;
pub mod credential_secrets;
pub mod database;
pub mod endpoint;
pub mod gcp_credentials;
pub mod health;
pub mod host;
pub mod kube_credentials;
pub mod local_credentials;
pub mod login_mode;
pub mod notes;
pub mod oauth_client;
pub mod password;
pub mod skypilot_config;
pub mod slurm_config;
pub mod ssh_node_pools;
pub mod transition;
