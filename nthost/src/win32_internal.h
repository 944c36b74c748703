/*
 * win32_internal.h — helpers shared by the Win32 personality's files (win32_*.c).
 * Included after <windows.h> (nthost's own), so the Win32 types are in scope.
 */
#ifndef NTHOST_WIN32_INTERNAL_H
#define NTHOST_WIN32_INTERNAL_H

/* SetLastError(RtlNtStatusToDosError(Status)), as kernel32's BaseSetLastNTError. */
VOID Win32SetLastNtError(NTSTATUS Status);
/* A malloc'ed UTF-16 copy of an ANSI (Windows-1252) string; NULL if out of memory. */
WCHAR *Win32AnsiToWide(LPCSTR Ansi);

#endif /* NTHOST_WIN32_INTERNAL_H */
