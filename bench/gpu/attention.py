#!/usr/bin/env python3
"""Checks and times the CUDA attention kernels (libhs_kernels.so, C ABI in
native/kernels/cuda/attention_capi.cu) against PyTorch on one GPU.

Two prefill kernels are checked and timed in one run, switched with hs_attn_set_prefill_kernel: fa2
(flash_attention.cu, the default) and sm90 (flash_attention_sm90.cu, Hopper wgmma; only on the cases
it covers: head_dim 64/128, no bias).

Correctness: every case draws fresh random inputs, poisons the outputs with NaN, runs the kernel and
compares with a float64 reference computed from the same 16-bit inputs (relative Frobenius error;
NaN never passes) and, where it applies, with torch SDPA. Timing: CUDA events, median of many runs,
L2 flushed before each. Prints a markdown table last; its goal lines judge, per row, the faster of
the kernels that passed every correctness case.

  python3 bench/gpu/attention.py [--lib PATH] [--quick] [--check-only] [--kernels fa2,sm90] [--table-out FILE]
"""
import argparse
import ctypes
import math
import os
import sys

import torch

from gpu_bench import Timer, emit_table, table_header
import torch.nn.functional as F

DTYPES = {"fp16": (0, torch.float16), "bf16": (1, torch.bfloat16)}
BOUND = {"fp16": 4e-3, "bf16": 1.6e-2}  # relative error bounds for 16-bit inputs, fp32 accumulation
DEV = "cuda"
PREFILL_KERNELS = {"fa2": 0, "sm90": 1}  # values of hs_attn_set_prefill_kernel


def sm90_covers(dim, bias_kind=None):
    return dim in (64, 128) and bias_kind is None


class Kernels:
    def __init__(self, path):
        lib = ctypes.CDLL(path)
        vp, i32, i64, f32 = ctypes.c_void_p, ctypes.c_int, ctypes.c_int64, ctypes.c_float
        lib.hs_attn_prefill.argtypes = [i32, vp, vp, vp, vp, vp, vp, vp, vp, vp, i64, i64, i64,
                                        i32, i32, i32, i32, i32, i32, f32, i32, vp]
        lib.hs_attn_prefill.restype = i32
        lib.hs_attn_decode.argtypes = [i32, vp, vp, vp, vp, vp, vp, vp, i32, i32, i32, i32, i32, i32, i32, i32,
                                       f32, vp]
        lib.hs_attn_decode.restype = i32
        lib.hs_attn_decode_workspace_size.argtypes = [i32, i32, i32, i32]
        lib.hs_attn_decode_workspace_size.restype = ctypes.c_size_t
        lib.hs_attn_last_error.restype = ctypes.c_char_p
        lib.hs_attn_set_prefill_kernel.argtypes = [i32]
        lib.hs_attn_set_prefill_kernel.restype = i32
        self.lib = lib

    def _check(self, rc, what):
        if rc != 0:
            raise RuntimeError(f"{what} failed ({rc}): {self.lib.hs_attn_last_error().decode()}")

    def prefill(self, dt, q, k, v, out, lse, *, batch, max_q, max_k, causal, scale,
                cu_q=None, cu_k=None, kvl=None, bias=None, bias_strides=(0, 0, 0)):
        ptr = lambda t: t.data_ptr() if t is not None else None
        rc = self.lib.hs_attn_prefill(DTYPES[dt][0], ptr(q), ptr(k), ptr(v), ptr(out), ptr(lse), ptr(cu_q), ptr(cu_k),
                                      ptr(kvl), ptr(bias), *bias_strides, batch, q.shape[-2], k.shape[-2],
                                      q.shape[-1], max_q, max_k, scale, int(causal),
                                      torch.cuda.current_stream().cuda_stream)
        self._check(rc, "hs_attn_prefill")

    def set_kernel(self, name):
        self._check(self.lib.hs_attn_set_prefill_kernel(PREFILL_KERNELS[name]), "hs_attn_set_prefill_kernel")

    def decode_workspace(self, num_seqs, heads, dim, max_ctx):
        size = self.lib.hs_attn_decode_workspace_size(num_seqs, heads, dim, max_ctx)
        return torch.empty(max(size, 16), dtype=torch.uint8, device=DEV)

    def decode(self, dt, q, kc, vc, out, tables, lens, ws, *, max_ctx, scale):
        rc = self.lib.hs_attn_decode(DTYPES[dt][0], q.data_ptr(), kc.data_ptr(), vc.data_ptr(), out.data_ptr(),
                                     tables.data_ptr(), lens.data_ptr(), ws.data_ptr(), q.shape[0], q.shape[1],
                                     kc.shape[2], q.shape[2], kc.shape[1], kc.shape[0], tables.shape[1], max_ctx,
                                     scale, torch.cuda.current_stream().cuda_stream)
        self._check(rc, "hs_attn_decode")


