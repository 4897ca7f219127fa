#!/usr/bin/env bash
# Fails if a binary's own build (`cargo run --release -p trainer`, `-p hil`) would enable other
# dependency features than the workspace's test build (`cargo test --workspace --release`),
# which makes the second command recompile most dependencies. Compares `cargo tree`'s feature
# lists; the fix is in workspace-hack/Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
tree() { cargo tree --locked -e normal,build "$@" -f '{p} [{f}]' --prefix none | sort -u; }
workspace=$(tree --workspace -e dev)
status=0
for bin in trainer hil; do
  while read -r line; do
    line=${line% (*)}
    name_version=${line%% [*}
    case "$name_version" in *"(/"*) continue ;; esac   # workspace members themselves
    if ! grep -qxF "$line" <<<"$workspace"; then
      echo "check-build-reuse: $bin builds \`$line\`, the test build: $(grep -F "$name_version [" <<<"$workspace" | head -1)"
      status=1
    fi
  done < <(tree -p "$bin")
done
if [ $status -ne 0 ]; then
  echo "check-build-reuse: add the missing features to workspace-hack/Cargo.toml" >&2
else
  echo "check-build-reuse: trainer and hil builds use the test build's dependency features"
fi
exit $status
