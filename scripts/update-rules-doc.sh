#!/usr/bin/env bash
# Regenerates the fact catalogue section of docs/rules.md from the code
# (`secaudit rules facts --markdown`); a unit test fails while it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
table="$(mktemp)"
trap 'rm -f "$table"' EXIT
cargo run --quiet -- rules facts --markdown > "$table"
awk -v table="$table" '
  /^<!-- facts:begin/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
  /^<!-- facts:end -->/ { skip = 0 }
  !skip { print }
' docs/rules.md > docs/rules.md.new
mv docs/rules.md.new docs/rules.md
echo "docs/rules.md: fact catalogue regenerated"
