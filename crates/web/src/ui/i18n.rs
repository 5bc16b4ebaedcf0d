//! The UI's two languages. Chinese wording follows the glossary in DOMAIN.md.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "zh-CN" | "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The first of zh/en in an Accept-Language header; English when neither.
    pub fn from_accept(header: &str) -> Lang {
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::Zh;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::En
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }
}

/// (key, English, 中文)
const TEXTS: &[(&str, &str, &str)] = &[
    ("app", "carecenter", "客户服务中心"),
    ("lang.name", "English", "中文"),
    ("lang.switch", "中文", "English"),
    ("nav.cases", "Cases", "工单"),
    ("nav.customers", "Customers", "客户"),
    ("nav.new_case", "New case", "新建工单"),
    ("nav.tasks", "Department tasks", "部门工单"),
    ("nav.reports", "Reports", "报表"),
    ("nav.logout", "Log out", "退出"),
    ("login.title", "Log in", "登录"),
    ("login.username", "Username", "用户名"),
    ("login.password", "Password", "密码"),
    ("login.submit", "Log in", "登录"),
    (
        "login.failed",
        "Wrong username or password.",
        "用户名或密码错误。",
    ),
    ("filter", "Filter", "筛选"),
    ("filter.all", "All", "全部"),
    ("filter.mine", "Mine", "我的"),
    ("filter.active", "Active", "处理中"),
    ("next_page", "Next page", "下一页"),
    ("first_page", "First page", "第一页"),
    ("none", "Nothing here.", "暂无数据。"),
    ("case", "Case", "工单"),
    ("case.number", "Number", "工单号"),
    ("case.subject", "Subject", "主题"),
    ("case.description", "Description", "描述"),
    ("case.type", "Type", "类型"),
    ("case.channel", "Channel", "渠道"),
    ("case.priority", "Priority", "优先级"),
    ("case.status", "Status", "状态"),
    ("case.customer", "Customer", "客户"),
    ("case.category", "Category", "分类"),
    ("case.assignee", "Assignee", "处理人"),
    ("case.team", "Team", "班组"),
    ("case.created", "Opened", "创建时间"),
    ("case.updated", "Updated", "更新时间"),
    ("case.take", "Take it", "我来处理"),
    ("case.timeline", "Timeline", "处理记录"),
    ("case.add", "Add to timeline", "添加记录"),
    ("case.body", "Text", "内容"),
    ("case.save", "Save", "保存"),
    ("case.create", "Open case", "创建工单"),
    ("case.no_customer", "No customer yet", "未关联客户"),
    ("case.first_contact", "What the customer said", "客户诉求"),
    ("case.related", "Related cases", "关联工单"),
    ("task.title", "Department tasks", "部门工单"),
    ("task.pass", "Pass to a department", "转派部门"),
    ("task.department", "Department", "部门"),
    ("task.instructions", "Instructions", "处理要求"),
    ("task.deadline", "Handling deadline", "处理时限"),
    (
        "task.deadline_hint",
        "empty: the department's default",
        "留空：使用部门默认时限",
    ),
    ("task.answer", "Answer", "答复"),
    ("task.return", "Send back", "退回"),
    ("task.reply", "Answer or reason", "答复或退回原因"),
    ("task.case", "Case", "工单"),
    ("task.status", "Status", "状态"),
    ("task.overdue", "overdue", "已超时"),
    ("customer.search", "Find a customer", "查找客户"),
    (
        "customer.search_hint",
        "Phone in any writing, e-mail, VIN, account or name",
        "电话（任意写法）、邮箱、VIN、账号或姓名",
    ),
    ("customer.search_button", "Search", "搜索"),
    ("customer.name", "Name", "姓名"),
    ("customer.kind", "Kind", "类型"),
    ("customer.phones", "Phones", "电话"),
    ("customer.emails", "E-mails", "邮箱"),
    ("customer.accounts", "Accounts", "账号"),
    ("customer.tier", "Tier", "客户等级"),
    ("customer.region", "Region", "区域"),
    ("customer.branch", "Branch", "分公司"),
    ("customer.address", "Address", "地址"),
    ("customer.tags", "Tags", "标签"),
    ("customer.vehicles", "Vehicles", "车辆"),
    ("customer.orders", "Orders", "订单"),
    ("customer.service", "Service history", "维修保养记录"),
    ("customer.cases", "Cases", "历史工单"),
    (
        "customer.new_case",
        "New case for this customer",
        "为该客户新建工单",
    ),
    ("customer.not_found", "No customer found.", "未找到客户。"),
    ("customer.dedicated", "Own agent (VIP service)", "专属服务"),
    ("customer.dedicated_agent", "Own agent", "专属坐席"),
    ("customer.dedicated_team", "Own team", "专属班组"),
    (
        "customer.dedicated_help",
        "New work for this customer is held for the own agent or team as long as the queue says (\"Hold for the customer's own agent\"), and goes to them at once when one of them is free.",
        "该客户的新工作按队列的“专属坐席优先”时间留给专属坐席或班组；其中有人空闲时立即分配。",
    ),
    ("vehicle.vin", "VIN", "VIN 码"),
    ("vehicle.model", "Model", "车型"),
    ("vehicle.plate", "Plate", "车牌"),
    ("vehicle.purchased", "Purchased", "购车日期"),
    ("vehicle.dealer", "Dealer", "经销商"),
    ("order.no", "Order", "订单号"),
    ("order.product", "Product", "产品"),
    ("order.date", "Date", "日期"),
    ("service.station", "Service station", "服务站"),
    ("service.kind", "Work", "项目"),
    ("service.mileage", "Mileage (km)", "里程（公里）"),
    ("report.title", "Summary", "汇总"),
    ("report.period", "Period", "统计区间"),
    ("report.opened", "Cases opened", "新建工单"),
    ("report.by_type", "By type", "按类型"),
    ("report.by_channel", "By channel", "按渠道"),
    ("report.by_status", "By status", "按状态"),
    (
        "report.open_tasks",
        "Open department tasks",
        "未完成部门工单",
    ),
    (
        "report.overdue_tasks",
        "Overdue department tasks",
        "超时部门工单",
    ),
    ("report.from", "From", "开始"),
    ("report.to", "To", "结束"),
    ("error.title", "Something is wrong", "出错了"),
    (
        "error.not_found",
        "This page or record does not exist.",
        "页面或记录不存在。",
    ),
    (
        "error.forbidden",
        "Your role may not open this page.",
        "您的角色无权访问此页面。",
    ),
    ("error.back", "Back", "返回"),
    ("type.inquiry", "Inquiry", "咨询"),
    ("type.complaint", "Complaint", "投诉"),
    ("type.follow_up", "Follow-up", "回访"),
    ("type.rescue", "Rescue", "救援"),
    ("type.repair_dispatch", "Repair dispatch", "维修派单"),
    ("type.feedback", "Feedback", "信息反馈"),
    ("type.sales_lead", "Sales lead", "销售线索"),
    ("type.other", "Other", "其他"),
    ("channel.phone", "Phone", "电话"),
    ("channel.email", "E-mail", "电子邮件"),
    ("channel.web", "Web form", "网站留言"),
    ("channel.walk_in", "Walk-in", "来访"),
    ("channel.fax", "Fax", "传真"),
    ("channel.letter", "Letter", "信函"),
    ("channel.sms", "SMS", "短信"),
    ("channel.chat", "Chat", "在线聊天"),
    ("channel.other", "Other", "其他"),
    ("priority.low", "Low", "低"),
    ("priority.normal", "Normal", "普通"),
    ("priority.high", "High", "高"),
    ("priority.urgent", "Urgent", "紧急"),
    ("status.new", "New", "新建"),
    ("status.open", "Open", "处理中"),
    (
        "status.pending_customer",
        "Waiting for customer",
        "待客户回复",
    ),
    ("status.pending_department", "With department", "部门处理中"),
    ("status.resolved", "Resolved", "已解决"),
    ("status.closed", "Closed", "已关闭"),
    ("action.open", "Start work", "开始处理"),
    ("action.wait_for_customer", "Wait for customer", "等待客户"),
    ("action.resume", "Resume", "继续处理"),
    ("action.resolve", "Resolve", "解决"),
    ("action.close", "Close", "关闭"),
    ("action.reopen", "Reopen", "重新打开"),
    ("kind.call", "Call", "通话"),
    ("kind.email", "E-mail", "邮件"),
    ("kind.web_form", "Web form", "网站留言"),
    ("kind.fax", "Fax", "传真"),
    ("kind.letter", "Letter", "信函"),
    ("kind.sms", "SMS", "短信"),
    ("kind.chat", "Chat", "聊天"),
    ("kind.visit", "Visit", "来访"),
    ("kind.note", "Internal note", "内部备注"),
    ("direction.inbound", "from customer", "客户来"),
    ("direction.outbound", "to customer", "致客户"),
    ("direction.internal", "internal", "内部"),
    ("event.created", "Case opened", "创建工单"),
    ("event.status", "Status changed", "状态变更"),
    ("event.updated", "Case changed", "工单修改"),
    ("event.interaction", "Contact recorded", "记录联系"),
    ("event.linked", "Related case linked", "关联工单"),
    ("event.task_created", "Passed to a department", "转派部门"),
    ("event.task_answered", "Department answered", "部门已答复"),
    (
        "event.task_returned",
        "Department sent it back",
        "部门已退回",
    ),
    ("taskstatus.open", "Open", "处理中"),
    ("taskstatus.answered", "Answered", "已答复"),
    ("taskstatus.returned", "Returned", "已退回"),
    ("kind.person", "Person", "个人"),
    ("kind.company", "Company", "企业"),
    ("kind.dealer", "Dealer", "经销商"),
    ("kind.service_station", "Service station", "服务站"),
    ("nav.mail", "Mail settings", "邮件设置"),
    ("nav.cti", "Telephony", "电话接入"),
    ("cti.title", "Telephony (CTI)", "电话接入（CTI）"),
    ("cti.token", "The PBX's token", "交换机令牌"),
    (
        "cti.help",
        "The center's PBX reports each call (new, answered, hang-up, transfer, recording) with this token; the agent with the extension sees the caller at once.",
        "呼叫中心交换机用此令牌上报每通电话（来电、接听、挂机、转接、录音）；对应分机的坐席立即弹出来电客户。",
    ),
    (
        "cti.token_once",
        "Copy it into the PBX now: it is shown this once.",
        "请立即配置到交换机：仅显示这一次。",
    ),
    ("cti.token_set", "A token is set.", "已设置令牌。"),
    (
        "cti.no_token",
        "No token yet: the PBX cannot report calls.",
        "尚无令牌：交换机无法上报电话。",
    ),
    (
        "cti.make_token",
        "Make a new token (the old one stops working)",
        "生成新令牌（旧令牌失效）",
    ),
    ("cti.extensions", "Extensions", "分机号"),
    ("cti.extension", "Extension", "分机"),
    ("cti.role", "Role", "角色"),
    ("call.title", "Call", "来电"),
    ("call.unknown", "Unknown caller", "未知来电"),
    ("call.talk", "talk", "通话"),
    ("call.recording", "Recording", "录音"),
    (
        "call.open_customer",
        "Open the customer record",
        "打开客户档案",
    ),
    (
        "call.about_this",
        "The call is about this case",
        "本次来电关于此工单",
    ),
    (
        "call.candidates",
        "Customers with this number",
        "使用此号码的客户",
    ),
    ("call.this_caller", "This is the caller", "就是此来电人"),
    ("call.new_customer", "New customer", "新建客户"),
    ("call.case", "Case of this call", "本次来电的工单"),
    (
        "call.new_case_at_hangup",
        "None chosen: a new inquiry case is opened at the hang-up.",
        "未选择：挂机时将新建咨询工单。",
    ),
    ("call.wrap_up", "Wrap-up", "话后处理"),
    ("call.result", "Result", "处理结果"),
    ("call.notes", "Notes", "备注"),
    ("call.follow_up", "Follow-up call needed", "需要回访"),
    ("call.finish", "Finish the call", "完成话后处理"),
    (
        "call.no_case",
        "Nobody answered this call: no case was opened.",
        "此来电未接通：未建立工单。",
    ),
    ("call.wrapped", "Wrapped up.", "已完成话后处理。"),
    ("call.ringing", "Ringing", "振铃中"),
    ("call.answered", "Talking", "通话中"),
    ("call.ended", "Ended", "已挂机"),
    ("calldir.inbound", "Inbound call", "呼入"),
    ("calldir.outbound", "Outbound call", "呼出"),
    ("result.resolved", "Resolved", "已解决"),
    ("result.in_progress", "Needs more work", "待继续处理"),
    ("nav.mail_log", "Mail log", "邮件日志"),
    ("nav.notifications", "Notifications", "通知"),
    ("nav.skip", "Skip to content", "跳到正文"),
    ("nav.sla", "SLA", "服务时限"),
    ("nav.staffing", "Staffing", "人力测算"),
    ("nav.desk", "My desk", "我的工作台"),
    ("nav.admin", "Administration", "系统管理"),
    ("admin.title", "Administration", "系统管理"),
    ("admin.users", "Users and roles", "用户与角色"),
    ("admin.roles", "Roles", "角色"),
    (
        "admin.roles_help",
        "What each role may do, and how many active users hold it. Roles are built in; give a user another role on their page.",
        "各角色可做的事，以及持有该角色的在职用户数。角色为系统内置；在用户页面为其更换角色。",
    ),
    ("admin.roles_link", "What each role may do", "各角色的权限"),
    ("admin.permission", "Permission", "权限"),
    ("admin.holders", "Users:", "用户数："),
    ("admin.allowed", "allowed", "允许"),
    ("admin.not_allowed", "not allowed", "不允许"),
    (
        "perm.read_cases",
        "Read cases, contacts and customers",
        "查看工单、联络记录和客户",
    ),
    (
        "perm.work_cases",
        "Work cases and customers",
        "处理工单、编辑客户",
    ),
    (
        "perm.assign_tasks",
        "Pass work to a department",
        "转派部门处理",
    ),
    ("perm.read_tasks", "See department tasks", "查看部门任务"),
    (
        "perm.answer_tasks",
        "Answer or return department tasks",
        "答复或退回部门任务",
    ),
    (
        "perm.import",
        "Import customers and records",
        "导入客户和资料",
    ),
    ("perm.view_reports", "Read reports", "查看报表"),
    ("perm.view_mail_log", "Read the mail log", "查看邮件日志"),
    (
        "perm.administer",
        "Administer users and settings",
        "管理用户和设置",
    ),
    ("perm.view_audit", "Read the audit log", "查看审计日志"),
    (
        "perm.supervise",
        "Supervise queues and agents",
        "监控队列和坐席",
    ),
    (
        "perm.edit_knowledge",
        "Write knowledge, scripts, announcements",
        "编写知识、话术和公告",
    ),
    (
        "perm.manage_tenants",
        "Manage client tenants (all tenants)",
        "管理委托方租户（全部租户）",
    ),
    (
        "admin.users_help",
        "Accounts, roles, teams, departments, extensions; deactivate who left.",
        "账号、角色、班组、部门、分机；停用离职人员。",
    ),
    (
        "admin.catalog",
        "Teams, departments, categories, fields",
        "班组、部门、分类、自定义字段",
    ),
    (
        "admin.catalog_help",
        "The organisation cases are worked in and the fields they carry.",
        "工单流转的组织结构及工单字段。",
    ),
    (
        "admin.routing_help",
        "Skills, queues, entry rules, agents' capacity.",
        "技能、队列、入队规则、坐席并发。",
    ),
    (
        "admin.sla_help",
        "Business calendars, holidays, SLA policies and escalation.",
        "工作日历、节假日、服务时限策略与升级。",
    ),
    (
        "admin.mail_help",
        "Addresses, mailboxes, reply templates, acknowledgement.",
        "邮件地址、邮箱、回复模板、自动回执。",
    ),
    (
        "admin.cti_help",
        "The PBX's token and agents' extensions.",
        "交换机令牌与坐席分机。",
    ),
    ("admin.audit", "Audit log", "审计日志"),
    (
        "admin.audit_help",
        "Every change to settings and users, who and when.",
        "所有设置与用户变更：何人、何时。",
    ),
    ("admin.tenant", "This client company", "本租户"),
    ("admin.timezone", "Time zone", "时区"),
    (
        "admin.tenant_help",
        "Name, time zone (case numbers and business hours follow it) and the colour of these pages. New client companies are added by the outsourcer's operator.",
        "名称、时区（工单编号和工作时间按此计算）和页面主色。新的委托方由外包方的平台运营人员添加。",
    ),
    (
        "admin.password_made",
        "Password made for",
        "已生成初始密码：",
    ),
    ("admin.username", "Username", "用户名"),
    ("admin.display_name", "Name", "姓名"),
    ("admin.role", "Role", "角色"),
    ("admin.inactive", "deactivated", "已停用"),
    ("admin.new_user", "New user", "新建用户"),
    ("admin.password", "Password", "密码"),
    (
        "admin.password_help",
        "Leave empty to have one made and shown once.",
        "留空则自动生成并仅显示一次。",
    ),
    ("admin.create", "Create", "创建"),
    ("admin.active", "Active", "启用"),
    ("admin.new_password", "New password", "新密码"),
    ("admin.teams", "Teams", "班组"),
    ("admin.leader", "Leader", "班长"),
    ("admin.add", "Add", "添加"),
    ("admin.departments", "Departments", "部门"),
    (
        "admin.deadline_hours",
        "Handling time (hours)",
        "处理时限（小时）",
    ),
    ("admin.interface", "Contact person", "接口人"),
    ("admin.categories", "Categories", "分类"),
    ("admin.parent", "Under", "上级分类"),
    ("admin.fields", "Custom fields", "自定义字段"),
    ("admin.required", "required", "必填"),
    ("admin.field_key", "Key", "字段标识"),
    ("admin.field_label", "Label", "显示名"),
    ("admin.field_kind", "Kind", "类型"),
    ("admin.options", "Options", "选项"),
    ("admin.when", "When", "时间"),
    ("admin.who", "Who", "操作人"),
    ("admin.action", "Action", "操作"),
    ("admin.target", "Object", "对象"),
    ("admin.details", "Details", "详情"),
    ("admin.older", "Older", "更早"),
    ("admin.edit", "Edit", "编辑"),
    ("admin.save", "Save", "保存"),
    ("admin.in_use", "In use", "启用中"),
    ("admin.retired", "retired", "已停用"),
    (
        "admin.retire_help",
        "Nothing here is deleted: an entry taken out of use stays on the cases, tasks and users that have it, and is no longer offered.",
        "这里的条目不会被删除：停用后，已使用它的工单、任务和用户仍保留，只是不再供选择。",
    ),
    (
        "admin.tenants",
        "Client companies (tenants)",
        "委托方（租户）",
    ),
    (
        "admin.tenants_help",
        "Each client company of the center is a tenant with its own cases, users and settings. Created here with its first administrator.",
        "中心的每个委托方是一个租户，拥有独立的工单、用户和设置。在此创建并指定其首位管理员。",
    ),
    ("admin.slug", "Short name", "简称"),
    ("admin.active_users", "Active users", "在用用户"),
    ("admin.brand_color", "Colour", "主色"),
    ("admin.new_tenant", "New client company", "新建委托方"),
    ("admin.first_admin", "Its first administrator", "首位管理员"),
    (
        "admin.first_admin_help",
        "A password is made and shown once, to hand over.",
        "系统生成密码，只显示一次，请转交。",
    ),
    ("fieldkind.text", "Text", "文本"),
    ("fieldkind.number", "Number", "数字"),
    ("fieldkind.date", "Date", "日期"),
    ("fieldkind.select", "Choice", "下拉选择"),
    ("nav.kb", "Knowledge", "知识库"),
    ("kb.add_files", "Add files", "添加附件"),
    ("kb.answer_case", "Answer a case from it", "用于回复工单"),
    ("kb.body", "Text", "正文"),
    ("kb.category", "Category", "分类"),
    ("kb.change_note", "What changed and why", "修改说明"),
    ("kb.changed", "changed", "修改了"),
    ("kb.current", "current version", "当前版本"),
    ("kb.files", "Files", "附件"),
    (
        "kb.for_case",
        "Looking for an answer to case",
        "正在为工单查找答案",
    ),
    ("kb.history", "Versions", "版本历史"),
    ("kb.kind", "Kind", "类型"),
    ("kb.language", "Language", "语言"),
    ("kb.new", "New article", "新建文章"),
    ("kb.new_category", "New category", "新建分类"),
    ("kb.not_valid", "not valid today", "今日不适用"),
    (
        "kb.old_version",
        "You are reading an old version:",
        "您正在查看旧版本：",
    ),
    ("kb.products", "Products and models", "相关产品/车型"),
    ("kb.restore", "Bring back", "恢复使用"),
    ("kb.retire", "Retire", "停用"),
    (
        "kb.retired",
        "Retired: kept with its versions, no longer listed.",
        "已停用：版本仍保留，但不再列出。",
    ),
    ("kb.source", "Source", "信息来源"),
    (
        "kb.source_help",
        "Who supplied it, when, e.g. the client's marketing department, e-mail of 2026-03-02",
        "谁在何时提供，如：委托方市场部 2026-03-02 邮件",
    ),
    ("kb.tags", "Tags", "标签"),
    ("kb.title", "Title", "标题"),
    (
        "kb.use_version",
        "Answered from version",
        "已据此回复，版本",
    ),
    ("kb.valid", "Valid", "有效期"),
    ("kb.valid_from", "Valid from", "生效日期"),
    ("kb.valid_to", "Valid until", "截止日期"),
    ("kb.version", "version", "版本"),
    ("kb.visibility", "Who may read it", "可见范围"),
    ("kb.words", "Words", "关键词"),
    ("articlekind.article", "Article", "文章"),
    ("articlekind.faq", "FAQ", "常见问题"),
    ("articlekind.glossary", "Glossary term", "术语"),
    ("articlekind.download", "Download", "下载"),
    ("articlekind.announcement", "Announcement", "公告"),
    ("scripts.title", "Call scripts", "话术"),
    (
        "scripts.help",
        "What agents say, step by step, for a case type, queue or campaign; soothing words for angry callers; the complaint FAQ. Every version is kept, and a contact records the version used.",
        "按工单类型、队列或活动编写的分步话术；安抚话术；投诉问答。每个版本都会保留，联络记录会记下所用的话术版本。",
    ),
    ("scripts.new", "New script", "新建话术"),
    ("scripts.edit", "Edit script", "编辑话术"),
    ("scripts.name", "Name", "名称"),
    (
        "scripts.with_retired",
        "Show retired scripts too",
        "同时显示已停用的话术",
    ),
    ("scripts.case_types", "For case types", "适用工单类型"),
    ("scripts.queues", "For queues", "适用队列"),
    ("scripts.campaign", "Campaign", "活动"),
    ("scripts.steps", "Steps", "步骤"),
    (
        "scripts.steps_help",
        "[id] Step title — opens a step\nthe lines below are what to say\n> what the customer says -> id of the next step",
        "[编号] 步骤标题 —— 开始一个步骤\n下面各行为建议话术\n> 客户的回答 -> 下一步的编号",
    ),
    ("scripts.panel", "Script", "话术"),
    ("scripts.close", "Close", "关闭"),
    ("scripts.next", "Next", "下一步"),
    (
        "scripts.recorded",
        "A contact you record now keeps this script version.",
        "现在记录的联络会记下此话术版本。",
    ),
    (
        "scripts.none",
        "No script for this case.",
        "此工单暂无适用话术。",
    ),
    ("scripts.used", "script", "话术"),
    ("scriptkind.call", "Call scripts", "通话话术"),
    (
        "scriptkind.soothing",
        "Soothing an angry caller",
        "安抚话术",
    ),
    ("scriptkind.complaint_faq", "Complaint FAQ", "投诉问答"),
    ("scriptfield.kind", "kind", "类型"),
    ("scriptfield.name", "name", "名称"),
    ("scriptfield.language", "language", "语言"),
    ("scriptfield.case_types", "case types", "工单类型"),
    ("scriptfield.queue_ids", "queues", "队列"),
    ("scriptfield.campaign", "campaign", "活动"),
    ("scriptfield.steps", "steps", "步骤"),
    ("kb.receipt", "Read receipt", "阅读确认"),
    (
        "kb.you_read",
        "You confirmed reading version",
        "您已确认阅读版本",
    ),
    (
        "kb.read_older",
        "You read an earlier version:",
        "您读过的是旧版本：",
    ),
    ("kb.mark_read", "I have read it", "我已阅读"),
    ("kb.readers", "Who has read it", "阅读情况"),
    ("kb.not_read", "Not read", "未读"),
    (
        "kb.read_older_list",
        "Read an earlier version",
        "读过旧版本",
    ),
    ("kb.read_current", "Read this version", "已读当前版本"),
    ("kb.open_announcement", "Read the announcement", "查看公告"),
    ("notice.announcement", "Announcement", "公告"),
    ("admin.portal", "Customer portal", "客户服务中心（门户）"),
    ("admin.logo", "Logo", "标志"),
    ("admin.logo_remove", "Remove the logo", "删除标志"),
    (
        "admin.logo_help",
        "PNG, JPEG, GIF or WebP, at most 512 KB; shown on the portal with the colour above.",
        "PNG、JPEG、GIF 或 WebP，不超过 512 KB；与上方颜色一起显示在门户上。",
    ),
    ("portal.nav", "Help centre", "服务中心"),
    ("portal.home", "Help centre", "服务中心首页"),
    ("portal.glossary", "Glossary", "术语表"),
    ("portal.downloads", "Downloads", "资料下载"),
    ("portal.contact", "Contact us", "联系我们"),
    ("portal.search", "Search", "搜索"),
    (
        "portal.search_hint",
        "Search answers, e.g. maintenance interval",
        "搜索答案，例如：保养周期",
    ),
    ("portal.welcome", "How can we help?", "有什么可以帮您？"),
    ("portal.news", "Service announcements", "服务公告"),
    ("portal.faq", "Frequently asked questions", "常见问题"),
    ("portal.open", "Open this answer", "查看全文"),
    ("portal.still", "Didn't find your answer?", "没有找到答案？"),
    ("portal.other", "More answers", "其他问题"),
    ("portal.updated", "Updated", "更新于"),
    (
        "portal.no_hits",
        "No answer matches these words.",
        "没有找到相关答案。",
    ),
    (
        "portal.contact_intro",
        "Tell us what happened: we open a case, give you its number and answer you.",
        "请描述您遇到的问题：我们会创建工单，告诉您工单号，并尽快答复。",
    ),
    ("portal.category", "Subject area", "问题类别"),
    ("portal.province", "Province / region", "省份/地区"),
    ("portal.name", "Your name", "您的姓名"),
    ("portal.phone", "Phone", "电话"),
    ("portal.email", "E-mail", "电子邮箱"),
    (
        "portal.reach_you",
        "Give an e-mail or a phone number, so that we can answer you.",
        "请至少填写电子邮箱或电话之一，以便我们答复您。",
    ),
    ("portal.account_no", "Account number", "账号"),
    ("portal.order_no", "Order number", "订单号"),
    ("portal.message", "Your message", "留言内容"),
    ("portal.files", "Photos or documents", "图片或文件"),
    (
        "portal.files_limit",
        "Up to 3 files of 5 MB each.",
        "最多 3 个文件，每个不超过 5 MB。",
    ),
    ("portal.send", "Send", "提交"),
    (
        "portal.thanks",
        "Thank you, we have your message",
        "感谢您的留言，我们已收到",
    ),
    ("portal.your_number", "Your case number:", "您的工单号："),
    (
        "portal.mailed",
        "We have sent it to your e-mail too.",
        "我们也已将工单号发送到您的邮箱。",
    ),
    (
        "portal.keep_link",
        "Keep this page's address: it shows our answers, and you can write to us here.",
        "请保存本页地址：您可以在此查看我们的答复，并继续留言。",
    ),
    (
        "portal.sent",
        "Your message was added to the case.",
        "您的留言已添加到工单。",
    ),
    ("portal.case", "Case", "工单"),
    ("portal.you", "You", "您"),
    (
        "portal.closed",
        "This case is closed. For anything new, please write to us again:",
        "该工单已关闭。如有新问题，请重新联系我们：",
    ),
    ("portal.answer", "Write to us", "继续留言"),
    ("portal.not_found", "Not found", "页面不存在"),
    (
        "portal.not_found_text",
        "There is nothing at this address. Check the link, or start from the help centre.",
        "此地址没有内容。请检查链接，或从服务中心首页开始。",
    ),
    ("portal.failed", "Something went wrong", "出错了"),
    (
        "portal.failed_text",
        "We could not do this just now. Please try again in a moment.",
        "暂时无法完成操作，请稍后再试。",
    ),
    ("portal.refused", "Not accepted", "未能受理"),
    ("portal.too_many", "Too many requests", "请求过于频繁"),
    (
        "portal.too_many_text",
        "Too many requests came from your network. Please try again in {n} minute(s).",
        "来自您网络的请求过多，请 {n} 分钟后再试。",
    ),
    ("portal.expired", "The form has expired", "表单已过期"),
    (
        "portal.expired_text",
        "This form has expired. Please go back, reload the page and send it again.",
        "表单已过期，请返回并刷新页面后重新提交。",
    ),
    (
        "portal.robot_text",
        "This form could not be accepted. If you are a person, please reload the page and send it again.",
        "表单未能受理。如您不是机器人，请刷新页面后重新提交。",
    ),
    ("visibility.internal", "Agents only", "仅内部"),
    ("visibility.public", "Public", "公开"),
    ("kbfield.kind", "kind", "类型"),
    ("kbfield.visibility", "who may read it", "可见范围"),
    ("kbfield.language", "language", "语言"),
    ("kbfield.category_id", "category", "分类"),
    ("kbfield.title", "title", "标题"),
    ("kbfield.body", "text", "正文"),
    ("kbfield.tags", "tags", "标签"),
    ("kbfield.products", "products", "相关产品"),
    ("kbfield.valid_from", "valid from", "生效日期"),
    ("kbfield.valid_to", "valid until", "截止日期"),
    ("kbfield.files", "files", "附件"),
    (
        "event.article_used",
        "Answered from the knowledge base",
        "引用知识库",
    ),
    ("search.title", "Search", "搜索"),
    ("search.in", "In", "范围"),
    ("search.go", "Search", "搜索"),
    (
        "search.slow",
        "The search index is being rebuilt: results come straight from the database for now, slower and unranked.",
        "搜索索引正在重建：暂时直接从数据库查找，速度较慢且不排序。",
    ),
    ("searchkind.article", "Knowledge", "知识"),
    ("searchkind.case", "Case", "工单"),
    ("searchkind.interaction", "Contact", "联系记录"),
    ("searchkind.customer", "Customer", "客户"),
    ("suggest.title", "Suggestions", "推荐"),
    ("suggest.none", "Nothing like it yet.", "暂无相关内容。"),
    ("suggest.cases", "Earlier similar cases", "以往类似工单"),
    ("kb.find", "Find an answer", "查找答案"),
    ("nav.wallboard", "Wallboard", "监控大屏"),
    ("nav.team", "Team", "班组视图"),
    ("board.title", "Wallboard", "实时监控大屏"),
    ("board.all_teams", "All teams", "全部班组"),
    ("board.show", "Show", "查看"),
    ("board.tv", "Full screen for a wall TV", "大屏模式"),
    ("board.fullscreen", "Full screen", "全屏"),
    ("board.leave_tv", "Leave full screen", "退出大屏模式"),
    ("board.today", "Today", "今日"),
    ("board.updated", "updated", "更新于"),
    ("board.service_level", "Service level", "服务水平"),
    ("board.offered", "Offered", "进线量"),
    ("board.answered", "Answered", "接通量"),
    ("board.abandoned", "Abandoned", "放弃量"),
    ("board.asa", "ASA", "平均应答速度"),
    ("board.sla_breached", "SLA breached", "已超时"),
    ("board.sla_warning", "SLA warning", "即将超时"),
    (
        "board.tasks_overdue",
        "Department tasks overdue",
        "部门工单逾期",
    ),
    ("board.phone", "phone", "电话"),
    ("board.late_cases", "Cases running late", "超时预警工单"),
    ("team.title", "Team view", "班组视图"),
    ("team.current", "Current work", "当前工作"),
    ("team.handled", "Handled today", "今日处理量"),
    ("team.aht", "AHT", "平均处理时长"),
    ("team.set_state", "Set state", "设置状态"),
    ("team.apply", "Apply", "应用"),
    ("team.offered", "ringing", "振铃中"),
    ("team.reassign_to", "Give to", "转给"),
    ("team.reassign", "Reassign", "改派"),
    ("nav.routing", "Queues & routing", "队列与路由"),
    ("desk.title", "My desk", "我的工作台"),
    ("desk.offers", "Offers", "待接工作"),
    (
        "desk.no_offers",
        "Nothing offered to you right now.",
        "当前没有分配给您的工作。",
    ),
    ("desk.rings", "answer within", "剩余"),
    ("desk.accept", "Accept", "接受"),
    ("desk.reason", "Reason", "原因"),
    ("desk.reject", "Reject", "拒绝"),
    ("desk.active", "My routed work", "我手上的工作"),
    (
        "desk.no_work",
        "No routed work in hand.",
        "手上没有分配的工作。",
    ),
    ("desk.finish", "Done", "完成"),
    (
        "case.link_number",
        "Related case (number)",
        "相关工单（工单号）",
    ),
    ("case.link", "Relate", "关联"),
    ("case.merge_here", "merge into this case", "合并到本工单"),
    (
        "case.merge_number",
        "Duplicate of this case (number)",
        "重复工单（工单号）",
    ),
    ("case.merge", "Merge into this case", "合并到本工单"),
    ("event.merged", "Duplicate merged in", "已合并重复工单"),
    ("event.merged_into", "Merged into", "已合并到"),
    ("keys.title", "Keyboard shortcuts", "键盘快捷键"),
    ("keys.search", "Search or filter the list", "搜索或筛选列表"),
    ("keys.note", "Write a note on the case", "在工单上写备注"),
    ("keys.reply", "Write the e-mail reply", "撰写邮件回复"),
    ("keys.take", "Take the case", "接手工单"),
    ("keys.accept", "Accept the offer", "接受待接工作"),
    (
        "keys.go",
        "Go to the desk, cases, customers, wallboard, notifications",
        "转到工作台、工单、客户、监控大屏、通知",
    ),
    ("keys.help", "This list", "显示本列表"),
    ("keys.close", "Close", "关闭"),
    ("filter.save_as", "Save this filter as", "将当前筛选保存为"),
    ("filter.save", "Save", "保存"),
    ("filter.delete", "Delete saved filter", "删除已存筛选"),
    (
        "case.new_activity",
        "New since you last opened it",
        "自上次查看后有新动态",
    ),
    ("c360.cases", "Earlier cases", "历史工单"),
    ("c360.contacts", "Earlier contacts", "历史接触记录"),
    ("c360.tasks", "Open department tasks", "未结部门工单"),
    ("case.save_changes", "Save changes", "保存修改"),
    (
        "desk.due_soon",
        "My cases due soonest",
        "我的工单（按时限）",
    ),
    ("desk.my_queues", "My team's queues", "本组队列"),
    ("desk.state", "State", "状态"),
    ("desk.since", "since", "自"),
    ("desk.missed", "Missed offers in a row", "连续未接"),
    ("desk.go_available", "Go available", "示闲（就绪）"),
    ("desk.break_reason", "Break reason", "小休原因"),
    ("desk.go_break", "Take a break", "示忙（小休）"),
    ("desk.go_offline", "Log out of routing", "签出"),
    ("routing.title", "Queues and routing", "队列与路由"),
    ("routing.status", "Queues now", "队列实时状态"),
    ("routing.queue", "Queue", "队列"),
    ("routing.open", "Open", "开放"),
    ("routing.closed", "closed", "已关闭"),
    ("routing.waiting", "Waiting", "排队"),
    ("routing.ringing", "Offered", "振铃中"),
    ("routing.longest", "Longest wait", "最长等待"),
    ("routing.agents", "Agents", "坐席"),
    ("routing.agent", "Agent", "坐席"),
    ("routing.team", "Team", "班组"),
    ("routing.skills", "Skills", "技能"),
    ("routing.languages", "Languages", "语言"),
    ("routing.capacity", "Capacity", "并发上限"),
    (
        "routing.capacity_help",
        "How many of each kind an agent works at once. A call or call-back holds the agent's whole attention: nothing else is offered meanwhile.",
        "每类工作可同时处理的数量。通话或回拨期间不再分配其他工作。",
    ),
    ("routing.edit", "Edit", "编辑"),
    ("routing.queues", "Queues", "队列"),
    ("routing.kinds", "Kinds of work", "工作类型"),
    ("routing.priority", "Priority", "优先级"),
    ("routing.strategy", "Strategy", "分配策略"),
    ("routing.calendar", "Opening hours", "开放时间"),
    ("routing.always_open", "Always open", "全天开放"),
    ("routing.new_queue", "New queue", "新建队列"),
    ("routing.rules", "Entry rules", "入队规则"),
    (
        "routing.rules_help",
        "New work goes to the queue of the first rule that matches; an empty condition matches everything. Work no rule matches is not routed: it waits in the case list.",
        "新工作进入第一条匹配规则的队列；条件为空即匹配全部。没有规则匹配的工作不自动分配，留在工单列表中。",
    ),
    ("routing.everything", "Everything", "全部"),
    (
        "routing.more_conditions",
        "more conditions (API)",
        "更多条件（API）",
    ),
    ("routing.delete", "Delete", "删除"),
    ("routing.regions", "Regions", "区域"),
    ("routing.tiers", "Customer tiers", "客户等级"),
    ("routing.add_rule", "Add rule", "添加规则"),
    ("routing.skill_name", "New skill", "新技能"),
    ("routing.add_skill", "Add skill", "添加技能"),
    ("routing.name", "Name", "名称"),
    (
        "routing.required_skills",
        "Required skills (minimum level)",
        "所需技能（最低等级）",
    ),
    ("routing.teams", "Only these teams", "仅限班组"),
    (
        "routing.offer_timeout",
        "Offer rings for (seconds; empty waits for the agent)",
        "振铃时长（秒，留空则一直等待）",
    ),
    ("routing.wrap_up", "Wrap-up (seconds)", "话后处理（秒）"),
    (
        "routing.prefer",
        "Hold for the customer's own agent (seconds)",
        "专属坐席优先（秒）",
    ),
    (
        "routing.max_wait",
        "Maximum wait (seconds)",
        "最长等待（秒）",
    ),
    (
        "routing.on_max_wait",
        "After the maximum wait",
        "超过最长等待后",
    ),
    (
        "routing.when_closed",
        "Arriving while closed",
        "非开放时间到达",
    ),
    ("routing.overflow", "Overflow", "溢出"),
    (
        "routing.move_after",
        "Move after (seconds)",
        "等待超过（秒）后转移",
    ),
    ("routing.move_to", "to queue", "转至队列"),
    ("agent.offline", "Offline", "签出"),
    ("agent.available", "Available", "空闲"),
    ("agent.busy", "Busy", "忙碌"),
    ("agent.wrap_up", "Wrap-up", "话后处理"),
    ("agent.break", "Break", "小休"),
    ("reason.lunch", "Lunch", "用餐"),
    ("reason.training", "Training", "培训"),
    ("reason.meeting", "Meeting", "会议"),
    ("reason.coaching", "Coaching", "辅导"),
    ("reason.missed_offers", "Missed offers", "未接超限"),
    ("reason.other", "Other", "其他"),
    ("work.call", "Call", "来电"),
    ("work.callback", "Call-back", "回拨"),
    ("work.chat", "Chat", "在线聊天"),
    ("work.email", "E-mail", "邮件"),
    ("work.web", "Web form", "网页表单"),
    ("work.follow_up", "Follow-up", "回访"),
    ("work.department_return", "Department return", "部门回复"),
    (
        "strategy.longest_idle",
        "Longest idle agent",
        "最长空闲优先",
    ),
    ("strategy.least_occupied", "Least occupied", "负载最低优先"),
    ("strategy.round_robin", "Round robin", "轮流分配"),
    ("strategy.best_skill", "Best skill first", "技能最高优先"),
    ("wait.stay", "Keep waiting", "继续等待"),
    ("wait.callback", "Call-back request", "转回拨请求"),
    ("wait.voicemail", "Voicemail case", "转留言工单"),
    ("staffing.title", "Staffing calculator", "排班人力测算"),
    (
        "staffing.aht",
        "Average handle time (seconds)",
        "平均处理时长（秒）",
    ),
    (
        "staffing.target",
        "Service level goal (%)",
        "服务水平目标（%）",
    ),
    (
        "staffing.threshold",
        "Answered within (seconds)",
        "应答时限（秒）",
    ),
    (
        "staffing.patience",
        "Mean patience (seconds)",
        "平均耐心时长（秒）",
    ),
    (
        "staffing.patience_help",
        "Leave empty if callers wait as long as it takes (Erlang C); give it and callers hang up (Erlang A).",
        "留空表示来电者一直等待（Erlang C）；填写则按来电者会挂断计算（Erlang A）。",
    ),
    ("staffing.calls_per_hour", "Calls per hour", "每小时来电量"),
    ("staffing.or", "or a day's forecast:", "或填写全天预测："),
    (
        "staffing.forecast",
        "Forecast (time,calls per line)",
        "来电预测（每行：时间,来电量）",
    ),
    (
        "staffing.forecast_help",
        "One line per interval, e.g. 08:30,85. Intervals not listed have no calls.",
        "每个时段一行，例如 08:30,85。未列出的时段视为无来电。",
    ),
    (
        "staffing.interval",
        "Interval (minutes)",
        "时段长度（分钟）",
    ),
    (
        "staffing.start",
        "First interval starts",
        "首个时段开始时间",
    ),
    ("staffing.compute", "Calculate", "计算"),
    ("staffing.result", "Agents needed", "所需坐席"),
    ("staffing.erlang_c", "Erlang C", "Erlang C 模型"),
    (
        "staffing.erlang_a",
        "Erlang A (with abandonment)",
        "Erlang A 模型（含放弃）",
    ),
    (
        "staffing.chart",
        "Agents needed per interval",
        "各时段所需坐席数",
    ),
    ("staffing.time", "Time", "时段"),
    ("staffing.calls", "Calls", "来电量"),
    ("staffing.agents", "Agents", "坐席数"),
    ("staffing.sl", "Service level", "服务水平"),
    ("staffing.sim_sl", "Simulated", "仿真服务水平"),
    ("staffing.asa", "ASA", "平均应答速度"),
    ("staffing.abandon", "Abandonment", "放弃率"),
    ("staffing.occupancy", "Occupancy", "占用率"),
    ("staffing.agent_hours", "Agent hours", "坐席工时"),
    (
        "staffing.note",
        "Service level counts calls answered within the time against all calls offered. The simulated figure runs the routing engine on 10,000 random calls of the same load.",
        "服务水平 = 在时限内应答的来电 ÷ 全部来电。仿真值由路由引擎对同样负载的 10,000 通随机来电运行得出。",
    ),
    (
        "staffing.intro",
        "Give the average handle time and a load (calls per hour, or a forecast per interval) to see how many agents meet the service level goal.",
        "填写平均处理时长和来电负载（每小时来电量或分时段预测），即可算出达到服务水平目标所需的坐席数。",
    ),
    ("day.mon", "Monday", "星期一"),
    ("day.tue", "Tuesday", "星期二"),
    ("day.wed", "Wednesday", "星期三"),
    ("day.thu", "Thursday", "星期四"),
    ("day.fri", "Friday", "星期五"),
    ("day.sat", "Saturday", "星期六"),
    ("day.sun", "Sunday", "星期日"),
    ("sla.state", "SLA", "时限状态"),
    ("sla.due", "Due", "到期时间"),
    ("sla.ok", "On time", "正常"),
    ("sla.warning", "Warning", "预警"),
    ("sla.breached", "Breached", "超时"),
    ("sla.paused", "Paused", "暂停"),
    ("sla.met", "Met", "已达成"),
    ("sort", "Sort", "排序"),
    ("sort.newest", "Newest first", "最新优先"),
    ("sort.sla_due", "SLA due soonest", "最先到期"),
    ("sort.deadline", "Deadline soonest", "最先到期"),
    ("clock.first_response", "First response", "首次响应"),
    ("clock.next_response", "Next response", "后续响应"),
    ("clock.resolution", "Resolution", "解决时限"),
    ("clock.task", "Department deadline", "部门处理时限"),
    ("sla.clocks", "SLA clocks", "服务时限"),
    ("sla.clock", "Promise", "承诺"),
    ("sla.started", "Started", "开始"),
    ("sla.stopped", "Kept at", "完成于"),
    ("sla.target", "Target", "目标"),
    ("sla.minutes", "min", "分钟"),
    (
        "sla.title",
        "SLA: calendars and policies",
        "服务时限：工作日历与时限策略",
    ),
    ("sla.calendars", "Business calendars", "工作日历"),
    ("sla.calendar", "Calendar", "工作日历"),
    ("sla.new_calendar", "New calendar", "新建日历"),
    ("sla.timezone", "Time zone", "时区"),
    ("sla.hours", "Opening hours", "营业时间"),
    (
        "sla.hours_hint",
        "e.g. 09:00-12:00, 13:00-18:00; empty: closed; 22:00-06:00 runs past midnight",
        "例如 09:00-12:00, 13:00-18:00；留空为休息；22:00-06:00 表示跨夜",
    ),
    ("sla.holidays", "Public holidays", "法定节假日"),
    ("sla.workdays", "Make-up working days", "调休上班日"),
    ("sla.special", "Dates with their own hours", "特殊营业时间"),
    (
        "sla.special_hint",
        "one per line: 2026-12-31 09:00-12:00",
        "每行一个：2026-12-31 09:00-12:00",
    ),
    (
        "sla.dates_hint",
        "dates, one per line or separated by commas",
        "日期，每行一个或用逗号分隔",
    ),
    (
        "sla.import_ics",
        "Import holidays (.ics)",
        "导入节假日 (.ics)",
    ),
    ("sla.imported", "Imported", "已导入"),
    ("sla.delete", "Delete", "删除"),
    (
        "sla.policies",
        "SLA policies (the first that matches applies)",
        "时限策略（按顺序匹配第一条）",
    ),
    ("sla.new_policy", "New policy", "新建策略"),
    ("sla.policy", "Policy", "策略"),
    ("sla.name", "Name", "名称"),
    ("sla.active", "Active", "启用"),
    ("sla.conditions", "Applies to", "适用条件"),
    ("sla.any", "any", "不限"),
    ("sla.tiers", "Customer tiers", "客户等级"),
    ("sla.tags", "Customer tags (any)", "客户标签（任一）"),
    ("sla.addresses", "Receiving addresses", "接收邮箱"),
    ("sla.teams", "Queues (teams)", "队列（班组）"),
    ("sla.targets", "Targets", "时限目标"),
    ("sla.business", "business minutes", "工作时间分钟"),
    ("sla.wall_clock", "wall clock (24×7)", "自然时间（24×7）"),
    (
        "sla.pause_in",
        "Clocks stand still while",
        "以下状态暂停计时",
    ),
    (
        "sla.warn_percent",
        "Warn at % of the target",
        "达到目标的百分比时预警",
    ),
    ("sla.warn_notify", "Warning goes to", "预警通知"),
    ("sla.breach", "On breach", "超时处理"),
    ("sla.breach_notify", "Notify", "通知"),
    (
        "sla.raise_priority",
        "Raise priority one step",
        "优先级提升一级",
    ),
    ("sla.move_to_team", "Move to queue", "转到队列"),
    (
        "sla.notify_any_time",
        "Notify at any hour (not only in business hours)",
        "任何时间都通知（不限营业时间）",
    ),
    ("sla.move_up", "Up", "上移"),
    ("sla.departments", "Department calendars", "部门工作日历"),
    ("sla.preview", "Deadline preview", "到期时间试算"),
    ("sla.start", "Start", "开始时间"),
    ("sla.minutes_n", "Business minutes", "工作分钟数"),
    ("sla.compute", "Compute", "计算"),
    ("sla.due_result", "Due", "到期"),
    ("recipient.assignee", "Assignee", "处理人"),
    ("recipient.team_leader", "Team leader", "班长"),
    ("recipient.supervisor", "Supervisors", "主管"),
    (
        "recipient.interface_person",
        "Department interface person",
        "部门接口人",
    ),
    ("notice.sla_warning", "SLA warning", "时限预警"),
    ("notice.mention", "Mentioned you", "有人@了你"),
    ("notice.task_answered", "Department answered", "部门已答复"),
    (
        "notice.task_returned",
        "Department returned a task",
        "部门退回工单",
    ),
    ("nav.unread", "unread", "未读"),
    ("notice.sla_breached", "SLA breached", "时限超时"),
    ("event.sla_policy", "SLA policy applied", "适用时限策略"),
    ("event.sla_warning", "SLA warning", "时限预警"),
    ("event.sla_breached", "SLA breached", "时限超时"),
    ("event.escalated", "Escalated", "升级处理"),
    (
        "mail.title",
        "E-mail: addresses, templates, settings",
        "邮件：收件地址、模板与设置",
    ),
    ("mail.addresses", "Receiving addresses", "收件地址"),
    ("mail.address", "Address", "邮箱地址"),
    ("mail.display_name", "Name shown", "显示名称"),
    (
        "mail.reply_hours",
        "Promised reply (hours)",
        "承诺答复时限（小时）",
    ),
    (
        "mail.vip_reply_hours",
        "VIP promise (hours)",
        "VIP 承诺时限（小时）",
    ),
    ("mail.language", "Language", "语言"),
    ("mail.region", "Region", "地区"),
    ("mail.add_address", "Add address", "添加地址"),
    ("mail.templates", "Templates", "模板"),
    ("mail.kind", "Kind", "类型"),
    ("mail.name", "Name", "名称"),
    ("mail.subject", "Subject", "主题"),
    ("mail.for_address", "For address", "适用地址"),
    ("mail.all_addresses", "All addresses", "全部地址"),
    ("mail.save_template", "Save template", "保存模板"),
    ("mail.variables", "Variables", "变量"),
    (
        "mail.default_ack",
        "No templates yet: the built-in acknowledgement is sent.",
        "尚无模板：发送系统默认的受理回执。",
    ),
    ("mail.settings", "Settings", "设置"),
    (
        "mailbox.title",
        "Mailboxes fetched (IMAP)",
        "收取的邮箱（IMAP）",
    ),
    (
        "mailbox.explain",
        "Mail in these mailboxes becomes cases as if sent to the address chosen. Each message is stored once, then moved to the folder given, or left and flagged.",
        "这些邮箱中的邮件按所选收件地址生成工单。每封邮件只保存一次，保存后移到指定文件夹，或留在原处并加标记。",
    ),
    ("mailbox.account", "Account", "账户"),
    ("mailbox.address", "Counts as sent to", "视为发往"),
    ("mailbox.host", "IMAP server", "IMAP 服务器"),
    ("mailbox.port", "Port", "端口"),
    ("mailbox.security", "Connection", "连接方式"),
    ("mailbox.username", "User name", "用户名"),
    ("mailbox.password", "Password", "密码"),
    (
        "mailbox.password_keep",
        "unchanged when left empty",
        "留空则不修改",
    ),
    ("mailbox.folder", "Folder", "文件夹"),
    ("mailbox.move_to", "Then move to folder", "保存后移到文件夹"),
    (
        "mailbox.flag_instead",
        "empty: leave and flag",
        "留空：留在原处并加标记",
    ),
    ("mailbox.flagged", "left, flagged", "留在原处并标记"),
    (
        "mailbox.poll_seconds",
        "Fetch every (seconds)",
        "收取间隔（秒）",
    ),
    (
        "mailbox.max_mb",
        "Largest message (MB)",
        "邮件大小上限（MB）",
    ),
    ("mailbox.enabled", "Fetch from this mailbox", "启用收取"),
    ("mailbox.disabled", "off", "已停用"),
    ("mailbox.last_poll", "Last fetched", "上次收取"),
    ("mailbox.never", "not yet", "尚未收取"),
    ("mailbox.fetched", "Messages", "邮件数"),
    ("mailbox.edit", "Edit", "编辑"),
    ("mailbox.add", "Add mailbox", "添加邮箱"),
    ("security.tls", "TLS", "TLS 加密"),
    ("security.starttls", "STARTTLS", "STARTTLS 加密"),
    (
        "security.none",
        "unencrypted (local server only)",
        "不加密（仅限本机服务器）",
    ),
    (
        "mail.closed_reply",
        "A reply to a closed case",
        "已关闭工单收到回复时",
    ),
    (
        "mail.faq_url",
        "FAQ link in acknowledgements",
        "回执中的常见问题链接",
    ),
    ("closed_reply.reopen", "Reopens it", "重新打开工单"),
    (
        "closed_reply.follow_up",
        "Opens a follow-up case",
        "新建回访工单",
    ),
    ("template.ack", "Acknowledgement", "受理回执"),
    ("template.reply", "Reply", "回复模板"),
    ("mail.inbound", "Received", "收到的邮件"),
    ("mail.outbound", "Sent and queued", "发出与待发的邮件"),
    ("mail.received", "Received", "收到时间"),
    ("mail.from", "From", "发件人"),
    ("mail.size", "Bytes", "字节"),
    ("mail.outcome", "Outcome", "处理结果"),
    ("mail.sent", "Time", "时间"),
    ("mail.to", "To", "收件人"),
    ("mail.cc", "Cc", "抄送"),
    ("mail.bcc", "Bcc", "密送"),
    ("mail.state", "State", "状态"),
    ("mail.reply", "Reply by e-mail", "邮件回复"),
    ("mail.template", "Template", "模板"),
    ("mail.to_default", "the customer (default)", "默认为客户"),
    (
        "mail.subject_default",
        "Re: the customer's subject (default)",
        "默认回复客户的主题",
    ),
    ("mail.files", "Attachments", "附件"),
    (
        "mail.then_wait",
        "Then wait for the customer",
        "发送后等待客户回复",
    ),
    ("mail.send", "Send", "发送"),
    (
        "mail.no_address",
        "This tenant has no e-mail address to send from; an administrator adds one under Mail settings.",
        "尚未配置发件地址，请管理员在“邮件设置”中添加。",
    ),
    ("mail.show_html", "Show as formatted", "查看原邮件格式"),
    ("mailstatus.pending", "Waiting to be filed", "待归档"),
    ("mailstatus.filing", "Being filed", "归档中"),
    ("mailstatus.filed", "Filed", "已归档"),
    ("mailstatus.ignored", "Ignored", "已忽略"),
    ("mailstatus.failed", "Failed", "失败"),
    ("mailstatus.queued", "Queued", "待发送"),
    ("mailstatus.sending", "Sending", "发送中"),
    ("mailstatus.sent", "Sent", "已发送"),
    ("outcome.new_case", "New case", "新建工单"),
    ("outcome.continued", "Added to its case", "追加到工单"),
    ("outcome.reopened", "Reopened its case", "重新打开工单"),
    ("outcome.related", "New related case", "新建关联工单"),
    ("outcome.duplicate", "Duplicate", "重复邮件"),
    ("outcome.bounce", "Bounce", "退信"),
    ("outcome.auto_reply", "Auto-reply", "自动回复"),
    ("outcome.bulk", "Bulk mail", "群发邮件"),
    (
        "outcome.rate_limited",
        "Too many from this sender",
        "发件过于频繁",
    ),
    (
        "notice.email_failed",
        "E-mail not delivered",
        "邮件发送失败",
    ),
    ("role.admin", "Administrator", "管理员"),
    ("role.supervisor", "Supervisor", "主管"),
    ("role.team_leader", "Team leader", "班长"),
    ("role.agent", "Agent", "坐席"),
    ("role.department_staff", "Department staff", "部门人员"),
    ("role.client_viewer", "Client viewer", "委托方查看"),
    (
        "role.operator",
        "Operator (all tenants)",
        "平台运营（全部租户）",
    ),
];

