//! The server's messages (a field's reason, a refusal) in Chinese. Each
//! English message is written as its `format!` template, `{…}` standing for
//! what varies; the Chinese template names the same holes, and a hole
//! written `{from|status}` is itself translated through the vocabulary
//! (`status.closed` → 已关闭). A test reads the sources and fails on a
//! message that has no entry here.

use std::collections::HashMap;

pub const MESSAGES: &[(&str, &str)] = &[
    // Any field.
    ("is required", "必填"),
    ("must not be empty", "不能为空"),
    ("is empty", "为空"),
    ("does not exist", "不存在"),
    ("is retired", "已停用"),
    // Call scripts.
    (
        "must be up to 40 letters, digits, _ or -",
        "最多 40 个字母、数字、_ 或 -",
    ),
    ("needs at least one step", "至少需要一个步骤"),
    ("at most 100", "最多 100 个"),
    ("at most 10", "最多 10 个"),
    ("is not a step of this script", "不是本话术中的步骤"),
    (
        "line {n}: a step opens with [id] title",
        "第 {n} 行：步骤应以 [编号] 标题 开始",
    ),
    (
        "line {n}: write [id] title before the wording",
        "第 {n} 行：请先写 [编号] 标题，再写话术",
    ),
    (
        "line {n}: a branch is > label -> step",
        "第 {n} 行：分支的写法为 > 客户回答 -> 步骤编号",
    ),
    // Calls from the PBX.
    ("must hold the recording", "须包含录音文件"),
    (
        "must be an audio type, such as audio/wav or audio/mpeg",
        "须为音频类型，如 audio/wav 或 audio/mpeg",
    ),
    (
        "must be a plain file name of at most 200 characters",
        "须为不超过 200 个字符的文件名（不含路径）",
    ),
    ("is reported with a hang-up only", "只能随挂机事件上报"),
    (
        "must be the whole seconds talked, from 0 to 86400",
        "须为通话的整秒数，0 到 86400",
    ),
    // The customer portal.
    ("is larger than 512 KB", "不能超过 512 KB"),
    (
        "must be a PNG, JPEG, GIF or WebP image",
        "须为 PNG、JPEG、GIF 或 WebP 图片",
    ),
    ("is not a category", "不是有效的类别"),
    ("is not a province", "不是有效的省份"),
    (
        "is required, or a phone number, to answer you",
        "必填（或填写电话），以便答复您",
    ),
    ("at most 3", "最多 3 个"),
    ("each at most 5 MB", "每个不超过 5 MB"),
    (
        "this case is closed; please send a new request",
        "该工单已关闭，请重新提交",
    ),
    ("named twice", "重复"),
    ("contains control characters", "含有控制字符"),
    (
        "is longer than {max_chars} characters",
        "不能超过 {max_chars} 个字符",
    ),
    ("is longer than 1 MB", "不能超过 1 MB"),
    ("must be at most 10000 characters", "不能超过 10000 个字符"),
    ("must be 1 to 200 characters", "须为 1 到 200 个字符"),
    ("must be a number", "须为数字"),
    ("must be a whole number", "须为整数"),
    ("must be a whole number of minutes", "须为整数分钟"),
    ("must be a whole number of seconds", "须为整数秒"),
    ("must be above zero", "须大于零"),
    ("must be between {a} and {b}", "须在 {a} 到 {b} 之间"),
    ("must be between 1 and 720 hours", "须在 1 到 720 小时之间"),
    ("must be at most {n}", "不能超过 {n}"),
    ("must be one of: {list}", "须为以下之一：{list}"),
    ("is not an id", "不是有效的编号"),
    ("is not UTF-8 text", "不是 UTF-8 文本"),
    ("must be base64", "须为 base64 编码"),
    ("must be in the future", "须为将来的时间"),
    ("must be a date and time", "须为日期和时间"),
    ("must be a date YYYY-MM-DD", "须为日期，格式 YYYY-MM-DD"),
    (
        "must be a date such as 2026-03-01",
        "须为日期，如 2026-03-01",
    ),
    (
        "must be a time such as 2026-03-01T08:30:00+08:00",
        "须为时间，如 2026-03-01T08:30:00+08:00",
    ),
    (
        "must be a date (2026-03-01) or a time (2026-03-01T08:30:00+08:00)",
        "须为日期（2026-03-01）或时间（2026-03-01T08:30:00+08:00）",
    ),
    ("is not a valid local time", "不是有效的本地时间"),
    ("must be a clock time such as 08:30", "须为钟点，如 08:30"),
    (
        "must start with a clock time such as 08:30",
        "须以钟点开头，如 08:30",
    ),
    ("must be before to", "须早于结束时间"),
    ("is before started_at", "早于开始时间"),
    ("must be an http(s) URL", "须为 http(s) 链接"),
    (
        "must be a link starting with https://",
        "须为以 https:// 开头的链接",
    ),
    ("must be a host name or address", "须为主机名或地址"),
    ("must be a colour such as #0b6e99", "须为颜色，如 #0b6e99"),
    ("must be zh-CN or en", "须为 zh-CN 或 en"),
    ("must be an amount such as 1999.50", "须为金额，如 1999.50"),
    ("must be between -90 and 90", "须在 -90 到 90 之间"),
    ("must be between -180 and 180", "须在 -180 到 180 之间"),
    ("lat and lon go together", "纬度和经度须同时填写"),
    ("is not a cursor this API returned", "不是本接口返回的游标"),
    ("is not a case list filter", "不是工单列表的筛选条件"),
    // Choices in forms.
    ("choose an agent", "请选择坐席"),
    ("choose a department", "请选择部门"),
    ("choose a category", "请选择分类"),
    ("choose a queue", "请选择队列"),
    ("must be a team id", "须为班组编号"),
    ("no such team", "没有这个班组"),
    ("must be a user id or me", "须为用户编号或 me"),
    ("must be newest or sla_due", "须为 newest 或 sla_due"),
    ("must be newest or deadline", "须为 newest 或 deadline"),
    ("must be csv or json", "须为 csv 或 json"),
    (
        "must be company, dealer or service_station",
        "须为 company、dealer 或 service_station",
    ),
    (
        "must be available, break or offline",
        "须为 available、break 或 offline",
    ),
    ("a break needs a reason", "小休须选择原因"),
    // People, tenants and the catalogue.
    (
        "may contain only letters, digits and . _ - @",
        "只能包含字母、数字和 . _ - @",
    ),
    ("must have at least {n} characters", "至少 {n} 个字符"),
    ("username is already taken", "用户名已被占用"),
    ("is required for department staff", "部门人员必须选择部门"),
    ("you cannot deactivate yourself", "不能停用自己的账号"),
    (
        "you cannot give up your own administration",
        "不能更改自己的管理员角色",
    ),
    (
        "only an operator may make or change an operator",
        "只有平台运营人员可以设置或更改平台运营角色",
    ),
    (
        "must be at most 32 digits or letters",
        "最多 32 位数字或字母",
    ),
    ("another user has this extension", "其他用户已使用此分机号"),
    (
        "must be 2 to 40 of a-z, 0-9 and -, not starting or ending with -",
        "须为 2 到 40 个 a-z、0-9 或 -，且不以 - 开头或结尾",
    ),
    ("is not a known time zone", "不是已知的时区"),
    (
        "is not a supported country code such as CN",
        "不是支持的国家代码（如 CN）",
    ),
    (
        "a tenant with this slug already exists",
        "已有使用此简称的租户",
    ),
    ("may contain only a-z, 0-9 and _", "只能包含 a-z、0-9 和 _"),
    (
        "must be text, number, date or select",
        "须为 text、number、date 或 select",
    ),
    ("a select field needs options", "下拉字段需要选项"),
    ("only a select field has options", "只有下拉字段有选项"),
    ("at most 100 options", "最多 100 个选项"),
    ("a custom field has a label", "自定义字段请修改显示名"),
    ("only a custom field has a label", "只有自定义字段有显示名"),
    ("does not apply to a {noun}", "不适用于此类条目（{noun}）"),
    (
        "is not a custom field of this tenant",
        "不是本租户的自定义字段",
    ),
    (
        "a {noun} with this name already exists",
        "已有同名条目（{noun}）",
    ),
    ("a team with this name already exists", "已有同名班组"),
    ("a department with this name already exists", "已有同名部门"),
    (
        "a custom field with this key already exists",
        "已有相同标识的自定义字段",
    ),
    (
        "{n} active users are still in this team: move them first",
        "班组中仍有 {n} 名在用用户：请先调出",
    ),
    (
        "{n} categories under it are still in use: retire them first",
        "其下仍有 {n} 个在用分类：请先停用",
    ),
    // Customers and cases.
    ("must be 17 characters", "须为 17 位"),
    (
        "may contain only digits and letters other than I, O and Q",
        "只能包含数字和除 I、O、Q 以外的字母",
    ),
    ("must look like 2026-000123", "格式应为 2026-000123"),
    (
        "must be customers, vehicles, orders or service_records",
        "须为 customers、vehicles、orders 或 service_records",
    ),
    ("must be auto, utf-8 or gbk", "须为 auto、utf-8 或 gbk"),
    (
        "no {what} with this external id",
        "没有此外部编号的记录（{what}）",
    ),
    (
        "a customer with this external_id already exists",
        "已有此外部编号的客户",
    ),
    (
        "give one of q, phone, email, vin, account, order or name",
        "请提供 q、phone、email、vin、account、order 或 name 之一",
    ),
    ("belongs to another customer", "属于其他客户"),
    ("a case cannot be merged into itself", "工单不能合并到自身"),
    ("a case cannot be related to itself", "工单不能关联自身"),
    ("the case kept is no longer open", "保留的工单已不在处理中"),
    ("the duplicate is already closed", "重复工单已关闭"),
    (
        "a case that is {status|status} cannot be passed to a department",
        "{status|status}的工单不能转交部门",
    ),
    (
        "a case that is {from|status} cannot {action|action}",
        "{from|status}的工单不能执行“{action|action}”",
    ),
    (
        "{open} department task(s) are still open",
        "仍有 {open} 个部门任务未完成",
    ),
    ("the task is already {0|taskstatus}", "任务已{0|taskstatus}"),
    ("a note is always internal", "备注总是内部的"),
    ("is required (or a template_id)", "必填（或选择模板）"),
    ("is required for a reply template", "回复模板必填"),
    ("is longer than 200 characters", "不能超过 200 个字符"),
    ("is longer than 500 characters", "不能超过 500 个字符"),
    ("is longer than 40 characters", "不能超过 40 个字符"),
    ("is longer than 100000 characters", "不能超过 100000 个字符"),
    // Knowledge.
    ("at most 30", "最多 30 个"),
    ("is before valid_from", "早于生效日期"),
    (
        "names a file this article does not have",
        "指定了本文章没有的文件",
    ),
    (
        "version {current} was saved since version {base}: open it again and redo the change",
        "在第 {base} 版之后已有人保存了第 {current} 版：请重新打开并再做一次修改",
    ),
    (
        "must be article, case, interaction or customer",
        "须为 article、case、interaction 或 customer",
    ),
    ("search index: {why}", "搜索索引：{why}"),
    ("search index folder: {why}", "搜索索引目录：{why}"),
    // Mail.
    ("at most 50 recipients in all", "收件人合计最多 50 个"),
    (
        "this tenant has no e-mail address to send from",
        "本租户没有可用于发信的邮箱地址",
    ),
    (
        "the case's customer has no e-mail address; give one",
        "工单客户没有电子邮箱，请填写收件人",
    ),
    ("add a receiving address first", "请先添加收件地址"),
    (
        "is not a receiving address of this tenant",
        "不是本租户的收件地址",
    ),
    ("no such mail address", "没有这个邮箱地址"),
    ("no such template", "没有这个模板"),
    ("this address already receives mail", "此地址已在收信"),
    (
        "only an acknowledgement belongs to an address",
        "只有自动确认模板可以绑定地址",
    ),
    ("has an unclosed {{", "有未闭合的 {{"),
    (
        "uses the unknown variable {{{{{name}}}}}",
        "使用了未知变量 {{{{{name}}}}}",
    ),
    (
        "must be plain ASCII, as the server names it (e.g. INBOX or Archive/Done)",
        "须为服务器上的 ASCII 名称（如 INBOX 或 Archive/Done）",
    ),
    ("must differ from the folder polled", "须与收取的文件夹不同"),
    // SLA and calendars.
    (
        "a policy needs at least one target",
        "策略至少需要一个时限目标",
    ),
    ("a policy with this name already exists", "已有同名策略"),
    ("a calendar with this name already exists", "已有同名日历"),
    (
        "cases follow this policy: switch it off instead",
        "已有工单使用此策略：请改为停用",
    ),
    (
        "the SLA policy \\\"{name}\\\" counts by this calendar",
        "SLA 策略“{name}”按此日历计时",
    ),
    (
        "must be between 1 and {max} minutes",
        "须在 1 到 {max} 分钟之间",
    ),
    (
        "must be HH:MM-HH:MM, e.g. 09:00-18:00",
        "格式须为 HH:MM-HH:MM，如 09:00-18:00",
    ),
    ("times must increase", "时间须递增"),
    ("no day of the week is open", "一周中没有工作日"),
    (
        "is not a day: use mon, tue, wed, thu, fri, sat or sun",
        "不是星期名：请用 mon、tue、wed、thu、fri、sat 或 sun",
    ),
    ("{day} is a holiday too", "{day} 也是节假日"),
    (
        "is not an iCalendar file (no BEGIN:VCALENDAR)",
        "不是 iCalendar 文件（缺少 BEGIN:VCALENDAR）",
    ),
    (
        "{state} cannot pause a clock: use pending_customer or pending_department",
        "{state} 不能暂停计时：请用 pending_customer 或 pending_department",
    ),
    (
        "must be above 0 and at most a year",
        "须大于 0 且不超过一年",
    ),
    (
        "the calendar has no open time within {days} days of {at}",
        "日历在 {at} 起 {days} 天内没有工作时间",
    ),
    (
        "the instant {at} is out of the calendar's range",
        "时刻 {at} 超出日历范围",
    ),
    // Routing.
    (
        "must be at most an hour (3600 seconds)",
        "不能超过一小时（3600 秒）",
    ),
    (
        "must be one word without spaces, commas or semicolons",
        "须为一个词，不含空格、逗号或分号",
    ),
    ("a queue with this name already exists", "已有同名队列"),
    ("a skill with this name already exists", "已有同名技能"),
    (
        "takes no routed work (deactivated, or a role that works no cases)",
        "不接受分配的工作（已停用，或角色不处理工单）",
    ),
    (
        "cannot move work to its own queue",
        "不能把工作移到它所在的队列",
    ),
    ("name at least one kind of work", "至少选择一种工作类型"),
    ("must be at most 50 per kind", "每种最多 50"),
    ("no queue named {name}", "没有名为 {name} 的队列"),
    ("no such queue", "没有这个队列"),
    ("no such agent", "没有这个坐席"),
    ("no such work item", "没有这项工作"),
    ("the work item is already routed", "这项工作已在分配中"),
    (
        "the work item is not offered to this agent",
        "这项工作没有推送给此坐席",
    ),
    ("the work item is not being worked", "这项工作不在处理中"),
    ("the work item is being worked", "这项工作正在处理中"),
    (
        "the queue does not take this kind of work",
        "该队列不接受这类工作",
    ),
    ("the queue still holds work", "该队列中仍有工作"),
    ("at most 64 languages", "最多 64 种语言"),
    ("must be a level from 1 to 5", "须为 1 到 5 的等级"),
    // Calls.
    ("is required for a new call", "新来电必填"),
    ("no call with this id", "没有此编号的通话"),
    ("the call has already ended", "通话已结束"),
    ("the call has not ended yet", "通话尚未结束"),
    (
        "the call is on no case: attach it to one first",
        "通话未关联工单：请先关联",
    ),
    // Staffing.
    ("must be 15, 30 or 60", "须为 15、30 或 60"),
    (
        "must be a share between 0 and 1, e.g. 0.8",
        "须为 0 到 1 之间的比例，如 0.8",
    ),
    (
        "give calls per hour or a forecast",
        "请填写每小时来电量或预测",
    ),
    (
        "give one of calls_per_hour, arrivals or arrivals_csv",
        "请提供 calls_per_hour、arrivals 或 arrivals_csv 之一",
    ),
    ("calls must be a number, zero or more", "来电量须为零或正数"),
    ("must be numbers, zero or more", "须为零或正数"),
    ("must be time,calls", "格式须为 时间,来电量"),
    ("no intervals with calls", "没有有来电的时段"),
    ("was not read", "未能读取"),
    ("was not written", "未能写入"),
    ("at most {n} intervals", "最多 {n} 个时段"),
    ("a shift must end after it starts", "班次结束须晚于开始"),
    (
        "name at least one queue and one agent group",
        "至少指定一个队列和一个坐席组",
    ),
    (
        "calls per hour × handle time exceed {n} Erlangs",
        "每小时来电量 × 处理时长超过 {n} 爱尔兰",
    ),
    (
        "{t} is not the start of a {m}-minute interval from the start",
        "{t} 不是从起点算起的 {m} 分钟时段的开始",
    ),
    (
        "is too long for this load (more than {n} calls arrive within it)",
        "对此话务量过长（期间到达超过 {n} 通来电）",
    ),
    ("must be a number, zero or more", "须为零或正数"),
    (
        "give the date and its hours: 2026-12-31 09:00-12:00",
        "请填写日期和时段：2026-12-31 09:00-12:00",
    ),
    // Imports.
    (
        "the file is not valid {enc} text",
        "文件不是有效的 {enc} 文本",
    ),
    ("line {line}: {reason}", "第 {line} 行：{reason}"),
    ("missing required columns: {cols}", "缺少必需的列：{cols}"),
    (
        "not a JSON array of objects: {why}",
        "不是对象组成的 JSON 数组：{why}",
    ),
    ("the file has no rows", "文件没有数据行"),
    // A mailbox's last error, as its settings show it.
    (
        "imap: {command} refused: {reason}",
        "IMAP：{command} 被拒绝：{reason}",
    ),
    ("imap: {why}", "IMAP：{why}"),
    // The edge, and the start-up (in the log and on the command line).
    ("no such route", "没有这个地址"),
    ("invalid input", "输入无效"),
    ("request body too large", "请求内容过大"),
    ("internal error", "内部错误"),
    ("internal error: {why}", "内部错误：{why}"),
    ("database error: {why}", "数据库错误：{why}"),
    ("file error: {why}", "文件错误：{why}"),
    (
        "unsupported database URL {url}: use sqlite:PATH or postgres://USER@HOST/DB",
        "不支持的数据库地址 {url}：请用 sqlite:PATH 或 postgres://USER@HOST/DB",
    ),
    (
        "cannot open the database at {url}: {reason}",
        "无法打开数据库 {url}：{reason}",
    ),
    (
        "migration {version} failed: {reason}",
        "第 {version} 号迁移失败：{reason}",
    ),
    // The edge.
    ("authentication required", "需要登录"),
    ("your role may not do this", "您的角色无权执行此操作"),
    ("not found", "未找到"),
    // It fits any "a: b"; any other template that fits says more.
    ("{path}: {reason}", "{path}：{reason}"),
];

