/*
 * rtl_string.c — counted strings: UNICODE_STRING / ANSI_STRING initialization, copy,
 * append, compare, case mapping, integer conversion, ANSI (code page 1252) <->
 * UTF-16 conversion, and time fields.
 *
 * Lengths are in bytes; buffers need not be NUL-terminated, but routines that copy
 * into a buffer add a NUL when there is room for one, as NT's do. Strings the
 * routines allocate come from paged pool charged to the calling driver and are freed
 * with RtlFreeUnicodeString / RtlFreeAnsiString.
 */
#include "ex_internal.h"
#include "ki.h"

#define RTLP_STRING_TAG 'grtS'

/* Code page 1252's 0x80..0x9F (the rest of 0x00..0xFF maps to U+0000..U+00FF);
 * 0 marks the five undefined positions. */
static const WCHAR RtlpCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static WCHAR RtlpAnsiToWide(UCHAR c)
{
    if (c >= 0x80 && c < 0xA0)
        return RtlpCp1252High[c - 0x80] ? RtlpCp1252High[c - 0x80] : (WCHAR)c;
    return (WCHAR)c;
}

static CHAR RtlpWideToAnsi(WCHAR w)
{
    if (w < 0x80 || (w >= 0xA0 && w <= 0xFF))
        return (CHAR)w;
    for (int i = 0; i < 32; i++)
        if (RtlpCp1252High[i] == w)
            return (CHAR)(0x80 + i);
    return '?';
}

static PVOID RtlpAllocate(SIZE_T Bytes, const void *Caller)
{
    return ExpAllocatePoolForImage(PagedPool, Bytes, RTLP_STRING_TAG, Caller);
}

static SIZE_T RtlpWcslen(PCWSTR s)
{
    SIZE_T n = 0;
    while (s[n])
        n++;
    return n;
}

VOID NTAPI RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    DestinationString->Buffer = (PWSTR)SourceString;
    if (SourceString == NULL) {
        DestinationString->Length = DestinationString->MaximumLength = 0;
        return;
    }
    SIZE_T bytes = RtlpWcslen(SourceString) * sizeof(WCHAR);
    if (bytes > UNICODE_STRING_MAX_BYTES - sizeof(WCHAR))
        bytes = UNICODE_STRING_MAX_BYTES - sizeof(WCHAR);
    DestinationString->Length = (USHORT)bytes;
    DestinationString->MaximumLength = (USHORT)(bytes + sizeof(WCHAR));
}

VOID NTAPI RtlInitAnsiString(PANSI_STRING DestinationString, PCSZ SourceString)
{
    RtlInitString(DestinationString, SourceString);
}

VOID NTAPI RtlInitString(PSTRING DestinationString, PCSZ SourceString)
{
    DestinationString->Buffer = (PCHAR)SourceString;
    if (SourceString == NULL) {
        DestinationString->Length = DestinationString->MaximumLength = 0;
        return;
    }
    SIZE_T n = strlen(SourceString);
    if (n > 0xFFFE)
        n = 0xFFFE;
    DestinationString->Length = (USHORT)n;
    DestinationString->MaximumLength = (USHORT)(n + 1);
}

/* RtlCopyUnicodeString: copies as much as fits (truncating), NUL-terminates if room. */
VOID NTAPI RtlCopyUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    if (SourceString == NULL) {
        DestinationString->Length = 0;
        return;
    }
    USHORT n = SourceString->Length < DestinationString->MaximumLength ? SourceString->Length
                                                                        : DestinationString->MaximumLength;
    n &= ~1;
    memmove(DestinationString->Buffer, SourceString->Buffer, n);
    DestinationString->Length = n;
    if (n + sizeof(WCHAR) <= DestinationString->MaximumLength)
        DestinationString->Buffer[n / sizeof(WCHAR)] = UNICODE_NULL;
}

