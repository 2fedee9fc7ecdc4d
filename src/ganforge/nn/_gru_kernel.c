/* The GRU recurrence, forward and backward, for float32 on the CPU.
 *
 * Same maths and same saved tensors as _GRUSequence in gru.py (read that first); this file only
 * removes the per-operation dispatch cost, which dominates at the sizes GRU forecasters use
 * (hidden 50, batch 32: one step's work is ~250k multiply-adds, a few microseconds). The Python
 * side does the two big GEMMs (input projection for all steps, weight gradient over all steps)
 * and loads this file with ctypes after compiling it with the system C compiler (kernel.py).
 *
 * Layouts, all row-major and contiguous:
 *   gi    (T, B, 3H)  W_i x_t + b_i for every step, gate order r, z, n
 *   h0    (B, H)
 *   w     (3H, H)     weight_hh, torch's layout
 *   bhh   (3H)
 *   hs    (T+1, B, H) hs[0] = h0, hs[t+1] = h_t
 *   rz    (T, B, 2H)  the r and z gates after the sigmoid
 *   out   (T, B, H)   n_t (reset_after) or the candidate h'_t (article)
 *   extra (T, B, H)   W_hn h_{t-1} + b_hn (reset_after) or r_t * h_{t-1} (article)
 * Rows of the batch never interact, so the batch is cut into blocks of four rows that threads
 * take whole (all steps); within a block the weights are read once per four rows and the small
 * matrix products keep their sums in vector registers. Weights are first copied into panels of
 * K x Np floats (Np = N rounded up to 8, zero padding) so every load is one whole vector.
 */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define MAX_H 1024

/* exp for float, branch-free so the loops that call it vectorise: 2^k * e^r with |r| <= ln2/2,
 * e^r from Cephes' degree-6 polynomial (relative error ~1e-7). */
