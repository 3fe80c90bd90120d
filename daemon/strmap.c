/*
 * strmap.c: hash index from strings to pointers (see strmap.h).
 *
 * Deleted entries leave a marker so that probes for the entries behind them
 * go on; a marker goes when an add lands on it, when it comes to stand in
 * front of an empty slot, or when the table is rebuilt. At most 3/4 of the
 * slots are live or marked, so every probe ends at an empty slot.
 */
#include "strmap.h"

#include <stdlib.h>

static char tomb;
#define TOMB ((void *)&tomb)

void strmap_init(struct strmap *m, uint64_t seed)
{
    m->slots = NULL;
    m->cap = m->used = m->dead = 0;
    m->seed = seed;
}

void strmap_free(struct strmap *m)
{
    free(m->slots);
    strmap_init(m, m->seed);
}

/*
 * FNV-1a from a seeded start, then murmur3's finalizer so that every byte
 * reaches the low bits that pick the slot. Not a MAC: the seed only keeps
 * outsiders from knowing which keys share a probe sequence, so a lookup's
 * timing tells them nothing about the keys held.
 */
static uint64_t hash_of(const struct strmap *m, const char *key)
{
    uint64_t h = 0xcbf29ce484222325u ^ m->seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3u;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return h;
}

static int rebuild(struct strmap *m, size_t cap)
{
    struct strmap_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        const struct strmap_slot *s = &m->slots[i];
        if (!s->val || s->val == TOMB)
            continue;
        size_t j = s->hash & (cap - 1);
        while (slots[j].val)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->dead = 0;
    return 0;
}

int strmap_reserve(struct strmap *m, size_t n)
{
    if (n > SIZE_MAX / 8 - m->used - m->dead)
        return -1;
    if ((m->used + m->dead + n) * 4 <= m->cap * 3)
        return 0;
    /* Rebuilt at most half full: the next rebuild is a quarter of the
     * table's size in adds and deletes away, so each costs O(1) amortized. */
    size_t cap = 16;
    while (cap < (m->used + n) * 2)
        cap *= 2;
    return rebuild(m, cap);
}

int strmap_add(struct strmap *m, const char *key, void *val)
{
    if (strmap_reserve(m, 1) < 0)
        return -1;
    uint64_t h = hash_of(m, key);
    size_t i = h & (m->cap - 1);
    while (m->slots[i].val && m->slots[i].val != TOMB)
        i = (i + 1) & (m->cap - 1);
    if (m->slots[i].val == TOMB)
        m->dead--;
    m->slots[i] = (struct strmap_slot){h, val};
    m->used++;
    return 0;
}

bool strmap_del(struct strmap *m, const char *key, const void *val)
{
    struct strmap_iter it;
    for (void *v = strmap_first(m, key, &it); v; v = strmap_next(m, &it)) {
        if (v != val)
            continue;
        size_t mask = m->cap - 1, i = (it.i - 1) & mask; /* the slot v came from */
        m->slots[i].val = TOMB;
        m->dead++;
        m->used--;
        /* Markers in front of an empty slot guard no probe: clear them. */
        while (m->slots[i].val == TOMB && !m->slots[(i + 1) & mask].val) {
            m->slots[i].val = NULL;
            m->dead--;
            i = (i - 1) & mask;
        }
        return true;
    }
    return false;
}

void *strmap_first(const struct strmap *m, const char *key, struct strmap_iter *it)
{
    it->left = m->cap;
    if (!m->cap)
        return NULL;
    it->hash = hash_of(m, key);
    it->i = it->hash & (m->cap - 1);
    return strmap_next(m, it);
}

void *strmap_next(const struct strmap *m, struct strmap_iter *it)
{
    while (it->left > 0) {
        const struct strmap_slot *s = &m->slots[it->i];
        if (!s->val)
            break;
        it->i = (it->i + 1) & (m->cap - 1);
        it->left--;
        if (s->val != TOMB && s->hash == it->hash)
            return s->val;
    }
    it->left = 0;
    return NULL;
}
