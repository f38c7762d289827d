//! The command line: every verb, flag and help text skyctl has.

use std::path::PathBuf;

use std::num::IntErrorKind;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::kube_names::{self, NameKind};

/// Deploys the SkyPilot API server, with ingress-nginx in front of it, to Kubernetes.
///
/// skyctl renders the same objects as the SkyPilot Helm chart from the same values files and
/// `--set` flags, applies them with server-side apply, tracks each release, and walks you through
/// credentials, basic auth, the endpoint and the health check.
#[derive(Debug, Parser)]
#[command(name = "skyctl", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Where to find the cluster; kubectl's flags and rules.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file to use instead of $KUBECONFIG or ~/.kube/config
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context to use instead of the current one
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Namespace of the release
    #[arg(
        short,
        long,
        global = true,
        default_value = "skypilot",
        value_parser = parse_namespace,
        value_name = "NAME"
    )]
    pub namespace: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install a release: render, apply, wait, and check the API server's health
    #[command(
        after_help = "Examples:\n  skyctl install -f values.yaml\n  skyctl install --set ingress-nginx.controller.service.type=LoadBalancer --create-namespace"
    )]
    Install(InstallArgs),
    /// Upgrade a release to new values or a new skyctl version
    ///
    /// Given no values, an upgrade reuses the values of the deployed revision, as Helm does;
    /// given any, it starts again from the defaults unless --reuse-values or
    /// --reset-then-reuse-values says otherwise. Objects that did not change are not sent again;
    /// with nothing to change, an upgrade makes no write at all and records no new revision.
    #[command(
        after_help = "Examples:\n  skyctl upgrade                                  # new skyctl version, same values\n  skyctl upgrade --set apiService.replicas=2 --reuse-values\n  skyctl upgrade -f values.yaml --dry-run --diff\n  skyctl upgrade --install -f values.yaml --create-namespace"
    )]
    Upgrade(UpgradeArgs),
    /// Remove a release and everything it applied (its data volume only when asked)
    Uninstall(UninstallArgs),
    /// Return a release to an earlier revision (by default the one before the current)
    Rollback(RollbackArgs),
    /// Show a release's revision, readiness, endpoint and health
    Status(StatusArgs),
    /// List releases: in the namespace, or in every namespace with -A
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show a release's revisions
    History(HistoryArgs),
    /// Show what a release recorded
    Get {
        #[command(subcommand)]
        command: GetCommand,
    },
    /// Print the objects that install would apply, as YAML, without a cluster
    Template(TemplateArgs),
    /// Take over a release that Helm installed: its values, its objects and its login
    ///
    /// Reads Helm's record of the release (its Secrets, or ConfigMaps with Helm's ConfigMap
    /// driver), maps its chart to a version skyctl has, applies the same objects as skyctl's
    /// (forcing, so Helm's field manager owns nothing skyctl sets), removes Helm's marks and
    /// what Helm made that skyctl does not render (the admission certgen Jobs and their RBAC),
    /// records revision 1 with Helm's values, and retires Helm's records. The data volume is
    /// never touched. Safe to run again after an interruption: it picks up where it stopped.
    ///
    /// -f and --set change Helm's values as they would a release's recorded ones: a key Helm
    /// took and skyctl refuses goes with --set KEY=null. A newer Helm revision that failed or
    /// never finished is passed by: the newest deployed one is adopted. The chart's own
    /// Prometheus and Grafana are left running, owned by nobody, with the commands that remove
    /// them.
    #[command(
        after_help = "Examples:\n  skyctl adopt skypilot -n skypilot --dry-run --diff\n  skyctl adopt skypilot -n skypilot\n  skyctl adopt old -n team --version 0.13.0   # Helm ran a chart version skyctl lacks\n  skyctl adopt skypilot -n skypilot --set nameOverride=null   # a key Helm took and skyctl refuses"
    )]
    Adopt(AdoptArgs),
    /// Check the cluster before installing: rights, node ports, IngressClass, storage, capacity
    ///
    /// Renders what `install` (or `upgrade`, for a release that exists) would apply, reads the
    /// cluster, and prints a checklist: ✓ fine, ! a warning, ✗ blocks the install, each with its
    /// fix. Writes nothing. Exits 1 when a check blocks. install and upgrade run the same
    /// checks before their first prompt and first write (--skip-preflight skips them).
    #[command(
        after_help = "Examples:\n  skyctl doctor\n  skyctl doctor sky-b -n team-b -f values.yaml --create-namespace\n  skyctl doctor -o json | jq '.checks[] | select(.status != \"pass\")'"
    )]
    Doctor(DoctorArgs),
    /// Print the URL users log in to (NodePort or LoadBalancer)
    Endpoint(EndpointArgs),
    /// Turn local cloud and Kubernetes credentials into the Secrets the API server reads
    Creds {
        #[command(subcommand)]
        command: CredsCommand,
    },
    /// Print skyctl's version and the chart versions built into it
    Version(VersionArgs),
    /// Print a shell completion script
    ///
    /// For example: `skyctl completion bash > /etc/bash_completion.d/skyctl`
    Completion {
        /// The shell to complete for
        shell: Shell,
    },
}

/// The release a command works on.
#[derive(Debug, Args)]
pub struct ReleaseArg {
    /// Name of the release (lowercase letters, digits and '-'; at most 53 characters)
    #[arg(default_value = "skypilot", value_parser = parse_release_name)]
    pub release: String,
}

