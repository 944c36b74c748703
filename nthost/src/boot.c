/*
 * boot.c — nthost_boot / nthost_shutdown: bring the whole machine up in NT's order
 * and take it down again completely, so that one process can boot many times.
 *
 * Boot: the machine description (sim), the kernel on the machine's clock and bus,
 * the registry and its .reg files, the I/O manager (namespace, IRP tracking, I/O
 * timer, work queue), the firmware's hardware description of the parallel ports,
 * then the services in group order. Shutdown: the booting thread's outstanding I/O
 * is cancelled and the handles it left open are closed (as when an NT process
 * exits), IRP_MJ_SHUTDOWN goes to the registered devices, the services stop
 * (drivers unload), and everything is torn down in reverse.
 */
#include <ntddk.h>
#include <stdio.h>

#include "cm_internal.h"
#include "io_internal.h"
#include "ke_internal.h"
#include "ob_internal.h"
#include "sim/machine.h"

static struct {
    BOOLEAN running;
    sim_machine *machine;
    char error[768];
} boot;

static const char *boot_fail(const char *what, const char *detail)
{
    snprintf(boot.error, sizeof(boot.error), "%s: %s", what, detail);
    return boot.error;
}

static NTSTATUS boot_create_key(HANDLE parent, PCWSTR name, PHANDLE key)
{
    UNICODE_STRING us;
    OBJECT_ATTRIBUTES oa;
    RtlInitUnicodeString(&us, name);
    InitializeObjectAttributes(&oa, &us, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, parent, NULL);
    return ZwCreateKey(key, KEY_ALL_ACCESS, &oa, 0, NULL, REG_OPTION_VOLATILE, NULL);
}

static NTSTATUS boot_set_dword(HANDLE key, PCWSTR name, ULONG value)
{
    UNICODE_STRING us;
    RtlInitUnicodeString(&us, name);
    return ZwSetValueKey(key, &us, 0, REG_DWORD, &value, sizeof(value));
}

/* Open/create \Registry\Machine\HARDWARE\DESCRIPTION\System\MultifunctionAdapter\0\
 * ParallelController one level at a time (as NT's ZwCreateKey, each parent must exist). */
static NTSTATUS boot_open_controller_key(PHANDLE out)
{
    static const PCWSTR path[] = { L"\\Registry\\Machine\\HARDWARE", L"DESCRIPTION", L"System",
                                   L"MultifunctionAdapter", L"0", L"ParallelController" };
    HANDLE cur = NULL;
    for (ULONG i = 0; i < RTL_NUMBER_OF(path); i++) {
        HANDLE next;
        NTSTATUS st = boot_create_key(cur, path[i], &next);
        if (cur)
            ZwClose(cur);
        if (!NT_SUCCESS(st))
            return st;
        cur = next;
    }
    *out = cur;
    return STATUS_SUCCESS;
}

/*
 * What NT's firmware detection records for each parallel port (docs/INTERNALS.md,
 * "Parallel ports at boot"): ParallelController\<i> with Identifier, BaseAddress,
 * Span and Interrupt, in the machine description's order.
 */
static NTSTATUS boot_publish_ports(sim_machine *m)
{
    HANDLE ctl;
    NTSTATUS st = boot_open_controller_key(&ctl);
    if (!NT_SUCCESS(st))
        return st;
    unsigned n = sim_machine_port_count(m);
    for (unsigned i = 0; i < n && NT_SUCCESS(st); i++) {
        sim_port_info info;
        if (sim_machine_port_info(m, i, &info) != 0)
            continue;
        WCHAR index[12], ident[64];
        char a[12];
        snprintf(a, sizeof(a), "%u", i);
        for (int k = 0; k < 12; k++)
            index[k] = (WCHAR)(unsigned char)a[k];
        size_t len = strlen(info.name);
        if (len >= RTL_NUMBER_OF(ident))
            len = RTL_NUMBER_OF(ident) - 1;
        for (size_t k = 0; k < len; k++)
            ident[k] = (WCHAR)(unsigned char)info.name[k];
        ident[len] = 0;
        HANDLE port;
        st = boot_create_key(ctl, index, &port);
        if (!NT_SUCCESS(st))
            break;
        UNICODE_STRING id;
        RtlInitUnicodeString(&id, L"Identifier");
        st = ZwSetValueKey(port, &id, 0, REG_SZ, ident, (ULONG)((len + 1) * sizeof(WCHAR)));
        if (NT_SUCCESS(st))
            st = boot_set_dword(port, L"BaseAddress", info.base);
        if (NT_SUCCESS(st))
            st = boot_set_dword(port, L"Span", info.span);
        if (NT_SUCCESS(st))
            st = boot_set_dword(port, L"Interrupt", info.irq == SIM_IRQ_NONE ? 0xFFFFFFFFu : (ULONG)info.irq);
        ZwClose(port);
    }
    ZwClose(ctl);
    return st;
}

