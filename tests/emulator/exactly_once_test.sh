#!/usr/bin/env bash
# Black-box test of the dojo-emulator features that make exactly-once payment
# creation hard: slow commits (commitDelayMs), search lag, busy accounts (bulk
# creation) and search pagination under concurrent creates, key rotation.
# Usage: tests/emulator/exactly_once_test.sh PATH/TO/dojo-emulator
# Needs curl and jq. Runs in about 10 s.
set -euo pipefail

bin=$(realpath "$1")
work=$(mktemp -d)
pid=
bg=
cleanup() {
  [[ -n $bg ]] && kill "$bg" 2>/dev/null && wait "$bg" 2>/dev/null || true
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  # Kept for the whole-suite secrets scan (scripts/scan-secrets.sh).
  [ -n "${PAYMENTS_TEST_KEEP_DIRS:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# alice has two keys (rotation); bob is another account.
printf 'alice=sk_sandbox_alice_key\nbob=sk_sandbox_bob_key\nalice=sk_sandbox_alice_rotated\n' >"$work/keys"
"$bin" --api-keys="$work/keys" --port-file="$work/ports.json" \
  >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 50); do [[ -s $work/ports.json ]] && break; sleep 0.1; done
B=http://127.0.0.1:$(jq .http "$work/ports.json")
E=$B/_emulator
A='Authorization: Basic sk_sandbox_alice_key'
A2='Authorization: Basic sk_sandbox_alice_rotated'
Bob='Authorization: Basic sk_sandbox_bob_key'
V='version: 2026-02-27'
C='Content-Type: application/json'
failures=0
expect() {  # expect NAME WANT GOT
  if [[ $2 == "$3" ]]; then echo "ok   $1"; else
    echo "FAIL $1: want '$2', got '$3'"; failures=$((failures + 1)); fi
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
ts_ms() { echo $(($(date -u -d "$1" +%s%N) / 1000000)); }  # ISO -> epoch ms
body() { printf '{"amount":{"value":1000,"currencyCode":"GBP"},"reference":"%s"}' "$1"; }
create() {  # create REFERENCE [KEY HEADER] -> the intent JSON
  curl -s $B/payment-intents -H "${2:-$A}" -H "$V" -H "$C" -d "$(body "$1")"
}
search() {  # search JSON [KEY HEADER] -> the page JSON
  curl -s $B/payment-intents/search -H "${2:-$A}" -H "$V" -H "$C" -d "$1"
}
control_count() { curl -s "$E/payment-intents?reference=$1" | jq '.data | length'; }
# The intent id of the newest logged request (known before the client is
# answered, because the handler runs at receipt).
last_logged_id() { curl -s $E/requests | jq -r '.requests[-1].intentId'; }
in_search() {  # in_search ID -> 1 if alice's newest-100 search holds it
  search '{"cursor":{"limit":100}}' | jq --arg id "$1" '[.data[].id] | index($id) != null | if . then 1 else 0 end'
}

# --- 1. Slow commit: the client times out, the intent appears later --------
expect "fault with status and commitDelayMs rejected" 400 \
  "$(code $E/faults -d '{"path":"/payment-intents","responses":[{"status":503,"commitDelayMs":100}]}')"
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents","responses":[{"commitDelayMs":1500}]}' >/dev/null
expect "faults echo commitDelayMs" 1500 "$(curl -s $E/faults | jq '.faults[0].responses[0].commitDelayMs')"
t0=$(now_ms)
rc=0
curl -s --max-time 0.5 $B/payment-intents -H "$A" -H "$V" -H "$C" -d "$(body slow-1)" >/dev/null || rc=$?
expect "slow commit: client times out (curl 28)" 28 "$rc"
slow=$(last_logged_id)
expect "slow commit: id allocated at receipt" 1 "$([[ $slow == pi_sandbox_* ]] && echo 1)"
expect "slow commit: GET before commit" 404 "$(code $B/payment-intents/$slow -H "$A" -H "$V")"
expect "slow commit: search before commit" 0 "$(in_search "$slow")"
expect "slow commit: control listing before commit" 0 "$(control_count slow-1)"
expect "slow commit: control GET before commit" 404 "$(code $E/payment-intents/$slow)"
expect "slow commit: cancel before commit" 404 "$(code -X DELETE $B/payment-intents/$slow -H "$A" -H "$V")"
expect "slow commit: refresh before commit" 404 "$(code -X POST $B/payment-intents/$slow/refresh-client-session-secret -H "$A" -H "$V")"
expect "slow commit: checks ran before the commit" 1 "$(($(now_ms) - t0 < 1400 ? 1 : 0))"
sleep "$(awk -v e=$(($(now_ms) - t0)) 'BEGIN { printf "%.3f", (1650 - e) / 1000 }')"
expect "slow commit: GET after commit" 200 "$(code $B/payment-intents/$slow -H "$A" -H "$V")"
expect "slow commit: search after commit" 1 "$(in_search "$slow")"
expect "slow commit: control listing after commit" 1 "$(control_count slow-1)"
created=$(curl -s $E/payment-intents/$slow | jq -r .createdAt)
expect "slow commit: createdAt is the receipt time" 1 \
  "$(d=$(($(ts_ms "$created") - t0)); ((d >= -50 && d < 400)) && echo 1)"

# The answer itself waits for the commit.
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents","responses":[{"commitDelayMs":1000}]}' >/dev/null
out=$(curl -s -w '\n%{http_code} %{time_total}' $B/payment-intents -H "$A" -H "$V" -H "$C" -d "$(body slow-2)")
expect "slow commit: answered 200 at commit" 1 \
  "$(awk 'NR == 2 && $1 == 200 && $2 >= 1.0 { print 1 }' <<<"$out")"
expect "slow commit: answered intent is visible" 200 \
  "$(code $B/payment-intents/$(head -1 <<<"$out" | jq -r .id) -H "$A" -H "$V")"

# processThenDrop: commit after 1 s, then close without answering.
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents","responses":[{"commitDelayMs":1000,"processThenDrop":true}]}' >/dev/null
t0=$(now_ms)
curl -s -o /dev/null -w '%{time_total}' $B/payment-intents -H "$A" -H "$V" -H "$C" -d "$(body ptd-slow)" \
  >"$work/ptd.time" 2>/dev/null &
bg=$!
sleep 0.3
expect "processThenDrop+commitDelayMs: absent before commit" 0 "$(control_count ptd-slow)"
rc=0
wait "$bg" || rc=$?
bg=
expect "processThenDrop+commitDelayMs: dropped (curl 52)" 52 "$rc"
expect "processThenDrop+commitDelayMs: dropped at commit" 1 "$(($(now_ms) - t0 >= 1000 ? 1 : 0))"
expect "processThenDrop+commitDelayMs: committed" 1 "$(control_count ptd-slow)"

# processThenStatus: the intent is created, the answer says 503.
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents","responses":[{"processThenStatus":503}]}' >/dev/null
expect "processThenStatus: answered 503" 503 \
  "$(code $B/payment-intents -H "$A" -H "$V" -H "$C" -d "$(body pts-1)")"
expect "processThenStatus: created anyway" 1 "$(control_count pts-1)"
expect "processThenStatus with status rejected" 400 \
  "$(code $E/faults -d '{"path":"/payment-intents","responses":[{"status":500,"processThenStatus":503}]}')"

# --- 2. Search lag ---------------------------------------------------------
expect "settings default" 0 "$(curl -s $E/settings | jq .searchLagMs)"
expect "settings reject unknown" 400 "$(code $E/settings -d '{"searchLag":1}')"
expect "settings set" 1500 "$(curl -s $E/settings -d '{"searchLagMs":1500}' | jq .searchLagMs)"
t0=$(now_ms)
lag=$(create lag-1 | jq -r .id)
expect "search lag: GET sees it at once" 200 "$(code $B/payment-intents/$lag -H "$A" -H "$V")"
expect "search lag: control listing sees it at once" 1 "$(control_count lag-1)"
expect "search lag: search does not yet" 0 "$(in_search "$lag")"
expect "search lag: checks ran within the lag" 1 "$(($(now_ms) - t0 < 1400 ? 1 : 0))"
sleep "$(awk -v e=$(($(now_ms) - t0)) 'BEGIN { printf "%.3f", (1600 - e) / 1000 }')"
expect "search lag: search sees it after the lag" 1 "$(in_search "$lag")"
curl -s -X POST $E/reset >/dev/null
expect "reset restores the search lag" 0 "$(curl -s $E/settings | jq .searchLagMs)"

# --- 3. Busy account: bulk, then page a date window ------------------------
expect "bulk rejects count 0" 400 "$(code $E/payment-intents/bulk -d '{"account":"alice","count":0}')"
expect "bulk rejects count 100001" 400 "$(code $E/payment-intents/bulk -d '{"account":"alice","count":100001}')"
expect "bulk rejects a missing account" 400 "$(code $E/payment-intents/bulk -d '{"count":1}')"
create pre >/dev/null
sleep 0.01
first=$(create w-first)
t_bulk=$(now_ms)
out=$(curl -s -w ' %{time_total}' $E/payment-intents/bulk -d '{"account":"alice","count":5000,"referencePrefix":"bulk-","amount":{"value":100,"currencyCode":"GBP"}}')
expect "bulk 5000 answer" '{"created":5000}' "${out% *}"
expect "bulk 5000 under a second" 1 "$(awk -v t="${out##* }" 'BEGIN { print (t < 1.0) ? 1 : 0 }')"
curl -s $E/payment-intents/bulk -d '{"account":"bob","count":10}' >/dev/null
sleep 0.01
last=$(create w-last)
sleep 0.01
create post >/dev/null
start=$(jq -r .createdAt <<<"$first")
end=$(jq -r .createdAt <<<"$last")
b0=$(curl -s "$E/payment-intents?reference=bulk-0")
b0id=$(jq -r '.data[0].id' <<<"$b0")
expect "bulk intent is a valid Created intent" "Created 100 GBP 1" \
  "$(jq -r '.data[0] | "\(.status) \(.amount.value) \(.amount.currencyCode) \(.id | test("^pi_sandbox_[A-Za-z0-9_-]{22}$") | if . then 1 else 0 end)"' <<<"$b0")"
expect "bulk intent belongs to alice" "200 404" \
  "$(code $B/payment-intents/$b0id -H "$A" -H "$V") $(code $B/payment-intents/$b0id -H "$Bob" -H "$V")"
expect "bulk createdAt defaults to now" 1 \
  "$(d=$(($(ts_ms "$(jq -r '.data[0].createdAt' <<<"$b0")") - t_bulk)); ((d >= -50 && d < 1000)) && echo 1)"

# page QUERY_WITHOUT_CURSOR OUT_IDS [between-pages command]: follows `after`
# with limit 100 until it is null; records ids and the number of pages.
page() {
  local q=$1 out=$2 after="" p pages=0
  : >"$out"
  while :; do
    if [[ -n $after ]]; then
      p=$(search "$(jq -c --arg a "$after" '.cursor = {limit: 100, after: $a}' <<<"$q")")
    else
      p=$(search "$(jq -c '.cursor = {limit: 100}' <<<"$q")")
    fi
    pages=$((pages + 1))
    jq -r '.data[] | "\(.id) \(.createdAt)"' <<<"$p" >>"$out"
    after=$(jq -r '.after // empty' <<<"$p")
    [[ -z $after ]] && break
    ((pages > 200)) && break
    [[ -n ${3:-} ]] && eval "$3"
  done
  echo "$pages"
}
window=$(jq -nc --arg s "$start" --arg e "$end" '{startDate: $s, endDate: $e}')
pages=$(page "$window" "$work/window")
ids() { cut -d' ' -f1 "$1"; }
expect "window: 5002 intents read" 5002 "$(wc -l <"$work/window")"
expect "window: each exactly once" 5002 "$(ids "$work/window" | sort -u | wc -l)"
expect "window: 51 pages, the last with after null" 51 "$pages"
expect "window: all bulk intents + both bounds (inclusive)" 5002 \
  "$(curl -s "$E/payment-intents?account=alice" | jq -r --arg f "$(jq -r .id <<<"$first")" --arg l "$(jq -r .id <<<"$last")" \
       '.data[] | select((.reference | startswith("bulk-")) or .id == $f or .id == $l) | .id' |
     sort | comm -12 - <(ids "$work/window" | sort) | wc -l)"
expect "window: newest first" 1 \
  "$(cut -d' ' -f2 "$work/window" | LC_ALL=C sort -rc 2>/dev/null && echo 1)"
p1=$(search "$(jq -c '.cursor = {limit: 100}' <<<"$window")")
p2=$(search "$(jq -c --arg a "$(jq -r .after <<<"$p1")" '.cursor = {limit: 100, after: $a}' <<<"$window")")
p1b=$(search "$(jq -c --arg b "$(jq -r .before <<<"$p2")" '.cursor = {limit: 100, before: $b}' <<<"$window")")
expect "first page has before null" null "$(jq .before <<<"$p1")"
expect "before of page 2 gives page 1" "$(jq -c '[.data[].id]' <<<"$p1" | md5sum)" "$(jq -c '[.data[].id]' <<<"$p1b" | md5sum)"
expect "bad cursor" 400 "$(code $B/payment-intents/search -H "$A" -H "$V" -H "$C" -d '{"cursor":{"after":"nope"}}')"

# The same pages (no endDate) while intents are created concurrently: one
# new intent and a bulk of 50 between pages, and a creator in the background.
(while :; do create busy >/dev/null; done) &
bg=$!
pages=$(page "$(jq -nc --arg s "$start" '{startDate: $s}')" "$work/busy" \
  'create between >/dev/null; curl -s $E/payment-intents/bulk -d "{\"account\":\"alice\",\"count\":50}" >/dev/null')
kill "$bg"
wait "$bg" 2>/dev/null || true
bg=
dups=$(ids "$work/busy" | sort | uniq -d | wc -l)
expect "concurrent creates: no intent repeated" 0 "$dups"
# Everything that existed before the first page (the window + post), nothing
# skipped; intents created after it may only show up on the first page.
expect "concurrent creates: no older intent skipped" 0 \
  "$(ids "$work/window" | sort | comm -23 - <(ids "$work/busy" | sort) | wc -l)"
expect "concurrent creates: intents created meanwhile stay out" 1 \
  "$(n=$(wc -l <"$work/busy"); ((n >= 5003 && n <= 5003 + 100)) && echo 1)"
expect "concurrent creates: pages kept going" 1 "$((pages >= 51 ? 1 : 0))"

# --- 4. Key rotation: two keys of one account ------------------------------
old=$(create rot-1 "$A" | jq -r .id)
new=$(create rot-2 "$A2" | jq -r .id)
expect "rotated key reads the old key's intent" 200 "$(code $B/payment-intents/$old -H "$A2" -H "$V")"
expect "old key reads the rotated key's intent" 200 "$(code $B/payment-intents/$new -H "$A" -H "$V")"
expect "rotated key's search sees both" 2 \
  "$(search '{"cursor":{"limit":10}}' "$A2" | jq --arg o "$old" --arg n "$new" '[.data[].id | select(. == $o or . == $n)] | length')"
expect "both keys' intents are account alice's" 2 \
  "$(curl -s "$E/payment-intents?account=alice" | jq --arg o "$old" --arg n "$new" '[.data[] | select(.id == $o or .id == $n)] | length')"
expect "log names the account, not the key" alice "$(curl -s $E/requests | jq -r '.requests[-1].account')"
expect "other account cannot read it" 404 "$(code $B/payment-intents/$new -H "$Bob" -H "$V")"

# --- 5. Shutdown with a pending commit is clean -----------------------------
curl -s $E/faults -d '{"method":"POST","path":"/payment-intents","responses":[{"commitDelayMs":8000}]}' >/dev/null
curl -s --max-time 10 $B/payment-intents -H "$A" -H "$V" -H "$C" -d "$(body pending)" >/dev/null 2>&1 &
bg=$!
sleep 0.2
t0=$(now_ms)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
expect "SIGTERM with a pending commit: exit 0" 0 "$rc"
expect "SIGTERM with a pending commit: prompt" 1 "$(($(now_ms) - t0 < 2000 ? 1 : 0))"
rc=0
wait "$bg" || rc=$?
bg=
expect "pending client is disconnected, not answered" 1 "$((rc == 52 || rc == 56 ? 1 : 0))"

if ((failures > 0)); then echo "$failures failure(s)"; exit 1; fi
echo "all passed"
