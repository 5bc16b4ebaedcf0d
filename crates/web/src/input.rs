//! Request bodies as clients send them, and their conversion into validated
//! domain input. Shared by the JSON API and the HTML forms.

use crate::error::ApiError;
use domain::FieldError;
use domain::case::*;
use domain::contact::{self, EmailAddress, PhoneNumber, Region};
use domain::customer::{self, Coordinates, CustomerKind};
use domain::ids::*;
use domain::model::*;
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Collects every field error of a body instead of stopping at the first.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ApiError> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(ApiError::Invalid(self.0))
        }
    }
}

pub fn region(tenant: &Tenant) -> Region {
    Region::from_iso(&tenant.region).unwrap_or(Region::CN)
}

/// A timestamp (RFC 3339) or a date (start of that day in the tenant's zone).
pub fn instant(field: &str, s: &str, tenant: &Tenant) -> Result<Timestamp, FieldError> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let bad = || {
        FieldError::new(
            field,
            "must be a date (2026-03-01) or a time (2026-03-01T08:30:00+08:00)",
        )
    };
    let date: jiff::civil::Date = s.parse().map_err(|_| bad())?;
    let tz = jiff::tz::TimeZone::get(&tenant.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    date.to_zoned(tz).map(|z| z.timestamp()).map_err(|_| bad())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub branch: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub opening_hours: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub accounts: Vec<String>,
}

