//! Visitor QR tokens, signed with the gateway's own Ed25519 key and verified offline.
//!
//! Token: `base64url(payload) "." base64url(signature)`, no padding. The payload is JSON
//! `{"pass":"V-000042","from":1764000000,"until":1764086400}` (Unix seconds). The signature
//! covers `gatehouse-qr:` followed by the payload's base64 text, so the key signs nothing that
//! could be taken for anything else. The token only names a pass and a window; the pass itself
//! (status, host household, entry count) lives in the store, so revoking it works at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

const CONTEXT: &[u8] = b"gatehouse-qr:";

/// What a valid token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub pass: String,
    /// Unix seconds.
    pub from: i64,
    pub until: i64,
}

impl Claims {
    /// Whether `now` lies in the token's window.
    pub fn valid_at(&self, now: Timestamp) -> bool {
        let s = now.as_second();
        self.from <= s && s < self.until
    }
}

/// Why a token is refused (all of them are `qr_invalid` at the door).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not two base64url parts, or the payload is not the expected JSON.
    #[error("malformed QR token")]
    Malformed,
    /// The signature does not verify with the gateway's key.
    #[error("QR token signature does not verify")]
    BadSignature,
    /// The gateway has no key, so it can verify no token.
    #[error("this gateway has no visitor key")]
    NoKey,
}

fn message(payload_b64: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(CONTEXT.len() + payload_b64.len());
    m.extend_from_slice(CONTEXT);
    m.extend_from_slice(payload_b64.as_bytes());
    m
}

/// Issues a token for `pass`, valid from `from` until `until`.
pub fn issue_token(secret: &[u8; 32], pass: &str, from: Timestamp, until: Timestamp) -> String {
    let key = SigningKey::from_bytes(secret);
    let claims = Claims {
        pass: pass.to_string(),
        from: from.as_second(),
        until: until.as_second(),
    };
    let payload = serde_json::to_vec(&claims).unwrap_or_default();
    let payload_b64 = URL_SAFE_NO_PAD.encode(payload);
    let sig = key.sign(&message(&payload_b64));
    format!("{payload_b64}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// Verifies a token with the gateway's public key and returns its claims.
pub fn verify_token(key: Option<&VerifyingKey>, token: &str) -> Result<Claims, TokenError> {
    let key = key.ok_or(TokenError::NoKey)?;
    let (payload_b64, sig_b64) = token.trim().split_once('.').ok_or(TokenError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig_b64)
        .map_err(|_| TokenError::Malformed)?;
    let sig = Signature::from_slice(&sig).map_err(|_| TokenError::Malformed)?;
    key.verify(&message(payload_b64), &sig)
        .map_err(|_| TokenError::BadSignature)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)
}

/// The gateway's own key: it signs visitor tokens and verifies them at the door.
#[derive(Clone)]
pub struct GatewayKey {
    secret: [u8; 32],
    pub public: VerifyingKey,
}

impl GatewayKey {
    pub fn new(secret: [u8; 32]) -> GatewayKey {
        let public = SigningKey::from_bytes(&secret).verifying_key();
        GatewayKey { secret, public }
    }

    pub fn issue(&self, pass: &str, from: Timestamp, until: Timestamp) -> String {
        issue_token(&self.secret, pass, from, until)
    }
}

impl std::fmt::Debug for GatewayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret half.
        f.debug_struct("GatewayKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl crate::core::Core {
    /// A QR token for a visitor pass, valid for the pass's own window (the console shows it as
    /// a QR code). Errors say what is missing.
    pub fn visitor_token(&self, pass: &str) -> Result<String, String> {
        let key = self.gateway_key.as_ref().ok_or(
            "this gateway has no visitor key: start it with a data directory so one is made",
        )?;
        let p = self
            .model
            .pass(pass)
            .ok_or_else(|| format!("unknown pass '{pass}': issue the visitor pass first"))?;
        if p.visitor.is_none() {
            return Err(format!("pass '{pass}' is not a visitor pass"));
        }
        let (Some(from), Some(until)) = (p.valid_from, p.valid_until) else {
            return Err(format!(
                "visitor pass '{pass}' needs valid_from and valid_until for a QR token"
            ));
        };
        Ok(key.issue(pass, from, until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_with_its_key_only() {
        let secret = [7u8; 32];
        let key = GatewayKey::new(secret);
        let from: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
        let until: Timestamp = "2026-11-23T00:00:00Z".parse().unwrap();
        let token = issue_token(&secret, "V-1", from, until);
        let claims = verify_token(Some(&key.public), &token).unwrap();
        assert_eq!(claims.pass, "V-1");
        assert!(claims.valid_at(from));
        assert!(!claims.valid_at(until));

        let other = GatewayKey::new([8u8; 32]);
        assert_eq!(
            verify_token(Some(&other.public), &token),
            Err(TokenError::BadSignature)
        );
        assert_eq!(verify_token(None, &token), Err(TokenError::NoKey));
        assert_eq!(
            verify_token(Some(&key.public), "nonsense"),
            Err(TokenError::Malformed)
        );
        // Changing the payload (another pass) breaks the signature.
        let forged_payload =
            URL_SAFE_NO_PAD.encode(br#"{"pass":"V-2","from":0,"until":9999999999}"#);
        let sig = token.split_once('.').unwrap().1;
        assert_eq!(
            verify_token(Some(&key.public), &format!("{forged_payload}.{sig}")),
            Err(TokenError::BadSignature)
        );
        assert!(!format!("{key:?}").contains("secret"));
    }
}
