#!/usr/bin/env bash
# Rebuild the bundled sample store records/ by running real crm commands at fixed dates.
# Usage: scripts/build_sample.sh [OUT]   (default: records; needs crm on PATH or .venv)
# The sample tells the story of a dozen customers from 2025 to 2026-11-23, the date `make demo` pins.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$here/records}")
CRM=${CRM:-$here/.venv/bin/crm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CRM_TZ=Asia/Shanghai NO_COLOR=1
export GIT_AUTHOR_NAME="Sample Builder" GIT_AUTHOR_EMAIL=sample@example.com
export GIT_COMMITTER_NAME="Sample Builder" GIT_COMMITTER_EMAIL=sample@example.com
"$CRM" init "$work/records" --name "Sample records" >/dev/null 2>&1
cd "$work/records"
# at DATE [--as 'Name <email>'] CMD...: run crm as of DATE (local time)
at() {
  local when=$1; shift
  CRM_NOW="$when" "$CRM" "$@" 2>"$work/err" || { echo "failed: crm $*" >&2; cat "$work/err" >&2; exit 1; }
}
as() { local who=$1; shift; CRM_AUTHOR="$who" "$@"; }
WF='王芳 <wang.fang@example.cn>'; ZQ='张强 <zhang.qiang@example.cn>'
AL='alice <alice@example.com>'; BO='bob <bob@example.com>'

# --- customers ------------------------------------------------------------------------------------
js=$(as "$WF" at 2025-03-02T09:15 customer add 深圳市基石协作科技有限公司 --industry 软件 --size 200-500 --tier A \
  --owner 王芳 --source referral --tag saas --tag 重点客户 --email info@jishi.example.cn \
  --phone "+86 755 8888 0000" --website https://jishi.example.cn --address 深圳市南山区科技园 --touch-every 30d \
  --contact "李娜 <li.na@jishi.example.cn>, 138 0013 8000" --contact "陈伟 <chen.wei@jishi.example.cn>")
acme=$(as "$AL" at 2025-01-10T10:00 customer add "Acme Robotics Inc." --industry manufacturing --size 500-1000 \
  --tier A --owner alice --source trade-show --tag hardware --website https://acme-robotics.example \
  --touch-every 21d --contact "Jane Doe <jane.doe@acme-robotics.example>, +1 415 555 0100" \
  --contact "Raj Patel <raj.patel@acme-robotics.example>")
yf=$(as "$ZQ" at 2026-08-15T11:00 customer add 北京云帆数据有限公司 --industry 数据分析 --size 50-200 --tier B \
  --owner 张强 --source website --tag data --contact "赵敏 <zhao.min@yunfan.example.cn>, 139 1000 2000")
nw=$(as "$BO" at 2025-06-01T09:00 customer add "Northwind Traders" --industry retail --size 200-500 --tier B \
  --owner bob --source outbound --tag retail --touch-every 45d \
  --contact "Laura Callahan <laura@northwind.example>, +44 20 7946 0958")
ly=$(as "$WF" at 2026-11-02T15:00 customer add 上海绿源食品有限公司 --industry 食品 --size 50-200 --tier C \
  --owner 王芳 --source 展会 --contact "孙丽 <sun.li@lvyuan.example.cn>")
gx=$(as "$AL" at 2024-09-12T10:00 customer add "Globex Health GmbH" --industry healthcare --size 1000+ --tier A \
  --owner alice --source referral --tag enterprise --touch-every 30d \
  --contact "Klaus Weber <k.weber@globex-health.example>, +49 30 1234567")
qs=$(as "$ZQ" at 2025-09-01T10:00 customer add 杭州青山教育科技 --industry 教育 --size 50-200 --tier B \
  --owner 张强 --source referral --contact "周杰 <zhou.jie@qingshan.example.cn>")
it=$(as "$BO" at 2024-11-20T10:00 customer add "Initech Consulting LLC" --industry consulting --size 10-50 \
  --tier C --owner bob --source outbound --contact "Peter Gibbons <peter@initech.example>")
wx=$(as "$WF" at 2026-10-20T10:00 customer add 王小明 --kind person --tier C --owner 王芳 --source 微信 \
  --phone "186 2000 3000" --email xiaoming.wang@example.cn --birthday 1990-11-28)
mg=$(as "$AL" at 2026-09-05T10:00 customer add "Maria Garcia" --kind person --tier D --owner alice \
  --source website --email maria.garcia@example.com --industry freelance)
tf=$(as "$ZQ" at 2026-07-01T10:00 customer add 成都天府物流集团 --industry 物流 --size 1000+ --tier B \
  --owner 张强 --source 招标 --contact "刘洋 <liu.yang@tianfu.example.cn>, 135 5000 6000")
bh=$(as "$BO" at 2025-02-14T10:00 customer add "Blue Harbor Hotels" --industry hospitality --size 500-1000 \
  --tier B --owner bob --source referral --touch-every 30d \
  --contact "Emma Stone <emma.stone@blueharbor.example>, +1 212 555 0199")

# --- 深圳基石: repeat customer, renewal coming --------------------------------------------------------------
as "$WF" at 2025-03-02T09:20 log "$js" call "客户通过合作伙伴介绍来电，咨询协作平台" --contact 李娜 --direction in --duration 20m
o=$(as "$WF" at 2025-03-05T14:00 opp add "$js" 协作平台首年订阅 --amount 180000 --close 2025-04-30 --stage qualified --product "Team Suite" --source referral)
as "$WF" at 2025-03-20T16:00 log "$js" meeting "现场演示，技术评估通过" --contact 陈伟 --duration 1h30m
as "$WF" at 2025-03-21T09:00 opp advance "$o" proposal
as "$WF" at 2025-04-10T11:00 opp advance "$o" negotiation
as "$WF" at 2025-04-28T15:00 opp win "$o" --amount 168000 --order
as "$WF" at 2025-04-28T15:10 contract add "$js" --value 168000 --start 2025-05-01 --end 2026-04-30 --renew-notice 60d
as "$WF" at 2026-04-20T10:00 contract add "$js" --value 198000 --start 2026-05-01 --end 2027-04-30 --renew-notice 60d
as "$WF" at 2026-04-20T10:05 order add "$js" --amount 198000 --date 2026-04-20 --product "Team Suite 续约"
t1=$(as "$WF" at 2026-10-09T09:30 ticket open "$js" "单点登录偶发失败" --priority high --category bug --channel email --assignee 张强 -m "部分员工登录时跳回登录页")
as "$ZQ" at 2026-10-09T11:00 ticket comment "$t1" "已复现，与证书轮换有关"
as "$ZQ" at 2026-10-10T17:00 ticket close "$t1" --resolution "更新证书链并延长会话" --csat 5
o=$(as "$WF" at 2026-10-15T10:00 opp add "$js" 增购数据分析模块 --amount 96000 --close 2026-12-15 --stage proposal --product Analytics)
as "$WF" at 2026-11-18T15:00 log "$js" call "确认增购意向，等待法务审核" --contact 李娜 --duration 25m --follow-up 2026-11-25 --task "跟进法务审核进度"
as "$WF" at 2026-11-19T10:00 opp advance "$o"
as "$WF" at 2026-11-19T10:30 survey "$js" --csat 5 --nps 9 -m "支持响应很快"

# --- Acme Robotics: large deal in negotiation, one complaint ----------------------------------------------
as "$AL" at 2025-01-10T10:30 log "$acme" meeting "Met at Hannover Messe; interested in fleet analytics" --contact "Jane Doe" --duration 45m
o=$(as "$AL" at 2025-02-01T10:00 opp add "$acme" "Fleet analytics pilot" --amount 60000 --close 2025-03-31 --stage proposal --product Analytics)
as "$AL" at 2025-03-25T10:00 opp win "$o" --order
as "$AL" at 2025-04-01T10:00 contract add "$acme" --value 60000 --start 2025-04-01 --end 2026-03-31 --renew-notice 30d
as "$AL" at 2025-10-01T10:00 order add "$acme" --amount 42000 --date 2025-10-01 --product "Extra sensors"
o=$(as "$AL" at 2026-09-01T10:00 opp add "$acme" "Plant-wide rollout" --amount 420000 --close 2026-12-20 --stage qualified --product "Team Suite")
as "$AL" at 2026-10-05T10:00 opp advance "$o"
as "$AL" at 2026-11-10T10:00 opp advance "$o"
as "$AL" at 2026-11-10T14:00 log "$acme" email "Sent revised pricing for 3 plants" --contact "Raj Patel" --direction out
t2=$(as "$AL" at 2026-11-12T08:00 ticket open "$acme" "Dashboard export times out" --priority urgent --category complaint --channel phone --assignee bob -m "Weekly export fails for plant 2")
as "$BO" at 2026-11-12T12:00 ticket comment "$t2" "Investigating query plan"
as "$BO" at 2026-11-13T09:00 ticket status "$t2" waiting
as "$AL" at 2026-11-20T16:00 log "$acme" call "Raj escalated export issue; promised fix this week" --contact "Raj Patel" --duration 30m --follow-up "2026-11-24 09:00" --task "Confirm export fix with Raj"

# --- 北京云帆: new prospect ------------------------------------------------------------------------
as "$ZQ" at 2026-08-15T11:30 log "$yf" chat "官网咨询，需要私有化部署方案" --contact 赵敏 --direction in
o=$(as "$ZQ" at 2026-09-10T10:00 opp add "$yf" 私有化部署 --amount 250000 --close 2026-12-31 --stage lead --product "On-prem")
as "$ZQ" at 2026-10-12T10:00 opp advance "$o" qualified
as "$ZQ" at 2026-11-05T14:00 log "$yf" meeting "方案评审，对方关注数据安全" --contact 赵敏 --duration 2h
as "$ZQ" at 2026-11-05T16:00 task add "$yf" "准备安全白皮书" --due 2026-11-16

# --- Northwind: customer losing touch --------------------------------------------------------------
o=$(as "$BO" at 2025-06-10T10:00 opp add "$nw" "POS integration" --amount 85000 --close 2025-08-31 --stage proposal)
as "$BO" at 2025-08-20T10:00 opp win "$o" --order
as "$BO" at 2025-09-01T10:00 log "$nw" call "Kick-off done, go-live planned for October" --contact "Laura Callahan" --duration 30m
as "$BO" at 2026-09-10T10:00 log "$nw" email "Quarterly check-in, no reply yet" --direction out
t3=$(as "$BO" at 2026-10-20T10:00 ticket open "$nw" "Receipt printer drops Chinese characters" --priority normal --category bug --channel email)
as "$BO" at 2026-10-21T09:00 ticket comment "$t3" "Asked for printer model and firmware"

# --- 上海绿源: fresh lead ---------------------------------------------------------------------------------
as "$WF" at 2026-11-02T15:30 log "$ly" visit "展会后拜访工厂，了解冷链管理需求" --contact 孙丽 --duration 1h
o=$(as "$WF" at 2026-11-03T10:00 opp add "$ly" 冷链追踪试点 --amount 45000 --close 2027-01-31 --stage lead)
as "$WF" at 2026-11-03T10:05 task add "$ly" "发送试点方案" --due 2026-11-24

# --- Globex: loyal account, contract ending ------------------------------------------------------------
o=$(as "$AL" at 2024-10-01T10:00 opp add "$gx" "Clinic network licence" --amount 300000 --close 2024-12-15 --stage negotiation)
as "$AL" at 2024-12-10T10:00 opp win "$o" --order
as "$AL" at 2024-12-15T10:00 contract add "$gx" --value 300000 --start 2025-01-01 --end 2026-12-31 --renew-notice 90d
as "$AL" at 2025-06-01T10:00 order add "$gx" --amount 55000 --date 2025-06-01 --product "Training"
as "$AL" at 2026-02-01T10:00 order add "$gx" --amount 60000 --date 2026-02-01 --product "Training"
as "$AL" at 2026-10-28T10:00 log "$gx" meeting "QBR: happy with uptime, asks about renewal terms" --contact "Klaus Weber" --duration 1h
as "$AL" at 2026-10-29T10:00 survey "$gx" --csat 4 --nps 8 -m "Solid, renewal pricing is the open point"
as "$AL" at 2026-10-29T10:05 customer edit "$gx" --set stage=loyal

# --- 杭州青山: customer with two complaints ------------------------------------------------------------
o=$(as "$ZQ" at 2025-09-05T10:00 opp add "$qs" 校区管理系统 --amount 120000 --close 2025-11-30 --stage proposal)
as "$ZQ" at 2025-11-25T10:00 opp win "$o" --order
t4=$(as "$ZQ" at 2026-11-04T09:00 ticket open "$qs" 排课功能数据丢失 --priority high --category complaint --channel phone -m 周一排课数据不见了)
as "$ZQ" at 2026-11-04T15:00 ticket comment "$t4" "已从备份恢复，原因排查中"
t5=$(as "$ZQ" at 2026-11-16T10:00 ticket open "$qs" 响应太慢 --priority normal --category complaint --channel chat)
as "$ZQ" at 2026-11-17T10:00 survey "$qs" --csat 2 --nps 3 -m 最近问题较多

# --- Initech: churned -------------------------------------------------------------------------
o=$(as "$BO" at 2024-12-01T10:00 opp add "$it" "Process audit tooling" --amount 30000 --close 2025-01-31 --stage proposal)
as "$BO" at 2025-01-20T10:00 opp win "$o" --order
o=$(as "$BO" at 2025-11-01T10:00 opp add "$it" "Renewal 2026" --amount 30000 --close 2025-12-31 --stage negotiation)
as "$BO" at 2025-12-20T10:00 opp lose "$o" --reason "Budget cut; moved to spreadsheets"
as "$BO" at 2025-12-21T10:00 customer edit "$it" --set stage=churned

# --- people and the rest --------------------------------------------------------------------------
as "$WF" at 2026-10-20T10:30 log "$wx" chat "微信咨询个人版价格" --direction in
as "$AL" at 2026-09-05T10:30 log "$mg" email "Asked for a freelancer plan" --direction in
o=$(as "$AL" at 2026-09-06T10:00 opp add "$mg" "Freelancer plan" --amount 1200 --close 2026-11-15 --stage proposal)
o=$(as "$ZQ" at 2026-07-05T10:00 opp add "$tf" 仓储调度平台招标 --amount 800000 --close 2026-10-31 --stage proposal)
as "$ZQ" at 2026-10-30T10:00 opp lose "$o" --reason 价格高于竞争对手
as "$ZQ" at 2026-11-10T10:00 log "$tf" call "复盘丢单原因，客户愿意参加明年招标" --contact 刘洋 --duration 20m
o=$(as "$BO" at 2025-02-20T10:00 opp add "$bh" "Guest messaging" --amount 70000 --close 2025-04-30 --stage proposal)
as "$BO" at 2025-04-15T10:00 opp win "$o" --order
as "$BO" at 2025-05-01T10:00 contract add "$bh" --value 70000 --start 2025-05-01 --end 2026-12-31 --renew-notice 45d
as "$BO" at 2026-11-21T10:00 log "$bh" meeting "Renewal talk; wants multi-property pricing" --contact "Emma Stone" --duration 45m
as "$BO" at 2026-11-21T11:00 task add "$bh" "Draft multi-property quote" --due 2026-11-26

# --- growth (issue 19): lead rules, loyalty, a webinar, a customer dinner, a referral, points ---------------
cat >> crm.yaml <<'YAML'
leads:
  first_touch_days: 3
  assign:
  - match: {source: [微信, wechat]}
    owner: 王芳
  - team: [alice, bob]
    method: load
loyalty:
  point_value: 0.01
  earn:
    per_order_amount: 1000
    per_referral: 200
    per_survey: 20
  tier_by: points
  tiers:
  - name: silver
    points: 200
  - name: gold
    points: 1000
referrals:
  reward: 500
YAML
git add crm.yaml && git -c user.name="Sample Builder" -c user.email=sample@example.com commit -q -m "Lead, loyalty and referral rules"
as "$ZQ" at 2026-07-20T09:00 campaign add summer-webinar-2026 --kind webinar --title "Data platform summer webinar" \
  --cost 8000 --start 2026-08-14 --end 2026-08-14 >/dev/null
as "$AL" at 2026-09-25T09:00 campaign add customer-dinner-2026 --kind event --title "Customer appreciation dinner" \
  --cost 15000 --start 2026-10-20 --end 2026-10-20 >/dev/null
as "$ZQ" at 2026-08-15T11:05 campaign respond summer-webinar-2026 "$yf" --response attended >/dev/null
as "$ZQ" at 2026-08-15T11:05 campaign respond summer-webinar-2026 "$yf" --response converted \
  --note "Asked for an on-prem offer after the webinar" >/dev/null
as "$AL" at 2026-10-01T09:00 campaign respond customer-dinner-2026 "$gx" "$nw" --response invited >/dev/null
as "$AL" at 2026-10-20T22:00 campaign respond customer-dinner-2026 "$gx" --response attended \
  --note "Brought their new CIO" >/dev/null
as "$BO" at 2026-10-30T10:00 customer edit "$bh" --set referred_by="$gx" >/dev/null
as "$AL" at 2026-11-01T09:00 points earn "$gx" 60 --reason "order of 2026-02-01" >/dev/null
as "$AL" at 2026-11-05T09:00 points redeem "$gx" 20 --reason "Training voucher" >/dev/null

"$CRM" check
rm -rf "$out"
mkdir -p "$out"
cp -r crm.yaml .gitignore .gitattributes customers campaigns "$out/"
echo "Sample written to $out ($(find "$out/customers" -name customer.yaml | wc -l) customers)"
