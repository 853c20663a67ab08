#!/usr/bin/env bash
# Holds the local runtime's Step Functions API against Debian's AWS CLI (awscli 2.x): starts `stepline start` on a
# free port in a temporary state folder, creates a small state machine, starts an execution, and checks what
# `aws stepfunctions list-executions` and `get-execution-history` print. Exit 0 when every check holds.
set -uo pipefail
cd "$(dirname "$0")/../../.."

AWS=/usr/bin/aws
[ -x "$AWS" ] || AWS="$(command -v aws || true)"
if [ -z "$AWS" ]; then echo "aws-cli-check: no aws command (apt-get install awscli)"; exit 1; fi

state="$(mktemp -d)"
out="$state/start.out"
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
  sleep 0.5
  rm -rf "$state"
}
trap cleanup EXIT

node_modules/.bin/tsx local/cli.ts start --port 0 --state-dir "$state/stepline" --json >"$out" 2>"$state/start.err" &
starter=$!
url=""
for _ in $(seq 1 120); do
  url="$(node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n").find(x=>x.includes("\"ready\""));if(l)console.log(JSON.parse(l).url)' "$out" 2>/dev/null)"
  [ -n "$url" ] && break
  sleep 0.5
done
pid="$(node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n").find(x=>x.includes("\"ready\""));if(l)console.log(JSON.parse(l).pid)' "$out" 2>/dev/null)"
[ -n "$pid" ] || pid=$starter
if [ -z "$url" ]; then echo "aws-cli-check: the runtime did not start"; tail -20 "$state/start.err"; exit 1; fi
echo "aws-cli-check: runtime at $url ($($AWS --version 2>&1))"

export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
sfn() { "$AWS" --endpoint-url "$url" --output json stepfunctions "$@"; }

failures=0
check() { if eval "$2"; then echo "  ok: $1"; else echo "  FAILED: $1"; failures=$((failures + 1)); fi; }

definition='{"StartAt":"Greet","States":{"Greet":{"Type":"Pass","Result":{"hello":"world"},"End":true}}}'
machine="$(sfn create-state-machine --name cli-check --role-arn arn:aws:iam::000000000000:role/check --definition "$definition" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).stateMachineArn))')"
check "create-state-machine answers the ARN" '[ "$machine" = "arn:aws:states:us-east-1:000000000000:stateMachine:cli-check" ]'
execution="$(sfn start-execution --state-machine-arn "$machine" --name first --input '{"from":"cli"}' | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).executionArn))')"
check "start-execution answers the execution ARN" '[ "$execution" = "arn:aws:states:us-east-1:000000000000:execution:cli-check:first" ]'
sleep 0.5
listed="$(sfn list-executions --state-machine-arn "$machine" --status-filter SUCCEEDED)"
check "list-executions lists it as SUCCEEDED" 'echo "$listed" | grep -q "\"name\": \"first\"" && echo "$listed" | grep -q "\"status\": \"SUCCEEDED\""'
history="$(sfn get-execution-history --execution-arn "$execution")"
check "get-execution-history prints the events" 'echo "$history" | grep -q "ExecutionStarted" && echo "$history" | grep -q "PassStateExited" && echo "$history" | grep -q "ExecutionSucceeded"'
reverse="$(sfn get-execution-history --execution-arn "$execution" --reverse-order --max-items 1)"
check "get-execution-history --reverse-order starts with the last event" 'echo "$reverse" | grep -q "ExecutionSucceeded" && ! echo "$reverse" | grep -q "ExecutionStarted"'
pipeline="$(sfn list-executions --state-machine-arn arn:aws:states:us-east-1:000000000000:stateMachine:stepline-pipeline)"
check "list-executions of the pipeline answers an empty list" 'echo "$pipeline" | grep -q "\"executions\": \[\]"'
missing="$(sfn describe-execution --execution-arn arn:aws:states:us-east-1:000000000000:execution:cli-check:nope 2>&1)"
check "describe-execution of an unknown execution says ExecutionDoesNotExist" 'echo "$missing" | grep -q "ExecutionDoesNotExist"'

if [ "$failures" -eq 0 ]; then echo "aws-cli-check: all checks passed"; exit 0; fi
echo "aws-cli-check: $failures check(s) failed"
exit 1
