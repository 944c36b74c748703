/*
 * verifier.c — the driver verifier's switch, warnings and unload checks, the registry
 * of driver images (which code belongs to which driver), address-to-name lookup for
 * reports, and the checked build's PAGED_CODE() check.
 *
 * Names: a report names "Routine" by the symbol containing the culprit address. The
 * dynamic symbol table only knows exported routines, and driver routines are mostly
 * static, so the ELF symbol table (.symtab) of the object on disk is searched first.
 */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ex_internal.h"
#include "ki.h"

#define VF_MAX_IMAGES 64

typedef struct _VF_IMAGE {
    char Name[64];
    ULONG_PTR Base;
    SIZE_T Size;
} VF_IMAGE;

static VF_IMAGE VfpImages[VF_MAX_IMAGES];
static ULONG VfpImageCount;
static BOOLEAN VfpEnabled = DBG ? TRUE : FALSE;
static ULONG VfpWarnings;

BOOLEAN VfIsEnabled(void) { return VfpEnabled; }
VOID VfSetEnabled(BOOLEAN Enabled) { VfpEnabled = Enabled; }
ULONG VfWarningCount(void) { return VfpWarnings; }
unsigned nthost_verifier_warnings(void) { return VfpWarnings; }

/* ---- Images ------------------------------------------------------------------------------ */

VOID VfRegisterImage(PCSTR Name, PVOID Base, SIZE_T Size)
{
    VfUnregisterImage(Base);
    if (VfpImageCount == VF_MAX_IMAGES)
        return;
    VF_IMAGE *img = &VfpImages[VfpImageCount++];
    snprintf(img->Name, sizeof img->Name, "%s", Name);
    img->Base = (ULONG_PTR)Base;
    img->Size = Size;
}

VOID VfUnregisterImage(PVOID Base)
{
    for (ULONG i = 0; i < VfpImageCount; i++) {
        if (VfpImages[i].Base == (ULONG_PTR)Base) {
            VfpImages[i] = VfpImages[--VfpImageCount];
            return;
        }
    }
}

PCSTR VfImageOfAddress(const void *Address, PVOID *Base)
{
    ULONG_PTR a = (ULONG_PTR)Address;
    for (ULONG i = 0; i < VfpImageCount; i++) {
        if (a >= VfpImages[i].Base && a < VfpImages[i].Base + VfpImages[i].Size) {
            if (Base)
                *Base = (PVOID)VfpImages[i].Base;
            return VfpImages[i].Name;
        }
    }
    return NULL;
}

typedef struct {
    ULONG_PTR Base;
    ULONG_PTR Lo, Hi;
    BOOLEAN Found;
} VFP_RANGE;

static int VfpPhdrCallback(struct dl_phdr_info *Info, size_t Size, void *Data)
{
    VFP_RANGE *r = Data;
    UNREFERENCED_PARAMETER(Size);
    if (Info->dlpi_addr != r->Base)
        return 0;
    for (int i = 0; i < Info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &Info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        ULONG_PTR lo = Info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!r->Found || lo < r->Lo)
            r->Lo = lo;
        if (!r->Found || hi > r->Hi)
            r->Hi = hi;
        r->Found = TRUE;
    }
    return r->Found ? 1 : 0;
}

BOOLEAN VfObjectRangeOfAddress(const void *Address, PVOID *Base, SIZE_T *Size)
{
    Dl_info info;
    if (!dladdr(Address, &info) || info.dli_fbase == NULL)
        return FALSE;
    VFP_RANGE r = { .Base = (ULONG_PTR)info.dli_fbase };
    dl_iterate_phdr(VfpPhdrCallback, &r);
    if (!r.Found)
        return FALSE;
    *Base = info.dli_fbase;
    *Size = r.Hi - (ULONG_PTR)info.dli_fbase;
    return TRUE;
}

