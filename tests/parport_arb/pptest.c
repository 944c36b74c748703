/*
 * pptest.c - a kernel-mode client of parport, loaded by test_parport_arb as the
 * service PptTest. Its DriverEntry exercises parport's documented interface the way
 * a class driver would, and fails (STATUS_UNSUCCESSFUL) at the first step that does
 * not behave as DESIGN.md says, after logging the step number as the error-log
 * entry's UniqueErrorValue (the test reads it back to say which step failed).
 *
 * Steps, on \Device\ParallelPort0 unless said otherwise:
 *   1-3   GET_PARALLEL_PORT_INFO through IoBuildDeviceIoControlRequest
 *   4-6   TryAllocatePort takes a free port, fails on an owned one; no waiters
 *   7-9   three ALLOCATE requests pend; QueryNumWaiters counts them
 *   10-11 the second is cancelled; it completes STATUS_CANCELLED, two waiters left
 *   12-14 FreePort hands the port to the oldest waiter, which now owns it
 *   15-16 PARALLEL_PORT_FREE hands it to the last waiter
 *   17-18 FreePort with no waiter frees it; TryAllocatePort takes it again
 *   19    an unknown internal code is STATUS_INVALID_PARAMETER
 *   20+   GET_PARALLEL_PNP_INFO capabilities of each port match PPTEST_CAPS below
 *   30-31 HARDWARE\DEVICEMAP\PARALLEL PORTS maps \Device\ParallelPort0 to LPT1
 *   40-41 GET_MORE_PARALLEL_PORT_INFO: port 0 is ISA IRQ 7, port 2 has no IRQ
 */
#include <ntddk.h>
#include <parallel.h>

#define PPTEST_ALLOCATES        3

/* The capabilities the test machine's ports must report, in port order. */
#define PPTEST_PORTS            3
#define PPTEST_CAPS(i)          ((i) == 0 ? PPT_BYTE_PRESENT : \
                                 (i) == 1 ? (PPT_ECP_PRESENT | PPT_BYTE_PRESENT) : 0)

typedef struct _PPTEST_WAITER {
    PIRP Irp;
    KEVENT Done;
} PPTEST_WAITER;

static VOID NTAPI PptTestUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

/*
 * PptTestFail - log Step and return STATUS_UNSUCCESSFUL.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS PptTestFail(PDRIVER_OBJECT DriverObject, ULONG Step)
{
    PIO_ERROR_LOG_PACKET packet =
        (PIO_ERROR_LOG_PACKET)IoAllocateErrorLogEntry(DriverObject, sizeof(IO_ERROR_LOG_PACKET));

    if (packet != NULL) {
        RtlZeroMemory(packet, sizeof(*packet));
        packet->ErrorCode = STATUS_UNSUCCESSFUL;
        packet->UniqueErrorValue = Step;
        IoWriteErrorLogEntry(packet);
    }
    return STATUS_UNSUCCESSFUL;
}

/*
 * PptTestCall - synchronous internal IOCTL to parport.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS PptTestCall(PDEVICE_OBJECT Port, PFILE_OBJECT File, ULONG Code, PVOID Out, ULONG OutLength)
{
    KEVENT event;
    IO_STATUS_BLOCK ioStatus;
    PIRP irp;
    NTSTATUS status;

    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(Code, Port, NULL, 0, Out, OutLength, TRUE, &event, &ioStatus);
    if (irp == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    IoGetNextIrpStackLocation(irp)->FileObject = File;
    status = IoCallDriver(Port, irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
        status = ioStatus.Status;
    }
    return status;
}

/*
 * PptTestDone - completion routine of an ALLOCATE: signal, keep the IRP.
 * IRQL: <= DISPATCH_LEVEL.
 */
