/*
 * bench_sop - what checking and rendering a SOP file costs.
 *
 * For each default SOP (sops/, or the folder given as argv[1]), the median
 * over RUNS runs of ITER iterations of:
 *   yaml    libfyaml alone: build the document from the bytes and free it
 *           (the baseline, measured in the same run);
 *   load    lsec_sop_parse: UTF-8 check, the same YAML parse, the schema walk
 *           against the action table and every policy rule;
 *   md/html lsec_sop_render of the loaded SOP.
 * Printed per file in microseconds per operation, with load/yaml as a ratio.
 */
#include "benchutil.h"
#include "linesec/sop.h"

#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5
#define ITER 400

enum { OP_YAML, OP_LOAD, OP_MD, OP_HTML, NOPS };

/* One run of ITER operations; returns microseconds per operation, or -1. */
static double run(int op, const lsec_buf *file, const lsec_sop *sop)
{
	lsec_err err = LSEC_ERR_INIT;
	double t0 = (bench_now_ms() * 1e3);
	for (int i = 0; i < ITER; i++) {
		if (op == OP_YAML) {
			struct fy_parse_cfg pc;
			memset(&pc, 0, sizeof(pc));
			pc.flags = FYPCF_QUIET;
			struct fy_document *d =
				fy_document_build_from_string(&pc, (const char *)file->data, file->len);
			if (d == NULL) {
				return -1;
			}
			fy_document_destroy(d);
		} else if (op == OP_LOAD) {
			lsec_sop *s = NULL;
			if (lsec_sop_parse(&s, NULL, file->data, file->len, "bench", &err) < 0) {
				fprintf(stderr, "bench_sop: %s\n", err.msg);
				return -1;
			}
			lsec_sop_free(s);
		} else {
			lsec_buf b = LSEC_BUF_INIT(1u << 22);
			lsec_sop_render_options ro = LSEC_SOP_RENDER_OPTIONS_INIT;
			ro.format = op == OP_HTML ? LSEC_SOP_FORMAT_HTML : LSEC_SOP_FORMAT_MD;
			int rc = lsec_sop_render(&b, sop, &ro, &err);
			lsec_buf_release(&b);
			if (rc < 0) {
				return -1;
			}
		}
	}
	return ((bench_now_ms() * 1e3) - t0) / ITER;
}

int main(int argc, char **argv)
{
	static const char *const kinds[] = {"flash", "provision", "secure-boot", "debug-lock",
					    "decommission"};
	const char *dir = argc > 1 ? argv[1] : "sops";
	printf("%-14s %8s %10s %10s %10s %10s %10s\n", "SOP", "bytes", "yaml us", "load us",
	       "load/yaml", "md us", "html us");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		char path[512];
		lsec_err err = LSEC_ERR_INIT;
		lsec_buf file = LSEC_BUF_INIT(LSEC_SOP_MAX_FILE);
		lsec_sop *sop = NULL;
		snprintf(path, sizeof(path), "%s/%s.yaml", dir, kinds[k]);
		if (lsec_file_read(&file, path, &err) < 0 ||
		    lsec_sop_parse(&sop, NULL, file.data, file.len, path, &err) < 0) {
			fprintf(stderr, "bench_sop: %s (run from the source folder or pass sops/)\n",
				err.msg);
			lsec_buf_release(&file);
			return 1;
		}
		double med[NOPS];
		for (int op = 0; op < NOPS; op++) {
			double t[RUNS];
			for (int r = 0; r < RUNS; r++) {
				t[r] = run(op, &file, sop);
				if (t[r] < 0) {
					fprintf(stderr, "bench_sop: %s failed\n", path);
					return 1;
				}
			}
			qsort(t, RUNS, sizeof(t[0]), bench_cmp_double);
			med[op] = t[RUNS / 2];
		}
		printf("%-14s %8zu %10.1f %10.1f %9.2fx %10.1f %10.1f\n", kinds[k], file.len,
		       med[OP_YAML], med[OP_LOAD], med[OP_LOAD] / med[OP_YAML], med[OP_MD],
		       med[OP_HTML]);
		lsec_sop_free(sop);
		lsec_buf_release(&file);
	}
	return 0;
}
