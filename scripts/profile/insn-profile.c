// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin for `make profile`: how many guest instructions each translation block
 * executed. At exit it writes one line per block, "PC INSNS EXECUTIONS" (hex, decimal,
 * decimal), to the file named by its `out=` argument; scripts/profile/report.py turns them into
 * instructions per symbol.
 *
 * Built against QEMU 7.2's qemu-plugin.h (API version 1), which scripts/profile/run.sh takes from
 * Debian's QEMU source. No glib: a fixed open-addressed table keyed by (PC, block length).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define SLOTS (1u << 22)

struct block {
	uint64_t pc;
	uint64_t insns;
	uint64_t count;
};

static struct block *table;
static unsigned int used;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *out_path;

static struct block *lookup(uint64_t pc, uint64_t insns)
{
	uint64_t h = (pc ^ (insns << 48)) * 0x9e3779b97f4a7c15ull;
	unsigned int i = (unsigned int)(h >> 42) & (SLOTS - 1);

	for (;; i = (i + 1) & (SLOTS - 1)) {
		struct block *b = &table[i];

		if (b->insns == 0) {
			if (used + 1 >= SLOTS)
				return NULL;
			used++;
			b->pc = pc;
			b->insns = insns;
			return b;
		}
		if (b->pc == pc && b->insns == insns)
			return b;
	}
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t pc = qemu_plugin_tb_vaddr(tb);
	uint64_t insns = qemu_plugin_tb_n_insns(tb);
	struct block *b;

	if (insns == 0)
		return;
	pthread_mutex_lock(&lock);
	b = lookup(pc, insns);
	pthread_mutex_unlock(&lock);
	if (b)
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 &b->count, 1);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
	FILE *f = fopen(out_path, "w");
	unsigned int i;

	if (!f) {
		perror(out_path);
		return;
	}
	for (i = 0; i < SLOTS; i++) {
		struct block *b = &table[i];

		if (b->count)
			fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", b->pc, b->insns,
				b->count);
	}
	fclose(f);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			out_path = strdup(argv[i] + 4);
	if (!out_path) {
		fprintf(stderr, "insn-profile: out=FILE is needed\n");
		return -1;
	}
	table = calloc(SLOTS, sizeof(*table));
	if (!table)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
