#ifndef THREETOFU_CSSH2_SHIM_H
#define THREETOFU_CSSH2_SHIM_H
#include <libssh2.h>
#endif