static NTSTATUS RtlpAppend(PUNICODE_STRING Destination, const WCHAR *Source, SIZE_T Bytes)
{
    if (Bytes == 0)
        return STATUS_SUCCESS;
    if (Destination->Length + Bytes > Destination->MaximumLength)
        return STATUS_BUFFER_TOO_SMALL;
    memmove((PUCHAR)Destination->Buffer + Destination->Length, Source, Bytes);
    Destination->Length = (USHORT)(Destination->Length + Bytes);
    if (Destination->Length + sizeof(WCHAR) <= Destination->MaximumLength)
        Destination->Buffer[Destination->Length / sizeof(WCHAR)] = UNICODE_NULL;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlAppendUnicodeToString(PUNICODE_STRING Destination, PCWSTR Source)
{
    if (Source == NULL)
        return STATUS_SUCCESS;
    return RtlpAppend(Destination, Source, RtlpWcslen(Source) * sizeof(WCHAR));
}

NTSTATUS NTAPI RtlAppendUnicodeStringToString(PUNICODE_STRING Destination, PCUNICODE_STRING Source)
{
    return RtlpAppend(Destination, Source->Buffer, Source->Length);
}

/* ---- Case mapping (Latin-1, Latin Extended-A pairs, Greek and Cyrillic basics) ---- */

WCHAR NTAPI RtlUpcaseUnicodeChar(WCHAR c)
{
    if (c >= L'a' && c <= L'z')
        return (WCHAR)(c - 0x20);
    if (c < 0x80)
        return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7))
        return (WCHAR)(c - 0x20);
    if (c == 0xFF)
        return 0x178;
    if (c >= 0x100 && c <= 0x17F && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x178 && c != 0x17F) {
        BOOLEAN odd_is_lower = (c < 0x138) || (c >= 0x14A && c < 0x178);
        if (odd_is_lower ? (c & 1) : !(c & 1))
            return (WCHAR)(c - 1);
        return c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2)
        return (WCHAR)(c - 0x20);
    if (c >= 0x430 && c <= 0x44F)
        return (WCHAR)(c - 0x20);
    if (c >= 0x450 && c <= 0x45F)
        return (WCHAR)(c - 0x50);
    return c;
}

WCHAR NTAPI RtlDowncaseUnicodeChar(WCHAR c)
{
    if (c >= L'A' && c <= L'Z')
        return (WCHAR)(c + 0x20);
    if (c < 0x80)
        return c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return (WCHAR)(c + 0x20);
    if (c == 0x178)
        return 0xFF;
    if (c >= 0x100 && c <= 0x17F && RtlUpcaseUnicodeChar((WCHAR)(c + 1)) == c && c + 1 != c)
        return (WCHAR)(c + 1);
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return (WCHAR)(c + 0x20);
    if (c >= 0x410 && c <= 0x42F)
        return (WCHAR)(c + 0x20);
    if (c >= 0x400 && c <= 0x40F)
        return (WCHAR)(c + 0x50);
    return c;
}

LONG NTAPI RtlCompareUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    USHORT n1 = String1->Length / sizeof(WCHAR), n2 = String2->Length / sizeof(WCHAR);
    USHORT n = n1 < n2 ? n1 : n2;
    for (USHORT i = 0; i < n; i++) {
        WCHAR a = String1->Buffer[i], b = String2->Buffer[i];
        if (CaseInSensitive) {
            a = RtlUpcaseUnicodeChar(a);
            b = RtlUpcaseUnicodeChar(b);
        }
        if (a != b)
            return (LONG)a - (LONG)b;
    }
    return (LONG)n1 - (LONG)n2;
}

BOOLEAN NTAPI RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    return String1->Length == String2->Length && RtlCompareUnicodeString(String1, String2, CaseInSensitive) == 0;
}

/* RtlPrefixUnicodeString: is String1 a prefix of String2? */
BOOLEAN NTAPI RtlPrefixUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    if (String1->Length > String2->Length)
        return FALSE;
    UNICODE_STRING head = { String1->Length, String1->Length, String2->Buffer };
    return RtlCompareUnicodeString(String1, &head, CaseInSensitive) == 0;
}

