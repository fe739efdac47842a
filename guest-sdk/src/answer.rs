//! What a handler returns: TwiML, or an error the runtime turns into an HTTP status.

use std::fmt;

use crate::{__bindings::exports::twiml::edge::handler as wit, VoiceResponse};

/// Why a function could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The webhook lacks what the function needs (answered 400).
    BadRequest(String),
    /// The function failed (answered 500; a SIP domain falls back).
    Internal(String),
}

impl Error {
    /// The webhook lacks what the function needs; `message` says what.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// The function failed; `message` says why.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRequest(m) => write!(f, "bad request: {m}"),
            Self::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::http::HttpError> for Error {
    fn from(err: crate::http::HttpError) -> Self {
        Self::internal(err.to_string())
    }
}

impl From<Error> for wit::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::BadRequest(m) => Self::BadRequest(m),
            Error::Internal(m) => Self::Internal(m),
        }
    }
}

/// A handler's return value: a [`VoiceResponse`], raw TwiML, or either in a `Result`.
pub trait IntoAnswer {
    /// The TwiML document, or the error to report.
    fn into_answer(self) -> Result<String, Error>;
}

impl IntoAnswer for VoiceResponse {
    fn into_answer(self) -> Result<String, Error> {
        Ok(self.to_xml())
    }
}

impl IntoAnswer for String {
    fn into_answer(self) -> Result<String, Error> {
        Ok(self)
    }
}

impl IntoAnswer for &str {
    fn into_answer(self) -> Result<String, Error> {
        Ok(self.to_owned())
    }
}

impl<T: IntoAnswer> IntoAnswer for Result<T, Error> {
    fn into_answer(self) -> Result<String, Error> {
        self.and_then(IntoAnswer::into_answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_convert() {
        assert_eq!("<Response/>".into_answer(), Ok("<Response/>".to_owned()));
        let failed: Result<String, Error> = Err(Error::bad_request("no To"));
        assert_eq!(failed.into_answer(), Err(Error::BadRequest("no To".into())));
        assert_eq!(Error::internal("x").to_string(), "internal error: x");
    }
}
