"""Human labels for column names and headings on the terminal, in English or Chinese (``language: zh``).

Only what people read changes: JSON, CSV and YAML keys and values stay as they are. The language is the
store's ``language`` in ``crm.yaml`` unless ``CRM_LANG`` says otherwise (``en`` or ``zh``). In Chinese, a value
that is a word of crm's default English vocabulary (a stage ``negotiation``, a ticket status ``waiting``, a
priority, an agenda item ``renewal``) reads in Chinese too (``value``); a store's own words are shown as written.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable

LANGUAGES = ("en", "zh")
_store_language: str | None = None

# code name -> (English, Chinese); a name not listed reads as itself with "_" as spaces
LABELS: dict[str, tuple[str, str]] = {
    "id": ("id", "编号"), "name": ("name", "名称"), "customer": ("customer", "客户"),
    "customer_name": ("customer", "客户"), "kind": ("kind", "类型"), "tier": ("tier", "级别"),
    "stage": ("stage", "阶段"), "owner": ("owner", "负责人"), "industry": ("industry", "行业"),
    "tags": ("tags", "标签"), "title": ("title", "标题"), "priority": ("priority", "优先级"),
    "category": ("category", "类别"), "status": ("status", "状态"), "assignee": ("assignee", "处理人"),
    "opened": ("opened", "创建"), "due": ("due", "到期"), "due_local": ("due", "到期"), "sla": ("SLA", "SLA"),
    "task": ("task", "任务"), "text": ("text", "内容"), "amount": ("amount", "金额"), "close": ("close", "成交日"),
    "when": ("when", "时间"), "what": ("what", "事项"), "who": ("who", "人员"), "summary": ("summary", "摘要"),
    "type": ("type", "类型"), "field": ("field", "字段"), "found": ("found", "匹配"), "date": ("date", "日期"),
    "value": ("value", "数值"), "start": ("start", "开始"), "end": ("end", "结束"),
    "renew_from": ("renew from", "续约起"), "file": ("file", "文件"), "product": ("product", "产品"),
    "opp": ("deal", "商机"), "weighted": ("weighted", "加权"), "probability": ("probability", "概率"),
    "email": ("email", "邮箱"), "phone": ("phone", "电话"), "health": ("health", "健康度"),
    "time": ("time", "时间"), "ref": ("ref", "编号"), "component": ("component", "组成"),
    "score": ("score", "得分"), "weight": ("weight", "权重"), "why": ("why", "原因"),
    # report columns
    "share": ("share", "占比"), "customers": ("customers", "客户数"), "source": ("source", "来源"),
    "revenue": ("revenue", "收入"), "segment": ("segment", "分群"), "lifetime_value": ("lifetime value", "终身价值"),
    "purchases": ("purchases", "购买次数"), "first_purchase": ("first purchase", "首次购买"),
    "last_purchase": ("last purchase", "最近购买"), "per_year": ("per year", "每年"),
    "recency_days": ("days since purchase", "距上次购买(天)"), "last_contact": ("last contact", "最近联系"),
    "days_since_contact": ("days since contact", "未联系(天)"), "won_deals": ("deals won", "赢单数"),
    "won_amount": ("won amount", "赢单金额"), "tickets": ("tickets", "工单"), "open": ("open", "未结"),
    "breached": ("breached", "超时"), "channel": ("channel", "渠道"),
    "first_response_median_h": ("1st response median (h)", "首次响应中位(时)"),
    "first_response_p90_h": ("1st response p90 (h)", "首次响应P90(时)"),
    "resolution_median_h": ("resolution median (h)", "解决中位(时)"),
    "resolution_p90_h": ("resolution p90 (h)", "解决P90(时)"), "response_sla": ("response SLA met", "响应达标"),
    "resolution_sla": ("resolution SLA met", "解决达标"), "csat": ("CSAT", "满意度"), "ticket": ("ticket", "工单"),
    "age_days": ("age (days)", "已开(天)"), "count": ("count", "数量"), "interactions": ("interactions", "互动"),
    "day": ("day", "日期"), "total": ("total", "合计"), "created": ("created", "创建"), "at": ("at", "时间"),
    "from": ("from", "从"), "to": ("to", "到"), "deals": ("deals", "商机数"), "event": ("event", "事件"),
    "state": ("state", "状态"), "days_since": ("days since contact", "未联系(天)"),
    "every_days": ("cadence (days)", "联系周期(天)"), "month": ("month", "月份"), "pipeline": ("pipeline", "管道"),
    "best-case": ("best case", "乐观"), "commit": ("commit", "承诺"), "reached": ("reached", "到达"),
    "moved_on": ("moved on", "推进"), "conversion": ("conversion", "转化率"), "won": ("won", "赢单"),
    "lost": ("lost", "输单"), "win_rate": ("win rate", "赢率"), "avg_cycle_days": ("avg cycle (days)", "平均周期(天)"),
    "movement": ("movement", "变动"), "call": ("call", "电话"), "meeting": ("meeting", "会议"),
    "touch_every": ("contact every", "联系周期"), "size": ("size", "规模"), "website": ("website", "网站"),
    "address": ("address", "地址"), "birthday": ("birthday", "生日"), "primary": ("", ""),
    "lifecycle": ("lifecycle", "生命周期"), "cadence": ("cadence", "联系周期"), "prob": ("prob", "概率"),
    "last contact": ("last contact", "最近联系"), "next task": ("next task", "下个任务"),
    "contract end": ("contract end", "合同到期"), "what to do": ("what to do", "待办事项"), "cost": ("cost", "费用"),
}

# crm's default English vocabulary (a new store's crm.yaml, and crm's own words) as read in Chinese
VALUES: dict[str, str] = {
    # lifecycle stages, kinds
    "lead": "线索", "prospect": "潜在客户", "customer": "客户", "repeat": "复购客户", "loyal": "忠诚客户",
    "churned": "已流失", "company": "公司", "person": "个人", "webinar": "网络研讨会", "event": "活动",
    # pipeline stages and forecast categories
    "qualified": "已确认需求", "proposal": "方案报价", "negotiation": "商务谈判", "won": "赢单", "lost": "输单",
    "pipeline": "管道", "best-case": "乐观", "commit": "承诺", "omitted": "不计入",
    # tickets: status, priority, category, channel
    "open": "待处理", "in-progress": "处理中", "waiting": "等待客户", "resolved": "已解决", "closed": "已关闭",
    "low": "低", "normal": "普通",
    "high": "高", "urgent": "紧急", "question": "咨询", "request": "请求", "bug": "缺陷", "complaint": "投诉",
    "phone": "电话", "web": "网页",
    # interaction types, search results
    "call": "电话", "email": "邮件", "meeting": "会议", "visit": "拜访", "chat": "在线沟通", "sms": "短信",
    "note": "备注", "interaction": "互动", "contact": "联系人", "ticket": "工单", "opp": "商机", "task": "任务",
    "survey": "问卷",
    # agenda and care items
    "renewal": "续约", "touch": "保持联系", "anniversary": "周年", "holiday": "节日", "revisit": "回访",
    "checkin": "定期回访", "due": "待办", "done": "已完成",
    # report rows
    "opened": "新开", "breached": "超时", "overdue": "逾期", "created": "新建", "advanced": "推进",
    "slipped": "推迟", "interactions": "互动", "new customers": "新客户", "lifecycle moves": "生命周期变化",
    "deals created": "新建商机", "deals advanced": "推进的商机", "deals won": "赢单", "deals lost": "输单",
    "tickets opened": "新开工单", "tickets closed": "关闭的工单", "tickets breached": "超时工单",
    "tasks done": "完成的任务", "tasks overdue": "逾期任务", "customers losing touch": "疏于联系的客户",
    "contacted": "已联系", "opportunity": "商机", "yes": "是", "no": "否", "total": "合计",
}
VALUE_COLUMNS = frozenset({"stage", "status", "priority", "category", "channel", "kind", "type", "what", "event",
                           "state", "movement", "step", "lifecycle", "bought"})

HEADINGS: dict[str, str] = {
    "Overdue": "逾期", "Today": "今天", "Tomorrow": "明天", "Key metrics": "关键指标", "Contacts": "联系人",
    "Open opportunities": "进行中的商机", "Open tickets": "未结工单", "Next tasks": "待办任务",
    "Latest events": "最近动态", "Warnings": "警告", "Monday": "星期一", "Tuesday": "星期二",
    "Wednesday": "星期三", "Thursday": "星期四", "Friday": "星期五", "Saturday": "星期六", "Sunday": "星期日",
    "Pipeline: open deals in": "销售漏斗：未结商机，币种", "none": "无", "Nothing to show": "无数据",
    # reports and their sections
    "Customers report": "客户报告", "Service report": "服务报告", "Weekly report": "周报",
    "Pipeline and forecast": "销售漏斗与预测", "Revenue segments (ABC)": "收入分层 (ABC)",
    "Open tickets past their SLA": "超出 SLA 的未结工单", "Customers by industry": "按行业的客户",
    "Customers by lifecycle stage": "按生命周期的客户", "Customers by lead source": "按线索来源的客户",
    "Open deals by stage": "按阶段的未结商机", "Customers by tier": "按级别的客户", "Churn risk": "流失风险",
    "Stage-to-stage conversion": "阶段转化", "Deals": "商机", "Deal moves": "商机变动",
    "Forecast by category": "按类别的预测", "Forecast by close month": "按成交月份的预测",
    "Interactions by day": "每日互动", "Interactions by owner": "按负责人的互动",
    "Interactions by type": "按类型的互动",
    "Lifecycle moves": "生命周期变化", "Customers losing touch": "疏于联系的客户", "Deals that moved": "有变动的商机",
    "New customers": "新客户", "Open tickets by priority and age": "按优先级和时长的未结工单",
    "Open deals": "未结商机", "Summary": "概要", "Tasks done and overdue": "已完成和逾期的任务",
    "Tickets opened, closed and breached": "新开、关闭和超时的工单", "Lifetime value and RFM": "终身价值与 RFM",
    "Win rate and sales cycle": "赢率与销售周期", "Won revenue by lead source": "按线索来源的赢单收入",
    "By category": "按类别", "By channel": "按渠道", "By assignee": "按处理人",
}


def set_store_language(value: object) -> None:
    """The store's ``language`` setting (called when the store is opened)."""
    global _store_language
    _store_language = str(value).strip().lower() if value else None


