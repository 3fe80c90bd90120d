/*
 * spool.h: the local append-only spool that makes an accepted event survive
 * a crash of lwkd until PostgreSQL has it.
 *
 * The spool is a directory of segment files (NNNNNNNNNNNNNNNN.seg, numbered
 * in hex, oldest first). Each record is a 40-byte header and the event's
 * full frame body:
 *
 *   0  magic "LWKS"         16 session id (int64 LE)
 *   4  CRC-32 of 8..end     24 seq (uint64 LE)
 *   8  body length (LE)     32 wall-clock ms when appended (uint64 LE)
 *  12  reserved, 0          40 body
 *
 * An append is one pwritev into the page cache, done before the event is
 * acknowledged to anyone, so a killed process loses nothing; fdatasync runs
 * in batches on the libuv threadpool (one in flight, the next one covering
 * everything written meanwhile), so the disk never stalls the loop. A torn
 * or corrupt record is found by its CRC: reading skips it and resumes at the
 * next valid record; a torn tail is truncated away.
 *
 * Records are acknowledged in order (spool_ack) once the database has them;
 * a segment whose records are all acknowledged is deleted.
 */
#ifndef LWK_SPOOL_H
#define LWK_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SPOOL_HEADER 40
#define SPOOL_MAX_BODY (64u * 1024 * 1024)
/* spool_append: the record would take the spool past max_bytes. */
#define SPOOL_ERR_FULL (-100000)

struct spool;

/* Where a record ends: acknowledging it acknowledges everything before. */
struct spool_pos {
    uint64_t seg; /* segment number; 0 = not in the spool */
    uint64_t off; /* byte offset just past the record */
};

struct spool_record {
    int64_t session_id;
    uint64_t seq;
    uint64_t time_ms;
    const uint8_t *body; /* borrowed: valid during the callback only */
    uint32_t len;
    struct spool_pos end;
};

typedef void (*spool_record_fn)(void *arg, const struct spool_record *rec);

struct spool_stats {
    uint64_t bytes; /* in all segment files */
    uint64_t segments;
    uint64_t records;   /* read at open plus appended since */
    uint64_t bad_bytes; /* skipped as corrupt or torn while reading */
    uint64_t truncated; /* bytes cut from a torn tail */
    uint64_t syncs;     /* fdatasync calls completed */
    int sync_error;     /* last fdatasync/close error (negative errno), 0 = none */
};

/*
 * Opens the spool in dir (created, mode 0700, when missing) and takes an
 * exclusive lock on it, so two daemons never share one. Calls fn for every
 * valid record already there, oldest first, then starts a new segment for
 * appends. seg_bytes: size at which a segment is closed and a new one begun.
 * Returns 0 or a negative errno (-EWOULDBLOCK: locked by another process);
 * err gets a one-line reason.
 */
int spool_open(uv_loop_t *loop, const char *dir, uint64_t max_bytes, uint64_t seg_bytes,
               spool_record_fn fn, void *arg, struct spool **out, char *err, size_t errlen);

/*
 * Appends one record (written to the page cache before this returns; made
 * durable by the next batched fdatasync). *end tells where it ends, for
 * spool_ack. Returns 0, SPOOL_ERR_FULL past max_bytes, or a negative errno;
 * on error nothing of the record stays in the file.
 */
int spool_append(struct spool *sp, int64_t session_id, uint64_t seq, uint64_t time_ms,
                 const uint8_t *body, uint32_t len, struct spool_pos *end);

/* Everything up to and including the record ending at upto is stored
 * elsewhere: deletes the segments that hold nothing else. */
void spool_ack(struct spool *sp, struct spool_pos upto);

uint64_t spool_bytes(const struct spool *sp);
void spool_get_stats(const struct spool *sp, struct spool_stats *out);
/* True while written bytes wait for their fdatasync. */
bool spool_sync_pending(const struct spool *sp);

/* Syncs and closes everything, synchronously (at exit, once the loop has
 * stopped and no request of the spool is in flight), and frees sp. */
void spool_free(struct spool *sp);

#endif
