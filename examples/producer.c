#include "leasehold.h"
int main(void) { return 0; }
