//! Placeholder until the builder lands.

/// Placeholder.
#[derive(Debug)]
pub struct VoiceResponse;