def rel_err(out, ref):
    out64, ref64 = out.double(), ref.double()
    if torch.isnan(out64).any():
        return float("nan")
    return ((out64 - ref64).norm() / ref64.norm().clamp_min(1e-30)).item()


def ref_attention(q, k, v, *, causal, scale, kvalid=None, bias=None):
    """float64 attention of one sequence: q [Sq,H,D], k/v [Sk,KVH,D], bias [H,Sq,Sk] or None.
    Returns out [Sq,H,D] and lse [H,Sq] (-inf and zero rows where no key is visible)."""
    sq, h, _ = q.shape
    sk, kvh, _ = k.shape
    qd, kd, vd = (t.double().transpose(0, 1) for t in (q, k, v))
    kd, vd = kd.repeat_interleave(h // kvh, 0), vd.repeat_interleave(h // kvh, 0)
    s = torch.matmul(qd, kd.transpose(1, 2)) * scale
    if bias is not None:
        s = s + bias.double()
    mask = torch.zeros(sq, sk, dtype=torch.bool, device=q.device)
    if causal:
        i = torch.arange(sq, device=q.device)[:, None]
        j = torch.arange(sk, device=q.device)[None, :]
        mask |= j > i + (sk - sq)
    if kvalid is not None:
        mask[:, kvalid:] = True
    s = s.masked_fill(mask, float("-inf"))
    lse = torch.logsumexp(s, -1)
    p = torch.exp(s - lse[..., None]).nan_to_num(0.0)
    out = torch.matmul(p, vd).transpose(0, 1)
    return out, lse


class Checks:
    def __init__(self):
        self.rows = []
        self.failures = 0
        self.failed_kernels = set()  # prefill kernels with at least one failed case

    def add(self, name, err, bound, sdpa_err=None, extra_ok=True, note="", kernel=None):
        ok = (not math.isnan(err)) and err <= bound and extra_ok
        self.failures += 0 if ok else 1
        if not ok and kernel:
            self.failed_kernels.add(kernel)
        self.rows.append((name, err, bound, sdpa_err, ok, note))
        s = f"{'PASS' if ok else 'FAIL'} {name}: rel_err={err:.2e} (bound {bound:.0e})"
        if sdpa_err is not None:
            s += f" sdpa_rel_err={sdpa_err:.2e}"
        print(s + (f" {note}" if note else ""), flush=True)

    def error(self, name, exc, kernel=None):
        """A case whose kernel call itself failed (e.g. sm90 on a library without an sm_90a image)."""
        self.failures += 1
        if kernel:
            self.failed_kernels.add(kernel)
        self.rows.append((name, float("nan"), 0.0, None, False, str(exc)))
        print(f"FAIL {name}: {exc}", flush=True)


def lse_ok(lse, ref_lse):
    """lse matches where finite (abs err) and is -inf exactly where the reference is."""
    ref_inf = torch.isinf(ref_lse)
    if torch.isnan(lse).any() or not torch.equal(torch.isinf(lse) & (lse < 0), ref_inf):
        return False, float("nan")
    if (~ref_inf).any():
        err = (lse[~ref_inf].double() - ref_lse[~ref_inf]).abs().max().item()
    else:
        err = 0.0
    return err < 2e-3, err


def check_prefill_case(kern, checks, dt, kernel, *, name, q_lens, k_lens, heads, kv_heads, dim, causal, varlen,
                       kvalid=None, bias_kind=None, with_sdpa=False):
    """Runs the case on `kernel`; sm90 skips what it does not cover (that would run on fa2 again)."""
    if kernel == "sm90" and not sm90_covers(dim, bias_kind):
        return
    label = f"prefill {kernel} {dt} {name}"
    kern.set_kernel(kernel)
    try:
        check_prefill_once(kern, checks, dt, kernel, label, q_lens=q_lens, k_lens=k_lens, heads=heads,
                           kv_heads=kv_heads, dim=dim, causal=causal, varlen=varlen, kvalid=kvalid,
                           bias_kind=bias_kind, with_sdpa=with_sdpa)
    except RuntimeError as exc:
        checks.error(label, exc, kernel)
    finally:
        kern.set_kernel("fa2")


def check_prefill_once(kern, checks, dt, kernel, label, *, q_lens, k_lens, heads, kv_heads, dim, causal, varlen,
                       kvalid, bias_kind, with_sdpa):
    torch_dt = DTYPES[dt][1]
    batch = len(q_lens)
    tq, tk = sum(q_lens), sum(k_lens)
    q = torch.randn(tq, heads, dim, device=DEV, dtype=torch_dt)
    k = torch.randn(tk, kv_heads, dim, device=DEV, dtype=torch_dt)
    v = torch.randn(tk, kv_heads, dim, device=DEV, dtype=torch_dt)
    scale = 1.0 / math.sqrt(dim)
    max_q, max_k = max(q_lens), max(k_lens)
    bias, strides = None, (0, 0, 0)
    if bias_kind == "full":
        bias = torch.randn(batch, heads, max_q, max_k, device=DEV, dtype=torch_dt)
        strides = (heads * max_q * max_k, max_q * max_k, max_k)
    elif bias_kind == "broadcast-mask":  # [1,1,Sq,Sk] with -inf holes, broadcast over batch and heads
        bias = torch.randn(1, 1, max_q, max_k, device=DEV, dtype=torch_dt)
        bias = bias.masked_fill(torch.rand(max_q, max_k, device=DEV) < 0.2, float("-inf"))
        strides = (0, 0, max_k)
    cu = lambda lens: torch.tensor([0] + list(torch.tensor(lens).cumsum(0).tolist()), dtype=torch.int32, device=DEV)
    cu_q, cu_k = (cu(q_lens), cu(k_lens)) if varlen else (None, None)
    kvl = torch.tensor(kvalid, dtype=torch.int32, device=DEV) if kvalid is not None else None
    out = torch.full_like(q, float("nan"))
    lse = torch.full((heads, tq), float("nan"), device=DEV, dtype=torch.float32)
    kern.prefill(dt, q, k, v, out, lse, batch=batch, max_q=max_q, max_k=max_k, causal=causal, scale=scale,
                 cu_q=cu_q, cu_k=cu_k, kvl=kvl, bias=bias, bias_strides=strides)
    torch.cuda.synchronize()
    ref_out = torch.empty(tq, heads, dim, dtype=torch.float64, device=DEV)
    ref_lse = torch.empty(heads, tq, dtype=torch.float64, device=DEV)
    sdpa_out = torch.empty_like(q) if with_sdpa else None
    q0 = k0 = 0
    for b in range(batch):
        lq, lk = q_lens[b], k_lens[b]
        bb = None
        if bias is not None:
            bb = bias[min(b, bias.shape[0] - 1)].expand(heads, max_q, max_k)[:, :lq, :lk]
        o, l = ref_attention(q[q0:q0 + lq], k[k0:k0 + lk], v[k0:k0 + lk], causal=causal, scale=scale,
                             kvalid=None if kvalid is None else kvalid[b], bias=bb)
        ref_out[q0:q0 + lq], ref_lse[:, q0:q0 + lq] = o, l
        if with_sdpa:  # SDPA: same lengths, top-left causal == ours when Sq == Sk
            qs, ks, vs = (t.transpose(0, 1)[None] for t in (q[q0:q0 + lq], k[k0:k0 + lk], v[k0:k0 + lk]))
            mask = None if bb is None else bb[None].to(torch_dt)
            so = F.scaled_dot_product_attention(qs, ks, vs, attn_mask=mask, is_causal=causal and mask is None,
                                                scale=scale, enable_gqa=heads != kv_heads)
            sdpa_out[q0:q0 + lq] = so[0].transpose(0, 1)
        q0, k0 = q0 + lq, k0 + lk
    ok_lse, lse_err = lse_ok(lse, ref_lse)
    err = rel_err(out, ref_out)
    sdpa_err = rel_err(sdpa_out, ref_out) if with_sdpa else None
    checks.add(label, err, BOUND[dt], sdpa_err, ok_lse, f"lse_max_abs_err={lse_err:.1e}", kernel)


def check_decode_case(kern, checks, dt, *, name, ctx_lens, heads, kv_heads, dim, block_size):
    torch_dt = DTYPES[dt][1]
    num_seqs = len(ctx_lens)
    max_blocks = max(1, max((c + block_size - 1) // block_size for c in ctx_lens))
    num_blocks = num_seqs * max_blocks + 7
    kc = torch.randn(num_blocks, block_size, kv_heads, dim, device=DEV, dtype=torch_dt)
    vc = torch.randn(num_blocks, block_size, kv_heads, dim, device=DEV, dtype=torch_dt)
    tables = torch.randperm(num_blocks, device=DEV)[:num_seqs * max_blocks].reshape(num_seqs, max_blocks).int()
    lens = torch.tensor(ctx_lens, dtype=torch.int32, device=DEV)
    q = torch.randn(num_seqs, heads, dim, device=DEV, dtype=torch_dt)
    out = torch.full_like(q, float("nan"))
    scale = 1.0 / math.sqrt(dim)
    max_ctx = max(ctx_lens)
    ws = kern.decode_workspace(num_seqs, heads, dim, max_ctx)
    ws.view(torch.float32)[: ws.numel() // 4].fill_(float("nan"))
    kern.decode(dt, q, kc, vc, out, tables, lens, ws, max_ctx=max_ctx, scale=scale)
    torch.cuda.synchronize()
    ref = torch.zeros(num_seqs, heads, dim, dtype=torch.float64, device=DEV)
    for s, c in enumerate(ctx_lens):
        if c == 0:
            continue
        nb = (c + block_size - 1) // block_size
        ks = kc[tables[s, :nb].long()].reshape(-1, kv_heads, dim)[:c]  # gather of the paged cache
        vs = vc[tables[s, :nb].long()].reshape(-1, kv_heads, dim)[:c]
        o, _ = ref_attention(q[s:s + 1], ks, vs, causal=False, scale=scale)
        ref[s] = o[0]
    zero_rows_ok = all(out[s].abs().max().item() == 0 for s, c in enumerate(ctx_lens) if c == 0)
    checks.add(f"decode {dt} {name}", rel_err(out, ref), BOUND[dt], None, zero_rows_ok)


def correctness(kern, checks, quick, kernels):
    """fa2's prefill cases and decode first, then sm90's: a crash of the new kernel (a sticky CUDA
    error ends the process) leaves the other results in the log."""
    for kernel in kernels:
        for dt in DTYPES:
            prefill_cases(kern, checks, dt, kernel, quick)
            if kernel == kernels[0]:
                decode_cases(kern, checks, dt)


def prefill_cases(kern, checks, dt, kernel, quick):
    dims = [64, 96, 128, 80, 40] if not quick else [64, 128, 80]
    for dim in dims:
        for causal in (False, True):
            check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} causal={int(causal)} fixed b2 h4 s333",
                               q_lens=[333, 333], k_lens=[333, 333], heads=4, kv_heads=4, dim=dim,
                               causal=causal, varlen=False, with_sdpa=True)
    for dim in (64, 128):
        check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} GQA h8/kv2 causal s512", q_lens=[512] * 2,
                           k_lens=[512] * 2, heads=8, kv_heads=2, dim=dim, causal=True, varlen=False,
                           with_sdpa=True)
        check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} MQA h6/kv1 s200", q_lens=[200] * 3,
                           k_lens=[200] * 3, heads=6, kv_heads=1, dim=dim, causal=False, varlen=False,
                           with_sdpa=True)
        check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} varlen causal q!=k", q_lens=[1, 17, 300, 129, 64],
                           k_lens=[5, 17, 450, 129, 700], heads=4, kv_heads=2, dim=dim, causal=True, varlen=True)
        check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} varlen non-causal", q_lens=[130, 7, 256],
                           k_lens=[64, 333, 1], heads=4, kv_heads=4, dim=dim, causal=False, varlen=True)
        check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} causal Sq>Sk (masked rows)", q_lens=[300],
                           k_lens=[100], heads=2, kv_heads=2, dim=dim, causal=True, varlen=False)
        check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} key padding", q_lens=[256] * 3,
                           k_lens=[256] * 3, heads=4, kv_heads=4, dim=dim, causal=False, varlen=False,
                           kvalid=[256, 100, 0])
        check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} bias full", q_lens=[200] * 2, k_lens=[200] * 2,
                           heads=4, kv_heads=4, dim=dim, causal=False, varlen=False, bias_kind="full",
                           with_sdpa=True)
        check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} bias broadcast -inf mask + causal",
                           q_lens=[190] * 2, k_lens=[190] * 2, heads=4, kv_heads=4, dim=dim, causal=True,
                           varlen=False, bias_kind="broadcast-mask")
    if kernel == "sm90":  # long sequences: many K/V tiles, both pipeline stages reused, causal skips
        for dim in (64, 128):
            check_prefill_case(kern, checks, dt, kernel, name=f"d{dim} causal s2048 h4/kv2", q_lens=[2048],
                               k_lens=[2048], heads=4, kv_heads=2, dim=dim, causal=True, varlen=False,
                               with_sdpa=True)


