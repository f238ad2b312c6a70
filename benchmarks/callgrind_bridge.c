/* Callgrind's client requests, callable from Python through ctypes.
 *
 * The requests are a few magic instructions that do nothing on a real CPU and talk to
 * valgrind when run under it, so the measured interpreter can switch counting on and off
 * around exactly the rounds it measures. They exist only as macros in valgrind's own header
 * (valgrind's development files), hence these few lines of C, built by the C compiler the
 * Cython core needs anyway (benchmarks/counting.py compiles and caches them).
 */
#include <valgrind/callgrind.h>

int fastfun_cg_running(void) { return RUNNING_ON_VALGRIND; }
void fastfun_cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void fastfun_cg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void fastfun_cg_zero(void) { CALLGRIND_ZERO_STATS; }
void fastfun_cg_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
