//! The customer portal's "contact us" form: what a visitor may send, checked
//! before anything is written. The portal is public, so every limit here is
//! also a defence: sizes are capped and text with control characters refused.

use crate::FieldError;
use crate::contact::{EmailAddress, PhoneNumber, Region, text};
use crate::ids::CategoryId;

/// Mainland China's provinces, regions and municipalities, and the SARs, by
/// their administrative code (GB/T 2260): the code is what entry rules match.
pub const PROVINCES: &[(&str, &str, &str)] = &[
    ("11", "北京", "Beijing"),
    ("12", "天津", "Tianjin"),
    ("13", "河北", "Hebei"),
    ("14", "山西", "Shanxi"),
    ("15", "内蒙古", "Inner Mongolia"),
    ("21", "辽宁", "Liaoning"),
    ("22", "吉林", "Jilin"),
    ("23", "黑龙江", "Heilongjiang"),
    ("31", "上海", "Shanghai"),
    ("32", "江苏", "Jiangsu"),
    ("33", "浙江", "Zhejiang"),
    ("34", "安徽", "Anhui"),
    ("35", "福建", "Fujian"),
    ("36", "江西", "Jiangxi"),
    ("37", "山东", "Shandong"),
    ("41", "河南", "Henan"),
    ("42", "湖北", "Hubei"),
    ("43", "湖南", "Hunan"),
    ("44", "广东", "Guangdong"),
    ("45", "广西", "Guangxi"),
    ("46", "海南", "Hainan"),
    ("50", "重庆", "Chongqing"),
    ("51", "四川", "Sichuan"),
    ("52", "贵州", "Guizhou"),
    ("53", "云南", "Yunnan"),
    ("54", "西藏", "Tibet"),
    ("61", "陕西", "Shaanxi"),
    ("62", "甘肃", "Gansu"),
    ("63", "青海", "Qinghai"),
    ("64", "宁夏", "Ningxia"),
    ("65", "新疆", "Xinjiang"),
    ("71", "台湾", "Taiwan"),
    ("81", "香港", "Hong Kong"),
    ("82", "澳门", "Macao"),
];

/// A province's name in a language (`zh-CN` or `en`), or the code itself.
pub fn province_name(code: &str, language: &str) -> String {
    PROVINCES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, zh, en)| if language == "zh-CN" { *zh } else { *en })
        .unwrap_or(code)
        .to_string()
}

/// Limits of what one visitor sends.
pub const MAX_MESSAGE_CHARS: usize = 5_000;
pub const MAX_FILES: usize = 3;
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// A tenant's logo: at most this big.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

/// A logo's image type, read from its first bytes, not from what the upload
/// claims. SVG is refused: it may carry script.
pub fn logo_type(bytes: &[u8]) -> Result<&'static str, FieldError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(FieldError::new("logo", "is larger than 512 KB"));
    }
    let kind = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "image/gif"
    } else if bytes.len() > 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return Err(FieldError::new(
            "logo",
            "must be a PNG, JPEG, GIF or WebP image",
        ));
    };
    Ok(kind)
}

/// The form as posted: every field text, as typed.
#[derive(Debug, Clone, Default)]
pub struct ContactForm {
    pub category_id: String,
    pub province: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub account_no: String,
    pub order_no: String,
    pub message: String,
}

/// A checked request: the customer can be answered (an e-mail or a phone),
/// and nothing is longer than the portal takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRequest {
    pub category_id: Option<CategoryId>,
    /// A province code for a tenant in China, else what the visitor wrote.
    pub province: Option<String>,
    pub name: String,
    pub phone: Option<PhoneNumber>,
    pub email: Option<EmailAddress>,
    pub account_no: Option<String>,
    pub order_no: Option<String>,
    pub message: String,
}

impl ContactForm {
    /// Every field's error at once. `region` reads phone numbers written
    /// without `+`; for China the province must be one of [`PROVINCES`].
    pub fn parse(&self, region: Region) -> Result<ContactRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<Option<String>, FieldError>| r.map_err(|e| errors.push(e)).ok();
        let category = keep(optional("category_id", &self.category_id, 20));
        let province = keep(optional("province", &self.province, 40));
        let name = keep(text("name", &self.name, 100).map(Some));
        let account_no = keep(optional("account_no", &self.account_no, 40));
        let order_no = keep(optional("order_no", &self.order_no, 40));
        let message = keep(text("message", &self.message, MAX_MESSAGE_CHARS).map(Some));
        let category_id = match category.flatten() {
            Some(c) => match c.parse::<i64>() {
                Ok(id) if id > 0 => Some(CategoryId(id)),
                _ => {
                    errors.push(FieldError::new("category_id", "is not a category"));
                    None
                }
            },
            None => None,
        };
        let province = province.flatten();
        if region.calling_code == 86
            && let Some(p) = &province
            && !PROVINCES.iter().any(|(c, _, _)| c == p)
        {
            errors.push(FieldError::new("province", "is not a province"));
        }
        let phone = match self.phone.trim() {
            "" => None,
            p => PhoneNumber::parse(p, region)
                .map_err(|e| errors.push(e))
                .ok(),
        };
        let email = match self.email.trim() {
            "" => None,
            e => EmailAddress::parse(e).map_err(|e| errors.push(e)).ok(),
        };
        if self.phone.trim().is_empty() && self.email.trim().is_empty() {
            errors.push(FieldError::new(
                "email",
                "is required, or a phone number, to answer you",
            ));
        }
        match (name.flatten(), message.flatten()) {
            (Some(name), Some(message)) if errors.is_empty() => Ok(ContactRequest {
                category_id,
                province,
                name,
                phone,
                email,
                account_no: account_no.flatten(),
                order_no: order_no.flatten(),
                message,
            }),
            _ => Err(errors),
        }
    }
}