/// Values, layered as in Helm: defaults, then each --values file in order, then --set-json,
/// --set, --set-string, --set-file. Later layers win.
#[derive(Debug, Args, Clone, Default)]
pub struct ValuesArgs {
    /// A YAML values file; `-` reads standard input. Repeat for more; later files win
    #[arg(
        short = 'f',
        long = "values",
        value_name = "FILE",
        help_heading = "Values"
    )]
    pub files: Vec<std::path::PathBuf>,
    /// Set values as JSON: --set-json 'apiService.resources={"requests":{"cpu":"4"}}'
    #[arg(long = "set-json", value_name = "KEY=JSON", help_heading = "Values")]
    pub set_json: Vec<String>,
    /// Set values: --set a.b=c,x[0]=y. true, false, null and integers are typed; null deletes a default
    #[arg(long = "set", value_name = "KEY=VALUE", help_heading = "Values")]
    pub set: Vec<String>,
    /// Set values, always as strings: --set-string apiService.image=repo/image:1.0
    #[arg(long = "set-string", value_name = "KEY=VALUE", help_heading = "Values")]
    pub set_string: Vec<String>,
    /// Set a value to a file's content: --set-file apiService.config=config.yaml
    #[arg(long = "set-file", value_name = "KEY=PATH", help_heading = "Values")]
    pub set_file: Vec<String>,
}

/// The door users reach the API server through (`skyctl.frontDoor`); without these flags, the
/// values' own, else the release's own ingress-nginx.
#[derive(Debug, Args, Clone, Default)]
pub struct FrontDoorArgs {
    /// Route to the API server through this Gateway the cluster runs, with an HTTPRoute:
    /// [NAMESPACE/]NAME[:LISTENER] (default namespace: the release's; default listener: every
    /// one that admits the route). Installs no ingress-nginx; logins are then the API server's
    /// own (--auth users, oauth, proxy or none)
    #[arg(long, value_name = "[NS/]NAME[:LISTENER]", value_parser = parse_gateway, help_heading = "Front door")]
    pub gateway: Option<crate::front_door::GatewayRef>,
    /// Route to the API server through the cluster's own ingress controller of this
    /// IngressClass, with a standard Ingress (no ingress-nginx annotations). Installs no
    /// ingress-nginx; logins are then the API server's own
    #[arg(long, value_name = "CLASS", value_parser = parse_ingress_class, conflicts_with = "gateway", help_heading = "Front door")]
    pub ingress_class: Option<String>,
    /// The host name users reach the API server at (ingress.host), e.g. sky.example.com;
    /// `*.example.com` for a wildcard
    #[arg(long, value_name = "HOST", value_parser = parse_hostname, help_heading = "Front door")]
    pub hostname: Option<String>,
}

impl From<&FrontDoorArgs> for crate::front_door::Flags {
    fn from(args: &FrontDoorArgs) -> Self {
        Self {
            gateway: args.gateway.clone(),
            ingress_class: args.ingress_class.clone(),
            hostname: args.hostname.clone(),
        }
    }
}

/// How install, upgrade and rollback apply and wait. Flags that only mean something for
/// install and upgrade are in [`DeployArgs`].
#[derive(Debug, Args, Clone)]
pub struct RolloutArgs {
    /// Let the API server check every change without persisting anything
    #[arg(long, help_heading = "Apply")]
    pub dry_run: bool,
    /// Show a unified diff of every object that would change (with --dry-run, only show)
    #[arg(long, help_heading = "Apply")]
    pub diff: bool,
    /// Take ownership of fields that another field manager (kubectl, an operator) set
    #[arg(long, help_heading = "Apply")]
    pub force_conflicts: bool,
    /// Take over existing objects that no skyctl release owns (made by hand, or by Helm), as
    /// Helm's --take-ownership does; without it, such an object stops the rollout
    #[arg(long, help_heading = "Apply")]
    pub take_ownership: bool,
    /// Prune the data volume (PVC) too when storage is disabled; it is kept otherwise
    #[arg(long, help_heading = "Apply")]
    pub delete_data: bool,
    /// Revisions to keep in the release history, at most 1000; 0 keeps all
    // Negative numbers reach the parser, which names the flag, instead of reading as flags.
    #[arg(long, default_value_t = 10, value_parser = parse_history_max, allow_negative_numbers = true, value_name = "N", help_heading = "Apply")]
    pub history_max: usize,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args, Clone)]
pub struct WaitArgs {
    /// Wait for the objects to become ready (or gone). skyctl always does unless --no-wait;
    /// the flag is accepted so that Helm command lines work
    #[arg(long, global = true, help_heading = "Wait")]
    pub wait: bool,
    /// Do not wait for the objects to become ready (or gone)
    #[arg(long, global = true, conflicts_with = "wait", help_heading = "Wait")]
    pub no_wait: bool,
    /// How long to wait: 90s, 5m, 1h30m; at most 24h, and 0 checks once without waiting
    // `--timeout -5s` reaches the parser, which names the flag, instead of reading as flags.
    #[arg(long, global = true, default_value = "5m", value_parser = parse_duration, allow_hyphen_values = true, value_name = "DURATION", help_heading = "Wait")]
    pub timeout: Duration,
}

