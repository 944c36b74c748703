/*
 * ob_internal.h — nthost's object manager core: object headers with a type and
 * reference counts, object types with delete/close procedures, and the handle table.
 * (The namespace — names, directories, symbolic links — is ob_namespace.c's, see
 * io_internal.h; an object's name lives there, not in the header.)
 *
 * Every object body is preceded by an OBJECT_HEADER. PointerCount counts references
 * (each handle holds one); when it drops to zero the type's DeleteProcedure runs and
 * the memory is freed. As on NT, a deletion that becomes due above APC_LEVEL is
 * deferred until the IRQL drops to PASSIVE_LEVEL.
 */
#ifndef NTHOST_OB_INTERNAL_H
#define NTHOST_OB_INTERNAL_H

#include <ntddk.h>

/* Called when the last reference goes, before the memory is freed. */
typedef VOID OB_DELETE_PROCEDURE(PVOID Object);
/* Called after a handle to the object was closed; HandleCount is the number of
 * handles left (0: the last one — where Io sends IRP_MJ_CLEANUP). The handle's
 * reference is dropped after this returns. */
typedef VOID OB_CLOSE_PROCEDURE(PVOID Object, ULONG_PTR HandleCount);

/* Define one static instance per type and export a pointer to it, e.g.
 *   static OBJECT_TYPE IopFileType = { .Name = "File", ... };
 *   static POBJECT_TYPE IopFileTypePtr = &IopFileType;
 *   POBJECT_TYPE *IoFileObjectType = &IopFileTypePtr;                           */
typedef struct _OBJECT_TYPE OBJECT_TYPE;
struct _OBJECT_TYPE {
    PCSTR Name;
    ULONG PoolTag;                  /* tag of the object's pool block */
    OB_DELETE_PROCEDURE *DeleteProcedure;
    OB_CLOSE_PROCEDURE *CloseProcedure;
    GENERIC_MAPPING GenericMapping; /* GENERIC_* -> specific rights */
    ACCESS_MASK ValidAccessMask;    /* 0: anything goes */
    /* Offset of the DISPATCHER_HEADER Win32 waits use (e.g. FILE_OBJECT.Event), or
     * -1 when objects of the type are not waitable. */
    LONG WaitObjectOffset;
    /* Statistics (maintained by ob_object.c). */
    LONG TotalObjects;
    LONG TotalHandles;
};

#define OB_HEADER_MAGIC 0x6A624F4EU /* "NObj" */

typedef struct _OBJECT_HEADER {
    ULONG Magic;
    ULONG Flags;
    LONG_PTR PointerCount;
    LONG_PTR HandleCount;
    POBJECT_TYPE Type;
    SIZE_T BodySize;
    LIST_ENTRY ObjectListEntry; /* all live objects, for leak reports */
    ULONGLONG Body[];           /* the object (8-byte aligned) */
} OBJECT_HEADER, *POBJECT_HEADER;

#define OBJECT_TO_OBJECT_HEADER(o) CONTAINING_RECORD((o), OBJECT_HEADER, Body)
#define OB_FLAG_DELETE_PENDING 0x1

/* Creates an object of Type with a zeroed body of BodySize bytes and one reference. */
NTSTATUS ObpCreateObject(POBJECT_TYPE Type, SIZE_T BodySize, PVOID *Object);
/* TRUE when Object is a live object of Type (Type NULL: of any type). */
BOOLEAN ObpIsObjectOfType(PVOID Object, POBJECT_TYPE Type);
POBJECT_TYPE ObpGetObjectType(PVOID Object);
LONG_PTR ObpPointerCount(PVOID Object);
LONG_PTR ObpHandleCount(PVOID Object);

/* Handle table (one, for the single process; Win32 handles live here too). Kernel
 * handles (OBJ_KERNEL_HANDLE) have the high bit set and are refused to UserMode
 * callers. Creating a handle takes a new reference on the object. */
NTSTATUS ObpCreateHandle(PVOID Object, ACCESS_MASK DesiredAccess, ULONG Attributes, PHANDLE Handle);
/* Closes a handle (ZwClose does this with KernelMode). */
NTSTATUS ObpCloseHandle(HANDLE Handle, KPROCESSOR_MODE AccessMode);
/* Looks a handle up without taking a reference (the caller holds the CPU, so the
 * object cannot go away until it blocks). Returns NULL if invalid. */
PVOID ObpLookupHandle(HANDLE Handle, KPROCESSOR_MODE AccessMode, ACCESS_MASK *GrantedAccess);
/* Maps GENERIC_* bits of Access through the type's GenericMapping. */
ACCESS_MASK ObpMapGenericAccess(POBJECT_TYPE Type, ACCESS_MASK Access);
/* Dispatcher header to wait on for a Win32 wait on Object, or NULL if not waitable. */
PDISPATCHER_HEADER ObpWaitObject(PVOID Object);

/* Number of open handles / live objects of a type (NULL: all). */
ULONG ObpOpenHandleCount(VOID);
ULONG ObpLiveObjectCount(POBJECT_TYPE Type);

/* Process rundown: closes every non-kernel (Win32) handle still open. */
VOID ObpCloseUserHandles(VOID);
/* Runs deletions deferred because the last dereference happened above APC_LEVEL. */
VOID ObpProcessDeferredDeletes(VOID);
/* Closes every handle and reports leaked objects (KiShutdown calls this). */
VOID ObpShutdown(VOID);

/* Types defined by the kernel core. */
extern POBJECT_TYPE ObpThreadType;    /* = *PsThreadType; body KTHREAD */
extern POBJECT_TYPE ObpEventType;     /* = *ExEventObjectType; body KEVENT */
extern POBJECT_TYPE ObpSemaphoreType; /* = *ExSemaphoreObjectType; body KSEMAPHORE */

/* Creates a referenced event / semaphore object (Win32 CreateEvent/CreateSemaphore). */
NTSTATUS ExpCreateEventObject(EVENT_TYPE Type, BOOLEAN InitialState, PKEVENT *Event);
NTSTATUS ExpCreateSemaphoreObject(LONG Count, LONG Limit, PKSEMAPHORE *Semaphore);

#endif /* NTHOST_OB_INTERNAL_H */
