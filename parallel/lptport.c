/*
 * lptport.c - the printer driver's side of parport: connect to \Device\ParallelPortN,
 * learn where the registers are and the port's name, and own the port only while
 * moving bytes.
 *
 * The port is taken with TryAllocatePort when it is free; otherwise an
 * IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE request waits in parport's queue, behind any
 * other client (DongLpt) already waiting. That IRP is allocated here and finished
 * with STATUS_MORE_PROCESSING_REQUIRED, so it stays valid until this driver frees
 * it and can be cancelled at any moment without racing its completion.
 */
#include "lptdrv.h"

#define LPT_PORT_PREFIX     L"\\Device\\ParallelPort"
#define LPT_DEFAULT_NAME    L"LPT"

/*
 * LptCallPortSync - send internal IOCTL Code to parport and wait for it.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS LptCallPortSync(PLPT_EXTENSION Extension, ULONG Code, PVOID Input, ULONG InputLength, PVOID Output,
                                ULONG OutputLength)
{
    KEVENT event;
    IO_STATUS_BLOCK ioStatus;
    PIRP irp;
    NTSTATUS status;

    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(Code, Extension->PortDeviceObject, Input, InputLength, Output, OutputLength,
                                        TRUE, &event, &ioStatus);
    if (irp == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    IoGetNextIrpStackLocation(irp)->FileObject = Extension->PortFileObject;
    status = IoCallDriver(Extension->PortDeviceObject, irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
        status = ioStatus.Status;
    }
    return status;
}

/*
 * LptPortNameOf - the port's DOS name without the \DosDevices\ prefix: the name
 * parport reports in PARALLEL_PNP_INFORMATION.PortName, or LPT<N+1> (the name NT
 * gives the Nth port) when parport has none (an NT 4 arbitrator).
 * IRQL: PASSIVE_LEVEL.
 */
static VOID LptPortNameOf(PLPT_EXTENSION Extension, PUNICODE_STRING PortName)
{
    PARALLEL_PNP_INFORMATION pnpInfo;
    WCHAR digits[12];
    UNICODE_STRING number;

    PortName->Length = 0;
    RtlZeroMemory(&pnpInfo, sizeof(pnpInfo));
    if (NT_SUCCESS(LptCallPortSync(Extension, IOCTL_INTERNAL_GET_PARALLEL_PNP_INFO, NULL, 0, &pnpInfo,
                                   sizeof(pnpInfo))) &&
        pnpInfo.PortName != NULL && pnpInfo.PortName[0] != L'\0' &&
        NT_SUCCESS(RtlAppendUnicodeToString(PortName, pnpInfo.PortName))) {
        return;
    }
    PortName->Length = 0;
    number.Buffer = digits;
    number.Length = 0;
    number.MaximumLength = sizeof(digits);
    RtlAppendUnicodeToString(PortName, LPT_DEFAULT_NAME);
    RtlIntegerToUnicodeString(Extension->PortNumber + 1, 10, &number);
    RtlAppendUnicodeStringToString(PortName, &number);
}

/*
 * LptConnectPort - open \Device\ParallelPort<PortNumber>, get its
 * PARALLEL_PORT_INFORMATION (SpanOfController must cover DATA, STATUS and CONTROL)
 * and its DOS name (into PortName, whose buffer the caller provides).
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS, the failure of the parport calls (logged), or
 * STATUS_DEVICE_CONFIGURATION_ERROR for a span that is too small.
 */
NTSTATUS LptConnectPort(PLPT_EXTENSION Extension, PUNICODE_STRING PortName)
{
    WCHAR numberText[12];
    PCWSTR strings[1];
    NTSTATUS status;

    status = IoGetDeviceObjectPointer(&Extension->PortDeviceName, FILE_READ_ATTRIBUTES, &Extension->PortFileObject,
                                      &Extension->PortDeviceObject);
    if (NT_SUCCESS(status)) {
        status = LptCallPortSync(Extension, IOCTL_INTERNAL_GET_PARALLEL_PORT_INFO, NULL, 0, &Extension->PortInfo,
                                 sizeof(Extension->PortInfo));
    }
    if (NT_SUCCESS(status) && Extension->PortInfo.SpanOfController <= LPT_CONTROL_OFFSET) {
        status = STATUS_DEVICE_CONFIGURATION_ERROR;
    }
    if (!NT_SUCCESS(status)) {
        strings[0] = LptFormatUlong(Extension->PortNumber, numberText, sizeof(numberText));
        LptLogEvent(Extension->DeviceObject, LPT_MSG_PORT_UNAVAILABLE, status, IRP_MJ_INTERNAL_DEVICE_CONTROL, 1,
                    strings, 1);
        LptDisconnectPort(Extension);
        return status;
    }
    LptPortNameOf(Extension, PortName);
    return STATUS_SUCCESS;
}

/*
 * LptAskPortForName - IOCTL_INTERNAL_PARCLASS_CONNECT with PortName: our parport
 * holds the port's DOS name until a class driver asks for it, and takes it back
 * when this connection (PortFileObject) closes. Another driver's name is not
 * parport's to give: then nothing changes.
 * IRQL: PASSIVE_LEVEL.
 */
VOID LptAskPortForName(PLPT_EXTENSION Extension, PUNICODE_STRING PortName)
{
    LptCallPortSync(Extension, IOCTL_INTERNAL_PARCLASS_CONNECT, PortName->Buffer, PortName->Length, NULL, 0);
}

