//! What the user sees while skyctl works: live progress on a terminal, plain lines elsewhere.
//! Everything goes to stderr, so stdout stays for output that scripts read.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::progress::Progress;

/// How a command prints what scripts may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
    Yaml,
}

/// Prints `value` as JSON or YAML on stdout. Text output is each command's own.
pub fn print(value: &impl Serialize, format: OutputFormat) -> anyhow::Result<()> {
    let value = serde_json::to_value(value)?;
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&value)?),
        OutputFormat::Yaml => println!("{}", crate::yaml::to_yaml(&value)),
        OutputFormat::Text => unreachable!("text output is the command's own"),
    }
    Ok(())
}

/// Rows under their headers, each column as wide as its widest cell, two spaces apart.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(headers.to_vec());
    for row in rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

/// Asks a yes/no question on the terminal; anything but yes is no.
pub fn confirm(question: &str) -> std::io::Result<bool> {
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Asks for one line on the terminal; the answer without surrounding blanks (empty at the end
/// of input).
pub fn ask(question: &str) -> std::io::Result<String> {
    eprint!("{question} ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim().to_owned())
}

/// Marks a step of the walk-through as done, as a checklist line.
pub fn step(name: &str, detail: &str) {
    eprintln!("✓ {name}: {detail}");
}

/// Progress of many things at once, one line each.
pub struct LiveProgress {
    live: Option<MultiProgress>,
    lines: BTreeMap<String, Line>,
}

struct Line {
    bar: Option<ProgressBar>,
    message: String,
}

impl Default for LiveProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveProgress {
    /// Spinners on a terminal; on a pipe or in CI, a line whenever something changes.
    pub fn new() -> Self {
        let live = std::io::stderr().is_terminal().then(MultiProgress::new);
        Self {
            live,
            lines: BTreeMap::new(),
        }
    }
}

impl Progress for LiveProgress {
    /// Shows that `item` is still under way, and why.
    fn pending(&mut self, item: &str, message: &str) {
        let live = self.live.as_ref();
        let line = self.lines.entry(item.to_owned()).or_insert_with(|| Line {
            bar: live.map(|live| {
                let bar = live.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            }),
            message: String::new(),
        });
        if line.message != message {
            line.message = message.to_owned();
            let text = format!("waiting for {item}: {message}");
            match &line.bar {
                Some(bar) => bar.set_message(text),
                None => eprintln!("  {text}"),
            }
        }
    }

    /// Marks `item` as done with a closing word ("ready", "deleted"). Only items that were
    /// shown waiting get a closing line: the rest were done at once and need no mention.
    fn done(&mut self, item: &str, word: &str) {
        let Some(line) = self.lines.remove(item) else {
            return;
        };
        let text = format!("{item} {word}");
        match line.bar {
            Some(bar) => bar.finish_with_message(format!("✓ {text}")),
            None => eprintln!("  ✓ {text}"),
        }
    }

    /// Prints a line above the live display.
    fn println(&mut self, text: &str) {
        match &self.live {
            Some(live) => {
                let _ = live.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
}

impl Drop for LiveProgress {
    fn drop(&mut self) {
        for line in self.lines.values() {
            if let Some(bar) = &line.bar {
                bar.abandon();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_to_their_widest_cell() {
        let rows = vec![
            vec!["skypilot".to_owned(), "1".to_owned(), "deployed".to_owned()],
            vec!["a".to_owned(), "12".to_owned(), String::new()],
        ];
        assert_eq!(
            table(&["NAME", "REVISION", "STATUS"], &rows),
            "NAME      REVISION  STATUS\nskypilot  1         deployed\na         12\n"
        );
        assert_eq!(table(&["NAME"], &[]), "NAME\n");
    }
}
