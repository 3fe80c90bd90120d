/*
 * proto_tool.c: the codec from the command line, for the interop test, the
 * fuzz corpus and PROTOCOL.md.
 *
 *   proto_tool roundtrip          frames on stdin, each decoded (nested messages
 *                                 allowed) and encoded again on stdout; a frame
 *                                 that does not decode becomes an error frame
 *   proto_tool samples [VARIANT]  a frame of every message type on stdout
 *                                 (VARIANT: typical, min or max)
 *   proto_tool corpus DIR         the samples of every variant, one file each
 *   proto_tool spec [--check FILE | --update FILE]
 *                                 the generated tables of PROTOCOL.md: print,
 *                                 compare with FILE, or rewrite them in FILE
 *   proto_tool examples           the examples of PROTOCOL.md as markdown
 *   proto_tool decode HEX...      a frame written as hex, as JSON
 */
#include "frame.h"
#include "proto.h"
#include "proto_gen.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const variant_names[] = {"typical", "min", "max"};

static int write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int read_file(FILE *f, struct gen_buf *b)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        gen_bytes(b, chunk, n);
    if (!b->p)
        gen_bytes(b, "", 0);
    return ferror(f) ? -1 : 0;
}

static int write_error_frame(int64_t id, int code, const char *detail)
{
    struct proto_msg e;
    proto_msg_init(&e, PT_ERROR);
    if (id >= 0)
        proto_set_int(&e, PK_ID, id);
    proto_set_int(&e, PK_ERR, code < 0 ? -code : code);
    proto_set_str(&e, PK_MSG, detail);
    uint8_t *frame;
    size_t len;
    if (proto_encode_frame(&e, &frame, &len) < 0)
        return -1;
    int rc = write_all(stdout, frame, len);
    free(frame);
    return rc;
}

static int cmd_roundtrip(void)
{
    struct gen_buf in = {0};
    if (read_file(stdin, &in) < 0) {
        fprintf(stderr, "proto_tool: reading stdin: %s\n", strerror(errno));
        return 2;
    }
    struct proto_framer f;
    proto_framer_init(&f, PROTO_CLIENT_MAX_FRAME);
    int rc = proto_framer_feed(&f, (const uint8_t *)in.p, in.len);
    int status = 0;
    for (;;) {
        const uint8_t *body;
        uint32_t len;
        if (rc == 0)
            rc = proto_framer_next(&f, &body, &len);
        if (rc < 0) {
            write_error_frame(-1, rc, "framing");
            status = 1;
            break;
        }
        if (rc == 0)
            break;
        rc = 0;
        struct proto_msg *m;
        struct proto_error err;
        if (proto_decode(body, len, true, &m, &err) < 0) {
            write_error_frame(err.id, err.code, err.detail);
            continue;
        }
        uint8_t *out;
        size_t olen;
        int erc = proto_encode_frame(m, &out, &olen);
        proto_msg_free(m);
        if (erc < 0) {
            write_error_frame(-1, erc, "re-encoding failed");
            continue;
        }
        write_all(stdout, out, olen);
        free(out);
    }
    if (proto_framer_pending(&f) && status == 0) {
        write_error_frame(-1, PROTO_ERR_MALFORMED, "truncated frame at the end");
        status = 1;
    }
    proto_framer_free(&f);
    gen_buf_free(&in);
    return fflush(stdout) == 0 ? status : 2;
}

static int parse_variant(const char *s)
{
    for (int v = 0; v < 3; v++)
        if (!strcmp(s, variant_names[v]))
            return v;
    return -1;
}

static int cmd_samples(enum gen_variant v)
{
    for (int t = PT__NONE + 1; t < PT__COUNT; t++) {
        struct gen_sample *s = gen_sample_new((enum proto_type)t, v);
        uint8_t *frame;
        size_t len;
        int rc = proto_encode_frame(gen_sample_msg(s), &frame, &len);
        gen_sample_free(s);
        if (rc < 0) {
            fprintf(stderr, "proto_tool: %s: encode: %s\n", proto_type_name((enum proto_type)t),
                    proto_err_name(rc));
            return 1;
        }
        write_all(stdout, frame, len);
        free(frame);
    }
    return fflush(stdout) == 0 ? 0 : 2;
}

static int cmd_corpus(const char *dir)
{
    for (int v = 0; v < 3; v++)
        for (int t = PT__NONE + 1; t < PT__COUNT; t++) {
            struct gen_sample *s = gen_sample_new((enum proto_type)t, (enum gen_variant)v);
            uint8_t *frame;
            size_t len;
            int rc = proto_encode_frame(gen_sample_msg(s), &frame, &len);
            gen_sample_free(s);
            if (rc < 0)
                return 1;
            /* Seeds are small: large inputs only slow the fuzzer down. */
            if (len <= 4096) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s-%s", dir, proto_type_name((enum proto_type)t),
                         variant_names[v]);
                FILE *f = fopen(path, "wb");
                if (!f || write_all(f, frame, len) < 0 || fclose(f) != 0) {
                    fprintf(stderr, "proto_tool: %s: %s\n", path, strerror(errno));
                    free(frame);
                    return 2;
                }
            }
            free(frame);
        }
    return 0;
}

