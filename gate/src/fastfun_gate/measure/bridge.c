/* What the measured interpreter cannot do from Python: callgrind's client requests, an
 * allocation counter, and a fork loop that leaves the interpreter's heap untouched.
 *
 * Loaded with ctypes.PyDLL (the GIL held) by plugin.py inside the measured venv, compiled at
 * run time by callgrind.py with the C compiler, and needing only valgrind's header: the few
 * CPython functions used are declared below as the C API documents them (stable since 3.7),
 * so one library serves every CPython the gate measures.
 *
 * Client requests are magic instruction sequences that do nothing on a real CPU and talk to
 * valgrind under it: the measured child switches counting on and off around exactly the calls
 * it measures, and writes a dump of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

/* From CPython's pymem.h and intrcheck.h. */
typedef enum { PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ } PyMemAllocatorDomain;
typedef struct {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
    void *(*realloc)(void *ctx, void *ptr, size_t new_size);
    void (*free)(void *ctx, void *ptr);
} PyMemAllocatorEx;
extern void PyMem_GetAllocator(PyMemAllocatorDomain domain, PyMemAllocatorEx *allocator);
extern void PyMem_SetAllocator(PyMemAllocatorDomain domain, PyMemAllocatorEx *allocator);
extern void PyOS_BeforeFork(void);
extern void PyOS_AfterFork_Parent(void);
extern void PyOS_AfterFork_Child(void);

int gate_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
void gate_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void gate_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void gate_zero(void) { CALLGRIND_ZERO_STATS; }
void gate_dump(const char *tag) { CALLGRIND_DUMP_STATS_AT(tag); }
/* Around a pedantic setup: its instructions are executed but not collected. */
void gate_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }

/* The total of this process's first dump, `<prefix><pid>.1` (callgrind numbers a forked
 * child's dumps from 1), or -1: the child reads its calibrating call's cost here, in C, so
 * that reading it leaves no trace on the interpreter's heap. */
long long gate_first_dump_total(const char *prefix) {
    char path[4096], chunk[4096 + 64];
    static const char key[] = "\ntotals: ";
    size_t carry = 0;
    long long total = -1;
    if (snprintf(path, sizeof path, "%s%ld.1", prefix, (long)getpid()) >= (int)sizeof path) {
        return -1;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return -1;
    }
    for (;;) {
        ssize_t got = read(fd, chunk + carry, sizeof chunk - carry - 1);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        size_t size = carry + (size_t)got;
        chunk[size] = '\0';
        char *found = strstr(chunk, key);
        if (found != NULL && strchr(found + sizeof key - 1, '\n') != NULL) {
            total = strtoll(found + sizeof key - 1, NULL, 10);
            break;
        }
        /* Keep the tail: the key or its number may straddle two reads. */
        carry = size < 64 ? size : 64;
        memmove(chunk, chunk + size - carry, carry);
    }
    close(fd);
    return total;
}

/* ---- allocation counter: every block the interpreter's three allocator domains hand out,
 * and the bytes asked for, while counting is on. */
static unsigned long long blocks, bytes;
static int counting = 1;
static PyMemAllocatorEx wrapped[3];

static void *counting_malloc(void *ctx, size_t size) {
    PyMemAllocatorEx *inner = ctx;
    if (counting) {
        blocks++;
        bytes += size;
    }
    return inner->malloc(inner->ctx, size);
}

static void *counting_calloc(void *ctx, size_t nelem, size_t elsize) {
    PyMemAllocatorEx *inner = ctx;
    if (counting) {
        blocks++;
        bytes += nelem * elsize;
    }
    return inner->calloc(inner->ctx, nelem, elsize);
}

/* A resize counts as a new block of the new size: it may move, and the code asked for it. */
static void *counting_realloc(void *ctx, void *ptr, size_t size) {
    PyMemAllocatorEx *inner = ctx;
    if (counting) {
        blocks++;
        bytes += size;
    }
    return inner->realloc(inner->ctx, ptr, size);
}

static void counting_free(void *ctx, void *ptr) {
    PyMemAllocatorEx *inner = ctx;
    inner->free(inner->ctx, ptr);
}

/* Installs the counter once (the GIL held). */
void gate_mem_install(void) {
    static int installed = 0;
    if (installed) {
        return;
    }
    installed = 1;
    for (int i = 0; i < 3; i++) {
        PyMem_GetAllocator((PyMemAllocatorDomain)i, &wrapped[i]);
        PyMemAllocatorEx counter = {&wrapped[i], counting_malloc, counting_calloc, counting_realloc,
                                    counting_free};
        PyMem_SetAllocator((PyMemAllocatorDomain)i, &counter);
    }
}

unsigned long long gate_mem_blocks(void) { return blocks; }
unsigned long long gate_mem_bytes(void) { return bytes; }
/* Around a pedantic setup: its allocations are not the measured call's. */
void gate_mem_pause(void) { counting = 0; }
void gate_mem_resume(void) { counting = 1; }

