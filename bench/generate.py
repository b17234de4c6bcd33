"""Generate a realistic records store (and matching import files) for benchmarks.

    python -m bench.generate --customers 10000 --interactions-per 10 --out bench/data/store-10000
    python -m bench.generate --customers 1000 --csv /tmp/import.csv --xlsx /tmp/import.xlsx

Customers are English and Chinese companies and people with industries, tiers,
owners, lifecycle stages and contacts. Each customer gets about
``--interactions-per`` journal events (so 100,000 customers x 10 = ~1,000,000
events) spread over the two years before ``--now``: interactions, tasks,
opportunities with their stage changes and outcome, orders, contracts, tickets
with comments and closing, and survey answers, in the journal format of
docs/architecture.md.

Everything is written through the library at full speed: ``init_store``, then
one ``store.transaction(..., bulk=True)`` of whole files (each year file is the
concatenation of ``yamlio.dump_entry`` of its events), ending in the one commit
the transaction makes with ``git fast-import``. The YAML is built in worker
processes (``--jobs``); the transaction itself runs in this process.

The output is a pure function of the arguments (``--seed``, ``--now``, sizes):
customer ids too, so two runs give byte-identical files.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

# Bump when the generated data changes shape: bench.run regenerates cached stores then.
GENERATOR_VERSION = 1
DEFAULT_SEED = 2026
AUTHOR = "Bench Generator <bench@example.com>"

# -- vocabularies ----------------------------------------------------------------------------------
EN_FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
            "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
            "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra", "Paul", "Ashley",
            "Steven", "Emily", "Andrew", "Donna", "Kevin", "Michelle", "Brian", "Carol", "George", "Amanda",
            "Olivia", "Noah", "Emma", "Liam", "Sophia", "Lucas", "Mia", "Ethan", "Chloe", "Zoe"]
EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
           "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
           "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
           "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
           "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker", "Collins", "Edwards",
           "Stewart", "Morris", "O'Brien"]
EN_WORD1 = ["Acme", "Blue", "North", "Silver", "Golden", "Red", "Green", "Bright", "Swift", "Prime", "Atlas",
            "Summit", "Harbor", "Pioneer", "Cedar", "Maple", "Iron", "Crystal", "Eagle", "Falcon", "Lake",
            "River", "Stone", "Oak", "Pine", "Sun", "Star", "Nova", "Vertex", "Apex", "Delta", "Sigma",
            "Orbit", "Quantum", "Urban", "Coastal", "Global", "United", "Pacific", "Atlantic", "Alpine",
            "Meadow", "Copper", "Granite", "Beacon", "Crescent", "Liberty", "Frontier", "Horizon", "Keystone"]
EN_WORD2 = ["Ridge", "Bay", "Works", "Labs", "Point", "Field", "Gate", "Bridge", "Peak", "Valley", "Wave",
            "Line", "Path", "Forge", "Mill", "Hub", "Port", "Grove", "Crest", "Rock", "", "", "", "", ""]
EN_TRADE = {
    "software": ["Software", "Systems", "Digital", "Data", "Cloud"],
    "manufacturing": ["Manufacturing", "Industries", "Machinery", "Components", "Tooling"],
    "logistics": ["Logistics", "Freight", "Shipping", "Transport"],
    "retail": ["Retail", "Stores", "Outfitters", "Goods"],
    "healthcare": ["Health", "Medical", "Clinics", "Care"],
    "finance": ["Capital", "Finance", "Partners", "Advisors"],
    "education": ["Learning", "Academy", "Education"],
    "energy": ["Energy", "Power", "Solar"],
    "construction": ["Construction", "Builders", "Engineering"],
    "food": ["Foods", "Kitchens", "Farms", "Bakery"],
}
EN_LEGAL = ["Inc", "Ltd", "LLC", "Co", "GmbH", "Corp", "Pty Ltd", "PLC", "", ""]
EN_TITLES = ["CEO", "CTO", "CFO", "COO", "Head of Procurement", "IT Manager", "Purchasing Manager",
             "Operations Director", "Office Manager", "VP Sales", "Finance Manager", "Engineer"]

ZH_SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
               "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "欧阳", "司马"]
ZH_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
            "超", "秀英", "霞", "平", "刚", "桂英", "建华", "晓东", "海燕", "志强", "婷", "雪", "欣怡", "子涵",
            "浩然", "梓萱", "一鸣", "思远", "雨桐", "宇轩"]
ZH_CITIES = ["深圳市", "上海", "北京", "杭州", "广州市", "成都", "南京", "苏州", "武汉", "西安", "天津", "重庆",
             "厦门", "青岛", "长沙", "宁波", "合肥", "郑州", "东莞市", "佛山市", ""]
ZH_BRAND = ["华", "兴", "恒", "通", "基", "石", "云", "帆", "瑞", "达", "博", "远", "鑫", "盛", "宏", "泰", "中",
            "海", "天", "诚", "信", "安", "德", "润", "金", "科", "联", "创", "新", "卓", "越", "嘉", "合", "众",
            "明", "光", "星", "辰", "汇", "鼎"]
ZH_TRADE = {
    "software": ["科技", "软件", "信息技术", "网络科技", "数据"],
    "manufacturing": ["制造", "机械", "精密", "电子", "实业"],
    "logistics": ["物流", "供应链", "货运"],
    "retail": ["商贸", "贸易", "百货"],
    "healthcare": ["医疗", "医药", "健康"],
    "finance": ["投资", "资本", "金融服务"],
    "education": ["教育", "培训"],
    "energy": ["能源", "新能源", "电力"],
    "construction": ["建设", "工程", "建筑"],
    "food": ["食品", "餐饮", "农业"],
}
ZH_LEGAL = ["有限公司", "股份有限公司", "有限责任公司", "有限公司"]
ZH_TITLES = ["总经理", "技术总监", "财务总监", "采购经理", "IT 主管", "运营总监", "行政经理", "销售副总裁", "工程师"]

INDUSTRIES = list(EN_TRADE)
SIZES = ["1-10", "11-50", "51-200", "201-1000", "1000+"]
TIERS = ["A", "B", "C", "D"]
TIER_WEIGHTS = [1, 3, 5, 4]
STAGES = ["lead", "prospect", "customer", "repeat", "loyal", "churned"]
STAGE_WEIGHTS = [5, 4, 6, 3, 2, 1]
SOURCES = ["web", "referral", "event", "cold-call", "partner", "ads"]
TAGS = ["saas", "vip", "partner", "reseller", "enterprise", "smb", "government", "key-account", "重点客户", "渠道"]
OWNERS = ["Alice Example", "Bob Martin", "Carol Chen", "Dave Wilson", "王芳", "李娜", "张伟", "刘洋"]
PRODUCTS = ["CRM Suite", "Support Desk", "Analytics Pro", "Onboarding Package", "Premium Support", "ERP 集成",
            "数据迁移服务", "Training (5 days)", "Hardware Bundle", "年度维护"]
INTERACTIONS = ["call", "email", "meeting", "visit", "chat", "sms", "note"]
INTERACTION_WEIGHTS = [30, 30, 15, 6, 10, 3, 6]
PRIORITIES = ["low", "normal", "high", "urgent"]
PRIORITY_WEIGHTS = [3, 8, 3, 1]
CATEGORIES = ["question", "request", "bug", "complaint"]
CHANNELS = ["phone", "email", "chat", "web", "visit"]
LOST_REASONS = ["price", "went with a competitor", "no budget", "timing", "预算不足", "选择了竞争对手"]
LOCAL_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

EN_SUMMARIES = [
    "Discussed the renewal terms and next steps",
    "Sent the proposal and pricing sheet",
    "Follow-up on the open support ticket",
    "Demo of the new reporting module; they liked the dashboards",
    "Quarterly business review: usage is up 20%",
    "Asked about integration with their ERP",
    "Left a voicemail, will call back on Friday",
    "Negotiated payment terms: net 60 instead of net 30",
    "Intro call with the new IT manager",
    "Agenda:\n1. pricing\n2. rollout plan\n3. training dates",
    "Note: they use SAP # and want SSO",
    "Budget approved for next year; decision in Q2",
]
ZH_SUMMARIES = [
    "讨论了续约条款和下一步计划",
    "发送了报价单和产品资料",
    "跟进未解决的工单",
    "演示了新的报表功能，客户反馈很好",
    "季度业务回顾：使用量增长 20%",
    "客户询问与 ERP 系统的集成方案",
    "电话未接通，周五再联系",
    "谈判付款条件：账期 60 天",
    "与新任 IT 主管初次沟通",
    "会议纪要：\n1. 价格\n2. 上线计划\n3. 培训安排",
    "备注: 客户需要单点登录",
]
EN_TICKETS = ["Cannot log in after password reset", "Invoice shows the wrong VAT rate", "Export to Excel fails",
              "Request: add a second admin user", "Slow dashboard in the afternoon", "Question about API limits",
              "Data import stuck at 80%", "Complaint: late delivery of hardware"]
ZH_TICKETS = ["无法登录系统", "发票税率错误", "导出 Excel 失败", "申请增加管理员账号", "报表加载缓慢",
              "数据导入卡住", "投诉：硬件延迟交付", "咨询接口调用限制"]
EN_TASKS = ["Send the contract draft", "Prepare the QBR deck", "Call back about the quote", "Schedule onsite training",
            "Check the invoice status", "Introduce the support team"]
ZH_TASKS = ["发送合同草稿", "准备季度汇报材料", "回电确认报价", "安排上门培训", "核对发票状态", "介绍售后团队"]
EN_COMMENTS = ["Reproduced on our side, escalating to engineering", "Waiting for the customer's logs",
               "Workaround sent: clear the browser cache", "Fix deployed, please confirm"]
ZH_COMMENTS = ["已复现问题，转研发处理", "等待客户提供日志", "已发送临时解决方案", "修复已上线，请确认"]
RESOLUTIONS = ["fixed", "answered", "workaround", "duplicate", "won't fix", "已解决"]

CSV_HEADERS = {
    "en": ["Company Name", "Contact", "Email", "Phone", "Industry", "Owner", "Tier"],
    "zh": ["客户名称", "联系人", "邮箱", "电话", "行业", "负责人"],
}
ZH_INDUSTRY = {"software": "软件", "manufacturing": "制造业", "logistics": "物流", "retail": "零售",
               "healthcare": "医疗", "finance": "金融", "education": "教育", "energy": "能源",
               "construction": "建筑", "food": "食品"}


# -- names (main process, so that they are unique across the whole store) -------------------------------
@dataclass(frozen=True)
class Seed:
    """What a worker needs to build one customer."""

    index: int
    name: str
    kind: str  # company | person
    lang: str  # en | zh
    industry: str
    contact: str  # the primary contact's name (the person's own name for a person)


def _en_company(rng: random.Random, industry: str) -> str:
    word = rng.choice(EN_WORD1) + rng.choice(EN_WORD2)
    legal = rng.choice(EN_LEGAL)
    name = f"{word} {rng.choice(EN_TRADE[industry])}"
    return f"{name} {legal}" if legal else name


def _zh_company(rng: random.Random, industry: str) -> str:
    brand = rng.choice(ZH_BRAND) + rng.choice(ZH_BRAND)
    return f"{rng.choice(ZH_CITIES)}{brand}{rng.choice(ZH_TRADE[industry])}{rng.choice(ZH_LEGAL)}"


def _en_person(rng: random.Random) -> str:
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


def _zh_person(rng: random.Random) -> str:
    return rng.choice(ZH_SURNAMES) + rng.choice(ZH_GIVEN)


def customer_seeds(count: int, seed: int) -> list[Seed]:
    """``count`` customers with unique names (deterministic)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out = []
    for i in range(count):
        lang = "zh" if rng.random() < 0.45 else "en"
        kind = "person" if rng.random() < 0.15 else "company"
        industry = rng.choice(INDUSTRIES)
        person = _zh_person if lang == "zh" else _en_person
        for attempt in range(30):
            if kind == "person":
                name = person(rng)
            else:
                name = (_zh_company if lang == "zh" else _en_company)(rng, industry)
            if attempt >= 3:  # the plain name space is crowded: disambiguate as people do
                if kind == "person":
                    name = f"{name} ({rng.choice(EN_LAST) if lang == 'en' else rng.choice(ZH_CITIES) or '北京'})"
                elif lang == "zh":
                    name = name.replace("公司", f"公司{rng.choice(ZH_CITIES) or '北京'}第{rng.randint(2, 99)}分公司", 1)
                else:
                    name = f"{name} {rng.choice(['East', 'West', 'North', 'South'])} {rng.randint(2, 99)}"
            if name.casefold() not in seen:
                break
        else:  # pragma: no cover - 30 misses in a row
            name = f"{name} #{i}"
        seen.add(name.casefold())
        contact = name if kind == "person" else person(rng)
        out.append(Seed(i, name, kind, lang, industry, contact))
    return out


