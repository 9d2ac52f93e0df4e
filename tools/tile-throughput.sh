#!/usr/bin/env bash
# What one core's multiply units do per second on the register tiles our kernels use, with every operand in L1: the
# ceiling each GEMM path can approach on this CPU. Compiles a small C program (gcc; AVX-512 F/BW, VNNI and BF16 are
# required by the build, and a test whose instruction the CPU lacks is skipped).
#   int8  12 x 16, vpmaddubsw x 2 + vpaddw + vpmaddwd (our AVX-512BW path)   G multiply-adds / s
#   int8  12 x 16, vpdpbusd zmm (our 512-bit VNNI path)                       G multiply-adds / s
#   fp32  12 x 32, vfmadd231ps zmm (our AVX-512 SGEMM tile)                   GFLOP/s
#   bf16  12 x 32, vdpbf16ps zmm (no path of ours yet)                        GFLOP/s
# Usage: bash tools/tile-throughput.sh        Needs: apt-get install gcc
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/tiles.c" <<'EOF'
#include <immintrin.h>
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
enum { K = 768, Calls = 100000 };
static uint8_t a8[12 * 1024] __attribute__((aligned(64)));
static int8_t b8[1024 * 16] __attribute__((aligned(64)));
static float af[12 * K] __attribute__((aligned(64))), bf[K * 32] __attribute__((aligned(64))), out[384];
static uint32_t abh[12 * K] __attribute__((aligned(64)));
static uint16_t bbh[K * 32] __attribute__((aligned(64)));

#define ROWS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((noinline, target("avx512f,avx512bw"))) static void int8_bw(void) {
    __m512i c[12], one = _mm512_set1_epi16(1);
    for (int r = 0; r < 12; r++) c[r] = _mm512_setzero_si512();
    const int8_t *b = b8;
    for (int p = 0; p < K; p += 8, b += 128) {
        __m512i w = _mm512_load_si512(b), d = _mm512_load_si512(b + 64);
#define BW(i) c[i] = _mm512_add_epi32(c[i], _mm512_madd_epi16(_mm512_add_epi16( \
        _mm512_maddubs_epi16(_mm512_set1_epi32(*(const int *)(a8 + i * 1024 + p)), w), \
        _mm512_maddubs_epi16(_mm512_set1_epi32(*(const int *)(a8 + i * 1024 + p + 4)), d)), one));
        ROWS12(BW)
    }
    for (int r = 0; r < 12; r++) _mm512_storeu_si512(out + 16 * r, c[r]);
}

__attribute__((noinline, target("avx512f,avx512bw,avx512vnni"))) static void int8_vnni(void) {
    __m512i c[12];
    for (int r = 0; r < 12; r++) c[r] = _mm512_setzero_si512();
    const int8_t *b = b8;
    for (int p = 0; p < K; p += 4, b += 64) {
        __m512i w = _mm512_load_si512(b);
#define VNNI(i) c[i] = _mm512_dpbusd_epi32(c[i], _mm512_set1_epi32(*(const int *)(a8 + i * 1024 + p)), w);
        ROWS12(VNNI)
    }
    for (int r = 0; r < 12; r++) _mm512_storeu_si512(out + 16 * r, c[r]);
}

__attribute__((noinline, target("avx512f"))) static void fp32_fma(void) {
    __m512 c[24];
    for (int i = 0; i < 24; i++) c[i] = _mm512_setzero_ps();
    const float *a = af, *b = bf;
    for (int p = 0; p < K; p++, a += 12, b += 32) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        for (int r = 0; r < 12; r++) {
            __m512 x = _mm512_set1_ps(a[r]);
            c[2 * r] = _mm512_fmadd_ps(x, b0, c[2 * r]);
            c[2 * r + 1] = _mm512_fmadd_ps(x, b1, c[2 * r + 1]);
        }
    }
    for (int i = 0; i < 24; i++) _mm512_storeu_ps(out + 16 * (i % 24), c[i]);
}

__attribute__((noinline, target("avx512f,avx512bw,avx512bf16"))) static void bf16_dot(void) {
    __m512 c[24];
    for (int i = 0; i < 24; i++) c[i] = _mm512_setzero_ps();
    const uint32_t *a = abh;
    const uint16_t *b = bbh;
    for (int p = 0; p < K; p += 2, a += 12, b += 64) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 32);
        for (int r = 0; r < 12; r++) {
            __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[r]);
            c[2 * r] = _mm512_dpbf16_ps(c[2 * r], x, b0);
            c[2 * r + 1] = _mm512_dpbf16_ps(c[2 * r + 1], x, b1);
        }
    }
    for (int i = 0; i < 24; i++) _mm512_storeu_ps(out + 16 * (i % 24), c[i]);
}

static double rate(void (*tile)(void), double work) {
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        for (int i = 0; i < Calls; i++) tile();
        double r = work * Calls / (now() - t) / 1e9;
        if (r > best) best = r;
    }
    return best;
}

int main(void) {
    unsigned eax, ebx, ecx, edx, eax1, ebx1, ecx1, edx1;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    __cpuid_count(7, 1, eax1, ebx1, ecx1, edx1);
    int avx512bw = (ebx >> 30) & 1, vnni = (ecx >> 11) & 1, bf16 = (eax1 >> 5) & 1;
    for (int i = 0; i < 12 * 1024; i++) a8[i] = (uint8_t)(i % 100);
    for (int i = 0; i < 1024 * 16; i++) b8[i] = (int8_t)(i % 50 - 25);
    for (int i = 0; i < 12 * K; i++) { af[i] = i * 1e-4f; abh[i] = 0x3f803f80u; }
    for (int i = 0; i < K * 32; i++) { bf[i] = i * 1e-5f; bbh[i] = 0x3f80; }
    double macs = 12.0 * 16 * K, flops = 12.0 * 32 * K * 2;
    if (avx512bw) {
        printf("int8 vpmaddubsw+vpmaddwd 12x16: %.1f G multiply-adds/s\n", rate(int8_bw, macs));
        printf("fp32 vfmadd231ps 12x32:         %.1f GFLOP/s\n", rate(fp32_fma, flops));
    } else printf("no AVX-512BW: skipped the AVX-512 tiles\n");
    if (vnni) printf("int8 vpdpbusd zmm 12x16:        %.1f G multiply-adds/s\n", rate(int8_vnni, macs));
    else printf("no AVX512_VNNI: skipped vpdpbusd\n");
    if (bf16) printf("bf16 vdpbf16ps 12x32:           %.1f GFLOP/s\n", rate(bf16_dot, flops));
    else printf("no AVX512_BF16: skipped vdpbf16ps\n");
    return 0;
}
EOF
gcc -O3 -funroll-loops -o "$work/tiles" "$work/tiles.c"
grep -m1 'model name' /proc/cpuinfo || true
"$work/tiles"
