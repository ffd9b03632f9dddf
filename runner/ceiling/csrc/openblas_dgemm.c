// openblas_dgemm times OpenBLAS's cblas_dgemm on the products the matmul
// kernel computes: C = A x B for n x n row-major doubles, as one call
// (mode=whole) and, with -bands, as 64 calls on bands of rows (mode=bands).
// runner/ceiling embeds it, builds it with the C compiler where OpenBLAS's
// headers and library are installed, and runs it on one core for the
// matmul reference; it also runs by hand:
//
//	cc -O2 -o /tmp/openblas_dgemm openblas_dgemm.c -lopenblas
//	OPENBLAS_NUM_THREADS=1 taskset -c 1 /tmp/openblas_dgemm -bands -seconds 0.2 -rounds 7 512 1024
//
// Each line: n, mode, the best and the median GFLOP/s of the timed rounds
// (each at least the given seconds, default 0.1, 5 rounds), the core type
// OpenBLAS picked (openblas_get_corename) and its build (openblas_get_config).
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *openblas_get_corename(void);
char *openblas_get_config(void);

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
	int modes = 1, rounds = 5;
	double seconds = 0.1;
	for (int arg = 1; arg < argc; arg++) {
		if (!strcmp(argv[arg], "-bands")) {
			modes = 2;
			continue;
		}
		if (!strcmp(argv[arg], "-seconds") && arg + 1 < argc) {
			seconds = atof(argv[++arg]);
			continue;
		}
		if (!strcmp(argv[arg], "-rounds") && arg + 1 < argc) {
			rounds = atoi(argv[++arg]);
			continue;
		}
		int n = atoi(argv[arg]);
		if (n < 1 || n > 1 << 15 || rounds < 1 || rounds > 100 || !(seconds > 0)) {
			fprintf(stderr, "openblas_dgemm: bad argument %s\n", argv[arg]);
			return 2;
		}
		double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
		       *c = malloc(sizeof(double) * n * n), g[100];
		if (!a || !b || !c) {
			fprintf(stderr, "openblas_dgemm: out of memory for n = %d\n", n);
			return 1;
		}
		srand(1);
		for (long i = 0; i < (long)n * n; i++) {
			a[i] = 2.0 * rand() / RAND_MAX - 1;
			b[i] = 2.0 * rand() / RAND_MAX - 1;
		}
		for (int bands = 0; bands < modes; bands++) {
			product(n, bands, a, b, c); // warm up
			for (int r = 0; r < rounds; r++) {
				int iters = 0;
				double t0 = now(), t;
				do {
					product(n, bands, a, b, c);
					iters++;
				} while ((t = now() - t0) < seconds);
				g[r] = 2.0 * n * n * n * iters / t / 1e9;
			}
			qsort(g, rounds, sizeof g[0], cmp);
			printf("n=%d mode=%s best=%.2f median=%.2f GFLOP/s core=%s config=%s\n", n,
			       bands ? "bands" : "whole", g[rounds - 1], g[rounds / 2], openblas_get_corename(),
			       openblas_get_config());
		}
		free(a);
		free(b);
		free(c);
	}
	return 0;
}
