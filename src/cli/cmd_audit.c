/*
 * cmd_audit.c - `linesec audit ...`: verify the log, sign checkpoints, write
 * and check proofs. Parses, calls liblinesec (linesec/audit.h, line.h,
 * pki.h) and prints.
 */
#include "cli.h"

#include "linesec/audit.h"
#include "linesec/line.h"
#include "linesec/pki.h"

#include <jansson.h>
#include <string.h>
#include <unistd.h>

static json_t *checkpoint_json(const lsec_audit_checkpoint *cp)
{
	char hex[65];
	lsec_hex_encode(hex, cp->root, 32);
	return json_pack("{s:s, s:I, s:s}", "origin", cp->origin, "tree_size", (json_int_t)cp->size,
			 "root", hex);
}

/* The station's public key: --pubkey FILE, else the line's station.pub. */
static int load_pub(lsec_key **out, const char *path, lsec_line *line, lsec_err *err)
{
	int rc = 0;
	*out = NULL;
	if (path == NULL) {
		path = lsec_line_station_pub_path(line);
	}
	LSEC_TRY(lsec_key_load_public(out, path, err));
	LSEC_ENSURE(lsec_key_get_type(*out) == LSEC_KEY_ED25519, LSEC_E_USAGE,
		    "cannot use key '%s': checkpoints are signed with Ed25519 keys", path);
out:
	if (rc < 0) {
		lsec_key_free(*out);
		*out = NULL;
	}
	return rc;
}

static int read_text(lsec_buf *b, const char *path, size_t max, lsec_err *err)
{
	int rc = 0;
	lsec_buf_init(b, max);
	LSEC_TRY(lsec_file_read(b, path, err));
	LSEC_ENSURE(lsec_buf_cstr(b, err) != NULL, LSEC_E_NOMEM, "cannot read '%s'", path);
	LSEC_ENSURE(strlen((const char *)b->data) == b->len, LSEC_E_PARSE,
		    "cannot read '%s': it holds a NUL byte", path);
out:
	return rc;
}

/* ---- verify -------------------------------------------------------------- */

static const cli_opt verify_opts[] = {
	CLI_OPT("against", "FILE|DIR",
		"a checkpoint exported earlier, or a folder of them: the log must still contain each"),
	CLI_OPT("pubkey", "FILE",
		"station public key(s), PEM (default: this station's and those the log trusts)"),
	CLI_FLAG("read-only", "read the line folder without writing anything (an auditor's copy)"),
	CLI_FLAG("full", "walk and replay every leaf again, not only those since the last verify"),
	CLI_OPT_JSON("the result"),
	CLI_OPT_END,
};

static json_t *diff_json(const lsec_audit_state_diff *d)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "kind", lsec_audit_diff_kind_name(d->kind),
			 "table", d->table, "key", d->key, "column", d->column, "registry",
			 d->registry, "log", d->log, "leaf",
			 d->has_seq ? json_integer((json_int_t)d->seq) : json_null());
}