# -- one customer (worker processes) ---------------------------------------------------------------------
@dataclass
class Built:
    index: int
    slug: str
    suffix: str
    customer_text: str
    journals: dict[str, str]  # year -> file text
    events: int
    row: dict[str, str]


def _local_id(rng: random.Random, prefix: str, taken: set[str]) -> str:
    while True:
        lid = prefix + "-" + "".join(rng.choice(LOCAL_ALPHABET) for _ in range(4))
        if lid not in taken:
            taken.add(lid)
            return lid


def _phone(rng: random.Random, lang: str) -> str:
    if lang == "zh":
        return f"+86 1{rng.randint(30, 99)} {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}"
    return f"+1 {rng.randint(200, 999)} 555 {rng.randint(0, 9999):04d}"


def _mail_local(name: str, lang: str, index: int, rng: random.Random) -> str:
    if lang == "en":
        parts = [p for p in "".join(c if c.isalnum() or c == " " else " " for c in name).lower().split()]
        base = ".".join(parts[:2]) or "contact"
    else:
        base = rng.choice(["li.na", "wang.fang", "zhang.wei", "liu.yang", "chen.jing", "zhao.lei", "sales", "info"])
    return f"{base}.{index}"  # unique across the store: crm check flags duplicate emails


class Timeline:
    """Business-hours timestamps in one customer's UTC offset, never after ``now``."""

    def __init__(self, rng: random.Random, now: datetime, offset_hours: int, start: datetime):
        self.rng = rng
        self.tz = timezone(timedelta(hours=offset_hours))
        self.now = now.astimezone(self.tz)
        self.start = start.astimezone(self.tz)

    def random_time(self) -> datetime:
        span = max(1, int((self.now - self.start).total_seconds()))
        return self._business(self.start + timedelta(seconds=self.rng.randrange(span)))

    def after(self, when: datetime, min_days: float, max_days: float) -> datetime:
        return self._business(when + timedelta(days=self.rng.uniform(min_days, max_days)))

    def _business(self, when: datetime) -> datetime:
        rng = self.rng
        when = when.replace(hour=rng.randint(8, 18), minute=rng.randrange(60), second=rng.randrange(60),
                            microsecond=0)
        if when.weekday() >= 5 and rng.random() < 0.9:
            when += timedelta(days=7 - when.weekday())
        return when