/*
 * LptDisconnectPort - drop the reference on parport's device (through its file
 * object, which sends parport IRP_MJ_CLEANUP and IRP_MJ_CLOSE).
 * IRQL: PASSIVE_LEVEL.
 */
VOID LptDisconnectPort(PLPT_EXTENSION Extension)
{
    if (Extension->PortFileObject != NULL) {
        ObDereferenceObject(Extension->PortFileObject);
        Extension->PortFileObject = NULL;
        Extension->PortDeviceObject = NULL;
    }
}

/*
 * LptTakePort - the port is ours: put the lines in compatibility-mode idle (another
 * client may have left the data lines reversed).
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
static VOID LptTakePort(PLPT_EXTENSION Extension)
{
    Extension->PortOwned = TRUE;
    WRITE_PORT_UCHAR(Extension->PortInfo.Controller + LPT_CONTROL_OFFSET, LPT_CTL_IDLE);
}

/*
 * LptAllocateComplete - completion routine of the ALLOCATE request: signal the
 * waiting worker and keep the IRP (the worker frees it).
 * IRQL: <= DISPATCH_LEVEL.
 */
static NTSTATUS NTAPI LptAllocateComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/*
 * LptAcquirePort - own the port for request Irp, waiting in parport's queue until
 * Deadline (KeQueryInterruptTime units) while another client has it. WakeEvent
 * interrupts the wait so that a cancelled request or a stopping device does not
 * wait for nothing.
 * IRQL: PASSIVE_LEVEL, worker thread.
 * Returns STATUS_SUCCESS (PortOwned set), STATUS_DEVICE_BUSY (Deadline passed),
 * STATUS_CANCELLED (Irp cancelled or device stopping), STATUS_INSUFFICIENT_RESOURCES,
 * or the status parport failed the ALLOCATE request with.
 */
NTSTATUS LptAcquirePort(PLPT_EXTENSION Extension, PIRP Irp, ULONGLONG Deadline)
{
    KEVENT allocated;
    PVOID objects[2];
    PIRP allocate;
    PIO_STACK_LOCATION stack;
    NTSTATUS status;

    if (Extension->PortInfo.TryAllocatePort(Extension->PortInfo.Context)) {
        LptTakePort(Extension);
        return STATUS_SUCCESS;
    }

    allocate = IoAllocateIrp(Extension->PortDeviceObject->StackSize, FALSE);
    if (allocate == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    KeInitializeEvent(&allocated, NotificationEvent, FALSE);
    stack = IoGetNextIrpStackLocation(allocate);
    stack->MajorFunction = IRP_MJ_INTERNAL_DEVICE_CONTROL;
    stack->Parameters.DeviceIoControl.IoControlCode = IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE;
    stack->FileObject = Extension->PortFileObject;
    IoSetCompletionRoutine(allocate, LptAllocateComplete, &allocated, TRUE, TRUE, TRUE);
    IoCallDriver(Extension->PortDeviceObject, allocate);

    objects[0] = &allocated;
    objects[1] = &Extension->WakeEvent;
    for (;;) {
        LARGE_INTEGER timeout;
        ULONGLONG now = KeQueryInterruptTime();

        timeout.QuadPart = -(LONGLONG)(Deadline > now ? Deadline - now : 0);
        status = KeWaitForMultipleObjects(2, objects, WaitAny, Executive, KernelMode, FALSE, &timeout, NULL);
        if (status == STATUS_WAIT_0) {
            break;
        }
        if (status == STATUS_WAIT_1 && !LptRequestAbandoned(Extension, Irp)) {
            continue;   /* woken for a new request: this one still wants the port */
        }
        /* Timed out or no longer wanted: withdraw the request; it may win the race. */
        IoCancelIrp(allocate);
        KeWaitForSingleObject(&allocated, Executive, KernelMode, FALSE, NULL);
        break;
    }

    if (NT_SUCCESS(allocate->IoStatus.Status)) {
        LptTakePort(Extension);
        status = STATUS_SUCCESS;
    } else if (status == STATUS_WAIT_0) {
        status = allocate->IoStatus.Status;
    } else if (status == STATUS_TIMEOUT) {
        status = STATUS_DEVICE_BUSY;
    } else {
        status = STATUS_CANCELLED;
    }
    IoFreeIrp(allocate);
    return status;
}

/*
 * LptReleasePort - park the lines (data held past the last strobe, then 0xFF, which
 * a DL-1 in the cable needs) and give the port back to parport, which hands it to
 * its oldest waiter.
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
VOID LptReleasePort(PLPT_EXTENSION Extension)
{
    if (!Extension->PortOwned) {
        return;
    }
    KeStallExecutionProcessor(LPT_HOLD_US);
    WRITE_PORT_UCHAR(Extension->PortInfo.Controller + LPT_DATA_OFFSET, LPT_DATA_PARKED);
    WRITE_PORT_UCHAR(Extension->PortInfo.Controller + LPT_CONTROL_OFFSET, LPT_CTL_IDLE);
    Extension->PortOwned = FALSE;
    Extension->PortInfo.FreePort(Extension->PortInfo.Context);
}

/*
 * LptPortWanted - does another parport client wait for the port we own?
 * IRQL: <= DISPATCH_LEVEL.
 */
BOOLEAN LptPortWanted(PLPT_EXTENSION Extension)
{
    return Extension->PortInfo.QueryNumWaiters(Extension->PortInfo.Context) != 0;
}
