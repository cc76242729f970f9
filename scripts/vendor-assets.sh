#!/usr/bin/env bash
# Regenerates static/uswds/ and static/vendor/ from npm (run by hand, never at app run time).
# Copies only what the pages use: the CSS/JS bundles, the files uswds.min.css references
# (fonts, icons) and the images the banner and header markup reference. See static/VENDORED.md.
set -euo pipefail

USWDS_VERSION="${USWDS_VERSION:-3.14.0}"
CHARTJS_VERSION="${CHARTJS_VERSION:-4.6.1}"

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm init -y >/dev/null \
  && npm install --no-audit --no-fund --silent \
     "@uswds/uswds@${USWDS_VERSION}" "chart.js@${CHARTJS_VERSION}")

dist="$work/node_modules/@uswds/uswds/dist"
out="$repo/static/uswds"
rm -rf "$out" "$repo/static/vendor"
mkdir -p "$out/css" "$out/js" "$repo/static/vendor"

cp "$dist/css/uswds.min.css" "$out/css/"
cp "$dist/js/uswds.min.js" "$dist/js/uswds-init.min.js" "$out/js/"
# No source maps are shipped: drop the comments that would make browsers ask for them.
sed -i '/sourceMappingURL=/d' "$out/css/uswds.min.css" "$out/js/uswds.min.js" "$out/js/uswds-init.min.js"

# Every file the stylesheet points at, except the hero image (no page uses the hero component).
grep -o 'url(\.\./[^)]*)' "$dist/css/uswds.min.css" \
  | sed -e 's/^url(\.\.\///' -e 's/)$//' -e 's/[?#].*$//' \
  | sort -u | grep -v '^img/hero\.' \
  | while read -r rel; do
      mkdir -p "$out/$(dirname "$rel")"
      cp "$dist/$rel" "$out/$rel"
    done

# Images referenced from the layout's markup (gov banner, header, icons sprite, favicon).
for rel in img/us_flag_small.png img/icon-dot-gov.svg img/icon-https.svg img/lock.svg \
           img/usa-icons/close.svg img/sprite.svg img/favicons/favicon.png; do
  mkdir -p "$out/$(dirname "$rel")"
  cp "$dist/$rel" "$out/$rel"
done

cp "$work/node_modules/chart.js/dist/chart.umd.min.js" "$repo/static/vendor/"
sed -i '/sourceMappingURL=/d' "$repo/static/vendor/chart.umd.min.js"

du -sh "$repo/static"
