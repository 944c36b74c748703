/*
 * key_internal.h — private to the DL-1 key model (key.c, key_cmd.c, key_image.c,
 * key_fault.c). Constants are DL1.md's; names follow its sections.
 */
#ifndef SIM_KEY_INTERNAL_H
#define SIM_KEY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/key.h"

/* Section 5 and 6 timing (host-side rules are not scaled by the slow factor). */
#define KEY_TSU         SIM_NS(500)
#define KEY_TSTB        SIM_NS(500)
#define KEY_TPROC       SIM_US(2)
#define KEY_TACK        SIM_US(2)
#define KEY_GAP         SIM_MS(10)
#define KEY_IDLE        SIM_S(1)
/* Section 8. */
#define KEY_RESET_PULSE SIM_US(50)
#define KEY_RESET_READY SIM_MS(10)
#define KEY_POWER_READY SIM_MS(100)
#define KEY_BROWNOUT    SIM_MS(100)
/* Section 7 key times. */
#define KEY_T_NOEXEC    SIM_US(20)
#define KEY_T_ECHO      SIM_US(10)
#define KEY_T_CHALLENGE SIM_US(300)
#define KEY_T_NVWRITE   SIM_MS(5)

#define KEY_START_REQ   0x5Au
#define KEY_START_RESP  0xA5u
#define KEY_REQ_EXT_LINK 0x80u
#define KEY_LINK_NIBBLE 0x4Cu
#define KEY_LINK_BYTE   0x4Du
#define KEY_HDR_LEN     5u          /* start, SEQ, CMD/STATUS, LEN u16 */
#define KEY_FRAME_MAX   (KEY_HDR_LEN + SIM_KEY_MAX_PAYLOAD + 2u)
#define KEY_PAGES       (SIM_KEY_MEM_SIZE / SIM_KEY_PAGE_SIZE)
#define KEY_LOCKED_AREA 256u
#define KEY_STATUS_OVERRUN 0x80u
#define KEY_JOURNAL_RESP_MAX 4u

/* Commands (section 7). */
enum {
    KEY_CMD_GET_INFO = 0x01,
    KEY_CMD_CHALLENGE = 0x02,
    KEY_CMD_READ = 0x03,
    KEY_CMD_WRITE = 0x04,
    KEY_CMD_COUNTER_READ = 0x05,
    KEY_CMD_COUNTER_DEC = 0x06,
    KEY_CMD_ECHO = 0x07,
    KEY_CMD_LOCK = 0x08,
    KEY_CMD_SET_KEY = 0x09,
    KEY_CMD_GET_DEVICE_ID = 0x0A,
    KEY_CMD_GET_STATS = 0x0B,
    KEY_CMD_COUNTER_SET = 0x0C,
};

/* Status codes (section 6). */
enum {
    KEY_ST_OK = 0x00,
    KEY_ST_BAD_CRC = 0x01,
    KEY_ST_BAD_FRAME = 0x02,
    KEY_ST_UNKNOWN_CMD = 0x10,
    KEY_ST_BAD_LENGTH = 0x11,
    KEY_ST_BAD_ADDRESS = 0x12,
    KEY_ST_PROTECTED = 0x13,
    KEY_ST_EXHAUSTED = 0x14,
    KEY_ST_EEPROM_FAULT = 0x20,
};

#define KEY_FW_VERSION 0x0110u
#define KEY_VENDOR     0xD06Cu
#define KEY_PRODUCT    0x0001u

/* The non-volatile txid journal entry (section 6). */
typedef struct key_journal {
    bool valid;
    uint8_t cmd;
    uint16_t payload_len;               /* whole request payload, txid included */
    uint8_t payload[SIM_KEY_MAX_PAYLOAD];
    uint8_t status;
    uint8_t resp_len;
    uint8_t resp[KEY_JOURNAL_RESP_MAX];
} key_journal;

/* Everything the image file holds. */
typedef struct key_nv {
    uint8_t serial[SIM_KEY_SERIAL_LEN];
    uint8_t secret[SIM_KEY_SECRET_LEN];
    bool locked;
    uint32_t counters[SIM_KEY_COUNTERS];
    uint8_t eeprom[SIM_KEY_MEM_SIZE];
    key_journal journal;
} key_nv;

