/*
 * ke_interrupt.c — interrupt objects: IoConnectInterrupt / IoDisconnectInterrupt,
 * KeSynchronizeExecution, the interrupt spin lock, HalGetInterruptVector and the
 * handler nthost installs on the machine's bus.
 *
 * The bus reports every change of an IRQ line (KiBusIrq). A Latched (edge) interrupt
 * remembers a rising edge until it is serviced; a LevelSensitive one is serviced
 * while the line is asserted. Service happens at the next delivery point where the
 * current IRQL is below the line's DIRQL (ke_irql.c, KiDeliverInterrupts).
 *
 * Vectors and DIRQLs: ISA IRQ n is vector 0x30 + n; its DIRQL keeps the PIC's
 * priority order (lower IRQ number, higher priority) inside the x64 device range
 * 3..10: DIRQL = 3 + (15 - n) / 2.
 */
#include "ex_internal.h"
#include "ki.h"

KIRQL KiIrqlForIrq(ULONG Irq)
{
    return (KIRQL)(3 + (KI_ISA_IRQS - 1 - Irq) / 2);
}

ULONG NTAPI HalGetInterruptVector(INTERFACE_TYPE InterfaceType, ULONG BusNumber, ULONG BusInterruptLevel,
                                  ULONG BusInterruptVector, PKIRQL Irql, PKAFFINITY Affinity)
{
    UNREFERENCED_PARAMETER(BusNumber);
    UNREFERENCED_PARAMETER(BusInterruptVector);
    if ((InterfaceType != Isa && InterfaceType != Internal && InterfaceType != Eisa) ||
        BusInterruptLevel >= KI_ISA_IRQS) {
        *Irql = 0;
        *Affinity = 0;
        return 0;
    }
    *Irql = KiIrqlForIrq(BusInterruptLevel);
    *Affinity = 1;
    return KI_PRIMARY_VECTOR_BASE + BusInterruptLevel;
}

VOID KiBusIrq(void *Context, unsigned Irq, bool Asserted)
{
    UNREFERENCED_PARAMETER(Context);
    if (Irq >= KI_ISA_IRQS)
        return;
    if (Asserted && !Ki.IrqLine[Irq])
        Ki.IrqLatched[Irq] = TRUE;
    Ki.IrqLine[Irq] = Asserted ? TRUE : FALSE;
    if (Ki.IrqLatched[Irq] || Ki.IrqLine[Irq])
        Ki.PendingIrqs++;
}

VOID KiSetMachineBus(sim_bus *Bus)
{
    if (Ki.Bus)
        sim_bus_set_irq_handler(Ki.Bus, NULL, NULL);
    Ki.Bus = Bus;
    if (Bus)
        sim_bus_set_irq_handler(Bus, KiBusIrq, NULL);
}

/* IoConnectInterrupt: connects ServiceRoutine to Vector. Sharing needs every
 * connection on the vector to agree to share and to use the same mode. */
NTSTATUS NTAPI IoConnectInterrupt(PKINTERRUPT *InterruptObjectOut, PKSERVICE_ROUTINE ServiceRoutine,
                                  PVOID ServiceContext, PKSPIN_LOCK SpinLock, ULONG Vector, KIRQL Irql,
                                  KIRQL SynchronizeIrql, KINTERRUPT_MODE InterruptMode, BOOLEAN ShareVector,
                                  KAFFINITY ProcessorEnableMask, BOOLEAN FloatingSave)
{
    UNREFERENCED_PARAMETER(FloatingSave);
    PKTHREAD self = KiRequireCurrentThread("IoConnectInterrupt");
    if (self->Irql > PASSIVE_LEVEL && VfIsEnabled())
        VfBugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, self->Irql, 0, (ULONG_PTR)__builtin_return_address(0),
                   __builtin_return_address(0), NULL, "IoConnectInterrupt at IRQL %u (must be PASSIVE_LEVEL)",
                   self->Irql);
    *InterruptObjectOut = NULL;
    if (Vector < KI_PRIMARY_VECTOR_BASE || Vector >= KI_PRIMARY_VECTOR_BASE + KI_ISA_IRQS ||
        SynchronizeIrql < Irql || Irql <= DISPATCH_LEVEL || (ProcessorEnableMask & 1) == 0 ||
        ServiceRoutine == NULL)
        return STATUS_INVALID_PARAMETER;
    ULONG irq = Vector - KI_PRIMARY_VECTOR_BASE;
    for (PLIST_ENTRY e = Ki.InterruptList[irq].Flink; e != &Ki.InterruptList[irq]; e = e->Flink) {
        PKINTERRUPT other = CONTAINING_RECORD(e, struct _KINTERRUPT, InterruptListEntry);
        if (!other->ShareVector || !ShareVector || other->Mode != InterruptMode)
            return STATUS_INVALID_PARAMETER;
    }
    PKINTERRUPT intr = ExpAllocatePoolForImage(NonPagedPool, sizeof(*intr), 'tnIK', __builtin_return_address(0));
    if (intr == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(intr, sizeof(*intr));
    intr->Type = InterruptObject;
    intr->Size = sizeof(*intr);
    intr->ServiceRoutine = ServiceRoutine;
    intr->ServiceContext = ServiceContext;
    intr->ActualLock = SpinLock ? SpinLock : &intr->SpinLock;
    intr->Vector = Vector;
    intr->Irql = Irql;
    intr->SynchronizeIrql = SynchronizeIrql;
    intr->Mode = InterruptMode;
    intr->ShareVector = ShareVector;
    intr->Connected = TRUE;
    InsertTailList(&Ki.InterruptList[irq], &intr->InterruptListEntry);
    /* An edge that came before anyone listened is lost, as on a real PIC. */
    Ki.IrqLatched[irq] = FALSE;
    *InterruptObjectOut = intr;
    return STATUS_SUCCESS;
}

