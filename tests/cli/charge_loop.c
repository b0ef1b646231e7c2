/* charge_loop.c — for status_atomic.sh: another writer that charges one token to a budget in a
 * tight loop (through the library: tens of thousands of charges a second, where a process per
 * charge makes a few hundred), until a file exists. Prints how many charges it made. With a
 * store URL of busy_ms=0 it tries again at once when the store is busy, instead of sleeping in
 * SQLite's busy handler: it takes the write lock soon after another writer lets it go.
 * usage: charge_loop STORE_URL PATH STOP_FILE */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "agentbudget.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: charge_loop STORE_URL PATH STOP_FILE\n");
        return 2;
    }
    ab_store *st;
    int rc = ab_store_open(argv[1], &st);
    if (rc) {
        fprintf(stderr, "error: cannot open '%s': %s\n", argv[1], ab_store_errmsg(st));
        ab_store_close(st);
        return 3;
    }
    const ab_usage one = {.input = 1};
    uint64_t n = 0;
    while (access(argv[3], F_OK) != 0) {
        ab_decision d;
        rc = ab_budget_charge(st, argv[2], NULL, &one, NULL, &d);
        if (rc == AB_EBUSY)
            continue;
        if (rc) {
            fprintf(stderr, "error: charge: %s (%s)\n", ab_strerror(rc), ab_store_errmsg(st));
            ab_store_close(st);
            return 3;
        }
        n++;
        /* a breath between charges: on a store in memory (/tmp as tmpfs) a commit costs
         * nothing, and without one the lock was never free long enough for the CLI's writer,
         * asleep in SQLite's busy handler, to get it (it failed with EBUSY after 5 s) */
        usleep(100);
    }
    ab_store_close(st);
    printf("%" PRIu64 "\n", n);
    return 0;
}
