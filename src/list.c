/* list.c - listing held leases (lh_resource_list): in progress. */
#include "internal.h"
