/*
 * dongport.c - DongLpt's side of parport (the mechanics are ddklib's KL_PORT): learn
 * where the registers are and what the chip can do, set the link engine up on them,
 * and own the port only while talking to the key.
 */
#include "dongdrv.h"

/*
 * DongConnectPort - open \Device\ParallelPort<PortNumber>, get its
 * PARALLEL_PORT_INFORMATION (SpanOfController must cover DATA, STATUS and CONTROL)
 * and its capabilities, and set the link engine up on it.
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS, the failure of the parport calls, or
 * STATUS_DEVICE_CONFIGURATION_ERROR for a span that is too small. Logs the failure.
 */
NTSTATUS DongConnectPort(PDONG_EXTENSION Extension)
{
    WCHAR numberText[KL_NUMBER_CHARS];
    WCHAR spanText[KL_NUMBER_CHARS];
    PARALLEL_PNP_INFORMATION pnpInfo;
    PUCHAR ecpController = NULL;
    PCWSTR strings[2];
    BOOLEAN owned;
    NTSTATUS status;

    status = KlConnectPort(&Extension->Port, Extension->PortNumber);
    if (!NT_SUCCESS(status)) {
        strings[0] = KlFormatUlong(Extension->PortNumber, 10, numberText, sizeof(numberText));
        if (status == STATUS_DEVICE_CONFIGURATION_ERROR) {
            strings[1] = KlFormatUlong(Extension->Port.Info.SpanOfController, 10, spanText, sizeof(spanText));
            DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_PORT_SPAN, status,
                         IRP_MJ_INTERNAL_DEVICE_CONTROL, 2, strings, 2);
        } else {
            DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_PORT_UNAVAILABLE, status,
                         IRP_MJ_INTERNAL_DEVICE_CONTROL, 1, strings, 1);
        }
        return status;
    }

    /* An arbitrator without GET_PARALLEL_PNP_INFO (NT 4) means an SPP. */
    RtlZeroMemory(&pnpInfo, sizeof(pnpInfo));
    if (NT_SUCCESS(KlCallPortSync(&Extension->Port, IOCTL_INTERNAL_GET_PARALLEL_PNP_INFO, NULL, 0, &pnpInfo,
                                  sizeof(pnpInfo)))) {
        Extension->HardwareCapabilities = pnpInfo.HardwareCapabilities;
        if (pnpInfo.SpanOfEcpController >= 3) {
            ecpController = pnpInfo.EcpController;
        }
    }
    /* The engine times a few STATUS reads; do it as the owner when the port is free
       (status reads disturb no one otherwise, so a busy port is not waited for). */
    owned = Extension->Port.Info.TryAllocatePort(Extension->Port.Info.Context);
    status = DongLinkInitialize(&Extension->Link, Extension->Port.Info.Controller, ecpController,
                                Extension->HardwareCapabilities, &Extension->Timeouts, 0, 0);
    if (owned) {
        Extension->Port.Info.FreePort(Extension->Port.Info.Context);
    }
    if (!NT_SUCCESS(status)) {
        KlDisconnectPort(&Extension->Port);
    }
    return status;
}

/*
 * DongStillWanted - KlAllocatePort's question when the worker is woken: is there
 * still a reason to own the port (Context is the device extension)?
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
static BOOLEAN DongStillWanted(PVOID Context)
{
    return DongWorkerWantsPort((PDONG_EXTENSION)Context);
}

/*
 * DongAcquirePort - own the port, waiting at most WaitMs (0: no limit) while another
 * parport client has it. The wait also ends when the worker has nothing left to own
 * the port for (requests cancelled, driver stopping): WakeEvent tells it to look.
 * IRQL: PASSIVE_LEVEL, worker thread.
 * Returns STATUS_SUCCESS (PortOwned set), STATUS_DEVICE_BUSY (WaitMs passed),
 * STATUS_CANCELLED (no longer needed), STATUS_INSUFFICIENT_RESOURCES, or the status
 * parport failed the ALLOCATE request with.
 */
NTSTATUS DongAcquirePort(PDONG_EXTENSION Extension, ULONG WaitMs)
{
    ULONGLONG deadline = WaitMs != 0 ? KeQueryInterruptTime() + (ULONGLONG)WaitMs * 10000 : KL_NO_DEADLINE;
    NTSTATUS status;

    status = KlAllocatePort(&Extension->Port, deadline, &Extension->Queue.WakeEvent, DongStillWanted, Extension);
    if (NT_SUCCESS(status)) {
        Extension->PortOwned = TRUE;
    }
    return status;
}

/*
 * DongReleasePort - end any session, park the lines, and give the port back to
 * parport (which hands it to its oldest waiter).
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
VOID DongReleasePort(PDONG_EXTENSION Extension)
{
    if (Extension->PortOwned) {
        DongLinkShutdown(&Extension->Link);
        Extension->PortOwned = FALSE;
        Extension->Port.Info.FreePort(Extension->Port.Info.Context);
    }
}
