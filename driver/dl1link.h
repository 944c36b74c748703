/*
 * dl1link.h - the DL-1 link protocol engine of the DongLpt driver.
 *
 * The engine speaks DL1.md to a key on one parallel port: session negotiation
 * (byte reverse on a bidirectional port, nibble otherwise), the forward
 * handshake, frames with CRC-16/CCITT-FALSE, SEQ and txid, nibble and byte reverse,
 * bounded retries that resend the same bytes, session close, and the mapping of
 * every hardware condition to an NTSTATUS (docs/LINK.md has the table and the
 * timing derivation).
 *
 * Threading contract: every routine except DongLinkGetStats runs at PASSIVE_LEVEL
 * in the thread that owns the port (the driver's per-port worker) and touches the
 * registers. The caller serializes all calls on one DONG_LINK. A session may stay
 * open between DongLinkTransact calls only while the caller keeps the port: call
 * DongLinkShutdown before freeing the port to anyone else, at IRP_MJ_SHUTDOWN and
 * before unload. The next DongLinkTransact reopens the session transparently.
 *
 * Include after <ntddk.h> and <donglpt.h>.
 */
#ifndef DL1LINK_H
#define DL1LINK_H

/* Largest frame on the wire: start, SEQ, CMD/STATUS, LEN u16, payload, CRC u16. */
#define DONG_LINK_FRAME_OVERHEAD  7
#define DONG_LINK_MAX_FRAME       (DONG_LINK_FRAME_OVERHEAD + DL1_MAX_PAYLOAD)

/*
 * The schedule of register accesses, computed once from the port's access time
 * (DongLinkInitialize) so that each DL1.md minimum is met with the fewest accesses
 * and the least time (docs/LINK.md, "The floor"). A gap shorter than a minimum is
 * padded with status reads: on every port they beat a whole-microsecond stall.
 */
typedef struct _DONG_LINK_TIMING {
    ULONG AccessNs;            /* tIO: one register access, measured or given */
    USHORT SetupReads;         /* DATA write -> strobe falling edge (tSU) */
    USHORT StrobeReads;        /* strobe falling -> rising edge (tSTB) */
    USHORT HoldReads;          /* strobe rising edge -> next DATA write (tHLD) */
    USHORT RespondReads;       /* host edge -> next host edge relying on tRSP */
    ULONG BusyStallUs;         /* stall after a byte's DATA write before polling Busy */
    BOOLEAN AccessMeetsRsp;    /* tIO >= tRSP: a write lands after the key's answer */
} DONG_LINK_TIMING;

typedef struct _DONG_LINK {
    /* Port. */
    PUCHAR Controller;         /* DATA at +0, STATUS at +1, CONTROL at +2 */
    PUCHAR EcrRegister;        /* ECR (base + 0x402) on an ECP chip, else NULL */
    UCHAR Chip;                /* DONG_CHIP_* */
    DONG_LINK_TIMING Timing;
    DONG_TIMEOUTS Timeouts;
    LARGE_INTEGER Frequency;   /* of KeQueryPerformanceCounter */

    /* Register shadows: an unchanged line is never rewritten. */
    UCHAR Control;
    UCHAR Data;
    BOOLEAN ShadowValid;       /* FALSE until the engine first writes both registers */
    BOOLEAN EcrChanged;        /* ECR was switched to PS/2 mode: restore SavedEcr */
    UCHAR SavedEcr;

    /* Session. */
    UCHAR SessionMode;         /* 0 (none), 0x4C nibble or 0x4D byte */
    UCHAR PreferredLinkByte;   /* 0x4D on a bidirectional port until the key refuses it */
    BOOLEAN KeyAnswersInAccess;/* the key answered every edge within one tIO */
    LONGLONG LastActivity;     /* performance counter at the last host line change */
    LONGLONG NotReadyUntil;    /* performance counter: key NOT-READY before this */

    /* Frame numbering. */
    UCHAR Seq;                 /* SEQ of the last request sent */
    ULONG NextTxid;            /* next txid for a key-changing command; never 0 */

    DONG_STATISTICS Stats;     /* link fields only; see DongLinkGetStats */

    /* Frames; the request survives across retries so they resend the same bytes. */
    USHORT TxLength;
    UCHAR Tx[DONG_LINK_MAX_FRAME];
    UCHAR Rx[DONG_LINK_MAX_FRAME];
} DONG_LINK, *PDONG_LINK;

