#!/usr/bin/env bash
# `npm run smoke`: packs both packages, installs the two tarballs into an empty project outside
# the repository (no workspace), and uses them there as a user would: the CLI receives a
# triggered event, lists it and writes its file; an ESM script and a TypeScript file (nodenext
# and bundler resolution) import the library and verify a signature; tsx is not installed; the CLI
# opens a PostgreSQL store in a throwaway cluster (when PostgreSQL is installed; required with CI=true).
# Fails loudly on any step and always stops its background server.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/omise-webhook-smoke-XXXXXX")"
server_pid=""
pg_dir=""
step="starting"

# Every process under a pid: npx runs `sh -c omise-webhook ...`, which runs node, and killing npx
# alone would leave the server running.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

cleanup() {
  status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    for pid in $(descendants "$server_pid") "$server_pid"; do kill "$pid" 2>/dev/null || true; done
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ]; then
    echo "smoke: FAILED at: $step (exit $status)" >&2
    if [ -f "$work/app/serve.log" ]; then
      echo "smoke: the server's output:" >&2
      sed 's/^/  | /' "$work/app/serve.log" >&2
    fi
  fi
  if [ -n "$pg_dir" ]; then node "$repo/scripts/postgres-cluster.mjs" stop "$pg_dir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

fail() {
  echo "smoke: $*" >&2
  exit 1
}

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f", b - a }'; }

step="npm pack (both packages)"
mkdir -p "$work/packs" "$work/app"
(cd "$repo" && npm pack --silent --workspace @omise-webhook/events --workspace omise-webhook --pack-destination "$work/packs" >/dev/null)
lib_tgz="$(ls "$work"/packs/omise-webhook-events-*.tgz)"
cli_tgz="$(ls "$work"/packs/omise-webhook-[0-9]*.tgz)"
echo "smoke: packed $(basename "$lib_tgz") and $(basename "$cli_tgz")"

step="the CLI tarball ships only what runs"
listing="$(tar -tzf "$cli_tgz")"
if echo "$listing" | grep -E '\.test\.|\.ts$|tsconfig' >&2; then fail "the CLI tarball ships the files listed above (tests, TypeScript or tsconfig)"; fi
for file in dist/entry.js dist/event-file-writer.worker.mjs src/ui/index.html README.md LICENSE; do
  grep -qx "package/$file" <<<"$listing" || fail "the CLI tarball has no $file (is it built in prepack, and in package.json's files?)"
done

cd "$work/app"
cat > package.json <<JSON
{
  "name": "smoke-shop",
  "private": true,
  "type": "module",
  "allowScripts": { "better-sqlite3": true }
}
JSON

step="npm install of the two tarballs into an empty project"
started="$(seconds)"
# JOBS: node-gyp compiles better-sqlite3's two sources in parallel, which shortens CI.
JOBS="${JOBS:-max}" npm install --no-audit --no-fund --loglevel=error --save-dev "$lib_tgz" "$cli_tgz" >install.log 2>&1 ||
  { cat install.log >&2; fail "npm install of the tarballs failed (output above)"; }
echo "smoke: npm install of both tarballs took $(elapsed "$started") s"

step="npm ls tsx (must find nothing)"
if npm ls tsx --all >/dev/null 2>&1; then npm ls tsx --all >&2; fail "tsx is installed in the user's project (see above): it must be a dev dependency of the repository only"; fi

step="npx omise-webhook --version"
version="$(npx --no-install omise-webhook --version)"
expected="$(node -p "require('$repo/packages/cli/package.json').version")"
[ "$version" = "$expected" ] || fail "--version printed '$version', expected '$expected'"
echo "smoke: omise-webhook --version: $version"

export OMISE_WEBHOOK_SECRET="$(node -p "btoa('omise-webhook smoke secret 32 b.')")"
export NO_COLOR=1

step="npx omise-webhook serve (background, default ./log)"
npx --no-install omise-webhook serve --port 0 --ui-port 0 >serve.log 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 300); do
  url="$(grep -o 'POST http://[^ ]*' serve.log | head -1 | cut -d' ' -f2 || true)"
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "serve exited before it was listening"
  sleep 0.1
done
[ -n "$url" ] || fail "serve did not print its webhook URL within 30 s"
inspector="$(grep -o 'inspector: http://[^ ]*' serve.log | head -1 | cut -d' ' -f2 || true)"
echo "smoke: serve is receiving at $url (inspector $inspector)"

step="the inspector page is served"
page="$(curl -fsS "$inspector")" || fail "GET $inspector failed"
grep -q 'importmap' <<<"$page" || fail "the inspector page has no import map: the UI assets were not found"