/// One piece of a message template: literal text, or a hole with an
/// optional vocabulary prefix (`{from|status}`).
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Hole(String, Option<String>),
}

/// Reads a `format!`-style template: `{{` and `}}` are braces, `{…}` a hole.
fn pieces(template: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('{', Some('{')) | ('}', Some('}')) => {
                chars.next();
                text.push(c);
            }
            ('{', _) => {
                let inner: String = chars.by_ref().take_while(|&x| x != '}').collect();
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                let (name, vocab) = match inner.split_once('|') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (inner, None),
                };
                out.push(Piece::Hole(name, vocab));
            }
            _ => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// Fills `holes` from `s` if it has the template's shape; holes are never empty.
fn matches<'a>(pieces: &[Piece], s: &'a str, holes: &mut HashMap<String, &'a str>) -> bool {
    match pieces.split_first() {
        None => s.is_empty(),
        Some((Piece::Text(t), rest)) => s
            .strip_prefix(t.as_str())
            .is_some_and(|r| matches(rest, r, holes)),
        Some((Piece::Hole(name, _), rest)) => {
            for (i, _) in s.char_indices().skip(1).chain([(s.len(), ' ')]) {
                if matches(rest, &s[i..], holes) {
                    holes.insert(name.clone(), &s[..i]);
                    return true;
                }
            }
            false
        }
    }
}

