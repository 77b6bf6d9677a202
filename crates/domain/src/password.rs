//! The password rules every way of setting a password goes through.

/// Shortest password accepted; length beats complexity rules.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted: bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WeakPassword {
    #[error("the password is too short: use at least {MIN_PASSWORD_CHARS} characters (it has {0})")]
    TooShort(usize),
    #[error("the password is too long: use at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("the password repeats one character: choose a passphrase of several words")]
    OneCharacter,
    #[error("the password contains the e-mail address: choose something else")]
    ContainsEmail,
}

/// Checks a new password for the account `email`.
pub fn check_new_password(password: &str, email: &str) -> Result<(), WeakPassword> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(WeakPassword::TooShort(chars));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(WeakPassword::TooLong);
    }
    let mut it = password.chars();
    if let Some(first) = it.next()
        && it.all(|c| c == first)
    {
        return Err(WeakPassword::OneCharacter);
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 4 && password.to_lowercase().contains(&local) {
        return Err(WeakPassword::ContainsEmail);
    }
    Ok(())
}

/// Normalises an e-mail address for storage and look-up, or says what is wrong.
pub fn normalise_email(email: &str) -> Result<String, String> {
    let email = email.trim().to_lowercase();
    let Some((local, domain)) = email.split_once('@') else {
        return Err(format!("'{email}' is not an e-mail address (no @)"));
    };
    if local.is_empty() || domain.is_empty() || domain.contains('@') || email.len() > 254 {
        return Err(format!("'{email}' is not a valid e-mail address"));
    }
    if email.chars().any(char::is_whitespace) {
        return Err(format!("'{email}' contains spaces"));
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused_with_their_length() {
        let err = check_new_password("short", "a@b.c").unwrap_err();
        assert_eq!(err, WeakPassword::TooShort(5));
        assert!(err.to_string().contains("at least 12"));
        assert!(check_new_password("correct horse battery", "a@b.c").is_ok());
    }

    #[test]
    fn repeated_characters_and_email_are_refused() {
        assert_eq!(
            check_new_password("aaaaaaaaaaaaaaa", "x@y.z"),
            Err(WeakPassword::OneCharacter)
        );
        assert_eq!(
            check_new_password("alice-rules-2026", "alice@example.com"),
            Err(WeakPassword::ContainsEmail)
        );
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(
            normalise_email(" Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        assert!(normalise_email("no-at-sign").is_err());
        assert!(normalise_email("@x.y").is_err());
        assert!(normalise_email("a@b@c").is_err());
    }
}

/// Hashes a password with argon2id (the crate's recommended parameters) and a
/// random salt, in PHC string form.
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt_bytes: [u8; 16] = rand::random();
    let Ok(salt) = SaltString::encode_b64(&salt_bytes) else {
        return String::new();
    };
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Checks a password against a stored PHC hash. A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash of a random password, used to spend the same time on unknown
/// accounts as on known ones, so timing does not reveal which e-mails exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password("not a real password, only for timing"));
    &DUMMY
}

#[cfg(test)]
mod hash_tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let h1 = hash_password("correct horse battery");
        let h2 = hash_password("correct horse battery");
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2, "salts differ");
        assert!(verify_password("correct horse battery", &h1));
        assert!(!verify_password("wrong horse battery", &h1));
        assert!(!verify_password("x", "not a hash"));
    }
}
