//! The one TLS crypto provider skyctl compiles in (docs/dependencies.md).

/// Makes aws-lc-rs the process's rustls provider. kube would pick it by itself; reqwest is built
/// without a provider of its own and needs the process default, so this runs before any client
/// is built. Installing fails only if a provider is already installed, which is as good.
pub fn install() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
