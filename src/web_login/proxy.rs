//! An auth proxy in front: the header it passes the identity in.

use serde_json::Value;

use super::{Choice, Request, WebLogin, layer, nothing};
use crate::error::invalid_input;
use crate::guide::login_mode::{HeaderFormat, Login};
use crate::values::Resolved;

/// The header oauth2-proxy, the usual proxy in front, passes the identity in.
pub(super) const DEFAULT_HEADER: &str = "X-Auth-Request-Email";

pub(super) fn login(
    request: &Request,
    choice: Choice,
    user: &Resolved,
    recorded: Option<&Value>,
) -> anyhow::Result<WebLogin> {
    let recorded_key = |key: &str| {
        recorded
            .and_then(|values| values.pointer(&format!("/auth/externalProxy/{key}")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let header_name = request
        .proxy
        .header
        .clone()
        .or_else(|| recorded_key("headerName"))
        .unwrap_or_else(|| DEFAULT_HEADER.to_owned());
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if header_name.is_empty() || !header_name.chars().all(token) {
        return Err(invalid_input(anyhow::anyhow!(
            "--proxy-header {header_name:?} is not an HTTP header name"
        )));
    }
    let header_format = match (request.proxy.header_format, recorded_key("headerFormat")) {
        (Some(format), _) => format,
        (None, Some(format)) if format == "jwt" => HeaderFormat::Jwt,
        _ => HeaderFormat::Plaintext,
    };
    let label = format!("an auth proxy in front, identity in {header_name} (--auth proxy)");
    Ok(WebLogin {
        layer: layer(
            choice,
            Login::Proxy {
                header_name,
                header_format,
            },
            user,
            label,
        ),
        ..nothing(choice)
    })
}
