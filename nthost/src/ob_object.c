/*
 * ob_object.c — object headers, reference counts, object types and the handle table.
 *
 * References: ObfReferenceObject / ObfDereferenceObject; the last dereference runs the
 * type's DeleteProcedure and frees the block — immediately at or below APC_LEVEL,
 * otherwise at the next moment the IRQL is back at PASSIVE_LEVEL (as NT defers object
 * deletion to a worker thread).
 *
 * Handles: one table (nthost has one process). Handle values are multiples of 4 from
 * 4, reused lowest-free first; kernel handles (OBJ_KERNEL_HANDLE) carry the high bits
 * NT's kernel handles carry and are refused to UserMode callers.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ex_internal.h"
#include "io_internal.h"
#include "ki.h"
#include "ob_internal.h"

#define OBP_KERNEL_HANDLE_BITS ((ULONG_PTR)0xFFFFFFFF80000000ULL)

typedef struct _OBP_HANDLE_ENTRY {
    PVOID Object;
    ACCESS_MASK GrantedAccess;
    ULONG Attributes;
} OBP_HANDLE_ENTRY;

static OBP_HANDLE_ENTRY *ObpHandles;
static ULONG ObpHandleCapacity;
static ULONG ObpHandlesInUse;
static LIST_ENTRY ObpObjects = { &ObpObjects, &ObpObjects };
static LIST_ENTRY ObpDeferred = { &ObpDeferred, &ObpDeferred };

/* ---- Objects --------------------------------------------------------------------------- */

NTSTATUS ObpCreateObject(POBJECT_TYPE Type, SIZE_T BodySize, PVOID *Object)
{
    POBJECT_HEADER h = ExpAllocatePoolForImage(NonPagedPool, sizeof(OBJECT_HEADER) + BodySize,
                                               Type->PoolTag ? Type->PoolTag : 'jbOO', NULL);
    if (h == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memset(h, 0, sizeof(OBJECT_HEADER) + BodySize);
    h->Magic = OB_HEADER_MAGIC;
    h->PointerCount = 1;
    h->Type = Type;
    h->BodySize = BodySize;
    InsertTailList(&ObpObjects, &h->ObjectListEntry);
    Type->TotalObjects++;
    *Object = h->Body;
    return STATUS_SUCCESS;
}

/* ObpHeader: the header of a live object, or a bug check for anything else. */
static POBJECT_HEADER ObpHeader(PVOID Object, const void *Caller)
{
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Object);
    if (Object == NULL || !ExpIsPoolBlock(h) || h->Magic != OB_HEADER_MAGIC)
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_OBJECT_REFCOUNT_ZERO, (ULONG_PTR)Object, 0, 0, Caller,
                   NULL, "%p is not a live object (freed, or never an object)", Object);
    return h;
}

BOOLEAN ObpIsObjectOfType(PVOID Object, POBJECT_TYPE Type)
{
    if (Object == NULL)
        return FALSE;
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(Object);
    if (!ExpIsPoolBlock(h) || h->Magic != OB_HEADER_MAGIC)
        return FALSE;
    return Type == NULL || h->Type == Type;
}

POBJECT_TYPE ObpGetObjectType(PVOID Object) { return OBJECT_TO_OBJECT_HEADER(Object)->Type; }
LONG_PTR ObpPointerCount(PVOID Object) { return OBJECT_TO_OBJECT_HEADER(Object)->PointerCount; }
LONG_PTR ObpHandleCount(PVOID Object) { return OBJECT_TO_OBJECT_HEADER(Object)->HandleCount; }

static void ObpDelete(POBJECT_HEADER h)
{
    if (h->Type->DeleteProcedure)
        h->Type->DeleteProcedure(h->Body);
    RemoveEntryList(&h->ObjectListEntry);
    h->Type->TotalObjects--;
    h->Magic = 0;
    ExFreePoolWithTag(h, h->Type->PoolTag ? h->Type->PoolTag : 'jbOO');
}

LONG_PTR FASTCALL ObfReferenceObject(PVOID Object)
{
    POBJECT_HEADER h = ObpHeader(Object, __builtin_return_address(0));
    if (h->PointerCount <= 0)
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_OBJECT_REFCOUNT_ZERO, (ULONG_PTR)Object, 1, 0,
                   __builtin_return_address(0), NULL, "ObReferenceObject on object %p whose reference count is 0",
                   Object);
    return ++h->PointerCount;
}

