/*
 * proto_gen.h: what the protocol tests and tools generate from the
 * catalogue in proto.h: sample messages of every type (every allowed field
 * set), a JSON rendering of a message, the generated tables of PROTOCOL.md,
 * and the examples shown there. Shared by test_codec and proto_tool.
 */
#ifndef LWK_TESTS_PROTO_GEN_H
#define LWK_TESTS_PROTO_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* A growable NUL-terminated text or byte buffer. */
struct gen_buf {
    char *p; /* owned */
    size_t len, cap;
};

void gen_buf_free(struct gen_buf *b);
void gen_bytes(struct gen_buf *b, const void *data, size_t n);
void gen_printf(struct gen_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Which valid value every field of a sample gets. */
enum gen_variant {
    GEN_TYPICAL, /* a value inside the range, strings with non-ASCII text */
    GEN_MIN,     /* every value, length and count at its minimum */
    GEN_MAX,     /* every value, length and count at its maximum */
};

struct gen_sample;

/*
 * A message of type t with every field the type allows set to a valid value
 * (nested events: one of every event type with GEN_MAX). The message and all
 * it points to belong to the sample.
 */
struct gen_sample *gen_sample_new(enum proto_type t, enum gen_variant v);
const struct proto_msg *gen_sample_msg(const struct gen_sample *s);
void gen_sample_free(struct gen_sample *s);

/* Deep comparison; on a difference writes what differs into why. */
bool gen_msg_equal(const struct proto_msg *a, const struct proto_msg *b, char *why, size_t why_len);

/*
 * JSON text of a message: keys in wire order ("t" first, then catalogue
 * order, as proto_encode writes them). pretty puts each top-level field and
 * each nested message on its own line.
 */
void gen_json(struct gen_buf *b, const struct proto_msg *m, bool pretty);

/* The generated part of PROTOCOL.md (between GEN_SPEC_BEGIN and GEN_SPEC_END). */
#define GEN_SPEC_BEGIN "<!-- BEGIN GENERATED: proto_tool spec -->\n"
#define GEN_SPEC_END "<!-- END GENERATED -->\n"
void gen_spec(struct gen_buf *b);

/* The examples of PROTOCOL.md, as built from C. */
struct gen_example {
    const char *title;
    struct gen_sample *sample; /* owned */
};
/* Returns the number of examples; *out is freed with gen_examples_free. */
int gen_examples(struct gen_example **out);
void gen_examples_free(struct gen_example *ex, int n);
/* Markdown of one example: title, frame as hex, decoded JSON. */
void gen_example_markdown(struct gen_buf *b, const struct gen_example *ex);

#endif
