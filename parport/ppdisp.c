/*
 * ppdisp.c - parport's dispatch routines.
 *
 * Requests are told apart by (major function, control code): the internal codes are
 * honoured only in IRP_MJ_INTERNAL_DEVICE_CONTROL, which only kernel-mode clients can
 * send. Some public IOCTL_PAR_* values coincide with internal ones, so a user program
 * sending such a value through DeviceIoControl must not allocate the port; parport
 * has no public controls and fails every IRP_MJ_DEVICE_CONTROL with
 * STATUS_INVALID_PARAMETER, as an unknown internal code is failed too.
 */
#include "parport.h"

/*
 * PptCompleteRequest - finish Irp with Status and Information.
 * IRQL: <= DISPATCH_LEVEL.
 */
static NTSTATUS PptCompleteRequest(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/*
 * PptDispatchCreateClose - IRP_MJ_CREATE / IRP_MJ_CLOSE: opening the port costs
 * nothing; ownership is a separate request. The close of the connection that
 * borrowed the port's DOS name (PptLendDosName) gives the name back to the port.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI PptDispatchCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);

    if (stack->MajorFunction == IRP_MJ_CLOSE && extension->DosNameLentTo == stack->FileObject) {
        /* The class driver that took the port's DOS name is gone: the port has it
           again, unless a third driver took the name meanwhile. */
        extension->DosNameLentTo = NULL;
        extension->DosLinkCreated =
            NT_SUCCESS(IoCreateSymbolicLink(&extension->DosName, &extension->DeviceName));
    }
    return PptCompleteRequest(Irp, STATUS_SUCCESS, 0);
}

/*
 * PptLendDosName - IOCTL_INTERNAL_PARCLASS_CONNECT: a class driver (the printer
 * driver, or DongLpt with Parameters\DosName) wants the DOS name in the input
 * buffer (WCHARs, without \DosDevices\). NT gives LPTn to the class driver; this
 * parport only holds it meanwhile, so that the bare port can be opened. When the
 * name is the one parport holds, parport deletes its link and takes it back when
 * the caller's file object is closed. A name parport does not hold: nothing to do.
 * IRQL: PASSIVE_LEVEL (symbolic links).
 */
static NTSTATUS PptLendDosName(PPPT_EXTENSION Extension, PIRP Irp, ULONG InputLength)
{
    UNICODE_STRING wanted;

    if (InputLength == 0 || InputLength % sizeof(WCHAR) != 0 || InputLength > MAXUSHORT) {
        return PptCompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
    }
    wanted.Buffer = (PWCH)Irp->AssociatedIrp.SystemBuffer;
    wanted.Length = (USHORT)InputLength;
    wanted.MaximumLength = (USHORT)InputLength;
    if (Extension->DosLinkCreated && RtlEqualUnicodeString(&wanted, &Extension->PortName, TRUE)) {
        IoDeleteSymbolicLink(&Extension->DosName);
        Extension->DosLinkCreated = FALSE;
        Extension->DosNameLentTo = IoGetCurrentIrpStackLocation(Irp)->FileObject;
    }
    return PptCompleteRequest(Irp, STATUS_SUCCESS, 0);
}

/*
 * PptDispatchCleanup - IRP_MJ_CLEANUP: the handle's waiting ALLOCATE requests are
 * cancelled. Ownership already granted stays with the client, which frees it.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI PptDispatchCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)DeviceObject->DeviceExtension;

    PptCancelWaitersOfFile(extension, IoGetCurrentIrpStackLocation(Irp)->FileObject);
    return PptCompleteRequest(Irp, STATUS_SUCCESS, 0);
}

/*
 * PptDispatchDeviceControl - IRP_MJ_DEVICE_CONTROL: no public controls (see the top
 * of this file).
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI PptDispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return PptCompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
}

/*
 * PptGetPortInfo - IOCTL_INTERNAL_GET_PARALLEL_PORT_INFO into the system buffer.
 * IRQL: <= DISPATCH_LEVEL.
 */
static NTSTATUS PptGetPortInfo(PPPT_EXTENSION Extension, PIRP Irp, ULONG OutputLength)
{
    PPARALLEL_PORT_INFORMATION info = (PPARALLEL_PORT_INFORMATION)Irp->AssociatedIrp.SystemBuffer;

    if (OutputLength < sizeof(PARALLEL_PORT_INFORMATION)) {
        return PptCompleteRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    }
    RtlZeroMemory(info, sizeof(*info));
    info->OriginalController = Extension->OriginalController;
    info->Controller = Extension->Controller;
    info->SpanOfController = Extension->SpanOfController;
    info->TryAllocatePort = PptTryAllocatePort;
    info->FreePort = PptFreePort;
    info->QueryNumWaiters = PptQueryNumWaiters;
    info->Context = Extension;
    return PptCompleteRequest(Irp, STATUS_SUCCESS, sizeof(PARALLEL_PORT_INFORMATION));
}

