//! Customers: persons and organizations, including the dealers and service stations
//! a car maker's center points callers to.

use crate::FieldError;
use crate::case::vocabulary;
use serde::{Deserialize, Serialize};
use std::fmt;

vocabulary!(
    CustomerKind, "kind" {
        Person = "person",
        Company = "company",
        Dealer = "dealer",
        ServiceStation = "service_station",
    }
);

impl CustomerKind {
    pub fn is_organization(self) -> bool {
        self != CustomerKind::Person
    }
}

/// Tiers promised the shorter reply time: VIP owners, high-value investors,
/// key accounts.
pub fn is_vip_tier(tier: &str) -> bool {
    matches!(tier, "vip" | "high_value" | "key_account")
}

/// A label such as a tier (`vip`, `standard`) or a tag (`车主`, `key_account`):
/// short, one word, no commas so lists stay unambiguous in CSV.
pub fn label(field: &str, input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "is empty"));
    }
    if s.chars().count() > 40 {
        return Err(FieldError::new(field, "is longer than 40 characters"));
    }
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || ",;，；".contains(c))
    {
        return Err(FieldError::new(
            field,
            "must be one word without spaces, commas or semicolons",
        ));
    }
    Ok(s.to_lowercase())
}

/// Geographic coordinates of a dealer or station.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    pub lat: f64,
    pub lon: f64,
}

impl Coordinates {
    pub fn parse(lat: f64, lon: f64) -> Result<Self, FieldError> {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(FieldError::new("lat", "must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(FieldError::new("lon", "must be between -180 and 180"));
        }
        Ok(Coordinates { lat, lon })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label("tier", " VIP ").unwrap(), "vip");
        assert_eq!(label("tags", "车主").unwrap(), "车主");
        assert!(label("tags", "a,b").is_err());
        assert!(label("tags", "two words").is_err());
    }

    #[test]
    fn coordinates() {
        assert!(Coordinates::parse(31.23, 121.47).is_ok());
        assert_eq!(Coordinates::parse(91.0, 0.0).unwrap_err().field, "lat");
        assert_eq!(Coordinates::parse(0.0, 181.0).unwrap_err().field, "lon");
    }
}
