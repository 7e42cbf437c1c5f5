/* MIB counters by their nstat names. */
#include <errno.h>
#include <string.h>
#include "core/stack.h"

static const char *const mib_names[MIB_MAX] = {
#define MIB(group, field) #group #field,
#include "core/mib_defs.h"
#undef MIB
};

size_t synack_mib_count(void) { return MIB_MAX; }

const char *synack_mib_name(size_t idx) { return idx < MIB_MAX ? mib_names[idx] : NULL; }

uint64_t synack_mib_get(const struct stack *st, size_t idx) { return st && idx < MIB_MAX ? st->mib[idx] : 0; }

int synack_mib_index(const char *name)
{
	for (size_t i = 0; name && i < MIB_MAX; i++)
		if (strcmp(mib_names[i], name) == 0)
			return (int)i;
	return -ENOENT;
}

uint64_t synack_mib_value(const struct stack *st, const char *name)
{
	int idx = synack_mib_index(name);

	return idx < 0 ? 0 : synack_mib_get(st, (size_t)idx);
}

void synack_mib_print_nstat(const struct stack *st, FILE *f)
{
	fprintf(f, "#kernel\n");
	for (size_t i = 0; i < MIB_MAX; i++)
		if (st->mib[i])
			fprintf(f, "%-32s%-19llu0.0\n", mib_names[i], (unsigned long long)st->mib[i]);
}