/// The Chinese for one English message, when the table has it; `vocab`
/// translates a hole's value under a prefix.
pub fn zh(message: &str, vocab: impl Fn(&str, &str) -> String) -> Option<String> {
    // Of the templates that fit, the one with the most fixed text says the
    // most: "must be at most 32 digits or letters" before "must be at most {n}".
    let fixed = |t: &str| -> usize {
        pieces(t)
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Hole(..) => 0,
            })
            .sum()
    };
    let mut best: Option<(usize, &str, HashMap<String, &str>)> = None;
    for (en, zh) in MESSAGES {
        let mut holes = HashMap::new();
        if matches(&pieces(en), message, &mut holes)
            && best.as_ref().is_none_or(|(n, ..)| fixed(en) > *n)
        {
            best = Some((fixed(en), zh, holes));
        }
    }
    best.map(|(_, zh, holes)| {
        let mut out = String::new();
        for p in pieces(zh) {
            match p {
                Piece::Text(t) => out.push_str(&t),
                Piece::Hole(name, v) => {
                    let value = holes.get(&name).copied().unwrap_or_default();
                    match v {
                        Some(prefix) => out.push_str(&vocab(&prefix, value)),
                        None => out.push_str(value),
                    }
                }
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(_: &str, v: &str) -> String {
        v.to_string()
    }

    #[test]
    fn templates_match_what_varies() {
        let cases = [
            ("must be between 1 and 2160", Some("须在 1 到 2160 之间")),
            ("is longer than 100 characters", Some("不能超过 100 个字符")),
            ("must be one of: 轿车, SUV", Some("须为以下之一：轿车, SUV")),
            (
                "uses the unknown variable {{agent}}",
                Some("使用了未知变量 {{agent}}"),
            ),
            ("has an unclosed {", Some("有未闭合的 {")),
            (
                "3 department task(s) are still open",
                Some("仍有 3 个部门任务未完成"),
            ),
            // The template with the most fixed text wins over a general one.
            (
                "must be at most 32 digits or letters",
                Some("最多 32 位数字或字母"),
            ),
            ("must be at most 5000", Some("不能超过 5000")),
            ("must be between", None),
            ("something new", None),
        ];
        for (en, want) in cases {
            assert_eq!(zh(en, plain).as_deref(), want, "{en}");
        }
        let vocab = |p: &str, v: &str| format!("<{p}.{v}>");
        assert_eq!(
            zh("a case that is closed cannot resolve", vocab).as_deref(),
            Some("<status.closed>的工单不能执行“<action.resolve>”")
        );
    }

    #[test]
    fn every_entry_names_the_same_holes_in_both_languages() {
        for (en, zh) in MESSAGES {
            let names = |t: &str| {
                let mut v: Vec<String> = pieces(t)
                    .into_iter()
                    .filter_map(|p| match p {
                        Piece::Hole(n, _) => Some(n),
                        Piece::Text(_) => None,
                    })
                    .collect();
                v.sort();
                v
            };
            assert_eq!(names(en), names(zh), "{en}");
        }
    }

    /// Every message the sources write (a field's reason, a conflict, an
    /// error's text) has its Chinese: a new message without one fails here.
    #[test]
    fn every_message_in_the_sources_is_translated() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut missing = Vec::new();
        let mut seen = 0;
        for krate in ["domain", "store", "web", "import", "mail"] {
            for file in rust_files(&root.join(krate).join("src")) {
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                // Test modules assert on English; they are not shown to anyone.
                let text = text.split("#[cfg(test)]").next().unwrap_or_default();
                for msg in messages_in(text) {
                    seen += 1;
                    let sample = sample(&msg);
                    if zh(&sample, plain).is_none() {
                        missing.push(format!("{}: {msg:?}", file.display()));
                    }
                }
            }
        }
        assert!(seen > 150, "the sources' messages were not found ({seen})");
        assert!(
            missing.is_empty(),
            "no Chinese for:\n{}",
            missing.join("\n")
        );
    }

    fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(rust_files(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
        out
    }

    /// The string literals given as a message: the reason of a field error,
    /// the text of a conflict or refusal, an error type's `#[error]`.
    fn messages_in(text: &str) -> Vec<String> {
        // (call, which argument holds the message)
        const CALLS: &[(&str, usize)] = &[
            ("FieldError::new(", 1),
            ("ApiError::field(", 1),
            ("StoreError::invalid(", 1),
            ("from_unique(", 1),
            ("StoreError::Conflict(", 0),
            ("StoreError::Workflow(", 0),
            ("ApiError::Conflict(", 0),
            ("#[error(", 0),
        ];
        let mut out = Vec::new();
        for (call, arg) in CALLS {
            for (at, _) in text.match_indices(call) {
                let args = arguments(&text[at + call.len()..]);
                // `{0}` alone passes another error's text through.
                if let Some(msg) = args.get(*arg).and_then(|a| first_literal(a))
                    && msg != "{0}"
                    && msg.chars().any(char::is_alphabetic)
                {
                    out.push(msg);
                }
            }
        }
        out
    }

    /// The top-level arguments of a call whose `(` was just passed.
    fn arguments(s: &str) -> Vec<String> {
        let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0);
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    cur.push(c);
                    while let Some(x) = chars.next() {
                        cur.push(x);
                        match x {
                            '\\' => cur.extend(chars.next()),
                            '"' => break,
                            _ => {}
                        }
                    }
                    continue;
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(std::mem::take(&mut cur));
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        out.push(cur);
        out
    }

    /// The text of the first string literal in an argument, escapes kept.
    fn first_literal(arg: &str) -> Option<String> {
        let start = arg.find('"')?;
        let mut out = String::new();
        let mut chars = arg[start + 1..].chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    out.push(c);
                    out.extend(chars.next());
                }
                '"' => return Some(out),
                c => out.push(c),
            }
        }
        None
    }

    /// A message as a user would see it: holes filled, braces unescaped.
    fn sample(template: &str) -> String {
        pieces(template)
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t,
                Piece::Hole(..) => "7".to_string(),
            })
            .collect()
    }
}