def decode_cases(kern, checks, dt):
    for dim, group, kvh in ((128, 4, 2), (64, 8, 1), (128, 1, 4), (96, 6, 2), (256, 2, 2)):
        check_decode_case(kern, checks, dt, name=f"d{dim} h{group * kvh}/kv{kvh} bs16 ctx mixed",
                          ctx_lens=[1, 0, 15, 16, 511, 512, 513, 1500, 4097], heads=group * kvh, kv_heads=kvh,
                          dim=dim, block_size=16)
    check_decode_case(kern, checks, dt, name="d128 h32/kv8 bs32 ctx 8192", ctx_lens=[8192, 8000, 77],
                      heads=32, kv_heads=8, dim=128, block_size=32)


def time_prefill_kernel(kern, timer, kernel, fn, reps):
    """Median ms of fn() with `kernel` selected; None when the kernel is not timed or its call fails."""
    if kernel is None:
        return None
    kern.set_kernel(kernel)
    try:
        return timer.median_ms(fn, reps)
    except RuntimeError as exc:
        print(f"prefill {kernel}: not timed: {exc}", flush=True)
        return None
    finally:
        kern.set_kernel("fa2")


def prefill_timings(kern, timer, quick, kernels):
    """Rows (dtype, dim, causal, batch, heads, seq, {kernel: TFLOP/s or None}, sdpa TFLOP/s)."""
    rows = []
    seqs = [512, 1024, 2048, 4096, 8192, 16384] if not quick else [1024, 4096]
    for dt in DTYPES:
        torch_dt = DTYPES[dt][1]
        for dim, heads in ((128, 16), (64, 32)):
            for causal in (False, True):
                for seq in seqs:
                    batch = 16 if seq <= 1024 else 8 if seq <= 2048 else 4
                    q = torch.randn(batch, seq, heads, dim, device=DEV, dtype=torch_dt)
                    k, v = torch.randn_like(q), torch.randn_like(q)
                    qt, kt, vt = (t.transpose(1, 2).contiguous() for t in (q, k, v))
                    out = torch.empty_like(q)
                    lse = torch.empty(heads, batch * seq, device=DEV, dtype=torch.float32)
                    scale = 1.0 / math.sqrt(dim)
                    ours = lambda: kern.prefill(dt, q, k, v, out, lse, batch=batch, max_q=seq, max_k=seq,
                                                causal=causal, scale=scale)
                    sdpa = lambda: F.scaled_dot_product_attention(qt, kt, vt, is_causal=causal, scale=scale)
                    flops = 4.0 * batch * heads * seq * seq * dim * (0.5 if causal else 1.0)
                    reps = 10 if seq >= 8192 else 20
                    tflops = {}
                    for kernel in PREFILL_KERNELS:
                        ms = time_prefill_kernel(kern, timer, kernel if kernel in kernels else None, ours, reps)
                        tflops[kernel] = flops / ms / 1e9 if ms else None
                    sdpa_tflops = flops / timer.median_ms(sdpa, reps) / 1e9
                    rows.append((dt, dim, int(causal), batch, heads, seq, tflops, sdpa_tflops))
                    ours_text = ", ".join(f"{k} {fmt_rate(v)} TFLOP/s ({fmt_ratio(v, sdpa_tflops)})"
                                          for k, v in tflops.items())
                    print(f"prefill {dt} d{dim} causal={int(causal)} b{batch} h{heads} s{seq}: {ours_text}, "
                          f"sdpa {sdpa_tflops:.0f} TFLOP/s", flush=True)
                    del q, k, v, qt, kt, vt, out, lse
    return rows


