#!/usr/bin/env bash
# `make demo`: run crm on a copy of the bundled records/ sample, showing real output.
# The copy (default build/demo-records) gets its own git repository, so nothing is
# committed into this project. Dates are pinned to 2026-11-23 so the output is stable.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
demo=${1:-$here/build/demo-records}
crm() { "$here/.venv/bin/crm" "$@"; }
export CRM_TZ=${CRM_TZ:-Asia/Shanghai} CRM_NOW=${CRM_NOW:-2026-11-23T10:00:00+08:00}
export CRM_AUTHOR=${CRM_AUTHOR:-"Demo User <demo@example.com>"}
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-Demo User} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@example.com}
export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-Demo User} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-demo@example.com}
export CRM_RECORDS=$demo

rm -rf "$demo"
mkdir -p "$(dirname "$demo")"
cp -r "$here/records" "$demo"
git -C "$demo" init -q
git -C "$demo" add -A
git -C "$demo" commit -q -m "Sample records"

if [ -t 1 ] && [ -z "${NO_COLOR+x}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
# the command as it can be pasted back: an argument with spaces or shell characters in single quotes
quote() {
  local a out=()
  for a in "$@"; do
    if [[ -z $a || $a == *[[:space:]\'\"\$\`\\\!\*\?\(\)\<\>\|\&\;\#\~\[\]\{\}]* ]]; then
      out+=("'${a//\'/\'\\\'\'}'")
    else
      out+=("$a")
    fi
  done
  printf '%s' "${out[*]}"
}
show() { printf '\n%s$ %s%s\n' "$bold" "$(quote "$@")" "$plain"; "$@"; }
has() { crm "$1" --help >/dev/null 2>&1; }

show crm customer list
show crm customer show 深圳市基石协作科技有限公司
show crm log acme call "Raj confirmed the export fix works" --contact "Raj Patel" --duration 10m
show crm timeline acme --limit 8
if has agenda; then show crm agenda --days 7; fi
if has pipeline; then show crm pipeline; fi
if has opp; then show crm opp list --open; fi
if has ticket; then show crm ticket list --open; fi
if has show; then show crm show acme; fi
if has kb; then show crm kb list; show crm kb search 排课; show crm ticket show tkt-q7hz; fi
if has care; then show crm care; fi
if has need; then
  show crm need add acme "Export straight to PDF" --product Analytics --tag pdf-export
  show crm feedback add acme "Export crashes on very large plants" --type problem --ticket --priority high
  show crm report needs --section top_needs
fi
if has ticket; then show crm ticket escalate --dry-run; fi
if has report; then show crm report weekly --week 2026-W47; fi
if has lead; then
  show crm customer add "Lin Hua" --kind person --source wechat
  show crm log --eml "$here/scripts/demo/lead.eml"       # an email from an unknown sender: a new lead
  show crm lead assign --dry-run
  show crm lead assign
  show crm report funnel --section steps
fi
if has campaign; then
  show crm campaign list
  show crm campaign member customer-dinner-2026 --from-file "$here/scripts/demo/dinner-responses.csv"
  show crm campaign show customer-dinner-2026
  show crm report campaigns --section campaigns
fi
if has points; then
  show crm points show globex
  show crm show globex                                   # loyalty, referrals and the health score's loyalty part
  show crm report referrals --section referrers
  show crm report loyalty --section tiers
fi
show crm history acme -n 3
show crm check
printf '\nThe demo store is %s (its own git repo: try git -C %s log --stat).\n' "$demo" "$demo"