LONG_PTR FASTCALL ObfDereferenceObject(PVOID Object)
{
    POBJECT_HEADER h = ObpHeader(Object, __builtin_return_address(0));
    if (h->PointerCount <= 0 || (h->Flags & OB_FLAG_DELETE_PENDING))
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_OBJECT_REFCOUNT_ZERO, (ULONG_PTR)Object, (ULONG_PTR)-1, 0,
                   __builtin_return_address(0), NULL,
                   "ObDereferenceObject on object %p whose reference count is already 0", Object);
    LONG_PTR left = --h->PointerCount;
    if (left == 0) {
        if (KiSelf && KiSelf->Irql > APC_LEVEL) {
            h->Flags |= OB_FLAG_DELETE_PENDING;
            RemoveEntryList(&h->ObjectListEntry);
            InsertTailList(&ObpDeferred, &h->ObjectListEntry);
        } else {
            ObpDelete(h);
        }
    }
    return left;
}

VOID ObpProcessDeferredDeletes(void)
{
    while (!IsListEmpty(&ObpDeferred)) {
        POBJECT_HEADER h = CONTAINING_RECORD(RemoveHeadList(&ObpDeferred), OBJECT_HEADER, ObjectListEntry);
        InsertTailList(&ObpObjects, &h->ObjectListEntry);
        h->Flags &= ~OB_FLAG_DELETE_PENDING;
        ObpDelete(h);
    }
}

/* ObReferenceObjectByPointer: a reference with a type check (no access check: the
 * caller already holds a pointer). */
NTSTATUS NTAPI ObReferenceObjectByPointer(PVOID Object, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                          KPROCESSOR_MODE AccessMode)
{
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(AccessMode);
    POBJECT_HEADER h = ObpHeader(Object, __builtin_return_address(0));
    if (ObjectType && h->Type != ObjectType)
        return STATUS_OBJECT_TYPE_MISMATCH;
    h->PointerCount++;
    return STATUS_SUCCESS;
}

/* ObReferenceObjectByName: the object the namespace path names (symbolic links
 * followed), referenced, after a type check. A path that goes on past an object, or
 * names a directory, does not name an object here. */
NTSTATUS NTAPI ObReferenceObjectByName(PUNICODE_STRING ObjectName, ULONG Attributes, PVOID AccessState,
                                       ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                                       PVOID ParseContext, PVOID *Object)
{
    UNREFERENCED_PARAMETER(Attributes);
    UNREFERENCED_PARAMETER(AccessState);
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(AccessMode);
    UNREFERENCED_PARAMETER(ParseContext);
    KiRequireCurrentThread("ObReferenceObjectByName");
    *Object = NULL;
    ob_ns_lookup res;
    NTSTATUS status = ObpNsLookup(ObjectName, &res);
    if (!NT_SUCCESS(status))
        return status;
    if (res.Remaining.Length != 0)
        status = STATUS_OBJECT_NAME_NOT_FOUND;
    else if (res.Object == NULL || (ObjectType && OBJECT_TO_OBJECT_HEADER(res.Object)->Type != ObjectType))
        status = STATUS_OBJECT_TYPE_MISMATCH;
    if (NT_SUCCESS(status))
        *Object = res.Object;
    else if (res.Object)
        ObDereferenceObject(res.Object);
    ObpNsLookupDone(&res);
    return status;
}

ULONG ObpLiveObjectCount(POBJECT_TYPE Type)
{
    ULONG n = 0;
    for (PLIST_ENTRY e = ObpObjects.Flink; e != &ObpObjects; e = e->Flink)
        if (Type == NULL || CONTAINING_RECORD(e, OBJECT_HEADER, ObjectListEntry)->Type == Type)
            n++;
    return n;
}

PDISPATCHER_HEADER ObpWaitObject(PVOID Object)
{
    POBJECT_TYPE type = OBJECT_TO_OBJECT_HEADER(Object)->Type;
    if (type->WaitObjectOffset < 0)
        return NULL;
    return (PDISPATCHER_HEADER)((PUCHAR)Object + type->WaitObjectOffset);
}

/* ---- Handles ---------------------------------------------------------------------------- */

ACCESS_MASK ObpMapGenericAccess(POBJECT_TYPE Type, ACCESS_MASK Access)
{
    ACCESS_MASK out = Access & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL | MAXIMUM_ALLOWED);
    if (Access & GENERIC_READ)
        out |= Type->GenericMapping.GenericRead;
    if (Access & GENERIC_WRITE)
        out |= Type->GenericMapping.GenericWrite;
    if (Access & GENERIC_EXECUTE)
        out |= Type->GenericMapping.GenericExecute;
    if (Access & (GENERIC_ALL | MAXIMUM_ALLOWED))
        out |= Type->GenericMapping.GenericAll ? Type->GenericMapping.GenericAll
                                               : (STANDARD_RIGHTS_ALL | SPECIFIC_RIGHTS_ALL);
    return out;
}

