/*
 * test_io_kernel.c — the I/O manager as a driver sees it: NT facts about IRPs, device
 * objects, completion, cancellation, queues, the I/O timer, work items, shutdown
 * notification and the object namespace. The test program plays the drivers (DDK
 * API only) and the loader (io_rig.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io_internal.h"
#include "io_rig.h"
#include "nthost/nthost.h"

/* ---- a small driver family for the tests ---------------------------------------- */

typedef struct call_log {
    int n;
    PDEVICE_OBJECT dev[8];
    char what[8];
    BOOLEAN pending_returned[8];
    KIRQL irql[8];
} call_log;

static call_log calls;

static void log_call(char what, PDEVICE_OBJECT dev, PIRP irp)
{
    if (calls.n < 8) {
        calls.what[calls.n] = what;
        calls.dev[calls.n] = dev;
        calls.pending_returned[calls.n] = irp ? irp->PendingReturned : FALSE;
        calls.irql[calls.n] = KeGetCurrentIrql();
        calls.n++;
    }
}

/* Completes every IRP with the status in the device extension's first ULONG. */
static NTSTATUS NTAPI complete_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    NTSTATUS st = dev->DeviceExtension ? *(NTSTATUS *)dev->DeviceExtension : STATUS_SUCCESS;
    log_call('D', dev, irp);
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return st;
}

/* Passes the IRP down (extension: the lower device) with a completion routine. */
static NTSTATUS NTAPI record_completion(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
    log_call((char)(ULONG_PTR)ctx, dev, irp);
    if (irp->PendingReturned)
        IoMarkIrpPending(irp);
    return (char)(ULONG_PTR)ctx == 'M' ? STATUS_MORE_PROCESSING_REQUIRED : STATUS_SUCCESS;
}

typedef struct filter_ext {
    NTSTATUS unused;
    PDEVICE_OBJECT lower;
    char tag; /* what the completion routine logs; 'M' returns MORE_PROCESSING_REQUIRED */
} filter_ext;

/* Keeps the IRP pending (marked) until the test completes it. */
static PIRP held_irp;
static NTSTATUS NTAPI hold_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    log_call('H', dev, irp);
    IoMarkIrpPending(irp);
    held_irp = irp;
    return STATUS_PENDING;
}

static int test_setup(void **state)
{
    (void)state;
    memset(&calls, 0, sizeof(calls));
    held_irp = NULL;
    rig_boot(TRUE);
    return 0;
}

static int test_teardown(void **state)
{
    (void)state;
    rig_shutdown();
    return 0;
}

/* ---- IRP facts ------------------------------------------------------------------- */

static void irp_allocate_facts(void **state)
{
    (void)state;
    size_t before = nthost_irps_outstanding();
    PIRP irp = IoAllocateIrp(3, FALSE);
    assert_non_null(irp);
    assert_int_equal(irp->Type, IO_TYPE_IRP);
    assert_int_equal(irp->Type, 6);
    assert_int_equal(irp->StackCount, 3);
    assert_int_equal(irp->CurrentLocation, 4);
    assert_int_equal(irp->Size, IoSizeOfIrp(3));
    /* No current location yet: the pointer is one past the stack array. */
    assert_ptr_equal(irp->Tail.Overlay.CurrentStackLocation, (PIO_STACK_LOCATION)(irp + 1) + 3);
    assert_ptr_equal(IoGetNextIrpStackLocation(irp), (PIO_STACK_LOCATION)(irp + 1) + 2);
    assert_int_equal(nthost_irps_outstanding(), before + 1);
    IoFreeIrp(irp);
    assert_int_equal(nthost_irps_outstanding(), before);
}

static void irp_reuse_resets_location(void **state)
{
    (void)state;
    PIRP irp = IoAllocateIrp(2, FALSE);
    IoSetNextIrpStackLocation(irp);
    irp->IoStatus.Information = 99;
    IoReuseIrp(irp, STATUS_NOT_SUPPORTED);
    assert_int_equal(irp->CurrentLocation, 3);
    assert_int_equal(irp->IoStatus.Status, STATUS_NOT_SUPPORTED);
    assert_int_equal(irp->IoStatus.Information, 0);
    IoFreeIrp(irp);
}

/* A driver's own IRP memory (from pool), formatted with IoInitializeIrp, sent and
 * taken back by its completion routine. */