static int verify_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_line *line = c->line;
	struct evp_pkey_st **pubs = NULL;
	size_t npubs = 0;
	lsec_line_verify_report rep;
	lsec_audit_state_report state;
	lsec_line_verify_options vo = LSEC_LINE_VERIFY_OPTIONS_INIT;
	lsec_key *key = NULL;
	json_t *diffs = NULL;
	const char *against = cli_get(a, "against"), *keys = cli_get(a, "pubkey");
	memset(&state, 0, sizeof(state));
	if (keys != NULL) {
		LSEC_TRY(lsec_audit_pubkeys_load(&pubs, &npubs, keys, err));
	} else {
		LSEC_TRY(lsec_line_trusted_keys(&pubs, &npubs, line, err));
	}
	/* An auditor's copy (read-only, or a folder that cannot be written) or a folder
	 * without the station key verifies from scratch and keeps nothing. */
	if (!cli_flag(a, "read-only") && access(lsec_line_dir(line), W_OK) == 0 &&
	    access(lsec_line_station_key_path(line), R_OK) == 0) {
		LSEC_TRY(lsec_key_load_private(&key, lsec_line_station_key_path(line), NULL, err));
		vo.key = lsec_key_evp(key);
	}
	vo.against = against;
	vo.full = cli_flag(a, "full");
	int state_rc = lsec_line_verify(&rep, &state, line, (const struct evp_pkey_st *const *)pubs,
					npubs, &vo, err);
	LSEC_TRY(state_rc == LSEC_E_AUDIT_STATE ? 0 : state_rc);
	char hex[65];
	lsec_hex_encode(hex, rep.log.root, 32);
	if (cli_flag(a, "json")) {
		diffs = json_array();
		LSEC_ENSURE(diffs != NULL, LSEC_E_NOMEM, "out of memory");
		for (size_t i = 0; i < state.ndiffs; i++) {
			LSEC_ENSURE(json_array_append_new(diffs, diff_json(&state.diffs[i])) == 0,
				    LSEC_E_NOMEM, "out of memory");
		}
		json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:s, s:o?, s:o?, s:I, s:{s:I,s:I,s:O}}",
				      "ok", state.ndiffs == 0, "leaves", (json_int_t)rep.log.leaves,
				      "verified_before", (json_int_t)rep.since,
				      "checkpoints", (json_int_t)rep.log.checkpoints, "root", hex,
				      "latest_checkpoint",
				      rep.log.has_checkpoint ? checkpoint_json(&rep.log.latest) : NULL,
				      "anchored_tree_size",
				      rep.anchored ? json_integer((json_int_t)rep.anchored_size) : NULL,
				      "exported_checked", (json_int_t)rep.exported, "state",
				      "leaves_replayed", (json_int_t)state.leaves, "rows",
				      (json_int_t)state.rows, "differences", diffs);
		LSEC_TRY(cli_print_json(j, err));
	} else {
		printf("audit log verifies: %llu leaves, %llu checkpoints, root %s\n",
		       (unsigned long long)rep.log.leaves, (unsigned long long)rep.log.checkpoints,
		       hex);
		if (rep.since > 0) {
			printf("signatures and state checked from leaf %llu on (the first %llu "
			       "verified before, " LSEC_LINE_VERIFIED "; --full walks them all)\n",
			       (unsigned long long)rep.since, (unsigned long long)rep.since);
		}
		if (rep.log.has_checkpoint) {
			printf("latest checkpoint: %llu leaves (%s)\n",
			       (unsigned long long)rep.log.latest.size, rep.log.latest.origin);
		}
		if (rep.anchored) {
			printf("contains the last checkpoint this station signed (%llu leaves, "
			       LSEC_LINE_ANCHOR ")\n",
			       (unsigned long long)rep.anchored_size);
		}
		if (against != NULL) {
			printf("contains the exported checkpoint%s '%s' (%zu checked)\n",
			       rep.exported > 0 ? "s of" : "", against,
			       rep.exported > 0 ? rep.exported : (size_t)1);
		}
		for (size_t i = 0; i < state.ndiffs; i++) {
			char line_text[512];
			lsec_audit_state_diff_text(line_text, sizeof(line_text), &state.diffs[i]);
			printf("state differs: %s\n", line_text);
		}
		if (state.ndiffs == 0) {
			printf("registry state matches the log: %llu rows replayed from %llu leaves\n",
			       (unsigned long long)state.rows, (unsigned long long)state.leaves);
		}
	}
	rc = state_rc; /* exit 5 naming the first difference, all of them printed above */
out:
	json_decref(diffs);
	lsec_key_free(key);
	lsec_audit_state_report_release(&state);
	lsec_audit_pubkeys_free(pubs, npubs);
	return rc;
}

