/*
 * dongport.c - DongLpt's side of parport: connect to \Device\ParallelPortN, learn
 * where the registers are and what the chip can do, and own the port only while
 * talking to the key.
 *
 * The port is taken with TryAllocatePort when it is free; otherwise an
 * IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE request waits in parport's queue. That IRP is
 * allocated here (not built by IoBuildDeviceIoControlRequest) and finished with
 * STATUS_MORE_PROCESSING_REQUIRED, so it stays valid until this driver frees it and
 * can be cancelled at any moment without racing its completion.
 */
#include "dongdrv.h"

#define DONG_PORT_PREFIX    L"\\Device\\ParallelPort"

/*
 * DongCallPortSync - send internal IOCTL Code to parport and wait for it: the
 * classic IoBuildDeviceIoControlRequest + event pattern (the wait only when parport
 * returns STATUS_PENDING).
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS DongCallPortSync(PDONG_EXTENSION Extension, ULONG Code, PVOID Output, ULONG OutputLength)
{
    KEVENT event;
    IO_STATUS_BLOCK ioStatus;
    PIRP irp;
    NTSTATUS status;

    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(Code, Extension->PortDeviceObject, NULL, 0, Output, OutputLength,
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
 * DongConnectPort - open \Device\ParallelPort<PortNumber>, get its
 * PARALLEL_PORT_INFORMATION (SpanOfController must cover DATA, STATUS and CONTROL)
 * and its capabilities, and set the link engine up on it.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS, the failure of the parport calls, or
 * STATUS_DEVICE_CONFIGURATION_ERROR for a span that is too small. Logs the failure.
 */
NTSTATUS DongConnectPort(PDONG_EXTENSION Extension)
{
    WCHAR nameBuffer[DONG_NAME_CHARS];
    WCHAR numberText[12];
    WCHAR spanText[12];
    UNICODE_STRING name;
    UNICODE_STRING number;
    PARALLEL_PNP_INFORMATION pnpInfo;
    PUCHAR ecpController = NULL;
    PCWSTR strings[2];
    BOOLEAN owned;
    NTSTATUS status;

    name.Buffer = nameBuffer;
    name.Length = 0;
    name.MaximumLength = sizeof(nameBuffer);
    number.Buffer = numberText;
    number.Length = 0;
    number.MaximumLength = sizeof(numberText) - sizeof(WCHAR);
    RtlAppendUnicodeToString(&name, DONG_PORT_PREFIX);
    RtlIntegerToUnicodeString(Extension->PortNumber, 10, &number);
    RtlAppendUnicodeStringToString(&name, &number);
    numberText[number.Length / sizeof(WCHAR)] = L'\0';
    strings[0] = numberText;

    status = IoGetDeviceObjectPointer(&name, FILE_READ_ATTRIBUTES, &Extension->PortFileObject,
                                      &Extension->PortDeviceObject);
    if (NT_SUCCESS(status)) {
        status = DongCallPortSync(Extension, IOCTL_INTERNAL_GET_PARALLEL_PORT_INFO, &Extension->PortInfo,
                                  sizeof(Extension->PortInfo));
    }
    if (!NT_SUCCESS(status)) {
        DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_PORT_UNAVAILABLE, status,
                     IRP_MJ_INTERNAL_DEVICE_CONTROL, 1, strings, 1);
        DongDisconnectPort(Extension);
        return status;
    }
    if (Extension->PortInfo.SpanOfController < 3) {
        strings[1] = DongFormatUlong(Extension->PortInfo.SpanOfController, 10, spanText, sizeof(spanText));
        DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_PORT_SPAN,
                     STATUS_DEVICE_CONFIGURATION_ERROR, IRP_MJ_INTERNAL_DEVICE_CONTROL, 2, strings, 2);
        DongDisconnectPort(Extension);
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    }

    /* An arbitrator without GET_PARALLEL_PNP_INFO (NT 4) means an SPP. */
    RtlZeroMemory(&pnpInfo, sizeof(pnpInfo));
    if (NT_SUCCESS(DongCallPortSync(Extension, IOCTL_INTERNAL_GET_PARALLEL_PNP_INFO, &pnpInfo,
                                    sizeof(pnpInfo)))) {
        Extension->HardwareCapabilities = pnpInfo.HardwareCapabilities;
        if (pnpInfo.SpanOfEcpController >= 3) {
            ecpController = pnpInfo.EcpController;
        }
    }
    /* The engine times a few STATUS reads; do it as the owner when the port is free
       (status reads disturb no one otherwise, so a busy port is not waited for). */
    owned = Extension->PortInfo.TryAllocatePort(Extension->PortInfo.Context);
    status = DongLinkInitialize(&Extension->Link, Extension->PortInfo.Controller, ecpController,
                                Extension->HardwareCapabilities, &Extension->Timeouts, 0, 0);
    if (owned) {
        Extension->PortInfo.FreePort(Extension->PortInfo.Context);
    }
    if (!NT_SUCCESS(status)) {
        DongDisconnectPort(Extension);
    }
    return status;
}

/*
 * DongAskPortForName - IOCTL_INTERNAL_PARCLASS_CONNECT with Name (e.g. LPT1): our
 * parport holds the port's DOS name until a class driver asks for it, and takes it
 * back when this connection closes. A name parport does not hold stays where it is.
 * IRQL: PASSIVE_LEVEL.
 */