impl WaitArgs {
    /// The wait's bound, or `None` with --no-wait.
    pub fn limit(&self) -> Option<Duration> {
        (!self.no_wait).then_some(self.timeout)
    }
}

#[derive(Debug, Args, Clone)]
pub struct LockArgs {
    /// Take the release's lock even if another skyctl holds it (only when that one is gone)
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    #[command(flatten)]
    pub deploy: DeployArgs,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Install the release if it does not exist yet
    #[arg(short, long)]
    pub install: bool,
    #[command(flatten)]
    pub release: ReleaseArg,
    #[command(flatten)]
    pub reuse: ReuseArgs,
    #[command(flatten)]
    pub deploy: DeployArgs,
}

/// What an upgrade does with the values the deployed revision recorded (Helm's flags). Without
/// any: reuse them when no values are given, else start from the defaults.
#[derive(Debug, Args, Clone, Copy)]
#[group(multiple = false)]
pub struct ReuseArgs {
    /// Lay the values given over the release's recorded ones, and those over the values the
    /// release was computed from (keys new in this skyctl come from its defaults)
    #[arg(long, help_heading = "Values")]
    pub reuse_values: bool,
    /// Start from skyctl's defaults: the release's recorded values are not used
    #[arg(long, help_heading = "Values")]
    pub reset_values: bool,
    /// Lay the values given over the release's recorded ones, over this skyctl's defaults
    #[arg(long, help_heading = "Values")]
    pub reset_then_reuse_values: bool,
}

/// What install and upgrade share: values, the web login, how to apply, the closing health
/// check and the output.
#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub chart: ChartArg,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub front_door: FrontDoorArgs,
    #[command(flatten)]
    pub auth: WebAuthArgs,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub rollout: RolloutArgs,
    /// Create the namespace if it does not exist
    #[arg(long, help_heading = "Apply")]
    pub create_namespace: bool,
    /// On failure, roll back to the previous revision (or uninstall a failed first install)
    #[arg(long, help_heading = "Apply")]
    pub atomic: bool,
    /// Describe the new revision in `skyctl history` (default: "Install complete" or
    /// "Upgrade complete")
    #[arg(long, value_name = "TEXT", help_heading = "Apply")]
    pub description: Option<String>,
    /// Skip checking /api/health through the endpoint (for clusters this machine cannot reach)
    #[arg(long, help_heading = "Wait")]
    pub no_health_check: bool,
    /// Skip the checks that run before anything is written (`skyctl doctor` runs them alone)
    #[arg(long, help_heading = "Apply")]
    pub skip_preflight: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The web login in front of the API server (the ingress's basic auth).
#[derive(Debug, Args, Clone)]
pub struct WebAuthArgs {
    /// User name for the web login [default: the release's own, as installed or adopted;
    /// skypilot for a new release]. Naming another user replaces the release's
    #[arg(long, help_heading = "Web login")]
    pub web_username: Option<String>,
    /// Read the web password from the first line of standard input (else $SKYCTL_WEB_PASSWORD,
    /// else a hidden prompt on a terminal)
    #[arg(long, help_heading = "Web login")]
    pub web_password_stdin: bool,
    /// Never prompt; fail naming the missing flag instead
    #[arg(short, long, help_heading = "Web login")]
    pub yes: bool,
}

/// How users log in, beyond the web login's user and password.
#[derive(Debug, Args, Clone)]
pub struct LoginArgs {
    /// How users log in: basic (a user and password checked by the ingress), users (the API
    /// server's own users, starting from an admin whose password skyctl asks for), oauth (single
    /// sign-on through your OIDC provider), proxy (an auth proxy you run in front sets each
    /// user's identity header) or none (no login at all). By default: the login the values or
    /// the release already have; else skyctl asks on a terminal; else basic. Chart 0.13.0 has
    /// every way, the seed-era chart basic only
    #[arg(long, value_enum, value_name = "MODE", help_heading = "Login")]
    pub auth: Option<AuthMode>,
    /// --auth oauth: the OIDC issuer (e.g. https://example.okta.com)
    #[arg(long, value_name = "URL", help_heading = "Login")]
    pub oauth_issuer_url: Option<String>,
    /// --auth oauth: the client id the OIDC provider gave the API server
    #[arg(long, value_name = "ID", help_heading = "Login")]
    pub oauth_client_id: Option<String>,
    /// --auth oauth: read the client secret from the first line of standard input (else
    /// --oauth-client-secret-file, else $SKYCTL_OAUTH_CLIENT_SECRET, else a hidden prompt). It is
    /// stored in a Secret, never in the values
    #[arg(long, help_heading = "Login")]
    pub oauth_client_secret_stdin: bool,
    /// --auth oauth: read the client secret from the first line of this file
    #[arg(long, value_name = "FILE", help_heading = "Login")]
    pub oauth_client_secret_file: Option<PathBuf>,
    /// --auth proxy: the header in which the proxy passes the user's identity (default
    /// X-Auth-Request-Email)
    #[arg(long, value_name = "HEADER", help_heading = "Login")]
    pub proxy_header: Option<String>,
    /// --auth proxy: whether the header holds the identity itself or a JWT with it (default
    /// plaintext)
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "Login")]
    pub proxy_header_format: Option<ProxyHeaderFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    Basic,
    Users,
    Oauth,
    Proxy,
    None,
}

