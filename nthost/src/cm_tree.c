/*
 * cm_tree.c — the registry's in-memory key tree.
 *
 * Keys hold their subkeys sorted by upcased name (NT enumerates subkeys in that
 * order) and their values in creation order. A key is reference counted: the tree
 * link is one reference, each open key object another, so a key deleted while open
 * stays allocated (marked deleted, detached, values freed) until its last handle
 * closes — the state in which NT answers STATUS_KEY_DELETED.
 */
#include "cm_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t cm_mutex = PTHREAD_MUTEX_INITIALIZER;
static cm_key *cm_root_key;
static cm_key *cm_machine_key;
static int64_t (*cm_time_source)(void);

/* Seconds between 1601-01-01 and 1970-01-01, for NT system time. */
#define CM_EPOCH_DIFF_SECONDS 11644473600LL

/*
 * cm_now — current NT system time for LastWriteTime: the machine clock once boot
 * has installed it, the host clock before that (the .reg load at early boot).
 */
static int64_t cm_now(void)
{
    if (cm_time_source)
        return cm_time_source();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (ts.tv_sec + CM_EPOCH_DIFF_SECONDS) * 10000000LL + ts.tv_nsec / 100;
}

void cm_set_time_source(int64_t (*now)(void)) { cm_time_source = now; }
void cm_lock(void) { pthread_mutex_lock(&cm_mutex); }
void cm_unlock(void) { pthread_mutex_unlock(&cm_mutex); }
cm_key *cm_root(void) { return cm_root_key; }
cm_key *cm_machine(void) { return cm_machine_key; }
void cm_touch(cm_key *key) { key->last_write = cm_now(); }

/*
 * cm_upcase — upcase one UTF-16 unit as NT's table does for ASCII, Latin-1 and
 * Latin Extended-A (the scripts that appear in driver and service names).
 */
uint16_t cm_upcase(uint16_t c)
{
    if (c >= 'a' && c <= 'z')
        return (uint16_t)(c - 0x20);
    if (c < 0xE0)
        return c;
    if (c <= 0xFE && c != 0xF7)            /* Latin-1 lower case; 0xF7 is the division sign */
        return (uint16_t)(c - 0x20);
    if (c == 0xFF)
        return 0x178;                      /* y with diaeresis */
    if (c >= 0x100 && c <= 0x17E && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x178) {
        /* Latin Extended-A pairs: even = upper, odd = lower, except the block
         * 0x139..0x148 and 0x179..0x17E where odd = upper. */
        bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_upper ? !(c & 1) : (c & 1))
            return (uint16_t)(c - 1);
    }
    return c;
}

bool cm_name_equal(const uint16_t *a, uint32_t alen, const uint16_t *b, uint32_t blen)
{
    if (alen != blen)
        return false;
    for (uint32_t i = 0; i < alen; i++)
        if (cm_upcase(a[i]) != cm_upcase(b[i]))
            return false;
    return true;
}

