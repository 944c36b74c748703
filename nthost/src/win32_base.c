/*
 * win32_base.c — the rest of the Win32 subset clients use: last error, CloseHandle,
 * events and waits, threads, Sleep and the time queries, all on the kernel's objects
 * (a Win32 handle is an entry in nthost's one handle table).
 */
#include <ntddk.h>
#include <stdlib.h>

#include "../include/win32/windows.h"
#include "io_internal.h"
#include "ke_internal.h"
#include "ob_internal.h"
#include "win32_internal.h"
#include "nthost/nthost.h"

/* A host thread that is not (yet) an nthost thread still has a last-error value. */
static _Thread_local DWORD w32_host_last_error;

DWORD WINAPI GetLastError(void)
{
    PKTHREAD t = KiCurrentThread();
    return t ? t->Win32LastError : w32_host_last_error;
}

void WINAPI SetLastError(DWORD dwErrCode)
{
    PKTHREAD t = KiCurrentThread();
    if (t)
        t->Win32LastError = dwErrCode;
    else
        w32_host_last_error = dwErrCode;
}

VOID Win32SetLastNtError(NTSTATUS Status)
{
    SetLastError(RtlNtStatusToDosError(Status));
}

WCHAR *Win32AnsiToWide(LPCSTR Ansi)
{
    ANSI_STRING a;
    UNICODE_STRING u;
    size_t len = strlen(Ansi);
    if (len >= UNICODE_STRING_MAX_CHARS)
        return NULL;
    RtlInitAnsiString(&a, Ansi);
    u.Buffer = malloc((len + 1) * sizeof(WCHAR));
    if (!u.Buffer)
        return NULL;
    u.Length = 0;
    u.MaximumLength = (USHORT)((len + 1) * sizeof(WCHAR));
    if (!NT_SUCCESS(RtlAnsiStringToUnicodeString(&u, &a, FALSE))) {
        free(u.Buffer);
        return NULL;
    }
    u.Buffer[u.Length / sizeof(WCHAR)] = 0;
    return u.Buffer;
}

/* CloseHandle: closing the last handle of a file object sends IRP_MJ_CLEANUP (Ob's
 * close procedure), dropping the last reference IRP_MJ_CLOSE. */
BOOL WINAPI CloseHandle(HANDLE hObject)
{
    KiRequireCurrentThread("CloseHandle");
    NTSTATUS st = ObpCloseHandle(hObject, UserMode);
    if (!NT_SUCCESS(st)) {
        Win32SetLastNtError(st);
        return FALSE;
    }
    return TRUE;
}

/* ---- events and waits ----------------------------------------------------------------- */

/* CreateEventW: an unnamed kernel event (manual reset: notification event). */
HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset, BOOL bInitialState,
                           LPCWSTR lpName)
{
    UNREFERENCED_PARAMETER(lpEventAttributes);
    KiRequireCurrentThread("CreateEventW");
    if (lpName && lpName[0]) {
        /* Named events (\BaseNamedObjects) are not part of nthost's Win32 subset. */
        SetLastError(ERROR_NOT_SUPPORTED);
        return NULL;
    }
    PKEVENT ev;
    NTSTATUS st = ExpCreateEventObject(bManualReset ? NotificationEvent : SynchronizationEvent,
                                       bInitialState ? TRUE : FALSE, &ev);
    HANDLE h = NULL;
    if (NT_SUCCESS(st)) {
        st = ObpCreateHandle(ev, EVENT_ALL_ACCESS, 0, &h);
        ObDereferenceObject(ev);
    }
    if (!NT_SUCCESS(st)) {
        Win32SetLastNtError(st);
        return NULL;
    }
    SetLastError(ERROR_SUCCESS);
    return h;
}

HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset, BOOL bInitialState,
                           LPCSTR lpName)
{
    if (lpName && lpName[0]) {
        SetLastError(ERROR_NOT_SUPPORTED);
        return NULL;
    }
    return CreateEventW(lpEventAttributes, bManualReset, bInitialState, NULL);
}

