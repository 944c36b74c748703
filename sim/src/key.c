/*
 * key.c — the DL-1 key's line-level state machine (DL1.md sections 1-5 and 8): power,
 * readiness, pass-through to the peripheral behind, negotiation, the link phase, the
 * forward compatibility handshake with its frame parser, nibble and byte reverse,
 * termination, reset, brown-out and the idle timeout.
 *
 * The key's status lines are derived from its state and a few phase flags
 * (own_lines), never stored, so no transition can leave them inconsistent. Every entry
 * point (host line change, clock event, fault, peripheral notification) is bracketed
 * by key_enter/key_leave, which forward the right host lines to the peripheral behind
 * and notify upstream when the lines the host sees changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "sim/crc16.h"
#include "key_internal.h"

static const sim_peripheral_ops key_ops;

/* key_scaled - a key-side duration under the slow-key factor (DL1.md section 9). */
sim_time_t key_scaled(const sim_key *k, sim_time_t t)
{
    return t * (k->slow > 1 ? k->slow : 1);
}

/* key_sat_inc - GET_STATS counters saturate at 0xFFFF. */
void key_sat_inc(uint16_t *c)
{
    if (*c != 0xFFFF)
        (*c)++;
}

/* in_session - the states from NEGOTIATING to TERMINATING (contiguous in the enum). */
static bool in_session(const sim_key *k)
{
    return k->state >= SIM_KEY_NEGOTIATING && k->state <= SIM_KEY_TERMINATING;
}

/* owns_status - the host sees the key's own status lines (from Event 2 on). */
static bool owns_status(const sim_key *k)
{
    if (!k->powered || !in_session(k))
        return false;
    return k->state != SIM_KEY_NEGOTIATING || k->neg_ev2;
}

/* nibble_now - the nibble on the status lines during a nibble data phase. */
static uint8_t nibble_now(const sim_key *k)
{
    uint8_t b = k->out[k->out_pos];
    return k->out_nib ? (uint8_t)(b >> 4) : (uint8_t)(b & 0x0F);
}

/* own_lines - the status (and data) lines the key drives, per the table of section 2.
   Inlined: returned from a call, the 7-byte struct was packed through a store and a
   wider load that stalled store forwarding, a third of the simulator's time
   (docs/PERFORMANCE.md). */
static inline __attribute__((always_inline)) sim_periph_lines own_lines(const sim_key *k)
{
    sim_periph_lines l = { false, true, true, true, true, false, 0xFF };

    switch (k->state) {
    case SIM_KEY_NEGOTIATING:
        l.nAck = false;
        break;
    case SIM_KEY_LINK:
        if (k->link_phase == 2) {
            l.select = k->link_ok;
            l.nAck = false;
        }
        break;
    case SIM_KEY_REFUSED:
        l.select = false;
        break;
    case SIM_KEY_SESSION_FORWARD:
        l.busy = k->fwd_phase != FWD_IDLE || k->fr_done;
        l.nAck = k->fwd_phase != FWD_ACK;
        break;
    case SIM_KEY_SESSION_EXEC:
        l.busy = true;
        l.select = false;
        l.nAck = k->fwd_phase != FWD_ACK;
        break;
    case SIM_KEY_SESSION_REVERSE:
        l.busy = true;
        l.nFault = false;
        if (k->rev_data) {
            l.nAck = false;
            if (k->mode == KEY_LINK_NIBBLE) {
                uint8_t n = nibble_now(k);
                l.nFault = (n & 1) != 0;
                l.select = (n & 2) != 0;
                l.perror = (n & 4) != 0;
                l.busy = (n & 8) != 0;
            }
        } else if (k->out_pos == k->out_len) {
            l.nFault = true;       /* byte mode, after Event 11 of the last byte */
        }
        if (k->rev_driving) {
            l.data_driven = true;
            l.data = k->rev_byte;
        }
        break;
    case SIM_KEY_TERMINATING:
        l = k->term_lines;
        l.data_driven = false;
        if (k->term_phase == 1)
            l.nAck = false;
        else if (k->term_phase >= 2)
            l.nAck = true;
        break;
    default:
        break;
    }
    if (k->nack_hidden)
        l.nAck = true;
    return l;
}

/* host_view - the lines the host sees at the key's connector now. */
static sim_periph_lines host_view(sim_key *k)
{
    sim_periph_lines l;

    if (!k->plugged)
        return sim_lines_pulled_up();
    if (owns_status(k))
        l = own_lines(k);
    else if (k->behind)
        l = k->behind->ops->lines(k->behind);
    else
        l = sim_lines_pulled_up();
    if (k->stuck_busy)
        l.busy = true;
    return l;
}