/* A fresh key (section 7: memory erased, counters 0, unlocked, no journal). */
void key_nv_init(key_nv *nv, const uint8_t serial[SIM_KEY_SERIAL_LEN],
                 const uint8_t secret[SIM_KEY_SECRET_LEN]);

/* Image file (key_image.c, docs/KEY_IMAGE.md). */
#define KEY_IMAGE_MISSING 1
/* 0 loaded, KEY_IMAGE_MISSING (no such file), -1 error with message. */
int key_image_load(const char *path, key_nv *nv, char *err, size_t errlen);
/* Atomic replace: temp file in the same directory, fsync, rename, fsync directory. */
int key_image_save(const char *path, const key_nv *nv, char *err, size_t errlen);
/* Size of an image file in bytes. */
size_t key_image_size(void);

/*
 * Crash-test hook: called at each step of key_image_save (KEY_IMAGE_STEP_*) so a
 * forked test child can die exactly there. NULL in normal operation.
 */
enum {
    KEY_IMAGE_STEP_OPENED,
    KEY_IMAGE_STEP_HALF_WRITTEN,
    KEY_IMAGE_STEP_WRITTEN,
    KEY_IMAGE_STEP_SYNCED,
    KEY_IMAGE_STEP_RENAMED,
    KEY_IMAGE_STEP_DIR_SYNCED,
    KEY_IMAGE_STEPS
};
extern void (*key_image_step_hook)(int step);

/* Pending handshake answer (one at a time: the host waits for each). */
typedef enum key_answer {
    ANS_NONE,
    ANS_EV2,      /* negotiation: nAck low, PError/Select/nFault high */
    ANS_EV6,      /* negotiation: nAck high, Select high -> LINK */
    ANS_EV53,     /* link byte judged: Select, then nAck low */
    ANS_EV55,     /* nAck high -> SESSION-FORWARD or REFUSED */
    ANS_EV9,      /* reverse: data (nibble lines or D0-D7) and nAck low */
    ANS_EV11,     /* reverse: nAck high */
    ANS_REV_END,  /* byte mode: back to SESSION-FORWARD after the last Event 17 */
    ANS_EV24,     /* termination: nAck low */
    ANS_EV27,     /* termination: nAck high */
    ANS_EV28,     /* termination done -> PASS-THROUGH */
} key_answer;

typedef enum key_fwd_phase {
    FWD_IDLE,     /* Busy low: ready for a strobe */
    FWD_PROC,     /* tPROC after the falling edge: Busy high */
    FWD_ACK,      /* tACK: Busy high, nAck low */
} key_fwd_phase;

/* A complete request frame (or a frame rejected as BAD_FRAME) handed to execution. */
typedef struct key_request {
    uint64_t id;
    bool bad_frame;
    uint8_t seq;                        /* received SEQ, 0 if none arrived */
    size_t len;
    uint8_t bytes[KEY_FRAME_MAX];
} key_request;

/* A request that arrived while a command was running; it waits, in arrival order,
   for every earlier one (section 6). A linked FIFO: how many hosts give up and
   reopen during one command is bounded only by that command's key time. */
typedef struct key_queued {
    struct key_queued *next;
    key_request req;
} key_queued;

/* The non-volatile update a running command performs when its key time is over. */
typedef enum key_op {
    OP_NONE,
    OP_WRITE,
    OP_COUNTER_DEC,
    OP_COUNTER_SET,
    OP_LOCK,
    OP_SET_KEY,
} key_op;

/* The command being executed; it outlives the session that sent it (section 4). */
typedef struct key_exec {
    bool running;
    key_request req;
    bool cache_it;                      /* good CRC: becomes the volatile cache entry */
    uint8_t status;
    uint16_t resp_len;
    uint8_t resp[SIM_KEY_MAX_PAYLOAD];
    key_op op;
    unsigned index;                     /* counter ops */
    uint32_t value;                     /* counter ops: the value to store */
    unsigned page, last_page;           /* WRITE progress */
} key_exec;

typedef struct key_fault_slot {
    sim_key *key;
    bool armed;
    sim_key_trigger trig;
    sim_key_fault fault;
    uint64_t remaining;
    sim_event ev;
} key_fault_slot;