/*
 * PptGetMoreInfo - IOCTL_INTERNAL_GET_MORE_PARALLEL_PORT_INFO: bus and interrupt
 * (an ISA port's interrupt is edge-triggered: Latched). A port without an IRQ
 * reports level and vector 0.
 * IRQL: <= DISPATCH_LEVEL.
 */
static NTSTATUS PptGetMoreInfo(PPPT_EXTENSION Extension, PIRP Irp, ULONG OutputLength)
{
    PMORE_PARALLEL_PORT_INFORMATION info = (PMORE_PARALLEL_PORT_INFORMATION)Irp->AssociatedIrp.SystemBuffer;

    if (OutputLength < sizeof(MORE_PARALLEL_PORT_INFORMATION)) {
        return PptCompleteRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    }
    RtlZeroMemory(info, sizeof(*info));
    info->InterfaceType = Isa;
    info->BusNumber = 0;
    info->InterruptMode = Latched;
    if (Extension->Interrupt != PPT_NO_INTERRUPT) {
        /* Bus-relative, as the firmware recorded them: on ISA level and vector are
           both the IRQ; the client translates them (HalGetInterruptVector) to connect. */
        info->InterruptLevel = Extension->Interrupt;
        info->InterruptVector = Extension->Interrupt;
        info->InterruptAffinity = 1;
    }
    return PptCompleteRequest(Irp, STATUS_SUCCESS, sizeof(MORE_PARALLEL_PORT_INFORMATION));
}

/*
 * PptGetPnpInfo - IOCTL_INTERNAL_GET_PARALLEL_PNP_INFO: capabilities and the ECP
 * registers of an ECP-capable chip.
 * IRQL: <= DISPATCH_LEVEL.
 */
static NTSTATUS PptGetPnpInfo(PPPT_EXTENSION Extension, PIRP Irp, ULONG OutputLength)
{
    PPARALLEL_PNP_INFORMATION info = (PPARALLEL_PNP_INFORMATION)Irp->AssociatedIrp.SystemBuffer;

    if (OutputLength < sizeof(PARALLEL_PNP_INFORMATION)) {
        return PptCompleteRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    }
    RtlZeroMemory(info, sizeof(*info));
    if (Extension->HardwareCapabilities & PPT_ECP_PRESENT) {
        info->OriginalEcpController.QuadPart = Extension->OriginalController.QuadPart + 0x400;
        info->EcpController = Extension->Controller + 0x400;
        info->SpanOfEcpController = PAR_ECP_SPAN;
    }
    info->PortNumber = Extension->PortIndex;
    info->HardwareCapabilities = Extension->HardwareCapabilities;
    info->TrySetChipMode = ParTrySetChipMode;
    info->ClearChipMode = ParClearChipMode;
    info->Context = Extension;
    info->PortName = Extension->PortName.Buffer;
    return PptCompleteRequest(Irp, STATUS_SUCCESS, sizeof(PARALLEL_PNP_INFORMATION));
}

/*
 * PptDispatchInternalDeviceControl - IRP_MJ_INTERNAL_DEVICE_CONTROL from client
 * drivers: port information, allocation and release.
 * IRQL: <= DISPATCH_LEVEL.
 */
NTSTATUS NTAPI PptDispatchInternalDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG outputLength = stack->Parameters.DeviceIoControl.OutputBufferLength;
    NTSTATUS status;

    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_INTERNAL_GET_PARALLEL_PORT_INFO:
        return PptGetPortInfo(extension, Irp, outputLength);

    case IOCTL_INTERNAL_RELEASE_PARALLEL_PORT_INFO:
        return PptCompleteRequest(Irp, STATUS_SUCCESS, 0);

    case IOCTL_INTERNAL_GET_PARALLEL_PNP_INFO:
        return PptGetPnpInfo(extension, Irp, outputLength);

    case IOCTL_INTERNAL_GET_MORE_PARALLEL_PORT_INFO:
        return PptGetMoreInfo(extension, Irp, outputLength);

    case IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE:
        status = PptQueueAllocate(extension, Irp);
        if (status == STATUS_PENDING) {
            return STATUS_PENDING;
        }
        return PptCompleteRequest(Irp, status, 0);

    case IOCTL_INTERNAL_PARALLEL_PORT_FREE:
        PptFreePort(extension);
        return PptCompleteRequest(Irp, STATUS_SUCCESS, 0);

    case IOCTL_INTERNAL_PARCLASS_CONNECT:
        return PptLendDosName(extension, Irp, stack->Parameters.DeviceIoControl.InputBufferLength);

    default:
        return PptCompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
    }
}
