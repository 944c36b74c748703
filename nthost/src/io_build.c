/*
 * io_build.c — IRPs the I/O manager builds for drivers: IoBuildDeviceIoControlRequest,
 * IoBuildSynchronousFsdRequest, IoBuildAsynchronousFsdRequest — and the buffer
 * handling they share with the Win32 personality (buffered, direct and neither I/O).
 *
 * Buffers handed to these requests are copied or described exactly as on NT; the I/O
 * manager frees what it allocated (system buffer, MDLs) and the IRP itself at
 * completion.
 */
#include <ntddk.h>

#include "io_internal.h"

/*
 * IopSetupBufferedIo: give the IRP a system buffer of `length` bytes (a copy of
 * `copy_in` when not NULL); with `output`, the final stage copies up to
 * IoStatus.Information bytes back to the requester's buffer (Irp->UserBuffer).
 */
NTSTATUS IopSetupBufferedIo(PIRP Irp, ULONG length, const void *copy_in, ULONG copy_len, BOOLEAN output,
                            ULONG output_len)
{
    iop_final *f = IopIrpFinal(Irp);
    if (length) {
        PVOID sb = ExAllocatePoolWithTag(NonPagedPool, length, IOP_SYSBUF_TAG);
        if (!sb)
            return STATUS_INSUFFICIENT_RESOURCES;
        if (copy_in && copy_len)
            memcpy(sb, copy_in, copy_len);
        Irp->AssociatedIrp.SystemBuffer = sb;
        Irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
    }
    if (output) {
        Irp->Flags |= IRP_INPUT_OPERATION;
        f->user_length = output_len;
        f->user_length_valid = TRUE;
    }
    return STATUS_SUCCESS;
}

/*
 * IopSetupDeviceControl: lay out an IOCTL's buffers by its METHOD (the same for
 * IoBuildDeviceIoControlRequest and DeviceIoControl):
 *  BUFFERED: one system buffer of max(in, out), input copied in, output copied back;
 *  IN/OUT_DIRECT: input in a system buffer, the output buffer described by an MDL;
 *  NEITHER: Type3InputBuffer and UserBuffer are the caller's own pointers.
 */
NTSTATUS IopSetupDeviceControl(PIRP Irp, PIO_STACK_LOCATION sp, ULONG code, PVOID in, ULONG inlen, PVOID out,
                               ULONG outlen)
{
    sp->Parameters.DeviceIoControl.IoControlCode = code;
    sp->Parameters.DeviceIoControl.InputBufferLength = inlen;
    sp->Parameters.DeviceIoControl.OutputBufferLength = outlen;
    Irp->UserBuffer = out;
    switch (METHOD_FROM_CTL_CODE(code)) {
    case METHOD_BUFFERED:
        return IopSetupBufferedIo(Irp, inlen > outlen ? inlen : outlen, in, inlen, out != NULL && outlen != 0, outlen);
    case METHOD_IN_DIRECT:
    case METHOD_OUT_DIRECT: {
        NTSTATUS st = IopSetupBufferedIo(Irp, in ? inlen : 0, in, inlen, FALSE, 0);
        if (NT_SUCCESS(st) && out && outlen && !IoAllocateMdl(out, outlen, FALSE, FALSE, Irp))
            st = STATUS_INSUFFICIENT_RESOURCES;
        return st;
    }
    default:
        sp->Parameters.DeviceIoControl.Type3InputBuffer = in;
        return STATUS_SUCCESS;
    }
}

/*
 * IopSetupReadWrite: a read or write on `dev` with the device's I/O method
 * (DO_BUFFERED_IO, DO_DIRECT_IO, or neither).
 */
NTSTATUS IopSetupReadWrite(PIRP Irp, PDEVICE_OBJECT dev, UCHAR major, PVOID buffer, ULONG length)
{
    Irp->UserBuffer = buffer;
    if (dev->Flags & DO_BUFFERED_IO)
        return IopSetupBufferedIo(Irp, length, major == IRP_MJ_WRITE ? buffer : NULL, length,
                                  major == IRP_MJ_READ, length);
    if ((dev->Flags & DO_DIRECT_IO) && length && !IoAllocateMdl(buffer, length, FALSE, FALSE, Irp))
        return STATUS_INSUFFICIENT_RESOURCES;
    return STATUS_SUCCESS;
}

