/*
 * donglpt.h - the public interface of the DongLpt driver.
 *
 * Shared by the driver (included after <ntddk.h>) and by Win32 programs (included
 * after <windows.h> and <winioctl.h>), on both homes. Only types and macros that both
 * environments define are used here: UCHAR, USHORT, ULONG, LONG, ULONGLONG, WCHAR and
 * CTL_CODE. Every structure has fixed-size fields, little-endian like the DL-1 wire
 * format, and its size is pinned by a compile-time assertion so that a 32-bit program,
 * a 64-bit program and the driver agree.
 *
 * docs/DRIVER.md is the reference: IOCTL table, ReadFile/WriteFile semantics, the
 * status -> NTSTATUS -> Win32 error table, registry parameters and event log messages.
 *
 * Compatibility rule: once published, a structure or code only grows compatibly
 * (new IOCTL codes, new flag bits, fields carved out of Reserved space).
 */
#ifndef DONGLPT_H
#define DONGLPT_H

/* ---------------------------------------------------------------- names */

/* \Device\DongLpt<N>, N zero-based: one device per parallel port of the machine. */
#define DONG_DEVICE_NAME_PREFIX_U   L"\\Device\\DongLpt"
/* \DosDevices\DongLpt<N+1>, one-based like LPTn. */
#define DONG_DOS_NAME_PREFIX_U      L"\\DosDevices\\DongLpt"
/* Win32 name for CreateFile: printf-style, with the one-based number. */
#define DONG_WIN32_NAME_FORMAT_A    "\\\\.\\DongLpt%u"
#define DONG_WIN32_NAME_FORMAT_W    L"\\\\.\\DongLpt%u"
/* Service key name (Services\DongLpt) and driver image base name. */
#define DONG_SERVICE_NAME_U         L"DongLpt"
#define DONG_SERVICE_NAME_A         "DongLpt"

/* --------------------------------------------------------------- IOCTLs */

/* Vendor device type: 0x8000 and above are reserved for vendors. */
#define FILE_DEVICE_DONGLPT         0x00008D06u  /* unsigned: the code has bit 31 set */

#define DONG_CTL(Function, Access) \
    CTL_CODE(FILE_DEVICE_DONGLPT, (Function), METHOD_BUFFERED, (Access))

/* in: nothing; out: DONG_INFO. Probes the port afresh (it is allocated for the call). */
#define IOCTL_DONG_GET_INFO         DONG_CTL(0x800, FILE_READ_ACCESS)
/* in: DONG_TRANSACT_REQUEST (header + Length bytes); out: DONG_TRANSACT_RESPONSE.
   Only the commands that leave the key unchanged (DL1_CMD_IS_READ_ONLY); a
   key-changing command here is STATUS_ACCESS_DENIED. */
#define IOCTL_DONG_TRANSACT_READ    DONG_CTL(0x801, FILE_READ_ACCESS)
/* Same buffers; every command, key-changing ones included. */
#define IOCTL_DONG_TRANSACT_WRITE   DONG_CTL(0x802, FILE_READ_ACCESS | FILE_WRITE_ACCESS)
/* in: nothing; out: DONG_PORT_STATUS. */
#define IOCTL_DONG_GET_STATUS       DONG_CTL(0x803, FILE_READ_ACCESS)
/* in/out: nothing. Resets the key (nInit pulse); EEPROM, counters and lock stay. */
#define IOCTL_DONG_RESET            DONG_CTL(0x804, FILE_WRITE_ACCESS)
/* in: nothing; out: DONG_TIMEOUTS (the port's current values). */
#define IOCTL_DONG_GET_TIMEOUTS     DONG_CTL(0x805, FILE_READ_ACCESS)
/* in: DONG_TIMEOUTS; out: nothing. Applies to the port (every handle) until unload. */
#define IOCTL_DONG_SET_TIMEOUTS     DONG_CTL(0x806, FILE_WRITE_ACCESS)
/* in: nothing; out: DONG_STATISTICS (the driver's side of the link, since load). */
#define IOCTL_DONG_GET_STATS        DONG_CTL(0x807, FILE_READ_ACCESS)

