/*
 * io_timer.c — the one-second I/O timer (IoInitializeTimer/IoStartTimer/IoStopTimer),
 * system work items (IoAllocateWorkItem/IoQueueWorkItem/IoFreeWorkItem) and shutdown
 * notification.
 *
 * The I/O timer is one periodic machine-clock timer: every second its DPC calls the
 * routine of every started device timer at DISPATCH_LEVEL, as NT's does. Work items
 * run at PASSIVE_LEVEL on one system worker thread, each holding a reference on its
 * device object so that the device outlives the queued item.
 */
#include <ntddk.h>
#include <stdlib.h>

#include "ex_internal.h"
#include "io_internal.h"
#include "ke_internal.h"

/* ---- the I/O timer --------------------------------------------------------------- */

typedef struct _IO_TIMER {
    CSHORT Type; /* IO_TYPE_TIMER */
    BOOLEAN Active;
    LIST_ENTRY Link;
    PIO_TIMER_ROUTINE Routine;
    PVOID Context;
    PDEVICE_OBJECT DeviceObject;
} IO_TIMER;

static KSPIN_LOCK iop_timer_lock;
static LIST_ENTRY iop_timers;
static ULONG iop_timer_count;
static KTIMER iop_timer;
static KDPC iop_timer_dpc;

/* The I/O timer's DPC: call each started timer routine (without the list lock, so a
 * routine may start or stop timers; each device is referenced across its call). */
static VOID NTAPI iop_timer_tick(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeAcquireSpinLockAtDpcLevel(&iop_timer_lock);
    ULONG n = 0, cap = iop_timer_count;
    PDEVICE_OBJECT *devs = cap ? calloc(cap, sizeof(*devs)) : NULL;
    for (PLIST_ENTRY e = iop_timers.Flink; devs && e != &iop_timers; e = e->Flink) {
        IO_TIMER *t = CONTAINING_RECORD(e, IO_TIMER, Link);
        if (t->Active && n < cap) {
            ObReferenceObject(t->DeviceObject);
            devs[n++] = t->DeviceObject;
        }
    }
    KeReleaseSpinLockFromDpcLevel(&iop_timer_lock);
    for (ULONG i = 0; i < n; i++) {
        KeAcquireSpinLockAtDpcLevel(&iop_timer_lock);
        IO_TIMER *t = devs[i]->Timer;
        BOOLEAN run = t && t->Active;
        PIO_TIMER_ROUTINE routine = run ? t->Routine : NULL;
        PVOID ctx = run ? t->Context : NULL;
        KeReleaseSpinLockFromDpcLevel(&iop_timer_lock);
        if (run)
            routine(devs[i], ctx);
        ObDereferenceObject(devs[i]);
    }
    free(devs);
}

/* IoInitializeTimer: give the device its I/O timer (stopped). */
NTSTATUS NTAPI IoInitializeTimer(PDEVICE_OBJECT DeviceObject, PIO_TIMER_ROUTINE TimerRoutine, PVOID Context)
{
    if (DeviceObject->Timer) {
        if (IopVerifierEnabled())
            IOP_VERIFIER_STOP(IOP_VF_TIMER_REINITIALIZED, DeviceObject, 0, 0, __builtin_return_address(0),
                              "IoInitializeTimer was called for a device whose timer is already initialized");
        KIRQL irql;
        KeAcquireSpinLock(&iop_timer_lock, &irql);
        DeviceObject->Timer->Routine = TimerRoutine;
        DeviceObject->Timer->Context = Context;
        KeReleaseSpinLock(&iop_timer_lock, irql);
        return STATUS_SUCCESS;
    }
    IO_TIMER *t = calloc(1, sizeof(*t));
    if (!t)
        return STATUS_INSUFFICIENT_RESOURCES;
    t->Type = IO_TYPE_TIMER;
    t->Routine = TimerRoutine;
    t->Context = Context;
    t->DeviceObject = DeviceObject;
    KIRQL irql;
    KeAcquireSpinLock(&iop_timer_lock, &irql);
    InsertTailList(&iop_timers, &t->Link);
    iop_timer_count++;
    DeviceObject->Timer = t;
    KeReleaseSpinLock(&iop_timer_lock, irql);
    return STATUS_SUCCESS;
}

static void iop_set_timer_active(PDEVICE_OBJECT dev, BOOLEAN active)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_timer_lock, &irql);
    if (dev->Timer)
        dev->Timer->Active = active;
    KeReleaseSpinLock(&iop_timer_lock, irql);
}

/* IoStartTimer / IoStopTimer: the routine is (not) called on the next ticks. */
VOID NTAPI IoStartTimer(PDEVICE_OBJECT DeviceObject)
{
    iop_set_timer_active(DeviceObject, TRUE);
}

VOID NTAPI IoStopTimer(PDEVICE_OBJECT DeviceObject)
{
    iop_set_timer_active(DeviceObject, FALSE);
}

