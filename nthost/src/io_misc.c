/*
 * io_misc.c — the I/O manager's life cycle and machine-wide state
 * (IoGetConfigurationInformation).
 */
#include <ntddk.h>

#include "io_internal.h"

static CONFIGURATION_INFORMATION iop_config;

/* The device counts of the machine. ParallelCount is the number of parallel ports the
 * machine description has (set at boot). */
PCONFIGURATION_INFORMATION NTAPI IoGetConfigurationInformation(VOID)
{
    return &iop_config;
}

NTSTATUS IopInitialize(ULONG ParallelPorts)
{
    memset(&iop_config, 0, sizeof(iop_config));
    iop_config.ParallelCount = ParallelPorts;
    iop_config.Version = sizeof(iop_config);
    IopIrpInitialize();
    IopDeviceInitialize();
    IopShutdownListInitialize();
    NTSTATUS st = ObpNsInitialize();
    if (!NT_SUCCESS(st))
        return st;
    st = IopTimerInitialize();
    if (NT_SUCCESS(st))
        st = IopWorkerInitialize();
    if (!NT_SUCCESS(st)) {
        IopTimerTeardown();
        ObpNsTeardown();
    }
    return st;
}

VOID IopTeardown(void)
{
    IopWorkerTeardown();
    IopDeviceTeardown();
    IopTimerTeardown();
    IopIrpTeardown();
    ObpNsTeardown();
}
