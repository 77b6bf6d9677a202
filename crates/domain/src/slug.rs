//! URL-safe short names for organisations.

/// Turns "Acme Ltd." into "acme-ltd"; never empty.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c);
        } else {
            dash = true;
        }
        if slug.len() >= 48 {
            break;
        }
    }
    if slug.is_empty() {
        slug.push_str("org");
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(slugify("Acme Ltd"), "acme-ltd");
        assert_eq!(slugify("  Müller & Söhne GmbH!! "), "m-ller-s-hne-gmbh");
        assert_eq!(slugify("!!!"), "org");
    }
}
