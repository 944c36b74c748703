/*
 * ke_devqueue.c — device queues (the packet queue behind IoStartPacket): a Busy flag
 * plus a FIFO, or sorted by key for the ByKey forms. Called at DISPATCH_LEVEL.
 */
#include "ki.h"

static void KipCheckDispatch(PCSTR Routine, const void *Caller)
{
    PKTHREAD self = KiRequireCurrentThread(Routine);
    if (self->Irql != DISPATCH_LEVEL && VfIsEnabled())
        VfBugCheck(IRQL_NOT_GREATER_OR_EQUAL, (ULONG_PTR)Caller, self->Irql, DISPATCH_LEVEL, 0, Caller, NULL,
                   "%s called at IRQL %u (must be DISPATCH_LEVEL)", Routine, self->Irql);
}

VOID NTAPI KeInitializeDeviceQueue(PKDEVICE_QUEUE DeviceQueue)
{
    DeviceQueue->Type = DeviceQueueObject;
    DeviceQueue->Size = sizeof(KDEVICE_QUEUE);
    InitializeListHead(&DeviceQueue->DeviceListHead);
    DeviceQueue->Lock = 0;
    DeviceQueue->Busy = FALSE;
}

/* Returns FALSE (and marks the queue busy) when the device was idle: the caller
 * starts the packet itself. */
BOOLEAN NTAPI KeInsertDeviceQueue(PKDEVICE_QUEUE DeviceQueue, PKDEVICE_QUEUE_ENTRY DeviceQueueEntry)
{
    KipCheckDispatch("KeInsertDeviceQueue", __builtin_return_address(0));
    if (!DeviceQueue->Busy) {
        DeviceQueue->Busy = TRUE;
        DeviceQueueEntry->Inserted = FALSE;
        return FALSE;
    }
    InsertTailList(&DeviceQueue->DeviceListHead, &DeviceQueueEntry->DeviceListEntry);
    DeviceQueueEntry->Inserted = TRUE;
    return TRUE;
}

BOOLEAN NTAPI KeInsertByKeyDeviceQueue(PKDEVICE_QUEUE DeviceQueue, PKDEVICE_QUEUE_ENTRY DeviceQueueEntry,
                                       ULONG SortKey)
{
    KipCheckDispatch("KeInsertByKeyDeviceQueue", __builtin_return_address(0));
    DeviceQueueEntry->SortKey = SortKey;
    if (!DeviceQueue->Busy) {
        DeviceQueue->Busy = TRUE;
        DeviceQueueEntry->Inserted = FALSE;
        return FALSE;
    }
    PLIST_ENTRY e = DeviceQueue->DeviceListHead.Flink;
    while (e != &DeviceQueue->DeviceListHead &&
           CONTAINING_RECORD(e, KDEVICE_QUEUE_ENTRY, DeviceListEntry)->SortKey <= SortKey)
        e = e->Flink;
    InsertTailList(e, &DeviceQueueEntry->DeviceListEntry);
    DeviceQueueEntry->Inserted = TRUE;
    return TRUE;
}

/* Returns the next entry, or NULL (and marks the queue idle) when it is empty. */
PKDEVICE_QUEUE_ENTRY NTAPI KeRemoveDeviceQueue(PKDEVICE_QUEUE DeviceQueue)
{
    KipCheckDispatch("KeRemoveDeviceQueue", __builtin_return_address(0));
    if (IsListEmpty(&DeviceQueue->DeviceListHead)) {
        DeviceQueue->Busy = FALSE;
        return NULL;
    }
    PKDEVICE_QUEUE_ENTRY entry =
        CONTAINING_RECORD(RemoveHeadList(&DeviceQueue->DeviceListHead), KDEVICE_QUEUE_ENTRY, DeviceListEntry);
    entry->Inserted = FALSE;
    return entry;
}

/* The first entry with a key >= SortKey, else the first entry. */
PKDEVICE_QUEUE_ENTRY NTAPI KeRemoveByKeyDeviceQueue(PKDEVICE_QUEUE DeviceQueue, ULONG SortKey)
{
    KipCheckDispatch("KeRemoveByKeyDeviceQueue", __builtin_return_address(0));
    if (IsListEmpty(&DeviceQueue->DeviceListHead)) {
        DeviceQueue->Busy = FALSE;
        return NULL;
    }
    PLIST_ENTRY e = DeviceQueue->DeviceListHead.Flink;
    while (e != &DeviceQueue->DeviceListHead &&
           CONTAINING_RECORD(e, KDEVICE_QUEUE_ENTRY, DeviceListEntry)->SortKey < SortKey)
        e = e->Flink;
    if (e == &DeviceQueue->DeviceListHead)
        e = DeviceQueue->DeviceListHead.Flink;
    RemoveEntryList(e);
    PKDEVICE_QUEUE_ENTRY entry = CONTAINING_RECORD(e, KDEVICE_QUEUE_ENTRY, DeviceListEntry);
    entry->Inserted = FALSE;
    return entry;
}

BOOLEAN NTAPI KeRemoveEntryDeviceQueue(PKDEVICE_QUEUE DeviceQueue, PKDEVICE_QUEUE_ENTRY DeviceQueueEntry)
{
    UNREFERENCED_PARAMETER(DeviceQueue);
    KiRequireCurrentThread("KeRemoveEntryDeviceQueue");
    if (!DeviceQueueEntry->Inserted)
        return FALSE;
    RemoveEntryList(&DeviceQueueEntry->DeviceListEntry);
    DeviceQueueEntry->Inserted = FALSE;
    return TRUE;
}