static BOOLEAN boot_verifier(nthost_verifier_mode mode)
{
    if (mode == NTHOST_VERIFIER_ON)
        return TRUE;
    if (mode == NTHOST_VERIFIER_OFF)
        return FALSE;
    return DBG ? TRUE : FALSE;
}

/* Undo a partial boot: everything up to and including the stage reached. */
typedef enum boot_stage { BOOT_MACHINE, BOOT_KERNEL, BOOT_REGISTRY, BOOT_IO } boot_stage;

static void boot_unwind(boot_stage reached)
{
    if (reached >= BOOT_IO)
        IopTeardown();
    if (reached >= BOOT_REGISTRY) {
        elf_log_reset();
        cm_shutdown();
    }
    if (reached >= BOOT_KERNEL)
        KiShutdown();
    sim_machine_destroy(boot.machine);
    boot.machine = NULL;
}

const char *nthost_boot(const nthost_config *cfg)
{
    static const nthost_config defaults;
    char err[512];
    if (boot.running)
        return boot_fail("nthost_boot", "nthost is already running (call nthost_shutdown first)");
    if (!cfg)
        cfg = &defaults;

    const char *machine = cfg->machine ? cfg->machine : sim_machine_default_path();
    if (sim_machine_load(machine, &boot.machine, err, sizeof(err)) != 0)
        return boot_fail("machine description", err);

    KI_CONFIG kc = {
        .RealTime = cfg->time_mode == NTHOST_TIME_REAL,
        .RandomPreemptSeed = (ULONG)cfg->preempt_seed,
        .Verifier = boot_verifier(cfg->verifier),
    };
    KiInitialize(&kc, sim_machine_clock(boot.machine), sim_machine_bus(boot.machine), "boot");

    cm_init();
    for (const char *const *f = cfg->reg_files; f && *f; f++) {
        if (cm_import_reg_file(*f, err, sizeof(err)) != 0) {
            boot_unwind(BOOT_REGISTRY);
            return boot_fail("registry", err);
        }
    }
    CmpUseMachineClock();

    NTSTATUS st = IopInitialize();
    if (!NT_SUCCESS(st)) {
        boot_unwind(BOOT_REGISTRY);
        snprintf(err, sizeof(err), "cannot start the I/O manager (status 0x%08X)", (unsigned)st);
        return boot_fail("I/O manager", err);
    }
    st = boot_publish_ports(boot.machine);
    if (!NT_SUCCESS(st)) {
        boot_unwind(BOOT_IO);
        snprintf(err, sizeof(err), "cannot record the parallel ports in HARDWARE\\DESCRIPTION (status 0x%08X)",
                 (unsigned)st);
        return boot_fail("hardware description", err);
    }
    svc_init(cfg->driver_dir);
    boot.running = TRUE;
    if (!cfg->no_autostart)
        svc_boot_start();
    return NULL;
}

void nthost_shutdown(void)
{
    if (!boot.running)
        return;
    /* What NT does when the process exits: its outstanding I/O is cancelled, then
     * its handles are closed (cleanup and close reach the drivers). */
    IopThreadRundown(KeGetCurrentThread());
    ObpCloseUserHandles();
    IopShutdownNotify();
    svc_stop_all();
    boot.running = FALSE;
    boot_unwind(BOOT_IO);
}

bool nthost_running(void)
{
    return boot.running;
}

struct sim_machine *nthost_machine(void)
{
    return boot.running ? boot.machine : NULL;
}
