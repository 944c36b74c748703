/*
 * ex_internal.h — pool accounting queries and unload checks (Ex), for the service
 * manager, the verifier and tests.
 *
 * Every pool block is attributed to the driver image that called the allocation
 * routine (by return address against the images registered with VfRegisterImage);
 * blocks allocated by nthost itself belong to no image (Image NULL).
 */
#ifndef NTHOST_EX_INTERNAL_H
#define NTHOST_EX_INTERNAL_H

#include <ntddk.h>

typedef struct _EXP_POOL_USAGE {
    ULONG Allocations; /* outstanding blocks */
    SIZE_T Bytes;      /* outstanding bytes */
    SIZE_T PagedBytes;
    SIZE_T NonPagedBytes;
} EXP_POOL_USAGE, *PEXP_POOL_USAGE;

/* Outstanding pool of one image (Image = its registered base; NULL = nthost itself),
 * of everything (DriversOnly FALSE) or of every driver image (TRUE), or of one tag. */
VOID ExpPoolUsageByImage(PVOID Image, PEXP_POOL_USAGE Usage);
VOID ExpPoolUsageAll(BOOLEAN DriversOnly, PEXP_POOL_USAGE Usage);
VOID ExpPoolUsageByTag(ULONG Tag, PEXP_POOL_USAGE Usage);
/* TRUE if [Address, Address+Length) lies inside a live pool block (for verifier checks
 * of objects that must live in nonpaged memory). */
BOOLEAN ExpIsPoolAddress(const void *Address);
/* TRUE if Body is exactly the start of a live pool block (constant time). */
BOOLEAN ExpIsPoolBlock(const void *Body);
/* Allocation with an explicit owner image (for nthost code allocating on a driver's
 * behalf, e.g. IoAllocateErrorLogEntry). */
PVOID ExpAllocatePoolForImage(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, const void *Caller);
/* Verifier unload check: bug check 0xC4/0x62 if the image still has pool. */
VOID ExpCheckImageUnload(PCSTR ImageName, PVOID Base);
/* Prints outstanding blocks (tag, size, owner) to a FILE*. */
VOID ExpDumpPool(void *File);

/* Pool fill patterns (checked build): new blocks are filled so that code relying on
 * zeroed pool fails visibly; freed blocks are poisoned before release. */
#define EXP_POOL_FILL_NEW 0xCD
#define EXP_POOL_FILL_FREED 0xDD

#endif /* NTHOST_EX_INTERNAL_H */