def fmt_rate(v):
    return "-" if v is None else f"{v:.0f}"


def fmt_ratio(v, ref, pct=False):
    if v is None:
        return "-"
    return f"{v / ref:.0%}" if pct else f"{v / ref:.2f}x"


def goal_lines(checks, prefill_rows, decode_rows, mm_tflops, copy_gbs):
    """The goals of the attention issue, each judged on the faster kernel per row among those that
    passed every correctness case."""
    passed = [k for k in PREFILL_KERNELS if k not in checks.failed_kernels]
    lines = ["## Goals (this run)", "",
             f"Prefill kernels that passed every correctness case: {', '.join(passed) or 'none'}.", "",
             "| goal | result | met |", "|---|---|---|"]
    n_ok = len(checks.rows) - checks.failures
    lines.append(f"| zero correctness failures | {n_ok}/{len(checks.rows)} | {'yes' if not checks.failures else 'no'} |")
    goal_rows = [r for r in prefill_rows if r[0] == "bf16" and r[1] == 128 and r[5] >= 2048]
    best = []  # (kernel, TFLOP/s, SDPA TFLOP/s) per goal row
    for r in goal_rows:
        candidates = [(r[6][k], k) for k in passed if r[6].get(k)]
        if candidates:
            rate, kernel = max(candidates)
            best.append((kernel, rate, r[7]))
    if best and len(best) == len(goal_rows):
        ratios = [rate / sdpa for _, rate, sdpa in best]
        rates = [rate for _, rate, _ in best]
        used = ", ".join(sorted({k for k, _, _ in best}))
        lines.append(f"| prefill >= 1.0x SDPA at seq >= 2048 (hdim 128, bf16) | {min(ratios):.2f}-{max(ratios):.2f}x "
                     f"({used}) | {'yes' if min(ratios) >= 1.0 else 'no'} |")
        lines.append(f"| prefill >= 50% of the dense bf16 matmul rate (same rows) | {min(rates) / mm_tflops:.0%}-"
                     f"{max(rates) / mm_tflops:.0%} ({min(rates):.0f}-{max(rates):.0f} of {mm_tflops:.0f} TFLOP/s; "
                     f"{used}) | {'yes' if min(rates) >= 0.5 * mm_tflops else 'no'} |")
    else:
        lines.append("| prefill goals | no kernel passed correctness and was timed on every goal row | no |")
    if decode_rows:
        shares = [gbs / copy_gbs for *_, gbs in decode_rows]
        lines.append(f"| decode >= 70% of copy bandwidth | {min(shares):.0%}-{max(shares):.0%} | "
                     f"{'yes' if min(shares) >= 0.7 else 'no'} |")
    return lines