static bool periph_equal(const sim_periph_lines *a, const sim_periph_lines *b)
{
    return a->busy == b->busy && a->nAck == b->nAck && a->perror == b->perror &&
           a->select == b->select && a->nFault == b->nFault &&
           a->data_driven == b->data_driven && (!a->data_driven || a->data == b->data);
}

static bool host_equal(const sim_host_lines *a, const sim_host_lines *b)
{
    return a->data == b->data && a->data_driven == b->data_driven && a->nStrobe == b->nStrobe &&
           a->nAutoFd == b->nAutoFd && a->nInit == b->nInit && a->nSelectIn == b->nSelectIn;
}

/*
 * sync_behind - give the peripheral behind the lines it should see: the host's outside
 * a session, idle lines while the key owns the bus (from the Event 1 decision to the
 * end of TERMINATING). Unplugged, the whole chain is off the cable and sees no change.
 */
static void sync_behind(sim_key *k)
{
    sim_host_lines want;

    if (!k->behind || !k->plugged)
        return;
    want = (k->powered && in_session(k)) ? sim_lines_host_idle() : k->host;
    if (k->behind_sent_valid && host_equal(&want, &k->behind_sent))
        return;
    k->behind_sent = want;
    k->behind_sent_valid = true;
    k->behind->ops->host_changed(k->behind, &want);
}

/* key_enter - start of an entry point: remember what the host saw. */
void key_enter(sim_key *k)
{
    if (k->depth++ == 0)
        k->snap = host_view(k);
}

/* key_leave - end of an entry point: update the peripheral behind, notify upstream. */
void key_leave(sim_key *k)
{
    if (k->depth == 1) {
        sim_periph_lines now;

        sync_behind(k);
        now = host_view(k);
        k->depth = 0;
        if (!periph_equal(&now, &k->snap))
            sim_peripheral_notify(&k->base);
        return;
    }
    k->depth--;
}

/* key_save_nv - persist the non-volatile state after a change completed. */
void key_save_nv(sim_key *k)
{
    char err[512];

    if (!k->image_path)
        return;
    if (key_image_save(k->image_path, &k->nv, err, sizeof err) != 0) {
        snprintf(k->image_err, sizeof k->image_err, "%s", err);
        fprintf(stderr, "sim key: %s\n", err);
        return;
    }
    k->image_err[0] = '\0';
    k->st.image_writes++;
}

/* answer_in - schedule the next handshake answer after the key's answer time. */
static void answer_in(sim_key *k, key_answer a)
{
    k->answer = a;
    sim_event_schedule(k->base.clock, &k->ev_answer,
                       sim_now(k->base.clock) + key_scaled(k, k->answer_ns));
}

/* nack_pulse_start/end - bracket every nAck pulse; the missing-nAck fault hides one. */
static void nack_pulse_start(sim_key *k)
{
    if (k->nack_missing) {
        k->nack_hidden = true;
        if (k->nack_missing != UINT32_MAX)
            k->nack_missing--;
    }
}

static void nack_pulse_end(sim_key *k)
{
    k->nack_hidden = false;
}

static void idle_restart(sim_key *k)
{
    sim_event_schedule(k->base.clock, &k->ev_idle, sim_now(k->base.clock) + KEY_IDLE);
}

/* overrun - a lost or discarded forward byte (sections 5, 6). */
static void overrun(sim_key *k)
{
    k->overrun_flag = true;
    key_sat_inc(&k->st.overruns);
}

/* latch - D0-D7 at an edge now, under the setup rule (section 5, item 1). */
static uint8_t latch(const sim_key *k)
{
    sim_time_t now = sim_now(k->base.clock);
    return (now - k->data_changed_at >= KEY_TSU) ? k->data_cur : k->data_prev;
}

/* reset_frame - the parser hunts for 0x5A again; nothing is half-received. */
static void reset_frame(sim_key *k)
{
    k->fr_active = k->fr_done = k->fr_bad = false;
    k->fr_len = 0;
    sim_event_cancel(k->base.clock, &k->ev_gap);
}

/* clear_session - forget every session phase (caller sets the new state). */
static void clear_session(sim_key *k)
{
    sim_clock *c = k->base.clock;

    sim_event_cancel(c, &k->ev_answer);
    sim_event_cancel(c, &k->ev_fwd);
    sim_event_cancel(c, &k->ev_idle);
    k->answer = ANS_NONE;
    k->fwd_phase = FWD_IDLE;
    reset_frame(k);
    k->mode = 0;
    k->neg_ev2 = k->neg_strobed = false;
    k->link_phase = 0;
    k->link_ok = false;
    k->rev_data = k->rev_driving = k->hostclk_expected = k->hostclk_low = false;
    k->out_len = k->out_pos = 0;
    k->out_nib = 0;
    k->term_phase = 0;
    k->nack_hidden = false;
    k->awaiting = 0;
}