def language() -> str:
    env = os.environ.get("CRM_LANG", "").strip().lower()
    lang = env or _store_language or "en"
    return "zh" if lang.startswith("zh") else "en"


def label(code: str) -> str:
    """What a person reads for column ``code``."""
    pair = LABELS.get(code)
    if pair is None:
        return code.replace("_", " ")
    return pair[1] if language() == "zh" else pair[0]


def value(text: str) -> str:
    """A value people read: a default English word in Chinese under ``language: zh``, else as it is.

    ``negotiation (75%)`` and ``call (30m, with Raj)`` keep their part in brackets."""
    if language() != "zh" or not text:
        return text
    word, sep, rest = text.partition(" (")
    if sep and rest.endswith(")"):
        return VALUES.get(word, word) + sep + rest
    return VALUES.get(text, text)


def note_text(note: str, columns: Iterable[object]) -> str:
    """A note under a table with its columns' code names (``reward_due``) as people read them (``reward due``)."""
    names = [str(c) for c in columns if "_" in str(c)]
    if not names:
        return note
    return re.sub(r"\b(" + "|".join(map(re.escape, names)) + r")\b", lambda m: label(m.group(1)), note)


def translate(text: str) -> str:
    """An English header or heading in the store's language."""
    if language() != "zh" or not text:
        return text
    if text in HEADINGS:
        return HEADINGS[text]
    for en, zh in LABELS.values():
        if en == text:
            return zh
    return text


def heading(text: str) -> str:
    """A heading in the store's language (English text is the key)."""
    return HEADINGS.get(text, text) if language() == "zh" else text
