/*
 * rtl_debug.c — DbgPrint / DbgPrintEx / vDbgPrintEx: the kernel debugger's output,
 * written to stderr. Besides the C conversions they understand NT's string forms:
 * %wZ (PUNICODE_STRING), %Z (PANSI_STRING), %ws / %ls / %S (UTF-16 string) and
 * %wc / %C (UTF-16 character), printed as UTF-8. (The C library cannot print these:
 * under -fshort-wchar its wide conversions would read 32-bit characters.)
 *
 * $NTHOST_DBGPRINT=0 silences the output; $NTHOST_DBGPRINT_LEVEL=n drops DbgPrintEx
 * messages above level n (default: all are printed).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ki.h"

typedef struct {
    char *Buf;
    size_t Len, Cap;
} RTLP_OUT;

static void RtlpPut(RTLP_OUT *o, const char *s, size_t n)
{
    while (n && o->Len + 1 < o->Cap) {
        o->Buf[o->Len++] = *s++;
        n--;
    }
    o->Buf[o->Len] = 0;
}

/* RtlpPutUtf16: Count UTF-16 units (or up to a NUL when Count is -1) as UTF-8. */
static void RtlpPutUtf16(RTLP_OUT *o, const WCHAR *s, long Count)
{
    if (s == NULL) {
        RtlpPut(o, "(null)", 6);
        return;
    }
    for (long i = 0; Count < 0 ? s[i] != 0 : i < Count; i++) {
        ULONG cp = s[i];
        if (cp >= 0xD800 && cp < 0xDC00 && (Count < 0 || i + 1 < Count) && s[i + 1] >= 0xDC00 && s[i + 1] < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
            i++;
        } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;
        }
        char u[4];
        size_t n;
        if (cp < 0x80) {
            u[0] = (char)cp;
            n = 1;
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | (cp >> 6));
            u[1] = (char)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            u[0] = (char)(0xE0 | (cp >> 12));
            u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            u[0] = (char)(0xF0 | (cp >> 18));
            u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[3] = (char)(0x80 | (cp & 0x3F));
            n = 4;
        }
        RtlpPut(o, u, n);
    }
}

/* RtlpFormat: NT-flavoured vsnprintf (see the file comment). Each C conversion is
 * handed to snprintf on its own with the argument fetched by its real type. */
