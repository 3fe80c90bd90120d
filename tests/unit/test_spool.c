/*
 * test_spool.c: the crash spool. Records read back exactly as appended and
 * in order; a torn tail is cut at the last good record and appends continue
 * after it; a corrupt record in the middle is skipped without losing the
 * ones after it; acknowledged segments are deleted; the size bound holds;
 * two processes never share one spool. Every test ends with no libuv
 * request or handle left on its loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spool.h"

struct got {
    int n;
    int64_t session[256];
    uint64_t seq[256], time[256];
    uint32_t len[256];
    uint8_t body[256][300];
    struct spool_pos end[256];
};

static void collect(void *arg, const struct spool_record *r)
{
    struct got *g = arg;
    assert_true(g->n < 256);
    g->session[g->n] = r->session_id;
    g->seq[g->n] = r->seq;
    g->time[g->n] = r->time_ms;
    g->len[g->n] = r->len;
    assert_true(r->len <= sizeof(g->body[0]));
    memcpy(g->body[g->n], r->body, r->len);
    g->end[g->n] = r->end;
    g->n++;
}

struct fixture {
    char dir[64];
    uv_loop_t loop;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/lwk-spool-test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    uv_loop_init(&f->loop);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    /* A request or handle left behind fails the test, as in libuv's suite. */
    int rc = uv_loop_close(&f->loop);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void body_of(uint8_t *b, uint32_t len, uint64_t seq)
{
    for (uint32_t i = 0; i < len; i++)
        b[i] = (uint8_t)(seq * 31 + i);
}

static struct spool *open_spool(struct fixture *f, uint64_t max, uint64_t seg, struct got *g)
{
    struct spool *sp = NULL;
    char err[256];
    if (g)
        memset(g, 0, sizeof(*g));
    int rc = spool_open(&f->loop, f->dir, max, seg, g ? collect : NULL, g, &sp, err, sizeof(err));
    if (rc != 0)
        fail_msg("spool_open: %s", err);
    return sp;
}

static void append_n(struct spool *sp, int64_t session, uint64_t from, int n, uint32_t len,
                     struct spool_pos *ends)
{
    uint8_t b[300];
    for (int i = 0; i < n; i++) {
        uint64_t seq = from + (uint64_t)i;
        body_of(b, len, seq);
        assert_int_equal(spool_append(sp, session, seq, 1000 + seq, b, len, ends ? &ends[i] : NULL),
                         0);
    }
}

static void close_spool(struct fixture *f, struct spool *sp)
{
    uv_run(&f->loop, UV_RUN_DEFAULT); /* let queued syncs and unlinks finish */
    spool_free(sp);
}

static int count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strstr(de->d_name, ".seg") != NULL;
    closedir(d);
    return n;
}

/* The newest segment file that holds something. */
static void newest_segment(const char *dir, char *path, size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char best[256] = "";
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, ".seg"))
            continue;
        char p[1024];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (stat(p, &st) == 0 && st.st_size > 0 && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof(best), "%s", de->d_name);
    }
    closedir(d);
    snprintf(path, n, "%s/%s", dir, best);
}

static void records_read_back_in_order_exactly_as_appended(void **state)
{
    struct fixture *f = *state;
    struct got *g = malloc(sizeof(*g));
    struct spool *sp = open_spool(f, 1 << 20, 4096, g);
    assert_int_equal(g->n, 0);
    append_n(sp, 42, 1, 60, 100, NULL);
    append_n(sp, 4611686018427387903LL, 1, 3, 0, NULL); /* empty bodies are records too */
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_int_equal(st.bytes, 60 * (SPOOL_HEADER + 100) + 3 * SPOOL_HEADER);
    assert_true(st.segments > 1); /* 4 KiB segments: rotated */
    close_spool(f, sp);
    assert_true(st.segments > 1);

    sp = open_spool(f, 1 << 20, 4096, g);
    assert_int_equal(g->n, 63);
    for (int i = 0; i < 60; i++) {
        uint8_t b[100];
        body_of(b, 100, (uint64_t)i + 1);
        assert_int_equal(g->session[i], 42);
        assert_int_equal(g->seq[i], i + 1);
        assert_int_equal(g->time[i], 1000 + i + 1);
        assert_int_equal(g->len[i], 100);
        assert_memory_equal(g->body[i], b, 100);
    }
    assert_int_equal(g->session[60], 4611686018427387903LL);
    assert_int_equal(g->len[62], 0);
    spool_get_stats(sp, &st);
    assert_int_equal(st.bad_bytes, 0);
    assert_int_equal(st.truncated, 0);
    close_spool(f, sp);
    free(g);
}