static NTSTATUS NTAPI take_back(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
    UNREFERENCED_PARAMETER(dev);
    *(NTSTATUS *)ctx = irp->IoStatus.Status;
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS NTAPI complete_dispatch(PDEVICE_OBJECT dev, PIRP irp);

static void irp_initialize_on_driver_memory(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstOwnIrp");
    drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = complete_dispatch;
    PDEVICE_OBJECT dev = rig_device(drv, NULL, 0, 0);
    rig_driver_entered(drv);
    PIRP irp = ExAllocatePoolWithTag(NonPagedPool, IoSizeOfIrp(2), 0x70724954 /* 'TIrp' */);
    for (int round = 0; round < 2; round++) {
        NTSTATUS seen = -1;
        IoInitializeIrp(irp, IoSizeOfIrp(2), 2);
        assert_int_equal(irp->Type, IO_TYPE_IRP);
        assert_int_equal(irp->CurrentLocation, 3);
        IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_DEVICE_CONTROL;
        IoSetCompletionRoutine(irp, take_back, &seen, TRUE, TRUE, TRUE);
        assert_int_equal(IoCallDriver(dev, irp), STATUS_SUCCESS);
        assert_int_equal(seen, STATUS_SUCCESS);
    }
    ExFreePoolWithTag(irp, 0x70724954);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

static void user_induced_errors(void **state)
{
    (void)state;
    assert_true(IoIsErrorUserInduced(STATUS_NO_MEDIA_IN_DEVICE));
    assert_true(IoIsErrorUserInduced(STATUS_IO_TIMEOUT));
    assert_true(IoIsErrorUserInduced(STATUS_VERIFY_REQUIRED));
    assert_false(IoIsErrorUserInduced(STATUS_DEVICE_NOT_CONNECTED));
    assert_false(IoIsErrorUserInduced(STATUS_SUCCESS));
}

/* ---- device objects ------------------------------------------------------------------ */

static NTSTATUS open_device(PCWSTR name, PFILE_OBJECT *fo, PDEVICE_OBJECT *dev)
{
    UNICODE_STRING us;
    RtlInitUnicodeString(&us, name);
    return IoGetDeviceObjectPointer(&us, FILE_READ_DATA, fo, dev);
}

static void device_initializing_until_driver_entry_returns(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstInit");
    drv->MajorFunction[IRP_MJ_CREATE] = complete_dispatch;
    PDEVICE_OBJECT dev = rig_device(drv, L"\\Device\\TstInit", 0, 0);
    assert_true(dev->Flags & DO_DEVICE_INITIALIZING);
    assert_int_equal(dev->Type, IO_TYPE_DEVICE);
    assert_int_equal(dev->StackSize, 1);
    assert_ptr_equal(dev->DriverObject, drv);
    assert_ptr_equal(drv->DeviceObject, dev);
    PFILE_OBJECT fo;
    PDEVICE_OBJECT got;
    /* NT refuses to open a device that is still initializing. */
    assert_int_equal(open_device(L"\\Device\\TstInit", &fo, &got), STATUS_NO_SUCH_DEVICE);
    rig_driver_entered(drv);
    assert_false(dev->Flags & DO_DEVICE_INITIALIZING);
    assert_int_equal(open_device(L"\\Device\\TstInit", &fo, &got), STATUS_SUCCESS);
    assert_ptr_equal(got, dev);
    ObDereferenceObject(fo);
    /* A device created later keeps the flag until its driver clears it (NT's rule). */
    PDEVICE_OBJECT later = rig_device(drv, L"\\Device\\TstInitLater", 0, 0);
    assert_true(later->Flags & DO_DEVICE_INITIALIZING);
    assert_int_equal(open_device(L"\\Device\\TstInitLater", &fo, &got), STATUS_NO_SUCH_DEVICE);
    later->Flags &= ~DO_DEVICE_INITIALIZING;
    assert_int_equal(open_device(L"\\Device\\TstInitLater", &fo, &got), STATUS_SUCCESS);
    ObDereferenceObject(fo);
    IoDeleteDevice(later);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

static void device_extension_zeroed_and_exclusive(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstExt");
    drv->MajorFunction[IRP_MJ_CREATE] = complete_dispatch;
    drv->MajorFunction[IRP_MJ_CLEANUP] = complete_dispatch;
    drv->MajorFunction[IRP_MJ_CLOSE] = complete_dispatch;
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"\\Device\\TstExclusive");
    PDEVICE_OBJECT dev;
    assert_int_equal(IoCreateDevice(drv, 100, &name, FILE_DEVICE_PARALLEL_PORT, FILE_DEVICE_SECURE_OPEN, TRUE, &dev),
                     STATUS_SUCCESS);
    PUCHAR ext = dev->DeviceExtension;
    for (int i = 0; i < 100; i++)
        assert_int_equal(ext[i], 0);
    assert_true(dev->Flags & DO_EXCLUSIVE);
    assert_int_equal(dev->DeviceType, FILE_DEVICE_PARALLEL_PORT);
    assert_int_equal(dev->Characteristics, FILE_DEVICE_SECURE_OPEN);
    /* A second device with the same name collides. */
    PDEVICE_OBJECT dup;
    assert_int_equal(IoCreateDevice(drv, 0, &name, FILE_DEVICE_UNKNOWN, 0, FALSE, &dup), STATUS_OBJECT_NAME_COLLISION);
    rig_driver_entered(drv);
    PFILE_OBJECT fo1, fo2;
    PDEVICE_OBJECT got;
    assert_int_equal(open_device(L"\\Device\\TstExclusive", &fo1, &got), STATUS_SUCCESS);
    assert_int_equal(dev->ReferenceCount, 1);
    assert_int_equal(open_device(L"\\Device\\TstExclusive", &fo2, &got), STATUS_ACCESS_DENIED);
    ObDereferenceObject(fo1);
    assert_int_equal(dev->ReferenceCount, 0);
    assert_int_equal(open_device(L"\\Device\\TstExclusive", &fo2, &got), STATUS_SUCCESS);
    ObDereferenceObject(fo2);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

static void device_object_pointer_sends_create_cleanup_close(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstOpen");
    for (int mj = IRP_MJ_CREATE; mj <= IRP_MJ_MAXIMUM_FUNCTION; mj++)
        drv->MajorFunction[mj] = complete_dispatch;
    PDEVICE_OBJECT dev = rig_device(drv, L"\\Device\\TstOpen", 0, 0);
    rig_driver_entered(drv);
    PFILE_OBJECT fo;
    PDEVICE_OBJECT got;
    assert_int_equal(open_device(L"\\Device\\TstOpen", &fo, &got), STATUS_SUCCESS);
    assert_int_equal(fo->Type, IO_TYPE_FILE);
    assert_ptr_equal(fo->DeviceObject, dev);
    /* Create, then cleanup when the internal handle is closed; close waits. */
    assert_int_equal(calls.n, 2);
    ObDereferenceObject(fo);
    assert_int_equal(calls.n, 3);
    assert_int_equal(dev->ReferenceCount, 0);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

static void deleted_device_lives_until_last_reference(void **state)
{
    (void)state;
    char *before = nthost_namespace_snapshot();
    PDRIVER_OBJECT drv = rig_driver(L"TstDel");
    PDEVICE_OBJECT dev = rig_device(drv, L"\\Device\\TstDel", 16, 0);
    rig_driver_entered(drv);
    ObReferenceObject(dev);
    IoDeleteDevice(dev);
    /* The name is gone at once, the object (and its driver list entry) with the last use. */
    PFILE_OBJECT fo;
    PDEVICE_OBJECT got;
    assert_int_equal(open_device(L"\\Device\\TstDel", &fo, &got), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(dev->Type, IO_TYPE_DEVICE);
    assert_null(drv->DeviceObject);
    ObDereferenceObject(dev);
    rig_driver_gone(drv);
    char *after = nthost_namespace_snapshot();
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* ---- completion ------------------------------------------------------------------------- */

/* The filters (top, middle) forward DEVICE_CONTROL with a completion routine; the
 * middle turns it into INTERNAL_DEVICE_CONTROL for the bottom, so that one driver
 * object serves the whole stack. */
static NTSTATUS NTAPI forward_to_bottom(PDEVICE_OBJECT dev, PIRP irp)
{
    filter_ext *fx = dev->DeviceExtension;
    IoCopyCurrentIrpStackLocationToNext(irp);
    if (((filter_ext *)fx->lower->DeviceExtension)->lower == NULL)
        IoGetNextIrpStackLocation(irp)->MajorFunction = IRP_MJ_INTERNAL_DEVICE_CONTROL;
    IoSetCompletionRoutine(irp, record_completion, (PVOID)(ULONG_PTR)fx->tag, TRUE, TRUE, TRUE);
    return IoCallDriver(fx->lower, irp);
}

/* top -> middle -> bottom, each filter logging its completion routine. */
typedef struct stack3 {
    PDRIVER_OBJECT drv;
    PDEVICE_OBJECT top, middle, bottom;
} stack3;

static void make_stack(stack3 *s, PDRIVER_DISPATCH bottom_dispatch, char top_tag, char middle_tag)
{
    s->drv = rig_driver(L"TstStack");
    s->bottom = rig_device(s->drv, NULL, sizeof(filter_ext), 0);
    s->middle = rig_device(s->drv, NULL, sizeof(filter_ext), 0);
    s->top = rig_device(s->drv, NULL, sizeof(filter_ext), 0);
    assert_ptr_equal(IoAttachDeviceToDeviceStack(s->middle, s->bottom), s->bottom);
    assert_ptr_equal(IoAttachDeviceToDeviceStack(s->top, s->middle), s->middle);
    ((filter_ext *)s->top->DeviceExtension)->lower = s->middle;
    ((filter_ext *)s->top->DeviceExtension)->tag = top_tag;
    ((filter_ext *)s->middle->DeviceExtension)->lower = s->bottom;
    ((filter_ext *)s->middle->DeviceExtension)->tag = middle_tag;
    s->drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = forward_to_bottom;
    s->drv->MajorFunction[IRP_MJ_INTERNAL_DEVICE_CONTROL] = bottom_dispatch;
    rig_driver_entered(s->drv);
    assert_int_equal(s->top->StackSize, 3);
}

static void free_stack(stack3 *s)
{
    IoDetachDevice(s->middle);
    IoDetachDevice(s->bottom);
    IoDeleteDevice(s->top);
    IoDeleteDevice(s->middle);
    IoDeleteDevice(s->bottom);
    rig_driver_gone(s->drv);
}

static PIRP send_down(stack3 *s, KEVENT *ev, IO_STATUS_BLOCK *iosb, NTSTATUS *st)
{
    KeInitializeEvent(ev, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(0x222000, s->top, NULL, 0, NULL, 0, FALSE, ev, iosb);
    assert_non_null(irp);
    *st = IoCallDriver(s->top, irp);
    return irp;
}

static void completion_routines_run_bottom_up(void **state)
{
    (void)state;
    stack3 s;
    make_stack(&s, complete_dispatch, 'T', 'N');
    KEVENT ev;
    IO_STATUS_BLOCK iosb = { .Status = -1 };
    NTSTATUS st;
    send_down(&s, &ev, &iosb, &st);
    assert_int_equal(st, STATUS_SUCCESS);
    /* Bottom dispatch, then the middle's routine (device = middle), then the top's. */
    assert_int_equal(calls.n, 3);
    assert_int_equal(calls.what[0], 'D');
    assert_ptr_equal(calls.dev[0], s.bottom);
    assert_int_equal(calls.what[1], 'N');
    assert_ptr_equal(calls.dev[1], s.middle);
    assert_int_equal(calls.what[2], 'T');
    assert_ptr_equal(calls.dev[2], s.top);
    assert_int_equal(iosb.Status, STATUS_SUCCESS);
    assert_int_equal(KeReadStateEvent(&ev), 1);
    assert_int_equal(nthost_irps_outstanding(), 0);
    free_stack(&s);
}

static void more_processing_required_stops_completion(void **state)
{
    (void)state;
    stack3 s;
    make_stack(&s, complete_dispatch, 'T', 'M');
    KEVENT ev;
    IO_STATUS_BLOCK iosb = { .Status = -1 };
    NTSTATUS st;
    PIRP irp = send_down(&s, &ev, &iosb, &st);
    assert_int_equal(calls.n, 2);
    assert_int_equal(calls.what[1], 'M');
    /* Stopped: the top's routine has not run, nothing was reported, the IRP lives. */
    assert_int_equal(iosb.Status, -1);
    assert_int_equal(KeReadStateEvent(&ev), 0);
    assert_int_equal(nthost_irps_outstanding(), 1);
    assert_int_equal(irp->CurrentLocation, 2); /* location 1 unwound, the middle's is current */
    /* The middle driver owns it again and completes it once more. */
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    assert_int_equal(calls.n, 3);
    assert_int_equal(calls.what[2], 'T');
    assert_int_equal(iosb.Status, STATUS_SUCCESS);
    assert_int_equal(nthost_irps_outstanding(), 0);
    free_stack(&s);
}

static void pending_returned_propagates(void **state)
{
    (void)state;
    stack3 s;
    make_stack(&s, hold_dispatch, 'T', 'N');
    KEVENT ev;
    IO_STATUS_BLOCK iosb = { .Status = -1 };
    NTSTATUS st;
    send_down(&s, &ev, &iosb, &st);
    assert_int_equal(st, STATUS_PENDING);
    assert_non_null(held_irp);
    held_irp->IoStatus.Status = STATUS_DEVICE_NOT_CONNECTED;
    IoCompleteRequest(held_irp, IO_NO_INCREMENT);
    /* Both routines saw PendingReturned; invoke-on-error ran them for a failure. */
    assert_int_equal(calls.n, 3);
    assert_true(calls.pending_returned[1]);
    assert_true(calls.pending_returned[2]);
    assert_int_equal(iosb.Status, STATUS_DEVICE_NOT_CONNECTED);
    assert_int_equal(KeReadStateEvent(&ev), 1);
    free_stack(&s);
}

/* ---- buffered IOCTL from a driver -------------------------------------------------------- */

static NTSTATUS NTAPI fill_output(PDEVICE_OBJECT dev, PIRP irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    log_call(sp->MajorFunction == IRP_MJ_INTERNAL_DEVICE_CONTROL ? 'I' : 'E', dev, irp);
    PUCHAR sys = irp->AssociatedIrp.SystemBuffer;
    ULONG report = sys[0];
    for (ULONG i = 0; i < sp->Parameters.DeviceIoControl.OutputBufferLength; i++)
        sys[i] = 0xAB;
    irp->IoStatus.Status = STATUS_SUCCESS;
    irp->IoStatus.Information = report;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static void buffered_ioctl_copies_back_information_bytes(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstBuf");
    drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = fill_output;
    drv->MajorFunction[IRP_MJ_INTERNAL_DEVICE_CONTROL] = fill_output;
    PDEVICE_OBJECT dev = rig_device(drv, NULL, 0, 0);
    rig_driver_entered(drv);
    UCHAR in[2] = { 3, 0 };
    UCHAR out[8];
    memset(out, 0x11, sizeof(out));
    KEVENT ev;
    IO_STATUS_BLOCK iosb;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS),
                                             dev, in, sizeof(in), out, sizeof(out), TRUE, &ev, &iosb);
    assert_int_equal(IoCallDriver(dev, irp), STATUS_SUCCESS);
    assert_int_equal(calls.what[0], 'I');
    assert_int_equal(iosb.Information, 3);
    for (int i = 0; i < 8; i++)
        assert_int_equal(out[i], i < 3 ? 0xAB : 0x11);
    assert_int_equal(KeReadStateEvent(&ev), 1);
    assert_int_equal(nthost_irps_outstanding(), 0);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

/* ---- FSD requests: read/write with the device's buffering ------------------------------ */

static UCHAR disk[16];

/* A tiny "disk": reads and writes at ByteOffset through whatever the IRP carries. */
static NTSTATUS NTAPI disk_rw(PDEVICE_OBJECT dev, PIRP irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    ULONG off = (ULONG)sp->Parameters.Read.ByteOffset.QuadPart, len = sp->Parameters.Read.Length;
    PUCHAR buf = (dev->Flags & DO_BUFFERED_IO) ? irp->AssociatedIrp.SystemBuffer
                 : (dev->Flags & DO_DIRECT_IO) ? MmGetSystemAddressForMdlSafe(irp->MdlAddress, NormalPagePriority)
                                               : irp->UserBuffer;
    log_call(sp->MajorFunction == IRP_MJ_READ ? 'R' : 'W', dev, irp);
    if (sp->MajorFunction == IRP_MJ_READ)
        memcpy(buf, disk + off, len);
    else
        memcpy(disk + off, buf, len);
    irp->IoStatus.Status = STATUS_SUCCESS;
    irp->IoStatus.Information = len;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static void fsd_rw(PDEVICE_OBJECT dev, ULONG major, PVOID buf, ULONG len, LONGLONG offset)
{
    KEVENT ev;
    IO_STATUS_BLOCK iosb;
    LARGE_INTEGER off = { .QuadPart = offset };
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    PIRP irp = IoBuildSynchronousFsdRequest(major, dev, buf, len, &off, &ev, &iosb);
    assert_non_null(irp);
    assert_int_equal(IoCallDriver(dev, irp), STATUS_SUCCESS);
    assert_int_equal(iosb.Information, len);
}

static void synchronous_fsd_requests_each_buffering(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstDisk");
    drv->MajorFunction[IRP_MJ_READ] = disk_rw;
    drv->MajorFunction[IRP_MJ_WRITE] = disk_rw;
    PDEVICE_OBJECT devs[3] = { rig_device(drv, NULL, 0, DO_BUFFERED_IO), rig_device(drv, NULL, 0, DO_DIRECT_IO),
                               rig_device(drv, NULL, 0, 0) };
    rig_driver_entered(drv);
    for (int i = 0; i < 3; i++) {
        memset(disk, 0, sizeof(disk));
        char out[4] = { 'a', 'b', 'c', (char)('0' + i) }, in[4] = { 0 };
        fsd_rw(devs[i], IRP_MJ_WRITE, out, 4, 6);
        assert_memory_equal(disk + 6, out, 4);
        fsd_rw(devs[i], IRP_MJ_READ, in, 4, 6);
        assert_memory_equal(in, out, 4);
        IoDeleteDevice(devs[i]);
    }
    assert_int_equal(nthost_irps_outstanding(), 0);
    rig_driver_gone(drv);
}

/* The creator of an asynchronous FSD request frees it in its completion routine, with
 * the system buffer the I/O manager gave it (its final stage does not run). */
static NTSTATUS NTAPI free_own_irp(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
    log_call('F', dev, irp);
    *(NTSTATUS *)ctx = irp->IoStatus.Status;
    if (irp->Flags & IRP_DEALLOCATE_BUFFER)
        ExFreePool(irp->AssociatedIrp.SystemBuffer);
    IoFreeIrp(irp);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static void asynchronous_fsd_request_freed_by_creator(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstAsync");
    drv->MajorFunction[IRP_MJ_WRITE] = disk_rw;
    PDEVICE_OBJECT dev = rig_device(drv, NULL, 0, DO_BUFFERED_IO);
    rig_driver_entered(drv);
    IO_STATUS_BLOCK iosb = { .Status = -1 };
    NTSTATUS seen = -1;
    size_t pool0 = nthost_pool_outstanding();
    PIRP irp = IoBuildAsynchronousFsdRequest(IRP_MJ_WRITE, dev, "zz", 2, NULL, &iosb);
    IoSetCompletionRoutine(irp, free_own_irp, &seen, TRUE, TRUE, TRUE);
    assert_int_equal(IoCallDriver(dev, irp), STATUS_SUCCESS);
    assert_int_equal(seen, STATUS_SUCCESS);
    assert_null(calls.dev[1]); /* the creator has no stack location of its own */
    assert_int_equal(iosb.Status, -1); /* stopped before the final stage */
    assert_int_equal(nthost_irps_outstanding(), 0);
    assert_int_equal(nthost_pool_outstanding(), pool0);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

/* ---- cancellation ---------------------------------------------------------------------------- */

static KIRQL cancel_irql_seen;
static BOOLEAN cancel_state_seen;

static VOID NTAPI cancel_and_complete(PDEVICE_OBJECT dev, PIRP irp)
{
    log_call('C', dev, irp);
    cancel_irql_seen = KeGetCurrentIrql();
    cancel_state_seen = irp->Cancel && irp->CancelRoutine == NULL && irp->CancelIrql == PASSIVE_LEVEL;
    IoReleaseCancelSpinLock(irp->CancelIrql);
    irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static NTSTATUS NTAPI hold_cancellable(PDEVICE_OBJECT dev, PIRP irp)
{
    log_call('H', dev, irp);
    IoMarkIrpPending(irp);
    IoSetCancelRoutine(irp, cancel_and_complete);
    held_irp = irp;
    return STATUS_PENDING;
}

static void cancel_routine_runs_with_cancel_lock_held(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstCancel");
    drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = hold_cancellable;
    PDEVICE_OBJECT dev = rig_device(drv, NULL, 0, 0);
    rig_driver_entered(drv);
    KEVENT ev;
    IO_STATUS_BLOCK iosb;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(0x222004, dev, NULL, 0, NULL, 0, FALSE, &ev, &iosb);
    assert_int_equal(IoCallDriver(dev, irp), STATUS_PENDING);
    assert_true(IoCancelIrp(held_irp));
    /* Called holding the cancel spin lock (at DISPATCH_LEVEL), with the IRQL to give
     * back in CancelIrql; the routine released it (verifier test: it must). */
    assert_int_equal(cancel_irql_seen, DISPATCH_LEVEL);
    assert_true(cancel_state_seen);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_int_equal(iosb.Status, STATUS_CANCELLED);
    assert_ptr_equal(calls.dev[1], dev);
    /* The cancel spin lock is free again. */
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    IoReleaseCancelSpinLock(irql);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

/* ---- cancel-safe queue --------------------------------------------------------------------- */

typedef struct csq_dev {
    IO_CSQ csq;
    KSPIN_LOCK lock;
    LIST_ENTRY q;
    ULONG canceled;
} csq_dev;

static VOID NTAPI q_insert(PIO_CSQ c, PIRP irp)
{
    InsertTailList(&CONTAINING_RECORD(c, csq_dev, csq)->q, &irp->Tail.Overlay.ListEntry);
}
static NTSTATUS NTAPI q_insert_ex(PIO_CSQ c, PIRP irp, PVOID ctx)
{
    if (ctx)
        return (NTSTATUS)(ULONG_PTR)ctx;
    q_insert(c, irp);
    return STATUS_SUCCESS;
}
static VOID NTAPI q_remove(PIO_CSQ c, PIRP irp)
{
    UNREFERENCED_PARAMETER(c);
    RemoveEntryList(&irp->Tail.Overlay.ListEntry);
}
static PIRP NTAPI q_peek(PIO_CSQ c, PIRP irp, PVOID peek)
{
    UNREFERENCED_PARAMETER(peek);
    csq_dev *d = CONTAINING_RECORD(c, csq_dev, csq);
    PLIST_ENTRY e = irp ? irp->Tail.Overlay.ListEntry.Flink : d->q.Flink;
    return e == &d->q ? NULL : CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
}
static VOID NTAPI q_acquire(PIO_CSQ c, PKIRQL irql)
{
    KeAcquireSpinLock(&CONTAINING_RECORD(c, csq_dev, csq)->lock, irql);
}
static VOID NTAPI q_release(PIO_CSQ c, KIRQL irql)
{
    KeReleaseSpinLock(&CONTAINING_RECORD(c, csq_dev, csq)->lock, irql);
}
static VOID NTAPI q_complete_canceled(PIO_CSQ c, PIRP irp)
{
    CONTAINING_RECORD(c, csq_dev, csq)->canceled++;
    irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static csq_dev *the_q;
static IO_CSQ_IRP_CONTEXT q_ctx;
static int csq_inserts;
static NTSTATUS NTAPI csq_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    IoCsqInsertIrp(&the_q->csq, irp, csq_inserts++ == 0 ? &q_ctx : NULL);
    return STATUS_PENDING;
}

static PIRP csq_send(PDEVICE_OBJECT dev, KEVENT *ev, IO_STATUS_BLOCK *iosb)
{
    KeInitializeEvent(ev, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(0x222008, dev, NULL, 0, NULL, 0, FALSE, ev, iosb);
    assert_int_equal(IoCallDriver(dev, irp), STATUS_PENDING);
    return irp;
}

static void cancel_safe_queue(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstCsq");
    drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = csq_dispatch;
    PDEVICE_OBJECT dev = rig_device(drv, NULL, sizeof(csq_dev), 0);
    rig_driver_entered(drv);
    the_q = dev->DeviceExtension;
    csq_inserts = 0;
    KeInitializeSpinLock(&the_q->lock);
    InitializeListHead(&the_q->q);
    assert_int_equal(IoCsqInitialize(&the_q->csq, q_insert, q_remove, q_peek, q_acquire, q_release,
                                     q_complete_canceled),
                     STATUS_SUCCESS);
    KEVENT e1, e2, e3;
    IO_STATUS_BLOCK s1, s2, s3;
    PIRP i1 = csq_send(dev, &e1, &s1); /* inserted with q_ctx */
    PIRP i2 = csq_send(dev, &e2, &s2);
    PIRP i3 = csq_send(dev, &e3, &s3);
    assert_ptr_equal(q_ctx.Irp, i1);
    /* Cancelling goes through CsqCompleteCanceledIrp; the context forgets the IRP. */
    assert_true(IoCancelIrp(i1));
    assert_int_equal(the_q->canceled, 1);
    assert_null(q_ctx.Irp);
    assert_null(IoCsqRemoveIrp(&the_q->csq, &q_ctx));
    assert_int_equal(s1.Status, STATUS_CANCELLED);
    /* Removal takes the oldest; a removed IRP can no longer be cancelled. */
    assert_ptr_equal(IoCsqRemoveNextIrp(&the_q->csq, NULL), i2);
    assert_false(IoCancelIrp(i2));
    i2->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(i2, IO_NO_INCREMENT);
    assert_ptr_equal(IoCsqRemoveNextIrp(&the_q->csq, NULL), i3);
    i3->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(i3, IO_NO_INCREMENT);
    assert_null(IoCsqRemoveNextIrp(&the_q->csq, NULL));
    assert_int_equal(s2.Status, STATUS_SUCCESS);
    assert_int_equal(the_q->canceled, 1);

    /* The Ex form: an insert routine that refuses leaves the IRP with the caller. */
    assert_int_equal(IoCsqInitializeEx(&the_q->csq, q_insert_ex, q_remove, q_peek, q_acquire, q_release,
                                       q_complete_canceled),
                     STATUS_SUCCESS);
    PIRP own = IoAllocateIrp(1, FALSE);
    IoSetNextIrpStackLocation(own);
    assert_int_equal(IoCsqInsertIrpEx(&the_q->csq, own, NULL, (PVOID)(ULONG_PTR)STATUS_DEVICE_BUSY),
                     STATUS_DEVICE_BUSY);
    assert_null(own->CancelRoutine);
    assert_null(IoCsqRemoveNextIrp(&the_q->csq, NULL));
    IoFreeIrp(own);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

/* ---- StartIo ------------------------------------------------------------------------------ */

static PIRP started[8];
static int nstarted;

static VOID NTAPI start_io(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    started[nstarted++] = irp;
}

static NTSTATUS NTAPI startio_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    IoMarkIrpPending(irp);
    IoStartPacket(dev, irp, NULL, NULL);
    return STATUS_PENDING;
}

static NTSTATUS NTAPI startio_by_key(PDEVICE_OBJECT dev, PIRP irp)
{
    ULONG key = IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.InputBufferLength;
    IoMarkIrpPending(irp);
    IoStartPacket(dev, irp, &key, NULL);
    return STATUS_PENDING;
}

static void start_next_packet_by_key(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstByKey");
    drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = startio_by_key;
    drv->DriverStartIo = start_io;
    PDEVICE_OBJECT dev = rig_device(drv, NULL, 0, 0);
    rig_driver_entered(drv);
    nstarted = 0;
    /* Keys are carried in InputBufferLength; no buffers are involved. */
    static const ULONG keys[4] = { 50, 30, 10, 20 };
    KEVENT ev[4];
    IO_STATUS_BLOCK iosb[4];
    PIRP irps[4];
    UCHAR in[64];
    for (int i = 0; i < 4; i++) {
        KeInitializeEvent(&ev[i], NotificationEvent, FALSE);
        irps[i] = IoBuildDeviceIoControlRequest(CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_NEITHER, FILE_ANY_ACCESS),
                                                dev, in, keys[i], NULL, 0, FALSE, &ev[i], &iosb[i]);
        assert_int_equal(IoCallDriver(dev, irps[i]), STATUS_PENDING);
    }
    assert_int_equal(nstarted, 1); /* key 50 started at once; 30, 10, 20 queued */
    /* The next packet with a key >= 15 is the lowest such: 20; then 30; then it wraps to 10. */
    static const int expect[3] = { 3, 1, 2 };
    for (int i = 0; i < 3; i++) {
        KIRQL irql;
        KeRaiseIrql(DISPATCH_LEVEL, &irql);
        PIRP done = dev->CurrentIrp;
        IoStartNextPacketByKey(dev, FALSE, 15);
        done->IoStatus.Status = STATUS_SUCCESS;
        IoCompleteRequest(done, IO_NO_INCREMENT);
        KeLowerIrql(irql);
        assert_ptr_equal(started[nstarted - 1], irps[expect[i]]);
    }
    KIRQL irql;
    KeRaiseIrql(DISPATCH_LEVEL, &irql);
    PIRP last = dev->CurrentIrp;
    IoStartNextPacket(dev, FALSE);
    last->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(last, IO_NO_INCREMENT);
    KeLowerIrql(irql);
    assert_null(dev->CurrentIrp);
    assert_int_equal(nthost_irps_outstanding(), 0);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

static void start_packet_serializes(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstStartIo");
    drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = startio_dispatch;
    drv->DriverStartIo = start_io;
    PDEVICE_OBJECT dev = rig_device(drv, NULL, 0, 0);
    rig_driver_entered(drv);
    nstarted = 0;
    KEVENT e1, e2;
    IO_STATUS_BLOCK s1, s2;
    KeInitializeEvent(&e1, NotificationEvent, FALSE);
    KeInitializeEvent(&e2, NotificationEvent, FALSE);
    PIRP i1 = IoBuildDeviceIoControlRequest(0x22200C, dev, NULL, 0, NULL, 0, FALSE, &e1, &s1);
    PIRP i2 = IoBuildDeviceIoControlRequest(0x22200C, dev, NULL, 0, NULL, 0, FALSE, &e2, &s2);
    assert_int_equal(IoCallDriver(dev, i1), STATUS_PENDING);
    assert_int_equal(IoCallDriver(dev, i2), STATUS_PENDING);
    assert_int_equal(nstarted, 1);
    assert_ptr_equal(dev->CurrentIrp, i1);
    KIRQL irql;
    KeRaiseIrql(DISPATCH_LEVEL, &irql);
    i1->IoStatus.Status = STATUS_SUCCESS;
    IoStartNextPacket(dev, FALSE);
    IoCompleteRequest(i1, IO_NO_INCREMENT);
    KeLowerIrql(irql);
    assert_int_equal(nstarted, 2);
    assert_ptr_equal(started[1], i2);
    KeRaiseIrql(DISPATCH_LEVEL, &irql);
    i2->IoStatus.Status = STATUS_SUCCESS;
    IoStartNextPacket(dev, FALSE);
    IoCompleteRequest(i2, IO_NO_INCREMENT);
    KeLowerIrql(irql);
    assert_null(dev->CurrentIrp);
    assert_int_equal(s2.Status, STATUS_SUCCESS);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

/* ---- I/O timer and work items ----------------------------------------------------------------- */

static int timer_ticks;
static KIRQL timer_irql;

static VOID NTAPI io_timer_routine(PDEVICE_OBJECT dev, PVOID ctx)
{
    UNREFERENCED_PARAMETER(dev);
    assert_ptr_equal(ctx, &timer_ticks);
    timer_irql = KeGetCurrentIrql();
    timer_ticks++;
}

static void io_timer_ticks_every_second(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstTimer");
    PDEVICE_OBJECT dev = rig_device(drv, NULL, 0, 0);
    rig_driver_entered(drv);
    timer_ticks = 0;
    assert_int_equal(IoInitializeTimer(dev, io_timer_routine, &timer_ticks), STATUS_SUCCESS);
    LARGE_INTEGER wait = { .QuadPart = -35LL * 1000 * 1000 }; /* 3.5 s */
    KeDelayExecutionThread(KernelMode, FALSE, &wait);
    assert_int_equal(timer_ticks, 0); /* not started */
    IoStartTimer(dev);
    ULONGLONG t0 = KeQueryInterruptTime();
    KeDelayExecutionThread(KernelMode, FALSE, &wait);
    ULONGLONG elapsed = KeQueryInterruptTime() - t0;
    assert_true(elapsed >= 35000000ull);
    assert_true(timer_ticks == 3 || timer_ticks == 4);
    assert_int_equal(timer_irql, DISPATCH_LEVEL);
    IoStopTimer(dev);
    int frozen = timer_ticks;
    KeDelayExecutionThread(KernelMode, FALSE, &wait);
    assert_int_equal(timer_ticks, frozen);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

static KEVENT work_done;
static PKTHREAD work_thread;
static KIRQL work_irql;
static CSHORT work_device_type;

static VOID NTAPI work_routine(PDEVICE_OBJECT dev, PVOID ctx)
{
    work_device_type = dev->Type; /* still a device: the item holds a reference */
    work_thread = KeGetCurrentThread();
    work_irql = KeGetCurrentIrql();
    IoFreeWorkItem(ctx);
    KeSetEvent(&work_done, IO_NO_INCREMENT, FALSE);
}

static void work_item_runs_at_passive_on_worker(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstWork");
    PDEVICE_OBJECT dev = rig_device(drv, NULL, 0, 0);
    rig_driver_entered(drv);
    KeInitializeEvent(&work_done, NotificationEvent, FALSE);
    PIO_WORKITEM item = IoAllocateWorkItem(dev);
    assert_non_null(item);
    KIRQL irql;
    KeRaiseIrql(DISPATCH_LEVEL, &irql); /* queued from a DPC-like context */
    IoQueueWorkItem(item, work_routine, DelayedWorkQueue, item);
    KeLowerIrql(irql);
    /* The queued item keeps the device: deleting it now must not free it. */
    IoDeleteDevice(dev);
    assert_int_equal(KeWaitForSingleObject(&work_done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_int_equal(work_irql, PASSIVE_LEVEL);
    assert_ptr_not_equal(work_thread, KeGetCurrentThread());
    assert_int_equal(work_device_type, IO_TYPE_DEVICE);
    rig_driver_gone(drv);
}

/* ---- shutdown notification (checked across a shutdown) ---------------------------------------- */

static PDEVICE_OBJECT shutdown_order[2];
static int nshutdown;

static NTSTATUS NTAPI shutdown_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    if (IoGetCurrentIrpStackLocation(irp)->MajorFunction == IRP_MJ_SHUTDOWN && nshutdown < 2)
        shutdown_order[nshutdown++] = dev;
    irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static void shutdown_irps_last_registered_first(void **state)
{
    (void)state;
    PDRIVER_OBJECT drv = rig_driver(L"TstShutdown");
    drv->MajorFunction[IRP_MJ_SHUTDOWN] = shutdown_dispatch;
    PDEVICE_OBJECT a = rig_device(drv, NULL, 0, 0), b = rig_device(drv, NULL, 0, 0), c = rig_device(drv, NULL, 0, 0);
    rig_driver_entered(drv);
    nshutdown = 0;
    assert_int_equal(IoRegisterShutdownNotification(a), STATUS_SUCCESS);
    assert_int_equal(IoRegisterShutdownNotification(b), STATUS_SUCCESS);
    assert_int_equal(IoRegisterShutdownNotification(c), STATUS_SUCCESS);
    IoUnregisterShutdownNotification(c);
    assert_false(c->Flags & DO_SHUTDOWN_REGISTERED);
    /* What nthost_shutdown does first: b (registered last) before a; c not at all. */
    IopShutdownNotify();
    assert_int_equal(nshutdown, 2);
    assert_ptr_equal(shutdown_order[0], b);
    assert_ptr_equal(shutdown_order[1], a);
    IoDeleteDevice(a);
    IoDeleteDevice(b);
    IoDeleteDevice(c);
    rig_driver_gone(drv);
}

/* ---- namespace ------------------------------------------------------------------------------- */

static void namespace_links_and_case(void **state)
{
    (void)state;
    char *before = nthost_namespace_snapshot();
    assert_non_null(strstr(before, "\\Device Directory\n"));
    assert_non_null(strstr(before, "\\DosDevices SymbolicLink -> \\??\n"));
    assert_non_null(strstr(before, "\\GLOBAL?? SymbolicLink -> \\??\n"));
    PDRIVER_OBJECT drv = rig_driver(L"TstNs");
    drv->MajorFunction[IRP_MJ_CREATE] = complete_dispatch;
    drv->MajorFunction[IRP_MJ_CLEANUP] = complete_dispatch;
    drv->MajorFunction[IRP_MJ_CLOSE] = complete_dispatch;
    PDEVICE_OBJECT dev = rig_device(drv, L"\\Device\\TstNs0", 0, 0);
    rig_driver_entered(drv);
    UNICODE_STRING link, target, upper;
    RtlInitUnicodeString(&link, L"\\DosDevices\\TstNs1");
    RtlInitUnicodeString(&target, L"\\Device\\TstNs0");
    assert_int_equal(IoCreateSymbolicLink(&link, &target), STATUS_SUCCESS);
    assert_int_equal(IoCreateSymbolicLink(&link, &target), STATUS_OBJECT_NAME_COLLISION);
    char *during = nthost_namespace_snapshot();
    assert_non_null(strstr(during, "\\??\\TstNs1 SymbolicLink -> \\Device\\TstNs0\n"));
    assert_non_null(strstr(during, "\\Device\\TstNs0 Device\n"));
    assert_non_null(strstr(during, "\\Driver\\TstNs Driver\n"));
    /* Links resolve on open, through \GLOBAL?? too, and names ignore case. */
    PFILE_OBJECT fo;
    PDEVICE_OBJECT got;
    assert_int_equal(open_device(L"\\GLOBAL??\\tstns1", &fo, &got), STATUS_SUCCESS);
    assert_ptr_equal(got, dev);
    assert_int_equal(fo->FileName.Length, 0);
    ObDereferenceObject(fo);
    /* What follows the device name becomes the file object's name. */
    assert_int_equal(open_device(L"\\??\\TSTNS1\\sub", &fo, &got), STATUS_SUCCESS);
    assert_int_equal(fo->FileName.Length, 4 * sizeof(WCHAR));
    assert_memory_equal(fo->FileName.Buffer, L"\\sub", 4 * sizeof(WCHAR));
    ObDereferenceObject(fo);
    assert_int_equal(open_device(L"\\??\\Nope", &fo, &got), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(open_device(L"\\Nope\\X", &fo, &got), STATUS_OBJECT_PATH_NOT_FOUND);
    RtlInitUnicodeString(&upper, L"\\DOSDEVICES\\TSTNS1");
    assert_int_equal(IoDeleteSymbolicLink(&upper), STATUS_SUCCESS);
    assert_int_equal(IoDeleteSymbolicLink(&upper), STATUS_OBJECT_NAME_NOT_FOUND);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
    char *after = nthost_namespace_snapshot();
    assert_string_equal(before, after);
    free(before);
    free(during);
    free(after);
}

static void namespace_link_loops_and_autogenerated_names(void **state)
{
    (void)state;
    UNICODE_STRING loop, other;
    RtlInitUnicodeString(&loop, L"\\??\\TstLoop");
    RtlInitUnicodeString(&other, L"\\??\\TstLoop2");
    /* Links resolve on open: a cycle is only found then, and ends the lookup. */
    assert_int_equal(IoCreateUnprotectedSymbolicLink(&loop, &other), STATUS_SUCCESS);
    assert_int_equal(IoCreateSymbolicLink(&other, &loop), STATUS_SUCCESS);
    PFILE_OBJECT fo;
    PDEVICE_OBJECT got;
    assert_int_equal(open_device(L"\\??\\TstLoop", &fo, &got), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(IoDeleteSymbolicLink(&loop), STATUS_SUCCESS);
    assert_int_equal(IoDeleteSymbolicLink(&other), STATUS_SUCCESS);

    /* FILE_AUTOGENERATED_DEVICE_NAME: \Device\<8 hex digits>; a filter on top of it
     * receives the IRPs for its file objects (IoGetRelatedDeviceObject). */
    PDRIVER_OBJECT drv = rig_driver(L"TstAuto");
    drv->MajorFunction[IRP_MJ_CREATE] = complete_dispatch;
    drv->MajorFunction[IRP_MJ_CLEANUP] = complete_dispatch;
    drv->MajorFunction[IRP_MJ_CLOSE] = complete_dispatch;
    PDEVICE_OBJECT dev;
    assert_int_equal(IoCreateDevice(drv, 0, NULL, FILE_DEVICE_UNKNOWN, FILE_AUTOGENERATED_DEVICE_NAME, FALSE, &dev),
                     STATUS_SUCCESS);
    assert_true(dev->Flags & DO_DEVICE_HAS_NAME);
    PDEVICE_OBJECT filter = rig_device(drv, NULL, 0, 0);
    assert_ptr_equal(IoAttachDeviceToDeviceStack(filter, dev), dev);
    rig_driver_entered(drv);
    char *snap = nthost_namespace_snapshot();
    const char *p = strstr(snap, "\\Device\\");
    char name[32] = "";
    for (; p; p = strstr(p + 1, "\\Device\\"))
        if (strlen(p) > 17 && p[16] == ' ' && strncmp(p + 17, "Device", 6) == 0)
            memcpy(name, p, 16);
    free(snap);
    assert_int_equal(strlen(name), 16);
    WCHAR wname[17];
    for (int i = 0; i <= 16; i++)
        wname[i] = (WCHAR)name[i];
    assert_int_equal(open_device(wname, &fo, &got), STATUS_SUCCESS);
    assert_ptr_equal(fo->DeviceObject, dev);
    assert_ptr_equal(got, filter);
    assert_ptr_equal(IoGetRelatedDeviceObject(fo), filter);
    assert_ptr_equal(calls.dev[0], filter); /* the create went to the top of the stack */
    ObDereferenceObject(fo);
    IoDetachDevice(dev);
    IoDeleteDevice(filter);
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
}

static void config_information_counts_nothing_before_drivers(void **state)
{
    (void)state;
    /* ParallelCount belongs to parport, which adds its ports; the firmware's record
     * of the machine's ports is in HARDWARE\DESCRIPTION (one here). */
    PCONFIGURATION_INFORMATION ci = IoGetConfigurationInformation();
    assert_int_equal(ci->ParallelCount, 0);
    UNICODE_STRING path;
    OBJECT_ATTRIBUTES oa;
    HANDLE key;
    RtlInitUnicodeString(&path,
                         L"\\Registry\\Machine\\HARDWARE\\DESCRIPTION\\System\\MultifunctionAdapter\\0\\ParallelController\\0");
    InitializeObjectAttributes(&oa, &path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    assert_int_equal(ZwOpenKey(&key, KEY_READ, &oa), STATUS_SUCCESS);
    ULONG buf[16];
    ULONG len;
    UNICODE_STRING value;
    RtlInitUnicodeString(&value, L"BaseAddress");
    assert_int_equal(ZwQueryValueKey(key, &value, KeyValuePartialInformation, buf, sizeof(buf), &len), STATUS_SUCCESS);
    PKEY_VALUE_PARTIAL_INFORMATION v = (PKEY_VALUE_PARTIAL_INFORMATION)buf;
    assert_int_equal(v->Type, REG_DWORD);
    assert_int_equal(*(ULONG *)v->Data, 0x378);
    ZwClose(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(irp_allocate_facts, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(irp_reuse_resets_location, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(irp_initialize_on_driver_memory, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(user_induced_errors, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(device_initializing_until_driver_entry_returns, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(device_extension_zeroed_and_exclusive, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(device_object_pointer_sends_create_cleanup_close, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(deleted_device_lives_until_last_reference, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(completion_routines_run_bottom_up, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(more_processing_required_stops_completion, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(pending_returned_propagates, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(buffered_ioctl_copies_back_information_bytes, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(synchronous_fsd_requests_each_buffering, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(asynchronous_fsd_request_freed_by_creator, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(cancel_routine_runs_with_cancel_lock_held, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(cancel_safe_queue, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(start_packet_serializes, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(start_next_packet_by_key, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(io_timer_ticks_every_second, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(work_item_runs_at_passive_on_worker, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(shutdown_irps_last_registered_first, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(namespace_links_and_case, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(namespace_link_loops_and_autogenerated_names, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(config_information_counts_nothing_before_drivers, test_setup, test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
