//! Loading the schema and policies: from the files compiled in, or from a directory.
//! Every policy is renamed to its `@id`; the set is validated in strict mode.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet, Schema,
    ValidationMode, Validator,
};
use miette::Diagnostic;

use super::{Action, AuthzError};

/// The schema's file name, in `policies/access/` and in any directory given to `load_dir`.
pub(super) const SCHEMA_FILE: &str = "callvault.cedarschema";

const BUILTIN_SCHEMA: &str = include_str!("../../../policies/access/callvault.cedarschema");

/// The policy files compiled in, sorted by name as `read_dir` sorts them.
pub(super) const BUILTIN_POLICIES: [(&str, &str); 4] = [
    (
        "guardrails.cedar",
        include_str!("../../../policies/access/guardrails.cedar"),
    ),
    (
        "operations.cedar",
        include_str!("../../../policies/access/operations.cedar"),
    ),
    (
        "reads.cedar",
        include_str!("../../../policies/access/reads.cedar"),
    ),
    (
        "requests.cedar",
        include_str!("../../../policies/access/requests.cedar"),
    ),
];

/// The compiled-in schema text and policy files.
pub(super) fn builtin_sources() -> (&'static str, [(&'static str, &'static str); 4]) {
    (BUILTIN_SCHEMA, BUILTIN_POLICIES)
}

/// Reads the schema and every `*.cedar` file of `dir`, sorted by file name.
pub(super) fn read_dir(dir: &Path) -> Result<(String, Vec<(String, String)>), AuthzError> {
    let io = |file: &Path| {
        let file = file.display().to_string();
        move |source| AuthzError::Io { file, source }
    };
    let schema_path = dir.join(SCHEMA_FILE);
    let schema = std::fs::read_to_string(&schema_path).map_err(io(&schema_path))?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.extension().is_some_and(|e| e == "cedar") {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            files.push((name.into_owned(), text));
        }
    }
    if files.is_empty() {
        return Err(AuthzError::NoPolicies {
            dir: dir.display().to_string(),
        });
    }
    files.sort();
    Ok((schema, files))
}

/// `file:line` when a line is known, else `file`.
fn location(file: &str, text: &str, diag: &dyn Diagnostic) -> String {
    match first_offset(diag) {
        Some(offset) => {
            let upto = &text.as_bytes()[..offset.min(text.len())];
            let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
            format!("{file}:{line}")
        }
        None => file.to_owned(),
    }
}

fn first_offset(diag: &dyn Diagnostic) -> Option<usize> {
    if let Some(label) = diag.labels().and_then(|mut l| l.next()) {
        return Some(label.offset());
    }
    diag.related()?.find_map(first_offset)
}

/// Parses the schema.
pub(super) fn parse_schema(text: &str) -> Result<Schema, AuthzError> {
    let (schema, mut warnings) =
        Schema::from_cedarschema_str(text).map_err(|e| AuthzError::Schema {
            location: location(SCHEMA_FILE, text, &e),
            message: e.to_string(),
        })?;
    match warnings.next() {
        Some(w) => Err(AuthzError::Schema {
            location: location(SCHEMA_FILE, text, &w),
            message: w.to_string(),
        }),
        None => Ok(schema),
    }
}

/// Parses every file into one set whose policy ids are the `@id` annotations.
pub(super) fn parse_policies(files: &[(&str, &str)]) -> Result<PolicySet, AuthzError> {
    let mut set = PolicySet::new();
    for (file, text) in files {
        let parsed = PolicySet::from_str(text).map_err(|e| AuthzError::Parse {
            location: location(file, text, &e),
            message: e.to_string(),
        })?;
        if parsed.templates().next().is_some() {
            return Err(AuthzError::Template {
                file: (*file).to_owned(),
            });
        }
        for policy in parsed.policies() {
            let Some(id) = policy.annotation("id") else {
                return Err(AuthzError::MissingId {
                    location: (*file).to_owned(),
                });
            };
            let id = id.to_owned();
            if set.policy(&PolicyId::new(&id)).is_some() {
                return Err(AuthzError::DuplicateId {
                    location: (*file).to_owned(),
                    id,
                });
            }
            set.add(policy.new_id(PolicyId::new(&id)))
                .map_err(|e| AuthzError::DuplicateId {
                    location: format!("{file}: {e}"),
                    id,
                })?;
        }
    }
    Ok(set)
}

/// Validates `set` against `schema` in strict mode; any error or warning fails.
pub(super) fn validate(
    schema: &Schema,
    set: &PolicySet,
    files: &[(&str, &str)],
) -> Result<(), AuthzError> {
    let origins = origins(files);
    let result = Validator::new(schema.clone()).validate(set, ValidationMode::Strict);
    let mut problems = result
        .validation_errors()
        .map(|e| {
            (
                e.policy_id().to_string(),
                e as &dyn Diagnostic,
                e.to_string(),
            )
        })
        .chain(result.validation_warnings().map(|w| {
            (
                w.policy_id().to_string(),
                w as &dyn Diagnostic,
                w.to_string(),
            )
        }));
    match problems.next() {
        None => Ok(()),
        Some((id, diag, message)) => {
            let (file, text) = origins.get(id.as_str()).copied().unwrap_or(("?", ""));
            Err(AuthzError::Invalid {
                location: location(file, text, diag),
                id,
                message,
            })
        }
    }
}