/* VfpSymtabLookup: the function or data symbol of the ELF file Path containing Offset (from
 * the load base), via .symtab; FALSE if stripped or not found. */
static BOOLEAN VfpSymtabLookup(const char *Path, ULONG_PTR Offset, char *Name, SIZE_T NameSize, ULONG_PTR *SymOffset)
{
    BOOLEAN found = FALSE;
    int fd = open(Path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FALSE;
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(ElfW(Ehdr))) {
        close(fd);
        return FALSE;
    }
    const unsigned char *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return FALSE;
    size_t size = (size_t)st.st_size;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shoff == 0 ||
        eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > size)
        goto out;
    const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(map + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum && !found; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
            continue;
        const ElfW(Shdr) *strsh = &sh[sh[i].sh_link];
        if (sh[i].sh_offset + sh[i].sh_size > size || strsh->sh_offset + strsh->sh_size > size)
            continue;
        const ElfW(Sym) *syms = (const ElfW(Sym) *)(map + sh[i].sh_offset);
        size_t n = sh[i].sh_size / sizeof(ElfW(Sym));
        const char *strs = (const char *)(map + strsh->sh_offset);
        for (size_t k = 0; k < n; k++) {
            unsigned type = ELF64_ST_TYPE(syms[k].st_info);
            if ((type != STT_FUNC && type != STT_OBJECT) || syms[k].st_value == 0)
                continue;
            if (Offset >= syms[k].st_value && Offset < syms[k].st_value + (syms[k].st_size ? syms[k].st_size : 1) &&
                syms[k].st_name < strsh->sh_size) {
                snprintf(Name, NameSize, "%s", strs + syms[k].st_name);
                *SymOffset = Offset - syms[k].st_value;
                found = TRUE;
                break;
            }
        }
    }
out:
    munmap((void *)map, size);
    return found;
}

VOID VfDescribeAddress(const void *Address, char *Buffer, SIZE_T BufferSize)
{
    Dl_info info;
    PVOID base = NULL;
    PCSTR image = VfImageOfAddress(Address, &base);
    if (Address && dladdr(Address, &info) && info.dli_fbase) {
        char sym[128];
        ULONG_PTR off;
        if (VfpSymtabLookup(info.dli_fname, (ULONG_PTR)Address - (ULONG_PTR)info.dli_fbase, sym, sizeof sym, &off) ||
            (info.dli_sname && info.dli_saddr &&
             (snprintf(sym, sizeof sym, "%s", info.dli_sname),
              off = (ULONG_PTR)Address - (ULONG_PTR)info.dli_saddr, TRUE))) {
            if (off == 0)
                snprintf(Buffer, BufferSize, "%s", sym);
            else
                snprintf(Buffer, BufferSize, "%s+0x%lx", sym, (unsigned long)off);
            return;
        }
        const char *file = strrchr(info.dli_fname, '/');
        snprintf(Buffer, BufferSize, "%s+0x%lx", image ? image : (file ? file + 1 : info.dli_fname),
                 (unsigned long)((ULONG_PTR)Address - (ULONG_PTR)info.dli_fbase));
        return;
    }
    if (image)
        snprintf(Buffer, BufferSize, "%s+0x%lx", image, (unsigned long)((ULONG_PTR)Address - (ULONG_PTR)base));
    else if (Address && ExpIsPoolAddress(Address))
        snprintf(Buffer, BufferSize, "in pool");
    else
        snprintf(Buffer, BufferSize, "%p", Address);
}

/* ---- Warnings ------------------------------------------------------------------------------ */

VOID VfWarning(const void *CulpritAddress, PCSTR Format, ...)
{
    char text[384], where[160];
    va_list ap;
    va_start(ap, Format);
    vsnprintf(text, sizeof text, Format, ap);
    va_end(ap);
    VfDescribeAddress(CulpritAddress, where, sizeof where);
    PCSTR image = VfImageOfAddress(CulpritAddress, NULL);
    fprintf(stderr, "*** VERIFIER WARNING: %s (driver %s, at %s)\n", text, image ? image : "(none)", where);
    VfpWarnings++;
}