static PKEVENT w32_event(HANDLE h)
{
    ACCESS_MASK granted;
    PVOID obj = ObpLookupHandle(h, UserMode, &granted);
    if (!obj || !ObpIsObjectOfType(obj, ObpEventType)) {
        SetLastError(ERROR_INVALID_HANDLE);
        return NULL;
    }
    return obj;
}

/* SetEvent / ResetEvent on an event handle. */
BOOL WINAPI SetEvent(HANDLE hEvent)
{
    KiRequireCurrentThread("SetEvent");
    PKEVENT ev = w32_event(hEvent);
    if (!ev)
        return FALSE;
    KeSetEvent(ev, EVENT_INCREMENT, FALSE);
    return TRUE;
}

BOOL WINAPI ResetEvent(HANDLE hEvent)
{
    KiRequireCurrentThread("ResetEvent");
    PKEVENT ev = w32_event(hEvent);
    if (!ev)
        return FALSE;
    KeClearEvent(ev);
    return TRUE;
}

/* A Win32 timeout in milliseconds as an NT relative timeout (NULL: INFINITE). */
static PLARGE_INTEGER w32_timeout(DWORD ms, PLARGE_INTEGER buf)
{
    if (ms == INFINITE)
        return NULL;
    buf->QuadPart = -(LONGLONG)ms * 10000;
    return buf;
}

static DWORD w32_wait_result(NTSTATUS st, DWORD count)
{
    if (st == STATUS_TIMEOUT)
        return WAIT_TIMEOUT;
    if (st >= STATUS_WAIT_0 && (DWORD)st < count)
        return WAIT_OBJECT_0 + (DWORD)st;
    if (st >= STATUS_ABANDONED_WAIT_0 && (DWORD)(st - STATUS_ABANDONED_WAIT_0) < count)
        return WAIT_ABANDONED_0 + (DWORD)(st - STATUS_ABANDONED_WAIT_0);
    Win32SetLastNtError(st);
    return WAIT_FAILED;
}

/* Waits on objects named by handles; each object is referenced across the wait, so a
 * handle closed meanwhile by another thread does not free it under the waiter. */
static DWORD w32_wait(DWORD n, const HANDLE *handles, WAIT_TYPE type, DWORD ms, PCSTR what)
{
    PVOID objs[MAXIMUM_WAIT_OBJECTS], waits[MAXIMUM_WAIT_OBJECTS];
    KWAIT_BLOCK blocks[MAXIMUM_WAIT_OBJECTS];
    if (n == 0 || n > MAXIMUM_WAIT_OBJECTS) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return WAIT_FAILED;
    }
    for (DWORD i = 0; i < n; i++) {
        ACCESS_MASK granted;
        objs[i] = ObpLookupHandle(handles[i], UserMode, &granted);
        waits[i] = objs[i] ? ObpWaitObject(objs[i]) : NULL;
        if (!waits[i]) {
            SetLastError(ERROR_INVALID_HANDLE);
            return WAIT_FAILED;
        }
    }
    for (DWORD i = 0; i < n; i++)
        ObReferenceObject(objs[i]);
    LARGE_INTEGER t;
    NTSTATUS st = KiWaitForObjects(n, waits, type, UserRequest, UserMode, w32_timeout(ms, &t),
                                   n > THREAD_WAIT_OBJECTS ? blocks : NULL, what);
    for (DWORD i = 0; i < n; i++)
        ObDereferenceObject(objs[i]);
    return w32_wait_result(st, n);
}

DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds)
{
    KiRequireCurrentThread("WaitForSingleObject");
    return w32_wait(1, &hHandle, WaitAny, dwMilliseconds, "WaitForSingleObject");
}

DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll, DWORD dwMilliseconds)
{
    KiRequireCurrentThread("WaitForMultipleObjects");
    return w32_wait(nCount, lpHandles, bWaitAll ? WaitAll : WaitAny, dwMilliseconds, "WaitForMultipleObjects");
}

/* ---- threads ----------------------------------------------------------------------------- */