#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text for `key`; the key itself when missing, so a gap shows instead of hiding.
    pub fn get(&self, key: &str) -> Cow<'static, str> {
        match TEXTS.iter().find(|(k, _, _)| *k == key) {
            Some((_, en, zh)) => Cow::Borrowed(match self.0 {
                Lang::En => en,
                Lang::Zh => zh,
            }),
            None => Cow::Owned(key.to_string()),
        }
    }

    /// `prefix.value`, e.g. `("status", "open")`.
    pub fn of(&self, prefix: &str, value: impl std::fmt::Display) -> Cow<'static, str> {
        self.get(&format!("{prefix}.{value}"))
    }

    /// A message from the server ("name: is required; team_id: does not
    /// exist", or a refusal) in the reader's language: fields by their
    /// labels, reasons and refusals from the message table.
    pub fn error_text(&self, msg: &str) -> String {
        if self.0 == Lang::En {
            return msg.to_string();
        }
        // A value outside the vocabulary stays as written.
        let vocab = |prefix: &str, value: &str| {
            let key = format!("{prefix}.{value}");
            match self.get(&key) {
                t if t == key => value.to_string(),
                t => t.into_owned(),
            }
        };
        let label = |field: &str| {
            let base = field.split(['[', '.']).next().unwrap_or(field);
            FIELDS
                .iter()
                .find(|(k, _)| *k == base)
                .map_or(field.to_string(), |(_, zh)| zh.to_string())
        };
        msg.split("; ")
            .map(|part| {
                let field_reason = part.split_once(": ");
                if let Some((field, reason)) = field_reason
                    && let Some(zh) = super::messages::zh(reason, vocab)
                {
                    return format!("{}：{zh}", label(field));
                }
                if let Some(zh) = super::messages::zh(part, vocab) {
                    return zh;
                }
                match field_reason {
                    Some((field, reason)) => format!("{}：{reason}", label(field)),
                    None => part.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("；")
    }
}

/// Field names as the forms label them.
const FIELDS: &[(&str, &str)] = &[
    ("name", "名称"),
    ("display_name", "显示名称"),
    ("username", "用户名"),
    ("password", "密码"),
    ("role", "角色"),
    ("team_id", "班组"),
    ("team", "班组"),
    ("department_id", "部门"),
    ("default_deadline_hours", "默认处理时限"),
    ("key", "字段标识"),
    ("label", "显示名"),
    ("kind", "类型"),
    ("options", "选项"),
    ("extension", "分机号"),
    ("duration", "通话时长"),
    ("content_type", "文件类型"),
    ("filename", "文件名"),
    ("subject", "主题"),
    ("body", "内容"),
    ("to", "收件人"),
    ("cc", "抄送"),
    ("deadline_at", "期限"),
    ("instructions", "说明"),
    ("category_id", "分类"),
    ("parent_id", "上级分类"),
    ("agent_id", "坐席"),
    ("reason", "原因"),
    ("state", "状态"),
    ("timezone", "时区"),
    ("emails", "电子邮箱"),
    ("phones", "电话"),
    ("type", "类型"),
    ("priority", "优先级"),
    ("active", "启用"),
    ("user", "用户"),
    ("slug", "简称"),
    ("region", "地区"),
    ("brand_color", "主色"),
    ("admin_username", "管理员用户名"),
    ("admin_display_name", "管理员姓名"),
    ("admin_password", "管理员密码"),
    ("required", "必填"),
    ("leader_id", "班长"),
    ("interface_user_id", "接口人"),
    ("custom", "自定义字段"),
    ("number", "工单编号"),
    ("duplicate_id", "重复工单"),
    ("related_id", "关联工单"),
    ("template_id", "模板"),
    ("customer_id", "客户"),
    ("assignee_id", "处理人"),
    ("channel", "渠道"),
    ("description", "描述"),
    ("address", "地址"),
    ("host", "主机"),
    ("port", "端口"),
    ("folder", "文件夹"),
    ("language", "语言"),
    ("hours", "工作时间"),
    ("queue_id", "队列"),
    ("skills", "技能"),
    ("kinds", "工作类型"),
    ("result", "结果"),
    ("notes", "备注"),
    ("vin", "车架号"),
    ("email", "电子邮箱"),
    ("phone", "电话"),
    ("source", "信息来源"),
    ("title", "标题"),
    ("tags", "标签"),
    ("products", "相关产品"),
    ("valid_from", "生效日期"),
    ("valid_to", "截止日期"),
    ("change_note", "修改说明"),
    ("base_version", "所依据的版本"),
    ("keep_files", "保留的附件"),
    ("visibility", "可见范围"),
    ("province", "省份/地区"),
    ("account_no", "账号"),
    ("order_no", "订单号"),
    ("message", "留言内容"),
    ("files", "文件"),
    ("logo", "标志"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use domain::case::*;

    #[test]
    fn every_vocabulary_value_is_translated() {
        let keys: Vec<String> = CaseType::ALL
            .iter()
            .map(|v| format!("type.{v}"))
            .chain(Channel::ALL.iter().map(|v| format!("channel.{v}")))
            .chain(Priority::ALL.iter().map(|v| format!("priority.{v}")))
            .chain(CaseStatus::ALL.iter().map(|v| format!("status.{v}")))
            .chain(CaseAction::ALL.iter().map(|v| format!("action.{v}")))
            .chain(InteractionKind::ALL.iter().map(|v| format!("kind.{v}")))
            .chain(domain::role::Role::ALL.iter().map(|v| format!("role.{v}")))
            .chain(
                domain::role::Permission::ALL
                    .iter()
                    .map(|p| format!("perm.{}", p.key())),
            )
            .chain(
                domain::task::TaskStatus::ALL
                    .iter()
                    .map(|v| format!("taskstatus.{v}")),
            )
            .chain(
                domain::mail::Security::ALL
                    .iter()
                    .map(|v| format!("security.{v}")),
            )
            .chain(
                domain::routing::WorkKind::ALL
                    .iter()
                    .map(|v| format!("work.{v}")),
            )
            .chain(
                domain::routing::Strategy::ALL
                    .iter()
                    .map(|v| format!("strategy.{v}")),
            )
            .chain(
                domain::routing::WaitAction::ALL
                    .iter()
                    .map(|v| format!("wait.{v}")),
            )
            .chain(
                domain::routing::AgentStatus::ALL
                    .iter()
                    .map(|v| format!("agent.{v}")),
            )
            .chain(
                domain::knowledge::ArticleKind::ALL
                    .iter()
                    .map(|v| format!("articlekind.{v}")),
            )
            .chain(
                domain::knowledge::Visibility::ALL
                    .iter()
                    .map(|v| format!("visibility.{v}")),
            )
            .chain(
                domain::routing::BreakReason::ALL
                    .iter()
                    .map(|v| format!("reason.{v}")),
            )
            .chain(
                domain::call::CallState::ALL
                    .iter()
                    .map(|v| format!("call.{v}")),
            )
            .chain(
                domain::call::CallDirection::ALL
                    .iter()
                    .map(|v| format!("calldir.{v}")),
            )
            .chain(
                domain::call::CallResult::ALL
                    .iter()
                    .map(|v| format!("result.{v}")),
            )
            .collect();
        for k in keys {
            assert!(
                TEXTS.iter().any(|(key, _, _)| *key == k),
                "missing translation {k}"
            );
        }
    }

    #[test]
    fn every_key_a_template_asks_for_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("c.t.get(\"").skip(1) {
                let key = &part[..part.find('"').unwrap()];
                assert!(
                    TEXTS.iter().any(|(k, _, _)| *k == key),
                    "{} asks for {key}",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn keys_are_unique_and_both_languages_filled() {
        for (i, (k, en, zh)) in TEXTS.iter().enumerate() {
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
            assert!(
                !TEXTS[i + 1..].iter().any(|(k2, _, _)| k2 == k),
                "duplicate key {k}"
            );
        }
    }

    #[test]
    fn validation_messages_read_in_chinese() {
        let zh = Tr(Lang::Zh);
        assert_eq!(
            zh.error_text("name: is required; default_deadline_hours: must be between 1 and 2160"),
            "名称：必填；默认处理时限：须在 1 到 2160 之间"
        );
        assert_eq!(zh.error_text("team_id: does not exist"), "班组：不存在");
        // A field without a label, and a reason without Chinese, stay as written.
        assert_eq!(
            zh.error_text("widgets[0]: went missing"),
            "widgets[0]：went missing"
        );
        assert_eq!(
            zh.error_text("skills[0].level: must be a level from 1 to 5"),
            "技能：须为 1 到 5 的等级"
        );
        // A refusal with no field, with a status in words.
        assert_eq!(
            zh.error_text("2 active users are still in this team: move them first"),
            "班组中仍有 2 名在用用户：请先调出"
        );
        assert_eq!(
            zh.error_text("a case that is closed cannot be passed to a department"),
            "已关闭的工单不能转交部门"
        );
        assert_eq!(
            Tr(Lang::En).error_text("name: is required"),
            "name: is required"
        );
    }

    #[test]
    fn browser_language() {
        assert_eq!(Lang::from_accept("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(Lang::from_accept("en-US,en;q=0.9,zh;q=0.8"), Lang::En);
        assert_eq!(Lang::from_accept("de-DE"), Lang::En);
        assert_eq!(Tr(Lang::Zh).get("type.complaint"), "投诉");
    }
}