/* Three-way case-insensitive order, shorter prefix first (NT's subkey order). */
static int cm_name_compare(const uint16_t *a, uint32_t alen, const uint16_t *b, uint32_t blen)
{
    uint32_t n = alen < blen ? alen : blen;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t ca = cm_upcase(a[i]), cb = cm_upcase(b[i]);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

static uint16_t *cm_dup_name(const uint16_t *name, uint32_t len)
{
    uint16_t *copy = malloc((len ? len : 1) * sizeof(uint16_t));
    if (copy && len)
        memcpy(copy, name, len * sizeof(uint16_t));
    return copy;
}

static void cm_free_value(cm_value *v)
{
    free(v->name);
    free(v->data);
    free(v);
}

/* Drop every value of a key (deletion frees them at once: only the node lingers). */
static void cm_free_values(cm_key *key)
{
    for (uint32_t i = 0; i < key->nvalues; i++)
        cm_free_value(key->values[i]);
    free(key->values);
    key->values = NULL;
    key->nvalues = key->values_cap = 0;
}

/* A detached key holding one reference: the tree link its parent will own. */
static cm_key *cm_new_key(const uint16_t *name, uint32_t len)
{
    cm_key *key = calloc(1, sizeof(*key));
    if (!key)
        return NULL;
    key->name = cm_dup_name(name, len);
    if (!key->name) {
        free(key);
        return NULL;
    }
    key->name_len = len;
    key->refs = 1;
    key->last_write = cm_now();
    return key;
}

void cm_key_ref(cm_key *key) { key->refs++; }

/*
 * cm_key_unref — drop one reference; the last one frees the key. Only detached
 * (deleted or shut-down) keys reach zero: the tree link holds one while attached.
 */
void cm_key_unref(cm_key *key)
{
    if (--key->refs)
        return;
    cm_free_values(key);
    free(key->children);
    free(key->name);
    free(key->class_name);
    free(key);
}

/* Binary search for a child; returns its index or the insertion point (found=false). */
static uint32_t cm_child_slot(cm_key *key, const uint16_t *name, uint32_t len, bool *found)
{
    uint32_t lo = 0, hi = key->nchildren;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        cm_key *c = key->children[mid];
        int cmp = cm_name_compare(name, len, c->name, c->name_len);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

cm_key *cm_find_child(cm_key *key, const uint16_t *name, uint32_t len)
{
    bool found;
    uint32_t i = cm_child_slot(key, name, len, &found);
    return found ? key->children[i] : NULL;
}

/* Add a new child key (caller checked it does not exist). */
static cm_key *cm_add_child(cm_key *parent, const uint16_t *name, uint32_t len)
{
    bool found;
    uint32_t slot = cm_child_slot(parent, name, len, &found);
    if (parent->nchildren == parent->children_cap) {
        uint32_t cap = parent->children_cap ? parent->children_cap * 2 : 4;
        cm_key **grown = realloc(parent->children, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        parent->children = grown;
        parent->children_cap = cap;
    }
    cm_key *key = cm_new_key(name, len);
    if (!key)
        return NULL;
    memmove(&parent->children[slot + 1], &parent->children[slot],
            (parent->nchildren - slot) * sizeof(cm_key *));
    parent->children[slot] = key;
    parent->nchildren++;
    key->parent = parent;
    cm_touch(parent);
    return key;
}

/* Split off the next path component; -EINVAL for empty or over-long ones. */
static int cm_next_component(const uint16_t *path, uint32_t len, uint32_t *pos,
                             const uint16_t **comp, uint32_t *clen)
{
    uint32_t start = *pos, end = start;
    while (end < len && path[end] != '\\')
        end++;
    if (end == start || end - start > CM_MAX_KEY_NAME_CHARS)
        return -EINVAL;
    *comp = path + start;
    *clen = end - start;
    *pos = end < len ? end + 1 : end;
    if (end < len && *pos == len)    /* trailing separator */
        return -EINVAL;
    return 0;
}

int cm_lookup(cm_key *from, const uint16_t *path, uint32_t len, cm_key **out)
{
    cm_key *key = from;
    uint32_t pos = 0;
    while (pos < len) {
        const uint16_t *comp;
        uint32_t clen;
        if (cm_next_component(path, len, &pos, &comp, &clen))
            return -EINVAL;
        key = cm_find_child(key, comp, clen);
        if (!key)
            return -ENOENT;
    }
    *out = key;
    return 0;
}

int cm_create_path(cm_key *from, const uint16_t *path, uint32_t len, cm_key **out, bool *created)
{
    cm_key *key = from;
    uint32_t pos = 0;
    bool made = false;
    /* Validate the whole path first so a bad component creates nothing. */
    for (uint32_t p = 0; p < len;) {
        const uint16_t *comp;
        uint32_t clen;
        if (cm_next_component(path, len, &p, &comp, &clen))
            return -EINVAL;
    }
    while (pos < len) {
        const uint16_t *comp;
        uint32_t clen;
        if (cm_next_component(path, len, &pos, &comp, &clen))
            return -EINVAL;
        cm_key *child = cm_find_child(key, comp, clen);
        made = false;
        if (!child) {
            child = cm_add_child(key, comp, clen);
            if (!child)
                return -ENOMEM;
            made = true;
        }
        key = child;
    }
    *out = key;
    if (created)
        *created = made;
    return 0;
}

/* Unlink from the parent, free the values, mark deleted, drop the tree reference. */
static void cm_detach(cm_key *key)
{
    cm_key *parent = key->parent;
    if (parent) {
        bool found;
        uint32_t i = cm_child_slot(parent, key->name, key->name_len, &found);
        if (found) {
            memmove(&parent->children[i], &parent->children[i + 1],
                    (parent->nchildren - i - 1) * sizeof(cm_key *));
            parent->nchildren--;
        }
        cm_touch(parent);
    }
    key->parent = NULL;
    key->deleted = true;
    cm_free_values(key);
    cm_key_unref(key);
}

int cm_delete_key(cm_key *key)
{
    if (key->nchildren)
        return -EBUSY;
    cm_detach(key);
    return 0;
}

void cm_delete_tree(cm_key *key)
{
    while (key->nchildren)
        cm_delete_tree(key->children[key->nchildren - 1]);
    cm_detach(key);
}

cm_value *cm_find_value(cm_key *key, const uint16_t *name, uint32_t len)
{
    for (uint32_t i = 0; i < key->nvalues; i++)
        if (cm_name_equal(key->values[i]->name, key->values[i]->name_len, name, len))
            return key->values[i];
    return NULL;
}

int cm_set_value(cm_key *key, const uint16_t *name, uint32_t len, uint32_t type,
                 const void *data, uint32_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return -ENOMEM;
    if (size)
        memcpy(copy, data, size);
    cm_value *v = cm_find_value(key, name, len);
    if (!v) {
        if (key->nvalues == key->values_cap) {
            uint32_t cap = key->values_cap ? key->values_cap * 2 : 4;
            cm_value **grown = realloc(key->values, cap * sizeof(*grown));
            if (!grown)
                goto nomem;
            key->values = grown;
            key->values_cap = cap;
        }
        v = calloc(1, sizeof(*v));
        if (!v)
            goto nomem;
        v->name = cm_dup_name(name, len);
        if (!v->name) {
            free(v);
            goto nomem;
        }
        v->name_len = len;
        key->values[key->nvalues++] = v;
    } else {
        free(v->data);
    }
    v->type = type;
    v->data = copy;
    v->size = size;
    cm_touch(key);
    return 0;
nomem:
    free(copy);
    return -ENOMEM;
}

int cm_delete_value(cm_key *key, const uint16_t *name, uint32_t len)
{
    for (uint32_t i = 0; i < key->nvalues; i++) {
        cm_value *v = key->values[i];
        if (cm_name_equal(v->name, v->name_len, name, len)) {
            cm_free_value(v);
            memmove(&key->values[i], &key->values[i + 1], (key->nvalues - i - 1) * sizeof(cm_value *));
            key->nvalues--;
            cm_touch(key);
            return 0;
        }
    }
    return -ENOENT;
}

/* Create a path given as ASCII during init (the fixed skeleton of the tree). */
static cm_key *cm_create_ascii(cm_key *from, const char *path)
{
    uint16_t buf[128];
    uint32_t n = 0;
    while (path[n] && n < sizeof(buf) / sizeof(buf[0])) {
        buf[n] = (uint16_t)(unsigned char)path[n];
        n++;
    }
    cm_key *key = NULL;
    if (cm_create_path(from, buf, n, &key, NULL))
        abort();                           /* out of memory at boot: nothing can run */
    return key;
}

/*
 * cm_init — build \Registry\Machine and the keys NT always has, so drivers and the
 * RTL_REGISTRY_* relative paths find them even when no .reg file mentions them.
 */
void cm_init(void)
{
    cm_lock();
    if (!cm_root_key) {
        static const uint16_t registry[] = { 'R', 'E', 'G', 'I', 'S', 'T', 'R', 'Y' };
        cm_root_key = cm_new_key(registry, 8);
        if (!cm_root_key)
            abort();
        cm_machine_key = cm_create_ascii(cm_root_key, "MACHINE");
        cm_create_ascii(cm_root_key, "USER");
        cm_create_ascii(cm_machine_key, "SYSTEM\\CurrentControlSet\\Services");
        cm_create_ascii(cm_machine_key, "SYSTEM\\CurrentControlSet\\Control");
        cm_create_ascii(cm_machine_key, "HARDWARE\\DEVICEMAP");
        cm_create_ascii(cm_machine_key, "SOFTWARE");
    }
    cm_unlock();
}

/* Free the whole tree (cm_internal.h); open key objects keep their nodes alive. */
void cm_shutdown(void)
{
    cm_lock();
    if (cm_root_key) {
        cm_delete_tree(cm_root_key);
        cm_root_key = cm_machine_key = NULL;
    }
    cm_time_source = NULL;                 /* the machine clock goes with the kernel */
    cm_unlock();
}
