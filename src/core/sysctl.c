/* Linux's sysctls by name, with Linux's defaults and ranges. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include "core/stack.h"
#include "tcp/tcp.h"

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

#define TCP_FASTOPEN_KEY_SYSCTL "net.ipv4.tcp_fastopen_key"

int synack_sysctl_set_str(struct stack *st, const char *name, const char *value)
{
	char *end;
	long v;

	if (!st || !name || !value)
		return -EINVAL;
	if (strcmp(name, TCP_FASTOPEN_KEY_SYSCTL) == 0)
		return tcp_fastopen_key_set_text(st, value);
	if (!sysctl_find(name))
		return -ENOENT;
	errno = 0;
	v = strtol(value, &end, 0);
	if (errno || end == value || (*end && *end != '\n'))
		return -EINVAL;
	return synack_sysctl_set(st, name, v);
}

int synack_sysctl_get_str(const struct stack *st, const char *name, char *buf, size_t cap)
{
	long v;
	int err, len;

	if (!st || !name || !buf || !cap)
		return -EINVAL;
	if (strcmp(name, TCP_FASTOPEN_KEY_SYSCTL) == 0)
		return tcp_fastopen_key_get_text(st, buf, cap);
	err = synack_sysctl_get(st, name, &v);
	if (err)
		return err;
	len = snprintf(buf, cap, "%ld", v);
	return len < 0 || (size_t)len >= cap ? -ENOSPC : len;
}
