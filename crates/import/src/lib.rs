//! Files that dealers and service stations send every day, turned into
//! validated import records: CSV (UTF-8 or GBK, as Excel in China writes it)
//! or JSON. A file that cannot be read at all is a [`FileError`]; a row that
//! cannot be read is reported with its number and reason.

use domain::FieldError;
use domain::contact::{self, EmailAddress, PhoneNumber, Region, Vin};
use domain::customer::{self, Coordinates, CustomerKind};
use domain::model::{Actor, CustomerInput, ImportRecord};
use serde::Serialize;
use std::collections::HashMap;
use store::ImportOutcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Customers,
    Vehicles,
    Orders,
    ServiceRecords,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind, FieldError> {
        match s {
            "customers" => Ok(Kind::Customers),
            "vehicles" => Ok(Kind::Vehicles),
            "orders" => Ok(Kind::Orders),
            "service_records" | "service-records" => Ok(Kind::ServiceRecords),
            _ => Err(FieldError::new(
                "kind",
                "must be customers, vehicles, orders or service_records",
            )),
        }
    }

    /// (column, Chinese header aliases, required)
    fn columns(self) -> &'static [(&'static str, &'static [&'static str], bool)] {
        match self {
            Kind::Customers => &[
                ("external_id", &["客户编号", "客户编码", "客户ID"], true),
                ("name", &["姓名", "名称", "客户名称", "客户姓名"], true),
                ("kind", &["类型", "客户类型"], false),
                ("phones", &["电话", "手机", "手机号", "联系电话"], false),
                ("emails", &["邮箱", "电子邮件", "邮件"], false),
                ("accounts", &["账号", "账户", "资金账号"], false),
                ("tier", &["等级", "客户等级"], false),
                ("region", &["区域", "省份", "地区"], false),
                ("branch", &["分公司", "网点"], false),
                ("address", &["地址", "联系地址"], false),
                ("tags", &["标签"], false),
                ("lat", &["纬度"], false),
                ("lon", &["经度"], false),
                ("opening_hours", &["营业时间"], false),
            ],
            Kind::Vehicles => &[
                ("external_id", &["车辆编号"], true),
                ("customer_external_id", &["客户编号", "车主编号"], true),
                ("vin", &["VIN", "车架号", "VIN码"], true),
                ("model", &["车型"], false),
                ("plate", &["车牌", "车牌号"], false),
                ("purchase_date", &["购车日期", "购买日期"], false),
                ("dealer_external_id", &["经销商编号"], false),
            ],
            Kind::Orders => &[
                ("external_id", &["订单编号", "记录编号"], true),
                ("customer_external_id", &["客户编号"], true),
                ("order_no", &["订单号"], true),
                ("product", &["产品", "商品"], false),
                ("amount", &["金额"], false),
                ("ordered_on", &["下单日期", "订单日期"], false),
                ("status", &["状态", "订单状态"], false),
            ],
            Kind::ServiceRecords => &[
                ("external_id", &["记录编号", "工单编号", "维修单号"], true),
                ("vehicle_external_id", &["车辆编号"], true),
                ("station_external_id", &["服务站编号"], false),
                ("service_date", &["服务日期", "维修日期", "进站日期"], true),
                ("kind", &["项目", "维修项目", "服务类型"], true),
                ("mileage_km", &["里程", "行驶里程"], false),
                ("description", &["说明", "描述", "备注"], false),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8, otherwise GB18030 (a superset of GBK and GB2312).
    Auto,
    Utf8,
    Gbk,
}

impl Encoding {
    pub fn parse(s: &str) -> Result<Encoding, FieldError> {
        match s.to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb2312" | "gb18030" => Ok(Encoding::Gbk),
            _ => Err(FieldError::new("encoding", "must be auto, utf-8 or gbk")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is not valid {0} text")]
    Encoding(&'static str),
    #[error("line {line}: {reason}")]
    Csv { line: u64, reason: String },
    #[error("missing required columns: {0}")]
    MissingColumns(String),
    #[error("not a JSON array of objects: {0}")]
    Json(String),
    #[error("the file has no rows")]
    Empty,
}

/// One data row: its number as a person counts it (the header is row 1 in CSV,
/// the first element is row 1 in JSON) and what became of it.
pub type Row = (usize, Result<ImportRecord, FieldError>);

/// A row number and its cells by column name, before validation.
type RawRow = (usize, HashMap<String, String>);

pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let utf8 = std::str::from_utf8(bytes);
    match (encoding, utf8) {
        (Encoding::Auto | Encoding::Utf8, Ok(s)) => Ok(s.to_string()),
        (Encoding::Utf8, Err(_)) => Err(FileError::Encoding("UTF-8")),
        (Encoding::Auto | Encoding::Gbk, _) => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                Err(FileError::Encoding("GBK"))
            } else {
                Ok(text.into_owned())
            }
        }
    }
}

pub fn parse(
    kind: Kind,
    format: Format,
    encoding: Encoding,
    bytes: &[u8],
    region: Region,
) -> Result<Vec<Row>, FileError> {
    let text = decode(bytes, encoding)?;
    let records: Vec<RawRow> = match format {
        Format::Csv => csv_records(kind, &text)?,
        Format::Json => json_records(&text)?,
    };
    if records.is_empty() {
        return Err(FileError::Empty);
    }
    Ok(records
        .into_iter()
        .map(|(n, fields)| (n, record(kind, &fields, region)))
        .collect())
}

fn csv_records(kind: Kind, text: &str) -> Result<Vec<RawRow>, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let csv_err = |e: csv::Error| FileError::Csv {
        line: e.position().map_or(0, |p| p.line()),
        reason: match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} fields where the header has {expected_len}"),
            _ => e.to_string(),
        },
    };
    let headers = reader.headers().map_err(csv_err)?.clone();
    let names: Vec<Option<&'static str>> = headers.iter().map(|h| column_of(kind, h)).collect();
    let missing: Vec<&str> = kind
        .columns()
        .iter()
        .filter(|(c, _, req)| *req && !names.contains(&Some(*c)))
        .map(|(c, _, _)| *c)
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns(missing.join(", ")));
    }
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(csv_err)?;
        let fields = names
            .iter()
            .zip(rec.iter())
            .filter_map(|(n, v)| n.map(|n| (n.to_string(), v.to_string())))
            .collect();
        out.push((i + 2, fields));
    }
    Ok(out)
}