static void torn_tail_is_cut_at_the_last_good_record(void **state)
{
    struct fixture *f = *state;
    struct got *g = malloc(sizeof(*g));
    struct spool *sp = open_spool(f, 1 << 20, 1 << 20, g);
    append_n(sp, 7, 1, 10, 50, NULL);
    close_spool(f, sp);

    /* The process died in the middle of writing record 10. */
    char path[512];
    newest_segment(f->dir, path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 10 * (SPOOL_HEADER + 50));
    assert_int_equal(truncate(path, st.st_size - 20), 0);

    sp = open_spool(f, 1 << 20, 1 << 20, g);
    assert_int_equal(g->n, 9);
    assert_int_equal(g->seq[8], 9);
    struct spool_stats ss;
    spool_get_stats(sp, &ss);
    assert_int_equal(ss.truncated, SPOOL_HEADER + 50 - 20);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 9 * (SPOOL_HEADER + 50)); /* the torn bytes are gone */
    /* Appends continue and read back after the recovered records. */
    append_n(sp, 7, 10, 2, 50, NULL);
    close_spool(f, sp);

    sp = open_spool(f, 1 << 20, 1 << 20, g);
    assert_int_equal(g->n, 11);
    for (int i = 0; i < 11; i++)
        assert_int_equal(g->seq[i], i + 1);
    close_spool(f, sp);
    free(g);
}

static void a_header_cut_short_is_a_torn_tail_too(void **state)
{
    struct fixture *f = *state;
    struct got *g = malloc(sizeof(*g));
    struct spool *sp = open_spool(f, 1 << 20, 1 << 20, g);
    append_n(sp, 7, 1, 3, 10, NULL);
    close_spool(f, sp);
    char path[512];
    newest_segment(f->dir, path, sizeof(path));
    assert_int_equal(truncate(path, 2 * (SPOOL_HEADER + 10) + 7), 0);
    sp = open_spool(f, 1 << 20, 1 << 20, g);
    assert_int_equal(g->n, 2);
    close_spool(f, sp);
    free(g);
}

static void corrupt_record_is_skipped_and_the_rest_read(void **state)
{
    struct fixture *f = *state;
    struct got *g = malloc(sizeof(*g));
    struct spool *sp = open_spool(f, 1 << 20, 1 << 20, g);
    append_n(sp, 9, 1, 10, 64, NULL);
    close_spool(f, sp);

    /* One bit of record 5's body flips on disk. */
    char path[512];
    newest_segment(f->dir, path, sizeof(path));
    int fd = open(path, O_RDWR);
    off_t at = 4 * (SPOOL_HEADER + 64) + SPOOL_HEADER + 3;
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x10;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);

    sp = open_spool(f, 1 << 20, 1 << 20, g);
    assert_int_equal(g->n, 9);
    uint64_t want[9] = {1, 2, 3, 4, 6, 7, 8, 9, 10};
    for (int i = 0; i < 9; i++)
        assert_int_equal(g->seq[i], want[i]);
    struct spool_stats ss;
    spool_get_stats(sp, &ss);
    assert_int_equal(ss.bad_bytes, SPOOL_HEADER + 64);
    assert_int_equal(ss.truncated, 0);
    close_spool(f, sp);
    free(g);
}

static void acknowledged_segments_are_deleted(void **state)
{
    struct fixture *f = *state;
    struct spool_pos ends[100];
    struct spool *sp = open_spool(f, 1 << 20, 1024, NULL);
    append_n(sp, 5, 1, 100, 60, ends); /* 100 bytes each: 10 per segment */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(count_segments(f->dir), 10);
    assert_int_equal(spool_bytes(sp), 100 * 100);

    spool_ack(sp, ends[34]); /* segments with records 1..30 hold nothing else */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(count_segments(f->dir), 7);
    assert_int_equal(spool_bytes(sp), 70 * 100);

    spool_ack(sp, ends[39]); /* record 40 ends its segment exactly */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(spool_bytes(sp), 60 * 100);

    /* Everything stored: the spool shrinks to an empty segment. */
    spool_ack(sp, ends[99]);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(spool_bytes(sp), 0);
    assert_int_equal(count_segments(f->dir), 1);
    spool_free(sp);

    /* Nothing comes back after a restart. */
    struct got *g = malloc(sizeof(*g));
    sp = open_spool(f, 1 << 20, 1024, g);
    assert_int_equal(g->n, 0);
    close_spool(f, sp);
    free(g);
}

