/* Benchmark helpers (see benchlib.h). */
#include "bench/benchlib.h"

#include "common/clock.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jemalloc/jemalloc.h>

/* ---- the result table ---- */

benchlib_line *benchlib_line_add(benchlib_table *t, const char *name)
{
    if (t->n == BENCHLIB_MAX_LINES) abort(); /* a fixed set of lines; more is a bug */
    benchlib_line *l = &t->lines[t->n++];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    snprintf(l->rows, sizeof l->rows, "-");
    snprintf(l->secs, sizeof l->secs, "-");
    snprintf(l->rate, sizeof l->rate, "-");
    return l;
}

void benchlib_line_fail(benchlib_table *t, const char *name, const char *why)
{
    benchlib_line *l = benchlib_line_add(t, name);
    snprintf(l->note, sizeof l->note, "FAILED: %s", why);
    t->failed = true;
}

void benchlib_line_timed(benchlib_table *t, const char *name, int64_t rows, double secs,
                         const char *note)
{
    benchlib_line *l = benchlib_line_add(t, name);
    snprintf(l->rows, sizeof l->rows, "%" PRId64, rows);
    snprintf(l->secs, sizeof l->secs, "%.3f", secs);
    snprintf(l->rate, sizeof l->rate, "%.0f", secs > 0 ? (double)rows / secs : 0.0);
    snprintf(l->note, sizeof l->note, "%s", note);
}

void benchlib_table_print(const benchlib_table *t)
{
    printf("| benchmark | rows | seconds | rows/s | note |\n|---|---:|---:|---:|---|\n");
    for (size_t i = 0; i < t->n; i++) {
        const benchlib_line *l = &t->lines[i];
        printf("| %s | %s | %s | %s | %s |\n", l->name, l->rows, l->secs, l->rate, l->note);
    }
    fflush(stdout);
}

/* ---- measurements ---- */

double benchlib_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int64_t benchlib_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = -1;
    if (!f) return -1;
    if (fscanf(f, "%lld %lld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : (int64_t)resident * sysconf(_SC_PAGESIZE);
}

void benchlib_purge(void)
{
    char name[64];
    benchlib_fmt(name, sizeof name, "arena.%u.purge", (unsigned)MALLCTL_ARENAS_ALL);
    mallctl(name, NULL, NULL, NULL, 0);
}

void benchlib_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* ---- files ---- */

void benchlib_rm_tree(const char *dir)
{
    char err[512];
    if (fsutil_remove_tree(dir, err, sizeof err))
        fprintf(stderr, "%s: cannot remove %s\n", program_invocation_short_name, err);
}

void benchlib_cat(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) fputs(line, stderr);
    fclose(f);
}

/* ---- child processes ---- */

pid_t benchlib_spawn(char *const argv[], const char *out_path, const char *err_path)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    /* child: only async-signal-safe calls until exec */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127); /* the parent died before prctl took effect */
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(127);
    execv(argv[0], argv);
    _exit(127);
}

int benchlib_wait_child(pid_t pid, double timeout_s, const volatile sig_atomic_t *stop)
{
    double deadline = sl_clock_mono_s() + timeout_s;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (r < 0 && errno != EINTR) return -1;
        if ((stop && *stop) || sl_clock_mono_s() > deadline) break;
        sl_clock_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return -1;
}

int benchlib_mock_start(benchlib_mock *m, const char *sluice, const char *dir,
                        const char *const *topics, size_t ntopics,
                        const volatile sig_atomic_t *stop)
{
    char boot[PATH_MAX + 16], out[PATH_MAX + 16], log[PATH_MAX + 16];
    snprintf(boot, sizeof boot, "%s/bootstrap", dir);
    snprintf(out, sizeof out, "%s/mock.out", dir);
    snprintf(log, sizeof log, "%s/mock.log", dir);
    enum { FIXED = 8, MAX_TOPICS = 16 };
    char *argv[FIXED + 2 * MAX_TOPICS + 1];
    size_t n = 0;
    argv[n++] = (char *)sluice;
    argv[n++] = "kafka-mock";
    argv[n++] = "--brokers";
    argv[n++] = "1";
    for (size_t i = 0; i < ntopics && i < MAX_TOPICS; i++) {
        argv[n++] = "--topic";
        argv[n++] = (char *)topics[i];
    }
    argv[n++] = "--bootstrap-file";
    argv[n++] = boot;
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    argv[n] = NULL;
    m->bootstrap[0] = '\0';
    m->pid = benchlib_spawn(argv, out, log);
    if (m->pid < 0) {
        m->pid = 0;
        fprintf(stderr, "%s: fork: %s\n", program_invocation_short_name, strerror(errno));
        return -1;
    }
    for (double deadline = sl_clock_mono_s() + 10; sl_clock_mono_s() < deadline && !(stop && *stop);
         sl_clock_sleep_ms(10)) {
        int st;
        if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
            m->pid = 0;
            break;
        }
        FILE *f = fopen(boot, "r");
        if (!f) continue;
        bool ok = fgets(m->bootstrap, sizeof m->bootstrap, f) != NULL;
        fclose(f);
        m->bootstrap[strcspn(m->bootstrap, "\r\n")] = '\0';
        if (ok && m->bootstrap[0]) return 0;
    }
    fprintf(stderr, "%s: kafka-mock (%s) did not start; its log:\n", program_invocation_short_name,
            sluice);
    benchlib_cat(log);
    return -1;
}

void benchlib_mock_stop(benchlib_mock *m)
{
    if (m->pid <= 0) return;
    kill(m->pid, SIGTERM);
    if (benchlib_wait_child(m->pid, 5.0, NULL) != 0)
        fprintf(stderr, "%s: kafka-mock pid %d did not exit cleanly\n",
                program_invocation_short_name, (int)m->pid);
    m->pid = 0;
}

int benchlib_loadgen(const char *sluice, const char *dir, const char *bootstrap, const char *topic,
                     int64_t rows, int partitions, int64_t start_id,
                     const volatile sig_atomic_t *stop)
{
    char n[32], p[16], k[32], log[PATH_MAX + 16];
    snprintf(n, sizeof n, "%" PRId64, rows);
    snprintf(p, sizeof p, "%d", partitions);
    snprintf(k, sizeof k, "%" PRId64, start_id);
    snprintf(log, sizeof log, "%s/loadgen.log", dir);
    char *argv[] = {(char *)sluice,
                    "loadgen",
                    "--bootstrap",
                    (char *)bootstrap,
                    "--topic",
                    (char *)topic,
                    "--rows",
                    n,
                    "--partitions",
                    p,
                    "--start-id",
                    k,
                    NULL};
    pid_t pid = benchlib_spawn(argv, "/dev/null", log);
    if (pid < 0 || benchlib_wait_child(pid, 120, stop) != 0) {
        if (stop && *stop) return -1;
        fprintf(stderr, "%s: loadgen %s failed; its log:\n", program_invocation_short_name, topic);
        benchlib_cat(log);
        return -1;
    }
    return 0;
}

/* ---- defaults ---- */

void benchlib_default_sluice(char *buf, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(buf, cap, "./sluice");
        return;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    benchlib_fmt(buf, cap, "%s/../sluice", self);
}

void benchlib_default_examples(char *buf, size_t cap)
{
    if (access("deploy/examples/events_schema.json", R_OK) == 0) {
        snprintf(buf, cap, "deploy/examples");
        return;
    }
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s", __FILE__);
    char *slash = strrchr(src, '/');
    if (slash) *slash = '\0';
    benchlib_fmt(buf, cap, "%s/../deploy/examples", slash ? src : ".");
}