/* submit_frame - hand the complete (or BAD_FRAME) frame to execution. */
static void submit_frame(sim_key *k)
{
    key_request req;

    memset(&req, 0, sizeof req);
    req.bad_frame = k->fr_bad;
    req.seq = k->fr_len >= 2 ? k->fr[1] : 0;
    req.len = k->fr_len;
    memcpy(req.bytes, k->fr, k->fr_len);
    reset_frame(k);
    key_exec_submit(k, &req);
}

/* enter_exec - SESSION-EXEC: Busy high, Select low, idle timer stopped (section 8). */
static void enter_exec(sim_key *k)
{
    k->state = SIM_KEY_SESSION_EXEC;
    sim_event_cancel(k->base.clock, &k->ev_idle);
    submit_frame(k);
}

/* parse_byte - feed one accepted forward byte to the frame parser (section 6). */
static void parse_byte(sim_key *k, uint8_t b, sim_time_t fall)
{
    size_t need;

    if (!k->fr_active) {
        if (b != KEY_START_REQ) {
            key_sat_inc(&k->st.framing_errors);
            return;
        }
        k->fr_active = true;
        k->fr_len = 0;
    }
    k->fr[k->fr_len++] = b;
    k->fr_last_fall = fall;
    if (k->fr_len >= KEY_HDR_LEN) {
        uint16_t len = key_get16(k->fr + 3);
        if (len > SIM_KEY_MAX_PAYLOAD) {
            k->fr_bad = true;
            key_sat_inc(&k->st.framing_errors);
        }
        need = KEY_HDR_LEN + len + 2u;
        if (k->fr_bad || k->fr_len == need) {
            k->fr_done = true;
            sim_event_cancel(k->base.clock, &k->ev_gap);
            return;
        }
    }
    /* "More than 10 ms" between falling edges: exactly 10 ms is still in time. */
    sim_event_schedule(k->base.clock, &k->ev_gap, fall + KEY_GAP + 1);
}

/* rearm_gap - a byte that never reached the parser: the gap keeps running from the
   previous byte's falling edge. */
static void rearm_gap(sim_key *k)
{
    if (k->fr_active && !k->fr_done)
        sim_event_schedule(k->base.clock, &k->ev_gap, k->fr_last_fall + KEY_GAP + 1);
}

/* accept_byte - the strobe of the current forward byte was long enough: parse it. */
static void accept_byte(sim_key *k)
{
    k->fwd_parsed = true;
    if (k->fwd_drop)
        rearm_gap(k);
    else
        parse_byte(k, k->fwd_byte, k->fwd_fall);
}

/* strobe_fell_forward - Event: falling edge of nStrobe in SESSION-FORWARD. */
static void strobe_fell_forward(sim_key *k)
{
    sim_time_t now = sim_now(k->base.clock);

    if (k->fwd_phase != FWD_IDLE || k->fr_done) {
        overrun(k);              /* falling edge while Busy high: a lost byte */
        return;
    }
    k->fwd_byte = latch(k);
    k->fwd_fall = now;
    k->fwd_phase = FWD_PROC;
    k->fwd_parsed = false;
    k->fwd_drop = false;
    if (k->drop_forward) {
        k->fwd_drop = true;
        if (k->drop_forward != UINT32_MAX)
            k->drop_forward--;
    }
    /* The byte arrived in time; its parse (or discard) re-arms the gap timer. */
    sim_event_cancel(k->base.clock, &k->ev_gap);
    sim_event_schedule(k->base.clock, &k->ev_fwd, now + key_scaled(k, KEY_TPROC));
    k->st.forward_bytes++;
    key_fault_count(k, SIM_KEY_TRIGGER_AFTER_FORWARD);
}

/* strobe_rose_forward - rising edge: the tSTB check (section 5, item 2). */
static void strobe_rose_forward(sim_key *k)
{
    if (k->fwd_phase == FWD_IDLE || k->fwd_parsed)
        return;
    if (sim_now(k->base.clock) - k->fwd_fall < KEY_TSTB) {
        sim_event_cancel(k->base.clock, &k->ev_fwd);
        k->fwd_phase = FWD_IDLE;
        overrun(k);
        rearm_gap(k);
        return;
    }
    accept_byte(k);
}

/* on_fwd - end of tPROC (nAck low) and of tACK (nAck high, Busy low or SESSION-EXEC). */
static void on_fwd(sim_event *ev, void *ctx)
{
    sim_key *k = ctx;
    (void)ev;

    key_enter(k);
    if (k->fwd_phase == FWD_PROC) {
        if (!k->fwd_parsed)
            accept_byte(k);      /* strobe still low after tPROC: long enough */
        k->fwd_phase = FWD_ACK;
        nack_pulse_start(k);
        sim_event_schedule(k->base.clock, &k->ev_fwd,
                           sim_now(k->base.clock) + key_scaled(k, KEY_TACK));
    } else if (k->fwd_phase == FWD_ACK) {
        k->fwd_phase = FWD_IDLE;
        nack_pulse_end(k);
        if (k->state == SIM_KEY_SESSION_FORWARD && k->fr_done)
            enter_exec(k);
    }
    key_leave(k);
}