static void RtlpFormat(RTLP_OUT *o, const char *f, va_list ap)
{
    while (*f) {
        if (*f != '%') {
            const char *start = f;
            while (*f && *f != '%')
                f++;
            RtlpPut(o, start, (size_t)(f - start));
            continue;
        }
        const char *spec = f++;
        if (*f == '%') {
            RtlpPut(o, "%", 1);
            f++;
            continue;
        }
        char piece[64];
        size_t pn = 0;
        piece[pn++] = '%';
        while (*f && strchr("-+ #0", *f) && pn < 20)
            piece[pn++] = *f++;
        int star_width = 0, star_prec = 0, width = 0, prec = -1;
        if (*f == '*') {
            star_width = 1;
            width = va_arg(ap, int);
            piece[pn++] = *f++;
        } else {
            while (*f >= '0' && *f <= '9' && pn < 40)
                piece[pn++] = *f++;
        }
        if (*f == '.') {
            piece[pn++] = *f++;
            if (*f == '*') {
                star_prec = 1;
                prec = va_arg(ap, int);
                piece[pn++] = *f++;
            } else {
                prec = 0;
                while (*f >= '0' && *f <= '9' && pn < 50) {
                    prec = prec * 10 + (*f - '0');
                    piece[pn++] = *f++;
                }
            }
        }
        /* Length modifiers, NT's (w, I64, I32, I) and C's. */
        int len = 0; /* 0 int, 1 long, 2 long long, 3 size_t, 4 wide, 5 short, 6 char, 7 long double */
        if (*f == 'w') {
            len = 4;
            f++;
        } else if (f[0] == 'I' && f[1] == '6' && f[2] == '4') {
            len = 2;
            f += 3;
        } else if (f[0] == 'I' && f[1] == '3' && f[2] == '2') {
            f += 3;
        } else if (*f == 'I') {
            len = 3;
            f++;
        } else if (f[0] == 'l' && f[1] == 'l') {
            len = 2;
            f += 2;
        } else if (*f == 'l') {
            len = 1;
            f++;
        } else if (*f == 'z' || *f == 'j' || *f == 't') {
            len = *f == 'j' ? 2 : 3;
            f++;
        } else if (f[0] == 'h' && f[1] == 'h') {
            len = 6;
            f += 2;
        } else if (*f == 'h') {
            len = 5;
            f++;
        } else if (*f == 'L') {
            len = 7;
            f++;
        }
        char conv = *f ? *f++ : 0;
        char out[512];
        switch (conv) {
        case 'Z': {
            if (len == 4) {
                PCUNICODE_STRING u = va_arg(ap, PCUNICODE_STRING);
                if (u == NULL || u->Buffer == NULL)
                    RtlpPut(o, "(null)", 6);
                else
                    RtlpPutUtf16(o, u->Buffer, u->Length / sizeof(WCHAR));
            } else {
                PCANSI_STRING a = va_arg(ap, PCANSI_STRING);
                if (a == NULL || a->Buffer == NULL)
                    RtlpPut(o, "(null)", 6);
                else
                    RtlpPut(o, a->Buffer, a->Length);
            }
            continue;
        }
        case 'S':
            RtlpPutUtf16(o, va_arg(ap, const WCHAR *), prec >= 0 ? prec : -1);
            continue;
        case 'C': {
            WCHAR c = (WCHAR)va_arg(ap, int);
            RtlpPutUtf16(o, &c, 1);
            continue;
        }
        case 's':
            if (len == 4 || len == 1) {
                RtlpPutUtf16(o, va_arg(ap, const WCHAR *), prec >= 0 ? prec : -1);
                continue;
            }
            break;
        case 'c':
            if (len == 4 || len == 1) {
                WCHAR c = (WCHAR)va_arg(ap, int);
                RtlpPutUtf16(o, &c, 1);
                continue;
            }
            break;
        default:
            break;
        }
        static const char *const mods[] = { "", "l", "ll", "z", "", "h", "hh", "L" };
        pn += (size_t)snprintf(piece + pn, sizeof piece - pn, "%s%c", mods[len], conv);
        int n = 0;
#define RTLP_EMIT(value)                                                             \
    do {                                                                             \
        if (star_width && star_prec)                                                 \
            n = snprintf(out, sizeof out, piece, width, prec, value);                \
        else if (star_width)                                                         \
            n = snprintf(out, sizeof out, piece, width, value);                      \
        else if (star_prec)                                                          \
            n = snprintf(out, sizeof out, piece, prec, value);                       \
        else                                                                         \
            n = snprintf(out, sizeof out, piece, value);                             \
    } while (0)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        switch (conv) {
        case 'd': case 'i':
            if (len == 2) RTLP_EMIT(va_arg(ap, long long));
            else if (len == 1) RTLP_EMIT(va_arg(ap, long));
            else if (len == 3) RTLP_EMIT(va_arg(ap, ssize_t));
            else RTLP_EMIT(va_arg(ap, int));
            break;
        case 'u': case 'x': case 'X': case 'o':
            if (len == 2) RTLP_EMIT(va_arg(ap, unsigned long long));
            else if (len == 1) RTLP_EMIT(va_arg(ap, unsigned long));
            else if (len == 3) RTLP_EMIT(va_arg(ap, size_t));
            else RTLP_EMIT(va_arg(ap, unsigned int));
            break;
        case 'c':
            RTLP_EMIT(va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            RTLP_EMIT(s ? s : "(null)");
            break;
        }
        case 'p':
            RTLP_EMIT(va_arg(ap, void *));
            break;
        case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A':
            if (len == 7) RTLP_EMIT(va_arg(ap, long double));
            else RTLP_EMIT(va_arg(ap, double));
            break;
        default:
            /* Unknown conversion: print it as written. */
            RtlpPut(o, spec, (size_t)(f - spec));
            continue;
        }
#pragma GCC diagnostic pop
#undef RTLP_EMIT
        if (n > 0)
            RtlpPut(o, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
    }
}

static BOOLEAN RtlpDbgPrintEnabled(ULONG Level)
{
    const char *on = getenv("NTHOST_DBGPRINT");
    if (on && strcmp(on, "0") == 0)
        return FALSE;
    const char *lvl = getenv("NTHOST_DBGPRINT_LEVEL");
    return lvl == NULL || Level <= (ULONG)atoi(lvl);
}

ULONG NTAPI vDbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, va_list arglist)
{
    UNREFERENCED_PARAMETER(ComponentId);
    if (!RtlpDbgPrintEnabled(Level))
        return STATUS_SUCCESS;
    char buf[1024];
    RTLP_OUT o = { buf, 0, sizeof buf };
    buf[0] = 0;
    va_list ap;
    va_copy(ap, arglist);
    RtlpFormat(&o, Format, ap);
    va_end(ap);
    fputs(buf, stderr);
    return STATUS_SUCCESS;
}

ULONG __cdecl DbgPrint(PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    ULONG r = vDbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_ERROR_LEVEL, Format, ap);
    va_end(ap);
    return r;
}

ULONG __cdecl DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    ULONG r = vDbgPrintEx(ComponentId, Level, Format, ap);
    va_end(ap);
    return r;
}
