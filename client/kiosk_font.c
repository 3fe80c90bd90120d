/*
 * kiosk_font.c: the block font lwk-kiosk uses for numbers and titles that
 * must be readable from across the room. Each glyph is 5 pixel rows high
 * and 1 to 5 pixels wide; it is drawn at one of three sizes (kiosk.h).
 *
 * The glyph table is data a test also reads (tests/integration/test_kiosk.py
 * renders expected big digits from it): keep one glyph per line, in the form
 * {'c', {"row", "row", "row", "row", "row"}}.
 */
#include "kiosk.h"

#include <string.h>

struct glyph {
    char c;
    const char *rows[FONT_ROWS];
};

static const struct glyph glyphs[] = {
    {' ', {"...", "...", "...", "...", "..."}},
    {'0', {"####", "#..#", "#..#", "#..#", "####"}},
    {'1', {".#.", "##.", ".#.", ".#.", "###"}},
    {'2', {"####", "...#", "####", "#...", "####"}},
    {'3', {"####", "...#", ".###", "...#", "####"}},
    {'4', {"#..#", "#..#", "####", "...#", "...#"}},
    {'5', {"####", "#...", "####", "...#", "####"}},
    {'6', {"####", "#...", "####", "#..#", "####"}},
    {'7', {"####", "...#", "..#.", ".#..", ".#.."}},
    {'8', {"####", "#..#", "####", "#..#", "####"}},
    {'9', {"####", "#..#", "####", "...#", "####"}},
    {'.', {".", ".", ".", ".", "#"}},
    {',', {"..", "..", "..", ".#", "#."}},
    {':', {".", "#", ".", "#", "."}},
    {'-', {"...", "...", "###", "...", "..."}},
    {'+', {"...", ".#.", "###", ".#.", "..."}},
    {'/', {"..#", "..#", ".#.", "#..", "#.."}},
    {'\'', {"#", "#", ".", ".", "."}},
    {'!', {"#", "#", "#", ".", "#"}},
    {'?', {"###", "..#", ".##", "...", ".#."}},
    {'(', {".#", "#.", "#.", "#.", ".#"}},
    {')', {"#.", ".#", ".#", ".#", "#."}},
    {'%', {"#..#", "..#.", ".#..", "#..#", "...."}},
    {'A', {".##.", "#..#", "####", "#..#", "#..#"}},
    {'B', {"###.", "#..#", "###.", "#..#", "###."}},
    {'C', {".###", "#...", "#...", "#...", ".###"}},
    {'D', {"###.", "#..#", "#..#", "#..#", "###."}},
    {'E', {"####", "#...", "###.", "#...", "####"}},
    {'F', {"####", "#...", "###.", "#...", "#..."}},
    {'G', {".###", "#...", "#.##", "#..#", ".###"}},
    {'H', {"#..#", "#..#", "####", "#..#", "#..#"}},
    {'I', {"###", ".#.", ".#.", ".#.", "###"}},
    {'J', {"..##", "...#", "...#", "#..#", ".##."}},
    {'K', {"#..#", "#.#.", "##..", "#.#.", "#..#"}},
    {'L', {"#...", "#...", "#...", "#...", "####"}},
    {'M', {"#...#", "##.##", "#.#.#", "#...#", "#...#"}},
    {'N', {"#...#", "##..#", "#.#.#", "#..##", "#...#"}},
    {'O', {".##.", "#..#", "#..#", "#..#", ".##."}},
    {'P', {"###.", "#..#", "###.", "#...", "#..."}},
    {'Q', {".##.", "#..#", "#..#", "#.#.", ".#.#"}},
    {'R', {"###.", "#..#", "###.", "#.#.", "#..#"}},
    {'S', {".###", "#...", ".##.", "...#", "###."}},
    {'T', {"#####", "..#..", "..#..", "..#..", "..#.."}},
    {'U', {"#..#", "#..#", "#..#", "#..#", ".##."}},
    {'V', {"#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'W', {"#...#", "#...#", "#.#.#", "##.##", "#...#"}},
    {'X', {"#...#", ".#.#.", "..#..", ".#.#.", "#...#"}},
    {'Y', {"#...#", ".#.#.", "..#..", "..#..", "..#.."}},
    {'Z', {"####", "...#", "..#.", ".#..", "####"}},
};

#define N_GLYPHS (sizeof(glyphs) / sizeof(glyphs[0]))

/* Decodes one UTF-8 character; returns its length, or 0 at the end / on bad input. */
static int utf8_next(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (!u[0])
        return 0;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    int n = (u[0] & 0xe0) == 0xc0 ? 2 : (u[0] & 0xf0) == 0xe0 ? 3 : (u[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (!n)
        return 0;
    uint32_t c = u[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (u[i] & 0x3f);
    }
    *cp = c;
    return n;
}

/* Latin-1 letters U+00C0..U+00FF without their accents ('\0': none). */
static const char latin1_base[] = "AAAAAAACEEEEIIII"
                                  "DNOOOOO\0OUUUUY\0S"
                                  "AAAAAAACEEEEIIII"
                                  "DNOOOOO\0OUUUUY\0Y";

static const struct glyph *glyph_for(uint32_t cp)
{
    if (cp >= 'a' && cp <= 'z')
        cp -= 'a' - 'A';
    else if (cp >= 0xc0 && cp <= 0xff)
        cp = (unsigned char)latin1_base[cp - 0xc0];
    else if (cp == 0x2019 || cp == 0x2018) /* typographic apostrophes */
        cp = '\'';
    else if (cp == 0x2013 || cp == 0x2014) /* dashes */
        cp = '-';
    if (cp == 0 || cp > 0x7f)
        return NULL;
    for (size_t i = 0; i < N_GLYPHS; i++)
        if ((uint32_t)(unsigned char)glyphs[i].c == cp)
            return &glyphs[i];
    return NULL;
}

int font_height(enum font_size size)
{
    switch (size) {
    case FONT_HALF:
        return (FONT_ROWS + 1) / 2;
    case FONT_FULL:
        return FONT_ROWS;
    default:
        return FONT_ROWS * 2;
    }
}

static int col_scale(enum font_size size)
{
    return size == FONT_HALF ? 1 : size == FONT_FULL ? 2 : 4;
}

/* Width in pixels, or -1. */
static int pixel_width(const char *s)
{
    int w = 0, n = 0;
    uint32_t cp;
    int len;
    while ((len = utf8_next(s, &cp)) > 0) {
        const struct glyph *g = glyph_for(cp);
        if (!g)
            return -1;
        w += (int)strlen(g->rows[0]) + (n++ ? 1 : 0);
        s += len;
    }
    return *s ? -1 : w;
}

int font_width(const char *utf8, enum font_size size)
{
    int w = pixel_width(utf8);
    return w < 0 ? -1 : w * col_scale(size);
}

bool font_can_render(const char *utf8)
{
    return pixel_width(utf8) >= 0;
}

int font_fit(const char *utf8, int width, int height, enum font_size largest)
{
    for (int s = (int)largest; s >= 0; s--) {
        int w = font_width(utf8, (enum font_size)s);
        if (w >= 0 && w <= width && font_height((enum font_size)s) <= height)
            return s;
    }
    return -1;
}

static bool pixel(const struct glyph *g, int row, int col)
{
    return row < FONT_ROWS && g->rows[row][col] == '#';
}

/* Appends s to row (at *len, capacity cap); false when it does not fit. */
static bool put(char *row, size_t *len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > cap)
        return false;
    memcpy(row + *len, s, n + 1);
    *len += n;
    return true;
}

int font_render(const char *utf8, enum font_size size, bool ascii, char **rows, size_t row_cap)
{
    int width = font_width(utf8, size);
    if (width < 0)
        return -1;
    int h = font_height(size), cs = col_scale(size);
    const char *full = ascii ? "#" : "\u2588", *top = ascii ? "\"" : "\u2580",
               *bottom = ascii ? "_" : "\u2584";
    for (int r = 0; r < h; r++) {
        size_t len = 0;
        rows[r][0] = '\0';
        const char *s = utf8;
        uint32_t cp;
        int n, i = 0;
        while ((n = utf8_next(s, &cp)) > 0) {
            const struct glyph *g = glyph_for(cp);
            int gw = (int)strlen(g->rows[0]);
            for (int x = i++ ? -1 : 0; x < gw; x++) { /* -1: the gap before a glyph */
                const char *cell;
                if (x < 0) {
                    cell = " ";
                } else if (size == FONT_HALF) {
                    bool t = pixel(g, 2 * r, x), b = pixel(g, 2 * r + 1, x);
                    cell = t && b ? full : t ? top : b ? bottom : " ";
                } else {
                    cell = pixel(g, size == FONT_FULL ? r : r / 2, x) ? full : " ";
                }
                for (int k = 0; k < cs; k++)
                    if (!put(rows[r], &len, row_cap, cell))
                        return -1;
            }
            s += n;
        }
    }
    return width;
}
