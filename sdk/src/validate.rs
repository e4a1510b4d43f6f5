//! Client-side argument checks, the same rules the official GO SDK applies before sending
//! (GO `server/validation.go`, `common/validation_common.go`), so a bad argument fails locally
//! with a message naming the field instead of as a service error.

use crate::SdkError;

/// Longest id the GO SDK accepts (`MaxStringLengthId`).
const MAX_ID: usize = 256;

fn invalid(field: &str, rule: &str) -> SdkError {
    SdkError::Validation(format!("{field} {rule}"))
}

fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), SdkError> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(invalid(
            field,
            &format!("must be {min} to {max} characters long (got {len})"),
        ));
    }
    Ok(())
}

/// `^[a-zA-Z0-9.-]+$`, at most 256 characters (GO `guidStringPattern`): fleet ids and player
/// session ids.
pub(crate) fn guid(field: &str, value: &str) -> Result<(), SdkError> {
    check_len(field, value, 1, MAX_ID)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return Err(invalid(
            field,
            "may contain only letters, digits, '.' and '-'",
        ));
    }
    Ok(())
}

/// `^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$`, at most 256 characters (GO `computeIdStringPattern`):
/// host (compute) ids.
pub(crate) fn compute_id(field: &str, value: &str) -> Result<(), SdkError> {
    check_len(field, value, 1, MAX_ID)?;
    let part_ok =
        |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let ok = match value.split_once('/') {
        None => part_ok(value),
        Some((a, b)) => part_ok(a) && part_ok(b),
    };
    if !ok {
        return Err(invalid(
            field,
            "must be letters, digits and '-', with at most one '/' between two such parts",
        ));
    }
    Ok(())
}

/// `^[a-zA-Z0-9:/-]+$`, at most `max` characters (GO `arnStringPattern`).
pub(crate) fn arn_chars(field: &str, value: &str, max: usize) -> Result<(), SdkError> {
    check_len(field, value, 1, max)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '/' || c == '-')
    {
        return Err(invalid(
            field,
            "is not a valid ARN (letters, digits, ':', '/' and '-')",
        ));
    }
    Ok(())
}

/// `^arn:(aws|aws-cn):gamelift:([a-z]{2}-[a-z]+-\d{1}):(\d{12})?:([a-z]+)\/(.+)$` (GO
/// `gameLiftArnPattern`), at most 256 characters.
pub(crate) fn gamelift_arn(field: &str, value: &str) -> Result<(), SdkError> {
    check_len(field, value, 1, MAX_ID)?;
    let bad = || {
        invalid(
            field,
            "is not a valid GameLift ARN (arn:aws:gamelift:<region>:<account>:<type>/<id>)",
        )
    };
    let mut parts = value.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("gamelift"), Some(region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad());
    };
    if partition != "aws" && partition != "aws-cn" {
        return Err(bad());
    }
    // Region: [a-z]{2}-[a-z]+-\d
    let region_ok = {
        let r: Vec<&str> = region.split('-').collect();
        r.len() == 3
            && r[0].len() == 2
            && r[0].chars().all(|c| c.is_ascii_lowercase())
            && !r[1].is_empty()
            && r[1].chars().all(|c| c.is_ascii_lowercase())
            && r[2].len() == 1
            && r[2].chars().all(|c| c.is_ascii_digit())
    };
    let account_ok =
        account.is_empty() || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
    let resource_ok = match rest.split_once('/') {
        Some((kind, id)) => {
            !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase()) && !id.is_empty()
        }
        None => false,
    };
    if region_ok && account_ok && resource_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// `^[a-zA-Z0-9-\.]*$`, at most 128 characters (GO `matchmakingIdPattern`); empty allowed
/// unless `required`.
pub(crate) fn matchmaking_id(field: &str, value: &str, required: bool) -> Result<(), SdkError> {
    if value.is_empty() && !required {
        return Ok(());
    }
    check_len(field, value, 1, 128)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(invalid(
            field,
            "may contain only letters, digits, '.' and '-'",
        ));
    }
    Ok(())
}

/// `^[\w+=,.@-]*$`, 2 to 64 characters (GO `roleSessionNamePattern`).
pub(crate) fn role_session_name(field: &str, value: &str) -> Result<(), SdkError> {
    check_len(field, value, 2, 64)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(invalid(
            field,
            "may contain only letters, digits and _+=,.@-",
        ));
    }
    Ok(())
}

/// A non-empty string of at most `max` characters.
pub(crate) fn non_empty(field: &str, value: &str, max: usize) -> Result<(), SdkError> {
    check_len(field, value, 1, max)
}

/// Game ports: 1 to 60000 (GO `PortMin`/`PortMax`).
pub(crate) fn port(port: u16) -> Result<(), SdkError> {
    if !(1..=60000).contains(&port) {
        return Err(invalid(
            "Port",
            &format!("must be between 1 and 60000 (got {port})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(guid("F", "fleet-1a.b").is_ok());
        assert!(guid("F", "").is_err());
        assert!(guid("F", "a b").is_err());
        assert!(guid("F", &"x".repeat(257)).is_err());
        assert!(compute_id("H", "node-1").is_ok());
        assert!(compute_id("H", "cluster/node-1").is_ok());
        assert!(compute_id("H", "a/b/c").is_err());
        assert!(compute_id("H", "a.b").is_err());
        assert!(compute_id("H", "/b").is_err());
    }

    #[test]
    fn arns() {
        let ok = "arn:aws:gamelift:us-west-2:123456789012:matchmakingconfiguration/cfg";
        assert!(gamelift_arn("A", ok).is_ok());
        assert!(
            gamelift_arn(
                "A",
                "arn:aws:gamelift:xx-local-1::gamesession/fleet-1/gsess-1"
            )
            .is_ok()
        );
        assert!(gamelift_arn("A", "arn:aws:gamelift:local:1:x/y").is_err());
        assert!(gamelift_arn("A", "arn:aws:s3:us-west-2::x/y").is_err());
        assert!(gamelift_arn("A", "arn:aws:gamelift:us-west-2:12:x/y").is_err());
        assert!(gamelift_arn("A", "arn:aws:gamelift:us-west-2::X/y").is_err());
        assert!(gamelift_arn("A", "arn:aws:gamelift:us-west-2::x").is_err());
        assert!(arn_chars("A", "arn:aws:gamelift:us-west-2::gamesession/f/g", 256).is_ok());
        assert!(arn_chars("A", "arn with space", 256).is_err());
    }

    #[test]
    fn misc() {
        assert!(port(0).is_err());
        assert!(port(1).is_ok());
        assert!(port(60000).is_ok());
        assert!(port(60001).is_err());
        assert!(role_session_name("R", "fleet-1-node@x").is_ok());
        assert!(role_session_name("R", "x").is_err());
        assert!(matchmaking_id("T", "", false).is_ok());
        assert!(matchmaking_id("T", "", true).is_err());
        assert!(matchmaking_id("T", "t/1", false).is_err());
    }
}