impl CustomerBody {
    pub fn parse(&self, tenant: &Tenant) -> Result<CustomerInput, ApiError> {
        let mut e = Errors::default();
        let kind = self
            .kind
            .as_deref()
            .and_then(|k| e.take(CustomerKind::parse(k)));
        let name = e.take(contact::text(
            "name",
            self.name.as_deref().unwrap_or(""),
            200,
        ));
        let opt = |e: &mut Errors, f: &str, v: &Option<String>, max: usize| {
            e.take(contact::optional_text(f, v.as_deref(), max))
                .flatten()
        };
        let external_id = opt(&mut e, "external_id", &self.external_id, 100);
        let tier = self
            .tier
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .and_then(|t| e.take(customer::label("tier", t)));
        let region_ = opt(&mut e, "region", &self.region, 100);
        let branch = opt(&mut e, "branch", &self.branch, 100);
        let address = opt(&mut e, "address", &self.address, 500);
        let opening_hours = opt(&mut e, "opening_hours", &self.opening_hours, 200);
        let coordinates = match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => e.take(Coordinates::parse(lat, lon)),
            (None, None) => None,
            _ => {
                e.push(FieldError::new("lat", "lat and lon go together"));
                None
            }
        };
        let reg = region(tenant);
        let phones: Vec<PhoneNumber> = self
            .phones
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                e.take(PhoneNumber::parse(p, reg).map_err(|x| x.at(format!("phones[{i}]"))))
            })
            .collect();
        let emails = emails("emails", &self.emails, &mut e);
        let accounts: Vec<String> = self
            .accounts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| e.take(contact::text(&format!("accounts[{i}]"), a, 64)))
            .collect();
        let tags: Vec<String> = self
            .tags
            .iter()
            .enumerate()
            .filter_map(|(i, t)| e.take(customer::label(&format!("tags[{i}]"), t)))
            .collect();
        e.finish(|| CustomerInput {
            kind,
            name: name.unwrap_or_default(),
            external_id,
            tier,
            region: region_,
            branch,
            address,
            coordinates,
            opening_hours,
            tags,
            phones,
            emails,
            accounts,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstContact {
    pub body: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    #[serde(rename = "type")]
    pub case_type: Option<String>,
    pub channel: Option<String>,
    pub priority: Option<String>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub customer_id: Option<i64>,
    pub category_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    #[serde(default)]
    pub custom: BTreeMap<String, String>,
    pub first_contact: Option<FirstContact>,
}

impl CaseBody {
    pub fn parse(
        &self,
        tenant: &Tenant,
        defs: &[CustomFieldDef],
        now: Timestamp,
    ) -> Result<(CaseInput, Option<InteractionInput>), ApiError> {
        let mut e = Errors::default();
        let required = |e: &mut Errors, f: &str, v: &Option<String>| {
            if v.is_none() {
                e.push(FieldError::new(f, "is required"));
            }
            v.clone().unwrap_or_default()
        };
        let t = required(&mut e, "type", &self.case_type);
        let case_type = if self.case_type.is_some() {
            e.take(CaseType::parse(&t))
        } else {
            None
        };
        let c = required(&mut e, "channel", &self.channel);
        let channel = if self.channel.is_some() {
            e.take(Channel::parse(&c))
        } else {
            None
        };
        let priority = match &self.priority {
            Some(p) => e.take(Priority::parse(p)),
            None => Some(Priority::Normal),
        };
        let subject = e.take(contact::text(
            "subject",
            self.subject.as_deref().unwrap_or(""),
            300,
        ));
        let description = self.description.clone().unwrap_or_default();
        if description.chars().count() > 100_000 {
            e.push(FieldError::new(
                "description",
                "is longer than 100000 characters",
            ));
        }
        let custom = check_custom(&mut e, defs, &self.custom, true);
        let first = self.first_contact.as_ref().and_then(|f| {
            let started = match &f.started_at {
                Some(s) => e.take(instant("first_contact.started_at", s, tenant))?,
                None => now,
            };
            let ended = f
                .ended_at
                .as_ref()
                .and_then(|s| e.take(instant("first_contact.ended_at", s, tenant)));
            let kind = channel?.first_interaction();
            Some(InteractionInput {
                kind,
                direction: kind.default_direction(),
                started_at: started,
                ended_at: ended,
                body: f.body.clone().unwrap_or_default(),
                attachments: Vec::new(),
                script_version_id: None,
            })
        });
        e.finish(|| {
            (
                CaseInput {
                    case_type: case_type.unwrap_or(CaseType::Other),
                    channel: channel.unwrap_or(Channel::Other),
                    priority: priority.unwrap_or(Priority::Normal),
                    subject: subject.unwrap_or_default(),
                    description,
                    customer_id: self.customer_id.map(CustomerId),
                    category_id: self.category_id.map(CategoryId),
                    assignee_id: self.assignee_id.map(UserId),
                    team_id: self.team_id.map(TeamId),
                    custom,
                },
                first,
            )
        })
    }
}

/// Validates custom field values against the tenant's definitions.
pub fn check_custom(
    e: &mut Errors,
    defs: &[CustomFieldDef],
    values: &BTreeMap<String, String>,
    creating: bool,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in values {
        match defs.iter().find(|d| &d.key == k) {
            None => e.push(FieldError::new(
                format!("custom.{k}"),
                "is not a custom field of this tenant",
            )),
            // A retired field is not offered for new cases; a change to a
            // case carries its old value along untouched.
            Some(d) if !d.active => match creating {
                true => e.push(FieldError::new(format!("custom.{k}"), "is retired")),
                false => {
                    out.insert(k.clone(), v.clone());
                }
            },
            Some(d) => {
                if let Some(v) = e.take(d.check(v).map_err(|x| x.at(format!("custom.{k}"))))
                    && !v.is_empty()
                {
                    out.insert(k.clone(), v);
                }
            }
        }
    }
    if creating {
        for d in defs.iter().filter(|d| {
            d.active && d.required && !out.contains_key(&d.key) && !values.contains_key(&d.key)
        }) {
            e.push(FieldError::new(format!("custom.{}", d.key), "is required"));
        }
    }
    out
}

/// Distinguishes "leave as is" (absent) from "clear" (null) in a PATCH body.
pub fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePatchBody {
    #[serde(rename = "type")]
    pub case_type: Option<String>,
    pub priority: Option<String>,
    pub subject: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub customer_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub category_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub assignee_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub team_id: Option<Option<i64>>,
    pub custom: Option<BTreeMap<String, String>>,
}

impl CasePatchBody {
    pub fn parse(&self, defs: &[CustomFieldDef]) -> Result<CasePatch, ApiError> {
        let mut e = Errors::default();
        let case_type = self
            .case_type
            .as_deref()
            .and_then(|t| e.take(CaseType::parse(t)));
        let priority = self
            .priority
            .as_deref()
            .and_then(|p| e.take(Priority::parse(p)));
        let subject = self
            .subject
            .as_deref()
            .and_then(|s| e.take(contact::text("subject", s, 300)));
        let custom = self
            .custom
            .as_ref()
            .map(|c| check_custom(&mut e, defs, c, false));
        e.finish(|| CasePatch {
            case_type,
            priority,
            subject,
            description: self.description.clone(),
            customer_id: self.customer_id.map(|o| o.map(CustomerId)),
            category_id: self.category_id.map(|o| o.map(CategoryId)),
            assignee_id: self.assignee_id.map(|o| o.map(UserId)),
            team_id: self.team_id.map(|o| o.map(TeamId)),
            custom,
        })
    }
}

/// A list of e-mail addresses; errors name `field[i]`.
pub fn emails(field: &str, list: &[String], e: &mut Errors) -> Vec<EmailAddress> {
    list.iter()
        .enumerate()
        .filter_map(|(i, a)| {
            e.take(EmailAddress::parse(a).map_err(|x| x.at(format!("{field}[{i}]"))))
        })
        .collect()
}

/// Files sent as JSON, each checked; errors name `attachments[i]`.
pub fn attachments(list: &[AttachmentBody], e: &mut Errors) -> Vec<AttachmentInput> {
    use base64::Engine;
    list.iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let filename = e.take(contact::text(
                &format!("attachments[{i}].filename"),
                &a.filename,
                255,
            ))?;
            let data = base64::engine::general_purpose::STANDARD
                .decode(a.data.trim())
                .map_err(|_| FieldError::new(format!("attachments[{i}].data"), "must be base64"));
            Some(AttachmentInput::new(
                filename,
                a.content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into()),
                e.take(data)?,
            ))
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentBody {
    pub filename: String,
    pub content_type: Option<String>,
    /// The file's bytes, base64-encoded.
    pub data: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InteractionBody {
    pub kind: Option<String>,
    pub direction: Option<String>,
    pub body: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
    /// The call script version (its `version_id`) the agent had open.
    pub script_version_id: Option<i64>,
}

impl InteractionBody {
    pub fn parse(&self, tenant: &Tenant, now: Timestamp) -> Result<InteractionInput, ApiError> {
        let mut e = Errors::default();
        let kind = match &self.kind {
            Some(k) => e.take(InteractionKind::parse(k)),
            None => Some(InteractionKind::Note),
        };
        let direction = match (&self.direction, kind) {
            (Some(d), _) => e.take(Direction::parse(d)),
            (None, Some(k)) => Some(k.default_direction()),
            (None, None) => None,
        };
        if kind == Some(InteractionKind::Note)
            && direction.is_some_and(|d| d != Direction::Internal)
        {
            e.push(FieldError::new("direction", "a note is always internal"));
        }
        let body = self.body.clone().unwrap_or_default();
        if body.trim().is_empty() && self.attachments.is_empty() {
            e.push(FieldError::new("body", "is required"));
        }
        let started_at = match &self.started_at {
            Some(s) => e.take(instant("started_at", s, tenant)),
            None => Some(now),
        };
        let ended_at = self
            .ended_at
            .as_ref()
            .and_then(|s| e.take(instant("ended_at", s, tenant)));
        if let (Some(s), Some(t)) = (started_at, ended_at)
            && t < s
        {
            e.push(FieldError::new("ended_at", "is before started_at"));
        }
        let files = attachments(&self.attachments, &mut e);
        e.finish(|| InteractionInput {
            kind: kind.unwrap_or(InteractionKind::Note),
            direction: direction.unwrap_or(Direction::Internal),
            started_at: started_at.unwrap_or(now),
            ended_at,
            body,
            attachments: files,
            script_version_id: self.script_version_id,
        })
    }
}
