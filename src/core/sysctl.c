/* Linux's sysctls by name, with Linux's defaults and ranges. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include "core/stack.h"

struct sysctl_desc {
	const char *name;
	size_t offset;
	long def, lo, hi;
};

static const struct sysctl_desc sysctl_table[] = {
#define SYSCTL(field, name, def, lo, hi) { name, offsetof(struct sysctls, field), def, lo, hi },
#include "core/sysctl_defs.h"
#undef SYSCTL
};

void sysctls_init_defaults(struct sysctls *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(sysctl_table); i++)
		*(long *)((char *)s + sysctl_table[i].offset) = sysctl_table[i].def;
}

static const struct sysctl_desc *sysctl_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(sysctl_table); i++)
		if (strcmp(sysctl_table[i].name, name) == 0)
			return &sysctl_table[i];
	return NULL;
}

int synack_sysctl_set(struct stack *st, const char *name, long value)
{
	const struct sysctl_desc *d = sysctl_find(name);

	if (!st)
		return -EINVAL;
	if (!d)
		return -ENOENT;
	if (value < d->lo || value > d->hi)
		return -EINVAL;
	*(long *)((char *)&st->sysctl + d->offset) = value;
	return 0;
}

int synack_sysctl_get(const struct stack *st, const char *name, long *value)
{
	const struct sysctl_desc *d = sysctl_find(name);

	if (!st || !value)
		return -EINVAL;
	if (!d)
		return -ENOENT;
	*value = *(const long *)((const char *)&st->sysctl + d->offset);
	return 0;
}
