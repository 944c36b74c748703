/*
 * test_io_verifier.c — every I/O verifier check, provoked by a misbehaving driver in a
 * forked child, must stop the machine with NT's bug check code (and, for 0xC9,
 * NT's violation number in parameter 1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "io_internal.h"
#include "io_rig.h"

/* A driver whose device-control dispatch routine is `dispatch`; returns its device. */
static PDEVICE_OBJECT bad_driver(PDRIVER_DISPATCH dispatch)
{
    PDRIVER_OBJECT drv = rig_driver(L"TstBad");
    drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = dispatch;
    PDEVICE_OBJECT dev = rig_device(drv, L"\\Device\\TstBad", 0, 0);
    rig_driver_entered(drv);
    return dev;
}

/* Send one IOCTL to the device (the IRP carries the device's stack size). */
static NTSTATUS send_ioctl(PDEVICE_OBJECT dev)
{
    static KEVENT ev;
    static IO_STATUS_BLOCK iosb;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(0x222000, dev, NULL, 0, NULL, 0, FALSE, &ev, &iosb);
    return IoCallDriver(dev, irp);
}

static NTSTATUS NTAPI complete_twice(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static void prov_complete_twice(void)
{
    send_ioctl(bad_driver(complete_twice));
}

static NTSTATUS NTAPI complete_pending(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    irp->IoStatus.Status = STATUS_PENDING;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_PENDING;
}

static void prov_complete_with_pending(void)
{
    send_ioctl(bad_driver(complete_pending));
}

static NTSTATUS NTAPI pend_unmarked(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    UNREFERENCED_PARAMETER(irp);
    return STATUS_PENDING;
}

static void prov_pending_without_mark(void)
{
    send_ioctl(bad_driver(pend_unmarked));
}

static VOID NTAPI cancel_keeping_lock(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    irp->IoStatus.Status = STATUS_CANCELLED;
}

static PIRP held;
static NTSTATUS NTAPI hold_with_cancel(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    IoMarkIrpPending(irp);
    IoSetCancelRoutine(irp, cancel_keeping_lock);
    held = irp;
    return STATUS_PENDING;
}

static void prov_cancel_routine_keeps_lock(void)
{
    send_ioctl(bad_driver(hold_with_cancel));
    IoCancelIrp(held);
}

static NTSTATUS NTAPI complete_with_cancel_routine(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    IoSetCancelRoutine(irp, cancel_keeping_lock);
    irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static void prov_complete_with_cancel_routine(void)
{
    send_ioctl(bad_driver(complete_with_cancel_routine));
}

static NTSTATUS NTAPI forward_to_self(PDEVICE_OBJECT dev, PIRP irp)
{
    IoCopyCurrentIrpStackLocationToNext(irp);
    return IoCallDriver(dev, irp);
}

static void prov_no_more_stack_locations(void)
{
    send_ioctl(bad_driver(forward_to_self));
}

static void prov_delete_device_twice(void)
{
    PDEVICE_OBJECT dev = bad_driver(complete_twice);
    IoDeleteDevice(dev);
    IoDeleteDevice(dev);
}

static void prov_call_with_cancel_routine(void)
{
    PDEVICE_OBJECT dev = bad_driver(complete_twice);
    KEVENT ev;
    IO_STATUS_BLOCK iosb;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(0x222000, dev, NULL, 0, NULL, 0, FALSE, &ev, &iosb);
    IoSetCancelRoutine(irp, cancel_keeping_lock);
    IoCallDriver(dev, irp);
}

static VOID NTAPI timer_routine(PDEVICE_OBJECT dev, PVOID ctx)
{
    UNREFERENCED_PARAMETER(dev);
    UNREFERENCED_PARAMETER(ctx);
}

static void prov_timer_initialized_twice(void)
{
    PDEVICE_OBJECT dev = bad_driver(complete_twice);
    IoInitializeTimer(dev, timer_routine, NULL);
    IoInitializeTimer(dev, timer_routine, NULL);
}

static void prov_free_irp_twice(void)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoFreeIrp(irp);
    IoFreeIrp(irp);
}

static NTSTATUS NTAPI raise_and_return(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    KIRQL old;
    irp->IoStatus.Status = STATUS_SUCCESS;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    return STATUS_SUCCESS;
}

static void prov_dispatch_changes_irql(void)
{
    send_ioctl(bad_driver(raise_and_return));
}

static NTSTATUS NTAPI complete_at_dirql(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    KIRQL old;
    irp->IoStatus.Status = STATUS_SUCCESS;
    KeRaiseIrql(CLOCK_LEVEL - 1, &old);
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    KeLowerIrql(old);
    return STATUS_SUCCESS;
}

static void prov_complete_above_dispatch(void)
{
    send_ioctl(bad_driver(complete_at_dirql));
}

static void prov_call_above_dispatch(void)
{
    PDEVICE_OBJECT dev = bad_driver(complete_twice);
    KEVENT ev;
    IO_STATUS_BLOCK iosb;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(0x222000, dev, NULL, 0, NULL, 0, FALSE, &ev, &iosb);
    KIRQL old;
    KeRaiseIrql(CLOCK_LEVEL - 1, &old);
    IoCallDriver(dev, irp);
}

static void prov_call_null_device(void)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    IoCallDriver(NULL, irp);
}

