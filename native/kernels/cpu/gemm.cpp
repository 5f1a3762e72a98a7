// GEMM driver (BLIS-style loop nest around the micro-kernels of gemm_kernels.h):
//
//   split C's rows or columns into contiguous ranges of whole MR/NR panels, then in each range:
//     for each nc-wide column block of B
//       for each kc-deep slice of K:   pack B[kc x nc] into NR-wide panels (L2)
//         for each mc-high row block:  pack A[mc x kc] into MR-high panels
//           for each A panel (L1):     for each B panel: micro-kernel -> C tile
//
// An operand packed beforehand (PackedMatrix) skips its packing step. Operands may also be read
// in place (gemm_kernels.h): A when its rows are contiguous and alpha is 1 (packing A costs as
// much as the multiply when N is small), B when the caller gives row offsets (convolutions);
// with B in place the A panels run innermost, so each B micro-panel is fetched into L1 once.
// The first K slice overwrites C (beta == 0) or adds to it (beta == 1; other betas scale C
// first), its accumulators starting from the epilogue's biases; after the last slice the
// activation runs on the tile the micro-kernel just wrote, while it is in L1.
#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/cpu/gemm_kernels.h"

namespace hs::cpu {

using gemm_detail::KernelSpec;

namespace gemm_detail {

const KernelSpec& kernel_spec() {
  static const KernelSpec& spec = []() -> const KernelSpec& {
    // HS_GEMM_KERNEL=avx2|generic forces a slower kernel (benches, tests of the fallbacks).
    const char* forced = std::getenv("HS_GEMM_KERNEL");
    const std::string want = forced ? forced : "";
    const KernelSpec* avx512 = avx512_kernel_spec();
    const KernelSpec* avx2 = avx2_kernel_spec();
    if (want == "generic") return generic_kernel_spec();
    if (want == "avx2" && avx2) return *avx2;
    if (avx512) return *avx512;
    if (avx2) return *avx2;
    return generic_kernel_spec();
  }();
  return spec;
}

}  // namespace gemm_detail

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::shared_ptr<float> aligned_floats(size_t count) {
  size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
  return std::shared_ptr<float>(static_cast<float*>(std::aligned_alloc(64, std::max<size_t>(bytes, 64))), std::free);
}

// Per-thread packing buffers, grown on demand and kept for the thread's lifetime.
float* thread_scratch(int slot, size_t count) {
  struct Scratch {
    std::shared_ptr<float> data;
    size_t count = 0;
  };
  thread_local Scratch scratch[2];
  Scratch& s = scratch[slot];
  if (s.count < count) {
    s.data = aligned_floats(count);
    s.count = count;
  }
  return s.data.get();
}

// Rows [i0, i0 + mc) x columns [k0, k0 + kc) of op(A) into MR-high panels, times alpha.
void pack_a_block(const GemmOperand& A, float alpha, int64_t i0, int64_t mc, int64_t k0, int64_t kc, int64_t mr_tile,
                  float* dst) {
  for (int64_t p = 0; p * mr_tile < mc; ++p, dst += kc * mr_tile) {
    const int64_t rows = std::min(mr_tile, mc - p * mr_tile);
    const int64_t row0 = i0 + p * mr_tile;
    if (A.trans) {  // op(A)[m][k] = A[k][m]: each k reads `rows` contiguous values
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = A.data + (k0 + k) * A.ld + row0;
        float* out = dst + k * mr_tile;
        for (int64_t r = 0; r < rows; ++r) out[r] = alpha * src[r];
        for (int64_t r = rows; r < mr_tile; ++r) out[r] = 0.f;
      }
    } else {
      for (int64_t r = 0; r < rows; ++r) {
        const float* src = A.data + (row0 + r) * A.ld + k0;
        for (int64_t k = 0; k < kc; ++k) dst[k * mr_tile + r] = alpha * src[k];
      }
      for (int64_t r = rows; r < mr_tile; ++r)
        for (int64_t k = 0; k < kc; ++k) dst[k * mr_tile + r] = 0.f;
    }
  }
}

