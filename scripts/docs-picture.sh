#!/usr/bin/env bash
# Renders docs/architecture.dot (threads, lib/'s folders, the path of one
# frame on each datapath and of one vqctl command) into
# docs/img/architecture.png, the picture docs/architecture.md opens with.
# Needs graphviz (apt-get install graphviz). Run after editing the .dot,
# and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dot >/dev/null || { echo "docs-picture.sh: apt-get install graphviz" >&2; exit 1; }
dot -Tpng -Gdpi=96 docs/architecture.dot -o docs/img/architecture.png
echo "docs/img/architecture.png"
