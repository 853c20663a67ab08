#!/bin/sh
# Hands Stepline an image another CI built: the `curl` equivalent of `stepline deploy` (docs/adr/0100).
# Needs curl and openssl. Settings, from the environment:
#   STEPLINE_URL              where Stepline listens (the API's URL on AWS; http://127.0.0.1:8080 locally)
#   STEPLINE_HANDOFF_SOURCE   the source's name, as configured under handoffs.sources
#   STEPLINE_HANDOFF_SECRET   its secret (never echo it)
#   REPOSITORY COMMIT REF IMAGE            owner/name, the full SHA, refs/heads/main, REPO@sha256:<64 hex>
#   MANIFESTS (optional)      where the rendered manifests are (s3://... or file:///...)
#   ENVIRONMENTS (optional)   a,b: where to deploy; default: where the ref promotes to
#   DELIVERY (optional)       an id a retry of the same step repeats; default: the commit and the image's digest
set -eu
: "${STEPLINE_URL:?}" "${STEPLINE_HANDOFF_SOURCE:?}" "${STEPLINE_HANDOFF_SECRET:?}"
: "${REPOSITORY:?}" "${COMMIT:?}" "${REF:?}" "${IMAGE:?}"
extra=""
if [ -n "${MANIFESTS:-}" ]; then extra="$extra,\"manifests\":\"$MANIFESTS\""; fi
if [ -n "${ENVIRONMENTS:-}" ]; then
  extra="$extra,\"environments\":[\"$(printf '%s' "$ENVIRONMENTS" | sed 's/,/","/g')\"]"
fi
body="{\"repository\":\"$REPOSITORY\",\"commit\":\"$COMMIT\",\"ref\":\"$REF\",\"image\":\"$IMAGE\"$extra}"
delivery="${DELIVERY:-$COMMIT-${IMAGE##*@sha256:}}"
signature="$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$STEPLINE_HANDOFF_SECRET" | sed 's/^.*= //')"
curl -sS --fail-with-body -X POST "$STEPLINE_URL/webhooks/generic" \
  -H 'Content-Type: application/json' \
  -H "X-Stepline-Source: $STEPLINE_HANDOFF_SOURCE" \
  -H "X-Stepline-Delivery: $(printf '%s' "$delivery" | cut -c1-200)" \
  -H "X-Stepline-Signature-256: sha256=$signature" \
  --data-binary "$body"
echo