// Rows [k0, k0 + kc) x columns [j0, j0 + nc) of op(B) into NR-wide panels.
void pack_b_block(const GemmOperand& B, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t nr_tile, float* dst) {
  for (int64_t p = 0; p * nr_tile < nc; ++p, dst += kc * nr_tile) {
    const int64_t cols = std::min(nr_tile, nc - p * nr_tile);
    const int64_t col0 = j0 + p * nr_tile;
    if (B.trans) {  // op(B)[k][n] = B[n][k]: each column reads kc contiguous values
      for (int64_t j = 0; j < cols; ++j) {
        const float* src = B.data + (col0 + j) * B.ld + k0;
        for (int64_t k = 0; k < kc; ++k) dst[k * nr_tile + j] = src[k];
      }
      for (int64_t j = cols; j < nr_tile; ++j)
        for (int64_t k = 0; k < kc; ++k) dst[k * nr_tile + j] = 0.f;
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        const float* src = B.data + (k0 + k) * B.ld + col0;
        float* out = dst + k * nr_tile;
        std::memcpy(out, src, (size_t)cols * sizeof(float));
        for (int64_t j = cols; j < nr_tile; ++j) out[j] = 0.f;
      }
    }
  }
}

struct GemmProblem {
  int64_t M, N, K;
  float alpha;
  const GemmOperand* A;
  const GemmOperand* B;
  float beta;
  float* C;
  int64_t ldc;
  const GemmEpilogue* epilogue;
};

// C[m_begin:m_end, n_begin:n_end] on the calling thread. Range starts are panel-aligned.
void gemm_range(const KernelSpec& ks, const GemmProblem& p, int64_t m_begin, int64_t m_end, int64_t n_begin,
                int64_t n_end) {
  const int64_t MR = ks.mr, NR = ks.nr;
  const GemmOperand& A = *p.A;
  const GemmOperand& B = *p.B;
  const GemmEpilogue& ep = *p.epilogue;
  const bool activate = !ep.activation.is_none();
  if (p.beta != 0.f && p.beta != 1.f) {
    for (int64_t m = m_begin; m < m_end; ++m) {
      float* row = p.C + m * p.ldc;
      for (int64_t n = n_begin; n < n_end; ++n) row[n] *= p.beta;
    }
  }
  // Outputs narrower than half a B panel use the kernel that vectorises along M (it needs A packed).
  const bool narrow = p.N * 2 < NR;
  const gemm_detail::TileKernel kernel = narrow ? ks.narrow_kernel : ks.kernel;
  // A is read in place when its rows are contiguous and unscaled; B when given row offsets.
  const bool a_in_place = !narrow && !A.packed && !A.trans && p.alpha == 1.f;
  const bool b_in_place = !B.packed && B.row_offsets;
  const int64_t m_padded = ceil_div(p.M, MR) * MR, n_padded = ceil_div(p.N, NR) * NR;
  const int64_t mc_max = std::min(ks.mc, ceil_div(m_end - m_begin, MR) * MR);
  const int64_t nc_max = std::min(ks.nc, ceil_div(n_end - n_begin, NR) * NR);
  float* a_scratch = A.packed || a_in_place ? nullptr : thread_scratch(0, (size_t)(mc_max * ks.kc));
  float* b_scratch = B.packed || b_in_place ? nullptr : thread_scratch(1, (size_t)(nc_max * ks.kc));

  gemm_detail::Tile tile{};
  tile.ldc = p.ldc;
  tile.lda = a_in_place ? A.ld : 0;
  for (int64_t jc = n_begin; jc < n_end; jc += ks.nc) {
    const int64_t nc = std::min(ks.nc, n_end - jc);
    for (int64_t pc = 0; pc < p.K; pc += ks.kc) {
      tile.kc = std::min(ks.kc, p.K - pc);
      tile.accumulate = pc > 0 || p.beta != 0.f;
      const bool last_slice = pc + tile.kc == p.K;
      const float* b_block = b_scratch;  // the B slice's panels, when packed
      if (b_in_place) {
        tile.b_offsets = B.row_offsets + pc;
      } else if (B.packed) {
        b_block = B.packed->data() + pc * n_padded + (jc / NR) * tile.kc * NR;
      } else {
        pack_b_block(B, pc, tile.kc, jc, nc, NR, b_scratch);
      }
      for (int64_t ic = m_begin; ic < m_end; ic += ks.mc) {
        const int64_t mc = std::min(ks.mc, m_end - ic);
        const float* a_block = a_scratch;  // the A block's panels, when packed
        if (A.packed) a_block = A.packed->data() + pc * m_padded + (ic / MR) * tile.kc * MR;
        else if (!a_in_place) pack_a_block(A, p.alpha, ic, mc, pc, tile.kc, MR, a_scratch);
        auto run_tile = [&](int64_t ir, int64_t jr) {
          tile.mr = std::min(MR, mc - ir);
          tile.nr = std::min(NR, nc - jr);
          tile.a = a_in_place ? A.data + (ic + ir) * A.ld + pc : a_block + (ir / MR) * tile.kc * MR;
          tile.b = b_in_place ? B.data + jc + jr : b_block + (jr / NR) * tile.kc * NR;
          tile.c = p.C + (ic + ir) * p.ldc + jc + jr;
          tile.row_bias = pc == 0 && ep.row_bias ? ep.row_bias + ic + ir : nullptr;
          tile.col_bias = pc == 0 && ep.col_bias ? ep.col_bias + jc + jr : nullptr;
          kernel(tile);
          if (last_slice && activate) ks.activate_tile(ep.activation, tile.c, p.ldc, tile.mr, tile.nr);
        };
        if (b_in_place) {
          // Each B micro-panel (scattered lines) comes into L1 once and serves every A panel.
          for (int64_t jr = 0; jr < nc; jr += NR)
            for (int64_t ir = 0; ir < mc; ir += MR) run_tile(ir, jr);
        } else {
          // Each A panel stays in L1 while the packed B panels stream from L2.
          for (int64_t ir = 0; ir < mc; ir += MR)
            for (int64_t jr = 0; jr < nc; jr += NR) run_tile(ir, jr);
        }
      }
    }
  }
}

