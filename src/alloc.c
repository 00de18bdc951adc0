/*
 * alloc.c - the one place the library allocates. Keeping every allocation
 * behind lh__malloc lets the tests fail the N-th allocation and check that
 * each failure becomes LH_ERR_NOMEM with nothing leaked. The failure
 * counter is a test hook: a process-wide atomic, unused otherwise.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static long fail_at; /* 0: never fail */
static long count;

static int should_fail(void)
{
    long n = __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
    long at = __atomic_load_n(&fail_at, __ATOMIC_RELAXED);
    return at > 0 && n >= at;
}

long lh__alloc_fail_after(long n)
{
    long seen = __atomic_exchange_n(&count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&fail_at, n > 0 ? n : 0, __ATOMIC_RELAXED);
    return seen;
}

void *lh__malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *lh__calloc(size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *lh__realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

char *lh__memdup(const void *p, size_t n)
{
    char *s;

    if (n == SIZE_MAX || (s = lh__malloc(n + 1)) == NULL)
        return NULL;
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *lh__strdup(const char *s)
{
    return lh__memdup(s, strlen(s));
}

void lh__free(void *p)
{
    free(p);
}

void lh_free(void *ptr)
{
    lh__free(ptr);
}