def build_customer(job: tuple[int, Seed, str, int, bool]) -> Built:
    """Profile and journal files of one customer, as text (runs in a worker process)."""
    from crmcli import yamlio
    from crmcli.domain import dates, ids
    from crmcli.domain.customer import Customer

    seed, s, now_iso, per, with_events = job
    rng = random.Random(seed * 1_000_003 + s.index)
    now = datetime.fromisoformat(now_iso)
    lang = s.lang
    slug = ids.slugify(s.name)
    suffix = "".join(rng.choice(LOCAL_ALPHABET) for _ in range(4))
    domain = f"{slug}.example"
    offset = 8 if lang == "zh" else rng.choice([-8, -5, 0, 1, 8, 9])
    owner = rng.choice(OWNERS)
    created_dt = now - timedelta(days=rng.uniform(20, 800), hours=rng.uniform(0, 24))
    tl = Timeline(rng, now, offset, max(created_dt, now - timedelta(days=730)))
    data: dict[str, Any] = {"name": s.name, "kind": s.kind}
    primary_email = f"{_mail_local(s.contact, lang, s.index, rng)}@{domain}"
    primary_phone = _phone(rng, lang)
    contacts = []
    if s.kind == "company":
        data["industry"] = s.industry
        data["size"] = rng.choice(SIZES)
        data["website"] = f"https://www.{domain}"
        names = [s.contact] + [(_zh_person if lang == "zh" else _en_person)(rng) for _ in range(rng.randint(0, 2))]
        for n, cname in enumerate(names):
            contact: dict[str, Any] = {"name": cname,
                                       "title": rng.choice(ZH_TITLES if lang == "zh" else EN_TITLES)}
            if n == 0:
                contact["email"], contact["phone"] = primary_email, primary_phone
            else:
                contact["email"] = f"{_mail_local(cname, lang, s.index, rng)}.{n}@{domain}"
                if rng.random() < 0.5:
                    contact["phone"] = _phone(rng, lang)
            if n == 0:
                contact["primary"] = True
            contacts.append(contact)
        data["contacts"] = contacts
    else:
        data["email"], data["phone"] = primary_email, primary_phone
        if rng.random() < 0.3:
            data["birthday"] = date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
    data["tier"] = rng.choices(TIERS, TIER_WEIGHTS)[0]
    data["stage"] = rng.choices(STAGES, STAGE_WEIGHTS)[0]
    data["owner"] = owner
    data["source"] = rng.choice(SOURCES)
    if rng.random() < 0.4:
        data["tags"] = sorted(set(rng.sample(TAGS, rng.randint(1, 3))))
    if rng.random() < 0.2:
        data["touch_every"] = rng.choice(["14d", "30d", "90d"])
    if rng.random() < 0.15:
        data["extra"] = {"erp_id": f"{rng.randint(0, 99999):06d}", "vat": rng.choice(["yes", "no", "on"])}
    data["created"] = dates.iso(created_dt.astimezone(tl.tz).replace(microsecond=0))
    customer_text = yamlio.dumps(Customer("", data).to_dict())

    journals: dict[str, list[str]] = {}
    count = 0
    if with_events and per > 0:
        events = _events(rng, tl, s, per, owner, [c["name"] for c in contacts] or [s.name])
        events.sort(key=lambda e: e[0])
        for when, entry in events:
            at = dates.iso(when)
            entry = {"at": at, **entry}
            journals.setdefault(at[:4], []).append(yamlio.dump_entry(entry))
        count = len(events)
    row = {"name": s.name, "contact": s.contact, "email": primary_email, "phone": primary_phone,
           "industry": s.industry, "owner": owner, "tier": data["tier"]}
    return Built(s.index, slug, suffix, customer_text, {y: "".join(v) for y, v in journals.items()}, count, row)