/* ------------------------------------------------ DL-1 commands (DL1.md) */

#ifndef DL1_CMD_GET_INFO
#define DL1_CMD_GET_INFO        0x01
#define DL1_CMD_CHALLENGE       0x02
#define DL1_CMD_READ            0x03
#define DL1_CMD_WRITE           0x04
#define DL1_CMD_COUNTER_READ    0x05
#define DL1_CMD_COUNTER_DEC     0x06
#define DL1_CMD_ECHO            0x07
#define DL1_CMD_LOCK            0x08
#define DL1_CMD_SET_KEY         0x09
#define DL1_CMD_GET_DEVICE_ID   0x0A
#define DL1_CMD_GET_STATS       0x0B
#define DL1_CMD_COUNTER_SET     0x0C
#endif

/* The commands that change non-volatile state carry a txid on the wire. */
#define DL1_CMD_IS_KEY_CHANGING(c) \
    ((c) == DL1_CMD_WRITE || (c) == DL1_CMD_COUNTER_DEC || (c) == DL1_CMD_LOCK || \
     (c) == DL1_CMD_SET_KEY || (c) == DL1_CMD_COUNTER_SET)
/* Provisioning commands (DL1.md section 7): only an administrator may send them (the
   caller must hold SeLoadDriverPrivilege, else STATUS_PRIVILEGE_NOT_HELD). */
#define DL1_CMD_IS_KEY_PROGRAMMING(c) \
    ((c) == DL1_CMD_SET_KEY || (c) == DL1_CMD_COUNTER_SET || (c) == DL1_CMD_LOCK)
#define DL1_CMD_IS_READ_ONLY(c) \
    ((c) == DL1_CMD_GET_INFO || (c) == DL1_CMD_CHALLENGE || (c) == DL1_CMD_READ || \
     (c) == DL1_CMD_COUNTER_READ || (c) == DL1_CMD_ECHO || \
     (c) == DL1_CMD_GET_DEVICE_ID || (c) == DL1_CMD_GET_STATS)

/* Key status codes: the low 7 bits of the response STATUS byte. */
#ifndef DL1_STATUS_OK
#define DL1_STATUS_OK           0x00
#define DL1_STATUS_BAD_CRC      0x01
#define DL1_STATUS_BAD_FRAME    0x02
#define DL1_STATUS_UNKNOWN_CMD  0x10
#define DL1_STATUS_BAD_LENGTH   0x11
#define DL1_STATUS_BAD_ADDRESS  0x12
#define DL1_STATUS_PROTECTED    0x13
#define DL1_STATUS_EXHAUSTED    0x14
#define DL1_STATUS_EEPROM_FAULT 0x20
#endif

#define DL1_MAX_PAYLOAD         512     /* LEN limit of a frame */
#define DL1_TXID_SIZE           4       /* txid u32, first in a key-changing payload */
#define DL1_SERIAL_SIZE         8
#define DL1_MEMORY_SIZE         2048
#define DL1_COUNTER_COUNT       8

/* ------------------------------------------------------------ TRANSACT */

/*
 * Request. Payload is the DL-1 request payload WITHOUT the txid of a key-changing
 * command: the driver chooses a txid that never repeats (seeded at load from the
 * clock) and puts it first on the wire, and resends the same bytes on every retry,
 * so a command whose response was lost executes once.
 *
 * When every retry fails after the command went out whole, the outcome is unknown:
 * the IOCTL fails with STATUS_RETRY (ERROR_RETRY). A failed METHOD_BUFFERED request
 * copies nothing back, so the caller never sees the txid the driver chose. A caller
 * that may need to resend a key-changing command (and every caller should be ready
 * to) therefore supplies its own: DONG_TRANSACT_CALLER_TXID set, a txid first in
 * Payload as on the wire, random or from a counter that never repeats, never 0.
 * Resending the same request (same txid, same payload) is safe: the key answers it
 * from its journal if it ran, and runs it once if it did not — provided no other
 * key-changing command reached the key in between (the journal holds the last one).
 * The response's Txid field gives the txid used on success.
 * Input length: FIELD_OFFSET(Payload) + Length <= InputBufferLength <= sizeof.
 */