// K == 0: C = beta * C, then the epilogue.
void gemm_empty_k(const KernelSpec& ks, const GemmProblem& p) {
  const GemmEpilogue& ep = *p.epilogue;
  for (int64_t m = 0; m < p.M; ++m) {
    float* row = p.C + m * p.ldc;
    for (int64_t n = 0; n < p.N; ++n) {
      row[n] = (p.beta == 0.f ? 0.f : p.beta * row[n]) + (ep.row_bias ? ep.row_bias[m] : 0.f) +
               (ep.col_bias ? ep.col_bias[n] : 0.f);
    }
    ks.activation(ep.activation, row, p.N);
  }
}

}  // namespace

// About 40 us of single-thread work at AVX-512 speed. A parallel region of the thread pool costs
// ~20 us of hand-off on a quiet 2-core machine (bench/kernels/thread_pool_bench.cpp), so smaller
// GEMMs run faster on one thread.
bool gemm_worth_threading(int64_t M, int64_t N, int64_t K) { return M * N * K >= (int64_t)1 << 19; }

const char* gemm_kernel_name() { return gemm_detail::kernel_spec().name; }

SimdLevel simd_level() {
  static const SimdLevel level = [] {
    const std::string name = gemm_detail::kernel_spec().name;
    return name == "avx512" ? SimdLevel::kAvx512 : name == "avx2" ? SimdLevel::kAvx2 : SimdLevel::kGeneric;
  }();
  return level;
}

void apply_activation(const Activation& act, float* data, int64_t n) {
  if (!act.is_none()) gemm_detail::kernel_spec().activation(act, data, n);
}

