//! How long-running work reports what it is doing, without printing anything itself: the
//! cluster and guide code report through this trait, and `ui` shows it to the user.

pub trait Progress {
    /// `item` is still under way, and why.
    fn pending(&mut self, item: &str, why: &str);
    /// `item` is done; `word` closes it ("ready", "deleted").
    fn done(&mut self, item: &str, word: &str);
    /// A line of news: an object applied, pruned or kept.
    fn println(&mut self, line: &str);
}

/// Reports nothing: for callers that only want the result.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn pending(&mut self, _: &str, _: &str) {}
    fn done(&mut self, _: &str, _: &str) {}
    fn println(&mut self, _: &str) {}
}