typedef struct w32_thread_start {
    LPTHREAD_START_ROUTINE start;
    LPVOID param;
    nthost_identity identity; /* the creator's: threads of one process share its token */
} w32_thread_start;

/* The thread's exit code is its exit status; thread exit cancels its outstanding I/O. */
static VOID NTAPI w32_thread_main(PVOID Context)
{
    w32_thread_start s = *(w32_thread_start *)Context;
    free(Context);
    nthost_set_identity(s.identity);
    KiExitThread((NTSTATUS)s.start(s.param));
}

HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
                           LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter, DWORD dwCreationFlags,
                           LPDWORD lpThreadId)
{
    UNREFERENCED_PARAMETER(lpThreadAttributes);
    UNREFERENCED_PARAMETER(dwStackSize);
    KiRequireCurrentThread("CreateThread");
    if (dwCreationFlags & CREATE_SUSPENDED) {
        /* nthost threads cannot be suspended. */
        SetLastError(ERROR_NOT_SUPPORTED);
        return NULL;
    }
    w32_thread_start *s = malloc(sizeof(*s));
    if (!s) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    s->start = lpStartAddress;
    s->param = lpParameter;
    s->identity = nthost_get_identity();
    PKTHREAD t;
    NTSTATUS st = KiCreateThread(KiThreadKindWin32, "Win32Thread", w32_thread_main, s, &t);
    if (!NT_SUCCESS(st)) {
        free(s);
        Win32SetLastNtError(st);
        return NULL;
    }
    if (lpThreadId)
        *lpThreadId = (DWORD)t->UniqueThread;
    HANDLE h = NULL;
    st = ObpCreateHandle(t, THREAD_ALL_ACCESS, 0, &h);
    ObDereferenceObject(t);
    if (!NT_SUCCESS(st)) {
        Win32SetLastNtError(st);
        return NULL;
    }
    return h;
}

void WINAPI ExitThread(DWORD dwExitCode)
{
    KiRequireCurrentThread("ExitThread");
    KiExitThread((NTSTATUS)dwExitCode);
}

BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode)
{
    KiRequireCurrentThread("GetExitCodeThread");
    ACCESS_MASK granted;
    PKTHREAD t = ObpLookupHandle(hThread, UserMode, &granted);
    if (!t || !ObpIsObjectOfType(t, ObpThreadType)) {
        SetLastError(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    *lpExitCode = t->State == KiThreadTerminated ? (DWORD)t->ExitStatus : STILL_ACTIVE;
    return TRUE;
}

DWORD WINAPI GetCurrentThreadId(void)
{
    return (DWORD)KiRequireCurrentThread("GetCurrentThreadId")->UniqueThread;
}

/* ---- time ----------------------------------------------------------------------------------- */

void WINAPI Sleep(DWORD dwMilliseconds)
{
    KiRequireCurrentThread("Sleep");
    if (dwMilliseconds == 0) {
        KiYield();
        return;
    }
    LARGE_INTEGER t;
    PLARGE_INTEGER timeout = w32_timeout(dwMilliseconds, &t);
    if (timeout) {
        KeDelayExecutionThread(UserMode, FALSE, timeout);
    } else {
        /* Sleep(INFINITE): the thread never wakes; the deadlock report names it. */
        KEVENT never;
        KeInitializeEvent(&never, NotificationEvent, FALSE);
        KeWaitForSingleObject(&never, UserRequest, UserMode, FALSE, NULL);
    }
}

/* Milliseconds since boot on the machine clock. */
ULONGLONG WINAPI GetTickCount64(void)
{
    return KeQueryInterruptTime() / 10000;
}

DWORD WINAPI GetTickCount(void)
{
    return (DWORD)GetTickCount64();
}

BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER *lpPerformanceCount)
{
    *lpPerformanceCount = KeQueryPerformanceCounter(NULL);
    return TRUE;
}

BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER *lpFrequency)
{
    KeQueryPerformanceCounter(lpFrequency);
    return TRUE;
}