VOID DongAskPortForName(PDONG_EXTENSION Extension, PUNICODE_STRING Name)
{
    KEVENT event;
    IO_STATUS_BLOCK ioStatus;
    PIRP irp;

    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(IOCTL_INTERNAL_PARCLASS_CONNECT, Extension->PortDeviceObject, Name->Buffer,
                                        Name->Length, NULL, 0, TRUE, &event, &ioStatus);
    if (irp == NULL) {
        return;
    }
    IoGetNextIrpStackLocation(irp)->FileObject = Extension->PortFileObject;
    if (IoCallDriver(Extension->PortDeviceObject, irp) == STATUS_PENDING) {
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
    }
}

/*
 * DongDisconnectPort - drop the reference on parport's device (through its file
 * object, which sends parport IRP_MJ_CLEANUP and IRP_MJ_CLOSE).
 * IRQL: PASSIVE_LEVEL.
 */
VOID DongDisconnectPort(PDONG_EXTENSION Extension)
{
    if (Extension->PortFileObject != NULL) {
        ObDereferenceObject(Extension->PortFileObject);
        Extension->PortFileObject = NULL;
        Extension->PortDeviceObject = NULL;
    }
}

/*
 * DongAllocateComplete - completion routine of the ALLOCATE request: signal the
 * waiting worker and keep the IRP (the worker frees it).
 * IRQL: <= DISPATCH_LEVEL.
 */
static NTSTATUS NTAPI DongAllocateComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/*
 * DongAcquirePort - own the port, waiting at most WaitMs (0: no limit) while another
 * parport client has it. The wait also ends when the worker has nothing left to own
 * the port for (requests cancelled, driver stopping): WakeEvent tells it to look.
 * IRQL: PASSIVE_LEVEL, worker thread.
 * Returns STATUS_SUCCESS (PortOwned set), STATUS_DEVICE_BUSY (WaitMs passed),
 * STATUS_CANCELLED (no longer needed), STATUS_INSUFFICIENT_RESOURCES, or the status
 * parport failed the ALLOCATE request with.
 */
NTSTATUS DongAcquirePort(PDONG_EXTENSION Extension, ULONG WaitMs)
{
    KEVENT allocated;
    PVOID objects[2];
    PIRP irp;
    PIO_STACK_LOCATION stack;
    ULONGLONG deadline = KeQueryInterruptTime() + (ULONGLONG)WaitMs * 10000;
    NTSTATUS status;

    if (Extension->PortInfo.TryAllocatePort(Extension->PortInfo.Context)) {
        Extension->PortOwned = TRUE;
        return STATUS_SUCCESS;
    }

    irp = IoAllocateIrp(Extension->PortDeviceObject->StackSize, FALSE);
    if (irp == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Extension->PortWaits++;
    KeInitializeEvent(&allocated, NotificationEvent, FALSE);
    stack = IoGetNextIrpStackLocation(irp);
    stack->MajorFunction = IRP_MJ_INTERNAL_DEVICE_CONTROL;
    stack->Parameters.DeviceIoControl.IoControlCode = IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE;
    stack->FileObject = Extension->PortFileObject;
    IoSetCompletionRoutine(irp, DongAllocateComplete, &allocated, TRUE, TRUE, TRUE);
    IoCallDriver(Extension->PortDeviceObject, irp);

    objects[0] = &allocated;
    objects[1] = &Extension->WakeEvent;
    for (;;) {
        LARGE_INTEGER timeout;
        ULONGLONG now = KeQueryInterruptTime();

        timeout.QuadPart = -(LONGLONG)(deadline > now ? deadline - now : 0);
        status = KeWaitForMultipleObjects(2, objects, WaitAny, Executive, KernelMode, FALSE,
                                          WaitMs != 0 ? &timeout : NULL, NULL);
        if (status == STATUS_WAIT_0) {
            break;
        }
        if (status == STATUS_WAIT_1 && DongWorkerWantsPort(Extension)) {
            continue;
        }
        /* Timed out or no longer wanted: withdraw the request; it may win the race. */
        IoCancelIrp(irp);
        KeWaitForSingleObject(&allocated, Executive, KernelMode, FALSE, NULL);
        if (status == STATUS_WAIT_1) {
            /* The wake was for this decision; let the worker loop see it again. */
            KeSetEvent(&Extension->WakeEvent, IO_NO_INCREMENT, FALSE);
        }
        break;
    }

    if (NT_SUCCESS(irp->IoStatus.Status)) {
        Extension->PortOwned = TRUE;
        status = STATUS_SUCCESS;
    } else if (status == STATUS_WAIT_0) {
        status = irp->IoStatus.Status;      /* parport refused the request */
    } else if (status == STATUS_TIMEOUT) {
        status = STATUS_DEVICE_BUSY;
    } else {
        status = STATUS_CANCELLED;
    }
    IoFreeIrp(irp);
    return status;
}

/*
 * DongReleasePort - end any session, park the lines, and give the port back to
 * parport (which hands it to its oldest waiter).
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
VOID DongReleasePort(PDONG_EXTENSION Extension)
{
    if (Extension->PortOwned) {
        DongLinkShutdown(&Extension->Link);
        Extension->PortOwned = FALSE;
        Extension->PortInfo.FreePort(Extension->PortInfo.Context);
    }
}