/* on_gap - more than 10 ms since the previous byte of the frame: BAD_FRAME. */
static void on_gap(sim_event *ev, void *ctx)
{
    sim_key *k = ctx;
    (void)ev;

    key_enter(k);
    if (k->state == SIM_KEY_SESSION_FORWARD && k->fr_active && !k->fr_done) {
        k->fr_bad = true;
        key_sat_inc(&k->st.framing_errors);
        enter_exec(k);
    }
    key_leave(k);
}

/* session_forward - back to SESSION-FORWARD idle (after the link or a response). */
static void session_forward(sim_key *k)
{
    k->state = SIM_KEY_SESSION_FORWARD;
    k->rev_data = k->rev_driving = k->hostclk_expected = k->hostclk_low = false;
    k->out_len = k->out_pos = 0;
    k->out_nib = 0;
    k->fwd_phase = FWD_IDLE;
    reset_frame(k);
}

/*
 * key_response_ready - a command finished (section 6). If the session waits for this
 * very request in SESSION-EXEC, the response is prepared: overrun bit sampled and
 * cleared, CRC computed, nFault low. Otherwise it only went into the cache.
 */
void key_response_ready(sim_key *k, uint64_t id, uint8_t seq, uint8_t status,
                        const uint8_t *payload, uint16_t len)
{
    uint16_t crc;

    if (k->state != SIM_KEY_SESSION_EXEC || k->awaiting != id)
        return;
    k->awaiting = 0;
    k->out[0] = KEY_START_RESP;
    k->out[1] = seq;
    k->out[2] = (uint8_t)(status | (k->overrun_flag ? KEY_STATUS_OVERRUN : 0));
    k->overrun_flag = false;
    key_put16(k->out + 3, len);
    memcpy(k->out + KEY_HDR_LEN, payload, len);
    crc = sim_crc16(k->out + 1, KEY_HDR_LEN - 1u + len);
    if (k->corrupt_crc) {
        crc ^= 0xFFFF;
        if (k->corrupt_crc != UINT32_MAX)
            k->corrupt_crc--;
    }
    key_put16(k->out + KEY_HDR_LEN + len, crc);
    k->out_len = KEY_HDR_LEN + len + 2u;
    k->out_pos = 0;
    k->out_nib = 0;
    k->rev_data = k->rev_driving = k->hostclk_expected = k->hostclk_low = false;
    k->state = SIM_KEY_SESSION_REVERSE;
    idle_restart(k);
    key_fault_count(k, SIM_KEY_TRIGGER_AFTER_RESPONSES);
}

/* finish_reverse_byte - one response byte fully handed over. */
static void finish_reverse_byte(sim_key *k)
{
    k->out_pos++;
    k->st.reverse_bytes++;
}

/* on_answer - the key's answer to a host handshake edge, tRSP-bounded. */
static void on_answer(sim_event *ev, void *ctx)
{
    sim_key *k = ctx;
    key_answer a = k->answer;
    (void)ev;

    key_enter(k);
    k->answer = ANS_NONE;
    switch (a) {
    case ANS_EV2:
        k->neg_ev2 = true;
        nack_pulse_start(k);
        break;
    case ANS_EV6:
        nack_pulse_end(k);
        k->state = SIM_KEY_LINK;
        k->link_phase = 0;
        break;
    case ANS_EV53:
        k->link_phase = 2;
        nack_pulse_start(k);
        if (k->host.nStrobe)
            answer_in(k, ANS_EV55);      /* Event 54 came early */
        break;
    case ANS_EV55:
        nack_pulse_end(k);
        if (k->link_ok) {
            k->st.sessions++;
            session_forward(k);
        } else {
            k->state = SIM_KEY_REFUSED;
        }
        break;
    case ANS_EV9:
        k->rev_data = true;
        nack_pulse_start(k);
        if (k->mode == KEY_LINK_BYTE) {
            k->rev_byte = k->out[k->out_pos];
            k->rev_driving = true;
        }
        if (k->host.nAutoFd)
            answer_in(k, ANS_EV11);      /* Event 10 came early */
        break;
    case ANS_EV11:
        k->rev_data = false;
        nack_pulse_end(k);
        if (k->mode == KEY_LINK_NIBBLE) {
            if (k->out_nib == 0) {
                k->out_nib = 1;
            } else {
                k->out_nib = 0;
                finish_reverse_byte(k);
                if (k->out_pos == k->out_len)
                    session_forward(k);
            }
        } else {
            finish_reverse_byte(k);
            k->hostclk_expected = true;
        }
        break;
    case ANS_REV_END:
        session_forward(k);
        break;
    case ANS_EV24:
        k->term_phase = 1;
        nack_pulse_start(k);
        if (!k->host.nAutoFd)
            answer_in(k, ANS_EV27);      /* Event 25 came early */
        break;
    case ANS_EV27:
        k->term_phase = 2;
        nack_pulse_end(k);
        break;
    case ANS_EV28:
        clear_session(k);
        k->state = SIM_KEY_PASS_THROUGH;
        break;
    case ANS_NONE:
        break;
    }
    key_leave(k);
}

