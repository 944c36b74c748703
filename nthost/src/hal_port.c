/*
 * hal_port.c — READ_PORT_* / WRITE_PORT_* and the register forms.
 *
 * A port "address" is the I/O port number cast to a pointer. Each access goes to the
 * booted machine's bus, which advances the machine clock by the device's access time
 * (1 us for unclaimed ports) and runs device events on the way; an unclaimed port
 * reads 0xFF. After the access the CPU is at a delivery point (interrupts and DPCs
 * now due run) and, below DISPATCH_LEVEL, a preemption point.
 */
#include "ki.h"

/* Time of an access when no machine is attached (an empty ISA slot). */
#define HAL_UNCLAIMED_ACCESS_NS SIM_US(1)

/* HalpPort: the port number, or a bug check for a pointer that is not one (a driver
 * handing a mapped address to the port routines). */
static uint16_t HalpPort(const void *Port, const void *Caller, ULONG Width)
{
    KiRequireCurrentThread("READ_PORT/WRITE_PORT");
    ULONG_PTR p = (ULONG_PTR)Port;
    if (p > 0x10000 - Width)
        VfBugCheck(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(ULONG)STATUS_ACCESS_VIOLATION, (ULONG_PTR)Caller, 0, p,
                   Caller, NULL, "port I/O to %p, which is not an I/O port number (0..0xFFFF)", Port);
    return (uint16_t)p;
}

static void HalpNoBus(ULONG Width)
{
    if (Ki.Clock)
        sim_clock_advance(Ki.Clock, HAL_UNCLAIMED_ACCESS_NS * Width);
}

UCHAR NTAPI READ_PORT_UCHAR(PUCHAR Port)
{
    uint16_t p = HalpPort(Port, __builtin_return_address(0), 1);
    UCHAR v = 0xFF;
    if (Ki.Bus)
        v = sim_bus_read8(Ki.Bus, p);
    else
        HalpNoBus(1);
    KiPreemptionPoint();
    return v;
}

USHORT NTAPI READ_PORT_USHORT(PUSHORT Port)
{
    uint16_t p = HalpPort(Port, __builtin_return_address(0), 2);
    USHORT v = 0xFFFF;
    if (Ki.Bus)
        v = sim_bus_read16(Ki.Bus, p);
    else
        HalpNoBus(2);
    KiPreemptionPoint();
    return v;
}

ULONG NTAPI READ_PORT_ULONG(PULONG Port)
{
    uint16_t p = HalpPort(Port, __builtin_return_address(0), 4);
    ULONG v = 0xFFFFFFFFu;
    if (Ki.Bus)
        v = sim_bus_read32(Ki.Bus, p);
    else
        HalpNoBus(4);
    KiPreemptionPoint();
    return v;
}

VOID NTAPI WRITE_PORT_UCHAR(PUCHAR Port, UCHAR Value)
{
    uint16_t p = HalpPort(Port, __builtin_return_address(0), 1);
    if (Ki.Bus)
        sim_bus_write8(Ki.Bus, p, Value);
    else
        HalpNoBus(1);
    KiPreemptionPoint();
}

VOID NTAPI WRITE_PORT_USHORT(PUSHORT Port, USHORT Value)
{
    uint16_t p = HalpPort(Port, __builtin_return_address(0), 2);
    if (Ki.Bus)
        sim_bus_write16(Ki.Bus, p, Value);
    else
        HalpNoBus(2);
    KiPreemptionPoint();
}

VOID NTAPI WRITE_PORT_ULONG(PULONG Port, ULONG Value)
{
    uint16_t p = HalpPort(Port, __builtin_return_address(0), 4);
    if (Ki.Bus)
        sim_bus_write32(Ki.Bus, p, Value);
    else
        HalpNoBus(4);
    KiPreemptionPoint();
}

/* The BUFFER forms repeat the access at the same port (a FIFO), Count times. */
VOID NTAPI READ_PORT_BUFFER_UCHAR(PUCHAR Port, PUCHAR Buffer, ULONG Count)
{
    for (ULONG i = 0; i < Count; i++)
        Buffer[i] = READ_PORT_UCHAR(Port);
}

VOID NTAPI READ_PORT_BUFFER_USHORT(PUSHORT Port, PUSHORT Buffer, ULONG Count)
{
    for (ULONG i = 0; i < Count; i++)
        Buffer[i] = READ_PORT_USHORT(Port);
}

VOID NTAPI READ_PORT_BUFFER_ULONG(PULONG Port, PULONG Buffer, ULONG Count)
{
    for (ULONG i = 0; i < Count; i++)
        Buffer[i] = READ_PORT_ULONG(Port);
}

VOID NTAPI WRITE_PORT_BUFFER_UCHAR(PUCHAR Port, PUCHAR Buffer, ULONG Count)
{
    for (ULONG i = 0; i < Count; i++)
        WRITE_PORT_UCHAR(Port, Buffer[i]);
}

VOID NTAPI WRITE_PORT_BUFFER_USHORT(PUSHORT Port, PUSHORT Buffer, ULONG Count)
{
    for (ULONG i = 0; i < Count; i++)
        WRITE_PORT_USHORT(Port, Buffer[i]);
}

VOID NTAPI WRITE_PORT_BUFFER_ULONG(PULONG Port, PULONG Buffer, ULONG Count)
{
    for (ULONG i = 0; i < Count; i++)
        WRITE_PORT_ULONG(Port, Buffer[i]);
}

UCHAR NTAPI READ_REGISTER_UCHAR(volatile UCHAR *Register) { return *Register; }
USHORT NTAPI READ_REGISTER_USHORT(volatile USHORT *Register) { return *Register; }
ULONG NTAPI READ_REGISTER_ULONG(volatile ULONG *Register) { return *Register; }
VOID NTAPI WRITE_REGISTER_UCHAR(volatile UCHAR *Register, UCHAR Value) { *Register = Value; }
VOID NTAPI WRITE_REGISTER_USHORT(volatile USHORT *Register, USHORT Value) { *Register = Value; }
VOID NTAPI WRITE_REGISTER_ULONG(volatile ULONG *Register, ULONG Value) { *Register = Value; }
