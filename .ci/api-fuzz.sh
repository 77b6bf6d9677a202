#!/usr/bin/env bash
# OpenAPI-driven fuzzing of the API with Schemathesis (pinned) over every
# documented operation, as an administrator with a bearer token, against the
# binary the tests built: no 5xx, every error a problem document, security
# headers on every answer. Bounded by examples per operation and a time budget.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
venv=/var/tmp/isms-schemathesis
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
bin="${CARGO_TARGET_DIR:-target}/debug/isms"
[ -x "$bin" ] || cargo build -q -p isms
work=$(mktemp -d)
db="sqlite://$work/fuzz.db"
"$bin" --database "$db" org create "Fuzz Ltd" >/dev/null
printf 'correct horse battery staple' | "$bin" --database "$db" user add fuzz@fuzz.test --org fuzz-ltd --role admin --password-stdin >/dev/null
token=$("$bin" --database "$db" token create fuzz@fuzz.test --org fuzz-ltd)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=warn "$bin" --database "$db" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
PYTHONPATH=.ci/api-fuzz SCHEMATHESIS_HOOKS=isms_checks "$venv/bin/schemathesis" run \
  "http://127.0.0.1:$port/api/v1/openapi.json" \
  --url "http://127.0.0.1:$port/api/v1" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,problem_document,security_headers \
  --max-examples "${API_FUZZ_EXAMPLES:-40}" --max-time "${API_FUZZ_SECONDS:-180}" \
  --seed "${API_FUZZ_SEED:-20261206}" --workers 2 --request-timeout 30 \
  --generation-database none --no-color --warnings off
if ! kill -0 $server 2>/dev/null; then
  echo "isms serve died during the API fuzz:"; tail -20 "$work/serve.log"; exit 1
fi
echo "api fuzz: no server error, every error a problem document"