impl From<AuthMode> for crate::guide::login_mode::Mode {
    fn from(mode: AuthMode) -> Self {
        match mode {
            AuthMode::Basic => Self::Basic,
            AuthMode::Users => Self::Users,
            AuthMode::Oauth => Self::Oauth,
            AuthMode::Proxy => Self::Proxy,
            AuthMode::None => Self::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProxyHeaderFormat {
    Plaintext,
    Jwt,
}

impl From<ProxyHeaderFormat> for crate::guide::login_mode::HeaderFormat {
    fn from(format: ProxyHeaderFormat) -> Self {
        match format {
            ProxyHeaderFormat::Plaintext => Self::Plaintext,
            ProxyHeaderFormat::Jwt => Self::Jwt,
        }
    }
}

#[derive(Debug, Args)]
pub struct EndpointArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// How long to wait for an address (a load balancer takes a while); at most 24h, and 0
    /// looks once without waiting
    #[arg(long, default_value = "5m", value_parser = parse_duration, allow_hyphen_values = true, value_name = "DURATION")]
    pub timeout: Duration,
    /// Put the web login into the URL (asks for the password, or reads it like install)
    #[arg(long)]
    pub with_credentials: bool,
    #[command(flatten)]
    pub auth: WebAuthArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// The revision to return to (1 or more); by default the one before the deployed one
    // Negative numbers reach the parser, which names the argument, instead of reading as flags.
    #[arg(value_parser = parse_revision, allow_negative_numbers = true)]
    pub revision: Option<u32>,
    /// Skip checking /api/health through the front door a rollback returns to (after `upgrade
    /// --gateway` or `--ingress-class`): the other door is pruned once the restored one is
    /// ready
    #[arg(long, help_heading = "Wait")]
    pub no_health_check: bool,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// Also delete the data volume (PVC): the API server's state is lost
    #[arg(long)]
    pub delete_data: bool,
    /// Also delete the namespace, if skyctl created it and nothing in it is anyone else's
    /// (another release's, Helm's, stored credentials, a person's): skyctl lists what would
    /// block it, and changes nothing
    #[arg(long)]
    pub delete_namespace: bool,
    /// With --delete-namespace: an object in the namespace that is not the release's, named
    /// to go with the namespace (repeat for each; KIND/NAME, e.g. Secret/aws-credentials)
    #[arg(long, value_name = "KIND/NAME", requires = "delete_namespace")]
    pub also_delete: Vec<crate::namespace_deletion::Named>,
    /// Show what would be deleted, what kept and why, and whether the namespace would go;
    /// change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete the Helm history `adopt --keep-helm-history` kept; while it exists, `helm
    /// install` of the release's name fails
    #[arg(long)]
    pub delete_helm_history: bool,
    /// Uninstall even though other releases route through this release's ingress-nginx
    /// controller (installed with ingress-nginx.enabled=false and its IngressClass): they lose
    /// their endpoint until another controller serves the class
    #[arg(long)]
    pub remove_shared_controller: bool,
    /// Keep the release's records, the newest marked uninstalled: `history` and `get` still
    /// read them, `rollback` returns to one, and `install` starts again beside them
    #[arg(long, conflicts_with = "delete_namespace")]
    pub keep_history: bool,
    /// A release that does not exist is no error
    #[arg(long)]
    pub ignore_not_found: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// Show this revision's record (default: the newest, with the objects' readiness, the
    /// endpoint and health, which only the newest has)
    // Negative numbers reach the parser, which names the flag, instead of reading as flags.
    #[arg(long, value_parser = parse_revision, allow_negative_numbers = true, value_name = "N")]
    pub revision: Option<u32>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `skyctl list`, with `helm list`'s flags. Without a state flag it lists releases in every
/// state (Helm: deployed and failed ones), so that a release stuck pending shows.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// List the releases of every namespace (-n is ignored)
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// List releases in every state, which is also what no state flag lists
    #[arg(short, long)]
    pub all: bool,
    /// List deployed releases
    #[arg(long, help_heading = "States")]
    pub deployed: bool,
    /// List failed releases
    #[arg(long, help_heading = "States")]
    pub failed: bool,
    /// List releases an install, upgrade or rollback is still working on, or was interrupted in
    #[arg(long, help_heading = "States")]
    pub pending: bool,
    /// List superseded revisions (given alone: every one, as Helm lists them)
    #[arg(long, help_heading = "States")]
    pub superseded: bool,
    /// List releases uninstalled with --keep-history
    #[arg(long, help_heading = "States")]
    pub uninstalled: bool,
    /// List releases an uninstall is working on, or was interrupted in
    #[arg(long, help_heading = "States")]
    pub uninstalling: bool,
    /// Only releases whose name matches this regular expression (e.g. '^sky', 'dev$')
    #[arg(short, long, value_name = "REGEX", value_parser = parse_filter)]
    pub filter: Option<regex::Regex>,
    /// Print the names only, one a line
    #[arg(short = 'q', long)]
    pub short: bool,
    /// Leave out the header line of the table
    #[arg(long)]
    pub no_headers: bool,
    #[command(flatten)]
    pub output: TableOutputArgs,
}

/// A `--filter` pattern, refused here (exit 2) when it is not a regular expression.
fn parse_filter(text: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(text).map_err(|err| format!("{text:?} is not a regular expression: {err}"))
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// Show at most this many of the newest revisions
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max: u32,
    #[command(flatten)]
    pub output: TableOutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum GetCommand {
    /// Print the values a release was given (never Secret data: the web login is a bcrypt line)
    Values(GetValuesArgs),
    /// Print the objects a revision applied, as YAML (Secret values and secret-named
    /// environment values masked)
    Manifest(GetRevisionArgs),
    /// Print a revision's notes, as install ends: the endpoint (as the cluster has it now), the
    /// `sky api login` line with the release's user, and what the login mode adds
    Notes(GetRevisionArgs),
    /// Print everything a revision recorded: its status, values, objects and notes
    All(GetRevisionArgs),
}

#[derive(Debug, Args)]
pub struct GetRevisionArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// The revision to read (default: the newest)
    // Negative numbers reach the parser, which names the flag, instead of reading as flags.
    #[arg(long, value_parser = parse_revision, allow_negative_numbers = true, value_name = "N")]
    pub revision: Option<u32>,
}

#[derive(Debug, Args)]
pub struct GetValuesArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// Print every value the release was computed from, defaults included
    #[arg(short, long)]
    pub all: bool,
    /// The revision to read (default: the newest)
    // Negative numbers reach the parser, which names the flag, instead of reading as flags.
    #[arg(long, value_parser = parse_revision, allow_negative_numbers = true, value_name = "N")]
    pub revision: Option<u32>,
    #[command(flatten)]
    pub output: TableOutputArgs,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    /// Adopt into this chart version when Helm's is not one skyctl has; the diff is shown first
    #[arg(long, value_name = "VERSION", value_parser = parse_chart_version)]
    pub version: Option<String>,
    /// Keep Helm's release records as a backup (relabelled, so Helm no longer lists them);
    /// skyctl never reads them again
    #[arg(long)]
    pub keep_helm_history: bool,
    /// Show what adopting would apply, remove and retire, checked by the API server; nothing
    /// is changed
    #[arg(long)]
    pub dry_run: bool,
    /// Show a unified diff of every object that changes
    #[arg(long)]
    pub diff: bool,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    #[command(flatten)]
    pub chart: ChartArg,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub front_door: FrontDoorArgs,
    /// Check as `install --create-namespace` would: the namespace may be missing
    #[arg(long)]
    pub create_namespace: bool,
    /// Check as `install --take-ownership` would: objects of nobody or of Helm are taken over
    #[arg(long)]
    pub take_ownership: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub release: ReleaseArg,
    #[command(flatten)]
    pub chart: ChartArg,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub front_door: FrontDoorArgs,
    /// Only the objects from this file of the published chart, as Helm names it
    /// (templates/api-deployment.yaml, charts/ingress-nginx/templates/controller-service.yaml;
    /// `*` and `?` match within a name), or this object (KIND/NAME, e.g.
    /// Deployment/skypilot-api-server); repeat for more
    #[arg(short = 's', long, value_name = "FILE|KIND/NAME", value_parser = crate::render::sources::ShowOnly::new)]
    pub show_only: Vec<crate::render::sources::ShowOnly>,
}

/// Which embedded chart version renders the release, as Helm's `--version` picks a chart.
#[derive(Debug, Args, Clone, Default)]
pub struct ChartArg {
    #[arg(long, value_name = "VERSION", value_parser = parse_chart_version, help_heading = "Values", help = chart_version_help())]
    pub version: Option<String>,
}

/// The `--version` help, naming the embedded chart versions: a new version folder shows up
/// here without a change to the code.
fn chart_version_help() -> String {
    let versions: Vec<&str> = crate::chart::Chart::all()
        .iter()
        .map(crate::chart::Chart::version)
        .collect();
    format!(
        "Chart version to render: {} (`skyctl version` lists them). Default: {} for a new \
         release, the release's own for an upgrade",
        versions.join(" or "),
        crate::chart::Chart::newest().version()
    )
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How a command prints what scripts may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Yaml,
}

impl From<OutputFormat> for crate::ui::OutputFormat {
    fn from(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Text => Self::Text,
            OutputFormat::Json => Self::Json,
            OutputFormat::Yaml => Self::Yaml,
        }
    }
}

