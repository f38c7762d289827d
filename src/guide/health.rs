//! The last step of an install: the API server answers `/api/health` through the ingress, with
//! basic auth, as users will reach it. When it does not, the error names the hop that is broken
//! and the kubectl command that looks closer.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::endpoint::{Endpoint, EndpointKind};
use crate::poll::{self, Poll};
use crate::progress::Progress;
use crate::redacted::Redacted;
use crate::release::Release;
use crate::render::ChartNames;

/// What a healthy server says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub commit: String,
}

/// Basic-auth credentials for the check. The password is never printed.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Redacted<String>,
}

/// Which hop failed, from the last answer (or silence) before giving up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the ingress rejected the credentials (401)")]
    CredentialsRejected,
    #[error("the endpoint is unreachable: {0}")]
    Unreachable(String),
    #[error("the front door answered {0}: the API server pod is not ready behind it")]
    ApiNotReady(u16),
    #[error("no answer in time")]
    Timeout,
    #[error("the server answered {status}: {body}")]
    Unexpected { status: u16, body: String },
}

impl Problem {
    /// The command that looks closer at the failing hop.
    /// `service`: the Service the endpoint was taken from.
    pub fn next_step(&self, release: &Release, names: &ChartNames, service: &Endpoint) -> String {
        let ns = &release.namespace;
        match self {
            Problem::CredentialsRejected => format!(
                "check the user and password; the htpasswd the ingress uses is in: kubectl get secret -n {ns} {}",
                names.basic_auth
            ),
            Problem::Unreachable(_) => match service.kind {
                EndpointKind::Gateway => format!(
                    "check the Gateway and the route: kubectl describe gateway -n {} {}; kubectl describe httproute -n {ns} {}",
                    service.service_namespace, service.service, names.http_route
                ),
                EndpointKind::Ingress => format!(
                    "check the Ingress and the controller of its class: kubectl describe ingress -n {ns} {}",
                    service.service
                ),
                EndpointKind::NodePort | EndpointKind::LoadBalancer => format!(
                    "check the Service and the controller pod: kubectl get svc -n {0} {1}; kubectl get pods -n {0} -l app.kubernetes.io/name=ingress-nginx",
                    service.service_namespace, service.service
                ),
            },
            Problem::ApiNotReady(_) => format!(
                "check the API server pod: kubectl get pods -n {ns} -l app={}; kubectl logs -n {ns} deploy/{}",
                names.api_app, names.api_server
            ),
            Problem::Timeout => {
                format!("check the network path to the node, then: kubectl get pods -n {ns}")
            }
            Problem::Unexpected { .. } => {
                format!("kubectl logs -n {ns} deploy/{}", names.api_server)
            }
        }
    }
}

/// Health never reached.
#[derive(Debug, thiserror::Error)]
#[error("the API server at {url} is not healthy after {}s: {problem}.\nNext: {next_step}", .waited.as_secs())]
pub struct Unhealthy {
    pub url: String,
    pub waited: Duration,
    pub problem: Problem,
    pub next_step: String,
}

/// The HTTP client for health checks: a request that hangs counts as a timeout.
pub fn client() -> reqwest::Client {
    builder().build().expect("an HTTP client builds")
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().timeout(Duration::from_secs(5))
}

/// [`client`] for the endpoint: where the URL's host name has to resolve to an address
/// (`resolves_to`), it connects there, DNS or not, and still asks for the name (Host header,
/// TLS server name).
pub async fn client_for(endpoint: &crate::guide::endpoint::Endpoint) -> reqwest::Client {
    let host = reqwest::Url::parse(&endpoint.url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned));
    let address = match &endpoint.resolves_to {
        // A load balancer's hostname (EKS) resolves by DNS; the first address will do.
        Some(address) => tokio::net::lookup_host(address.as_str())
            .await
            .ok()
            .and_then(|mut found| found.next()),
        None => None,
    };
    match (host, address) {
        (Some(host), Some(address)) => builder()
            .resolve(&host, address)
            .build()
            .expect("an HTTP client builds"),
        _ => client(),
    }
}

/// Asks once.
pub async fn check(
    http: &reqwest::Client,
    url: &str,
    credentials: Option<&Credentials>,
) -> Result<Health, Problem> {
    let mut request = http.get(format!("{url}/api/health"));
    if let Some(credentials) = credentials {
        request = request.basic_auth(&credentials.username, Some(credentials.password.expose()));
    }
    let response = request.send().await.map_err(|err| {
        if err.is_timeout() {
            Problem::Timeout
        } else {
            Problem::Unreachable(root_cause(&err))
        }
    })?;
    let status = response.status().as_u16();
    match status {
        200 => {
            let body = response
                .text()
                .await
                .map_err(|err| Problem::Unreachable(root_cause(&err)))?;
            let health: Health = serde_json::from_str(&body).map_err(|_| Problem::Unexpected {
                status,
                body: short(&body),
            })?;
            if health.status == "healthy" {
                Ok(health)
            } else {
                Err(Problem::Unexpected {
                    status,
                    body: short(&body),
                })
            }
        }
        401 => Err(Problem::CredentialsRejected),
        502..=504 => Err(Problem::ApiNotReady(status)),
        _ => Err(Problem::Unexpected {
            status,
            body: short(&response.text().await.unwrap_or_default()),
        }),
    }
}