PackedMatrix PackedMatrix::pack_a(bool transA, int64_t M, int64_t K, const float* A, int64_t lda, float alpha) {
  const KernelSpec& ks = gemm_detail::kernel_spec();
  const int64_t m_padded = ceil_div(M, ks.mr) * ks.mr;
  PackedMatrix packed;
  packed.side_ = Side::kA;
  packed.rows_ = M;
  packed.cols_ = K;
  packed.data_ = aligned_floats((size_t)(m_padded * std::max<int64_t>(K, 1)));
  GemmOperand src{A, lda, transA};
  for (int64_t pc = 0; pc < K; pc += ks.kc) {
    const int64_t kc = std::min(ks.kc, K - pc);
    pack_a_block(src, alpha, 0, M, pc, kc, ks.mr, packed.data_.get() + pc * m_padded);
  }
  return packed;
}

PackedMatrix PackedMatrix::pack_b(bool transB, int64_t K, int64_t N, const float* B, int64_t ldb) {
  const KernelSpec& ks = gemm_detail::kernel_spec();
  const int64_t n_padded = ceil_div(N, ks.nr) * ks.nr;
  PackedMatrix packed;
  packed.side_ = Side::kB;
  packed.rows_ = K;
  packed.cols_ = N;
  packed.data_ = aligned_floats((size_t)(n_padded * std::max<int64_t>(K, 1)));
  GemmOperand src{B, ldb, transB};
  for (int64_t pc = 0; pc < K; pc += ks.kc) {
    const int64_t kc = std::min(ks.kc, K - pc);
    pack_b_block(src, pc, kc, 0, N, ks.nr, packed.data_.get() + pc * n_padded);
  }
  return packed;
}

void sgemm_ex(int64_t M, int64_t N, int64_t K, float alpha, const GemmOperand& A, const GemmOperand& B, float beta,
              float* C, int64_t ldc, const GemmEpilogue& epilogue, ThreadPool* pool) {
  if (M <= 0 || N <= 0) return;
  const GemmProblem problem{M, N, K, alpha, &A, &B, beta, C, ldc, &epilogue};
  const KernelSpec& ks = gemm_detail::kernel_spec();
  if (K <= 0) return gemm_empty_k(ks, problem);
  const int threads = pool ? pool->parallelism() : 1;
  const int64_t m_panels = ceil_div(M, ks.mr), n_panels = ceil_div(N, ks.nr);
  if (threads <= 1 || !gemm_worth_threading(M, N, K) || (m_panels < 2 && n_panels < 2))
    return gemm_range(ks, problem, 0, M, 0, N);

  // Split the dimension whose slowest thread has the fewest tiles; on a tie split the rows, unless
  // A is packed (then threads share it and each packs only its own columns of B).
  const int64_t split_m_cost = ceil_div(m_panels, threads) * n_panels;
  const int64_t split_n_cost = m_panels * ceil_div(n_panels, threads);
  const bool split_m = split_m_cost < split_n_cost || (split_m_cost == split_n_cost && !A.packed);
  const int64_t panels = split_m ? m_panels : n_panels;
  const int64_t panel = split_m ? ks.mr : ks.nr;
  // Each part packs all of the operand it does not split, unless that one is packed already (or
  // read in place). Then parts are free, and four per thread let a thread that starts late (the
  // pool busy elsewhere) leave its share to the others.
  const bool other_ready = split_m ? (B.packed || B.row_offsets) : A.packed != nullptr;
  const int64_t parts = std::min<int64_t>(threads * (other_ready ? 4 : 1), panels);
  pool->parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) {
      const int64_t first = part * panels / parts * panel;
      const int64_t last = std::min((part + 1) * panels / parts * panel, split_m ? M : N);
      if (split_m) gemm_range(ks, problem, first, last, 0, N);
      else gemm_range(ks, problem, 0, M, first, last);
    }
  });
}

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc, ThreadPool* pool) {
  GemmOperand a{A, lda, transA};
  GemmOperand b{B, ldb, transB};
  sgemm_ex(M, N, K, alpha, a, b, beta, C, ldc, GemmEpilogue{}, pool);
}

}  // namespace hs::cpu