/// How `list`, `history` and `get` print, as in Helm: a table for people, JSON or YAML for
/// scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Json,
    Yaml,
}

impl From<TableFormat> for crate::ui::OutputFormat {
    fn from(format: TableFormat) -> Self {
        match format {
            TableFormat::Table => Self::Text,
            TableFormat::Json => Self::Json,
            TableFormat::Yaml => Self::Yaml,
        }
    }
}

#[derive(Debug, Args, Clone, Copy)]
pub struct TableOutputArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = TableFormat::Table)]
    pub output: TableFormat,
}

#[derive(Debug, Args, Clone, Copy)]
pub struct OutputArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// The longest wait skyctl accepts. Longer is a typo (`300h` for `300s`), and the deadline
/// arithmetic of every wait stays far from overflowing.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// The most revisions `--history-max` keeps. Each is a Secret in the namespace; a larger number
/// is a typo, and 0 already means "keep all".
pub const MAX_HISTORY: usize = 1000;

/// Parses durations as Helm's --timeout does: `300s`, `5m`, `1h30m`; a bare number is seconds.
/// At most [`MAX_WAIT`]; arithmetic is checked, so no text makes it overflow.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let not_a_duration = || format!("{text:?} is not a duration; use forms like 90s, 5m or 1h30m");
    let too_long = || format!("{text:?} is longer than the limit of 24h");
    if text.is_empty() {
        return Err(not_a_duration());
    }
    // A string of digits fails to parse as u64 only by being too large.
    let seconds = |digits: &str, unit: u64| {
        digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(unit))
            .ok_or_else(too_long)
    };
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return within_limit(seconds(text, 1)?, too_long);
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(not_a_duration()),
        };
        if number.is_empty() {
            return Err(not_a_duration());
        }
        total = total
            .checked_add(seconds(&number, unit)?)
            .ok_or_else(too_long)?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!(
            "{text:?} is not a duration: {number} has no unit (s, m or h)"
        ));
    }
    within_limit(total, too_long)
}

