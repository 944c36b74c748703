/*
 * dl1priv.h - private to the dl1*.c files of the DL-1 link engine: register layout,
 * line patterns, DL1.md timing constants and the helpers shared between the files.
 */
#ifndef DL1PRIV_H
#define DL1PRIV_H

/* Registers (DL1.md section 11), as offsets from the port base. */
#define DONG_REG_DATA      0
#define DONG_REG_STATUS    1
#define DONG_REG_CONTROL   2
#define DONG_ECR_FROM_BASE 0x402
#define DONG_ECR_FROM_ECP  2

/* STATUS bits; bit 7 is the inverse of the Busy line. Bits 2..0 carry no line. */
#define DONG_STS_NOT_BUSY  0x80
#define DONG_STS_NACK      0x40
#define DONG_STS_PERROR    0x20
#define DONG_STS_SELECT    0x10
#define DONG_STS_NFAULT    0x08
#define DONG_STS_LINES     0xF8

/* Line patterns (STATUS & DONG_STS_LINES) of DL1.md sections 2 and 10. */
#define DONG_PAT_PULLED_UP     0x78   /* nothing drives: Busy H and the rest H */
#define DONG_PAT_FORWARD_IDLE  0xF8   /* SESSION-FORWARD idle, LINK after Event 6 */
#define DONG_PAT_EVENT2        0x38   /* NEGOTIATING after Event 2, Busy aside */
#define DONG_STS_EVENT2        0x78   /* the lines Event 2 sets */
#define DONG_PAT_REVERSE_WAIT  0x70   /* SESSION-REVERSE before Event 7 / between bytes */
#define DONG_PAT_PRN_IDLE      0xD8
#define DONG_PAT_PRN_BUSY      0x58
#define DONG_PAT_PRN_BUSY_ACK  0x18   /* busy, inside its nAck pulse */
#define DONG_PAT_PRN_PAPER_OUT 0x60
#define DONG_PAT_PRN_OFFLINE   0x40
#define DONG_PAT_PRN_POWER_OFF 0x80

/* CONTROL bits. */
#define DONG_CTL_STROBE    0x01   /* 1: nStrobe low */
#define DONG_CTL_AUTOFD    0x02   /* 1: nAutoFd low */
#define DONG_CTL_NINIT     0x04   /* 1: nInit high */
#define DONG_CTL_SELECTIN  0x08   /* 1: nSelectIn low */
#define DONG_CTL_REVERSE   0x20   /* 1: data lines in reverse direction */

/* Compatibility idle (no session): nSelectIn low, nInit high. */
#define DONG_CTL_COMPAT    (DONG_CTL_NINIT | DONG_CTL_SELECTIN)
/* Inside a session: nSelectIn (1284Active) high, nInit high. */
#define DONG_CTL_SESSION   DONG_CTL_NINIT

/* ECR mode field and the PS/2 (bidirectional) mode 001. */
#define DONG_ECR_MODE_MASK 0xE0
#define DONG_ECR_MODE_PS2  0x20

/* Link bytes and frame start bytes. */
#define DONG_LINK_BYTE_NIBBLE 0x4C
#define DONG_LINK_BYTE_BYTE   0x4D
#define DONG_REQUEST_EXT      0x80   /* Extensibility Link request at Event 0 */
#define DONG_FRAME_REQUEST    0x5A
#define DONG_FRAME_RESPONSE   0xA5
#define DONG_FRAME_HEADER     5      /* start, SEQ, CMD/STATUS, LEN u16 */
#define DONG_STATUS_OVERRUN   0x80   /* STATUS bit 7 */
#define DONG_STATUS_CODE      0x7F

/* DL1.md timing, nanoseconds. */
#define DONG_T_SU_NS       500
#define DONG_T_STB_NS      500
#define DONG_T_HLD_NS      500
#define DONG_T_RSP_NS      1000
#define DONG_T_BUSY_NS     4000      /* tPROC + tACK of a forward byte */
#define DONG_T_RESET_US    50        /* nInit pulse that resets the key */
#define DONG_T_RECOVER_US  10000     /* NOT-READY after a reset */
#define DONG_T_IDLE_GUARD_US 900000  /* reopen rather than trust a session this idle
                                        (the key ends it after 1 s) */