/*
 * Set up Link for the port at Controller. Measures the access time with a few
 * status reads unless AccessTimeNs is nonzero; touches no control or data line.
 * TxidSeed: the first txid (a persisted counter), or 0 to seed from the clocks.
 * IRQL: PASSIVE_LEVEL. Returns STATUS_SUCCESS or STATUS_INVALID_PARAMETER.
 */
NTSTATUS DongLinkInitialize(PDONG_LINK Link, PUCHAR Controller, PUCHAR EcpController,
                            ULONG HardwareCapabilities, const DONG_TIMEOUTS *Timeouts,
                            ULONG TxidSeed, ULONG AccessTimeNs);

/* New timeouts for the next operations (the caller checked the ranges). */
VOID DongLinkSetTimeouts(PDONG_LINK Link, const DONG_TIMEOUTS *Timeouts);

/*
 * Send one request and receive its response, opening a session when needed and
 * retrying (same bytes, same SEQ and txid) up to Timeouts.Retries times.
 * Request and Response may be the same buffer (METHOD_BUFFERED): the request is
 * copied before anything is written to Response.
 * Returns STATUS_SUCCESS when the key answered (Response->KeyStatus may be any
 * DL1_STATUS_*; DongLinkKeyStatusToNtStatus maps it); otherwise the link failure of
 * docs/LINK.md, with Response->Txid and Retries still filled in (Length 0).
 * STATUS_RETRY means a key-changing command may or may not have executed: resend it
 * with the same txid (DONG_TRANSACT_CALLER_TXID) to learn its outcome safely. The
 * failed IOCTL carries Response->Txid to no Win32 caller (nothing is copied back on
 * an error), so those callers supply their txid from the start (docs/DRIVER.md).
 */
NTSTATUS DongLinkTransact(PDONG_LINK Link, const DONG_TRANSACT_REQUEST *Request,
                          PDONG_TRANSACT_RESPONSE Response);

/*
 * Find out what is attached: a key (then GET_INFO fills the key fields), a printer
 * or other device but no key, or nothing. Fills Chip, Mode, Attached, Flags,
 * ProbeStatus (why, as an NTSTATUS), StatusRegister and the key fields of Info (zero
 * without a key);
 * PortNumber and PortBase are the caller's. Returns STATUS_SUCCESS when Info is
 * filled in, or the failure of GET_INFO on a key that stopped answering.
 */
NTSTATUS DongLinkProbe(PDONG_LINK Link, PDONG_INFO Info);

/* Pulse nInit for 50 us; the next session waits out the key's 10 ms NOT-READY. */
NTSTATUS DongLinkResetKey(PDONG_LINK Link);

/* Read STATUS once and decode it into DONG_PARALLEL_* (= PARALLEL_*) bits. */
VOID DongLinkReadStatus(PDONG_LINK Link, PDONG_PORT_STATUS Status);

/*
 * Copy the link's counters (bytes, frames, retries, errors, timeouts, sessions)
 * into Stats; Requests and PortWaits are the caller's and are left alone.
 * Any IRQL <= DISPATCH_LEVEL; the caller keeps it from racing a transaction.
 */
VOID DongLinkGetStats(PDONG_LINK Link, PDONG_STATISTICS Stats);

/* Close any session, restore the ECR, park D0-D7 at 0xFF, leave idle lines. */
VOID DongLinkShutdown(PDONG_LINK Link);

/* Map a DL-1 key status (STATUS & 0x7F) to the NTSTATUS of docs/LINK.md. */
NTSTATUS DongLinkKeyStatusToNtStatus(UCHAR KeyStatus);

/* CRC-16/CCITT-FALSE of Length bytes, continuing from Crc (0xFFFF to start). */
USHORT DongLinkCrc16(USHORT Crc, const UCHAR *Bytes, ULONG Length);

#endif /* DL1LINK_H */