/* ---- the measured heap.
 *
 * What an allocation costs under pymalloc and glibc's malloc depends on the state the process's
 * whole history left them in: whether a pool of the size class has a free block or a call must
 * take a fresh pool (and give it back when it empties, on every call), what a tcache bin or a
 * free list holds, and the blocks' addresses (memcpy's path depends on their alignment, a hash
 * by identity on all of their bits). That history differs from run to run, between base and
 * head, and with the path, environment or selection: measured, it moved counts by up to 1%.
 *
 * So the measured child allocates, from the fork on, from a heap of its own (the interpreter's
 * MEM and OBJ domains, which hold the GIL): a region at a fixed address, empty when installed,
 * carved by a bump pointer into blocks of size classes with a LIFO free list each. What the
 * test does before its benchmark (fixtures, set-up) takes the region's first part; its first
 * warm-up call restarts the heap in the second part, empty, so that a block's cost and address
 * depend only on the sequence of requests the measured code makes. A set-up block freed after
 * the restart is left unused (reused, it would bring the set-up's history back); a block from
 * before the install is freed and resized by the allocator it came from.
 */
#define HEAP_AT ((char *)0x3f0000000000)
#define HEAP_SIZE ((size_t)64 << 30)  /* reserved, not committed */
#define SETUP_SIZE ((size_t)16 << 30) /* the first part: the child's steps before the calls */
#define SMALL_LIMIT 4096              /* 16-byte classes up to here, powers of two above */
#define CLASSES (SMALL_LIMIT / 16 + 64)

typedef struct {
    size_t capacity; /* bytes usable, a multiple of 16 */
    size_t klass;
} block_header; /* 16 bytes: blocks stay 16-byte aligned */

static char *heap_start, *heap_top, *heap_end;
static char *measured_start; /* the restart's first block; below it, the set-up's */
static void *free_blocks[CLASSES];
static PyMemAllocatorEx heap_wrapped[2]; /* MEM, OBJ: for blocks from before the install */
static unsigned long long heap_overflows;

static inline int in_heap(const void *ptr) {
    return (const char *)ptr >= heap_start && (const char *)ptr < heap_end;
}

static inline size_t class_of(size_t size, size_t *capacity) {
    if (size <= SMALL_LIMIT) {
        size_t klass = size <= 16 ? 1 : (size + 15) >> 4;
        *capacity = klass << 4;
        return klass;
    }
    int bits = 64 - __builtin_clzll((unsigned long long)(size - 1)); /* 2^bits >= size */
    *capacity = (size_t)1 << bits;
    return SMALL_LIMIT / 16 + (size_t)bits - 12; /* 2^13 -> SMALL_LIMIT / 16 + 1 */
}

static void *heap_overflow(void *ctx, size_t size) {
    /* Out of room: the wrapped allocator's (its cost is history's again; counted, so that a
     * run can say so). */
    PyMemAllocatorEx *wrapped = ctx;
    heap_overflows++;
    return wrapped->malloc(wrapped->ctx, size);
}

static void *heap_malloc(void *ctx, size_t size) {
    if (size > HEAP_SIZE) {
        return heap_overflow(ctx, size);
    }
    size_t capacity, klass = class_of(size, &capacity);
    void *block = free_blocks[klass];
    if (block != NULL) {
        free_blocks[klass] = *(void **)block;
        return block;
    }
    if ((size_t)(heap_end - heap_top) < capacity + sizeof(block_header)) {
        return heap_overflow(ctx, size);
    }
    block_header *header = (block_header *)heap_top;
    header->capacity = capacity;
    header->klass = klass;
    heap_top += capacity + sizeof(block_header);
    return header + 1;
}

static void *heap_calloc(void *ctx, size_t nelem, size_t elsize) {
    if (elsize != 0 && nelem > (size_t)-1 / elsize) {
        return NULL;
    }
    void *block = heap_malloc(ctx, nelem * elsize);
    if (block != NULL) {
        memset(block, 0, nelem * elsize);
    }
    return block;
}

static void heap_free(void *ctx, void *ptr) {
    if (in_heap(ptr)) {
        if ((char *)ptr < measured_start) {
            return;
        }
        size_t klass = ((block_header *)ptr - 1)->klass;
        *(void **)ptr = free_blocks[klass];
        free_blocks[klass] = ptr;
        return;
    }
    PyMemAllocatorEx *wrapped = ctx;
    wrapped->free(wrapped->ctx, ptr);
}

static void *heap_realloc(void *ctx, void *ptr, size_t size) {
    if (ptr == NULL) {
        return heap_malloc(ctx, size);
    }
    if (!in_heap(ptr)) {
        PyMemAllocatorEx *wrapped = ctx;
        return wrapped->realloc(wrapped->ctx, ptr, size);
    }
    block_header *header = (block_header *)ptr - 1;
    size_t capacity;
    if (size <= HEAP_SIZE && class_of(size, &capacity) == header->klass) {
        return ptr;
    }
    void *moved = heap_malloc(ctx, size);
    if (moved == NULL) {
        return NULL;
    }
    memcpy(moved, ptr, size < header->capacity ? size : header->capacity);
    heap_free(ctx, ptr);
    return moved;
}

