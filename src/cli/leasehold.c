/* leasehold(1): in progress. */
#include "leasehold.h"

int main(void)
{
    return 2;
}
