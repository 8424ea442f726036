//! API keys that cannot leak through `Debug`, `Display` or error messages.

use std::fmt;

/// A bearer token for an OpenAI-compatible API.
///
/// The library never reads it from the environment: the caller passes it in. It is deliberately
/// neither `Display` nor `Serialize`, and its `Debug` prints `ApiKey(<redacted>)`, so it cannot end
/// up in a log line or an error by accident. [`crate::BackendError`] messages that quote a
/// server's reply have the key scrubbed from them (some APIs echo part of a bad key back).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The raw key, for building the `Authorization` header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the key (and of any 8+ character suffix or prefix of it, as
    /// APIs echo `sk-abc...wxyz`) in `text` with `<redacted>`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        scrub(text, &self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

pub(crate) fn scrub(text: &str, key: &str) -> String {
    if key.is_empty() {
        return text.to_string();
    }
    let mut out = text.replace(key, "<redacted>");
    // Fragments: a prefix or suffix of at least 8 characters identifies the key, so remove those
    // as well (longest first, so a longer fragment is not half-replaced by a shorter one).
    const MIN_FRAGMENT: usize = 8;
    let chars: Vec<char> = key.chars().collect();
    if chars.len() > MIN_FRAGMENT {
        for len in (MIN_FRAGMENT..chars.len()).rev() {
            let prefix: String = chars[..len].iter().collect();
            let suffix: String = chars[chars.len() - len..].iter().collect();
            for frag in [prefix, suffix] {
                if out.contains(&frag) {
                    out = out.replace(&frag, "<redacted>");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let k = ApiKey::new("sk-supersecret-0123456789");
        assert_eq!(format!("{k:?}"), "ApiKey(<redacted>)");
        assert!(!format!("{:?}", Some(k)).contains("supersecret"));
    }

    #[test]
    fn scrub_removes_whole_keys_and_echoed_fragments() {
        let key = "sk-proj-ABCDEFGHIJKLMNOP1234";
        let body = format!(
            "Incorrect API key provided: {key}. Also sk-proj-AB***1234 and ...HIJKLMNOP1234"
        );
        let s = scrub(&body, key);
        assert!(!s.contains(key), "{s}");
        assert!(!s.contains("HIJKLMNOP1234"), "{s}");
        assert!(s.contains("Incorrect API key provided"));
    }

    #[test]
    fn scrub_with_empty_key_is_identity() {
        assert_eq!(scrub("abc", ""), "abc");
    }
}
