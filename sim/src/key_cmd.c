/*
 * key_cmd.c — what the DL-1 does with a complete request frame (DL1.md sections 6
 * and 7): the checks in their specified order, the volatile response cache, the
 * non-volatile txid journal, every command with its key time, and EEPROM page writes.
 *
 * A command runs on the clock (ev_exec) independently of the session that sent it:
 * a session may end while it runs, and its response then only lands in the cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "sim/crc16.h"
#include "key_internal.h"

#define MAC_LEN          16u
#define NONCE_LEN        16u
#define TXID_LEN         4u
#define GET_INFO_LEN     18u
#define GET_STATS_LEN    8u
#define DEVICE_ID_FMT    "MFG:DongLpt;MDL:DL-1;CMD:DLP1;CLS:SECURITY;DES:DL-1 software key;SN:"

typedef struct cmd_info {
    uint8_t cmd;
    uint16_t min_len, max_len;
    bool journaled;              /* changes non-volatile state: carries a txid */
} cmd_info;

static const cmd_info commands[] = {
    { KEY_CMD_GET_INFO, 0, 0, false },
    { KEY_CMD_CHALLENGE, NONCE_LEN, NONCE_LEN, false },
    { KEY_CMD_READ, 4, 4, false },
    { KEY_CMD_WRITE, TXID_LEN + 2 + 1, SIM_KEY_MAX_PAYLOAD, true },
    { KEY_CMD_COUNTER_READ, 1, 1, false },
    { KEY_CMD_COUNTER_DEC, TXID_LEN + 1 + 4, TXID_LEN + 1 + 4, true },
    { KEY_CMD_ECHO, 0, SIM_KEY_MAX_PAYLOAD, false },
    { KEY_CMD_LOCK, TXID_LEN, TXID_LEN, true },
    { KEY_CMD_SET_KEY, TXID_LEN + SIM_KEY_SECRET_LEN, TXID_LEN + SIM_KEY_SECRET_LEN, true },
    { KEY_CMD_GET_DEVICE_ID, 0, 0, false },
    { KEY_CMD_GET_STATS, 0, 0, false },
    { KEY_CMD_COUNTER_SET, TXID_LEN + 1 + 4, TXID_LEN + 1 + 4, true },
};

static const cmd_info *find_cmd(uint8_t cmd)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].cmd == cmd)
            return &commands[i];
    return NULL;
}

static uint16_t req_len(const key_exec *x)
{
    return key_get16(x->req.bytes + 3);
}

static const uint8_t *req_payload(const key_exec *x)
{
    return x->req.bytes + KEY_HDR_LEN;
}

/* fail - a non-executing error response: LEN 0, 20 us (section 6). */
static sim_time_t fail(key_exec *x, uint8_t status)
{
    x->status = status;
    x->resp_len = 0;
    return KEY_T_NOEXEC;
}

/* reply - an OK response with payload, ready now; the caller gives the key time. */
static void reply(key_exec *x, const void *data, uint16_t len)
{
    x->status = KEY_ST_OK;
    x->resp_len = len;
    if (len)
        memcpy(x->resp, data, len);
}

static void do_get_info(sim_key *k, key_exec *x)
{
    uint8_t r[GET_INFO_LEN];

    memcpy(r, k->nv.serial, SIM_KEY_SERIAL_LEN);
    key_put16(r + 8, KEY_FW_VERSION);
    key_put16(r + 10, SIM_KEY_MEM_SIZE);
    r[12] = SIM_KEY_COUNTERS;
    r[13] = k->nv.locked ? 1 : 0;
    key_put16(r + 14, KEY_VENDOR);
    key_put16(r + 16, KEY_PRODUCT);
    reply(x, r, sizeof r);
}

/* do_challenge - first 16 bytes of HMAC-SHA256(secret, "DL1" | serial | nonce). */
static void do_challenge(sim_key *k, key_exec *x)
{
    uint8_t m[3 + SIM_KEY_SERIAL_LEN + NONCE_LEN];
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;

    memcpy(m, "DL1", 3);
    memcpy(m + 3, k->nv.serial, SIM_KEY_SERIAL_LEN);
    memcpy(m + 3 + SIM_KEY_SERIAL_LEN, req_payload(x), NONCE_LEN);
    if (!HMAC(EVP_sha256(), k->nv.secret, SIM_KEY_SECRET_LEN, m, sizeof m, mac, &mac_len) ||
        mac_len < MAC_LEN) {
        /* libcrypto failing is a broken host, not a key behaviour. */
        fprintf(stderr, "sim key: HMAC-SHA256 failed in libcrypto\n");
        memset(mac, 0, MAC_LEN);
    }
    reply(x, mac, MAC_LEN);
}

