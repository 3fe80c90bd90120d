/*
 * spool.c: the crash spool (see spool.h).
 *
 * Appends are synchronous pwritev calls into the page cache: they must be
 * done before the event's "ok" leaves the process, and they never wait for
 * the disk. Everything that may wait for the disk (fdatasync, close, unlink,
 * the directory's fsync after a new segment) is an operation in one FIFO
 * executed on the libuv threadpool one at a time, so a file descriptor is
 * never closed while a sync on it is queued, and a segment is never unlinked
 * before it is closed.
 *
 * Reading (spool_open) is synchronous: it runs once at start, before lwkd
 * serves anyone.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

static const uint8_t magic[4] = {'L', 'W', 'K', 'S'};

struct seg {
    struct seg *next;
    uint64_t num;
    uint64_t size;
};

enum op_kind { OP_SYNC, OP_CLOSE, OP_UNLINK, OP_DIRSYNC };

struct spool_op {
    struct spool_op *next;
    enum op_kind kind;
    int fd;
    char *path; /* OP_UNLINK; owned */
};

struct spool {
    uv_loop_t *loop;
    char *dir;
    int dirfd, lockfd;
    uint64_t max_bytes, seg_bytes;
    struct seg *head, *tail; /* oldest first; tail is the one appended to */
    int fd;                  /* tail's descriptor */
    struct spool_op *ops, *ops_tail;
    struct spool_op *running;
    struct spool_op *sync_queued; /* an OP_SYNC of fd not yet started */
    uv_fs_t req;
    struct spool_stats stats;
};

/* ---- little-endian fields ---------------------------------------------- */

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t record_crc(const uint8_t *hdr, const uint8_t *body, uint32_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, hdr + 8, SPOOL_HEADER - 8);
    if (len)
        c = crc32(c, body, len);
    return (uint32_t)c;
}

static void seg_path(const struct spool *sp, uint64_t num, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%016" PRIx64 ".seg", sp->dir, num);
}

/* ---- the operation FIFO ------------------------------------------------ */

static void run_next(struct spool *sp);

static void op_done(uv_fs_t *req)
{
    struct spool *sp = req->data;
    struct spool_op *op = sp->running;
    ssize_t rc = req->result;
    uv_fs_req_cleanup(req);
    if (op->kind == OP_SYNC && rc == 0)
        sp->stats.syncs++;
    /* A failed unlink of a segment already gone is harmless. */
    if (rc < 0 && !(op->kind == OP_UNLINK && rc == UV_ENOENT))
        sp->stats.sync_error = (int)rc;
    free(op->path);
    free(op);
    sp->running = NULL;
    run_next(sp);
}

static void run_next(struct spool *sp)
{
    while (!sp->running && sp->ops) {
        struct spool_op *op = sp->ops;
        sp->ops = op->next;
        if (!sp->ops)
            sp->ops_tail = NULL;
        if (op == sp->sync_queued)
            sp->sync_queued = NULL; /* later writes need a sync of their own */
        sp->running = op;
        sp->req.data = sp;
        int rc;
        switch (op->kind) {
        case OP_SYNC:
            rc = uv_fs_fdatasync(sp->loop, &sp->req, op->fd, op_done);
            break;
        case OP_CLOSE:
            rc = uv_fs_close(sp->loop, &sp->req, op->fd, op_done);
            break;
        case OP_UNLINK:
            rc = uv_fs_unlink(sp->loop, &sp->req, op->path, op_done);
            break;
        case OP_DIRSYNC:
        default:
            rc = uv_fs_fsync(sp->loop, &sp->req, op->fd, op_done);
            break;
        }
        if (rc < 0) {
            sp->stats.sync_error = rc;
            if (op->kind == OP_CLOSE)
                close(op->fd); /* never leak the descriptor */
            free(op->path);
            free(op);
            sp->running = NULL;
        }
    }
}

static struct spool_op *enqueue(struct spool *sp, enum op_kind kind, int fd, const char *path)
{
    struct spool_op *op = calloc(1, sizeof(*op));
    if (!op)
        return NULL;
    op->kind = kind;
    op->fd = fd;
    if (path && !(op->path = strdup(path))) {
        free(op);
        return NULL;
    }
    if (sp->ops_tail)
        sp->ops_tail->next = op;
    else
        sp->ops = op;
    sp->ops_tail = op;
    run_next(sp);
    return op;
}

/* ---- segments ---------------------------------------------------------- */