/// The column a header names, in English or by one of its Chinese aliases.
fn column_of(kind: Kind, header: &str) -> Option<&'static str> {
    let h = header.trim().trim_start_matches('\u{feff}');
    kind.columns()
        .iter()
        .find(|(c, aliases, _)| {
            c.eq_ignore_ascii_case(h) || aliases.iter().any(|a| a.eq_ignore_ascii_case(h))
        })
        .map(|(c, _, _)| *c)
}

fn json_records(text: &str) -> Result<Vec<RawRow>, FileError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| FileError::Json(e.to_string()))?;
    let arr = v
        .as_array()
        .ok_or_else(|| FileError::Json("the top level is not an array".into()))?;
    arr.iter()
        .enumerate()
        .map(|(i, item)| {
            let obj = item
                .as_object()
                .ok_or_else(|| FileError::Json(format!("element {} is not an object", i + 1)))?;
            let fields = obj
                .iter()
                .map(|(k, v)| {
                    let s = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::Array(a) => a
                            .iter()
                            .map(|x| x.as_str().map_or_else(|| x.to_string(), String::from))
                            .collect::<Vec<_>>()
                            .join(";"),
                        other => other.to_string(),
                    };
                    (k.clone(), s)
                })
                .collect();
            Ok((i + 1, fields))
        })
        .collect()
}

struct Fields<'a>(&'a HashMap<String, String>);