/// An optional line of text: empty is none, else at most `max` characters.
fn optional(field: &str, input: &str, max: usize) -> Result<Option<String>, FieldError> {
    match input.trim() {
        "" => Ok(None),
        s => text(field, s, max).map(Some),
    }
}

impl ContactRequest {
    /// What the visitor sent, as the case's first message: the form's fields
    /// labelled in the visitor's language (the labels mail's form reader
    /// knows), then the message.
    pub fn transcript(&self, language: &str) -> String {
        let zh = language == "zh-CN";
        let mut out = String::new();
        let mut line = |zh_label: &str, en_label: &str, value: Option<String>| {
            if let Some(v) = value {
                let label = if zh { zh_label } else { en_label };
                out.push_str(&format!("{label}: {v}\n"));
            }
        };
        line("姓名", "Name", Some(self.name.clone()));
        line("电话", "Phone", self.phone.as_ref().map(|p| p.to_string()));
        line("邮箱", "E-mail", self.email.as_ref().map(|e| e.to_string()));
        line(
            "省份",
            "Province",
            self.province.as_deref().map(|p| province_name(p, language)),
        );
        line("账号", "Account", self.account_no.clone());
        line("订单号", "Order", self.order_no.clone());
        out.push('\n');
        out.push_str(&self.message);
        out
    }

    /// The case's subject: the message's first line, shortened.
    pub fn subject(&self) -> String {
        let first = self
            .message
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let mut s: String = first.trim().chars().take(80).collect();
        if first.trim().chars().count() > 80 {
            s.push('…');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CN: Region = Region { calling_code: 86 };

    fn form() -> ContactForm {
        ContactForm {
            category_id: "3".into(),
            province: "44".into(),
            name: " 张三 ".into(),
            phone: "138 0013 8000".into(),
            email: "Zhang@Example.cn".into(),
            account_no: "A-1".into(),
            order_no: String::new(),
            message: "刹车异响\n上周保养后出现".into(),
        }
    }

    #[test]
    fn a_good_form_is_read_and_transcribed() {
        let r = form().parse(CN).expect("valid");
        assert_eq!(r.name, "张三");
        assert_eq!(r.category_id, Some(CategoryId(3)));
        assert_eq!(
            r.email.as_ref().map(|e| e.as_str()),
            Some("zhang@example.cn")
        );
        assert_eq!(
            r.phone.as_ref().map(|p| p.to_string()).as_deref(),
            Some("+8613800138000")
        );
        assert_eq!(r.order_no, None);
        assert_eq!(r.subject(), "刹车异响");
        let t = r.transcript("zh-CN");
        assert!(t.starts_with("姓名: 张三\n电话: +8613800138000\n"), "{t}");
        assert!(t.contains("省份: 广东\n账号: A-1\n\n刹车异响"), "{t}");
        assert!(r.transcript("en").contains("Province: Guangdong"));
        // Mail's form reader reads the same labels back.
        let read = crate::mail::form_fields(&t);
        assert_eq!(read.account_no.as_deref(), Some("A-1"));
    }

    #[test]
    fn logos_are_known_images_by_their_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(logo_type(png), Ok("image/png"));
        assert_eq!(logo_type(&[0xff, 0xd8, 0xff, 0xe0, 0]), Ok("image/jpeg"));
        assert_eq!(logo_type(b"RIFF\0\0\0\0WEBPVP8 "), Ok("image/webp"));
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        assert_eq!(logo_type(svg).map_err(|e| e.field), Err("logo".to_string()));
        let big = [png.as_slice(), &vec![0u8; MAX_LOGO_BYTES]].concat();
        assert!(logo_type(&big).is_err());
    }

    #[test]
    fn bad_fields_are_named_all_at_once() {
        type Change = fn(&mut ContactForm);
        let cases: &[(Change, &[&str])] = &[
            (|f| f.name.clear(), &["name"]),
            (|f| f.message = " ".into(), &["message"]),
            (
                |f| f.message = "x".repeat(MAX_MESSAGE_CHARS + 1),
                &["message"],
            ),
            (|f| f.province = "99".into(), &["province"]),
            (|f| f.category_id = "abc".into(), &["category_id"]),
            (|f| f.email = "not-mail".into(), &["email"]),
            (|f| f.phone = "12".into(), &["phone"]),
            (
                |f| {
                    f.phone.clear();
                    f.email.clear();
                },
                &["email"],
            ),
            (
                |f| {
                    f.name.clear();
                    f.order_no = "\u{7}".into();
                },
                &["name", "order_no"],
            ),
        ];
        for (change, fields) in cases {
            let mut f = form();
            change(&mut f);
            let errors = f.parse(CN).expect_err("refused");
            let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(&named, fields, "{errors:?}");
        }
        // Outside China the province is free text.
        let mut f = form();
        f.province = "Bavaria".into();
        f.phone = "+49 30 1234567".into();
        let r = f.parse(Region { calling_code: 49 }).expect("valid abroad");
        assert_eq!(r.province.as_deref(), Some("Bavaria"));
    }
}
