/*
 * rtl_memory.c — the Rtl memory routines that are real functions (the copy/fill ones
 * are the C library's, as on NT) and the Rtl random number generator.
 */
#include "ki.h"

SIZE_T NTAPI RtlCompareMemory(const VOID *Source1, const VOID *Source2, SIZE_T Length)
{
    const UCHAR *a = Source1, *b = Source2;
    SIZE_T i = 0;
    while (i < Length && a[i] == b[i])
        i++;
    return i;
}

/* Number of leading bytes of Source that match the repeated ULONG Pattern. */
SIZE_T NTAPI RtlCompareMemoryUlong(PVOID Source, SIZE_T Length, ULONG Pattern)
{
    const ULONG *p = Source;
    SIZE_T i = 0;
    while (i + sizeof(ULONG) <= Length && p[i / sizeof(ULONG)] == Pattern)
        i += sizeof(ULONG);
    return i;
}

/* RtlRandomEx: a Park-Miller minimal standard generator; returns a value in
 * [0, MAXLONG - 1] and advances *Seed, so a driver can reproduce a sequence. */
ULONG NTAPI RtlRandomEx(PULONG Seed)
{
    ULONGLONG next = ((ULONGLONG)(*Seed % 0x7FFFFFFFu) * 48271u) % 0x7FFFFFFFu;
    if (next == 0)
        next = 1;
    *Seed = (ULONG)next;
    return (ULONG)(next - 1);
}

ULONG NTAPI RtlRandom(PULONG Seed)
{
    return RtlRandomEx(Seed);
}