/* The generated part of a PROTOCOL.md text: [*begin, *end). */
static int find_generated(const char *text, const char **begin, const char **end)
{
    const char *b = strstr(text, GEN_SPEC_BEGIN);
    const char *e = b ? strstr(b, GEN_SPEC_END) : NULL;
    if (!b || !e)
        return -1;
    *begin = b;
    *end = e + strlen(GEN_SPEC_END);
    return 0;
}

static int cmd_spec(const char *mode, const char *path)
{
    struct gen_buf spec = {0};
    gen_spec(&spec);
    if (!mode) {
        fputs(spec.p, stdout);
        gen_buf_free(&spec);
        return 0;
    }
    FILE *f = fopen(path, "rb");
    struct gen_buf doc = {0};
    if (!f || read_file(f, &doc) < 0) {
        fprintf(stderr, "proto_tool: %s: %s\n", path, strerror(errno));
        return 2;
    }
    fclose(f);
    const char *b, *e;
    if (find_generated(doc.p, &b, &e) < 0) {
        fprintf(stderr, "proto_tool: %s: no markers %s", path, GEN_SPEC_BEGIN);
        return 1;
    }
    int status = 0;
    bool same = (size_t)(e - b) == spec.len && memcmp(b, spec.p, spec.len) == 0;
    if (!strcmp(mode, "--check")) {
        if (!same)
            fprintf(stderr, "proto_tool: %s is out of date: run proto_tool spec --update %s\n",
                    path, path);
        status = same ? 0 : 1;
    } else if (!same) {
        struct gen_buf out = {0};
        gen_bytes(&out, doc.p, (size_t)(b - doc.p));
        gen_bytes(&out, spec.p, spec.len);
        gen_bytes(&out, e, strlen(e));
        f = fopen(path, "wb");
        if (!f || write_all(f, out.p, out.len) < 0 || fclose(f) != 0) {
            fprintf(stderr, "proto_tool: %s: %s\n", path, strerror(errno));
            status = 2;
        }
        gen_buf_free(&out);
    }
    gen_buf_free(&doc);
    gen_buf_free(&spec);
    return status;
}

static int cmd_examples(void)
{
    struct gen_example *ex;
    int n = gen_examples(&ex);
    struct gen_buf b = {0};
    for (int i = 0; i < n; i++)
        gen_example_markdown(&b, &ex[i]);
    fputs(b.p, stdout);
    gen_buf_free(&b);
    gen_examples_free(ex, n);
    return 0;
}

static int cmd_decode(int argc, char **argv)
{
    struct gen_buf bytes = {0};
    for (int i = 0; i < argc; i++)
        for (const char *p = argv[i]; *p;) {
            if (isspace((unsigned char)*p) || *p == ':' || *p == '-') {
                p++;
                continue;
            }
            unsigned v;
            if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
                sscanf(p, "%2x", &v) != 1) {
                fprintf(stderr, "proto_tool: not hex: %s\n", p);
                return 1;
            }
            uint8_t c = (uint8_t)v;
            gen_bytes(&bytes, &c, 1);
            p += 2;
        }
    const uint8_t *body = (const uint8_t *)bytes.p;
    size_t len = bytes.len;
    if (len >= PROTO_FRAME_HEADER && proto_get_u32be(body) == len - PROTO_FRAME_HEADER) {
        body += PROTO_FRAME_HEADER;
        len -= PROTO_FRAME_HEADER;
    }
    struct proto_msg *m;
    struct proto_error err;
    int status = 0;
    if (proto_decode(body, len, true, &m, &err) < 0) {
        printf("error %d %s: %s\n", -err.code, proto_err_name(err.code), err.detail);
        status = 1;
    } else {
        struct gen_buf j = {0};
        gen_json(&j, m, true);
        printf("%s\n", j.p);
        gen_buf_free(&j);
        proto_msg_free(m);
    }
    gen_buf_free(&bytes);
    return status;
}

static int usage(void)
{
    fprintf(stderr, "usage: proto_tool roundtrip | samples [typical|min|max] | corpus DIR |\n"
                    "       spec [--check FILE | --update FILE] | examples | decode HEX...\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "roundtrip") && argc == 2)
        return cmd_roundtrip();
    if (!strcmp(cmd, "samples") && argc <= 3) {
        int v = argc == 3 ? parse_variant(argv[2]) : GEN_TYPICAL;
        return v < 0 ? usage() : cmd_samples((enum gen_variant)v);
    }
    if (!strcmp(cmd, "corpus") && argc == 3)
        return cmd_corpus(argv[2]);
    if (!strcmp(cmd, "spec") && argc == 2)
        return cmd_spec(NULL, NULL);
    if (!strcmp(cmd, "spec") && argc == 4 &&
        (!strcmp(argv[2], "--check") || !strcmp(argv[2], "--update")))
        return cmd_spec(argv[2], argv[3]);
    if (!strcmp(cmd, "examples") && argc == 2)
        return cmd_examples();
    if (!strcmp(cmd, "decode") && argc >= 3)
        return cmd_decode(argc - 2, argv + 2);
    return usage();
}
