// The inner kernel of tiled transposes: dst[r * dst_stride + c] = src[r + c * src_stride] for
// one tile, where the source is contiguous along r and the destination along c.
//
// Algorithm: the tile is cut into square blocks that fit one SSE2 register per source column
// (4x4 for 4-byte elements, 8x8 for 2-byte, 2x2 for 8-byte); each block is loaded as columns,
// transposed in registers with unpack instructions and stored as rows. Ragged edges, 1-byte
// elements and CPUs without SSE2 take the scalar loop.
#pragma once
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hs::cpu {
namespace transpose_detail {

#if defined(__SSE2__)
inline __m128i load(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline void store(void* p, __m128i v) { _mm_storeu_si128(static_cast<__m128i*>(p), v); }

// Block edge in elements for an element size (1: no SIMD block).
template <size_t kBytes> constexpr int64_t kBlock = kBytes == 4 ? 4 : kBytes == 2 ? 8 : kBytes == 8 ? 2 : 1;

template <typename T>
inline void block_4x4(const T* src, int64_t ss, T* dst, int64_t ds) {
  const __m128i a0 = load(src), a1 = load(src + ss), a2 = load(src + 2 * ss), a3 = load(src + 3 * ss);
  const __m128i t0 = _mm_unpacklo_epi32(a0, a1), t1 = _mm_unpacklo_epi32(a2, a3);
  const __m128i t2 = _mm_unpackhi_epi32(a0, a1), t3 = _mm_unpackhi_epi32(a2, a3);
  store(dst, _mm_unpacklo_epi64(t0, t1));
  store(dst + ds, _mm_unpackhi_epi64(t0, t1));
  store(dst + 2 * ds, _mm_unpacklo_epi64(t2, t3));
  store(dst + 3 * ds, _mm_unpackhi_epi64(t2, t3));
}

template <typename T>
inline void block_8x8(const T* src, int64_t ss, T* dst, int64_t ds) {
  __m128i a[8];
  for (int i = 0; i < 8; ++i) a[i] = load(src + i * ss);
  // Pairs of columns, then quads, then all eight, interleaved per row.
  const __m128i s0 = _mm_unpacklo_epi16(a[0], a[1]), s1 = _mm_unpacklo_epi16(a[2], a[3]);
  const __m128i s2 = _mm_unpacklo_epi16(a[4], a[5]), s3 = _mm_unpacklo_epi16(a[6], a[7]);
  const __m128i s4 = _mm_unpackhi_epi16(a[0], a[1]), s5 = _mm_unpackhi_epi16(a[2], a[3]);
  const __m128i s6 = _mm_unpackhi_epi16(a[4], a[5]), s7 = _mm_unpackhi_epi16(a[6], a[7]);
  const __m128i t0 = _mm_unpacklo_epi32(s0, s1), t1 = _mm_unpackhi_epi32(s0, s1);
  const __m128i t2 = _mm_unpacklo_epi32(s2, s3), t3 = _mm_unpackhi_epi32(s2, s3);
  const __m128i t4 = _mm_unpacklo_epi32(s4, s5), t5 = _mm_unpackhi_epi32(s4, s5);
  const __m128i t6 = _mm_unpacklo_epi32(s6, s7), t7 = _mm_unpackhi_epi32(s6, s7);
  store(dst, _mm_unpacklo_epi64(t0, t2));
  store(dst + ds, _mm_unpackhi_epi64(t0, t2));
  store(dst + 2 * ds, _mm_unpacklo_epi64(t1, t3));
  store(dst + 3 * ds, _mm_unpackhi_epi64(t1, t3));
  store(dst + 4 * ds, _mm_unpacklo_epi64(t4, t6));
  store(dst + 5 * ds, _mm_unpackhi_epi64(t4, t6));
  store(dst + 6 * ds, _mm_unpacklo_epi64(t5, t7));
  store(dst + 7 * ds, _mm_unpackhi_epi64(t5, t7));
}

template <typename T>
inline void block_2x2(const T* src, int64_t ss, T* dst, int64_t ds) {
  const __m128i a0 = load(src), a1 = load(src + ss);
  store(dst, _mm_unpacklo_epi64(a0, a1));
  store(dst + ds, _mm_unpackhi_epi64(a0, a1));
}

template <typename T>
inline void block(const T* src, int64_t ss, T* dst, int64_t ds) {
  if constexpr (sizeof(T) == 4) block_4x4(src, ss, dst, ds);
  else if constexpr (sizeof(T) == 2) block_8x8(src, ss, dst, ds);
  else block_2x2(src, ss, dst, ds);
}
#else
template <size_t kBytes> constexpr int64_t kBlock = 1;
template <typename T>
inline void block(const T*, int64_t, T*, int64_t) {}
#endif

}  // namespace transpose_detail

// dst[r * dst_stride + c] = src[r + c * src_stride] for r < rows, c < cols.
template <typename T>
inline void transpose_tile(const T* src, int64_t src_stride, T* dst, int64_t dst_stride, int64_t rows, int64_t cols) {
  constexpr int64_t B = transpose_detail::kBlock<sizeof(T)>;
  int64_t r = 0;
  if constexpr (B > 1) {
    for (; r + B <= rows; r += B) {
      int64_t c = 0;
      for (; c + B <= cols; c += B)
        transpose_detail::block(src + r + c * src_stride, src_stride, dst + r * dst_stride + c, dst_stride);
      for (; c < cols; ++c)
        for (int64_t i = r; i < r + B; ++i) dst[i * dst_stride + c] = src[i + c * src_stride];
    }
  }
  for (; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[r * dst_stride + c] = src[r + c * src_stride];
}

}  // namespace hs::cpu