/// The version headers of a SkyPilot client: with them the server tells a request that has not
/// logged in from one that has, and says which logins it runs. API version 30 is one every
/// server accepts from 0.11 (which requires 24) on, and late enough for `needs_auth` (14).
const CLIENT_VERSION_HEADERS: [(&str, &str); 2] = [
    ("X-SkyPilot-API-Version", "30"),
    ("X-SkyPilot-Version", "0.11.0"),
];

/// What the server says about the login, asked as a client would: a check of the login mode
/// after the health check passed. `Err` when it does not answer in the client's terms.
pub async fn login_seen(
    http: &reqwest::Client,
    url: &str,
    credentials: Option<&Credentials>,
) -> anyhow::Result<crate::guide::login_mode::Seen> {
    #[derive(Deserialize)]
    struct User {
        name: Option<String>,
    }
    #[derive(Deserialize)]
    struct Answer {
        status: String,
        #[serde(default)]
        basic_auth_enabled: bool,
        #[serde(default)]
        external_proxy_auth_enabled: bool,
        user: Option<User>,
    }
    let mut request = http.get(format!("{url}/api/health"));
    for (name, value) in CLIENT_VERSION_HEADERS {
        request = request.header(name, value);
    }
    if let Some(credentials) = credentials {
        request = request.basic_auth(&credentials.username, Some(credentials.password.expose()));
    }
    let response = request.send().await?.error_for_status()?;
    let answer: Answer = response.json().await?;
    Ok(crate::guide::login_mode::Seen {
        status: answer.status,
        basic_auth_enabled: answer.basic_auth_enabled,
        external_proxy_auth_enabled: answer.external_proxy_auth_enabled,
        user: answer.user.and_then(|user| user.name),
    })
}

/// How long a 401 may be the ingress still using the login it had: ingress-nginx watches the
/// basic-auth Secret and reloads a changed htpasswd within a few seconds of the write.
pub const LOGIN_RELOAD_GRACE: Duration = Duration::from_secs(10);

/// How long the health check waits.
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    pub timeout: Duration,
    /// Rejected credentials end the wait once this has passed: after that, retrying cannot fix
    /// them. [`LOGIN_RELOAD_GRACE`] when this run changed the login, zero when the ingress
    /// already has it.
    pub rejected_grace: Duration,
}

