/*
 * cm_utf.c — UTF-8 <-> UTF-16 conversion for registry names and paths handed in by
 * the host (boot configuration, tools) in UTF-8.
 */
#include "cm_internal.h"

#include <stdlib.h>
#include <string.h>

int cm_utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
    if (!avail)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    int n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || (size_t)n > avail)
        return 0;
    uint32_t v = s[0] & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min_for_len[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (v < min_for_len[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;                          /* overlong, out of range or a surrogate */
    *cp = v;
    return n;
}

uint16_t *cm_utf8_to_utf16(const char *s, uint32_t *len)
{
    size_t n = strlen(s);
    uint16_t *out = malloc((n + 1) * sizeof(uint16_t));
    if (!out)
        return NULL;
    uint32_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = cm_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k) {
            free(out);
            return NULL;
        }
        i += (size_t)k;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out[o++] = (uint16_t)(0xD800 | (cp >> 10));
            out[o++] = (uint16_t)(0xDC00 | (cp & 0x3FF));
        } else {
            out[o++] = (uint16_t)cp;
        }
    }
    out[o] = 0;
    *len = o;
    return out;
}

char *cm_utf16_to_utf8(const uint16_t *s, uint32_t len)
{
    char *out = malloc((size_t)len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (uint32_t i = 0; i < len; i++) {
        uint32_t cp = s[i];
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < len && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
            i++;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cp < 0x800) {
            out[o++] = (char)(0xC0 | (cp >> 6));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xE0 | (cp >> 12));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (cp >> 18));
            out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    out[o] = 0;
    return out;
}