/// For each action of [`Action::ALL`], the policies whose action scope can match it
/// (scope `action`, the action itself, or one of its groups). Evaluating only these gives
/// the same answer as the whole set, faster.
pub(super) fn slice_by_action(
    schema: &Schema,
    set: &PolicySet,
) -> Result<Vec<PolicySet>, AuthzError> {
    let actions = schema.action_entities().map_err(|e| AuthzError::Schema {
        location: SCHEMA_FILE.to_owned(),
        message: e.to_string(),
    })?;
    let action_type = EntityTypeName::from_str("Action").map_err(|e| AuthzError::Schema {
        location: SCHEMA_FILE.to_owned(),
        message: e.to_string(),
    })?;
    let mut slices = Vec::with_capacity(Action::ALL.len());
    for action in Action::ALL {
        let me =
            EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(action.as_str()));
        if actions.get(&me).is_none() {
            return Err(AuthzError::Schema {
                location: SCHEMA_FILE.to_owned(),
                message: format!("action {:?} is not declared", action.as_str()),
            });
        }
        let mut within: Vec<&EntityUid> = actions.ancestors(&me).into_iter().flatten().collect();
        within.push(&me);
        let mut slice = PolicySet::new();
        for policy in set.policies() {
            let applies = match policy.action_constraint() {
                ActionConstraint::Any => true,
                ActionConstraint::Eq(a) => within.contains(&&a),
                ActionConstraint::In(list) => list.iter().any(|a| within.contains(&a)),
            };
            if applies {
                slice
                    .add(policy.clone())
                    .map_err(|e| AuthzError::DuplicateId {
                        location: e.to_string(),
                        id: policy.id().to_string(),
                    })?;
            }
        }
        slices.push(slice);
    }
    Ok(slices)
}

/// Which file each policy id came from (for error locations only).
fn origins<'a>(files: &[(&'a str, &'a str)]) -> HashMap<String, (&'a str, &'a str)> {
    let mut map = HashMap::new();
    for (file, text) in files {
        if let Ok(parsed) = PolicySet::from_str(text) {
            for p in parsed.policies() {
                if let Some(id) = p.annotation("id") {
                    map.insert(id.to_owned(), (*file, *text));
                }
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::authz::Authorizer;

    const REAL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/access");

    #[test]
    fn the_shipped_schema_and_policies_validate_and_match_the_builtin_copy() {
        let dir = Path::new(REAL_DIR);
        let from_dir = Authorizer::load_dir(dir).expect("policies/access loads");
        let builtin = Authorizer::builtin().expect("builtin loads");
        assert_eq!(from_dir.policy_ids(), builtin.policy_ids());
        let (schema, files) = read_dir(dir).expect("reads");
        assert_eq!(schema, BUILTIN_SCHEMA);
        let builtin_files: Vec<(String, String)> = BUILTIN_POLICIES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        assert_eq!(
            files, builtin_files,
            "a policy file is missing from BUILTIN_POLICIES"
        );
    }

    /// A copy of the shipped directory with `file` replaced by `text`.
    fn broken_dir(file: &str, text: &str) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join(SCHEMA_FILE), BUILTIN_SCHEMA).expect("write");
        for (name, body) in BUILTIN_POLICIES {
            std::fs::write(tmp.path().join(name), body).expect("write");
        }
        std::fs::write(tmp.path().join(file), text).expect("write");
        tmp
    }

    fn load_error(file: &str, text: &str) -> String {
        let dir = broken_dir(file, text);
        Authorizer::load_dir(dir.path())
            .expect_err("must not load")
            .to_string()
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let msg = load_error(
            "broken.cedar",
            "// one\n// two\npermit (principal action, resource);\n",
        );
        assert!(msg.starts_with("broken.cedar:3:"), "{msg}");
    }

    #[test]
    fn a_policy_that_does_not_type_check_names_the_file_and_line() {
        let text = "\n@id(\"typo\")\npermit (principal, action == Action::\"read_audit\", resource)\nwhen { principal.agnets.isEmpty() };\n";
        let msg = load_error("typo.cedar", text);
        assert!(
            msg.starts_with("typo.cedar:4:") && msg.contains("\"typo\""),
            "{msg}"
        );
    }

    #[test]
    fn a_misspelt_role_does_not_validate() {
        let text = "@id(\"r\")\npermit (principal in Role::\"auditr\", action, resource);\n";
        assert!(load_error("role.cedar", text).starts_with("role.cedar:"));
    }

    #[test]
    fn a_policy_without_an_id_is_refused() {
        let msg = load_error("anon.cedar", "permit (principal, action, resource);");
        assert_eq!(msg, "anon.cedar: policy without @id");
    }

    #[test]
    fn a_duplicate_id_is_refused() {
        let text = "@id(\"ingest\")\npermit (principal, action == Action::\"ingest\", resource);";
        let msg = load_error("zz.cedar", text);
        assert!(
            msg.starts_with("zz.cedar: duplicate policy @id \"ingest\""),
            "{msg}"
        );
    }

    #[test]
    fn a_broken_schema_names_the_schema_file() {
        let msg = load_error(SCHEMA_FILE, "entity User in [Role];\n");
        assert!(msg.starts_with(SCHEMA_FILE), "{msg}");
    }

    #[test]
    fn a_directory_without_policies_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join(SCHEMA_FILE), BUILTIN_SCHEMA).expect("write");
        let err = Authorizer::load_dir(tmp.path()).expect_err("empty");
        assert!(matches!(err, AuthzError::NoPolicies { .. }), "{err}");
    }
}