/// Polls until healthy, or until `patience` runs out.
pub async fn wait(
    http: &reqwest::Client,
    release: &Release,
    names: &ChartNames,
    endpoint: &Endpoint,
    credentials: Option<&Credentials>,
    patience: Patience,
    progress: &mut dyn Progress,
) -> Result<Health, Unhealthy> {
    let Patience {
        timeout,
        rejected_grace,
    } = patience;
    let url = endpoint.url.as_str();
    let started = Instant::now();
    let item = format!("{url}/api/health");
    let unhealthy = |problem: Problem| Unhealthy {
        url: url.to_owned(),
        waited: started.elapsed(),
        next_step: problem.next_step(release, names, endpoint),
        problem,
    };
    let outcome = poll::until(timeout, async || {
        match check(http, url, credentials).await {
            Ok(health) => {
                progress.done(&item, "healthy");
                Ok(Poll::Ready(health))
            }
            Err(Problem::CredentialsRejected) if started.elapsed() >= rejected_grace => {
                Err(Problem::CredentialsRejected)
            }
            Err(problem) => {
                let reason = if problem == Problem::CredentialsRejected {
                    format!("{problem}; the ingress may not have loaded the new login yet")
                } else {
                    problem.to_string()
                };
                progress.pending(&item, &reason);
                Ok(Poll::Pending(problem))
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok(health)) => Ok(health),
        Ok(Err(problem)) | Err(problem) => Err(unhealthy(problem)),
    }
}

/// The innermost cause, which says "Connection refused" where reqwest's own message does not.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn short(body: &str) -> String {
    body.chars().take(200).collect()
}

/// The line users run to log in. The password is left for them to fill in: skyctl never
/// prints it.
pub fn login_command(url: &str, username: Option<&str>) -> String {
    match username {
        Some(user) => {
            let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
            format!("sky api login -e {scheme}://{user}:<password>@{rest}")
        }
        None => format!("sky api login -e {url}"),
    }
}

/// The endpoint with the credentials in it, for `endpoint --with-credentials`. Characters that
/// URLs reserve are percent-encoded, so any password survives.
pub fn url_with_credentials(url: &str, credentials: &Credentials) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    format!(
        "{scheme}://{}:{}@{rest}",
        encode(&credentials.username),
        encode(&credentials.password)
    )
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> Release {
        Release {
            name: "sky".into(),
            namespace: "ops".into(),
        }
    }

    fn at(url: String) -> Endpoint {
        Endpoint {
            url,
            kind: super::super::endpoint::EndpointKind::NodePort,
            service: "sky-ingress-nginx-controller".into(),
            service_namespace: "ops".into(),
            resolves_to: None,
            warnings: vec![],
        }
    }

    fn names() -> ChartNames {
        ChartNames::new(&release(), &serde_json::json!({}))
    }

    #[test]
    fn each_failure_points_at_its_hop() {
        assert!(
            Problem::CredentialsRejected
                .next_step(&release(), &names(), &at("http://x".into()))
                .contains("kubectl get secret -n ops sky-basic-auth")
        );
        assert!(
            Problem::Unreachable("refused".into())
                .next_step(&release(), &names(), &at("http://x".into()))
                .contains("kubectl get svc -n ops sky-ingress-nginx-controller;")
        );
        assert!(
            Problem::ApiNotReady(503)
                .next_step(&release(), &names(), &at("http://x".into()))
                .contains("deploy/sky-api-server")
        );
        let gateway = Endpoint {
            kind: EndpointKind::Gateway,
            service: "public".into(),
            service_namespace: "infra".into(),
            ..at("http://x".into())
        };
        assert!(
            Problem::Unreachable("refused".into())
                .next_step(&release(), &names(), &gateway)
                .contains(
                    "kubectl describe gateway -n infra public; kubectl describe httproute -n ops sky-api-route"
                )
        );
        assert_eq!(
            Problem::ApiNotReady(502).to_string(),
            "the front door answered 502: the API server pod is not ready behind it"
        );
    }

    /// An ingress on loopback that answers 401 to the first `rejections` requests, as one that
    /// has not loaded the new htpasswd yet, and then lets them through to a healthy server.
    fn ingress_that_reloads_after(rejections: usize) -> String {
        use std::io::{Read, Write};
        // What main does before any client is built: skyctl compiles in one provider.
        crate::crypto_provider::install();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for (answered, stream) in listener.incoming().enumerate() {
                let mut stream = stream.unwrap();
                let mut request = Vec::new();
                let mut buffer = [0; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    let n = stream.read(&mut buffer).unwrap();
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..n]);
                }
                let (status, body) = if answered < rejections {
                    ("401 Unauthorized", "")
                } else {
                    (
                        "200 OK",
                        r#"{"status":"healthy","version":"0.14.1","commit":"abc"}"#,
                    )
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    }

    fn credentials() -> Credentials {
        Credentials {
            username: "skypilot".into(),
            password: "new password".to_owned().into(),
        }
    }

    #[tokio::test]
    async fn a_401_ends_the_wait_at_once_without_a_grace() {
        let url = ingress_that_reloads_after(2);
        let unhealthy = wait(
            &client(),
            &release(),
            &names(),
            &at(url),
            Some(&credentials()),
            Patience {
                timeout: Duration::from_secs(30),
                rejected_grace: Duration::ZERO,
            },
            &mut crate::progress::Silent,
        )
        .await
        .unwrap_err();
        assert_eq!(unhealthy.problem, Problem::CredentialsRejected);
        assert!(unhealthy.waited < Duration::from_secs(5), "{unhealthy:?}");
    }

    #[tokio::test]
    async fn within_the_grace_a_401_is_the_ingress_still_loading_the_login() {
        let url = ingress_that_reloads_after(2);
        let health = wait(
            &client(),
            &release(),
            &names(),
            &at(url),
            Some(&credentials()),
            Patience {
                timeout: Duration::from_secs(30),
                rejected_grace: LOGIN_RELOAD_GRACE,
            },
            &mut crate::progress::Silent,
        )
        .await
        .unwrap();
        assert_eq!(health.status, "healthy");
    }

    #[tokio::test]
    async fn after_the_grace_a_401_is_reported_before_the_timeout() {
        let url = ingress_that_reloads_after(usize::MAX);
        let unhealthy = wait(
            &client(),
            &release(),
            &names(),
            &at(url),
            Some(&credentials()),
            Patience {
                timeout: Duration::from_secs(30),
                rejected_grace: Duration::from_secs(1),
            },
            &mut crate::progress::Silent,
        )
        .await
        .unwrap_err();
        assert_eq!(unhealthy.problem, Problem::CredentialsRejected);
        assert!(
            unhealthy.waited >= Duration::from_secs(1)
                && unhealthy.waited < Duration::from_secs(10),
            "{unhealthy:?}"
        );
    }

    #[test]
    fn the_login_line_never_holds_the_password() {
        assert_eq!(
            login_command("http://127.0.0.1:30050", Some("skypilot")),
            "sky api login -e http://skypilot:<password>@127.0.0.1:30050"
        );
        assert_eq!(
            login_command("http://lb.example.com", None),
            "sky api login -e http://lb.example.com"
        );
    }

    #[test]
    fn credentials_in_a_url_are_percent_encoded() {
        let credentials = Credentials {
            username: "sky".into(),
            password: "p@ss:w/rd".to_owned().into(),
        };
        assert_eq!(
            url_with_credentials("http://h:1", &credentials),
            "http://sky:p%40ss%3Aw%2Frd@h:1"
        );
        assert!(
            !format!("{credentials:?}").contains("p@ss"),
            "Debug hides the password"
        );
    }
}
