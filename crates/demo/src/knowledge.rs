//! The demo's knowledge: FAQ and articles (some public, on the portal),
//! announcements to agents and to customers, glossary terms, a download,
//! and call scripts with a soothing script and the complaint FAQ.

use domain::ids::KbCategoryId;
use domain::knowledge::ArticleDraft;
use domain::model::{Actor, AttachmentInput};
use domain::script::{ScriptDraft, steps_from_text};
use jiff::Timestamp;
use store::{Store, StoreError};

/// (kind, visibility, language, category, title, body)
const ARTICLES: &[(&str, &str, &str, usize, &str, &str)] = &[
    (
        "faq",
        "public",
        "zh-CN",
        0,
        "首次保养是多少公里？",
        "首次保养在 5000 公里或 6 个月，以先到者为准。之后每 10000 公里或 12 个月保养一次。",
    ),
    (
        "faq",
        "public",
        "zh-CN",
        0,
        "保养需要预约吗？",
        "建议提前一天通过热线或服务站电话预约，可减少等候时间。",
    ),
    (
        "faq",
        "public",
        "zh-CN",
        1,
        "如何查询我的车辆是否在召回范围内？",
        "请在“联系我们”中留下车架号（VIN），客服会在 24 小时内答复；也可拨打热线查询。",
    ),
    (
        "faq",
        "public",
        "zh-CN",
        2,
        "发票抬头开错了怎么办？",
        "请联系购车的 4S 店，携带原发票办理红冲后重开。",
    ),
    (
        "faq",
        "public",
        "en",
        0,
        "When is the first service due?",
        "At 5,000 km or 6 months, whichever comes first; then every 10,000 km or 12 months.",
    ),
    (
        "faq",
        "public",
        "en",
        1,
        "Is my car part of a recall?",
        "Send us your VIN through the contact form and we will answer within 24 hours.",
    ),
    (
        "article",
        "internal",
        "zh-CN",
        1,
        "2026 年刹车软管召回处理口径",
        "召回范围：2024 款星途 X5，VIN 区间见附件。\n客户来电：核实 VIN → 告知免费更换 → 协助预约就近服务站。\n不得承诺赔偿金额，如客户提出，转质量部。",
    ),
    (
        "announcement",
        "public",
        "zh-CN",
        0,
        "春节期间服务安排",
        "2 月 10 日至 16 日热线照常服务，部分服务站休息，请提前预约。",
    ),
    (
        "announcement",
        "internal",
        "zh-CN",
        0,
        "星途 X5 指导价下调",
        "自 12 月 1 日起，星途 X5 指导价下调 5000 元；已购车客户咨询价保时，按《价保说明》答复。",
    ),
    (
        "glossary",
        "public",
        "zh-CN",
        0,
        "VIN（车架号）",
        "车辆识别代号，17 位字母和数字，位于挡风玻璃左下角和行驶证上。",
    ),
    (
        "glossary",
        "public",
        "zh-CN",
        0,
        "首保",
        "新车的第一次保养，通常免费。",
    ),
    (
        "download",
        "public",
        "zh-CN",
        0,
        "保养手册",
        "星途全系保养手册（PDF）。",
    ),
];

const CATEGORIES: &[&str] = &["保养", "召回", "发票与金融"];

const SCRIPTS: &[(&str, &str, &[&str], &str)] = &[
    (
        "call",
        "投诉来电",
        &["complaint"],
        "[greet] 问候\n您好，这里是星途汽车客户关怀中心，我是客服{工号}，请问有什么可以帮您？\n> 客户情绪激动 -> calm\n> 客户说明问题 -> record\n\n[calm] 安抚\n非常理解您的心情，给您带来不便我们很抱歉。我会全程跟进，请您先告诉我具体情况。\n> 客户平静下来 -> record\n> 客户要求找领导 -> escalate\n\n[record] 记录问题\n请问您的车架号和购车的经销商是？问题是从什么时候开始的？\n\n[promise] 告知时限\n我们会在 24 小时内给您答复，工单号稍后短信发给您。\n\n[escalate] 升级\n我理解，我马上请值班主管与您联系，请保持电话畅通。",
    ),
    (
        "call",
        "召回外呼",
        &[],
        "[open] 开场\n您好，请问是{客户姓名}吗？这里是星途汽车，关于您的爱车有一项免费检修服务通知。\n> 客户愿意听 -> explain\n> 客户现在不方便 -> later\n\n[explain] 说明\n您的车辆在刹车软管召回范围内，可到任一授权服务站免费更换，约 1 小时。\n\n[book] 预约\n请问您方便哪一天到店？我帮您预约就近的服务站。\n\n[later] 改约\n好的，请问什么时间再联系您比较方便？",
    ),
    (
        "soothing",
        "客户情绪激动时",
        &[],
        "[listen] 倾听\n先不要打断，让客户把话说完，适时回应“我明白”。\n\n[apologize] 致歉\n给您带来这样的麻烦，真的很抱歉。\n\n[own] 担当\n这件事我来跟进，今天下班前我一定给您回电。",
    ),
    (
        "complaint_faq",
        "投诉问答",
        &[],
        "[q1] 多久能答复？\n一般投诉 24 小时内答复，涉及质量鉴定的 72 小时内给出处理方案。\n\n[q2] 能赔偿吗？\n赔偿以质量部鉴定结论为准，客服不承诺金额。\n\n[q3] 可以投诉到厂家吗？\n可以，我们就是厂家的客户关怀中心，工单会同时抄送质量部。",
    ),
];

pub async fn seed(store: &Store, actor: Actor, at: Timestamp) -> Result<(), StoreError> {
    let mut cats: Vec<KbCategoryId> = Vec::new();
    for name in CATEGORIES {
        cats.push(store.create_kb_category(actor, None, name, at).await?.id);
    }
    for (kind, visibility, language, cat, title, body) in ARTICLES {
        let draft = ArticleDraft {
            kind: Some(kind.to_string()),
            visibility: Some(visibility.to_string()),
            language: Some(language.to_string()),
            category_id: Some(cats[*cat].0),
            title: title.to_string(),
            body: body.to_string(),
            source: "委托方售后服务部，2026-03-02 邮件".into(),
            ..Default::default()
        };
        let (content, source, note) = draft
            .parse()
            .map_err(|e| StoreError::Internal(format!("demo article {title}: {e:?}")))?;
        let files = if *kind == "download" {
            vec![AttachmentInput::new(
                "保养手册.pdf".into(),
                "application/pdf".into(),
                b"%PDF-1.4\n% demo\n".to_vec(),
            )]
        } else {
            Vec::new()
        };
        store
            .create_article(actor, &content, &source, &note, &files, at)
            .await?;
    }
    for (kind, name, types, text) in SCRIPTS {
        let steps = steps_from_text(text)
            .map_err(|e| StoreError::Internal(format!("demo script {name}: {e}")))?;
        let draft = ScriptDraft {
            kind: Some(kind.to_string()),
            name: name.to_string(),
            case_types: types.iter().map(|t| t.to_string()).collect(),
            campaign: (*name == "召回外呼").then(|| "2026 刹车软管召回".to_string()),
            steps,
            ..Default::default()
        };
        let (content, note) = draft
            .parse()
            .map_err(|e| StoreError::Internal(format!("demo script {name}: {e:?}")))?;
        store.create_script(actor, &content, &note, at).await?;
    }
    Ok(())
}
