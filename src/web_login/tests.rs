//! What `decide` reads, in which order, and what it refuses before reading anything.

use serde_json::{Value, json};

use super::*;

/// Answers from a script, and notes each read in order.
#[derive(Default)]
struct Script {
    password: Option<String>,
    client_secret: Option<String>,
    answers: Vec<&'static str>,
    reads: Vec<String>,
}

impl Reader for Script {
    fn password(&mut self, prompt: &str) -> anyhow::Result<Option<String>> {
        self.reads.push(format!("password {prompt}"));
        Ok(self.password.clone())
    }

    fn client_secret(&mut self) -> anyhow::Result<Option<String>> {
        self.reads.push("client secret".into());
        Ok(self.client_secret.clone())
    }

    fn ask(&mut self, question: &str) -> anyhow::Result<String> {
        self.reads.push(format!("ask {question}"));
        Ok(self.answers.remove(0).into())
    }

    fn ask_hidden(&mut self, question: &str) -> anyhow::Result<String> {
        self.reads.push(format!("ask hidden {question}"));
        Ok(self.answers.remove(0).into())
    }
}

fn resolved(user: Value) -> Resolved {
    Resolved {
        values: user.clone(),
        user,
    }
}

fn run(
    request: &Request,
    choice: Choice,
    recorded: Option<Value>,
    script: &mut Script,
) -> anyhow::Result<WebLogin> {
    let none = resolved(json!({}));
    decide(
        request,
        choice,
        "sky",
        &none,
        &none,
        recorded.as_ref(),
        script,
    )
}

fn by(mode: Mode, by: ChosenBy) -> Choice {
    Choice { mode, by }
}

#[test]
fn a_stray_flag_is_refused_before_anything_is_read() {
    let request = Request {
        mode: Some(Mode::Oauth),
        password_stdin: true,
        ..Request::default()
    };
    let mut script = Script::default();
    let err = run(&request, by(Mode::Oauth, ChosenBy::Flag), None, &mut script)
        .err()
        .expect("refused");
    assert_eq!(
        err.to_string(),
        "--web-password-stdin is for --auth basic or users, but this release's login is \
         oauth; drop --web-password-stdin"
    );
    assert!(script.reads.is_empty(), "{:?}", script.reads);
}

#[test]
fn a_new_basic_login_without_a_password_names_the_ways_to_give_one() {
    let mut script = Script::default();
    let err = run(
        &Request::default(),
        by(Mode::Basic, ChosenBy::Default),
        None,
        &mut script,
    )
    .err()
    .expect("refused");
    assert!(
        err.to_string()
            .ends_with("environment variable; or choose another login with --auth"),
        "{err}"
    );
    assert!(err.chain().any(|c| c.is::<crate::error::InvalidInput>()));
    assert_eq!(
        script.reads,
        ["password Password for the web login \"skypilot\""]
    );
}

#[test]
fn an_upgrade_given_no_password_keeps_the_recorded_line_without_asking() {
    let recorded = json!({"ingress": {"authCredentials": "ada:$2y$10$recorded"}});
    let mut script = Script::default();
    let login = run(
        &Request::default(),
        by(Mode::Basic, ChosenBy::Record),
        Some(recorded),
        &mut script,
    )
    .unwrap();
    assert!(script.reads.is_empty(), "{:?}", script.reads);
    assert!(!login.changed && login.credentials.is_none());
    let layer = login.layer.expect("the recorded line");
    assert_eq!(layer.label, "the web login the release recorded");
    assert_eq!(
        layer.values["ingress"]["authCredentials"],
        "ada:$2y$10$recorded"
    );
}

#[test]
fn oauth_without_an_issuer_off_a_terminal_is_refused_before_the_secret_is_read() {
    let request = Request {
        mode: Some(Mode::Oauth),
        ..Request::default()
    };
    let mut script = Script::default();
    let err = run(&request, by(Mode::Oauth, ChosenBy::Flag), None, &mut script)
        .err()
        .expect("refused");
    assert_eq!(
        err.to_string(),
        "--auth oauth needs the OIDC issuer: pass --oauth-issuer-url"
    );
    assert!(script.reads.is_empty(), "{:?}", script.reads);
}

#[test]
fn oauth_on_a_terminal_asks_the_issuer_then_reads_the_secret_then_asks_the_client_id() {
    let request = Request {
        mode: Some(Mode::Oauth),
        on_terminal: true,
        ..Request::default()
    };
    let mut script = Script {
        client_secret: Some("s3cr3t".into()),
        answers: vec!["https://idp.example", " client "],
        ..Script::default()
    };
    let login = run(&request, by(Mode::Oauth, ChosenBy::Flag), None, &mut script).unwrap();
    assert_eq!(
        script.reads,
        [
            "ask OIDC issuer URL (e.g. https://example.okta.com):",
            "client secret",
            "ask OAuth client id:",
        ]
    );
    let client = login.oauth_client.expect("a client to store");
    assert_eq!(client.id, "client");
    let oauth = &login.layer.expect("the OAuth values").values["auth"]["oauth"];
    assert_eq!(oauth["oidc-issuer-url"], "https://idp.example");
    assert_eq!(
        oauth["client-details-from-secret"],
        crate::guide::oauth_client::secret_name("sky")
    );
}

#[test]
fn oauth_given_only_the_secret_in_the_environment_keeps_the_recorded_client() {
    let recorded = json!({"auth": {"oauth": {
        "enabled": true,
        "oidc-issuer-url": "https://idp.example",
        "client-details-from-secret": "theirs",
    }}});
    let mut script = Script {
        client_secret: Some("from a CI job".into()),
        ..Script::default()
    };
    let login = run(
        &Request::default(),
        by(Mode::Oauth, ChosenBy::Record),
        Some(recorded),
        &mut script,
    )
    .unwrap();
    assert_eq!(script.reads, ["client secret"]);
    assert!(login.oauth_client.is_none());
    let oauth = &login.layer.expect("the OAuth values").values["auth"]["oauth"];
    assert_eq!(oauth["client-details-from-secret"], "theirs");
}