static void do_device_id(sim_key *k, key_exec *x)
{
    char id[128];
    int n = snprintf(id, sizeof id, DEVICE_ID_FMT);

    for (unsigned i = 0; i < SIM_KEY_SERIAL_LEN; i++)
        n += snprintf(id + n, sizeof id - (size_t)n, "%02X", k->nv.serial[i]);
    n += snprintf(id + n, sizeof id - (size_t)n, ";");
    x->status = KEY_ST_OK;
    x->resp_len = (uint16_t)(n + 2);
    x->resp[0] = (uint8_t)(x->resp_len >> 8);   /* big-endian, unlike the frames */
    x->resp[1] = (uint8_t)x->resp_len;
    memcpy(x->resp + 2, id, (size_t)n);
}

static void do_get_stats(sim_key *k, key_exec *x)
{
    uint8_t r[GET_STATS_LEN];

    key_put16(r, k->st.framing_errors);
    key_put16(r + 2, k->st.overruns);
    key_put16(r + 4, k->st.crc_errors);
    key_put16(r + 6, k->st.resets);
    reply(x, r, sizeof r);
}

/* begin_page - schedule the end of the current page's 5 ms write. */
static void begin_page(sim_key *k)
{
    sim_event_schedule(k->base.clock, &k->ev_exec,
                       sim_now(k->base.clock) + key_scaled(k, KEY_T_NVWRITE));
    key_fault_count(k, SIM_KEY_TRIGGER_IN_PAGE_WRITE);
}

/*
 * execute - checks from "command known" on, in the order of section 6, then the
 * command itself. Returns the key time (unscaled); a non-volatile update is left in
 * x->op for the end of that time.
 */
static sim_time_t execute(sim_key *k, key_exec *x)
{
    const cmd_info *ci = find_cmd(x->req.bytes[2]);
    const uint8_t *p = req_payload(x);
    uint16_t len = req_len(x);
    const key_journal *j = &k->nv.journal;

    if (!ci)
        return fail(x, KEY_ST_UNKNOWN_CMD);
    if (len < ci->min_len || len > ci->max_len)
        return fail(x, KEY_ST_BAD_LENGTH);
    if (ci->cmd == KEY_CMD_READ && (key_get16(p + 2) < 1 || key_get16(p + 2) > SIM_KEY_MAX_PAYLOAD))
        return fail(x, KEY_ST_BAD_LENGTH);
    if (ci->journaled && j->valid && j->cmd == ci->cmd && j->payload_len == len &&
        memcmp(j->payload, p, len) == 0) {
        x->status = j->status;
        x->resp_len = j->resp_len;
        memcpy(x->resp, j->resp, j->resp_len);
        k->st.journal_replays++;
        return KEY_T_NOEXEC;
    }

    switch (ci->cmd) {
    case KEY_CMD_GET_INFO:
        do_get_info(k, x);
        break;
    case KEY_CMD_CHALLENGE:
        do_challenge(k, x);
        k->st.commands_executed++;
        return KEY_T_CHALLENGE;
    case KEY_CMD_READ: {
        uint16_t addr = key_get16(p), n = key_get16(p + 2);
        if ((uint32_t)addr + n > SIM_KEY_MEM_SIZE)
            return fail(x, KEY_ST_BAD_ADDRESS);
        reply(x, k->nv.eeprom + addr, n);
        k->st.commands_executed++;
        return KEY_T_NOEXEC + SIM_US((n + SIM_KEY_PAGE_SIZE - 1) / SIM_KEY_PAGE_SIZE);
    }
    case KEY_CMD_WRITE: {
        uint16_t addr = key_get16(p + TXID_LEN), n = (uint16_t)(len - TXID_LEN - 2);
        if ((uint32_t)addr + n > SIM_KEY_MEM_SIZE)
            return fail(x, KEY_ST_BAD_ADDRESS);
        if (k->nv.locked && addr < KEY_LOCKED_AREA)
            return fail(x, KEY_ST_PROTECTED);
        reply(x, NULL, 0);
        x->op = OP_WRITE;
        x->page = addr / SIM_KEY_PAGE_SIZE;
        x->last_page = (addr + n - 1u) / SIM_KEY_PAGE_SIZE;
        k->st.commands_executed++;
        return KEY_T_NVWRITE;
    }
    case KEY_CMD_COUNTER_READ: {
        uint8_t r[4];
        if (p[0] >= SIM_KEY_COUNTERS)
            return fail(x, KEY_ST_BAD_ADDRESS);
        key_put32(r, k->nv.counters[p[0]]);
        reply(x, r, sizeof r);
        break;
    }
    case KEY_CMD_COUNTER_DEC: {
        unsigned idx = p[TXID_LEN];
        uint32_t amount = key_get32(p + TXID_LEN + 1), cur;
        uint8_t r[4];
        if (idx >= SIM_KEY_COUNTERS)
            return fail(x, KEY_ST_BAD_ADDRESS);
        cur = k->nv.counters[idx];
        if (amount > cur)
            return fail(x, KEY_ST_EXHAUSTED);
        key_put32(r, cur - amount);
        reply(x, r, sizeof r);
        k->st.commands_executed++;
        if (amount == 0)
            return KEY_T_NOEXEC;             /* OK, no update, not journaled */
        x->op = OP_COUNTER_DEC;
        x->index = idx;
        x->value = cur - amount;
        return KEY_T_NVWRITE;
    }
    case KEY_CMD_ECHO:
        reply(x, p, len);
        k->st.commands_executed++;
        return KEY_T_ECHO;
    case KEY_CMD_LOCK:
        reply(x, NULL, 0);
        k->st.commands_executed++;
        if (k->nv.locked)
            return KEY_T_NOEXEC;             /* OK, no update, not journaled */
        x->op = OP_LOCK;
        return KEY_T_NVWRITE;
    case KEY_CMD_SET_KEY:
        if (k->nv.locked)
            return fail(x, KEY_ST_PROTECTED);
        reply(x, NULL, 0);
        x->op = OP_SET_KEY;
        k->st.commands_executed++;
        return KEY_T_NVWRITE;
    case KEY_CMD_GET_DEVICE_ID:
        do_device_id(k, x);
        break;
    case KEY_CMD_GET_STATS:
        do_get_stats(k, x);
        break;
    case KEY_CMD_COUNTER_SET:
        if (p[TXID_LEN] >= SIM_KEY_COUNTERS)
            return fail(x, KEY_ST_BAD_ADDRESS);
        if (k->nv.locked)
            return fail(x, KEY_ST_PROTECTED);
        reply(x, NULL, 0);
        x->op = OP_COUNTER_SET;
        x->index = p[TXID_LEN];
        x->value = key_get32(p + TXID_LEN + 1);
        k->st.commands_executed++;
        return KEY_T_NVWRITE;
    }
    k->st.commands_executed++;
    return KEY_T_NOEXEC;
}