static NTSTATUS NTAPI PptTestDone(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent(&((PPTEST_WAITER *)Context)->Done, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/*
 * PptTestSendAllocate - queue an ALLOCATE for Waiter.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS PptTestSendAllocate(PDEVICE_OBJECT Port, PFILE_OBJECT File, PPTEST_WAITER *Waiter)
{
    PIO_STACK_LOCATION stack;

    Waiter->Irp = IoAllocateIrp(Port->StackSize, FALSE);
    if (Waiter->Irp == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    KeInitializeEvent(&Waiter->Done, NotificationEvent, FALSE);
    stack = IoGetNextIrpStackLocation(Waiter->Irp);
    stack->MajorFunction = IRP_MJ_INTERNAL_DEVICE_CONTROL;
    stack->Parameters.DeviceIoControl.IoControlCode = IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE;
    stack->FileObject = File;
    IoSetCompletionRoutine(Waiter->Irp, PptTestDone, Waiter, TRUE, TRUE, TRUE);
    return IoCallDriver(Port, Waiter->Irp);
}

/*
 * PptTestIsDone - has Waiter's ALLOCATE completed (without waiting)?
 * IRQL: PASSIVE_LEVEL.
 */
static BOOLEAN PptTestIsDone(PPTEST_WAITER *Waiter)
{
    LARGE_INTEGER zero;

    zero.QuadPart = 0;
    return KeWaitForSingleObject(&Waiter->Done, Executive, KernelMode, FALSE, &zero) == STATUS_SUCCESS;
}

/*
 * PptTestOpen - \Device\ParallelPort<Index>.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS PptTestOpen(ULONG Index, PFILE_OBJECT *File, PDEVICE_OBJECT *Port)
{
    WCHAR buffer[40];
    WCHAR digits[12];
    UNICODE_STRING name;
    UNICODE_STRING number;

    name.Buffer = buffer;
    name.Length = 0;
    name.MaximumLength = sizeof(buffer);
    number.Buffer = digits;
    number.Length = 0;
    number.MaximumLength = sizeof(digits);
    RtlAppendUnicodeToString(&name, L"\\Device\\ParallelPort");
    RtlIntegerToUnicodeString(Index, 10, &number);
    RtlAppendUnicodeStringToString(&name, &number);
    return IoGetDeviceObjectPointer(&name, FILE_READ_ATTRIBUTES, File, Port);
}

/*
 * PptTestArbitration - steps 1-19 on port 0.
 * IRQL: PASSIVE_LEVEL.
 * Returns 0, or the number of the step that failed.
 */
static ULONG PptTestArbitration(PDEVICE_OBJECT Port, PFILE_OBJECT File)
{
    PARALLEL_PORT_INFORMATION info;
    PPTEST_WAITER waiters[PPTEST_ALLOCATES];
    ULONG i;

    if (!NT_SUCCESS(PptTestCall(Port, File, IOCTL_INTERNAL_GET_PARALLEL_PORT_INFO, &info, sizeof(info)))) {
        return 1;
    }
    if (info.SpanOfController < 3 || info.Controller == NULL) {
        return 2;
    }
    if (info.TryAllocatePort == NULL || info.FreePort == NULL || info.QueryNumWaiters == NULL) {
        return 3;
    }
    if (!info.TryAllocatePort(info.Context)) {
        return 4;
    }
    if (info.TryAllocatePort(info.Context)) {
        return 5;
    }
    if (info.QueryNumWaiters(info.Context) != 0) {
        return 6;
    }
    for (i = 0; i < PPTEST_ALLOCATES; i++) {
        if (PptTestSendAllocate(Port, File, &waiters[i]) != STATUS_PENDING) {
            return 7;
        }
    }
    if (info.QueryNumWaiters(info.Context) != PPTEST_ALLOCATES) {
        return 8;
    }
    if (PptTestIsDone(&waiters[0]) || PptTestIsDone(&waiters[1]) || PptTestIsDone(&waiters[2])) {
        return 9;
    }
    IoCancelIrp(waiters[1].Irp);
    if (!PptTestIsDone(&waiters[1]) || waiters[1].Irp->IoStatus.Status != STATUS_CANCELLED) {
        return 10;
    }
    if (info.QueryNumWaiters(info.Context) != 2) {
        return 11;
    }
    info.FreePort(info.Context);
    if (!PptTestIsDone(&waiters[0]) || waiters[0].Irp->IoStatus.Status != STATUS_SUCCESS) {
        return 12;
    }
    if (PptTestIsDone(&waiters[2]) || info.QueryNumWaiters(info.Context) != 1) {
        return 13;
    }
    if (info.TryAllocatePort(info.Context)) {
        return 14;
    }
    if (!NT_SUCCESS(PptTestCall(Port, File, IOCTL_INTERNAL_PARALLEL_PORT_FREE, NULL, 0))) {
        return 15;
    }
    if (!PptTestIsDone(&waiters[2]) || waiters[2].Irp->IoStatus.Status != STATUS_SUCCESS ||
        info.QueryNumWaiters(info.Context) != 0) {
        return 16;
    }
    info.FreePort(info.Context);
    if (!info.TryAllocatePort(info.Context)) {
        return 17;
    }
    info.FreePort(info.Context);
    if (!info.TryAllocatePort(info.Context)) {
        return 18;
    }
    info.FreePort(info.Context);
    for (i = 0; i < PPTEST_ALLOCATES; i++) {
        IoFreeIrp(waiters[i].Irp);
    }
    if (PptTestCall(Port, File, CTL_CODE(FILE_DEVICE_PARALLEL_PORT, 99, METHOD_BUFFERED, FILE_ANY_ACCESS),
                    NULL, 0) != STATUS_INVALID_PARAMETER) {
        return 19;
    }
    return 0;
}

/*
 * PptTestDeviceMap - the DEVICEMAP value parport wrote for port 0.
 * IRQL: PASSIVE_LEVEL.
 * Returns 0, or the failed step.
 */
static ULONG PptTestDeviceMap(VOID)
{
    static const WCHAR expected[] = L"\\DosDevices\\LPT1";
    UNICODE_STRING path;
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES attributes;
    union {
        KEY_VALUE_PARTIAL_INFORMATION Info;
        UCHAR Bytes[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + 128];
    } value;
    ULONG length;
    HANDLE key;
    NTSTATUS status;

    RtlInitUnicodeString(&path, L"\\Registry\\Machine\\HARDWARE\\DEVICEMAP\\PARALLEL PORTS");
    InitializeObjectAttributes(&attributes, &path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &attributes))) {
        return 30;
    }
    RtlInitUnicodeString(&name, L"\\Device\\ParallelPort0");
    status = ZwQueryValueKey(key, &name, KeyValuePartialInformation, &value, sizeof(value), &length);
    ZwClose(key);
    if (!NT_SUCCESS(status) || value.Info.Type != REG_SZ || value.Info.DataLength != sizeof(expected) ||
        RtlCompareMemory(value.Info.Data, expected, sizeof(expected)) != sizeof(expected)) {
        return 31;
    }
    return 0;
}