def decode_timings(kern, timer, quick):
    rows = []
    for dt in ("bf16",) if quick else ("bf16", "fp16"):
        torch_dt = DTYPES[dt][1]
        for num_seqs, ctx, heads, kvh in ((64, 1024, 32, 8), (32, 4096, 32, 8), (16, 16384, 32, 8),
                                          (64, 4096, 32, 32), (8, 32768, 32, 8)):
            dim, bs = 128, 16
            nb_seq = ctx // bs
            num_blocks = num_seqs * nb_seq
            kc = torch.randn(num_blocks, bs, kvh, dim, device=DEV, dtype=torch_dt)
            vc = torch.randn_like(kc)
            tables = torch.randperm(num_blocks, device=DEV).reshape(num_seqs, nb_seq).int()
            lens = torch.full((num_seqs,), ctx, dtype=torch.int32, device=DEV)
            q = torch.randn(num_seqs, heads, dim, device=DEV, dtype=torch_dt)
            out = torch.empty_like(q)
            ws = kern.decode_workspace(num_seqs, heads, dim, ctx)
            fn = lambda: kern.decode(dt, q, kc, vc, out, tables, lens, ws, max_ctx=ctx, scale=dim ** -0.5)
            ms = timer.median_ms(fn, 30)
            nbytes = 2 * num_seqs * ctx * kvh * dim * 2
            rows.append((dt, num_seqs, ctx, heads, kvh, ms, nbytes / ms / 1e6))
            print(f"decode {dt} seqs{num_seqs} ctx{ctx} h{heads}/kv{kvh}: {ms * 1e3:.0f} us, "
                  f"{nbytes / ms / 1e6:.0f} GB/s", flush=True)
            del kc, vc
    return rows


