/*
 * pphw.c - what the port's chip can do, found by probing the registers the way the
 * NT parport does: an ECR test for an ECP-capable chip, then a bidirectional test
 * (does the DATA register still read the latch once the direction bit is set?).
 * Probing happens in DriverEntry, before any client can own the port, and leaves
 * every register as it found it.
 */
#include "parport.h"

/*
 * ParHasEcr - ECR test: an ECP chip's ECR at base+0x402 reads FIFO empty and not
 * full, and read-only bits 1..0 stay as they are when 0x34 is written (reads 0x35).
 * A non-ECP port decodes nothing there (0xFF: full and empty at once) or aliases
 * another register, which fails one of the two reads.
 * IRQL: PASSIVE_LEVEL.
 */
static BOOLEAN ParHasEcr(PUCHAR Controller)
{
    PUCHAR ecr = Controller + PAR_ECR_OFFSET;
    UCHAR original = READ_PORT_UCHAR(ecr);
    BOOLEAN present;

    if ((original & (PAR_ECR_FIFO_FULL | PAR_ECR_FIFO_EMPTY)) != PAR_ECR_FIFO_EMPTY) {
        return FALSE;
    }
    WRITE_PORT_UCHAR(ecr, PAR_ECR_TEST_WRITE);
    present = (READ_PORT_UCHAR(ecr) == PAR_ECR_TEST_READ);
    WRITE_PORT_UCHAR(ecr, original);
    return present;
}

/*
 * ParIsBidirectional - with the direction bit set, a PS/2 port stops reading its
 * own latch back from DATA (it reads what the cable holds); an SPP keeps reading the
 * latch. Two patterns so that a cable that happens to hold one of them cannot fool
 * the test. DATA and CONTROL are restored.
 * IRQL: PASSIVE_LEVEL.
 */
static BOOLEAN ParIsBidirectional(PUCHAR Controller)
{
    const UCHAR patterns[2] = { 0x55, 0xAA };
    PUCHAR data = Controller + PAR_DATA_OFFSET;
    PUCHAR control = Controller + PAR_CONTROL_OFFSET;
    UCHAR savedData = READ_PORT_UCHAR(data);
    UCHAR savedControl = READ_PORT_UCHAR(control) & PAR_CONTROL_WRITABLE;
    BOOLEAN reversed = FALSE;
    ULONG i;

    for (i = 0; i < 2 && !reversed; i++) {
        WRITE_PORT_UCHAR(control, savedControl & ~PAR_CONTROL_DIRECTION);
        WRITE_PORT_UCHAR(data, patterns[i]);
        WRITE_PORT_UCHAR(control, savedControl | PAR_CONTROL_DIRECTION);
        reversed = (READ_PORT_UCHAR(data) != patterns[i]);
    }
    WRITE_PORT_UCHAR(control, savedControl & ~PAR_CONTROL_DIRECTION);
    WRITE_PORT_UCHAR(data, savedData);
    WRITE_PORT_UCHAR(control, savedControl);
    return reversed;
}

/*
 * ParProbeCapabilities - PPT_* capabilities of the chip at Controller:
 * PPT_ECP_PRESENT for an ECP-capable chip (which is then also tested for PS/2
 * direction in ECR mode 001), PPT_BYTE_PRESENT for a port that can reverse its data
 * lines.
 * IRQL: PASSIVE_LEVEL.
 */
ULONG ParProbeCapabilities(PUCHAR Controller)
{
    ULONG capabilities = PPT_NO_HARDWARE_PRESENT;

    if (ParHasEcr(Controller)) {
        PUCHAR ecr = Controller + PAR_ECR_OFFSET;
        UCHAR original = READ_PORT_UCHAR(ecr);

        capabilities |= PPT_ECP_PRESENT;
        WRITE_PORT_UCHAR(ecr, (UCHAR)((original & ~PAR_ECR_MODE_MASK) | PAR_ECR_MODE_BYTE));
        if (ParIsBidirectional(Controller)) {
            capabilities |= PPT_BYTE_PRESENT;
        }
        WRITE_PORT_UCHAR(ecr, original);
    } else if (ParIsBidirectional(Controller)) {
        capabilities |= PPT_BYTE_PRESENT;
    }
    return capabilities;
}

/*
 * ParTrySetChipMode - PARALLEL_PNP_INFORMATION.TrySetChipMode: put an ECP chip in
 * the ECR mode ChipMode (bits 7..5, e.g. 0x20 for PS/2 byte mode). Only the port's
 * owner may call it.
 * IRQL: <= DISPATCH_LEVEL.
 * Returns STATUS_INVALID_DEVICE_REQUEST on a chip without an ECR, or for a mode
 * other than SPP and byte mode (the FIFO modes are not offered).
 */
NTSTATUS NTAPI ParTrySetChipMode(PVOID Context, UCHAR ChipMode)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)Context;
    PUCHAR ecr = extension->Controller + PAR_ECR_OFFSET;
    UCHAR mode = ChipMode & PAR_ECR_MODE_MASK;

    if (!(extension->HardwareCapabilities & PPT_ECP_PRESENT) ||
        (mode != PAR_ECR_MODE_SPP && mode != PAR_ECR_MODE_BYTE)) {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    WRITE_PORT_UCHAR(ecr, (UCHAR)((READ_PORT_UCHAR(ecr) & ~PAR_ECR_MODE_MASK) | mode));
    return STATUS_SUCCESS;
}

/*
 * ParClearChipMode - PARALLEL_PNP_INFORMATION.ClearChipMode: back to SPP mode after
 * TrySetChipMode(ChipMode).
 * IRQL: <= DISPATCH_LEVEL.
 */
NTSTATUS NTAPI ParClearChipMode(PVOID Context, UCHAR ChipMode)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)Context;

    UNREFERENCED_PARAMETER(ChipMode);
    return ParTrySetChipMode(extension, PAR_ECR_MODE_SPP);
}