static HANDLE ObpIndexToHandle(ULONG Index, ULONG Attributes)
{
    ULONG_PTR v = (ULONG_PTR)(Index + 1) * 4;
    if (Attributes & OBJ_KERNEL_HANDLE)
        v |= OBP_KERNEL_HANDLE_BITS;
    return (HANDLE)v;
}

/* ObpEntry: the table entry of Handle for a caller in AccessMode, or NULL. */
static OBP_HANDLE_ENTRY *ObpEntry(HANDLE Handle, KPROCESSOR_MODE AccessMode)
{
    ULONG_PTR v = (ULONG_PTR)Handle;
    BOOLEAN kernel = (v & OBP_KERNEL_HANDLE_BITS) == OBP_KERNEL_HANDLE_BITS;
    v &= ~OBP_KERNEL_HANDLE_BITS;
    if (v == 0 || (v & 3) != 0 || v / 4 > ObpHandleCapacity)
        return NULL;
    OBP_HANDLE_ENTRY *e = &ObpHandles[v / 4 - 1];
    if (e->Object == NULL)
        return NULL;
    BOOLEAN entry_kernel = (e->Attributes & OBJ_KERNEL_HANDLE) != 0;
    if (kernel != entry_kernel || (entry_kernel && AccessMode == UserMode))
        return NULL;
    return e;
}

NTSTATUS ObpCreateHandle(PVOID Object, ACCESS_MASK DesiredAccess, ULONG Attributes, PHANDLE Handle)
{
    POBJECT_HEADER h = ObpHeader(Object, __builtin_return_address(0));
    ULONG i;
    for (i = 0; i < ObpHandleCapacity && ObpHandles[i].Object; i++)
        ;
    if (i == ObpHandleCapacity) {
        ULONG cap = ObpHandleCapacity ? ObpHandleCapacity * 2 : 64;
        OBP_HANDLE_ENTRY *grown = realloc(ObpHandles, cap * sizeof(*grown));
        if (grown == NULL)
            return STATUS_INSUFFICIENT_RESOURCES;
        memset(grown + ObpHandleCapacity, 0, (cap - ObpHandleCapacity) * sizeof(*grown));
        ObpHandles = grown;
        ObpHandleCapacity = cap;
    }
    ACCESS_MASK granted = ObpMapGenericAccess(h->Type, DesiredAccess);
    if (h->Type->ValidAccessMask)
        granted &= h->Type->ValidAccessMask | ACCESS_SYSTEM_SECURITY;
    ObpHandles[i].Object = Object;
    ObpHandles[i].GrantedAccess = granted;
    ObpHandles[i].Attributes = Attributes & (OBJ_INHERIT | OBJ_KERNEL_HANDLE);
    h->PointerCount++;
    h->HandleCount++;
    h->Type->TotalHandles++;
    ObpHandlesInUse++;
    *Handle = ObpIndexToHandle(i, Attributes);
    return STATUS_SUCCESS;
}

PVOID ObpLookupHandle(HANDLE Handle, KPROCESSOR_MODE AccessMode, ACCESS_MASK *GrantedAccess)
{
    OBP_HANDLE_ENTRY *e = ObpEntry(Handle, AccessMode);
    if (e == NULL)
        return NULL;
    if (GrantedAccess)
        *GrantedAccess = e->GrantedAccess;
    return e->Object;
}

NTSTATUS ObpCloseHandle(HANDLE Handle, KPROCESSOR_MODE AccessMode)
{
    OBP_HANDLE_ENTRY *e = ObpEntry(Handle, AccessMode);
    if (e == NULL)
        return STATUS_INVALID_HANDLE;
    PVOID object = e->Object;
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(object);
    e->Object = NULL;
    ObpHandlesInUse--;
    h->HandleCount--;
    h->Type->TotalHandles--;
    if (h->Type->CloseProcedure)
        h->Type->CloseProcedure(object, (ULONG_PTR)h->HandleCount);
    ObfDereferenceObject(object);
    return STATUS_SUCCESS;
}

ULONG ObpOpenHandleCount(void)
{
    return ObpHandlesInUse;
}

/* ZwClose: closes a handle (kernel caller). */
NTSTATUS NTAPI ZwClose(HANDLE Handle)
{
    KiRequireCurrentThread("ZwClose");
    return ObpCloseHandle(Handle, KernelMode);
}

/* ObReferenceObjectByHandle: the object behind Handle, referenced, after a type check
 * and — for UserMode callers — an access check against the handle's granted access. */
