/*
 * windows.h — the Win32 subset that DongLpt's client programs use, provided by nthost.
 *
 * A client program includes <windows.h>, <winioctl.h> and <donglpt.h> on both homes;
 * on Linux these names come from here and are implemented by libnthost's Win32
 * personality (nthost/src/win32_*.c). Types, constants and error codes carry the
 * real Win32 values; DWORD and LONG are 32-bit, WCHAR is 16-bit (-fshort-wchar).
 *
 * This header never includes the DDK headers. nthost's own implementation includes
 * it after <ntddk.h> so that the compiler checks these prototypes against their
 * definitions: the base types both personalities use come from one header
 * (common/ntbasetypes.h), and the macros the DDK also defines (GENERIC_READ, ...)
 * are skipped when it has defined them.
 */
#ifndef NTHOST_WINDOWS_H
#define NTHOST_WINDOWS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(__SIZEOF_WCHAR_T__) || __SIZEOF_WCHAR_T__ != 2
#error "Win32 code on nthost is built with -fshort-wchar: WCHAR is UTF-16"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Calling conventions are the platform's own on Linux. */
#define WINAPI
#define APIENTRY
#define CALLBACK
#define WINBASEAPI
#ifndef NTAPI
#define NTAPI
#endif
#ifndef CONST
#define CONST const
#endif
#ifndef VOID
#define VOID void
#endif

/* ---- base types: CHAR ... ULONG_PTR, WCHAR, HANDLE, LARGE_INTEGER, TRUE/FALSE,
 * shared with the DDK's ntdef.h ------------------------------------------------ */
#include <ntbasetypes.h>

/* ---- Win32-only types -------------------------------------------------------- */
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef DWORD *LPDWORD;
typedef BOOL *PBOOL, *LPBOOL;
typedef BYTE *LPBYTE;
typedef WORD *LPWORD;
typedef LONG *LPLONG;
typedef HANDLE *LPHANDLE;
#ifdef UNICODE
typedef WCHAR TCHAR;
#define TEXT(s) L##s
#else
typedef CHAR TCHAR;
#define TEXT(s) s
#endif
typedef TCHAR *LPTSTR;
typedef const TCHAR *LPCTSTR;



#define MAKEWORD(lo, hi) ((WORD)(((BYTE)(lo)) | ((WORD)((BYTE)(hi))) << 8))

#define ZeroMemory(d, n) memset((d), 0, (n))
#define FillMemory(d, n, v) memset((d), (v), (n))
#define CopyMemory(d, s, n) memcpy((d), (s), (n))
#define MoveMemory(d, s, n) memmove((d), (s), (n))

/* ---- handles, access, sharing, creation --------------------------------------- */
#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)

#ifndef GENERIC_READ
#define GENERIC_READ    0x80000000u
#define GENERIC_WRITE   0x40000000u
#define GENERIC_EXECUTE 0x20000000u
#define GENERIC_ALL     0x10000000u
#endif

#ifndef FILE_READ_DATA
#define FILE_READ_DATA            0x0001
#define FILE_WRITE_DATA           0x0002
#define FILE_APPEND_DATA          0x0004
#define FILE_READ_EA              0x0008
#define FILE_WRITE_EA             0x0010
#define FILE_EXECUTE              0x0020
#define FILE_READ_ATTRIBUTES      0x0080
#define FILE_WRITE_ATTRIBUTES     0x0100
#endif
#ifndef DELETE
#define DELETE                    0x00010000u
#define READ_CONTROL              0x00020000u
#define WRITE_DAC                 0x00040000u
#define WRITE_OWNER               0x00080000u
#define SYNCHRONIZE               0x00100000u
#endif

#ifndef STANDARD_RIGHTS_REQUIRED
#define STANDARD_RIGHTS_REQUIRED  0x000F0000u
#define STANDARD_RIGHTS_READ      READ_CONTROL
#define STANDARD_RIGHTS_WRITE     READ_CONTROL
#define STANDARD_RIGHTS_EXECUTE   READ_CONTROL
#define STANDARD_RIGHTS_ALL       0x001F0000u
#endif
#ifndef FILE_GENERIC_READ
#define FILE_ALL_ACCESS      (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF)
#define FILE_GENERIC_READ    (STANDARD_RIGHTS_READ | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE)
#define FILE_GENERIC_WRITE   (STANDARD_RIGHTS_WRITE | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | \
                              FILE_APPEND_DATA | SYNCHRONIZE)
#define FILE_GENERIC_EXECUTE (STANDARD_RIGHTS_EXECUTE | FILE_READ_ATTRIBUTES | FILE_EXECUTE | SYNCHRONIZE)
#endif

