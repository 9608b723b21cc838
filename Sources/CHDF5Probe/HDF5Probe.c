// Reads an untrusted HDF5 file in a child process first (see CHDF5Probe.h for the contract).
//
// Why a child: libhdf5 1.10 is not hardened against corrupt files. Fuzzing found files that
// make it read out of bounds (a variable-length string whose global-heap index is past the
// collection's table, a corrupt local heap met in a group lookup), loop forever, or allocate
// and clear ~10 GB for a corrupt string length. None of that can be caught in-process, and
// not all of it can be recognised from outside libhdf5 without re-implementing its object
// header parser. A forked child that reads everything the caller could read takes the hit
// instead; the caller then reads the same bytes knowing libhdf5 survives them.
#define _GNU_SOURCE
#include "CHDF5Probe.h"
#include "../CHDF5/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if H5_VERSION_GE(1, 12, 0)
typedef H5L_info2_t kc_link_info;
#else
typedef H5L_info_t kc_link_info;
#endif

/// The child's running state.
typedef struct {
    long long max_read_bytes;
    int failed;          // libhdf5 reported at least one error
    int out_of_memory;   // … and one of them was an allocation failure
    char message[1024];  // the first error stack, one line
    int report;          // the pipe to the parent
} probe_state;

enum { CHILD_OK = 0, CHILD_HDF5_ERROR = 10, CHILD_OUT_OF_MEMORY = 11, CHILD_SANITIZER_STOPPED = 12, CHILD_REFUSED = 13 };

/// Stops the probe at an object the caller must not read — an external link, a dataset whose
/// values live outside the file — before anything of it is read: reports
/// "kind<US>object<US>detail" (US = 0x1f) and exits with CHILD_REFUSED.
static void refuse(probe_state *s, const char *kind, const char *object, const char *detail) {
    char text[1024];
    int length = snprintf(text, sizeof text, "%s\x1f%s%s\x1f%s", kind, object[0] == '/' ? "" : "/", object, detail);
    if (length > 0) {
        size_t size = (size_t)length < sizeof text ? (size_t)length : sizeof text - 1;
        ssize_t ignored = write(s->report, text, size);
        (void)ignored;
    }
    _exit(CHILD_REFUSED);
}

static herr_t note_allocation_failure(unsigned n, const H5E_error2_t *err, void *client) {
    (void)n;
    if (err->maj_num == H5E_RESOURCE || err->min_num == H5E_CANTALLOC || err->min_num == H5E_NOSPACE) {
        *(int *)client = 1;
    }
    return 0;
}

/// Records a libhdf5 failure (the current error stack) and whether it was an allocation.
static void record_failure(probe_state *s) {
    if (!s->failed) kc_error_stack_text(s->message, sizeof s->message);
    s->failed = 1;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, note_allocation_failure, &s->out_of_memory);
    H5Eclear2(H5E_DEFAULT);
}

/// A buffer for `count` elements of `size` bytes within the read limit, or NULL (recorded).
static void *read_buffer(probe_state *s, hssize_t count, size_t size) {
    if (count < 0 || size == 0) return NULL;
    if (count == 0) count = 1;
    if ((unsigned long long)count > (unsigned long long)s->max_read_bytes / size) return NULL;
    void *buffer = calloc((size_t)count, size);
    if (!buffer) {
        s->failed = s->out_of_memory = 1;
        if (!s->message[0]) snprintf(s->message, sizeof s->message, "allocating %lld bytes failed", (long long)count * (long long)size);
    }
    return buffer;
}

