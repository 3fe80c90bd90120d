/*
 * strmap.h: a small hash index from strings to pointers, for the engine's
 * lookups by join code, kiosk code and resume token.
 *
 * Open addressing with linear probing over a power-of-two table. The map
 * keeps no keys, only a keyed 64-bit hash of each and its value: a lookup
 * yields every value whose key hashed alike, and the caller compares the key
 * it holds itself (in constant time when the key is a secret). A collision
 * thus costs one more comparison, never a wrong answer, and the map never
 * points into memory it does not own.
 *
 * The same key may be added more than once (one entry each); an entry is
 * deleted by its key and value. Values are never NULL.
 */
#ifndef LWK_STRMAP_H
#define LWK_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
    uint64_t hash;
    void *val; /* NULL: never used; a marker of strmap.c: deleted */
};

struct strmap {
    struct strmap_slot *slots; /* owned */
    size_t cap;                /* 0 or a power of two */
    size_t used;               /* live entries */
    size_t dead;               /* deleted slots not yet reclaimed */
    uint64_t seed;             /* keys the hash */
};

/* Walks the values of one key: strmap_first, then strmap_next until NULL. */
struct strmap_iter {
    uint64_t hash;
    size_t i, left;
};

/* seed keys the hash: take it from a random source where keys are secrets. */
void strmap_init(struct strmap *m, uint64_t seed);
/* Frees the table; the map is empty and usable again afterwards. */
void strmap_free(struct strmap *m);

/* Makes room for n more strmap_add calls that then cannot fail. 0, or -1
 * when out of memory (the map is unchanged). */
int strmap_reserve(struct strmap *m, size_t n);
/* Adds an entry. 0, or -1 when out of memory (the map is unchanged). */
int strmap_add(struct strmap *m, const char *key, void *val);
/* Deletes one entry of key with this value; false when there is none. */
bool strmap_del(struct strmap *m, const char *key, const void *val);

/* The first value whose key hashes like key, or NULL. The map must not
 * change during a walk. */
void *strmap_first(const struct strmap *m, const char *key, struct strmap_iter *it);
void *strmap_next(const struct strmap *m, struct strmap_iter *it);

static inline size_t strmap_count(const struct strmap *m)
{
    return m->used;
}

#endif