static void prov_free_irp_held_by_driver(void)
{
    send_ioctl(bad_driver(hold_with_cancel));
    IoSetCancelRoutine(held, NULL);
    IoFreeIrp(held);
}

static void prov_initialize_allocated_irp(void)
{
    PIRP irp = IoAllocateIrp(2, FALSE);
    IoInitializeIrp(irp, IoSizeOfIrp(2), 2);
}

/* Fills its whole output buffer but reports 4 bytes more (as a driver that puts the
 * size it needs in Information with STATUS_BUFFER_OVERFLOW). */
static NTSTATUS NTAPI report_too_much(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    ULONG out = IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.OutputBufferLength;
    RtlFillMemory(irp->AssociatedIrp.SystemBuffer, out, 0xA5);
    irp->IoStatus.Status = STATUS_BUFFER_OVERFLOW;
    irp->IoStatus.Information = out + 4;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_BUFFER_OVERFLOW;
}

#define SMALL_OUTPUT 4

/* A METHOD_BUFFERED IOCTL with an output buffer of SMALL_OUTPUT bytes followed by
 * canaries; returns the status block. */
static IO_STATUS_BLOCK send_buffered(PDEVICE_OBJECT dev, UCHAR out[SMALL_OUTPUT + 4])
{
    KEVENT ev;
    IO_STATUS_BLOCK iosb;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    PIRP irp = IoBuildDeviceIoControlRequest(CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS),
                                             dev, NULL, 0, out, SMALL_OUTPUT, FALSE, &ev, &iosb);
    assert_non_null(irp);
    if (IoCallDriver(dev, irp) == STATUS_PENDING)
        KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
    return iosb;
}

static void prov_information_exceeds_buffer(void)
{
    UCHAR out[SMALL_OUTPUT + 4];
    send_buffered(bad_driver(report_too_much), out);
}

static void unload_check(PDEVICE_OBJECT dev)
{
    PVOID base;
    SIZE_T size;
    rig_image(&base, &size);
    IopCheckDriverUnload(dev->DriverObject, "TstBad", base, size);
}

static void prov_unload_with_device(void)
{
    unload_check(bad_driver(complete_twice));
}

static void prov_unload_with_pending_irp(void)
{
    PDEVICE_OBJECT dev = bad_driver(hold_with_cancel);
    send_ioctl(dev);
    unload_check(dev);
}

static void prov_unload_with_link(void)
{
    PDEVICE_OBJECT dev = bad_driver(complete_twice);
    PDRIVER_OBJECT drv = dev->DriverObject;
    UNICODE_STRING link, target;
    RtlInitUnicodeString(&link, L"\\DosDevices\\TstBad");
    RtlInitUnicodeString(&target, L"\\Device\\TstBad");
    IoCreateSymbolicLink(&link, &target);
    IoDeleteDevice(dev);
    PVOID base;
    SIZE_T size;
    rig_image(&base, &size);
    IopCheckDriverUnload(drv, "TstBad", base, size);
}

#define ANY ((ULONG_PTR)-1)

