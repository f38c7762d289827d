//! The htpasswd lines skyctl refuses to deploy. A broken htpasswd (such as the seed-era
//! chart's placeholder) would lock everyone out, and chart 0.13.0's placeholder first admin has
//! a password anyone can read in its values.yaml: both are refused before anything is applied.

use serde_json::Value;

use crate::chart::Chart;
use crate::error::invalid_input;
use crate::guide::basic_auth;
use crate::values::Resolved;

/// [`check`] of a login the values given set themselves, before the cluster is asked anything.
/// (Without one, skyctl's own layer sets the login later, over the defaults' placeholder.)
pub fn check_given(given: &Resolved, chart: &Chart) -> anyhow::Result<()> {
    let set = |pointer: &str| given.user.pointer(pointer).is_some_and(|v| !v.is_null());
    if set("/ingress/authCredentials") || set("/apiService/initialBasicAuthCredentials") {
        check(&given.values, chart)
    } else {
        Ok(())
    }
}

/// Refuses values whose login no one could use safely.
pub fn check(values: &Value, chart: &Chart) -> anyhow::Result<()> {
    let text = |pointer: &str| values.pointer(pointer).and_then(Value::as_str);
    let on = |pointer: &str| values.pointer(pointer) == Some(&Value::Bool(true));
    let set = |pointer: &str| values.pointer(pointer).is_some_and(|v| !v.is_null());
    if let Some(text) = text("/ingress/authCredentials")
        && on("/ingress/enabled")
        && !set("/ingress/authSecret")
    {
        basic_auth::validate_htpasswd(text).map_err(|err| {
            invalid_input(anyhow::Error::new(err).context("ingress.authCredentials"))
        })?;
    }
    // The chart's own condition for the first admin's Secret, not the login the values choose:
    // values that turn OAuth on next to the users (which the chart does not refuse) choose
    // OAuth, yet the chart still seeds the admin from the line.
    let seeded = on("/apiService/enableUserManagement") && !on("/ingress/oauth2-proxy/enabled");
    if let Some(line) = text("/apiService/initialBasicAuthCredentials")
        && seeded
        && !set("/apiService/initialBasicAuthSecret")
    {
        let placeholder = chart
            .definition()
            .defaults()
            .get("apiService")
            .and_then(|api| api.get("initialBasicAuthCredentials"))
            .and_then(Value::as_str);
        if placeholder == Some(line) {
            return Err(invalid_input(anyhow::anyhow!(
                "apiService.initialBasicAuthCredentials is the chart's placeholder, whose \
                 password is public; drop it and skyctl makes the line from a password you \
                 give (--auth users)"
            )));
        }
        basic_auth::validate_htpasswd(line).map_err(|err| {
            invalid_input(anyhow::Error::new(err).context("apiService.initialBasicAuthCredentials"))
        })?;
    }
    Ok(())
}
