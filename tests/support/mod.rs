//! What the integration tests share.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

pub mod audit;
pub mod cluster;
pub mod dataplane;
pub mod gateway;
pub mod helm;
pub mod postgres;
pub mod preflight;
pub mod release;
pub mod render;
pub mod skyctl;
