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
    let length = unknown.chars().count();
    let folded = unknown.to_lowercase();
    let limit = (length / 3).max(1);
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let loose = strsim::levenshtein(&folded, &candidate.to_lowercase());
            let exact = strsim::levenshtein(unknown, candidate);
            (loose <= limit && loose < length).then_some((loose, exact, candidate))
        })
        .min()
        .map(|(_, _, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

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
