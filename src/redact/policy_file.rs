//! Parsing and validating the policy files (TOML) into a [`Policy`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::finding::Tier;
use super::lexicon::{Lexicon, LexiconSource};
use super::policy::{ClassInfo, CustomDetector, Kind, Policy, PolicyError, Rendering};

/// The text of the four policy files.
pub(crate) struct Sources {
    pub classes: String,
    pub roles: String,
    pub detectors: String,
    pub custom: String,
}

/// Classes every policy must define (the built-in detectors emit them).
pub(crate) const BUILTIN_CLASSES: [&str; 11] = [
    "cvv",
    "expiry",
    "pin",
    "password",
    "otp",
    "card_number",
    "id_number",
    "phone",
    "name",
    "address",
    "email",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassesFile {
    class: Vec<Spanned<ClassDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassDef {
    name: String,
    tier: Spanned<String>,
    label: String,
    kind: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesFile {
    mask_last: Option<usize>,
    role: BTreeMap<String, BTreeMap<String, Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomFile {
    #[serde(default)]
    detector: Vec<Spanned<CustomDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomDef {
    name: String,
    class: Spanned<String>,
    pattern: Spanned<String>,
    #[serde(default)]
    context: Vec<String>,
    #[serde(default)]
    context_required: bool,
    validator: Option<Spanned<String>>,
    confidence: Option<f32>,
}

/// Validates and compiles the four files.
pub(crate) fn compile(src: &Sources) -> Result<Policy, PolicyError> {
    let classes = parse_classes(&src.classes)?;
    let (mask_last, roles) = parse_roles(&src.roles, &classes)?;
    let lex_src: LexiconSource = parse("detectors.toml", &src.detectors)?;
    let lex =
        Lexicon::compile(lex_src).map_err(|m| invalid("detectors.toml", &src.detectors, 0, m))?;
    let custom = parse_custom(&src.custom, &classes)?;
    Ok(Policy {
        classes,
        roles,
        mask_last,
        lex,
        custom,
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

fn invalid(file: &str, text: &str, offset: usize, message: String) -> PolicyError {
    PolicyError::Invalid {
        file: file.to_string(),
        line: line_of(text, offset),
        message,
    }
}

fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, PolicyError> {
    toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        invalid(file, text, at, e.message().to_string())
    })
}

fn parse_classes(text: &str) -> Result<Vec<ClassInfo>, PolicyError> {
    const F: &str = "classes.toml";
    let file: ClassesFile = parse(F, text)?;
    let mut out: Vec<ClassInfo> = Vec::new();
    for c in &file.class {
        let at = c.span().start;
        let d = c.get_ref();
        let tier = Tier::parse(d.tier.get_ref())
            .filter(|t| *t != Tier::Keep)
            .ok_or_else(|| {
                invalid(
                    F,
                    text,
                    d.tier.span().start,
                    "tier must be C3, C2 or PI".into(),
                )
            })?;
        let kind = match d.kind.get_ref().as_str() {
            "secret" => Kind::Secret,
            "digits" => Kind::Digits,
            "name" => Kind::Name,
            "address" => Kind::Address,
            "email" => Kind::Email,
            _ => {
                return Err(invalid(
                    F,
                    text,
                    d.kind.span().start,
                    "kind must be secret, digits, name, address or email".into(),
                ))
            }
        };
        if d.name.is_empty()
            || !d
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        {
            return Err(invalid(
                F,
                text,
                at,
                "class name must be lower_snake_case".into(),
            ));
        }
        if out.iter().any(|o| o.name == d.name) {
            return Err(invalid(
                F,
                text,
                at,
                format!("class {:?} defined twice", d.name),
            ));
        }
        if d.label.is_empty() || d.label.contains([']', '[']) {
            return Err(invalid(
                F,
                text,
                at,
                "label must be non-empty and without brackets".into(),
            ));
        }
        out.push(ClassInfo {
            name: d.name.clone(),
            tier,
            label: d.label.clone(),
            kind,
        });
    }
    for b in BUILTIN_CLASSES {
        if !out.iter().any(|c| c.name == b) {
            return Err(invalid(
                F,
                text,
                0,
                format!("built-in class {b:?} is missing"),
            ));
        }
    }
    Ok(out)
}

type Roles = BTreeMap<String, BTreeMap<String, Rendering>>;

fn parse_roles(text: &str, classes: &[ClassInfo]) -> Result<(usize, Roles), PolicyError> {
    const F: &str = "roles.toml";
    let file: RolesFile = parse(F, text)?;
    let mut roles = BTreeMap::new();
    for (role, table) in &file.role {
        let mut m = BTreeMap::new();
        for (class, r) in table {
            let at = r.span().start;
            let info = classes.iter().find(|c| &c.name == class).ok_or_else(|| {
                invalid(
                    F,
                    text,
                    at,
                    format!("role {role:?}: unknown class {class:?}"),
                )
            })?;
            let rendering = Rendering::parse(r.get_ref()).ok_or_else(|| {
                invalid(
                    F,
                    text,
                    at,
                    "rendering must be removed, masked, surname_only or full".into(),
                )
            })?;
            if info.tier == Tier::C3 && rendering != Rendering::Removed {
                return Err(invalid(
                    F,
                    text,
                    at,
                    format!("{class:?} is C3: it is destroyed and can only be \"removed\""),
                ));
            }
            m.insert(class.clone(), rendering);
        }
        roles.insert(role.clone(), m);
    }
    Ok((file.mask_last.unwrap_or(4).min(4), roles))
}

fn parse_custom(text: &str, classes: &[ClassInfo]) -> Result<Vec<CustomDetector>, PolicyError> {
    const F: &str = "custom.toml";
    let file: CustomFile = parse(F, text)?;
    let mut out = Vec::new();
    for d in &file.detector {
        let at = d.span().start;
        let d = d.get_ref();
        if !classes.iter().any(|c| &c.name == d.class.get_ref()) {
            return Err(invalid(
                F,
                text,
                d.class.span().start,
                format!("unknown class {:?}", d.class.get_ref()),
            ));
        }
        let pattern = regex::Regex::new(d.pattern.get_ref()).map_err(|_| {
            invalid(
                F,
                text,
                d.pattern.span().start,
                "pattern is not a valid regex".into(),
            )
        })?;
        if let Some(v) = &d.validator {
            if !matches!(v.get_ref().as_str(), "luhn" | "id_checksum" | "mobile") {
                return Err(invalid(
                    F,
                    text,
                    v.span().start,
                    "validator must be luhn, id_checksum or mobile".into(),
                ));
            }
        }
        let context = if d.context.is_empty() {
            None
        } else {
            Some(super::lexicon::cue_regex(&d.context).map_err(|m| invalid(F, text, at, m))?)
        };
        out.push(CustomDetector {
            name: d.name.clone(),
            class: d.class.get_ref().clone(),
            pattern,
            context,
            context_required: d.context_required,
            validator: d.validator.as_ref().map(|v| v.get_ref().clone()),
            confidence: d.confidence.unwrap_or(0.8).clamp(0.0, 1.0),
        });
    }
    Ok(out)
}