#ifndef FILE_SHARE_READ
#define FILE_SHARE_READ   0x00000001
#define FILE_SHARE_WRITE  0x00000002
#define FILE_SHARE_DELETE 0x00000004
#endif

#define CREATE_NEW        1
#define CREATE_ALWAYS     2
#define OPEN_EXISTING     3
#define OPEN_ALWAYS       4
#define TRUNCATE_EXISTING 5

#ifndef FILE_ATTRIBUTE_NORMAL
#define FILE_ATTRIBUTE_READONLY 0x00000001
#define FILE_ATTRIBUTE_HIDDEN   0x00000002
#define FILE_ATTRIBUTE_SYSTEM   0x00000004
#define FILE_ATTRIBUTE_ARCHIVE  0x00000020
#define FILE_ATTRIBUTE_NORMAL   0x00000080
#endif

#define FILE_FLAG_WRITE_THROUGH    0x80000000u
#define FILE_FLAG_OVERLAPPED       0x40000000u
#define FILE_FLAG_NO_BUFFERING     0x20000000u
#define FILE_FLAG_RANDOM_ACCESS    0x10000000u
#define FILE_FLAG_SEQUENTIAL_SCAN  0x08000000u

/* ---- waits --------------------------------------------------------------------- */
#define INFINITE            0xFFFFFFFFu
#define WAIT_OBJECT_0       0x00000000u
#define WAIT_ABANDONED      0x00000080u
#define WAIT_ABANDONED_0    0x00000080u
#define WAIT_IO_COMPLETION  0x000000C0u
#define WAIT_TIMEOUT        0x00000102u
#define WAIT_FAILED         0xFFFFFFFFu
#define MAXIMUM_WAIT_OBJECTS 64
#define STILL_ACTIVE        0x00000103u

