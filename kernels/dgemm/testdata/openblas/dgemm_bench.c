// dgemm_bench times OpenBLAS's cblas_dgemm on the products BenchmarkGemm
// times: C = A x B for n x n row-major doubles, as one call (whole) and as
// 64 calls on bands of rows (bands), the way kernels/matmul chunks it.
// It is not built by go (testdata). Build and run, on one core:
//
//	cc -O2 -o /tmp/dgemm_bench dgemm_bench.c -lopenblas
//	OPENBLAS_NUM_THREADS=1 taskset -c 1 /tmp/dgemm_bench 512 1024
//
// Each line: n, mode, the best and the median GFLOP/s of 7 timed runs of
// at least 0.2 s, and openblas_get_corename().
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *openblas_get_corename(void);

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void product(int n, int bands, const double *a, const double *b, double *c) {
	if (!bands) {
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
		return;
	}
	for (int i = 0; i < 64; i++) {
		int lo = (long)i * n / 64, hi = (long)(i + 1) * n / 64;
		if (hi > lo)
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, hi - lo, n, n, 1,
			            a + (long)lo * n, n, b, n, 0, c + (long)lo * n, n);
	}
}

static int cmp(const void *x, const void *y) {
	double d = *(const double *)x - *(const double *)y;
	return (d > 0) - (d < 0);
}

int main(int argc, char **argv) {
	for (int arg = 1; arg < argc; arg++) {
		int n = atoi(argv[arg]);
		double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
		       *c = malloc(sizeof(double) * n * n);
		srand(1);
		for (long i = 0; i < (long)n * n; i++) {
			a[i] = 2.0 * rand() / RAND_MAX - 1;
			b[i] = 2.0 * rand() / RAND_MAX - 1;
		}
		for (int bands = 0; bands <= 1; bands++) {
			double g[7];
			product(n, bands, a, b, c); // warm up
			for (int r = 0; r < 7; r++) {
				int iters = 0;
				double t0 = now(), t;
				do {
					product(n, bands, a, b, c);
					iters++;
				} while ((t = now() - t0) < 0.2);
				g[r] = 2.0 * n * n * n * iters / t / 1e9;
			}
			qsort(g, 7, sizeof g[0], cmp);
			printf("n=%d mode=%s best=%.1f median=%.1f GFLOP/s core=%s\n", n,
			       bands ? "bands" : "whole", g[6], g[3], openblas_get_corename());
		}
		free(a);
		free(b);
		free(c);
	}
	return 0;
}
