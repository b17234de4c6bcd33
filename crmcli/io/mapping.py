"""Which column of a file holds which field: automatic from common English and Chinese headers, plus --map."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from crmcli.errors import UsageError

IMPORT_KINDS = ["customers", "contacts", "interactions", "opps", "orders", "contracts", "tickets", "tasks", "surveys",
                "history", "events"]
IGNORE = "-"

# field -> header spellings (compared after normalize_header)
_COMMON_CUSTOMER = {
    "customer": ["customer", "customer id", "customer name", "company", "company name", "account", "account name",
                 "organization", "organisation", "org", "客户", "客户名称", "客户名", "公司", "公司名称", "企业",
                 "企业名称", "单位", "单位名称"],
    "customer_name": ["customer_name"],
}
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "customers": {
        "id": ["id", "crm id"],
        "external_id": ["external id", "external_id", "extra.external_id", "ext id", "record id", "account id",
                        "customer id", "customer no", "customer number", "客户编号", "客户id", "编号", "外部编号"],
        "name": ["name", "company", "company name", "customer", "customer name", "account", "account name",
                 "organization", "organisation", "org", "客户", "客户名称", "客户名", "公司", "公司名称", "企业",
                 "企业名称", "单位", "单位名称", "名称"],
        "kind": ["kind", "customer type", "客户类型"],
        "industry": ["industry", "sector", "行业", "所属行业"],
        "size": ["size", "company size", "employees", "headcount", "规模", "公司规模", "人数", "员工人数"],
        "tier": ["tier", "level", "rating", "customer level", "等级", "客户等级", "级别", "客户级别"],
        "stage": ["stage", "lifecycle stage", "lifecycle", "status", "阶段", "客户阶段", "状态", "客户状态"],
        "owner": ["owner", "account owner", "sales rep", "salesperson", "assigned to", "负责人", "销售", "所属销售",
                  "跟进人", "客户经理", "归属人"],
        "source": ["source", "lead source", "来源", "客户来源", "线索来源"],
        "campaign": ["campaign", "marketing campaign", "campaign name", "市场活动", "营销活动", "来源活动"],
        "tags": ["tags", "tag", "labels", "标签"],
        "email": ["email", "e-mail", "email address", "e-mail address", "mail", "邮箱", "电子邮件", "电子邮箱",
                  "邮件", "邮箱地址"],
        "phone": ["phone", "telephone", "tel", "phone number", "mobile", "mobile phone", "cell", "电话", "手机",
                  "手机号", "手机号码", "联系电话", "电话号码", "移动电话", "座机"],
        "website": ["website", "web", "url", "homepage", "web site", "网站", "网址", "官网", "公司网站"],
        "address": ["address", "street", "mailing address", "地址", "公司地址", "联系地址", "详细地址"],
        "birthday": ["birthday", "date of birth", "dob", "birth date", "生日", "出生日期"],
        "touch_every": ["touch_every", "touch every", "contact cadence"],
        "created": ["created", "created at", "create date", "created date", "创建时间", "创建日期"],
        "contact": ["contact", "contact name", "contact person", "full name", "联系人", "联系人姓名", "姓名"],
        "first_name": ["first name", "given name", "firstname", "名"],
        "last_name": ["last name", "surname", "family name", "lastname", "姓"],
        "title": ["title", "job title", "position", "role", "职位", "职务", "头衔"],
        "contact_email": ["contact email", "联系人邮箱"],
        "contact_phone": ["contact phone", "联系人电话", "联系人手机"],
        "extra.notes": ["notes", "note", "remarks", "备注", "说明"],
    },
    "contacts": {
        **_COMMON_CUSTOMER,
        "name": ["name", "contact", "contact name", "contact person", "full name", "联系人", "联系人姓名", "姓名"],
        "first_name": ["first name", "given name", "firstname", "名"],
        "last_name": ["last name", "surname", "family name", "lastname", "姓"],
        "title": ["title", "job title", "position", "role", "职位", "职务", "头衔"],
        "email": ["email", "e-mail", "email address", "e-mail address", "mail", "邮箱", "电子邮件", "电子邮箱",
                  "邮件", "邮箱地址"],
        "phone": ["phone", "telephone", "tel", "phone number", "mobile", "mobile phone", "cell", "电话", "手机",
                  "手机号", "手机号码", "联系电话", "电话号码", "移动电话"],
        "primary": ["primary", "main contact", "主联系人"],
        "birthday": ["birthday", "date of birth", "dob", "birth date", "生日", "出生日期"],
        "note": ["note", "notes", "remarks", "备注"],
    },
    "interactions": {
        **_COMMON_CUSTOMER,
        "at": ["at", "date", "time", "when", "datetime", "date time", "日期", "时间", "跟进时间", "沟通时间"],
        "kind": ["kind", "type", "activity type", "interaction type", "channel", "类型", "方式", "跟进方式"],
        "by": ["by", "user", "logged by", "记录人"],
        "contact": ["contact", "contact name", "联系人"],
        "direction": ["direction", "方向"],
        "duration": ["duration", "duration_min", "minutes", "时长"],
        "outcome": ["outcome", "result", "结果"],
        "tags": ["tags", "tag", "标签"],
        "summary": ["summary", "subject", "notes", "note", "description", "details", "content", "摘要", "内容",
                    "记录", "跟进内容", "备注"],
    },
    "opps": {
        **_COMMON_CUSTOMER,
        "id": ["id", "opp", "opp id"],
        "title": ["title", "opportunity", "opportunity name", "deal", "deal name", "商机", "商机名称", "机会名称",
                  "项目"],
        "amount": ["amount", "value", "deal value", "deal amount", "deal size", "close value", "金额", "商机金额",
                   "预计金额", "成交金额"],
        "currency": ["currency", "币种", "货币"],
        "stage": ["stage", "deal stage", "阶段", "销售阶段"],
        "close": ["close", "close date", "expected close", "expected close date", "预计成交日期", "结单日期"],
        "created": ["created", "created at", "create date", "created date", "engage date", "engaged",
                    "engaged at", "engaged date", "opened", "创建时间", "创建日期"],
        "closed_at": ["closed at", "closed date", "date closed", "won date", "lost date", "won lost date",
                      "actual close date", "成交日期", "成交时间", "赢单日期", "输单日期", "关闭日期"],
        "owner": ["owner", "deal owner", "sales agent", "负责人", "销售"],
        "source": ["source", "来源"],
        "product": ["product", "产品"],
        "lost_reason": ["lost_reason", "lost reason", "reason", "输单原因"],
    },
    "orders": {
        **_COMMON_CUSTOMER,
        "date": ["date", "order date", "日期", "下单日期", "订单日期"],
        "amount": ["amount", "total", "value", "金额", "订单金额"],
        "currency": ["currency", "币种", "货币"],
        "product": ["product", "item", "产品", "商品"],
        "opp": ["opp", "opportunity", "deal", "商机"],
        "by": ["by"],
    },
    "contracts": {
        **_COMMON_CUSTOMER,
        "value": ["value", "amount", "contract value", "金额", "合同金额"],
        "currency": ["currency", "币种", "货币"],
        "start": ["start", "start date", "开始日期"],
        "end": ["end", "end date", "结束日期", "到期日"],
        "renew_notice": ["renew_notice", "renew notice", "notice", "续约提醒"],
        "file": ["file", "document", "文件"],
        "by": ["by"],
    },
    "tasks": {
        **_COMMON_CUSTOMER,
        "id": ["id", "task", "task id"],
        "text": ["text", "task text", "description", "任务", "内容"],
        "owner": ["owner", "assignee", "负责人"],
        "due": ["due", "due date", "deadline", "截止日期"],
        "created": ["created", "created at", "创建时间"],
        "done_at": ["done_at", "done", "completed", "完成时间"],
        "status": ["status", "状态"],
        "by": ["by", "created by", "创建人"],
    },
    "surveys": {
        **_COMMON_CUSTOMER,
        "at": ["at", "date", "time", "when", "answered", "answered at", "submitted at", "日期", "时间", "回答时间",
               "提交时间"],
        "csat": ["csat", "satisfaction", "satisfaction score", "满意度"],
        "nps": ["nps"],
        "ticket": ["ticket", "ticket id", "工单"],
        "comment": ["comment", "feedback", "评价", "意见"],
        "by": ["by"],
    },
    "tickets": {
        **_COMMON_CUSTOMER,
        "id": ["id", "ticket", "ticket id"],
        "title": ["title", "subject", "issue", "标题", "主题", "问题"],
        "priority": ["priority", "优先级"],
        "category": ["category", "type", "分类", "类别"],
        "channel": ["channel", "source", "渠道"],
        "assignee": ["assignee", "assigned to", "agent", "处理人"],
        "contact": ["contact", "联系人"],
        "text": ["text", "description", "details", "body", "描述", "内容"],
        "status": ["status", "状态"],
        "opened_at": ["opened_at", "opened", "opened at", "open date", "created", "created at", "created date",
                      "创建时间", "创建日期", "提交时间"],
        "first_response_at": ["first_response_at", "first response", "first response at", "first response time",
                              "first reply", "first reply at", "first replied at", "首次响应时间", "首次回复时间",
                              "首次响应"],
        "resolved_at": ["resolved_at", "resolved", "resolved at", "resolved date", "resolution date", "解决时间",
                        "解决日期"],
        "closed_at": ["closed_at", "closed", "closed at", "closed date", "close date", "关闭时间", "关闭日期"],
        "csat": ["csat", "satisfaction", "satisfaction score", "customer satisfaction", "satisfaction rating",
                 "满意度", "满意度评分", "客户满意度"],
        "resolution": ["resolution", "solution", "解决方案", "处理结果"],
    },
    "events": {  # behaviour from a website or app export (crmcli.io.import_activity)
        "customer": [*_COMMON_CUSTOMER["customer"], "email", "user email", "e-mail", "邮箱", "account id",
                     "user", "user id", "用户", "用户id"],
        "at": ["at", "date", "time", "timestamp", "when", "datetime", "event time", "occurred at", "日期", "时间",
               "发生时间"],
        "event": ["event", "event type", "event name", "activity", "action", "type", "kind", "事件", "事件类型",
                  "行为", "类型"],
        "count": ["count", "events", "times", "number", "次数", "数量"],
    },
    "history": {
        **_COMMON_CUSTOMER,
        "id": ["id", "deal", "ticket", "opp", "opp id", "ticket id"],
        "at": ["at", "date", "time", "when", "时间"],
        "kind": ["kind", "event", "type"],
        "by": ["by", "user"],
        "fields": ["fields"],
    },
}
# Columns written by export that carry no importable data.
_DERIVED = {"probability", "created", "closed_at", "first_response_at", "resolved_at", "csat",
            "response_due", "resolution_due", "response_breached", "resolution_breached", "stage_history",
            "close_history", "error"}


def normalize_header(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text or "")).casefold().strip()
    s = re.sub(r"[\s_\-/:：()（）*]+", " ", s).strip()
    return s


def known_fields(kind: str) -> list[str]:
    return list(SYNONYMS[kind])


@dataclass
class Mapping:
    """Column index -> field, with the header text kept for messages."""

    kind: str
    headers: list[str]
    fields: dict[int, str] = field(default_factory=dict)  # column index -> field
    ignored: list[str] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {the file's word, casefolded: value}
    constants: dict[str, Any] = field(default_factory=dict)  # field -> value for rows that have none
    date_formats: dict[str, str] = field(default_factory=dict)  # field or "*" -> strptime format

    def column_of(self, name: str) -> str:
        for i, f in self.fields.items():
            if f == name:
                return self.headers[i]
        return name

    def has(self, name: str) -> bool:
        return name in self.fields.values()

    def pairs(self) -> list[tuple[str, str]]:
        out = [(self.headers[i], f) for i, f in sorted(self.fields.items())]
        return out + [(h, "(ignored)") for h in self.ignored]


# fields named after a vocabulary word: the moment a deal reached a stage, a ticket a status
DATED_PREFIX = {"opps": "stage_at.", "tickets": "status_at."}


def _valid_target(kind: str, target: str) -> bool:
    prefix = DATED_PREFIX.get(kind)
    return (target in SYNONYMS[kind] or (kind == "customers" and target.startswith("extra.") and len(target) > 6)
            or (prefix is not None and target.startswith(prefix) and len(target) > len(prefix)))


class ColumnMap(dict[str, str]):
    """Normalized header -> field, remembering how each entry was written and where (``--map`` or the
    ``--mapping`` file), for messages about it."""

    def __init__(self) -> None:
        super().__init__()
        self.written: dict[str, tuple[str, str]] = {}  # key -> (where, column as written)


def parse_map_options(options: tuple[str, ...] | list[str], kind: str,
                      origins: list[str] | None = None) -> ColumnMap:
    """``--map "COLUMN=field"`` (``COLUMN=`` or ``COLUMN=-`` ignores the column). ``origins``: where each
    option came from (a mapping file's ``columns:``), ``--map`` when not given."""
    out = ColumnMap()
    for i, text in enumerate(options):
        where = origins[i] if origins is not None and i < len(origins) else "--map"
        if "=" not in text:
            raise UsageError(f"{where} {text!r}: write COLUMN=field (like --map '客户全称=name')")
        column, target = (part.strip() for part in text.rsplit("=", 1))
        target = target or IGNORE
        if target != IGNORE and not _valid_target(kind, target):
            hint = ", ".join(known_fields(kind)) + (", extra.NAME" if kind == "customers" else "") + (
                f", {DATED_PREFIX[kind]}NAME" if kind in DATED_PREFIX else "")
            shown = f"{column}: {target}" if where != "--map" else text
            raise UsageError(f"{where} {shown!r}: {target!r} is not a field of {kind}; use one of: {hint}, or - to "
                             "ignore the column")
        out[normalize_header(column)] = target
        out.written[normalize_header(column)] = (where, column)
    return out


def auto_map(headers: list[str], kind: str, overrides: dict[str, str] | None = None) -> Mapping:
    table = SYNONYMS[kind]
    lookup: dict[str, str] = {}
    for fld, spellings in table.items():
        for s in spellings:
            lookup.setdefault(normalize_header(s), fld)
    overrides = overrides or {}
    mapping = Mapping(kind, [str(h) if h is not None else "" for h in headers])
    used: set[str] = set()
    unknown_overrides = set(overrides)
    for i, header in enumerate(mapping.headers):
        key = normalize_header(header)
        if not key:
            continue
        target: str | None
        if key in overrides:
            unknown_overrides.discard(key)
            target = overrides[key]
        elif key.startswith("extra.") and kind == "customers" and len(key) > 6:
            target = "extra." + header.strip()[6:]
        else:
            target = lookup.get(key)
            if target is None and key in _DERIVED:
                target = IGNORE
        if target is None or target == IGNORE or target in used:
            if key not in _DERIVED:
                mapping.ignored.append(header)
            continue
        used.add(target)
        mapping.fields[i] = target
    if unknown_overrides:
        written = getattr(overrides, "written", {})
        first = sorted(unknown_overrides)[0]
        where = written.get(first, ("--map", first))[0]
        names = ", ".join(written.get(k, ("", k))[1] for k in sorted(unknown_overrides))
        raise UsageError(f"{where}: no column named {names} in the file; "
                         f"its columns are: {', '.join(h for h in mapping.headers if h)}")
    return mapping