static int open_new_segment(struct spool *sp)
{
    uint64_t num = sp->tail ? sp->tail->num + 1 : 1;
    char path[4096];
    seg_path(sp, num, path, sizeof(path));
    struct seg *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        free(s);
        return -e;
    }
    if (sp->fd >= 0) {
        /* Everything written to the old segment is synced before it closes. */
        enqueue(sp, OP_SYNC, sp->fd, NULL);
        if (!enqueue(sp, OP_CLOSE, sp->fd, NULL))
            close(sp->fd);
    }
    sp->sync_queued = NULL;
    s->num = num;
    if (sp->tail)
        sp->tail->next = s;
    else
        sp->head = s;
    sp->tail = s;
    sp->fd = fd;
    sp->stats.segments++;
    enqueue(sp, OP_DIRSYNC, sp->dirfd, NULL); /* the new name survives a power loss */
    return 0;
}

static void drop_head(struct spool *sp)
{
    struct seg *s = sp->head;
    char path[4096];
    seg_path(sp, s->num, path, sizeof(path));
    sp->head = s->next;
    if (!sp->head)
        sp->tail = NULL;
    sp->stats.bytes -= s->size;
    sp->stats.segments--;
    if (!enqueue(sp, OP_UNLINK, -1, path))
        unlink(path);
    free(s);
}

/* ---- reading ----------------------------------------------------------- */

static bool record_at(const uint8_t *p, uint64_t off, uint64_t size, uint32_t *len)
{
    if (size - off < SPOOL_HEADER || memcmp(p + off, magic, 4) != 0)
        return false;
    uint32_t n = get_le32(p + off + 8);
    if (n > SPOOL_MAX_BODY || size - off - SPOOL_HEADER < n)
        return false;
    if (record_crc(p + off, p + off + SPOOL_HEADER, n) != get_le32(p + off + 4))
        return false;
    *len = n;
    return true;
}

/* Reads one segment file, calling fn per valid record; returns its good length. */
static int read_segment(struct spool *sp, uint64_t num, spool_record_fn fn, void *arg,
                        uint64_t *good)
{
    char path[4096];
    seg_path(sp, num, path, sizeof(path));
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat stt;
    if (fstat(fd, &stt) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    uint64_t size = (uint64_t)stt.st_size;
    uint8_t *p = malloc(size ? size : 1);
    if (!p) {
        close(fd);
        return -ENOMEM;
    }
    uint64_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, p + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(p);
            close(fd);
            return -e;
        }
        got += (uint64_t)n;
    }
    uint64_t off = 0, end = 0;
    while (off < size) {
        uint32_t len;
        if (!record_at(p, off, size, &len)) {
            /* Corrupt or torn: resume at the next record that checks out. */
            uint64_t next = off + 1;
            while (next < size && !record_at(p, next, size, &len))
                next++;
            if (next >= size)
                break;
            sp->stats.bad_bytes += next - off;
            off = next;
        }
        struct spool_record rec = {
            .session_id = (int64_t)get_le64(p + off + 16),
            .seq = get_le64(p + off + 24),
            .time_ms = get_le64(p + off + 32),
            .body = p + off + SPOOL_HEADER,
            .len = len,
            .end = {num, off + SPOOL_HEADER + len},
        };
        off += SPOOL_HEADER + len;
        end = off;
        sp->stats.records++;
        if (fn)
            fn(arg, &rec);
    }
    if (end < size) {
        /* A torn tail (the process died mid-write) or garbage: cut it off so
         * appends and the next read start clean. */
        sp->stats.truncated += size - end;
        if (ftruncate(fd, (off_t)end) < 0 || fdatasync(fd) < 0) {
            int e = errno;
            free(p);
            close(fd);
            return -e;
        }
    }
    free(p);
    close(fd);
    *good = end;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool seg_name(const char *name, uint64_t *num)
{
    if (strlen(name) != 20 || strcmp(name + 16, ".seg") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *num = v;
    return v != 0;
}

static int list_segments(const char *dir, uint64_t **nums, size_t *n)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return -errno;
    size_t cap = 16;
    *n = 0;
    *nums = malloc(cap * sizeof(**nums));
    if (!*nums) {
        closedir(dh);
        return -ENOMEM;
    }
    struct dirent *de;
    while ((de = readdir(dh))) {
        uint64_t num;
        if (!seg_name(de->d_name, &num))
            continue;
        if (*n == cap) {
            uint64_t *np = realloc(*nums, cap * 2 * sizeof(**nums));
            if (!np) {
                closedir(dh);
                return -ENOMEM;
            }
            *nums = np;
            cap *= 2;
        }
        (*nums)[(*n)++] = num;
    }
    closedir(dh);
    qsort(*nums, *n, sizeof(**nums), cmp_u64);
    return 0;
}