/* ---- Unload checks --------------------------------------------------------------------------- */

VOID KiCheckImageUnload(PCSTR ImageName, PVOID Base, SIZE_T Size)
{
    ULONG_PTR lo = (ULONG_PTR)Base, hi = lo + Size;
    ULONG what;
    PKTIMER timer = KiFindTimerInRange(lo, hi, &what);
    if (timer) {
        PVOID object = what == 0 ? (PVOID)timer : what == 1 ? (PVOID)timer->Dpc : (PVOID)timer->Dpc->DeferredRoutine;
        VfBugCheck(TIMER_OR_DPC_INVALID, what, (ULONG_PTR)object, lo, hi,
                   timer->Dpc ? (const void *)(ULONG_PTR)timer->Dpc->DeferredRoutine : NULL, NULL,
                   "driver %s unloaded with a timer still set (KeCancelTimer it in DriverUnload)", ImageName);
    }
    for (PLIST_ENTRY e = Ki.DpcList.Flink; e != &Ki.DpcList; e = e->Flink) {
        PKDPC dpc = CONTAINING_RECORD(e, KDPC, DpcListEntry);
        ULONG_PTR r = (ULONG_PTR)dpc->DeferredRoutine;
        if ((r >= lo && r < hi) || ((ULONG_PTR)dpc >= lo && (ULONG_PTR)dpc < hi))
            VfBugCheck(TIMER_OR_DPC_INVALID, (r >= lo && r < hi) ? 2 : 1, (ULONG_PTR)dpc, lo, hi,
                       (const void *)r, NULL, "driver %s unloaded with a DPC still queued", ImageName);
    }
    PKINTERRUPT intr = KiFindInterruptInRange(lo, hi);
    if (intr)
        VfBugCheck(DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, (ULONG_PTR)intr->ServiceRoutine, 8,
                   (ULONG_PTR)intr->ServiceRoutine, 0, (const void *)(ULONG_PTR)intr->ServiceRoutine, NULL,
                   "driver %s unloaded with its interrupt still connected (IoDisconnectInterrupt it)", ImageName);
    for (PLIST_ENTRY e = Ki.ThreadList.Flink; e != &Ki.ThreadList; e = e->Flink) {
        PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        if (t->State != KiThreadTerminated && t->StartImage == Base)
            VfBugCheck(DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, (ULONG_PTR)t->StartRoutine, 8,
                       (ULONG_PTR)t->StartRoutine, 0, (const void *)(ULONG_PTR)t->StartRoutine, NULL,
                       "driver %s unloaded while its thread \"%s\" still runs (wait for it in DriverUnload)",
                       ImageName, t->Name);
    }
}

VOID VfCheckImageUnload(PCSTR Name, PVOID Base, SIZE_T Size)
{
    KiCheckImageUnload(Name, Base, Size);
    if (VfIsEnabled())
        ExpCheckImageUnload(Name, Base);
}

/* ---- PAGED_CODE ---------------------------------------------------------------------------- */

/* NthostCheckPagedCode: PAGED_CODE() in the checked build. Pageable code running above
 * APC_LEVEL would take a page fault where none may be taken; on NT that is bug check
 * DRIVER_IRQL_NOT_LESS_OR_EQUAL (parameter 3 = 8: an instruction fetch). */
VOID NTAPI NthostCheckPagedCode(PCSTR RoutineName)
{
    KIRQL irql = KeGetCurrentIrql();
    if (irql <= APC_LEVEL)
        return;
    const void *where = __builtin_return_address(0);
    VfBugCheck(DRIVER_IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)where, irql, 8, (ULONG_PTR)where, where, RoutineName,
               "PAGED_CODE() in %s reached at IRQL %u: pageable code must run at or below APC_LEVEL", RoutineName,
               irql);
}