/*
 * flush_frame - a session is ending: a byte still inside its tPROC is taken if its
 * strobe was long enough, and a frame that is already complete is executed (its
 * response goes to the cache, section 4).
 */
static void flush_frame(sim_key *k)
{
    if (k->fwd_phase == FWD_PROC && !k->fwd_parsed &&
        sim_now(k->base.clock) - k->fwd_fall >= KEY_TSTB)
        accept_byte(k);
    if (k->state == SIM_KEY_SESSION_FORWARD && k->fr_done)
        submit_frame(k);
}

/* end_session - idle timeout: back to PASS-THROUGH, the printer gets the bus again. */
static void end_session(sim_key *k)
{
    flush_frame(k);
    clear_session(k);
    k->state = SIM_KEY_PASS_THROUGH;
}

/* terminate - Event 22: release D0-D7 now, nAck low within tRSP (section 4). */
static void terminate(sim_key *k)
{
    sim_periph_lines before = own_lines(k);

    flush_frame(k);
    sim_event_cancel(k->base.clock, &k->ev_answer);
    sim_event_cancel(k->base.clock, &k->ev_fwd);
    reset_frame(k);
    k->answer = ANS_NONE;
    k->fwd_phase = FWD_IDLE;
    k->nack_hidden = false;
    k->rev_data = k->rev_driving = k->hostclk_expected = k->hostclk_low = false;
    k->awaiting = 0;
    before.data_driven = false;
    k->term_lines = before;
    k->term_phase = 0;
    k->state = SIM_KEY_TERMINATING;
    idle_restart(k);
    answer_in(k, ANS_EV24);
}

/* on_idle - 1 s without a host line change ends the session (not in SESSION-EXEC). */
static void on_idle(sim_event *ev, void *ctx)
{
    sim_key *k = ctx;
    (void)ev;

    key_enter(k);
    if (in_session(k) && k->state != SIM_KEY_SESSION_EXEC)
        end_session(k);
    key_leave(k);
}

/* schedule_ready - NOT-READY ends at ready_at unless nInit or a brown-out holds it. */
static void schedule_ready(sim_key *k)
{
    if (k->state != SIM_KEY_NOT_READY || k->hold_init || k->browned)
        return;
    sim_event_schedule(k->base.clock, &k->ev_ready, k->ready_at);
}

static void extend_not_ready(sim_key *k, sim_time_t until)
{
    if (until > k->ready_at)
        k->ready_at = until;
    schedule_ready(k);
}

static void on_ready(sim_event *ev, void *ctx)
{
    sim_key *k = ctx;
    (void)ev;

    key_enter(k);
    if (k->state == SIM_KEY_NOT_READY && !k->hold_init && !k->browned)
        k->state = SIM_KEY_PASS_THROUGH;
    key_leave(k);
}

/* drop_volatile - what a reset, a brown-out and a power loss all lose (section 8). */
static void drop_volatile(sim_key *k)
{
    clear_session(k);
    key_exec_abort(k);
    k->cache_valid = false;
    k->overrun_flag = false;
}

/* reset_effect - the key resets now: NOT-READY, volatile state gone, NV kept. */
static void reset_effect(sim_key *k)
{
    drop_volatile(k);
    k->state = SIM_KEY_NOT_READY;
    key_sat_inc(&k->st.resets);
}

/* on_reset - nInit has been low for 50 us. */
static void on_reset(sim_event *ev, void *ctx)
{
    sim_key *k = ctx;
    (void)ev;

    key_enter(k);
    reset_effect(k);
    k->hold_init = !k->host.nInit;
    extend_not_ready(k, sim_now(k->base.clock) + KEY_RESET_READY);
    key_leave(k);
}

/* on_brown - D0-D7 driven all low for more than 100 ms: the key loses its supply. */
static void on_brown(sim_event *ev, void *ctx)
{
    sim_key *k = ctx;
    (void)ev;

    key_enter(k);
    reset_effect(k);
    k->browned = true;
    key_leave(k);
}

