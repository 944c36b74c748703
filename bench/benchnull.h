/*
 * benchnull.h - the null test driver of the benchmarks (benchnull.c): one device
 * whose IOCTL completes at once, so that a DeviceIoControl round trip measures the
 * I/O path (Win32 call, IRP, dispatch, completion) and nothing else.
 * Included after <ntddk.h> by the driver and after <windows.h>/<winioctl.h> by clients.
 */
#ifndef BENCHNULL_H
#define BENCHNULL_H

#define BENCHNULL_DEVICE_NAME_U  L"\\Device\\BenchNull"
#define BENCHNULL_DOS_NAME_U     L"\\DosDevices\\BenchNull"
#define BENCHNULL_WIN32_NAME_A   "\\\\.\\BenchNull"

/* in/out: nothing; completes with STATUS_SUCCESS in the dispatch routine. */
#define IOCTL_BENCHNULL_NOTHING  CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)

#endif
