/*
 * klport.c - a client's side of parport: connect to \Device\ParallelPortN, send it
 * internal IOCTLs, and own the port.
 *
 * The port is taken with TryAllocatePort when it is free; otherwise an
 * IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE request waits in parport's queue, behind any
 * other client already waiting. That IRP is allocated here (not built by
 * IoBuildDeviceIoControlRequest) and finished with STATUS_MORE_PROCESSING_REQUIRED,
 * so it stays valid until it is freed here and can be cancelled at any moment
 * without racing its completion.
 */
#include "ddklib.h"

#define KL_PORT_PREFIX      L"\\Device\\ParallelPort"
#define KL_DOS_DEVICES      L"\\DosDevices\\"
#define KL_PORT_NAME_CHARS  64

/* The registers a client needs at least: DATA, STATUS and CONTROL. */
#define KL_MINIMUM_SPAN     3

/*
 * KlCallPortSync - send internal IOCTL Code to parport through the connection's file
 * object and wait for it: the classic IoBuildDeviceIoControlRequest + event pattern
 * (the wait only when parport returns STATUS_PENDING).
 * IRQL: PASSIVE_LEVEL.
 * Returns parport's status, or STATUS_INSUFFICIENT_RESOURCES.
 */
NTSTATUS KlCallPortSync(PKL_PORT Port, ULONG Code, PVOID Input, ULONG InputLength, PVOID Output,
                        ULONG OutputLength)
{
    KEVENT event;
    IO_STATUS_BLOCK ioStatus;
    PIRP irp;
    NTSTATUS status;

    KeInitializeEvent(&event, NotificationEvent, FALSE);
    irp = IoBuildDeviceIoControlRequest(Code, Port->DeviceObject, Input, InputLength, Output, OutputLength, TRUE,
                                        &event, &ioStatus);
    if (irp == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    IoGetNextIrpStackLocation(irp)->FileObject = Port->FileObject;
    status = IoCallDriver(Port->DeviceObject, irp);
    if (status == STATUS_PENDING) {
        KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, NULL);
        status = ioStatus.Status;
    }
    return status;
}

/*
 * KlConnectPort - open \Device\ParallelPort<PortNumber> and get its
 * PARALLEL_PORT_INFORMATION into Port->Info.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS; the failure of the open or of the parport call; or
 * STATUS_DEVICE_CONFIGURATION_ERROR when SpanOfController (left in Port->Info for
 * the caller's report) does not cover DATA, STATUS and CONTROL. On failure nothing
 * stays open.
 */
NTSTATUS KlConnectPort(PKL_PORT Port, ULONG PortNumber)
{
    WCHAR nameBuffer[KL_PORT_NAME_CHARS];
    UNICODE_STRING name;
    NTSTATUS status;

    KlInitString(&name, nameBuffer, sizeof(nameBuffer));
    RtlAppendUnicodeToString(&name, KL_PORT_PREFIX);
    KlAppendDecimal(&name, PortNumber);

    status = IoGetDeviceObjectPointer(&name, FILE_READ_ATTRIBUTES, &Port->FileObject, &Port->DeviceObject);
    if (!NT_SUCCESS(status)) {
        /* What a failed open left in its outputs is nothing to dereference. */
        Port->FileObject = NULL;
        Port->DeviceObject = NULL;
        return status;
    }
    status = KlCallPortSync(Port, IOCTL_INTERNAL_GET_PARALLEL_PORT_INFO, NULL, 0, &Port->Info, sizeof(Port->Info));
    if (NT_SUCCESS(status) && Port->Info.SpanOfController < KL_MINIMUM_SPAN) {
        status = STATUS_DEVICE_CONFIGURATION_ERROR;
    }
    if (!NT_SUCCESS(status)) {
        KlDisconnectPort(Port);
    }
    return status;
}

/*
 * KlDisconnectPort - drop the reference on parport's device (through its file
 * object, which sends parport IRP_MJ_CLEANUP and IRP_MJ_CLOSE, and so gives back a
 * DOS name lent for KlLinkDosName). Does nothing when not connected.
 * IRQL: PASSIVE_LEVEL.
 */
VOID KlDisconnectPort(PKL_PORT Port)
{
    if (Port->FileObject != NULL) {
        ObDereferenceObject(Port->FileObject);
        Port->FileObject = NULL;
        Port->DeviceObject = NULL;
    }
}

