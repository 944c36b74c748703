/*
 * se_access.c — who a caller is, and what that lets it do (nthost.h, "security").
 *
 * nthost runs every Win32 caller in one host process, so the token NT keeps per
 * process is kept here per host thread: an identity, administrator unless the thread
 * said otherwise. It answers SeSinglePrivilegeCheck for drivers and the access check
 * the I/O manager makes when a device is opened. Thread-local state: each thread only
 * ever reads and writes its own, so no lock is needed.
 */
#include "se_internal.h"
#include "nthost/nthost.h"

static _Thread_local nthost_identity SepIdentity = NTHOST_IDENTITY_ADMIN;

/* What Everyone may ask of a device with NT's default descriptor for a named legacy
 * device; System and Administrators may ask anything. */
#define SEP_WORLD_DEVICE_ACCESS \
    (FILE_GENERIC_READ | FILE_GENERIC_WRITE | FILE_GENERIC_EXECUTE | READ_CONTROL | SYNCHRONIZE)

/* Bit n set: privilege LUID n is held (all well-known privileges are below 64). */
#define SEP_BIT(p) (1ull << (p))
#define SEP_USER_PRIVILEGES \
    (SEP_BIT(SE_CHANGE_NOTIFY_PRIVILEGE) | SEP_BIT(SE_SHUTDOWN_PRIVILEGE) | SEP_BIT(SE_UNDOCK_PRIVILEGE))
/* Administrators' default set (Windows' local security policy): not SeTcbPrivilege,
 * SeCreateTokenPrivilege nor SeAssignPrimaryTokenPrivilege, which only services get. */
#define SEP_ADMIN_PRIVILEGES                                                                   \
    (SEP_USER_PRIVILEGES | SEP_BIT(5) /* SeIncreaseQuota */ | SEP_BIT(SE_SECURITY_PRIVILEGE) | \
     SEP_BIT(SE_TAKE_OWNERSHIP_PRIVILEGE) | SEP_BIT(SE_LOAD_DRIVER_PRIVILEGE) |                 \
     SEP_BIT(11) /* SeSystemProfile */ | SEP_BIT(12) /* SeSystemtime */ |                       \
     SEP_BIT(13) /* SeProfileSingleProcess */ | SEP_BIT(14) /* SeIncreaseBasePriority */ |       \
     SEP_BIT(15) /* SeCreatePagefile */ | SEP_BIT(SE_BACKUP_PRIVILEGE) |                         \
     SEP_BIT(SE_RESTORE_PRIVILEGE) | SEP_BIT(SE_DEBUG_PRIVILEGE) |                               \
     SEP_BIT(22) /* SeSystemEnvironment */ | SEP_BIT(24) /* SeRemoteShutdown */ |                 \
     SEP_BIT(28) /* SeManageVolume */)

void nthost_set_identity(nthost_identity id)
{
    SepIdentity = id == NTHOST_IDENTITY_USER ? NTHOST_IDENTITY_USER : NTHOST_IDENTITY_ADMIN;
}

nthost_identity nthost_get_identity(void)
{
    return SepIdentity;
}

/*
 * SeSinglePrivilegeCheck: does the caller hold PrivilegeValue? A kernel-mode caller
 * (PreviousMode KernelMode) always does, as on NT.
 * IRQL: PASSIVE_LEVEL.
 */
BOOLEAN NTAPI SeSinglePrivilegeCheck(LUID PrivilegeValue, KPROCESSOR_MODE PreviousMode)
{
    unsigned long long held;

    if (PreviousMode == KernelMode)
        return TRUE;
    if (PrivilegeValue.HighPart != 0 || PrivilegeValue.LowPart >= 64)
        return FALSE;
    held = SepIdentity == NTHOST_IDENTITY_ADMIN ? SEP_ADMIN_PRIVILEGES : SEP_USER_PRIVILEGES;
    return (held & SEP_BIT(PrivilegeValue.LowPart)) != 0;
}

NTSTATUS SepDeviceAccessCheck(PDEVICE_OBJECT Device, ACCESS_MASK DesiredAccess, KPROCESSOR_MODE Mode)
{
    UNREFERENCED_PARAMETER(Device);
    if (Mode == KernelMode || SepIdentity == NTHOST_IDENTITY_ADMIN)
        return STATUS_SUCCESS;
    return (DesiredAccess & ~(ACCESS_MASK)SEP_WORLD_DEVICE_ACCESS) ? STATUS_ACCESS_DENIED : STATUS_SUCCESS;
}