typedef herr_t (*read_fn)(hid_t object, hid_t memory_type, void *buffer);
static herr_t read_attribute(hid_t object, hid_t memory_type, void *buffer) { return H5Aread(object, memory_type, buffer); }
static herr_t read_dataset(hid_t object, hid_t memory_type, void *buffer) {
    return H5Dread(object, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
}

/// Reads all of an attribute's or a dataset's values the way KernelCheck does: numbers as
/// their native type, strings fixed-length or variable-length (freed again). Other classes
/// (compound, reference, …) are never read by KernelCheck, so neither are they here.
static void read_values(probe_state *s, hid_t object, hid_t file_type, hid_t space, read_fn read) {
    hssize_t count = H5Sget_simple_extent_npoints(space);
    if (count < 0) { record_failure(s); return; }
    H5T_class_t type_class = H5Tget_class(file_type);
    if (type_class == H5T_INTEGER || type_class == H5T_FLOAT) {
        hid_t memory_type = H5Tget_native_type(file_type, H5T_DIR_ASCEND);
        if (memory_type < 0) { record_failure(s); return; }
        // The caller's reader budgets 8 bytes per number (it reads floats through Double), so
        // a dataset it will refuse from its dataspace alone is not read here either: a sparse
        // chunked dataset claiming 10⁹ elements costs no memory and no time.
        size_t size = H5Tget_size(memory_type);
        if (size == 0) { record_failure(s); H5Tclose(memory_type); return; }
        if ((unsigned long long)count > (unsigned long long)s->max_read_bytes / (size < 8 ? 8 : size)) {
            H5Tclose(memory_type);
            return;
        }
        void *buffer = read_buffer(s, count, size);
        if (buffer && read(object, memory_type, buffer) < 0) record_failure(s);
        free(buffer);
        H5Tclose(memory_type);
    } else if (type_class == H5T_STRING) {
        hid_t memory_type = H5Tcopy(H5T_C_S1);
        htri_t variable = H5Tis_variable_str(file_type);
        if (variable < 0) { record_failure(s); H5Tclose(memory_type); return; }
        H5Tset_size(memory_type, variable ? H5T_VARIABLE : H5Tget_size(file_type));
        H5Tset_cset(memory_type, H5Tget_cset(file_type));
        void *buffer = read_buffer(s, count, variable ? sizeof(char *) : H5Tget_size(file_type));
        if (buffer) {
            if (read(object, memory_type, buffer) < 0) {
                record_failure(s);
            } else if (variable) {
                char **strings = buffer;
                for (hssize_t i = 0; i < count; i++) H5free_memory(strings[i]);
            }
        }
        free(buffer);
        H5Tclose(memory_type);
    }
}

/// Reads the values of an attribute or dataset given its type and dataspace (a failure when
/// either could not be had), then closes both.
static void probe_values(probe_state *s, hid_t object, hid_t type, hid_t space, read_fn read) {
    if (type < 0 || space < 0) record_failure(s);
    else read_values(s, object, type, space, read);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
}

static herr_t probe_attribute(hid_t location, const char *name, const H5A_info_t *info, void *client) {
    (void)info;
    probe_state *s = client;
    hid_t attribute = H5Aopen(location, name, H5P_DEFAULT);
    if (attribute < 0) { record_failure(s); return 0; }
    hid_t type = H5Aget_type(attribute), space = H5Aget_space(attribute);
    probe_values(s, attribute, type, space, read_attribute);
    H5Aclose(attribute);
    return 0;
}

/// Opens the object at `path` by name (the lookup KernelCheck's reader does), reads its
/// attributes and, for a dataset, its values.
static void probe_object(probe_state *s, hid_t file, const char *path) {
    hid_t object = H5Oopen(file, path, H5P_DEFAULT);
    if (object < 0) { record_failure(s); return; }
    hsize_t index = 0;
    if (H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, probe_attribute, s) < 0) record_failure(s);
    if (H5Iget_type(object) == H5I_DATASET) {
        // Values kept outside the file (external raw storage, a virtual dataset) are never
        // read: they would make libhdf5 open any file the author named (/etc/passwd, …).
        int filter = 0;
        char id[16];
        switch (kc_dataset_storage(object, &filter)) {
        case 1: refuse(s, "external-storage", path, "in external raw files"); break;
        case 2: refuse(s, "external-storage", path, "a virtual dataset, mapped from other datasets"); break;
        case 3:
            snprintf(id, sizeof id, "%d", filter);
            refuse(s, "unavailable-filter", path, id);
            break;
        case -1: record_failure(s); break;
        default: break;
        }
        hid_t type = H5Dget_type(object), space = H5Dget_space(object);
        probe_values(s, object, type, space, read_dataset);
    }
    H5Oclose(object);
}

static herr_t probe_link(hid_t group, const char *name, const kc_link_info *info, void *client) {
    probe_state *s = client;
    // Soft links are not followed (their targets are visited through their hard links, and a
    // dangling one is the reader's "broken link"). An external link is refused: following it
    // would make libhdf5 open another file that no probe has read.
    if (info->type == H5L_TYPE_EXTERNAL) {
        char target[900];
        if (kc_link_target(group, name, target, sizeof target) < 0) snprintf(target, sizeof target, "?");
        refuse(s, "external-link", name, target);
    }
    if (info->type == H5L_TYPE_HARD) probe_object(s, group, name);
    return 0;
}

/// Caps the child's address space at its current size plus `headroom` bytes.
static void cap_address_space(long long headroom) {
    if (headroom <= 0) return;
    unsigned long long pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (!statm) return;
    int parsed = fscanf(statm, "%llu", &pages);
    fclose(statm);
    if (parsed != 1) return;
    struct rlimit limit;
    if (getrlimit(RLIMIT_AS, &limit) != 0) return;
    rlim_t wanted = (rlim_t)(pages * (unsigned long long)sysconf(_SC_PAGESIZE) + (unsigned long long)headroom);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur <= wanted) return;
    limit.rlim_cur = wanted;
    setrlimit(RLIMIT_AS, &limit);
}

