/*
 * ex_lookaside.c — lookaside lists: a cache of fixed-size blocks in front of the pool.
 * Entries come from the list when it has some, else from Allocate (ExAllocatePoolWithTag
 * by default); freed entries go back to the list up to its depth, else to Free.
 * Blocks handed out by the list count as the calling driver's pool.
 *
 * The verifier tracks live lists: initializing one twice, deleting one that was never
 * initialized, or freeing pool that still holds one is a bug check.
 */
#include "ex_internal.h"
#include "ki.h"

#define EXP_LOOKASIDE_DEPTH 256
#define EXP_MINIMUM_LOOKASIDE_SIZE sizeof(SINGLE_LIST_ENTRY)

static LIST_ENTRY ExpLookasideLists = { &ExpLookasideLists, &ExpLookasideLists };

static BOOLEAN ExpLookasideIsLive(PGENERAL_LOOKASIDE L)
{
    for (PLIST_ENTRY e = ExpLookasideLists.Flink; e != &ExpLookasideLists; e = e->Flink)
        if (e == &L->ListEntry)
            return TRUE;
    return FALSE;
}

BOOLEAN ExpLookasideInRange(ULONG_PTR Lo, ULONG_PTR Hi, PVOID *Found)
{
    for (PLIST_ENTRY e = ExpLookasideLists.Flink; e != &ExpLookasideLists; e = e->Flink) {
        PGENERAL_LOOKASIDE L = CONTAINING_RECORD(e, GENERAL_LOOKASIDE, ListEntry);
        if ((ULONG_PTR)L >= Lo && (ULONG_PTR)L < Hi) {
            *Found = L;
            return TRUE;
        }
    }
    return FALSE;
}

static void ExpInitLookaside(PGENERAL_LOOKASIDE L, POOL_TYPE Type, PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free,
                             SIZE_T Size, ULONG Tag, const void *Caller)
{
    if (VfIsEnabled()) {
        if (ExpLookasideIsLive(L))
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_LOOKASIDE_REINITIALIZED, (ULONG_PTR)L, 0, 0, Caller,
                       NULL, "lookaside list %p initialized again without being deleted", (void *)L);
        if (Size < EXP_MINIMUM_LOOKASIDE_SIZE)
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, 0xCD, (ULONG_PTR)L, Size, EXP_MINIMUM_LOOKASIDE_SIZE,
                       Caller, NULL, "lookaside list %p with block size %zu (minimum %zu)", (void *)L, (size_t)Size,
                       (size_t)EXP_MINIMUM_LOOKASIDE_SIZE);
    }
    L->ListHead.Next = NULL;
    L->Depth = L->MaximumDepth = EXP_LOOKASIDE_DEPTH;
    L->TotalAllocates = L->AllocateMisses = L->TotalFrees = L->FreeMisses = 0;
    L->Type = Type;
    L->Tag = Tag;
    L->Size = (ULONG)Size;
    L->Allocate = Allocate; /* NULL: the pool, charged to the list's user */
    L->Free = Free;
    L->ListDepth = 0;
    InsertTailList(&ExpLookasideLists, &L->ListEntry);
}

static PVOID ExpLookasideAllocate(PGENERAL_LOOKASIDE L, const void *Caller)
{
    L->TotalAllocates++;
    PSINGLE_LIST_ENTRY e = PopEntryList(&L->ListHead);
    if (e) {
        L->ListDepth--;
        return e;
    }
    L->AllocateMisses++;
    if (L->Allocate)
        return L->Allocate(L->Type, L->Size, L->Tag);
    return ExpAllocatePoolForImage(L->Type, L->Size, L->Tag, Caller);
}

static void ExpLookasideFree(PGENERAL_LOOKASIDE L, PVOID Entry)
{
    L->TotalFrees++;
    if (L->ListDepth < L->Depth) {
        PushEntryList(&L->ListHead, Entry);
        L->ListDepth++;
        return;
    }
    L->FreeMisses++;
    if (L->Free)
        L->Free(Entry);
    else
        ExFreePoolWithTag(Entry, L->Tag);
}

static void ExpDeleteLookaside(PGENERAL_LOOKASIDE L, const void *Caller)
{
    if (!ExpLookasideIsLive(L)) {
        if (VfIsEnabled())
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_LOOKASIDE_DELETE_UNINITIALIZED, (ULONG_PTR)L, 0, 0,
                       Caller, NULL, "deleting lookaside list %p, which is not initialized", (void *)L);
        return;
    }
    PSINGLE_LIST_ENTRY e;
    while ((e = PopEntryList(&L->ListHead)) != NULL) {
        if (L->Free)
            L->Free(e);
        else
            ExFreePoolWithTag(e, L->Tag);
    }
    L->ListDepth = 0;
    RemoveEntryList(&L->ListEntry);
}

/* Lists are touched only by the CPU-token holder; raising to DISPATCH_LEVEL is what
 * keeps a DPC from interleaving, as NT's interlocked SLIST does. */
#define EXP_LOCKED(stmt)                        \
    do {                                        \
        KIRQL _old = KeRaiseIrqlToDpcLevel();   \
        stmt;                                   \
        KeLowerIrql(_old);                      \
    } while (0)

VOID NTAPI ExInitializeNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate,
                                           PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth)
{
    UNREFERENCED_PARAMETER(Flags);
    UNREFERENCED_PARAMETER(Depth);
    ExpInitLookaside(&Lookaside->L, NonPagedPool, Allocate, Free, Size, Tag, __builtin_return_address(0));
    Lookaside->Lock = 0;
}

VOID NTAPI ExInitializePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate,
                                          PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth)
{
    UNREFERENCED_PARAMETER(Flags);
    UNREFERENCED_PARAMETER(Depth);
    ExpInitLookaside(&Lookaside->L, PagedPool, Allocate, Free, Size, Tag, __builtin_return_address(0));
}

VOID NTAPI ExDeleteNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    ExpDeleteLookaside(&Lookaside->L, __builtin_return_address(0));
}

VOID NTAPI ExDeletePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    ExpDeleteLookaside(&Lookaside->L, __builtin_return_address(0));
}

PVOID NTAPI ExAllocateFromNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    PVOID p;
    EXP_LOCKED(p = ExpLookasideAllocate(&Lookaside->L, __builtin_return_address(0)));
    return p;
}

VOID NTAPI ExFreeToNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    EXP_LOCKED(ExpLookasideFree(&Lookaside->L, Entry));
}

PVOID NTAPI ExAllocateFromPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    return ExpLookasideAllocate(&Lookaside->L, __builtin_return_address(0));
}

VOID NTAPI ExFreeToPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    ExpLookasideFree(&Lookaside->L, Entry);
}