static inline float exp_approx(float x) {
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    float kf = x * 1.44269504088896341f + 12582912.0f;       /* round(x / ln2) in the low bits */
    int32_t ki;
    memcpy(&ki, &kf, 4);
    ki -= 0x4B400000;
    float k = kf - 12582912.0f;
    float r = x - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = (ki + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

static inline float sigmoid(float x) { return 1.0f / (1.0f + exp_approx(-x)); }
static inline float tanh_approx(float x) { return 1.0f - 2.0f / (1.0f + exp_approx(2.0f * x)); }

typedef float v8 __attribute__((vector_size(32)));
#define ROWS 4                                    /* batch rows per block */

static inline v8 load8(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
static inline void store8(float *p, v8 v) { memcpy(p, &v, sizeof v); }
static inline int round8(int n) { return (n + 7) & ~7; }

/* C[r, 0:Np] += sum_k A[r, k] P[k, 0:Np] for r < R: A has row stride lda, C row stride Np,
 * P is a K x Np panel. R is a constant at every call site, so the loops over r unroll. */
static inline __attribute__((always_inline)) void gemm_rows(const int R, int K, int Np, const float *restrict A,
                                                             int lda, const float *restrict P, float *restrict C) {
    int j = 0;
    for (; j + 16 <= Np; j += 16) {
        v8 c[ROWS][2];
        for (int r = 0; r < R; r++) c[r][0] = load8(C + r * Np + j), c[r][1] = load8(C + r * Np + j + 8);
        for (int k = 0; k < K; k++) {
            const v8 p0 = load8(P + (int64_t)k * Np + j), p1 = load8(P + (int64_t)k * Np + j + 8);
            for (int r = 0; r < R; r++) {
                const float a = A[r * lda + k];
                c[r][0] += a * p0;
                c[r][1] += a * p1;
            }
        }
        for (int r = 0; r < R; r++) store8(C + r * Np + j, c[r][0]), store8(C + r * Np + j + 8, c[r][1]);
    }
    for (; j < Np; j += 8) {
        v8 c[ROWS];
        for (int r = 0; r < R; r++) c[r] = load8(C + r * Np + j);
        for (int k = 0; k < K; k++) {
            const v8 p0 = load8(P + (int64_t)k * Np + j);
            for (int r = 0; r < R; r++) c[r] += A[r * lda + k] * p0;
        }
        for (int r = 0; r < R; r++) store8(C + r * Np + j, c[r]);
    }
}

static void gemm(int R, int K, int Np, const float *A, int lda, const float *P, float *C) {
    switch (R) {
    case 4: gemm_rows(4, K, Np, A, lda, P, C); break;
    case 3: gemm_rows(3, K, Np, A, lda, P, C); break;
    case 2: gemm_rows(2, K, Np, A, lda, P, C); break;
    default: gemm_rows(1, K, Np, A, lda, P, C); break;
    }
}

/* dst (K x round8(N)) <- src[k * rs + n * cs], zero padded */
static void pack(float *dst, const float *src, int K, int N, int rs, int cs) {
    const int Np = round8(N);
    for (int k = 0; k < K; k++)
        for (int n = 0; n < Np; n++) dst[(int64_t)k * Np + n] = n < N ? src[(int64_t)k * rs + (int64_t)n * cs] : 0.0f;
}

/* R rows of width Np: each starts as src[0:n] (zeros where src is NULL), the padding as zeros */
static void fill_rows(float *rows, int R, int Np, const float *src, int n) {
    for (int r = 0; r < R; r++) {
        if (src) memcpy(rows + r * Np, src, n * sizeof(float));
        else memset(rows + r * Np, 0, n * sizeof(float));
        memset(rows + r * Np + n, 0, (Np - n) * sizeof(float));
    }
}

typedef struct {
    int T, B, H, reset_after, b0, b1;
    const float *gi, *h0, *bhh, *d_hs;
    const float *p1, *p2;                      /* weight panels, see gru_forward / gru_backward */
    float *hs, *rz, *out, *extra, *d_gi, *d_ghn, *d_h0;
} Job;

/* The pointwise part of one row and one step. Each loop sits in a function of its own with
 * restrict parameters, which is what lets gcc vectorise loops that write several arrays. */
static void gates_after(int H, const float *restrict gi, const float *restrict a, const float *restrict h,
                        float *restrict rz, float *restrict out, float *restrict ex, float *restrict hn) {
    for (int i = 0; i < 2 * H; i++) rz[i] = sigmoid(gi[i] + a[i]);
    for (int i = 0; i < H; i++) {
        const float n = tanh_approx(gi[2 * H + i] + rz[i] * a[2 * H + i]);   /* reset AFTER the product */
        ex[i] = a[2 * H + i];
        out[i] = n;
        hn[i] = n + rz[H + i] * (h[i] - n);                                  /* (1 - z) n + z h */
    }
}

static void gates_before_rz(int H, const float *restrict gi, const float *restrict a, const float *restrict h,
                            float *restrict rz, float *restrict rh) {
    for (int i = 0; i < 2 * H; i++) rz[i] = sigmoid(gi[i] + a[i]);
    for (int i = 0; i < H; i++) rh[i] = rz[i] * h[i];                       /* reset BEFORE the product */
}

static void gates_before_n(int H, const float *restrict gi_n, const float *restrict a, const float *restrict h,
                           const float *restrict z, float *restrict out, float *restrict hn) {
    for (int i = 0; i < H; i++) {
        const float c = tanh_approx(gi_n[i] + a[i]);
        out[i] = c;
        hn[i] = h[i] + z[i] * (c - h[i]);                                    /* (1 - z) h + z h' */
    }
}

/* dh: dL/dh_t; dn: dL/dh_{t-1} from outside (zeros at t = 0). Writes d(W_h h + b_h) to g and to
 * dghn (its n part), d(W_i x + b_i) to dgi, and dL/dh_{t-1} before the W_h product to a. */
static void grads_after(int H, const float *restrict dh, const float *restrict hp, const float *restrict rg,
                        const float *restrict n, const float *restrict ghn, const float *restrict dn_,
                        float *restrict g, float *restrict dgi, float *restrict dghn, float *restrict a) {
    const float *restrict z = rg + H;
    for (int i = 0; i < H; i++) {
        const float dn = dh[i] * (1.0f - z[i]) * (1.0f - n[i] * n[i]);
        const float dr = dn * ghn[i] * rg[i] * (1.0f - rg[i]);
        const float dz = dh[i] * (hp[i] - n[i]) * z[i] * (1.0f - z[i]);
        g[i] = dgi[i] = dr;
        g[H + i] = dgi[H + i] = dz;
        dgi[2 * H + i] = dn;
        g[2 * H + i] = dghn[i] = dn * rg[i];
        a[i] = dn_[i] + dh[i] * z[i];
    }
}

static void grads_before_c(int H, const float *restrict dh, const float *restrict z, const float *restrict c,
                           float *restrict dc) {
    for (int i = 0; i < H; i++) dc[i] = dh[i] * z[i] * (1.0f - c[i] * c[i]);
}

/* d: d(r h) */
static void grads_before_rz(int H, const float *restrict dh, const float *restrict d, const float *restrict hp,
                            const float *restrict rg, const float *restrict c, const float *restrict dn_,
                            float *restrict drz, float *restrict a) {
    const float *restrict z = rg + H;
    for (int i = 0; i < H; i++) {
        drz[i] = d[i] * hp[i] * rg[i] * (1.0f - rg[i]);
        drz[H + i] = dh[i] * (c[i] - hp[i]) * z[i] * (1.0f - z[i]);
        a[i] = dn_[i] + dh[i] * (1.0f - z[i]) + d[i] * rg[i];
    }
}

static const float ZEROS[MAX_H];

/* Rows b..b+R-1 at step t, reset applied AFTER the recurrent product (torch's maths).
 * p1: W_h^T as an H x round8(3H) panel. */
static void forward_after(const Job *j, int t, int b, int R, float *acc) {
    const int B = j->B, H = j->H, H3 = 3 * H, Np = round8(H3);
    const int64_t row = (int64_t)t * B + b;
    fill_rows(acc, R, Np, j->bhh, H3);
    gemm(R, H, Np, j->hs + row * H, H, j->p1, acc);                    /* W_h h + b_h */
    for (int r = 0; r < R; r++) {
        const int64_t q = row + r;
        gates_after(H, j->gi + q * H3, acc + r * Np, j->hs + q * H, j->rz + q * 2 * H, j->out + q * H,
                    j->extra + q * H, j->hs + (q + B) * H);
    }
}

/* The article's maths: reset applied BEFORE the product. p1: W_hrz^T (H x round8(2H)),
 * p2: W_hn^T (H x round8(H)). */
static void forward_before(const Job *j, int t, int b, int R, float *acc) {
    const int B = j->B, H = j->H, H2 = 2 * H, H3 = 3 * H, N2 = round8(H2), N1 = round8(H);
    const int64_t row = (int64_t)t * B + b;
    float *acc_n = acc + ROWS * N2;
    fill_rows(acc, R, N2, j->bhh, H2);
    fill_rows(acc_n, R, N1, j->bhh + H2, H);
    gemm(R, H, N2, j->hs + row * H, H, j->p1, acc);                   /* r, z part of W_h h + b_h */
    for (int r = 0; r < R; r++) {
        const int64_t q = row + r;
        gates_before_rz(H, j->gi + q * H3, acc + r * N2, j->hs + q * H, j->rz + q * H2, j->extra + q * H);
    }
    gemm(R, H, N1, j->extra + row * H, H, j->p2, acc_n);              /* W_hn (r h) + b_hn */
    for (int r = 0; r < R; r++) {
        const int64_t q = row + r;
        gates_before_n(H, j->gi + q * H3 + H2, acc_n + r * N1, j->hs + q * H, j->rz + q * H2 + H,
                       j->out + q * H, j->hs + (q + B) * H);
    }
}

/* Backward, rows b..b+R-1 at step t. j->d_h0 rows hold dL/dh_t on entry, dL/dh_{t-1} on exit.
 * reset_after: p1 = W_h as a 3H x round8(H) panel. */
static void backward_after(const Job *j, int t, int b, int R, float *acc, float *dgh) {
    const int B = j->B, H = j->H, H3 = 3 * H, N1 = round8(H);
    const int64_t row = (int64_t)t * B + b;
    for (int r = 0; r < R; r++) {
        const int64_t q = row + r;
        grads_after(H, j->d_h0 + (int64_t)(b + r) * H, j->hs + q * H, j->rz + q * 2 * H, j->out + q * H,
                    j->extra + q * H, t > 0 ? j->d_hs + (q - B) * H : ZEROS, dgh + r * H3, j->d_gi + q * H3,
                    j->d_ghn + q * H, acc + r * N1);
        memset(acc + r * N1 + H, 0, (N1 - H) * sizeof(float));
    }
    gemm(R, H3, N1, dgh, H3, j->p1, acc);                              /* + d(W_h h + b_h) W_h */
    for (int r = 0; r < R; r++) memcpy(j->d_h0 + (int64_t)(b + r) * H, acc + r * N1, H * sizeof(float));
}

/* article: p1 = W_hrz (2H x round8(H)), p2 = W_hn (H x round8(H)) */
static void backward_before(const Job *j, int t, int b, int R, float *acc, float *drh) {
    const int B = j->B, H = j->H, H2 = 2 * H, H3 = 3 * H, N1 = round8(H);
    const int64_t row = (int64_t)t * B + b;
    for (int r = 0; r < R; r++) {
        const int64_t q = row + r;
        grads_before_c(H, j->d_h0 + (int64_t)(b + r) * H, j->rz + q * H2 + H, j->out + q * H, j->d_gi + q * H3 + H2);
    }
    fill_rows(drh, R, N1, 0, N1);
    gemm(R, H, N1, j->d_gi + row * H3 + H2, H3, j->p2, drh);          /* d(r h) = d_c W_hn */
    for (int r = 0; r < R; r++) {
        const int64_t q = row + r;
        grads_before_rz(H, j->d_h0 + (int64_t)(b + r) * H, drh + r * N1, j->hs + q * H, j->rz + q * H2,
                        j->out + q * H, t > 0 ? j->d_hs + (q - B) * H : ZEROS, j->d_gi + q * H3, acc + r * N1);
        memset(acc + r * N1 + H, 0, (N1 - H) * sizeof(float));
    }
    gemm(R, H2, N1, j->d_gi + row * H3, H3, j->p1, acc);              /* + d(r, z pre) W_hrz */
    for (int r = 0; r < R; r++) memcpy(j->d_h0 + (int64_t)(b + r) * H, acc + r * N1, H * sizeof(float));
}

/* One block: rows b0..b1-1 (at most ROWS) through all T steps. */
static void *forward_part(void *arg) {
    const Job *j = arg;
    const int H = j->H, R = j->b1 - j->b0;
    float *acc = malloc(sizeof(float) * ROWS * (round8(3 * H) + round8(H)));
    if (!acc) return arg;
    memcpy(j->hs + (int64_t)j->b0 * H, j->h0 + (int64_t)j->b0 * H, (size_t)R * H * sizeof(float));
    for (int t = 0; t < j->T; t++) (j->reset_after ? forward_after : forward_before)(j, t, j->b0, R, acc);
    free(acc);
    return 0;
}

static void *backward_part(void *arg) {
    const Job *j = arg;
    const int T = j->T, B = j->B, H = j->H, R = j->b1 - j->b0;
    float *acc = malloc(sizeof(float) * ROWS * (round8(H) + 3 * H + 8));
    if (!acc) return arg;
    memcpy(j->d_h0 + (int64_t)j->b0 * H, j->d_hs + ((int64_t)(T - 1) * B + j->b0) * H, (size_t)R * H * sizeof(float));
    for (int t = T - 1; t >= 0; t--)
        (j->reset_after ? backward_after : backward_before)(j, t, j->b0, R, acc, acc + ROWS * round8(H));
    free(acc);
    return 0;
}

/* Runs fn on every block of ROWS batch rows (all T steps each: rows never interact). Blocks are
 * handed out one at a time to `threads` OpenMP threads, so a thread that the OS pauses (another
 * process on the core) delays at most its current block, not half the batch. The threads come
 * from torch's pool: loaded after torch, this file binds to the libgomp.so.1 torch has already
 * loaded, instead of starting a second pool that would compete with torch's spinning workers
 * (measured: a training step 1.8x slower that way). Returns 0, or -1 where a block could not
 * get its scratch memory. */
static int run_blocks(Job base, int threads, void *(*fn)(void *)) {
    const int blocks = (base.B + ROWS - 1) / ROWS;
    int failed = 0;
    if (threads < 1) threads = 1;
    if (threads > blocks) threads = blocks;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) reduction(| : failed)
    for (int i = 0; i < blocks; i++) {
        Job j = base;
        j.b0 = i * ROWS;
        j.b1 = j.b0 + ROWS < base.B ? j.b0 + ROWS : base.B;
        failed |= fn(&j) != 0;
    }
    return failed ? -1 : 0;
}

static int valid(int T, int B, int H) { return T >= 1 && B >= 1 && H >= 1 && H <= MAX_H; }

int gru_forward(int T, int B, int H, int reset_after, int threads, const float *gi, const float *h0,
                const float *w, const float *bhh, float *hs, float *rz, float *out, float *extra) {
    if (!valid(T, B, H)) return -1;
    float *panels = malloc(sizeof(float) * H * (round8(3 * H) + round8(H)));
    if (!panels) return -1;
    Job j = {T, B, H, reset_after, 0, B, gi, h0, bhh, 0, panels, 0, hs, rz, out, extra, 0, 0, 0};
    if (reset_after) {
        pack(panels, w, H, 3 * H, 1, H);                            /* W_h^T */
    } else {
        pack(panels, w, H, 2 * H, 1, H);                            /* W_hrz^T */
        j.p2 = panels + H * round8(2 * H);
        pack((float *)j.p2, w + 2 * H * H, H, H, 1, H);             /* W_hn^T */
    }
    int rc = run_blocks(j, threads, forward_part);
    free(panels);
    return rc;
}

/* d_hs (T, B, H) -> d_gi (T, B, 3H), d_ghn (T, B, H; reset_after only: the n part of
 * d(W_h h + b_h), which differs from d_gi's n part), d_h0 (B, H). */
int gru_backward(int T, int B, int H, int reset_after, int threads, const float *w, const float *hs,
                 const float *rz, const float *out, const float *extra, const float *d_hs, float *d_gi,
                 float *d_ghn, float *d_h0) {
    if (!valid(T, B, H)) return -1;
    float *panels = malloc(sizeof(float) * 3 * H * round8(H));
    if (!panels) return -1;
    Job j = {T, B, H, reset_after, 0, B, 0, 0, 0, d_hs, panels, 0, (float *)hs, (float *)rz, (float *)out,
             (float *)extra, d_gi, d_ghn, d_h0};
    pack(panels, w, 3 * H, H, H, 1);                                /* W_h as it is: rows r, z, n */
    j.p2 = panels + 2 * H * round8(H);                              /* its n rows */
    int rc = run_blocks(j, threads, backward_part);
    free(panels);
    return rc;
}
