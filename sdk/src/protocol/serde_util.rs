//! Serde helpers that reproduce the official SDKs' tolerance for absent, `null` and empty
//! values (GO `encoding/json` leaves a field at its zero value on `null`; CPP's
//! `JsonHelper::SafelyDeserialize*` falls back to a default).

use serde::{Deserialize, Deserializer};

/// Deserializes `null` as `T::default()` (an absent field is handled by `#[serde(default)]`).
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Deserializes `null` and `""` as `None`: GO writes empty strings for unset optional values
/// (for example `NextToken`), and omits them with `omitempty` elsewhere.
pub(crate) fn empty_as_none<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()))
}

/// `skip_serializing_if` for integers that GO marks `omitempty`.
pub(crate) fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}