static void irp_completed_twice(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_complete_twice, MULTIPLE_IRP_COMPLETE_REQUESTS, ANY, NULL);
}
static void irp_completed_with_pending(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_complete_with_pending, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x06, NULL);
}
static void pending_returned_without_mark(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_pending_without_mark, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x23D, NULL);
}
static void cancel_routine_must_release_lock(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_cancel_routine_keeps_lock, IRQL_UNEXPECTED_VALUE, ANY, NULL);
}
static void completed_with_cancel_routine(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_complete_with_cancel_routine, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x07, NULL);
}
static void no_more_irp_stack_locations(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_no_more_stack_locations, NO_MORE_IRP_STACK_LOCATIONS, ANY, NULL);
}
static void device_deleted_twice(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_delete_device_twice, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x240, NULL);
}
static void call_driver_with_cancel_routine(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_call_with_cancel_routine, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x203, NULL);
}
static void timer_initialized_twice(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_timer_initialized_twice, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x0A, NULL);
}
static void irp_freed_twice(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_free_irp_twice, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x01, NULL);
}
static void unload_with_device(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_unload_with_device, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, ANY,
                        "without deleting device object");
}
static void unload_with_pending_irp(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_unload_with_pending_irp, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, ANY,
                        "IRP(s) it never completed");
}
static void unload_with_link(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_unload_with_link, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, 0,
                        "symbolic link");
}

static void dispatch_changes_irql(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_dispatch_changes_irql, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x05, NULL);
}
static void complete_above_dispatch(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_complete_above_dispatch, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x0E, NULL);
}
static void call_above_dispatch(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_call_above_dispatch, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x10, NULL);
}
static void call_null_device(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_call_null_device, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x04, NULL);
}
static void free_irp_held_by_driver(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_free_irp_held_by_driver, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x20B, NULL);
}
static void initialize_allocated_irp(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_initialize_allocated_irp, DRIVER_VERIFIER_IOMANAGER_VIOLATION, 0x20D, NULL);
}

static void information_exceeds_buffer(void **s)
{
    (void)s;
    rig_expect_bugcheck(prov_information_exceeds_buffer, DRIVER_VERIFIER_DETECTED_VIOLATION,
                        VF_IO_INFORMATION_EXCEEDS_BUFFER, "is larger than the requester's buffer");
}

/* Without the verifier the same driver costs no overrun: the I/O manager copies back
 * no more than the requester's buffer. */
static void information_clamped_without_verifier(void **s)
{
    (void)s;
    UCHAR out[SMALL_OUTPUT + 4];
    rig_boot(FALSE);
    PDEVICE_OBJECT dev = bad_driver(report_too_much);
    memset(out, 0x11, sizeof(out));
    IO_STATUS_BLOCK iosb = send_buffered(dev, out);
    assert_int_equal(iosb.Status, STATUS_BUFFER_OVERFLOW);
    for (int i = 0; i < SMALL_OUTPUT; i++)
        assert_int_equal(out[i], 0xA5);
    for (int i = SMALL_OUTPUT; i < SMALL_OUTPUT + 4; i++)
        assert_int_equal(out[i], 0x11);
    PDRIVER_OBJECT drv = dev->DriverObject;
    IoDeleteDevice(dev);
    rig_driver_gone(drv);
    rig_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(irp_completed_twice),
        cmocka_unit_test(irp_completed_with_pending),
        cmocka_unit_test(pending_returned_without_mark),
        cmocka_unit_test(cancel_routine_must_release_lock),
        cmocka_unit_test(completed_with_cancel_routine),
        cmocka_unit_test(no_more_irp_stack_locations),
        cmocka_unit_test(device_deleted_twice),
        cmocka_unit_test(call_driver_with_cancel_routine),
        cmocka_unit_test(timer_initialized_twice),
        cmocka_unit_test(irp_freed_twice),
        cmocka_unit_test(unload_with_device),
        cmocka_unit_test(unload_with_pending_irp),
        cmocka_unit_test(unload_with_link),
        cmocka_unit_test(dispatch_changes_irql),
        cmocka_unit_test(complete_above_dispatch),
        cmocka_unit_test(call_above_dispatch),
        cmocka_unit_test(call_null_device),
        cmocka_unit_test(free_irp_held_by_driver),
        cmocka_unit_test(initialize_allocated_irp),
        cmocka_unit_test(information_exceeds_buffer),
        cmocka_unit_test(information_clamped_without_verifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