/* on_power - the power-loss fault's off time is over. */
static void on_power(sim_event *ev, void *ctx)
{
    sim_key *k = ctx;
    (void)ev;

    key_enter(k);
    if (k->plugged && !k->powered)
        key_power_up(k);
    key_leave(k);
}

/* brownout_watch - track "all eight host-driven data lines low" (section 8). */
static void brownout_watch(sim_key *k)
{
    sim_time_t now = sim_now(k->base.clock);
    bool low = k->host.data_driven && k->host.data == 0;

    if (low && !k->data_all_low) {
        k->data_all_low = true;
        sim_event_schedule(k->base.clock, &k->ev_brown, now + KEY_BROWNOUT + 1);
    } else if (!low && k->data_all_low) {
        k->data_all_low = false;
        sim_event_cancel(k->base.clock, &k->ev_brown);
        if (k->browned) {
            k->browned = false;
            extend_not_ready(k, now + KEY_POWER_READY);
        }
    }
}

/* key_power_off - power lost (fault, unplug): like a reset, and the key is dead. */
void key_power_off(sim_key *k)
{
    sim_clock *c = k->base.clock;

    if (!k->powered)
        return;
    drop_volatile(k);
    sim_event_cancel(c, &k->ev_reset);
    sim_event_cancel(c, &k->ev_brown);
    sim_event_cancel(c, &k->ev_ready);
    sim_event_cancel(c, &k->ev_power);
    k->powered = false;
    k->browned = k->hold_init = k->data_all_low = false;
    k->state = SIM_KEY_OFF;
}

/* key_power_up - power (back): NOT-READY for 100 ms, GET_STATS counters from zero. */
void key_power_up(sim_key *k)
{
    sim_time_t now = sim_now(k->base.clock);

    if (k->powered)
        return;
    k->powered = true;
    k->state = SIM_KEY_NOT_READY;
    k->st.framing_errors = k->st.overruns = k->st.crc_errors = k->st.resets = 0;
    k->ready_at = now + KEY_POWER_READY;
    k->data_all_low = false;
    brownout_watch(k);
    /* nInit already held low counts from power-up, as the data lines do. */
    if (!k->host.nInit)
        sim_event_schedule(k->base.clock, &k->ev_reset, now + KEY_RESET_PULSE);
    schedule_ready(k);
}

/* negotiation_start - Event 1 with 0x80: the key takes the bus (section 3). */
static void negotiation_start(sim_key *k)
{
    clear_session(k);
    k->state = SIM_KEY_NEGOTIATING;
    idle_restart(k);
    answer_in(k, ANS_EV2);
}

/* reverse_lines - host edges in SESSION-REVERSE (section 5, nibble and byte). */
static void reverse_lines(sim_key *k, const sim_host_lines *o, const sim_host_lines *l)
{
    if (o->nStrobe && !l->nStrobe) {
        if (k->mode == KEY_LINK_BYTE && k->hostclk_expected) {
            k->hostclk_expected = false;         /* Event 16: release D0-D7 */
            k->hostclk_low = true;
            k->rev_driving = false;
        } else {
            overrun(k);
        }
    } else if (!o->nStrobe && l->nStrobe && k->hostclk_low) {
        k->hostclk_low = false;                  /* Event 17 */
        if (k->out_pos == k->out_len)
            answer_in(k, ANS_REV_END);
    }
    if (k->state != SIM_KEY_SESSION_REVERSE || k->answer != ANS_NONE)
        return;
    if (o->nAutoFd && !l->nAutoFd && !k->rev_data && !k->hostclk_expected && !k->hostclk_low &&
        k->out_pos < k->out_len)
        answer_in(k, ANS_EV9);                   /* Event 7 */
    else if (!o->nAutoFd && l->nAutoFd && k->rev_data)
        answer_in(k, ANS_EV11);                  /* Event 10 */
}