/*
 * check - the checks that precede execution: BAD_FRAME, CRC, then "identical to the
 * cached request" (a byte-for-byte resend gets the cached response again).
 */
static sim_time_t check(sim_key *k, key_exec *x)
{
    const uint8_t *b = x->req.bytes;
    uint16_t len;

    if (x->req.bad_frame)
        return fail(x, KEY_ST_BAD_FRAME);
    len = key_get16(b + 3);
    if (key_get16(b + KEY_HDR_LEN + len) != sim_crc16(b + 1, KEY_HDR_LEN - 1u + len)) {
        key_sat_inc(&k->st.crc_errors);
        return fail(x, KEY_ST_BAD_CRC);
    }
    if (k->cache_valid && k->cache_req_len == x->req.len &&
        memcmp(k->cache_req, b, x->req.len) == 0) {
        x->status = k->cache_status;
        x->resp_len = k->cache_resp_len;
        memcpy(x->resp, k->cache_resp, k->cache_resp_len);
        k->st.cache_resends++;
        return KEY_T_NOEXEC;
    }
    x->cache_it = true;
    return execute(k, x);
}

/* start - run the checks of a request and schedule the end of its key time. */
static void start(sim_key *k, const key_request *req)
{
    key_exec *x = &k->exec;
    sim_time_t t;

    memset(x, 0, sizeof *x);
    x->req = *req;
    x->running = true;
    t = check(k, x);
    if (x->op == OP_WRITE) {
        begin_page(k);
        return;
    }
    sim_event_schedule(k->base.clock, &k->ev_exec, sim_now(k->base.clock) + key_scaled(k, t));
}

/* journal - record an OK non-volatile command with its response (section 6). */
static void journal(sim_key *k, const key_exec *x)
{
    key_journal *j = &k->nv.journal;

    j->valid = true;
    j->cmd = x->req.bytes[2];
    j->payload_len = req_len(x);
    memcpy(j->payload, req_payload(x), j->payload_len);
    j->status = x->status;
    j->resp_len = (uint8_t)x->resp_len;
    memcpy(j->resp, x->resp, x->resp_len);
}

