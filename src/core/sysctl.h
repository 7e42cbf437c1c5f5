#ifndef SYNACK_CORE_SYSCTL_H
#define SYNACK_CORE_SYSCTL_H

struct sysctls {
#define SYSCTL(field, name, def, lo, hi) long field;
#include "core/sysctl_defs.h"
#undef SYSCTL
};

void sysctls_init_defaults(struct sysctls *s);

#endif
