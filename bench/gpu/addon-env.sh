# Sourced by engine.sh and llm.sh on a GPU host without Node.js (see ../shared/gpu/README.md):
# unpacks node and the node_modules that pack-engine.sh put in .device/, takes the addon packed there
# (built on the dev machine) or else builds one with plain CMake for HS_ARCH (default 90a) into
# build-gpu-engine/ (incremental: a second script of the same run finds it built), and exports
# HS_ADDON_PATH after checking that the addon sees a CUDA device, and HS_CUBLASLT_PATH where a cuBLASLt loads.
# Expects: the project root as the working directory, $out_dir for the build log.
arch="${HS_ARCH:-90a}"
if ! command -v node > /dev/null; then
  python3 .device/unpack-node.py
  export PATH=/tmp/hs-node:$PATH
fi
if [ ! -e node_modules/vitest/package.json ]; then
  [ -L node_modules ] && rm node_modules  # a worktree's link to a checkout that is not here
  tar -xJf .device/node_modules.tar.xz
fi
[ -f lib/index.js ] || { echo "lib/ is missing: run bench/gpu/pack-engine.sh on the dev machine and bring lib/" >&2; exit 1; }

mkdir -p build-gpu-engine/Release
if [ -f .device/highservice_native.node.xz ]; then
  echo "addon packed on the dev machine: $(cat .device/highservice_native.commit 2>/dev/null)"
  python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
    .device/highservice_native.node.xz build-gpu-engine/Release/highservice_native.node
else
  nvcc_bin=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  cmake -S . -B build-gpu-engine -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" \
    -DCMAKE_CUDA_COMPILER="$nvcc_bin" \
    -DCMAKE_JS_INC="$PWD/node_modules/node-api-headers/include" -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$PWD/build-gpu-engine/Release" \
    > "$out_dir/engine-build-log.txt" 2>&1
  cmake --build build-gpu-engine -j "$(nproc)" >> "$out_dir/engine-build-log.txt" 2>&1 \
    || { tail -40 "$out_dir/engine-build-log.txt"; exit 1; }
  grep -iE "warning" "$out_dir/engine-build-log.txt" || echo "build: no warnings"
fi
export HS_ADDON_PATH="$PWD/build-gpu-engine/Release/highservice_native.node"
# The GPU suites skip where CUDA is unavailable: here that would be a failure, not a skip.
node -e 'const c = require(process.env.HS_ADDON_PATH).devices().cuda;
  console.log(JSON.stringify(c));
  if (!c.available) { console.error("CUDA is not available to the addon: " + c.reason); process.exit(1); }'
# cuBLASLt comes with the CUDA toolkit or PyTorch's nvidia-* wheels; the addon dlopens it (one of the
# GEMM tactics). Where one loads here, test/gpu requires it to be a candidate (HS_EXPECT_CUBLASLT).
if [ -z "${HS_CUBLASLT_PATH:-}" ]; then
  HS_CUBLASLT_PATH=$(python3 - << 'PY' 2> /dev/null || true
import ctypes, glob, os, sys
found = []
for p in sys.path:
    found += sorted(glob.glob(os.path.join(p, "nvidia", "*", "lib", "libcublasLt.so.1[23]")), reverse=True)
found += sorted(glob.glob("/usr/local/cuda*/lib64/libcublasLt.so.1[23]"), reverse=True)
for f in found:
    try:
        ctypes.CDLL(f)
        print(f)
        break
    except OSError:
        pass
PY
)
fi
if [ -n "$HS_CUBLASLT_PATH" ]; then export HS_CUBLASLT_PATH HS_EXPECT_CUBLASLT=1; fi