/* finish - the command's response is ready: cache it, tell the session, run next. */
static void finish(sim_key *k)
{
    key_exec *x = &k->exec;

    x->running = false;
    if (x->cache_it) {
        k->cache_valid = true;
        k->cache_req_len = x->req.len;
        memcpy(k->cache_req, x->req.bytes, x->req.len);
        k->cache_status = x->status;
        k->cache_resp_len = x->resp_len;
        memcpy(k->cache_resp, x->resp, x->resp_len);
    }
    key_response_ready(k, x->req.id, x->req.seq, x->status, x->resp, x->resp_len);
    if (k->queue_head) {
        key_queued *q = k->queue_head;
        k->queue_head = q->next;
        if (!k->queue_head)
            k->queue_tail = NULL;
        start(k, &q->req);      /* start copies the request: the node can go */
        free(q);
    }
}

/*
 * write_page - the current page's 5 ms are over: verify (a worn page keeps its old
 * content and ends the WRITE with EEPROM_FAULT) or commit it. The last page commits
 * together with the journal entry in one image update.
 */
static void write_page(sim_key *k)
{
    key_exec *x = &k->exec;
    const uint8_t *p = req_payload(x);
    uint16_t addr = key_get16(p + TXID_LEN);
    uint32_t end = (uint32_t)addr + req_len(x) - TXID_LEN - 2u;
    uint32_t lo = x->page * SIM_KEY_PAGE_SIZE, hi = lo + SIM_KEY_PAGE_SIZE;

    if (key_page_worn(k, x->page)) {
        x->status = KEY_ST_EEPROM_FAULT;
        x->resp_len = 2;
        key_put16(x->resp, (uint16_t)lo);
        finish(k);
        return;
    }
    if (lo < addr)
        lo = addr;
    if (hi > end)
        hi = end;
    memcpy(k->nv.eeprom + lo, p + TXID_LEN + 2 + (lo - addr), hi - lo);
    k->st.page_writes++;
    if (x->page == x->last_page) {
        journal(k, x);
        key_save_nv(k);
        finish(k);
        return;
    }
    key_save_nv(k);
    x->page++;
    begin_page(k);
}

/*
 * apply_update - the end of a non-page update's 5 ms: the change and its journal
 * entry become non-volatile together, in one image save.
 */
static void apply_update(sim_key *k, key_exec *x)
{
    switch (x->op) {
    case OP_COUNTER_DEC:
    case OP_COUNTER_SET:
        k->nv.counters[x->index] = x->value;
        break;
    case OP_LOCK:
        k->nv.locked = true;
        break;
    case OP_SET_KEY:
        memcpy(k->nv.secret, req_payload(x) + TXID_LEN, SIM_KEY_SECRET_LEN);
        break;
    case OP_NONE:
    case OP_WRITE:
        return;
    }
    journal(k, x);
    key_save_nv(k);
}

/*
 * on_exec - the end of a command's key time (or of one page of a WRITE). finish()
 * may start a queued request in the same key_exec, so nothing here reads the exec
 * state after it.
 */
static void on_exec(sim_event *ev, void *ctx)
{
    sim_key *k = ctx;
    key_exec *x = &k->exec;
    (void)ev;

    key_enter(k);
    if (x->op == OP_WRITE) {
        write_page(k);
    } else {
        apply_update(k, x);
        finish(k);
    }
    key_leave(k);
}

void key_exec_init(sim_key *k)
{
    sim_event_init(&k->ev_exec, on_exec, k);
}

/*
 * key_exec_submit - a request frame is complete. The session now waits for this
 * request's response; if an earlier command (from a session that was abandoned) is
 * still running, this one queues behind it and every other waiting request, and its
 * checks run when its turn comes (section 6).
 */
void key_exec_submit(sim_key *k, const key_request *req)
{
    key_queued *q;

    k->awaiting = ++k->next_id;
    if (!k->exec.running) {
        key_request now = *req;
        now.id = k->awaiting;
        start(k, &now);
        return;
    }
    q = malloc(sizeof *q);
    if (!q) {
        /* The frame is lost like a dropped one: the host's response wait times out. */
        fprintf(stderr, "sim key: out of memory, request frame dropped\n");
        return;
    }
    q->next = NULL;
    q->req = *req;
    q->req.id = k->awaiting;
    if (k->queue_tail)
        k->queue_tail->next = q;
    else
        k->queue_head = q;
    k->queue_tail = q;
}

/* key_exec_abort - reset, power loss or destruction: the running command stops where
   it is and the waiting requests are forgotten. */
void key_exec_abort(sim_key *k)
{
    sim_event_cancel(k->base.clock, &k->ev_exec);
    k->exec.running = false;
    while (k->queue_head) {
        key_queued *q = k->queue_head;
        k->queue_head = q->next;
        free(q);
    }
    k->queue_tail = NULL;
}