/* session_lines - host edges in the session states (Event 22 handled by the caller). */
static void session_lines(sim_key *k, const sim_host_lines *o, const sim_host_lines *l)
{
    bool fell_strobe = o->nStrobe && !l->nStrobe;
    bool rose_strobe = !o->nStrobe && l->nStrobe;

    switch (k->state) {
    case SIM_KEY_NEGOTIATING:
        if (!k->neg_ev2)
            break;
        if (fell_strobe)
            k->neg_strobed = true;               /* Event 3 */
        if (k->neg_strobed && l->nStrobe && l->nAutoFd && k->answer == ANS_NONE) {
            k->neg_strobed = false;              /* Event 4 */
            answer_in(k, ANS_EV6);
        }
        break;
    case SIM_KEY_LINK:
        if (fell_strobe && k->link_phase == 0) {
            uint8_t link = latch(k);             /* Event 52 */
            k->link_ok = link == KEY_LINK_NIBBLE || link == KEY_LINK_BYTE;
            if (k->link_ok)
                k->mode = link;
            k->link_phase = 1;
            answer_in(k, ANS_EV53);
        } else if (rose_strobe && k->link_phase == 2 && k->answer == ANS_NONE) {
            answer_in(k, ANS_EV55);              /* Event 54 */
        }
        break;
    case SIM_KEY_SESSION_FORWARD:
        if (fell_strobe)
            strobe_fell_forward(k);
        else if (rose_strobe)
            strobe_rose_forward(k);
        break;
    case SIM_KEY_SESSION_EXEC:
        if (fell_strobe)
            overrun(k);
        break;
    case SIM_KEY_SESSION_REVERSE:
        reverse_lines(k, o, l);
        break;
    case SIM_KEY_TERMINATING:
        if (k->answer != ANS_NONE)
            break;
        if (o->nAutoFd && !l->nAutoFd && k->term_phase == 1)
            answer_in(k, ANS_EV27);              /* Event 25 */
        else if (!o->nAutoFd && l->nAutoFd && k->term_phase == 2) {
            k->term_phase = 3;                   /* Event 28 */
            answer_in(k, ANS_EV28);
        }
        break;
    default:
        break;
    }
}

/* key_host_changed - one host write changed lines at now() (ops->host_changed). */
static void key_host_changed(sim_peripheral *p, const sim_host_lines *lines)
{
    sim_key *k = (sim_key *)p;
    sim_host_lines o = k->host;
    const sim_host_lines *l = lines;
    uint8_t data = l->data_driven ? l->data : 0xFF;

    key_enter(k);
    k->host = *l;
    if (data != k->data_cur) {
        k->data_prev = k->data_cur;
        k->data_cur = data;
        k->data_changed_at = sim_now(p->clock);
    }
    if (!k->plugged || !k->powered)
        goto out;

    brownout_watch(k);
    if (o.nInit && !l->nInit)
        sim_event_schedule(p->clock, &k->ev_reset, sim_now(p->clock) + KEY_RESET_PULSE);
    else if (!o.nInit && l->nInit) {
        sim_event_cancel(p->clock, &k->ev_reset);
        if (k->hold_init) {
            k->hold_init = false;
            extend_not_ready(k, sim_now(p->clock) + KEY_RESET_READY);
        }
    }

    if (k->state == SIM_KEY_PASS_THROUGH) {
        bool ev1_now = l->nSelectIn && !l->nAutoFd;
        bool ev1_before = o.nSelectIn && !o.nAutoFd;
        if (ev1_now && !ev1_before && latch(k) == KEY_REQ_EXT_LINK)
            negotiation_start(k);
        goto out;
    }
    if (!in_session(k))
        goto out;
    if (k->state != SIM_KEY_SESSION_EXEC)
        idle_restart(k);
    if (k->state != SIM_KEY_TERMINATING && !l->nSelectIn && l->nAutoFd) {
        terminate(k);                            /* Event 22 */
        goto out;
    }
    session_lines(k, &o, l);
out:
    key_leave(k);
}

static sim_periph_lines key_lines(sim_peripheral *p)
{
    return host_view((sim_key *)p);
}

/* behind_notify - the peripheral behind changed its lines (visible outside a session). */
static void behind_notify(void *upstream)
{
    sim_key *k = upstream;

    key_enter(k);
    key_leave(k);
}

static void key_destroy(sim_peripheral *p)
{
    sim_key *k = (sim_key *)p;
    sim_clock *c = p->clock;
    sim_event *evs[] = { &k->ev_ready, &k->ev_reset, &k->ev_brown, &k->ev_power, &k->ev_idle,
                         &k->ev_answer, &k->ev_fwd, &k->ev_gap, &k->ev_exec };

    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        sim_event_cancel(c, evs[i]);
    key_exec_abort(k);
    key_faults_cancel(k);
    if (k->behind && k->behind->ops->destroy)
        k->behind->ops->destroy(k->behind);
    free(k->image_path);
    free(k);
}

static const sim_peripheral_ops key_ops = {
    .host_changed = key_host_changed,
    .lines = key_lines,
    .destroy = key_destroy,
};

/* load_nv - the image, a fresh key, or a clear error (never a silent blank key). */
static int load_nv(sim_key *k, const sim_key_config *cfg, char *err, size_t errlen)
{
    int rc;

    if (!cfg->image_path) {
        key_nv_init(&k->nv, cfg->serial, cfg->secret);
        return 0;
    }
    rc = key_image_load(cfg->image_path, &k->nv, err, errlen);
    if (rc != KEY_IMAGE_MISSING)
        return rc;
    if (!cfg->create_if_missing) {
        snprintf(err, errlen, "%s: key image does not exist", cfg->image_path);
        return -1;
    }
    key_nv_init(&k->nv, cfg->serial, cfg->secret);
    return key_image_save(cfg->image_path, &k->nv, err, errlen);
}