/* IopDiscardIrp: free a built IRP that was never sent, with its buffers. */
VOID IopDiscardIrp(PIRP irp)
{
    if (irp->Flags & IRP_DEALLOCATE_BUFFER)
        ExFreePoolWithTag(irp->AssociatedIrp.SystemBuffer, IOP_SYSBUF_TAG);
    for (PMDL m = irp->MdlAddress, n; m; m = n) {
        n = m->Next;
        IoFreeMdl(m);
    }
    IoFreeIrp(irp);
}

/* IoBuildDeviceIoControlRequest: a threaded (IoCancelThreadIo-able) IOCTL IRP for the
 * next stack location of DeviceObject; the I/O manager frees it at completion, after
 * storing IoStatusBlock and signalling Event. */
PIRP NTAPI IoBuildDeviceIoControlRequest(ULONG IoControlCode, PDEVICE_OBJECT DeviceObject, PVOID InputBuffer,
                                         ULONG InputBufferLength, PVOID OutputBuffer, ULONG OutputBufferLength,
                                         BOOLEAN InternalDeviceIoControl, PKEVENT Event,
                                         PIO_STATUS_BLOCK IoStatusBlock)
{
    PIRP irp = IoAllocateIrp(DeviceObject->StackSize, FALSE);
    if (!irp)
        return NULL;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = InternalDeviceIoControl ? IRP_MJ_INTERNAL_DEVICE_CONTROL : IRP_MJ_DEVICE_CONTROL;
    irp->RequestorMode = KernelMode;
    irp->UserIosb = IoStatusBlock;
    irp->UserEvent = Event;
    if (!NT_SUCCESS(IopSetupDeviceControl(irp, sp, IoControlCode, InputBuffer, InputBufferLength, OutputBuffer,
                                          OutputBufferLength))) {
        IopDiscardIrp(irp);
        return NULL;
    }
    IopQueueThreadIrp(irp);
    return irp;
}

/* IoBuildAsynchronousFsdRequest: a read/write/flush/shutdown IRP with the device's
 * buffering; not tied to the thread. Its creator usually frees it in a completion
 * routine (IoFreeIrp, then MORE_PROCESSING_REQUIRED). */
PIRP NTAPI IoBuildAsynchronousFsdRequest(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PVOID Buffer,
                                         ULONG Length, PLARGE_INTEGER StartingOffset, PIO_STATUS_BLOCK IoStatusBlock)
{
    PIRP irp = IoAllocateIrp(DeviceObject->StackSize, FALSE);
    if (!irp)
        return NULL;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = (UCHAR)MajorFunction;
    irp->RequestorMode = KernelMode;
    irp->UserIosb = IoStatusBlock;
    irp->Tail.Overlay.Thread = PsGetCurrentThread();
    if (MajorFunction == IRP_MJ_READ || MajorFunction == IRP_MJ_WRITE) {
        sp->Parameters.Read.Length = Length;
        if (StartingOffset)
            sp->Parameters.Read.ByteOffset = *StartingOffset;
        if (!NT_SUCCESS(IopSetupReadWrite(irp, DeviceObject, (UCHAR)MajorFunction, Buffer, Length))) {
            IopDiscardIrp(irp);
            return NULL;
        }
    }
    return irp;
}

/* IoBuildSynchronousFsdRequest: the same, threaded, with an event the caller waits on. */
PIRP NTAPI IoBuildSynchronousFsdRequest(ULONG MajorFunction, PDEVICE_OBJECT DeviceObject, PVOID Buffer, ULONG Length,
                                        PLARGE_INTEGER StartingOffset, PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    PIRP irp = IoBuildAsynchronousFsdRequest(MajorFunction, DeviceObject, Buffer, Length, StartingOffset,
                                             IoStatusBlock);
    if (!irp)
        return NULL;
    irp->UserEvent = Event;
    irp->Flags |= IRP_SYNCHRONOUS_API;
    IopQueueThreadIrp(irp);
    return irp;
}