/* IoDeleteDevice: the device's timer goes with it. */
VOID IopDeleteDeviceTimer(PDEVICE_OBJECT DeviceObject)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_timer_lock, &irql);
    IO_TIMER *t = DeviceObject->Timer;
    DeviceObject->Timer = NULL;
    if (t) {
        RemoveEntryList(&t->Link);
        iop_timer_count--;
    }
    KeReleaseSpinLock(&iop_timer_lock, irql);
    free(t);
}

NTSTATUS IopTimerInitialize(void)
{
    KeInitializeSpinLock(&iop_timer_lock);
    InitializeListHead(&iop_timers);
    iop_timer_count = 0;
    KeInitializeTimerEx(&iop_timer, SynchronizationTimer);
    KeInitializeDpc(&iop_timer_dpc, iop_timer_tick, NULL);
    LARGE_INTEGER due = { .QuadPart = -10000000LL };
    KeSetTimerEx(&iop_timer, due, 1000, &iop_timer_dpc);
    return STATUS_SUCCESS;
}

VOID IopTimerTeardown(void)
{
    KeCancelTimer(&iop_timer);
    KeRemoveQueueDpc(&iop_timer_dpc);
    while (!IsListEmpty(&iop_timers)) {
        IO_TIMER *t = CONTAINING_RECORD(RemoveHeadList(&iop_timers), IO_TIMER, Link);
        t->DeviceObject->Timer = NULL;
        free(t);
    }
    iop_timer_count = 0;
}

/* ---- work items ------------------------------------------------------------------ */

/* Pool tag of work items ('IoWk'): they are the driver's pool, freed by the driver. */
#define IOP_WORKITEM_TAG 0x6B576F49

struct _IO_WORKITEM {
    LIST_ENTRY Link;
    PDEVICE_OBJECT DeviceObject;
    PIO_WORKITEM_ROUTINE Routine;
    PVOID Context;
};

static KSPIN_LOCK iop_work_lock;
static LIST_ENTRY iop_work_queue;
static KSEMAPHORE iop_work_ready;
static PKTHREAD iop_worker;
static BOOLEAN iop_worker_stop;

/* IoAllocateWorkItem: a work item for the device, from nonpaged pool charged to the
 * calling driver (IoFreeWorkItem gives it back). */
PIO_WORKITEM NTAPI IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject)
{
    PIO_WORKITEM item =
        ExpAllocatePoolForImage(NonPagedPool, sizeof(*item), IOP_WORKITEM_TAG, __builtin_return_address(0));
    if (item) {
        memset(item, 0, sizeof(*item));
        item->DeviceObject = DeviceObject;
    }
    return item;
}

VOID NTAPI IoFreeWorkItem(PIO_WORKITEM IoWorkItem)
{
    ExFreePoolWithTag(IoWorkItem, IOP_WORKITEM_TAG);
}

/* IoQueueWorkItem: run Routine(DeviceObject, Context) on the system worker thread. */
VOID NTAPI IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine, WORK_QUEUE_TYPE QueueType,
                           PVOID Context)
{
    UNREFERENCED_PARAMETER(QueueType);
    ObReferenceObject(IoWorkItem->DeviceObject);
    IoWorkItem->Routine = WorkerRoutine;
    IoWorkItem->Context = Context;
    KIRQL irql;
    KeAcquireSpinLock(&iop_work_lock, &irql);
    InsertTailList(&iop_work_queue, &IoWorkItem->Link);
    KeReleaseSpinLock(&iop_work_lock, irql);
    KeReleaseSemaphore(&iop_work_ready, IO_NO_INCREMENT, 1, FALSE);
}

/* Work items queued and not yet run for the driver's devices (unload check). */
ULONG IopCountDriverWorkItems(PDRIVER_OBJECT DriverObject)
{
    ULONG n = 0;
    KIRQL irql;
    KeAcquireSpinLock(&iop_work_lock, &irql);
    for (PLIST_ENTRY e = iop_work_queue.Flink; e != &iop_work_queue; e = e->Flink)
        n += CONTAINING_RECORD(e, struct _IO_WORKITEM, Link)->DeviceObject->DriverObject == DriverObject;
    KeReleaseSpinLock(&iop_work_lock, irql);
    return n;
}

static VOID NTAPI iop_worker_main(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    for (;;) {
        KeWaitForSingleObject(&iop_work_ready, Executive, KernelMode, FALSE, NULL);
        KIRQL irql;
        KeAcquireSpinLock(&iop_work_lock, &irql);
        PIO_WORKITEM item = NULL;
        if (!IsListEmpty(&iop_work_queue))
            item = CONTAINING_RECORD(RemoveHeadList(&iop_work_queue), struct _IO_WORKITEM, Link);
        BOOLEAN stop = iop_worker_stop && !item;
        KeReleaseSpinLock(&iop_work_lock, irql);
        if (stop)
            break;
        if (!item)
            continue;
        /* The routine may free the item: take what is needed first. */
        PDEVICE_OBJECT dev = item->DeviceObject;
        item->Routine(dev, item->Context);
        if (KeGetCurrentIrql() != PASSIVE_LEVEL)
            VfBugCheck(IRQL_UNEXPECTED_VALUE, (ULONG_PTR)KeGetCurrentIrql() << 16, 0, 0, 0,
                       (const void *)(ULONG_PTR)item->Routine, NULL,
                       "a work item routine returned at IRQL %u", KeGetCurrentIrql());
        ObDereferenceObject(dev);
    }
    KiExitThread(STATUS_SUCCESS);
}