struct sim_key {
    sim_peripheral base;                /* first: sim_key_from_peripheral casts */
    sim_peripheral *behind;
    char *image_path;
    char image_err[512];
    sim_time_t answer_ns;
    unsigned slow;
    key_nv nv;

    /* Power and cable. */
    bool plugged, powered;
    sim_key_state state;
    sim_time_t ready_at;                /* NOT-READY ends here unless held */
    bool hold_init;                     /* reset happened, nInit still low */
    bool browned;                       /* browned out, data still all low */
    bool data_all_low;
    sim_event ev_ready, ev_reset, ev_brown, ev_power, ev_idle;

    /* Host lines as last seen; setup-rule history of D0-D7. */
    sim_host_lines host;
    uint8_t data_cur, data_prev;
    sim_time_t data_changed_at;
    sim_host_lines behind_sent;
    bool behind_sent_valid;
    int depth;                          /* key_enter/key_leave nesting */
    sim_periph_lines snap;

    /* Negotiation, link, handshake answers. */
    uint8_t mode;                       /* KEY_LINK_NIBBLE / KEY_LINK_BYTE in a session */
    bool neg_ev2, neg_strobed;
    int link_phase;                     /* 0 wait strobe, 1 strobe seen, 2 Event 53 done */
    bool link_ok;
    key_answer answer;
    sim_event ev_answer;
    bool nack_hidden;                   /* this nAck pulse is suppressed (fault) */

    /* Forward bytes and the frame parser. */
    key_fwd_phase fwd_phase;
    uint8_t fwd_byte;
    sim_time_t fwd_fall;
    bool fwd_parsed, fwd_drop;
    sim_event ev_fwd;
    bool fr_active, fr_done, fr_bad;
    size_t fr_len;
    uint8_t fr[KEY_FRAME_MAX];
    sim_time_t fr_last_fall;
    sim_event ev_gap;

    /* Reverse (the response being sent). */
    uint8_t out[KEY_FRAME_MAX];
    size_t out_len, out_pos;
    unsigned out_nib;
    bool rev_data, rev_driving, hostclk_expected, hostclk_low;
    uint8_t rev_byte;

    /* Termination. */
    int term_phase;                     /* 0 after Event 22, 1 after 24, 2 after 27, 3 after 28 */
    sim_periph_lines term_lines;

    /* Execution and caches. */
    key_exec exec;
    sim_event ev_exec;
    key_queued *queue_head, *queue_tail;
    uint64_t next_id, awaiting;
    bool overrun_flag;
    bool cache_valid;
    size_t cache_req_len;
    uint8_t cache_req[KEY_FRAME_MAX];
    uint8_t cache_status;
    uint16_t cache_resp_len;
    uint8_t cache_resp[SIM_KEY_MAX_PAYLOAD];

    sim_key_stats st;

    /* Faults. */
    bool stuck_busy;
    uint32_t nack_missing, drop_forward, corrupt_crc;
    uint8_t worn[KEY_PAGES / 8];
    key_fault_slot faults[SIM_KEY_MAX_FAULTS];
};

/* key.c */
void key_enter(sim_key *k);
void key_leave(sim_key *k);
sim_time_t key_scaled(const sim_key *k, sim_time_t t);
void key_save_nv(sim_key *k);
void key_sat_inc(uint16_t *c);
void key_response_ready(sim_key *k, uint64_t id, uint8_t seq, uint8_t status,
                        const uint8_t *payload, uint16_t len);
void key_power_off(sim_key *k);
void key_power_up(sim_key *k);

/* key_cmd.c */
void key_exec_init(sim_key *k);
void key_exec_submit(sim_key *k, const key_request *req);
void key_exec_abort(sim_key *k);

/* key_fault.c */
void key_faults_init(sim_key *k);
void key_faults_cancel(sim_key *k);
void key_fault_apply(sim_key *k, const sim_key_fault *f);
void key_fault_count(sim_key *k, sim_key_trigger_kind kind);
bool key_page_worn(const sim_key *k, unsigned page);

/* Little-endian helpers (frames and image). */
static inline uint16_t key_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t key_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void key_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void key_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

#endif