def ceilings(timer):
    a = torch.randn(8192, 8192, device=DEV, dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device=DEV, dtype=torch.bfloat16)
    mm_ms = timer.median_ms(lambda: torch.matmul(a, b), 20)
    src = torch.empty(1 << 30, dtype=torch.uint8, device=DEV).random_(0, 255)
    dst = torch.empty_like(src)
    copy_ms = timer.median_ms(lambda: dst.copy_(src), 20)
    return 2 * 8192 ** 3 / mm_ms / 1e9, 2 * src.numel() / copy_ms / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=os.environ.get("HS_KERNEL_LIB", "build-gpu/libhs_kernels.so"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--check-only", action="store_true")
    ap.add_argument("--table-out")
    ap.add_argument("--kernels", default="fa2,sm90", help="prefill kernels to check and time, in order")
    args = ap.parse_args()
    kernels = args.kernels.split(",")
    if not kernels or any(k not in PREFILL_KERNELS for k in kernels):
        ap.error(f"--kernels: a comma-separated list of {', '.join(PREFILL_KERNELS)}")
    torch.manual_seed(int.from_bytes(os.urandom(4), "little"))
    kern = Kernels(args.lib)
    checks = Checks()
    correctness(kern, checks, args.quick, kernels)
    print(f"correctness: {len(checks.rows) - checks.failures}/{len(checks.rows)} passed", flush=True)
    if args.check_only:
        return 1 if checks.failures else 0
    timer = Timer()
    mm_tflops, copy_gbs = ceilings(timer)
    print(f"dense bf16 matmul 8192^3: {mm_tflops:.0f} TFLOP/s; device copy: {copy_gbs:.0f} GB/s", flush=True)
    # A kernel that failed correctness is not timed: its rate would mean nothing.
    timed = [k for k in kernels if k not in checks.failed_kernels]
    prefill_rows = prefill_timings(kern, timer, args.quick, timed)
    decode_rows = decode_timings(kern, timer, args.quick)

    lines = table_header("Attention kernels") + [
             f"Correctness: {len(checks.rows) - checks.failures}/{len(checks.rows)} cases passed "
             f"(fresh random inputs, NaN-poisoned outputs, float64 reference).", "",
             f"Ceilings: dense bf16 matmul 8192^3 {mm_tflops:.0f} TFLOP/s; device-to-device copy {copy_gbs:.0f} GB/s "
             f"(read + write).", "",
             "## Prefill (TFLOP/s, median, L2 flushed)", "",
             "Kernels: fa2 = flash_attention.cu (mma.sync), sm90 = flash_attention_sm90.cu (wgmma); "
             "'-' = not timed (not selected, failed correctness, or the call failed).", "",
             "| dtype | hdim | causal | batch | heads | seq | ours fa2 | ours sm90 | SDPA | fa2/SDPA | sm90/SDPA "
             "| fa2/matmul | sm90/matmul |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for dt, dim, causal, batch, heads, seq, ours, sdpa in prefill_rows:
        fa2, sm90 = ours["fa2"], ours["sm90"]
        lines.append(f"| {dt} | {dim} | {causal} | {batch} | {heads} | {seq} | {fmt_rate(fa2)} | {fmt_rate(sm90)} | "
                     f"{sdpa:.0f} | {fmt_ratio(fa2, sdpa)} | {fmt_ratio(sm90, sdpa)} | "
                     f"{fmt_ratio(fa2, mm_tflops, True)} | {fmt_ratio(sm90, mm_tflops, True)} |")
    lines += ["", "## Decode, paged KV (hdim 128, block 16)", "",
              "| dtype | seqs | context | heads/kv | time (us) | GB/s | of copy |", "|---|---|---|---|---|---|---|"]
    for dt, n, ctx, h, kvh, ms, gbs in decode_rows:
        lines.append(f"| {dt} | {n} | {ctx} | {h}/{kvh} | {ms * 1e3:.0f} | {gbs:.0f} | {gbs / copy_gbs:.0%} |")
    lines += [""] + goal_lines(checks, prefill_rows, decode_rows, mm_tflops, copy_gbs)
    emit_table(lines, args.table_out)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
