//! The callvault transcript v1 document (`callvault.transcript/v1`).
//!
//! Every importer produces this type; every view and the stored master are this type.

use serde::{Deserialize, Serialize};

/// The schema string every v1 transcript carries.
pub const SCHEMA_V1: &str = "callvault.transcript/v1";

/// A call transcript in the v1 format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transcript {
    /// Always [`SCHEMA_V1`].
    pub schema: String,
    /// The call id, `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.
    pub call_id: String,
    /// RFC 3339 start time of the call.
    pub started_at: String,
    /// The agent's id.
    pub agent_id: String,
    /// `zh-CN`, `en-US` or `mixed`.
    pub language: String,
    /// The audio that belongs to the call, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioRef>,
    /// Turns in time order, not overlapping.
    pub segments: Vec<Segment>,
}

/// Who speaks a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The contact-centre agent.
    Agent,
    /// The caller.
    Customer,
}

/// The audio description inside a v1 transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioRef {
    /// File name of the audio beside the transcript.
    pub file: String,
    /// `pcm_s16le`, `mulaw` or `alaw`.
    pub encoding: String,
    /// Frames per second.
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u16,
    /// frames / sample_rate.
    pub duration_s: f64,
    /// Which channel carries which speaker.
    pub channel_map: ChannelMap,
}

/// Channel index per speaker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelMap {
    /// The agent's channel.
    pub agent: u16,
    /// The customer's channel.
    pub customer: u16,
}

impl ChannelMap {
    /// The channel that carries `speaker`.
    pub fn channel(&self, speaker: Speaker) -> u16 {
        match speaker {
            Speaker::Agent => self.agent,
            Speaker::Customer => self.customer,
        }
    }
}

/// One turn of one speaker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// Who speaks.
    pub speaker: Speaker,
    /// Start, seconds (whole milliseconds).
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// The text; equals the concatenation of `words` when they are present.
    pub text: String,
    /// Word tokens with times; absent for formats without word times (WebVTT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Vec<Word>>,
}

/// One timed token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Word {
    /// Token text, English tokens with their leading space.
    pub w: String,
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
}