#define DONG_T_RESPONSE_SLACK_US 1000 /* beyond the DL1.md minimum response wait */
#define DONG_SPIN_US       200       /* poll without sleeping this long, then sleep */
#define DONG_SLEEP_US      1000      /* sleep between polls of a long wait */

/* What a status poll found. */
typedef enum _DONG_WAIT {
    DongWaitPending,   /* not yet (internal to the poll) */
    DongWaitMet,       /* the awaited condition */
    DongWaitExec,      /* SESSION-EXEC while sending: stop, wait for the response */
    DongWaitResponse,  /* nDataAvail low while sending: stop, read the response */
    DongWaitLost,      /* the session is gone (DL1.md section 2) */
    DongWaitIdle,      /* SESSION-FORWARD where a response byte was due */
    DongWaitTimeout
} DONG_WAIT;

/* What a poll waits for. */
typedef enum _DONG_POLL {
    DongPollBusyLow,      /* forward: Busy low before a strobe, with the session check */
    DongPollResponse,     /* after a frame: nDataAvail low, with the session check */
    DongPollEvent2,       /* negotiation: the key captured the bus */
    DongPollAckLow,       /* handshake: nAck low */
    DongPollAckHigh,      /* handshake: nAck high */
    DongPollReverseData   /* reverse Event 9: nAck low, or the response ended */
} DONG_POLL;

/* dl1io.c */
UCHAR DongLinkReadStatusRegister(PDONG_LINK Link);
VOID DongLinkWriteControl(PDONG_LINK Link, UCHAR Control);
VOID DongLinkWriteData(PDONG_LINK Link, UCHAR Data);
UCHAR DongLinkReadData(PDONG_LINK Link);
VOID DongLinkPadReads(PDONG_LINK Link, ULONG Reads);
DONG_WAIT DongLinkPadReadsChecked(PDONG_LINK Link, ULONG Reads, PUCHAR Status);
DONG_WAIT DongLinkPoll(PDONG_LINK Link, DONG_POLL Kind, ULONG TimeoutUs, PUCHAR Status);
DONG_WAIT DongLinkPollSlow(PDONG_LINK Link, DONG_POLL Kind, ULONG TimeoutUs, PUCHAR Status);
DONG_WAIT DongLinkClassify(DONG_POLL Kind, UCHAR Status);
LONGLONG DongLinkNow(VOID);
LONGLONG DongLinkTicksFromUs(PDONG_LINK Link, ULONGLONG Us);
VOID DongLinkWait(PDONG_LINK Link, ULONG Us);
VOID DongLinkComputeTiming(PDONG_LINK Link, ULONG AccessNs);
ULONG DongLinkMeasureAccess(PDONG_LINK Link);

/* dl1link.c */
NTSTATUS DongLinkEnsureSession(PDONG_LINK Link);
VOID DongLinkCloseSession(PDONG_LINK Link);

/* dl1frame.c */
NTSTATUS DongLinkExchange(PDONG_LINK Link, UCHAR Command, UCHAR Flags,
                          const UCHAR *Payload, ULONG Length, PULONG Txid, PULONG Retries);

/* dl1fwd.c */
DONG_WAIT DongLinkSendFrame(PDONG_LINK Link, const UCHAR *Bytes, ULONG Length,
                            PUCHAR Status);

/* dl1rev.c */
DONG_WAIT DongLinkReceive(PDONG_LINK Link, PUCHAR Buffer, ULONG Length, PUCHAR Status);
VOID DongLinkEndReverse(PDONG_LINK Link);

/* dl1status.c */
NTSTATUS DongLinkClassifyIdle(UCHAR Status, PULONG Attached);
ULONG DongLinkDecodeStatus(UCHAR Status, BOOLEAN InSession);

#endif /* DL1PRIV_H */