NTSTATUS NTAPI ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                         KPROCESSOR_MODE AccessMode, PVOID *Object,
                                         POBJECT_HANDLE_INFORMATION HandleInformation)
{
    PKTHREAD self = KiRequireCurrentThread("ObReferenceObjectByHandle");
    const void *caller = __builtin_return_address(0);
    *Object = NULL;
    if (Handle == NtCurrentThread() || Handle == NtCurrentProcess()) {
        BOOLEAN thread = Handle == NtCurrentThread();
        if (ObjectType && ObjectType != (thread ? ObpThreadType : *PsProcessType))
            return STATUS_OBJECT_TYPE_MISMATCH;
        if (!thread)
            return STATUS_OBJECT_TYPE_MISMATCH; /* the System process is not an Ob object here */
        ObfReferenceObject(self);
        *Object = self;
        if (HandleInformation) {
            HandleInformation->GrantedAccess = THREAD_ALL_ACCESS;
            HandleInformation->HandleAttributes = 0;
        }
        return STATUS_SUCCESS;
    }
    if (Handle == NULL) {
        if (AccessMode == KernelMode && VfIsEnabled())
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_OBREF_NULL_HANDLE, (ULONG_PTR)Handle,
                       (ULONG_PTR)ObjectType, 0, caller, NULL, "ObReferenceObjectByHandle with a NULL handle");
        return STATUS_INVALID_HANDLE;
    }
    OBP_HANDLE_ENTRY *e = ObpEntry(Handle, AccessMode);
    if (e == NULL) {
        if (AccessMode == KernelMode && VfIsEnabled())
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_OBREF_BAD_HANDLE, (ULONG_PTR)Handle,
                       (ULONG_PTR)ObjectType, 0, caller, NULL, "ObReferenceObjectByHandle with the invalid handle %p",
                       Handle);
        return STATUS_INVALID_HANDLE;
    }
    POBJECT_HEADER h = OBJECT_TO_OBJECT_HEADER(e->Object);
    if (ObjectType && h->Type != ObjectType)
        return STATUS_OBJECT_TYPE_MISMATCH;
    if (AccessMode == UserMode) {
        ACCESS_MASK wanted = ObpMapGenericAccess(h->Type, DesiredAccess);
        if ((wanted & ~e->GrantedAccess) != 0)
            return STATUS_ACCESS_DENIED;
    }
    h->PointerCount++;
    *Object = e->Object;
    if (HandleInformation) {
        HandleInformation->GrantedAccess = e->GrantedAccess;
        HandleInformation->HandleAttributes = e->Attributes;
    }
    return STATUS_SUCCESS;
}

/* ObpCloseUserHandles: process rundown — close every non-kernel handle (the Win32
 * handles a program left open), as NT does when a process exits. */
VOID ObpCloseUserHandles(VOID)
{
    for (ULONG i = 0; i < ObpHandleCapacity; i++)
        if (ObpHandles[i].Object && !(ObpHandles[i].Attributes & OBJ_KERNEL_HANDLE))
            ObpCloseHandle(ObpIndexToHandle(i, ObpHandles[i].Attributes), UserMode);
}

VOID ObpShutdown(void)
{
    if (ObpHandlesInUse) {
        fprintf(stderr, "nthost: %lu handle(s) still open at shutdown:\n", (unsigned long)ObpHandlesInUse);
        for (ULONG i = 0; i < ObpHandleCapacity; i++)
            if (ObpHandles[i].Object)
                fprintf(stderr, "  handle %p -> %s object %p\n", ObpIndexToHandle(i, ObpHandles[i].Attributes),
                        OBJECT_TO_OBJECT_HEADER(ObpHandles[i].Object)->Type->Name, ObpHandles[i].Object);
    }
    if (!IsListEmpty(&ObpObjects)) {
        fprintf(stderr, "nthost: %lu object(s) still referenced at shutdown:\n",
                (unsigned long)ObpLiveObjectCount(NULL));
        for (PLIST_ENTRY e = ObpObjects.Flink; e != &ObpObjects; e = e->Flink) {
            POBJECT_HEADER h = CONTAINING_RECORD(e, OBJECT_HEADER, ObjectListEntry);
            fprintf(stderr, "  %s object %p, %ld reference(s), %ld handle(s)\n", h->Type->Name, (void *)h->Body,
                    (long)h->PointerCount, (long)h->HandleCount);
        }
    }
    if (ObpHandlesInUse == 0) {
        free(ObpHandles);
        ObpHandles = NULL;
        ObpHandleCapacity = 0;
    }
}
