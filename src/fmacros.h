/*
 * fmacros.h - feature-test macros, included first by every source file so
 * that each sees the same libc declarations (getrandom, sigtimedwait,
 * strnlen, clock_gettime).
 */
#ifndef LH_FMACROS_H
#define LH_FMACROS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#endif