/*
 * DriverEntry - run the steps; stay loaded (with nothing created) when they pass.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PFILE_OBJECT file;
    PDEVICE_OBJECT port;
    PARALLEL_PNP_INFORMATION pnp;
    ULONG step;
    ULONG i;

    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = PptTestUnload;

    if (IoGetConfigurationInformation()->ParallelCount != PPTEST_PORTS) {
        return PptTestFail(DriverObject, 100);
    }
    if (!NT_SUCCESS(PptTestOpen(0, &file, &port))) {
        return PptTestFail(DriverObject, 101);
    }
    step = PptTestArbitration(port, file);
    ObDereferenceObject(file);
    if (step != 0) {
        return PptTestFail(DriverObject, step);
    }
    for (i = 0; i < PPTEST_PORTS; i++) {
        if (!NT_SUCCESS(PptTestOpen(i, &file, &port))) {
            return PptTestFail(DriverObject, 20 + i);
        }
        RtlZeroMemory(&pnp, sizeof(pnp));
        step = NT_SUCCESS(PptTestCall(port, file, IOCTL_INTERNAL_GET_PARALLEL_PNP_INFO, &pnp, sizeof(pnp))) &&
               pnp.HardwareCapabilities == PPTEST_CAPS(i) && pnp.PortNumber == i ? 0 : 20 + i;
        ObDereferenceObject(file);
        if (step != 0) {
            return PptTestFail(DriverObject, step);
        }
    }
    for (i = 0; i < PPTEST_PORTS; i += 2) {
        MORE_PARALLEL_PORT_INFORMATION more;

        if (!NT_SUCCESS(PptTestOpen(i, &file, &port))) {
            return PptTestFail(DriverObject, 40 + i / 2);
        }
        step = NT_SUCCESS(PptTestCall(port, file, IOCTL_INTERNAL_GET_MORE_PARALLEL_PORT_INFO, &more,
                                      sizeof(more))) &&
               more.InterfaceType == Isa && more.InterruptMode == Latched &&
               more.InterruptLevel == (i == 0 ? 7u : 0u) ? 0 : 40 + i / 2;
        ObDereferenceObject(file);
        if (step != 0) {
            return PptTestFail(DriverObject, step);
        }
    }
    step = PptTestDeviceMap();
    if (step != 0) {
        return PptTestFail(DriverObject, step);
    }
    return STATUS_SUCCESS;
}
