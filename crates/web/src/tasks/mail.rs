//! E-mail over SMTP (lettre, rustls): `smtp://` speaks plain SMTP and
//! upgrades with STARTTLS when the server offers it, `smtps://` is TLS from
//! the first byte. `user:password@` in the URL logs in.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// The sender used when none is given.
pub const DEFAULT_FROM: &str = "isms <isms@localhost>";

/// A configured SMTP relay and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The URL without its password, for messages.
    shown: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("smtp", &self.shown)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl Mailer {
    /// Checks the URL and the sender; the error is one line for the operator.
    pub fn new(smtp_url: &str, from: &str) -> Result<Mailer, String> {
        let shown = isms_store::redact_url(smtp_url);
        let from: Mailbox = from.trim().parse().map_err(|e| {
            format!("--smtp-from '{from}' is not a valid sender address ({e}): use e.g. \"isms <isms@example.com>\"")
        })?;
        let url = url::Url::parse(smtp_url).map_err(|e| {
            format!("--smtp-url '{shown}' is not a URL ({e}): use smtp://user:pass@host:port or smtps://...")
        })?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("--smtp-url '{shown}' names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls_params = || {
            TlsParameters::new(host.clone())
                .map_err(|e| format!("--smtp-url '{shown}': cannot set up TLS ({e})"))
        };
        let (tls, default_port) = match url.scheme() {
            "smtp" => (Tls::Opportunistic(tls_params()?), 25),
            "smtps" => (Tls::Wrapper(tls_params()?), 465),
            other => {
                return Err(format!(
                    "--smtp-url '{shown}': unknown scheme '{other}': use smtp:// (STARTTLS when offered) or smtps:// (TLS)"
                ));
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port().unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(Duration::from_secs(15)));
        if !url.username().is_empty() {
            builder = builder.credentials(Credentials::new(
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            ));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            shown,
        })
    }

    /// The relay, without its password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Connects (and logs in) once, to find out whether sending can work.
    pub async fn check(&self) -> Result<(), String> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!("the SMTP server {} did not answer", self.shown)),
            Err(e) => Err(format!("the SMTP server {} refused: {e}", self.shown)),
        }
    }

    /// Sends one plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("'{to}' is not an address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("sending through {} failed: {e}", self.shown))
    }
}