static const cli_spec verify_spec = {
	.usage = "audit verify [--line DIR] [--against FILE|DIR] [--pubkey FILE] [--read-only] "
		 "[--full] [--json]",
	.summary = "recompute the audit log, check every checkpoint and the registry's state",
	.opts = verify_opts,
	.details =
		"Checks each leaf's hash, sequence and position, every checkpoint's signature, order\n"
		"and root against the recomputed tree (so later checkpoints are consistent with "
		"earlier\nones), and names the first bad leaf or checkpoint. Exit status 0 when the log "
		"verifies.\nWhen several stations share a PostgreSQL registry, give --pubkey a file "
		"with all their\nstation.pub keys concatenated: each checkpoint must be signed by one "
		"of them.\nThen the log is replayed and every row of the units, runs, identities, "
		"releases,\nsop_versions, people, credentials, revocations and scrap_records tables is compared with what the leaves record; "
		"each row that\nis missing, extra or different is listed with its table, key, column "
		"and leaf (exit 5).\n"
		"The station remembers what it verified (" LSEC_LINE_VERIFIED ": tree size, root and "
		"replayed\nstate, signed with its key) and next time hashes the leaves verified "
		"before against that\nroot, checks and replays only the later ones, and compares "
		"every row again. A changed\nearlier leaf makes it walk from scratch, naming the "
		"leaf; a record not signed by this\nstation or of another registry is refused "
		"(--full verifies from scratch and records anew).",
	.body = verify_body,
	.setup = CLI_LINE,
	.action = "verify the audit log",
};

/* ---- checkpoint ---------------------------------------------------------- */

static const cli_opt checkpoint_opts[] = {
	CLI_OPT("export", "DIR", "also write the checkpoint to DIR/<line>-<size>.checkpoint"),
	CLI_OPT_JSON("the checkpoint"),
	CLI_OPT_END,
};

static int checkpoint_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_line *line = c->line;
	lsec_key *key = NULL;
	char *note = NULL, *path = NULL;
	const char *dir = cli_get(a, "export");
	lsec_audit_checkpoint cp;
	LSEC_TRY(lsec_key_load_private(&key, lsec_line_station_key_path(line), NULL, err));
	LSEC_TRY(lsec_line_checkpoint(&note, line, lsec_key_evp(key), c->person, err));
	LSEC_TRY(lsec_audit_checkpoint_parse(&cp, note, strlen(note), err));
	if (dir != NULL) {
		LSEC_TRY(lsec_mkdir_p(dir, 0755, err));
		LSEC_ENSURE((path = lsec_asprintf("%s/%s-%llu.checkpoint", dir, lsec_line_id(line),
						  (unsigned long long)cp.size)) != NULL,
			    LSEC_E_NOMEM, "out of memory");
		LSEC_TRY(lsec_file_write_atomic(path, note, strlen(note), 0644, err));
	}
	if (cli_flag(a, "json")) {
		json_t *j = checkpoint_json(&cp);
		if (j != NULL) {
			json_object_set_new(j, "note", json_string(note));
			if (path != NULL) {
				json_object_set_new(j, "exported", json_string(path));
			}
		}
		LSEC_TRY(cli_print_json(j, err));
	} else {
		fputs(note, stdout);
		if (path != NULL) {
			fprintf(stderr, "linesec: checkpoint written to '%s'\n", path);
		}
	}
out:
	lsec_free(path);
	lsec_free(note);
	lsec_key_free(key);
	return rc;
}

static const cli_spec checkpoint_spec = {
	.usage = "audit checkpoint [--line DIR] [--as NAME] [--export DIR] [--json]",
	.summary = "sign and store a checkpoint of the whole audit log with the station key",
	.opts = checkpoint_opts,
	.details = "The checkpoint is a C2SP signed note (origin, tree size, root) signed with the "
		   "station's\nEd25519 key. Keep exported checkpoints off the station: 'audit verify "
		   "--against FILE'\ndetects a log that was cut back or rewritten since. Every checkpoint is "
		   "also exported to\nthe line's checkpoint folder (line.yaml 'checkpoints') and "
		   "recorded in anchor.json.\nNeeds a logged-in person (any role).",
	.body = checkpoint_body,
	.setup = CLI_LINE,
	.roles = CLI_ANYONE,
	.action = "sign a checkpoint",
};

/* ---- prove ----------------------------------------------------------------- */

static const cli_opt prove_opts[] = {
	CLI_OPT("serial", "SN", "prove every event of this unit"),
	CLI_OPT("leaf", "N", "prove the leaf with sequence number N"),
	CLI_OPT("out", "FILE", "write the proof file here instead of standard output"),
	CLI_OPT_END,
};