fn within_limit(seconds: u64, too_long: impl Fn() -> String) -> Result<Duration, String> {
    if seconds > MAX_WAIT.as_secs() {
        return Err(too_long());
    }
    Ok(Duration::from_secs(seconds))
}

fn parse_history_max(text: &str) -> Result<usize, String> {
    let rule = format!("keep 1 to {MAX_HISTORY} revisions, or 0 to keep all");
    match text.parse::<usize>() {
        Ok(n) if n <= MAX_HISTORY => Ok(n),
        Err(e) if *e.kind() != IntErrorKind::PosOverflow => {
            Err(format!("{text:?} is not a count of revisions; {rule}"))
        }
        _ => Err(format!("{text:?} is more than {MAX_HISTORY}; {rule}")),
    }
}

/// Revisions count from 1, as in Helm's release history.
fn parse_revision(text: &str) -> Result<u32, String> {
    let rule = "revisions count from 1";
    match text.parse::<u32>() {
        Ok(0) => Err(format!("0 is not a revision: {rule}")),
        Ok(revision) => Ok(revision),
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => Err(format!(
            "{text:?} is larger than any revision (at most {})",
            u32::MAX
        )),
        Err(_) => Err(format!("{text:?} is not a revision number: {rule}")),
    }
}

fn parse_release_name(text: &str) -> Result<String, String> {
    kube_names::check(NameKind::Release, text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

fn parse_secret_name(text: &str) -> Result<String, String> {
    kube_names::check(NameKind::Secret, text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

fn parse_gateway(text: &str) -> Result<crate::front_door::GatewayRef, String> {
    text.parse()
}

fn parse_ingress_class(text: &str) -> Result<String, String> {
    kube_names::check(NameKind::IngressClass, text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

fn parse_hostname(text: &str) -> Result<String, String> {
    kube_names::check(NameKind::Host, text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

fn parse_chart_version(text: &str) -> Result<String, String> {
    crate::chart::Chart::find(text)
        .map(|chart| chart.version().to_owned())
        .map_err(|err| err.to_string())
}

/// A key of a Secret's data, as the API server accepts it.
fn parse_secret_key(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.len() <= 253
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid {
        return Err("a Secret key has 1 to 253 letters, digits, `-`, `_` or `.`".into());
    }
    Ok(text.to_owned())
}

fn parse_namespace(text: &str) -> Result<String, String> {
    kube_names::check(NameKind::Namespace, text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

#[derive(Debug, Subcommand)]
pub enum CredsCommand {
    /// Store credentials as the Secret the API server reads, and turn them on
    ///
    /// If the release is installed, it is upgraded so that the API server restarts with them;
    /// otherwise the next install uses them.
    Add {
        #[command(subcommand)]
        source: CredsSource,
        #[command(flatten)]
        wait: WaitArgs,
        /// Store over a Secret of the same name that skyctl did not make (with kubectl, as
        /// upstream's guide does); without it such a Secret is left as it is
        #[arg(long, global = true)]
        take_ownership: bool,
    },
    /// Show which credentials are stored and used (never their contents)
    List {
        #[command(flatten)]
        release: ReleaseFlag,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Delete stored credentials and turn them off
    Remove {
        /// Which credentials
        #[arg(value_parser = creds_kind())]
        kind: crate::credentials::Kind,
        #[command(flatten)]
        release: ReleaseFlag,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum CredsSource {
    /// AWS access keys, from ~/.aws/credentials ($AWS_SHARED_CREDENTIALS_FILE, $AWS_PROFILE) or
    /// $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY
    Aws {
        /// Profile in the credentials file (else $AWS_PROFILE, else default)
        #[arg(long)]
        profile: Option<String>,
        /// Access key id, when the secret key comes from standard input
        #[arg(long)]
        access_key_id: Option<String>,
        /// Read the secret access key from standard input
        #[arg(long)]
        secret_access_key_stdin: bool,
        /// Store ~/.aws/credentials and ~/.aws/config whole, every profile in them, and mount
        /// them at the API server's ~/.aws (chart 0.13.0's awsCredentials.useCredentialsFile)
        #[arg(long, conflicts_with_all = [
            "profile", "access_key_id", "secret_access_key_stdin",
            "access_key_id_key_name", "secret_access_key_key_name",
        ])]
        use_credentials_file: bool,
        /// Name of the Secret (another than aws-credentials needs chart 0.13.0)
        #[arg(long, default_value = "aws-credentials", value_name = "NAME", value_parser = parse_secret_name)]
        secret_name: String,
        /// The Secret's key for the access key id (chart 0.13.0's accessKeyIdKeyName)
        #[arg(long, default_value = "aws_access_key_id", value_parser = parse_secret_key, value_name = "KEY")]
        access_key_id_key_name: String,
        /// The Secret's key for the secret access key (chart 0.13.0's secretAccessKeyKeyName)
        #[arg(long, default_value = "aws_secret_access_key", value_parser = parse_secret_key, value_name = "KEY")]
        secret_access_key_key_name: String,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// A GCP service-account key file
    Gcp {
        /// The service-account key (JSON)
        #[arg(long, value_name = "SA.json")]
        key_file: std::path::PathBuf,
        /// GCP project; by default the key's project_id
        #[arg(long, value_name = "ID")]
        project: Option<String>,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// Contexts of a kubeconfig, for SkyPilot to launch on other clusters
    Kube {
        /// The kubeconfig to take contexts from (default: as kubectl finds it). Named
        /// --from-kubeconfig because --kubeconfig chooses the cluster skyctl talks to
        #[arg(long, value_name = "FILE")]
        from_kubeconfig: Option<std::path::PathBuf>,
        /// A context to keep (repeat for more; default: the current context)
        #[arg(long = "from-context", value_name = "NAME")]
        from_contexts: Vec<String>,
        /// Name of the Secret
        #[arg(long, default_value = "kube-credentials", value_parser = parse_secret_name)]
        secret_name: String,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// RunPod's API key, from ~/.runpod/config.toml (what `runpod config` writes; chart 0.13.0)
    Runpod {
        #[command(flatten)]
        file: CloudFileArg,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// Lambda Cloud's API key, from ~/.lambda_cloud/lambda_keys (chart 0.13.0)
    Lambda {
        #[command(flatten)]
        file: CloudFileArg,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// Vast.ai's API key, from ~/.config/vastai/vast_api_key (what `vastai set api-key` writes;
    /// chart 0.13.0)
    Vast {
        #[command(flatten)]
        file: CloudFileArg,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// DigitalOcean's token, from doctl's ~/.config/doctl/config.yaml (chart 0.13.0)
    Digitalocean {
        #[command(flatten)]
        file: CloudFileArg,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// Nebius service-account credentials, from ~/.nebius/credentials.json (chart 0.13.0)
    Nebius {
        #[command(flatten)]
        file: CloudFileArg,
        /// The Nebius tenant (else ~/.nebius/NEBIUS_TENANT_ID.txt, as SkyPilot keeps it)
        #[arg(long, value_name = "ID")]
        tenant_id: Option<String>,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// Cloudflare R2 keys, from ~/.cloudflare/r2.credentials (chart 0.13.0)
    R2 {
        #[command(flatten)]
        file: CloudFileArg,
        /// The Cloudflare account (else ~/.cloudflare/accountid)
        #[arg(long, value_name = "ID")]
        account_id: Option<String>,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// The PostgreSQL database several API servers share, as the Secret that
    /// apiService.dbConnectionSecretName names (chart 0.13.0)
    ///
    /// The connection string comes from standard input or $SKYCTL_DB_CONNECTION_STRING, never
    /// from the command line. Prefer this to apiService.dbConnectionString, which puts the
    /// password into the values and the release record.
    Db {
        /// Read the connection string from the first line of standard input
        #[arg(long)]
        connection_string_stdin: bool,
        /// Name of the Secret
        #[arg(long, default_value = "db-credentials", value_parser = parse_secret_name)]
        secret_name: String,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// The SSH config of Slurm login nodes, from ~/.slurm/config (chart 0.13.0)
    ///
    /// Chart 0.13.0 takes it only as the value slurmCredentials.config, from which it makes the
    /// Secret <release>-slurm-config: host names and key paths, never the keys it names. skyctl
    /// keeps it in Secret slurm-credentials, so every later install and upgrade sets that value
    /// until `creds remove slurm`.
    Slurm {
        /// Read this file instead of ~/.slurm/config
        #[arg(long, value_name = "FILE")]
        from_file: Option<std::path::PathBuf>,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// SSH node pools, from ~/.sky/ssh_node_pools.yaml, with the private keys they name
    /// (chart 0.13.0)
    ///
    /// The pools go into apiService.sshNodePools, each identity_file pointing into the API
    /// server's ~/.ssh; the keys go only into the Secret that apiService.sshKeySecret names.
    Ssh {
        /// Read this pools file instead of ~/.sky/ssh_node_pools.yaml
        #[arg(long, value_name = "FILE")]
        from_file: Option<std::path::PathBuf>,
        /// Name of the Secret that holds the keys
        #[arg(long, default_value = "ssh-credentials", value_parser = parse_secret_name)]
        secret_name: String,
        #[command(flatten)]
        release: ReleaseFlag,
    },
    /// CoreWeave's cw.config and cw.credentials, from ~/.coreweave (chart 0.13.0)
    Coreweave {
        /// Read this directory instead of ~/.coreweave
        #[arg(long = "from-dir", value_name = "DIR")]
        from_file: Option<std::path::PathBuf>,
        #[command(flatten)]
        release: ReleaseFlag,
    },
}

/// Where a cloud's CLI keeps its credentials, unless named.
#[derive(Debug, Args)]
pub struct CloudFileArg {
    /// Read this file instead of the one the cloud's CLI writes
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<std::path::PathBuf>,
}

impl From<CloudFileArg> for crate::guide::cloud_keys::CloudRequest {
    fn from(arg: CloudFileArg) -> Self {
        Self {
            from_file: arg.from_file,
            ..Self::default()
        }
    }
}

/// The release whose values credentials turn on: its name as the first argument, as every
/// other verb takes it, or `--release NAME`.
#[derive(Debug, Args)]
pub struct ReleaseFlag {
    /// The release whose values turn the credentials on or off [default: skypilot]
    #[arg(value_parser = parse_release_name, value_name = "RELEASE")]
    positional: Option<String>,
    /// The same as the RELEASE argument
    #[arg(
        long = "release",
        value_parser = parse_release_name,
        value_name = "NAME",
        conflicts_with = "positional"
    )]
    flag: Option<String>,
}

impl ReleaseFlag {
    pub fn name(&self) -> &str {
        self.positional
            .as_deref()
            .or(self.flag.as_deref())
            .unwrap_or("skypilot")
    }
}

/// The kinds `creds remove` takes, named as `creds add` names them.
fn creds_kind() -> impl clap::builder::TypedValueParser<Value = crate::credentials::Kind> {
    use crate::credentials::Kind;
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Kind::ALL.map(Kind::label)).map(|label: String| {
        Kind::from_label(&label).expect("clap accepts only the labels of Kind::ALL")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_helm_writes_them() {
        for (text, seconds) in [
            ("300", 300),
            ("0", 0),
            ("0s", 0),
            ("90s", 90),
            ("5m", 300),
            ("1h30m", 5400),
            ("1m30s", 90),
            ("24h", 86_400),
            ("86400", 86_400),
            ("23h59m60s", 86_400),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
    }

    #[test]
    fn durations_beyond_a_day_or_malformed_are_refused_without_overflow() {
        let too_long = "is longer than the limit of 24h";
        let cases = [
            ("86401", too_long),
            ("24h1s", too_long),
            ("25h", too_long),
            ("18446744073709551615", too_long),
            ("18446744073709551616", too_long),
            ("18446744073709551615s", too_long),
            ("18446744073709551615h", too_long),
            ("5124095576030431h5124095576030431h", too_long),
            ("99999999999999999999999999m", too_long),
            ("", "is not a duration"),
            ("5x", "is not a duration"),
            ("-5s", "is not a duration"),
            ("h", "is not a duration"),
            ("1.5h", "is not a duration"),
            (" 5m", "is not a duration"),
            ("1h5", "5 has no unit"),
        ];
        for (text, message) in cases {
            let err = parse_duration(text).expect_err(text);
            assert!(err.contains(message), "{text}: {err}");
            assert!(err.starts_with(&format!("{text:?}")), "{text}: {err}");
        }
    }

    #[test]
    fn history_max_is_bounded() {
        for (text, parsed) in [
            ("0", Ok(0)),
            ("10", Ok(10)),
            ("1000", Ok(MAX_HISTORY)),
            ("1001", Err("\"1001\" is more than 1000")),
            ("18446744073709551616", Err("is more than 1000")),
            ("-1", Err("\"-1\" is not a count of revisions")),
            ("", Err("is not a count of revisions")),
            ("ten", Err("is not a count of revisions")),
        ] {
            match (parse_history_max(text), parsed) {
                (Ok(n), Ok(want)) => assert_eq!(n, want, "{text}"),
                (Err(err), Err(want)) => {
                    assert!(err.contains(want), "{text}: {err}");
                    assert!(err.contains("0 to keep all"), "{text}: {err}");
                }
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn revisions_count_from_one() {
        for (text, parsed) in [
            ("1", Ok(1)),
            ("4294967295", Ok(u32::MAX)),
            ("0", Err("0 is not a revision: revisions count from 1")),
            ("4294967296", Err("larger than any revision")),
            ("-1", Err("\"-1\" is not a revision number")),
            ("two", Err("is not a revision number")),
        ] {
            match (parse_revision(text), parsed) {
                (Ok(n), Ok(want)) => assert_eq!(n, want, "{text}"),
                (Err(err), Err(want)) => assert!(err.contains(want), "{text}: {err}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn names_are_checked_as_the_command_line_is_parsed() {
        use clap::Parser as _;
        let parse = |args: &[&str]| Cli::try_parse_from(args).map_err(|e| e.to_string());
        assert!(parse(&["skyctl", "status", "sky-1", "-n", "team-a"]).is_ok());
        for (args, flag, message) in [
            (
                &["skyctl", "status", "Bad_Rel"][..],
                "[RELEASE]",
                "\"Bad_Rel\" is not a valid release name",
            ),
            (
                &["skyctl", "-n", "Team", "status"],
                "--namespace <NAME>",
                "\"Team\" is not a valid namespace",
            ),
            (
                &["skyctl", "creds", "list", "--release", "sky-"],
                "--release <NAME>",
                "\"sky-\" is not a valid release name",
            ),
            (
                &["skyctl", "rollback", "sky", "-3"],
                "[REVISION]",
                "\"-3\" is not a revision number",
            ),
        ] {
            let err = parse(args).expect_err("rejected");
            assert!(err.contains(flag), "{args:?}: {err}");
            assert!(err.contains(message), "{args:?}: {err}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