sim_peripheral *sim_key_create(sim_clock *clk, const sim_key_config *cfg,
                               sim_peripheral *behind, char *err, size_t errlen)
{
    sim_key *k;

    /* libcrypto initialises itself on first use and keeps per-thread state for the
       thread that did it. The key's first HMAC may run on any thread of the host
       (a worker that ends without freeing that state): initialised here, it belongs
       to the thread that creates the machine, and libcrypto's exit handler frees it. */
    if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL)) {
        snprintf(err, errlen, "libcrypto failed to initialise");
        return NULL;
    }
    k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (load_nv(k, cfg, err, errlen) != 0) {
        free(k);
        return NULL;
    }
    if (cfg->image_path && !(k->image_path = strdup(cfg->image_path))) {
        snprintf(err, errlen, "out of memory");
        free(k);
        return NULL;
    }
    k->base.ops = &key_ops;
    k->base.clock = clk;
    k->answer_ns = cfg->answer_ns ? cfg->answer_ns : SIM_KEY_DEFAULT_ANSWER_NS;
    k->slow = cfg->slow_factor;
    k->host = sim_lines_host_idle();
    k->data_cur = k->data_prev = k->host.data;
    sim_event_init(&k->ev_ready, on_ready, k);
    sim_event_init(&k->ev_reset, on_reset, k);
    sim_event_init(&k->ev_brown, on_brown, k);
    sim_event_init(&k->ev_power, on_power, k);
    sim_event_init(&k->ev_idle, on_idle, k);
    sim_event_init(&k->ev_answer, on_answer, k);
    sim_event_init(&k->ev_fwd, on_fwd, k);
    sim_event_init(&k->ev_gap, on_gap, k);
    key_exec_init(k);
    key_faults_init(k);
    k->behind = behind;
    if (behind) {
        behind->notify = behind_notify;
        behind->upstream = k;
    }
    k->plugged = true;
    k->state = SIM_KEY_OFF;
    key_power_up(k);
    sync_behind(k);
    return &k->base;
}

int sim_key_image_create(const char *path, const uint8_t serial[SIM_KEY_SERIAL_LEN],
                         const uint8_t secret[SIM_KEY_SECRET_LEN], char *err, size_t errlen)
{
    key_nv *nv = malloc(sizeof *nv);
    int rc;

    if (!nv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    key_nv_init(nv, serial, secret);
    rc = key_image_save(path, nv, err, errlen);
    free(nv);
    return rc;
}

sim_key *sim_key_from_peripheral(sim_peripheral *p)
{
    return (p && p->ops == &key_ops) ? (sim_key *)p : NULL;
}

sim_peripheral *sim_key_peripheral(sim_key *k)
{
    return &k->base;
}

/* ---- Inspection ---------------------------------------------------------------- */

sim_key_state sim_key_get_state(const sim_key *k)
{
    return k->state;
}

const char *sim_key_state_name(sim_key_state s)
{
    static const char *const names[] = {
        "OFF", "NOT-READY", "PASS-THROUGH", "NEGOTIATING", "LINK", "REFUSED",
        "SESSION-FORWARD", "SESSION-EXEC", "SESSION-REVERSE", "TERMINATING",
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

uint8_t sim_key_session_mode(const sim_key *k)
{
    return k->mode;
}

void sim_key_get_stats(const sim_key *k, sim_key_stats *out)
{
    *out = k->st;
}

uint32_t sim_key_counter(const sim_key *k, unsigned index)
{
    return index < SIM_KEY_COUNTERS ? k->nv.counters[index] : 0;
}

void sim_key_read_eeprom(const sim_key *k, uint16_t addr, void *buf, size_t len)
{
    if (addr >= SIM_KEY_MEM_SIZE)
        return;
    if (len > (size_t)(SIM_KEY_MEM_SIZE - addr))
        len = SIM_KEY_MEM_SIZE - addr;
    memcpy(buf, k->nv.eeprom + addr, len);
}

bool sim_key_locked(const sim_key *k)
{
    return k->nv.locked;
}

void sim_key_serial(const sim_key *k, uint8_t out[SIM_KEY_SERIAL_LEN])
{
    memcpy(out, k->nv.serial, SIM_KEY_SERIAL_LEN);
}

void sim_key_secret(const sim_key *k, uint8_t out[SIM_KEY_SECRET_LEN])
{
    memcpy(out, k->nv.secret, SIM_KEY_SECRET_LEN);
}

const char *sim_key_image_error(const sim_key *k)
{
    return k->image_err;
}

bool sim_key_plugged(const sim_key *k)
{
    return k->plugged;
}
