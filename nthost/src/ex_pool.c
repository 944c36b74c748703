/*
 * ex_pool.c — executive pool: typed, tagged allocations with per-tag and per-driver
 * accounting, and the checks NT's pool makes (double free, wrong tag) plus the
 * verifier's (IRQL, zero-byte requests, freeing blocks that hold live timers or
 * lookaside lists, leaks at unload).
 *
 * Each block is a host allocation with a header in front. Live blocks are found by
 * address in a hash table — the header of a pointer that is not a live block is never
 * read, so a double free is diagnosed from the table and a ring of recently freed
 * addresses, not by touching freed memory. Each block records the driver image of its
 * allocator (by return address, see VfRegisterImage).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ex_internal.h"
#include "ki.h"

#define EXP_POOL_MAGIC 0x6C6F6F50U /* "Pool" */
#define EXP_HASH_BUCKETS 4096
#define EXP_FREED_RING 4096
#define EXP_PROTECTED_POOL 0x80000000U
/* Bytes after each block that must stay untouched: an overrun is reported when the
 * block is freed (verifier). */
#define EXP_GUARD_BYTES 16
#define EXP_GUARD_FILL 0xAB

typedef struct _EXP_BLOCK {
    ULONG Magic;
    ULONG Tag;
    POOL_TYPE Type;
    SIZE_T Size;
    PVOID Image;
    const void *Caller;
    struct _EXP_BLOCK *HashNext;
    LIST_ENTRY Link;
    ULONGLONG Pad[2]; /* keeps the body 16-byte aligned */
} EXP_BLOCK;

_Static_assert(sizeof(EXP_BLOCK) % 16 == 0, "pool bodies must stay 16-byte aligned");

static EXP_BLOCK *ExpHash[EXP_HASH_BUCKETS];
static LIST_ENTRY ExpBlocks = { &ExpBlocks, &ExpBlocks };
static const void *ExpFreed[EXP_FREED_RING];
static ULONG ExpFreedNext;

static ULONG ExpHashOf(const void *Body)
{
    return (ULONG)(((ULONG_PTR)Body >> 4) * 2654435761u) % EXP_HASH_BUCKETS;
}

static EXP_BLOCK *ExpFind(const void *Body)
{
    for (EXP_BLOCK *b = ExpHash[ExpHashOf(Body)]; b; b = b->HashNext)
        if ((const void *)(b + 1) == Body)
            return b;
    return NULL;
}

static BOOLEAN ExpRecentlyFreed(const void *Body)
{
    for (ULONG i = 0; i < EXP_FREED_RING; i++)
        if (ExpFreed[i] == Body)
            return TRUE;
    return FALSE;
}

static BOOLEAN ExpIsPaged(POOL_TYPE Type)
{
    return (Type & 1) != 0 && Type != NonPagedPoolCacheAlignedMustS;
}

static KIRQL ExpIrql(void)
{
    return KiSelf ? KiSelf->Irql : PASSIVE_LEVEL;
}

PVOID ExpAllocatePoolForImage(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, const void *Caller)
{
    KIRQL irql = ExpIrql();
    if (VfIsEnabled()) {
        if (NumberOfBytes == 0)
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_ZERO_BYTE_ALLOCATION, irql, PoolType, 0, Caller,
                       NULL, "zero-byte pool allocation (tag '%.4s')", (const char *)&Tag);
        if (ExpIsPaged(PoolType) && irql > APC_LEVEL)
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_PAGED_ALLOC_ABOVE_APC, irql, PoolType, NumberOfBytes,
                       Caller, NULL, "paged pool allocated at IRQL %u (must be <= APC_LEVEL)", irql);
        if (!ExpIsPaged(PoolType) && irql > DISPATCH_LEVEL)
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_NONPAGED_ALLOC_ABOVE_DISPATCH, irql, PoolType,
                       NumberOfBytes, Caller, NULL, "nonpaged pool allocated at IRQL %u (must be <= DISPATCH_LEVEL)",
                       irql);
    }
    if (NumberOfBytes > ((SIZE_T)1 << 40))
        return NULL;
    EXP_BLOCK *b = malloc(sizeof(EXP_BLOCK) + NumberOfBytes + EXP_GUARD_BYTES);
    if (b == NULL)
        return NULL;
    b->Magic = EXP_POOL_MAGIC;
    b->Tag = Tag & ~EXP_PROTECTED_POOL;
    b->Type = PoolType;
    b->Size = NumberOfBytes;
    b->Caller = Caller;
    b->Image = NULL;
    VfImageOfAddress(Caller, &b->Image);
    b->Pad[0] = b->Pad[1] = 0;
    ULONG h = ExpHashOf(b + 1);
    b->HashNext = ExpHash[h];
    ExpHash[h] = b;
    InsertTailList(&ExpBlocks, &b->Link);
