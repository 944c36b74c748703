/*
 * svc_test_drv.c — a tiny legacy driver for the service manager tests, built several
 * times with different behaviour (CMake compile definitions):
 *   DRV_NAME        service/device name (string literal)
 *   DRV_HAS_UNLOAD  1: has a DriverUnload (deletes its device)
 *   DRV_FAIL_ENTRY  1: DriverEntry cleans up and fails with STATUS_DEVICE_CONFIGURATION_ERROR
 *   DRV_LEAK_POOL   1: DriverEntry allocates pool that is never freed
 *   DRV_LEAK_TIMER  1: DriverEntry sets a timer that DriverUnload does not cancel
 *   DRV_ERRLOG      1: DriverEntry writes an error-log entry
 *   DRV_LEAK_THREAD 1: DriverEntry starts a system thread that never ends
 *   DRV_LEAK_LINK   1: DriverEntry creates \DosDevices\<name> that DriverUnload keeps
 *   DRV_LEAK_DEVICE 1: DriverUnload forgets IoDeleteDevice
 * It reports what it saw through the registry (the driver's natural channel), under
 * HKLM\SOFTWARE\SvcTest: Order (names appended as drivers start), <name>Path (the
 * RegistryPath it got), <name>Irql and <name>SystemThread (DriverEntry's context),
 * <name>Init (DO_DEVICE_INITIALIZING during DriverEntry),
 * <name>Unloaded, and for DRV_ERRLOG the allocation checks.
 */
#include <ntddk.h>

#define WIDE2(x) L##x
#define WIDE(x) WIDE2(x)
#define REPORT_KEY L"\\Registry\\Machine\\Software\\SvcTest"
#define LEAK_TAG ((ULONG)'L' | (ULONG)'e' << 8 | (ULONG)'a' << 16 | (ULONG)'k' << 24)

/* The error code the .mc of the errlog driver defines (Error, facility Io, id 1). */
#define SVC_ELOG_TIMEOUT ((NTSTATUS)0xC0040001L)

static PDEVICE_OBJECT DrvDevice;

static void Report(PCWSTR Suffix, ULONG Type, PVOID Data, ULONG Length)
{
    WCHAR name[64];
    UNICODE_STRING value = { 0, sizeof(name), name };
    RtlAppendUnicodeToString(&value, WIDE(DRV_NAME));
    RtlAppendUnicodeToString(&value, Suffix);
    RtlWriteRegistryValue(RTL_REGISTRY_ABSOLUTE, REPORT_KEY, name, Type, Data, Length);
}

static void ReportDword(PCWSTR Suffix, ULONG Value)
{
    Report(Suffix, REG_DWORD, &Value, sizeof(Value));
}

/* Append "<name>;" to Order, so the test sees the start order across drivers. */
static void AppendOrder(void)
{
    WCHAR buf[256];
    UNICODE_STRING order = { 0, sizeof(buf), buf };
    RTL_QUERY_REGISTRY_TABLE table[2] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT, L"Order", &order, REG_SZ, L"", 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    RtlQueryRegistryValues(RTL_REGISTRY_ABSOLUTE, REPORT_KEY, table, NULL, NULL);
    RtlAppendUnicodeToString(&order, WIDE(DRV_NAME) L";");
    RtlWriteRegistryValue(RTL_REGISTRY_ABSOLUTE, REPORT_KEY, L"Order", REG_SZ, order.Buffer,
                          order.Length + sizeof(WCHAR));
}

static NTSTATUS NTAPI DispatchCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (void)DeviceObject;
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

#if DRV_LEAK_TIMER
static KTIMER DrvTimer;
static KDPC DrvDpc;

static VOID NTAPI DrvTimerDpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    (void)Dpc, (void)Context, (void)Arg1, (void)Arg2;
}
#endif

#if DRV_LEAK_THREAD
static KEVENT DrvNeverSet;

static VOID NTAPI DrvForeverThread(PVOID Context)
{
    (void)Context;
    KeWaitForSingleObject(&DrvNeverSet, Executive, KernelMode, FALSE, NULL);
    PsTerminateSystemThread(STATUS_SUCCESS);
}
#endif