/* ---- public ------------------------------------------------------------ */

static void fail(char *err, size_t errlen, const char *what, const char *path, int e)
{
    if (err && errlen)
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
}

int spool_open(uv_loop_t *loop, const char *dir, uint64_t max_bytes, uint64_t seg_bytes,
               spool_record_fn fn, void *arg, struct spool **out, char *err, size_t errlen)
{
    *out = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        fail(err, errlen, "cannot create", dir, e);
        return -e;
    }
    struct spool *sp = calloc(1, sizeof(*sp));
    if (!sp || !(sp->dir = strdup(dir))) {
        free(sp);
        fail(err, errlen, "out of memory for", dir, ENOMEM);
        return -ENOMEM;
    }
    sp->loop = loop;
    sp->max_bytes = max_bytes;
    sp->seg_bytes = seg_bytes ? seg_bytes : 1u << 20;
    sp->fd = -1;
    sp->lockfd = -1;
    sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (sp->dirfd < 0) {
        rc = -errno;
        fail(err, errlen, "cannot open", dir, -rc);
        goto bad;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/lock", dir);
    sp->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->lockfd < 0 || flock(sp->lockfd, LOCK_EX | LOCK_NB) < 0) {
        rc = -errno;
        if (rc == -EWOULDBLOCK && err && errlen)
            snprintf(err, errlen, "spool %s is in use by another process", dir);
        else
            fail(err, errlen, "cannot lock", path, -rc);
        goto bad;
    }

    uint64_t *nums = NULL;
    size_t n = 0;
    if ((rc = list_segments(dir, &nums, &n)) < 0) {
        free(nums);
        fail(err, errlen, "cannot list", dir, -rc);
        goto bad;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t good = 0;
        if ((rc = read_segment(sp, nums[i], fn, arg, &good)) < 0) {
            seg_path(sp, nums[i], path, sizeof(path));
            fail(err, errlen, "cannot read", path, -rc);
            free(nums);
            goto bad;
        }
        if (good == 0) {
            seg_path(sp, nums[i], path, sizeof(path));
            unlink(path); /* nothing in it */
            if (!sp->tail || sp->tail->num < nums[i]) {
                /* keep numbering monotonic even when the newest was empty */
                struct seg *s = calloc(1, sizeof(*s));
                if (!s) {
                    rc = -ENOMEM;
                    free(nums);
                    goto bad;
                }
                s->num = nums[i];
                if (sp->tail)
                    sp->tail->next = s;
                else
                    sp->head = s;
                sp->tail = s;
                sp->stats.segments++;
            }
            continue;
        }
        struct seg *s = calloc(1, sizeof(*s));
        if (!s) {
            rc = -ENOMEM;
            free(nums);
            goto bad;
        }
        s->num = nums[i];
        s->size = good;
        if (sp->tail)
            sp->tail->next = s;
        else
            sp->head = s;
        sp->tail = s;
        sp->stats.segments++;
        sp->stats.bytes += good;
    }
    free(nums);
    if ((rc = open_new_segment(sp)) < 0) {
        fail(err, errlen, "cannot create a segment in", dir, -rc);
        goto bad;
    }
    /* Placeholders of empty segments (numbering only) go now. */
    for (struct seg **pp = &sp->head; *pp;) {
        struct seg *s = *pp;
        if (s != sp->tail && s->size == 0) {
            *pp = s->next;
            sp->stats.segments--;
            free(s);
        } else {
            pp = &s->next;
        }
    }
    *out = sp;
    return 0;
bad:
    /* Nothing was queued on the loop before a failure can happen here. */
    while (sp->head) {
        struct seg *s = sp->head;
        sp->head = s->next;
        free(s);
    }
    if (sp->fd >= 0)
        close(sp->fd);
    if (sp->dirfd >= 0)
        close(sp->dirfd);
    if (sp->lockfd >= 0)
        close(sp->lockfd);
    free(sp->dir);
    free(sp);
    return rc;
}