#if DBG
    /* Code that assumes zeroed pool must fail visibly in the checked build. */
    memset(b + 1, EXP_POOL_FILL_NEW, NumberOfBytes);
#endif
    memset((PUCHAR)(b + 1) + NumberOfBytes, EXP_GUARD_FILL, EXP_GUARD_BYTES);
    return b + 1;
}

PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return ExpAllocatePoolForImage(PoolType, NumberOfBytes, Tag, __builtin_return_address(0));
}

#define EXP_POOL2_POOLS (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED)
/* The required (low 32) flags nthost honours; any other required flag fails the call. */
#define EXP_POOL2_KNOWN                                                                              \
    (EXP_POOL2_POOLS | POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED | POOL_FLAG_CACHE_ALIGNED |     \
     POOL_FLAG_RAISE_ON_FAILURE)

/* ExAllocatePool2: exactly one pool; zeroed unless POOL_FLAG_UNINITIALIZED. */
PVOID NTAPI ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    POOL_FLAGS pool = Flags & EXP_POOL2_POOLS;
    PVOID p = NULL;
    if (Tag != 0 && (pool == POOL_FLAG_NON_PAGED || pool == POOL_FLAG_NON_PAGED_EXECUTE || pool == POOL_FLAG_PAGED) &&
        !(Flags & 0xFFFFFFFFull & ~EXP_POOL2_KNOWN)) {
        p = ExpAllocatePoolForImage(pool == POOL_FLAG_PAGED ? PagedPool : NonPagedPool, NumberOfBytes, Tag,
                                    __builtin_return_address(0));
        if (p && !(Flags & POOL_FLAG_UNINITIALIZED))
            memset(p, 0, NumberOfBytes);
    }
    if (!p && (Flags & POOL_FLAG_RAISE_ON_FAILURE))
        ExRaiseStatus(STATUS_INSUFFICIENT_RESOURCES);
    return p;
}

/* ExAllocatePool: the untagged form; NT tags these blocks "None". */
PVOID NTAPI ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return ExpAllocatePoolForImage(PoolType, NumberOfBytes, 'enoN', __builtin_return_address(0));
}

/* The quota forms raise on failure on NT; nthost has no quotas and never fails them. */
PVOID NTAPI ExAllocatePoolWithQuotaTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    PVOID p = ExpAllocatePoolForImage(PoolType, NumberOfBytes, Tag, __builtin_return_address(0));
    if (p == NULL)
        ExRaiseStatus(STATUS_INSUFFICIENT_RESOURCES);
    return p;
}

PVOID NTAPI ExAllocatePoolWithQuota(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    PVOID p = ExpAllocatePoolForImage(PoolType, NumberOfBytes, 'enoN', __builtin_return_address(0));
    if (p == NULL)
        ExRaiseStatus(STATUS_INSUFFICIENT_RESOURCES);
    return p;
}

