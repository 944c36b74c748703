/*
 * ntbasetypes.h — the base types and macros both of nthost's header personalities
 * declare: the DDK's <ntdef.h> (drivers) and Win32's <windows.h> (programs) include
 * this one header, so each is written once. Each personality adds its own types.
 *
 * Sizes follow the LLP64 model NT uses: LONG/ULONG/DWORD are 32-bit on every platform
 * (hence int32_t, never `long`), pointers and *_PTR types are pointer-sized, WCHAR is
 * 16-bit UTF-16 (everything that includes this builds with -fshort-wchar, so that
 * L"..." literals are UTF-16 too).
 */
#ifndef NTHOST_NTBASETYPES_H
#define NTHOST_NTBASETYPES_H

#include <stdint.h>

typedef char CHAR, *PCHAR, *PSTR, *LPSTR;
typedef const char *PCSTR, *LPCSTR;
typedef unsigned char UCHAR, *PUCHAR, BYTE, *PBYTE, BOOLEAN;
typedef int16_t SHORT;
typedef uint16_t USHORT, *PUSHORT, WORD, *PWORD;
typedef int32_t LONG, *PLONG, INT, BOOL;
typedef uint32_t ULONG, *PULONG, UINT, DWORD, *PDWORD;
typedef int64_t LONGLONG, LONG64;
typedef uint64_t ULONGLONG, ULONG64, DWORD64;
typedef intptr_t LONG_PTR, INT_PTR;
typedef uintptr_t ULONG_PTR, *PULONG_PTR, UINT_PTR, SIZE_T, *PSIZE_T, DWORD_PTR;
/* WCHAR is wchar_t so that L"..." literals have the right type. */
typedef wchar_t WCHAR, *PWCHAR, *PWSTR, *LPWSTR;
typedef const wchar_t *PCWSTR, *LPCWSTR;
typedef void *PVOID, *HANDLE, **PHANDLE;

_Static_assert(sizeof(WCHAR) == 2, "WCHAR must be 16-bit: compile with -fshort-wchar");
_Static_assert(sizeof(ULONG) == 4 && sizeof(LONG) == 4, "ULONG/LONG are 32-bit on NT");
_Static_assert(sizeof(ULONG_PTR) == sizeof(void *), "ULONG_PTR is pointer-sized");

#define TRUE 1
#define FALSE 0

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

#define MAKELONG(a, b) ((LONG)(((USHORT)(a)) | ((ULONG)((USHORT)(b))) << 16))
#define LOWORD(l) ((USHORT)((ULONG_PTR)(l) & 0xffff))
#define HIWORD(l) ((USHORT)((ULONG_PTR)(l) >> 16))
#define LOBYTE(w) ((UCHAR)((ULONG_PTR)(w) & 0xff))
#define HIBYTE(w) ((UCHAR)((ULONG_PTR)(w) >> 8))

#endif /* NTHOST_NTBASETYPES_H */