#define DONG_TRANSACT_CALLER_TXID   0x01    /* Flags: Payload starts with the txid */

typedef struct _DONG_TRANSACT_REQUEST {
    UCHAR  Command;                 /* DL1_CMD_* */
    UCHAR  Flags;                   /* DONG_TRANSACT_* */
    USHORT Length;                  /* bytes used in Payload, <= DL1_MAX_PAYLOAD */
    UCHAR  Payload[DL1_MAX_PAYLOAD];
} DONG_TRANSACT_REQUEST, *PDONG_TRANSACT_REQUEST;

#define DONG_TRANSACT_REQUEST_HEADER 4  /* FIELD_OFFSET(DONG_TRANSACT_REQUEST, Payload) */

/*
 * Response. The output buffer must hold a whole DONG_TRANSACT_RESPONSE (checked
 * before anything is sent: STATUS_BUFFER_TOO_SMALL); Information is
 * DONG_TRANSACT_RESPONSE_HEADER + Length. A key status other than OK is still a
 * successful IOCTL that returns the status in KeyStatus; only link failures (no key,
 * timeout, CRC after every retry, ...) fail the IOCTL with an NTSTATUS.
 */
#define DONG_RESPONSE_OVERRUN       0x01    /* Flags: STATUS bit 7 was set by the key */

typedef struct _DONG_TRANSACT_RESPONSE {
    UCHAR  KeyStatus;               /* DL1_STATUS_* (STATUS & 0x7F) */
    UCHAR  Flags;                   /* DONG_RESPONSE_* */
    USHORT Length;                  /* bytes used in Payload */
    ULONG  Txid;                    /* txid sent with a key-changing command, else 0
                                       (returned on success only: see above) */
    ULONG  Retries;                 /* link retries this request needed */
    UCHAR  Payload[DL1_MAX_PAYLOAD];
} DONG_TRANSACT_RESPONSE, *PDONG_TRANSACT_RESPONSE;

#define DONG_TRANSACT_RESPONSE_HEADER 12 /* FIELD_OFFSET(DONG_TRANSACT_RESPONSE, Payload) */

/* ------------------------------------------------------------- GET_INFO */

#define DONG_CHIP_SPP           0   /* data lines forward only */
#define DONG_CHIP_PS2           1   /* bidirectional (PPT_BYTE_PRESENT) */
#define DONG_CHIP_ECP           2   /* ECP chip (PPT_ECP_PRESENT), PS/2 through ECR mode 001 */

#define DONG_MODE_NONE          0   /* no session could be opened */
#define DONG_MODE_NIBBLE        1   /* link byte 0x4C */
#define DONG_MODE_BYTE          2   /* link byte 0x4D */

#define DONG_PERIPHERAL_NOTHING 0   /* status lines pulled up: nothing answers */
#define DONG_PERIPHERAL_PRINTER 1   /* a printer (or other device) but no DL-1 key */
#define DONG_PERIPHERAL_KEY     2   /* a DL-1 key (maybe with a printer behind it) */

#define DONG_INFO_KEY_VALID     0x01    /* Flags: Serial..ProductId come from the key */
#define DONG_INFO_LOCKED        0x02    /* Flags: the key is locked (DL1 flags bit 0) */

typedef struct _DONG_INFO {
    ULONG  PortNumber;              /* N of \Device\DongLptN (Win32 name: N+1) */
    ULONG  PortBase;                /* I/O address of the port's registers */
    ULONG  Chip;                    /* DONG_CHIP_* */
    ULONG  Mode;                    /* DONG_MODE_* the driver uses on this port */
    ULONG  Attached;                /* DONG_PERIPHERAL_* */
    ULONG  Flags;                   /* DONG_INFO_* */
    LONG   ProbeStatus;             /* NTSTATUS explaining Attached (why no key) */
    UCHAR  StatusRegister;          /* STATUS register seen by the probe (idle) */
    UCHAR  Counters;                /* number of counters */
    USHORT FirmwareVersion;
    UCHAR  Serial[DL1_SERIAL_SIZE];
    USHORT MemorySize;              /* bytes of EEPROM */
    USHORT VendorId;
    USHORT ProductId;
    USHORT Reserved;
} DONG_INFO, *PDONG_INFO;