static int prove_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_line *line = c->line;
	lsec_audit_proof *proof = NULL;
	char *text = NULL;
	uint64_t seq = 0;
	const char *unit = cli_get(a, "serial"), *out_path = cli_get(a, "out");
	LSEC_ENSURE((unit == NULL) != (cli_get(a, "leaf") == NULL), LSEC_E_USAGE,
		    "give exactly one of --serial SN and --leaf N");
	LSEC_TRY(cli_get_u64(a, "leaf", UINT64_MAX, &seq, err));
	LSEC_TRY(lsec_audit_prove(&proof, lsec_line_store(line), unit, seq, err));
	LSEC_TRY(lsec_audit_proof_write(&text, proof, err));
	if (out_path != NULL) {
		size_t len = strlen(text);
		text[len] = '\n'; /* the NUL becomes the final newline of the file */
		rc = lsec_file_write_atomic(out_path, text, len + 1, 0644, err);
		text[len] = 0;
		LSEC_TRY(rc);
		fprintf(stderr, "linesec: proof of %zu %s written to '%s'\n",
			lsec_audit_proof_count(proof),
			lsec_audit_proof_count(proof) == 1 ? "leaf" : "leaves",
			out_path);
	} else {
		printf("%s\n", text);
	}
out:
	lsec_free(text);
	lsec_audit_proof_free(proof);
	return rc;
}

static const cli_spec prove_spec = {
	.usage = "audit prove [--line DIR] (--serial SN | --leaf N) [--out FILE]",
	.summary = "write a self-contained inclusion proof against the latest checkpoint",
	.opts = prove_opts,
	.details = "The proof file (JSON, docs/audit-log.md) holds the signed checkpoint and, for "
		   "each\nleaf, its exact bytes, index and inclusion path. Check it anywhere with\n"
		   "'linesec audit check-proof FILE --pubkey station.pub'.",
	.body = prove_body,
	.setup = CLI_LINE,
	.action = "prove audit leaves",
};

/* ---- check-proof ---------------------------------------------------------- */

static const cli_opt check_opts[] = {
	CLI_REQUIRED("pubkey", "STATION.pub",
		     "the station's public key (PEM), obtained through a trusted channel"),
	CLI_OPT_JSON("the checked leaves"),
	CLI_OPT_END,
};

static int check_proof_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_key *pub = NULL;
	lsec_buf text = LSEC_BUF_INIT(0);
	lsec_audit_proof *proof = NULL;
	lsec_audit_checkpoint cp;
	json_t *leaves = NULL;
	LSEC_TRY(load_pub(&pub, cli_get(a, "pubkey"), NULL, err));
	LSEC_TRY(read_text(&text, a->args[0], LSEC_AUDIT_PROOF_MAX, err));
	LSEC_TRY(lsec_audit_proof_parse(&proof, (const char *)text.data, text.len, err));
	LSEC_TRY(lsec_audit_proof_check(&cp, proof, lsec_key_evp(pub), err));
	size_t n = lsec_audit_proof_count(proof);
	if (cli_flag(a, "json")) {
		LSEC_ENSURE((leaves = json_array()) != NULL, LSEC_E_NOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(leaves,
					      json_pack("{s:I, s:s}", "index",
							(json_int_t)lsec_audit_proof_index(proof, i),
							"leaf", lsec_audit_proof_leaf(proof, i)));
		}
		json_t *j = json_pack("{s:b, s:o, s:o}", "ok", 1, "checkpoint", checkpoint_json(&cp),
				      "entries", leaves);
		leaves = NULL;
		LSEC_TRY(cli_print_json(j, err));
	} else {
		printf("proof verifies: %zu %s in '%s' at tree size %llu\n", n, n == 1 ? "leaf" : "leaves",
		       cp.origin, (unsigned long long)cp.size);
		for (size_t i = 0; i < n; i++) {
			printf("  leaf %llu: %s\n", (unsigned long long)lsec_audit_proof_index(proof, i),
			       lsec_audit_proof_leaf(proof, i));
		}
	}
out:
	json_decref(leaves);
	lsec_audit_proof_free(proof);
	lsec_buf_release(&text);
	lsec_key_free(pub);
	return rc;
}

