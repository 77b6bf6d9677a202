//! Organisation settings: the time zone times are shown in and the currency
//! of money figures. An organisation that never saved them has the defaults
//! (UTC, EUR). A change is versioned (a stale version is refused) and
//! audit-logged.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::versioned::{self, Claim, Target};
use crate::{Result, Store, StoreError, now, on_pool, on_tx};

/// The time zone of an organisation that has not chosen one.
pub const DEFAULT_TIME_ZONE: &str = "UTC";
/// The currency of an organisation that has not chosen one. EUR: the
/// standard this product serves is most used in Europe.
pub const DEFAULT_CURRENCY: &str = "EUR";

/// ISO 4217 codes of the currencies in use, with their names and the
/// symbol shown before an amount (the code itself when the symbol is shared
/// by several currencies or not widely known).
pub const CURRENCIES: &[(&str, &str, &str)] = &[
    ("AED", "UAE dirham", "AED"),
    ("ARS", "Argentine peso", "ARS"),
    ("AUD", "Australian dollar", "A$"),
    ("BGN", "Bulgarian lev", "BGN"),
    ("BRL", "Brazilian real", "R$"),
    ("CAD", "Canadian dollar", "CA$"),
    ("CHF", "Swiss franc", "CHF"),
    ("CLP", "Chilean peso", "CLP"),
    ("CNY", "Chinese yuan", "CN¥"),
    ("COP", "Colombian peso", "COP"),
    ("CZK", "Czech koruna", "CZK"),
    ("DKK", "Danish krone", "DKK"),
    ("EGP", "Egyptian pound", "EGP"),
    ("EUR", "Euro", "€"),
    ("GBP", "Pound sterling", "£"),
    ("HKD", "Hong Kong dollar", "HK$"),
    ("HUF", "Hungarian forint", "HUF"),
    ("IDR", "Indonesian rupiah", "IDR"),
    ("ILS", "Israeli new shekel", "₪"),
    ("INR", "Indian rupee", "₹"),
    ("ISK", "Icelandic króna", "ISK"),
    ("JPY", "Japanese yen", "¥"),
    ("KES", "Kenyan shilling", "KES"),
    ("KRW", "South Korean won", "₩"),
    ("MXN", "Mexican peso", "MX$"),
    ("MYR", "Malaysian ringgit", "MYR"),
    ("NGN", "Nigerian naira", "NGN"),
    ("NOK", "Norwegian krone", "NOK"),
    ("NZD", "New Zealand dollar", "NZ$"),
    ("PHP", "Philippine peso", "PHP"),
    ("PKR", "Pakistani rupee", "PKR"),
    ("PLN", "Polish złoty", "PLN"),
    ("RON", "Romanian leu", "RON"),
    ("RSD", "Serbian dinar", "RSD"),
    ("SAR", "Saudi riyal", "SAR"),
    ("SEK", "Swedish krona", "SEK"),
    ("SGD", "Singapore dollar", "S$"),
    ("THB", "Thai baht", "THB"),
    ("TRY", "Turkish lira", "TRY"),
    ("TWD", "New Taiwan dollar", "NT$"),
    ("UAH", "Ukrainian hryvnia", "UAH"),
    ("USD", "US dollar", "$"),
    ("VND", "Vietnamese dong", "VND"),
    ("ZAR", "South African rand", "ZAR"),
];

/// The symbol of a known currency code (the code itself when unknown).
pub fn currency_symbol(code: &str) -> &str {
    CURRENCIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(code, |(_, _, s)| s)
}

/// The settings of one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct OrgSettings {
    pub time_zone: String,
    pub currency: String,
    /// 0 while the settings were never saved.
    pub version: i64,
    pub updated_at: String,
    pub updated_by: String,
}

impl Default for OrgSettings {
    fn default() -> Self {
        OrgSettings {
            time_zone: DEFAULT_TIME_ZONE.to_owned(),
            currency: DEFAULT_CURRENCY.to_owned(),
            version: 0,
            updated_at: String::new(),
            updated_by: String::new(),
        }
    }
}

/// The editable settings and the version the caller read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrgSettingsInput {
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub currency: String,
    pub version: Option<i64>,
}

/// The IANA name of a time zone the bundled database knows, as the
/// database spells it; an error sentence otherwise.
pub fn check_time_zone(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid(
            "time_zone: choose a time zone, for example Europe/Berlin or UTC".into(),
        ));
    }
    match jiff::tz::db().get(name) {
        Ok(tz) => Ok(tz.iana_name().unwrap_or(name).to_owned()),
        Err(_) => Err(StoreError::Invalid(format!(
            "time_zone: '{name}' is not a time zone name of the IANA database; write it as Region/City, for example Europe/Berlin, America/New_York or UTC"
        ))),
    }
}