static NTSTATUS RtlpMapCase(PUNICODE_STRING Destination, PCUNICODE_STRING Source, BOOLEAN Allocate, BOOLEAN Upper,
                            const void *Caller)
{
    if (Allocate) {
        Destination->Buffer = RtlpAllocate(Source->Length ? Source->Length : sizeof(WCHAR), Caller);
        if (Destination->Buffer == NULL)
            return STATUS_NO_MEMORY;
        Destination->MaximumLength = Source->Length;
    } else if (Destination->MaximumLength < Source->Length) {
        return STATUS_BUFFER_OVERFLOW;
    }
    for (USHORT i = 0; i < Source->Length / sizeof(WCHAR); i++)
        Destination->Buffer[i] =
            Upper ? RtlUpcaseUnicodeChar(Source->Buffer[i]) : RtlDowncaseUnicodeChar(Source->Buffer[i]);
    Destination->Length = Source->Length;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlUpcaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                      BOOLEAN AllocateDestinationString)
{
    return RtlpMapCase(DestinationString, SourceString, AllocateDestinationString, TRUE, __builtin_return_address(0));
}

NTSTATUS NTAPI RtlDowncaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                        BOOLEAN AllocateDestinationString)
{
    return RtlpMapCase(DestinationString, SourceString, AllocateDestinationString, FALSE,
                       __builtin_return_address(0));
}

NTSTATUS NTAPI RtlDuplicateUnicodeString(ULONG Flags, PCUNICODE_STRING StringIn, PUNICODE_STRING StringOut)
{
    if (StringIn == NULL || StringOut == NULL || (Flags & ~3u) != 0)
        return STATUS_INVALID_PARAMETER;
    BOOLEAN nul = (Flags & RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE) != 0;
    if (StringIn->Length == 0 && !(Flags & RTL_DUPLICATE_UNICODE_STRING_ALLOCATE_NULL_STRING)) {
        StringOut->Length = StringOut->MaximumLength = 0;
        StringOut->Buffer = NULL;
        return STATUS_SUCCESS;
    }
    SIZE_T max = StringIn->Length + (nul ? sizeof(WCHAR) : 0);
    if (max > UNICODE_STRING_MAX_BYTES)
        return STATUS_NAME_TOO_LONG;
    StringOut->Buffer = RtlpAllocate(max ? max : sizeof(WCHAR), __builtin_return_address(0));
    if (StringOut->Buffer == NULL)
        return STATUS_NO_MEMORY;
    memcpy(StringOut->Buffer, StringIn->Buffer, StringIn->Length);
    if (nul)
        StringOut->Buffer[StringIn->Length / sizeof(WCHAR)] = UNICODE_NULL;
    StringOut->Length = StringIn->Length;
    StringOut->MaximumLength = (USHORT)max;
    return STATUS_SUCCESS;
}

/* The buffers these free come from many allocators (the Rtl string routines,
 * RtlQueryRegistryValues, drivers' own pool), so they free as ExFreePool does: no tag
 * check, as NT's. */
VOID NTAPI RtlFreeUnicodeString(PUNICODE_STRING UnicodeString)
{
    if (UnicodeString->Buffer)
        ExFreePool(UnicodeString->Buffer);
    UnicodeString->Buffer = NULL;
    UnicodeString->Length = UnicodeString->MaximumLength = 0;
}

VOID NTAPI RtlFreeAnsiString(PANSI_STRING AnsiString)
{
    if (AnsiString->Buffer)
        ExFreePool(AnsiString->Buffer);
    AnsiString->Buffer = NULL;
    AnsiString->Length = AnsiString->MaximumLength = 0;
}

/* ---- ANSI <-> Unicode ------------------------------------------------------------------ */

ULONG NTAPI RtlxAnsiStringToUnicodeSize(PCANSI_STRING AnsiString)
{
    return (AnsiString->Length + 1u) * sizeof(WCHAR);
}

ULONG NTAPI RtlxUnicodeStringToAnsiSize(PCUNICODE_STRING UnicodeString)
{
    return UnicodeString->Length / sizeof(WCHAR) + 1u;
}

