// O_DIRECT is a GNU extension: Swift's Glibc module does not export it, and its value differs
// between architectures (040000 on x86-64, 0200000 on arm64), so it comes from the C headers here.
#ifndef TOFU_CDIRECTIO_H
#define TOFU_CDIRECTIO_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>

/// The O_DIRECT open flag of this platform, or 0 where there is none.
int tofu_o_direct_flag(void);

#endif