static const cli_spec check_spec = {
	.usage = "audit check-proof FILE --pubkey STATION.pub [--json]",
	.summary = "verify a proof file offline: checkpoint signature and each leaf's inclusion",
	.opts = check_opts,
	.min_args = 1,
	.max_args = 1,
	.details = "Needs no line folder and no database: only the proof file and the public key.",
	.body = check_proof_body,
};

/* ---- consistency ----------------------------------------------------------- */

static const cli_opt consistency_opts[] = {
	CLI_OPT("pubkey", "STATION.pub", "the station public key (default: the line's station.pub)"),
	CLI_OPT_JSON("the proof"),
	CLI_OPT_END,
};

static int consistency_body(cli_ctx *c)
{
	int rc = 0;
	lsec_err *err = &c->err;
	const cli_args *a = &c->a;
	lsec_line *line = c->line;
	lsec_key *pub = NULL;
	lsec_buf oldn = LSEC_BUF_INIT(0), newn = LSEC_BUF_INIT(0);
	lsec_buf proof = LSEC_BUF_INIT(130 * 32);
	lsec_audit_checkpoint o, n;
	json_t *hashes = NULL;
	LSEC_TRY(load_pub(&pub, cli_get(a, "pubkey"), line, err));
	LSEC_TRY(read_text(&oldn, a->args[0], LSEC_AUDIT_NOTE_MAX + 1, err));
	LSEC_TRY(read_text(&newn, a->args[1], LSEC_AUDIT_NOTE_MAX + 1, err));
	LSEC_TRY(lsec_audit_consistency(&proof, &o, &n, lsec_line_store(line),
					(const char *)oldn.data, (const char *)newn.data,
					lsec_key_evp(pub), err));
	LSEC_ENSURE((hashes = json_array()) != NULL, LSEC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < proof.len / 32; i++) {
		char hex[65];
		lsec_hex_encode(hex, proof.data + 32 * i, 32);
		json_array_append_new(hashes, json_string(hex));
	}
	if (cli_flag(a, "json")) {
		json_t *j = json_pack("{s:b, s:o, s:o, s:o}", "ok", 1, "old", checkpoint_json(&o),
				      "new", checkpoint_json(&n), "proof", hashes);
		hashes = NULL;
		LSEC_TRY(cli_print_json(j, err));
	} else {
		printf("consistent: the checkpoint of %llu leaves extends the one of %llu leaves "
		       "(%zu proof hashes)\n",
		       (unsigned long long)n.size, (unsigned long long)o.size, proof.len / 32);
		for (size_t i = 0; i < json_array_size(hashes); i++) {
			printf("  %s\n", json_string_value(json_array_get(hashes, i)));
		}
	}
out:
	json_decref(hashes);
	lsec_buf_release(&proof);
	lsec_buf_release(&oldn);
	lsec_buf_release(&newn);
	lsec_key_free(pub);
	return rc;
}

static const cli_spec consistency_spec = {
	.usage = "audit consistency [--line DIR] OLD.checkpoint NEW.checkpoint [--json]",
	.summary = "prove from the stored log that the newer checkpoint extends the older one",
	.opts = consistency_opts,
	.min_args = 2,
	.max_args = 2,
	.details = "Verifies both checkpoints' signatures, computes the RFC 9162 consistency proof "
		   "from\nthe stored leaves and verifies it; prints the proof's hashes.",
	.body = consistency_body,
	.setup = CLI_LINE,
	.action = "prove consistency",
};

const cli_cmd cli_audit_cmds[] = {
	{"verify", &verify_spec, NULL, "recompute the log and check every leaf and checkpoint"},
	{"checkpoint", &checkpoint_spec, NULL, "sign and store a checkpoint (and export it)"},
	{"prove", &prove_spec, NULL, "write an inclusion proof file for a unit or a leaf"},
	{"check-proof", &check_spec, NULL, "verify a proof file offline with the station public key"},
	{"consistency", &consistency_spec, NULL, "prove that a newer checkpoint extends an older one"},
	{NULL, NULL, NULL, NULL},
};