/* ----------------------------------------------------------- GET_STATUS */

/* ParallelStatus bits: the values of <ntddpar.h>'s PARALLEL_* status bits. */
#define DONG_PARALLEL_INIT          0x01
#define DONG_PARALLEL_AUTOFEED      0x02
#define DONG_PARALLEL_PAPER_EMPTY   0x04
#define DONG_PARALLEL_OFF_LINE      0x08
#define DONG_PARALLEL_POWER_OFF     0x10
#define DONG_PARALLEL_NOT_CONNECTED 0x20
#define DONG_PARALLEL_BUSY          0x40
#define DONG_PARALLEL_SELECTED      0x80

typedef struct _DONG_PORT_STATUS {
    ULONG ParallelStatus;           /* DONG_PARALLEL_* decoded from the status lines */
    ULONG StatusRegister;           /* raw STATUS register (base+1) */
} DONG_PORT_STATUS, *PDONG_PORT_STATUS;

/* ---------------------------------------------------- GET/SET_TIMEOUTS */

typedef struct _DONG_TIMEOUTS {
    ULONG HandshakeMs;              /* answer to one handshake edge (1..1000; 35) */
    ULONG ResponseMs;               /* response wait beyond the key time (1..60000; 10) */
    ULONG Retries;                  /* resends of one request (0..16; 3) */
    ULONG PortWaitMs;               /* wait to own the port; 0 = until cancelled */
} DONG_TIMEOUTS, *PDONG_TIMEOUTS;

#define DONG_TIMEOUT_HANDSHAKE_MAX  1000
#define DONG_TIMEOUT_RESPONSE_MAX   60000
#define DONG_TIMEOUT_RETRIES_MAX    16

/* ------------------------------------------------------------ GET_STATS */

typedef struct _DONG_STATISTICS {
    ULONGLONG BytesSent;            /* bytes strobed to the key, frames and retries */
    ULONGLONG BytesReceived;        /* bytes read back from the key */
    ULONG  Requests;                /* TRANSACT / WriteFile requests completed */
    ULONG  FramesSent;
    ULONG  FramesReceived;
    ULONG  Retries;                 /* resends of a request */
    ULONG  CrcErrors;               /* responses with a bad CRC, and BAD_CRC answers */
    ULONG  FramingErrors;           /* malformed responses, BAD_FRAME answers */
    ULONG  Overruns;                /* responses with the overrun bit */
    ULONG  Timeouts;                /* handshake or response timeouts */
    ULONG  SessionsOpened;
    ULONG  SessionsLost;            /* sessions found gone by the session check */
    ULONG  PortWaits;               /* requests that had to wait for the port */
    ULONG  Reserved;
} DONG_STATISTICS, *PDONG_STATISTICS;

/* ------------------------------------------------------- size assertions */

#define DONG_C_ASSERT_JOIN2(a, b) a##b
#define DONG_C_ASSERT_JOIN(a, b) DONG_C_ASSERT_JOIN2(a, b)
#define DONG_C_ASSERT(e) \
    typedef char DONG_C_ASSERT_JOIN(DongCAssert, __LINE__)[(e) ? 1 : -1]

DONG_C_ASSERT(sizeof(DONG_TRANSACT_REQUEST) == DONG_TRANSACT_REQUEST_HEADER + DL1_MAX_PAYLOAD);
DONG_C_ASSERT(sizeof(DONG_TRANSACT_RESPONSE) == DONG_TRANSACT_RESPONSE_HEADER + DL1_MAX_PAYLOAD);
DONG_C_ASSERT(sizeof(DONG_INFO) == 48);
DONG_C_ASSERT(sizeof(DONG_PORT_STATUS) == 8);
DONG_C_ASSERT(sizeof(DONG_TIMEOUTS) == 16);
DONG_C_ASSERT(sizeof(DONG_STATISTICS) == 64);

#endif /* DONGLPT_H */
