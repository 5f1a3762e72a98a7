#!/usr/bin/env python3
"""Checks and times the CUDA attention kernels (libhs_kernels.so, C ABI in
native/kernels/cuda/attention_capi.cu) against PyTorch on one GPU.

Correctness: every case draws fresh random inputs, poisons the outputs with NaN, runs the kernel and
compares with a float64 reference computed from the same 16-bit inputs (relative Frobenius error;
NaN never passes) and, where it applies, with torch SDPA. Timing: CUDA events, median of many runs,
L2 flushed before each. Prints a markdown table last.

  python3 bench/gpu/attention.py [--lib PATH] [--quick] [--table-out FILE]
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

    def add(self, name, err, bound, sdpa_err=None, extra_ok=True, note=""):
        ok = (not math.isnan(err)) and err <= bound and extra_ok
        self.failures += 0 if ok else 1
        self.rows.append((name, err, bound, sdpa_err, ok, note))
        s = f"{'PASS' if ok else 'FAIL'} {name}: rel_err={err:.2e} (bound {bound:.0e})"
        if sdpa_err is not None:
            s += f" sdpa_rel_err={sdpa_err:.2e}"
        print(s + (f" {note}" if note else ""), flush=True)


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


def check_prefill_case(kern, checks, dt, *, name, q_lens, k_lens, heads, kv_heads, dim, causal, varlen,
                       kvalid=None, bias_kind=None, with_sdpa=False):
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
    checks.add(f"prefill {dt} {name}", err, BOUND[dt], sdpa_err, ok_lse, f"lse_max_abs_err={lse_err:.1e}")


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


def correctness(kern, checks, quick):
    dims = [64, 96, 128, 80, 40] if not quick else [64, 128, 80]
    for dt in DTYPES:
        for dim in dims:
            for causal in (False, True):
                check_prefill_case(kern, checks, dt, name=f"d{dim} causal={int(causal)} fixed b2 h4 s333",
                                   q_lens=[333, 333], k_lens=[333, 333], heads=4, kv_heads=4, dim=dim,
                                   causal=causal, varlen=False, with_sdpa=True)
        for dim in (64, 128):
            check_prefill_case(kern, checks, dt, name=f"d{dim} GQA h8/kv2 causal s512", q_lens=[512] * 2,
                               k_lens=[512] * 2, heads=8, kv_heads=2, dim=dim, causal=True, varlen=False,
                               with_sdpa=True)
            check_prefill_case(kern, checks, dt, name=f"d{dim} MQA h6/kv1 s200", q_lens=[200] * 3, k_lens=[200] * 3,
                               heads=6, kv_heads=1, dim=dim, causal=False, varlen=False, with_sdpa=True)
            check_prefill_case(kern, checks, dt, name=f"d{dim} varlen causal q!=k", q_lens=[1, 17, 300, 129, 64],
                               k_lens=[5, 17, 450, 129, 700], heads=4, kv_heads=2, dim=dim, causal=True, varlen=True)
            check_prefill_case(kern, checks, dt, name=f"d{dim} varlen non-causal", q_lens=[130, 7, 256],
                               k_lens=[64, 333, 1], heads=4, kv_heads=4, dim=dim, causal=False, varlen=True)
            check_prefill_case(kern, checks, dt, name=f"d{dim} causal Sq>Sk (masked rows)", q_lens=[300],
                               k_lens=[100], heads=2, kv_heads=2, dim=dim, causal=True, varlen=False)
            check_prefill_case(kern, checks, dt, name=f"d{dim} key padding", q_lens=[256] * 3, k_lens=[256] * 3,
                               heads=4, kv_heads=4, dim=dim, causal=False, varlen=False, kvalid=[256, 100, 0])
            check_prefill_case(kern, checks, dt, name=f"d{dim} bias full", q_lens=[200] * 2, k_lens=[200] * 2,
                               heads=4, kv_heads=4, dim=dim, causal=False, varlen=False, bias_kind="full",
                               with_sdpa=True)
            check_prefill_case(kern, checks, dt, name=f"d{dim} bias broadcast -inf mask + causal", q_lens=[190] * 2,
                               k_lens=[190] * 2, heads=4, kv_heads=4, dim=dim, causal=True, varlen=False,
                               bias_kind="broadcast-mask")
        for dim, group, kvh in ((128, 4, 2), (64, 8, 1), (128, 1, 4), (96, 6, 2), (256, 2, 2)):
            check_decode_case(kern, checks, dt, name=f"d{dim} h{group * kvh}/kv{kvh} bs16 ctx mixed",
                              ctx_lens=[1, 0, 15, 16, 511, 512, 513, 1500, 4097], heads=group * kvh, kv_heads=kvh,
                              dim=dim, block_size=16)
        check_decode_case(kern, checks, dt, name="d128 h32/kv8 bs32 ctx 8192", ctx_lens=[8192, 8000, 77],
                          heads=32, kv_heads=8, dim=128, block_size=32)


def prefill_timings(kern, timer, quick):
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
                    t_ours, t_sdpa = timer.median_ms(ours, reps), timer.median_ms(sdpa, reps)
                    row = (dt, dim, int(causal), batch, heads, seq, flops / t_ours / 1e9, flops / t_sdpa / 1e9)
                    rows.append(row)
                    print(f"prefill {dt} d{dim} causal={int(causal)} b{batch} h{heads} s{seq}: ours "
                          f"{row[6]:.0f} TFLOP/s, sdpa {row[7]:.0f} TFLOP/s ({row[6] / row[7]:.2f}x)", flush=True)
                    del q, k, v, qt, kt, vt, out, lse
    return rows


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
    args = ap.parse_args()
    torch.manual_seed(int.from_bytes(os.urandom(4), "little"))
    kern = Kernels(args.lib)
    checks = Checks()
    correctness(kern, checks, args.quick)
    print(f"correctness: {len(checks.rows) - checks.failures}/{len(checks.rows)} passed", flush=True)
    if args.check_only:
        return 1 if checks.failures else 0
    timer = Timer()
    mm_tflops, copy_gbs = ceilings(timer)
    print(f"dense bf16 matmul 8192^3: {mm_tflops:.0f} TFLOP/s; device copy: {copy_gbs:.0f} GB/s", flush=True)
    prefill_rows = prefill_timings(kern, timer, args.quick)
    decode_rows = decode_timings(kern, timer, args.quick)

    lines = table_header("Attention kernels") + [
             f"Correctness: {len(checks.rows) - checks.failures}/{len(checks.rows)} cases passed "
             f"(fresh random inputs, NaN-poisoned outputs, float64 reference).", "",
             f"Ceilings: dense bf16 matmul 8192^3 {mm_tflops:.0f} TFLOP/s; device-to-device copy {copy_gbs:.0f} GB/s "
             f"(read + write).", "",
             "## Prefill (TFLOP/s, median, L2 flushed)", "",
             "| dtype | hdim | causal | batch | heads | seq | ours | SDPA | ours/SDPA | ours/matmul |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for dt, dim, causal, batch, heads, seq, ours, sdpa in prefill_rows:
        lines.append(f"| {dt} | {dim} | {causal} | {batch} | {heads} | {seq} | {ours:.0f} | {sdpa:.0f} | "
                     f"{ours / sdpa:.2f} | {ours / mm_tflops:.0%} |")
    lines += ["", "## Decode, paged KV (hdim 128, block 16)", "",
              "| dtype | seqs | context | heads/kv | time (us) | GB/s | of copy |", "|---|---|---|---|---|---|---|"]
    for dt, n, ctx, h, kvh, ms, gbs in decode_rows:
        lines.append(f"| {dt} | {n} | {ctx} | {h}/{kvh} | {ms * 1e3:.0f} | {gbs:.0f} | {gbs / copy_gbs:.0%} |")
    emit_table(lines, args.table_out)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