int spool_append(struct spool *sp, int64_t session_id, uint64_t seq, uint64_t time_ms,
                 const uint8_t *body, uint32_t len, struct spool_pos *end)
{
    uint64_t need = SPOOL_HEADER + (uint64_t)len;
    if (len > SPOOL_MAX_BODY || sp->stats.bytes + need > sp->max_bytes)
        return SPOOL_ERR_FULL;
    if (sp->tail->size > 0 && sp->tail->size + need > sp->seg_bytes) {
        int rc = open_new_segment(sp);
        if (rc < 0)
            return rc;
    }
    uint8_t hdr[SPOOL_HEADER];
    memcpy(hdr, magic, 4);
    put_le32(hdr + 8, len);
    put_le32(hdr + 12, 0);
    put_le64(hdr + 16, (uint64_t)session_id);
    put_le64(hdr + 24, seq);
    put_le64(hdr + 32, time_ms);
    put_le32(hdr + 4, record_crc(hdr, body, len));

    struct iovec iov[2] = {{hdr, SPOOL_HEADER}, {(void *)body, len}};
    uint64_t off = sp->tail->size, done = 0;
    while (done < need) {
        /* Resume a short write where it stopped. */
        struct iovec v[2];
        int nv = 0;
        uint64_t skip = done;
        for (int i = 0; i < 2; i++) {
            if (skip >= iov[i].iov_len) {
                skip -= iov[i].iov_len;
                continue;
            }
            v[nv].iov_base = (uint8_t *)iov[i].iov_base + skip;
            v[nv].iov_len = iov[i].iov_len - skip;
            skip = 0;
            nv++;
        }
        ssize_t n = pwritev(sp->fd, v, nv, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            if (ftruncate(sp->fd, (off_t)off) < 0) {
                /* The partial record stays; its CRC makes readers skip it. */
            }
            return -e;
        }
        done += (uint64_t)n;
    }
    sp->tail->size += need;
    sp->stats.bytes += need;
    sp->stats.records++;
    if (!sp->sync_queued)
        sp->sync_queued = enqueue(sp, OP_SYNC, sp->fd, NULL);
    if (end) {
        end->seg = sp->tail->num;
        end->off = sp->tail->size;
    }
    return 0;
}

void spool_ack(struct spool *sp, struct spool_pos upto)
{
    if (upto.seg == 0)
        return;
    while (sp->head && sp->head != sp->tail &&
           (sp->head->num < upto.seg || (sp->head->num == upto.seg && upto.off >= sp->head->size)))
        drop_head(sp);
    /* The segment being written is retired early once all of it is stored,
     * so an idle spool shrinks to nothing instead of one full segment. */
    struct seg *t = sp->tail;
    if (t && sp->head == t && t->num == upto.seg && upto.off >= t->size &&
        t->size >= sp->seg_bytes / 4) {
        if (open_new_segment(sp) == 0)
            drop_head(sp);
    }
}

uint64_t spool_bytes(const struct spool *sp)
{
    return sp ? sp->stats.bytes : 0;
}

void spool_get_stats(const struct spool *sp, struct spool_stats *out)
{
    *out = sp->stats;
}

bool spool_sync_pending(const struct spool *sp)
{
    if (sp->running && sp->running->kind == OP_SYNC)
        return true;
    for (struct spool_op *op = sp->ops; op; op = op->next)
        if (op->kind == OP_SYNC)
            return true;
    return false;
}

void spool_free(struct spool *sp)
{
    if (!sp)
        return;
    /* The loop has stopped: run what is still queued, synchronously. */
    while (sp->ops) {
        struct spool_op *op = sp->ops;
        sp->ops = op->next;
        switch (op->kind) {
        case OP_SYNC:
            fdatasync(op->fd);
            break;
        case OP_CLOSE:
            close(op->fd);
            break;
        case OP_UNLINK:
            unlink(op->path);
            break;
        case OP_DIRSYNC:
            fsync(op->fd);
            break;
        }
        free(op->path);
        free(op);
    }
    if (sp->fd >= 0) {
        fdatasync(sp->fd);
        close(sp->fd);
    }
    /* An empty newest segment is not worth keeping. */
    if (sp->tail && sp->tail->size == 0) {
        char path[4096];
        seg_path(sp, sp->tail->num, path, sizeof(path));
        unlink(path);
    }
    while (sp->head) {
        struct seg *s = sp->head;
        sp->head = s->next;
        free(s);
    }
    if (sp->dirfd >= 0) {
        fsync(sp->dirfd);
        close(sp->dirfd);
    }
    if (sp->lockfd >= 0)
        close(sp->lockfd);
    free(sp->dir);
    free(sp);
}
