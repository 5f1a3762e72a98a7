#!/usr/bin/env python3
"""Checks and times the CUDA GEMM kernels (libhs_gemm.so, C ABI in native/kernels/cuda/gemm_capi.cu)
against torch.matmul (cuBLAS) on one GPU.

Our kernels take float32 activations A [M, K] and weights B in float32 (simt64) or 16 bits (all
kernels; tc64/tc128/tc16 round A to the MMA type as they load it), with fp32 accumulation and
output. With B stored [N, K] (nn.Linear's layout, "B^T" rows) and K a multiple of 8, the tensor-core
kernels load whole 16-byte vectors; other layouts go element by element.
"i8" rows: B int8 with a float32 scale per column (the LLM's int8 weights), bf16 MMA; its reference
is the float64 product with the dequantised B, and torch's time is the bf16 matmul of the same shape.

Correctness: every case draws fresh random inputs, poisons C with NaN, runs the kernel and compares
with a float64 reference of the same weights and unrounded A (max |error| / max |reference|; NaN
never passes). Shapes with partial tiles, K below one MMA step, transposed B, bias and ReLU.
Timing: CUDA events, median, L2 flushed before each run; torch.matmul on the same shapes in the
weights' dtype (A already 16-bit, so it reads half the A bytes ours does) and in float32 with TF32
off for simt64. Prints a markdown table last.

  python3 bench/gpu/gemm.py [--lib PATH] [--quick] [--check-only] [--table-out FILE]
"""
import argparse
import ctypes
import os
import sys

import torch

from gpu_bench import Timer, emit_table, table_header

DEV = "cuda"
KERNELS = {"simt64": 0, "tc64": 1, "tc128": 2, "tc16": 3}
ELEM = {"fp32": (0, torch.float32), "fp16": (1, torch.float16), "bf16": (2, torch.bfloat16), "i8": (3, torch.int8)}
MMA = {"fp16": 0, "bf16": 1, "fp32": 0, "i8": 1}
BOUND = {"fp32": 1e-5, "fp16": 4e-3, "bf16": 3e-2, "i8": 3e-2}  # max-norm relative error, fp32 accumulation
ACT_RELU = 1


class Gemm:
    def __init__(self, path):
        lib = ctypes.CDLL(path)
        vp, i32, i64 = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64
        lib.hs_gemm.argtypes = [i32, i32, vp, vp, i32, vp, i32, vp, vp, i32, i64, i64, i64, vp]
        lib.hs_gemm.restype = i32
        lib.hs_gemm_last_error.restype = ctypes.c_char_p
        self.lib = lib

    def __call__(self, kernel, dt, a, b, c, *, b_scale=None, b_trans=False, bias=None, act=0):
        m, k = a.shape
        n = c.shape[1]
        rc = self.lib.hs_gemm(KERNELS[kernel], MMA[dt], a.data_ptr(), b.data_ptr(), ELEM[dt][0],
                              b_scale.data_ptr() if b_scale is not None else None, int(b_trans),
                              c.data_ptr(), bias.data_ptr() if bias is not None else None, act, m, n, k,
                              torch.cuda.current_stream().cuda_stream)
        if rc != 0:
            raise RuntimeError(f"hs_gemm({kernel}, {dt}) failed ({rc}): {self.lib.hs_gemm_last_error().decode()}")


def kernels_for(dt, m=None):
    """The kernels for a dtype; tc16 (16-row tiles, for decode) only where M <= 16 when M is given."""
    if dt == "fp32":
        return ["simt64"]
    return ["simt64", "tc64", "tc128"] + (["tc16"] if m is None or m <= 16 else [])


def quantised(n, k, b_trans):
    """Int8 B of n output columns over k with its per-column scales, as the LLM quantises weights."""
    w = torch.randn(n, k, device=DEV)
    scale = w.abs().amax(dim=1).clamp_min(1e-30) / 127
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return (q if b_trans else q.t().contiguous()), scale


def weights(dt, n, k, b_trans):
    """B as stored ([N, K] with b_trans, else [K, N]), its scales (int8) and its float64 [K, N] value."""
    if dt == "i8":
        b, scale = quantised(n, k, b_trans)
        b64 = (b.double().t() if b_trans else b.double()) * scale.double()
        return b, scale, b64
    b = torch.randn(*((n, k) if b_trans else (k, n)), device=DEV).to(ELEM[dt][1])
    return b, None, (b.double().t() if b_trans else b.double())


def check_case(gemm, kernel, dt, m, n, k, b_trans, with_bias, relu):
    a = torch.randn(m, k, device=DEV)
    b, scale, b64 = weights(dt, n, k, b_trans)
    bias = torch.randn(n, device=DEV) if with_bias else None
    c = torch.full((m, n), float("nan"), device=DEV)
    gemm(kernel, dt, a, b, c, b_scale=scale, b_trans=b_trans, bias=bias, act=ACT_RELU if relu else 0)
    torch.cuda.synchronize()
    ref = a.double() @ b64
    if bias is not None:
        ref += bias.double()
    if relu:
        ref = ref.clamp_min(0)
    if torch.isnan(c).any():
        return float("nan")
    return ((c.double() - ref).abs().max() / ref.abs().max().clamp_min(1e-30)).item()


