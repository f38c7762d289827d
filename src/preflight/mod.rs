//! Preflight: what an install needs from the cluster, held against what the cluster has, before
//! anything is written. Helm and timoni find a taken node port or a foreign IngressClass
//! halfway through writing; skyctl finds them first. Pure: `cluster::survey` reads the facts,
//! `skyctl doctor` prints the checklist, and install and upgrade stop on a blocking finding.

mod checks;
pub mod facts;
pub mod gateway;
pub mod intent;
pub mod load_balancers;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use facts::{Facts, HelmRecord, NamespaceState, Observed};
pub use intent::{Access, Intent, Need};

/// One line of the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    Cluster,
    Namespace,
    Rbac,
    Objects,
    IngressClass,
    Gateway,
    NodePorts,
    Storage,
    Capacity,
    LoadBalancer,
    Helm,
    Credentials,
}

impl Check {
    pub fn title(self) -> &'static str {
        match self {
            Check::Cluster => "cluster",
            Check::Namespace => "namespace",
            Check::Rbac => "rbac",
            Check::Objects => "objects",
            Check::IngressClass => "ingress class",
            Check::Gateway => "gateway",
            Check::NodePorts => "node ports",
            Check::Storage => "storage",
            Check::Capacity => "capacity",
            Check::LoadBalancer => "load balancer",
            Check::Helm => "helm",
            Check::Credentials => "credentials",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// ✓
    Pass,
    /// !: the install can go ahead, but something will not work as the admin expects.
    Warn,
    /// ✗: the install would fail or harm something; it does not start.
    Block,
}

impl Status {
    pub fn mark(self) -> char {
        match self {
            Status::Pass => '✓',
            Status::Warn => '!',
            Status::Block => '✗',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: Check,
    pub status: Status,
    pub summary: String,
    /// What to do about it, with the flags to pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    fn pass(check: Check, summary: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Pass,
            summary: summary.into(),
            fix: None,
        }
    }

    fn warn(check: Check, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Warn,
            summary: summary.into(),
            fix: Some(fix.into()),
        }
    }

    fn block(check: Check, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Block,
            summary: summary.into(),
            fix: Some(fix.into()),
        }
    }

    /// An observation the admin may not read: a warning, since the check could not be made.
    fn unknown(check: Check, what: &str, why: &str) -> Self {
        Self::warn(
            check,
            format!("cannot tell: reading {what} failed ({why})"),
            "run `skyctl doctor` as someone who may read it, or check by hand",
        )
    }
}

/// Every finding, in checklist order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// Runs every check.
    pub fn assess(intent: &Intent, facts: &Facts) -> Self {
        Self {
            findings: checks::all(intent, facts),
        }
    }

    pub fn blocks(&self) -> bool {
        self.count(Status::Block) > 0
    }

    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    /// The checklist as people read it: one line per finding, its fix indented below.
    pub fn lines(&self, only_problems: bool) -> String {
        let mut text = String::new();
        for finding in &self.findings {
            if only_problems && finding.status == Status::Pass {
                continue;
            }
            text.push_str(&format!(
                "  {} {:<14} {}\n",
                finding.status.mark(),
                finding.check.title(),
                finding.summary
            ));
            if let Some(fix) = &finding.fix {
                for (i, line) in fix.lines().enumerate() {
                    let lead = if i == 0 { "fix: " } else { "     " };
                    text.push_str(&format!("  {:17}{lead}{line}\n", ""));
                }
            }
        }
        text
    }
}