def _events(rng: random.Random, tl: Timeline, s: Seed, per: int, owner: str,
            contacts: list[str]) -> list[tuple[datetime, dict]]:
    """About ``per`` events of one customer, as (time, entry without ``at``), in story order."""
    zh = s.lang == "zh"
    budget = rng.randint(max(1, per // 2), per + per // 2)
    out: list[tuple[datetime, dict]] = []
    taken: set[str] = set()
    users = [owner, owner, owner, rng.choice(OWNERS)]
    currency = "CNY" if zh else rng.choice(["USD", "USD", "EUR", "CNY"])

    def add(when: datetime, entry: dict) -> bool:
        if when > tl.now:
            return False
        out.append((when, entry))
        return True

    def text(pool_en: list[str], pool_zh: list[str]) -> str:
        return rng.choice(pool_zh if zh or rng.random() < 0.1 else pool_en)

    while len(out) < budget:
        story = rng.choices(["interaction", "task", "opp", "ticket", "order", "survey"], [55, 12, 13, 12, 4, 4])[0]
        t0 = tl.random_time()
        by = rng.choice(users)
        if story == "interaction":
            kind = rng.choices(INTERACTIONS, INTERACTION_WEIGHTS)[0]
            entry: dict[str, Any] = {"kind": kind, "by": by}
            if kind != "note":
                entry["contact"] = rng.choice(contacts)
            if kind in ("call", "meeting", "visit"):
                entry["duration"] = rng.choice(["5m", "15m", "30m", "45m", "1h", "1h30m", "2h"])
            entry["summary"] = text(EN_SUMMARIES, ZH_SUMMARIES)
            add(t0, entry)
        elif story == "task":
            tid = _local_id(rng, "task", taken)
            due = tl.after(t0, 1, 21)
            add(t0, {"kind": "task.add", "id": tid, "by": by, "due": due.date().isoformat(), "owner": by,
                     "text": text(EN_TASKS, ZH_TASKS)})
            if rng.random() < 0.8:
                add(tl.after(t0, 0.2, 25), {"kind": "task.done", "task": tid, "by": by})
        elif story == "opp":
            oid = _local_id(rng, "opp", taken)
            product = rng.choice(PRODUCTS)
            amount = rng.choice([5, 8, 12, 20, 35, 50, 80, 120, 250]) * 1000
            stages = ["lead", "qualified", "proposal", "negotiation"]
            stage = rng.choice(stages[:2])
            close = tl.after(t0, 20, 120).date().isoformat()
            add(t0, {"kind": "opp.open", "id": oid, "by": by, "title": f"{product} for {s.name}"[:120],
                     "amount": amount, "currency": currency, "stage": stage, "close": close, "owner": owner,
                     "source": rng.choice(SOURCES), "product": product})
            when = t0
            for nxt in stages[stages.index(stage) + 1:]:
                if rng.random() < 0.25:
                    break
                when = tl.after(when, 3, 30)
                if not add(when, {"kind": "opp.stage", "opp": oid, "by": by, "from": stage, "to": nxt}):
                    break
                stage = nxt
            when = tl.after(when, 2, 30)
            if rng.random() < 0.8:
                if stage == "negotiation" and rng.random() < 0.65:
                    if add(when, {"kind": "opp.won", "opp": oid, "by": by}):
                        add(tl.after(when, 0, 5), {"kind": "order.add", "by": by, "opp": oid,
                                                   "date": tl.after(when, 0, 5).date().isoformat(),
                                                   "amount": amount, "currency": currency, "product": product})
                        if rng.random() < 0.5:
                            start = tl.after(when, 1, 20).date()
                            add(tl.after(when, 0, 3), {
                                "kind": "contract.add", "by": by, "value": amount, "currency": currency,
                                "start": start.isoformat(),
                                "end": (start + timedelta(days=rng.choice([365, 730, 1095]) - 1)).isoformat(),
                                "renew_notice": rng.choice(["30d", "60d", "90d"])})
                else:
                    add(when, {"kind": "opp.lost", "opp": oid, "by": by, "reason": rng.choice(LOST_REASONS)})
        elif story == "ticket":
            kid = _local_id(rng, "tkt", taken)
            add(t0, {"kind": "ticket.open", "id": kid, "by": by, "title": text(EN_TICKETS, ZH_TICKETS),
                     "priority": rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0], "category": rng.choice(CATEGORIES),
                     "channel": rng.choice(CHANNELS), "contact": rng.choice(contacts),
                     "text": text(EN_SUMMARIES, ZH_SUMMARIES)})
            when = t0
            for _ in range(rng.randint(0, 2)):
                when = tl.after(when, 0.05, 3)
                add(when, {"kind": "ticket.comment", "ticket": kid, "by": rng.choice(users),
                           "text": text(EN_COMMENTS, ZH_COMMENTS)})
            if rng.random() < 0.85:
                when = tl.after(when, 0.05, 6)
                csat = rng.choices([1, 2, 3, 4, 5], [1, 1, 3, 8, 10])[0]
                if add(when, {"kind": "ticket.close", "ticket": kid, "by": by,
                              "resolution": rng.choice(RESOLUTIONS), "csat": csat}) and rng.random() < 0.4:
                    add(tl.after(when, 0.1, 4), {"kind": "survey.answer", "by": by, "ticket": kid, "csat": csat,
                                                 "nps": rng.randint(0, 10)})
        elif story == "order":
            amount = rng.choice([300, 800, 1500, 4000, 9900])
            add(t0, {"kind": "order.add", "by": by, "date": t0.date().isoformat(), "amount": amount,
                     "currency": currency, "product": rng.choice(PRODUCTS)})
        else:
            entry = {"kind": "survey.answer", "by": by, "csat": rng.randint(1, 5), "nps": rng.randint(0, 10)}
            if rng.random() < 0.5:
                entry["comment"] = text(["Great support", "Too slow to answer", "Fine: works as expected"],
                                        ["服务很好", "响应太慢", "还不错"])
            add(t0, entry)
    return out


# -- driving it ------------------------------------------------------------------------------------------------
def _built(seeds: list[Seed], seed: int, now_iso: str, per: int, with_events: bool,
           jobs: int) -> Iterator[Built]:
    work = ((seed, s, now_iso, per, with_events) for s in seeds)
    if jobs <= 1 or len(seeds) < 200:
        yield from map(build_customer, work)
        return
    import multiprocessing

    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ctx.Pool(jobs) as pool:
        yield from pool.imap(build_customer, work, chunksize=64)


class Progress:
    def __init__(self, total: int, label: str, quiet: bool = False):
        self.total, self.label, self.quiet = total, label, quiet
        self.start = time.perf_counter()
        self.next_report = 0.0

    def __call__(self, done: int) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if now >= self.next_report or done == self.total:
            self.next_report = now + 5
            pct = 100 * done / self.total if self.total else 100
            print(f"  {self.label}: {done:,}/{self.total:,} ({pct:.0f}%) {now - self.start:.0f}s",
                  file=sys.stderr, flush=True)


@dataclass
class Stats:
    customers: int = 0
    events: int = 0
    files: int = 0
    build_s: float = 0.0  # building YAML text + writing files inside the transaction
    commit_s: float = 0.0  # the transaction's finish: sync + fast-import + index refresh
    total_s: float = 0.0
    commit: str | None = None
    git_s: dict[str, float] = field(default_factory=dict)  # time in each git subcommand

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def generate_store(out: Path, customers: int, per: int = 10, *, seed: int = DEFAULT_SEED, now: str | None = None,
                   jobs: int | None = None, quiet: bool = False, rows: list[dict] | None = None) -> Stats:
    """Create a store in ``out`` holding ``customers`` generated customers, in one commit."""
    from crmcli.store import git
    from crmcli.store.location import init_store

    _git_identity()
    now_iso = _now_iso(now)
    t_start = time.perf_counter()
    out = out.expanduser()
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out}: not empty; give a new folder for the store")
    out.mkdir(parents=True, exist_ok=True)
    if not (out / ".git").exists():
        # Its own repository even below another work tree (bench/data/ is inside the project's):
        # init_store would otherwise commit into the enclosing repository.
        git.init(out)
    store = init_store(out, name=out.name, author=AUTHOR)
    seeds = customer_seeds(customers, seed)
    stats = Stats(customers=customers)
    taken: set[str] = set()
    clash = random.Random(seed ^ 0x5EED)
    progress = Progress(customers, "customers", quiet)
    t_build = time.perf_counter()
    message = f"Generate {customers:,} customers for benchmarks"
    with _timed_git(stats.git_s), store.transaction(message, action="bench.generate", bulk=True) as tx:
        for n, b in enumerate(_built(seeds, seed, now_iso, per, True, jobs or os.cpu_count() or 1), 1):
            cid = f"{b.slug}-{b.suffix}"
            while cid in taken:  # same slug and suffix twice: rare, still deterministic
                cid = f"{b.slug}-{''.join(clash.choice(LOCAL_ALPHABET) for _ in range(4))}"
            taken.add(cid)
            tx.write(store.customer_file(cid), b.customer_text)
            for year, text in b.journals.items():
                tx.write(store.journal_file(cid, year), text)
            stats.events += b.events
            stats.files += 1 + len(b.journals)
            if rows is not None:
                rows.append(dict(b.row, id=cid))
            progress(n)
        stats.build_s = time.perf_counter() - t_build
        if not quiet:
            print(f"  committing {stats.files:,} files (sync, git fast-import, index refresh)...",
                  file=sys.stderr, flush=True)
        t_commit = time.perf_counter()
    stats.commit_s = time.perf_counter() - t_commit
    stats.total_s = time.perf_counter() - t_start
    stats.commit = store.last_commit
    return stats