/* ExpFreeChecks: everything that makes a free illegal; returns the live block. */
static EXP_BLOCK *ExpFreeChecks(PVOID P, ULONG Tag, BOOLEAN CheckTag, const void *Caller)
{
    EXP_BLOCK *b = ExpFind(P);
    if (b == NULL) {
        if (ExpRecentlyFreed(P))
            VfBugCheck(BAD_POOL_CALLER, BAD_POOL_CALLER_DOUBLE_FREE, 0, 0, (ULONG_PTR)P, Caller, NULL,
                       "pool block %p freed twice", P);
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_FREE_BAD_ADDRESS, (ULONG_PTR)P, 0, 0, Caller, NULL,
                   "freeing %p, which is not a pool block", P);
    }
    if (CheckTag && (Tag & ~EXP_PROTECTED_POOL) != b->Tag)
        VfBugCheck(BAD_POOL_CALLER, BAD_POOL_CALLER_WRONG_TAG, (ULONG_PTR)P, b->Tag, Tag & ~EXP_PROTECTED_POOL,
                   Caller, NULL, "pool block %p allocated with tag '%.4s' freed with tag '%.4s'", P,
                   (const char *)&b->Tag, (const char *)&Tag);
    KIRQL irql = ExpIrql();
    if (VfIsEnabled()) {
        const UCHAR *guard = (const UCHAR *)P + b->Size;
        for (ULONG i = 0; i < EXP_GUARD_BYTES; i++)
            if (guard[i] != EXP_GUARD_FILL)
                VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_POOL_OVERRUN, (ULONG_PTR)P, (ULONG_PTR)&guard[i],
                           b->Size, b->Caller, NULL,
                           "pool block %p (tag '%.4s', %zu bytes) was written past its end, at offset %zu", P,
                           (const char *)&b->Tag, (size_t)b->Size, (size_t)(b->Size + i));
        if (ExpIsPaged(b->Type) && irql > APC_LEVEL)
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_PAGED_FREE_ABOVE_APC, irql, b->Type, (ULONG_PTR)P,
                       Caller, NULL, "paged pool freed at IRQL %u (must be <= APC_LEVEL)", irql);
        if (!ExpIsPaged(b->Type) && irql > DISPATCH_LEVEL)
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_NONPAGED_FREE_ABOVE_DISPATCH, irql, b->Type,
                       (ULONG_PTR)P, Caller, NULL, "nonpaged pool freed at IRQL %u (must be <= DISPATCH_LEVEL)",
                       irql);
    }
    ULONG what;
    if (Ki.Initialized && KiFindTimerInRange((ULONG_PTR)P, (ULONG_PTR)P + b->Size, &what) && what == 0)
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_FREE_POOL_WITH_ACTIVE_TIMER,
                   (ULONG_PTR)KiFindTimerInRange((ULONG_PTR)P, (ULONG_PTR)P + b->Size, &what), b->Type, (ULONG_PTR)P,
                   Caller, NULL, "pool block %p freed while it holds a timer that is still set", P);
    return b;
}

static void ExpRelease(EXP_BLOCK *b)
{
    ULONG h = ExpHashOf(b + 1);
    EXP_BLOCK **pp = &ExpHash[h];
    while (*pp != b)
        pp = &(*pp)->HashNext;
    *pp = b->HashNext;
    RemoveEntryList(&b->Link);
    ExpFreed[ExpFreedNext] = b + 1;
    ExpFreedNext = (ExpFreedNext + 1) % EXP_FREED_RING;
#if DBG
    memset(b + 1, EXP_POOL_FILL_FREED, b->Size);
#endif
    b->Magic = 0;
    free(b);
}

/* Lookaside lists living in pool must be deleted first (ex_lookaside.c). */
BOOLEAN ExpLookasideInRange(ULONG_PTR Lo, ULONG_PTR Hi, PVOID *Found);

static void ExpFreeCommon(PVOID P, ULONG Tag, BOOLEAN CheckTag, const void *Caller)
{
    EXP_BLOCK *b = ExpFreeChecks(P, Tag, CheckTag, Caller);
    PVOID lookaside;
    if (VfIsEnabled() && ExpLookasideInRange((ULONG_PTR)P, (ULONG_PTR)P + b->Size, &lookaside))
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_FREE_POOL_WITH_LOOKASIDE, (ULONG_PTR)lookaside,
                   (ULONG_PTR)P, b->Size, Caller, NULL,
                   "pool block %p freed while it holds lookaside list %p that was not deleted", P, lookaside);
    ExpRelease(b);
}

VOID NTAPI ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    ExpFreeCommon(P, Tag, TRUE, __builtin_return_address(0));
}

VOID NTAPI ExFreePool(PVOID P)
{
    ExpFreeCommon(P, 0, FALSE, __builtin_return_address(0));
}

/* ---- Accounting ------------------------------------------------------------------------ */

