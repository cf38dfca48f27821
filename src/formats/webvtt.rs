//! WebVTT with `<v Agent>` / `<v Customer>` voice spans → v1 segments without words.
//!
//! Layout: `WEBVTT`, header lines (a `Language:` line gives the language) up to the first
//! blank line, then blocks separated by blank lines. `NOTE`, `STYLE` and `REGION` blocks are
//! skipped. A cue is an optional identifier, `[HH:]MM:SS.mmm --> [HH:]MM:SS.mmm [settings]`,
//! and a payload that is exactly one voice span (`</v>` optional). The payload may not hold
//! other tags (a `<` must be escaped); `&amp;`, `&lt;` and `&gt;` are unescaped, any other `&`
//! stays as it is. A voice other than Agent or Customer (any case) is refused.

use super::import::ImportOptions;
use super::{FormatError, Segment, Speaker, Transcript};

/// One block: its first line number (1-based) and its lines.
struct Block<'a> {
    line: usize,
    lines: Vec<&'a str>,
}

/// Imports WebVTT (already known to be UTF-8). Not validated.
pub(crate) fn import(text: &str, options: &ImportOptions) -> Result<Transcript, FormatError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut blocks = blocks(&normalised).into_iter();
    let header = blocks.next().ok_or(FormatError::MalformedVtt { line: 1 })?;
    let signature = header.lines[0];
    if header.line != 1 || !(signature == "WEBVTT" || signature.starts_with("WEBVTT ")) {
        return Err(FormatError::MalformedVtt { line: 1 });
    }
    if let Some(at) = header.lines.iter().position(|l| l.contains("-->")) {
        return Err(FormatError::MalformedVtt { line: at + 1 });
    }
    let language = header
        .lines
        .iter()
        .find_map(|l| l.strip_prefix("Language:"))
        .map(|l| l.trim().to_owned());
    let header = options.header(language)?;
    let mut segments = Vec::new();
    for block in blocks {
        let first = block.lines[0];
        if ["NOTE", "STYLE", "REGION"]
            .iter()
            .any(|k| is_keyword(first, k))
        {
            continue;
        }
        segments.push(cue(&block)?);
    }
    Ok(header.into_transcript(segments))
}

fn is_keyword(line: &str, keyword: &str) -> bool {
    line.strip_prefix(keyword)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut blocks: Vec<Block<'_>> = Vec::new();
    let mut current: Option<Block<'_>> = None;
    for (index, line) in text.split('\n').enumerate() {
        if line.trim().is_empty() {
            blocks.extend(current.take());
        } else {
            current
                .get_or_insert_with(|| Block {
                    line: index + 1,
                    lines: Vec::new(),
                })
                .lines
                .push(line);
        }
    }
    blocks.extend(current);
    blocks
}

fn cue(block: &Block<'_>) -> Result<Segment, FormatError> {
    let timing_at = if block.lines[0].contains("-->") { 0 } else { 1 };
    let line = block.line + timing_at;
    let bad = FormatError::MalformedVtt { line };
    let timing = block.lines.get(timing_at).ok_or(bad.clone())?;
    let (start, end) = timing.split_once("-->").ok_or(bad.clone())?;
    let end = end.split_whitespace().next().ok_or(bad.clone())?;
    let (start, end) = (timestamp(start.trim(), line)?, timestamp(end, line)?);
    let payload = block.lines[timing_at + 1..].join("\n");
    let (speaker, text) = voice_span(&payload, line + 1)?;
    Ok(Segment {
        speaker,
        start,
        end,
        text,
        words: None,
    })
}

/// `[HH:]MM:SS.mmm` in seconds, computed from whole milliseconds.
fn timestamp(raw: &str, line: usize) -> Result<f64, FormatError> {
    let bad = FormatError::MalformedVtt { line };
    let (clock, millis) = raw.split_once('.').ok_or(bad.clone())?;
    let parts: Vec<&str> = clock.split(':').collect();
    let (hours, minutes, seconds) = match parts.as_slice() {
        [h, m, s] if h.len() >= 2 => (*h, *m, *s),
        [m, s] => ("0", *m, *s),
        _ => return Err(bad),
    };
    let number = |s: &str, len: Option<usize>, max: u64| -> Result<u64, FormatError> {
        let shape_ok = len.is_none_or(|n| s.len() == n) && s.len() <= 6;
        if !shape_ok || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad.clone());
        }
        let value: u64 = s.parse().map_err(|_| bad.clone())?;
        if value > max {
            return Err(bad.clone());
        }
        Ok(value)
    };
    let ms = number(hours, None, 999_999)? * 3_600_000
        + number(minutes, Some(2), 59)? * 60_000
        + number(seconds, Some(2), 59)? * 1000
        + number(millis, Some(3), 999)?;
    Ok(ms as f64 / 1000.0)
}

/// The speaker and unescaped text of `<v[.classes] Name>text[</v>]`.
fn voice_span(payload: &str, line: usize) -> Result<(Speaker, String), FormatError> {
    let bad = FormatError::MalformedVtt { line };
    let rest = payload.strip_prefix("<v").ok_or(bad.clone())?;
    let (tag, body) = rest.split_once('>').ok_or(bad.clone())?;
    let annotation = match tag.split_once([' ', '\t']) {
        Some((classes, name)) if classes.is_empty() || classes.starts_with('.') => name.trim(),
        _ => return Err(bad),
    };
    let body = body.strip_suffix("</v>").unwrap_or(body);
    if body.contains('<') {
        return Err(bad);
    }
    let speaker = if annotation.eq_ignore_ascii_case("agent") {
        Speaker::Agent
    } else if annotation.eq_ignore_ascii_case("customer") {
        Speaker::Customer
    } else {
        return Err(FormatError::UnknownSpeaker);
    };
    Ok((speaker, unescape(body)))
}

/// Replaces `&amp;`, `&lt;` and `&gt;` in one left-to-right pass.
fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let (text, len) = [("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")]
            .iter()
            .find(|(entity, _)| tail.starts_with(entity))
            .map_or(("&", 1), |(entity, text)| (*text, entity.len()));
        out.push_str(text);
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[path = "webvtt_tests.rs"]
mod tests;