NTSTATUS IopWorkerInitialize(void)
{
    KeInitializeSpinLock(&iop_work_lock);
    InitializeListHead(&iop_work_queue);
    KeInitializeSemaphore(&iop_work_ready, 0, MAXLONG);
    iop_worker_stop = FALSE;
    return KiCreateThread(KiThreadKindSystem, "IoWorker", iop_worker_main, NULL, &iop_worker);
}

/* Run what is queued, then stop the worker thread and wait for it. */
VOID IopWorkerTeardown(void)
{
    if (!iop_worker)
        return;
    KIRQL irql;
    KeAcquireSpinLock(&iop_work_lock, &irql);
    iop_worker_stop = TRUE;
    KeReleaseSpinLock(&iop_work_lock, irql);
    KeReleaseSemaphore(&iop_work_ready, IO_NO_INCREMENT, 1, FALSE);
    KeWaitForSingleObject(iop_worker, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(iop_worker);
    iop_worker = NULL;
}

/* ---- shutdown notification ----------------------------------------------------------- */

typedef struct iop_shutdown_entry {
    LIST_ENTRY Link;
    PDEVICE_OBJECT DeviceObject;
} iop_shutdown_entry;

static KSPIN_LOCK iop_shutdown_lock;
static LIST_ENTRY iop_shutdown_list;

/* IoRegisterShutdownNotification: IRP_MJ_SHUTDOWN at system shutdown, LIFO as NT. */
NTSTATUS NTAPI IoRegisterShutdownNotification(PDEVICE_OBJECT DeviceObject)
{
    iop_shutdown_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return STATUS_INSUFFICIENT_RESOURCES;
    ObReferenceObject(DeviceObject);
    e->DeviceObject = DeviceObject;
    KIRQL irql;
    KeAcquireSpinLock(&iop_shutdown_lock, &irql);
    InsertHeadList(&iop_shutdown_list, &e->Link);
    DeviceObject->Flags |= DO_SHUTDOWN_REGISTERED;
    KeReleaseSpinLock(&iop_shutdown_lock, irql);
    return STATUS_SUCCESS;
}

/* IoUnregisterShutdownNotification (also done by IoDeleteDevice). */
VOID NTAPI IoUnregisterShutdownNotification(PDEVICE_OBJECT DeviceObject)
{
    LIST_ENTRY gone;
    InitializeListHead(&gone);
    KIRQL irql;
    KeAcquireSpinLock(&iop_shutdown_lock, &irql);
    for (PLIST_ENTRY le = iop_shutdown_list.Flink; le != &iop_shutdown_list;) {
        iop_shutdown_entry *e = CONTAINING_RECORD(le, iop_shutdown_entry, Link);
        le = le->Flink;
        if (e->DeviceObject == DeviceObject) {
            RemoveEntryList(&e->Link);
            InsertTailList(&gone, &e->Link);
        }
    }
    DeviceObject->Flags &= ~DO_SHUTDOWN_REGISTERED;
    KeReleaseSpinLock(&iop_shutdown_lock, irql);
    while (!IsListEmpty(&gone)) {
        iop_shutdown_entry *e = CONTAINING_RECORD(RemoveHeadList(&gone), iop_shutdown_entry, Link);
        ObDereferenceObject(e->DeviceObject);
        free(e);
    }
}

/* Send IRP_MJ_SHUTDOWN to the top of each registered device's stack and wait. */
VOID IopShutdownNotify(void)
{
    for (;;) {
        PDEVICE_OBJECT dev = NULL;
        KIRQL irql;
        KeAcquireSpinLock(&iop_shutdown_lock, &irql);
        if (!IsListEmpty(&iop_shutdown_list)) {
            iop_shutdown_entry *e = CONTAINING_RECORD(RemoveHeadList(&iop_shutdown_list), iop_shutdown_entry, Link);
            dev = e->DeviceObject; /* the entry's reference is now ours */
            dev->Flags &= ~DO_SHUTDOWN_REGISTERED;
            free(e);
        }
        KeReleaseSpinLock(&iop_shutdown_lock, irql);
        if (!dev)
            break;
        PDEVICE_OBJECT top = IoGetAttachedDeviceReference(dev);
        KEVENT done;
        IO_STATUS_BLOCK iosb;
        KeInitializeEvent(&done, NotificationEvent, FALSE);
        PIRP irp = IoBuildSynchronousFsdRequest(IRP_MJ_SHUTDOWN, top, NULL, 0, NULL, &done, &iosb);
        if (irp && IoCallDriver(top, irp) == STATUS_PENDING)
            KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(top);
        ObDereferenceObject(dev);
    }
}

VOID IopShutdownListInitialize(void)
{
    KeInitializeSpinLock(&iop_shutdown_lock);
    InitializeListHead(&iop_shutdown_list);
}
