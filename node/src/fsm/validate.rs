//! Field rules shared by the API layer (checked before proposing) and `apply`
//! (checked again, so a bad command can never change state). Pure functions;
//! lengths count Unicode characters, as GameLift does.

use super::error::FsmError;

/// Checks that `value` has between `min` and `max` characters.
pub fn length(field: &str, value: &str, min: usize, max: usize) -> Result<(), FsmError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(FsmError::invalid(
            field,
            format!("must be {min} to {max} characters long (got {n})"),
        ));
    }
    Ok(())
}

/// Checks an optional field: absent is fine, present must satisfy [`length`].
pub fn opt_length(
    field: &str,
    value: Option<&str>,
    min: usize,
    max: usize,
) -> Result<(), FsmError> {
    match value {
        Some(v) => length(field, v, min, max),
        None => Ok(()),
    }
}

/// Checks `^[a-zA-Z0-9-]+$` within 1..=max characters (GameLift ids and tokens).
pub fn id_token(field: &str, value: &str, max: usize) -> Result<(), FsmError> {
    length(field, value, 1, max)?;
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(FsmError::invalid(
            field,
            "may contain only letters, digits and '-'",
        ));
    }
    Ok(())
}

/// Checks that a list has at most `max` entries.
pub fn max_items<T>(field: &str, items: &[T], max: usize) -> Result<(), FsmError> {
    if items.len() > max {
        return Err(FsmError::invalid(
            field,
            format!("at most {max} entries allowed (got {})", items.len()),
        ));
    }
    Ok(())
}

/// Checks that a number is not negative.
pub fn non_negative(field: &str, value: i64) -> Result<(), FsmError> {
    if value < 0 {
        return Err(FsmError::invalid(
            field,
            format!("must be 0 or greater (got {value})"),
        ));
    }
    Ok(())
}

/// Checks a fleet id: `^[a-z]*fleet-[a-zA-Z0-9-]+$`, at most 128 characters.
pub fn fleet_id(field: &str, value: &str) -> Result<(), FsmError> {
    length(field, value, 1, 128)?;
    let ok = match value.find("fleet-") {
        Some(pos) => {
            value[..pos].chars().all(|c| c.is_ascii_lowercase())
                && value.len() > pos + 6
                && value[pos + 6..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
        }
        None => false,
    };
    if !ok {
        return Err(FsmError::invalid(
            field,
            "must look like fleet-<letters, digits, '-'>",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(length("name", "ééé", 1, 3).is_ok());
        assert!(length("name", "éééé", 1, 3).is_err());
        let err = length("name", "", 1, 1024).unwrap_err();
        assert_eq!(
            err.to_string(),
            "name: must be 1 to 1024 characters long (got 0)"
        );
    }

    #[test]
    fn fleet_ids() {
        for ok in ["fleet-1", "fleet-a1b2-C3", "xfleet-9"] {
            assert!(fleet_id("fleet_id", ok).is_ok(), "{ok}");
        }
        for bad in ["", "fleet-", "fleet_1", "Fleet-1", "alias-1", "fleet-a b"] {
            assert!(fleet_id("fleet_id", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tokens() {
        assert!(id_token("t", "abc-DEF-123", 48).is_ok());
        assert!(id_token("t", "abc_def", 48).is_err());
        assert!(id_token("t", &"a".repeat(49), 48).is_err());
    }
}