/// A known ISO 4217 code, upper case; an error sentence otherwise.
pub fn check_currency(code: &str) -> Result<String> {
    let code = code.trim().to_ascii_uppercase();
    if CURRENCIES.iter().any(|(c, _, _)| *c == code) {
        Ok(code)
    } else {
        Err(StoreError::Invalid(format!(
            "currency: '{code}' is not a currency this product knows; use an ISO 4217 code such as EUR, USD, GBP or CHF"
        )))
    }
}

const COLS: &str = "time_zone, currency, version, updated_at, updated_by";

impl Store {
    /// The settings of an organisation (the defaults when never saved).
    pub async fn org_settings(&self, org_id: i64) -> Result<OrgSettings> {
        let row = on_pool!(self, |p| sqlx::query_as::<_, OrgSettings>(&format!(
            "SELECT {COLS} FROM org_settings WHERE org_id = $1"
        ))
        .bind(org_id)
        .fetch_optional(p)
        .await)?;
        Ok(row.unwrap_or_default())
    }

    /// Saves the settings if `input.version` is the one stored (0 when never
    /// saved); a stale version is a conflict and nothing is written.
    pub async fn save_org_settings(
        &self,
        org_id: i64,
        input: &OrgSettingsInput,
        actor: &Actor,
    ) -> Result<OrgSettings> {
        let Some(sent) = input.version else {
            return Err(versioned::version_required(" (0 when never saved)"));
        };
        let time_zone = check_time_zone(&input.time_zone)?;
        let currency = check_currency(&input.currency)?;
        let at = now();
        let mut tx = self.begin().await?;
        let won = if sent == 0 {
            // The first save creates the row: of two first saves, one inserts.
            on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO org_settings (org_id, version, updated_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (org_id) DO NOTHING"
            )
            .bind(org_id)
            .bind(&at)
            .execute(c)
            .await
            .map(|r| r.rows_affected() == 1))?
        } else {
            let target = Target {
                table: "org_settings",
                org_id,
                keys: &[],
            };
            versioned::claim(&mut tx, &target, sent).await? == Claim::Won
        };
        let stored = on_tx!(&mut tx, |c| sqlx::query_as::<_, OrgSettings>(&format!(
            "SELECT {COLS} FROM org_settings WHERE org_id = $1"
        ))
        .bind(org_id)
        .fetch_optional(c)
        .await)?;
        if !won {
            let (current, by, when) = stored
                .map(|s| (s.version, s.updated_by, s.updated_at))
                .unwrap_or_default();
            return Err(versioned::stale(
                "the organisation's settings",
                current,
                sent,
                &by,
                &when,
            ));
        }
        let before = if sent == 0 {
            OrgSettings::default()
        } else {
            stored.unwrap_or_default()
        };
        let after = OrgSettings {
            time_zone,
            currency,
            version: sent + 1,
            updated_at: at,
            updated_by: actor.label.clone(),
        };
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE org_settings SET time_zone = $1, currency = $2, version = $3, \
             updated_at = $4, updated_by = $5 WHERE org_id = $6"
        )
        .bind(&after.time_zone)
        .bind(&after.currency)
        .bind(after.version)
        .bind(&after.updated_at)
        .bind(&after.updated_by)
        .bind(org_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                org_id,
                action: "update",
                entity_type: "org_settings",
                entity_id: org_id.to_string(),
                before: Some(json!({"time_zone": before.time_zone, "currency": before.currency, "version": sent})),
                after: Some(json!({"time_zone": after.time_zone, "currency": after.currency, "version": after.version})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_checked_against_the_database() {
        assert_eq!(check_time_zone("Europe/Berlin").unwrap(), "Europe/Berlin");
        assert_eq!(check_time_zone(" UTC ").unwrap(), "UTC");
        assert!(check_time_zone("Mars/Olympus").is_err());
        assert!(check_time_zone("").is_err());
    }

    #[test]
    fn currencies_are_iso_codes_from_the_list() {
        assert_eq!(check_currency("eur").unwrap(), "EUR");
        assert!(check_currency("XYZ").is_err());
        assert!(check_currency("EURO").is_err());
        assert_eq!(currency_symbol("EUR"), "€");
        assert_eq!(currency_symbol("CHF"), "CHF");
    }
}