/* ---- structures ------------------------------------------------------------------ */
typedef struct _SECURITY_ATTRIBUTES {
    DWORD nLength;
    LPVOID lpSecurityDescriptor;
    BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

/*
 * Internal and InternalHigh are the NTSTATUS and the Information of the request:
 * the I/O manager stores the request's IO_STATUS_BLOCK over them at completion.
 */
typedef struct _OVERLAPPED {
    ULONG_PTR Internal;
    ULONG_PTR InternalHigh;
    union {
        struct {
            DWORD Offset;
            DWORD OffsetHigh;
        };
        PVOID Pointer;
    };
    HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

#define HasOverlappedIoCompleted(lpOverlapped) ((lpOverlapped)->Internal != (ULONG_PTR)0x00000103)

typedef DWORD(WINAPI *PTHREAD_START_ROUTINE)(LPVOID lpThreadParameter);
typedef PTHREAD_START_ROUTINE LPTHREAD_START_ROUTINE;

#define CREATE_SUSPENDED 0x00000004

/* ---- Win32 error codes (winerror.h values) ------------------------------------------ */
#define ERROR_SUCCESS                    0
#define NO_ERROR                         0
#define ERROR_INVALID_FUNCTION           1
#define ERROR_FILE_NOT_FOUND             2
#define ERROR_PATH_NOT_FOUND             3
#define ERROR_TOO_MANY_OPEN_FILES        4
#define ERROR_ACCESS_DENIED              5
#define ERROR_INVALID_HANDLE             6
#define ERROR_NOT_ENOUGH_MEMORY          8
#define ERROR_BAD_FORMAT                 11
#define ERROR_INVALID_ACCESS             12
#define ERROR_INVALID_DATA               13
#define ERROR_OUTOFMEMORY                14
#define ERROR_INVALID_DRIVE              15
#define ERROR_NOT_SAME_DEVICE            17
#define ERROR_NO_MORE_FILES              18
#define ERROR_WRITE_PROTECT              19
#define ERROR_BAD_UNIT                   20
#define ERROR_NOT_READY                  21
#define ERROR_BAD_COMMAND                22
#define ERROR_CRC                        23
#define ERROR_BAD_LENGTH                 24
#define ERROR_SEEK                       25
#define ERROR_NOT_DOS_DISK               26
#define ERROR_SECTOR_NOT_FOUND           27
#define ERROR_OUT_OF_PAPER               28
#define ERROR_WRITE_FAULT                29
#define ERROR_READ_FAULT                 30
#define ERROR_GEN_FAILURE                31
#define ERROR_SHARING_VIOLATION          32
#define ERROR_LOCK_VIOLATION             33
#define ERROR_HANDLE_EOF                 38
#define ERROR_HANDLE_DISK_FULL           39
#define ERROR_NOT_SUPPORTED              50
#define ERROR_REM_NOT_LIST               51
#define ERROR_BAD_NETPATH                53
#define ERROR_NETWORK_BUSY               54
#define ERROR_DEV_NOT_EXIST              55
#define ERROR_ADAP_HDW_ERR               57
#define ERROR_UNEXP_NET_ERR              59
#define ERROR_PRINTQ_FULL                61
#define ERROR_NO_SPOOL_SPACE             62
#define ERROR_PRINT_CANCELLED            63
#define ERROR_NETNAME_DELETED            64
#define ERROR_FILE_EXISTS                80
#define ERROR_CANNOT_MAKE                82
#define ERROR_ALREADY_ASSIGNED           85
#define ERROR_INVALID_PASSWORD           86
#define ERROR_INVALID_PARAMETER          87
#define ERROR_NET_WRITE_FAULT            88
#define ERROR_TOO_MANY_SEMAPHORES        100
#define ERROR_SEM_IS_SET                 102
#define ERROR_BROKEN_PIPE                109
#define ERROR_OPEN_FAILED                110
#define ERROR_BUFFER_OVERFLOW            111
#define ERROR_DISK_FULL                  112
#define ERROR_BAD_DRIVER_LEVEL           119
#define ERROR_CALL_NOT_IMPLEMENTED       120
#define ERROR_SEM_TIMEOUT                121
#define ERROR_INSUFFICIENT_BUFFER        122
#define ERROR_INVALID_NAME               123
#define ERROR_INVALID_LEVEL              124
#define ERROR_MOD_NOT_FOUND              126
#define ERROR_PROC_NOT_FOUND             127
#define ERROR_WAIT_NO_CHILDREN           128
#define ERROR_NEGATIVE_SEEK              131
#define ERROR_BUSY_DRIVE                 142
#define ERROR_DIR_NOT_EMPTY              145
#define ERROR_INVALID_EVENT_COUNT        151
#define ERROR_NOT_LOCKED                 158
#define ERROR_BUSY                       170
#define ERROR_ALREADY_EXISTS             183
#define ERROR_ENVVAR_NOT_FOUND           203
#define ERROR_FILENAME_EXCED_RANGE       206
#define ERROR_BAD_PIPE                   230
#define ERROR_PIPE_BUSY                  231
#define ERROR_NO_DATA                    232
#define ERROR_PIPE_NOT_CONNECTED         233
#define ERROR_MORE_DATA                  234
#define ERROR_NO_MORE_ITEMS              259
#define ERROR_DIRECTORY                  267
#define ERROR_NOT_OWNER                  288
#define ERROR_PARTIAL_COPY               299
#define ERROR_MR_MID_NOT_FOUND           317
#define ERROR_INVALID_ADDRESS            487
#define ERROR_ARITHMETIC_OVERFLOW        534
#define ERROR_OPERATION_ABORTED          995
#define ERROR_IO_INCOMPLETE              996
#define ERROR_IO_PENDING                 997
#define ERROR_NOACCESS                   998
#define ERROR_INVALID_FLAGS              1004
#define ERROR_UNRECOGNIZED_VOLUME        1005
#define ERROR_FILE_INVALID               1006
#define ERROR_CANTOPEN                   1011
#define ERROR_CANTREAD                   1012
#define ERROR_CANTWRITE                  1013
#define ERROR_REGISTRY_CORRUPT           1015
#define ERROR_KEY_DELETED                1018
#define ERROR_DEPENDENT_SERVICES_RUNNING 1051
#define ERROR_INVALID_SERVICE_CONTROL    1052
#define ERROR_SERVICE_REQUEST_TIMEOUT    1053
#define ERROR_SERVICE_ALREADY_RUNNING    1056
#define ERROR_SERVICE_DISABLED           1058
#define ERROR_SERVICE_DOES_NOT_EXIST     1060
#define ERROR_SERVICE_CANNOT_ACCEPT_CTRL 1061
#define ERROR_SERVICE_NOT_ACTIVE         1062
#define ERROR_END_OF_MEDIA               1100
#define ERROR_NO_DATA_DETECTED           1104
#define ERROR_MEDIA_CHANGED              1110
#define ERROR_NO_MEDIA_IN_DRIVE          1112
#define ERROR_DLL_INIT_FAILED            1114
#define ERROR_IO_DEVICE                  1117
#define ERROR_SERIAL_NO_DEVICE           1118
#define ERROR_IRQ_BUSY                   1119
#define ERROR_COUNTER_TIMEOUT            1121
#define ERROR_NOT_ENOUGH_SERVER_MEMORY   1130
#define ERROR_POSSIBLE_DEADLOCK          1131
#define ERROR_DEVICE_REINITIALIZATION_NEEDED 1164
#define ERROR_DEVICE_REQUIRES_CLEANING   1165
#define ERROR_DEVICE_DOOR_OPEN           1166
#define ERROR_DEVICE_NOT_CONNECTED       1167
#define ERROR_NOT_FOUND                  1168
#define ERROR_NO_MATCH                   1169
#define ERROR_BAD_DEVICE                 1200
#define ERROR_CANCELLED                  1223
#define ERROR_CONNECTION_ABORTED         1236
#define ERROR_RETRY                      1237
#define ERROR_NOT_ALL_ASSIGNED           1300
#define ERROR_PRIVILEGE_NOT_HELD         1314
#define ERROR_INTERNAL_ERROR             1359
#define ERROR_FILE_CORRUPT               1392
#define ERROR_DISK_CORRUPT               1393
#define ERROR_NO_SYSTEM_RESOURCES        1450
#define ERROR_NONPAGED_SYSTEM_RESOURCES  1451
#define ERROR_WORKING_SET_QUOTA          1453
#define ERROR_TIMEOUT                    1460
#define ERROR_INVALID_HANDLE_STATE       1609
#define ERROR_DEVICE_REMOVED             1617
#define ERROR_INVALID_USER_BUFFER        1784
#define ERROR_NOT_ENOUGH_QUOTA           1816
#define ERROR_DEVICE_IN_USE              2404

/* ---- files and devices ------------------------------------------------------------- */
WINBASEAPI HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                                     LPSECURITY_ATTRIBUTES lpSecurityAttributes,
                                     DWORD dwCreationDisposition, DWORD dwFlagsAndAttributes,
                                     HANDLE hTemplateFile);
WINBASEAPI HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                                     LPSECURITY_ATTRIBUTES lpSecurityAttributes,
                                     DWORD dwCreationDisposition, DWORD dwFlagsAndAttributes,
                                     HANDLE hTemplateFile);