def correctness(gemm, quick):
    shapes = [(1, 3, 5), (70, 65, 37), (128, 64, 32), (129, 65, 33), (5, 300, 136), (333, 517, 1000), (64, 4096, 64)]
    if quick:
        shapes = shapes[:4]
    rows, failures = [], 0
    for dt in ("fp32", "fp16", "bf16", "i8"):
        for kernel in kernels_for(dt):
            for m, n, k in shapes:
                for b_trans, with_bias, relu in ((False, False, False), (True, True, True)):
                    err = check_case(gemm, kernel, dt, m, n, k, b_trans, with_bias, relu)
                    ok = err == err and err <= BOUND[dt]
                    failures += not ok
                    rows.append((dt, kernel, m, n, k, b_trans, err, ok))
                    print(f"{'ok  ' if ok else 'FAIL'} {dt} {kernel} {m}x{n}x{k} b_trans={b_trans} bias/relu={with_bias}: "
                          f"error {err:.2e} (bound {BOUND[dt]:.0e})", flush=True)
    return rows, failures


def timings(gemm, timer, quick):
    # (M, N, K, B stored [N, K]): square, a Llama-7B MLP up-projection at 2048 tokens, batch-128,
    # batch-16 and batch-1 decode (the LLM's weights are [N, K], nn.Linear's layout)
    shapes = [(4096, 4096, 4096, False), (2048, 11008, 4096, True), (128, 4096, 4096, True), (16, 4096, 4096, True),
              (1, 4096, 4096, True)]
    if quick:
        shapes = shapes[:2]
    reps = 5 if quick else 20
    rows = []
    torch.backends.cuda.matmul.allow_tf32 = False
    for dt in ("fp16", "bf16", "i8", "fp32"):
        for m, n, k, b_trans in shapes:
            a = torch.randn(m, k, device=DEV)
            b, scale, _ = weights(dt, n, k, b_trans)
            c = torch.empty(m, n, device=DEV)
            t_dtype = torch.bfloat16 if dt == "i8" else ELEM[dt][1]
            b_t = b.to(t_dtype) * (scale[:, None] if b_trans else scale).to(t_dtype) if dt == "i8" else b
            a_t, b_t = a.to(t_dtype), (b_t.t() if b_trans else b_t)
            torch_ms = timer.median_ms(lambda: torch.matmul(a_t, b_t), reps)
            flop = 2.0 * m * n * k
            for kernel in kernels_for(dt, m):
                ms = timer.median_ms(lambda: gemm(kernel, dt, a, b, c, b_scale=scale, b_trans=b_trans), reps)
                rows.append((dt, kernel, m, n, k, b_trans, flop / ms / 1e9, flop / torch_ms / 1e9))
                print(f"{dt} {kernel} {m}x{n}x{k} b_trans={b_trans}: {flop / ms / 1e9:.1f} TFLOP/s, torch.matmul "
                      f"{flop / torch_ms / 1e9:.1f} TFLOP/s ({torch_ms / ms:.2f}x)", flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default="build-gpu/libhs_gemm.so")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--check-only", action="store_true")
    ap.add_argument("--table-out")
    args = ap.parse_args()
    torch.manual_seed(int.from_bytes(os.urandom(4), "little"))
    gemm = Gemm(args.lib)
    checks, failures = correctness(gemm, args.quick)
    print(f"correctness: {len(checks) - failures}/{len(checks)} passed", flush=True)
    if args.check_only:
        return 1 if failures else 0
    rows = timings(gemm, Timer(), args.quick)

    lines = table_header("GEMM kernels") + [
             f"Correctness: {len(checks) - failures}/{len(checks)} cases passed (fresh random inputs, "
             f"NaN-poisoned outputs, float64 reference).", "",
             "Ours: float32 A, B in the row's dtype, float32 C. torch.matmul: A and B in the row's dtype "
             "(fp32 with TF32 off; bf16 for the i8 rows).", "",
             "| dtype | kernel | M | N | K | B stored | ours TFLOP/s | torch.matmul TFLOP/s | ours/torch |",
             "|---|---|---|---|---|---|---|---|---|"]
    for dt, kernel, m, n, k, b_trans, ours, ref in rows:
        lines.append(f"| {dt} | {kernel} | {m} | {n} | {k} | {'[N, K]' if b_trans else '[K, N]'} | {ours:.1f} | {ref:.1f} | {ours / ref:.2f} |")
    emit_table(lines, args.table_out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
