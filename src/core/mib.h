/* MIB counters, named as Linux names them (see mib_defs.h). */
#ifndef SYNACK_CORE_MIB_H
#define SYNACK_CORE_MIB_H

enum mib_id {
#define MIB(group, field) MIB_##group##field,
#include "core/mib_defs.h"
#undef MIB
	MIB_MAX
};

/* st->mib[] lives in struct stack. */
#define MIB_INC(st, id) ((st)->mib[MIB_##id]++)
#define MIB_ADD(st, id, n) ((st)->mib[MIB_##id] += (n))
#define MIB_DEC(st, id) ((st)->mib[MIB_##id]--)

#endif
