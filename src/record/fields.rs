//! The changes this step makes to a release record's fields, and the shape of a new record.

use anyhow::{bail, Result};
use serde_json::{Map, Value};

use super::published::Release;

/// The published facts written into a record.
#[derive(Debug, Clone)]
pub struct Published {
    pub pypi_url: String,
    /// `None` keeps the record's current `release_on`.
    pub release_on: Option<String>,
    /// `None` keeps the record's current `github_url`.
    pub github_url: Option<String>,
}

/// Sets the published fields, touching nothing else; returns the names of the fields whose
/// value changed. A field missing from the record is an error rather than added: Django
/// refuses a fixture naming a field its model lacks.
pub fn apply(fields: &mut Map<String, Value>, published: &Published) -> Result<Vec<String>> {
    let mut wanted = vec![("pypi_url", Value::String(published.pypi_url.clone()))];
    if let Some(release_on) = &published.release_on {
        wanted.push(("release_on", Value::String(release_on.clone())));
    }
    if let Some(github_url) = &published.github_url {
        wanted.push(("github_url", Value::String(github_url.clone())));
    }
    let mut changed = Vec::new();
    for (name, value) in wanted {
        let Some(slot) = fields.get_mut(name) else {
            bail!("the record has no `{name}` field, so this is not the PackageRelease fixture shape this step writes to");
        };
        if *slot != value {
            *slot = value;
            changed.push(name.to_owned());
        }
    }
    Ok(changed)
}

/// A new record for `release` with the keys of `neighbour` (another release record) in the
/// same order. Fields describing the package or who manages it are copied; fields describing
/// one release are reset to the model's defaults; fields this step does not know are reset
/// to an empty value of their JSON type (flags and numbers are copied, as there is no empty
/// value to guess). The `pk` is dropped: the fixtures use natural keys, and a copied `pk`
/// would overwrite the neighbour's row when loaded.
pub fn new_record(neighbour: &Value, release: &Release, revision: Option<&str>) -> Result<Value> {
    let (Some(top), Some(fields)) = (
        neighbour.as_object(),
        neighbour.get("fields").and_then(Value::as_object),
    ) else {
        bail!("the record to copy the shape from is not a {{\"model\", \"fields\"}} object");
    };
    let same_package = super::fixtures::is_package(fields, release);
    let mut new_fields = Map::new();
    for (name, value) in fields {
        let new_value = match name.as_str() {
            "version" => Value::String(release.version.clone()),
            "package" if same_package => value.clone(),
            "package" => Value::Array(vec![Value::String(release.name.clone())]),
            "revision" => Value::String(revision.unwrap_or_default().to_owned()),
            "severity" => Value::String("normal".to_owned()),
            "is_deleted" => Value::Bool(false),
            "release_on" | "scheduled_date" | "scheduled_time" => Value::Null,
            "pypi_url" | "github_url" | "pypi_publish_log" | "release_summary" => {
                Value::String(String::new())
            }
            "is_seed_data" | "is_user_data" | "release_manager" => value.clone(),
            _ => empty_like(value),
        };
        new_fields.insert(name.clone(), new_value);
    }
    let mut record = Map::new();
    for (key, value) in top {
        match key.as_str() {
            "pk" => {}
            "fields" => {
                record.insert(key.clone(), Value::Object(new_fields.clone()));
            }
            _ => {
                record.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(Value::Object(record))
}

fn empty_like(value: &Value) -> Value {
    match value {
        Value::String(_) => Value::String(String::new()),
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Object(_) => Value::Object(Map::new()),
        Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn published() -> Published {
        Published {
            pypi_url: "https://pypi.org/project/arthexis/0.1.33/".into(),
            release_on: Some("2025-11-13T04:11:50.064Z".into()),
            github_url: None,
        }
    }

    #[test]
    fn apply_reports_only_real_changes() {
        let mut fields = json!({"pypi_url": "", "release_on": null, "github_url": "x"});
        let fields = fields.as_object_mut().unwrap();
        assert_eq!(
            apply(fields, &published()).unwrap(),
            ["pypi_url", "release_on"]
        );
        assert_eq!(fields["github_url"], "x");
        assert!(apply(fields, &published()).unwrap().is_empty());
    }

    #[test]
    fn apply_refuses_a_record_without_the_fields() {
        let mut fields = json!({"version": "1"});
        let error = apply(fields.as_object_mut().unwrap(), &published()).unwrap_err();
        assert!(error.to_string().contains("pypi_url"));
    }

    #[test]
    fn new_record_keeps_shape_and_resets_release_facts() {
        let neighbour = json!({"model": "release.packagerelease", "pk": 7, "fields": {
            "is_deleted": true, "package": ["arthexis"], "version": "0.1.32",
            "revision": "abc", "severity": "critical", "notes": "old", "count": 3,
            "pypi_url": "u", "release_on": "t", "is_seed_data": true}});
        let release = Release {
            name: "arthexis".into(),
            version: "0.1.33".into(),
        };
        let record = new_record(&neighbour, &release, None).unwrap();
        assert_eq!(
            record,
            json!({"model": "release.packagerelease", "fields": {
                "is_deleted": false, "package": ["arthexis"], "version": "0.1.33",
                "revision": "", "severity": "normal", "notes": "", "count": 3,
                "pypi_url": "", "release_on": null, "is_seed_data": true}})
        );
        let keys: Vec<&String> = record["fields"].as_object().unwrap().keys().collect();
        let neighbour_keys: Vec<&String> =
            neighbour["fields"].as_object().unwrap().keys().collect();
        assert_eq!(keys, neighbour_keys);
    }
}