VOID NTAPI IoDisconnectInterrupt(PKINTERRUPT InterruptObject)
{
    KiRequireCurrentThread("IoDisconnectInterrupt");
    if (!InterruptObject->Connected)
        return;
    RemoveEntryList(&InterruptObject->InterruptListEntry);
    InterruptObject->Connected = FALSE;
    ExFreePoolWithTag(InterruptObject, 'tnIK');
}

/* KeSynchronizeExecution: runs SynchronizeRoutine at the interrupt's SynchronizeIrql
 * holding its spin lock, so it cannot race the ISR. */
BOOLEAN NTAPI KeSynchronizeExecution(PKINTERRUPT Interrupt, PKSYNCHRONIZE_ROUTINE SynchronizeRoutine,
                                     PVOID SynchronizeContext)
{
    KIRQL old = KeAcquireInterruptSpinLock(Interrupt);
    BOOLEAN result = SynchronizeRoutine(SynchronizeContext);
    KeReleaseInterruptSpinLock(Interrupt, old);
    return result;
}

KIRQL NTAPI KeAcquireInterruptSpinLock(PKINTERRUPT Interrupt)
{
    PKTHREAD self = KiRequireCurrentThread("KeAcquireInterruptSpinLock");
    KIRQL old = self->Irql;
    if (old > Interrupt->SynchronizeIrql && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_RAISE_IRQL_INVALID, old, Interrupt->SynchronizeIrql, 0,
                   __builtin_return_address(0), NULL,
                   "interrupt spin lock taken at IRQL %u, above the interrupt's SynchronizeIrql %u", old,
                   Interrupt->SynchronizeIrql);
    KiSetIrql(self, Interrupt->SynchronizeIrql);
    KiAcquireSpinLockChecked(Interrupt->ActualLock, __builtin_return_address(0));
    return old;
}

VOID NTAPI KeReleaseInterruptSpinLock(PKINTERRUPT Interrupt, KIRQL OldIrql)
{
    PKTHREAD self = KiRequireCurrentThread("KeReleaseInterruptSpinLock");
    KiReleaseSpinLockChecked(Interrupt->ActualLock, __builtin_return_address(0));
    self->Irql = Interrupt->SynchronizeIrql;
    KeLowerIrql(OldIrql);
}

PKINTERRUPT KiFindInterruptInRange(ULONG_PTR Lo, ULONG_PTR Hi)
{
    for (unsigned irq = 0; irq < KI_ISA_IRQS; irq++) {
        for (PLIST_ENTRY e = Ki.InterruptList[irq].Flink; e != &Ki.InterruptList[irq]; e = e->Flink) {
            PKINTERRUPT intr = CONTAINING_RECORD(e, struct _KINTERRUPT, InterruptListEntry);
            if ((ULONG_PTR)intr->ServiceRoutine >= Lo && (ULONG_PTR)intr->ServiceRoutine < Hi)
                return intr;
        }
    }
    return NULL;
}
