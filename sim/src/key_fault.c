/*
 * key_fault.c — fault injection into a DL-1 key (DL1.md section 9, the key's part).
 *
 * A fault is armed with a trigger: now, at a machine time, after a count of forward
 * bytes or responses, or a time offset into the n-th EEPROM page write. Count triggers
 * are advanced by the key model (key_fault_count) at the matching moments; time
 * triggers are clock events, so a fault lands at an exact bus time.
 */
#include <string.h>
#include "key_internal.h"

bool key_page_worn(const sim_key *k, unsigned page)
{
    return page < KEY_PAGES && (k->worn[page / 8] & (1u << (page % 8))) != 0;
}

/* key_fault_apply - the fault happens now. */
void key_fault_apply(sim_key *k, const sim_key_fault *f)
{
    sim_clock *c = k->base.clock;

    key_enter(k);
    switch (f->kind) {
    case SIM_KEY_FAULT_UNPLUG:
        key_power_off(k);
        k->plugged = false;
        break;
    case SIM_KEY_FAULT_PLUG:
        if (!k->plugged) {
            k->plugged = true;
            k->behind_sent_valid = false;    /* the chain sees the host lines afresh */
            key_power_up(k);
        }
        break;
    case SIM_KEY_FAULT_POWER_LOSS:
        key_power_off(k);
        if (f->duration)
            sim_event_schedule(c, &k->ev_power, sim_now(c) + f->duration);
        break;
    case SIM_KEY_FAULT_POWER_ON:
        if (k->plugged)
            key_power_up(k);
        break;
    case SIM_KEY_FAULT_STUCK_BUSY:
        k->stuck_busy = f->arg != 0;
        break;
    case SIM_KEY_FAULT_MISSING_NACK:
        k->nack_missing = f->arg;
        break;
    case SIM_KEY_FAULT_SLOW:
        k->slow = f->arg;
        break;
    case SIM_KEY_FAULT_DROP_FORWARD:
        k->drop_forward = f->arg;
        break;
    case SIM_KEY_FAULT_CORRUPT_CRC:
        k->corrupt_crc = f->arg;
        break;
    case SIM_KEY_FAULT_WORN_PAGE:
        if (f->arg < KEY_PAGES)
            k->worn[f->arg / 8] |= (uint8_t)(1u << (f->arg % 8));
        break;
    case SIM_KEY_FAULT_HEAL_PAGE:
        if (f->arg < KEY_PAGES)
            k->worn[f->arg / 8] &= (uint8_t)~(1u << (f->arg % 8));
        break;
    }
    key_leave(k);
}

/* on_fault_time - a time-triggered fault is due. */
static void on_fault_time(sim_event *ev, void *ctx)
{
    key_fault_slot *s = ctx;
    (void)ev;

    s->armed = false;
    key_fault_apply(s->key, &s->fault);
}

void key_faults_init(sim_key *k)
{
    for (unsigned i = 0; i < SIM_KEY_MAX_FAULTS; i++) {
        k->faults[i].key = k;
        sim_event_init(&k->faults[i].ev, on_fault_time, &k->faults[i]);
    }
}

void key_faults_cancel(sim_key *k)
{
    for (unsigned i = 0; i < SIM_KEY_MAX_FAULTS; i++) {
        sim_event_cancel(k->base.clock, &k->faults[i].ev);
        k->faults[i].armed = false;
    }
}

/*
 * key_fault_count - one more occurrence of a counted moment (a forward byte latched,
 * a response prepared, an EEPROM page write started). Faults whose count is reached
 * fire now, or for page writes after their time offset.
 */
void key_fault_count(sim_key *k, sim_key_trigger_kind kind)
{
    for (unsigned i = 0; i < SIM_KEY_MAX_FAULTS; i++) {
        key_fault_slot *s = &k->faults[i];

        if (!s->armed || s->trig.kind != kind || sim_event_pending(&s->ev))
            continue;
        if (s->remaining > 1) {
            s->remaining--;
            continue;
        }
        if (kind == SIM_KEY_TRIGGER_IN_PAGE_WRITE) {
            sim_event_schedule(k->base.clock, &s->ev, sim_now(k->base.clock) + s->trig.time);
        } else {
            s->armed = false;
            key_fault_apply(k, &s->fault);
        }
    }
}

int sim_key_inject(sim_key *k, const sim_key_trigger *when, const sim_key_fault *what)
{
    key_fault_slot *s = NULL;

    if (when->kind == SIM_KEY_TRIGGER_NOW) {
        key_fault_apply(k, what);
        return 0;
    }
    for (unsigned i = 0; i < SIM_KEY_MAX_FAULTS && !s; i++)
        if (!k->faults[i].armed)
            s = &k->faults[i];
    if (!s)
        return -1;
    s->armed = true;
    s->trig = *when;
    s->fault = *what;
    s->remaining = when->count ? when->count : 1;
    if (when->kind == SIM_KEY_TRIGGER_AT)
        sim_event_schedule(k->base.clock, &s->ev, when->time);
    return 0;
}

void sim_key_unplug(sim_key *k)
{
    sim_key_fault f = { SIM_KEY_FAULT_UNPLUG, 0, 0 };
    key_fault_apply(k, &f);
}

void sim_key_plug(sim_key *k)
{
    sim_key_fault f = { SIM_KEY_FAULT_PLUG, 0, 0 };
    key_fault_apply(k, &f);
}

void sim_key_power_loss(sim_key *k, sim_time_t off_for)
{
    sim_key_fault f = { SIM_KEY_FAULT_POWER_LOSS, 0, off_for };
    key_fault_apply(k, &f);
}

void sim_key_set_slow(sim_key *k, unsigned factor)
{
    sim_key_fault f = { SIM_KEY_FAULT_SLOW, factor, 0 };
    key_fault_apply(k, &f);
}
