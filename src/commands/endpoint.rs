use crate::cli::{ClusterArgs, EndpointArgs, OutputFormat};
use crate::error::invalid_input;
use crate::guide::health::{self, Credentials};
use crate::guide::{endpoint, password};
use crate::ui::LiveProgress;

pub async fn run(cluster: &ClusterArgs, args: EndpointArgs) -> anyhow::Result<()> {
    let client = super::connect(cluster).await?;
    let release = super::release(cluster, &args.release.release);
    // Without this, an unknown release waits for a Service that will never come.
    let history = super::existing_history(&client, &release).await?;
    let latest = history
        .latest()
        .expect("an existing history has a revision");
    let names = super::chart_names(&release, latest)?;
    let found = endpoint::wait(
        &client,
        &release,
        &names,
        args.timeout,
        &mut LiveProgress::new(),
    )
    .await?;
    for warning in &found.warnings {
        eprintln!("warning: {warning}");
    }
    let url = if args.with_credentials {
        let sources = password::Sources {
            stdin: args.auth.web_password_stdin,
            no_prompt: args.auth.yes,
        };
        // The release's own user, as its newest revision's values hold it.
        let recorded = history
            .latest()
            .and_then(|record| crate::guide::login_mode::recorded_htpasswd(&record.values));
        let username =
            crate::guide::login_mode::login_user(args.auth.web_username.as_deref(), recorded);
        let password =
            super::web_login::read_password(sources, &format!("Password of {username:?}"))?
                .ok_or_else(|| invalid_input(password::PasswordError::Missing))?;
        let credentials = Credentials {
            username,
            password: password.into(),
        };
        health::url_with_credentials(&found.url, &credentials)
    } else {
        found.url.clone()
    };
    if args.output.output == OutputFormat::Text {
        println!("{url}");
        return Ok(());
    }
    let mut value = serde_json::to_value(&found)?;
    value["url"] = url.into();
    crate::ui::print(&value, args.output.output.into())
}