WINBASEAPI BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                                LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped);
WINBASEAPI BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                                 LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped);
WINBASEAPI BOOL WINAPI DeviceIoControl(HANDLE hDevice, DWORD dwIoControlCode, LPVOID lpInBuffer,
                                       DWORD nInBufferSize, LPVOID lpOutBuffer, DWORD nOutBufferSize,
                                       LPDWORD lpBytesReturned, LPOVERLAPPED lpOverlapped);
WINBASEAPI BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                           LPDWORD lpNumberOfBytesTransferred, BOOL bWait);
WINBASEAPI BOOL WINAPI CancelIo(HANDLE hFile);
WINBASEAPI BOOL WINAPI CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped);
WINBASEAPI BOOL WINAPI CloseHandle(HANDLE hObject);

/* ---- errors ------------------------------------------------------------------------- */
WINBASEAPI DWORD WINAPI GetLastError(void);
WINBASEAPI void WINAPI SetLastError(DWORD dwErrCode);

/* ---- synchronization ---------------------------------------------------------------- */
WINBASEAPI HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                                      BOOL bInitialState, LPCWSTR lpName);
WINBASEAPI HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                                      BOOL bInitialState, LPCSTR lpName);
WINBASEAPI BOOL WINAPI SetEvent(HANDLE hEvent);
WINBASEAPI BOOL WINAPI ResetEvent(HANDLE hEvent);
WINBASEAPI DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
WINBASEAPI DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                                               DWORD dwMilliseconds);

/* ---- threads and time ----------------------------------------------------------------- */
WINBASEAPI HANDLE WINAPI CreateThread(LPSECURITY_ATTRIBUTES lpThreadAttributes, SIZE_T dwStackSize,
                                      LPTHREAD_START_ROUTINE lpStartAddress, LPVOID lpParameter,
                                      DWORD dwCreationFlags, LPDWORD lpThreadId);
WINBASEAPI void WINAPI ExitThread(DWORD dwExitCode);
WINBASEAPI BOOL WINAPI GetExitCodeThread(HANDLE hThread, LPDWORD lpExitCode);
WINBASEAPI DWORD WINAPI GetCurrentThreadId(void);
WINBASEAPI void WINAPI Sleep(DWORD dwMilliseconds);
WINBASEAPI DWORD WINAPI GetTickCount(void);
WINBASEAPI ULONGLONG WINAPI GetTickCount64(void);
WINBASEAPI BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER *lpPerformanceCount);
WINBASEAPI BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER *lpFrequency);

#ifdef UNICODE
#define CreateFile CreateFileW
#define CreateEvent CreateEventW
#else
#define CreateFile CreateFileA
#define CreateEvent CreateEventA
#endif

#ifdef __cplusplus
}
#endif

#endif /* NTHOST_WINDOWS_H */
