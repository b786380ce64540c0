#!/usr/bin/env bash
# Build the Lambda@Edge zip for infra/edge.yaml and upload it to S3.
#
# Lambda@Edge has no environment variables, so the shadow collector URL(s) and the
# signing secret are baked into the zip's edge/config.json by `shadowdiff edge build`.
# The zip is uploaded under a key named after its SHA-256: a new build is a new key,
# and a new key makes the edge stack publish a new function version.
#
# stdout: the edge stack's parameters, ready for
#   aws cloudformation deploy ... --parameter-overrides $(scripts/package-edge.sh ...) BlueOriginDomain=...
# Everything else goes to stderr.
set -euo pipefail

usage() {
    cat >&2 <<'EOF'
usage: scripts/package-edge.sh --bucket BUCKET --shadow-url URL [--shadow-url URL ...]
         [--secondary-url URL] [--sample-rate RATE] [--budget-ms MS]
         [--signing-secret-arn ARN | --no-signing] [--base-config FILE]
         [--prefix edge/] [--region us-east-1] [--out ZIP] [--no-upload]
         [--canary-origin DOMAIN [--canary-key cookie:NAME|header:NAME|client_ip]]

  --bucket              us-east-1 bucket the edge stack reads the zip from
  --shadow-url          a shadow collector URL (repeat for several), role "shadow"
  --secondary-url       optional collector in front of a 2nd copy of the primary, role "secondary"
  --sample-rate         share of requests mirrored to every target (default 1.0)
  --budget-ms           the most the function spends mirroring a request (default 50)
  --signing-secret-arn  Secrets Manager secret (SigningSecretArn of the capture stack)
  --no-signing          mirror unsigned (collectors must then run without a secret)
  --base-config         edge config.json to start from (targets and secret are replaced)
  --out                 also keep the zip here
  --no-upload           build and print the parameters, upload nothing
  --canary-origin       bake the canary split (edge.split) for this origin (https, port 443);
                        the stack's CanaryOrigin/CanaryWeight override domain and weight
  --canary-key          what keeps a user on one arm (default client_ip), e.g. cookie:session_id
EOF
    exit 2
}

bucket="" prefix="edge/" region="us-east-1" sample_rate="1.0" budget_ms="50"
secret_arn="" no_signing=0 base_config="" out="" upload=1
shadow_urls=() secondary_urls=() canary_origin="" canary_key="client_ip"
while [ $# -gt 0 ]; do
    case "$1" in
        --bucket) bucket="$2"; shift 2 ;;
        --shadow-url) shadow_urls+=("$2"); shift 2 ;;
        --secondary-url) secondary_urls+=("$2"); shift 2 ;;
        --sample-rate) sample_rate="$2"; shift 2 ;;
        --budget-ms) budget_ms="$2"; shift 2 ;;
        --signing-secret-arn) secret_arn="$2"; shift 2 ;;
        --no-signing) no_signing=1; shift ;;
        --base-config) base_config="$2"; shift 2 ;;
        --prefix) prefix="$2"; shift 2 ;;
        --region) region="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --no-upload) upload=0; shift ;;
        --canary-origin) canary_origin="$2"; shift 2 ;;
        --canary-key) canary_key="$2"; shift 2 ;;
        -h|--help) usage ;;
        *) echo "package-edge: unknown argument $1" >&2; usage ;;
    esac
done
[ -n "$bucket" ] || { echo "package-edge: --bucket is required" >&2; exit 2; }
[ "${#shadow_urls[@]}" -gt 0 ] || { echo "package-edge: at least one --shadow-url is required" >&2; exit 2; }
if [ -z "$secret_arn" ] && [ "$no_signing" -eq 0 ]; then
    echo "package-edge: give --signing-secret-arn (or --no-signing to mirror unsigned)" >&2
    exit 2
fi
if [ "$region" != "us-east-1" ]; then
    echo "package-edge: Lambda@Edge code must live in us-east-1, not $region" >&2
    exit 2
fi

PYTHON="${PYTHON:-python3}"
SHADOWDIFF="${SHADOWDIFF:-shadowdiff}"
AWS="${AWS:-aws}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"

secret=""
if [ -n "$secret_arn" ]; then
    # The secret lives wherever the capture stack is; its ARN names the region.
    secret_region="$(cut -d: -f4 <<<"$secret_arn")"
    secret="$("$AWS" secretsmanager get-secret-value --secret-id "$secret_arn" \
        --region "${secret_region:-$region}" --query SecretString --output text)"
fi

# The config holds the secret: written only inside the private temp dir.
(umask 077 && SECRET="$secret" CANARY_ORIGIN="$canary_origin" CANARY_KEY="$canary_key" \
    "$PYTHON" - "$work/config.json" "$base_config" "$sample_rate" \
    "$budget_ms" "${#shadow_urls[@]}" "${shadow_urls[@]}" "${secondary_urls[@]}" <<'PY'
import json, os, sys

out, base, rate, budget, n_shadow, *urls = sys.argv[1:]
config = json.load(open(base)) if base else {}
shadow, secondary = urls[: int(n_shadow)], urls[int(n_shadow):]
config["targets"] = [
    {"url": url.rstrip("/"), "role": role, "sample_rate": float(rate)}
    for role, group in (("shadow", shadow), ("secondary", secondary))
    for url in group
]
config.setdefault("correlation_header", "x-shadow-correlation-id")
config["budget_ms"] = int(budget)
config["signing_secret"] = os.environ["SECRET"] or None
if os.environ["CANARY_ORIGIN"]:
    kind, _, name = os.environ["CANARY_KEY"].partition(":")
    config["split"] = {
        "weight": 0.0,  # the stack's CanaryWeight (an origin custom header) decides at run time
        "canary_origin": {"domain": os.environ["CANARY_ORIGIN"]},
        "key": "client_ip" if kind == "client_ip" else {kind: name},
    }
with open(out, "w") as fh:
    json.dump(config, fh, indent=2)
PY
)

"$SHADOWDIFF" edge build --config "$work/config.json" --out "$work/edge.zip" >&2
digest="$(sha256sum "$work/edge.zip" | cut -c1-16)"
key="${prefix}shadowdiff-edge-${digest}.zip"
[ -z "$out" ] || cp "$work/edge.zip" "$out"

if [ "$upload" -eq 1 ]; then
    "$AWS" s3 cp "$work/edge.zip" "s3://$bucket/$key" --region "$region" --only-show-errors >&2
    echo "package-edge: uploaded s3://$bucket/$key" >&2
else
    echo "package-edge: built $key (not uploaded)" >&2
fi

urls_csv="$(IFS=,; echo "${shadow_urls[*]}${secondary_urls[*]:+,${secondary_urls[*]}}")"
echo "EdgeCodeBucket=$bucket"
echo "EdgeCodeKey=$key"
echo "ShadowCollectorUrls=$urls_csv"