@contextlib.contextmanager
def _timed_git(into: dict[str, float]) -> Iterator[None]:
    """Add up the wall time of each git subcommand the library runs (and of os.sync)."""
    from crmcli.store import git

    real_run, real_sync = git.run, os.sync

    def run(args: Any, *a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return real_run(args, *a, **k)
        finally:
            into[args[0]] = into.get(args[0], 0.0) + time.perf_counter() - t

    def sync() -> None:
        t = time.perf_counter()
        real_sync()
        into["os.sync"] = into.get("os.sync", 0.0) + time.perf_counter() - t

    git.run, os.sync = run, sync  # type: ignore[assignment]
    try:
        yield
    finally:
        git.run, os.sync = real_run, real_sync  # type: ignore[assignment]


def import_rows(customers: int, seed: int = DEFAULT_SEED, jobs: int | None = None) -> list[dict]:
    """The rows of the import files alone (no store, no journal)."""
    seeds = customer_seeds(customers, seed)
    return [dict(b.row) for b in _built(seeds, seed, _now_iso(None), 0, False, jobs or os.cpu_count() or 1)]


def write_csv(path: Path, rows: Iterable[dict], headers: str = "en") -> None:
    names = CSV_HEADERS[headers]
    keys = ["name", "contact", "email", "phone", "industry", "owner", "tier"][: len(names)]
    path.parent.mkdir(parents=True, exist_ok=True)
    # Chinese spreadsheets are usually saved by Excel: UTF-8 with a byte-order mark.
    with open(path, "w", encoding="utf-8-sig" if headers == "zh" else "utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for r in rows:
            w.writerow([_localize(k, r[k], headers) for k in keys])


def write_xlsx(path: Path, rows: Iterable[dict], headers: str = "en") -> None:
    from openpyxl import Workbook

    names = CSV_HEADERS[headers]
    keys = ["name", "contact", "email", "phone", "industry", "owner", "tier"][: len(names)]
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户" if headers == "zh" else "Customers")
    ws.append(names)
    for r in rows:
        ws.append([_localize(k, r[k], headers) for k in keys])
    wb.save(path)


def _localize(key: str, value: str, headers: str) -> str:
    return ZH_INDUSTRY.get(value, value) if headers == "zh" and key == "industry" else value


def _now_iso(now: str | None) -> str:
    from crmcli.domain import dates

    if now:
        dt = dates.parse_when(now)
    else:
        dt = dates.now().replace(hour=0, minute=0, second=0)
    return dt.isoformat()


def _git_identity() -> None:
    for var, value in (("GIT_AUTHOR_NAME", "Bench Generator"), ("GIT_AUTHOR_EMAIL", "bench@example.com"),
                       ("GIT_COMMITTER_NAME", "Bench Generator"), ("GIT_COMMITTER_EMAIL", "bench@example.com")):
        os.environ.setdefault(var, value)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, required=True, help="How many customers.")
    p.add_argument("--interactions-per", type=int, default=10,
                   help="Average journal events per customer (interactions, tasks, deals, tickets...).")
    p.add_argument("--out", type=Path, help="New store folder (must not exist yet, or be empty).")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--now", help="Anchor date: events fall in the two years before it (default: today).")
    p.add_argument("--csv", type=Path, help="Also write the customers as an import CSV.")
    p.add_argument("--xlsx", type=Path, help="Also write the customers as an import .xlsx.")
    p.add_argument("--headers", choices=sorted(CSV_HEADERS), default="en",
                   help="Column headers of the import files: en (Company Name, ...) or zh (客户名称, ...).")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="Worker processes building YAML.")
    p.add_argument("--quiet", "-q", action="store_true")
    args = p.parse_args(argv)
    if not (args.out or args.csv or args.xlsx):
        p.error("give --out DIR, --csv FILE or --xlsx FILE")
    if args.customers < 0:
        p.error("--customers must be 0 or more")
    rows: list[dict] | None = [] if (args.csv or args.xlsx) else None
    if args.out:
        stats = generate_store(args.out, args.customers, args.interactions_per, seed=args.seed, now=args.now,
                               jobs=args.jobs, quiet=args.quiet, rows=rows)
        print(json.dumps({"store": str(args.out), **stats.to_dict()}))
    else:
        rows = import_rows(args.customers, args.seed, args.jobs)
    if args.csv:
        write_csv(args.csv, rows or [], args.headers)
    if args.xlsx:
        write_xlsx(args.xlsx, rows or [], args.headers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