/// Present when this process runs under a sanitizer (compiler-rt); weak, so plain builds
/// link without them.
extern void __sanitizer_set_report_fd(void *fd) __attribute__((weak));
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void sanitizer_stopped_child(void) { _exit(CHILD_SANITIZER_STOPPED); }

static void run_child(const char *path, double timeout_seconds, long long address_headroom,
                      long long max_read_bytes, int report) {
    // A crash must end the child with its signal, not in a handler inherited from the caller
    // (a crash guard that prints and exits, a sanitizer's report).
    int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL, SIGTRAP};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL);
    // Under a sanitizer, a memory error libhdf5 makes here is the expected outcome for a
    // corrupt file, not a finding: the report goes nowhere, the exit status tells the caller.
    if (__sanitizer_set_report_fd) {
        int nowhere = open("/dev/null", O_WRONLY);
        if (nowhere >= 0) __sanitizer_set_report_fd((void *)(long)nowhere);
    }
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(sanitizer_stopped_child);
    cap_address_space(address_headroom);
    // Should the caller die while libhdf5 loops here, the alarm still ends the child.
    signal(SIGALRM, SIG_DFL);
    alarm((unsigned)(timeout_seconds > 0 && timeout_seconds < 86400 ? timeout_seconds : 86400) + 5);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    static probe_state s;
    s.max_read_bytes = max_read_bytes;
    s.report = report;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        record_failure(&s);
    } else {
        probe_object(&s, file, "/");
        if (H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, probe_link, &s) < 0) record_failure(&s);
    }
    // Not closed: `_exit` skips libhdf5's clean-up, which only matters for writers.
    size_t length = strlen(s.message);
    if (length > 0) { ssize_t ignored = write(report, s.message, length); (void)ignored; }
    _exit(s.out_of_memory ? CHILD_OUT_OF_MEMORY : s.failed ? CHILD_HDF5_ERROR : CHILD_OK);
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

kc_probe_outcome kc_probe_file(const char *path, double timeout_seconds, long long address_headroom,
                               long long max_read_bytes, char *message, size_t capacity, int *detail) {
    if (capacity > 0) message[0] = '\0';
    *detail = 0;
    int channel[2];
    if (pipe2(channel, O_CLOEXEC) != 0) { *detail = errno; return KC_PROBE_UNAVAILABLE; }
    pid_t child = fork();
    if (child < 0) {
        *detail = errno;
        close(channel[0]);
        close(channel[1]);
        return KC_PROBE_UNAVAILABLE;
    }
    if (child == 0) {
        close(channel[0]);
        run_child(path, timeout_seconds, address_headroom, max_read_bytes, channel[1]);
    }
    close(channel[1]);
    // Read without blocking once the child is gone: whatever it wrote is in the pipe.
    fcntl(channel[0], F_SETFL, fcntl(channel[0], F_GETFL) | O_NONBLOCK);

    // Poll for the child's exit (a short file takes a few milliseconds), backing off to 10 ms.
    int status = 0;
    double deadline = now_seconds() + timeout_seconds;
    long sleep_ns = 50000;
    kc_probe_outcome outcome;
    for (;;) {
        pid_t done = waitpid(child, &status, WNOHANG);
        if (done == child) break;
        if (done < 0 && errno != EINTR) {
            *detail = errno;
            kill(child, SIGKILL);
            close(channel[0]);
            return KC_PROBE_UNAVAILABLE;
        }
        if (now_seconds() > deadline) {
            kill(child, SIGKILL);
            while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
            close(channel[0]);
            return KC_PROBE_TIMED_OUT;
        }
        struct timespec pause = {0, sleep_ns};
        nanosleep(&pause, NULL);
        if (sleep_ns < 10000000) sleep_ns *= 2;
    }
    if (capacity > 0) {
        size_t length = 0;
        ssize_t got;
        while (length + 1 < capacity && (got = read(channel[0], message + length, capacity - 1 - length)) > 0) {
            length += (size_t)got;
        }
        message[length] = '\0';
    }
    close(channel[0]);

    if (WIFSIGNALED(status)) {
        *detail = WTERMSIG(status);
        outcome = KC_PROBE_CRASHED;
    } else {
        int code = WEXITSTATUS(status);
        *detail = code;
        outcome = code == CHILD_OK ? KC_PROBE_OK
                : code == CHILD_HDF5_ERROR ? KC_PROBE_HDF5_ERROR
                : code == CHILD_OUT_OF_MEMORY ? KC_PROBE_OUT_OF_MEMORY
                : code == CHILD_SANITIZER_STOPPED ? KC_PROBE_CRASHED
                : code == CHILD_REFUSED ? KC_PROBE_REFUSED
                : KC_PROBE_UNEXPECTED_EXIT;
        // A sanitizer's stop is a crash without a signal: detail 0.
        if (code == CHILD_SANITIZER_STOPPED) *detail = 0;
    }
    return outcome;
}
