/* Callgrind's client requests and an allocation counter, callable from Python through ctypes.
 *
 * The client requests are a few magic instructions that do nothing on a real CPU and talk to
 * valgrind when run under it, so the measured interpreter can switch counting on and off
 * around exactly the rounds it measures. They exist only as macros in valgrind's own header
 * (valgrind's development files), hence these few lines of C, built by the C compiler the
 * Cython core needs anyway (benchmarks/counting.py compiles and caches them).
 *
 * The allocation counter wraps the interpreter's three allocator domains (raw, mem, object)
 * with PyMem_SetAllocator and counts every block handed out and the bytes asked for: exact,
 * in the measured process, between two points the harness chooses.
 */
#include <Python.h>
#include <valgrind/callgrind.h>

int fastfun_cg_running(void) { return RUNNING_ON_VALGRIND; }
void fastfun_cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void fastfun_cg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void fastfun_cg_zero(void) { CALLGRIND_ZERO_STATS; }
void fastfun_cg_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }

static unsigned long long blocks, bytes;
static PyMemAllocatorEx wrapped[3];
static const PyMemAllocatorDomain domains[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};

static void *counting_malloc(void *ctx, size_t size) {
    PyMemAllocatorEx *inner = ctx;
    blocks++;
    bytes += size;
    return inner->malloc(inner->ctx, size);
}

static void *counting_calloc(void *ctx, size_t nelem, size_t elsize) {
    PyMemAllocatorEx *inner = ctx;
    blocks++;
    bytes += nelem * elsize;
    return inner->calloc(inner->ctx, nelem, elsize);
}

/* A resize counts as a new block of the new size: it may move, and it is an allocation the
 * code asked for. */
static void *counting_realloc(void *ctx, void *ptr, size_t size) {
    PyMemAllocatorEx *inner = ctx;
    blocks++;
    bytes += size;
    return inner->realloc(inner->ctx, ptr, size);
}

static void counting_free(void *ctx, void *ptr) {
    PyMemAllocatorEx *inner = ctx;
    inner->free(inner->ctx, ptr);
}

/* Installs the counter once; called with the GIL held, before the measured rounds. */
void fastfun_mem_install(void) {
    static int installed = 0;
    if (installed) {
        return;
    }
    installed = 1;
    for (int i = 0; i < 3; i++) {
        PyMem_GetAllocator(domains[i], &wrapped[i]);
        PyMemAllocatorEx counting = {&wrapped[i], counting_malloc, counting_calloc, counting_realloc,
                                     counting_free};
        PyMem_SetAllocator(domains[i], &counting);
    }
}

unsigned long long fastfun_mem_blocks(void) { return blocks; }
unsigned long long fastfun_mem_bytes(void) { return bytes; }
