#!/usr/bin/env bash
# Builds gpu-bundle/ (git-ignored, at most 60 MiB): Node, the build, the node_modules files the
# webgpu path loads, the MNIST sample as IDX, the Vulkan loader, the PyTorch peer and
# gpu-check.sh. See docs/gpu-check.md.
#
#   scripts/make-gpu-bundle.sh [--out DIR] [--no-record] [--peer PATH/peer_torch.py]
#
# --peer: the PyTorch peer to carry (default bench/peer_torch.py).
#
# Needs: a built checkout with node_modules (npm ci), xz, a WebGPU adapter for the recording run
# (Mesa's lavapipe will do; XDG_RUNTIME_DIR defaults to /tmp), and the mnist package (dev machine).
# --no-record skips the ~2-minute recording and reuses bench/gpu-check/bundle-files.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v xz >/dev/null || { echo "make-gpu-bundle: xz is needed (apt-get install xz-utils)" >&2; exit 1; }
npm run build --silent
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
exec node dist/bench/gpu-check/make-bundle.js "$@"
