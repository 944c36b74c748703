/*
 * io_misc.c — the I/O manager's life cycle and machine-wide state
 * (IoGetConfigurationInformation).
 */
#include <ntddk.h>

#include "io_internal.h"

static CONFIGURATION_INFORMATION iop_config;

/* The device counts of the machine, kept by the drivers that create the devices (NT's
 * parport adds one to ParallelCount per port it finds). */
PCONFIGURATION_INFORMATION NTAPI IoGetConfigurationInformation(VOID)
{
    return &iop_config;
}

NTSTATUS IopInitialize(void)
{
    memset(&iop_config, 0, sizeof(iop_config));
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
