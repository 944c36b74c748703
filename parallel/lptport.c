/*
 * lptport.c - the printer driver's side of parport (the mechanics are ddklib's
 * KL_PORT): the port's name, and owning the port only while moving bytes, with the
 * lines in compatibility-mode idle while owned and parked when given back. A port
 * that another client (DongLpt) owns is waited for in parport's queue.
 */
#include "lptdrv.h"

#define LPT_DEFAULT_NAME    L"LPT"

/*
 * LptPortNameOf - the port's DOS name without the \DosDevices\ prefix: the name
 * parport reports in PARALLEL_PNP_INFORMATION.PortName, or LPT<N+1> (the name NT
 * gives the Nth port) when parport has none (an NT 4 arbitrator).
 * IRQL: PASSIVE_LEVEL.
 */
static VOID LptPortNameOf(PLPT_EXTENSION Extension, PUNICODE_STRING PortName)
{
    PARALLEL_PNP_INFORMATION pnpInfo;

    PortName->Length = 0;
    RtlZeroMemory(&pnpInfo, sizeof(pnpInfo));
    if (NT_SUCCESS(KlCallPortSync(&Extension->Port, IOCTL_INTERNAL_GET_PARALLEL_PNP_INFO, NULL, 0, &pnpInfo,
                                  sizeof(pnpInfo))) &&
        pnpInfo.PortName != NULL && pnpInfo.PortName[0] != L'\0' &&
        NT_SUCCESS(RtlAppendUnicodeToString(PortName, pnpInfo.PortName))) {
        return;
    }
    PortName->Length = 0;
    RtlAppendUnicodeToString(PortName, LPT_DEFAULT_NAME);
    KlAppendDecimal(PortName, Extension->PortNumber + 1);
}

/*
 * LptConnectPort - open \Device\ParallelPort<PortNumber>, get its
 * PARALLEL_PORT_INFORMATION (SpanOfController must cover DATA, STATUS and CONTROL)
 * and its DOS name (into PortName, whose buffer the caller provides).
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS, the failure of the parport calls (logged), or
 * STATUS_DEVICE_CONFIGURATION_ERROR for a span that is too small.
 */
NTSTATUS LptConnectPort(PLPT_EXTENSION Extension, PUNICODE_STRING PortName)
{
    WCHAR numberText[KL_NUMBER_CHARS];
    PCWSTR strings[1];
    NTSTATUS status;

    status = KlConnectPort(&Extension->Port, Extension->PortNumber);
    if (!NT_SUCCESS(status)) {
        strings[0] = KlFormatUlong(Extension->PortNumber, 10, numberText, sizeof(numberText));
        KlWriteErrorLog(Extension->DeviceObject, LPT_MSG_PORT_UNAVAILABLE, status, IRP_MJ_INTERNAL_DEVICE_CONTROL, 1,
                        strings, 1);
        return status;
    }
    LptPortNameOf(Extension, PortName);
    return STATUS_SUCCESS;
}

/*
 * LptTakePort - the port is ours: put the lines in compatibility-mode idle (another
 * client may have left the data lines reversed).
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
static VOID LptTakePort(PLPT_EXTENSION Extension)
{
    Extension->PortOwned = TRUE;
    WRITE_PORT_UCHAR(Extension->Port.Info.Controller + LPT_CONTROL_OFFSET, LPT_CTL_IDLE);
}

/*
 * LptStillWanted - KlAllocatePort's question when the worker is woken: does request
 * Context (an IRP) still want the port?
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
static BOOLEAN LptStillWanted(PVOID Context)
{
    PIRP irp = (PIRP)Context;

    return !LptRequestAbandoned(LPT_EXTENSION_OF(IoGetCurrentIrpStackLocation(irp)->DeviceObject), irp);
}

/*
 * LptAcquirePort - own the port for request Irp, waiting in parport's queue until
 * Deadline (KeQueryInterruptTime units) while another client has it. A wake of the
 * worker interrupts the wait so that a cancelled request or a stopping device does
 * not wait for nothing.
 * IRQL: PASSIVE_LEVEL, worker thread.
 * Returns STATUS_SUCCESS (PortOwned set), STATUS_DEVICE_BUSY (Deadline passed),
 * STATUS_CANCELLED (Irp cancelled or device stopping), STATUS_INSUFFICIENT_RESOURCES,
 * or the status parport failed the ALLOCATE request with.
 */
NTSTATUS LptAcquirePort(PLPT_EXTENSION Extension, PIRP Irp, ULONGLONG Deadline)
{
    NTSTATUS status = KlAllocatePort(&Extension->Port, Deadline, &Extension->Queue.WakeEvent, LptStillWanted, Irp);

    if (NT_SUCCESS(status)) {
        LptTakePort(Extension);
    }
    return status;
}

/*
 * LptReleasePort - park the lines (data held past the last strobe, then 0xFF, which
 * a DL-1 in the cable needs) and give the port back to parport, which hands it to
 * its oldest waiter.
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
VOID LptReleasePort(PLPT_EXTENSION Extension)
{
    if (!Extension->PortOwned) {
        return;
    }
    KeStallExecutionProcessor(LPT_HOLD_US);
    WRITE_PORT_UCHAR(Extension->Port.Info.Controller + LPT_DATA_OFFSET, LPT_DATA_PARKED);
    WRITE_PORT_UCHAR(Extension->Port.Info.Controller + LPT_CONTROL_OFFSET, LPT_CTL_IDLE);
    Extension->PortOwned = FALSE;
    Extension->Port.Info.FreePort(Extension->Port.Info.Context);
}

/*
 * LptPortWanted - does another parport client wait for the port we own?
 * IRQL: <= DISPATCH_LEVEL.
 */
BOOLEAN LptPortWanted(PLPT_EXTENSION Extension)
{
    return Extension->Port.Info.QueryNumWaiters(Extension->Port.Info.Context) != 0;
}