#if DRV_HAS_UNLOAD
static VOID NTAPI DrvUnload(PDRIVER_OBJECT DriverObject)
{
    (void)DriverObject;
#if !DRV_LEAK_DEVICE
    IoDeleteDevice(DrvDevice);
#endif
    ReportDword(L"Unloaded", 1);
}
#endif

#if DRV_ERRLOG
/* An error-log entry with one insertion string and one ULONG of dump data; also
 * checks IoAllocateErrorLogEntry's size limit and zeroing. */
static void WriteErrorLog(void)
{
    ReportDword(L"TooBigIsNull", IoAllocateErrorLogEntry(DrvDevice, ERROR_LOG_MAXIMUM_SIZE + 1) == NULL);
    static const WCHAR insert[] = L"500";
    UCHAR size = (UCHAR)(sizeof(IO_ERROR_LOG_PACKET) + sizeof(insert));
    PIO_ERROR_LOG_PACKET p = IoAllocateErrorLogEntry(DrvDevice, size);
    if (!p)
        return;
    ULONG zero = 1;
    for (UCHAR i = 0; i < size; i++)
        zero &= ((PUCHAR)p)[i] == 0;
    ReportDword(L"Zeroed", zero);
    p->ErrorCode = SVC_ELOG_TIMEOUT;
    p->UniqueErrorValue = 77;
    p->FinalStatus = STATUS_IO_TIMEOUT;
    p->MajorFunctionCode = IRP_MJ_WRITE;
    p->SequenceNumber = 3;
    p->DumpDataSize = sizeof(ULONG);
    p->DumpData[0] = 0xDEADBEEF;
    p->NumberOfStrings = 1;
    p->StringOffset = sizeof(IO_ERROR_LOG_PACKET);
    RtlCopyMemory((PUCHAR)p + p->StringOffset, insert, sizeof(insert));
    IoWriteErrorLogEntry(p);
}
#endif

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    AppendOrder();
    Report(L"Path", REG_SZ, RegistryPath->Buffer, RegistryPath->Length);
    ReportDword(L"Irql", KeGetCurrentIrql());
    ReportDword(L"SystemThread", PsIsSystemThread(PsGetCurrentThread()));
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"\\Device\\" WIDE(DRV_NAME));
    NTSTATUS status = IoCreateDevice(DriverObject, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &DrvDevice);
    if (!NT_SUCCESS(status))
        return status;
    ReportDword(L"Init", (DrvDevice->Flags & DO_DEVICE_INITIALIZING) != 0);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = DispatchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = DispatchCreateClose;
#if DRV_FAIL_ENTRY
    IoDeleteDevice(DrvDevice);             /* a failing DriverEntry cleans up itself */
    return STATUS_DEVICE_CONFIGURATION_ERROR;
#endif
#if DRV_LEAK_POOL
    ExAllocatePoolWithTag(NonPagedPool, 64, LEAK_TAG);
#endif
#if DRV_LEAK_TIMER
    KeInitializeDpc(&DrvDpc, DrvTimerDpc, NULL);
    KeInitializeTimer(&DrvTimer);
    LARGE_INTEGER due = { .QuadPart = -600000000LL }; /* one minute */
    KeSetTimer(&DrvTimer, due, &DrvDpc);
#endif
#if DRV_ERRLOG
    WriteErrorLog();
#endif
#if DRV_LEAK_THREAD
    KeInitializeEvent(&DrvNeverSet, NotificationEvent, FALSE);
    HANDLE thread;
    if (NT_SUCCESS(PsCreateSystemThread(&thread, THREAD_ALL_ACCESS, NULL, NULL, NULL, DrvForeverThread, NULL)))
        ZwClose(thread);
#endif
#if DRV_LEAK_LINK
    UNICODE_STRING link;
    RtlInitUnicodeString(&link, L"\\DosDevices\\" WIDE(DRV_NAME));
    IoCreateSymbolicLink(&link, &name);
#endif
#if DRV_HAS_UNLOAD
    DriverObject->DriverUnload = DrvUnload;
#endif
    return STATUS_SUCCESS;
}
