//! Suggesting the known key a user most likely meant when they wrote an unknown one.

/// The candidate closest to `unknown`, if it is close enough to be a plausible typo.
///
/// Closeness is the edit distance ignoring letter case, so `nodeportEnabled` finds
/// `nodePortEnabled`. A candidate qualifies when at most a third of the typed key (at least
/// one character) would have to change, and never when every character would. Ties go to
/// the candidate closer with case counted, then to the first in alphabetical order.
pub fn closest<'c>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let typed: Vec<char> = unknown.chars().collect();
    let folded: Vec<char> = unknown.to_lowercase().chars().collect();
    let limit = (typed.len() / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let loose = distance(
                &folded,
                &candidate.to_lowercase().chars().collect::<Vec<_>>(),
            );
            let exact = distance(&typed, &candidate.chars().collect::<Vec<_>>());
            (loose <= limit && loose < typed.len()).then_some((loose, exact, candidate))
        })
        .min()
        .map(|(_, _, candidate)| candidate)
}

/// Levenshtein distance: the fewest single-character insertions, deletions and
/// substitutions that turn `a` into `b`.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            let delete = previous[j + 1] + 1;
            let insert = current[j] + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let cases = [
            ("", "", 0),
            ("a", "", 1),
            ("", "abc", 3),
            ("kitten", "sitting", 3),
            ("flaw", "lawn", 2),
            ("enabled", "enabeld", 2),
            ("same", "same", 0),
            ("héllo", "hello", 1),
        ];
        for (a, b, expected) in cases {
            let a: Vec<char> = a.chars().collect();
            let b: Vec<char> = b.chars().collect();
            assert_eq!(distance(&a, &b), expected, "{a:?} {b:?}");
            assert_eq!(distance(&b, &a), expected, "{b:?} {a:?}");
        }
    }

    #[test]
    fn suggestions() {
        let ingress = [
            "authCredentials",
            "authSecret",
            "enabled",
            "httpNodePort",
            "httpsNodePort",
            "nodePortEnabled",
            "path",
        ];
        let cases = [
            ("nodeportEnabled", Some("nodePortEnabled")),
            ("NODEPORTENABLED", Some("nodePortEnabled")),
            ("enabeld", Some("enabled")),
            ("enable", Some("enabled")),
            ("httpNodeport", Some("httpNodePort")),
            ("httpsNodeport", Some("httpsNodePort")),
            ("authSecrets", Some("authSecret")),
            ("authCredential", Some("authCredentials")),
            ("pth", Some("path")),
            ("paths", Some("path")),
            ("host", None),
            ("tls", None),
            ("x", None),
            ("annotations", None),
            ("className", None),
        ];
        for (unknown, expected) in cases {
            assert_eq!(closest(unknown, ingress), expected, "{unknown}");
        }
        assert_eq!(
            closest("a", ["b"]),
            None,
            "replacing every character is no typo"
        );
        assert_eq!(
            closest("ab", ["b", "a"]),
            Some("a"),
            "ties go alphabetically"
        );
        assert_eq!(
            closest("Image", ["image", "imag"]),
            Some("image"),
            "case-only difference wins"
        );
        assert_eq!(closest("anything", []), None);
    }
}
