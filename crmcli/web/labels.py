"""The site's words in English or Chinese: ``language: zh`` in crm.yaml (or ``CRM_LANG=zh``); English by default.

Only labels are translated (headings, column names, report titles); the records' own text is shown as
written. A word without a translation is shown in English.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

ZH: dict[str, str] = {
    "Home": "首页", "Customers": "客户", "Pipeline": "销售管道", "Tickets": "工单", "Reports": "报表",
    "Search": "搜索", "Search customers": "搜索客户", "Agenda": "日程",
    "Customer": "客户", "customer": "客户", "customers": "客户数",
    "Same in a terminal": "终端中的同一内容", "Customer id": "客户编号",
    "Key metrics": "关键指标", "Contacts": "联系人", "Open deals": "进行中的商机", "Open tickets": "未结工单",
    "Open tasks": "未完成任务", "Timeline": "时间线", "Warnings": "警告", "Health": "健康度",
    "How the health score is made": "健康度的构成", "none": "无", "(none)": "（无）",
    "revenue this year": "今年收入", "revenue lifetime": "累计收入", "open deals": "进行中商机",
    "pipeline": "管道金额", "weighted": "加权金额", "last contact": "最近联系", "days since contact": "距上次联系天数",
    "next task": "下一任务", "contract end": "合同到期", "health": "健康度", "at risk": "有流失风险",
    "loyalty points": "积分", "referrals": "推荐的客户",
    "name": "名称", "title": "职位", "email": "邮箱", "phone": "电话", "primary": "主要",
    "id": "编号", "stage": "阶段", "probability": "概率", "amount": "金额", "close": "预计成交",
    "owner": "负责人", "priority": "优先级", "category": "类别", "status": "状态", "assignee": "处理人",
    "opened": "创建", "due": "到期", "sla": "SLA", "text": "内容", "when": "时间", "what": "事件",
    "who": "人员", "summary": "摘要", "component": "组成", "score": "得分", "weight": "权重", "why": "原因",
    "kind": "类型", "industry": "行业", "size": "规模", "tier": "等级", "lifecycle": "生命周期", "source": "来源",
    "tags": "标签", "cadence": "联系频率", "overdue": "已逾期", "deals": "商机数", "total": "合计",
    "Overdue and coming tasks (7 days)": "逾期及未来 7 天的任务", "Customers losing touch": "疏于联系的客户",
    "Headline numbers": "关键数字", "open tickets": "未结工单", "breached SLA": "超出 SLA",
    "tasks overdue": "逾期任务", "Open tickets by resolution due": "按解决期限排列的未结工单",
    "Deals by stage": "各阶段商机", "as of": "截至", "built": "生成于", "made": "生成于",
    "Weekly report": "周报", "Pipeline and forecast": "销售管道与预测", "Service report": "服务报表",
    "Customers report": "客户报表", "Summary": "汇总", "vs": "对比", "previous week": "上周",
    "previous period": "上一周期", "no change": "无变化", "interactions": "互动", "new customers": "新客户",
    "deals won": "赢单数", "value of deals won": "赢单金额", "tickets opened": "新建工单",
    "tickets closed": "关闭工单", "tickets breached": "超时工单", "pipeline amount": "管道金额",
    "weighted pipeline": "加权管道", "won revenue": "赢单收入",
    "Nothing to chart yet: no records in this period.": "暂无可绘制的数据：此期间没有记录。",
    "No records for this report yet.": "此报表暂无记录。",
    "Add customers, deals and tickets with crm, then build again.": "用 crm 添加客户、商机和工单后再生成。",
    "day": "日期", "type": "类型", "revenue": "收入", "segment": "分层", "month": "月份",
    "Interactions by type": "按类型的互动", "Interactions by day": "每日互动", "Interactions per day": "每日互动",
    "Interactions by owner": "按人员的互动", "New customers": "新客户", "Lifecycle moves": "生命周期变化",
    "Deals": "商机", "Deal moves": "商机变动", "Tickets opened, closed and breached": "新建、关闭和超时的工单",
    "Tasks done and overdue": "已完成和逾期的任务", "Open deals by stage": "各阶段进行中的商机",
    "Pipeline by stage": "各阶段管道", "Forecast by close month": "按成交月份的预测",
    "Weighted forecast by close month": "按成交月份的加权预测", "Forecast by category": "按类别的预测",
    "Stage-to-stage conversion": "阶段转化率", "Win rate and sales cycle": "赢单率与销售周期",
    "Customers by lifecycle stage": "按生命周期的客户", "Customers by tier": "按等级的客户",
    "Customers by industry": "按行业的客户", "Customers by lead source": "按来源的客户",
    "Revenue segments (ABC)": "收入分层（ABC）", "Lifetime value and RFM": "生命周期价值与 RFM",
    "Churn risk": "流失风险", "Won revenue by lead source": "按来源的赢单收入",
    "Open tickets by priority and age": "按优先级和时长的未结工单",
    "Open tickets past their SLA": "超出 SLA 的未结工单",
    "This page": "本页", "Pages": "页面", "no open deals": "无进行中商机", "never": "从未",
    "Nothing due in the next 7 days.": "未来 7 天没有到期事项。", "No customers yet.": "还没有客户。",
    "Open tickets in the queue": "队列中的未结工单", "The first": "前", "of": "行，共",
    "rows; all of them:": "行；全部数据：", "all of them:": "全部：", "Customers, by name": "客户（按名称）",
}


def language(config: Any) -> str:
    """``zh`` or ``en``: CRM_LANG, else ``language:`` in crm.yaml, else English."""
    raw = os.environ.get("CRM_LANG") or (config.get("language") if config is not None else None) or "en"
    return "zh" if str(raw).lower().startswith("zh") else "en"


def translator(lang: str) -> Callable[[str], str]:
    if lang != "zh":
        return lambda text: text
    return lambda text: ZH.get(text, text)