NTSTATUS NTAPI RtlAnsiStringToUnicodeString(PUNICODE_STRING DestinationString, PCANSI_STRING SourceString,
                                            BOOLEAN AllocateDestinationString)
{
    ULONG need = RtlxAnsiStringToUnicodeSize(SourceString);
    if (need > UNICODE_STRING_MAX_BYTES)
        return STATUS_INVALID_PARAMETER_2;
    if (AllocateDestinationString) {
        DestinationString->Buffer = RtlpAllocate(need, __builtin_return_address(0));
        if (DestinationString->Buffer == NULL)
            return STATUS_NO_MEMORY;
        DestinationString->MaximumLength = (USHORT)need;
    } else if (DestinationString->MaximumLength <= need - sizeof(WCHAR)) {
        return STATUS_BUFFER_OVERFLOW; /* NT wants room past the text, for the terminator */
    }
    for (USHORT i = 0; i < SourceString->Length; i++)
        DestinationString->Buffer[i] = RtlpAnsiToWide((UCHAR)SourceString->Buffer[i]);
    DestinationString->Length = (USHORT)(SourceString->Length * sizeof(WCHAR));
    if (DestinationString->Length + sizeof(WCHAR) <= DestinationString->MaximumLength)
        DestinationString->Buffer[SourceString->Length] = UNICODE_NULL;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlUnicodeStringToAnsiString(PANSI_STRING DestinationString, PCUNICODE_STRING SourceString,
                                            BOOLEAN AllocateDestinationString)
{
    ULONG need = RtlxUnicodeStringToAnsiSize(SourceString);
    ULONG chars = SourceString->Length / sizeof(WCHAR);
    NTSTATUS status = STATUS_SUCCESS;
    if (AllocateDestinationString) {
        DestinationString->Buffer = RtlpAllocate(need, __builtin_return_address(0));
        if (DestinationString->Buffer == NULL)
            return STATUS_NO_MEMORY;
        DestinationString->MaximumLength = (USHORT)need;
    } else if (DestinationString->MaximumLength < need) {
        /* Converts what fits and says so, as NT does. */
        if (DestinationString->MaximumLength == 0)
            return STATUS_BUFFER_OVERFLOW;
        chars = DestinationString->MaximumLength - 1u;
        status = STATUS_BUFFER_OVERFLOW;
    }
    for (ULONG i = 0; i < chars; i++)
        DestinationString->Buffer[i] = RtlpWideToAnsi(SourceString->Buffer[i]);
    DestinationString->Buffer[chars] = ANSI_NULL;
    DestinationString->Length = (USHORT)chars;
    return status;
}

/* ---- Integers ---------------------------------------------------------------------------- */

static NTSTATUS RtlpUlonglongToString(ULONGLONG Value, ULONG Base, PUNICODE_STRING String)
{
    if (Base == 0)
        Base = 10;
    if (Base != 2 && Base != 8 && Base != 10 && Base != 16)
        return STATUS_INVALID_PARAMETER;
    WCHAR digits[65];
    int n = 0;
    do {
        ULONG d = (ULONG)(Value % Base);
        digits[n++] = (WCHAR)(d < 10 ? L'0' + d : L'A' + d - 10);
        Value /= Base;
    } while (Value);
    USHORT bytes = (USHORT)(n * sizeof(WCHAR));
    /* The result is documented NUL-terminated: NT wants room for the terminator. */
    if (bytes + sizeof(WCHAR) > String->MaximumLength)
        return STATUS_BUFFER_OVERFLOW;
    for (int i = 0; i < n; i++)
        String->Buffer[i] = digits[n - 1 - i];
    String->Length = bytes;
    String->Buffer[n] = UNICODE_NULL;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlIntegerToUnicodeString(ULONG Value, ULONG Base, PUNICODE_STRING String)
{
    return RtlpUlonglongToString(Value, Base, String);
}

NTSTATUS NTAPI RtlInt64ToUnicodeString(ULONGLONG Value, ULONG Base, PUNICODE_STRING String)
{
    return RtlpUlonglongToString(Value, Base, String);
}

/* RtlpParseInteger: NT's rules — leading blanks, an optional sign, with Base 0 a
 * 0x/0o/0b prefix (else decimal); digits until the first character that is not one.
 * The value wraps modulo 2^32 and a '-' negates it. */
static NTSTATUS RtlpParseInteger(ULONG (*Get)(const void *, ULONG), const void *Src, ULONG Len, ULONG Base,
                                 PULONG Value)
{
    ULONG i = 0;
    while (i < Len && Get(Src, i) <= ' ' && Get(Src, i) != 0)
        i++;
    BOOLEAN negative = FALSE;
    if (i < Len && (Get(Src, i) == '-' || Get(Src, i) == '+')) {
        negative = Get(Src, i) == '-';
        i++;
    }
    if (Base == 0) {
        Base = 10;
        if (i + 1 < Len && Get(Src, i) == '0') {
            ULONG p = Get(Src, i + 1);
            if (p == 'x' || p == 'X')
                Base = 16;
            else if (p == 'o' || p == 'O')
                Base = 8;
            else if (p == 'b' || p == 'B')
                Base = 2;
            if (Base != 10)
                i += 2;
        }
    } else if (Base != 2 && Base != 8 && Base != 10 && Base != 16) {
        return STATUS_INVALID_PARAMETER;
    }
    ULONG v = 0;
    for (; i < Len; i++) {
        ULONG c = Get(Src, i), d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            break;
        if (d >= Base)
            break;
        v = v * Base + d;
    }
    *Value = negative ? (ULONG)(0u - v) : v;
    return STATUS_SUCCESS;
}

static ULONG RtlpGetWide(const void *Src, ULONG i) { return ((const WCHAR *)Src)[i]; }
static ULONG RtlpGetChar(const void *Src, ULONG i) { return ((const UCHAR *)Src)[i]; }

NTSTATUS NTAPI RtlUnicodeStringToInteger(PCUNICODE_STRING String, ULONG Base, PULONG Value)
{
    return RtlpParseInteger(RtlpGetWide, String->Buffer, String->Length / sizeof(WCHAR), Base, Value);
}

NTSTATUS NTAPI RtlCharToInteger(PCSZ String, ULONG Base, PULONG Value)
{
    return RtlpParseInteger(RtlpGetChar, String, (ULONG)strlen(String), Base, Value);
}

/* ---- Time fields (proleptic Gregorian, from 1601-01-01) ------------------------------------ */

static BOOLEAN RtlpLeap(LONG y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static const SHORT RtlpMonthDays[2][12] = { { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 },
                                            { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 } };

VOID NTAPI RtlTimeToTimeFields(PLARGE_INTEGER Time, PTIME_FIELDS TimeFields)
{
    LONGLONG t = Time->QuadPart;
    LONGLONG ms_total = t / 10000;
    LONGLONG days = ms_total / 86400000LL;
    LONGLONG ms = ms_total % 86400000LL;
    TimeFields->Milliseconds = (SHORT)(ms % 1000);
    TimeFields->Second = (SHORT)((ms / 1000) % 60);
    TimeFields->Minute = (SHORT)((ms / 60000) % 60);
    TimeFields->Hour = (SHORT)(ms / 3600000);
    TimeFields->Weekday = (SHORT)((days + 1) % 7); /* 1601-01-01 was a Monday */
    LONG year = 1601;
    for (;;) {
        LONG len = RtlpLeap(year) ? 366 : 365;
        if (days < len)
            break;
        days -= len;
        year++;
    }
    SHORT month = 0;
    while (days >= RtlpMonthDays[RtlpLeap(year)][month])
        days -= RtlpMonthDays[RtlpLeap(year)][month++];
    TimeFields->Year = (SHORT)year;
    TimeFields->Month = (SHORT)(month + 1);
    TimeFields->Day = (SHORT)(days + 1);
}

BOOLEAN NTAPI RtlTimeFieldsToTime(PTIME_FIELDS TimeFields, PLARGE_INTEGER Time)
{
    TIME_FIELDS *f = TimeFields;
    if (f->Year < 1601 || f->Month < 1 || f->Month > 12 || f->Day < 1 ||
        f->Day > RtlpMonthDays[RtlpLeap(f->Year)][f->Month - 1] || f->Hour < 0 || f->Hour > 23 || f->Minute < 0 ||
        f->Minute > 59 || f->Second < 0 || f->Second > 59 || f->Milliseconds < 0 || f->Milliseconds > 999)
        return FALSE;
    LONGLONG days = 0;
    for (LONG y = 1601; y < f->Year; y++)
        days += RtlpLeap(y) ? 366 : 365;
    for (int m = 0; m < f->Month - 1; m++)
        days += RtlpMonthDays[RtlpLeap(f->Year)][m];
    days += f->Day - 1;
    LONGLONG ms = ((days * 24 + f->Hour) * 60 + f->Minute) * 60000LL + f->Second * 1000LL + f->Milliseconds;
    Time->QuadPart = ms * 10000;
    return TRUE;
}