static void unacknowledged_records_survive_a_restart_acknowledged_ones_do_not(void **state)
{
    struct fixture *f = *state;
    struct spool_pos ends[50];
    struct spool *sp = open_spool(f, 1 << 20, 1000, NULL);
    append_n(sp, 5, 1, 50, 60, ends);
    spool_ack(sp, ends[19]); /* records 1..20 stored: their segments go */
    close_spool(f, sp);
    struct got *g = malloc(sizeof(*g));
    sp = open_spool(f, 1 << 20, 1000, g);
    assert_int_equal(g->n, 30);
    assert_int_equal(g->seq[0], 21);
    assert_int_equal(g->seq[29], 50);
    /* Positions read at open acknowledge those old segments too. */
    spool_ack(sp, g->end[29]);
    close_spool(f, sp);
    sp = open_spool(f, 1 << 20, 1000, g);
    assert_int_equal(g->n, 0);
    close_spool(f, sp);
    free(g);
}

static void appends_stop_at_the_size_bound_and_resume_after_acknowledgement(void **state)
{
    struct fixture *f = *state;
    uint64_t max = 10 * (SPOOL_HEADER + 60);
    struct spool_pos ends[10], end;
    struct spool *sp = open_spool(f, max, 400, NULL);
    append_n(sp, 3, 1, 10, 60, ends);
    assert_int_equal(spool_bytes(sp), max);
    uint8_t b[60] = {0};
    assert_int_equal(spool_append(sp, 3, 11, 0, b, 60, &end), SPOOL_ERR_FULL);
    assert_int_equal(spool_append(sp, 3, 11, 0, b, 0, &end), SPOOL_ERR_FULL);
    spool_ack(sp, ends[9]);
    assert_int_equal(spool_append(sp, 3, 11, 0, b, 60, &end), 0);
    close_spool(f, sp);
}

static void a_second_process_cannot_open_the_same_spool(void **state)
{
    struct fixture *f = *state;
    struct spool *sp = open_spool(f, 1 << 20, 4096, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* flock is per open file description: a child opening anew conflicts. */
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct spool *other = NULL;
        char err[256];
        int rc = spool_open(&loop, f->dir, 1 << 20, 4096, NULL, NULL, &other, err, sizeof(err));
        _exit(rc == -EWOULDBLOCK && other == NULL && strstr(err, "in use") ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close_spool(f, sp);
}

static void unrelated_files_in_the_directory_are_left_alone(void **state)
{
    struct fixture *f = *state;
    char p[512];
    snprintf(p, sizeof(p), "%s/notes.txt", f->dir);
    FILE *fp = fopen(p, "w");
    fputs("hello", fp);
    fclose(fp);
    snprintf(p, sizeof(p), "%s/zzzzzzzzzzzzzzzz.seg", f->dir);
    fp = fopen(p, "w");
    fputs("not hex", fp);
    fclose(fp);
    struct got *g = malloc(sizeof(*g));
    struct spool *sp = open_spool(f, 1 << 20, 4096, g);
    assert_int_equal(g->n, 0);
    append_n(sp, 1, 1, 1, 5, NULL);
    close_spool(f, sp);
    snprintf(p, sizeof(p), "%s/notes.txt", f->dir);
    assert_int_equal(access(p, F_OK), 0);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(records_read_back_in_order_exactly_as_appended, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(torn_tail_is_cut_at_the_last_good_record, setup, teardown),
        cmocka_unit_test_setup_teardown(a_header_cut_short_is_a_torn_tail_too, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_record_is_skipped_and_the_rest_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(acknowledged_segments_are_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(
            unacknowledged_records_survive_a_restart_acknowledged_ones_do_not, setup, teardown),
        cmocka_unit_test_setup_teardown(
            appends_stop_at_the_size_bound_and_resume_after_acknowledgement, setup, teardown),
        cmocka_unit_test_setup_teardown(a_second_process_cannot_open_the_same_spool, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unrelated_files_in_the_directory_are_left_alone, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
