#!/usr/bin/env python3
"""Localises a wrong result of the sm90 prefill kernel (flash_attention_sm90.cu) on one 128 x 128 tile.

V holds one-hot rows (key j -> unit vector j of the head dim), so the output row i is the softmax row
P[i, :] itself, and the lse is the log-sum-exp of the raw scores. Comparing both with float64:
  lse wrong        -> S = Q K^T (Q/K descriptors, their swizzle, the k-step offsets, the accumulator layout)
  lse right, P not -> O += P V (the P register fragment, V's MN-major descriptor: LBO/SBO, imm-trans-b)
and the printed error map (rows x column blocks of 8) shows which fragment positions are off.

  python3 bench/gpu/attention_sm90_debug.py [--lib PATH] [--dim 128|64] [--dtype bf16|fp16] [--kernel sm90|fa2]
"""
import argparse
import math
import os
import sys

import torch

from attention import DTYPES, Kernels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=os.environ.get("HS_KERNEL_LIB", "build-gpu/libhs_kernels.so"))
    ap.add_argument("--dim", type=int, default=128, choices=(64, 128))
    ap.add_argument("--dtype", default="bf16", choices=tuple(DTYPES))
    ap.add_argument("--kernel", default="sm90", choices=("sm90", "fa2"))
    args = ap.parse_args()
    torch.manual_seed(0)
    kern = Kernels(args.lib)
    kern.set_kernel(args.kernel)
    dim, torch_dt = args.dim, DTYPES[args.dtype][1]
    seq = dim  # one K/V tile of `dim` keys, so that every key has its own one-hot V column
    q = torch.randn(seq, 1, dim, device="cuda", dtype=torch_dt)
    k = torch.randn(seq, 1, dim, device="cuda", dtype=torch_dt)
    v = torch.eye(seq, dim, device="cuda", dtype=torch_dt)[:, None, :]
    out = torch.full_like(q, float("nan"))
    lse = torch.full((1, seq), float("nan"), device="cuda", dtype=torch.float32)
    scale = 1.0 / math.sqrt(dim)
    kern.prefill(args.dtype, q, k, v, out, lse, batch=1, max_q=seq, max_k=seq, causal=False, scale=scale)
    torch.cuda.synchronize()

    s = (q[:, 0].double() @ k[:, 0].double().T) * scale
    ref_lse = torch.logsumexp(s, -1)
    ref_p = torch.softmax(s, -1)
    lse_err = (lse[0].double() - ref_lse).abs()
    p_err = (out[:, 0].double() - ref_p).abs()
    print(f"{args.kernel} {args.dtype} d{dim}: lse max abs err {lse_err.max().item():.2e} "
          f"(rows off by > 1e-2: {int((lse_err > 1e-2).sum())}/{seq}); P max abs err {p_err.max().item():.2e}")
    if torch.isnan(out).any() or torch.isnan(lse).any():
        print("NaN in the output or lse: the kernel did not write every row, or it read uninitialised shared memory")
    # Error map: one character per (row, 8-column block); '.' fine, '#' off (> 4 x the 16-bit rounding).
    bad = (p_err > 4 * ref_p.abs() * 2 ** -8 + 1e-4).reshape(seq, seq // 8, 8).any(-1)
    print("P error map, rows 0.. down, 8-column blocks across ('#' = wrong):")
    for i in range(seq):
        print(f"{i:4d} " + "".join("#" if b else "." for b in bad[i].tolist()) + f"  lse err {lse_err[i].item():.1e}")
    return 0 if lse_err.max().item() < 2e-3 and not bad.any() else 1


if __name__ == "__main__":
    sys.exit(main())