static void ExpAdd(PEXP_POOL_USAGE Usage, const EXP_BLOCK *b)
{
    Usage->Allocations++;
    Usage->Bytes += b->Size;
    if (ExpIsPaged(b->Type))
        Usage->PagedBytes += b->Size;
    else
        Usage->NonPagedBytes += b->Size;
}

VOID ExpPoolUsageByImage(PVOID Image, PEXP_POOL_USAGE Usage)
{
    memset(Usage, 0, sizeof(*Usage));
    for (PLIST_ENTRY e = ExpBlocks.Flink; e != &ExpBlocks; e = e->Flink) {
        EXP_BLOCK *b = CONTAINING_RECORD(e, EXP_BLOCK, Link);
        if (b->Image == Image)
            ExpAdd(Usage, b);
    }
}

VOID ExpPoolUsageAll(BOOLEAN DriversOnly, PEXP_POOL_USAGE Usage)
{
    memset(Usage, 0, sizeof(*Usage));
    for (PLIST_ENTRY e = ExpBlocks.Flink; e != &ExpBlocks; e = e->Flink) {
        EXP_BLOCK *b = CONTAINING_RECORD(e, EXP_BLOCK, Link);
        if (!DriversOnly || b->Image != NULL)
            ExpAdd(Usage, b);
    }
}

VOID ExpPoolUsageByTag(ULONG Tag, PEXP_POOL_USAGE Usage)
{
    memset(Usage, 0, sizeof(*Usage));
    for (PLIST_ENTRY e = ExpBlocks.Flink; e != &ExpBlocks; e = e->Flink) {
        EXP_BLOCK *b = CONTAINING_RECORD(e, EXP_BLOCK, Link);
        if (b->Tag == (Tag & ~EXP_PROTECTED_POOL))
            ExpAdd(Usage, b);
    }
}

BOOLEAN ExpIsPoolBlock(const void *Body)
{
    return ExpFind(Body) != NULL;
}

BOOLEAN ExpIsPoolAddress(const void *Address)
{
    for (PLIST_ENTRY e = ExpBlocks.Flink; e != &ExpBlocks; e = e->Flink) {
        EXP_BLOCK *b = CONTAINING_RECORD(e, EXP_BLOCK, Link);
        if ((const char *)Address >= (const char *)(b + 1) && (const char *)Address < (const char *)(b + 1) + b->Size)
            return TRUE;
    }
    return FALSE;
}

VOID ExpCheckImageUnload(PCSTR ImageName, PVOID Base)
{
    EXP_POOL_USAGE u;
    ExpPoolUsageByImage(Base, &u);
    if (u.Allocations == 0)
        return;
    EXP_BLOCK *first = NULL;
    for (PLIST_ENTRY e = ExpBlocks.Flink; e != &ExpBlocks && !first; e = e->Flink) {
        EXP_BLOCK *b = CONTAINING_RECORD(e, EXP_BLOCK, Link);
        if (b->Image == Base)
            first = b;
    }
    fprintf(stderr, "*** Pool still allocated by %s at unload:\n", ImageName);
    ExpDumpPool(stderr);
    VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_UNLOAD_WITH_POOL, (ULONG_PTR)ImageName, 0, u.Allocations,
               first->Caller, NULL,
               "driver %s unloaded without freeing %lu pool allocation(s), %zu bytes (first: tag '%.4s', %zu "
               "bytes)",
               ImageName, (unsigned long)u.Allocations, (size_t)u.Bytes, (const char *)&first->Tag,
               (size_t)first->Size);
}

VOID ExpDumpPool(void *File)
{
    FILE *f = File;
    for (PLIST_ENTRY e = ExpBlocks.Flink; e != &ExpBlocks; e = e->Flink) {
        EXP_BLOCK *b = CONTAINING_RECORD(e, EXP_BLOCK, Link);
        char where[160];
        VfDescribeAddress(b->Caller, where, sizeof where);
        fprintf(f, "  %p tag '%.4s' %zu bytes %s, allocated by %s\n", (void *)(b + 1), (const char *)&b->Tag,
                (size_t)b->Size, ExpIsPaged(b->Type) ? "paged" : "nonpaged", where);
    }
}

size_t nthost_pool_outstanding(void)
{
    EXP_POOL_USAGE u;
    ExpPoolUsageAll(TRUE, &u);
    return u.Allocations;
}