/* Installs the measured heap once (the GIL held): 0, or -1 when the region cannot be mapped
 * at its address (the domains are then left as they are). */
int gate_heap_install(void) {
    static int installed = 0;
    if (installed) {
        return installed > 0 ? 0 : -1;
    }
    void *region = mmap(HEAP_AT, HEAP_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region != (void *)HEAP_AT) {
        if (region != MAP_FAILED) {
            munmap(region, HEAP_SIZE);
        }
        installed = -1;
        return -1;
    }
    installed = 1;
    heap_start = heap_top = measured_start = region;
    heap_end = heap_start + HEAP_SIZE;
    PyMemAllocatorDomain domains[2] = {PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    for (int i = 0; i < 2; i++) {
        PyMem_GetAllocator(domains[i], &heap_wrapped[i]);
        PyMemAllocatorEx heap = {&heap_wrapped[i], heap_malloc, heap_calloc, heap_realloc, heap_free};
        PyMem_SetAllocator(domains[i], &heap);
    }
    return 0;
}

/* Starts the heap again, empty, in its second part (before the measured calls): 0, or -1 when
 * it is not installed. */
int gate_heap_restart(void) {
    if (heap_start == NULL) {
        return -1;
    }
    heap_top = measured_start = heap_start + SETUP_SIZE;
    memset(free_blocks, 0, sizeof free_blocks);
    return 0;
}

/* Requests the measured heap could not serve (it was full). */
unsigned long long gate_heap_overflows(void) { return heap_overflows; }

/* ---- the fork loop.
 *
 * The parent forks one child per selected benchmark and only waits: no Python code runs in it
 * between two forks beyond the interpreter's at-fork hooks, so every child starts from the
 * same heap, whichever benchmarks ran before it. Which benchmarks run is read here, in C, from
 * `plan` (one byte per collected benchmark, '1' to run it), so the parent's Python state does
 * not depend on the selection either: a benchmark counted alone, in a shard or in the whole
 * suite starts from one state.
 *
 * Returns, in a child, its benchmark's index (the child gets SIGALRM after `timeout` seconds);
 * in the parent once every child has ended, -1; -2 when the plan does not have `count` bytes;
 * -3 when a file cannot be read or written. `status` gets a line "INDEX WAITSTATUS" per child.
 */
static int write_all(int fd, const char *text, size_t size) {
    while (size > 0) {
        ssize_t done = write(fd, text, size);
        if (done < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        text += done;
        size -= (size_t)done;
    }
    return 0;
}

static int reap(int status_fd, const pid_t *pids, long count, long *running) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
        return errno == EINTR ? 0 : -1;
    }
    for (long i = 0; i < count; i++) {
        if (pids[i] == pid) {
            char line[64];
            int size = snprintf(line, sizeof line, "%ld %d\n", i, status);
            (*running)--;
            return write_all(status_fd, line, (size_t)size);
        }
    }
    return 0;
}

long gate_fork_each(const char *plan_path, const char *status_path, long count, long jobs,
                    unsigned int timeout) {
    char *plan = malloc((size_t)count + 1);
    pid_t *pids = calloc((size_t)count + 1, sizeof(pid_t));
    int plan_fd = open(plan_path, O_RDONLY);
    int status_fd = open(status_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    long result = -1, running = 0, size = 0;
    if (plan == NULL || pids == NULL || plan_fd < 0 || status_fd < 0) {
        result = -3;
        goto done;
    }
    for (ssize_t got; (got = read(plan_fd, plan + size, (size_t)(count + 1 - size))) != 0;) {
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            result = -3;
            goto done;
        }
        size += got;
        if (size > count) {
            break;
        }
    }
    if (size != count) {
        result = -2;
        goto done;
    }
    for (long i = 0; i < count; i++) {
        if (plan[i] != '1') {
            continue;
        }
        while (running >= (jobs > 0 ? jobs : 1)) {
            if (reap(status_fd, pids, count, &running) < 0) {
                result = -3;
                goto done;
            }
        }
        PyOS_BeforeFork();
        pid_t pid = fork();
        if (pid == 0) {
            PyOS_AfterFork_Child();
            close(plan_fd);
            close(status_fd);
            free(plan);
            free(pids);
            alarm(timeout);
            return i;
        }
        PyOS_AfterFork_Parent();
        if (pid < 0) {
            result = -3;
            goto done;
        }
        pids[i] = pid;
        running++;
    }
    while (running > 0) {
        if (reap(status_fd, pids, count, &running) < 0) {
            result = -3;
            break;
        }
    }
done:
    if (plan_fd >= 0) {
        close(plan_fd);
    }
    if (status_fd >= 0) {
        close(status_fd);
    }
    free(plan);
    free(pids);
    return result;
}