impl Fields<'_> {
    fn opt(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
    fn req(&self, k: &str) -> Result<&str, FieldError> {
        self.opt(k).ok_or_else(|| FieldError::new(k, "is required"))
    }
    fn text(&self, k: &str, max: usize) -> Result<Option<String>, FieldError> {
        contact::optional_text(k, self.opt(k), max)
    }
    /// Several values in one cell, separated by ; ； | or 、.
    fn list(&self, k: &str) -> Vec<&str> {
        self.opt(k)
            .map(|s| {
                s.split([';', '；', '|', '、'])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
    fn date(&self, k: &str) -> Result<Option<String>, FieldError> {
        self.opt(k).map(|s| date(k, s)).transpose()
    }
    fn int(&self, k: &str) -> Result<Option<i64>, FieldError> {
        self.opt(k)
            .map(|s| {
                s.replace(',', "")
                    .parse::<i64>()
                    .map_err(|_| FieldError::new(k, "must be a whole number"))
            })
            .transpose()
    }
}

/// Dates as Excel in China writes them: 2026-03-01, 2026/3/1, 2026.03.01.
pub fn date(field: &str, s: &str) -> Result<String, FieldError> {
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    let bad = || FieldError::new(field, "must be a date such as 2026-03-01");
    if parts.len() != 3 {
        return Err(bad());
    }
    let num = |p: &str| p.trim().parse::<i16>().map_err(|_| bad());
    let (y, m, d) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    let date = jiff::civil::Date::new(y, m as i8, d as i8).map_err(|_| bad())?;
    Ok(date.to_string())
}

/// Yuan with up to two decimals to cents.
fn cents(field: &str, s: &str) -> Result<i64, FieldError> {
    let bad = || FieldError::new(field, "must be an amount such as 1999.50");
    let s = s.replace([',', '¥', '￥'], "");
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(if whole < 0 { -frac } else { frac }))
        .ok_or_else(bad)
}

fn record(
    kind: Kind,
    fields: &HashMap<String, String>,
    region: Region,
) -> Result<ImportRecord, FieldError> {
    let f = Fields(fields);
    let ext = |k: &str| contact::text(k, f.req(k)?, 100);
    match kind {
        Kind::Customers => {
            let coordinates = match (f.opt("lat"), f.opt("lon")) {
                (Some(a), Some(b)) => {
                    let num = |k: &str, v: &str| {
                        v.parse::<f64>()
                            .map_err(|_| FieldError::new(k, "must be a number"))
                    };
                    Some(Coordinates::parse(num("lat", a)?, num("lon", b)?)?)
                }
                (None, None) => None,
                _ => return Err(FieldError::new("lat", "lat and lon go together")),
            };
            Ok(ImportRecord::Customer(CustomerInput {
                kind: f.opt("kind").map(CustomerKind::parse).transpose()?,
                name: contact::text("name", f.req("name")?, 200)?,
                external_id: Some(ext("external_id")?),
                tier: f
                    .opt("tier")
                    .map(|t| customer::label("tier", t))
                    .transpose()?,
                region: f.text("region", 100)?,
                branch: f.text("branch", 100)?,
                address: f.text("address", 500)?,
                coordinates,
                opening_hours: f.text("opening_hours", 200)?,
                tags: f
                    .list("tags")
                    .into_iter()
                    .map(|t| customer::label("tags", t))
                    .collect::<Result<_, _>>()?,
                phones: f
                    .list("phones")
                    .into_iter()
                    .map(|p| PhoneNumber::parse(p, region).map_err(|e| e.at("phones")))
                    .collect::<Result<_, _>>()?,
                emails: f
                    .list("emails")
                    .into_iter()
                    .map(|e| EmailAddress::parse(e).map_err(|x| x.at("emails")))
                    .collect::<Result<_, _>>()?,
                accounts: f
                    .list("accounts")
                    .into_iter()
                    .map(|a| contact::text("accounts", a, 64))
                    .collect::<Result<_, _>>()?,
            }))
        }
        Kind::Vehicles => Ok(ImportRecord::Vehicle {
            external_id: ext("external_id")?,
            customer_external_id: ext("customer_external_id")?,
            vin: Vin::parse(f.req("vin")?)?,
            model: f.text("model", 100)?,
            plate: f.text("plate", 20)?,
            purchase_date: f.date("purchase_date")?,
            dealer_external_id: f.text("dealer_external_id", 100)?,
        }),
        Kind::Orders => Ok(ImportRecord::Order {
            external_id: ext("external_id")?,
            customer_external_id: ext("customer_external_id")?,
            order_no: contact::text("order_no", f.req("order_no")?, 64)?,
            product: f.text("product", 200)?,
            amount_cents: f.opt("amount").map(|a| cents("amount", a)).transpose()?,
            ordered_on: f.date("ordered_on")?,
            status: f.text("status", 40)?,
        }),
        Kind::ServiceRecords => Ok(ImportRecord::ServiceRecord {
            external_id: ext("external_id")?,
            vehicle_external_id: ext("vehicle_external_id")?,
            station_external_id: f.text("station_external_id", 100)?,
            service_date: date("service_date", f.req("service_date")?)?,
            kind: contact::text("kind", f.req("kind")?, 100)?,
            mileage_km: f.int("mileage_km")?,
            description: f.text("description", 2000)?,
        }),
    }
}

#[derive(Serialize, Debug)]
pub struct Rejected {
    pub row: usize,
    pub field: String,
    pub reason: String,
}

#[derive(Serialize, Debug)]
pub struct Report {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub rejected: Vec<Rejected>,
    /// False when `strict` refused the file because of a rejected row.
    pub written: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub kind: Kind,
    pub format: Format,
    pub encoding: Encoding,
    /// One rejected row writes nothing.
    pub strict: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    File(FileError),
    #[error("{0}")]
    Store(#[from] store::StoreError),
}

/// Reads a whole file, then writes every good row in one transaction;
/// `progress` hears how many rows are written so far.
pub async fn run(
    store: &store::Store,
    actor: Actor,
    region: Region,
    o: &Options,
    bytes: &[u8],
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<Report, RunError> {
    let (strict, state) = (o.strict, store);
    let rows = parse(o.kind, o.format, o.encoding, bytes, region).map_err(RunError::File)?;
    let mut rejected = Vec::new();
    let mut good = Vec::with_capacity(rows.len());
    let mut good_rows = Vec::with_capacity(rows.len());
    for (n, r) in rows.iter() {
        match r {
            Ok(rec) => {
                good.push(rec.clone());
                good_rows.push(*n);
            }
            Err(e) => rejected.push(Rejected {
                row: *n,
                field: e.field.clone(),
                reason: e.reason.clone(),
            }),
        }
    }
    let refuse = strict && !rejected.is_empty();
    let outcomes = if refuse {
        Vec::new()
    } else {
        state
            .import(actor, &good, strict, jiff::Timestamp::now(), progress)
            .await?
    };
    for (n, o) in good_rows.iter().zip(&outcomes) {
        if let Err(e) = o {
            rejected.push(Rejected {
                row: *n,
                field: e.field.clone(),
                reason: e.reason.clone(),
            });
        }
    }
    rejected.sort_by_key(|r| r.row);
    let written = !strict || rejected.is_empty();
    let count = |want: ImportOutcome| {
        if written {
            outcomes
                .iter()
                .filter(|o| matches!(o, Ok(x) if *x == want))
                .count()
        } else {
            0
        }
    };
    Ok(Report {
        rows: rows.len(),
        created: count(ImportOutcome::Created),
        updated: count(ImportOutcome::Updated),
        rejected,
        written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(s).0.into_owned()
    }

    #[test]
    fn gbk_csv_with_chinese_headers_as_excel_writes_it() {
        let file = gbk(
            "客户编号,姓名,手机,等级,省份,标签\r\nC1,王伟,138-0013-8000;021-6234 5678,VIP,上海,车主、老客户\r\n",
        );
        let rows = parse(
            Kind::Customers,
            Format::Csv,
            Encoding::Auto,
            &file,
            Region::CN,
        )
        .unwrap();
        let (n, Ok(ImportRecord::Customer(c))) = &rows[0] else {
            panic!("{rows:?}")
        };
        assert_eq!(*n, 2);
        assert_eq!(c.name, "王伟");
        assert_eq!(
            c.phones.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["+8613800138000", "+862162345678"]
        );
        assert_eq!(c.tier.as_deref(), Some("vip"));
        assert_eq!(c.tags, ["车主", "老客户"]);
        assert_eq!(c.region.as_deref(), Some("上海"));
    }

    #[test]
    fn utf8_with_bom_and_english_headers() {
        let file = "\u{feff}external_id,customer_external_id,vin,purchase_date\nV1,C1,lsvaa4182e2123456,2026/3/1\n";
        let rows = parse(
            Kind::Vehicles,
            Format::Csv,
            Encoding::Auto,
            file.as_bytes(),
            Region::CN,
        )
        .unwrap();
        let (
            _,
            Ok(ImportRecord::Vehicle {
                vin, purchase_date, ..
            }),
        ) = &rows[0]
        else {
            panic!("{rows:?}")
        };
        assert_eq!(vin.as_str(), "LSVAA4182E2123456");
        assert_eq!(purchase_date.as_deref(), Some("2026-03-01"));
    }

    #[test]
    fn bad_rows_are_reported_with_number_field_and_reason() {
        let file =
            "external_id,name,phones\nC1,ok,13800138000\nC2,,13800138001\nC3,bad phone,12345\n";
        let rows = parse(
            Kind::Customers,
            Format::Csv,
            Encoding::Utf8,
            file.as_bytes(),
            Region::CN,
        )
        .unwrap();
        assert!(rows[0].1.is_ok());
        assert_eq!(
            (rows[1].0, rows[1].1.clone().unwrap_err().field),
            (3, "name".to_string())
        );
        assert_eq!(
            (rows[2].0, rows[2].1.clone().unwrap_err().field),
            (4, "phones".to_string())
        );
    }

    #[test]
    fn unreadable_files_are_refused_whole() {
        let cases: [(&[u8], Kind, Format, Encoding, &str); 6] = [
            (
                b"\xff\xfe\xfa",
                Kind::Customers,
                Format::Csv,
                Encoding::Utf8,
                "UTF-8",
            ),
            (
                b"name\nx\n",
                Kind::Customers,
                Format::Csv,
                Encoding::Auto,
                "external_id",
            ),
            (
                b"external_id,name\nC1,a,extra\n",
                Kind::Customers,
                Format::Csv,
                Encoding::Auto,
                "line 2",
            ),
            (
                b"external_id,name\n",
                Kind::Customers,
                Format::Csv,
                Encoding::Auto,
                "no rows",
            ),
            (
                b"{\"a\": 1}",
                Kind::Customers,
                Format::Json,
                Encoding::Auto,
                "array",
            ),
            (
                b"[1]",
                Kind::Customers,
                Format::Json,
                Encoding::Auto,
                "object",
            ),
        ];
        for (bytes, kind, format, enc, want) in cases {
            let err = parse(kind, format, enc, bytes, Region::CN)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err} should mention {want}");
        }
    }

    #[test]
    fn json_orders_with_amounts() {
        let file = r#"[{"external_id":"O1","customer_external_id":"C1","order_no":"SO-1","amount":"1,999.5","ordered_on":"2026.03.02"},
                       {"external_id":"O2","customer_external_id":"C1","order_no":"SO-2","amount":"12.345"}]"#;
        let rows = parse(
            Kind::Orders,
            Format::Json,
            Encoding::Auto,
            file.as_bytes(),
            Region::CN,
        )
        .unwrap();
        let (
            _,
            Ok(ImportRecord::Order {
                amount_cents,
                ordered_on,
                ..
            }),
        ) = &rows[0]
        else {
            panic!()
        };
        assert_eq!(
            (*amount_cents, ordered_on.as_deref()),
            (Some(199_950), Some("2026-03-02"))
        );
        assert_eq!(rows[1].1.clone().unwrap_err().field, "amount");
    }

    #[test]
    fn dates_and_amounts() {
        assert_eq!(date("d", "2026-3-1").unwrap(), "2026-03-01");
        assert!(date("d", "2026-02-30").is_err());
        assert!(date("d", "yesterday").is_err());
        assert_eq!(cents("a", "¥12.3").unwrap(), 1230);
        assert!(cents("a", "12.3.4").is_err());
    }
}