/*
 * KlAskPortForName - IOCTL_INTERNAL_PARCLASS_CONNECT with Name (WCHARs, no
 * \DosDevices\, e.g. LPT1): our parport holds the port's DOS name until a class
 * driver asks for it, and takes it back when this connection closes. A name parport
 * does not hold belongs to another driver: then nothing changes.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID KlAskPortForName(PKL_PORT Port, PUNICODE_STRING Name)
{
    KlCallPortSync(Port, IOCTL_INTERNAL_PARCLASS_CONNECT, Name->Buffer, Name->Length, NULL, 0);
}

/*
 * KlLinkDosName - \DosDevices\<Name> -> DeviceName. When the name is in use, parport
 * may only be holding it for the port's class driver: it is asked for it, and the
 * link tried once more (the name goes back to parport when this connection closes,
 * so the caller deletes the link first). Link is an empty string over the caller's
 * buffer (KlInitString) and receives the link's name, NUL-terminated.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS; STATUS_NAME_TOO_LONG when Link's buffer is too small; or
 * the failure of IoCreateSymbolicLink (the name belongs to another driver).
 */
NTSTATUS KlLinkDosName(PKL_PORT Port, PUNICODE_STRING Name, PUNICODE_STRING DeviceName, PUNICODE_STRING Link)
{
    NTSTATUS status;

    if (!NT_SUCCESS(RtlAppendUnicodeToString(Link, KL_DOS_DEVICES)) ||
        !NT_SUCCESS(RtlAppendUnicodeStringToString(Link, Name))) {
        return STATUS_NAME_TOO_LONG;
    }
    KlTerminateString(Link);
    status = IoCreateSymbolicLink(Link, DeviceName);
    if (!NT_SUCCESS(status)) {
        KlAskPortForName(Port, Name);
        status = IoCreateSymbolicLink(Link, DeviceName);
    }
    return status;
}

/*
 * KlAllocateComplete - completion routine of the ALLOCATE request: signal the
 * waiting thread and keep the IRP (KlAllocatePort frees it).
 * IRQL: <= DISPATCH_LEVEL.
 */
static NTSTATUS NTAPI KlAllocateComplete(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

/*
 * KlAllocatePort - own the port, waiting in parport's queue until Deadline
 * (KeQueryInterruptTime units; KL_NO_DEADLINE: no limit) while another client has
 * it. WakeEvent (the caller's worker's) interrupts the wait: StillWanted(Context)
 * then says whether to go on waiting, so that a cancelled request or a stopping
 * device does not wait for nothing. A wake that ends the wait is passed on (the
 * event is set again) for the caller's loop to see.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS (the caller owns the port and frees it with
 * Port->Info.FreePort), STATUS_DEVICE_BUSY (Deadline passed), STATUS_CANCELLED (no
 * longer wanted), STATUS_INSUFFICIENT_RESOURCES, or the status parport failed the
 * ALLOCATE request with.
 */
NTSTATUS KlAllocatePort(PKL_PORT Port, ULONGLONG Deadline, PKEVENT WakeEvent, PKL_PORT_STILL_WANTED StillWanted,
                        PVOID Context)
{
    KEVENT allocated;
    PVOID objects[2];
    PIRP irp;
    PIO_STACK_LOCATION stack;
    NTSTATUS status;

    if (Port->Info.TryAllocatePort(Port->Info.Context)) {
        return STATUS_SUCCESS;
    }

    irp = IoAllocateIrp(Port->DeviceObject->StackSize, FALSE);
    if (irp == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Port->Waits++;
    KeInitializeEvent(&allocated, NotificationEvent, FALSE);
    stack = IoGetNextIrpStackLocation(irp);
    stack->MajorFunction = IRP_MJ_INTERNAL_DEVICE_CONTROL;
    stack->Parameters.DeviceIoControl.IoControlCode = IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE;
    stack->FileObject = Port->FileObject;
    IoSetCompletionRoutine(irp, KlAllocateComplete, &allocated, TRUE, TRUE, TRUE);
    IoCallDriver(Port->DeviceObject, irp);

    objects[0] = &allocated;
    objects[1] = WakeEvent;
    for (;;) {
        LARGE_INTEGER timeout;
        ULONGLONG now = KeQueryInterruptTime();

        timeout.QuadPart = -(LONGLONG)(Deadline > now ? Deadline - now : 0);
        status = KeWaitForMultipleObjects(2, objects, WaitAny, Executive, KernelMode, FALSE,
                                          Deadline != KL_NO_DEADLINE ? &timeout : NULL, NULL);
        if (status == STATUS_WAIT_0) {
            break;
        }
        if (status == STATUS_WAIT_1 && StillWanted(Context)) {
            continue;
        }
        /* Timed out or no longer wanted: withdraw the request; it may win the race. */
        IoCancelIrp(irp);
        KeWaitForSingleObject(&allocated, Executive, KernelMode, FALSE, NULL);
        if (status == STATUS_WAIT_1) {
            KeSetEvent(WakeEvent, IO_NO_INCREMENT, FALSE);
        }
        break;
    }

    if (NT_SUCCESS(irp->IoStatus.Status)) {
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