step="npx omise-webhook trigger charge.create --to $url"
trigger_out="$(npx --no-install omise-webhook trigger charge.create --to "$url" --json 2>&1)" || { echo "$trigger_out" >&2; fail "trigger failed"; }
event_id="$(echo "$trigger_out" | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); if (r.status !== 200) process.exit(1); console.log(r.eventId)')" ||
  { echo "$trigger_out" >&2; fail "trigger did not get 200 from serve"; }
echo "smoke: trigger got 200 for $event_id"

step="npx omise-webhook events list --json shows $event_id"
listed=""
for _ in $(seq 1 50); do
  listed="$(npx --no-install omise-webhook events list --json)"
  grep -q "$event_id" <<<"$listed" && break
  sleep 0.1
done
grep -q "$event_id" <<<"$listed" || { echo "$listed" >&2; fail "events list --json does not show $event_id"; }

step="the event file is in log/api/event/"
for _ in $(seq 1 100); do
  ls log/api/event/ 2>/dev/null | grep -q "$event_id" && break
  sleep 0.1
done
ls log/api/event/ 2>/dev/null | grep -q "$event_id" || fail "no file for $event_id in log/api/event/ after 10 s"
echo "smoke: events list shows it and log/api/event/ has its file"

step="stopping serve (SIGTERM to its node process; npx passes on its exit code)"
node_pid="$(for pid in $(descendants "$server_pid"); do ps -o pid=,args= -p "$pid"; done |
  awk '$2 ~ /(^|\/)node$/ && /omise-webhook/ { print $1 }' | tail -1)"
[ -n "$node_pid" ] || fail "found no node process under npx (pid $server_pid) to stop"
kill -TERM "$node_pid"
wait "$server_pid" || fail "serve exited non-zero after SIGTERM"
server_pid=""
grep -q 'stopping; finishing writes' serve.log || fail "serve did not say it was stopping"

step="a plain ESM script imports the library and verifies a signature"
cat > verify.mjs <<'JS'
import { signOmisePayload, verifyOmiseSignature } from '@omise-webhook/events';
const secret = btoa('omise-webhook smoke secret 32 b.');
const payload = '{"object":"event","id":"evnt_test_smoke"}';
const signed = await signOmisePayload({ payload, secret, timestamp: Math.floor(Date.now() / 1000) });
const result = await verifyOmiseSignature({ payload, signature: signed.signature, timestamp: signed.timestamp, secret });
if (!result.ok) throw new Error(`verification failed: ${JSON.stringify(result)}`);
const forged = await verifyOmiseSignature({ payload: `${payload} `, signature: signed.signature, timestamp: signed.timestamp, secret });
if (forged.ok) throw new Error('a changed payload verified');
console.log('smoke: ESM script verified a signature (and refused a changed payload)');
JS
node verify.mjs

step="a TypeScript file (nodenext and bundler resolution) imports the library and verifies a signature"
cp verify.mjs verify.ts
for resolution in nodenext bundler; do
  module="nodenext"
  [ "$resolution" = bundler ] && module="esnext"
  cat > "tsconfig.$resolution.json" <<JSON
{
  "compilerOptions": {
    "target": "ES2022", "module": "$module", "moduleResolution": "$resolution", "strict": true,
    "skipLibCheck": false, "types": [], "lib": ["ES2023", "DOM"], "outDir": "out-$resolution"
  },
  "files": ["verify.ts"]
}
JSON
  node "$repo/node_modules/typescript/bin/tsc" -p "tsconfig.$resolution.json" || fail "tsc with moduleResolution $resolution failed"
  node "out-$resolution/verify.js" | sed "s/ESM script/TypeScript ($resolution)/"
done

step="the installed CLI opens a PostgreSQL store (the postgres package resolves from the install)"
if compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || [ -n "${OMISE_WEBHOOK_POSTGRES_BIN:-}" ]; then
  cluster="$(node "$repo/scripts/postgres-cluster.mjs" start)" || fail "could not start a throwaway PostgreSQL cluster"
  pg_dir="$(sed -n 's/^dir=//p' <<<"$cluster")"
  pg_url="$(sed -n 's/^url=//p' <<<"$cluster")"
  listed="$(npx --no-install omise-webhook events list --store "$pg_url" --json 2>&1)" || { echo "$listed" >&2; fail "events list --store postgres://... failed"; }
  [ -z "$listed" ] || { echo "$listed" >&2; fail "a new PostgreSQL store listed events"; }
  echo "smoke: events list --store postgres://... opened (and created) a PostgreSQL store"
elif [ "${CI:-}" = true ]; then
  fail "no PostgreSQL under /usr/lib/postgresql/*/bin (CI=true: install postgresql)"
else
  echo "smoke: skipped the PostgreSQL step: no PostgreSQL under /usr/lib/postgresql/*/bin"
fi

step="done"
echo "smoke: all steps passed"
